"""The services as FastStream applications, as ``intake serve`` runs them and for FastStream's own tools.

    intake serve parser                                  # likewise validator, notifier, all
    faststream run services.app:parser --factory         # the same application
    faststream docs gen services.app:all --factory       # its AsyncAPI document (docs/asyncapi.json)

Settings come from the environment (``INTAKE_*``, docs/operations.md). Besides its routers, a
served application writes structlog lines, serves its metrics on ``INTAKE_METRICS_PORT`` (0: none)
and reloads the office registry on SIGHUP.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from faststream import FastStream

from services.notifier.records import states_key
from services.observability import Metrics, StreamCollector, configure_logging, serve_http
from services.registry import Live
from services.runtime import SERVICES, Pipeline, application
from services.streams import Settings


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
