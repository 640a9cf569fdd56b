"""Reconciliation (勾稽关系): every sum, every failing column or row, both sides named.

A sum with an operand that is absent, missing, unreadable or invalid is not assessed: that
cell's own TPL-* finding stands instead. A blank cell counts as 0 (its TPL-CELL-BLANK warning
tells the office to write the 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from operator import itemgetter

from contracts.template import T3_COLUMNS, T3_RESULT_ROWS
from contracts.verdict import Number, Term
from services.validator.model import TABLE_EN, TABLE_LABELS, Hit, Report, fmt

_T3_PARTS = tuple(c for c in T3_COLUMNS if c != "total")
_T4_PARTS = ("upheld", "corrected", "other", "pending")
_T3_ROW = itemgetter(*T3_COLUMNS)  # a row of table 三's values, in column order


def _columns_add_up(values: dict[str, dict[str, Number | None]], total: str, parts: Sequence[str]) -> bool:
    """True when every column of table 三 is read in full and ``parts`` add up to ``total``: the
    usual case, told at once (any doubt and the caller looks column by column)."""
    try:
        rows = [_T3_ROW(values[row]) for row in parts]
        return [sum(col) for col in zip(*rows, strict=True)] == list(_T3_ROW(values[total]))
    except (KeyError, TypeError):  # a row or a cell absent, or not a number
        return False


def _sum(values: dict[str, dict[str, Number | None]], places: Sequence[tuple[str, str]]) -> Number | None:
    """The sum of the cells at ``places``, or None when one of them is absent or not a number."""
    total: Number = 0
    for row, col in places:
        value = values.get(row, {}).get(col)
        if value is None:
            return None
        total += value
    return total


def _terms(r: Report, table: str, side: str, places: Sequence[tuple[str, str]]) -> list[Term]:
    """The cells at ``places`` as terms of one side of a failed sum (made only for a finding)."""
    cells = r.cells(table) or {}
    spec = r.spec(table)
    terms = []
    for row, col in places:
        cell = cells[row][col]
        label = f"{r.row_label(table, row)} / {spec.columns[col].label}"
        terms.append(
            Term(
                side=side,
                row=row,
                column=col,
                label=label,
                value=r.values[table][row][col],
                line=cell["line"],
            )
        )
    return terms


def _check(
    r: Report, table: str, at: tuple[str, str], left: Sequence[tuple[str, str]], right: Sequence[tuple[str, str]]
) -> Hit | None:
    """A hit at the cell ``at`` when both sides are readable and differ."""
    values = r.values[table]
    lv, rv = _sum(values, left), _sum(values, right)
    if lv is None or rv is None or lv == rv:
        return None
    lt, rt = _terms(r, table, "left", left), _terms(r, table, "right", right)
    row, col = at
    loc = r.where(table, row, col, (r.cells(table) or {}).get(row, {}).get(col))

    def side(terms: list[Term]) -> str:
        return " + ".join(f"{t.label}（{fmt(t.value)}）" for t in terms)

    return Hit(
        loc,
        {
            "table": TABLE_LABELS[table],
            "table_en": TABLE_EN[table],
            "row": loc.row_label,
            "column": loc.column_label,
            "left": side(lt),
            "right": side(rt),
            "left_sum": fmt(lv),
            "right_sum": fmt(rv),
            "diff": fmt(abs(Decimal(lv) - Decimal(rv))),
            "row_id": row,
            "col_id": col,
        },
        expected=rv,
        actual=lv,
        terms=(*lt, *rt),
    )


def _differs(total: Number | None, parts: Iterable[Number | None]) -> bool:
    """True when the total and every part are numbers and the parts do not add up to the total."""
    if total is None:
        return False
    added: Number = 0
    for value in parts:
        if value is None:
            return False  # not assessed: the cell's own TPL-* finding stands
        added += value
    return added != total


def t3_balance(r: Report) -> Iterator[Hit]:
    """Per column: new_received + carried_over = total + carried_forward."""
    values = r.values["t3"]
    rows = [values.get(row, {}) for row in ("new_received", "carried_over", "total", "carried_forward")]
    for col in T3_COLUMNS if r.r.tables.t3 is not None else ():
        a, b, c, d = (vals.get(col) for vals in rows)
        if a is None or b is None or c is None or d is None or a + b == c + d:
            continue
        hit = _check(
            r,
            "t3",
            ("total", col),
            [("new_received", col), ("carried_over", col)],
            [("total", col), ("carried_forward", col)],
        )
        if hit:
            yield hit


def t3_rowsum(r: Report) -> Iterator[Hit]:
    """Per row: total = the six applicant columns."""
    p1, p2, p3, p4, p5, p6 = _T3_PARTS  # unrolled: this runs for every row of every report
    for row, vals in r.values["t3"].items():
        get = vals.get
        total = get("total")
        if total is None:
            continue
        try:
            added = get(p1) + get(p2) + get(p3) + get(p4) + get(p5) + get(p6)  # type: ignore[operator]
        except TypeError:  # a part that is not a number: its own TPL-* finding stands
            continue
        if added != total:
            hit = _check(r, "t3", (row, "total"), [(row, "total")], [(row, c) for c in _T3_PARTS])
            if hit:
                yield hit


def t3_result_total(r: Report) -> Iterator[Hit]:
    """Per column: （七）总计 = the sum of every handling-result row of the table's template."""
    if r.r.tables.t3 is None:
        return
    values = r.values["t3"]
    results = T3_RESULT_ROWS[r.template_of("t3")]
    if any(row not in values for row in results) or "total" not in values:
        return  # a missing row: TPL-ROW-MISSING stands instead
    if _columns_add_up(values, "total", results):
        return
    result_rows = [values[row] for row in results]
    for col in T3_COLUMNS:
        if _differs(values["total"].get(col), [vals.get(col) for vals in result_rows]):
            hit = _check(r, "t3", ("total", col), [("total", col)], [(row, col) for row in results])
            if hit:
                yield hit


