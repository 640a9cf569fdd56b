"""The notifier service: verdicts in; each rejection's notice out on the office's registered channels.

Two stages, each a worker of the shared delivery loop:

1. ``intake:verdicts`` → for a rejection (and, with receipts on, an acceptance): the office is
   looked up in the registry by the submission's office id, the notice rendered, a notice record
   created per channel (``records.py``) and a ``NoticeRequested`` put on that channel's stream
   (``intake:outgoing:email|webhook|outbox``). Fast and never waits on a mail server, so a slow
   channel never holds up the verdicts.
2. One worker per channel sends: it takes the record from ``pending`` to ``sending``, sends to
   the address or URL in the registry (never one from a message), and records ``sent``. A
   transient failure puts the record back to ``pending`` and the request on the channel's retry
   schedule (a sorted set) with exponential backoff and jitter, until the retry window closes;
   a permanent failure, or the window's end, records ``failed``. Either way a ``NoticeDelivered``
   or ``NoticeFailed`` goes to ``intake:notices``, and a failure to ``intake:dead`` as well.

A redelivered verdict or request finds its record already past ``pending`` and sends nothing.
A crash between sending and recording leaves the record in ``sending``; found so after
``notice_sending_stale_s``, an email goes to ``needs_review`` (never a second email). A webhook
or an outbox file found in ``sending`` is simply sent again: the portal deduplicates on
``webhook-id`` and a file is overwritten.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contracts.events import Channel, NoticeDelivered, NoticeFailed, NoticeRequested, ReportJudged
from contracts.notice import SubmissionRef, WebhookBody
from contracts.verdict import Office
from services.delivery import Output, Result
from services.notifier.channels import EmailChannel, OutboxChannel, Permanent, Transient, WebhookChannel
from services.notifier.notice import render_notice
from services.notifier.records import Records
from services.registry import Registry
from services.streams import Settings

CHANNELS: tuple[Channel, ...] = ("email", "webhook", "outbox")
_RESEND_SAFE = {c.name: c.resend_safe for c in (EmailChannel, WebhookChannel, OutboxChannel)}

# KEYS: retry schedule, channel stream. ARGV: now, how many. Moves due requests back onto the stream.
_MOVE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'event', member)
  redis.call('ZREM', KEYS[1], member)
end
return #due
"""


class NoticeMetrics(Protocol):
    def notice(self, channel: str, outcome: str) -> None: ...
    def attempt(self, channel: str, result: str) -> None: ...
    def delivered(self, channel: str, seconds: float) -> None: ...


class _NoMetrics:
    def notice(self, channel: str, outcome: str) -> None:
        return None

    def attempt(self, channel: str, result: str) -> None:
        return None

    def delivered(self, channel: str, seconds: float) -> None:
        return None


def notice_id(submission_id: str, verdict_event_id: str) -> str:
    """One id per submission and verdict: the same verdict, redelivered, gives the same notice."""
    digest = hashlib.sha256(f"{submission_id}\0{verdict_event_id}".encode()).hexdigest()
    return f"ntc_{digest[:24]}"


def failure_ids(nid: str, channel: str) -> tuple[str, str]:
    """The dedupe ids of a notice's failure on a channel (or ``none``): its dead letter, its NoticeFailed."""
    return f"{nid}:{channel}", f"failed:{nid}:{channel}"


def outgoing_stream(settings: Settings, channel: str) -> str:
    return f"{settings.key_prefix}:outgoing:{channel}"


def retry_key(settings: Settings, channel: str) -> str:
    """The channel's retry schedule: requests by the time they are due again (a sorted set)."""
    return f"{outgoing_stream(settings, channel)}:retry"


