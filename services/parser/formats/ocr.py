"""Scanned pages read by offline OCR: RapidOCR (PP-OCRv4 models inside its wheel, on onnxruntime;
nothing is fetched at run time), with the tables rebuilt from the page's ruling lines (OpenCV).

A page image becomes what a PDF page with a text layer gives the PDF reader: lines of text with
their boxes, and ruled tables as runs of rows whose cells are texts (None where a merged cell
covers the slot), here with each cell's recognition confidence beside it.

- The page is straightened: the ruling lines' slant (a scan is rarely square, ≤ 1° here) is
  measured and turned back.
- Ruling lines are the long thin runs of ink (morphological opening with a long horizontal and a
  long vertical line); the regions they close (connected components of the rest) make the tables
  and give the grid's rows and columns (the lines' positions). A region as wide as the text and a
  third of the page high is a page frame, not a cell. The cells are the grid's slots, joined where
  no rule runs along most of the side between two (a merged cell), so that a gap the noise makes
  in a rule cannot join two cells; the rules' own ink is taken off what is read.
- Each cell is cut into its lines of text (by the rows of ink in it) and each line recognised on
  its own; a cell's text is its lines', its confidence the lowest of theirs. A cell with no ink
  is blank, with certainty. A reading that is a figure is taken among what a cell can hold (not
  the letters a noisy 0 also looks like), its confidence weighed among those too.
- The rest of the page (the cells blanked out) goes through RapidOCR's detector and recogniser;
  its boxes become lines of text.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from services.parser.formats.pdfium import Box, Line

T = TypeVar("T")

DPI = 150  # scanned PDF pages are rendered at this resolution

Rows = list[list[str | None]]
Confidences = list[list[float | None]]


@dataclass(slots=True)
class ScanTable:
    """A ruled table found on a page image: its box, its rows' cell texts and confidences, and
    each row's box."""

    box: Box
    rows: Rows
    confidences: Confidences
    boxes: list[Box]


@dataclass(slots=True)
class ScanPage:
    lines: list[Line]
    tables: list[ScanTable]


THREADS = 1  # onnxruntime's threads: a parser is one worker on one core (bench/README.md)


