"""The channels' pure parts: header hygiene, Standard Webhooks signatures, the MIME message, errors."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import aiosmtplib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.notice import SubmissionRef
from contracts.verdict import Office
from services.notifier.channels import (
    EmailChannel,
    Permanent,
    Transient,
    _classify,
    header_text,
    sign,
    webhook_secrets,
)
from services.notifier.notice import render_notice
from services.notifier.service import notice_id
from tests.conftest import SEEDS
from tests.portal import judged_event

ROOT = Path(__file__).resolve().parents[2]


def test_the_signature_matches_the_standard_webhooks_test_vector() -> None:
    # The example of the Standard Webhooks specification (github.com/standard-webhooks).
    secrets = webhook_secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}', secrets)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_two_secrets_sign_twice_during_a_rotation() -> None:
    one = sign("m", 1, b"{}", webhook_secrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    both = sign("m", 1, b"{}", webhook_secrets("plain-new-secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    assert both.split()[1] == one and both.split()[0] != one


@given(st.text())
def test_header_text_never_carries_a_line_break_or_a_control(text: str) -> None:
    clean = header_text(text)
    assert not any(ch in clean for ch in "\r\n\x00\u202e\u2066\u200f")
    assert "=?" not in clean and len(clean) <= 200


def test_header_text_keeps_chinese_and_drops_what_hides() -> None:
    assert header_text("蒲西\x00街道\r\nBcc: x@y\u202e") == "蒲西街道 Bcc: x@y"
    assert header_text("a=?utf-8?q?=0D=0A?=b") == "a= ?utf-8?q?=0D=0A?=b"


def _message(office: Office) -> bytes:
    ev = judged_event(SEEDS[4], office.id, "sub")
    notice = render_notice(ev.verdict, None, office, SubmissionRef(submission_id="sub"), dt.date(2021, 1, 20))
    channel = EmailChannel("localhost", 25, "政府信息公开年报审核 <intake@gov.example>")
    return channel.message("ntc_1", notice, office, dt.datetime(2021, 1, 20, tzinfo=dt.UTC))


def test_the_email_is_multipart_with_the_registry_address_and_a_stable_message_id() -> None:
    raw = _message(Office(id="puxi", name="蒲西街道办事处", email="gk@puxi.example"))
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "gk@puxi.example"  # type: ignore[attr-defined]
    assert msg["Message-ID"] == "<ntc_1@gov.example>"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]  # type: ignore[attr-defined]
    assert str(msg["Subject"]).startswith("关于退回《蒲西街道办事处")


def test_an_address_that_is_not_one_is_a_permanent_failure() -> None:
    with pytest.raises(Permanent):
        _message(Office(id="x", name="x", email="a@b\r\nBcc: c@d"))
    with pytest.raises(Permanent):
        _message(Office(id="x", name="x"))


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (aiosmtplib.SMTPResponseException(451, "try later"), Transient),
        (aiosmtplib.SMTPResponseException(550, "no such user"), Permanent),
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no", "a@b")]), Permanent),
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(452, "full", "a@b")]), Transient),
        (aiosmtplib.SMTPServerDisconnected("gone"), Transient),
        (aiosmtplib.SMTPConnectError("refused"), Transient),
        (ConnectionRefusedError(), Transient),
        (aiosmtplib.SMTPNotSupported("STARTTLS extension not supported by server."), Permanent),
        (aiosmtplib.SMTPException("The SMTP AUTH extension is not supported by this server."), Permanent),
    ],
)
def test_smtp_errors_are_transient_or_permanent(exc: BaseException, kind: type[Exception]) -> None:
    assert isinstance(_classify(exc), kind)


def test_the_notice_id_depends_on_the_submission_and_its_verdict_only() -> None:
    assert notice_id("s", "judged:s:1") == notice_id("s", "judged:s:1")
    assert len({notice_id("s", "judged:s:1"), notice_id("s", "judged:s:2"), notice_id("t", "judged:s:1")}) == 3
    assert notice_id("a/../b\r\n", "x").isascii() and notice_id("a/../b\r\n", "x").replace("_", "").isalnum()


def _preview(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"INTAKE_OFFICES_FILE": str(ROOT / "samples" / "offices.yaml"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "notices", "preview", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_notices_preview_shows_the_channel_the_recipient_and_the_notice() -> None:
    rejected = _preview(str(SEEDS[4]), "--office", "puxi")
    assert rejected.returncode == 1, rejected.stderr
    assert "email   → gongkai@puxi.example.gov.cn" in rejected.stdout
    assert "关于退回《沈阳市辽中区蒲西街道办事处2020年政府信息公开工作年度报告》的通知" in rejected.stdout
    accepted = _preview(str(SEEDS[0]), "--office", "xigong")
    assert accepted.returncode == 0 and "no notice is sent" in accepted.stdout
    unknown = _preview(str(SEEDS[4]), "--office", "nobody")
    assert unknown.returncode == 2 and "not in the registry" in unknown.stderr
    mime = _preview(str(SEEDS[4]), "--office", "puxi", "--show", "mime")
    assert "Content-Type: multipart/alternative" in mime.stdout and "To: " in mime.stdout
