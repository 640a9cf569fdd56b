"""The notifier service: a verdict in; for a rejection, the notice rendered and delivered.

In this issue notices go to an outbox directory (one folder per office); SMTP and webhooks come
next. Recipients come only from the registry entry of the submission's office id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from contracts.events import NoticeDelivered, ReportJudged, event_id
from contracts.notice import SubmissionRef
from services.delivery import Output, Result, Undeliverable
from services.notifier.notice import render_notice
from services.registry import Registry
from services.streams import Settings


def make_handler(
    settings: Settings, registry: Callable[[], Registry], now: Callable[[], dt.datetime]
) -> Callable[[ReportJudged], Awaitable[Result]]:
    outbox = Path(settings.outbox_dir)

    async def handle(ev: ReportJudged) -> Result:
        if ev.verdict.status != "rejected":
            return Result()
        office = registry().get(ev.office_id)
        if office is None:
            raise Undeliverable(f"office id {ev.office_id!r} is not in the office registry: no channel to send to")
        ref = SubmissionRef(
            submission_id=ev.submission_id,
            office_id=ev.office_id,
            file_name=ev.file_name,
            declared_year=ev.declared_year or ev.report_year,
            submitted_at=ev.submitted_at,
        )
        notice = render_notice(ev.verdict, None, office, ref, now().date())
        folder = outbox / office.id
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / ev.submission_id.replace("/", "_")
        stem.with_suffix(".txt").write_text(f"Subject: {notice.subject}\n\n{notice.text}", encoding="utf-8")
        stem.with_suffix(".html").write_text(notice.html, encoding="utf-8")
        stem.with_suffix(".json").write_text(
            json.dumps(notice.model_dump(mode="json"), ensure_ascii=False), encoding="utf-8"
        )
        delivered = NoticeDelivered(
            event_id=event_id("notice", ev.submission_id, ev.event_id),
            submission_id=ev.submission_id,
            office_id=ev.office_id,
            occurred_at=now(),
            producer="notifier",
            channel="outbox",
            destination=str(stem.with_suffix(".txt")),
            notice=notice,
        )
        return Result(outputs=[Output(settings.notices_stream, delivered, delivered.event_id)])

    return handle
