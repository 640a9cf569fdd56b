"""Do two checkouts parse and judge uploads alike? The check behind every speed-up.

    python bench/compare_checkouts.py OTHER_CHECKOUT [--n 400] [--mutated 300]

Builds one corpus (every light shape of ``--n`` generated reports, ``--mutated`` of them mutated
at random in each shape, GB18030 copies, the heavy shapes of 25, the seeds with 20 mutations
each, a few unreadable uploads), then parses and validates it in this checkout and in
``OTHER_CHECKOUT`` (each in its own process, under two contexts) and reports every upload whose
output differs, first differences shown. Mutations: a number replaced by a blank, a placeholder,
a unit, thousands separators, full-width digits, a fraction or text; lines deleted, repeated,
swapped or joined; spaces made no-break or ideographic; artefacts and stray headings inserted.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.parse_bench import corpus  # noqa: E402
from tests.generator import SHAPES  # noqa: E402

LIGHT = ["pdf_text", "word_text", "word_text_nbsp", "markdown", "html", "html_flat"]
HEAVY = ["docx", "pdf", "docx_flat", "pdf_flat"]
NUMBERS = ["", "/", "—", "00", "x", "3件", "1,234", "-5", "1.5", "１２", "无", "12 3", "七", "0.5万元", "100元", "abc"]
LINES = ["其他事项 1 2 3", "合计 5 5 5 5 5 5 30", "一、总体情况", "本年度共收到政府信息公开申请5件。", "[bookmark: x]"]

DUMP = """
import datetime as dt, json, pickle, sys
sys.path.insert(0, sys.argv[1])
from contracts.verdict import Office, PreviousFigures
from services.parser import parse
from services.parser.errors import UnreadableUpload
from services.validator import Context, validate

contexts = [
    Context(office=Office(id="x", name="某市生态环境局"), now=dt.date(2026, 1, 20)),
    Context(office=Office(id="y", name="西工区西工街道办事处", aliases=("西工街道",)), year=2022,
            now=dt.date(2026, 1, 20), previous=PreviousFigures(year=2021, carried_forward={"total": 3},
                                                                 in_force={"rules": 5})),
]
with open(sys.argv[2], "rb") as f, open(sys.argv[3], "w") as out:
    for name, data in pickle.load(f):
        try:
            report = parse(data, name)
        except UnreadableUpload as exc:
            out.write(json.dumps({"unreadable": exc.reason.value, "detail": exc.detail}) + "\\n")
            continue
        verdicts = [json.loads(validate(report, c).model_dump_json()) for c in contexts]
        out.write(json.dumps({"report": json.loads(report.model_dump_json()), "verdicts": verdicts},
                             ensure_ascii=False) + "\\n")
"""


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        i, op = rng.randrange(len(lines)), rng.random()
        if op < 0.45 and (numbers := list(re.finditer(r"\d+(?:\.\d+)?", lines[i]))):
            m = rng.choice(numbers)
            lines[i] = lines[i][: m.start()] + rng.choice(NUMBERS) + lines[i][m.end() :]
        elif op < 0.55:
            del lines[i]
        elif op < 0.62:
            lines.insert(i, lines[i])
        elif op < 0.70:
            lines[i] = lines[i].replace(" ", "", 1)
        elif op < 0.78:
            lines.insert(i, rng.choice(LINES))
        elif op < 0.90:
            lines[i] = "\u3000" + lines[i].replace(" ", "\u00a0")
        else:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def uploads(n: int, mutated: int) -> list[tuple[str, bytes]]:
    rng = random.Random(7)
    out: list[tuple[str, bytes]] = []
    for k, truth in enumerate(corpus(n)):
        for shape in LIGHT:
            name, render = SHAPES[shape]
            data = render(truth)
            out.append((name, data))
            if k < mutated:
                out.append((name, mutate(data.decode(), rng).encode()))
                if shape == "pdf_text" and k % 3 == 0:
                    out.append((name, mutate(data.decode(), rng).encode("gb18030")))
        if k < 25:
            out += [(SHAPES[shape][0], SHAPES[shape][1](truth)) for shape in HEAVY]
    for seed in sorted((ROOT / "tests/fixtures/seeds").glob("*")):
        out.append((seed.name, seed.read_bytes()))
        out += [(seed.name, mutate(seed.read_text(encoding="utf-8"), rng).encode()) for _ in range(20)]
    return [*out, ("e.txt", b""), ("b.bin", bytes(range(256)) * 10), ("x.docx", b"PK\x03\x04garbage")]


def outputs(checkouts: list[Path], docs: list[tuple[str, bytes]]) -> list[list[str]]:
    """Each checkout's output for every upload (a JSON line each), each checkout in its own process."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus_file = Path(tmp) / "corpus.pickle"
        corpus_file.write_bytes(pickle.dumps(docs))
        out = []
        for k, checkout in enumerate(checkouts):
            lines = Path(tmp) / f"out{k}.jsonl"
            subprocess.run([sys.executable, "-c", DUMP, str(checkout), str(corpus_file), str(lines)], check=True)
            out.append(lines.read_text(encoding="utf-8").splitlines())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("other", type=Path, help="the other checkout (e.g. a git worktree of an earlier commit)")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--mutated", type=int, default=300)
    args = ap.parse_args()
    docs = uploads(args.n, args.mutated)
    here, other = outputs([ROOT, args.other.resolve()], docs)
    differing = [k for k, (a, b) in enumerate(zip(here, other, strict=True)) if a != b]
    print(f"{len(docs)} uploads, {len(differing)} with a different output")
    for k in differing[:5]:
        path, mine, theirs = first_difference(json.loads(here[k]), json.loads(other[k]))
        print(f"--- #{k} {docs[k][0]} at {path}\n  here:  {mine!r:.300}\n  other: {theirs!r:.300}")
    sys.exit(1 if differing else 0)


def first_difference(a: object, b: object, path: str = "") -> tuple[str, object, object]:
    """The JSON path of the first place where ``a`` and ``b`` differ, and both values there."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return path or ".", a, b


if __name__ == "__main__":
    main()
