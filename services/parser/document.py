"""The one shape every upload is read into before its structure is found.

A document is a list of lines. A text line keeps its tab-separated pieces; a row of a real table
(HTML, .docx, PDF) is a line whose pieces are its distinct cells, with their grid columns, so
that the structure reader works the same way on every format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from contracts.report import Format

_ARTEFACT = re.compile(r"\[bookmark:[^\]]*\]|\{#[^}]*\}|<!--.*?-->")
_WS = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC with every run of white space (no-break, ideographic …) as one space, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def strip_artefacts(text: str) -> str:
    """Remove what converters leave in the text: Word bookmarks, pandoc anchors, comments."""
    return _ARTEFACT.sub("", text) if "[" in text or "{" in text or "<" in text else text


@dataclass(slots=True)
class GridRow:
    """Where a table row stands: table and row numbers and each distinct cell's column."""

    table: int
    row: int
    cols: list[int]
    page: int | None = None


@dataclass(slots=True)
class Line:
    no: int  # 1-based line number (text) or block number (HTML, .docx, PDF)
    raw: str  # as written, artefacts removed
    text: str  # folded: NFKC, white space collapsed
    cells: list[str]  # text: tab-separated pieces; grid: the row's distinct cells
    grid: GridRow | None = None


@dataclass(slots=True)
class Document:
    format: Format
    lines: list[Line] = field(default_factory=list)
    encoding: str | None = None

    def add_text(self, raw: str, no: int | None = None) -> None:
        raw = strip_artefacts(raw)
        self.lines.append(
            Line(no if no is not None else len(self.lines) + 1, raw, fold(raw), raw.split("\t"))
        )

    def add_grid_row(self, cells: list[str], grid: GridRow, no: int | None = None) -> None:
        cells = [strip_artefacts(c) for c in cells]
        raw = "\t".join(cells)
        self.lines.append(
            Line(no if no is not None else len(self.lines) + 1, raw, fold(raw), cells, grid)
        )
