"""Fidelity on real and office-made reports: what the intake reads and concludes, against the truth.

    python bench/fidelity.py [--json] [--corpus real|seeds|made ...] [FILE ...]

Each document is checked as the portal submits it: parsed, then judged with the office and year
the submission declares (``declared_office`` / ``declared_year`` in its truth; for the seeds, the
sample registry's office whose name holds ``office_contains``, and the truth's year). Per file and
in total:

- cells right / cells: every table 二/三/四 cell the truth gives (a blank cell's truth is null);
- silently wrong: a cell read wrong (or not read) with no finding on its row: a wrong figure the
  office would never be told about, the worst a reader can do;
- false alarms: error findings the truth does not name (``must_include`` / ``should_include``);
- missed: rules the truth requires that were not reported;
- verdict right, and the office and year found;
- for the scans at 150 dpi (issue 15's measure), their table 三/四 cells: right, uncertain (lost
  with a finding on the row: the office is told it could not be read) and silently wrong.

Exit status 0; ``--strict``: 1 when any cell is wrong, any false alarm or missed rule, any verdict,
office or year wrong (what tests/unit/test_fidelity.py holds for the real and made corpora).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from contracts.report import ParsedReport, cell_state  # noqa: E402
from contracts.template import TEMPLATES  # noqa: E402
from contracts.verdict import Office, Verdict  # noqa: E402
from services.parser import UnreadableUpload, parse  # noqa: E402
from services.validator import Context, unreadable, validate  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
T4_ORDER = [
    (g, c) for g in ("review", "litigation_direct", "litigation_after_review") for c in TEMPLATES["2021"].t4.columns
]


@dataclass
class Doc:
    path: Path
    truth: dict[str, Any]
    corpus: str


def documents(corpora: Iterable[str] = ("real", "seeds", "made", "scans")) -> Iterator[Doc]:
    """The documents of each corpus with their truth, in a stable order."""
    for corpus in corpora:
        if corpus == "real":
            for truth_file in sorted((FIXTURES / "real" / "truth").glob("*.json")):
                truth = json.loads(truth_file.read_text(encoding="utf-8"))
                yield Doc(FIXTURES / "real" / truth["file"], truth, corpus)
        elif corpus == "seeds":
            for path in sorted((FIXTURES / "seeds").glob("*.txt")):
                truth = json.loads((FIXTURES / "truth" / f"{path.stem}.json").read_text(encoding="utf-8"))
                yield Doc(path, truth, corpus)
        elif corpus in ("made", "scans"):
            for truth_file in sorted((FIXTURES / corpus).glob("*.json")):
                truth = json.loads(truth_file.read_text(encoding="utf-8"))
                yield Doc(truth_file.parent / truth["file"], truth, corpus)
        else:
            raise ValueError(f"no corpus named {corpus!r}")


def _registry() -> list[Office]:
    data = yaml.safe_load((ROOT / "samples" / "offices.yaml").read_text(encoding="utf-8"))
    return [Office(id=o["id"], name=o["name"], aliases=tuple(o.get("aliases", ()))) for o in data["offices"]]


def context(truth: dict[str, Any]) -> Context:
    """What the portal declares with the submission."""
    name = truth.get("declared_office")
    office = Office(id="declared", name=name) if name else None
    if office is None:
        office = next((o for o in _registry() if truth["office_contains"] in o.name), None)
    year = truth.get("declared_year", truth.get("year"))
    return Context(office=office, year=year, now=dt.date(year + 1, 3, 1) if year else None)


@dataclass
class Score:
    file: str
    corpus: str
    format: str | None
    cells: int = 0
    right: int = 0
    silently_wrong: int = 0
    false_alarms: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    verdict_right: bool = False
    office_right: bool = False
    year_right: bool = False
    wrong: list[str] = field(default_factory=list)  # table/row/column: read → truth (silent marked)
    dpi: int | None = None  # a scan's resolution
    by_table: dict[str, list[int]] = field(default_factory=dict)  # table: [cells, right, silently wrong]

    @property
    def perfect(self) -> bool:
        return (
            self.right == self.cells
            and not self.false_alarms
            and not self.missed
            and self.verdict_right
            and self.office_right
            and self.year_right
        )


def _truth_cells(truth: dict[str, Any]) -> Iterator[tuple[str, str, str, object]]:
    """(table, row, column, value) for every cell the truth gives; values as the report holds them."""
    for row, cols in (truth.get("t2") or {}).items():
        for col, value in cols.items():
            yield "t2", row, col, value
    if truth.get("t3"):
        columns = list(TEMPLATES["2021"].t3.columns)
        for row, values in truth["t3"].items():
            for col, value in zip(columns, values, strict=True):
                yield "t3", row, col, value
    if truth.get("t4"):
        for (group, col), value in zip(T4_ORDER, truth["t4"], strict=True):
            yield "t4", group, col, value


UNCERTAIN = "<uncertain>"  # a cell that could not be read with confidence is never right, even where the truth is blank


def _read(report: ParsedReport | None, table: str, row: str, col: str) -> object:
    cells = getattr(report.tables, table) if report is not None else None
    cell = ((cells or {}).get(row) or {}).get(col)
    if cell is None:
        return None
    if cell_state(cell) == "uncertain":
        return UNCERTAIN
    value = cell["value"]
    return str(value) if table == "t2" and value is not None else value


def score(doc: Doc) -> tuple[Score, ParsedReport | None, Verdict]:
    truth = doc.truth
    ctx = context(truth)
    try:
        report: ParsedReport | None = parse(doc.path.read_bytes(), doc.path.name)
    except UnreadableUpload as exc:
        report = None
        verdict = unreadable(exc.reason, exc.detail)
    else:
        verdict = validate(report, ctx)
    s = Score(doc.path.name, doc.corpus, report.format if report else None, dpi=(truth.get("scan") or {}).get("dpi"))
    flagged = {(f.location.table, f.location.row) for f in verdict.findings}
    for table, row, col, want in _truth_cells(truth):
        s.cells += 1
        tally = s.by_table.setdefault(table, [0, 0, 0])
        tally[0] += 1
        got = _read(report, table, row, col)
        if got == want:
            s.right += 1
            tally[1] += 1
            continue
        silent = report is not None and (table, row) not in flagged and (table, None) not in flagged
        s.silently_wrong += silent
        tally[2] += silent
        s.wrong.append(f"{table}/{row}/{col}: {got!r} for {want!r}" + (" (silent)" if silent else ""))
    named = {*truth.get("must_include", ()), *truth.get("should_include", ())}
    s.false_alarms = sorted(
        f"{f.rule} {f.location.table or f.location.section or ''}/{f.location.row or ''}/{f.location.column or ''}"
        for f in verdict.findings
        if f.severity == "error" and f.rule not in named
    )
    found = {f.rule for f in verdict.findings}
    s.missed = sorted(set(truth.get("must_include", ())) - found)
    if truth.get("partial"):  # one page of a report: only its cells are judged
        s.false_alarms, s.missed = [], []
        s.verdict_right = s.office_right = s.year_right = report is not None
        return s, report, verdict
    s.verdict_right = verdict.status == truth["verdict"]
    s.office_right = report is not None and truth["office_contains"] in (report.office or "")
    s.year_right = report is not None and report.year == truth["year"]
    return s, report, verdict


def _totals(scores: list[Score]) -> dict[str, Any]:
    cells = sum(s.cells for s in scores)
    right = sum(s.right for s in scores)
    return {
        "documents": len(scores),
        "cells": cells,
        "right": right,
        "right_pct": round(100 * right / cells, 2) if cells else 100.0,
        "silently_wrong": sum(s.silently_wrong for s in scores),
        "false_alarms": sum(len(s.false_alarms) for s in scores),
        "missed": sum(len(s.missed) for s in scores),
        "verdicts_right": sum(s.verdict_right for s in scores),
        "office_right": sum(s.office_right for s in scores),
        "year_right": sum(s.year_right for s in scores),
        "perfect": sum(s.perfect for s in scores),
    }


def scan_tables(scores: list[Score], dpi: int = 150) -> dict[str, int] | None:
    """Table 三/四's cells on the scans at ``dpi``: right, uncertain, silently wrong (None: no such scan)."""
    tallies = [s.by_table.get(t, [0, 0, 0]) for s in scores if s.dpi == dpi for t in ("t3", "t4")]
    if not tallies:
        return None
    cells, right, silent = (sum(t[k] for t in tallies) for k in range(3))
    return {"cells": cells, "right": right, "uncertain": cells - right - silent, "silently_wrong": silent}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="only these documents (by file name or path)")
    ap.add_argument("--corpus", action="append", choices=["real", "seeds", "made", "scans"], help="default: all")
    ap.add_argument("--json", action="store_true", help="one JSON object a document, then the totals")
    ap.add_argument("--strict", action="store_true", help="exit 1 unless every document is read and judged right")
    args = ap.parse_args(argv)
    docs = list(documents(args.corpus or ("real", "seeds", "made", "scans")))
    if args.files:
        names = {p.name for p in args.files}
        docs = [d for d in docs if d.path.name in names]
    scores = [score(d)[0] for d in docs]
    groups: dict[str, list[Score]] = {}
    for s in scores:
        groups.setdefault(f"{s.corpus}/{s.format or 'unreadable'}", []).append(s)
    if args.json:
        for s in scores:
            print(json.dumps({**asdict(s), "perfect": s.perfect}, ensure_ascii=False))
        totals = {"groups": {k: _totals(v) for k, v in groups.items()}, "total": _totals(scores)}
        print(json.dumps({**totals, "t34_150dpi": scan_tables(scores)}))
    else:
        for s in scores:
            mark = "ok " if s.perfect else "BAD"
            meta = ("" if s.office_right else " office?") + ("" if s.year_right else " year?")
            print(
                f"{mark} {s.corpus:5} {s.file[:44]:44} cells {s.right:3}/{s.cells:<3} silent {s.silently_wrong:<2}"
                f" false alarms {len(s.false_alarms)} missed {len(s.missed)}"
                f" verdict {'ok' if s.verdict_right else 'WRONG'}{meta}"
            )
            for line in [
                *s.wrong[:12],
                *(f"false alarm: {a}" for a in s.false_alarms),
                *(f"missed: {m}" for m in s.missed),
            ]:
                print(f"      {line}")
        print()
        head = ("group", "docs", "cells right", "", "silent", "false alarms", "missed", "verdicts")
        print("{:22} {:>4} {:>13} {:>6} {:>6} {:>12} {:>6} {:>8}".format(*head))
        for name, group in [*sorted(groups.items()), ("total", scores)]:
            t = _totals(group)
            print(
                f"{name:22} {t['documents']:4} {t['right']:6}/{t['cells']:<6} {t['right_pct']:5.1f}%"
                f" {t['silently_wrong']:6} {t['false_alarms']:12} {t['missed']:6}"
                f" {t['verdicts_right']:4}/{t['documents']:<3}"
            )
        if t34 := scan_tables(scores):
            print(
                f"table 三/四 at 150 dpi: {t34['right']}/{t34['cells']} right"
                f" ({100 * t34['right'] / t34['cells']:.1f}%), {t34['uncertain']} uncertain,"
                f" {t34['silently_wrong']} silently wrong"
            )
    if args.strict and not all(s.perfect for s in scores):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
