"""Damaged and hostile uploads: whatever the bytes, the parser reads them or refuses them with a
reason (``UnreadableUpload``), within the time budget; any other exception is a bug.

A short run of what ``bench/fuzz.py`` does at length (200,000 inputs, bench/README.md): the same
mutations of the real and office-made documents, here driven by hypothesis. A failing input is
named by its way and index: ``bench/fuzz.py --seed 0 --way WAY --only INDEX`` replays it.
"""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.fuzz import EXTENSIONS, MAGICS, MEDIA_TYPES, Case, load_corpus, make_case
from services.parser import Limits, Reason, UnreadableUpload, digits, parse
from services.parser.formats import pdfium

BUDGET = Limits().max_seconds
CORPUS = load_corpus()

names = st.one_of(st.none(), st.sampled_from([f"report{ext}" for ext in EXTENSIONS.values()]), st.text(max_size=20))
media_types = st.one_of(st.none(), st.sampled_from(list(MEDIA_TYPES.values())), st.text(max_size=20))


def read_or_refused(data: bytes, filename: str | None = None, media_type: str | None = None, what: str = "") -> None:
    """``parse`` returns, or raises ``UnreadableUpload`` with a reason; either within the budget."""
    start = time.perf_counter()
    try:
        parse(data, filename, media_type)
    except UnreadableUpload as exc:
        assert isinstance(exc.reason, Reason)
    seconds = time.perf_counter() - start
    assert seconds < BUDGET, f"{what or len(data)} took {seconds:.1f} s"


def read_case(way: str, index: int) -> None:
    case: Case = make_case(CORPUS, 0, index, way=way)
    read_or_refused(case.data, case.filename, case.media_type, f"--way {way} --only {index} ({case.mutation})")


@settings(max_examples=150)
@given(data=st.binary(max_size=4096), filename=names, media_type=media_types)
def test_any_bytes_are_read_or_refused_with_a_reason(data: bytes, filename: str | None, media_type: str | None) -> None:
    read_or_refused(data, filename, media_type)


@settings(max_examples=80)
@given(magic=st.sampled_from(MAGICS), rest=st.binary(max_size=4096), filename=names)
def test_bytes_behind_a_format_signature_are_read_or_refused(magic: bytes, rest: bytes, filename: str | None) -> None:
    read_or_refused(magic + rest, filename)


@settings(max_examples=60)
@given(index=st.integers(min_value=0, max_value=10**9))
def test_damaged_text_markdown_and_html_reports_are_read_or_refused_in_time(index: int) -> None:
    read_case("text", index)


@settings(max_examples=50)
@given(index=st.integers(min_value=0, max_value=10**9))
def test_docx_packages_damaged_inside_are_read_or_refused_in_time(index: int) -> None:
    read_case("docx", index)


@settings(max_examples=40)
@given(index=st.integers(min_value=0, max_value=10**9))
def test_pdfs_damaged_inside_are_read_or_refused_in_time(index: int) -> None:
    read_case("pdf", index)


@settings(max_examples=60)
@given(way=st.sampled_from(["bytes", "splice", "tiny", "random"]), index=st.integers(min_value=0, max_value=10**9))
def test_reports_damaged_as_bytes_or_spliced_are_read_or_refused_in_time(way: str, index: int) -> None:
    read_case(way, index)


# What the long run found, held here.


def test_a_pdf_line_that_starts_with_spaces_before_a_gap_is_read() -> None:
    """A line whose first characters are spaces and whose first glyph stands past a gap once
    raised IndexError (bench/fuzz.py: a PDF with bytes flipped inside a content stream)."""
    chars = [(" ", 10.0, 100.0, 14.0, 110.0), ("年", 30.0, 100.0, 40.0, 110.0), ("报", 41.0, 100.0, 51.0, 110.0)]
    assert [line.text for line in pdfium.lines(chars)] == ["年报"]


@pytest.mark.parametrize("rules", [40, 200])
def test_a_pdf_page_meshed_with_ruling_lines_is_refused_as_too_complex_at_once(rules: int) -> None:
    """A page drawn with a mesh of crossing rules (200 × 200: 40,000 crossings) once held the
    table finder for minutes (its cells cost the square of the crossings); a mesh past the bound
    is refused before that work, and a table's worth of rules is still read as a table."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(rules * 4 + 100, rules * 4 + 100))
    page.drawString(20, 20, "annual report")
    for k in range(rules):
        at = 50 + 4 * k
        page.line(at, 50, at, 50 + 4 * (rules - 1))
        page.line(50, at, 50 + 4 * (rules - 1), at)
    page.save()
    start = time.perf_counter()
    with pytest.raises(UnreadableUpload) as refused:
        parse(buf.getvalue(), "report.pdf")
    if rules * rules > pdfium.MAX_CROSSINGS:
        assert refused.value.reason == Reason.TOO_COMPLEX
    else:  # read (a table of empty cells and a title: no report, but not too complex)
        assert refused.value.reason == Reason.NOT_A_REPORT
    assert time.perf_counter() - start < 2.0


def test_a_pdf_page_of_tens_of_thousands_of_strokes_is_refused_before_they_fill_memory() -> None:
    """200,000 rules drawn on one another (a 200 KB PDF) once took 300 MB as pdfplumber's edges."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(20, 20, "annual report")
    page.lines([(100 + k % 50 * 0.01, 100, 100 + k % 50 * 0.01, 700) for k in range(pdfium.MAX_EDGES + 1)])
    page.save()
    start = time.perf_counter()
    with pytest.raises(UnreadableUpload) as refused:
        parse(buf.getvalue(), "report.pdf")
    assert refused.value.reason == Reason.TOO_COMPLEX
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("parts", "found"),
    [
        # a damaged .docx's table 四: figures whose every cut was tried before the zeros at the end
        # were found to need more cells than were left (minutes; bench/fuzz.py)
        (["99999999999999999999999", "9999999999999999", "3", "0", "0", "3", "2", "2", "2", "9", "0", "0"], 7770),
        (["9" * 100, "0" * 14], 1),
        (["9" * 60, "0" * 60], 0),
    ],
)
def test_figures_run_together_are_cut_without_trying_cuts_that_cannot_be_finished(parts: list[str], found: int) -> None:
    start = time.perf_counter()
    cuts = digits.ways(parts, 15)
    assert cuts is not None and len(cuts) == found
    assert time.perf_counter() - start < 1.0
