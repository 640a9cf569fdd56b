"""A PDF page's characters and ruling lines, read with PDFium (pypdfium2), and its ruled tables.

pdfplumber read a page's text and drawings through pdfminer, which interprets every content
stream in Python: four fifths of the time a report's PDF took (0.1 s a page). PDFium does that
in C. What is read here is the same as before: each character with its box (PDFium's loose box,
the font's height, so that 一 stands as tall as 二), each straight segment of the page's paths
(table rules, drawn as lines or as thin rectangles, in forms too), and from those the tables,
found by pdfplumber's own table finder (edges → intersections → cells → tables) on these edges.

Text is assembled as pdfplumber did: characters whose tops lie within 3 points form a line, read
left to right, a gap wider than 3 points is a space.
"""

from __future__ import annotations

import ctypes
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.table import Table as FoundTable
from pdfplumber.table import TableFinder, TableSettings, cells_to_tables, edges_to_intersections, intersections_to_cells

from services.parser.errors import Reason, UnreadableUpload

TOLERANCE = 3.0  # points: a line's characters, a space between them, edges snapped and joined
MIN_EDGE = 3.0  # points: a shorter stroke is no table rule
# A page's ruling lines (once snapped and joined) and the points where they cross: a report's
# table page has some dozens of lines and a few hundred crossings (259 at most in the corpora).
# Crossings are looked for between every pair of lines, and cells found from the crossings in
# time growing with their square (5,000: 0.5 s; 10,000: 1.7 s; 40,000: 26 s): a page past either
# bound (a mesh of rules drawn to stall the reader) is too complex, refused before that work.
MAX_RULES = 2_000
MAX_CROSSINGS = 5_000
# A page's strokes long and straight enough to be rules, before they are merged: 564 at most in
# the corpora (WPS draws each cell's borders on their own). Each is kept as pdfplumber's edge (a
# dict, ~0.7 KB): a page of 200,000 rules on one another took 300 MB; past this it is refused.
MAX_EDGES = 20_000

Char = tuple[str, float, float, float, float]  # text, x0, top, x1, bottom (top-down page coordinates)
Box = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass(slots=True)
class Line:
    """A line of text on the page."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(slots=True)
class Table:
    """A ruled table: its rows, each the boxes of its cells (None: a slot a merged cell covers)."""

    bbox: Box
    rows: list[tuple[Box, list[Box | None]]]


@dataclass(slots=True)
class Page:
    chars: list[Char]
    tables: list[Table]


class _Edges:
    """What pdfplumber's table finder reads of a page: its edges."""

    def __init__(self, edges: list[dict[str, Any]]) -> None:
        self.edges = edges


class _Finder(TableFinder):
    """pdfplumber's table finder on a page's edges, its steps taken one at a time (its own
    constructor takes them all at once) so that each is bounded before the next."""

    def __init__(self, edges: list[dict[str, Any]]) -> None:
        self.page = _Edges(edges)  # type: ignore[assignment]
        self.settings = TableSettings.resolve(None)

    def found(self) -> list[FoundTable]:
        rules = self.get_edges()
        if len(rules) > MAX_RULES:
            raise UnreadableUpload(Reason.TOO_COMPLEX, f"a PDF page of {len(rules)} ruling lines, over {MAX_RULES}")
        s = self.settings
        if _cross(rules, s.intersection_x_tolerance, s.intersection_y_tolerance, MAX_CROSSINGS) > MAX_CROSSINGS:
            raise UnreadableUpload(
                Reason.TOO_COMPLEX, f"a PDF page whose ruling lines cross over {MAX_CROSSINGS} times"
            )
        crossings = edges_to_intersections(rules, s.intersection_x_tolerance, s.intersection_y_tolerance)
        return [FoundTable(self.page, group) for group in cells_to_tables(intersections_to_cells(crossings))]


def _cross(rules: list[dict[str, Any]], x_tolerance: float, y_tolerance: float, limit: int) -> int:
    """The points where the rules cross, as pdfplumber's ``edges_to_intersections`` finds them,
    counted up to ``limit`` + 1 without making them (a mesh of rules makes millions)."""
    horizontal = sorted((r for r in rules if r["orientation"] == "h"), key=itemgetter("top"))
    tops = [h["top"] for h in horizontal]
    points: set[tuple[float, float]] = set()
    for v in rules:
        if v["orientation"] != "v":
            continue
        x = v["x0"]
        lo, hi = bisect_left(tops, v["top"] - y_tolerance), bisect_right(tops, v["bottom"] + y_tolerance)
        for h in horizontal[lo:hi]:
            if h["x0"] - x_tolerance <= x <= h["x1"] + x_tolerance:
                points.add((x, h["top"]))
                if len(points) > limit:
                    return len(points)
    return len(points)


def pages(pdf: pdfium.PdfDocument) -> Iterator[Page]:
    for page in pdf:
        try:
            yield read_page(page)
        finally:
            page.close()


def read_page(page: pdfium.PdfPage) -> Page:
    height = page.get_height()
    textpage = page.get_textpage()
    try:
        chars = _chars(textpage, height)
    finally:
        textpage.close()
    edges = []
    for seg in _segments(page, height):
        edge = _edge(*seg)
        if edge is not None:
            edges.append(edge)
            if len(edges) > MAX_EDGES:
                raise UnreadableUpload(Reason.TOO_COMPLEX, f"a PDF page of more than {MAX_EDGES} ruling strokes")
    tables = []
    if edges:
        for found in _Finder(edges).found():
            rows = [(row.bbox, list(row.cells)) for row in found.rows]
            tables.append(Table(found.bbox, rows))
    return Page(chars, tables)


