"""Delivery we own, shared by the three services: consumer groups, batches, reclaim, dead letters.

FastStream's Redis stream subscriber acks nothing it fails on, never retries or reclaims, keeps
no delivery count and has no dead-letter stream (../shared/style.md §7), so the at-least-once
loop lives here, on redis-py:

- entries are read in bounded batches (``XREADGROUP COUNT``), decoded, optionally prepared
  together (``prepare``: one round trip for what every handler needs), and handled one by one;
- a handled entry's outputs are published and the entry acked in one ``MULTI``: an output is
  never published without its ack, nor acked without its output;
- outputs are deduplicated by event id (``SET NX EX`` in a Lua script beside the ``XADD``), so a
  redelivered entry never makes a second verdict or notice;
- entries idle longer than ``min_idle_ms`` (a dead consumer's) are taken over with
  ``XAUTOCLAIM`` on a timer; their delivery count comes from ``XPENDING``;
- an entry that cannot be decoded goes to the dead-letter stream at once; one whose handler
  fails goes there after ``max_deliveries``; either way with the original, the error and the
  count, and is acked;
- ``stop`` ends the loop between batches: what is in flight is finished and acked, what is left
  stays pending for the next consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contracts.events import DeadLetter

E = TypeVar("E")

# Publish an output unless its event id was published before (the dedupe key expires after a TTL).
_PUBLISH = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('XADD', KEYS[1], '*', 'event', ARGV[1])
  return 1
end
return 0
"""


def seen_key(prefix: str, stream: str, event_id: str) -> str:
    """The dedupe key of an event published to ``stream``: while it exists, the event is not published again."""
    return f"{prefix}:{stream}:{event_id}"


class Undeliverable(Exception):
    """Raised by a handler when an entry can never succeed (e.g. an office not in the registry)."""


@dataclass(frozen=True, slots=True)
class Output:
    stream: str
    event: BaseModel
    event_id: str


@dataclass(slots=True)
class Result:
    """What a handler asks to happen, atomically with the entry's ack."""

    outputs: list[Output] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)  # e.g. a claim-check key, once consumed
    sets: dict[str, str] = field(default_factory=dict)  # e.g. an accepted report's figures
    dead: str | None = None  # handled, but an operator must look: the entry also goes to the dead letters
    dead_key: str | None = None  # dedupe key for that dead letter, so a redelivery writes it once
    scripts: list[tuple[Any, list[str], list[Any]]] = field(default_factory=list)  # (script, keys, args)


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    stream: str
    group: str
    consumer: str
    dead_stream: str = "intake:dead"
    batch: int = 64
    block_ms: int = 500
    linger_ms: int = 5  # after a short read, wait this long for more before handling the batch
    min_idle_ms: int = 15_000
    reclaim_every_s: float = 2.0
    forget_idle_ms: int = 3_600_000  # a consumer with nothing pending, idle this long, is removed from the group
    tick_every_s: float = 0.2  # retries are due on a scale of seconds: no need to look on every read
    max_deliveries: int = 5
    dedupe_ttl_s: int = 7 * 24 * 3600
    seen_prefix: str = "intake:seen"  # dedupe keys: {seen_prefix}:{stream}:{event id}
    concurrency: int = 1  # handlers of one batch running at once (senders waiting on the network)


@dataclass
class Counts:
    """What a worker did, for metrics and tests."""

    handled: int = 0
    failed: int = 0
    dead: int = 0
    reclaimed: int = 0
    deduplicated: int = 0
    published: int = 0
    reconnects: int = 0


