"""Real peers on loopback for the notifier's tests: an SMTP server (aiosmtpd) and a webhook receiver
(uvicorn + starlette) that checks the Standard Webhooks signature with its own code.

Both run in a thread of the test process, on a free port, and keep what they received. Each can be
told how to answer the next requests (``replies``), and to wait before answering (``delay_s``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import free_port


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    """An SMTP server that keeps every message it accepts (envelope and raw bytes)."""

    port: int = field(default_factory=free_port)
    mails: list[Mail] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # answers to the next DATA commands, e.g. "451 …"
    on_accept: Callable[[], None] | None = None  # called after a message is kept, before 250 goes out
    options: dict[str, Any] = field(default_factory=dict)  # aiosmtpd's: ssl_context, tls_context, auth…
    controller: Controller | None = None

    rcpt_delay_s: float = 0.0  # a server that hangs before it answers RCPT

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_delay_s:
            await asyncio.sleep(self.rcpt_delay_s)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            reply = self.replies.pop(0)
            if not reply.startswith("250"):
                return reply
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.on_accept is not None:
            self.on_accept()
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait(self, count: int, seconds: float = 10) -> list[Mail]:
        deadline = time.monotonic() + seconds
        while len(self.mails) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.mails)


def verify(secret: str, headers: dict[str, str], body: bytes, now: float, tolerance_s: int = 300) -> str | None:
    """What a portal does on receipt (Standard Webhooks), written here independently of the notifier.

    Returns why the request is refused, or None when it is genuine.
    """
    try:
        msg_id, stamp, signatures = headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
    except KeyError as exc:
        return f"missing header {exc}"
    if abs(now - int(stamp)) > tolerance_s:
        return "timestamp too far from now"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
    for sig in signatures.split():
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return None
    return "no valid signature"


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """The portal's webhook endpoint: verifies each request, answers as told, keeps what it accepted."""

    secret: str
    port: int = field(default_factory=free_port)
    received: list[Hook] = field(default_factory=list)  # verified and answered 2xx
    refused: list[str] = field(default_factory=list)  # why a request failed verification
    requests: int = 0
    replies: list[int] = field(default_factory=list)  # statuses for the next requests; then 200
    delay_s: float = 0.0
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/intake"

    async def _hook(self, request: Request) -> Response:
        self.requests += 1
        body = await request.body()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        problem = verify(self.secret, dict(request.headers), body, time.time())
        if problem is not None:
            self.refused.append(problem)
            return Response(problem, status_code=401)
        status = self.replies.pop(0) if self.replies else 200
        if 200 <= status < 300:
            self.received.append(Hook(dict(request.headers), body))
        return Response(status_code=status)

    def start(self) -> WebhookReceiver:
        app = Starlette(routes=[Route("/hooks/intake", self._hook, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(10)

    def wait(self, count: int, seconds: float = 10) -> list[Hook]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)


class OwnRedis:
    """A redis-server of a test's own (AOF on, every write synced), to stop and start under the services."""

    def __init__(self, folder: Any) -> None:
        import shutil

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        folder.mkdir(parents=True, exist_ok=True)
        self.cmd = [
            shutil.which("redis-server") or "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync", "always"),
            *("--save", "", "--dir", str(folder)),
        ]
        self.proc: Any = None

    def start(self) -> OwnRedis:
        import subprocess

        import redis as sync_redis

        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(250):
            try:
                sync_redis.Redis(port=self.port).ping()
                return self
            except sync_redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
