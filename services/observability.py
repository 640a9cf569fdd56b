"""Metrics, health endpoints and the one log line per handled entry, for every service.

Metric names follow ``intake_<noun>_total`` / ``intake_<noun>_duration_seconds``; labels are of
low cardinality (service, stream, group, outcome, status, rule), never a submission id. The
delivery counters are read from the live consumers at scrape time, and the stream gauges (lag,
pending, age of the oldest pending entry) from XINFO/XPENDING, so a scrape always tells the
truth about Redis rather than what a service last remembered.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TextIO

import redis
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from services.delivery import Consumer

try:
    VERSION = version("intake")
except PackageNotFoundError:  # pragma: no cover - running from a checkout without install
    VERSION = "0"


def configure_logging(json_lines: bool | None = None, file: TextIO | None = None) -> None:
    """structlog once per process: ISO timestamps, context vars merged, JSON when not a tty.

    ``file``: where the log lines go (standard error by default).
    """
    file = file or sys.stderr
    json_lines = not file.isatty() if json_lines is None else json_lines
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(ensure_ascii=False) if json_lines else structlog.dev.ConsoleRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=file),
        cache_logger_on_first_use=True,
    )


class Metrics:
    """The metrics of one process (one or all three services)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, process_resident_memory_bytes, …
        self.entries = Counter(
            "intake_entries_total",
            "Entries handled, by service and outcome",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "intake_handle_duration_seconds",
            "Time to handle one entry",
            ["service"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
            registry=self.registry,
        )
        self.verdicts = Counter("intake_verdicts_total", "Verdicts by status", ["status"], registry=self.registry)
        self.findings = Counter(
            "intake_findings_total", "Findings by rule", ["rule", "severity"], registry=self.registry
        )
        self.unreadable = Counter(
            "intake_unreadable_total",
            "Uploads that could not be read at all (DOC-UNREADABLE), by reason (converter_missing: legacy Word"
            " and no LibreOffice installed)",
            ["reason"],
            registry=self.registry,
        )
        self.notices = Counter(
            "intake_notices_total",
            "Notices by channel and outcome (sent, retry, failed, needs_review, unknown_office, no_channel)",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.notice_attempts = Counter(
            "intake_notice_attempts_total",
            "Attempts to deliver a notice, by channel and result (ok, transient, permanent)",
            ["channel", "result"],
            registry=self.registry,
        )
        self.notice_latency = Histogram(
            "intake_notice_delivery_seconds",
            "From the notice being requested to its delivery",
            ["channel"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600),
            registry=self.registry,
        )
        self.verdict_latency = Histogram(
            "intake_verdict_latency_seconds",
            "From the portal's submission to its verdict reaching the notifier",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
            registry=self.registry,
        )
        self.log = structlog.get_logger("intake")
        self._children: dict[tuple[object, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, remembered: prometheus-client looks the labels up under a
        lock on every call, and the label sets here are few (services, outcomes, rules)."""
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # The notifier's hooks (services.notifier.service.NoticeMetrics).
    def notice(self, channel: str, outcome: str) -> None:
        self.notices.labels(channel, outcome).inc()

    def attempt(self, channel: str, result: str) -> None:
        self.notice_attempts.labels(channel, result).inc()

    def delivered(self, channel: str, seconds: float) -> None:
        self.notice_latency.labels(channel).observe(seconds)

    def on_error(self, service: str, message: str) -> None:
        self.log.warning("trouble", service=service, message=message)

    def on_entry(self, service: str, outcome: str, seconds: float, event: Any) -> None:
        """One handled entry: count it, time it, and write its one log line."""
        self._child(self.entries, service, outcome).inc()
        self._child(self.duration, service).observe(seconds)
        verdict = getattr(event, "verdict", None) if getattr(event, "type", None) == "ReportJudged" else None
        if verdict is not None and outcome == "handled":
            self._child(self.verdicts, verdict.status).inc()
            self.verdict_latency.observe(max(0.0, time.time() - event.submitted_at.timestamp()))
            for f in verdict.findings:
                self._child(self.findings, f.rule, f.severity).inc()
                if f.rule == "DOC-UNREADABLE":
                    self._child(self.unreadable, str(f.actual or "unknown")).inc()
        self.log.info(
            "entry",
            service=service,
            outcome=outcome,
            ms=round(seconds * 1000, 2),
            submission_id=getattr(event, "submission_id", None),
            office_id=getattr(event, "office_id", None),
            event_id=getattr(event, "event_id", None),
        )


class StreamCollector(Collector):
    """Delivery counters from the consumers, and lag / pending / oldest-pending age from Redis."""

    def __init__(
        self,
        redis_url: str,
        consumers: Sequence[Consumer[Any]],
        notice_states_key: str | None = None,
        extra_streams: Sequence[str] = (),
    ) -> None:
        self.client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2)
        self.workers = [(c.service, c) for c in consumers]
        self.notice_states_key = notice_states_key  # the notifier's records by state, when it runs here
        # every stream the consumers read, and the ones operators watch besides (verdicts, notices, dead)
        self.streams = sorted(
            {c.s.stream for c in consumers} | {c.s.dead_stream for c in consumers} | set(extra_streams)
        )
        self.ready = False

    def collect(self) -> Iterator[Any]:
        families = {
            name: CounterMetricFamily(f"intake_{name}", help_, labels=["service"])
            for name, help_ in (
                ("published", "Outputs published"),
                ("deduplicated", "Outputs dropped as duplicates"),
                ("reclaimed", "Entries reclaimed from idle consumers"),
                ("dead_lettered", "Entries moved to the dead-letter stream"),
            )
        }
        totals: dict[str, dict[str, int]] = {}  # a service may run several consumers (the notifier does)
        for service, w in self.workers:
            t = totals.setdefault(service, dict.fromkeys(families, 0))
            t["published"] += w.counts.published
            t["deduplicated"] += w.counts.deduplicated
            t["reclaimed"] += w.counts.reclaimed
            t["dead_lettered"] += w.counts.dead
        for service, t in totals.items():
            for name, value in t.items():
                families[name].add_metric([service], value)
        yield from families.values()
        lag = GaugeMetricFamily(
            "intake_stream_lag", "Entries not yet delivered to the group", labels=["stream", "group"]
        )
        pending = GaugeMetricFamily("intake_stream_pending", "Entries delivered, not acked", labels=["stream", "group"])
        age = GaugeMetricFamily(
            "intake_stream_oldest_pending_age_seconds", "Age of the oldest pending entry", labels=["stream", "group"]
        )
        up = GaugeMetricFamily("intake_redis_up", "Whether Redis answered the last scrape")
        added = CounterMetricFamily(
            "intake_stream_entries_added", "Entries ever added to a stream (XINFO STREAM)", labels=["stream"]
        )
        used = GaugeMetricFamily("intake_redis_used_memory_bytes", "Redis used_memory")
        limit = GaugeMetricFamily("intake_redis_maxmemory_bytes", "Redis maxmemory (0: no limit)")
        records = GaugeMetricFamily(
            "intake_notice_records",
            "Notice records by state (final states: since the records were kept)",
            labels=["state"],
        )
        try:
            for _service, w in self.workers:
                stream, group = w.s.stream, w.s.group
                info = next((g for g in self.client.xinfo_groups(stream) if g["name"] == group), None)
                if info is None:
                    continue
                lag.add_metric([stream, group], float(info.get("lag") or 0))
                pending.add_metric([stream, group], float(info.get("pending") or 0))
                summary: Any = self.client.xpending(stream, group)
                oldest = summary.get("min") if summary else None
                seconds = max(0.0, time.time() - int(str(oldest).split("-")[0]) / 1000) if oldest else 0.0
                age.add_metric([stream, group], seconds)
            for stream in self.streams:
                try:
                    described: Any = self.client.xinfo_stream(stream)
                except redis.ResponseError:  # no such stream yet
                    continue
                added.add_metric([stream], float(described.get("entries-added", described.get("length", 0))))
            memory: Any = self.client.info("memory")
            used.add_metric([], float(memory.get("used_memory", 0)))
            limit.add_metric([], float(memory.get("maxmemory", 0)))
            if self.notice_states_key:
                states = self.client.hgetall(self.notice_states_key)
                for state in ("pending", "sending", "sent", "failed", "needs_review"):
                    records.add_metric([state], float(states.get(state, 0)))
            up.add_metric([], 1)
            self.ready = True
        except redis.RedisError:
            up.add_metric([], 0)
            self.ready = False
        yield from (lag, pending, age, up, added, used, limit)
        if self.notice_states_key:
            yield records
        info_family = InfoMetricFamily("intake_build", "Build information")
        info_family.add_metric([], {"version": VERSION, "python": sys.version.split()[0]})
        yield info_family


def serve_http(metrics: Metrics, collector: StreamCollector, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """/metrics, /healthz (the process answers) and /readyz (Redis answers) on ``port``."""
    metrics.registry.register(collector)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, status, kind = generate_latest(metrics.registry), 200, "text/plain; version=0.0.4"
            elif self.path == "/healthz":
                body, status, kind = b"ok\n", 200, "text/plain"
            elif self.path == "/readyz":
                try:
                    collector.client.ping()
                    body, status = b"ready\n", 200
                except redis.RedisError:
                    body, status = b"redis unreachable\n", 503
                kind = "text/plain"
            else:
                body, status, kind = b"not found\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server