@functools.cache
def engine() -> Any | None:
    """RapidOCR, loaded once (~0.1 s); None where it is not installed (the ``ocr`` extra)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    return RapidOCR(
        use_cls=False,
        print_verbose=False,
        intra_op_num_threads=THREADS,
        inter_op_num_threads=THREADS,
    )


_READ_AS_FIGURE = re.compile(r"[+-]?\d[\d,.]*")


def _no_cell_holds(c: str) -> bool:
    """A character no cell of a Chinese report's table holds: a letter of an alphabet (Latin,
    Greek, Cyrillic; a character of the text is an ideograph) or the full stop 。."""
    if c == "。":
        return True
    return len(c) == 1 and unicodedata.category(c).startswith("L") and not unicodedata.name(c, "").startswith("CJK")


class _CellDecode:
    """RapidOCR's CTC decoding, for a table's cell: a figure read among what a cell can hold.

    Each step's likeliest character is taken from those a cell can hold (not the letters of an
    alphabet nor the full stop); where that makes the line a figure (digits, a sign, a point,
    commas), it is the reading, each character's confidence its probability over that of all a
    cell can hold. On a noisy scan a lone 0 gives much of its probability to O, o, Q, θ, 。, which
    cannot be what the cell says; another digit, a slash or a dash (a blank cell's marks), a
    Chinese character or no mark at all (CTC's blank) still count against it in full. A line that
    is no figure so is read as RapidOCR reads it."""

    def __init__(self, decode: Any) -> None:
        self.decode = decode
        self.held = _held(tuple(decode.character))

    def __call__(self, preds: Any, return_word_box: bool = False, **kwargs: Any) -> list[tuple[Any, ...]]:
        import numpy as np

        out: list[tuple[Any, ...]] = self.decode(preds, return_word_box, **kwargs)
        held = preds * self.held
        best = held.argmax(axis=2)
        for b, found in enumerate(out):
            steps = np.flatnonzero((best[b] != 0) & np.r_[True, best[b][1:] != best[b][:-1]])
            text = "".join(self.decode.character[i] for i in best[b][steps])
            if _READ_AS_FIGURE.fullmatch(text):
                conf = held[b, steps, best[b][steps]] / held[b, steps].sum(axis=1)
                out[b] = (text, float(np.mean(conf)), *found[2:])
        return out


@functools.cache
def _held(characters: tuple[str, ...]) -> Any:
    """1 for each of the recogniser's characters a cell can hold, 0 for the others."""
    import numpy as np

    return np.array([0.0 if _no_cell_holds(c) else 1.0 for c in characters], dtype=np.float32)


def available() -> bool:
    return engine() is not None


def installed() -> bool:
    """Whether OCR is there, told without loading it when it has not been loaded yet (its runtime
    and models take ~110 MB and a few tenths of a second): a PDF with no text and nothing to read
    by OCR needs only the word whether it could have been read."""
    if engine.cache_info().currsize:
        return available()
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def read_page(gray: Any) -> ScanPage:
    """One page image (a greyscale numpy array, dark ink on light paper) read."""
    import cv2

    ocr = engine()
    assert ocr is not None
    gray = _straightened(gray)  # (no median filter: it takes a 150 dpi page's hairline rules too)
    h, w = gray.shape
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    hor, ver = _rule_lines(ink)
    rules = cv2.bitwise_or(hor, ver)
    cells = _cells(rules, w, h)
    text = cv2.bitwise_and(ink, 255 - rules)  # the ink in the cells, the rules' own taken off
    tables = [_table(group, gray, text, (hor, ver)) for group in _tables(cells)]
    rest = gray.copy()
    for table in tables:
        x0, y0, x1, y1 = (int(v) for v in table.box)
        rest[max(y0 - 2, 0) : y1 + 3, max(x0 - 2, 0) : x1 + 3] = 255
    rest[_rules(ink, long=True) > 0] = 255  # a frame's rules (longer than any stroke of a character)
    lines = _lines(_text_lines(ocr, rest))
    return ScanPage(lines, tables)


DETECT = 1000  # pixels: the longest side of the page the detector looks at


def _text_lines(ocr: Any, gray: Any) -> list[tuple[Any, str, float]]:
    """The page's lines of text outside the tables: found on the page shrunk to ``DETECT`` pixels
    (as well as at full size, in a third of the memory: 600 MB at 150 dpi whole), read at full size."""
    import cv2
    import numpy as np

    h, w = gray.shape
    scale = min(1.0, DETECT / max(h, w))
    small = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    boxes, _ = ocr.text_det(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR))
    if boxes is None or len(boxes) == 0:
        return []
    boxes = [np.array(box, dtype=np.float32) / scale for box in ocr.sorted_boxes(boxes)]
    crops = ocr.get_crop_img_list(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), boxes)
    read, _ = ocr.text_rec(crops)
    return [(box, str(text), float(conf)) for box, (text, conf) in zip(boxes, read, strict=True) if str(text).strip()]


