"""Delivery: the services' streams on FastStream, and the few things FastStream does not do.

Each consumer of a stream is two FastStream subscribers on one consumer group (``subscribe``): one
reads new entries in bounded batches (``StreamSub(batch=True, max_records=…)``), one takes over
entries idle longer than ``min_idle_ms`` (a dead consumer's) with ``XAUTOCLAIM``. FastStream reads,
reconnects after Redis goes away, and stops gracefully within the broker's ``graceful_timeout``;
its ack policy is ``MANUAL``, because what follows the handler is ours. What FastStream does not do
is here, each in one place:

- **raw entries.** A parser of our own hands the handler each entry's fields as they are
  (FastStream's batch parser decodes every field as UTF-8, so one entry that is no UTF-8 would fail
  its whole batch before any code of ours ran, and it copies the batch into JSON). Bytes that are
  no UTF-8 read as U+FFFD, and that entry alone fails to decode;
- **delivery counts and dead letters.** A new entry is on its first delivery; a claimed one's count
  comes from ``XPENDING`` (FastStream has counts only with ``XREADGROUP … CLAIM``, Redis ≥ 8.4).
  An entry delivered more than ``max_deliveries`` times goes to the dead letters before it is
  handled again (earlier deliveries raised, or took their process down); one that cannot be
  decoded goes there at once; either way with the original, the error and the count;
- **output and ack in one transaction.** A handled entry's outputs are published and the entry
  acked in one ``MULTI``: an output is never published without its ack, nor acked without its
  output. Outputs (and dead letters) are deduplicated by event id (``SET NX EX`` beside the
  ``XADD``, in Lua), so a redelivered entry never makes a second verdict or notice; a commit (or a
  batch's preparation) cut off by Redis going away is therefore safe to run again, and is, until
  Redis is back: the batch is not handled twice;
- **the consumer's own pending entries first.** On start, before the subscribers read, what this
  consumer name was given before a restart and never acked is handled (rather than waiting
  ``min_idle_ms`` for the claimer);
- **housekeeping.** Beside the subscribers: the entries in hand are kept fresh (their idle time
  reset every ``min_idle_ms / 3`` without counting a delivery), so that no claimer takes over an
  entry that is only slow; the service's periodic work (``tick``: notices whose retry is due);
  consumers gone for long removed from the group;
- **a bounded stop.** ``stop`` (the application's shutdown) begins no new entry of a batch; what is
  in hand gets the broker's ``graceful_timeout``, then FastStream cancels it; whatever was not
  acked stays pending for the next consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

import redis.asyncio as aioredis
from faststream.middlewares import AckPolicy
from faststream.redis import RedisRouter, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage as BatchMessage
from faststream.redis.message import RedisBatchStreamMessage
from pydantic import BaseModel, SkipValidation
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contracts.events import DeadLetter

E = TypeVar("E")
Entry = tuple[str, dict[str, str], int]  # (entry id, fields, deliveries)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)

# Publish an output unless its event id was published before (the dedupe key expires after a TTL).
_PUBLISH = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('XADD', KEYS[1], '*', 'event', ARGV[1])
  return 1
end
return 0
"""


# Reset the idle time of the entries (ARGV[3:]) that this consumer (ARGV[2]) of the group (ARGV[1])
# still holds, counting no delivery.
_KEEP = """
local kept = 0
for i = 3, #ARGV do
  local row = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if row and row[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept = kept + 1
  end
end
return kept
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
    block_ms: int = 500  # a read waits this long for new entries
    min_idle_ms: int = 15_000
    reclaim_every_s: float = 2.0  # with nothing to take over, look again after this long
    forget_idle_ms: int = 3_600_000  # a consumer with nothing pending, idle this long, is removed from the group
    tick_every_s: float = 0.2  # retries are due on a scale of seconds: no need to look more often
    max_deliveries: int = 5
    dedupe_ttl_s: int = 7 * 24 * 3600
    seen_prefix: str = "intake:seen"  # dedupe keys: {seen_prefix}:{stream}:{event id}
    concurrency: int = 1  # handlers of one batch running at once (senders waiting on the network)


@dataclass
class Counts:
    """What a consumer did, for metrics and tests."""

    handled: int = 0
    failed: int = 0
    dead: int = 0
    reclaimed: int = 0
    deduplicated: int = 0
    published: int = 0
    reconnects: int = 0  # times Redis was found gone and waited for (a commit, the housekeeping)


async def raw_batch(message: Mapping[str, Any], _original: Any) -> RedisBatchStreamMessage:
    """FastStream's parser, replaced: the batch as Redis gave it, decoded by ``entry_fields``."""
    return RedisBatchStreamMessage(raw_message=message, body=b"", consumer=None, group=None)  # type: ignore[arg-type]


async def entry_fields(message: RedisBatchStreamMessage, _original: Any) -> list[dict[str, str]]:
    """Each entry's fields as text; bytes that are no UTF-8 read as U+FFFD (that entry will not decode)."""
    return [
        {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in fields.items()}
        for fields in message.raw_message["data"]
    ]


