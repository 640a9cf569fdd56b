"""Which format an upload is, told from its bytes first and its name and media type second."""

from __future__ import annotations

import codecs
import re

from services.parser.document import Document
from services.parser.errors import Reason, UnreadableUpload
from services.parser.formats import text as text_format
from services.parser.limits import Deadline, Limits

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG, _JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
# An HTML page is told by its first tags, in any case (lowering 4 KB of Chinese to look for them
# cost ~50 instructions a character); an article body a CMS gives (no <html>, its first table far
# down) by the paragraph tags it is made of, or by its name or media type
_HTML = re.compile(r"<(?:html|table|!doctype html|body)", re.IGNORECASE)
_TAGS = re.compile(r"</?(?:p|div|span|br|strong|font|h[1-6]|td|tr)\b[^<>]{0,400}>", re.IGNORECASE)
_HTML_NAMES = (".html", ".htm", ".shtml", ".xhtml")


def read(data: bytes, filename: str | None, media_type: str | None, limits: Limits, deadline: Deadline) -> Document:
    name = (filename or "").lower()
    head = data[:1024]
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        from services.parser.formats import docx

        return docx.read(data, limits, deadline)
    if data.startswith((_PNG, _JPEG)):
        from services.parser.formats import pdf

        return pdf.read_image(data, limits, deadline)
    if b"%PDF-" in head:
        from services.parser.formats import pdf

        return pdf.read(data, limits, deadline)
    if data.startswith(_OLE2):
        from services.parser.formats import docx, legacy

        if (
            legacy.ENCRYPTED_STREAM in data
            or name.endswith((".docx", ".pdf"))
            or "officedocument" in (media_type or "")
        ):
            raise UnreadableUpload(Reason.ENCRYPTED, "the .docx file is password-protected")
        if legacy.WORD_STREAM not in data:
            raise UnreadableUpload(Reason.UNSUPPORTED, "an Office file that is not a Word document (a spreadsheet?)")
        doc = docx.read(legacy.to_docx(data, limits, deadline), limits, deadline)
        doc.format = "doc"
        return doc
    if name.endswith((".docx", ".pdf")):
        kind = "Word .docx" if name.endswith(".docx") else "PDF"
        raise UnreadableUpload(Reason.CORRUPT, f"the file is named {kind} but is not one (damaged?)")
    text, encoding = text_format.decode(data)
    utf8 = encoding == "utf-8" and not data.startswith(codecs.BOM_UTF8)  # the upload is the text's UTF-8
    if text_format.looks_binary(text, data if utf8 else None):
        raise UnreadableUpload(Reason.BINARY, "the upload is binary data, not a document")
    if "<" in text[:4096] and (
        _HTML.search(text, 0, 4096)
        or len(_TAGS.findall(text, 0, 4096)) >= 3
        or ((name.endswith(_HTML_NAMES) or "html" in (media_type or "")) and _TAGS.search(text, 0, 4096))
    ):
        from services.parser.formats import html

        return html.read(text, encoding, deadline, data if utf8 else None)
    if text.count("\n") > limits.max_lines:
        raise UnreadableUpload(Reason.TOO_COMPLEX, f"more than {limits.max_lines} lines")
    markdown = name.endswith((".md", ".markdown")) or "markdown" in (media_type or "")
    return text_format.read_text(text, encoding, markdown or text_format.is_markdown(text))