def _straightened(gray: Any) -> Any:
    """The page turned back by its slant (a scan is rarely square): the angle, within ±3°, at
    which its rows of ink line up best (the rows' ink counts vary most), found on a half-size
    copy, coarsely then finely."""
    import cv2
    import numpy as np

    h, w = gray.shape
    small = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    centre = (ink.shape[1] / 2, ink.shape[0] / 2)

    def sharpness(angle: float) -> float:
        turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
        turned = cv2.warpAffine(ink, turn, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_NEAREST, borderValue=0)
        return float(np.var(turned.sum(axis=1, dtype=np.float64)))

    best = max(np.arange(-3.0, 3.01, 0.25), key=sharpness)
    best = max(np.arange(best - 0.25, best + 0.26, 0.05), key=sharpness)
    if abs(best) < 0.05:
        return gray
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(best), 1.0)
    return cv2.warpAffine(gray, turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def _rules(ink: Any, long: bool = False) -> Any:
    """The page's ruling lines, both ways (``long``: only those longer than a few characters, the
    only ones to take off the text)."""
    import cv2

    hor, ver = _rule_lines(ink, long)
    return cv2.bitwise_or(hor, ver)


def _rule_lines(ink: Any, long: bool = False) -> tuple[Any, Any]:
    """The page's horizontal and vertical ruling lines: long runs of ink, a little thickened."""
    import cv2

    h, w = ink.shape
    across, down = (w // 12, h // 16) if long else (w // 40, h // 60)

    def rect(x: int, y: int) -> Any:
        return cv2.getStructuringElement(cv2.MORPH_RECT, (x, y))

    # a rule a little slanted or broken by the scan's noise still reads as one: thickened across
    # its direction before the opening, its gaps closed after it
    hor = cv2.morphologyEx(cv2.dilate(ink, rect(1, 3)), cv2.MORPH_OPEN, rect(max(across, 10), 1))
    hor = cv2.morphologyEx(hor, cv2.MORPH_CLOSE, rect(25, 1))
    ver = cv2.morphologyEx(cv2.dilate(ink, rect(3, 1)), cv2.MORPH_OPEN, rect(1, max(down, 10)))
    ver = cv2.morphologyEx(ver, cv2.MORPH_CLOSE, rect(1, 25))
    return cv2.dilate(hor, rect(3, 3)), cv2.dilate(ver, rect(3, 3))


Cell = tuple[int, int, int, int]  # x0, y0, x1, y1 (pixels)


def _cells(rules: Any, w: int, h: int) -> list[Cell]:
    """The regions the ruling lines close: not the page around them, not a frame round the text."""
    import cv2

    n, _, stats, _ = cv2.connectedComponentsWithStats(255 - rules, connectivity=4)
    out = []
    for i in range(1, n):
        x, y, cw, ch, _ = (int(v) for v in stats[i])
        if x == 0 or y == 0 or x + cw >= w or y + ch >= h:  # the page around the tables
            continue
        if cw < 12 or ch < 12 or (cw > 0.7 * w and ch > 0.3 * h):  # specks; a frame round the text
            continue
        out.append((x, y, x + cw, y + ch))
    return out


class _Joined(Generic[T]):
    """Items joined in pairs, and the groups the joins make (a union-find)."""

    def __init__(self, items: Iterable[T]) -> None:
        self._parent = {item: item for item in items}

    def _root(self, item: T) -> T:
        parent = self._parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def join(self, a: T, b: T) -> None:
        self._parent[self._root(a)] = self._root(b)

    def groups(self) -> list[list[T]]:
        """The groups, each in the order the items were given, in the order of their first items."""
        out: dict[T, list[T]] = {}
        for item in self._parent:
            out.setdefault(self._root(item), []).append(item)
        return list(out.values())


def _tables(cells: list[Cell]) -> list[list[Cell]]:
    """Cells grouped into tables: those that touch (across a rule) belong together."""
    joined = _Joined(range(len(cells)))
    order = sorted(range(len(cells)), key=lambda i: cells[i][1])
    for a_pos, a in enumerate(order):
        ax0, _ay0, ax1, ay1 = cells[a]
        for b in order[a_pos + 1 :]:
            bx0, by0, bx1, _by1 = cells[b]
            if by0 > ay1 + 12:
                break
            if bx0 <= ax1 + 12 and ax0 <= bx1 + 12:
                joined.join(a, b)
    return [[cells[i] for i in group] for group in joined.groups() if len(group) >= 2]


def _edges(values: list[int], tolerance: int = 10) -> list[int]:
    """Positions that lie within ``tolerance`` of each other as one (their mean)."""
    out: list[list[int]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tolerance:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) // len(g) for g in out]


def _index(edges: list[int], v: int) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - v))


