"""Word .docx: paragraphs and real Word tables, read with python-docx.

The zip is checked before anything is decompressed: entry count, each entry's and the total
expanded size and the compression ratio (zip bombs), encryption, and that it is a Word document.
python-docx parses XML with entity resolution off.
"""

from __future__ import annotations

import io
import zipfile

from docx import Document as open_docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from services.parser.document import Document
from services.parser.errors import Reason, UnreadableUpload
from services.parser.formats.grid import add_grid
from services.parser.limits import Deadline, Limits

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def check_zip(data: bytes, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableUpload(Reason.CORRUPT, f"the .docx file is damaged: {exc}") from exc
    if len(infos) > limits.max_zip_entries:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"{len(infos)} zip entries, over {limits.max_zip_entries}")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnreadableUpload(Reason.ENCRYPTED, "the .docx file is encrypted")
        if info.file_size > limits.max_zip_entry:
            raise UnreadableUpload(
                Reason.TOO_COMPLEX, f"zip entry {info.filename} expands to {info.file_size} bytes"
            )
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
            raise UnreadableUpload(
                Reason.TOO_COMPLEX, f"zip entry {info.filename} is compressed suspiciously well (zip bomb?)"
            )
        total += info.file_size
    if total > limits.max_zip_total:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"the .docx expands to {total} bytes, over {limits.max_zip_total}")
    if "word/document.xml" not in archive.namelist():
        raise UnreadableUpload(Reason.UNSUPPORTED, "a zip file that is not a Word .docx document")


def read(data: bytes, limits: Limits, deadline: Deadline) -> Document:
    check_zip(data, limits)
    try:
        word = open_docx(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds for damaged packages
        raise UnreadableUpload(Reason.CORRUPT, f"the .docx file cannot be opened: {exc}") from exc
    doc = Document("docx")
    tables = 0
    for el in _blocks(word.element.body):
        if el.tag == _W + "p":
            for part in Paragraph(el, word).text.split("\n"):
                doc.add_text(part)
        else:
            deadline.check()
            tables += 1
            _table(doc, Table(el, word), tables)
    return doc


def _blocks(parent):  # type: ignore[no-untyped-def]
    """Paragraphs and tables in order, looking inside content controls."""
    for el in parent.iterchildren():
        if el.tag in (_W + "p", _W + "tbl"):
            yield el
        elif el.tag == _W + "sdt":
            content = el.find(_W + "sdtContent")
            if content is not None:
                yield from _blocks(content)


def _table(doc: Document, table: Table, no: int) -> None:
    cells = table._cells  # one pass; .rows[i].cells would redo it per row
    width = table._column_count
    rows = []
    for r in range(0, len(cells), width):
        rows.append([(c._tc, c.text.strip(), 1, 1) for c in cells[r : r + width]])
    add_grid(doc, no, rows)
