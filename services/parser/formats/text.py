"""Plain text, TSV and markdown: decoding and the line layouts seen in real uploads."""

from __future__ import annotations

import codecs
import re

from services.parser.document import LONG_LINE, Document, GridRow, split_inline
from services.parser.errors import Reason, UnreadableUpload

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")


def decode(data: bytes) -> tuple[str, str]:
    """Decode text: a BOM decides; else UTF-8; else GB18030 (a superset of GBK and GB2312)."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc.replace("-sig", "")
            except UnicodeDecodeError as exc:
                raise UnreadableUpload(Reason.UNDECODABLE, f"invalid {enc} text: {exc.reason}") from exc
    if b"\x00" in data[:4096]:
        raise UnreadableUpload(Reason.BINARY, "binary data (NUL bytes) where text was expected")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise UnreadableUpload(Reason.UNDECODABLE, "text is neither UTF-8, UTF-16 with BOM nor GB18030/GBK") from exc
    return text, "gb18030"


_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])


def looks_binary(text: str, utf8: bytes | None = None) -> bool:
    """Control characters (and U+FFFD) beyond one per cent mean noise, not a document.

    Counted in the UTF-8 of the sample, where each of them is bytes of its own: deleting bytes
    is a table lookup per byte, a regular expression over the characters costs ten times more.
    ``utf8``: the text's own UTF-8 when the upload was it (not encoded again).
    """
    sample = text[:20000]
    if not sample:
        return False
    data = utf8 if utf8 is not None and len(sample) == len(text) else sample.encode("utf-8", "surrogatepass")
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES)) + data.count("\ufffd".encode())
    return controls / len(sample) > 0.01


def is_markdown(text: str) -> bool:
    head = text[:20000]
    if "#" not in head and "|" not in head:
        return False
    return bool(re.search(r"(?m)^\s{0,3}#{1,6}\s+\S", head) or re.search(r"(?m)^\s*\|.*\|\s*$", head))


def read_text(text: str, encoding: str, markdown: bool) -> Document:
    """One line of the upload, one line of the document; markdown marks are taken off."""
    doc = Document("markdown" if markdown else "text", encoding=encoding)
    raws = text.splitlines()
    if not markdown:
        long = [raw for raw in raws if len(raw) > LONG_LINE and "、" in raw]
        if "[" in text or "{" in text or "<" in text or any(len(split_inline(raw)) > 1 for raw in long):
            # converters' artefacts may stand on some lines; crawled text may hold the whole report in
            # a few lines, its headings inside them (add_text cuts them apart)
            for no, raw in enumerate(raws, 1):
                if raw and not raw.isspace():  # blank lines carry nothing; line numbers stay true
                    doc.add_text(raw, no)
        else:
            kept = [raw for raw in raws if raw and not raw.isspace()]
            nos = list(range(1, len(raws) + 1))
            if len(kept) < len(raws):  # blank lines carry nothing; line numbers stay true
                nos = [no for no, raw in zip(nos, raws, strict=True) if raw and not raw.isspace()]
            doc.text_lines(nos, kept, raws)
        return doc
    table = 0
    in_pipe = False
    row = 0
    for no, line in enumerate(raws, 1):
        if markdown:
            if "|" in line and _MD_RULE.match(line):
                continue
            stripped = line.strip()
            if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
                if not in_pipe:
                    table, row, in_pipe = table + 1, 0, True
                row += 1
                cells = [_md_inline(c.strip()) for c in stripped[1:-1].split("|")]
                doc.add_grid_row(cells, GridRow(table, row, list(range(1, len(cells) + 1))), no)
                continue
            in_pipe = False
            if "#" in line:
                line = _MD_HEADING.sub("", line)
            line = _md_inline(line)
        if line and not line.isspace():
            doc.add_text(line, no)
    return doc


def _md_inline(text: str) -> str:
    if "*" in text or "_" in text:
        text = _MD_EMPHASIS.sub(r"\2", text)
    if "\\" in text:
        text = _MD_ESCAPE.sub(r"\1", text)
    return text
