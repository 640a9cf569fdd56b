"""The notifier's channels against real peers on loopback: an SMTP server (aiosmtpd), a webhook
receiver (uvicorn + starlette) verifying signatures with its own code, and a real Redis.

Verdicts are published on the verdicts stream exactly as the validator publishes them; the
notifier runs in this process, as its FastStream application (``application(settings, ("notifier",))``).
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from email.header import decode_header
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import yaml
from aiosmtpd.smtp import AuthResult
from redis.exceptions import ConnectionError as RedisConnectionError

from contracts.events import ReportJudged
from services.notifier.records import Records
from services.notifier.service import notice_id
from services.streams import Settings
from tests.conftest import SEEDS, free_port
from tests.integration.test_pipeline import Running, make_settings, run
from tests.portal import judged_event
from tests.servers import SmtpSink, WebhookReceiver, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REJECTED, ACCEPTED = SEEDS[4], SEEDS[0]  # 004 is rejected, 000 accepted (tests/fixtures/truth)
PUXI = {
    "id": "puxi",
    "name": "沈阳市辽中区蒲西街道办事处",
    "aliases": ["蒲西街道"],
    "email": "gongkai@puxi.example.gov.cn",
}


def registry(tmp_path: Path, *offices: dict[str, Any]) -> str:
    path = tmp_path / "offices.yaml"
    path.write_text(yaml.safe_dump({"offices": list(offices)}, allow_unicode=True), encoding="utf-8")
    return str(path)


def with_webhook(
    office: dict[str, Any],
    hook: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    var: str = "INTAKE_WEBHOOK_SECRET_PUXI",
) -> dict[str, Any]:
    """The office's registry entry with the receiver as its webhook, its secret in ``var``."""
    monkeypatch.setenv(var, SECRET)
    return {**office, "webhook": {"url": hook.url, "secret_env": var}}


def notify_settings(
    redis_url: str, prefix: str, tmp_path: Path, offices: str, sink: SmtpSink | None = None, **kw: Any
) -> Settings:
    """Settings for a notifier in the tests: fast retries; email to ``sink`` when one is given."""
    base: dict[str, Any] = {
        "offices_file": offices,
        "outbox_dir": None,
        "smtp_tls": "none",
        "notice_retry_base_s": 0.1,
        "notice_retry_max_s": 0.4,
    }
    if sink is not None:
        base |= {"smtp_host": "127.0.0.1", "smtp_port": sink.port}
    return make_settings(redis_url, prefix, tmp_path, **{**base, **kw})


