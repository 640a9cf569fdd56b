"""The dead-letter stream for operators: list, show and replay (``intake dead``).

A replay puts the original entry back on the stream it came from (a new entry id; the consumers
handle it as new) and deletes the dead letter. For a notice, replaying is the operator's decision
to send again: the notice record goes back from ``failed`` or ``needs_review`` to ``pending``, and
the dedupe keys of its failure events are dropped, so that a second failure is reported again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import redis

from contracts.events import DeadLetter
from services.notifier.service import notice_id
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
    seen = f"{settings.key_prefix}:seen"
    if event.get("type") == "NoticeRequested":
        nid, channel = event["notice_id"], event["channel"]
        record = f"{settings.key_prefix}:notice:{nid}:{channel}"
        states = f"{settings.key_prefix}:notice-states"
        for old in ("failed", "needs_review"):  # the operator's call: send again
            pipe.eval(_RESET, 2, record, states, old)
        pipe.delete(f"{seen}:{settings.dead_stream}:{nid}:{channel}")
        pipe.delete(f"{seen}:{settings.notices_stream}:failed:{nid}:{channel}")
        # a fresh retry window, counted from the replay
        original["event"] = json.dumps({**event, "occurred_at": dt.datetime.now(dt.UTC).isoformat()})
    elif event.get("type") == "ReportJudged":  # a notice that had no channel (e.g. an unknown office)
        nid = notice_id(event["submission_id"], event["event_id"])
        pipe.delete(f"{seen}:{settings.dead_stream}:{nid}")
        pipe.delete(f"{seen}:{settings.notices_stream}:failed:{nid}:none")
    pipe.xadd(letter.letter.stream, original)  # type: ignore[arg-type]
    pipe.xdel(settings.dead_stream, letter.entry_id)
    replies = pipe.execute()
    return str(replies[-2])


# KEYS: record, states. ARGV: the state to leave. Back to pending, counted in the states hash.
_RESET = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'pending', 'error', '')
redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
redis.call('HINCRBY', KEYS[2], 'pending', 1)
return 1
"""
