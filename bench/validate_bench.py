"""Validator and notice throughput on one core: reports/s, µs/report; parse+validate per shape.

    python bench/validate_bench.py [--n 300] [--repeat 5]

Reports are the generated corpus of tests/generator.py (valid ones, and the same with one cell of
table 三 changed so that some rules fail) plus the five seeds, parsed once beforehand. Each report
is judged as a submission of the office it names, for the year it states (so a valid report is
accepted without a finding). Parse+validate reads new documents in every pass, as parse_bench
does. The collector is set as the services set it (``quiet_gc``).

Two figures for valid reports, because where a report sits in memory matters as much as the
rules: "as the service" decodes each report from its ``ReportParsed`` event just before judging
it, as the validator service does, and times the judging only (the report is then in the CPU's
caches, as it is in the service); the other rows judge reports parsed long before, in turn,
~25 MB of them, so that every cell is read from memory (~30 µs a report more: reading the
~220 cells alone takes 6 µs in cache and 19-30 µs out of it).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.parse_bench import corpus  # noqa: E402
from contracts.events import ReportParsed  # noqa: E402
from contracts.notice import SubmissionRef  # noqa: E402
from contracts.verdict import Office  # noqa: E402
from services.cli.pipeline import quiet_gc  # noqa: E402
from services.notifier.notice import render_notice  # noqa: E402
from services.parser import parse  # noqa: E402
from services.validator import Context, validate  # noqa: E402
from tests.generator import SHAPES  # noqa: E402

TODAY = dt.date(2026, 1, 20)


def best(fn: Callable[[int], object], passes: int) -> float:
    """The best time of ``fn(k)`` for k = 1 … passes, after ``fn(0)`` as a warm-up."""
    fn(0)
    result = float("inf")
    for k in range(1, passes + 1):
        start = time.perf_counter()
        fn(k)
        result = min(result, time.perf_counter() - start)
    return result


def judged_as_decoded(wires: Sequence[tuple[str, Context]], passes: int) -> float:
    """The best pass's time spent in ``validate``, each report decoded from its event just before."""
    best_ = float("inf")
    clock = time.perf_counter
    for k in range(passes + 1):
        took = 0.0
        for wire, ctx in wires:
            report = ReportParsed.model_validate_json(wire).report
            start = clock()
            validate(report, ctx)
            took += clock() - start
        if k:  # the first pass warms up
            best_ = min(best_, took)
    return best_


def own_context(office: str | None, year: int | None) -> Context:
    return Context(office=Office(id="x", name=office or "x"), year=year, now=TODAY)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    truths = corpus(args.n * (args.repeat + 1))
    first = truths[: args.n]
    broken = []
    for t in first:
        b = copy.deepcopy(t)
        b.t3["granted"][0] += 1
        broken.append(b)
    render = SHAPES["pdf_text"][1]
    valid = [parse(render(t)) for t in first]
    failing = [parse(render(t)) for t in broken]
    seeds = [parse(p.read_bytes()) for p in sorted((ROOT / "tests/fixtures/seeds").glob("*.txt"))] * 20
    groups = {
        shape: [
            [(SHAPES[shape][1](t), own_context(t.office, t.year)) for t in truths[k * args.n : (k + 1) * args.n]]
            for k in range(args.repeat + 1)
        ]
        for shape in ("pdf_text", "word_text", "markdown", "html")
    }
    verdicts = [(validate(r, own_context(r.office, r.year)), r) for r in failing]
    quiet_gc()

    now = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
    wires = [
        (
            ReportParsed(
                event_id="e",
                submission_id="s",
                office_id="o",
                occurred_at=now,
                producer="parser",
                file_name="r.txt",
                submitted_at=now,
                report=r,
            ).model_dump_json(),
            own_context(r.office, r.year),
        )
        for r in valid
    ]
    rows = [("validate: valid reports, as the service", len(wires), judged_as_decoded(wires, args.repeat))]
    for name, reports in (("valid reports", valid), ("reports failing sums", failing), ("seeds", seeds)):
        pairs = [(r, own_context(r.office, r.year)) for r in reports]
        took = best(lambda _k, ps=pairs: [validate(r, c) for r, c in ps], args.repeat)
        rows.append((f"validate: {name}", len(reports), took))
    ref = SubmissionRef(
        submission_id="s", file_name="r.txt", declared_year=2020, submitted_at=dt.datetime(2021, 1, 20, 9)
    )
    office = Office(id="x", name="某市生态环境局")
    took = best(lambda _k: [render_notice(v, r, office, ref, dt.date(2021, 1, 21)) for v, r in verdicts], args.repeat)
    rows.append(("render notice (rejection)", len(verdicts), took))
    for shape, shape_groups in groups.items():
        fname = SHAPES[shape][0]

        def parse_validate(k: int, gs: Sequence[list[tuple[bytes, Context]]] = shape_groups, f: str = fname) -> None:
            for data, ctx in gs[k]:
                validate(parse(data, f), ctx)

        took = best(parse_validate, args.repeat)
        rows.append((f"parse+validate: {shape}", args.n, took))
    print(f"{'what':36} {'n':>5} {'per s':>9} {'µs each':>9}")
    for name, n, took in rows:
        print(f"{name:36} {n:5d} {n / took:9.0f} {took / n * 1e6:9.0f}")


if __name__ == "__main__":
    main()
