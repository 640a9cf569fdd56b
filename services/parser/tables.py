"""Reading tables 二, 三 and 四 from the lines of a document, in any layout.

The lines of a table's region become a stream of tokens: text, numbers, placeholders and (in
real tables) empty cells. A row is the text before a run of values; its label is matched to a
template row by the key that ends last in that text, so group headings, merged cells repeated
on every row and labels broken over lines or cells all resolve to the row they lead to. Values
are placed by position only when their count fits the template; otherwise the row keeps what it
has, unplaced, and is marked uncertain. Nothing is guessed.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from contracts.report import Cell, GridRef, RowRead, grid_ref, make_cell, row_read
from contracts.template import (
    T2_MARKERS,
    TEMPLATES,
    Kind,
    Row,
    TemplateId,
    match_form,
    unquote,
)
from services.parser.digits import Values, group_sums, row_sum, split_rows, t3_columns
from services.parser.document import Document, fold
from services.parser.memo import Memo
from services.parser.numbers import NUMBER, PLACEHOLDERS, VALUES, read_value

TEXT, NUM, BLANK, EMPTY = 0, 1, 2, 3

_NUMBERING = re.compile(
    r"^(?:[(\[]?[一二三四五六七八九十]{1,3}[)\]]|[一二三四五六七八九十]{1,3}[、.,]|[(\[]?\d{1,2}[)\]]|\d{1,2}[、.,])+"
)


# A token is one word of a text line, or one cell of a real table, as a plain tuple (a report
# has a few hundred; a tuple costs a third of a class instance to make and to read):
#   (kind: TEXT, NUM, BLANK or EMPTY; raw: as written; norm: match form (text) or NFKC
#    (numbers, placeholders); line; at: where the cell stands in a real table; num: the number's match)
Tok = tuple[int, str, str, int, GridRef | None, re.Match[str] | None]
KIND: Final = 0
RAW: Final = 1
NORM: Final = 2
LINE: Final = 3
AT: Final = 4
NUM_MATCH: Final = 5


class RawRow:
    """The text before a run of values (the row's label), the values, and whether it is a real
    table's row. A plain class, as ``document.GridRow`` is and for the same reason."""

    __slots__ = ("glued", "grid", "label", "values")

    def __init__(self, label: list[Tok], values: list[Tok], grid: bool, glued: bool = False) -> None:
        self.label = label
        self.values = values
        self.grid = grid
        self.glued = glued  # its values were written against its label, no separator (crawled text)


# Cells and rows are built here in their final shape (contracts.report's Cell and RowRead, plain
# dicts) and not validated again (tests/unit/test_contracts.py checks that they would pass);
# extra rows, rare, are validated with the whole report.
@dataclass(slots=True)
class TableRead:
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    rows: dict[str, RowRead] = field(default_factory=dict)
    extra: list[dict[str, Any]] = field(default_factory=list)
    template: TemplateId | None = None
    found: bool = False


_STRIPPED: Memo[str] = Memo()


def strip_numbering(form: str) -> str:
    """A label without its numbering (``（一）``, ``1.`` …)."""
    hit = _STRIPPED.get(form)
    return _STRIPPED.keep(form, _NUMBERING.sub("", form)) if hit is None else hit


Kind_ = tuple[int, str, re.Match[str] | None]  # a token's kind, match form and number match
_EMPTY: Kind_ = (EMPTY, "", None)
_RELINE: Kind_ = (-1, "", None)  # NFKC makes a space inside this word: read the whole line in NFKC
_KINDS: Memo[Kind_] = Memo(32, 50_000)  # by a word's NFKC form
_WORDS: Memo[Kind_] = Memo(32, 50_000)  # by a word of a text line as written
_CELLS: Memo[Kind_] = Memo(32, 50_000)  # by a cell of a real table as written


def _classify(norm: str) -> Kind_:
    """What a word is (text, number, placeholder), from its NFKC form."""
    hit = _KINDS.get(norm)
    if hit is None:
        m = NUMBER.fullmatch(norm)
        if m is not None:
            hit = (NUM, norm, m)
        elif norm in PLACEHOLDERS:
            hit = (BLANK, norm, None)
        else:
            hit = (TEXT, unquote(norm), None)
        _KINDS.keep(norm, hit)
    return hit


def _word(word: str) -> Kind_:
    """A word of a text line (no white space in it): NFKC'd unless it is ASCII."""
    norm = word if word.isascii() else fold(word)
    return _WORDS.keep(word, _RELINE if not norm or " " in norm else _classify(norm))


Words = tuple[tuple[int, str, str, re.Match[str] | None], ...]


def _text_line(raw: str) -> tuple[Words, bool]:
    """The words of a text line, split at white space (tabs and spaces, no-break and ideographic
    too): (kind, word as written, match form, number match) each; and whether the line runs a
    table's labels and figures together (crawled text: ``规章000规范性文件898989``). Remembered:
    table lines recur (a cell a line, a label with its values)."""
    words = raw.split()
    kinds = [_WORDS.get(w) or _word(w) for w in words]
    if _RELINE in kinds:  # NFKC made a space inside a word: the whole line's NFKC words
        words = fold(raw).split()
        kinds = [_classify(w) for w in words]
    # (a kind per word: no strict zip, which is a keyword call, per line)
    found = tuple((k, w, f, m) for w, (k, f, m) in zip(words, kinds))  # noqa: B905
    glued = False
    if _TOUCHING.search(raw) is not None:  # (most lines: no figure written against a label at all)
        last = found[-1][2] if found and found[-1][0] == TEXT else ""
        glued = _glued("".join(f for k, _, f, _ in found if k == TEXT), last)
    return _TEXT_LINES.keep(raw, (found, glued))


_TEXT_LINES: Memo[tuple[Words, bool]] = Memo(64, 50_000)


def _unglued(words: Words) -> Words:
    """A line's words with those that run labels and figures together cut into them."""
    return tuple(piece for token in words for piece in _unglue(token))


_RUN = re.compile(r"\d+(?:\.\d+)?(?:万元|元)?")
_DIGIT = re.compile(r"\d")
_TOUCHING = re.compile(r"[\u4e00-\u9fff)）]\d")  # a figure written against a label
_LABEL_FIGURES = re.compile(r"(.*[\u4e00-\u9fff)）])(\d+(?:\.\d+)?(?:万元|元)?)")  # a label, then its figures


def _glued(text: str, last: str) -> bool:
    """A table whose cells ran together (crawled text): a line's words holding three of the
    tables' labels or more, a label followed at once by a figure (``规章000规范性文件898989…``),
    or a line that ends in a row's label and its figures (``一、本年新收政府信息公开申请数量230000023``)."""
    if _TOUCHING.search(text) is None:
        return False
    if sum(key in text for key in _LABEL_KEYS) >= 3:
        return True
    m = _LABEL_FIGURES.fullmatch(last)
    return m is not None and any(_MATCHERS[t].match([(TEXT, m[1], m[1], 0, None, None)]) for t in _MATCHERS)


def _unglue(token: tuple[int, str, str, re.Match[str] | None]) -> Iterator[tuple[int, str, str, re.Match[str] | None]]:
    """A word of a table run together cut into its labels and its runs of figures. A digit
    before ``.`` or ``、`` and a label is the label's numbering (``00000002.其他法律…``: 0000000,
    then 2.其他法律…)."""
    kind, _, form, _ = token
    if kind != TEXT or _DIGIT.search(form) is None:
        yield token
        return
    pos = 0
    for m in _RUN.finditer(form):
        start, end = m.span()
        run = m.group()
        after = form[end : end + 2]
        if run.isdigit() and len(after) == 2 and after[0] in ".、" and not after[1].isdigit():
            end -= 1  # the next label's numbering
            run = run[:-1]
        if start > pos:
            yield (TEXT, form[pos:start], form[pos:start], None)
        if run:
            k, f, num = _classify(run)
            yield (k, run, f, num)
        pos = max(pos, end)
    if pos < len(form):
        yield (TEXT, form[pos:], form[pos:], None)


def _grid_cell(cell: str) -> Kind_:
    """A cell of a real table: NFKC'd, its white space taken out."""
    norm = fold(cell).replace(" ", "")
    return _CELLS.keep(cell, _classify(norm) if norm else _EMPTY)


MAX_TOKENS = 20_000  # a real table has a few hundred; what lies beyond is no table


@dataclass(slots=True)
class Region:
    """A table's region read into rows: the text before a run of values, and the values."""

    rows: list[RawRow]
    text: str  # its text words in matching form, run together (where a template's markers are looked for)


def read_region(doc: Document, start: int, end: int) -> Region:
    """Tokens of the lines, grouped into rows as they come: the text before a run of values, and
    the values. A text line is split at white space (tabs and spaces, no-break and ideographic
    too); a row of a real table gives its cells, and closes the row.

    This runs for every word of every table, so the grouping is written out twice, for text
    words and for table cells, rather than over a list of tokens made per line (which cost
    Word text, a cell a line, 17 % more instructions).
    """
    rows: list[RawRow] = []
    texts: list[str] = []
    label: list[Tok] = []
    values: list[Tok] = []
    count = 0
    text_lines, grid_cells = _TEXT_LINES.get, _CELLS.get
    span = slice(start, end)
    # a region where one line runs a table's labels and figures together is a table whose cells
    # ran together (crawled text), whichever of its lines shows it: every text line is cut apart
    raws, grids = doc.raws[span], doc.grids[span]
    words = [text_lines(raw) or _text_line(raw) if g is None else None for raw, g in zip(raws, grids, strict=True)]
    glued = any(w[1] for w in words if w is not None)
    for no, line_words, g, row_cells in zip(doc.nos[span], words, doc.grids[span], doc.cells[span], strict=True):
        if count > MAX_TOKENS:
            break
        if g is None:
            assert line_words is not None
            found = _unglued(line_words[0]) if glued else line_words[0]
            count += len(found)
            for kind, raw, form, m in found:
                if kind == TEXT:
                    texts.append(form)
                    if values:
                        rows.append(RawRow(label, values, False, glued))
                        label, values = [], []
                    label.append((kind, raw, form, no, None, m))
                else:  # a number or a placeholder (a word is never empty)
                    values.append((kind, raw, form, no, None, m))
            continue
        assert row_cells is not None
        table, row, page = g.table, g.row, g.page
        count += len(row_cells) + 1
        for col, cell in zip(g.cols, row_cells):  # noqa: B905 (made together, as long as each other; a strict zip is a keyword call per row)
            kind, form, m = grid_cells(cell) or _grid_cell(cell)
            at = grid_ref(table, row, col, page)
            if kind == TEXT:
                texts.append(form)
                if values:
                    rows.append(RawRow(label, values, True))
                    label, values = [], []
                label.append((kind, cell, form, no, at, m))
            elif kind == EMPTY:
                if label or values:
                    values.append((EMPTY, "", "", no, at, None))
            else:
                values.append((kind, cell, form, no, at, m))
        if values:  # the end of a table row closes the row
            rows.append(RawRow(label, values, True))
        label, values = [], []
    if values:
        grid = values[0][AT] is not None
        rows.append(RawRow(label, values, grid, glued and not grid))
    return Region(rows, "".join(texts))


class Matcher:
    """Finds the template row a label leads to: the key that ends last wins."""

    def __init__(self, rows: Iterable[Row]) -> None:
        long: dict[str, str] = {}
        exact: dict[str, str] = {}
        rows_list = list(rows)
        for row in rows_list:
            for key in row.keys:
                long[match_form(key)] = row.id
            for key in row.exact:
                exact[match_form(key)] = row.id
        self.long = sorted(long.items(), key=lambda kv: -len(kv[0]))
        self.exact = exact
        # Whole labels as templates print them, numbering taken off: the usual case, one lookup.
        self.whole = {**{k: v for k, v in long.items() if len(k) >= 4}, **exact}
        for row in rows_list:
            self.whole.setdefault(strip_numbering(match_form(row.label)), row.id)

    def match(self, label: Sequence[Tok]) -> tuple[str, str] | None:
        """(row id, the label's words that name it, as written), or None."""
        if label:
            rid = self.whole.get(strip_numbering(label[-1][NORM]))
            if rid is not None:
                return rid, label[-1][RAW]
        forms = [t[NORM] for t in label]
        starts, pos = [], 0
        for f in forms:
            starts.append(pos)
            pos += len(f)
        text = "".join(forms)
        for k in range(max(0, len(forms) - 6), len(forms) - 1):  # a short label spaced out: “规 章”
            rid = self.exact.get(strip_numbering("".join(forms[k:])))
            if rid is not None:
                return rid, "".join(t[RAW] for t in label[k:])
        best: tuple[int, int, int, str] | None = None  # end, key length, start, row id
        for key, rid in self.long:
            i = text.rfind(key)
            if i >= 0:
                cand = (i + len(key), len(key), i, rid)
                if best is None or cand[:2] > best[:2]:
                    best = cand
        for j in range(max(0, len(forms) - 3), len(forms)):
            core = strip_numbering(forms[j])
            rid = self.exact.get(core)
            if rid is not None:
                end = starts[j] + len(forms[j])
                cand = (end, len(core), starts[j], rid)
                if best is None or cand[:2] > best[:2]:
                    best = cand
        if best is None:
            return None
        end, _, start, rid = best
        words = [t[RAW] for t, s, f in zip(label, starts, forms, strict=True) if s < end and s + len(f) > start]
        return rid, "".join(words)


_MATCHERS = {
    "t2": Matcher((*TEMPLATES["2019"].t2.rows, *TEMPLATES["2021"].t2.rows)),
    "t3": Matcher((*TEMPLATES["2019"].t3.rows, *TEMPLATES["2021"].t3.rows)),
    "t4": Matcher(TEMPLATES["2019"].t4.rows),
}
# the tables' long labels (a word holding two of them and figures ran a table's cells together)
_LABEL_KEYS = tuple(sorted({key for m in _MATCHERS.values() for key, _ in m.long if len(key) >= 4}))


def _cell(tok: Tok, amount: bool) -> Cell:
    kind, raw, norm, line, at, num = tok
    if kind == NUM:
        assert num is not None
        value, unit = VALUES[amount].get(norm) or read_value(num, amount)
        return make_cell(raw, value, line, at, "read" if value is not None else "unread", unit)
    if kind == TEXT:
        return make_cell(raw, None, line, at, "unread")
    return make_cell(raw or None, None, line, at, "blank")


def _loose(tok: Tok) -> Cell:
    num = tok[NUM_MATCH]
    return _cell(tok, num is not None and num.group(3) is not None)


def place(values: list[Tok], n: int, grid: bool) -> list[Tok] | None:
    """The values in column order when their places are certain, else None."""
    if len(values) == n:
        return values
    if not grid:
        return None
    filled = [v for v in values if v[KIND] != EMPTY]
    if len(filled) == n:
        return filled
    extra = len(values) - n
    if extra > 0:
        if all(v[KIND] == EMPTY for v in values[:extra]):
            return values[extra:]
        if all(v[KIND] == EMPTY for v in values[n:]):
            return values[:n]
    return None


def _digit_parts(values: list[Tok]) -> list[str] | None:
    """A row's figures as digit strings, when they are nothing else (their cells may be cut apart;
    a run longer than any row of real figures is not tried)."""
    if not values or any(v[KIND] != NUM or not v[NORM].isdigit() for v in values):
        return None
    if sum(len(v[NORM]) for v in values) > 120:
        return None
    return [v[NORM] for v in values]


def _ints(values: list[Tok]) -> Values | None:
    """A placed row's values as integers for the table's sums (None: a cell is no plain count)."""
    if any(v[KIND] != NUM or not v[NORM].isdigit() or len(v[NORM]) > 15 for v in values):
        return None
    return tuple(int(v[NORM]) for v in values)


def _pieces(values: list[Tok], pieces: tuple[str, ...]) -> list[Tok]:
    """The cut figures as tokens, each keeping the line and place of the run it came from."""
    out: list[Tok] = []
    i = 0
    for v in values:
        taken = 0
        while i < len(pieces) and taken < len(v[NORM]):
            p = pieces[i]
            out.append((NUM, p, p, v[LINE], v[AT], NUMBER.fullmatch(p)))
            taken += len(p)
            i += 1
    return out


_HOW = {"digits": "the only way to cut them", "sums": "split by the table's sums"}


def _split(
    rows: dict[str, RawRow], spec: dict[str, Row], table: str, template: TemplateId, placed: dict[str, list[Tok]]
) -> dict[str, tuple[list[Tok] | None, str | None]]:
    """Rows with fewer figures than cells, their digits cut apart where only one way is left."""
    wanting = {  # (table 二 has no sums to tell a number from figures run together: only where the text lost them)
        rid: parts
        for rid, rr in rows.items()
        if rid not in placed
        and (parts := _digit_parts(rr.values))
        and len(parts) < len(spec[rid].columns)
        and (rr.glued or table != "t2")
    }
    if not wanting:
        return {}
    if table == "t3":
        known = {rid: _ints(values) for rid, values in placed.items()}
        found = split_rows(wanting, 7, known, row_sum, t3_columns(template))
    else:  # table 二: no sums between its cells; only a cut that is the only one stands
        found = {}
        for rid, parts in wanting.items():
            found.update(split_rows({rid: parts}, len(spec[rid].columns), {}, None, None))
    out: dict[str, tuple[list[Tok] | None, str | None]] = {}
    for rid, (split, how) in found.items():
        written = " ".join(v[RAW] for v in rows[rid].values)
        if split is None:  # (too few figures to cut, with separators: the plain account of it)
            plain = not rows[rid].glued and how.startswith("the digits cannot be cut")
            out[rid] = (None, None if plain else f"figures written together ({written}): {how}")
        else:
            out[rid] = (_pieces(rows[rid].values, split), f"figures written together ({written}): {_HOW[how]}")
    return out


def _fill(
    read: TableRead,
    row: Row,
    amounts: dict[str, bool],
    values: list[Tok],
    placed: list[Tok] | None,
    label: str,
    line: int | None,
    at: GridRef | None,
    note: str | None = None,
    glued: bool = False,
) -> None:
    """A template row's cells: its values in column order, or, when their places are not certain,
    every cell ``missing`` and what the row held kept unplaced."""
    n = len(row.columns)
    if placed is not None:
        cells: dict[str, Cell] = {}
        for c, t in zip(row.columns, placed):  # noqa: B905 (placed: a value per column)
            kind, raw, norm, line_no, at_, num = t
            if kind == NUM:  # the common case, inline: ~200 a report
                amount = amounts[c]
                value, unit = VALUES[amount].get(norm) or read_value(num, amount)  # type: ignore[arg-type]
                if value is not None and unit is None:
                    if at_ is None:
                        cells[c] = {"raw": raw, "value": value, "line": line_no}
                    else:
                        cells[c] = {"raw": raw, "value": value, "line": line_no, "at": at_}
                    continue
            cells[c] = _cell(t, amounts[c])
        read.cells[row.id] = cells
        read.rows[row.id] = row_read(label, line, at, note=note)
        return
    kept = tuple(_loose(v) for v in values if v[KIND] != EMPTY)
    why = note or f"{len(kept)} values where the template has {n} columns"
    read.cells[row.id] = {c: make_cell(None, None, line, state="missing") for c in row.columns}
    read.rows[row.id] = row_read(label, line, at, True, why, kept, run_together=glued)


def _resolve(rows: list[RawRow], table: str) -> list[tuple[RawRow, str | None, str]]:
    matcher = _MATCHERS[table]
    out: list[tuple[RawRow, str | None, str]] = []
    for rr in rows:
        hit = matcher.match(rr.label)
        if hit is None and rr.glued and rr.label:  # “…对外公开总数量规章000”: a short label ends the run of text
            form = rr.label[-1][NORM]
            hit = next(((rid, key) for key, rid in matcher.exact.items() if form.endswith(key)), None)
        out.append((rr, hit[0], hit[1]) if hit else (rr, None, "".join(t[RAW] for t in rr.label)))
    return out


_T2_MARKS = {tid: tuple(match_form(m) for m in marks) for tid, marks in T2_MARKERS.items()}


def _t2_template(text: str, resolved: list[tuple[RawRow, str | None, str]]) -> TemplateId | None:
    score = {tid: sum(m in text for m in marks) for tid, marks in _T2_MARKS.items()}
    if score["2019"] != score["2021"]:
        return "2019" if score["2019"] > score["2021"] else "2021"
    for rr, rid, _ in resolved:
        if rid in ("licensing", "punishment", "coercion"):
            filled = [v for v in rr.values if v[KIND] != EMPTY]
            if len(filled) == 3:
                return "2019"
            if len(filled) == 1:
                return "2021"
    return None


def read_table(table: str, doc: Document, start: int, end: int) -> TableRead:
    """Read table ``t2`` or ``t3`` from the lines of its region."""
    region = read_region(doc, start, end)
    resolved = _resolve(region.rows, table)
    read = TableRead()
    ids = [rid for _, rid, _ in resolved if rid is not None]
    if not ids:
        return read
    read.found = True
    if table == "t2":
        read.template = _t2_template(region.text, resolved)
    else:
        read.template = "2021" if any(r.startswith("other.") for r in ids) else ("2019" if "other" in ids else None)
    spec = TEMPLATES[read.template or "2019"].table(table)
    spec_rows = {r.id: r for r in spec.rows}
    resolved = pin(resolved, spec.rows)
    kinds = {c.id: c.kind is Kind.AMOUNT for c in spec.columns.values()}
    first = next(i for i, (_, rid, _) in enumerate(resolved) if rid)
    last = max(i for i, (_, rid, _) in enumerate(resolved) if rid)
    chosen: dict[str, tuple[RawRow, str]] = {}  # the document's row for each template row
    placed: dict[str, list[Tok]] = {}  # ... and its values in column order, where certain
    for i, (rr, rid, label) in enumerate(resolved):
        row = spec_rows.get(rid) if rid else None
        values = place(rr.values, len(row.columns), rr.grid) if row is not None else None
        # a second row with the same label replaces the first only when the first's places were not certain
        if row is None or (rid in chosen and (rid in placed or values is None)):
            if first <= i <= last and any(v[KIND] == NUM for v in rr.values):
                read.extra.append(
                    {
                        "table": table,
                        "label": label,
                        "line": rr.values[0][LINE],
                        "cells": [_loose(v) for v in rr.values if v[KIND] != EMPTY],
                    }
                )
            continue
        assert rid is not None
        chosen[rid] = (rr, label)
        if values is not None:
            placed[rid] = values
        else:
            placed.pop(rid, None)
    splits = _split({rid: rr for rid, (rr, _) in chosen.items()}, spec_rows, table, read.template or "2019", placed)
    for rid, (rr, label) in chosen.items():
        head = rr.label[-1] if rr.label else rr.values[0]
        values, note = (placed[rid], None) if rid in placed else splits.get(rid, (None, None))
        _fill(read, spec_rows[rid], kinds, rr.values, values, label, head[LINE], head[AT], note, rr.glued)
    return read


def pin(resolved: list[tuple[RawRow, str | None, str]], rows: Sequence[Row]) -> list[tuple[RawRow, str | None, str]]:
    """Rows whose label names no template row, placed by their neighbours where those pin them.

    A table's rows follow the template's order. Between two rows found by their labels, the
    template rows not found are the only ones a row standing there can be; when as many rows with
    a full set of values stand there as template rows are missing, in the same order, and each
    label is like the template's (a misprint: ``2.其他法律行政止公开``), each is that row.
    Anything else (more or fewer rows than gaps, a label unlike the row's) stays unplaced: an
    extra row, never a guess.
    """
    if all(rid is not None or not any(v[KIND] == NUM for v in rr.values) for rr, rid, _ in resolved):
        return resolved  # (the usual case: every row with figures named by its label)
    order = {row.id: k for k, row in enumerate(rows)}
    anchors = [i for i, (_, rid, _) in enumerate(resolved) if rid in order]
    found = {rid for _, rid, _ in resolved}
    out = list(resolved)
    for a, b in itertools.pairwise(anchors):
        lo, hi = order[resolved[a][1]], order[resolved[b][1]]  # type: ignore[index]
        missing = [row for row in rows[lo + 1 : hi] if row.id not in found]
        loose = [
            i for i in range(a + 1, b) if resolved[i][1] is None and any(v[KIND] == NUM for v in resolved[i][0].values)
        ]
        if not missing or len(loose) != len(missing):
            continue
        fits = all(
            place(resolved[i][0].values, len(row.columns), resolved[i][0].grid) is not None
            and _like(_own_label(resolved[i][0], resolved[i][2]), row.label)
            for i, row in zip(loose, missing, strict=True)
        )
        if fits:
            for i, row in zip(loose, missing, strict=True):
                out[i] = (resolved[i][0], row.id, _own_label(resolved[i][0], resolved[i][2]))
    return out


def _own_label(rr: RawRow, label: str) -> str:
    """A row's own label: in a real table its last text cell (the cells before it are the group
    labels merged over it, （三）不予公开), else all its label text."""
    return rr.label[-1][RAW] if rr.grid and rr.label else label


def _like(written: str, label: str) -> bool:
    """A label as written is like the template's: the same numbering, or most of its characters
    in the same order (difflib's ratio, numbering aside)."""
    a, b = match_form(written), match_form(label)
    num_a, num_b = _NUMBERING.match(a), _NUMBERING.match(b)
    if num_a and num_b and num_a.group() == num_b.group():
        return True
    return difflib.SequenceMatcher(None, strip_numbering(a), strip_numbering(b), autojunk=False).ratio() >= 0.6


_T4 = TEMPLATES["2019"].t4
_T4_AMOUNTS = dict.fromkeys(_T4.columns, False)


def _fill_t4(read: TableRead, whole: list[Tok], note: str | None = None) -> None:
    """The fifteen cells in order: review, litigation_direct, litigation_after_review."""
    for k, row in enumerate(_T4.rows):
        group = whole[5 * k : 5 * k + 5]
        _fill(read, row, _T4_AMOUNTS, group, group, row.label, group[0][LINE], group[0][AT], note)


def read_t4(doc: Document, start: int, end: int) -> TableRead:
    """Table 四: fifteen cells, usually one run after the headings, sometimes a row per group."""
    region = read_region(doc, start, end)
    rows = region.rows
    read = TableRead()
    if not rows and "行政复议" not in region.text:
        return read
    read.found = True
    leftovers: list[Tok] = []
    glued = False
    for rr in rows:
        whole = place(rr.values, 15, rr.grid)
        if whole is not None and not read.cells:
            _fill_t4(read, whole)
            continue
        hit = _MATCHERS["t4"].match(rr.label)
        group = place(rr.values, 5, rr.grid)
        if hit and group is not None and hit[0] not in read.cells:
            _fill(read, _T4.row(hit[0]), _T4_AMOUNTS, group, group, hit[1], group[0][LINE], group[0][AT])
            continue
        leftovers.extend(v for v in rr.values if v[KIND] != EMPTY)
        glued = glued or rr.glued
    if leftovers and not read.cells:
        if len(leftovers) == 15:
            _fill_t4(read, leftovers)
            return read
        parts = _digit_parts(leftovers)
        split, how = split_rows({"t4": parts}, 15, {}, group_sums, None)["t4"] if parts else (None, "")
        written = " ".join(v[RAW] for v in leftovers)
        if split is not None:
            _fill_t4(read, _pieces(leftovers, split), f"figures written together ({written}): {_HOW[how]}")
            return read
        why = (
            f"figures written together ({written}): {how}"
            if glued
            else f"{len(leftovers)} values where table 四 has 15 cells"
        )
        for row in _T4.rows:
            read.cells[row.id] = {c: make_cell(None, None, leftovers[0][LINE], state="missing") for c in row.columns}
            read.rows[row.id] = row_read(
                row.label,
                leftovers[0][LINE],
                None,
                True,
                why,
                tuple(_loose(v) for v in leftovers) if row.id == "review" else (),
                run_together=glued,
            )
    return read
