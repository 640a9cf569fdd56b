"""Reconciliation (勾稽关系): every sum, every failing column or row, both sides named.

A sum with an operand that is absent, missing, unreadable or invalid is not assessed: that
cell's own TPL-* finding stands instead. A blank cell counts as 0 (its TPL-CELL-BLANK warning
tells the office to write the 0).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from contracts.report import Cell
from contracts.template import T3_COLUMNS, T3_RESULT_ROWS
from contracts.verdict import Number, Term
from services.validator.model import TABLE_EN, TABLE_LABELS, Hit, Report, fmt, number

_T3_PARTS = tuple(c for c in T3_COLUMNS if c != "total")
_T4_PARTS = ("upheld", "corrected", "other", "pending")


def _terms(
    r: Report, table: str, side: str, places: Sequence[tuple[str, str]]
) -> tuple[list[Term], Number] | None:
    """The cells at ``places`` as terms of one side of a sum, and their total (None: not assessable)."""
    cells = r.cells(table) or {}
    spec = r.spec(table)
    terms: list[Term] = []
    total: Number = 0
    for row, col in places:
        cell: Cell | None = cells.get(row, {}).get(col)
        value = number(cell)
        if value is None or cell is None:
            return None
        label = f"{_row_label(r, table, row)} / {spec.columns[col].label}"
        terms.append(Term(side=side, row=row, column=col, label=label, value=value, line=cell.line))  # type: ignore[arg-type]
        total += value
    return terms, total


def _row_label(r: Report, table: str, row: str) -> str:
    return r.where(table, row).row_label or row


def _hit(r: Report, table: str, row: str, col: str, left: tuple[list[Term], Number],
         right: tuple[list[Term], Number], **params: object) -> Hit:
    (lt, lv), (rt, rv) = left, right
    at = (r.cells(table) or {}).get(row, {}).get(col)
    loc = r.where(table, row, col, at)

    def side(terms: list[Term]) -> str:
        return " + ".join(f"{t.label}（{fmt(t.value)}）" for t in terms)

    return Hit(loc, {"table": TABLE_LABELS[table], "table_en": TABLE_EN[table], "row": loc.row_label,
                     "column": loc.column_label, "left": side(lt), "right": side(rt), "left_sum": fmt(lv),
                     "right_sum": fmt(rv), "diff": fmt(abs(lv - rv)), "row_id": row, "col_id": col, **params},
               expected=rv, actual=lv, terms=(*lt, *rt))


def t3_balance(r: Report) -> Iterator[Hit]:
    """Per column: new_received + carried_over = total + carried_forward."""
    if r.cells("t3") is None:
        return
    for col in T3_COLUMNS:
        left = _terms(r, "t3", "left", [("new_received", col), ("carried_over", col)])
        right = _terms(r, "t3", "right", [("total", col), ("carried_forward", col)])
        if left and right and left[1] != right[1]:
            yield _hit(r, "t3", "total", col, left, right)


def t3_rowsum(r: Report) -> Iterator[Hit]:
    """Per row: total = the six applicant columns."""
    for row in r.cells("t3") or {}:
        left = _terms(r, "t3", "left", [(row, "total")])
        right = _terms(r, "t3", "right", [(row, c) for c in _T3_PARTS])
        if left and right and left[1] != right[1]:
            yield _hit(r, "t3", row, "total", left, right)


def t3_result_total(r: Report) -> Iterator[Hit]:
    """Per column: （七）总计 = the sum of every handling-result row of the table's template."""
    if r.cells("t3") is None:
        return
    results = T3_RESULT_ROWS[r.template_of("t3")]
    for col in T3_COLUMNS:
        left = _terms(r, "t3", "left", [("total", col)])
        right = _terms(r, "t3", "right", [(row, col) for row in results])
        if left and right and left[1] != right[1]:
            yield _hit(r, "t3", "total", col, left, right)


def t4_sum(r: Report) -> Iterator[Hit]:
    """Per group of table 四: total = upheld + corrected + other + pending."""
    for group in r.cells("t4") or {}:
        left = _terms(r, "t4", "left", [(group, "total")])
        right = _terms(r, "t4", "right", [(group, c) for c in _T4_PARTS])
        if left and right and left[1] != right[1]:
            yield _hit(r, "t4", group, "total", left, right)


def t2_cross_year(r: Report) -> Iterator[Hit]:
    """Template 2021: this year's in_force = last year's in_force + issued − repealed."""
    prev = r.ctx.previous
    cells = r.cells("t2")
    if prev is None or cells is None or r.template_of("t2") != "2021" or prev.year != (r.year or 0) - 1:
        return
    for row in ("rules", "normative_docs"):
        if row not in prev.in_force or row not in cells:
            continue
        issued, repealed, in_force = (number(cells[row].get(c)) for c in ("issued", "repealed", "in_force"))
        if issued is None or repealed is None or in_force is None:
            continue
        expected = prev.in_force[row] + issued - repealed
        if expected != in_force:
            loc = r.where("t2", row, "in_force", cells[row]["in_force"])
            yield Hit(loc, {"row": loc.row_label, "row_id": row, "prev_year": prev.year,
                            "prev": prev.in_force[row], "issued": fmt(issued), "repealed": fmt(repealed),
                            "expected": fmt(expected), "actual": fmt(in_force)},
                      expected=expected, actual=in_force)


def t3_cross_year(r: Report) -> Iterator[Hit]:
    """This year's carried_over = carried_forward of the previous year's accepted report."""
    prev = r.ctx.previous
    cells = r.cells("t3")
    if prev is None or cells is None or "carried_over" not in cells or prev.year != (r.year or 0) - 1:
        return
    for col in T3_COLUMNS:
        if col not in prev.carried_forward:
            continue
        cell = cells["carried_over"].get(col)
        value = number(cell)
        if value is not None and value != prev.carried_forward[col]:
            loc = r.where("t3", "carried_over", col, cell)
            yield Hit(loc, {"row": loc.row_label, "column": loc.column_label, "col_id": col, "prev_year": prev.year,
                            "prev": prev.carried_forward[col], "actual": fmt(value)},
                      expected=prev.carried_forward[col], actual=value)

