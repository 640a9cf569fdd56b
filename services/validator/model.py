"""The pieces a rule is made of: its context, what a check returns, and the rule itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from contracts.report import Cell, ParsedReport, cell_state
from contracts.template import TEMPLATES, Kind, Table, TemplateId, template_for_year
from contracts.verdict import Location, Number, Office, PreviousFigures, Severity, Term

TABLE_LABELS = {
    "t2": "表二（主动公开政府信息情况）",
    "t3": "表三（收到和处理政府信息公开申请情况）",
    "t4": "表四（政府信息公开行政复议、行政诉讼情况）",
}
TABLE_EN = {"t2": "table 2 (proactive disclosure)", "t3": "table 3 (requests)", "t4": "table 4 (appeals)"}
SECTION_OF = {"t2": "proactive", "t3": "requests", "t4": "appeals"}


@dataclass(frozen=True, slots=True)
class Context:
    """What the submitter declared and what is known besides the document."""

    office: Office | None = None  # the registry entry of the submitting office
    year: int | None = None  # the year the submission declares
    now: dt.date | None = None
    previous: PreviousFigures | None = None  # the office's accepted report of the year before


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a rule fails, with the values its messages are filled with."""

    location: Location = field(default_factory=Location)
    params: dict[str, Any] = field(default_factory=dict)
    expected: Number | str | None = None
    actual: Number | str | None = None
    terms: tuple[Term, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of the catalogue (../shared/spec/rules.md): id, severity, messages, check."""

    id: str
    severity: Severity
    summary_zh: str  # what the rule checks, for `intake rules` and docs/rules.md
    summary_en: str
    message_zh: str  # str.format template over the hit's params
    message_en: str
    check: Callable[[Report], Iterable[Hit]]


CellRef = tuple[str, str, str, Cell]  # table, row id, column id, cell
_ROW_LABELS: dict[str, dict[tuple[str, str], str]] = {
    tid: {(t.id, r.id): r.label for t in (tpl.t2, tpl.t3, tpl.t4) for r in t.rows} for tid, tpl in TEMPLATES.items()
}
_T4_LABELS = {
    "review": "行政复议",
    "litigation_direct": "行政诉讼（未经复议直接起诉）",
    "litigation_after_review": "行政诉讼（复议后起诉）",
}
# Small counts as written plainly: a cell whose value is one of these numbers and whose raw text
# is the number written out was read as written (the parser gives a value only to a cell it read).
# Looked up by the value, not the text: a number's hash is itself, a text's must be computed
# (and a report just decoded has new texts).
_CANONICAL: dict[Number | None, str] = {n: str(n) for n in range(1000)}


class Report:
    """A parsed report seen through its template: the helpers every check uses.

    One pass over the cells (``_scan``) gives every sum its numbers and every cell rule the few
    cells it must look at, so that a clean report costs one loop, not one per rule.
    """

    __slots__ = (
        "_specs",
        "_templates",
        "attention",
        "blank",
        "ctx",
        "prose",
        "r",
        "uncertain",
        "unread",
        "values",
        "year",
    )

    def __init__(self, report: ParsedReport, ctx: Context) -> None:
        self.r = report
        self.ctx = ctx
        self.year = report.year or ctx.year
        self._templates = {t: self._template_of(t) for t in ("t2", "t3", "t4")}
        self._specs = {t: TEMPLATES[tid].table(t) for t, tid in self._templates.items()}
        self.values: dict[str, dict[str, dict[str, Number | None]]] = {}
        self.blank: list[CellRef] = []
        self.unread: list[CellRef] = []
        self.uncertain: list[CellRef] = []  # cells of a scan OCR could not read with confidence
        self.attention: list[CellRef] = []  # read cells that may be suspect, invalid or in the wrong unit
        self.prose: list[tuple[str, str, int | None]] | None = None  # see narrative._prose
        self._scan()

    def _scan(self) -> None:
        attention, blank, unread = self.attention.append, self.blank.append, self.unread.append
        canonical = _CANONICAL
        for table in ("t2", "t3", "t4"):
            # (typed: the compiled build then reads the dicts directly, not through Python's protocols)
            rows: dict[str, dict[str, Cell]] | None = getattr(self.r.tables, table)
            values: dict[str, dict[str, Number | None]] = {}
            self.values[table] = values
            if rows is None:
                continue
            columns = self.spec(table).columns
            for row_id, row in rows.items():
                out: dict[str, Number | None] = {}
                values[row_id] = out
                for col, cell in row.items():
                    value = cell["value"]
                    if canonical.get(value, 0) == cell["raw"]:  # a count written plainly (most cells)
                        out[col] = value
                        continue
                    if "state" not in cell:  # a number was read: a large count, an amount, or written otherwise
                        if type(value) is int and 1000 <= value < 1_000_000 and cell["raw"] == str(value):
                            out[col] = value
                            continue
                        if type(value) is int and value < 0:
                            kind = columns[col].kind if col in columns else Kind.COUNT
                            out[col] = value if kind is Kind.SIGNED else None
                        else:
                            out[col] = value
                        attention((table, row_id, col, cell))
                        continue
                    state = cell["state"]
                    if state == "read":  # written out, though the parser leaves it off
                        out[col] = number(cell, columns[col].kind if col in columns else Kind.COUNT)
                        attention((table, row_id, col, cell))
                    elif state == "blank":
                        out[col] = 0
                        blank((table, row_id, col, cell))
                    else:
                        out[col] = None
                        if state == "unread":
                            unread((table, row_id, col, cell))
                        elif state == "uncertain":
                            self.uncertain.append((table, row_id, col, cell))

    def template_of(self, table: str) -> TemplateId:
        return self._templates[table]

    def _template_of(self, table: str) -> TemplateId:
        """The template a table's layout follows; else the report's, else the year's."""
        own = getattr(self.r.table_templates, table, None) if table != "t4" else None
        if own:
            return own  # type: ignore[no-any-return]
        if self.r.template:
            return self.r.template
        return template_for_year(self.year) if self.year else "2021"

    def spec(self, table: str) -> Table:
        return self._specs[table]

    def cells(self, table: str) -> dict[str, dict[str, Cell]] | None:
        return getattr(self.r.tables, table)  # type: ignore[no-any-return]

    def row_label(self, table: str, row: str) -> str:
        """The template's Chinese label of a row (table 四: its group, spelled out)."""
        if table == "t4":
            return _T4_LABELS.get(row, row)
        return _ROW_LABELS[self.template_of(table)].get((table, row), row)

    def where(
        self, table: str, row: str | None = None, column: str | None = None, cell: Cell | None = None
    ) -> Location:
        spec = self.spec(table)
        row_label = column_label = None
        if row is not None:
            row_label = self.row_label(table, row)
        if column is not None:
            column_label = spec.columns[column].label if column in spec.columns else column
        line = cell["line"] if cell is not None else None
        if line is None and row is not None:
            read = getattr(self.r.rows, table).get(row)
            line = read["line"] if read is not None else None
        return Location(
            section=SECTION_OF[table],
            table=table,
            row=row,
            column=column,
            table_label=TABLE_LABELS[table],
            row_label=row_label,
            column_label=column_label,
            line=line,
            cell=cell.get("at") if cell is not None else None,
        )

    def kind(self, table: str, column: str) -> Kind:
        column_spec = self._specs[table].columns.get(column)
        return Kind.COUNT if column_spec is None else column_spec.kind


def number(cell: Cell | None, kind: Kind = Kind.COUNT) -> Number | None:
    """A cell's value for arithmetic: blank counts as 0; missing, unreadable or invalid: None."""
    if cell is None:
        return None
    state = cell_state(cell)
    if state in ("missing", "unread", "uncertain"):
        return None
    if state == "blank":
        return 0
    value = cell["value"]
    if value is None or (kind is Kind.COUNT and isinstance(value, int) and value < 0):
        return None
    return value


def fmt(value: Number | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