def t4_sum(r: Report) -> Iterator[Hit]:
    """Per group of table 四: total = upheld + corrected + other + pending."""
    for group, vals in r.values["t4"].items():
        if _differs(vals.get("total"), [vals.get(c) for c in _T4_PARTS]):
            hit = _check(r, "t4", (group, "total"), [(group, "total")], [(group, c) for c in _T4_PARTS])
            if hit:
                yield hit


def t2_cross_year(r: Report) -> Iterator[Hit]:
    """Template 2021: this year's in_force = last year's in_force + issued − repealed."""
    prev = r.ctx.previous
    cells = r.cells("t2")
    if prev is None or cells is None or r.template_of("t2") != "2021" or prev.year != (r.year or 0) - 1:
        return
    for row in ("rules", "normative_docs"):
        if row not in prev.in_force or row not in cells:
            continue
        issued, repealed, in_force = (r.values["t2"][row].get(c) for c in ("issued", "repealed", "in_force"))
        if issued is None or repealed is None or in_force is None:
            continue
        expected = prev.in_force[row] + issued - repealed
        if expected != in_force:
            loc = r.where("t2", row, "in_force", cells[row]["in_force"])
            yield Hit(
                loc,
                {
                    "row": loc.row_label,
                    "row_id": row,
                    "prev_year": prev.year,
                    "prev": prev.in_force[row],
                    "issued": fmt(issued),
                    "repealed": fmt(repealed),
                    "expected": fmt(expected),
                    "actual": fmt(in_force),
                },
                expected=expected,
                actual=in_force,
            )


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
        value = r.values["t3"]["carried_over"].get(col)
        if value is not None and value != prev.carried_forward[col]:
            loc = r.where("t3", "carried_over", col, cell)
            yield Hit(
                loc,
                {
                    "row": loc.row_label,
                    "column": loc.column_label,
                    "col_id": col,
                    "prev_year": prev.year,
                    "prev": prev.carried_forward[col],
                    "actual": fmt(value),
                },
                expected=prev.carried_forward[col],
                actual=value,
            )
