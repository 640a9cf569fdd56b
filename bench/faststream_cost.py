"""What FastStream's Redis stream subscribers cost per entry, beside a raw redis-py relay: the
groundwork of moving the services onto FastStream (issue 17), measured before building on it.

    python bench/faststream_cost.py [--n 5000] [--size 4096]

Each way relays ``--n`` entries of one ``event`` field (``--size`` bytes of JSON) from stream ``in``
to stream ``out`` through a consumer group, publishing each once per id (the services' Lua
``SET NX`` + ``XADD``) and acking it:

- raw: ``XREADGROUP COUNT 64``, then one ``MULTI`` of the publishes and the ``XACK``;
- FastStream, one entry a call (``StreamSub(group=…, consumer=…)``, ack after the handler);
- FastStream, a batch a call (``StreamSub(…, batch=True, max_records=64)``, the handler's own
  ``MULTI`` with the ``XACK``, ``AckPolicy.MANUAL``).

Wall time from the first read to the last ack, and the process's CPU time per entry. Its own
redis-server (no persistence) on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis.asyncio as aioredis  # noqa: E402
from faststream.middlewares import AckPolicy  # noqa: E402
from faststream.redis import RedisBroker, StreamSub  # noqa: E402
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage  # noqa: E402

from tests.conftest import free_port  # noqa: E402

PUBLISH = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('XADD', KEYS[1], '*', 'event', ARGV[1])
  return 1
end
return 0
"""


async def fill(r: aioredis.Redis, n: int, size: int) -> None:
    await r.flushall()
    await r.xgroup_create("in", "g", id="0", mkstream=True)
    event = '{"pad": "' + "y" * max(0, size - 11) + '"}'
    pipe = r.pipeline(transaction=False)
    for _ in range(n):
        pipe.xadd("in", {"event": event})
    await pipe.execute()


async def raw(url: str, n: int) -> None:
    r = aioredis.Redis.from_url(url)
    publish = r.register_script(PUBLISH)
    done = 0
    while done < n:
        reply: Any = await r.xreadgroup("g", "c1", {"in": ">"}, count=64, block=100)
        entries = reply[0][1] if reply else []
        pipe = r.pipeline(transaction=True)
        for eid, fields in entries:
            await publish(keys=["out", b"seen:" + eid], args=[fields[b"event"], 3600], client=pipe)
        pipe.xack("in", "g", *[eid for eid, _ in entries])
        await pipe.execute()
        done += len(entries)
    await r.aclose()


async def faststream(url: str, n: int, batch: bool) -> None:
    broker = RedisBroker(url, logger=None)
    r = aioredis.Redis.from_url(url)
    publish = r.register_script(PUBLISH)
    finished = asyncio.Event()
    done = 0
    # the group exists: FastStream reads from `last_id`, whose default ("$") would read nothing
    sub = StreamSub("in", group="g", consumer="c1", last_id=">", batch=batch, max_records=64)

    if batch:

        @broker.subscriber(stream=sub, ack_policy=AckPolicy.MANUAL)
        async def handle_batch(body: list[dict[str, Any]], msg: RedisBatchStreamMessage) -> None:
            nonlocal done
            ids = msg.raw_message["message_ids"]
            pipe = r.pipeline(transaction=True)
            for eid, fields in zip(ids, body, strict=True):
                await publish(keys=["out", b"seen:" + eid], args=[fields["event"], 3600], client=pipe)
            pipe.xack("in", "g", *ids)
            await pipe.execute()
            done += len(ids)
            if done >= n:
                finished.set()

    else:

        @broker.subscriber(stream=sub, ack_policy=AckPolicy.NACK_ON_ERROR)
        async def handle_one(body: dict[str, Any], msg: RedisStreamMessage) -> None:
            nonlocal done
            [eid] = msg.raw_message["message_ids"]
            await publish(keys=["out", b"seen:" + eid], args=[body["event"], 3600])
            done += 1
            if done >= n:
                finished.set()

    async with broker:
        await broker.start()
        await finished.wait()
    await r.aclose()


async def measure(url: str, n: int, size: int, name: str, run: Callable[[], Awaitable[None]]) -> None:
    r = aioredis.Redis.from_url(url)
    await fill(r, n, size)
    wall, cpu = time.perf_counter(), time.process_time()
    await run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pending = (await r.xpending("in", "g"))["pending"]
    published = await r.xlen("out")
    await r.aclose()
    assert pending == 0 and published == n, (pending, published)
    print(f"{name:34} {n / wall:9,.0f} entries/s {cpu / n * 1e6:8.0f} µs CPU/entry")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )
        try:
            url = f"redis://127.0.0.1:{port}/0"
            for _ in range(100):
                try:
                    await aioredis.Redis.from_url(url).ping()
                    break
                except aioredis.ConnectionError:
                    await asyncio.sleep(0.05)
            ways: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("raw redis-py relay (batches of 64)", lambda: raw(url, args.n)),
                ("FastStream, an entry a call", lambda: faststream(url, args.n, False)),
                ("FastStream, a batch a call (64)", lambda: faststream(url, args.n, True)),
            ]
            for _ in range(2):  # the second pass counts: the first warms imports and connections
                for name, run in ways:
                    await measure(url, args.n, args.size, name, run)
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    asyncio.run(main())
