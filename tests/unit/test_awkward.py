"""The awkward shapes real uploads take: each read faithfully, nothing guessed."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.report import cell_state
from services.parser import parse
from services.parser.digits import ways
from tests.conftest import SEEDS
from tests.generator import Truth, render_html, render_pdf_text, truths
from tests.roundtrip import assert_same

SEED000 = SEEDS[0].read_text(encoding="utf-8")


def edit(old: str, new: str, text: str = SEED000) -> bytes:
    assert old in text, old
    return text.replace(old, new, 1).encode()


def test_label_broken_over_lines_is_joined() -> None:
    report = parse(edit("1.本机关不掌握相关政府信息 0 0 0 0 0 0 0", "1.本机关不掌握\n相关政府信息 0 0 0 0 0 0 0"))
    assert not report.rows.t3["unavailable.not_held"]["uncertain"]
    assert [c["value"] for c in report.tables.t3["unavailable.not_held"].values()] == [0] * 7


def test_placeholder_is_a_blank_cell_in_its_place() -> None:
    report = parse(edit("2.重复申请 0 0 0 0 0 0 0", "2.重复申请 0 / 0 0 — 0 0"))
    row = report.tables.t3["not_processed.duplicate"]
    assert [cell_state(c) for c in row.values()] == ["read", "blank", "read", "read", "blank", "read", "read"]
    assert row["commercial"]["raw"] == "/" and row["commercial"]["value"] is None


@settings(max_examples=10)
@given(truths("2019"))
def test_empty_grid_cell_is_blank_not_zero(truth: Truth) -> None:
    html = render_html(truth).decode()
    start = html.index("1.属于国家秘密")
    cell = html.index("<td>", start)
    html = html[:cell] + "<td></td>" + html[html.index("</td>", cell) + 5 :]
    report = parse(html.encode(), "r.html")
    natural = report.tables.t3["denied.state_secret"]["natural_person"]
    assert (cell_state(natural), natural["value"], natural["raw"]) == ("blank", None, None)
    assert (natural["at"]["table"], natural["at"]["col"]) == (2, 4)
    assert not report.rows.t3["denied.state_secret"]["uncertain"]


def test_row_with_fewer_values_keeps_them_unplaced() -> None:
    report = parse(edit("6.属于四类过程性信息 0 0 0 0 0 0 0", "6.属于四类过程性信息 3 0 0 0 3"))
    read = report.rows.t3["denied.process_info"]
    assert read["uncertain"] and [c["value"] for c in read["unplaced"]] == [3, 0, 0, 0, 3]
    assert {cell_state(c) for c in report.tables.t3["denied.process_info"].values()} == {"missing"}


def test_extra_local_row_is_kept_apart() -> None:
    report = parse(edit("（七）总计 0 0 0 0 0 0 0", "（八）其他情形 2 0 0 0 0 0 2\n\n（七）总计 0 0 0 0 0 0 0"))
    [extra] = report.extra_rows
    assert (extra.table, extra.label) == ("t3", "（八）其他情形")
    assert [c["value"] for c in extra.cells] == [2, 0, 0, 0, 0, 0, 2]
    assert [c["value"] for c in report.tables.t3["total"].values()] == [0] * 7


def test_missing_table_is_absent_not_zero() -> None:
    start = SEED000.index("行政复议 行政诉讼")
    end = SEED000.index("五、存在的主要问题")
    report = parse((SEED000[:start] + SEED000[end:]).encode())
    assert report.tables.t4 is None
    assert "appeals" in report.sections and report.tables.t3 is not None


def test_missing_row_is_absent() -> None:
    report = parse(edit("2.重复申请 0 0 0 0 0 0 0\n", ""))
    assert "not_processed.duplicate" not in report.tables.t3
    assert "not_processed.publication" in report.tables.t3


def test_table_without_its_section_heading_is_still_read() -> None:
    report = parse(edit("三、收到和处理政府信息公开申请情况\n", ""))
    assert "requests" not in report.sections
    assert report.tables.t3 is not None and len(report.tables.t3) == 23


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-16", "utf-8-sig"])
def test_encodings_read_alike(encoding: str) -> None:
    expected = parse(SEED000.encode())
    report = parse(SEED000.encode(encoding))
    assert report.encoding in (encoding.replace("-sig", ""), "gb18030")
    assert report.model_dump(exclude={"encoding"}) == expected.model_dump(exclude={"encoding"})


def test_utf16_big_endian_with_bom() -> None:
    report = parse(codecs.BOM_UTF16_BE + SEED000.encode("utf-16-be"))
    assert report.year == 2020 and report.tables.t3 is not None


def test_fullwidth_digits_and_nbsp_read_as_numbers() -> None:
    report = parse(edit("行政许可 0 0 0", "行政许可 １２\u00a0 ３\u3000 1,234"))
    row = report.tables.t2["licensing"]
    assert [c["value"] for c in row.values()] == [12, 3, 1234]
    assert row["prev_items"]["raw"] == "１２"


def _edits(*pairs: tuple[str, str]) -> bytes:
    text = SEED000
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text.encode()


def test_run_together_digits_split_only_when_the_sums_allow_one_split() -> None:
    report = parse(
        _edits(
            ("一、本年新收政府信息公开申请数量 0 0 0 0 0 0 0", "一、本年新收政府信息公开申请数量 713000074"),
            ("（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开 71 3 0 0 0 0 74"),
            ("（七）总计 0 0 0 0 0 0 0", "（七）总计 71 3 0 0 0 0 74"),
        )
    )
    row = report.tables.t3["new_received"]
    assert [c["value"] for c in row.values()] == [71, 3, 0, 0, 0, 0, 74]
    assert "split" in (report.rows.t3["new_received"]["note"] or "")


def test_run_together_digits_that_the_row_sum_leaves_ambiguous_are_split_by_the_column_sums() -> None:
    # 110000011: 11 0 0 0 0 0 11 or 1 10 0 0 0 0 11; only the first makes 一 + 二 = （七） + 四 per column
    lines = (
        ("一、本年新收政府信息公开申请数量 0 0 0 0 0 0 0", "一、本年新收政府信息公开申请数量 110000011"),
        ("（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开 11 0 0 0 0 0 11"),
        ("（七）总计 0 0 0 0 0 0 0", "（七）总计 11 0 0 0 0 0 11"),
    )
    report = parse(_edits(*lines))
    assert [c["value"] for c in report.tables.t3["new_received"].values()] == [11, 0, 0, 0, 0, 0, 11]
    # without the rows that tell them apart, both splits stand: the row is not read, nothing guessed
    report = parse(_edits(lines[0]))
    read = report.rows.t3["new_received"]
    assert read["uncertain"] and "sums" in (read["note"] or "")
    assert all(c["value"] is None for c in report.tables.t3["new_received"].values())


def test_run_together_digits_that_fit_no_split_stay_unread() -> None:
    report = parse(edit("一、本年新收政府信息公开申请数量 0 0 0 0 0 0 0", "一、本年新收政府信息公开申请数量 1111113"))
    read = report.rows.t3["new_received"]
    assert read["uncertain"] and [c["raw"] for c in read["unplaced"]] == ["1111113"]


def test_ways_keep_the_texts_boundaries_and_allow_no_leading_zero() -> None:
    assert ways(["230", "000023"], 7) == [
        ("2", "30", "0", "0", "0", "0", "23"),
        ("23", "0", "0", "0", "0", "0", "23"),
        ("230", "0", "0", "0", "0", "2", "3"),
    ]
    assert ways(["1234567"], 6) is not None and len(ways(["1234567"], 6) or []) == 6
    assert ways(["12"], 3) == [] and ways(["1" * 40], 15, limit=100) is None


def test_table_four_run_together_splits_by_group_sums() -> None:
    report = parse(edit("0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", "000000000000000"))
    assert [c["value"] for g in report.tables.t4.values() for c in g.values()] == [0] * 15


def test_artefacts_and_typing_variants() -> None:
    report = parse(edit("政府集中采购 0 0", "[bookmark: _GoBack]政府集中釆购 5 12.5000"))
    assert report.tables.t2["procurement"]["items"]["value"] == 5
    assert str(report.tables.t2["procurement"]["amount"]["value"]) == "12.5000"


def test_markdown_pipe_tables_are_real_grids() -> None:
    md = SEED000.replace("规章 0 0 0", "| 规章 | 4 |  | 6 |")
    report = parse(md.encode(), "r.md")
    row = report.tables.t2["rules"]
    assert [cell_state(c) for c in row.values()] == ["read", "blank", "read"]


@given(truths(), st.sampled_from(["\u00a0", "\u3000", "\t", "  "]))
def test_any_whitespace_between_cells_reads_alike(truth: Truth, space: str) -> None:
    text = render_pdf_text(truth).decode()
    lines = [
        line.replace(" ", space) if line[:1].isdigit() or "数量" in line or "规章" in line else line
        for line in text.split("\n")
    ]
    assert_same(truth, parse("\n".join(lines).encode()))


def test_labels_spaced_out_by_pdf_extraction_are_read() -> None:
    text = SEED000.replace("规章 0 0 0", "规 章 1 2 3")
    text = text.replace("（七）总计 0 0 0 0 0 0 0", "（七） 总 计 0 0 0 0 0 0 0")
    report = parse(text.encode())
    assert [c["value"] for c in report.tables.t2["rules"].values()] == [1, 2, 3]
    assert not report.rows.t3["total"]["uncertain"] and report.extra_rows == ()


@pytest.mark.parametrize(
    "raw",
    [
        "1.本机关不掌握相关政府信息 0 0 0 1 0 0 1",  # label and values: the values left as written
        "（七）总计\u00a0１２\u3000３ 4",  # full-width digits, no-break and ideographic spaces
        "其他\u00a8处理 3 0",  # NFKC makes a space inside a word: the line's NFKC words are used
        "规章\u200b 1 2",  # a zero-width space stays inside its word
    ],
)
def test_a_text_line_gives_the_tokens_of_its_nfkc_words(raw: str) -> None:
    from services.parser.document import Document, fold
    from services.parser.tables import KIND, LINE, NORM, RAW, TEXT, read_region

    doc = Document("text")
    doc.add_text(raw, 7)
    tokens = [t for row in read_region(doc, 0, 1).rows for t in (*row.label, *row.values)]
    folded = fold(raw).split()
    assert [t[NORM] for t in tokens if t[KIND] != TEXT] == [w for w in folded if w.isdigit()]
    assert len(tokens) == len(folded) and all(t[LINE] == 7 for t in tokens)
    if len(raw.split()) == len(folded):  # each token keeps the word as written
        assert [t[RAW] for t in tokens] == raw.split()
