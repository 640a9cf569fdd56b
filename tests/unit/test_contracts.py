"""The contracts: schema files up to date, the cells the parser builds identical to validated ones."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from contracts import schema
from contracts.report import Cell, ParsedReport, RowRead
from contracts.template import MATCH_TABLE, TEMPLATES, nfkc, unquote
from services.parser import parse
from tests.conftest import SEEDS
from tests.generator import SHAPES, Truth, truths

CELL: TypeAdapter[Cell] = TypeAdapter(Cell)
ROW: TypeAdapter[RowRead] = TypeAdapter(RowRead)


def test_json_schema_in_docs_is_current() -> None:
    assert schema.main(["--check"]) == 0, "run: python -m contracts.schema"


def _rows_pass_as_they_stand(report: ParsedReport) -> None:
    for reads in (report.rows.t2, report.rows.t3, report.rows.t4):
        for read in reads.values():  # the parser builds rows without validating them too
            assert ROW.validate_python(read, strict=True) == read
            # every key, as the JSON always had (run_together only where true)
            assert set(read) - {"run_together"} == set(RowRead.__annotations__) - {"run_together"}
            assert read.get("run_together", True)


@settings(max_examples=10, deadline=None)
@given(truths(), st.sampled_from(["html", "docx", "word_text"]))
def test_rows_of_real_tables_pass_validation_as_they_stand(truth: Truth, shape: str) -> None:
    report = parse(SHAPES[shape][1](truth), SHAPES[shape][0])
    assert report.rows.t3 and all(read["at"] is not None for read in report.rows.t3.values()) == (shape != "word_text")
    _rows_pass_as_they_stand(report)
    assert ParsedReport.model_validate_json(report.model_dump_json()) == report


def test_parsed_reports_survive_validation_unchanged() -> None:
    for seed in SEEDS:
        report = parse(seed.read_bytes())
        _rows_pass_as_they_stand(report)
        again = ParsedReport.model_validate_json(report.model_dump_json())
        assert again == report
        for rows in (report.tables.t2, report.tables.t3, report.tables.t4):
            for cells in (rows or {}).values():
                for cell in cells.values():
                    # the parser builds cells without validating them: each must pass as it stands
                    assert CELL.validate_python(cell, strict=True) == cell
                    assert set(cell) >= {"raw", "value", "line"}
                    assert cell.get("state") != "read" and None not in (cell.get("at", 0), cell.get("unit", 0))


def test_templates_have_the_rows_of_the_spec() -> None:
    t2019, t2021 = TEMPLATES["2019"], TEMPLATES["2021"]
    assert len(t2019.t3.rows) == 23 and len(t2021.t3.rows) == 25
    assert [r.id for r in t2019.t2.rows][-1] == "procurement"
    assert "procurement" not in [r.id for r in t2021.t2.rows]
    assert [r.id for r in t2021.t3.rows][-5:-2] == ["other.no_correction", "other.no_fee", "other.other"]
    assert list(t2019.t3.columns) == [
        "natural_person",
        "commercial",
        "research",
        "social_org",
        "legal_service",
        "other_org",
        "total",
    ]
    assert t2019.t2.columns["change"].kind == "signed"
    assert t2021.t2.columns["amount"].kind == "amount"


def test_asyncapi_document_in_docs_is_current() -> None:
    from services import asyncapi

    assert asyncapi.main(["--check"]) == 0, "run: python -m services.asyncapi"


def test_fast_nfkc_equals_nfkc_on_every_code_point() -> None:
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        assert nfkc(c) == unicodedata.normalize("NFKC", c), hex(cp)


# Text as uploads have it (Chinese, full-width forms, Kangxi radicals, spaces) with combining
# marks, Hangul jamo and compatibility characters among it, where composition matters.
_CHARS = st.sampled_from(
    "年度报告申请件无，。：（）１２Ａ\u3000\u00a0 ⽆⼀㈠①ﬁ ̈́ᄀ\u1161\u11a8가ḉ\u0327\u0301e\u0308Åℌ\u0344\u0f73"
)


@given(st.lists(st.one_of(_CHARS, st.characters()), max_size=40).map("".join))
def test_fast_nfkc_equals_nfkc_on_text(text: str) -> None:
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


def _nfkc_sources(target: str) -> set[str]:
    """Every character whose NFKC form holds ``target``."""
    return {
        chr(cp)
        for cp in range(sys.maxunicode + 1)
        if not 0xD800 <= cp <= 0xDFFF and target in unicodedata.normalize("NFKC", chr(cp))
    }


def test_quick_looks_at_raw_text_know_every_character_nfkc_folds_into_what_they_look_for() -> None:
    from services.parser.structure import _YEAR_COMPAT
    from services.validator.narrative import _MAY_STATE, STATING

    assert _nfkc_sources("年") == {"年", _YEAR_COMPAT}
    stating = set().union(*(_nfkc_sources(c) for c in STATING))
    assert {c for c in stating if _MAY_STATE.search(c)} == stating


@given(st.lists(st.one_of(st.sampled_from("“”\"'‘’「」『』《》釆采年 a"), st.characters()), max_size=30).map("".join))
def test_unquote_is_the_match_table_translation(text: str) -> None:
    assert unquote(text) == text.translate(MATCH_TABLE)


WIRE = {
    "event_id": "submitted:s1:0123456789abcdef",
    "submission_id": "0f8e2a9c-5b1d-4c3e-9f00-1a2b3c4d5e6f",
    "office_id": "xigong",
    "occurred_at": "2021-01-20T08:00:00Z",
    "producer": "portal",
    "file_name": r"C:\Users\办公室\Desktop\2024年 政府信息公开工作年度报告.docx",
    "media_type": "text/plain; charset=utf-8",
    "sha256": "ab" * 32,
    "size": 10,
    "content_b64": "",
    "submitted_at": "2021-01-20T08:00:00Z",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("office_id", "x" * 1_000_000),
        ("office_id", "西工区"),
        ("submission_id", "../../etc/passwd"),
        ("submission_id", ""),
        ("event_id", "a b"),
        ("file_name", "report.docx\r\nBcc: someone@example.com"),
        ("file_name", "x" * 256),
        ("media_type", "text/plain\r\nX: y"),
        ("sha256", "not hex"),
        ("size", -1),
        ("declared_year", 20200),
        ("content_key", "k" * 300),
    ],
)
def test_what_comes_over_the_wire_is_bounded_in_length_and_alphabet(field: str, value: object) -> None:
    from pydantic import ValidationError

    from contracts.events import SubmissionReceived

    SubmissionReceived.model_validate(WIRE)  # what a portal sends, with a browser's whole path as the name
    SubmissionReceived.model_validate({**WIRE, "content_b64": None, "content_key": "intake:upload:s1"})
    other = {"content_b64": None} if field == "content_key" else {}
    with pytest.raises(ValidationError, match=field):
        SubmissionReceived.model_validate({**WIRE, **other, field: value})