def puxi_with_webhook(tmp_path: Path, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> str:
    """A registry holding PUXI with the receiver as its webhook (and its email)."""
    return registry(tmp_path, with_webhook(PUXI, hook, monkeypatch))


class Notifier(Running):
    """The notifier's application in this process, with what the tests ask of them."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, ("notifier",))
        self.records = Records(self.text, settings.key_prefix, settings.notice_record_ttl_s)

    async def publish(self, event: ReportJudged) -> None:
        await self.text.xadd(self.settings.verdicts_stream, {"event": event.model_dump_json()})

    async def events(self, stream: str) -> list[dict[str, Any]]:
        return [json.loads(f["event"]) for _, f in await self.text.xrange(stream)]

    async def until(self, check: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if await check():
                    return
            except RedisConnectionError:  # this test's own client, while its Redis is away
                pass
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.02)

    async def notices(self, count: int, seconds: float = 10) -> list[dict[str, Any]]:
        async def enough() -> bool:
            return int(await self.text.xlen(self.settings.notices_stream)) >= count

        await self.until(enough, seconds)
        return await self.events(self.settings.notices_stream)

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def sink() -> Any:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def hook() -> Any:
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


def test_a_rejection_is_emailed_once_to_the_registered_address(
    redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink
) -> None:
    settings = notify_settings(redis_url, prefix, tmp_path, registry(tmp_path, PUXI), sink=sink)
    judged = judged_event(REJECTED, "puxi", "sub-004")
    assert judged.verdict.status == "rejected"

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged)
            await n.publish(judged_event(ACCEPTED, "puxi", "sub-000"))  # accepted: nothing is sent
            events = await n.notices(1)
            await n.publish(judged)  # the same verdict again (a redelivery): nothing more
            await asyncio.sleep(0.5)
            record = await n.records.get(notice_id("sub-004", judged.event_id), "email")
            assert (await n.records.counts())["sent"] == 1 and (await n.records.counts())["pending"] == 0
            assert n.sample("intake_notices_total", channel="email", outcome="sent") == 1
            assert n.sample("intake_notice_attempts_total", channel="email", result="ok") == 1
            assert n.sample("intake_notice_delivery_seconds_count", channel="email") == 1
            events = await n.events(settings.notices_stream)
        assert len(sink.mails) == 1
        mail = sink.mails[0]
        assert mail.rcpt_tos == ["gongkai@puxi.example.gov.cn"] and mail.mail_from == "intake@localhost"
        msg = mail.message
        assert msg["To"].addresses[0].addr_spec == "gongkai@puxi.example.gov.cn"
        assert msg["To"].addresses[0].display_name == "沈阳市辽中区蒲西街道办事处"
        assert str(msg["Subject"]) == "关于退回《沈阳市辽中区蒲西街道办事处2020年政府信息公开工作年度报告》的通知"
        assert msg["From"].addresses[0].display_name == "政府信息公开年报审核"
        assert all(ord(ch) < 128 for ch in mail.raw.decode("ascii")), "headers and bodies travel as 7-bit"
        assert "=?utf-8?" in mail.raw.decode("ascii")  # the Chinese subject as RFC 2047 encoded words
        nid = notice_id("sub-004", judged.event_id)
        assert msg["Message-ID"] == f"<{nid}@localhost>"
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        assert plain is not None and html is not None and msg.get_content_type() == "multipart/alternative"
        assert "T3-BALANCE" in plain.get_content() and "沈阳市辽中区蒲西街道办事处" in plain.get_content()
        assert "<html" in html.get_content() and "T3-BALANCE" in html.get_content()
        assert record["state"] == "sent" and record["attempts"] == "1"
        assert record["destination"] == "gongkai@puxi.example.gov.cn"
        assert [(e["type"], e["channel"], e["notice_id"]) for e in events] == [("NoticeDelivered", "email", nid)]

    run(body)


def test_the_portal_webhook_is_signed_and_verifiable(
    redis_url: str, prefix: str, tmp_path: Path, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no SMTP: webhook only
    settings = notify_settings(redis_url, prefix, tmp_path, puxi_with_webhook(tmp_path, hook, monkeypatch))
    judged = judged_event(REJECTED, "puxi", "sub-004")

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged)
            events = await n.notices(1)
        assert [e["type"] for e in events] == ["NoticeDelivered"] and events[0]["destination"] == hook.url

    run(body)
    [got] = hook.received
    assert hook.refused == []
    payload = got.json
    assert payload["type"] == "intake.notice" and payload["submission_id"] == "sub-004"
    assert payload["notice_id"] == got.headers["webhook-id"] == notice_id("sub-004", judged.event_id)
    assert payload["verdict"]["status"] == "rejected" and payload["notice"]["subject"].startswith("关于退回")
    # The receiver's own check refuses a tampered body and a replay more than five minutes old.
    headers = {k: got.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    assert verify(SECRET, headers, got.body, time.time()) is None
    tampered = got.body.replace(b'"rejected"', b'"accepted"')
    answer = httpx.post(hook.url, content=tampered, headers=headers)
    assert answer.status_code == 401 and hook.refused[-1] == "no valid signature"
    old = int(got.headers["webhook-timestamp"]) - 301
    assert verify(SECRET, {**headers, "webhook-timestamp": str(old)}, got.body, time.time()) is not None
    answer = httpx.post(hook.url, content=got.body, headers={**headers, "webhook-timestamp": str(old)})
    assert answer.status_code == 401 and hook.refused[-1] == "timestamp too far from now"
    assert len(hook.received) == 1


def test_smtp_down_then_up_delivers_once_after_retries(redis_url: str, prefix: str, tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    settings = notify_settings(
        redis_url, prefix, tmp_path, registry(tmp_path, PUXI), smtp_host="127.0.0.1", smtp_port=port
    )
    judged = judged_event(REJECTED, "puxi", "sub-004")
    nid = notice_id("sub-004", judged.event_id)
    sink = SmtpSink(port=port)

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged)

            async def retried_twice() -> bool:
                return n.sample("intake_notice_attempts_total", channel="email", result="transient") >= 2

            await n.until(retried_twice)
            assert (await n.records.get(nid, "email"))["state"] in ("pending", "sending")
            sink.start()
            try:
                events = await n.notices(1)
                await asyncio.sleep(0.5)
            finally:
                sink.stop()
            record = await n.records.get(nid, "email")
        assert [e["type"] for e in events] == ["NoticeDelivered"]
        assert len(sink.mails) == 1
        assert record["state"] == "sent" and int(record["attempts"]) >= 3

    run(body)


@pytest.mark.parametrize(
    ("replies", "state", "attempts", "deliveries"),
    [
        ([503, 503], "sent", 3, 1),  # 5xx is transient: retried until it succeeds
        ([429], "sent", 2, 1),  # so is 429
        ([400], "failed", 1, 0),  # other 4xx is permanent: no retry
    ],
)
def test_webhook_failures_are_retried_or_not_by_status(
    redis_url: str,
    prefix: str,
    tmp_path: Path,
    hook: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    replies: list[int],
    state: str,
    attempts: int,
    deliveries: int,
) -> None:
    hook.replies = list(replies)
    settings = notify_settings(redis_url, prefix, tmp_path, puxi_with_webhook(tmp_path, hook, monkeypatch))
    judged = judged_event(REJECTED, "puxi", "sub-004")
    nid = notice_id("sub-004", judged.event_id)

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged)
            events = await n.notices(1)
            await asyncio.sleep(0.3)
            record = await n.records.get(nid, "webhook")
            dead = await n.events(settings.dead_stream)
        assert record["state"] == state and int(record["attempts"]) == attempts
        assert hook.requests == attempts and len(hook.received) == deliveries
        if state == "sent":
            assert [e["type"] for e in events] == ["NoticeDelivered"] and dead == []
        else:
            assert [(e["type"], e["state"]) for e in events] == [("NoticeFailed", "failed")]
            assert "HTTP 400" in events[0]["error"]
            assert len(dead) == 1 and "HTTP 400" in dead[0]["error"]
            assert json.loads(dead[0]["original"]["event"])["notice_id"] == nid

    run(body)


def test_smtp_answers_decide_between_retry_and_failure(
    redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink
) -> None:
    settings = notify_settings(redis_url, prefix, tmp_path, registry(tmp_path, PUXI), sink=sink)
    first, second = judged_event(REJECTED, "puxi", "sub-a"), judged_event(REJECTED, "puxi", "sub-b")
    sink.replies = ["451 4.3.0 try again later"]

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(first)  # 451: retried, then sent
            await n.notices(1)
            sink.replies = ["550 5.1.1 mailbox unavailable"]
            await n.publish(second)  # 550: failed at once
            events = await n.notices(2)
            a = await n.records.get(notice_id("sub-a", first.event_id), "email")
            b = await n.records.get(notice_id("sub-b", second.event_id), "email")
        assert (a["state"], a["attempts"]) == ("sent", "2")
        assert (b["state"], b["attempts"]) == ("failed", "1") and "550" in b["error"]
        assert [e["type"] for e in events] == ["NoticeDelivered", "NoticeFailed"]
        assert [m.rcpt_tos for m in sink.mails] == [["gongkai@puxi.example.gov.cn"]]

    run(body)


def test_a_notice_still_undelivered_when_the_window_closes_fails(redis_url: str, prefix: str, tmp_path: Path) -> None:
    settings = notify_settings(
        redis_url,
        prefix,
        tmp_path,
        registry(tmp_path, PUXI),
        smtp_host="127.0.0.1",
        smtp_port=free_port(),  # never answers
        notice_retry_window_s=1.0,
    )
    judged = judged_event(REJECTED, "puxi", "sub-004")

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged)
            events = await n.notices(1, seconds=15)
            record = await n.records.get(notice_id("sub-004", judged.event_id), "email")
            dead = await n.events(settings.dead_stream)
            assert n.sample("intake_notices_total", channel="email", outcome="failed") == 1
        assert events[0]["type"] == "NoticeFailed" and "gave up after" in events[0]["error"]
        assert record["state"] == "failed" and int(record["attempts"]) >= 2
        assert len(dead) == 1 and "gave up after" in dead[0]["error"]

    run(body)


def test_headers_cannot_be_injected(redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink) -> None:
    """Office names carrying CRLF + Bcc, an encoded word that decodes to one, NUL and bidi overrides."""
    names = [
        "蒲西街道\r\nBcc: thief@evil.example",
        "蒲西街道=?utf-8?q?=0D=0ABcc:_thief@evil.example?=",
        "蒲西\x00街道\nX-Injected: 1",
        "蒲西街道\u202etxt.exe\u2066",
    ]
    offices = [{**PUXI, "id": f"o{k}", "name": name} for k, name in enumerate(names)]
    settings = notify_settings(redis_url, prefix, tmp_path, registry(tmp_path, *offices), sink=sink)

    async def body() -> None:
        async with Notifier(settings) as n:
            for k in range(len(names)):
                await n.publish(judged_event(REJECTED, f"o{k}", f"sub-{k}"))
            await n.notices(len(names))
        assert len(sink.wait(len(names))) == len(names)
        for mail in sink.mails:
            assert mail.rcpt_tos == ["gongkai@puxi.example.gov.cn"]
            head = mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
            names_of_headers = [line.split(":", 1)[0].lower() for line in head.splitlines() if line[:1] not in " \t"]
            assert "bcc" not in names_of_headers and "x-injected" not in names_of_headers
            msg = mail.message
            for header in ("Subject", "To"):
                decoded = "".join(
                    part.decode(enc or "ascii") if isinstance(part, bytes) else part
                    for part, enc in decode_header(str(msg[header]))
                )
                assert not any(ch in decoded for ch in "\r\n\x00\u202e\u2066"), (header, decoded)
                assert "=?" not in str(msg[header])

    run(body)


def test_recipients_come_only_from_the_registry(
    redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document full of addresses and links, through the whole pipeline: they change nothing."""
    from services.runtime import submit

    settings = notify_settings(redis_url, prefix, tmp_path, puxi_with_webhook(tmp_path, hook, monkeypatch), sink=sink)
    lure = (
        "\n联系我们：mailto:thief@evil.example?cc=other@evil.example 抄送 Bcc: thief@evil.example\n"
        "报送地址 https://evil.example/hooks/intake 或 <a href='mailto:thief@evil.example'>邮件</a>\n"
    )
    text = REJECTED.read_text(encoding="utf-8")
    data = text.replace("\n", lure, 3).encode()

    async def body() -> None:
        async with Running(settings) as p:
            await submit(p.text, p.raw, settings, data, "lure.txt", "puxi", submission_id="sub-lure")
            deadline = time.monotonic() + 20
            while await p.text.xlen(settings.notices_stream) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    run(body)
    assert [m.rcpt_tos for m in sink.mails] == [["gongkai@puxi.example.gov.cn"]]
    assert sink.mails[0].message["To"].addresses[0].addr_spec == "gongkai@puxi.example.gov.cn"
    assert hook.requests == 1 and len(hook.received) == 1


def test_an_office_not_in_the_registry_gets_nothing_and_an_operator_sees_it(
    redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink
) -> None:
    settings = notify_settings(redis_url, prefix, tmp_path, registry(tmp_path, PUXI), sink=sink)

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged_event(REJECTED, "nobody", "sub-x"))
            events = await n.notices(1)
            dead = await n.events(settings.dead_stream)
            assert n.sample("intake_notices_total", channel="none", outcome="unknown_office") == 1
        assert [(e["type"], e["channel"]) for e in events] == [("NoticeFailed", "none")]
        assert len(dead) == 1 and "not in the office registry" in dead[0]["error"]
        assert sink.mails == []

    run(body)


