"""Notice records in Redis: one per notice and channel, moving pending → sending → sent | failed.

The record is what makes a notice go out once. Every change of state is one Lua script, so two
workers never both move a record from ``pending`` to ``sending``; a record found in ``sending``
long after its attempt began was interrupted by a crash between sending and recording, and its
channel decides what happens next (an email is never sent twice: the record goes to
``needs_review``). A hash beside the records counts them by state, for the metrics.

Keys (``prefix`` is ``INTAKE_KEY_PREFIX``):

- ``{prefix}:notice:{notice_id}:{channel}``: the record (a hash);
- ``{prefix}:notices:{submission_id}``: the set of a submission's record keys;
- ``{prefix}:notice-states``: state → how many records are in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis

State = Literal["pending", "sending", "sent", "failed", "needs_review"]
STATES: tuple[State, ...] = ("pending", "sending", "sent", "failed", "needs_review")
FINAL = frozenset({"sent", "failed", "needs_review"})

# KEYS: record, states, index. ARGV: ttl, then field/value pairs. Creates the record as pending
# unless it exists. Returns 1 when created.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'pending', 'attempts', 0, unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], 'pending', 1)
redis.call('SADD', KEYS[3], KEYS[1])
redis.call('EXPIRE', KEYS[3], ARGV[1])
return 1
"""

# KEYS: record, states. ARGV: now (epoch s), stale after (s). Takes a record for one attempt.
# Returns {verdict, state, attempts}: 'go' (pending → sending), 'busy' (another attempt is under
# way), 'interrupted' (sending for longer than stale: a crash), or 'done' (a final state).
_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing', '', 0} end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if state == 'pending' then
  attempts = attempts + 1
  redis.call('HSET', KEYS[1], 'state', 'sending', 'since', ARGV[1], 'attempts', attempts, 'updated_at', ARGV[1])
  redis.call('HINCRBY', KEYS[2], 'pending', -1)
  redis.call('HINCRBY', KEYS[2], 'sending', 1)
  return {'go', 'sending', attempts}
end
if state == 'sending' then
  local since = tonumber(redis.call('HGET', KEYS[1], 'since') or '0')
  if tonumber(ARGV[1]) - since < tonumber(ARGV[2]) then return {'busy', state, attempts} end
  return {'interrupted', state, attempts}
end
return {'done', state, attempts}
"""

# KEYS: record, states. ARGV: from, to, now, then field/value pairs. Moves the record when it is in
# state ``from``; returns 1 when moved. Going to 'sending' again counts one more attempt. Public:
# ``intake dead replay`` runs it too, on its own client.
MOVE = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updated_at', ARGV[3], unpack(ARGV, 4))
if ARGV[2] == 'sending' then
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  redis.call('HSET', KEYS[1], 'since', ARGV[3])
end
if ARGV[1] ~= ARGV[2] then
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
end
return 1
"""


def record_key(prefix: str, notice_id: str, channel: str) -> str:
    return f"{prefix}:notice:{notice_id}:{channel}"


def states_key(prefix: str) -> str:
    return f"{prefix}:notice-states"


@dataclass(frozen=True, slots=True)
class Claim:
    verdict: Literal["go", "busy", "interrupted", "done", "missing"]
    state: str
    attempts: int


class Records:
    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int) -> None:
        self.r = client
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.states_key = states_key(prefix)
        self._create = client.register_script(_CREATE)
        self._claim = client.register_script(_CLAIM)
        self._move = client.register_script(MOVE)

    async def load(self) -> None:
        """Load the scripts up front (fakeredis, the demo's broker, drops a connection on NOSCRIPT)."""
        for script in (self._create, self._claim, self._move):
            await self.r.script_load(script.script)

    def key(self, notice_id: str, channel: str) -> str:
        return record_key(self.prefix, notice_id, channel)

    def index(self, submission_id: str) -> str:
        return f"{self.prefix}:notices:{submission_id}"

    def create_call(
        self, notice_id: str, channel: str, submission_id: str, office_id: str, created_at: dt.datetime
    ) -> tuple[Any, list[str], list[Any]]:
        """Create the record as pending unless it exists: a (script, keys, args) to run in a commit."""
        fields = {
            "notice_id": notice_id,
            "channel": channel,
            "submission_id": submission_id,
            "office_id": office_id,
            "created_at": f"{created_at.timestamp():.3f}",
        }
        keys = [self.key(notice_id, channel), self.states_key, self.index(submission_id)]
        return self._create, keys, [self.ttl_s, *(x for kv in fields.items() for x in kv)]

    async def create(
        self, notice_id: str, channel: str, submission_id: str, office_id: str, created_at: dt.datetime
    ) -> bool:
        script, keys, args = self.create_call(notice_id, channel, submission_id, office_id, created_at)
        return bool(await script(keys=keys, args=args))

    async def claim(self, notice_id: str, channel: str, now: float, stale_s: float) -> Claim:
        verdict, state, attempts = await self._claim(
            keys=[self.key(notice_id, channel), self.states_key], args=[f"{now:.3f}", stale_s]
        )
        return Claim(_text(verdict), _text(state), int(attempts))  # type: ignore[arg-type]

    def move_call(
        self, notice_id: str, channel: str, old: State, new: State, now: float, **fields: Any
    ) -> tuple[Any, list[str], list[Any]]:
        """Move the record from ``old`` to ``new``: a (script, keys, args) to run in a commit."""
        flat = [x for k, v in fields.items() for x in (k, "" if v is None else str(v))]
        return self._move, [self.key(notice_id, channel), self.states_key], [old, new, f"{now:.3f}", *flat]

    async def move(self, notice_id: str, channel: str, old: State, new: State, now: float, **fields: Any) -> bool:
        script, keys, args = self.move_call(notice_id, channel, old, new, now, **fields)
        return bool(await script(keys=keys, args=args))

    async def get(self, notice_id: str, channel: str) -> dict[str, str]:
        return _texts(await self.r.hgetall(self.key(notice_id, channel)))

    async def of_submission(self, submission_id: str) -> list[dict[str, str]]:
        """Every record of a submission (``intake notices status``), oldest first."""
        keys = sorted(_text(k) for k in await self.r.smembers(self.index(submission_id)))
        records = [_texts(await self.r.hgetall(k)) for k in keys]
        return sorted((r for r in records if r), key=lambda r: (r.get("created_at", ""), r.get("channel", "")))

    async def counts(self) -> dict[str, int]:
        raw = _texts(await self.r.hgetall(self.states_key))
        return {state: int(raw.get(state, 0)) for state in STATES}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _texts(mapping: Any) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in mapping.items()}
