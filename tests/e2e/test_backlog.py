"""A 20,000-entry backlog is worked off by a restarted parser with bounded memory."""

from __future__ import annotations

import signal
from pathlib import Path

import redis

from tests.conftest import SEEDS
from tests.e2e.test_cli_pipeline import env_for
from tests.e2e.test_crash import start, wait_len
from tests.portal import portal_event

N = 20_000


def test_a_twenty_thousand_entry_backlog_with_bounded_memory(redis_url: str, prefix: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    real = SEEDS[0].read_bytes()
    pipe = client.pipeline(transaction=False)
    for k in range(N):
        data = real if k % 200 == 0 else f"scratch upload {k}".encode()  # mostly quick to judge
        pipe.xadd(f"{prefix}:submissions", portal_event(f"b{k}", data, "xigong"))
        if k % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    env = env_for(redis_url, prefix, tmp_path)
    proc = start("parser", "parser-backlog", env)
    try:
        judged = wait_len(client, f"{prefix}:verdicts", N - N // 200, 120)
        parsed = wait_len(client, f"{prefix}:parsed", N // 200, 30)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak_mb = int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) // 1024
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert judged == N - N // 200 and parsed == N // 200
    assert client.xpending(f"{prefix}:submissions", "parser")["pending"] == 0
    print(f"parser peak RSS after a {N}-entry backlog: {peak_mb} MB")
    assert peak_mb <= 150, peak_mb