def has_images(page: pdfium.PdfPage) -> bool:
    """Whether the page draws an image (a page without text may be a scan; a blank one is none)."""
    return next(iter(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=8)), None) is not None


def _chars(textpage: pdfium.PdfTextPage, height: float) -> list[Char]:
    raw = textpage.raw
    rect = pdfium_c.FS_RECTF()
    out: list[Char] = []
    for i in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        if code < 32 or pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
            continue  # line breaks, and the spaces PDFium adds itself: told from the gaps
        if not pdfium_c.FPDFText_GetLooseCharBox(raw, i, rect):
            continue
        out.append((chr(code), rect.left, height - rect.top, rect.right, height - rect.bottom))
    return out


def lines(chars: list[Char]) -> list[Line]:
    """Characters as lines, top to bottom: those whose tops lie within ``TOLERANCE`` of the line's
    first, left to right, a space where the gap is wider than ``TOLERANCE``."""
    out: list[Line] = []
    group: list[Char] = []
    for ch in sorted(chars, key=lambda c: (c[2], c[1])):
        if group and ch[2] - group[0][2] > TOLERANCE:
            out.append(_line(group))
            group = []
        group.append(ch)
    if group:
        out.append(_line(group))
    return [line for line in out if line.text]


def _line(group: list[Char]) -> Line:
    """A line's characters left to right; a space where the PDF writes one or leaves a gap."""
    group.sort(key=lambda c: c[1])
    parts: list[str] = []
    last = None
    for text, x0, _, x1, _ in group:
        if text == " ":
            if parts and parts[-1] != " ":
                parts.append(" ")
        else:
            if last is not None and x0 > last + TOLERANCE and parts and parts[-1] != " ":  # (not after leading spaces)
                parts.append(" ")
            parts.append(text)
        last = x1 if last is None else max(last, x1)
    glyphs = [c for c in group if c[0] != " "] or group
    return Line(
        "".join(parts).strip(),
        glyphs[0][1],
        min(c[2] for c in glyphs),
        max(c[3] for c in glyphs),
        max(c[4] for c in glyphs),
    )


def text_in(chars: list[Char], box: Box) -> str:
    """The text of the characters whose centres lie in ``box``, its lines joined by newlines."""
    x0, top, x1, bottom = box
    inside = [c for c in chars if x0 <= (c[1] + c[3]) / 2 < x1 and top <= (c[2] + c[4]) / 2 < bottom]
    return "\n".join(line.text for line in lines(inside))


def _segments(page: pdfium.PdfPage, height: float) -> Iterator[tuple[float, float, float, float]]:
    """Every straight segment of the page's paths, forms included, in top-down page coordinates."""
    matrix = pdfium_c.FS_MATRIX()
    x, y = ctypes.c_float(), ctypes.c_float()
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=8):
        if not pdfium_c.FPDFPageObj_GetMatrix(obj.raw, matrix):
            continue
        m = _composed(obj, matrix)
        start = prev = None
        for j in range(pdfium_c.FPDFPath_CountSegments(obj.raw)):
            seg = pdfium_c.FPDFPath_GetPathSegment(obj.raw, j)
            if not pdfium_c.FPDFPathSegment_GetPoint(seg, x, y):
                continue
            a, b, c, d, e, f = m
            point = (a * x.value + c * y.value + e, height - (b * x.value + d * y.value + f))
            kind = pdfium_c.FPDFPathSegment_GetType(seg)
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
                start = point
            elif kind == pdfium_c.FPDF_SEGMENT_LINETO and prev is not None:
                yield (*prev, *point)
            if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None and point != start:
                yield (*point, *start)
            prev = point


def _composed(obj: pdfium.PdfObject, matrix: Any) -> tuple[float, float, float, float, float, float]:
    """The object's matrix, composed with those of the forms it stands in."""
    a, b, c, d, e, f = matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f
    parent = obj.container if obj.level > 0 else None
    outer = pdfium_c.FS_MATRIX()
    while parent is not None and isinstance(parent, pdfium.PdfObject):
        if pdfium_c.FPDFPageObj_GetMatrix(parent.raw, outer):
            pa, pb, pc, pd, pe, pf = outer.a, outer.b, outer.c, outer.d, outer.e, outer.f
            a, b, c, d, e, f = (
                a * pa + b * pc,
                a * pb + b * pd,
                c * pa + d * pc,
                c * pb + d * pd,
                e * pa + f * pc + pe,
                e * pb + f * pd + pf,
            )
        parent = parent.container if parent.level > 0 else None
    return a, b, c, d, e, f


def _edge(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any] | None:
    """A segment as pdfplumber's edge, when it is a horizontal or vertical rule long enough."""
    left, right, top, bottom = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    if bottom - top <= 1.0 and right - left >= MIN_EDGE:
        top = bottom = (top + bottom) / 2
        orientation = "h"
    elif right - left <= 1.0 and bottom - top >= MIN_EDGE:
        left = right = (left + right) / 2
        orientation = "v"
    else:
        return None
    return {
        "x0": left,
        "x1": right,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": right - left,
        "height": bottom - top,
        "orientation": orientation,
        "object_type": "line",
    }
