"""Running the services: FastStream applications of the services' consumers, and publishing submissions.

Each service is a ``RedisRouter`` (its consumers' subscribers, and the publishers its handlers
publish through, for the AsyncAPI document); ``application`` puts the named services' routers on
one ``RedisBroker`` in one ``FastStream`` application (style §8): ``intake serve parser`` runs
one, ``intake serve all`` all three, and ``faststream run services.app:parser --factory`` the same
(services/app.py).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import redis.asyncio as aioredis
from faststream import FastStream
from faststream.redis import RedisBroker, RedisRouter

from contracts.events import (
    DeadLetter,
    NoticeDelivered,
    NoticeFailed,
    NoticeRequested,
    ReportJudged,
    ReportParsed,
    SubmissionReceived,
    event_id,
)
from services import registry as registry_mod
from services.delivery import REDIS_DOWN, Consumer, DeliverySettings, Result
from services.notifier import service as notifier
from services.parser import service as parser
from services.streams import Settings
from services.validator import service as validator

SERVICES = ("parser", "validator", "notifier")
# FastStream's own lines that matter (a read that failed, a handler that raised: WARNING and up, on
# standard error); its access and task lines are below that: the services write their own per entry
LOGGER = logging.getLogger("intake.faststream")
LOGGER.setLevel(logging.WARNING)


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


SUBSCRIBERS = {  # the stream a consumer reads: (its title, what it does), for the AsyncAPI document
    "submissions_stream": (
        "parser",
        "The parser: each upload (inline base64 or a claim-check key) read into a ParsedReport.",
    ),
    "parsed_stream": (
        "validator",
        "The validator: the rule catalogue applied; accepted figures kept for next year's report.",
    ),
    "verdicts_stream": (
        "notifier",
        "The notifier: every rejection's notice rendered, recorded and requested on each registered channel.",
    ),
}
SENDER = "A channel's sender: once per notice, retried with backoff on transient failures."


def routers(settings: Settings, consumers: Sequence[Consumer[Any]]) -> list[RedisRouter]:
    """A router per service: its consumers' subscribers, and what its handlers publish (documented
    as FastStream publishers; they publish in the consumer's transaction, services/delivery.py)."""
    titles = {getattr(settings, field): about for field, about in SUBSCRIBERS.items()}
    by_service: dict[str, RedisRouter] = {}
    for consumer in consumers:
        router = by_service.setdefault(consumer.service, RedisRouter())
        channel = consumer.s.stream.rsplit(":", 1)[-1]
        title, description = titles.get(consumer.s.stream, (f"notifier {channel}", SENDER))
        consumer.subscribe(router, title, description)
    for service, router in by_service.items():
        for stream, title, schema, description in _publishes(settings, service):
            router.publisher(stream=stream, title=title, schema=schema, description=description)
    return list(by_service.values())


def _publishes(s: Settings, service: str) -> list[tuple[str, str, Any, str]]:
    """(stream, title, event model, description) of what a service publishes."""
    if service == "parser":
        return [
            (s.dead_stream, s.dead_stream, DeadLetter, "From every service: entries that could not be handled, "
             "with the original, the error and the delivery count."),
            (s.parsed_stream, s.parsed_stream, ReportParsed, "A faithful structured reading of each readable upload."),
            (s.verdicts_stream, f"{s.verdicts_stream} (unreadable)", ReportJudged,
             "A DOC-UNREADABLE verdict for an upload that cannot be read at all."),
        ]  # fmt: skip
    if service == "validator":
        return [(s.verdicts_stream, s.verdicts_stream, ReportJudged,
                 "The verdict with its findings, once per submission.")]  # fmt: skip
    requests = [
        (notifier.outgoing_stream(s, channel), notifier.outgoing_stream(s, channel), NoticeRequested,
         f"A notice to send by {channel}; it names no recipient (the sender reads the registry).")
        for channel in notifier.CHANNELS
    ]  # fmt: skip
    return [
        *requests,
        (s.notices_stream, s.notices_stream, NoticeDelivered,
         "A notice delivered on one channel (once per notice and channel)."),
        (s.notices_stream, f"{s.notices_stream} (failed)", NoticeFailed,
         "A notice that failed for good, or needs review after a crash mid-send."),
    ]  # fmt: skip


