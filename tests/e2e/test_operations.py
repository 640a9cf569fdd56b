"""Operations against running services: every metric the dashboard and the alerts use is one the
services expose, and a real Prometheus server scrapes them and sees the counters and lag move."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SEEDS, free_port
from tests.e2e.test_cli_pipeline import INTAKE, OFFICES, ROOT, env_for, submit_cli
from tests.unit.test_deploy import metric_names


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.read().decode())


@pytest.fixture
def serving(redis_url: str, prefix: str, tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """``intake serve all`` with its metrics on a free port, the seeds submitted and judged."""
    port = free_port()
    env = {**env_for(redis_url, prefix, tmp_path), "INTAKE_METRICS_PORT": str(port), "INTAKE_METRICS_HOST": "127.0.0.1"}
    proc = subprocess.Popen([*INTAKE, "serve", "all"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "intake serve all did not start"
                time.sleep(0.1)
        yield port, env
    finally:
        proc.terminate()
        proc.wait(15)


def test_every_metric_of_the_dashboard_and_the_alerts_is_exposed(serving: tuple[int, dict[str, str]]) -> None:
    port, env = serving
    for seed in SEEDS:
        submit_cli(env, seed, OFFICES[seed.name[:3]], "--wait", "20")
    deadline = time.monotonic() + 10
    while "intake_notice_delivery_seconds_bucket" not in (text := get(f"http://127.0.0.1:{port}/metrics")):
        assert time.monotonic() < deadline, "no notice was delivered"
        time.sleep(0.1)
    exposed = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    used = metric_names()
    assert len(used) >= 15
    missing = {name for name in used if name not in exposed}
    assert not missing, f"used by deploy/ but not exposed: {sorted(missing)}"


def prometheus() -> str:
    found = shutil.which("prometheus")
    if found is None:
        pytest.fail("the prometheus server is not installed: `apt-get install prometheus` (Debian)")
    return found


def query(base: str, promql: str) -> list[dict[str, Any]]:
    reply = json.loads(get(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"))
    assert reply["status"] == "success", reply
    return reply["data"]["result"]  # type: ignore[no-any-return]


def value(base: str, promql: str) -> float:
    result = query(base, promql)
    return float(result[0]["value"][1]) if result else 0.0


def test_a_real_prometheus_sees_the_counters_and_the_lag_move(
    serving: tuple[int, dict[str, str]], tmp_path: Path, prefix: str
) -> None:
    port, env = serving
    web = free_port()
    rules = tmp_path / "alerts.yml"
    # the shipped rules, on this test's stream names
    rules.write_text(
        (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(encoding="utf-8").replace("intake:", f"{prefix}:"),
        encoding="utf-8",
    )
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": "intake", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    server = subprocess.Popen(
        [
            prometheus(),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{web}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{web}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if value(base, 'up{job="intake"}') == 1:
                    break
            except OSError:  # not listening yet
                pass
            assert time.monotonic() < deadline and server.poll() is None, "Prometheus never scraped the service"
            time.sleep(0.25)
        before = value(base, 'sum(intake_entries_total{outcome="handled"})')
        submissions = value(base, f'max(intake_stream_entries_added_total{{stream="{prefix}:submissions"}})')
        for seed in SEEDS:
            submit_cli(env, seed, OFFICES[seed.name[:3]], "--wait", "20")
        deadline = time.monotonic() + 30
        # 5 parsed + 5 judged + 5 verdicts consumed + 3 notices sent
        while value(base, 'sum(intake_entries_total{outcome="handled"})') < before + 18:
            assert time.monotonic() < deadline, "the counters did not move in Prometheus"
            time.sleep(0.25)
        assert value(base, 'sum(intake_verdicts_total{status="rejected"})') == 3
        assert value(base, 'sum(intake_verdicts_total{status="accepted"})') == 2
        added = f'max(intake_stream_entries_added_total{{stream="{prefix}:submissions"}})'
        assert value(base, added) == submissions + 5
        lag = query(base, "intake_stream_lag")
        assert {(s["metric"]["stream"], s["metric"]["group"]) for s in lag} >= {
            (f"{prefix}:submissions", "parser"),
            (f"{prefix}:parsed", "validator"),
            (f"{prefix}:verdicts", "notifier"),
        }
        assert all(float(s["value"][1]) == 0 for s in lag)  # all read
        assert value(base, 'sum(intake_notices_total{outcome="sent"})') == 3
        groups = json.loads(get(f"{base}/api/v1/rules"))["data"]["groups"]
        loaded = [r for g in groups for r in g["rules"]]
        assert len(loaded) == 10 and all(r["health"] == "ok" for r in loaded)
    finally:
        server.terminate()
        server.wait(15)
