"""The pipeline end to end: its own redis-server, the three services as processes.

    python bench/pipeline_bench.py [--n 3000] [--rate 300] [--seconds 10] [--also DIR ...]

``--also DIR`` runs the same phases on the services of another checkout too (say, a worktree of the
commit before the services moved onto FastStream), side by side in the same run.

Reports (one run, a fresh Redis each phase):
- flat out: ``--n`` submissions published at once, worked off by parser, validator and notifier;
  sustained reports/s from the first publish to the last verdict, CPU ms per report per service,
  peak RSS per service;
- fixed rate: ``--rate`` submissions/s for ``--seconds``; p50/p99 submit→verdict latency;
- the reference: a raw redis-py relay over the same three hops (read a batch, XADD, XACK), no work.
The corpus mixes generated reports (a tenth with a broken sum, so notices are rendered) and the
five seeds. Latency is the verdict entry's Redis time minus the submission's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench.parse_bench import corpus  # noqa: E402
from services.registry import load as load_registry  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.generator import SHAPES  # noqa: E402
from tests.portal import portal_event  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.02)
    raise RuntimeError("redis-server did not start")


def documents(n: int) -> list[tuple[bytes, str]]:
    """Generated reports, each submitted by the office it names (a tenth with a broken sum, so
    rejected with a notice), and the five seeds by theirs."""
    office_ids = {o.name: o.id for o in load_registry(ROOT / "samples/offices.yaml").offices}
    truths = [t for t in corpus(min(n, 600)) if t.office in office_ids]
    docs = []
    for k, t in enumerate(truths):
        if k % 10 == 0:
            t.t3["granted"][0] += 1  # a broken sum: rejected, a notice is rendered
        docs.append((SHAPES["pdf_text"][1](t), office_ids[t.office]))
    offices = ["xigong", "xianfeng", "xiguan", "gongren", "puxi"]
    for k, seed in enumerate(sorted((ROOT / "tests/fixtures/seeds").glob("*.txt"))):
        docs.append((seed.read_bytes(), offices[k]))
    return [docs[k % len(docs)] for k in range(n)]


def submission(k: int, data: bytes, office: str, now_ms: int) -> dict[str, str]:
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + f".{now_ms % 1000:03d}Z"
    return portal_event(f"p{k}", data, office, at)


def publish_all(client: redis.Redis, docs: list[tuple[bytes, str]]) -> None:
    """Every document at once, as a portal draining its own queue would."""
    pipe = client.pipeline(transaction=False)
    for k, (data, office) in enumerate(docs):
        pipe.xadd("intake:submissions", submission(k, data, office, int(time.time() * 1000)))
        if k % 500 == 499:
            pipe.execute()
    pipe.execute()


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / HZ, int(fields[12]) / HZ


def peak_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]) // 1024


def services(url: str, outbox: Path, root: Path = ROOT) -> dict[str, subprocess.Popen[bytes]]:
    """The three services of the checkout at ``root``, as processes."""
    env = {
        **os.environ,
        "INTAKE_REDIS_URL": url,
        "INTAKE_OFFICES_FILE": str(ROOT / "samples/offices.yaml"),
        "INTAKE_OUTBOX_DIR": str(outbox),
        "INTAKE_METRICS_PORT": "0",
        "INTAKE_BATCH": "64",
        "INTAKE_LINGER_MS": os.environ.get("INTAKE_LINGER_MS", "5"),  # (only the old loop reads it: --also)
    }
    procs = {}
    for name in ("parser", "validator", "notifier"):
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", name],
            cwd=root,
            env={**env, "INTAKE_CONSUMER": f"{name}-bench"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return procs


def ready(client: redis.Redis) -> None:
    """Until the three services have made their consumer groups (their imports are done)."""
    streams = {"intake:submissions": "parser", "intake:parsed": "validator", "intake:verdicts": "notifier"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if all(any(g["name"] == group for g in client.xinfo_groups(s)) for s, group in streams.items()):
                time.sleep(0.3)
                return
        except redis.ResponseError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the services did not start")


def stop(procs: Iterable[subprocess.Popen[bytes]], server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the services (they drain and exit), then the Redis of this phase."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(20)
    server.kill()
    server.wait()


def wait_len(client: redis.Redis, stream: str, n: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while client.xlen(stream) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{stream}: {client.xlen(stream)} of {n} after {seconds} s")
        time.sleep(0.01)


def latencies(client: redis.Redis) -> list[float]:
    out = []
    for eid, fields in client.xrange("intake:verdicts"):
        event = json.loads(fields["event"])
        submitted = dt.datetime.fromisoformat(event["submitted_at"]).timestamp()
        out.append(int(eid.split("-")[0]) / 1000 - submitted)
    return sorted(out)


def flat_out(n: int, docs: list[tuple[bytes, str]], workdir: Path, root: Path = ROOT) -> None:
    server, url = start_redis(workdir)
    client = redis.Redis.from_url(url, decode_responses=True)
    procs = services(url, workdir / "outbox", root)
    try:
        ready(client)
        cpu0 = {name: cpu_split(p.pid) for name, p in procs.items()}
        cpu0["redis"] = cpu_split(server.pid)
        start = time.time()
        publish_all(client, docs[:n])
        wait_len(client, "intake:verdicts", n, 300)
        took = time.time() - start
        pids = {**{name: p.pid for name, p in procs.items()}, "redis": server.pid}
        cpu = {
            name: [(now - before) / n * 1000 for now, before in zip(cpu_split(pid), cpu0[name], strict=True)]
            for name, pid in pids.items()
        }
        rss = {name: peak_mb(p.pid) for name, p in procs.items()}
        print(f"flat out: {n} reports in {took:.2f} s = {n / took:.0f} reports/s end to end")
        print(
            "  CPU ms per report (user + system): "
            + ", ".join(f"{k} {u + s:.2f} ({u:.2f} + {s:.2f})" for k, (u, s) in cpu.items())
        )
        print("  peak RSS MB: " + ", ".join(f"{k} {v}" for k, v in rss.items()))
    finally:
        stop(procs.values(), server)


def fixed_rate(rate: int, seconds: float, docs: list[tuple[bytes, str]], workdir: Path, root: Path = ROOT) -> None:
    server, url = start_redis(workdir)
    client = redis.Redis.from_url(url, decode_responses=True)
    procs = services(url, workdir / "outbox2", root)
    try:
        ready(client)
        n = int(rate * seconds)
        start = time.time()
        for k in range(n):
            due = start + k / rate
            while (delay := due - time.time()) > 0:
                time.sleep(min(delay, 0.002))
            data, office = docs[k % len(docs)]
            client.xadd("intake:submissions", submission(k, data, office, int(time.time() * 1000)))
        wait_len(client, "intake:verdicts", n, 120)
        lat = latencies(client)
        p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99)]
        print(f"fixed rate {rate}/s for {seconds:g} s: submit→verdict p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    finally:
        stop(procs.values(), server)


RELAY = """
import redis, sys
r = redis.Redis.from_url(sys.argv[1], decode_responses=True)
src, dst, group = sys.argv[2], sys.argv[3], "relay"
try:
    r.xgroup_create(src, group, id="0", mkstream=True)
