"""A submission as a portal publishes it with a plain XADD (docs/wire.md), for tests and bench/."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

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
