"""What the parser makes by the hundred for a report: cells, grid references, row reads.

The shapes are ``contracts.report``'s TypedDicts (which re-exports these functions); the
functions are apart because that module holds pydantic models, which the compiled build
(setup.py) cannot compile: here, making a cell in the compiled parser is a C call, not a call
into the interpreter.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.report import Cell, CellState, GridRef, RowRead


def grid_ref(table: int, row: int, col: int, page: int | None = None) -> GridRef:
    ref: GridRef = {"table": table, "row": row, "col": col}
    if page is not None:
        ref["page"] = page
    return ref


def cell_state(cell: Cell) -> CellState:
    return cell.get("state", "read")


def make_cell(
    raw: str | None,
    value: int | Decimal | None,
    line: int | None,
    at: GridRef | None = None,
    state: CellState = "read",
    unit: str | None = None,
) -> Cell:
    """A cell with only the keys it needs (what tests and slow paths use; the parser inlines it)."""
    cell: Cell = {"raw": raw, "value": value, "line": line}
    if at is not None:
        cell["at"] = at
    if state != "read":
        cell["state"] = state
    if unit is not None:
        cell["unit"] = unit
    return cell


def row_read(
    label: str,
    line: int | None = None,
    at: GridRef | None = None,
    uncertain: bool = False,
    note: str | None = None,
    unplaced: tuple[Cell, ...] = (),
    run_together: bool = False,
) -> RowRead:
    row: RowRead = {"label": label, "line": line, "at": at, "uncertain": uncertain, "note": note, "unplaced": unplaced}
    if run_together:
        row["run_together"] = True
    return row
