"""The five real uploads parse to what ../shared/corpus/truth says they contain."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.report import cell_state
from contracts.template import TEMPLATES
from services.parser import parse
from tests.conftest import SEEDS, truth_of

T4_ORDER = [
    (g, c)
    for g in ("review", "litigation_direct", "litigation_after_review")
    for c in ("upheld", "corrected", "other", "pending", "total")
]


@pytest.fixture(scope="module", params=SEEDS, ids=[s.stem[:3] for s in SEEDS])
def seed(request: pytest.FixtureRequest) -> tuple[Path, dict, object]:  # type: ignore[type-arg]
    path: Path = request.param
    return path, truth_of(path), parse(path.read_bytes(), path.name)


def test_metadata_matches_truth(seed) -> None:  # type: ignore[no-untyped-def]
    _, truth, report = seed
    assert truth["office_contains"] in (report.office or "")
    assert report.year == truth["year"]
    assert report.template == truth["template"]
    if "signed_on" in truth:
        assert str(report.signed_on) == truth["signed_on"]


def test_table_values_match_truth(seed) -> None:  # type: ignore[no-untyped-def]
    _, truth, report = seed
    cols = list(TEMPLATES[truth["template"]].t3.columns)
    for row_id, values in truth["t3"].items():
        assert [report.tables.t3[row_id][c]["value"] for c in cols] == values, row_id
    got4 = [report.tables.t4[g][c]["value"] for g, c in T4_ORDER]
    assert got4 == truth["t4"]
    for row_id, cells in truth.get("t2", {}).items():
        for col, value in cells.items():
            assert str(report.tables.t2[row_id][col]["value"]) == value


def test_every_section_and_table_found_where_present(seed) -> None:  # type: ignore[no-untyped-def]
    path, _, report = seed
    expected = ["overview", "proactive", "requests", "appeals", "problems", "other"]
    if path.name.startswith("001"):
        expected.remove("other")  # the document ends after 五 and the signature
    assert list(report.sections) == expected
    assert report.tables.t2 and report.tables.t3 and report.tables.t4


def test_procurement_amount_keeps_its_unit_in_raw() -> None:
    r001 = parse(SEEDS[1].read_bytes())
    cell = r001.tables.t2["procurement"]["amount"]
    assert (cell["raw"], str(cell["value"]), cell.get("unit"), cell["line"]) == ("138.31万元", "138.31", "万元", 88)
    r004 = parse(SEEDS[4].read_bytes())
    cell = r004.tables.t2["procurement"]["amount"]
    assert (cell["raw"], cell.get("unit")) == ("0.00元", "元")


def test_leading_zeros_keep_their_raw_text() -> None:
    cell = parse(SEEDS[3].read_bytes()).tables.t3["denied.prohibited_by_law"]["natural_person"]
    assert (cell["raw"], cell["value"], cell_state(cell)) == ("00", 0, "read")


def test_rows_with_six_values_are_uncertain_and_keep_them() -> None:
    report = parse(SEEDS[2].read_bytes())
    results = [r.id for r in TEMPLATES["2021"].t3.rows][2:-2]
    assert len(results) == 21
    for row_id in results:
        read = report.rows.t3[row_id]
        assert read["uncertain"], row_id
        assert [c["raw"] for c in read["unplaced"]] == ["0"] * 6
        assert all(cell_state(c) == "missing" and c["value"] is None for c in report.tables.t3[row_id].values())
    assert not report.rows.t3["new_received"]["uncertain"]


def test_headings_are_kept_as_written() -> None:
    report = parse(SEEDS[4].read_bytes())
    assert report.sections["overview"].heading == "1、 总体情况"
    assert report.sections["other"].heading == "六、其他需要报告的事项"


def test_heading_repeated_before_the_title_is_not_the_section() -> None:
    report = parse(SEEDS[0].read_bytes())
    assert report.sections["overview"].line == 6
    assert report.title == "西工区西工街道办事处2020年政府信息公开工作年度报告"


def test_title_broken_over_two_lines_is_joined() -> None:
    assert parse(SEEDS[3].read_bytes()).title == "银州区工人街道2019年度政府信息工作年度报告"
    assert parse(SEEDS[1].read_bytes()).title == "2020年度咸丰路街道办事处信息公开工作年度报告"


def test_office_sources_are_all_kept() -> None:
    r = parse(SEEDS[1].read_bytes())
    assert r.office_sources.preamble == "铜川市新区咸丰路街道办事处"
    assert r.office_sources.signature == "咸丰路街道办事处"
    assert parse(SEEDS[3].read_bytes()).office_sources.submitter == "工人街道办事处"