def test_a_slow_webhook_holds_up_neither_email_nor_verdicts(
    redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook.delay_s = 2.0
    slow = with_webhook({"id": "slow", "name": "慢街道办事处"}, hook, monkeypatch, "INTAKE_WEBHOOK_SECRET_SLOW")
    settings = notify_settings(
        redis_url,
        prefix,
        tmp_path,
        registry(tmp_path, PUXI, slow),
        sink=sink,
        webhook_concurrency=4,
    )

    async def body() -> None:
        async with Notifier(settings) as n:
            for k in range(8):
                await n.publish(judged_event(REJECTED, "slow", f"slow-{k}"))
            await asyncio.sleep(0.2)  # the webhooks are now waiting on the receiver
            start = time.monotonic()
            for k in range(20):
                await n.publish(judged_event(REJECTED, "puxi", f"mail-{k}"))
            while len(sink.mails) < 20:
                assert time.monotonic() - start < 1.5, "emails waited for the slow webhook"
                await asyncio.sleep(0.02)
            groups = await n.text.xinfo_groups(settings.verdicts_stream)
            assert groups[0]["pending"] == 0 and groups[0]["lag"] == 0  # every verdict consumed
            assert len(hook.received) < 8  # while webhooks are still under way
            await n.notices(28, seconds=15)
        assert len(hook.received) == 8

    run(body)


def test_acceptance_receipts_are_sent_only_when_switched_on(
    redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink
) -> None:
    offices = registry(tmp_path, PUXI)
    accepted = judged_event(ACCEPTED, "puxi", "sub-000")
    assert accepted.verdict.status == "accepted"

    async def body(receipts: bool, name: str) -> None:
        settings = notify_settings(
            redis_url,
            f"{prefix}{name}",
            tmp_path,
            offices,
            sink=sink,
            notice_receipts=receipts,
        )
        async with Notifier(settings) as n:
            await n.publish(accepted)
            await asyncio.sleep(0.6)

    asyncio.run(body(False, "off"))
    assert sink.mails == []
    asyncio.run(body(True, "on"))
    [mail] = sink.wait(1)
    assert str(mail.message["Subject"]).startswith("关于受理《")


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(
        {
            "INTAKE_REDIS_URL": settings.redis_url,
            "INTAKE_KEY_PREFIX": settings.key_prefix,
            "INTAKE_DEAD_STREAM": settings.dead_stream,
            "INTAKE_NOTICES_STREAM": settings.notices_stream,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_a_failed_notice_is_listed_shown_and_replayed_from_the_dead_letters(
    redis_url: str, prefix: str, tmp_path: Path, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook.replies = [400]  # refused once (say, a portal bug), fixed before the operator replays
    settings = notify_settings(redis_url, prefix, tmp_path, puxi_with_webhook(tmp_path, hook, monkeypatch))
    judged = judged_event(REJECTED, "puxi", "sub-004")
    nid = notice_id("sub-004", judged.event_id)

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged)
            await n.notices(1)
            listed = _cli(settings, "dead", "list", "--json")
            assert listed.returncode == 0, listed.stderr
            [letter] = [json.loads(line) for line in listed.stdout.splitlines()]
            assert letter["stream"] == f"{prefix}:outgoing:webhook" and "HTTP 400" in letter["error"]
            shown = _cli(settings, "dead", "show", letter["id"])
            assert json.loads(shown.stdout)["original"]["event"]["notice_id"] == nid
            assert _cli(settings, "dead", "show", "1-1").returncode == 1
            replayed = _cli(settings, "dead", "replay", letter["id"])
            assert replayed.returncode == 0, replayed.stderr
            events = await n.notices(2)
            record = await n.records.get(nid, "webhook")
            assert await n.text.xlen(settings.dead_stream) == 0
        assert [e["type"] for e in events] == ["NoticeFailed", "NoticeDelivered"]
        assert record["state"] == "sent" and record["attempts"] == "2"
        assert len(hook.received) == 1

    run(body)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    """A test CA: the mail server's context and the CA bundle the notifier is given."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return server, str(bundle)


def _login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = getattr(auth_data, "login", b"") == b"intake" and getattr(auth_data, "password", b"") == b"s3cret"
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535 itself


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS is TLS
@pytest.mark.parametrize(
    ("mode", "password", "refusal"),
    [
        ("starttls", "s3cret", None),
        ("tls", "s3cret", None),
        ("starttls", "wrong", "SMTP 535"),  # a refused login
        ("none", "s3cret", "AUTH extension is not supported"),  # the server offers AUTH only after STARTTLS
    ],
)
def test_smtp_with_starttls_or_implicit_tls_and_authentication(
    redis_url: str,
    prefix: str,
    tmp_path: Path,
    tls: tuple[ssl.SSLContext, str],
    mode: str,
    password: str,
    refusal: str | None,
) -> None:
    """A server that requires TLS and a login: the right settings deliver, the wrong ones fail for good."""
    context, bundle = tls
    options: dict[str, Any] = {"auth_required": True, "authenticator": _login}
    if mode == "tls":  # implicit TLS: aiosmtpd only counts STARTTLS as TLS for auth_require_tls
        options.update({"ssl_context": context, "auth_require_tls": False})
    else:
        options.update({"tls_context": context, "require_starttls": True, "auth_require_tls": True})
    sink = SmtpSink(options=options).start()
    settings = notify_settings(
        redis_url,
        prefix,
        tmp_path,
        registry(tmp_path, PUXI),
        smtp_host="localhost",
        smtp_port=sink.port,
        smtp_tls=mode,
        smtp_ca_file=bundle,
        smtp_user="intake",
        smtp_password=password,
    )
    judged = judged_event(REJECTED, "puxi", "sub-004")

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged)
            [event] = await n.notices(1)
            record = await n.records.get(notice_id("sub-004", judged.event_id), "email")
        if refusal is None:
            assert event["type"] == "NoticeDelivered" and record["state"] == "sent"
            assert [m.rcpt_tos for m in sink.mails] == [["gongkai@puxi.example.gov.cn"]]
        else:  # a setting to fix: permanent, no retry
            assert event["type"] == "NoticeFailed" and record["state"] == "failed" and record["attempts"] == "1"
            assert refusal in record["error"] and sink.mails == []

    try:
        run(body)
    finally:
        sink.stop()


def test_a_mail_server_that_hangs_times_out_and_the_notice_is_retried(
    redis_url: str, prefix: str, tmp_path: Path, sink: SmtpSink
) -> None:
    sink.rcpt_delay_s = 3.0  # longer than the notifier waits
    settings = notify_settings(
        redis_url,
        prefix,
        tmp_path,
        registry(tmp_path, PUXI),
        sink=sink,
        smtp_timeout_s=0.5,
    )
    judged = judged_event(REJECTED, "puxi", "sub-004")

    async def body() -> None:
        async with Notifier(settings) as n:
            await n.publish(judged)

            async def timed_out() -> bool:
                return n.sample("intake_notice_attempts_total", channel="email", result="transient") >= 1

            await n.until(timed_out)
            sink.rcpt_delay_s = 0.0
            [event] = await n.notices(1)
            record = await n.records.get(notice_id("sub-004", judged.event_id), "email")
        assert event["type"] == "NoticeDelivered" and record["state"] == "sent" and int(record["attempts"]) >= 2
        assert len(sink.wait(1)) == 1

    run(body)


def test_a_webhook_found_mid_send_is_sent_again_at_once_and_an_email_is_not(
    redis_url: str, prefix: str, tmp_path: Path, hook: WebhookReceiver, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As after a crash between sending and recording: the records say "sending" a moment ago."""
    settings = notify_settings(redis_url, prefix, tmp_path, puxi_with_webhook(tmp_path, hook, monkeypatch), sink=sink)
    judged = judged_event(REJECTED, "puxi", "sub-004")
    nid = notice_id("sub-004", judged.event_id)

    async def body() -> None:
        async with Notifier(settings) as n:
            for channel in ("webhook", "email"):
                await n.records.create(nid, channel, "sub-004", "puxi", judged.occurred_at)
                await n.records.claim(nid, channel, time.time(), 60)  # pending -> sending, then "crash"
            await n.publish(judged)
            [event] = await n.notices(1)
            await asyncio.sleep(0.5)
            webhook = await n.records.get(nid, "webhook")
            email = await n.records.get(nid, "email")
        assert (event["type"], event["channel"]) == ("NoticeDelivered", "webhook")
        assert webhook["state"] == "sent" and webhook["attempts"] == "2"
        assert len(hook.received) == 1 and hook.received[0].headers["webhook-id"] == nid  # the portal dedupes on it
        assert email["state"] == "sending" and sink.mails == []  # waits; needs_review once stale, never resent

    run(body)


def test_a_redis_blink_as_emails_go_out_leaves_them_sent_not_for_review(prefix: str, tmp_path: Path) -> None:
    """Redis goes away just as the mail server takes the first email, and comes back a second later:
    every rejection is emailed once and recorded sent; none is left for review."""
    from tests.servers import OwnRedis

    redis = OwnRedis(tmp_path / "redis").start()
    sink = SmtpSink()
    blinked = threading.Event()

    def blink() -> None:
        if blinked.is_set():
            return
        blinked.set()
        redis.stop()
        threading.Timer(1.0, redis.start).start()

    sink.on_accept = blink
    sink.start()
    settings = notify_settings(
        redis.url, prefix, tmp_path, registry(tmp_path, PUXI), sink, notice_sending_stale_s=1.0, smtp_connections=1
    )

    async def body() -> None:
        async with Notifier(settings) as n:
            for k in range(5):
                await n.publish(judged_event(REJECTED, "puxi", submission_id=f"blink-{k}"))
            notices = await n.notices(5, seconds=30)
            await asyncio.sleep(2.0)  # past notice_sending_stale_s: nothing may turn to needs_review
            states = [(await n.records.get(r["notice_id"], "email")).get("state") for r in notices]
            assert states == ["sent"] * 5 and {e["type"] for e in notices} == {"NoticeDelivered"}
            assert n.sample("intake_notices_total", channel="email", outcome="needs_review") == 0

    try:
        run(body)
        assert blinked.is_set()
        mails = sink.wait(5)
        assert len(mails) == 5 and len({m.message["Message-ID"] for m in mails}) == 5  # each once
    finally:
        sink.stop()
        redis.stop()


def test_a_stop_is_bounded_and_what_was_not_sent_goes_out_once_after(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    """A slow mail server (1.5 s a message), ten rejections, a stop: the notifier is gone within its
    shutdown bound; the next one sends what was not sent, each email once, none left for review."""
    sink = SmtpSink(rcpt_delay_s=1.5).start()
    settings = notify_settings(
        redis_url, prefix, tmp_path, registry(tmp_path, PUXI), sink, shutdown_s=2.0, smtp_connections=2
    )

    async def body() -> None:
        n = Notifier(settings)
        await n.__aenter__()
        for k in range(10):
            await n.publish(judged_event(REJECTED, "puxi", submission_id=f"stop-{k}"))
        await asyncio.sleep(2.0)  # some emails under way
        start = time.monotonic()
        await n.__aexit__(None, None, None)
        assert time.monotonic() - start < settings.shutdown_s + 2.0
        first = len(sink.mails)
        assert first < 10
        async with Notifier(settings.model_copy(update={"consumer": "test-2", "min_idle_ms": 100})) as again:
            notices = await again.notices(10, seconds=60)
            assert {e["type"] for e in notices} == {"NoticeDelivered"}  # none failed, none for review
            assert (await again.records.counts()).get("needs_review", 0) == 0
        assert len(sink.wait(10, seconds=5)) == 10
        ids = [m.message["Message-ID"] for m in sink.mails]
        assert len(ids) == len(set(ids)) == 10  # each email once

    try:
        run(body)
    finally:
        sink.stop()
