"""The structured report the parser emits: what the document says, where, and nothing judged.

A report keeps each cell's raw text, the number read from it and its place in the document.
What the parser could not place is kept too (``RowRead.unplaced``, ``ParsedReport.extra_rows``),
so that the validator can say precisely what is missing instead of the parser guessing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.template import SectionId, TemplateId

Format = Literal["text", "markdown", "html", "docx", "pdf"]
CellState = Literal["read", "blank", "unread", "missing"]


_new = object.__new__
_set = object.__setattr__
_CELL_FIELDS = frozenset({"raw", "value", "line", "at", "state", "unit"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GridRef(_Frozen):
    """Where a cell stands in a real table (HTML, .docx, PDF): all 1-based."""

    table: int
    row: int
    col: int
    page: int | None = None


class Cell(_Frozen):
    """One table cell as written.

    ``state``: ``read`` (a number was read; ``value`` holds it), ``blank`` (the place is certain
    and empty, or a placeholder such as ``/`` or ``—``), ``unread`` (text stands there but is no
    number), ``missing`` (the row carried fewer values than columns and this column's value
    cannot be told; see the row's ``unplaced``).
    """

    raw: str | None = None
    value: int | Decimal | None = None
    line: int | None = None
    at: GridRef | None = None
    state: CellState = "read"
    unit: str | None = None  # 万元, 元, 件 … when written beside the number

    @classmethod
    def trusted(
        cls,
        raw: str | None,
        value: int | Decimal | None,
        line: int | None,
        at: GridRef | None = None,
        state: CellState = "read",
        unit: str | None = None,
    ) -> Cell:
        """A cell from values the caller guarantees valid, without validating them.

        The parser's hot path makes a few hundred cells per report, and validating each costs
        more than reading the table; the parser's tests check these cells against validated
        ones. This is what ``model_construct`` does, minus its generic (slower) field handling.
        """
        cell = _new(cls)
        _set(cell, "__dict__", {"raw": raw, "value": value, "line": line, "at": at, "state": state, "unit": unit})
        _set(cell, "__pydantic_fields_set__", _CELL_FIELDS)
        _set(cell, "__pydantic_extra__", None)
        _set(cell, "__pydantic_private__", None)
        return cell


class RowRead(_Frozen):
    """How a template row was found: its label as written, and whether its cells are certain."""

    label: str
    line: int | None = None
    at: GridRef | None = None
    uncertain: bool = False
    note: str | None = None
    unplaced: tuple[Cell, ...] = ()


class ExtraRow(_Frozen):
    """A row the template does not have (a local addition, or a label that matched nothing)."""

    table: Literal["t2", "t3", "t4"]
    label: str
    line: int | None = None
    cells: tuple[Cell, ...] = ()


class SectionRead(_Frozen):
    heading: str
    text: str
    line: int | None = None


TableCells = dict[str, dict[str, Cell]]


class Tables(_Frozen):
    """Tables 二, 三, 四 by canonical row and column ids; ``None`` where the table is absent."""

    t2: TableCells | None = None
    t3: TableCells | None = None
    t4: TableCells | None = None


class TableRows(_Frozen):
    t2: dict[str, RowRead] = Field(default_factory=dict)
    t3: dict[str, RowRead] = Field(default_factory=dict)
    t4: dict[str, RowRead] = Field(default_factory=dict)


class TableTemplates(_Frozen):
    """The template each table's layout follows (read from the layout, not the year)."""

    t2: TemplateId | None = None
    t3: TemplateId | None = None


class Sources(_Frozen):
    """Every place a piece of metadata was found, as written there."""

    title: str | None = None
    submitter: str | None = None  # 报送单位
    preamble: str | None = None
    signature: str | None = None


class YearSources(_Frozen):
    title: int | None = None
    text: int | None = None  # “XXXX年度” in the preamble or body
    period: int | None = None  # 统计期限


class ParsedReport(_Frozen):
    """A faithful reading of one upload (contract: ../shared/spec/interfaces.md)."""

    schema_version: Literal[1] = 1
    format: Format
    encoding: str | None = None
    office: str | None = None
    office_sources: Sources = Sources()
    year: int | None = None
    year_sources: YearSources = YearSources()
    template: TemplateId | None = None
    table_templates: TableTemplates = TableTemplates()
    title: str | None = None
    title_line: int | None = None
    signed_on: dt.date | None = None
    sections: dict[SectionId, SectionRead] = Field(default_factory=dict)
    tables: Tables = Tables()
    rows: TableRows = TableRows()
    extra_rows: tuple[ExtraRow, ...] = ()
