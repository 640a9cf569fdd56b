"""The parser's pure core: bytes, a file name and a media type in, a ``ParsedReport`` out.

No broker, clock (beyond the per-document time budget), logger or environment in here. An
upload that cannot be read as a report at all raises ``UnreadableUpload`` with a reason.
"""

from __future__ import annotations

from contracts.report import ParsedReport, TableRows, Tables
from contracts.template import SectionId
from services.parser import structure
from services.parser.document import Document
from services.parser.errors import Reason, UnreadableUpload
from services.parser.formats import sniff
from services.parser.limits import OCR_THRESHOLD, Deadline, Limits
from services.parser.tables import TableRead, read_t4, read_table

_TABLE_SECTION: dict[str, SectionId] = {"t2": "proactive", "t3": "requests", "t4": "appeals"}
# Where a table starts when its section heading is missing (in matching form).
_ANCHORS = {
    "t2": ("第二十条第(一)项", "第二十条第(五)项"),
    "t3": ("勾稽关系", "申请人情况", "本年新收政府信息公开申请"),
    "t4": ("结果维持", "未经复议直接起诉"),
}


def parse(
    data: bytes,
    filename: str | None = None,
    media_type: str | None = None,
    limits: Limits | None = None,
    deadline: Deadline | None = None,
) -> ParsedReport:
    """Read one upload faithfully into a ``ParsedReport`` (within ``deadline``, by default the
    limits' ``max_seconds`` from now)."""
    limits = limits or Limits()
    if not data or not data.strip():
        raise UnreadableUpload(Reason.EMPTY, "the upload is empty")
    if len(data) > limits.max_bytes:
        raise UnreadableUpload(Reason.TOO_LARGE, f"{len(data)} bytes, over the limit of {limits.max_bytes}")
    deadline = deadline or Deadline(limits.max_seconds)
    doc = sniff.read(data, filename, media_type, limits, deadline)
    if len(doc) > limits.max_lines:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"{len(doc)} lines, over {limits.max_lines}")
    deadline.check()
    return build(doc)


def build(doc: Document) -> ParsedReport:
    """The report's frame and tables from the lines of a document."""
    headings = structure.find_headings(doc)
    first = headings[0].pos if headings else len(doc)
    title, title_line = structure.find_title(doc, first)
    if title is None and doc.page_title:  # a page that shows its title outside the article
        title = doc.page_title
    signer, signed_on = structure.signature(doc)
    sources = structure.find_sources(doc, title, first, signer)
    years = structure.find_years(doc, title, first)
    spans = _regions(doc, headings)
    t2 = read_table("t2", doc, *spans["t2"]) if "t2" in spans else TableRead()
    t3 = read_table("t3", doc, *spans["t3"]) if "t3" in spans else TableRead()
    t4 = read_t4(doc, *spans["t4"]) if "t4" in spans else TableRead()
    if not headings and not (t2.found or t3.found):
        raise UnreadableUpload(
            Reason.NOT_A_REPORT,
            "no sign of the annual report structure (no section headings, no table 二 or 三)",
        )
    if doc.confidence:
        _mark_scanned(doc.confidence, [t2, t3, t4])
    office = sources.title or sources.submitter or sources.signature or sources.preamble or sources.text
    year = years.title or years.period or years.text
    return ParsedReport.model_validate(
        dict(
            format=doc.format,
            encoding=doc.encoding,
            office=office,
            office_sources=sources,
            year=year,
            year_sources=years,
            template=t2.template or t3.template,
            table_templates={"t2": t2.template, "t3": t3.template},
            title=title,
            title_line=title_line,
            signed_on=signed_on,
            sections=structure.sections(doc, headings),
            # the cells are built in their final shape by the table readers: not validated again
            tables=Tables.model_construct(
                t2=t2.cells if t2.found else None,
                t3=t3.cells if t3.found else None,
                t4=t4.cells if t4.found else None,
            ),
            rows=TableRows.model_construct(t2=t2.rows, t3=t3.rows, t4=t4.rows),  # built in their final shape too
            scanned_pages=doc.scanned,
            extra_rows=[*t2.extra, *t3.extra, *t4.extra],
        )
    )


def _mark_scanned(confidence: dict[tuple[int, int, int], float], tables: list[TableRead]) -> None:
    """Cells read off a scanned page: their source and confidence; under the threshold, uncertain
    (what was recognised is shown as ``raw``; no value is taken from it). On a scan, a row whose
    figures do not fit its columns, or a cell that reads as no number, is what the reading could
    not make out, not what the office wrote: its cells are uncertain too."""
    for read in tables:
        for rid, row in read.rows.items():
            at = row["at"]
            if not row["uncertain"] or at is None or (at["table"], at["row"], at["col"]) not in confidence:
                continue
            row["uncertain"] = False
            row["note"] = f"scanned: {row['note']}"
            for cell in read.cells[rid].values():
                cell["state"], cell["value"], cell["source"], cell["confidence"] = "uncertain", None, "ocr", 0.0
        cells = [c for row in read.cells.values() for c in row.values()]
        cells += [c for row in read.rows.values() for c in row["unplaced"]]
        cells += [c for extra in read.extra for c in extra["cells"]]
        for cell in cells:
            at = cell.get("at")
            conf = confidence.get((at["table"], at["row"], at["col"])) if at is not None else None
            if conf is None:
                continue
            cell["source"] = "ocr"
            cell["confidence"] = round(conf, 3)
            if cell.get("state", "read") == "unread" or (conf < OCR_THRESHOLD and cell.get("state", "read") == "read"):
                cell["state"] = "uncertain"
                cell["value"] = None
                cell.pop("unit", None)


def _regions(doc: Document, headings: list[structure.Heading]) -> dict[str, tuple[int, int]]:
    """Where each table's lines are: its section, or from an anchor line when the heading is missing."""
    by_id = {h.id: h.pos for h in headings}
    starts: dict[str, int] = {}
    for table, section in _TABLE_SECTION.items():
        if section in by_id:
            starts[table] = by_id[section] + 1
            continue
        after = max((starts[t] for t in starts), default=0)
        for pos in range(after, len(doc)):
            form = doc.line(pos).form
            if any(a in form for a in _ANCHORS[table]):
                starts[table] = pos
                break
    bounds = sorted({*(h.pos for h in headings), *starts.values(), len(doc)})
    spans = {}
    for table, start in starts.items():
        end = next((b for b in bounds if b > start), len(doc))
        spans[table] = (start, end)
    return spans
