"""What the parsing sandbox costs: each upload read in this process and through the sandbox's
warm child, side by side, and what a new child costs (after a death, or after a scan).

    python bench/sandbox_bench.py [--repeat 20]

Uploads: the real documents and the made .docx/.pdf/.html of tests/fixtures. Each is read
``--repeat`` times both ways after a warm-up; the median counts. A "fresh child" is the time of
the first upload after the child is replaced (the fork from the forkserver and its first read).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.parser import parse  # noqa: E402
from services.parser.limits import Limits  # noqa: E402
from services.parser.sandbox import Sandbox  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"


def uploads() -> dict[str, list[tuple[str, bytes]]]:
    kinds: dict[str, list[tuple[str, bytes]]] = {}
    paths = sorted((FIXTURES / "real").glob("*.*")) + sorted((FIXTURES / "made").glob("*.*"))
    for path in paths:
        kind = path.suffix.lstrip(".")
        if kind in {"json", "md", "doc", "wps"}:
            continue  # truths; legacy Word is ~1 s of LibreOffice either way
        kinds.setdefault(kind, []).append((path.name, path.read_bytes()))
    return kinds


def median_ms(read, docs: list[tuple[str, bytes]], repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        for name, data in docs:
            start = time.perf_counter()
            with contextlib.suppress(Exception):  # unreadable uploads are read too: the same cost both ways
                read(data, name)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    box = Sandbox(Limits())
    try:
        kinds = uploads()
        all_docs = [d for docs in kinds.values() for d in docs]
        median_ms(box.parse, all_docs[:1], 1)  # the forkserver and the first child
        median_ms(parse, all_docs, 1)  # warm-up
        print(f"{'kind':6} {'docs':>5} {'in process ms':>14} {'sandbox ms':>11} {'cost ms':>8}")
        for kind, docs in sorted(kinds.items()):
            inproc = median_ms(lambda d, n: parse(d, n), docs, args.repeat)
            boxed = median_ms(box.parse, docs, args.repeat)
            print(f"{kind:6} {len(docs):5d} {inproc:14.2f} {boxed:11.2f} {boxed - inproc:8.2f}")
        fresh = []
        name, data = kinds["docx"][0]
        for _ in range(args.repeat):
            box.close()  # the next upload forks a new child
            start = time.perf_counter()
            box.parse(data, name)
            fresh.append(time.perf_counter() - start)
        warm = median_ms(box.parse, [(name, data)], args.repeat)
        first = statistics.median(fresh) * 1000
        print(f"fresh child (fork + first read of {name}): {first:.1f} ms, warm {warm:.1f} ms")
    finally:
        box.close()


if __name__ == "__main__":
    main()
