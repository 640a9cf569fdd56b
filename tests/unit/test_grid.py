"""Real tables: merged cells expanded (``add_grid`` against a slot-by-slot expansion), HTML table markup."""

from __future__ import annotations

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


@settings(max_examples=400, deadline=None)
@given(tables(), st.booleans())
def test_merged_cells_expand_as_slot_by_slot(rows: list[Row], tell: bool) -> None:
    doc = Document("html")
    spanned = [any(rs != 1 or cs != 1 for _, _, rs, cs in row) for row in rows] if tell else None
    add_grid(doc, 1, rows, spanned=spanned)
    expected = [(cells, cols, r + 1) for r, (cells, cols) in enumerate(expand(rows)) if cells]
    got = [(cells, g.cols, g.row) for cells, g in zip(doc.cells, doc.grids, strict=True) if g is not None]
    assert got == expected


def test_rows_beside_a_group_label_repeat_it() -> None:
    rows: list[Row] = [
        [((0, 0), "不予公开", 3, 1), ((0, 1), "属于国家秘密", 1, 1), ((0, 2), "1", 1, 1)],
        [((1, 0), "其他法律行政法规禁止公开", 1, 1), ((1, 1), "2", 1, 1)],
        [((2, 0), "危及“三安全一稳定”", 1, 1), ((2, 1), "3", 1, 2)],
    ]
    doc = Document("html")
    add_grid(doc, 1, rows)
    assert doc.cells[1] == ["不予公开", "其他法律行政法规禁止公开", "2"]
    assert [g.cols for g in doc.grids if g is not None] == [[1, 2, 3], [1, 2, 3], [1, 2, 3]]


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
