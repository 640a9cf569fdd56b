"""The parser service: a submission in, a parsed report (or an unreadable verdict) out."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from contracts.events import ReportJudged, ReportParsed, SubmissionReceived, event_id
from services.delivery import Output, Result
from services.parser.core import parse
from services.parser.errors import Reason, UnreadableUpload
from services.parser.limits import Limits
from services.parser.sandbox import SandboxLimits, SandboxPool
from services.streams import Settings
from services.validator.core import unreadable

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Word's container


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_bytes=settings.max_upload_bytes,
        soffice=settings.soffice,
        convert_seconds=settings.convert_seconds,
        ocr_seconds=settings.ocr_seconds,
    )


def sandbox_of(settings: Settings) -> SandboxPool | None:
    """The child processes uploads are read in (each started at its first upload), unless turned off."""
    if not settings.parse_sandbox:
        return None
    box = SandboxLimits(settings.parse_memory_mb, settings.ocr_memory_mb)
    return SandboxPool(limits_of(settings), box, settings.parse_workers)


def make_handler(
    raw: aioredis.Redis, settings: Settings, now: Callable[[], dt.datetime], sandbox: SandboxPool | None = None
) -> Callable[[SubmissionReceived], Awaitable[Result]]:
    """``raw`` is a client that does not decode responses (claim-check keys hold bytes). Uploads
    are read in ``sandbox`` where one is given, else in this process."""
    limits = limits_of(settings)

    async def handle(sub: SubmissionReceived) -> Result:
        result = Result()
        if sub.content_key is not None:
            data: bytes | None = await raw.get(sub.content_key)  # type: ignore[assignment]
            result.delete.append(sub.content_key)
            if data is None:
                data = b""  # expired or never written: judged unreadable (empty) below
        else:
            try:
                data = base64.b64decode(sub.content_b64 or "", validate=True)
            except (binascii.Error, ValueError):
                data = None  # answered below: the upload cannot be read
        common = {
            "submission_id": sub.submission_id,
            "office_id": sub.office_id,
            "producer": "parser",
            "declared_year": sub.declared_year,
            "file_name": sub.file_name,
            "submitted_at": sub.submitted_at,
        }
        try:
            if data is None:
                raise UnreadableUpload(Reason.CORRUPT, "the upload's base64 encoding is invalid")
            if hashlib.sha256(data).hexdigest() != sub.sha256:
                raise UnreadableUpload(Reason.CORRUPT, "the upload's sha256 does not match the submission")
            if sandbox is not None:  # the event loop goes on serving metrics and Redis meanwhile
                report = await asyncio.to_thread(sandbox.parse, data, sub.file_name, sub.media_type)
            elif data.startswith((_OLE2, b"\x89PNG", b"\xff\xd8\xff")) or b"%PDF-" in data[:1024]:
                # seconds of work (a PDF's pages, OCR of a scan, LibreOffice converting legacy Word): off the event
                # loop, which goes on serving metrics and its Redis connection meanwhile
                report = await asyncio.to_thread(parse, data, sub.file_name, sub.media_type, limits)
            else:
                report = parse(data, sub.file_name, sub.media_type, limits)
        except UnreadableUpload as exc:
            verdict = unreadable(exc.reason, exc.detail, now())
            judged = ReportJudged(
                event_id=event_id("judged", sub.submission_id, sub.sha256), occurred_at=now(), verdict=verdict, **common
            )
            result.outputs.append(Output(settings.verdicts_stream, judged, judged.event_id))
            return result
        parsed = ReportParsed(
            event_id=event_id("parsed", sub.submission_id, sub.sha256), occurred_at=now(), report=report, **common
        )
        result.outputs.append(Output(settings.parsed_stream, parsed, parsed.event_id))
        return result

    return handle
