"""The services as processes: ``intake serve all`` (and the same FastStream application under
``faststream run``) on a real Redis, fed by ``intake submit --wait``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import SEEDS, free_port, truth_of

ROOT = Path(__file__).resolve().parents[2]
INTAKE = [sys.executable, "-m", "services.cli"]
OFFICES = {"000": "xigong", "001": "xianfeng", "002": "xiguan", "003": "gongren", "004": "puxi"}


def env_for(redis_url: str, prefix: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        {
            "INTAKE_REDIS_URL": redis_url,
            "INTAKE_OFFICES_FILE": str(ROOT / "samples" / "offices.yaml"),
            "INTAKE_OUTBOX_DIR": str(tmp_path / "outbox"),
            "INTAKE_KEY_PREFIX": prefix,
            "INTAKE_METRICS_PORT": "0",
            **{
                f"INTAKE_{s.upper()}_STREAM": f"{prefix}:{s}"
                for s in ("submissions", "parsed", "verdicts", "notices", "dead")
            },
        }
    )
    return env


def submit_cli(env: dict[str, str], path: Path, office: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``intake submit`` as a portal operator would run it."""
    return subprocess.run(
        [*INTAKE, "submit", str(path), "--office", office, *extra],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


SERVE = {
    "intake serve": [*INTAKE, "serve", "all"],
    "faststream run": [sys.executable, "-m", "faststream", "run", "services.app:all", "--factory"],
}


@pytest.fixture(params=sorted(SERVE))
def served(
    request: pytest.FixtureRequest, redis_url: str, prefix: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = env_for(redis_url, prefix, tmp_path)
    proc = subprocess.Popen(
        SERVE[request.param], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 20
    while not client.exists(f"{prefix}:verdicts") and time.monotonic() < deadline:  # groups made: ready
        time.sleep(0.05)
    yield proc, env
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_serve_all_and_submit_wait_give_the_seeds_their_truth(served) -> None:  # type: ignore[no-untyped-def]
    _, env = served
    for seed in SEEDS:
        result = submit_cli(env, seed, OFFICES[seed.name[:3]], "--wait", "20")
        expected = 0 if truth_of(seed)["verdict"] == "accepted" else 1
        assert result.returncode == expected, (seed.name, result.stdout, result.stderr)
        assert len(result.stdout.splitlines()) == 2  # the submission id, then the verdict


def test_sigterm_drains_and_exits_cleanly(served) -> None:  # type: ignore[no-untyped-def]
    proc, env = served
    assert submit_cli(env, SEEDS[0], "xigong").returncode == 0
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


def test_submit_wait_times_out_with_status_3(redis_url: str, prefix: str, tmp_path: Path) -> None:
    env = env_for(redis_url, prefix, tmp_path)  # nothing serving
    result = submit_cli(env, SEEDS[0], "xigong", "--wait", "0.5")
    assert result.returncode == 3 and "no verdict" in result.stderr


def test_demo_runs_on_its_embedded_broker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    result = subprocess.run(
        [*INTAKE, "demo", "--outbox", str(tmp_path)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    # every format flows: text, markdown, a Word .docx, a WPS PDF, a portal's HTML article
    for sample in ("gongren-2019.txt", "xiguan-2022.md", "xigong-2022.docx", "hongze-2024.pdf", "pingtan-2023.html"):
        assert sample in result.stdout
    assert result.stdout.count(": accepted") == 4 and result.stdout.count(": rejected") == 4
    assert result.stdout.count("关于退回") == 4  # a notice for each rejection, none for the rest
    assert len(list(tmp_path.glob("*/*.txt"))) == 4
    # the services' log lines are in the file the demo names, not among the verdicts
    log = tmp_path / "intake-demo.log"
    assert str(log) in result.stdout and '"event": "entry"' not in result.stdout
    assert log.read_text(encoding="utf-8").count('"event": "entry"') >= 10


def test_metrics_health_and_readiness_are_served(redis_url: str, prefix: str, tmp_path: Path) -> None:
    import urllib.request

    port = free_port()
    env = {**env_for(redis_url, prefix, tmp_path), "INTAKE_METRICS_PORT": str(port), "INTAKE_METRICS_HOST": "127.0.0.1"}
    proc = subprocess.Popen(
        [*INTAKE, "serve", "all"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        for seed in (SEEDS[0], SEEDS[4]):
            submit_cli(env, seed, OFFICES[seed.name[:3]], "--wait", "20")
        time.sleep(0.5)

        def get(path: str) -> tuple[int, str]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
                return resp.status, resp.read().decode()

        assert get("/healthz")[0] == 200 and get("/readyz")[0] == 200
        deadline = time.monotonic() + 10
        # the notifier publishes the request to its outbox sender, which sends and publishes NoticeDelivered
        while 'intake_published_total{service="notifier"} 2.0' not in (text := get("/metrics")[1]):
            assert time.monotonic() < deadline, "the rejection's notice was not sent"
            time.sleep(0.1)
        assert 'intake_entries_total{outcome="handled",service="parser"} 2.0' in text
        assert 'intake_verdicts_total{status="rejected"} 1.0' in text
        assert 'intake_findings_total{rule="T3-BALANCE",severity="error"} 2.0' in text
        assert f'intake_stream_pending{{group="validator",stream="{prefix}:parsed"}} 0.0' in text
        assert "intake_stream_lag" in text and "intake_stream_oldest_pending_age_seconds" in text
        assert 'intake_notices_total{channel="outbox",outcome="sent"} 1.0' in text and "intake_build_info" in text
        assert 'intake_notice_attempts_total{channel="outbox",result="ok"} 1.0' in text
        assert 'intake_notice_records{state="sent"} 1.0' in text
        assert 'intake_notice_delivery_seconds_count{channel="outbox"} 1.0' in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]  # type: ignore[union-attr]
    # one line per handled entry: two submissions through three stages, and one notice request sent
    assert sum(1 for line in lines if line["event"] == "entry") == 7
    assert all(line["submission_id"] and line["office_id"] for line in lines if line["event"] == "entry")


def test_sighup_reloads_the_office_registry(redis_url: str, prefix: str, tmp_path: Path) -> None:
    offices = tmp_path / "offices.yaml"
    offices.write_text("offices: []\n", encoding="utf-8")
    env = {**env_for(redis_url, prefix, tmp_path), "INTAKE_OFFICES_FILE": str(offices)}
    proc = subprocess.Popen(
        [*INTAKE, "serve", "all"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        deadline = time.monotonic() + 20
        while not client.exists(f"{prefix}:verdicts") and time.monotonic() < deadline:
            time.sleep(0.05)
        submit_cli(env, SEEDS[4], "puxi", "--wait", "20")
        time.sleep(0.5)
        assert client.xlen(f"{prefix}:dead") == 1  # puxi unknown: its notice went to the dead letters
        offices.write_text((ROOT / "samples" / "offices.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        submit_cli(env, SEEDS[4], "puxi", "--wait", "20")
        deadline = time.monotonic() + 10
        while client.xlen(f"{prefix}:notices") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        events = [json.loads(fields["event"]) for _, fields in client.xrange(f"{prefix}:notices")]
        # the first, from an office unknown then, failed on no channel; the second went out
        assert [(e["type"], e["channel"]) for e in events] == [("NoticeFailed", "none"), ("NoticeDelivered", "outbox")]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
