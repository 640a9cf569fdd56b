"""Properties over generated reports: consistent ones pass; one changed cell fails exactly its sums."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from contracts.template import T3_COLUMNS, T3_RESULT_ROWS
from services.parser import parse
from services.validator import validate
from tests.generator import SHAPES, Truth, truths

T3_COLS = list(T3_COLUMNS)
BALANCE_ROWS = ("new_received", "carried_over", "total", "carried_forward")


@given(truths(), st.sampled_from(["pdf_text", "markdown", "word_text"]))
def test_a_consistent_report_of_either_template_is_accepted_without_findings(truth: Truth, shape: str) -> None:
    filename, render = SHAPES[shape]
    verdict = validate(parse(render(truth), filename))
    assert verdict.status == "accepted"
    assert verdict.findings == ()


def expected_t3(truth: Truth, row: str, col: str) -> set[tuple[str, str, str]]:
    """The sums a cell of table 三 takes part in, as (rule, row, column) of their findings."""
    hits = {("T3-ROWSUM", row, "total")}
    if row in T3_RESULT_ROWS[truth.template] or row == "total":
        hits.add(("T3-RESULT-TOTAL", "total", col))
    if row in BALANCE_ROWS:
        hits.add(("T3-BALANCE", "total", col))
    return hits


@given(truths(), st.data())
def test_one_changed_cell_of_table_three_fails_exactly_its_sums(truth: Truth, data: st.DataObject) -> None:
    row = data.draw(st.sampled_from(sorted(truth.t3)))
    col = data.draw(st.sampled_from(range(7)))
    delta = data.draw(st.integers(1, 9))
    changed = copy.deepcopy(truth)
    changed.t3[row][col] += delta
    verdict = validate(parse(SHAPES["pdf_text"][1](changed)))
    got = {(f.rule, f.location.row, f.location.column) for f in verdict.findings}
    assert got == expected_t3(truth, row, T3_COLS[col])
    assert verdict.status == "rejected"
    for f in verdict.findings:
        assert any(t.row == row and t.column == T3_COLS[col] for t in f.terms), f


@given(truths(), st.data())
def test_one_changed_cell_of_table_four_fails_its_group_sum(truth: Truth, data: st.DataObject) -> None:
    group = data.draw(st.sampled_from(sorted(truth.t4)))
    col = data.draw(st.sampled_from(range(5)))
    changed = copy.deepcopy(truth)
    changed.t4[group][col] += data.draw(st.integers(1, 9))
    verdict = validate(parse(SHAPES["markdown"][1](changed), "r.md"))
    assert {(f.rule, f.location.row, f.location.column) for f in verdict.findings} == {("T4-SUM", group, "total")}
