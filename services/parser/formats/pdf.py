"""PDF: text lines and ruled tables, in page order, read with pdfplumber."""

from __future__ import annotations

import io
import logging
import re

import pdfplumber

from services.parser.document import Document
from services.parser.errors import Reason, UnreadableUpload
from services.parser.formats.grid import add_row
from services.parser.limits import Deadline, Limits

logging.getLogger("pdfminer").setLevel(logging.ERROR)


def read(data: bytes, limits: Limits, deadline: Deadline) -> Document:
    try:
        return _read(data, limits, deadline)
    except UnreadableUpload:
        raise
    except Exception as exc:  # pdfminer raises many kinds for damaged or locked files
        name = type(exc).__name__
        inner = " ".join(type(a).__name__ for a in exc.args) + " " + repr(exc.__cause__)
        if any(w in name + inner for w in ("Password", "Encrypt")) or "encrypt" in str(exc).lower():
            raise UnreadableUpload(Reason.ENCRYPTED, "the PDF is password-protected") from exc
        raise UnreadableUpload(Reason.CORRUPT, f"the PDF cannot be read: {name}") from exc


# What a page prints besides the text: its number (“- 1 -”, “— 2 —”, “第 3 页 共 5 页”, “4/5”).
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,3}\s*[-—–－]|第\s*\d{1,3}\s*页(?:\s*[,，]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)


def _read(data: bytes, limits: Limits, deadline: Deadline) -> Document:
    doc = Document("pdf")
    tables = 0
    chars = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        if len(pdf.pages) > limits.max_pdf_pages:
            raise UnreadableUpload(Reason.TOO_COMPLEX, f"{len(pdf.pages)} pages, over {limits.max_pdf_pages}")
        for page_no, page in enumerate(pdf.pages, 1):
            deadline.check()
            found = page.find_tables()
            boxes = [t.bbox for t in found]
            items: list[tuple[float, int, object]] = []
            for line in page.extract_text_lines(return_chars=False):
                chars += len(line["text"])
                cx, cy = (line["x0"] + line["x1"]) / 2, (line["top"] + line["bottom"]) / 2
                if _PAGE_NUMBER.match(line["text"]):
                    continue
                if not any(x0 <= cx <= x1 and y0 <= cy <= y1 for x0, y0, x1, y1 in boxes):
                    items.append((line["top"], 0, line["text"]))
            for t in found:
                items.append((t.bbox[1], 1, t))
            items.sort(key=lambda it: (it[0], it[1]))
            for _, kind, item in items:
                if kind == 0:
                    doc.add_text(str(item))
                else:
                    tables += 1
                    _table(doc, item.extract(), tables, page_no)  # type: ignore[attr-defined]
            page.flush_cache() if hasattr(page, "flush_cache") else None
    if chars == 0:
        raise UnreadableUpload(Reason.UNSUPPORTED, "the PDF has no text layer (a scan?): upload the text")
    return doc


def _table(doc: Document, rows: list[list[str | None]], table_no: int, page_no: int) -> None:
    """A ruled table's rows, each cell at its column of the table's grid (None: a slot covered by
    a merged cell). A label wrapped over lines inside its cell is one label again."""
    for r, row in enumerate(rows, 1):
        cells = [text for text in row if text is not None]
        cols = [c for c, text in enumerate(row, 1) if text is not None]
        if len(cells) == 1:
            add_row(doc, table_no, r, cells, cols, None, page_no)
        else:
            add_row(doc, table_no, r, [text.replace("\n", "") for text in cells], cols, None, page_no)