@dataclass
class Pipeline:
    """The named services as one FastStream application, with the clients and consumers it runs."""

    app: FastStream
    broker: RedisBroker
    consumers: list[Consumer[Any]]
    text: aioredis.Redis
    raw: aioredis.Redis


def application(
    settings: Settings,
    names: Sequence[str] = SERVICES,
    *,
    now: Callable[[], dt.datetime] = utcnow,
    on_entry: Callable[[str, str, float, Any], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
    live: registry_mod.Live | None = None,
    metrics: notifier.NoticeMetrics | None = None,
    logger: logging.Logger = LOGGER,
) -> Pipeline:
    """The named services' FastStream application: their routers on one broker (``faststream_app``),
    the clients closed after it stops."""
    text, raw = clients(settings)
    consumers = create_consumers(settings, text, raw, names, now, on_entry, on_error, live, metrics)
    trouble = None if on_error is None else partial(on_error, names[0])
    app, broker = faststream_app(
        settings.redis_url, routers(settings, consumers), consumers, settings.shutdown_s, trouble, logger
    )

    @app.after_shutdown
    async def close_clients() -> None:
        await text.aclose()
        await raw.aclose()

    return Pipeline(app, broker, consumers, text, raw)


def faststream_app(
    redis_url: str,
    service_routers: Sequence[RedisRouter],
    consumers: Sequence[Consumer[Any]],
    shutdown_s: float,
    on_error: Callable[[str], None] | None = None,
    logger: logging.Logger = LOGGER,
) -> tuple[FastStream, RedisBroker]:
    """A FastStream application of ``service_routers`` on one broker, running ``consumers``' part:
    at start their consumer groups are made and their own pending entries handled (waiting for
    Redis), beside the subscribers each one's housekeeping runs; a stop begins no new entry, gives
    what is in hand ``shutdown_s`` (the broker's graceful timeout, after which FastStream cancels
    it), then runs their ``on_close``."""
    # FastStream's access lines (one per batch) at DEBUG: the services write their own line per entry
    broker = RedisBroker(
        redis_url,
        graceful_timeout=shutdown_s,
        logger=logger,
        log_level=logging.DEBUG,
        description="The intake pipeline's Redis streams",
    )
    for router in service_routers:
        broker.include_router(router)
    app = FastStream(broker, logger=logger)
    housekeeping: list[asyncio.Task[None]] = []

    @app.on_startup
    async def groups_and_own_pending() -> None:
        """Before the subscribers read: the groups, and what this consumer name was given before a
        restart and never acked (read after the subscribers started, it would be what they hold)."""
        backoff = 0.1
        while True:
            try:
                for consumer in consumers:
                    await consumer.ensure_group()
                for consumer in consumers:
                    await consumer.drain_own_pending()
                return
            except REDIS_DOWN as exc:
                if on_error is not None:
                    on_error(f"redis unavailable at start, retrying in {backoff:.1f} s: {exc}")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    @app.after_startup
    async def start_housekeeping() -> None:
        housekeeping.extend(asyncio.create_task(c.housekeeping()) for c in consumers)

    @app.on_shutdown
    async def begin_no_more() -> None:
        for consumer in consumers:
            consumer.stop()
        _, late = await asyncio.wait(housekeeping, timeout=shutdown_s)  # (a tick in hand: a retry being moved)
        for task in late:
            task.cancel()

    @app.after_shutdown
    async def close() -> None:
        for consumer in consumers:
            if consumer.on_close is not None:
                await consumer.on_close()

    return app, broker


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
