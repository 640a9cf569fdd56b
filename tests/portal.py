"""A submission as a portal publishes it with a plain XADD (docs/wire.md), for tests and bench/."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from contracts.events import ReportJudged, event_id
from contracts.verdict import Office
from services.parser import parse
from services.validator import validate
from services.validator.model import Context

AT = "2021-01-20T08:00:00Z"


def portal_event(submission_id: str, data: bytes, office: str, at: str = AT, **extra: Any) -> dict[str, str]:
    """The stream entry (one field, ``event``) for one upload, written by hand as JSON."""
    event = {
        "schema_version": 1,
        "type": "SubmissionReceived",
        "event_id": submission_id,
        "submission_id": submission_id,
        "office_id": office,
        "occurred_at": at,
        "producer": "portal",
        "file_name": "r.txt",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "content_b64": base64.b64encode(data).decode(),
        "submitted_at": at,
        **extra,
    }
    return {"event": json.dumps(event)}


def judged_event(
    seed: Path, office_id: str, submission_id: str, office: Office | None = None, now: dt.date = dt.date(2021, 1, 20)
) -> ReportJudged:
    """The verdict the validator would publish for ``seed``, built with the pure cores."""
    report = parse(seed.read_bytes(), seed.name)
    verdict = validate(report, Context(office=office, now=now))
    at = dt.datetime(2021, 1, 20, 8, tzinfo=dt.UTC)
    return ReportJudged(
        event_id=event_id("judged", submission_id, seed.name),
        submission_id=submission_id,
        office_id=office_id,
        occurred_at=at,
        producer="validator",
        file_name=seed.name,
        submitted_at=at,
        verdict=verdict,
        report_year=report.year,
    )
