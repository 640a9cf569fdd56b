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
    spanned: Sequence[bool] | None = None,
) -> None:
    """Expand a table given as rows of (origin, text, rowspan, colspan) into document lines.

    A cell merged over several columns stands once in its row; a cell merged over several rows
    (a group label) is repeated on each row it covers, as a reader of the printed table sees it.
    ``spanned``: whether each row has a merged cell, when the caller knows it already.
    """
    n = len(rows)
    # the slots of the rows that have merged cells or that a merged cell reaches; None: a plain row
    grid: list[list[tuple[Hashable, str] | None] | None] = [None] * n
    # a row reached only by merged cells from above, in its first columns, and itself plain (the
    # rows beside a group label): its own cells follow the slots from above, in order
    tail = [False] * n
    count = 0
    for r, row in enumerate(rows):
        line = grid[r]
        plain = not spanned[r] if spanned is not None else all(rs == 1 and cs == 1 for _, _, rs, cs in row)
        if line is None:
            if plain:
                count += len(row)
                continue
            line = grid[r] = []
        elif plain and None not in line:
            tail[r] = True
            count += len(row)
            continue
        c = 0
        for origin, text, rowspan, colspan in row:
            while c < len(line) and line[c] is not None:
                c += 1
            slot: tuple[Hashable, str] | None = (origin, text)
            if rowspan == 1 and colspan == 1:  # most cells: no span to spread
                if c == len(line):
                    line.append(slot)
                else:
                    line[c] = slot
                c += 1
                count += 1
                continue
            rowspan = 1 if rowspan < 1 else min(rowspan, MAX_SPAN, n - r)
            colspan = 1 if colspan < 1 else min(colspan, MAX_SPAN)
            for dr in range(rowspan):
                target = grid[r + dr]
                if target is None:
                    target = grid[r + dr] = []
                if len(target) < c + colspan:
                    target.extend([None] * (c + colspan - len(target)))
                target[c : c + colspan] = [slot] * colspan
            c += colspan
            count += rowspan * colspan
            if count > MAX_CELLS:
                return
    for r, line in enumerate(grid):
        if line is None:  # a plain row: its cells, one a column
            cells = [text for _, text, _, _ in rows[r]]
            cols = list(range(1, len(cells) + 1))
        else:
            cells, cols = [], []
            last: Hashable = None
            for c, slot in enumerate(line):
                if slot is not None and slot[0] != last:
                    cells.append(slot[1])
                    cols.append(c + 1)
                    last = slot[0]
            if tail[r]:  # its own cells, after the slots from above
                for c, (origin, text, _, _) in enumerate(rows[r], len(line) + 1):
                    if origin != last:
                        cells.append(text)
                        cols.append(c)
                        last = origin
        if cells:
            no = line_of_row[r] if line_of_row else None
            doc.add_grid_row(cells, GridRow(table_no, r + 1, cols, page), no)
