"""The services' consumers (each service's handlers wired to its streams), and publishing submissions.

``services.app`` makes FastStream applications of them.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import redis.asyncio as aioredis

from contracts.events import (
    NoticeRequested,
    ReportJudged,
    ReportParsed,
    SubmissionReceived,
    event_id,
)
from services import registry as registry_mod
from services.delivery import Consumer, DeliverySettings, Result
from services.notifier import service as notifier
from services.parser import service as parser
from services.streams import Settings
from services.validator import service as validator

SERVICES = ("parser", "validator", "notifier")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def clients(settings: Settings) -> tuple[aioredis.Redis, aioredis.Redis]:
    """A client for streams (decoded text) and one for upload bytes. Bytes that are no UTF-8 in a
    stream entry are read as U+FFFD (the entry then fails to decode and goes to the dead letters),
    never as an error that takes the consumer down with every entry of its batch."""
    text = aioredis.Redis.from_url(settings.redis_url, decode_responses=True, encoding_errors="replace")
    raw = aioredis.Redis.from_url(settings.redis_url, decode_responses=False)
    return text, raw


def create_consumers(
    settings: Settings,
    text: aioredis.Redis,
    raw: aioredis.Redis,
    names: Sequence[str] = SERVICES,
    now: Callable[[], dt.datetime] = utcnow,
    on_entry: Callable[[str, str, float, Any], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
    live: registry_mod.Live | None = None,
    metrics: notifier.NoticeMetrics | None = None,
) -> list[Consumer[Any]]:
    """The consumers of the named services, each knowing its service (``consumer.service``)."""
    registry = registry_mod.Live(settings.offices_file) if live is None else live
    consumers: list[Consumer[Any]] = []

    def delivery(stream: str, group: str) -> DeliverySettings:
        return DeliverySettings(
            stream=stream,
            group=group,
            consumer=settings.consumer,
            dead_stream=settings.dead_stream,
            batch=settings.batch,
            min_idle_ms=settings.min_idle_ms,
            max_deliveries=settings.max_deliveries,
            seen_prefix=settings.seen_prefix,
        )

    def note(service: str) -> Callable[[str, float, Any], None] | None:
        if on_entry is None:
            return None
        return lambda outcome, seconds, event: on_entry(service, outcome, seconds, event)

    def trouble(service: str) -> Callable[[str], None] | None:
        if on_error is None:
            return None
        return lambda message: on_error(service, message)

    checker = validator.Validator(text, settings, registry, now)
    box = parser.sandbox_of(settings) if "parser" in names else None
    wiring: dict[
        str, tuple[str, str, Any, Callable[[Any], Awaitable[Result]], Callable[[Any], Awaitable[object]] | None]
    ] = {  # service: (stream, group, model, handler, what prepares a batch)
        "parser": (
            settings.submissions_stream,
            settings.parser_group,
            SubmissionReceived,
            parser.make_handler(raw, settings, now, box),
            None,
        ),
        "validator": (
            settings.parsed_stream,
            settings.validator_group,
            ReportParsed,
            checker.handle,
            checker.prepare,
        ),
    }
    for name in names:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
        if name == "notifier":
            consumers += _notifier_consumers(
                settings, text, registry, now, delivery, note(name), trouble(name), metrics
            )
            continue
        stream, group, model, handle, prepare = wiring[name]
        at_once = settings.parse_workers if name == "parser" and box is not None else 1
        consumer = Consumer(
            text,
            replace(delivery(stream, group), concurrency=at_once),
            model,
            handle,
            note(name),
            trouble(name),
            service=name,
            prepare=prepare,
        )
        if name == "parser" and box is not None:
            # the readers' children started with the service, so that the first uploads do not wait a
            # second for the forkserver's imports (the p99 of a service just started)
            consumer.on_start = partial(asyncio.to_thread, box.start)
            consumer.on_close = partial(asyncio.to_thread, box.close)
        consumers.append(consumer)
    return consumers


def _notifier_consumers(
    settings: Settings,
    text: aioredis.Redis,
    registry: registry_mod.Live,
    now: Callable[[], dt.datetime],
    delivery: Callable[[str, str], DeliverySettings],
    on_entry: Callable[[str, float, Any], None] | None,
    on_error: Callable[[str], None] | None,
    metrics: notifier.NoticeMetrics | None,
) -> list[Consumer[Any]]:
    """The verdicts' consumer, and one sender per channel (each with its own stream and retries)."""
    n = notifier.Notifier(text, settings, registry, now, metrics)
    verdicts = Consumer(
        text,
        delivery(settings.verdicts_stream, settings.notifier_group),
        ReportJudged,
        n.handle_verdict,
        on_entry,
        on_error,
        service="notifier",
    )
    verdicts.on_close = n.close
    consumers: list[Consumer[Any]] = [verdicts]
    at_once = {"email": settings.smtp_connections, "webhook": settings.webhook_concurrency, "outbox": 1}
    for channel in n.channels:
        d = delivery(notifier.outgoing_stream(settings, channel), settings.notifier_group)
        consumers.append(
            Consumer(
                text,
                replace(d, concurrency=at_once[channel]),
                NoticeRequested,
                n.handle_request,
                on_entry,
                on_error,
                service="notifier",
                tick=partial(n.move_due, channel),
            )
        )
    return consumers


async def submit(
    text: aioredis.Redis,
    raw: aioredis.Redis,
    settings: Settings,
    data: bytes,
    file_name: str,
    office_id: str,
    declared_year: int | None = None,
    media_type: str | None = None,
    submission_id: str | None = None,
) -> SubmissionReceived:
    """Publish one submission exactly as the portal would (bytes inline, or by claim check)."""
    if len(data) > settings.max_upload_bytes:
        raise ValueError(f"the upload is {len(data)} bytes, over the limit of {settings.max_upload_bytes}")
    submission_id = submission_id or uuid.uuid4().hex
    digest = hashlib.sha256(data).hexdigest()
    fields: dict[str, Any] = {}
    if len(data) <= settings.inline_max_bytes:
        fields["content_b64"] = base64.b64encode(data).decode()
    else:
        key = f"{settings.key_prefix}:upload:{submission_id}"
        await raw.set(key, data, ex=7 * 24 * 3600)
        fields["content_key"] = key
    now = utcnow()
    sub = SubmissionReceived(
        event_id=event_id("submitted", submission_id, digest),
        submission_id=submission_id,
        office_id=office_id,
        occurred_at=now,
        producer="cli",
        declared_year=declared_year,
        file_name=file_name,
        media_type=media_type,
        sha256=digest,
        size=len(data),
        submitted_at=now,
        **fields,
    )
    await text.xadd(settings.submissions_stream, {"event": sub.model_dump_json()})
    return sub
