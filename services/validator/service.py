"""The validator service: a parsed report in, a verdict out; accepted figures kept for next year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis

from contracts.events import ReportJudged, ReportParsed, event_id
from contracts.report import ParsedReport
from contracts.verdict import PreviousFigures
from services.delivery import Output, Result
from services.registry import Registry
from services.streams import Settings
from services.validator.core import validate
from services.validator.model import Context


def figures_key(settings: Settings, office_id: str, year: int) -> str:
    return f"{settings.key_prefix}:figures:{office_id}:{year}"


def figures_of(report: ParsedReport, year: int) -> PreviousFigures:
    """What next year's cross-year rules need from an accepted report."""
    t3 = report.tables.t3 or {}
    t2 = report.tables.t2 or {}
    forward = {}
    for c, forwarded in t3.get("carried_forward", {}).items():
        if isinstance(value := forwarded["value"], int):
            forward[c] = value
    in_force = {}
    if report.table_templates.t2 == "2021":
        for row in ("rules", "normative_docs"):
            cell = t2.get(row, {}).get("in_force")
            if cell is not None and isinstance(value := cell["value"], int):
                in_force[row] = value
    return PreviousFigures(year=year, carried_forward=forward, in_force=in_force)


def report_year(ev: ReportParsed) -> int | None:
    """The year a report is filed under: the one it states, else the one declared with it."""
    return ev.report.year or ev.declared_year


class Validator:
    """Handles parsed reports; ``prepare`` reads a batch's previous-year figures in one MGET."""

    def __init__(
        self,
        client: aioredis.Redis,
        settings: Settings,
        registry: Callable[[], Registry],
        now: Callable[[], dt.datetime],
    ) -> None:
        self.client = client
        self.settings = settings
        self.registry = registry
        self.now = now
        self._figures: dict[str, str | None] = {}  # figures key -> JSON, read for the current batch

    def _previous_key(self, ev: ReportParsed) -> str | None:
        year = report_year(ev)
        return None if year is None else figures_key(self.settings, ev.office_id, year - 1)

    async def prepare(self, events: Sequence[ReportParsed]) -> None:
        self._figures = {}
        keys = sorted({k for ev in events if (k := self._previous_key(ev)) is not None})
        values: Any = await self.client.mget(keys) if keys else []
        self._figures = dict(zip(keys, values, strict=True))

    async def handle(self, ev: ReportParsed) -> Result:
        year = report_year(ev)
        previous = None
        key = self._previous_key(ev)
        if key is not None:
            raw = self._figures[key] if key in self._figures else await self.client.get(key)
            previous = PreviousFigures.model_validate_json(raw) if raw else None
        office = self.registry().get(ev.office_id)
        now = self.now()
        ctx = Context(office=office, year=ev.declared_year, now=now.date(), previous=previous)
        verdict = validate(ev.report, ctx)
        judged = ReportJudged(
            event_id=event_id("judged", ev.submission_id, ev.event_id),
            submission_id=ev.submission_id,
            office_id=ev.office_id,
            occurred_at=now,
            producer="validator",
            declared_year=ev.declared_year,
            file_name=ev.file_name,
            submitted_at=ev.submitted_at,
            verdict=verdict,
            report_year=ev.report.year,
        )
        result = Result(outputs=[Output(self.settings.verdicts_stream, judged, judged.event_id)])
        # an office the registry does not know keeps no figures (its id is the portal's word only); the
        # notifier sends its verdict to the dead letters for an operator
        if verdict.status == "accepted" and year is not None and office is not None:
            result.sets[figures_key(self.settings, ev.office_id, year)] = figures_of(ev.report, year).model_dump_json()
        return result