def _table(cells: list[Cell], gray: Any, ink: Any, rules: tuple[Any, Any]) -> ScanTable:
    """A table's cells laid on its grid of rules, each read."""
    xs = _edges([c[0] for c in cells] + [c[2] for c in cells])
    ys = _edges([c[1] for c in cells] + [c[3] for c in cells])
    cells = _mended(_on_grid(cells, xs, ys, rules), xs, ys, ink)
    n_rows, n_cols = max(len(ys) - 1, 1), max(len(xs) - 1, 1)
    rows: Rows = [[None] * n_cols for _ in range(n_rows)]
    confs: Confidences = [[None] * n_cols for _ in range(n_rows)]
    read = _read_cells(cells, gray, ink)
    for cell, (text, conf) in zip(cells, read, strict=True):
        r0, c0 = _index(ys, cell[1]), _index(xs, cell[0])
        if r0 >= n_rows or c0 >= n_cols:
            continue
        rows[r0][c0] = text
        confs[r0][c0] = conf
    box = (float(xs[0]), float(ys[0]), float(xs[-1]), float(ys[-1]))
    keep = [k for k, row in enumerate(rows) if any(t is not None for t in row)]
    boxes = [(box[0], float(ys[k]), box[2], float(ys[k + 1])) for k in keep]
    return ScanTable(box, [rows[k] for k in keep], [confs[k] for k in keep], boxes)


RULED = 0.3  # the share of a slot's side a rule covers for the side to be ruled


def _on_grid(cells: list[Cell], xs: list[int], ys: list[int], rules: tuple[Any, Any]) -> list[Cell]:
    """The table's cells as the slots of its grid that no rule parts: two slots side by side are
    one cell only where the rule mask leaves most of the side between them bare, so that a gap
    the noise makes in a rule (a few pixels, which joins the regions either side of it) cannot
    join two cells. A slot neither covered by a region of the table nor ruled round (outside a
    table not quite a rectangle) is no cell."""
    hor, ver = rules
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    if n_rows < 1 or n_cols < 1:
        return cells

    def ruled(mask: Any, at: int, lo: int, hi: int, across: bool) -> bool:
        if hi - lo < 4:
            return True
        side = mask[at - 4 : at + 5, lo:hi].any(axis=0) if across else mask[lo:hi, at - 4 : at + 5].any(axis=1)
        return bool(side.mean() >= RULED)

    def inside(r: int, c: int) -> bool:
        x, y = (xs[c] + xs[c + 1]) // 2, (ys[r] + ys[r + 1]) // 2
        if any(x0 <= x < x1 and y0 <= y < y1 for x0, y0, x1, y1 in cells):
            return True
        # (a slot ruled round is a cell, though a gap in the table's border let it out to the page)
        above_below = (ruled(hor, at, xs[c] + 5, xs[c + 1] - 5, across=True) for at in (ys[r], ys[r + 1]))
        either_side = (ruled(ver, at, ys[r] + 5, ys[r + 1] - 5, across=False) for at in (xs[c], xs[c + 1]))
        return all(above_below) and all(either_side)

    slots = {(r, c) for r in range(n_rows) for c in range(n_cols) if inside(r, c)}
    joined = _Joined(sorted(slots))
    for r, c in sorted(slots):
        if (r, c + 1) in slots and not ruled(ver, xs[c + 1], ys[r] + 5, ys[r + 1] - 5, across=False):
            joined.join((r, c), (r, c + 1))
        if (r + 1, c) in slots and not ruled(hor, ys[r + 1], xs[c] + 5, xs[c + 1] - 5, across=True):
            joined.join((r, c), (r + 1, c))
    out = []
    for group in joined.groups():
        r0, r1 = min(r for r, _ in group), max(r for r, _ in group)
        c0, c1 = min(c for _, c in group), max(c for _, c in group)
        out.append((xs[c0] + 3, ys[r0] + 3, xs[c1 + 1] - 3, ys[r1 + 1] - 3))
    return out


