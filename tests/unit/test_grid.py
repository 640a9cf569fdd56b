"""Real tables: merged cells expanded (``add_grid`` against a slot-by-slot expansion), HTML table markup."""

from __future__ import annotations

import codecs
import re
from collections.abc import Hashable

from hypothesis import given, settings
from hypothesis import strategies as st

from services.parser import parse
from services.parser.document import Document
from services.parser.formats.grid import add_grid
from tests.generator import SHAPES, Truth, truths

Row = list[tuple[Hashable, str, int, int]]


def expand(rows: list[Row]) -> list[tuple[list[str], list[int]]]:
    """Every cell put in its slots, one row after another; a row's cells are its distinct slots."""
    grid: list[list[tuple[Hashable, str] | None]] = [[] for _ in rows]
    for r, row in enumerate(rows):
        c = 0
        for origin, text, rowspan, colspan in row:
            while c < len(grid[r]) and grid[r][c] is not None:
                c += 1
            for dr in range(min(max(rowspan, 1), len(rows) - r)):
                target = grid[r + dr]
                target.extend([None] * (c + max(colspan, 1) - len(target)))
                target[c : c + max(colspan, 1)] = [(origin, text)] * max(colspan, 1)
            c += max(colspan, 1)
    out = []
    for line in grid:
        cells, cols, last = [], [], None
        for c, slot in enumerate(line):
            if slot is not None and slot[0] != last:
                cells.append(slot[1])
                cols.append(c + 1)
                last = slot[0]
        out.append((cells, cols))
    return out


@st.composite
def tables(draw: st.DrawFn) -> list[Row]:
    n = draw(st.integers(1, 8))
    rows = []
    for r in range(n):
        k = draw(st.integers(0, 5))
        spans = st.tuples(st.sampled_from([1, 1, 1, 2, 3, 0]), st.sampled_from([1, 1, 1, 2, 4]))
        rows.append([((r, i), f"c{r}.{i}", *draw(spans)) for i in range(k)])
    return rows


@settings(max_examples=500, deadline=None)
@given(tables(), st.booleans())
def test_merged_cells_expand_as_slot_by_slot(rows: list[Row], named: bool) -> None:
    doc = Document("html")
    texts = [[text for _, text, _, _ in row] for row in rows]
    spans = [{k: (rs, cs) for k, (_, _, rs, cs) in enumerate(row) if (rs, cs) != (1, 1)} or None for row in rows]
    origins: list[list[Hashable] | None] | None = [[o for o, _, _, _ in row] for row in rows] if named else None
    add_grid(doc, 1, texts, spans, origins=origins)
    # a row of one cell across the table is a paragraph (a page frame, a caption row): text, not a grid row
    expected = [(cells, cols, r + 1) for r, (cells, cols) in enumerate(expand(rows)) if len(cells) > 1]
    got = [(cells, g.cols, g.row) for cells, g in zip(doc.cells, doc.grids, strict=True) if g is not None]
    assert got == expected
    paragraphs = [cells[0] for cells, _ in expand(rows) if len(cells) == 1]
    assert [raw for raw, g in zip(doc.raws, doc.grids, strict=True) if g is None] == paragraphs


def test_a_cell_continued_from_above_stands_once_at_its_first_column() -> None:
    # a .docx vertical merge names the cell that started it: the same origin, once a row
    doc = Document("docx")
    origins: list[list[Hashable] | None] = [[(0, 0), (0, 1)], [(0, 0), (1, 1)]]
    add_grid(doc, 1, [["组", "1"], ["组", "2"]], [{0: (1, 2)}, {0: (1, 2)}], origins=origins)
    assert doc.cells == [["组", "1"], ["组", "2"]]
    assert [g.cols for g in doc.grids if g is not None] == [[1, 3], [1, 3]]


def test_rows_beside_a_group_label_repeat_it() -> None:
    doc = Document("html")
    rows = [["不予公开", "属于国家秘密", "1"], ["其他法律行政法规禁止公开", "2"], ["危及“三安全一稳定”", "3"]]
    add_grid(doc, 1, rows, [{0: (3, 1)}, None, {1: (1, 2)}])
    assert doc.cells[1] == ["不予公开", "其他法律行政法规禁止公开", "2"]
    assert [g.cols for g in doc.grids if g is not None] == [[1, 2, 3], [1, 2, 3], [1, 2, 3]]


def test_a_table_of_too_many_slots_is_no_table() -> None:
    doc = Document("html")
    rows = [["a", "b", "c"]] + [[] for _ in range(99)]  # three cells over 100 rows and 100 columns
    add_grid(doc, 1, rows, [{0: (100, 100), 1: (100, 100), 2: (100, 100)}] + [None] * 99)
    assert len(doc) == 0
    add_grid(doc, 1, rows[:50], [{0: (100, 100), 1: (100, 100)}] + [None] * 49)  # 10,000 slots
    assert len(doc) == 50


@settings(max_examples=15, deadline=None)
@given(truths())
def test_html_tables_read_alike_through_sections_header_cells_attributes_and_markup(truth: Truth) -> None:
    plain = SHAPES["html"][1](truth).decode()
    dressed = re.sub(r"(<table[^>]*>)", r"\1<tbody><!-- rows -->", plain).replace("</table>", "</tbody></table>")
    dressed = re.sub(r"<td>([^<]*[^<\d][^<]*)</td>", r"<th align='center'>\1</th>", dressed)  # labels as header cells
    dressed = re.sub(r"<td>(\d+)</td>", r"<td style='x'><p><span>\1</span></p></td>", dressed)
    assert dressed.count("<th ") > 20 and dressed.count("<tbody>") == 3
    a, b = parse(plain.encode(), "r.html"), parse(dressed.encode(), "r.html")
    assert (b.tables.t2, b.tables.t3, b.tables.t4) == (a.tables.t2, a.tables.t3, a.tables.t4)


@settings(max_examples=5, deadline=None)
@given(truths())
def test_html_reads_alike_in_every_encoding_whatever_the_page_declares(truth: Truth) -> None:
    page = SHAPES["html"][1](truth).decode().replace("<meta charset='utf-8'>", "<meta charset='gbk'>")
    assert "charset='gbk'" in page
    uploads = [
        page.encode(),
        codecs.BOM_UTF8 + page.encode(),
        page.encode("gb18030"),
        codecs.BOM_UTF16_LE + page.encode("utf-16-le"),
    ]
    reports = [parse(data, "r.html") for data in uploads]
    assert [r.encoding for r in reports] == ["utf-8", "utf-8", "gb18030", "utf-16"]
    assert all(
        (r.tables, r.sections, r.office) == (reports[0].tables, reports[0].sections, reports[0].office) for r in reports
    )