except redis.ResponseError:
    pass
while True:
    reply = r.xreadgroup(group, "c", {src: ">"}, count=64, block=1000)
    for _s, entries in reply or []:
        pipe = r.pipeline(transaction=True)
        for eid, fields in entries:
            pipe.xadd(dst, fields)
        pipe.xack(src, group, *[e for e, _ in entries])
        pipe.execute()
"""


def raw_relay(n: int, docs: list[tuple[bytes, str]], workdir: Path) -> None:
    server, url = start_redis(workdir)
    client = redis.Redis.from_url(url, decode_responses=True)
    hops = [
        ("intake:submissions", "intake:parsed"),
        ("intake:parsed", "intake:judged"),
        ("intake:judged", "intake:verdicts"),
    ]
    procs = [subprocess.Popen([sys.executable, "-c", RELAY, url, a, b]) for a, b in hops]
    try:
        time.sleep(1)
        start = time.time()
        publish_all(client, docs[:n])
        wait_len(client, "intake:verdicts", n, 120)
        took = time.time() - start
        print(f"raw redis-py relay, same three hops, no work: {n / took:.0f} entries/s")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        server.kill()
        server.wait()


def commit(root: Path) -> str:
    done = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    return done.stdout.strip()[:90] or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--rate", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--also", type=Path, action="append", default=[], help="another checkout's services, run alike")
    args = ap.parse_args()
    docs = documents(max(args.n, int(args.rate * args.seconds)))
    # The notifier writes each notice to its outbox (three files). On this VM's disk creating a
    # file costs 60-250 µs and varies fivefold from run to run: that is the disk, not the
    # notifier, whose real channels are SMTP and webhooks. So the working directory (Redis's and
    # the outbox) is on tmpfs where there is one.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="intake-bench-", dir=shm if shm.is_dir() else None) as tmp:
        work = Path(tmp)
        for root in [ROOT, *args.also]:
            print(f"== the services of {root} (at {commit(root)})")
            flat_out(args.n, docs, work, root)
            fixed_rate(args.rate, args.seconds, docs, work, root)
        raw_relay(args.n, docs, work)


if __name__ == "__main__":
    main()