def _mended(cells: list[Cell], xs: list[int], ys: list[int], ink: Any) -> list[Cell]:
    """Cells cut where the scan broke a rule: a region that runs across a column boundary most of
    the table's rows have (or a row boundary most columns have), with no ink across it, is two
    cells whose rule the noise took away. (A merged cell's text runs across its inner boundaries:
    a header such as 法人或其他组织 stays whole; a label cell cut in two leaves an empty cell, which
    the table reader passes over.)"""

    def strong(edges: list[int], at: int, near: int) -> list[int]:
        counts = {e: 0 for e in edges}
        for c in cells:
            for v in (c[at], c[at + 2]):
                counts[edges[_index(edges, v)]] += 1
        return [e for e, n in counts.items() if n >= near]

    out = cells
    # a rule across the whole table touches a cell on each side of it in every row (column): half
    # as many is a rule the table has, broken here and there
    for axis, edges, across in ((0, xs, len(ys) - 1), (1, ys, len(xs) - 1)):
        lines = strong(edges, axis, max(2, across))
        mended: list[Cell] = []
        for c in out:
            lo, hi = c[axis], c[axis + 2]
            cuts = [e for e in lines if lo + 12 < e < hi - 12 and not _ink_across(ink, c, axis, e)]
            if axis == 1 and cuts and not _one_line_each(ink, c, [lo, *cuts, hi]):
                cuts = []  # (a label written down a merged cell, a character a line, stays whole)
            if axis == 0 and cuts and not _ink_in_each(ink, c, [lo, *cuts, hi]):
                cuts = []  # (a caption or a header centred across columns leaves some of them empty)
            bounds = [lo, *cuts, hi]
            for a, b in itertools.pairwise(bounds):
                mended.append((a, c[1], b, c[3]) if axis == 0 else (c[0], a, c[2], b))
        out = mended
    return out


def _ink_in_each(ink: Any, cell: Cell, bounds: list[int]) -> bool:
    """Whether every column's part of a cell across columns holds ink of its own."""
    _, y0, _, y1 = cell
    return all(ink[y0 + 3 : y1 - 3, a + 3 : b - 3].any() for a, b in itertools.pairwise(bounds))


def _one_line_each(ink: Any, cell: Cell, bounds: list[int]) -> bool:
    """Whether a cell across rows holds one line of ink in each row's part of it, and no more
    (two figures whose rule the noise took away), not a text written down it."""
    x0, y0, x1, _ = cell
    lines, _ = _ink_lines(ink[y0 + 2 : bounds[-1] - 2, x0 + 2 : x1 - 2])
    if len(lines) != len(bounds) - 1:
        return False
    return all(
        a - y0 <= ly0 + 2 and ly1 + 2 <= b - y0 + 2
        for (ly0, ly1, _, _), a, b in zip(lines, bounds, bounds[1:], strict=False)
    )


def _ink_across(ink: Any, cell: Cell, axis: int, at: int) -> bool:
    """Whether ink in the cell runs across the line ``at`` (a column's x, or a row's y). Across a
    row's line: a stroke right through the band either side of it, not the specks of a noisy scan
    that fall in it (a figure centred across columns may meet a column's line with no stroke
    through it, so there any ink counts)."""
    x0, y0, x1, y1 = cell
    if axis == 0:
        return bool(ink[y0 + 3 : y1 - 3, max(at - 3, x0) : min(at + 4, x1)].any())
    band = ink[max(at - 3, y0) : min(at + 4, y1), x0 + 3 : x1 - 3]
    return bool(band.size and band.all(axis=0).any())


