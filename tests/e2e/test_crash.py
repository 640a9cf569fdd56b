"""kill -9 of each service in turn in the middle of 1,000 submissions: nothing lost, nothing twice."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.conftest import SEEDS
from tests.e2e.test_cli_pipeline import INTAKE, ROOT, env_for
from tests.portal import portal_event

N = 1000


def publish(client: redis.Redis, stream: str, n: int) -> set[str]:
    """n submissions, every other one a report that is rejected (so that notices are sent)."""
    docs = [(SEEDS[0].read_bytes(), "xigong"), (SEEDS[4].read_bytes(), "puxi")]
    rejected = set()
    pipe = client.pipeline(transaction=False)
    for k in range(n):
        data, office = docs[k % 2]
        sid = f"c{k:05d}"
        if office == "puxi":
            rejected.add(sid)
        pipe.xadd(stream, portal_event(sid, data, office, declared_year=2020))
    pipe.execute()
    return rejected


def start(service: str, consumer: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*INTAKE, "serve", service],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**env, "INTAKE_CONSUMER": consumer},
    )


def wait_len(client: redis.Redis, stream: str, n: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while (length := client.xlen(stream)) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return length


def test_kill_9_each_service_in_turn_loses_nothing_and_doubles_nothing(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    env = {**env_for(redis_url, prefix, tmp_path), "INTAKE_MIN_IDLE_MS": "1000", "INTAKE_BATCH": "32"}
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    rejected = publish(client, f"{prefix}:submissions", N)
    procs = {name: start(name, f"{name}-1", env) for name in ("parser", "validator", "notifier")}
    try:
        for name, stream, at in (
            ("parser", "parsed", 300),
            ("validator", "verdicts", 500),
            ("notifier", "notices", 200),
        ):
            assert wait_len(client, f"{prefix}:{stream}", at, 60) >= at, name
            procs[name].send_signal(signal.SIGKILL)  # in the middle of its batches
            procs[name].wait()
            procs[name] = start(name, f"{name}-2", env)  # a new consumer: the old one's entries are reclaimed
            restarted = time.monotonic()
            # everything is judged within 30 s of the restart
        assert wait_len(client, f"{prefix}:verdicts", N, 30) == N
        assert wait_len(client, f"{prefix}:notices", len(rejected), 30) == len(rejected)
        assert time.monotonic() - restarted < 30
        time.sleep(3)  # anything that would come twice has had time to
        verdicts = [json.loads(f["event"])["submission_id"] for _, f in client.xrange(f"{prefix}:verdicts")]
        notices = [json.loads(f["event"])["submission_id"] for _, f in client.xrange(f"{prefix}:notices")]
        assert len(verdicts) == N and len(set(verdicts)) == N  # 0 lost, 0 twice
        assert sorted(notices) == sorted(rejected)
        assert client.xlen(f"{prefix}:dead") == 0
        for stream, group in (("submissions", "parser"), ("parsed", "validator"), ("verdicts", "notifier")):
            assert client.xpending(f"{prefix}:{stream}", group)["pending"] == 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)


def test_each_seed_through_three_separate_service_processes(redis_url: str, prefix: str, tmp_path: Path) -> None:
    from tests.conftest import truth_of
    from tests.e2e.test_cli_pipeline import OFFICES, submit_cli

    env = env_for(redis_url, prefix, tmp_path)
    procs = [start(name, f"{name}-solo", env) for name in ("parser", "validator", "notifier")]
    try:
        for seed in SEEDS:
            result = submit_cli(env, seed, OFFICES[seed.name[:3]], "--wait", "30")
            verdict = json.loads(result.stdout.splitlines()[1])
            truth = truth_of(seed)
            assert verdict["status"] == truth["verdict"], seed.name
            assert set(truth["must_include"]) <= {f["rule"] for f in verdict["findings"]}
        client = redis.Redis.from_url(redis_url)
        assert wait_len(client, f"{prefix}:notices", 3, 10) == 3
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
