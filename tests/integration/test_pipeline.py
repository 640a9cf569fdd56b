"""The three services on a real Redis, in one process, as the FastStream application ``intake serve
all`` runs: seeds end to end, the wire format, poison entries, a dead consumer's entries reclaimed,
duplicates dropped, claim checks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Self

import redis.asyncio as aioredis
from faststream.redis import RedisRouter
from redis.exceptions import ConnectionError as RedisConnectionError

from contracts.events import SubmissionReceived
from services.app import application, faststream_app
from services.delivery import Consumer, DeliverySettings, Output, Result
from services.observability import Metrics
from services.runtime import SERVICES, clients, submit
from services.streams import Settings
from tests.conftest import SEEDS, free_port, truth_of

ROOT = Path(__file__).resolve().parents[2]
OFFICES = {"000": "xigong", "001": "xianfeng", "002": "xiguan", "003": "gongren", "004": "puxi"}


def make_settings(redis_url: str, prefix: str, tmp_path: Path, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "offices_file": str(ROOT / "samples" / "offices.yaml"),
        "outbox_dir": str(tmp_path / "outbox"),
        "submissions_stream": f"{prefix}:submissions",
        "parsed_stream": f"{prefix}:parsed",
        "verdicts_stream": f"{prefix}:verdicts",
        "notices_stream": f"{prefix}:notices",
        "dead_stream": f"{prefix}:dead",
        "key_prefix": prefix,
        "consumer": "test-1",
        "min_idle_ms": 200,
    }
    return Settings(**{**values, **kw})


async def wait_for(stream: str, client: aioredis.Redis, count: int, seconds: float = 20) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            entries = await client.xrange(stream)
        except RedisConnectionError:  # this test client's socket, after a Redis restart
            await asyncio.sleep(0.05)
            continue
        if len(entries) >= count or asyncio.get_running_loop().time() > deadline:
            return [json.loads(fields["event"]) for _, fields in entries]
        await asyncio.sleep(0.05)


class Running:
    """The named services' FastStream application in this process, with their metrics, until the
    block ends; ``text`` and ``raw`` are the test's own clients."""

    def __init__(self, settings: Settings, names: Sequence[str] = SERVICES) -> None:
        self.settings = settings
        self.text, self.raw = clients(settings)
        self.metrics = Metrics()
        self.pipeline = application(settings, names, metrics=self.metrics)
        self.consumers = self.pipeline.consumers

    async def __aenter__(self) -> Self:
        await self.pipeline.app.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.wait_for(self.pipeline.app.stop(), 15)
        await self.text.aclose()
        await self.raw.aclose()


class Consuming:
    """One bare consumer as a FastStream application of its own, until the block ends."""

    def __init__(self, consumer: Consumer[Any], redis_url: str) -> None:
        router = RedisRouter()
        consumer.subscribe(router, "test", "a consumer under test")
        self.app, _ = faststream_app(redis_url, [router], [consumer], shutdown_s=5, on_error=consumer.on_error)

    async def __aenter__(self) -> Self:
        await self.app.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.wait_for(self.app.stop(), 15)


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro())


def test_each_seed_reaches_its_truth_end_to_end(redis_url: str, prefix: str, tmp_path: Path) -> None:
    async def body() -> None:
        async with Running(make_settings(redis_url, prefix, tmp_path)) as p:
            for seed in SEEDS:
                await submit(
                    p.text,
                    p.raw,
                    p.settings,
                    seed.read_bytes(),
                    seed.name,
                    OFFICES[seed.name[:3]],
                    submission_id=seed.stem,
                )
            verdicts = await wait_for(p.settings.verdicts_stream, p.text, len(SEEDS))
            notices = await wait_for(p.settings.notices_stream, p.text, 3)
        by_id = {v["submission_id"]: v for v in verdicts}
        assert len(by_id) == len(SEEDS)
        for seed in SEEDS:
            truth = truth_of(seed)
            verdict = by_id[seed.stem]["verdict"]
            rules = {f["rule"] for f in verdict["findings"]}
            assert verdict["status"] == truth["verdict"], seed.name
            assert set(truth["must_include"]) <= rules
            assert "DOC-OFFICE-MISMATCH" not in rules
        rejected = {s.stem for s in SEEDS if truth_of(s)["verdict"] == "rejected"}
        assert {n["submission_id"] for n in notices} == rejected
        text = (tmp_path / "outbox" / "puxi" / f"{SEEDS[4].stem}.txt").read_text(encoding="utf-8")
        assert text.startswith("Subject: 关于退回《沈阳市辽中区蒲西街道办事处2020年政府信息公开工作年度报告》的通知")

    run(body)