def _read_cells(cells: list[Cell], gray: Any, ink: Any) -> list[tuple[str, float]]:
    """Each cell's text and confidence: its lines of ink recognised one by one."""
    import numpy as np

    crops: list[Any] = []
    owner: list[int] = []
    for k, (x0, y0, x1, y1) in enumerate(cells):
        page = gray[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2]
        # (a line's crop spans its own marks: a scan's specks beside it stay out, and a decimal point,
        # as small as a speck, between its digits stays in)
        lines, _ = _ink_lines(ink[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2])
        for ly0, ly1, lx0, lx1 in lines:
            line = page[ly0:ly1, lx0:lx1]
            clean = _despeckled(line, ink[y0 + 2 + ly0 : y0 + 2 + ly1, x0 + 2 + lx0 : x0 + 2 + lx1])
            crops.append(np.pad(clean, 6, constant_values=255))
            owner.append(k)
            if lx1 - lx0 < 4 * (ly1 - ly0):  # a short line (a figure): read a second time, framed closer
                # and as scanned, specks and all: a mark the first reading lost with the grain (a
                # decimal point as small as a speck) makes the readings differ, so no certainty
                crops.append(np.pad(line, 1, constant_values=255))
                owner.append(-1 - k)
    texts: list[list[str]] = [[] for _ in cells]
    confs: list[list[float]] = [[] for _ in cells]
    for k, (text, conf) in zip(owner, _recognise(crops), strict=True):
        text = text.strip()
        if k < 0:  # the second reading of the cell's last line: where the two differ, no certainty
            mine = -1 - k
            if texts[mine] and _core(texts[mine][-1]) != _core(text):
                confs[mine][-1] = 0.0
            continue
        if not text.strip(_SPECKS):  # a line of nothing but dots and commas: the scan's specks
            texts[k].append("")
            confs[k].append(1.0)
            continue
        texts[k].append(text)
        confs[k].append(conf)
    out = []
    for t, c in zip(texts, confs, strict=True):
        kept = [(text, conf) for text, conf in zip(t, c, strict=True) if text]
        out.append(_cell_text([text for text, _ in kept], [conf for _, conf in kept]) if kept else ("", 1.0))
    return out


def _despeckled(line: Any, ink: Any) -> Any:
    """A line's crop without the lone pixels of a noisy scan's grain (ink of one or two pixels
    touching nothing: a decimal point, at 150 dpi, is a few pixels more)."""
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] <= 2]
    if not small:
        return line
    import numpy as np

    out = line.copy()
    out[np.isin(labels, small)] = 255
    return out


# what a scan's specks read as, around a figure: 0. for 0, :2776 for 2776
_SPECKS = " .,:;·•．。，、：；'\"‘’“”`~_-–—|"
# what a lone dash in a cell reads as (一 is the character one, the same stroke)
_DASHES = frozenset({"一", "-", "—", "－", "–", "_", "__", "——", "一一", "--", "―"})
_FIGURE = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?(?:万元|元)?")


def _core(text: str) -> str:
    """A line without the specks around it (two readings of a figure are compared so)."""
    return text.strip(_SPECKS.replace("-", "").replace("—", ""))


def _cell_text(lines: list[str], confs: list[float]) -> tuple[str, float]:
    """A cell's lines as its text (a figure without the specks beside it), with the lowest of
    their confidences (1.0: no ink at all, a blank cell for certain)."""
    if len(lines) == 1:
        if lines[0].strip() in _DASHES:  # a cell holding one stroke across: a dash, the blank mark
            return "—", confs[0]
        core = _core(lines[0])
        if _FIGURE.fullmatch(core):
            return core, confs[0]
    return "\n".join(lines), min(confs) if confs else 1.0