class Notifier:
    def __init__(
        self,
        client: aioredis.Redis,
        settings: Settings,
        registry: Callable[[], Registry],
        now: Callable[[], dt.datetime],
        metrics: NoticeMetrics | None = None,
    ) -> None:
        self.s = settings
        self.registry = registry
        self.now = now
        self.metrics: NoticeMetrics = metrics or _NoMetrics()
        self.records = Records(client, settings.key_prefix, settings.notice_record_ttl_s)
        self.r = client
        self._move_due = client.register_script(_MOVE_DUE)
        self._loaded = False
        self.log = structlog.get_logger("intake.notifier")
        self.email = (
            EmailChannel(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_from,
                settings.smtp_tls,
                settings.smtp_user,
                settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                settings.smtp_validate_certs,
                settings.smtp_ca_file,
                settings.smtp_timeout_s,
                settings.smtp_connections,
            )
            if settings.smtp_host
            else None
        )
        self.webhook = WebhookChannel(settings.webhook_timeout_s)
        self.outbox = OutboxChannel(settings.outbox_dir) if settings.outbox_dir else None

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels this notifier runs: email with an SMTP server, outbox with a folder, webhook always."""
        on = {"email": self.email is not None, "webhook": True, "outbox": self.outbox is not None}
        return tuple(c for c in CHANNELS if on[c])

    def channels_for(self, office: Office) -> list[Channel]:
        """The office's registered channels that this notifier can send on."""
        wanted = {"email": bool(office.email), "webhook": bool(office.webhook), "outbox": True}
        return [c for c in self.channels if wanted[c]]

    # -- stage 1: verdicts -> requests -------------------------------------------------------

    async def _ready(self) -> None:
        if not self._loaded:
            await self.records.load()
            await self.r.script_load(self._move_due.script)
            self._loaded = True

    async def handle_verdict(self, ev: ReportJudged) -> Result:
        await self._ready()
        status = ev.verdict.status
        due = status == "rejected" or (status == "accepted" and self.s.notice_receipts)
        nid = notice_id(ev.submission_id, ev.event_id)
        office = self.registry().get(ev.office_id)
        if office is None and not due:  # nothing to tell it, but an operator should know of the office
            self.log.warning("verdict", outcome="unknown_office", submission_id=ev.submission_id, status=status)
            return Result(
                dead=f"office id {ev.office_id!r} is not in the office registry: judged {status}, figures not kept",
                dead_key=failure_ids(nid, "none")[0],
            )
        if not due:
            return Result()
        channels = self.channels_for(office) if office else []
        if office is None or not channels:
            reason = (
                f"office id {ev.office_id!r} is not in the office registry: no channel to send to"
                if office is None
                else f"office {office.id!r} has no channel this notifier can use (email needs INTAKE_SMTP_HOST)"
            )
            self.metrics.notice("none", "unknown_office" if office is None else "no_channel")
            self.log.warning("notice", outcome="undeliverable", submission_id=ev.submission_id, reason=reason)
            failed = self._failed(ev, nid, "none", 0, "failed", reason)
            return Result(
                outputs=[Output(self.s.notices_stream, failed, failed.event_id)],
                dead=reason,
                dead_key=failure_ids(nid, "none")[0],
            )
        ref = SubmissionRef(
            submission_id=ev.submission_id,
            office_id=ev.office_id,
            file_name=ev.file_name,
            declared_year=ev.declared_year or ev.report_year,
            submitted_at=ev.submitted_at,
        )
        now = self.now()
        notice = render_notice(ev.verdict, None, office, ref, now.date())
        result = Result()
        for channel in channels:
            # The record is created in the same transaction as the request is published.
            result.scripts.append(self.records.create_call(nid, channel, ev.submission_id, ev.office_id, now))
            request = NoticeRequested(
                event_id=f"request:{nid}:{channel}",
                submission_id=ev.submission_id,
                office_id=ev.office_id,
                occurred_at=now,
                producer="notifier",
                declared_year=ev.declared_year,
                file_name=ev.file_name,
                submitted_at=ev.submitted_at,
                notice_id=nid,
                channel=channel,
                notice=notice,
                verdict=ev.verdict if channel == "webhook" else None,  # only the webhook body carries it
            )
            result.outputs.append(Output(outgoing_stream(self.s, channel), request, request.event_id))
        return result

    # -- stage 2: one channel's requests -> sent --------------------------------------------

    async def handle_request(self, job: NoticeRequested) -> Result:
        await self._ready()
        nid, channel = job.notice_id, job.channel
        claim = await self.records.claim(nid, channel, time.time(), self.s.notice_sending_stale_s)
        if claim.verdict == "missing":  # expired, or a request published by hand: start a record
            await self.records.create(nid, channel, job.submission_id, job.office_id, job.occurred_at)
            claim = await self.records.claim(nid, channel, time.time(), self.s.notice_sending_stale_s)
        if claim.verdict == "done":  # a redelivered request: say again what happened (deduplicated)
            return await self._settled(job, claim.state, claim.attempts)
        resend_safe = _RESEND_SAFE[channel]
        if claim.verdict == "busy" and not resend_safe:  # another attempt may be under way: look again later
            await self._schedule(job, time.time() + self.s.notice_sending_stale_s)
            return Result()
        attempt = claim.attempts
        if claim.verdict == "busy" or claim.verdict == "interrupted":
            if not resend_safe:  # it may have gone out: never risk a second email
                reason = (
                    "interrupted between sending and recording (a crash); not sent again so that no "
                    "second email goes out: check the mail server's log for Message-ID "
                    f"<{nid}@…> and mark the notice as sent or resend it"
                )
                await self.records.move(nid, channel, "sending", "needs_review", time.time(), error=reason)
                return await self._finish(job, "needs_review", attempt, reason)
            await self.records.move(nid, channel, "sending", "sending", time.time())
            attempt += 1
        office = self.registry().get(job.office_id)
        try:
            if office is None:
                raise Permanent(f"office id {job.office_id!r} is no longer in the office registry")
            destination = await self._send(job, office)
        except Permanent as exc:
            self.metrics.attempt(channel, "permanent")
            await self.records.move(nid, channel, "sending", "failed", time.time(), error=str(exc))
            return await self._finish(job, "failed", attempt, str(exc))
        except Transient as exc:
            self.metrics.attempt(channel, "transient")
            return await self._retry(job, attempt, str(exc))
        self.metrics.attempt(channel, "ok")
        self.metrics.notice(channel, "sent")
        self.metrics.delivered(channel, max(0.0, time.time() - job.occurred_at.timestamp()))
        # "sent" is recorded now, on its own, riding out a blink of Redis: not with the batch's commit,
        # whose failure would leave the record "sending" and a sent email to be reviewed by hand. A
        # redelivered request then finds it sent and only publishes NoticeDelivered again (deduplicated).
        await self._record_sent(job, destination)
        return Result(outputs=[self._delivered(job, attempt, destination)])

    async def _record_sent(self, job: NoticeRequested, destination: str) -> None:
        delay, deadline = 0.05, time.monotonic() + self.s.notice_record_retry_s
        while True:
            try:
                await self.records.move(
                    job.notice_id, job.channel, "sending", "sent", time.time(), destination=destination, error=None
                )
                return
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                if time.monotonic() >= deadline:
                    self.log.error(
                        "notice",
                        outcome="sent_unrecorded",
                        channel=job.channel,
                        notice_id=job.notice_id,
                        submission_id=job.submission_id,
                        error=f"sent, but Redis did not take the record for {self.s.notice_record_retry_s:g} s: {exc}",
                    )
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _send(self, job: NoticeRequested, office: Office) -> str:
        if job.channel == "email" and self.email is not None:
            return await self.email.send(job.notice_id, job.notice, office, self.now())
        if job.channel == "webhook":
            if job.verdict is None:
                raise Permanent("a webhook request without its verdict")
            body = WebhookBody(
                notice_id=job.notice_id,
                submission_id=job.submission_id,
                office_id=job.office_id,
                verdict=job.verdict,
                notice=job.notice,
            )
            return await self.webhook.send(job.notice_id, body.model_dump_json().encode(), office)
        if job.channel == "outbox" and self.outbox is not None:
            return await self.outbox.send(job.submission_id, job.notice, office)
        raise Transient(f"the {job.channel} channel is not configured on this notifier")

    async def _retry(self, job: NoticeRequested, attempt: int, error: str) -> Result:
        nid, channel = job.notice_id, job.channel
        ceiling = min(self.s.notice_retry_max_s, self.s.notice_retry_base_s * 2 ** (attempt - 1))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # exponential, with jitter
        due = time.time() + delay
        if due - job.occurred_at.timestamp() > self.s.notice_retry_window_s:
            reason = f"gave up after {attempt} attempts over {self.s.notice_retry_window_s:g} s: {error}"
            await self.records.move(nid, channel, "sending", "failed", time.time(), error=reason)
            return await self._finish(job, "failed", attempt, reason)
        await self.records.move(nid, channel, "sending", "pending", time.time(), error=error, next_at=f"{due:.3f}")
        await self._schedule(job, due)
        self.metrics.notice(channel, "retry")
        self.log.warning(
            "notice",
            outcome="retry",
            channel=channel,
            notice_id=nid,
            submission_id=job.submission_id,
            attempt=attempt,
            in_s=round(delay, 1),
            error=error,
        )
        return Result()

    async def _schedule(self, job: NoticeRequested, due: float) -> None:
        await self.r.zadd(retry_key(self.s, job.channel), {job.model_dump_json(): due})

    async def move_due(self, channel: str, limit: int = 100) -> int:
        """Put requests whose retry is due back on the channel's stream (a worker's tick)."""
        await self._ready()
        stream = outgoing_stream(self.s, channel)
        moved = await self._move_due(keys=[retry_key(self.s, channel), stream], args=[f"{time.time():.3f}", limit])
        return int(moved)

    async def _finish(self, job: NoticeRequested, state: str, attempt: int, error: str) -> Result:
        self.metrics.notice(job.channel, state)
        self.log.error(
            "notice",
            outcome=state,
            channel=job.channel,
            notice_id=job.notice_id,
            submission_id=job.submission_id,
            office_id=job.office_id,
            attempt=attempt,
            error=error,
        )
        return await self._settled(job, state, attempt, error)

    async def _settled(self, job: NoticeRequested, state: str, attempt: int, error: str | None = None) -> Result:
        """The event (and, for a failure, the dead letter) of a record in a final state."""
        record = await self.records.get(job.notice_id, job.channel)
        if state == "sent":
            return Result(outputs=[self._delivered(job, attempt, record.get("destination", ""))])
        reason = error or record.get("error") or state
        failed = self._failed(job, job.notice_id, job.channel, attempt, state, reason)
        return Result(
            outputs=[Output(self.s.notices_stream, failed, failed.event_id)],
            dead=f"notice {state}: {reason}",
            dead_key=failure_ids(job.notice_id, job.channel)[0],
        )

    def _delivered(self, job: NoticeRequested, attempt: int, destination: str) -> Output:
        event = NoticeDelivered(
            event_id=f"delivered:{job.notice_id}:{job.channel}",
            submission_id=job.submission_id,
            office_id=job.office_id,
            occurred_at=self.now(),
            producer="notifier",
            notice_id=job.notice_id,
            channel=job.channel,
            attempt=attempt,
            destination=destination,
            notice=job.notice,
        )
        return Output(self.s.notices_stream, event, event.event_id)

    def _failed(self, ev: Any, nid: str, channel: Any, attempt: int, state: Any, reason: str) -> NoticeFailed:
        return NoticeFailed(
            event_id=failure_ids(nid, channel)[1],
            submission_id=ev.submission_id,
            office_id=ev.office_id,
            occurred_at=self.now(),
            producer="notifier",
            notice_id=nid,
            channel=channel,
            attempt=attempt,
            state=state,
            error=reason,
        )

    async def close(self) -> None:
        for channel in (self.email, self.webhook, self.outbox):
            if channel is not None:
                await channel.close()
