"""The notifier's senders: notices rendered and handed to a local SMTP server, and a slow webhook.

    python bench/notify_bench.py [--n 2000]

Its own redis-server, an SMTP server in its own process (aiosmtpd's Sink handler: accepts and
discards), and ``intake serve notifier`` as a process. Phases:

- email: ``--n`` rejection verdicts published at once; notices/s from the first publish to the
  last ``NoticeDelivered`` (render, record, request, send over reused SMTP connections, record);
- the email phase again with two notifier processes (one consumer group, two consumers);
- slow webhook beside email: ``--n`` / 10 verdicts for an office whose webhook answers in 2 s,
  then ``--n`` verdicts for email offices; the email rate, and how long the verdict stream takes
  to drain, compared with the email phase alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import uvicorn  # noqa: E402
import yaml  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bench.pipeline_bench import start_redis  # noqa: E402
from tests.conftest import SEEDS, free_port  # noqa: E402
from tests.portal import judged_event  # noqa: E402

INTAKE = [sys.executable, "-m", "services.cli"]


def slow_webhook(port: int) -> None:
    async def hook(request: object) -> Response:
        await asyncio.sleep(2.0)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()


def email_done(client: redis.Redis, n: int) -> bool:
    if client.xlen("intake:outgoing:email") < n:
        return False
    group = next(g for g in client.xinfo_groups("intake:outgoing:email"))
    return bool(group["lag"] == 0 and group["pending"] == 0)


def phase(
    url: str, env: dict[str, str], events: list[bytes], slow: list[bytes], processes: int = 1
) -> dict[str, float]:
    client = redis.Redis.from_url(url)
    client.flushall()
    procs = [
        subprocess.Popen(
            [*INTAKE, "serve", "notifier"],
            env={**env, "INTAKE_CONSUMER": f"bench-{k}"},
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        for k in range(processes)
    ]
    try:
        while not client.exists("intake:verdicts"):
            time.sleep(0.05)
        for e in slow:
            client.xadd("intake:verdicts", {"event": e})
        start = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        for e in events:
            pipe.xadd("intake:verdicts", {"event": e})
        pipe.execute()
        drained = None
        while True:
            if drained is None:
                group = client.xinfo_groups("intake:verdicts")[0]
                if group["lag"] == 0 and group["pending"] == 0:
                    drained = time.perf_counter() - start
            if email_done(client, len(events)):  # every email request sent, recorded and acked
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        return {"notices_per_s": len(events) / seconds, "seconds": seconds, "verdicts_drained_s": drained or seconds}
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    redis_proc, url = start_redis(work)
    smtp_port, hook_port = free_port(), free_port()
    smtp = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}", "-c", "aiosmtpd.handlers.Sink"],
        stderr=subprocess.DEVNULL,
    )
    slow_webhook(hook_port)
    offices = [{"id": f"o{k}", "name": f"第{k}街道办事处", "email": f"gk{k}@example.gov.cn"} for k in range(50)]
    offices.append(
        {
            "id": "slow",
            "name": "慢街道办事处",
            "webhook": {"url": f"http://127.0.0.1:{hook_port}/hook", "secret_env": "S"},
        }
    )
    (work / "offices.yaml").write_text(yaml.safe_dump({"offices": offices}, allow_unicode=True), encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")},
        "INTAKE_REDIS_URL": url,
        "INTAKE_OFFICES_FILE": str(work / "offices.yaml"),
        "INTAKE_SMTP_HOST": "127.0.0.1",
        "INTAKE_SMTP_PORT": str(smtp_port),
        "INTAKE_SMTP_TLS": "none",
        "INTAKE_METRICS_PORT": "0",
        "S": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    template = judged_event(SEEDS[4], "o0", "x")
    events = [
        template.model_copy(update={"submission_id": f"s{k}", "office_id": f"o{k % 50}", "event_id": f"judged:s{k}"})
        .model_dump_json()
        .encode()
        for k in range(args.n)
    ]
    slow = [
        template.model_copy(update={"submission_id": f"w{k}", "office_id": "slow", "event_id": f"judged:w{k}"})
        .model_dump_json()
        .encode()
        for k in range(args.n // 10)
    ]
    try:
        time.sleep(0.5)
        alone = phase(url, env, events, [])
        beside = phase(url, env, events, slow)
        two = phase(url, env, events, [], processes=2)
    finally:
        smtp.terminate()
        redis_proc.terminate()
    print(f"notifier, {args.n} rejections to a local SMTP server (aiosmtpd Sink, own process):")
    print(
        f"  email alone:                {alone['notices_per_s']:7.0f} notices/s, "
        f"verdicts drained in {alone['verdicts_drained_s']:.2f} s"
    )
    print(
        f"  beside {len(slow)} webhooks @2 s: {beside['notices_per_s']:7.0f} notices/s, "
        f"verdicts drained in {beside['verdicts_drained_s']:.2f} s"
    )
    print(f"  email, two notifier processes: {two['notices_per_s']:7.0f} notices/s")


if __name__ == "__main__":
    main()
