"""Instructions per report, under callgrind: a figure that does not drift with the VM.

    python bench/instructions.py [--n 20] [--what parse:pdf_text ...] [--inputs DIR]

Wall time on this machine kind drifts by ±30 % between runs, so changes are compared here by
instruction count (valgrind's callgrind, deterministic to a fraction of a per cent). Each figure
is (run with k+1 passes − run with 1 pass) / k / documents: imports, corpus generation and the
first pass's warm-up cancel out. Two runs of the same code agree within ~1 % with the default
6 passes (~3 % with 3). On a quiet core ~10 instructions take a nanosecond; under load
this VM often manages a third of that, which is what the wall-clock benchmarks then show.

What can be measured: ``parse:<shape>`` for the light shapes of tests/generator.py and ``seeds``,
``encode`` and ``decode`` (a ``ReportParsed`` event of the pdf_text corpus, to and from JSON),
``validate`` (the pdf_text corpus, parsed beforehand).
"""

from __future__ import annotations

import argparse
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.parse_bench import corpus  # noqa: E402
from tests.generator import SHAPES  # noqa: E402

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
import datetime as dt, pickle, sys
sys.path.insert(0, {root!r})
from contracts.events import ReportParsed
from contracts.verdict import Office
from services.parser import parse
from services.validator import Context, validate

what, passes = {what!r}, {passes}
with open({inputs!r}, "rb") as f:
    docs = pickle.load(f)
if not what.startswith("parse:"):
    now = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
    reports = [parse(d) for d in docs]
    events = [
        ReportParsed(event_id="e", submission_id="s", office_id="o", occurred_at=now, producer="parser",
                     file_name="r.txt", submitted_at=now, report=r)
        for r in reports
    ]
    wire = [e.model_dump_json() for e in events]
    # each report judged as its own office's submission of its own year: the clean case
    ctxs = [Context(office=Office(id="x", name=r.office or "x"), year=r.year, now=now.date()) for r in reports]
size = len(docs) // ({passes_max} + 1) if what.startswith("parse:") else len(docs)
for p in range(passes):
    if what.startswith("parse:"):
        # pass p reads documents it has not seen (what the parser remembers stays realistic)
        for d in docs[p * size : (p + 1) * size]:
            parse(d)
    elif what == "encode":
        for e in events:
            e.model_dump_json()
    elif what == "decode":
        for w in wire:
            ReportParsed.model_validate_json(w)
    elif what == "validate":
        for r, ctx in zip(reports, ctxs):
            validate(r, ctx)
"""


def documents(what: str, n: int, passes: int) -> list[bytes]:
    """The inputs, made once in this process, so that both measured runs read the same ones.

    For parsing, ``n`` new documents for each pass: the parser remembers the words, cells and
    lines it has read (they recur from report to report), and a pass over documents it has
    already read would find every line remembered, which a stream of new reports does not.
    The five seeds are the exception: the same five in every pass.
    """
    if what == "parse:seeds":
        return [p.read_bytes() for p in sorted((ROOT / "tests/fixtures/seeds").glob("*.txt"))] * (passes + 1)
    if what.startswith("parse:"):
        return [SHAPES[what.split(":", 1)[1]][1](t) for t in corpus(n * (passes + 1))]
    return [SHAPES["pdf_text"][1](t) for t in corpus(n)]


def instructions(what: str, inputs: Path, passes: int, passes_max: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        script = Path(tmp) / "child.py"
        script.write_text(
            CHILD.format(root=str(ROOT), what=what, inputs=str(inputs), passes=passes, passes_max=passes_max)
        )
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, str(script)],
            capture_output=True,
            # no .pyc written: a module edited since its last import would otherwise be compiled in
            # the first run only, and its compilation subtracted from the figure
            env={"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
            check=True,
        )
        total = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.M)
        return int(total.group(1))  # type: ignore[union-attr]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20, help="generated reports per measurement")
    ap.add_argument("--passes", type=int, default=6, help="passes counted (after the first)")
    ap.add_argument("--what", action="append", help=f"what to measure (default: {' '.join(DEFAULT)})")
    ap.add_argument(
        "--inputs",
        type=Path,
        help="keep the generated documents here (made when missing): two checkouts compared on the same ones",
    )
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    print(f"{'what':<24} {'M instructions / report':>24}")
    with tempfile.TemporaryDirectory() as tmp:
        for what in args.what or DEFAULT:
            inputs = (args.inputs or Path(tmp)) / f"{what.replace(':', '-')}-{args.n}x{args.passes + 1}.pickle"
            if not inputs.exists():
                inputs.parent.mkdir(parents=True, exist_ok=True)
                inputs.write_bytes(pickle.dumps(documents(what, args.n, args.passes)))
            docs = pickle.loads(inputs.read_bytes())
            per_pass = len(docs) // (args.passes + 1) if what.startswith("parse:") else len(docs)
            one = instructions(what, inputs, 1, args.passes)
            more = instructions(what, inputs, 1 + args.passes, args.passes)
            print(f"{what:<24} {(more - one) / args.passes / per_pass / 1e6:>24.2f}")


if __name__ == "__main__":
    main()
