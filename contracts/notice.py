"""The notice an office receives about its submission: subject, plain text and HTML."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from contracts.verdict import Verdict


class SubmissionRef(BaseModel):
    """Which submission a notice refers to (all from the portal's message, none from the document)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    submission_id: str
    office_id: str | None = None
    file_name: str | None = None
    declared_year: int | None = None
    submitted_at: dt.datetime | None = None


class Notice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    kind: Literal["rejection", "acceptance"]
    submission: SubmissionRef
    subject: str  # built only from the registry and the submission, never from the document
    text: str
    html: str


class WebhookBody(BaseModel):
    """What the portal's webhook receives (signed per Standard Webhooks; see docs/notices.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    type: Literal["intake.notice"] = "intake.notice"
    notice_id: str
    submission_id: str
    office_id: str
    verdict: Verdict
    notice: Notice