def test_a_portal_publishes_with_a_plain_xadd(redis_url: str, prefix: str, tmp_path: Path) -> None:
    """The wire format of docs/wire.md, written by hand as a portal in any language would."""
    import redis

    async def body() -> None:
        async with Running(make_settings(redis_url, prefix, tmp_path)) as p:
            data = SEEDS[0].read_bytes()
            event = {
                "schema_version": 1,
                "type": "SubmissionReceived",
                "event_id": "portal-1",
                "submission_id": "portal-1",
                "office_id": "xigong",
                "occurred_at": "2021-01-20T08:00:00Z",
                "producer": "portal",
                "declared_year": 2020,
                "file_name": "report.txt",
                "media_type": "text/plain",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "content_b64": base64.b64encode(data).decode(),
                "submitted_at": "2021-01-20T08:00:00Z",
            }
            plain = redis.Redis.from_url(redis_url)
            plain.xadd(p.settings.submissions_stream, {"event": json.dumps(event)})
            [verdict] = await wait_for(p.settings.verdicts_stream, p.text, 1)
        assert verdict["submission_id"] == "portal-1" and verdict["verdict"]["status"] == "accepted"

    run(body)


def submissions_consumer(
    client: aioredis.Redis,
    settings: Settings,
    handle: Callable[[SubmissionReceived], Awaitable[Result]],
    max_deliveries: int = 5,
    forget_idle_ms: int = 3_600_000,
    name: str = "c1",
    **kw: Any,
) -> Consumer[SubmissionReceived]:
    """A bare consumer of the submissions stream (group ``g``), reclaiming fast."""
    delivery = DeliverySettings(
        stream=settings.submissions_stream,
        group="g",
        consumer=name,
        dead_stream=settings.dead_stream,
        min_idle_ms=50,
        reclaim_every_s=0.05,
        max_deliveries=max_deliveries,
        forget_idle_ms=forget_idle_ms,
    )
    return Consumer(client, delivery, SubmissionReceived, handle, **kw)


def test_poison_entries_go_to_dead_letters_and_good_ones_flow(redis_url: str, prefix: str, tmp_path: Path) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path, max_deliveries=3)
        text, raw = clients(settings)
        calls: dict[str, int] = {}

        async def handle(sub: SubmissionReceived) -> Result:
            calls[sub.submission_id] = calls.get(sub.submission_id, 0) + 1
            if sub.submission_id == "always-raises":
                raise RuntimeError("handler bug")
            return Result()

        consumer = submissions_consumer(text, settings, handle, max_deliveries=3)
        await text.xadd(settings.submissions_stream, {"event": "{not json"})
        await text.xadd(settings.submissions_stream, {"event": json.dumps({"type": "SubmissionReceived"})})
        await text.xadd(settings.submissions_stream, {"other": "field"})
        for sid in ("good-1", "always-raises", "good-2"):
            await submit(text, raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id=sid)
        async with Consuming(consumer, settings.redis_url):
            dead = await wait_for(settings.dead_stream, text, 4, seconds=10)
        errors = sorted(d["error"].split(":")[0] for d in dead)
        assert errors == ["RuntimeError", "cannot decode", "cannot decode", "cannot decode"]
        raised = next(d for d in dead if d["error"].startswith("RuntimeError"))
        assert raised["deliveries"] == 3 and calls["always-raises"] == 3
        assert json.loads(raised["original"]["event"])["submission_id"] == "always-raises"
        assert calls["good-1"] == calls["good-2"] == 1
        assert await text.xpending(settings.submissions_stream, "g") == {
            "pending": 0,
            "min": None,
            "max": None,
            "consumers": [],
        }
        await text.aclose()
        await raw.aclose()

    run(body)


