"""The events on the Redis streams (../shared/spec/interfaces.md), one envelope for all.

Every entry on a stream has one field, ``event``, holding the event as JSON. A portal in any
language publishes a submission with a plain ``XADD intake:submissions * event <json>`` (see
docs/wire.md). Event ids are derived from the submission id and a content hash, so that a
redelivered entry yields the same event id and a duplicate is dropped downstream.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.notice import Notice
from contracts.report import ParsedReport
from contracts.verdict import Verdict

Producer = Literal["portal", "parser", "validator", "notifier", "cli"]

# What comes over the wire is bounded before anything is done with it: ids are what portals use
# (UUIDs, database keys, office codes) and end up in Redis keys, file names and notice headers,
# so a publisher cannot make a megabyte key, a path (no "/") or a header line of one.
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")]
# a file name as the office's software named it (Chinese, spaces, even a browser's whole path):
# shown and its extension read, never used as a path; no control characters
FileName = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,255}$")]
MediaType = Annotated[str, StringConstraints(pattern=r"^[!-~][ -~]{0,254}$")]  # a Content-Type, parameters too


def event_id(kind: str, submission_id: str, content: str | bytes) -> str:
    """A stable id: the same submission and content always give the same id."""
    data = content.encode() if isinstance(content, str) else content
    return f"{kind}:{submission_id}:{hashlib.sha256(data).hexdigest()[:16]}"


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    event_id: EventId
    submission_id: Id
    office_id: Id
    occurred_at: dt.datetime
    producer: Producer


class _Submitted(Envelope):
    """What every event about a submission repeats from it."""

    declared_year: Annotated[int, Field(ge=1000, le=9999)] | None = None
    file_name: FileName
    submitted_at: dt.datetime


class SubmissionReceived(_Submitted):
    """An upload, as the portal publishes it: the bytes inline (base64) or a Redis key holding them."""

    type: Literal["SubmissionReceived"] = "SubmissionReceived"
    media_type: MediaType | None = None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
    size: Annotated[int, Field(ge=0)]
    content_b64: str | None = None
    content_key: Annotated[str, StringConstraints(pattern=r"^[!-~]{1,256}$")] | None = None  # claim check: a Redis key

    @model_validator(mode="after")
    def _one_source(self) -> SubmissionReceived:
        if (self.content_b64 is None) == (self.content_key is None):
            raise ValueError("exactly one of content_b64 and content_key must be given")
        return self


class ReportParsed(_Submitted):
    type: Literal["ReportParsed"] = "ReportParsed"
    report: ParsedReport


class ReportJudged(_Submitted):
    type: Literal["ReportJudged"] = "ReportJudged"
    verdict: Verdict
    report_year: int | None = None  # the year the document states (the report itself is on intake:parsed)


Channel = Literal["email", "webhook", "outbox"]


class NoticeRequested(_Submitted):
    """A notice to send on one channel: from the notifier's verdict consumer to that channel's sender.

    It names no recipient: the sender looks the address or URL up in the office registry by
    ``office_id`` when it sends, so nothing in a message can redirect a notice.
    """

    type: Literal["NoticeRequested"] = "NoticeRequested"
    notice_id: str
    channel: Channel
    notice: Notice
    verdict: Verdict | None = None  # for the webhook channel, whose body carries it


class NoticeDelivered(Envelope):
    type: Literal["NoticeDelivered"] = "NoticeDelivered"
    notice_id: str | None = None
    channel: Channel
    attempt: int = 1
    destination: str
    notice: Notice


class NoticeFailed(Envelope):
    """A notice that will not be (or may not have been) delivered; an operator looks at it."""

    type: Literal["NoticeFailed"] = "NoticeFailed"
    notice_id: str | None = None
    channel: Literal["outbox", "email", "webhook", "none"]
    attempt: int = 1
    state: Literal["failed", "needs_review"] = "failed"
    error: str


Event = Annotated[
    SubmissionReceived | ReportParsed | ReportJudged | NoticeRequested | NoticeDelivered | NoticeFailed,
    Field(discriminator="type"),
]


class DeadLetter(BaseModel):
    """An entry that could not be handled: the original, the error and how often it was delivered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    stream: str
    entry_id: str
    group: str
    consumer: str
    deliveries: int
    error: str
    original: dict[str, str]
    dead_at: dt.datetime
