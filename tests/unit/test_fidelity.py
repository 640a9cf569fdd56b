"""Real and office-made reports read to their truth, judged as the portal submits them.

The real documents (tests/fixtures/real: a WPS PDF, a portal's article HTML, a crawler's text)
and the corpus made by real office software (tests/fixtures/made: python-docx, LibreOffice's
.docx, PDF and HTML, a CMS's HTML) are held at 100 %: every cell right, no error the truth does
not name, every required rule reported, the verdict, office and year right (bench/fidelity.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.fidelity import Doc, Score, documents, score
from contracts.report import ParsedReport
from contracts.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
HELD = list(documents(("real", "made")))
_SCORES: dict[Path, tuple[Score, ParsedReport | None, Verdict]] = {}


def scored(doc: Doc) -> tuple[Score, ParsedReport | None, Verdict]:
    """Each document parsed and judged once for all the tests here."""
    if doc.path not in _SCORES:
        _SCORES[doc.path] = score(doc)
    return _SCORES[doc.path]


def test_the_made_corpus_is_there_and_large_enough() -> None:
    made = [d for d in HELD if d.corpus == "made"]
    formats = {d.path.suffix for d in made}
    assert len(made) >= 60 and {".docx", ".pdf", ".html"} <= formats
    assert {d.truth["template"] for d in made} == {"2019", "2021"}
    assert len([d for d in HELD if d.corpus == "real"]) == 3


@pytest.mark.parametrize("doc", HELD, ids=[f"{d.corpus}/{d.path.name}" for d in HELD])
def test_document_reads_and_is_judged_as_its_truth_says(doc: Doc) -> None:
    s, _, verdict = scored(doc)
    problems = [*s.wrong, *(f"false alarm: {a}" for a in s.false_alarms), *(f"missed: {m}" for m in s.missed)]
    if not s.verdict_right:
        problems.append(f"verdict {verdict.status}, truth {doc.truth['verdict']}")
    if not s.office_right:
        problems.append(f"office not found (truth: {doc.truth['office_contains']})")
    if not s.year_right:
        problems.append(f"year not found (truth: {doc.truth['year']})")
    assert not problems, "\n".join(problems)


def test_no_cell_is_silently_wrong_anywhere() -> None:
    silent = [
        (d.path.name, s.wrong) for d in documents(("real", "seeds", "made")) if (s := scored(d)[0]).silently_wrong
    ]
    assert not silent


@pytest.mark.parametrize("name", ["huaian-hongze-2024.pdf", "pingtan-2023.html", "pingtan-2019-scraped.txt"])
def test_intake_check_gives_each_real_document_its_truth(name: str) -> None:
    truth = json.loads((ROOT / "tests/fixtures/real/truth" / f"{Path(name).stem}.json").read_text(encoding="utf-8"))
    path = ROOT / "tests/fixtures/real" / name
    cmd = [sys.executable, "-m", "services.cli", "check", str(path), "--json"]
    cmd += ["--office", truth["declared_office"], "--year", str(truth["declared_year"])]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    line = json.loads(result.stdout)
    report, verdict = line["report"], line["verdict"]
    assert result.returncode == (0 if truth["verdict"] == "accepted" else 1), result.stderr
    assert truth["office_contains"] in report["office"] and report["year"] == truth["year"]
    assert verdict["status"] == truth["verdict"]
    rules = {f["rule"] for f in verdict["findings"]}
    assert set(truth["must_include"]) <= rules
    named = {*truth["must_include"], *truth.get("should_include", ())}
    assert not [f["rule"] for f in verdict["findings"] if f["severity"] == "error" and f["rule"] not in named]
    t3 = report["tables"]["t3"]
    for row, values in truth["t3"].items():
        assert [cell["value"] for cell in t3[row].values()] == values, row
