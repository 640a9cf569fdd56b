"""The structured report the parser emits: what the document says, where, and nothing judged.

A report keeps each cell's raw text, the number read from it and its place in the document.
What the parser could not place is kept too (``RowRead.unplaced``, ``ParsedReport.extra_rows``),
so that the validator can say precisely what is missing instead of the parser guessing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

# the constructors of the cells' shapes, in their own module (which the compiled build compiles),
# re-exported here with the shapes
from contracts.cells import cell_state as cell_state
from contracts.cells import grid_ref as grid_ref
from contracts.cells import make_cell as make_cell
from contracts.cells import row_read as row_read
from contracts.template import SectionId, TemplateId

# doc: legacy Word (.doc/.wps), read as converted; image: a PNG/JPEG scan, read by OCR
Format = Literal["text", "markdown", "html", "docx", "doc", "pdf", "image"]
CellState = Literal["read", "blank", "unread", "missing", "uncertain"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@with_config(ConfigDict(extra="forbid"))
class GridRef(TypedDict):
    """Where a cell stands in a real table (HTML, .docx, PDF): all 1-based; ``page`` for PDF."""

    table: int
    row: int
    col: int
    page: NotRequired[int]


@with_config(ConfigDict(extra="forbid"))
class Cell(TypedDict):
    """One table cell as written: ``{"raw", "value", "line"}``, plus what only some cells have.

    ``state`` (absent means ``read``): ``read`` (a number was read; ``value`` holds it),
    ``blank`` (the place is certain and empty, or a placeholder such as ``/`` or ``—``),
    ``unread`` (text stands there but is no number), ``missing`` (the row carried fewer values
    than columns and this column's value cannot be told; see the row's ``unplaced``),
    ``uncertain`` (read off a scan by OCR with less confidence than the threshold: ``raw`` shows
    what was recognised, ``value`` is None). A cell of a scanned page has ``source`` ``ocr`` and
    its recognition ``confidence``.
    ``at``: where the cell stands in a real table. ``unit``: 万元, 元, 件 … when written beside
    the number.

    A plain dict rather than a model (and so is ``GridRef``): a report has a few hundred cells,
    and a model instance per cell cost more to make, to send and to read back than everything
    else in the report (bench/README.md). The report holding the cells is frozen; nothing changes a cell after
    parsing.
    """

    raw: str | None
    value: int | Decimal | None
    line: int | None
    at: NotRequired[GridRef]
    state: NotRequired[CellState]
    unit: NotRequired[str]
    source: NotRequired[Literal["ocr"]]  # read off a scanned page by OCR …
    confidence: NotRequired[float]  # … with this confidence (0–1)


@with_config(ConfigDict(extra="forbid"))
class RowRead(TypedDict):
    """How a template row was found: its label as written, and whether its cells are certain.

    ``uncertain``: the row carried more or fewer values than the template has columns, so its
    cells are ``missing`` and what it had is kept, unplaced, in ``unplaced``. ``note``: what the
    parser did or doubted (digits written together split by the table's sums …). A plain dict,
    like ``Cell``, and for the same reason: a report has some forty rows, and a model instance
    each cost the parser an eighth of its time on an HTML page (bench/README.md). Every key is
    always there (the JSON is the same as when this was a model).
    """

    label: str
    line: int | None
    at: GridRef | None
    uncertain: bool
    note: str | None
    unplaced: tuple[Cell, ...]
    # only where true: the row's figures ran together with no separator between its cells
    # (crawled text) and could not be cut apart with certainty; ``unplaced`` holds them
    run_together: NotRequired[bool]


class ExtraRow(_Frozen):
    """A row the template does not have (a local addition, or a label that matched nothing)."""

    table: Literal["t2", "t3", "t4"]
    label: str
    line: int | None = None
    cells: tuple[Cell, ...] = ()


class SectionRead(_Frozen):
    """A section: its heading as written, the line it stands on, and its text.

    The text's lines are the document's lines after the heading, stripped, the rows of real
    tables left out: line k of ``text`` is line ``line + 1 + k`` of the document (blank lines,
    and the places of tables, stay as empty lines), so that what is found in the text can be
    pointed at.
    """

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
    """How each template row was found, by table and row id (see ``RowRead``)."""

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
    # the office the report's own sentences name (“2024年，××区人民政府坚持…”): the report's office
    # only when no source above names one, and never held against the registry (bodies name
    # offices loosely: 市生态环境局, 区政府)
    text: str | None = None


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
    scanned_pages: int = 0  # pages read by OCR (a scan): their cells carry source and confidence
