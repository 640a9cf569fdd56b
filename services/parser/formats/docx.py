"""Word .docx: paragraphs and real Word tables (w:tbl with its merges), in document order.

The zip is checked before anything is decompressed: entry count, each entry's and the total
expanded size and the compression ratio (zip bombs), encryption, and that it is a Word document.
Only the main document part is parsed (entity resolution off, no network). python-docx's
``Document()`` opens every part of the package (styles, theme, fonts …) and its ``Table._cells``
costs about 3 ms per table, together ~25 ms per report; walking w:tbl/w:tr/w:tc here with the
same merge rules (w:gridSpan, w:vMerge, w:gridBefore) takes a tenth of that. python-docx is what
the tests use to write real Word tables for this reader.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Hashable, Iterator

from lxml import etree

from services.parser.document import Document
from services.parser.errors import Reason, UnreadableUpload
from services.parser.formats.grid import add_grid
from services.parser.limits import Deadline, Limits

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def check_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError) as exc:
        raise UnreadableUpload(Reason.CORRUPT, f"the .docx file is damaged: {exc}") from exc
    if len(infos) > limits.max_zip_entries:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"{len(infos)} zip entries, over {limits.max_zip_entries}")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnreadableUpload(Reason.ENCRYPTED, "the .docx file is encrypted")
        if info.file_size > limits.max_zip_entry:
            raise UnreadableUpload(Reason.TOO_COMPLEX, f"zip entry {info.filename} expands to {info.file_size} bytes")
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
            raise UnreadableUpload(
                Reason.TOO_COMPLEX, f"zip entry {info.filename} is compressed suspiciously well (zip bomb?)"
            )
        total += info.file_size
    if total > limits.max_zip_total:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"the .docx expands to {total} bytes, over {limits.max_zip_total}")
    return archive


def read_entry(archive: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """An entry's bytes, inflated a chunk at a time and counted as they come: a zip whose
    directory understates an entry's size (a zip bomb that lies) is stopped at the limit, not
    inflated whole into memory. Whatever the zip module cannot read (a damaged entry, a method or
    version it does not know) is a damaged .docx."""
    out = bytearray()
    try:
        with archive.open(name) as entry:
            while chunk := entry.read(256 * 1024):
                out += chunk
                if len(out) > limits.max_zip_entry:
                    raise UnreadableUpload(
                        Reason.TOO_COMPLEX, f"zip entry {name} expands past {limits.max_zip_entry} bytes"
                    )
    except UnreadableUpload:
        raise
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError, zlib.error) as exc:
        raise UnreadableUpload(Reason.CORRUPT, f"the .docx file is damaged: {exc}") from exc
    return bytes(out)


def _main_part(archive: zipfile.ZipFile, limits: Limits) -> str:
    """The main document part, as the package's relationships name it."""
    names = set(archive.namelist())
    if "_rels/.rels" in names:
        rels = etree.fromstring(read_entry(archive, "_rels/.rels", limits), _SAFE)
        for rel in rels:
            if (rel.get("Type") or "").endswith("/officeDocument"):
                target = (rel.get("Target") or "").lstrip("/")
                if target in names:
                    return target
    if "word/document.xml" in names:
        return "word/document.xml"
    raise UnreadableUpload(Reason.UNSUPPORTED, "a zip file that is not a Word .docx document")


_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def read(data: bytes, limits: Limits, deadline: Deadline) -> Document:
    archive = check_zip(data, limits)
    try:
        root = etree.fromstring(read_entry(archive, _main_part(archive, limits), limits), _SAFE)
    except (UnreadableUpload, MemoryError):  # (out of memory: the sandbox's answer, not a damaged file)
        raise
    except Exception as exc:  # damaged zip members or XML
        raise UnreadableUpload(Reason.CORRUPT, f"the .docx file cannot be read: {exc}") from exc
    body = root.find(_W + "body")
    if body is None:
        raise UnreadableUpload(Reason.CORRUPT, "the .docx file has no document body")
    doc = Document("docx")
    tables = 0
    for el in _blocks(body):
        if el.tag == _W + "p":
            for part in _text(el).split("\n"):
                doc.add_text(part)
        else:
            deadline.check()
            tables += 1
            _table(doc, el, tables)
    return doc


