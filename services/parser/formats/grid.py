"""Real tables (HTML, .docx, PDF) as rows of distinct cells, merged cells expanded."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from services.parser.document import Document, GridRow

MAX_SPAN = 100
MAX_CELLS = 20_000


def add_grid(
    doc: Document,
    table_no: int,
    rows: Sequence[Sequence[tuple[Hashable, str, int, int]]],
    line_of_row: Sequence[int | None] | None = None,
    page: int | None = None,
) -> None:
    """Expand a table given as rows of (origin, text, rowspan, colspan) into document lines.

    A cell merged over several columns stands once in its row; a cell merged over several rows
    (a group label) is repeated on each row it covers, as a reader of the printed table sees it.
    """
    grid: dict[tuple[int, int], tuple[Hashable, str]] = {}
    for r, row in enumerate(rows):
        c = 0
        for origin, text, rowspan, colspan in row:
            while (r, c) in grid:
                c += 1
            rowspan, colspan = min(max(rowspan, 1), MAX_SPAN), min(max(colspan, 1), MAX_SPAN)
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = (origin, text)
            c += colspan
            if len(grid) > MAX_CELLS:
                return
    if not grid:
        return
    width = max(c for _, c in grid) + 1
    for r in range(len(rows)):
        cells: list[str] = []
        cols: list[int] = []
        last: Hashable = object()
        for c in range(width):
            slot = grid.get((r, c))
            if slot is None:
                continue
            if slot[0] != last:
                cells.append(slot[1])
                cols.append(c + 1)
                last = slot[0]
        if cells:
            no = line_of_row[r] if line_of_row else None
            doc.add_grid_row(cells, GridRow(table_no, r + 1, cols, page), no)
