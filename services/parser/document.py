"""The one shape every upload is read into before its structure is found.

A document is a sequence of lines. A text line keeps its tab-separated pieces; a row of a real
table (HTML, .docx, PDF) is a line whose pieces are its distinct cells, with their grid columns,
so that the structure reader works the same way on every format.

NFKC over a whole Chinese report costs more than the rest of parsing it, and most of its
characters are prose the parser only needs at a few places, so a line is normalised the first
time it is read (``Line.text``), and an ASCII line (most table rows) not at all.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from contracts.report import Format
from contracts.template import SECTIONS, nfkc, unquote
from services.parser.memo import Memo

_ARTEFACT = re.compile(r"\[bookmark:[^\]]*\]|\{#[^}]*\}|<!--.*?-->")


_FOLDED: Memo[str] = Memo()


def fold(text: str) -> str:
    """NFKC with every run of white space (no-break, ideographic …) as one space, stripped."""
    hit = _FOLDED.get(text)
    return _FOLDED.keep(text, " ".join(nfkc(text).split())) if hit is None else hit


_INLINE_HEADING = re.compile(
    "(?<![第(（])(?:" + "|".join(f"{s.number}、\\s*{s.pattern.pattern}" for s in SECTIONS) + ")"
)
_NUMERALS = tuple(f"{s.number}、" for s in SECTIONS)
_LISTING = frozenset("，,、；;。）)和及与等")
_INLINE_TITLE = re.compile(r"^\s*(\S{2,60}?年度?政府信息公开工作年度报告)(?=\s|根据|本报告|为)")


LONG_LINE = 120  # a line this long may hold a whole report's parts (crawled text): see split_inline


def split_inline(raw: str) -> list[str]:
    """A long line holding several parts of a report (text a crawler took from a page, the whole
    report in a few lines) cut before and after each section heading written inside it, and after
    a title at its start: ``…联系。一、总体情况2019年，…`` gives ``…联系。``, ``一、总体情况``,
    ``2019年，…``. A heading counts only with its own numeral (一、总体情况, not 三、总体情况)."""
    if not any(n in raw for n in _NUMERALS) and "报告" not in raw:  # (most long lines: prose)
        return [raw]
    cuts = []
    m = _INLINE_TITLE.match(raw)
    if m:
        cuts.append(m.end(1))
    for m in _INLINE_HEADING.finditer(raw):
        after = raw[m.end() : m.end() + 1]
        if after and after in _LISTING:  # “本报告包括一、总体情况，二、…”: the sections named in a sentence
            continue
        cuts += [m.start(), m.end()]
    if not cuts:
        return [raw]
    bounds = [0, *sorted(set(cuts)), len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(bounds) if raw[a:b].strip()]


def strip_artefacts(text: str) -> str:
    """Remove what converters leave in the text: Word bookmarks, pandoc anchors, comments."""
    return _ARTEFACT.sub("", text)


class GridRow:
    """Where a table row stands: table and row numbers and each distinct cell's column.

    (A plain class, like ``Line``: the compiled build compiles its ``__init__``, where a
    dataclass's is generated at run time and interpreted; one is made per table row.)
    """

    __slots__ = ("cols", "page", "row", "table")

    def __init__(self, table: int, row: int, cols: list[int], page: int | None = None) -> None:
        self.table = table
        self.row = row
        self.cols = cols
        self.page = page


class Line:
    """One line of text, or one row of a real table (``grid``, with ``cells``)."""

    __slots__ = ("_form", "_text", "cells", "grid", "no", "raw")

    def __init__(self, no: int, raw: str, cells: list[str] | None = None, grid: GridRow | None = None) -> None:
        self.no = no  # 1-based line number (text) or block number (HTML, .docx, PDF)
        self.raw = raw  # as written, artefacts removed
        self.cells = cells  # a table row's distinct cells, as written
        self.grid = grid
        self._text: str | None = None
        self._form: str | None = None

    @property
    def text(self) -> str:
        """The line folded: NFKC, white space collapsed."""
        if self._text is None:
            self._text = fold(self.raw)
        return self._text

    @property
    def form(self) -> str:
        """The line in matching form (``contracts.template.match_form``): no spaces, no quotes."""
        if self._form is None:
            self._form = _FORMS.get(self.raw) or _form(self.raw, self.text)
        return self._form


_FORMS: Memo[str] = Memo()


def _form(raw: str, text: str) -> str:
    return _FORMS.keep(raw, unquote(text.replace(" ", "")))


@dataclass(slots=True)
class Document:
    """A document's lines, kept as columns.

    A report has some hundreds of lines, most of them only ever looked at as raw text (table
    cells, values), so a ``Line`` (with its folded forms) is made only for a line read closely
    (``line``), not for every line: making one costs more than reading a table row's words.
    """

    format: Format
    encoding: str | None = None
    nos: list[int] = field(default_factory=list)  # 1-based line number (text) or block number (HTML, .docx, PDF)
    raws: list[str] = field(default_factory=list)  # as written, artefacts removed
    grids: list[GridRow | None] = field(default_factory=list)  # a row of a real table: where it stands
    cells: list[list[str] | None] = field(default_factory=list)  # ... and its distinct cells, as written
    grid_rows: int = 0  # how many lines are rows of real tables
    source: list[str] | None = None  # every line of a plain text upload, blank ones too (see text_lines)
    page_title: str | None = None  # an HTML page's own title (<title>, its article-title element)
    scanned: int = 0  # pages read by OCR
    confidence: dict[tuple[int, int, int], float] = field(default_factory=dict)  # (table, row, col): OCR's
    _views: dict[int, Line] = field(default_factory=dict)
    _text: str | None = None
    _starts: list[int] | None = None

    def __len__(self) -> int:
        return len(self.raws)

    def line(self, pos: int) -> Line:
        """The line at ``pos``, to be read closely (its folded forms are worked out once)."""
        view = self._views.get(pos)
        if view is None:
            view = self._views[pos] = Line(self.nos[pos], self.raws[pos], self.cells[pos], self.grids[pos])
        return view

    def text_lines(self, nos: list[int], raws: list[str], source: list[str] | None = None) -> None:
        """Text lines, all at once (what a plain text upload is). ``source``: every line of the
        upload, blank ones too, when the text lines are exactly its non-blank lines."""
        self.source = source if not self.raws else None
        self.nos += nos
        self.raws += raws
        self.grids += [None] * len(raws)
        self.cells += [None] * len(raws)

    def add_text(self, raw: str, no: int | None = None) -> None:
        self.source = None
        if "[" in raw or "{" in raw or "<" in raw:
            raw = strip_artefacts(raw)
        if len(raw) > LONG_LINE and "、" in raw and len(parts := split_inline(raw)) > 1:
            for part in parts:
                self.add_text(part, no)
            return
        self.nos.append(no if no is not None else len(self.raws) + 1)
        self.raws.append(raw)
        self.grids.append(None)
        self.cells.append(None)

    def add_grid_row(self, cells: list[str], grid: GridRow, no: int | None = None) -> None:
        self.source = None
        cells = [c.strip() for c in cells]
        raw = "\t".join(cells)
        if "[" in raw or "{" in raw or "<" in raw:
            cells = [strip_artefacts(c).strip() if "[" in c or "{" in c or "<" in c else c for c in cells]
            raw = "\t".join(cells)
        self.nos.append(no if no is not None else len(self.raws) + 1)
        self.raws.append(raw)
        self.grids.append(grid)
        self.cells.append(cells)
        self.grid_rows += 1

    def lines_with(self, *words: str) -> list[int]:
        """The positions of the lines whose raw text holds one of ``words``, in order.

        Found by ``str.find`` in the document's text, which is many times quicker than looking
        at each line in turn: most lines hold none of the words looked for.
        """
        raws = self.raws
        if self._text is None:
            self._text = "\n".join(raws)
        text = self._text
        found: set[int] = set()
        if text.count("\n") == len(raws) - 1:  # no line holds a newline: a place's line is the newlines before it
            places = []
            for word in words:
                i = text.find(word)
                while i >= 0:
                    places.append(i)
                    i = text.find(word, i + 1)
            k = at = 0
            for i in sorted(places):
                k += text.count("\n", at, i)
                at = i
                found.add(k)
            return sorted(found)
        if self._starts is None:  # a table cell holds a newline: find the line by where lines start
            self._starts = list(accumulate(map((1).__add__, map(len, raws)), initial=0))  # a line and its newline
        starts = self._starts
        for word in words:
            i = text.find(word)
            while i >= 0:
                k = bisect_right(starts, i) - 1
                found.add(k)
                i = text.find(word, starts[k + 1])  # on from the next line
        return sorted(found)

    def prose(self, start: int, end: int, after: int) -> str:
        """The text lines from ``start`` to ``end`` (not the rows of real tables), stripped, each
        on the line it stands on: line k of the text is line ``after + 1 + k`` of the document
        (blank lines, and the places of tables, stay as empty lines in between)."""
        nos = self.nos[start:end]
        if not nos:
            return ""
        if self.source is not None:  # the upload's own lines, blank ones and all
            return "\n".join(map(str.strip, self.source[after : nos[-1]]))
        out: list[str] = []
        expected = after + 1
        for no, raw, grid in zip(nos, self.raws[start:end], self.grids[start:end], strict=True):
            text = raw.strip()
            if grid is not None or not text:
                continue
            if no > expected:
                out.extend([""] * (no - expected))
            out.append(text)
            expected = max(expected, no) + 1  # a number met twice (HTML: two blocks on one source line) counts on
        return "\n".join(out)
