"""The validator service: a parsed report in, a verdict out; accepted figures kept for next year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

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
    forward = {c: cell.value for c, cell in t3.get("carried_forward", {}).items() if isinstance(cell.value, int)}
    in_force = {}
    if report.table_templates.t2 == "2021":
        for row in ("rules", "normative_docs"):
            cell = t2.get(row, {}).get("in_force")
            if cell is not None and isinstance(cell.value, int):
                in_force[row] = cell.value
    return PreviousFigures(year=year, carried_forward=forward, in_force=in_force)


def make_handler(
    client: aioredis.Redis, settings: Settings, registry: Callable[[], Registry], now: Callable[[], dt.datetime]
) -> Callable[[ReportParsed], Awaitable[Result]]:
    async def handle(ev: ReportParsed) -> Result:
        year = ev.report.year or ev.declared_year
        previous = None
        if year is not None:
            raw = await client.get(figures_key(settings, ev.office_id, year - 1))
            previous = PreviousFigures.model_validate_json(raw) if raw else None
        office = registry().get(ev.office_id)
        ctx = Context(office=office, year=ev.declared_year, now=now().date(), previous=previous)
        verdict = validate(ev.report, ctx)
        judged = ReportJudged(
            event_id=event_id("judged", ev.submission_id, ev.event_id),
            submission_id=ev.submission_id,
            office_id=ev.office_id,
            occurred_at=now(),
            producer="validator",
            declared_year=ev.declared_year,
            file_name=ev.file_name,
            submitted_at=ev.submitted_at,
            verdict=verdict,
            report_year=ev.report.year,
        )
        result = Result(outputs=[Output(settings.verdicts_stream, judged, judged.event_id)])
        if verdict.status == "accepted" and year is not None:
            result.sets[figures_key(settings, ev.office_id, year)] = figures_of(ev.report, year).model_dump_json()
        return result

    return handle
