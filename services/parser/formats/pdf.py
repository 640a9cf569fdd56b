"""PDF: text lines and ruled tables, in page order, read with PDFium (``formats/pdfium.py``)."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium

from services.parser.document import Document
from services.parser.errors import Reason, UnreadableUpload
from services.parser.formats import ocr
from services.parser.formats import pdfium as pages_of
from services.parser.formats.grid import add_row
from services.parser.limits import Deadline, Limits


def read(data: bytes, limits: Limits, deadline: Deadline) -> Document:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableUpload(Reason.ENCRYPTED, "the PDF is password-protected") from exc
        raise UnreadableUpload(Reason.CORRUPT, f"the PDF cannot be read: {exc}") from exc
    try:
        return _read(pdf, limits, deadline)
    except UnreadableUpload:
        raise
    except pdfium.PdfiumError as exc:
        raise UnreadableUpload(Reason.CORRUPT, f"the PDF cannot be read: {exc}") from exc
    finally:
        pdf.close()


# What a page prints besides the text: its number (“- 1 -”, “— 2 —”, “第 3 页 共 5 页”, “4/5”).
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–－]\s*\d{1,3}\s*[-—–－]|第\s*\d{1,3}\s*页(?:\s*[,，]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)

# a run of a table's rows: its box, its cells' texts, and (scans) each cell's recognition confidence
Block = tuple[pages_of.Box, list[list[str | None]], list[list[float | None]] | None]
Items = list[tuple[float, int, pages_of.Line | Block]]  # a page's lines and tables, top down


def _read(pdf: pdfium.PdfDocument, limits: Limits, deadline: Deadline) -> Document:
    doc = Document("pdf")
    if len(pdf) > limits.max_pdf_pages:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"{len(pdf)} pages, over {limits.max_pdf_pages}")
    pages: list[Items] = []
    scanned = 0
    for index in range(len(pdf)):
        deadline.check()
        page = pdf[index]
        try:
            content = pages_of.read_page(page)
            if content.chars:
                pages.append(_text_page(content))
                continue
            if not pages_of.has_images(page):  # a blank page
                pages.append([])
                continue
            deadline.extend(limits.ocr_seconds)  # a scan: its budget (and the sandbox's memory) before OCR loads
            if not ocr.available():  # no OCR to read it
                pages.append([])
                continue
            scanned += 1
            image = page.render(scale=ocr.DPI / 72, grayscale=True).to_numpy()
            pages.append(_scan_page(ocr.read_page(image), 72 / ocr.DPI))
        finally:
            page.close()
    if not any(pages):
        if not ocr.installed():  # (not loaded for pages with neither text nor images)
            raise UnreadableUpload(Reason.OCR_MISSING, "the PDF has no text layer (a scan) and OCR is not installed")
        raise UnreadableUpload(Reason.NOT_A_REPORT, "the PDF has no text layer, and OCR found no text in it")
    _assemble(doc, pages)
    doc.scanned = scanned
    return doc


def read_image(data: bytes, limits: Limits, deadline: Deadline) -> Document:
    """A PNG or JPEG upload: a scanned page, read by OCR. Its size is read from its header before
    anything is decoded (a small file can declare a gigapixel page)."""
    try:
        from PIL import Image  # (the ocr extra brings it)
    except ImportError:
        raise UnreadableUpload(Reason.OCR_MISSING, "an image (a scan) and OCR is not installed") from None
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
    except Image.DecompressionBombError as exc:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"the image is too large to read ({exc})") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableUpload(Reason.CORRUPT, "the image cannot be decoded") from exc
    if width * height > limits.max_image_pixels:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"an image of {width}×{height} pixels")
    deadline.extend(limits.ocr_seconds)
    if not ocr.available():
        raise UnreadableUpload(Reason.OCR_MISSING, "an image (a scan) and OCR is not installed")
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise UnreadableUpload(Reason.CORRUPT, "the image cannot be decoded")
    doc = Document("image")
    _assemble(doc, [_scan_page(ocr.read_page(image), 1.0)])
    doc.scanned = 1
    return doc


def _text_page(content: pages_of.Page) -> Items:
    blocks = [block for table in content.tables for block in _blocks(table, content.chars)]
    text = [
        line
        for line in pages_of.lines(content.chars)
        if not _PAGE_NUMBER.match(line.text) and not _inside(line, blocks)
    ]
    items: Items = [(line.top, 0, line) for line in text]
    items += [(block[0][1], 1, block) for block in blocks]
    items.sort(key=lambda it: (it[0], it[1]))
    return items


def _scan_page(page: ocr.ScanPage, scale: float) -> Items:
    """A page read by OCR, in points (``scale``: points a pixel). A table's rows of one cell are text
    lines, as on a page with a text layer."""
    items: Items = [
        (line.top * scale, 0, _scaled(line, scale)) for line in page.lines if not _PAGE_NUMBER.match(line.text)
    ]
    for table in page.tables:
        run: list[int] = []
        for k, cells in enumerate([*table.rows, None]):
            if cells is not None and sum(c is not None for c in cells) >= 2:
                run.append(k)
                continue
            if run:
                x0, top, x1, _ = table.boxes[run[0]]
                box = (x0 * scale, top * scale, x1 * scale, table.boxes[run[-1]][3] * scale)
                items.append((box[1], 1, (box, [table.rows[i] for i in run], [table.confidences[i] for i in run])))
                run = []
            if cells is not None:
                text = "".join(c or "" for c in cells).replace("\n", "")
                x0, top, x1, bottom = table.boxes[k]
                items.append((top * scale, 0, pages_of.Line(text, x0 * scale, top * scale, x1 * scale, bottom * scale)))
    items.sort(key=lambda it: (it[0], it[1]))
    return items


def _scaled(line: pages_of.Line, scale: float) -> pages_of.Line:
    return pages_of.Line(line.text, line.x0 * scale, line.top * scale, line.x1 * scale, line.bottom * scale)


def _assemble(doc: Document, pages: list[Items]) -> None:
    """The pages' lines made paragraphs and their tables rows of the document, in order."""
    lines = [item for items in pages for _, kind, item in items if kind == 0]
    left = min((line.x0 for line in lines), default=0.0)  # type: ignore[union-attr]
    right = max((line.x1 for line in lines), default=0.0)  # type: ignore[union-attr]
    para = _Paragraph(doc, left, right)
    tables = 0
    for page_no, items in enumerate(pages, 1):
        for _, kind, item in items:
            if kind == 0:
                para.feed(item)  # type: ignore[arg-type]
            else:
                para.flush()
                tables += 1
                _table(doc, item[1], tables, page_no, item[2])  # type: ignore[index]
    para.flush()