def _ink_lines(ink: Any) -> tuple[list[tuple[int, int, int, int]], Any | None]:
    """The lines of text in a cell (runs of rows holding ink), and where its specks are: marks of
    fewer than 10 pixels (a decimal point has more at this resolution)."""
    import cv2
    import numpy as np

    if ink.size == 0:
        return [], None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = [  # (a minus sign is as small, but longer: it stays)
        i
        for i in range(1, n)
        if stats[i, cv2.CC_STAT_AREA] < 10 and max(stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]) <= 4
    ]
    specks = np.isin(labels, small) if small else None
    clean = ink.copy()
    if specks is not None:
        clean[specks] = 0
    rows = np.flatnonzero(clean.sum(axis=1) > 0)
    if rows.size == 0:
        return [], specks
    out = []
    start = prev = int(rows[0])
    for r in (int(v) for v in rows[1:]):
        if r > prev + 2:
            out.append((start, prev + 1))
            start = r
        prev = r
    out.append((start, prev + 1))
    tallest = max(y1 - y0 for y0, y1 in out)
    lines = []
    for y0, y1 in out:
        if y1 - y0 < max(4, 0.45 * tallest):  # a clump of a scan's noise above or below the text
            continue
        cols = np.flatnonzero(clean[y0:y1].sum(axis=0) > 0)
        lines.append((y0, y1, int(cols[0]), _end(clean[y0:y1], int(cols[-1]) + 1)))
    return lines, specks


def _end(line: Any, end: int) -> int:
    """Where a line of text ends: at its last mark of a character's height, not at the small
    marks after it (a clump of a noisy scan's grain after a figure reads as a dash, and no figure
    ends with one; a minus sign or a decimal point comes before a digit, so stays)."""
    import cv2

    _, _, stats, _ = cv2.connectedComponentsWithStats(line, connectivity=8)
    left, right = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_LEFT] + stats[1:, cv2.CC_STAT_WIDTH]
    tall = stats[1:, cv2.CC_STAT_HEIGHT] >= 0.4 * line.shape[0]
    if not tall.any():
        return end
    return int(right[left < right[tall].max()].max())


def _recognise(crops: list[Any]) -> list[tuple[str, float]]:
    """Lines of text recognised: RapidOCR's recogniser, in batches of similar widths."""
    import cv2

    if not crops:
        return []
    rec = engine().text_rec  # type: ignore[union-attr]
    images = [cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) for c in crops]
    decode = rec.postprocess_op
    rec.postprocess_op = _CellDecode(decode)  # (the page's text outside the tables is read as is)
    try:
        results, _ = rec(images)
    finally:
        rec.postprocess_op = decode
    return [(str(text), float(conf)) for text, conf in results]


def _lines(found: list[tuple[Any, str, float]]) -> list[Line]:
    """Boxes of text as lines: those whose middles lie within half a box's height, left to right."""
    boxes = []
    for box, text, _ in found:
        x0, y0 = float(box[:, 0].min()), float(box[:, 1].min())
        x1, y1 = float(box[:, 0].max()), float(box[:, 1].max())
        boxes.append((x0, y0, x1, y1, text))
    boxes.sort(key=lambda b: (b[1] + b[3]) / 2)
    out: list[Line] = []
    group: list[tuple[float, float, float, float, str]] = []
    for b in boxes:
        if group:
            mid = (group[0][1] + group[0][3]) / 2
            if abs((b[1] + b[3]) / 2 - mid) > (group[0][3] - group[0][1]) / 2:
                out.append(_line(group))
                group = []
        group.append(b)
    if group:
        out.append(_line(group))
    return out


def _line(group: list[tuple[float, float, float, float, str]]) -> Line:
    group.sort(key=lambda b: b[0])
    text = group[0][4]
    for prev, b in itertools.pairwise(group):
        gap = b[0] - prev[2]
        text += (" " if gap > (b[3] - b[1]) * 0.8 else "") + b[4]
    return Line(text, group[0][0], min(b[1] for b in group), max(b[2] for b in group), max(b[3] for b in group))
