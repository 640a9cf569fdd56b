"""Chaos: the three services as processes, a real redis-server (AOF) and a real SMTP server; a
stream of submissions, and meanwhile kill -9 of each service, a graceful restart of Redis while
notices go out, and kill -9 of Redis. Counted at the end: verdicts lost or doubled, emails missing
or doubled, notices left for review."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import redis

from services.notifier.service import notice_id
from tests.conftest import SEEDS
from tests.e2e.test_cli_pipeline import INTAKE, ROOT, env_for
from tests.portal import portal_event
from tests.servers import OwnRedis, SmtpSink

N = 400  # every other one rejected: 200 emails
RATE = 40  # submissions a second: the stream lasts 10 s, the chaos happens within it


class Services:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.generation = 0
        for name in ("parser", "validator", "notifier"):
            self.start(name)

    def start(self, name: str) -> None:
        self.generation += 1
        self.procs[name] = subprocess.Popen(
            [*INTAKE, "serve", name],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**self.env, "INTAKE_CONSUMER": f"{name}-{self.generation}"},
        )

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            proc.wait(20)


def publish(url: str, stream: str) -> tuple[threading.Thread, set[str]]:
    """Submissions at RATE a second, as a portal would: an XADD that fails while Redis is away is
    tried again (a duplicate entry, if the first got in, is the intake's to drop)."""
    rejected = {f"s{k:04d}" for k in range(N) if k % 2}
    docs = {0: (SEEDS[0].read_bytes(), "xigong"), 1: (SEEDS[4].read_bytes(), "puxi")}

    def run() -> None:
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2)
        start = time.monotonic()
        for k in range(N):
            data, office = docs[k % 2]
            fields = portal_event(f"s{k:04d}", data, office, declared_year=2020)
            time.sleep(max(0.0, start + k / RATE - time.monotonic()))
            while True:
                try:
                    client.xadd(stream, fields)  # type: ignore[arg-type]
                    break
                except (redis.ConnectionError, redis.TimeoutError):
                    time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, rejected


def until(check, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except (redis.ConnectionError, redis.TimeoutError):
            pass
        time.sleep(0.1)
    return False


def records(client: redis.Redis, prefix: str, state: str) -> set[str]:
    """Notice ids whose email record is in ``state``."""
    out = set()
    for key in client.scan_iter(f"{prefix}:notice:ntc_*:email", count=1000):
        if client.hget(key, "state") == state:
            out.add(key.split(":")[-2])
    return out


def test_chaos_loses_nothing_doubles_nothing_and_reviews_only_sends_in_flight_at_a_kill(
    tmp_path: Path, prefix: str
) -> None:
    own = OwnRedis(tmp_path / "redis").start()
    sink = SmtpSink(rcpt_delay_s=0.05).start()  # a mail server that takes its time: sends are in flight
    env = {
        **env_for(own.url, prefix, tmp_path),
        "INTAKE_MIN_IDLE_MS": "1000",
        "INTAKE_BATCH": "16",
        "INTAKE_NOTICE_SENDING_STALE_S": "2",
        "INTAKE_NOTICE_RETRY_BASE_S": "0.2",
        "INTAKE_SMTP_HOST": "127.0.0.1",
        "INTAKE_SMTP_PORT": str(sink.port),
        "INTAKE_SMTP_TLS": "none",
    }
    del env["INTAKE_OUTBOX_DIR"]  # email only
    client = redis.Redis.from_url(own.url, decode_responses=True, socket_timeout=5)
    services = Services(env)
    publisher, rejected = publish(own.url, f"{prefix}:submissions")
    in_flight: set[str] = set()
    try:
        time.sleep(2)
        services.kill("parser")
        services.start("parser")
        time.sleep(1.5)
        services.kill("validator")
        services.start("validator")
        assert until(lambda: len(sink.mails) >= 40, 30)
        own.proc.send_signal(signal.SIGTERM)  # a graceful Redis restart while notices go out
        own.proc.wait(20)
        own.start()
        time.sleep(1.5)
        services.kill("notifier")
        in_flight = records(client, prefix, "sending")  # what the notifier had in hand at the kill
        services.start("notifier")
        time.sleep(1.5)
        own.stop()  # kill -9 of Redis
        own.start()
        publisher.join(60)
        assert not publisher.is_alive()

        def settled() -> bool:
            verdicts = {json.loads(f["event"])["submission_id"] for _, f in client.xrange(f"{prefix}:verdicts")}
            done = records(client, prefix, "sent") | records(client, prefix, "needs_review")
            return len(verdicts) >= N and len(done) >= len(rejected)

        assert until(settled, 90), "the pipeline did not settle"
        time.sleep(3)  # anything that would come twice has had time to
        verdicts = [json.loads(f["event"]) for _, f in client.xrange(f"{prefix}:verdicts")]
        review = records(client, prefix, "needs_review")
        dead = [json.loads(f["event"]) for _, f in client.xrange(f"{prefix}:dead")]
    finally:
        services.stop()
        own.stop()
        sink.stop()

    ids = [v["submission_id"] for v in verdicts]
    expected = {notice_id(v["submission_id"], v["event_id"]) for v in verdicts if v["submission_id"] in rejected}
    emails: dict[str, int] = {}
    for mail in sink.mails:
        nid = mail.message["Message-ID"].strip("<>").split("@")[0]
        emails[nid] = emails.get(nid, 0) + 1
    lost = N - len(set(ids))
    doubled = len(ids) - len(set(ids))
    doubled_emails = sum(1 for count in emails.values() if count > 1)
    missing = expected - set(emails) - review
    print(
        f"chaos: {N} submissions, {len(set(ids))} verdicts ({lost} lost, {doubled} twice), {len(sink.mails)} emails"
        f" for {len(expected)} rejections ({len(missing)} missing, {doubled_emails} twice), {len(review)} needs_review"
        f" (of {len(in_flight)} in flight at the notifier's kill), {len(dead)} dead letters"
    )
    assert lost == 0 and doubled == 0
    assert doubled_emails == 0 and set(emails) <= expected
    assert not missing  # every rejection emailed, but for a send the kill left for review
    assert review <= in_flight  # needs_review only for sends in flight at the kill -9
    assert [d for d in dead if "needs_review" not in d["error"]] == []
