"""What a parsed rendering must give back: exactly the generated truth."""

from __future__ import annotations

from contracts.report import ParsedReport
from tests.generator import Truth


def assert_same(truth: Truth, report: ParsedReport) -> None:
    assert report.office is not None and truth.office in report.office, report.office
    assert report.year == truth.year
    assert report.template == truth.template
    assert report.signed_on == truth.signed_on
    assert list(report.sections) == ["overview", "proactive", "requests", "appeals", "problems", "other"]
    t2, t3, t4 = report.tables.t2, report.tables.t3, report.tables.t4
    assert t2 is not None and t3 is not None and t4 is not None
    got2 = {r: {c: cell["value"] for c, cell in cols.items()} for r, cols in t2.items()}
    assert got2 == truth.t2
    got3 = {r: [cell["value"] for cell in cols.values()] for r, cols in t3.items()}
    assert got3 == truth.t3
    got4 = {g: [cell["value"] for cell in cols.values()] for g, cols in t4.items()}
    assert got4 == truth.t4
    rows = (report.rows.t2, report.rows.t3, report.rows.t4)
    uncertain = [r for table in rows for r, read in table.items() if read["uncertain"]]
    assert not uncertain
    assert report.extra_rows == ()