def _blocks(table: pages_of.Table, chars: list[pages_of.Char]) -> list[Block]:
    """A ruled table's runs of rows with two cells or more, each with its box. A row of one cell
    across the table is no row of figures: a page's frame drawn round the text (WPS), a caption
    row. Its lines are read as the page's text lines, with the rest of the page's prose."""
    out: list[Block] = []
    run: list[tuple[pages_of.Box, list[pages_of.Box | None]]] = []
    for box, cells in table.rows:
        if sum(c is not None for c in cells) >= 2:
            run.append((box, cells))
            continue
        if run:
            out.append(_block(run, chars))
            run = []
    if run:
        out.append(_block(run, chars))
    return out


def _block(run: list[tuple[pages_of.Box, list[pages_of.Box | None]]], chars: list[pages_of.Char]) -> Block:
    box = (min(b[0] for b, _ in run), min(b[1] for b, _ in run), max(b[2] for b, _ in run), max(b[3] for b, _ in run))
    rows = []
    for (_, top, _, bottom), cells in run:  # (a row's characters first: a cell looks at those only)
        inside = [c for c in chars if top <= (c[2] + c[4]) / 2 < bottom]
        rows.append([pages_of.text_in(inside, cell) if cell is not None else None for cell in cells])
    return box, rows, None


def _inside(line: pages_of.Line, blocks: list[Block]) -> bool:
    cx, cy = (line.x0 + line.x1) / 2, (line.top + line.bottom) / 2
    return any(x0 <= cx <= x1 and y0 <= cy <= y1 for (x0, y0, x1, y1), _, _ in blocks)


class _Paragraph:
    """The document's lines of prose made paragraphs again: a line that runs to the right margin
    (the document's, not its page's: a last page may hold a few short lines) goes on in the next
    line, on the next page too, unless that one is indented (a paragraph's first line) or a figure
    ends the first and text starts the next (rows of a table without rules)."""

    def __init__(self, doc: Document, left: float, right: float) -> None:
        self.doc = doc
        self.left, self.right = left, right
        self.text: str | None = None
        self.full = False

    def feed(self, line: pages_of.Line) -> None:
        text = line.text
        size = max(line.bottom - line.top, 1.0)
        indented = line.x0 > self.left + size
        if self.text is not None and self.full and not indented and text:
            end, start = self.text[-1], text[0]
            if not (end.isdigit() and not start.isdigit()):
                sep = " " if end.isascii() and end.isalpha() and start.isascii() and start.isalpha() else ""
                self.text += sep + text
                self.full = self._full(line, text)
                return
        self.flush()
        self.text = text
        self.full = self._full(line, text)

    def _full(self, line: pages_of.Line, text: str) -> bool:
        return len(text) >= 10 and line.x1 >= self.right - 1.5 * max(line.bottom - line.top, 1.0)

    def flush(self) -> None:
        if self.text is not None:
            self.doc.add_text(self.text)
        self.text = None
        self.full = False


def _table(
    doc: Document,
    rows: list[list[str | None]],
    table_no: int,
    page_no: int,
    confidences: list[list[float | None]] | None = None,
) -> None:
    """A ruled table's rows, each cell at its column of the table's grid (None: a slot covered by
    a merged cell). A label wrapped over lines inside its cell is one label again. A scanned
    table's cells keep their recognition confidence (``Document.confidence``)."""
    for r, row in enumerate(rows, 1):
        cells = [text for text in row if text is not None]
        cols = [c for c, text in enumerate(row, 1) if text is not None]
        if confidences is not None:
            for c, conf in enumerate(confidences[r - 1], 1):
                if conf is not None:
                    doc.confidence[(table_no, r, c)] = conf
        if len(cells) == 1:
            add_row(doc, table_no, r, cells, cols, None, page_no)
        else:
            add_row(doc, table_no, r, [text.replace("\n", "") for text in cells], cols, None, page_no)