def _ids(message: RedisBatchStreamMessage) -> list[str]:
    return [i.decode() if isinstance(i, bytes) else i for i in message.raw_message["message_ids"]]


class Consumer(Generic[E]):
    """One consumer of one stream: decode, handle, publish and ack, dead-letter; on FastStream."""

    def __init__(
        self,
        client: aioredis.Redis,
        settings: DeliverySettings,
        model: type[BaseModel],
        handle: Callable[[E], Awaitable[Result]],
        on_entry: Callable[[str, float, E | None], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        service: str = "",
        tick: Callable[[], Awaitable[object]] | None = None,
        prepare: Callable[[Sequence[E]], Awaitable[object]] | None = None,
    ) -> None:
        self.service = service
        self.model = model
        # Called with a batch's decoded events before they are handled, e.g. to read in one round
        # trip what each handler would otherwise fetch alone. Redis going away there is handled like
        # anywhere else (the batch stays pending and comes back); any other failure is reported and
        # the handlers run unprepared, so they must be able to fetch alone.
        self.prepare = prepare
        self.on_start: Callable[[], Awaitable[None]] | None = None  # before the subscribers read
        self.on_close: Callable[[], Awaitable[None]] | None = None  # after the application has stopped
        self.tick = tick  # run beside the subscribers, every tick_every_s (e.g. moving due retries back)
        self.r = client
        self.s = settings
        self.handle = handle
        self.on_entry = on_entry  # (outcome, seconds, event): metrics and the log line
        self.on_error = on_error
        self.counts = Counts()
        self.stopping = False
        self._stopped = asyncio.Event()
        self._in_hand: set[str] = set()  # ids of the entries being handled in this process
        self._publish = client.register_script(_PUBLISH)
        self._keep = client.register_script(_KEEP)

    def decode(self, fields: dict[str, str]) -> E:
        if "event" not in fields:
            raise ValueError("no 'event' field")
        return self.model.model_validate_json(fields["event"])  # type: ignore[return-value]

    # -- FastStream ---------------------------------------------------------------------------

    def subscribe(self, router: RedisRouter, title: str, description: str) -> None:
        """This consumer's two subscribers on ``router``: the reader and the claimer of idle entries."""
        s = self.s

        async def read(entries: list[dict[str, str]], message: RedisBatchStreamMessage) -> None:
            await self.process([(eid, fields, 1) for eid, fields in zip(_ids(message), entries, strict=True)])

        async def claimed(entries: list[dict[str, str]], message: RedisBatchStreamMessage) -> None:
            taken = [(eid, f) for eid, f in zip(_ids(message), entries, strict=True) if eid not in self._in_hand]
            if not taken:  # entries this process is handling (longer than min_idle_ms): they stay with it
                return
            counts = await self._deliveries([eid for eid, _ in taken])
            self.counts.reclaimed += len(taken)
            await self.process([(eid, fields, counts.get(eid, 1)) for eid, fields in taken])

        # The payload as documented (AsyncAPI): what each entry holds, one event of this consumer's
        # model (the handler is given a batch of them). FastStream does not validate it: each entry
        # is decoded on its own in ``process``, so one bad entry is one dead letter, not a lost batch.
        for handler in (read, claimed):
            handler.__annotations__ = {
                "entries": Annotated[self.model, SkipValidation],
                "message": BatchMessage,
                "return": None,
            }
        options: dict[str, Any] = {"ack_policy": AckPolicy.MANUAL, "parser": raw_batch, "decoder": entry_fields}
        group: dict[str, Any] = {"group": s.group, "consumer": s.consumer, "batch": True, "max_records": s.batch}
        # (the group exists, made from the stream's start by ensure_group: read what is new to it)
        reader = StreamSub(s.stream, last_id=">", polling_interval=s.block_ms, **group)
        claimer = StreamSub(
            s.stream, min_idle_time=s.min_idle_ms, polling_interval=int(s.reclaim_every_s * 1000), **group
        )
        router.subscriber(stream=reader, title=title, description=description, **options)(read)
        router.subscriber(stream=claimer, title=f"{title} (reclaim)", include_in_schema=False, **options)(claimed)

    async def ensure_group(self) -> None:
        """The consumer group, from the stream's first entry (FastStream would start it at the end)."""
        try:
            await self.r.xgroup_create(self.s.stream, self.s.group, id="0", mkstream=True)
        except aioredis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def stop(self) -> None:
        """Begin no new entry, and end the housekeeping."""
        self.stopping = True
        self._stopped.set()

    async def housekeeping(self) -> None:
        """Beside the subscribers until ``stop``: the service's tick and the removal of consumers
        gone for long, riding out Redis going away."""
        last_forget = last_held = 0.0
        while not self.stopping:
            try:
                if self._in_hand and time.monotonic() - last_held >= self.s.min_idle_ms / 3000:
                    last_held = time.monotonic()
                    await self._hold(list(self._in_hand))
                if time.monotonic() - last_forget >= self.s.reclaim_every_s:
                    last_forget = time.monotonic()
                    await self._forget_gone_consumers()
                if self.tick is not None:
                    await self.tick()
            except REDIS_DOWN as exc:
                self._redis_down(exc)
            except Exception as exc:  # a bug in a tick must not end the housekeeping
                self._trouble(f"housekeeping failed: {type(exc).__name__}: {exc}")
            with contextlib.suppress(TimeoutError):
                pause = self.s.tick_every_s if self.tick is not None else self.s.reclaim_every_s
                pause = min(pause, self.s.min_idle_ms / 3000)
                await asyncio.wait_for(self._stopped.wait(), pause)

    async def drain_own_pending(self) -> None:
        """Entries this consumer name was given before a restart and never acked (run before the
        subscribers start: after, they would be the entries the reader holds)."""
        start = "0"
        while not self.stopping:
            reply: Any = await self.r.xreadgroup(
                self.s.group, self.s.consumer, {self.s.stream: start}, count=self.s.batch
            )
            entries = reply[0][1] if reply else []
            if not entries:
                return
            counts = await self._deliveries([eid for eid, _ in entries])
            await self.process([(eid, fields, counts.get(eid, 1)) for eid, fields in entries])
            start = entries[-1][0]

    async def _hold(self, ids: list[str]) -> None:
        """Tell the group the entries in hand are alive: their idle time back to 0 (``XCLAIM`` to this
        consumer, ``JUSTID``: no delivery counted), so that no claimer, here or in another replica,
        takes over an entry that is only slow (a long scan, a slow mail server). Only entries this
        consumer still holds: one another consumer took over meanwhile stays with it."""
        await self._keep(keys=[self.s.stream], args=[self.s.group, self.s.consumer, *ids])

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

    # -- what happens to a batch -------------------------------------------------------------------

    async def process(self, entries: Sequence[Entry]) -> None:
        """Handle a batch; publish every success with its ack in one transaction."""
        ids = [eid for eid, _, _ in entries]
        self._in_hand.update(ids)
        try:
            await self._process(entries)
        finally:
            self._in_hand.difference_update(ids)

    async def _process(self, entries: Sequence[Entry]) -> None:
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
                await self._riding_out_redis(self.prepare, [d[3] for d in decoded])
            except Exception as exc:
                self._trouble(f"preparing a batch of {len(decoded)} failed: {type(exc).__name__}: {exc}")
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
            await self._riding_out_redis(self._commit, done, dead)

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
        if self.stopping:
            return  # stopping: an entry not yet begun stays pending, for this consumer's next start or another's
        try:
            result = await self.handle(event)
        except Undeliverable as exc:
            dead.append((eid, fields, deliveries, f"undeliverable: {exc}"))
            self._note("undeliverable", start, event)
            return
        except Exception as exc:
            self.counts.failed += 1
            self._trouble(f"handler failed on {eid} (delivery {deliveries}): {type(exc).__name__}: {exc}")
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

    def _trouble(self, message: str) -> None:
        if self.on_error is not None:
            self.on_error(message)

    def _redis_down(self, exc: BaseException) -> None:
        self.counts.reconnects += 1
        self._trouble(f"redis unavailable, retrying: {exc}")

    async def _riding_out_redis(self, step: Callable[..., Awaitable[object]], *args: Any) -> None:
        """A step of a batch (its preparation, its commit), run again while Redis is away. A commit
        may be: every part of it is idempotent (deduplicated publishes and dead letters, acks, sets,
        deletes), so one that landed before its reply was lost lands nothing twice. A stop ends the
        waiting (FastStream cancels the handler after its graceful timeout); the batch's entries
        then stay pending and come back."""
        backoff = 0.1
        while True:
            try:
                await step(*args)
                return
            except REDIS_DOWN as exc:
                self._redis_down(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _commit(
        self, done: list[tuple[str, dict[str, str], Result]], dead: list[tuple[str, dict[str, str], int, str]]
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        pipe = self.r.pipeline(transaction=True)
        outputs_at: list[int] = []  # where each output's publish reply lands (1: published, 0: a duplicate)
        letters_at: list[int] = []
        for eid, fields, result in done:
            if result.dead is not None:
                letters_at.append(len(pipe))
                await self._dead_letter(pipe, self._letter(eid, fields, 1, result.dead, now), result.dead_key or eid)
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
            letters_at.append(len(pipe))
            await self._dead_letter(pipe, self._letter(eid, fields, deliveries, error, now), f"{self.s.group}:{eid}")
        ids = [eid for eid, _, _ in done] + [d[0] for d in dead]
        pipe.xack(self.s.stream, self.s.group, *ids)
        replies = await pipe.execute()
        published = sum(1 for i in outputs_at if replies[i] == 1)
        self.counts.published += published
        self.counts.deduplicated += len(outputs_at) - published
        self.counts.handled += len(done)
        self.counts.dead += sum(1 for i in letters_at if replies[i] == 1)

    async def _dead_letter(self, pipe: Any, letter: DeadLetter, key: str) -> None:
        dedupe = seen_key(self.s.seen_prefix, self.s.dead_stream, key)
        await self._publish(
            keys=[self.s.dead_stream, dedupe], args=[letter.model_dump_json(), self.s.dedupe_ttl_s], client=pipe
        )

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
