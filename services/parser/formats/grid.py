"""Real tables (HTML, .docx, PDF) as rows of distinct cells, merged cells expanded."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from services.parser.document import Document, GridRow

MAX_SPAN = 100
MAX_CELLS = 20_000

Slot = tuple[Hashable, str]  # (the cell's origin, its text)


def add_grid(
    doc: Document,
    table_no: int,
    rows: Sequence[list[str]],
    spans: Sequence[dict[int, tuple[int, int]] | None] | None = None,
    line_of_row: Sequence[int | None] | None = None,
    page: int | None = None,
    origins: Sequence[list[Hashable] | None] | None = None,
) -> None:
    """Expand a table into document lines: each row its cells' texts, in order.

    ``spans[r]``: the (rowspan, colspan) of the row's merged cells by their index in the row
    (None: no merged cell). ``origins[r]``: what identifies each cell of the row, where a cell
    is one already met (a .docx vertical merge names the cell that started it); by default
    every cell is its own. A table of more than ``MAX_CELLS`` slots is no table (nothing added).

    Cells are placed left to right in the first free slots of their row, as a browser does. A
    cell merged over several columns stands once in its row; a cell merged over several rows (a
    group label) is repeated on each row it covers, as a reader of the printed table sees it.
    In most rows what merged cells from above put there (if anything) fills the first columns:
    the row's cells are laid out side by side after it, by their widths (what stands above is
    worked out once for all the rows of a group). Only a row where it leaves gaps (a header row
    under cells merged in the middle) or whose cells name their origins is laid out slot by slot.
    """
    n = len(rows)
    # what merged cells from the rows above put in each row, in the order they were placed:
    # (first slot, width, slot); None: nothing reaches the row
    above: list[list[tuple[int, int, Slot]] | None] = [None] * n
    out: list[tuple[list[str], list[int]]] = []
    prefixes: dict[tuple[tuple[int, int, Slot], ...], tuple[list[str], list[int], int]] = {}
    count = 0
    for r, texts in enumerate(rows):
        merged = spans[r] if spans is not None else None
        named = origins[r] if origins is not None else None
        writes = above[r]
        count += len(texts)
        if named is None:
            # what stands above (if anything) fills the first columns: the cells side by side after it
            if writes is None:
                if merged is None:  # most rows
                    out.append((texts, list(range(1, len(texts) + 1))))
                    continue
                cells: list[str] = []
                cols: list[int] = []
                width = 0
            else:
                key = tuple(writes)  # the rows of a group: the same cells from above, worked out once
                prefix = prefixes.get(key)
                if prefix is None:
                    line = _slots(writes)
                    prefix = prefixes[key] = (*_distinct(line), len(line)) if None not in line else ([], [], -1)
                cells, cols, width = prefix
            if width >= 0:  # (else what stands above leaves gaps: slot by slot)
                if merged is None:
                    placed = list(range(width + 1, width + 1 + len(texts)))
                else:  # merged cells: each cell at its width's distance, those over rows put in the rows below
                    placed = []
                    c = width
                    for k in range(len(texts)):
                        placed.append(c + 1)
                        span = merged.get(k)
                        if span is None:
                            c += 1
                            continue
                        rowspan, colspan = _clamped(span, n - r)
                        if rowspan > 1:
                            _reach_below(above, r, rowspan, (c, colspan, ((r, k), texts[k])))
                        c += colspan
                        count += rowspan * colspan - 1
                        if count > MAX_CELLS:
                            return
                out.append(([*cells, *texts], [*cols, *placed]))
                continue
        line = _slots(writes) if writes is not None else []
        c = 0
        for k, text in enumerate(texts):
            while c < len(line) and line[c] is not None:
                c += 1
            slot = (named[k] if named is not None else (r, k), text)
            rowspan, colspan = merged.get(k, (1, 1)) if merged is not None else (1, 1)
            if rowspan == 1 and colspan == 1:
                if c == len(line):
                    line.append(slot)
                else:
                    line[c] = slot
                c += 1
                continue
            rowspan, colspan = _clamped((rowspan, colspan), n - r)
            _put(line, c, colspan, slot)
            if rowspan > 1:
                _reach_below(above, r, rowspan, (c, colspan, slot))
            c += colspan
            count += rowspan * colspan - 1
            if count > MAX_CELLS:
                return
        out.append(_distinct(line))
    if count > MAX_CELLS:
        return
    for r, (cells, cols) in enumerate(out):
        add_row(doc, table_no, r + 1, cells, cols, line_of_row[r] if line_of_row else None, page)


def add_row(
    doc: Document, table_no: int, row: int, cells: list[str], cols: list[int], line: int | None, page: int | None
) -> None:
    """One table row into the document: a row of its distinct cells, or text.

    A row that is one cell across the table (a page's frame drawn round the text, a layout
    table holding the article, a caption row such as 第二十条第（一）项) is a paragraph, not a
    row of figures: its lines are text lines, where headings and titles are looked for.
    """
    if len(cells) == 1:
        for part in cells[0].split("\n"):
            if part.strip():
                doc.add_text(part, line)
    elif cells:
        doc.add_grid_row(cells, GridRow(table_no, row, cols, page), line)


def _clamped(span: tuple[int, int], rows_left: int) -> tuple[int, int]:
    """(rowspan, colspan) as laid out: at least 1, at most ``MAX_SPAN`` and the rows there are."""
    rowspan, colspan = span
    if rowspan < 1:
        rowspan = 1
    elif rowspan > MAX_SPAN or rowspan > rows_left:  # (rare: no min() call for the rest)
        rowspan = min(MAX_SPAN, rows_left)
    if colspan < 1:
        colspan = 1
    elif colspan > MAX_SPAN:
        colspan = MAX_SPAN
    return rowspan, colspan


def _reach_below(
    above: list[list[tuple[int, int, Slot]] | None], r: int, rowspan: int, write: tuple[int, int, Slot]
) -> None:
    """A cell merged over rows: what it puts in each row below ``r`` that it covers."""
    for dr in range(1, rowspan):
        later = above[r + dr]
        if later is None:
            later = above[r + dr] = []
        later.append(write)


def _put(line: list[Slot | None], c: int, width: int, slot: Slot) -> None:
    if len(line) < c + width:
        line.extend([None] * (c + width - len(line)))
    line[c : c + width] = [slot] * width


def _slots(writes: list[tuple[int, int, Slot]]) -> list[Slot | None]:
    line: list[Slot | None] = []
    for c, width, slot in writes:
        _put(line, c, width, slot)
    return line


def _distinct(line: list[Slot | None]) -> tuple[list[str], list[int]]:
    """A row's distinct cells (a cell over several slots once, at its first) and their columns."""
    cells, cols = [], []
    last: Hashable = None
    for c, slot in enumerate(line, 1):
        if slot is not None and slot[0] != last:
            cells.append(slot[1])
            cols.append(c)
            last = slot[0]
    return cells, cols