def test_a_batch_is_prepared_in_one_call_and_survives_a_failing_preparation(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        batches: list[list[str]] = []
        handled: list[tuple[str, int]] = []
        errors: list[str] = []

        async def prepare(subs: Sequence[SubmissionReceived]) -> None:
            batches.append([s.submission_id for s in subs])
            if len(batches) == 1:  # like Redis going away: the batch stays pending and comes back
                raise RedisConnectionError("connection reset")
            if len(batches) == 2:  # a bug: reported, and the handlers run unprepared
                raise KeyError("figures")

        async def handle(sub: SubmissionReceived) -> Result:
            handled.append((sub.submission_id, len(batches)))
            return Result()

        consumer = submissions_consumer(text, settings, handle, on_error=errors.append, prepare=prepare)
        await text.xadd(settings.submissions_stream, {"event": "{not json"})
        for k in range(5):
            await submit(text, raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id=f"b{k}")
        async with Consuming(consumer, settings.redis_url):
            for _ in range(200):
                if len(handled) == 5:
                    break
                await asyncio.sleep(0.02)
        ids = [f"b{k}" for k in range(5)]
        # the undecodable entry is no part of a batch's preparation; the batch came back whole
        assert batches == [ids, ids]
        assert sorted(handled) == [(i, 2) for i in ids]
        assert any("redis unavailable" in e for e in errors)
        assert any("preparing a batch of 5 failed: KeyError" in e for e in errors)
        dead = await wait_for(settings.dead_stream, text, 1)
        assert len(dead) == 1 and dead[0]["error"].startswith("cannot decode")
        await text.aclose()
        await raw.aclose()

    run(body)


def test_a_dead_consumers_entries_are_reclaimed_and_judged_once(redis_url: str, prefix: str, tmp_path: Path) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        for k in range(30):
            await submit(
                text, raw, settings, SEEDS[k % 5].read_bytes(), "r.txt", OFFICES[f"00{k % 5}"], submission_id=f"s{k}"
            )
        # a parser that read 30 entries and died without acking them
        await text.xgroup_create(settings.submissions_stream, "parser", id="0", mkstream=True)
        await text.xreadgroup("parser", "crashed", {settings.submissions_stream: ">"}, count=30)
        await asyncio.sleep(0.3)  # longer than min_idle_ms
        async with Running(settings) as p:
            verdicts = await wait_for(settings.verdicts_stream, p.text, 30)
            await asyncio.sleep(0.5)
            verdicts = await wait_for(settings.verdicts_stream, p.text, 30)
        assert sorted(v["submission_id"] for v in verdicts) == sorted(f"s{k}" for k in range(30))
        await text.aclose()
        await raw.aclose()

    run(body)


def test_a_redelivered_entry_makes_no_second_verdict(redis_url: str, prefix: str, tmp_path: Path) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        sub = await submit(text, raw, settings, SEEDS[4].read_bytes(), "r.txt", "puxi", submission_id="twice")
        await text.xadd(settings.submissions_stream, {"event": sub.model_dump_json()})  # the portal retried
        async with Running(settings) as p:
            await wait_for(settings.notices_stream, p.text, 1)
            await asyncio.sleep(0.5)
            verdicts = await wait_for(settings.verdicts_stream, p.text, 1)
            notices = await wait_for(settings.notices_stream, p.text, 1)
            parser = p.consumers[0]
        assert len(verdicts) == 1 and len(notices) == 1
        assert parser.counts.handled == 2 and parser.counts.deduplicated == 1
        await text.aclose()
        await raw.aclose()

    run(body)


def test_a_large_upload_travels_by_claim_check(redis_url: str, prefix: str, tmp_path: Path) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path, inline_max_bytes=1000)
        async with Running(settings) as p:
            sub = await submit(p.text, p.raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong")
            assert sub.content_key is not None and sub.content_b64 is None
            [verdict] = await wait_for(settings.verdicts_stream, p.text, 1)
            assert verdict["verdict"]["status"] == "accepted"
            assert await p.raw.exists(sub.content_key) == 0  # deleted with the ack

    run(body)


def test_an_office_missing_from_the_registry_goes_to_dead_letters_and_keeps_no_figures(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        async with Running(settings) as p:
            await submit(p.text, p.raw, settings, SEEDS[4].read_bytes(), "r.txt", "nobody", submission_id="rej")
            await submit(p.text, p.raw, settings, SEEDS[0].read_bytes(), "r.txt", "nobody", submission_id="acc")
            dead = await wait_for(settings.dead_stream, p.text, 2)
            verdicts = await wait_for(settings.verdicts_stream, p.text, 2)
            figures = await p.text.keys(f"{prefix}:figures:*")
        status = {v["submission_id"]: v["verdict"]["status"] for v in verdicts}
        assert status == {"rej": "rejected", "acc": "accepted"}
        assert len(dead) == 2 and all("not in the office registry" in d["error"] for d in dead)
        assert all(d["stream"] == settings.verdicts_stream for d in dead)
        assert figures == []  # an accepted report of an office nobody registered keeps no figures
        assert not (tmp_path / "outbox" / "nobody").exists()

    run(body)


def test_ids_past_the_wire_bounds_go_to_dead_letters_and_nothing_is_stored_under_them(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    """A megabyte office id, a submission id that is a path, a file name with a line break: the
    entry is dead-lettered as it arrives (bounded), nothing is judged or stored, good traffic flows."""
    from tests.portal import portal_event

    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        data = SEEDS[0].read_bytes()
        bad = [
            portal_event("big-office", data, "x" * 1_000_000),
            portal_event("../../etc/passwd", data, "xigong"),
            portal_event("crlf", data, "xigong", file_name="report.docx\r\nBcc: someone@example.com"),
        ]
        for fields in bad:
            await text.xadd(settings.submissions_stream, fields)
        await submit(text, raw, settings, data, "r.txt", "xigong", submission_id="good")
        async with Running(settings) as p:
            dead = await wait_for(settings.dead_stream, p.text, 3)
            verdicts = await wait_for(settings.verdicts_stream, p.text, 1)
            keys = await p.text.keys(f"{prefix}:*")
        assert [v["submission_id"] for v in verdicts] == ["good"]
        assert len(dead) == 3 and all(d["error"].startswith("cannot decode") for d in dead)
        assert all(len(json.dumps(d)) < 100_000 for d in dead)  # the megabyte id kept as a bounded excerpt
        assert max(len(k) for k in keys) < 200

    run(body)


def test_cross_year_figures_are_kept_from_accepted_reports(redis_url: str, prefix: str, tmp_path: Path) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        last_year = (
            SEEDS[0]
            .read_text(encoding="utf-8")
            .replace("2020", "2019")
            .replace("四、结转下年度继续办理 0 0 0 0 0 0 0", "四、结转下年度继续办理 2 0 0 0 0 0 2")
            .replace("（七）总计 0 0 0 0 0 0 0", "（七）总计 0 0 0 0 0 0 0")
        )
        last_year = last_year.replace(
            "二、上年结转政府信息公开申请数量 0 0 0 0 0 0 0", "二、上年结转政府信息公开申请数量 2 0 0 0 0 0 2"
        )
        async with Running(settings) as p:
            await submit(p.text, p.raw, settings, last_year.encode(), "2019.txt", "xigong", submission_id="y2019")
            first = await wait_for(settings.verdicts_stream, p.text, 1)
            assert first[0]["verdict"]["status"] == "accepted", first[0]["verdict"]["findings"]
            await submit(p.text, p.raw, settings, SEEDS[0].read_bytes(), "2020.txt", "xigong", submission_id="y2020")
            verdicts = await wait_for(settings.verdicts_stream, p.text, 2)
        second = next(v for v in verdicts if v["submission_id"] == "y2020")["verdict"]
        assert {(f["rule"], f["location"]["column"]) for f in second["findings"]} == {
            ("T3-CROSS-YEAR", "natural_person"),
            ("T3-CROSS-YEAR", "total"),
        }

    run(body)


def test_services_ride_out_a_redis_restart(tmp_path: Path, prefix: str) -> None:
    """A Redis of its own (AOF on), restarted under the running services: they reconnect and go on."""
    import shutil
    import subprocess

    import redis as sync_redis

    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    cmd = [
        shutil.which("redis-server") or "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
        "--dir",
        str(data),
    ]

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                sync_redis.Redis(port=port).ping()
                return proc
            except sync_redis.ConnectionError:
                import time

                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    server = start()
    url = f"redis://127.0.0.1:{port}/0"

    async def body() -> None:
        nonlocal server
        settings = make_settings(url, prefix, tmp_path)
        async with Running(settings) as p:
            for k in range(5):
                await submit(p.text, p.raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id=f"a{k}")
            await wait_for(settings.verdicts_stream, p.text, 5)
            server.kill()
            server.wait()
            await asyncio.sleep(0.5)  # the services see the connection fail
            server = await asyncio.to_thread(start)
            await wait_for(settings.verdicts_stream, p.text, 0)  # the test's own client reconnects
            for k in range(5):
                await submit(p.text, p.raw, settings, SEEDS[4].read_bytes(), "r.txt", "puxi", submission_id=f"b{k}")
            verdicts = await wait_for(settings.verdicts_stream, p.text, 10, seconds=30)
            assert sum(c.counts.reconnects for c in p.consumers) >= 1
        assert sorted(v["submission_id"] for v in verdicts) == sorted(
            [f"a{k}" for k in range(5)] + [f"b{k}" for k in range(5)]
        )

    try:
        run(body)
    finally:
        server.kill()
        server.wait()


def test_an_entry_that_is_no_utf8_goes_to_dead_letters_and_parsing_goes_on(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        await raw.xadd(settings.submissions_stream, {"event": b"\xff\xfe"})  # what redis-cli XADD with printf gives
        for sid in ("good-1", "good-2"):
            await submit(text, raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id=sid)
        async with Running(settings, ["parser"]):
            parsed = await wait_for(settings.parsed_stream, text, 2)
            dead = await wait_for(settings.dead_stream, text, 1)
        assert sorted(p["submission_id"] for p in parsed) == ["good-1", "good-2"]
        assert len(dead) == 1 and dead[0]["error"].startswith("cannot decode")
        assert dead[0]["original"]["event"] == "\ufffd\ufffd"
        await text.aclose()
        await raw.aclose()

    run(body)


def test_an_entry_whose_deliveries_all_died_goes_to_dead_letters_before_it_is_handled_again(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    """A delivery that took its process down leaves no exception behind, only its count: an entry
    read three times and never acked (as three crashes leave it) is not handed out a fourth time."""

    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path, max_deliveries=3)
        text, raw = clients(settings)
        calls: list[str] = []

        async def handle(sub: SubmissionReceived) -> Result:
            calls.append(sub.submission_id)
            return Result()

        await text.xgroup_create(settings.submissions_stream, "g", id="0", mkstream=True)
        await submit(text, raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id="killer")
        for _ in range(3):  # three deliveries, each to a consumer that died without a word
            await text.xreadgroup("g", "c1", {settings.submissions_stream: "0" if _ else ">"}, count=1)
        await submit(text, raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id="good")
        consumer = submissions_consumer(text, settings, handle, max_deliveries=3)
        async with Consuming(consumer, settings.redis_url):
            dead = await wait_for(settings.dead_stream, text, 1, seconds=10)
            for _ in range(100):
                if "good" in calls:
                    break
                await asyncio.sleep(0.05)
        assert calls == ["good"]  # the killer was never handled again
        assert dead[0]["error"] == "delivered 4 times without an outcome" and dead[0]["deliveries"] == 4
        assert json.loads(dead[0]["original"]["event"])["submission_id"] == "killer"
        await text.aclose()
        await raw.aclose()

    run(body)


def test_a_dead_letter_keeps_a_bounded_excerpt_of_a_huge_entry(redis_url: str, prefix: str, tmp_path: Path) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        await text.xadd(settings.submissions_stream, {"event": "x" * 5_000_000})  # a 5 MB body that is no JSON
        async with Running(settings, ["parser"]):
            dead = await wait_for(settings.dead_stream, text, 1)
        event = dead[0]["original"]["event"]
        assert len(event) < 70_000 and "5000000 characters in all" in event
        await text.aclose()
        await raw.aclose()

    run(body)


def test_an_upload_past_the_readers_memory_is_answered_unreadable_and_the_next_is_judged(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    """The parser reads each upload in a child held to ``INTAKE_PARSE_MEMORY_MB``: an upload that
    needs more (here a 16 MB report against a 100 MB limit) costs the child, not the parser."""

    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path, parse_memory_mb=100)
        seed = SEEDS[0].read_text(encoding="utf-8")
        line = "我办严格落实政府信息公开各项制度，" * 20 + "\n"
        big = seed.replace("（二）主动公开情况", line * (15_000_000 // len(line.encode())) + "（二）主动公开情况")
        async with Running(settings, ["parser", "validator"]) as p:
            await submit(p.text, p.raw, settings, big.encode(), "big.txt", "xigong", submission_id="big")
            await submit(p.text, p.raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id="good")
            verdicts = await wait_for(settings.verdicts_stream, p.text, 2, seconds=60)
        by_id = {v["submission_id"]: v["verdict"] for v in verdicts}
        [finding] = by_id["big"]["findings"]
        assert by_id["big"]["status"] == "rejected" and finding["rule"] == "DOC-UNREADABLE"
        assert "too_complex" in json.dumps(finding, ensure_ascii=False)
        assert by_id["good"]["status"] == "accepted"

    run(body)


def test_consumers_gone_for_long_are_removed_from_the_group_once_their_entries_are_taken(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        handled: list[str] = []

        async def handle(sub: SubmissionReceived) -> Result:
            handled.append(sub.submission_id)
            return Result()

        await text.xgroup_create(settings.submissions_stream, "g", id="0", mkstream=True)
        await submit(text, raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id="held")
        await text.xreadgroup("g", "dead-pod", {settings.submissions_stream: ">"}, count=1)  # then it died
        await text.xreadgroup("g", "idle-pod", {settings.submissions_stream: ">"}, count=1)  # read nothing
        await asyncio.sleep(0.4)
        consumer = submissions_consumer(text, settings, handle, forget_idle_ms=300)
        async with Consuming(consumer, settings.redis_url):
            for _ in range(100):
                names = {c["name"] for c in await text.xinfo_consumers(settings.submissions_stream, "g")}
                if names == {"c1"}:
                    break
                await asyncio.sleep(0.05)
        assert names == {"c1"} and handled == ["held"]  # the dead pod's entry taken over first, then it went
        await text.aclose()
        await raw.aclose()

    run(body)


def test_a_commit_whose_reply_was_lost_is_run_again_and_lands_nothing_twice(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    """The one window FastStream leaves us: the batch's ``MULTI`` reached Redis (outputs published,
    entries acked, a dead letter written) but its reply was lost with the connection. The consumer
    cannot tell that from a commit that never arrived, so it runs the commit again once Redis
    answers; the publishes and dead letters are deduplicated by id, so nothing lands twice."""

    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        out = f"{prefix}:out"

        class ReplyLost(RedisConnectionError):
            pass

        lose = {"left": 1}
        real_pipeline = text.pipeline

        def pipeline(*args: Any, **kw: Any) -> Any:
            pipe = real_pipeline(*args, **kw)
            execute = pipe.execute

            async def execute_and_lose_the_reply(*a: Any, **k: Any) -> Any:
                replies = await execute(*a, **k)
                if lose["left"]:
                    lose["left"] -= 1
                    raise ReplyLost("connection lost before the reply")
                return replies

            pipe.execute = execute_and_lose_the_reply
            return pipe

        async def handle(sub: SubmissionReceived) -> Result:
            return Result(outputs=[Output(out, sub, f"out:{sub.submission_id}")])

        text.pipeline = pipeline  # type: ignore[method-assign]
        consumer = submissions_consumer(text, settings, handle)
        await text.xadd(settings.submissions_stream, {"event": "{not json"})
        for sid in ("one", "two"):
            await submit(text, raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id=sid)
        async with Consuming(consumer, settings.redis_url):
            for _ in range(200):
                if not lose["left"] and (await text.xpending(settings.submissions_stream, "g"))["pending"] == 0:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)  # time for anything that would land twice
        outputs = await wait_for(out, text, 2)
        dead = await wait_for(settings.dead_stream, text, 1)
        assert sorted(o["submission_id"] for o in outputs) == ["one", "two"]  # each once
        assert len(dead) == 1 and dead[0]["error"].startswith("cannot decode")
        assert consumer.counts.reconnects == 1 and consumer.counts.deduplicated == 2
        assert (await text.xpending(settings.submissions_stream, "g"))["pending"] == 0
        await text.aclose()
        await raw.aclose()

    run(body)


def test_an_entry_slower_than_the_idle_time_is_not_taken_over_by_another_replica(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    """Two replicas of a consumer, claiming entries idle 50 ms: an upload that takes 0.6 s to
    handle stays with the replica handling it (the entries in hand are kept fresh), so it is
    handled once, not once more by the other replica's claimer."""

    async def body() -> None:
        settings = make_settings(redis_url, prefix, tmp_path)
        text, raw = clients(settings)
        handled: list[tuple[str, str]] = []

        def slow(name: str) -> Callable[[SubmissionReceived], Awaitable[Result]]:
            async def handle(sub: SubmissionReceived) -> Result:
                handled.append((name, sub.submission_id))
                await asyncio.sleep(0.6)
                return Result()

            return handle

        first = submissions_consumer(text, settings, slow("first"), name="first")
        second = submissions_consumer(text, settings, slow("second"), name="second")
        async with Consuming(first, settings.redis_url):
            await submit(text, raw, settings, SEEDS[0].read_bytes(), "r.txt", "xigong", submission_id="slow")
            for _ in range(100):
                if handled:
                    break
                await asyncio.sleep(0.01)
            async with Consuming(second, settings.redis_url):
                await asyncio.sleep(1.0)
        assert [sid for _, sid in handled] == ["slow"]
        assert second.counts.reclaimed == 0
        assert (await text.xpending(settings.submissions_stream, "g"))["pending"] == 0
        await text.aclose()
        await raw.aclose()

    run(body)
