"""The dead-letter stream for operators: list, show and replay (``intake dead``).

A replay puts the original entry back on the stream it came from (a new entry id; the consumers
handle it as new) and deletes the dead letter. For a notice, replaying is the operator's decision
to send again: the notice record goes back from ``failed`` or ``needs_review`` to ``pending``, and
the dedupe keys of its failure events are dropped, so that a second failure is reported again.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from contracts.events import DeadLetter
from services.delivery import seen_key
from services.notifier.records import MOVE, record_key, states_key
from services.notifier.service import failure_ids, notice_id
from services.streams import Settings


@dataclass(frozen=True, slots=True)
class Letter:
    entry_id: str  # on the dead-letter stream
    letter: DeadLetter

    @property
    def event(self) -> dict[str, Any] | None:
        """The original event, when it was JSON."""
        try:
            value = json.loads(self.letter.original.get("event", ""))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def _letter(entry_id: str, fields: dict[str, str]) -> Letter:
    return Letter(entry_id, DeadLetter.model_validate_json(fields["event"]))


def listing(client: redis.Redis, settings: Settings, limit: int = 50) -> list[Letter]:
    """The newest dead letters first."""
    entries: Any = client.xrevrange(settings.dead_stream, count=limit)
    return [_letter(eid, fields) for eid, fields in entries]


def get(client: redis.Redis, settings: Settings, entry_id: str) -> Letter | None:
    entries: Any = client.xrange(settings.dead_stream, min=entry_id, max=entry_id)
    return _letter(*entries[0]) if entries else None


def replay(client: redis.Redis, settings: Settings, letter: Letter) -> str:
    """Put the original back on its stream; returns the new entry id there."""
    event = letter.event or {}
    original = dict(letter.letter.original)
    pipe = client.pipeline(transaction=True)
    if event.get("type") == "NoticeRequested":  # a notice that failed or needs review on its channel
        nid, channel = event["notice_id"], event["channel"]
        keys = (record_key(settings.key_prefix, nid, channel), states_key(settings.key_prefix))
        now = f"{time.time():.3f}"
        for old in ("failed", "needs_review"):  # the operator's call: send again
            pipe.eval(MOVE, 2, *keys, old, "pending", now, "error", "")
        # a fresh retry window, counted from the replay
        original["event"] = json.dumps({**event, "occurred_at": dt.datetime.now(dt.UTC).isoformat()})
    elif event.get("type") == "ReportJudged":  # a notice that had no channel (e.g. an unknown office)
        nid, channel = notice_id(event["submission_id"], event["event_id"]), "none"
    else:
        nid = channel = ""
    if nid:  # so that a second failure is reported again
        dead_id, failed_id = failure_ids(nid, channel)
        pipe.delete(seen_key(settings.seen_prefix, settings.dead_stream, dead_id))
        pipe.delete(seen_key(settings.seen_prefix, settings.notices_stream, failed_id))
    pipe.xadd(letter.letter.stream, original)  # type: ignore[arg-type]
    pipe.xdel(settings.dead_stream, letter.entry_id)
    replies = pipe.execute()
    return str(replies[-2])
