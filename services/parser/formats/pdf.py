"""PDF: text lines and ruled tables, in page order, read with pdfplumber."""

from __future__ import annotations

import io
import logging

import pdfplumber

from services.parser.document import Document
from services.parser.errors import Reason, UnreadableUpload
from services.parser.formats.grid import add_grid
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
                    rows = [
                        [text.replace("\n", "") for text in row if text is not None]
                        for row in item.extract()  # type: ignore[attr-defined]
                    ]
                    add_grid(doc, tables, rows, page=page_no)
            page.flush_cache() if hasattr(page, "flush_cache") else None
    if chars == 0:
        raise UnreadableUpload(Reason.UNSUPPORTED, "the PDF has no text layer (a scan?): upload the text")
    return doc
