"""Validator and notice throughput on one core: reports/s, µs/report; parse+validate per shape.

    python bench/validate_bench.py [--n 300] [--repeat 5]

Reports are the generated corpus of tests/generator.py (valid ones, and the same with one cell of
table 三 changed so that some rules fail) plus the five seeds, parsed once beforehand.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.parse_bench import corpus  # noqa: E402
from contracts.notice import SubmissionRef  # noqa: E402
from contracts.verdict import Office  # noqa: E402
from services.notifier.notice import render_notice  # noqa: E402
from services.parser import parse  # noqa: E402
from services.validator import Context, validate  # noqa: E402
from tests.generator import SHAPES  # noqa: E402


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn()
    result = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        result = min(result, time.perf_counter() - start)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    truths = corpus(args.n)
    broken = []
    for t in truths:
        b = copy.deepcopy(t)
        b.t3["granted"][0] += 1
        broken.append(b)
    render = SHAPES["pdf_text"][1]
    valid = [parse(render(t)) for t in truths]
    failing = [parse(render(t)) for t in broken]
    seeds = [parse(p.read_bytes()) for p in sorted((ROOT / "tests/fixtures/seeds").glob("*.txt"))] * 20
    ctx = Context(office=Office(id="x", name="某市生态环境局"), year=None, now=dt.date(2026, 1, 20))
    rows = []
    for name, reports in (("valid reports", valid), ("reports failing sums", failing), ("seeds", seeds)):
        took = best(lambda rs=reports: [validate(r, ctx) for r in rs], args.repeat)
        rows.append((f"validate: {name}", len(reports), took))
    verdicts = [(validate(r, ctx), r) for r in failing]
    ref = SubmissionRef(
        submission_id="s", file_name="r.txt", declared_year=2020, submitted_at=dt.datetime(2021, 1, 20, 9)
    )
    office = Office(id="x", name="某市生态环境局")
    took = best(lambda: [render_notice(v, r, office, ref, dt.date(2021, 1, 21)) for v, r in verdicts], args.repeat)
    rows.append(("render notice (rejection)", len(verdicts), took))
    for shape in ("pdf_text", "word_text", "markdown", "html"):
        fname, rend = SHAPES[shape]
        docs = [rend(t) for t in truths]
        took = best(lambda ds=docs, f=fname: [validate(parse(d, f), ctx) for d in ds], args.repeat)
        rows.append((f"parse+validate: {shape}", len(docs), took))
    print(f"{'what':36} {'n':>5} {'per s':>9} {'µs each':>9}")
    for name, n, took in rows:
        print(f"{name:36} {n:5d} {n / took:9.0f} {took / n * 1e6:9.0f}")


if __name__ == "__main__":
    main()
