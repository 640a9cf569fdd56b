"""Notices from the services as processes: the seeds through ``intake serve all`` to a real SMTP
server, a redelivery that sends nothing more, and a notifier killed between sending and recording."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.conftest import SEEDS, truth_of
from tests.e2e.test_cli_pipeline import INTAKE, OFFICES, ROOT, env_for, submit_cli
from tests.servers import SmtpSink

REGISTERED = {"xianfeng": "gongkai@xianfeng.example.gov.cn", "xiguan": "gongkai@xiguan.example.gov.cn"}


def smtp_env(redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink) -> dict[str, str]:
    env = env_for(redis_url, prefix, tmp_path)
    del env["INTAKE_OUTBOX_DIR"]  # email only
    env.update({"INTAKE_SMTP_HOST": "127.0.0.1", "INTAKE_SMTP_PORT": str(sink.port), "INTAKE_SMTP_TLS": "none"})
    return env


def wait(check: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_each_rejected_seed_gets_one_email_and_a_redelivery_sends_nothing(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    sink = SmtpSink().start()
    env = smtp_env(redis_url, prefix, tmp_path, sink)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    proc = subprocess.Popen([*INTAKE, "serve", "all"], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    rejected = {OFFICES[s.name[:3]] for s in SEEDS if truth_of(s)["verdict"] == "rejected"}
    try:
        ids = {
            seed.name[:3]: submit_cli(env, seed, OFFICES[seed.name[:3]], "--wait", "20").stdout.split()[0]
            for seed in SEEDS
        }
        wait(lambda: client.xlen(f"{prefix}:notices") >= len(rejected))
        time.sleep(0.5)
        assert len(sink.mails) == len(rejected) == 3
        got = sorted(rcpt for mail in sink.mails for rcpt in mail.rcpt_tos)
        assert got == sorted(f"gongkai@{office}.example.gov.cn" for office in rejected)
        # Every verdict delivered again, as after a consumer-group reset: nothing more is sent.
        for _, fields in client.xrange(f"{prefix}:verdicts"):
            client.xadd(f"{prefix}:verdicts", fields)
        wait(lambda: client.xinfo_groups(f"{prefix}:verdicts")[0]["lag"] == 0)
        time.sleep(1.0)
        assert len(sink.mails) == 3
        assert client.xlen(f"{prefix}:notices") == 3 and client.xlen(f"{prefix}:dead") == 0
        status = subprocess.run(
            [*INTAKE, "notices", "status", ids["004"], "--json"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        sink.stop()
    assert status.returncode == 0, status.stderr
    [record] = json.loads(status.stdout)
    assert (record["channel"], record["state"], record["attempts"]) == ("email", "sent", "1")
    assert record["destination"] == "gongkai@puxi.example.gov.cn"


def test_a_notifier_killed_between_sending_and_recording_sends_at_most_one_email(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    """The SMTP server kills the notifier (kill -9) as it accepts the message, before 250 reaches it."""
    notifier: list[subprocess.Popen[str]] = []
    sink = SmtpSink()
    sink.on_accept = lambda: os.kill(notifier[0].pid, signal.SIGKILL)
    sink.start()
    env = {
        **smtp_env(redis_url, prefix, tmp_path, sink),
        "INTAKE_MIN_IDLE_MS": "500",
        "INTAKE_NOTICE_SENDING_STALE_S": "1",
    }
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    pipeline = subprocess.Popen([*INTAKE, "serve", "parser"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    validator = subprocess.Popen([*INTAKE, "serve", "validator"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    notifier.append(
        subprocess.Popen(
            [*INTAKE, "serve", "notifier"], env={**env, "INTAKE_CONSUMER": "n-1"}, cwd=ROOT, stderr=subprocess.DEVNULL
        )
    )
    try:
        result = submit_cli(env, SEEDS[4], "puxi", "--wait", "20")
        assert result.returncode == 1  # rejected
        assert notifier[0].wait(20) == -signal.SIGKILL
        assert len(sink.mails) == 1
        sink.on_accept = None
        # A new notifier (another consumer name) reclaims the request and finds the record "sending".
        notifier.append(
            subprocess.Popen(
                [*INTAKE, "serve", "notifier"], env={**env, "INTAKE_CONSUMER": "n-2"}, cwd=ROOT, stderr=subprocess.PIPE
            )
        )
        wait(lambda: client.xlen(f"{prefix}:notices") >= 1)
        time.sleep(1.0)
        [event] = [json.loads(f["event"]) for _, f in client.xrange(f"{prefix}:notices")]
        [dead] = [json.loads(f["event"]) for _, f in client.xrange(f"{prefix}:dead")]
        record = client.hgetall(f"{prefix}:notice:{event['notice_id']}:email")
    finally:
        for proc in (pipeline, validator, *notifier):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)
        sink.stop()
    assert len(sink.mails) == 1  # never a second email
    assert (event["type"], event["state"]) == ("NoticeFailed", "needs_review")
    assert record["state"] == "needs_review" and "interrupted" in record["error"]
    assert "needs_review" in dead["error"]