class Worker(Generic[E]):
    """One consumer of one stream: decode, handle, publish and ack, reclaim, dead-letter."""

    def __init__(
        self,
        client: aioredis.Redis,
        settings: DeliverySettings,
        decode: Callable[[dict[str, str]], E],
        handle: Callable[[E], Awaitable[Result]],
        on_entry: Callable[[str, float, E | None], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        service: str = "",
        tick: Callable[[], Awaitable[object]] | None = None,
        prepare: Callable[[Sequence[E]], Awaitable[object]] | None = None,
    ) -> None:
        self.service = service
        # Called with a batch's decoded events before they are handled, e.g. to read in one round
        # trip what each handler would otherwise fetch alone. Redis going away there is handled like
        # anywhere else in the loop (the batch stays pending and comes back); any other failure is
        # reported and the handlers run unprepared, so they must be able to fetch alone.
        self.prepare = prepare
        self.on_close: Callable[[], Awaitable[None]] | None = None  # after every worker has stopped
        self.tick = tick  # run between reads, at most every tick_every_s (e.g. moving due retries back)
        self.r = client
        self.s = settings
        self.decode = decode
        self.handle = handle
        self.on_entry = on_entry  # (outcome, seconds, event): metrics and the log line
        self.on_error = on_error
        self.counts = Counts()
        self._publish = client.register_script(_PUBLISH)
        self._last_reclaim = 0.0
        self._last_tick = 0.0
        self._stop: asyncio.Event | None = None

    async def ensure_group(self) -> None:
        try:
            await self.r.xgroup_create(self.s.stream, self.s.group, id="0", mkstream=True)
        except aioredis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: own pending entries first, then new ones, reclaiming on a timer.

        When Redis goes away (a restart, a failover) the worker waits with a growing backoff and
        starts again from its own pending entries: nothing acked is lost, nothing unacked is skipped.
        """
        backoff = 0.1
        self._stop = stop
        while not stop.is_set():
            try:
                await self.ensure_group()
                await self._drain_own_pending(stop)
                await self._loop(stop)
                return
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                self.counts.reconnects += 1
                if self.on_error is not None:
                    self.on_error(f"redis unavailable, retrying in {backoff:.1f} s: {exc}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 5.0)

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if time.monotonic() - self._last_reclaim >= self.s.reclaim_every_s:
                await self.reclaim()
            if self.tick is not None and time.monotonic() - self._last_tick >= self.s.tick_every_s:
                self._last_tick = time.monotonic()
                await self.tick()
            reply: Any = await self.r.xreadgroup(
                self.s.group, self.s.consumer, {self.s.stream: ">"}, count=self.s.batch, block=self.s.block_ms
            )
            entries = reply[0][1] if reply else []
            if entries and len(entries) < self.s.batch and self.s.linger_ms:
                # A trickle: wait a moment for more, so that one round trip and one commit serve many
                # entries (per-entry round trips cost more CPU than the handlers themselves).
                await asyncio.sleep(self.s.linger_ms / 1000)
                more: Any = await self.r.xreadgroup(
                    self.s.group, self.s.consumer, {self.s.stream: ">"}, count=self.s.batch - len(entries)
                )
                entries += more[0][1] if more else []
            if entries:
                await self.process([(eid, fields, 1) for eid, fields in entries])

    async def _drain_own_pending(self, stop: asyncio.Event) -> None:
        """Entries this consumer name was given before a restart and never acked."""
        start = "0"
        while not stop.is_set():
            reply: Any = await self.r.xreadgroup(
                self.s.group, self.s.consumer, {self.s.stream: start}, count=self.s.batch
            )
            entries = reply[0][1] if reply else []
            if not entries:
                return
            counts = await self._deliveries([eid for eid, _ in entries])
            await self.process([(eid, fields, counts.get(eid, 1)) for eid, fields in entries])
            start = entries[-1][0]

    async def reclaim(self) -> int:
        """Take over entries idle longer than ``min_idle_ms`` (their consumer is gone)."""
        self._last_reclaim = time.monotonic()
        claimed_total, cursor = 0, "0-0"
        while True:
            reply: Any = await self.r.xautoclaim(
                self.s.stream, self.s.group, self.s.consumer, self.s.min_idle_ms, start_id=cursor, count=self.s.batch
            )
            cursor, claimed = reply[0], reply[1]
            gone = reply[2] if len(reply) > 2 else []
            if gone:  # trimmed from the stream while pending: nothing to do but ack
                await self.r.xack(self.s.stream, self.s.group, *gone)
            claimed = [(eid, fields) for eid, fields in claimed if fields]
            if claimed:
                counts = await self._deliveries([eid for eid, _ in claimed])
                self.counts.reclaimed += len(claimed)
                claimed_total += len(claimed)
                await self.process([(eid, fields, counts.get(eid, 1)) for eid, fields in claimed])
            if cursor in ("0-0", b"0-0"):
                await self._forget_gone_consumers()
                return claimed_total

    async def _forget_gone_consumers(self) -> None:
        """Remove consumers that hold nothing and have been idle for long (pods of past deploys,
        killed processes whose entries were reclaimed), so the group's list stays what runs."""
        for consumer in await self.r.xinfo_consumers(self.s.stream, self.s.group):
            name = consumer["name"]
            if name != self.s.consumer and consumer["pending"] == 0 and consumer["idle"] >= self.s.forget_idle_ms:
                await self.r.xgroup_delconsumer(self.s.stream, self.s.group, name)

    async def _deliveries(self, ids: Sequence[str]) -> dict[str, int]:
        rows: Any = await self.r.xpending_range(
            self.s.stream, self.s.group, min=ids[0], max=ids[-1], count=len(ids), consumername=self.s.consumer
        )
        return {row["message_id"]: int(row["times_delivered"]) for row in rows}

    async def process(self, entries: Sequence[tuple[str, dict[str, str], int]]) -> None:
        """Handle a batch; publish every success with its ack in one transaction."""
        done: list[tuple[str, dict[str, str], Result]] = []
        dead: list[tuple[str, dict[str, str], int, str]] = []
        decoded: list[tuple[str, dict[str, str], int, E, float]] = []
        for eid, fields, deliveries in entries:
            start = time.perf_counter()
            if deliveries > self.s.max_deliveries:
                # delivered that often without an outcome: each earlier delivery raised, or took its
                # process down with it (out of memory, killed): dead now, before it is handled again
                dead.append((eid, fields, deliveries, f"delivered {deliveries} times without an outcome"))
                self._note("dead", start, None)
                continue
            try:
                event = self.decode(fields)
            except Exception as exc:  # anything that does not decode is poison: dead at once
                dead.append((eid, fields, deliveries, f"cannot decode: {type(exc).__name__}: {exc}"))
                self._note("undecodable", start, None)
                continue
            decoded.append((eid, fields, deliveries, event, time.perf_counter() - start))
        if decoded and self.prepare is not None:
            try:
                await self.prepare([d[3] for d in decoded])
            except (RedisConnectionError, RedisTimeoutError, OSError):
                raise
            except Exception as exc:
                if self.on_error is not None:
                    self.on_error(f"preparing a batch of {len(decoded)} failed: {type(exc).__name__}: {exc}")
        if self.s.concurrency > 1 and len(decoded) > 1:
            gate = asyncio.Semaphore(self.s.concurrency)

            async def gated(entry: tuple[str, dict[str, str], int, E, float]) -> None:
                async with gate:
                    await self._one(*entry, done, dead)

            await asyncio.gather(*(gated(e) for e in decoded))
        else:
            for entry in decoded:
                await self._one(*entry, done, dead)
        if done or dead:
            await self._commit(done, dead)

    async def _one(
        self,
        eid: str,
        fields: dict[str, str],
        deliveries: int,
        event: E,
        decoding: float,
        done: list[tuple[str, dict[str, str], Result]],
        dead: list[tuple[str, dict[str, str], int, str]],
    ) -> None:
        start = time.perf_counter() - decoding  # an entry's time: its decoding and its handling
        if self._stop is not None and self._stop.is_set():
            return  # stopping: an entry not yet begun stays pending, for this consumer's next start or another's
        try:
            result = await self.handle(event)
        except Undeliverable as exc:
            dead.append((eid, fields, deliveries, f"undeliverable: {exc}"))
            self._note("undeliverable", start, event)
            return
        except Exception as exc:
            self.counts.failed += 1
            if self.on_error is not None:
                self.on_error(f"handler failed on {eid} (delivery {deliveries}): {type(exc).__name__}: {exc}")
            if deliveries >= self.s.max_deliveries:
                dead.append((eid, fields, deliveries, f"{type(exc).__name__}: {exc}"))
                self._note("dead", start, event)
            else:
                self._note("failed", start, event)  # stays pending; reclaimed and retried
            return
        done.append((eid, fields, result))
        self._note("handled", start, event)

    def _note(self, outcome: str, start: float, event: E | None) -> None:
        if self.on_entry is not None:
            self.on_entry(outcome, time.perf_counter() - start, event)

    async def _commit(
        self, done: list[tuple[str, dict[str, str], Result]], dead: list[tuple[str, dict[str, str], int, str]]
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        pipe = self.r.pipeline(transaction=True)
        outputs_at: list[int] = []  # where each output's publish reply lands (1: published, 0: a duplicate)
        letters_at: list[int] = []
        for eid, fields, result in done:
            if result.dead is not None:
                letter = self._letter(eid, fields, 1, result.dead, now)
                key = seen_key(self.s.seen_prefix, self.s.dead_stream, result.dead_key or eid)
                letters_at.append(len(pipe))
                await self._publish(
                    keys=[self.s.dead_stream, key], args=[letter.model_dump_json(), self.s.dedupe_ttl_s], client=pipe
                )
            for out in result.outputs:
                key = seen_key(self.s.seen_prefix, out.stream, out.event_id)
                outputs_at.append(len(pipe))
                await self._publish(
                    keys=[out.stream, key], args=[out.event.model_dump_json(), self.s.dedupe_ttl_s], client=pipe
                )
            for script, keys, args in result.scripts:
                await script(keys=keys, args=args, client=pipe)
            for key in result.delete:
                pipe.delete(key)
            for key, value in result.sets.items():
                pipe.set(key, value)
        for eid, fields, deliveries, error in dead:
            letter = self._letter(eid, fields, deliveries, error, now)
            pipe.xadd(self.s.dead_stream, {"event": letter.model_dump_json()})
        ids = [eid for eid, _, _ in done] + [d[0] for d in dead]
        pipe.xack(self.s.stream, self.s.group, *ids)
        replies = await pipe.execute()
        published = sum(1 for i in outputs_at if replies[i] == 1)
        self.counts.published += published
        self.counts.deduplicated += len(outputs_at) - published
        self.counts.handled += len(done)
        self.counts.dead += len(dead) + sum(1 for i in letters_at if replies[i] == 1)

    def _letter(self, eid: str, fields: dict[str, str], deliveries: int, error: str, now: dt.datetime) -> DeadLetter:
        return DeadLetter(
            stream=self.s.stream,
            entry_id=eid,
            group=self.s.group,
            consumer=self.s.consumer,
            deliveries=deliveries,
            error=error[:EXCERPT],
            original={k[:256]: _excerpt(v) for k, v in list(fields.items())[:32]},
            dead_at=now,
        )


EXCERPT = 64 * 1024  # characters of an entry's field kept in its dead letter (the entry itself stays in its stream)


def _excerpt(value: str) -> str:
    """A field as the dead letter keeps it: whole, or its first ``EXCERPT`` characters and its length."""
    if len(value) <= EXCERPT:
        return value
    return value[:EXCERPT] + f"… [{len(value)} characters in all, cut at {EXCERPT}]"


def json_fields(event: BaseModel) -> dict[str, str]:
    """The stream entry for an event: one field, ``event``, the JSON."""
    return {"event": event.model_dump_json()}


def decoder(model: Any) -> Callable[[dict[str, str]], Any]:
    """A decode function for entries holding ``event`` (JSON of ``model``)."""

    def decode(fields: dict[str, str]) -> Any:
        if "event" not in fields:
            raise ValueError("no 'event' field")
        return model.model_validate_json(fields["event"])  # pydantic-core parses the JSON itself

    return decode
