"""The rule catalogue: complete against the spec, each rule fires where it should and only there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.parser import parse
from services.validator import RULES, Context, validate
from tests import rule_examples
from tests.conftest import SEEDS, truth_of
from tests.rule_examples import CLEAN, EXAMPLES

# the project's copy of ../shared/spec/rules.md (the contract), kept in step with it by hand
SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec" / "rules.md"


def spec_rules() -> dict[str, str]:
    return dict(re.findall(r"^\| `([A-Z0-9-]+)` \| (error|warning) \|", SPEC.read_text(encoding="utf-8"), re.M))


def test_catalogue_has_every_rule_of_the_spec_with_its_severity() -> None:
    assert {r.id: r.severity for r in RULES} == spec_rules()


def test_catalogue_ids_are_unique_and_messages_are_bilingual() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    for r in RULES:
        assert re.search(r"[\u4e00-\u9fff]", r.message_zh) and re.search(r"[\u4e00-\u9fff]", r.summary_zh)
        assert re.search(r"[A-Za-z]{3,}", r.message_en) and re.search(r"[A-Za-z]{3,}", r.summary_en), r.id


def test_every_rule_has_an_example() -> None:
    assert [e.rule for e in EXAMPLES] == [r.id for r in RULES]


def test_the_clean_report_has_no_finding() -> None:
    verdict = validate(parse(CLEAN.encode()))
    assert verdict.status == "accepted" and verdict.findings == ()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.rule for e in EXAMPLES])
def test_each_rule_fires_and_nothing_else(example: rule_examples.Example) -> None:
    verdict = example.verdict()
    assert {f.rule for f in verdict.findings} == example.fires
    severity = {r.id: r.severity for r in RULES}
    assert all(f.severity == severity[f.rule] for f in verdict.findings)
    assert verdict.status == ("rejected" if any(f.severity == "error" for f in verdict.findings) else "accepted")


def test_docs_rules_md_is_current() -> None:
    assert rule_examples.main(["--check"]) == 0, "run: python -m tests.rule_examples"


def _edit(old: str, new: str) -> str:
    assert old in CLEAN
    return CLEAN.replace(old, new, 1)


def test_every_failing_column_is_reported() -> None:
    text = _edit("（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开 1 0 0 0 0 0 1")
    findings = validate(parse(text.encode())).findings
    assert {(f.rule, f.location.column) for f in findings} == {
        ("T3-RESULT-TOTAL", "natural_person"),
        ("T3-RESULT-TOTAL", "total"),
    }
    f = findings[0]
    assert f.location.row_label == "（七）总计" and f.location.column_label == "自然人"
    assert f.location.line == 138
    assert (f.expected, f.actual) == (1, 0)
    assert [(t.side, t.row) for t in f.terms][:2] == [("left", "total"), ("right", "granted")]
    assert sum(t.value for t in f.terms if t.side == "right") == 1
    assert "相差1" in f.message_zh and "（一）予以公开" in CLEAN


def test_sum_with_an_unreadable_operand_is_not_assessed() -> None:
    text = _edit("（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开 五 0 0 0 0 0 5")
    rules = {f.rule for f in validate(parse(text.encode())).findings}
    assert "TPL-CELL-MISSING" in rules or "TPL-CELL-INVALID" in rules
    assert not rules & {"T3-ROWSUM"}
    text = _edit("2.重复申请 0 0 0 0 0 0 0", "2.重复申请 0 0 0 0 0 0")
    rules = {f.rule for f in validate(parse(text.encode())).findings}
    assert rules == {"TPL-CELL-MISSING"}  # no T3-RESULT-TOTAL over a row that could not be read


def test_blank_counts_as_zero_in_sums() -> None:
    text = _edit("（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开 / 0 0 0 0 0 0")
    assert {f.rule for f in validate(parse(text.encode())).findings} == {"TPL-CELL-BLANK"}


@pytest.mark.parametrize(
    "sentence, said",
    [
        ("本年度共收到政府信息公开申请三件。", 3),
        ("全年受理依申请公开申请12件，均已按时办结。", 12),
        ("本年度我单位没有收到政府信息公开申请。", 0),
        ("本机关暂无政府信息公开申请。", 0),
        ("收到和处理政府信息公开申请情况：无", 0),
    ],
)
def test_narrative_reads_numbers_and_negations(sentence: str, said: int) -> None:
    text = _edit("2020 年我办未收到相关信息公开申请。", sentence)
    text = text.replace(
        "一、本年新收政府信息公开申请数量 0 0 0 0 0 0 0", "一、本年新收政府信息公开申请数量 4 0 0 0 0 0 4"
    )
    findings = [f for f in validate(parse(text.encode())).findings if f.rule == "TXT-T3-MISMATCH"]
    assert [(f.actual, f.expected) for f in findings] == [(said, 4)]


@pytest.mark.parametrize("gap", ["", "\n\n", "\n\u3000\n"])
def test_a_statement_is_pointed_at_on_its_own_line(gap: str) -> None:
    statement = "本年度共收到政府信息公开申请3件。"
    text = _edit("2020 年我办未收到相关信息公开申请。", gap + statement)  # blank lines above it
    (finding,) = [f for f in validate(parse(text.encode())).findings if f.rule == "TXT-T3-MISMATCH"]
    assert text.splitlines()[finding.location.line - 1].strip() == statement


def test_narrative_agreeing_with_the_table_is_silent() -> None:
    text = _edit("2020 年我办未收到相关信息公开申请。", "2020年共收到政府信息公开申请0件。")
    assert validate(parse(text.encode())).findings == ()


def test_office_aliases_match() -> None:
    from contracts.verdict import Office

    report = parse(CLEAN.encode())
    for name in ("西工区西工街道办事处", "西工街道办事处", "西工街道"):
        ctx = Context(office=Office(id="xigong", name="河南省洛阳市" + name, aliases=(name,)))
        assert validate(report, ctx).findings == ()


@pytest.mark.parametrize("seed", SEEDS, ids=[s.stem[:3] for s in SEEDS])
def test_seeds_reach_their_truth(seed: Path) -> None:
    truth = truth_of(seed)
    verdict = validate(parse(seed.read_bytes()))
    rules = {f.rule for f in verdict.findings}
    assert verdict.status == truth["verdict"]
    assert set(truth["must_include"]) <= rules
    assert set(truth.get("should_include", [])) <= rules
    if truth.get("must_not_include_errors"):
        assert not verdict.errors


@given(st.text(alphabet="0123456789 年件，。a申请\n", max_size=40))
def test_table_row_pattern_is_three_numbers(line: str) -> None:
    from services.validator.narrative import _TABLE_ROW

    # the possessive pattern finds what the plain one finds, without its backtracking
    assert (
        bool(_TABLE_ROW.search(line))
        == bool(re.search(r"\d+\D+\d+\D+\d", line))
        == (len(re.findall(r"\d+", line)) >= 3)
    )


def test_a_document_naming_no_office_or_year_is_a_title_warning_when_the_submission_declares_them() -> None:
    from contracts.verdict import Office
    from tests.rule_examples import TITLE

    report = parse(CLEAN.replace(TITLE + "\n", "", 1).encode())  # the only line naming office and year
    assert report.office is None and report.year is None
    undeclared = validate(report)
    assert {"DOC-OFFICE-UNKNOWN", "DOC-YEAR-UNKNOWN"} <= {f.rule for f in undeclared.findings}
    assert undeclared.status == "rejected"
    declared = validate(report, Context(office=Office(id="xigong", name="西工区西工街道办事处"), year=2020))
    assert declared.status == "accepted"  # no notice: nothing rejected
    assert [f.rule for f in declared.findings] == ["DOC-TITLE"]
    assert "报告缺少标题" in declared.findings[0].message_zh
    # a title that names no office: the warning says what the document leaves out
    titled = parse(CLEAN.replace(TITLE, "2020年政府信息公开工作年度报告", 1).encode())
    assert titled.office is None and titled.year == 2020
    found = validate(titled, Context(office=Office(id="xigong", name="西工区西工街道办事处"), year=2020))
    assert [f.rule for f in found.findings] == ["DOC-TITLE"]
    assert "未写明发布机关" in found.findings[0].message_zh and found.status == "accepted"


def test_a_count_far_past_any_real_office_is_suspect() -> None:
    text = _edit("（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开 9999999 0 0 0 0 0 9999999").replace(
        "（七）总计 0 0 0 0 0 0 0", "（七）总计 9999999 0 0 0 0 0 9999999"
    )
    findings = validate(parse(text.encode())).findings
    suspect = [f for f in findings if f.rule == "TPL-CELL-SUSPECT"]
    assert suspect and all("远超" in f.message_zh for f in suspect)
    assert {f.location.row for f in suspect} >= {"granted"}


def test_a_section_heading_not_read_off_a_scan_is_no_missing_section_but_an_uncertain_scan() -> None:
    """On a scan a heading OCR did not make out is not held against the office as a missing section
    (DOC-SECTION-MISSING accuses it of leaving a part out); it counts among what the reading could
    not make out, and the scan asks for the text (DOC-SCAN-UNCERTAIN). The same report as text
    without that section is told the section is missing."""
    report = parse(CLEAN.encode(), "r.txt")
    sections = {k: v for k, v in report.sections.items() if k != "proactive"}
    as_text = report.model_copy(update={"sections": sections})
    as_scan = as_text.model_copy(update={"scanned_pages": 5})
    text_rules = {f.rule for f in validate(as_text, Context()).findings}
    scan = validate(as_scan, Context())
    assert "DOC-SECTION-MISSING" in text_rules and "DOC-SCAN-UNCERTAIN" not in text_rules
    assert "DOC-SECTION-MISSING" not in {f.rule for f in scan.findings}
    [uncertain] = [f for f in scan.findings if f.rule == "DOC-SCAN-UNCERTAIN"]
    assert uncertain.actual == 1 and scan.status == "rejected"
