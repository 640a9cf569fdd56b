"""The channels a notice goes out on: email (SMTP), the portal's webhook, and an outbox directory.

Each channel's ``send`` delivers one notice to one office and returns where it went, or raises
``Transient`` (worth retrying: SMTP 4xx, connection errors, HTTP 5xx/429, timeouts) or
``Permanent`` (not: SMTP 5xx, HTTP 4xx, a missing secret). The recipient always comes from the
office's registry entry, never from the notice, the verdict or the document.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import time
import unicodedata
from collections.abc import Mapping
from email.utils import format_datetime, parseaddr
from pathlib import Path

import aiosmtplib
import httpx

from contracts.notice import Notice
from contracts.verdict import Office

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# An addr-spec as a registry should hold it: dot-atom local part, a domain of letters, digits and hyphens.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


def _encoded(text: str, name: str) -> str:
    """A header value, as RFC 2047 base64 encoded words where it is not plain ASCII.

    Each word holds at most 45 bytes of UTF-8 (60 of base64, 72 with its frame: under the 75 of
    RFC 2047), never splitting a character; words after the first go on folded lines.
    """
    if text.isascii():
        return text
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > 45:
            words.append("".join(chunk))
            chunk.clear()
            size = 0
        chunk.append(ch)
        size += n
    words.append("".join(chunk))
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words)


class Transient(Exception):
    """Worth another attempt later."""


class Permanent(Exception):
    """Another attempt would fail the same way."""


def header_text(text: str, limit: int = 200) -> str:
    """Text safe for a mail header: no control, format or bidi characters, no encoded-word opener.

    CR, LF and NUL are control characters (Cc); bidi overrides and zero-width characters are
    format characters (Cf); line and paragraph separators (Zl, Zp) are dropped with them. ``=?``
    would let a mail reader decode an encoded word the sender never wrote, so it is broken up.
    """
    kept = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in text
        if ch in "\t\r\n" or (unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp") and ch not in _BIDI)
    )
    return " ".join(kept.replace("=?", "= ?").split())[:limit]


class EmailChannel:
    """SMTP with aiosmtplib: a few connections kept open and reused, one message per notice."""

    name = "email"
    resend_safe = False  # a second send is a second email in the office's inbox

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        tls: str = "auto",
        user: str | None = None,
        password: str | None = None,
        validate_certs: bool = True,
        ca_file: str | None = None,
        timeout_s: float = 30.0,
        connections: int = 4,
    ) -> None:
        display, addr = parseaddr(sender)
        if not _ADDRESS.fullmatch(addr):
            raise ValueError(f"INTAKE_SMTP_FROM must hold an address: {sender!r}")
        self.sender_address = addr
        self._from = f"{_encoded(header_text(display), 'From')} <{addr}>" if display else addr
        self.domain = addr.rsplit("@", 1)[1]
        self.options = {
            "hostname": host,
            "port": port,
            "username": user,
            "password": password,
            "use_tls": tls == "tls",
            "start_tls": {"auto": None, "starttls": True}.get(tls, False),
            "validate_certs": validate_certs,
            "cert_bundle": ca_file,
            "timeout": timeout_s,
        }
        self.timeout_s = timeout_s
        self._gate = asyncio.Semaphore(connections)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []

    def message(self, notice_id: str, notice: Notice, office: Office, now: dt.datetime) -> bytes:
        """The MIME message, multipart plain text + HTML, as the bytes that go over SMTP.

        Assembled here rather than through ``email.message.EmailMessage``, whose header machinery
        took three quarters of the notifier's CPU (bench/README.md): the structure is fixed, the
        encoded words come from ``email.header.Header`` (RFC 2047, folded), both bodies are base64,
        and every header is either fixed text, the registry's entry, or passed through
        ``header_text``. The tests parse the result back with the standard library.
        """
        if not office.email:
            raise Permanent(f"office {office.id!r} has no email address in the registry")
        if not _ADDRESS.fullmatch(office.email):
            raise Permanent(f"office {office.id!r}: not an email address: {office.email!r}")
        boundary = f"=_{notice_id}"  # "=_" never occurs in base64 text
        headers = (
            f"From: {self._from}\r\n"
            f"To: {_encoded(header_text(office.name), 'To')} <{office.email}>\r\n"
            f"Subject: {_encoded(header_text(notice.subject), 'Subject')}\r\n"
            f"Date: {format_datetime(now)}\r\n"
            f"Message-ID: <{notice_id}@{self.domain}>\r\n"  # stable: a resend is recognisably the same
            "Auto-Submitted: auto-generated\r\n"
            f"X-Intake-Notice-Id: {notice_id}\r\n"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
        )
        parts = [headers.encode("ascii")]
        for subtype, body in (("plain", notice.text), ("html", notice.html)):
            parts.append(
                f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: base64\r\n\r\n".encode("ascii")
            )
            canonical = body.replace("\r\n", "\n").replace("\n", "\r\n")  # text in canonical form (RFC 2046)
            parts.append(base64.encodebytes(canonical.encode("utf-8")).replace(b"\n", b"\r\n"))
        parts.append(f"--{boundary}--\r\n".encode("ascii"))
        return b"".join(parts)

    async def send(self, notice_id: str, notice: Notice, office: Office, now: dt.datetime) -> str:
        message = self.message(notice_id, notice, office, now)
        recipient = str(office.email)
        async with self._gate:
            smtp = await self._connection()
            try:
                # One deadline for the whole transaction: aiosmtplib's own per-reply timeouts each cost a
                # task (asyncio.wait_for), a tenth of the notifier's CPU.
                async with asyncio.timeout(self.timeout_s):
                    await smtp.sendmail(self.sender_address, [recipient], message, timeout=None)
            except BaseException as exc:
                await _close(smtp)
                raise _classify(exc) from exc
            self._idle.append((smtp, time.monotonic()))
        return recipient

    async def _connection(self) -> aiosmtplib.SMTP:
        while self._idle:
            smtp, since = self._idle.pop()
            if smtp.is_connected and time.monotonic() - since < 30:  # servers drop idle sessions
                return smtp
            await _close(smtp)
        smtp = aiosmtplib.SMTP(**self.options)  # type: ignore[arg-type]
        try:
            await smtp.connect()
        except BaseException as exc:
            raise _classify(exc) from exc
        return smtp

    async def close(self) -> None:
        while self._idle:
            await _close(self._idle.pop()[0])


async def _close(smtp: aiosmtplib.SMTP) -> None:
    try:
        if smtp.is_connected:
            await asyncio.wait_for(smtp.quit(), 2)
    except Exception:
        smtp.close()


def _classify(exc: BaseException) -> BaseException:
    """SMTP 5xx, and a server without what the settings ask for, is permanent; 4xx, timeouts and
    lost connections are transient."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        kind = Permanent if codes and all(c >= 500 for c in codes) else Transient
        return kind(f"recipient refused: {'; '.join(f'{r.code} {r.message}' for r in exc.recipients)}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        kind = Permanent if 500 <= exc.code < 600 else Transient
        return kind(f"SMTP {exc.code} {exc.message}")
    lost = aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | aiosmtplib.SMTPTimeoutError
    if isinstance(exc, lost | OSError | TimeoutError):
        return Transient(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, aiosmtplib.SMTPException):  # e.g. AUTH or STARTTLS not offered: a setting to fix
        return Permanent(f"{type(exc).__name__}: {exc}")
    return exc


def webhook_secrets(value: str) -> list[bytes]:
    """The signing secrets in a variable: space-separated, ``whsec_<base64>`` or plain text.

    Two secrets sign each message twice (``v1,a v1,b``): how a secret is rotated without a gap.
    """
    keys = []
    for part in value.split():
        keys.append(base64.b64decode(part.removeprefix("whsec_")) if part.startswith("whsec_") else part.encode())
    return keys


def sign(msg_id: str, timestamp: int, body: bytes, secrets: list[bytes]) -> str:
    """The ``webhook-signature`` header of Standard Webhooks: ``v1,<base64 HMAC-SHA256>`` per secret."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode() for key in secrets
    )


class WebhookChannel:
    """A signed JSON POST to the portal (Standard Webhooks: webhook-id, -timestamp, -signature)."""

    name = "webhook"
    resend_safe = True  # the portal deduplicates on webhook-id (the notice id)

    def __init__(self, timeout_s: float = 10.0, environ: Mapping[str, str] | None = None) -> None:
        self.client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self.environ = os.environ if environ is None else environ

    async def send(self, notice_id: str, body: bytes, office: Office) -> str:
        hook = office.webhook or {}
        url, secret_env = hook.get("url"), hook.get("secret_env")
        if not url:
            raise Permanent(f"office {office.id!r} has no webhook url in the registry")
        if not secret_env or not self.environ.get(secret_env):
            raise Permanent(f"office {office.id!r}: the webhook secret variable {secret_env!r} is not set")
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": notice_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(notice_id, timestamp, body, webhook_secrets(self.environ[secret_env])),
        }
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise Transient(f"webhook timed out: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise Transient(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return url
        reason = f"webhook answered HTTP {response.status_code}"
        if response.status_code == 429 or response.status_code >= 500:
            raise Transient(reason)
        raise Permanent(reason)

    async def close(self) -> None:
        await self.client.aclose()


class OutboxChannel:
    """Files in a directory, one folder per office: for local use and ``intake demo``."""

    name = "outbox"
    resend_safe = True  # the same files are written again

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    async def send(self, submission_id: str, notice: Notice, office: Office) -> str:
        folder = self.folder / office.id
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / (re.sub(r"[^\w.-]", "_", submission_id).lstrip(".") or "_")  # never a path
        stem.with_suffix(".txt").write_text(f"Subject: {notice.subject}\n\n{notice.text}", encoding="utf-8")
        stem.with_suffix(".html").write_text(notice.html, encoding="utf-8")
        stem.with_suffix(".json").write_text(
            json.dumps(notice.model_dump(mode="json"), ensure_ascii=False), encoding="utf-8"
        )
        return str(stem.with_suffix(".txt"))

    async def close(self) -> None:
        return None