def _text(el: etree._Element) -> str:
    """The text of a paragraph or cell: runs' text, tabs and breaks, paragraphs on lines."""
    parts: list[str] = []
    for node in el.iter(_W + "t", _W + "tab", _W + "br", _W + "cr", _W + "p"):
        tag = node.tag
        if tag == _W + "t":
            parts.append(node.text or "")
        elif tag == _W + "tab":
            parts.append("\t")
        elif tag != _W + "p" or parts:
            parts.append("\n")
    return "".join(parts)


def _blocks(parent: etree._Element) -> Iterator[etree._Element]:
    """Paragraphs and tables in order, looking inside content controls."""
    for el in parent.iterchildren():
        if el.tag in (_W + "p", _W + "tbl"):
            yield el
        elif el.tag == _W + "sdt":
            content = el.find(_W + "sdtContent")
            if content is not None:
                yield from _blocks(content)


_TR, _TC, _TBL, _P, _T, _TAB, _BR, _CR = (_W + t for t in ("tr", "tc", "tbl", "p", "t", "tab", "br", "cr"))
_SPAN, _VMERGE, _BEFORE, _VAL = _W + "gridSpan", _W + "vMerge", _W + "gridBefore", _W + "val"


def _int(el: etree._Element, default: int) -> int:
    try:
        return int(el.get(_VAL, default))
    except ValueError:
        return default


def _table(doc: Document, tbl: etree._Element, no: int) -> None:
    """One pass over the table's elements (lxml's C iterator), a row at a time.

    Gives the grid each row's cells (texts, column spans, origins); a w:vMerge continuation
    takes the origin of the cell that started the merge in its column. A table nested in a cell is read
    as that cell's text.
    """
    rows: list[list[str]] = []  # each row's cells' texts, their spans and their origins, for add_grid
    spans: list[dict[int, tuple[int, int]] | None] = []
    origins: list[list[Hashable] | None] = []
    texts: list[str] = []
    widths: dict[int, tuple[int, int]] = {}
    named: list[Hashable] = []
    above: dict[int, tuple[Hashable, str]] = {}  # grid column -> the cell that started there
    cell: list[str] = []
    span, merge, col, start, depth = 1, None, 0, 0, 0
    r = -1

    def put(origin: Hashable, text: str, width: int) -> None:
        if width != 1:
            widths[len(texts)] = (1, width)
        texts.append(text)
        named.append(origin)

    def close() -> None:
        nonlocal col
        if merge == "continue" and start in above:
            origin, text = above[start]
        else:
            origin, text = (r, start), "".join(cell).strip()
            above[start] = (origin, text)
        put(origin, text, span)
        col = start + span

    open_cell = False
    for ev, el in etree.iterwalk(
        tbl, events=("start", "end"), tag=(_TBL, _TR, _TC, _SPAN, _VMERGE, _BEFORE, _P, _T, _TAB, _BR, _CR)
    ):
        tag = el.tag
        if tag == _TBL:
            depth += 1 if ev == "start" else -1
            continue
        if ev == "end":
            if depth == 1 and tag == _TC and open_cell:
                close()
                open_cell = False
            elif depth == 1 and tag == _TR:
                rows.append(texts)
                spans.append(widths or None)
                origins.append(named)
            continue
        if depth > 1:  # inside a nested table: its text belongs to the outer cell
            if tag == _T and open_cell:
                cell.append(el.text or "")
            continue
        if tag == _TR:
            r, texts, widths, named, col = r + 1, [], {}, [], 0
        elif tag == _TC:
            cell, span, merge, start, open_cell = [], 1, None, col, True
        elif tag == _T:
            cell.append(el.text or "")
        elif tag == _P:
            if cell:
                cell.append("\n")
        elif tag == _SPAN:
            span = max(_int(el, 1), 1)
        elif tag == _VMERGE:
            merge = el.get(_VAL, "continue")
        elif tag == _BEFORE:
            col = max(_int(el, 0), 0)
            if col:
                put((r, -1), "", col)
        elif tag == _TAB:
            cell.append("\t")
        else:
            cell.append("\n")
    add_grid(doc, no, rows, spans, origins=origins)
