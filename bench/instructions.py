"""Instructions per report, under callgrind: a figure that does not drift with the VM.

    python bench/instructions.py [--n 20] [--what parse:pdf_text ...]

Wall time on this machine kind drifts by ±30 % between runs, so changes are compared here by
instruction count (valgrind's callgrind, deterministic to a fraction of a per cent). Each figure
is (run with k+1 passes − run with 1 pass) / k / documents: imports, corpus generation and the
first pass's warm-up cancel out. On a quiet core ~10 instructions take a nanosecond; under load
this VM often manages a third of that, which is what the wall-clock benchmarks then show.

What can be measured: ``parse:<shape>`` for the light shapes of tests/generator.py and ``seeds``,
``encode`` and ``decode`` (a ``ReportParsed`` event of the pdf_text corpus, to and from JSON),
``validate`` (the pdf_text corpus, parsed beforehand).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULT = [
    "parse:seeds",
    "parse:pdf_text",
    "parse:word_text",
    "parse:word_text_nbsp",
    "parse:markdown",
    "parse:html",
    "encode",
    "decode",
    "validate",
]

CHILD = """
import datetime as dt, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from bench.parse_bench import corpus
from contracts.events import ReportParsed
from contracts.verdict import Office
from services.parser import parse
from services.validator import Context, validate
from tests.generator import SHAPES

what, n, passes = {what!r}, {n}, {passes}
if what == "parse:seeds":
    docs = [p.read_bytes() for p in sorted(Path({root!r}, "tests/fixtures/seeds").glob("*.txt"))]
elif what.startswith("parse:"):
    render = SHAPES[what.split(":", 1)[1]][1]
    docs = [render(t) for t in corpus(n)]
else:
    now = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
    reports = [parse(SHAPES["pdf_text"][1](t)) for t in corpus(n)]
    events = [
        ReportParsed(event_id="e", submission_id="s", office_id="o", occurred_at=now, producer="parser",
                     file_name="r.txt", submitted_at=now, report=r)
        for r in reports
    ]
    wire = [e.model_dump_json() for e in events]
    ctx = Context(office=Office(id="x", name="某市生态环境局"), year=None, now=now.date())
for _ in range(passes):
    if what.startswith("parse:"):
        for d in docs:
            parse(d)
    elif what == "encode":
        for e in events:
            e.model_dump_json()
    elif what == "decode":
        for w in wire:
            ReportParsed.model_validate_json(w)
    elif what == "validate":
        for r in reports:
            validate(r, ctx)
print("DOCS", len(docs) if what.startswith("parse:") else len(reports))
"""


def instructions(what: str, n: int, passes: int) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        script = Path(tmp) / "child.py"
        script.write_text(CHILD.format(root=str(ROOT), what=what, n=n, passes=passes))
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, str(script)],
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"},
            check=True,
        )
        docs = int(re.search(r"DOCS (\d+)", proc.stdout).group(1))  # type: ignore[union-attr]
        total = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.M)
        return int(total.group(1)), docs  # type: ignore[union-attr]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20, help="generated reports per measurement")
    ap.add_argument("--passes", type=int, default=3, help="passes counted (after the first)")
    ap.add_argument("--what", action="append", help=f"what to measure (default: {' '.join(DEFAULT)})")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    print(f"{'what':<24} {'M instructions / report':>24}")
    for what in args.what or DEFAULT:
        one, docs = instructions(what, args.n, 1)
        more, _ = instructions(what, args.n, 1 + args.passes)
        print(f"{what:<24} {(more - one) / args.passes / docs / 1e6:>24.2f}")


if __name__ == "__main__":
    main()
