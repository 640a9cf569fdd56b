"""Scanned reports read by the real OCR (RapidOCR): clean scans to their truth, spoilt ones
(turned, noisy) with nothing read wrong without a word: a cell not read with confidence is
uncertain and named, and such a scan is not accepted. (Seconds a page: a few documents only;
bench/fidelity.py --corpus scans measures them all.)"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bench.fidelity import Doc, score
from services.parser import parse

SCANS = Path(__file__).resolve().parents[1] / "fixtures" / "scans"


def _doc(name: str) -> Doc:
    return Doc(SCANS / name, json.loads((SCANS / f"{name}.json").read_text(encoding="utf-8")), "scans")


@pytest.mark.parametrize("name", ["eco-2020.scan150.pdf", "huaian-hongze-2024.scan200.pdf"])
def test_a_clean_scan_reads_to_its_truth(name: str) -> None:
    start = time.monotonic()
    s, report, _ = score(_doc(name))
    assert time.monotonic() - start < 60
    assert s.perfect, [*s.wrong, *s.false_alarms, *s.missed]
    assert report is not None and report.scanned_pages >= 4
    cells = [c for table in (report.tables.t3 or {}).values() for c in table.values()]
    assert cells and all(c.get("source") == "ocr" and c.get("confidence", 0) >= 0.9 for c in cells)


def test_a_png_of_table_three_reads_its_rows() -> None:
    report = parse((SCANS / "puxi-2020.t3-page.png").read_bytes(), "page.png")
    assert report.format == "image" and report.tables.t3 is not None
    s, _, _ = score(_doc("puxi-2020.t3-page.png"))
    assert s.right >= s.cells - 1 and s.silently_wrong == 0


def test_a_spoilt_scan_reads_nothing_wrong_without_a_word() -> None:
    s, report, verdict = score(_doc("market-2022.scan150-rot.pdf"))
    assert s.silently_wrong == 0
    rules = {f.rule for f in verdict.findings}
    assert report is not None and report.scanned_pages
    uncertain = [
        c
        for t in (report.tables.t2, report.tables.t3, report.tables.t4)
        for r in (t or {}).values()
        for c in r.values()
        if c.get("state") == "uncertain"
    ]
    # an accepted scan is one whose every cell was read with confidence, and the others are told why
    assert bool(uncertain) == ("DOC-SCAN-UNCERTAIN" in rules)
    if uncertain:
        assert "TPL-CELL-UNCERTAIN" in rules and verdict.status == "rejected"
        assert all(c["value"] is None and c.get("source") == "ocr" for c in uncertain)
