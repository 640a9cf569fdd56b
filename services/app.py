"""The services as FastStream applications, as ``intake serve`` runs them and for FastStream's own tools.

    intake serve parser                                  # likewise validator, notifier, all
    faststream run services.app:parser --factory         # the same application
    faststream docs gen services.app:all --factory       # its AsyncAPI document (docs/asyncapi.json)

Each service is a ``RedisRouter``: its consumers' subscribers (services/delivery.py), and the
publishers of what its handlers publish, for the AsyncAPI document. ``application`` puts the named
services' routers on one ``RedisBroker`` in one ``FastStream`` application (style §8): one service
in production, all three for local work. ``served`` adds what a served process has besides: log
lines, metrics on ``INTAKE_METRICS_PORT`` (0: none), the office registry reloaded on SIGHUP.
Settings come from the environment (``INTAKE_*``, docs/operations.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from faststream import FastStream
from faststream.redis import RedisBroker, RedisRouter

from contracts.events import DeadLetter, NoticeDelivered, NoticeFailed, NoticeRequested, ReportJudged, ReportParsed
from services import registry as registry_mod
from services.delivery import REDIS_DOWN, Consumer
from services.notifier import service as notifier_service
from services.notifier.records import states_key
from services.observability import Metrics, StreamCollector, configure_logging, serve_http
from services.registry import Live
from services.runtime import SERVICES, clients, create_consumers, utcnow
from services.streams import Settings

# FastStream's own lines that matter (a read that failed, a handler that raised: WARNING and up, on
# standard error); its access and task lines are below that: the services write their own per entry
LOGGER = logging.getLogger("intake.faststream")
LOGGER.setLevel(logging.WARNING)


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
        (notifier_service.outgoing_stream(s, channel), notifier_service.outgoing_stream(s, channel), NoticeRequested,
         f"A notice to send by {channel}; it names no recipient (the sender reads the registry).")
        for channel in notifier_service.CHANNELS
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
    """The named services as one FastStream application, with the consumers it runs."""

    app: FastStream
    broker: RedisBroker
    consumers: list[Consumer[Any]]


def application(
    settings: Settings,
    names: Sequence[str] = SERVICES,
    *,
    now: Callable[[], dt.datetime] = utcnow,
    on_entry: Callable[[str, str, float, Any], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
    live: registry_mod.Live | None = None,
    metrics: notifier_service.NoticeMetrics | None = None,
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

    return Pipeline(app, broker, consumers)


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
                    if consumer.on_start is not None:
                        await consumer.on_start()
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
        # a tick in hand (retries being moved, atomically) gets a moment; the graceful timeout is the entries'
        if housekeeping:
            _, late = await asyncio.wait(housekeeping, timeout=min(1.0, shutdown_s))
            for task in late:
                task.cancel()

    @app.after_shutdown
    async def close() -> None:
        for consumer in consumers:
            if consumer.on_close is not None:
                await consumer.on_close()

    return app, broker


def served(names: Sequence[str], settings: Settings | None = None) -> Pipeline:
    """The named services as one served application: metrics, log lines, the registry reloaded on SIGHUP."""
    settings = settings or Settings()
    configure_logging()
    metrics = Metrics()
    live = Live(settings.offices_file)
    pipeline = application(
        settings, names, on_entry=metrics.on_entry, on_error=metrics.on_error, live=live, metrics=metrics
    )

    def reload_registry() -> None:
        problem = live.reload()
        if problem:
            metrics.log.warning("registry", message=problem)
        else:
            metrics.log.info("registry", message=f"reloaded {len(live().offices)} offices")

    @pipeline.app.on_startup
    async def serve_metrics_and_reloads() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload_registry)
        if settings.metrics_port:
            states = states_key(settings.key_prefix) if "notifier" in names else None
            watched = (settings.submissions_stream, settings.verdicts_stream, settings.notices_stream)
            collector = StreamCollector(settings.redis_url, pipeline.consumers, states, watched)
            serve_http(metrics, collector, settings.metrics_port, settings.metrics_host)

    return pipeline


def parser() -> FastStream:
    return served(("parser",)).app


def validator() -> FastStream:
    return served(("validator",)).app


def notifier() -> FastStream:
    return served(("notifier",)).app


def all() -> FastStream:
    return served(SERVICES).app
