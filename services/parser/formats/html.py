"""HTML pages: paragraphs in order, tables with rowspan/colspan expanded.

lxml's HTML parser never fetches anything (``no_network``) and expands no external entities.
"""

from __future__ import annotations

import re

from lxml import etree

from services.parser.document import Document
from services.parser.errors import Reason, UnreadableUpload
from services.parser.formats.grid import add_grid
from services.parser.limits import Deadline

_BLOCK = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol section article header footer main body blockquote pre "  # noqa: SIM905
    "dd dt dl address center figure figcaption caption form tr".split()
)
_SECTIONS = frozenset(["thead", "tbody", "tfoot"])
_SKIP = frozenset(["script", "style", "head", "title", "noscript", "template", "svg"])
# Plain elements (not lxml.html's classes, whose per-element lookup costs more than the reading).
_OPTIONS: dict[str, bool] = dict(no_network=True, remove_comments=True, remove_pis=True, huge_tree=False, recover=True)
_PARSER = etree.HTMLParser(**_OPTIONS)
# The same for UTF-8 bytes as uploaded (charset declarations in the page overridden): libxml2
# reads them a little quicker than the text Python decoded (7 %).
_UTF8 = etree.HTMLParser(**_OPTIONS, encoding="utf-8")


def read(text: str, encoding: str, deadline: Deadline, data: bytes | None = None) -> Document:
    """The page's text (``data``: its bytes, when they are UTF-8 without a BOM, read as they are)."""
    try:
        root = etree.fromstring(data, parser=_UTF8) if data is not None else etree.fromstring(text, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise UnreadableUpload(Reason.CORRUPT, f"the HTML cannot be parsed: {exc}") from exc
    if root is None:
        raise UnreadableUpload(Reason.NOT_A_REPORT, "the HTML page is empty")
    doc = Document("html", encoding=encoding)
    doc.page_title = page_title(root)
    reader = _Reader(doc, deadline)
    reader.walk(root)
    reader.flush(None)
    return doc


_TITLE_META = ("articletitle", "title", "og:title", "dc.title")


def page_title(root: etree._Element) -> str | None:
    """The title the page gives its article outside the text: an article-title meta or element,
    else ``<title>`` (whose site name after ``_``, ``|`` or `` - `` is left off)."""
    found: list[str] = []
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        if name in _TITLE_META and (content := (meta.get("content") or "").strip()):
            found.append(content)
    for el in root.iter("h1", "div", "p", "span"):
        marks = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        if "title" in marks and "subtitle" not in marks and (text := " ".join("".join(el.itertext()).split())):
            found.append(text)
            break
    for el in root.iter("title"):
        if el.text and el.text.strip():
            found.append(re.split(r"\s*(?:_|\||｜| - | — )\s*", el.text.strip())[0])
    return next((t for t in found if "报告" in t), found[0] if found else None)


class _Reader:
    def __init__(self, doc: Document, deadline: Deadline) -> None:
        self.doc = doc
        self.deadline = deadline
        self.buf: list[str] = []
        self.line: int | None = None
        self.tables = 0

    def flush(self, line: int | None) -> None:
        text = "".join(self.buf)
        self.buf = []
        for part in text.split("\n"):
            if part.strip():
                self.doc.add_text(part, self.line or line or len(self.doc) + 1)
        self.line = None

    def text(self, s: str | None, line: int | None) -> None:
        if s:
            if not self.buf:
                self.line = line
            self.buf.append(s.replace("\r", "").replace("\n", " "))

    def walk(self, el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP:
            return
        if tag == "table":
            self.flush(el.sourceline)
            self.table(el)
            return
        if tag == "br":
            self.buf.append("\n")
        block = tag in _BLOCK
        if block:
            self.flush(el.sourceline)
        self.text(el.text, el.sourceline)
        for child in el:
            self.walk(child)
            self.text(child.tail, getattr(child, "sourceline", None))
        if block:
            self.flush(el.sourceline)

    def table(self, el: etree._Element) -> None:
        self.deadline.check()
        trs = _rows(el)
        if _layout(el, trs):  # a table that only lays the article out: its cells' paragraphs are the text
            for tr in trs:
                for td in tr:
                    if td.tag == "td" or td.tag == "th":
                        self.flush(td.sourceline)
                        self.walk(td)
                        self.flush(td.sourceline)
            return
        self.tables += 1
        rows: list[list[str]] = []
        spans: list[dict[int, tuple[int, int]] | None] = []
        lines: list[int | None] = []
        for tr in trs:
            texts: list[str] = []
            merged: dict[int, tuple[int, int]] | None = None
            # written out, ~300 cells a report: lxml's own tag filter and attribute lookups cost
            # more than the tag test and one look at whether the cell has attributes at all
            for td in tr:
                tag = td.tag  # (a new text each time: compared, not hashed for a set)
                if tag != "td" and tag != "th":
                    continue
                if td.keys() and (td.get("rowspan") or td.get("colspan")):
                    if merged is None:
                        merged = {}
                    merged[len(texts)] = (_span(td.get("rowspan")), _span(td.get("colspan")))
                texts.append((td.text if len(td) == 0 else "".join(td.itertext())) or "")
            rows.append(texts)
            spans.append(merged)
            lines.append(tr.sourceline)
        add_grid(self.doc, self.tables, rows, spans, lines)


def _layout(table: etree._Element, rows: list[etree._Element]) -> bool:
    """A table that holds the page rather than figures: a cell a row, or tables inside its cells."""
    if all(sum(1 for td in tr if td.tag == "td" or td.tag == "th") <= 1 for tr in rows):
        return True
    return any(True for _ in table.iterdescendants("table"))


def _rows(table: etree._Element) -> list[etree._Element]:
    rows: list[etree._Element] = []
    for child in table:  # (lxml's tag filter costs more than testing the tag)
        tag = child.tag
        if tag == "tr":
            rows.append(child)
        elif tag in _SECTIONS:
            rows.extend(row for row in child if row.tag == "tr")
    return rows


def _span(value: str | None) -> int:
    try:
        return int(value) if value else 1
    except ValueError:
        return 1
