"""Reading tables 二, 三 and 四 from the lines of a document, in any layout.

The lines of a table's region become a stream of tokens: text, numbers, placeholders and (in
real tables) empty cells. A row is the text before a run of values; its label is matched to a
template row by the key that ends last in that text, so group headings, merged cells repeated
on every row and labels broken over lines or cells all resolve to the row they lead to. Values
are placed by position only when their count fits the template; otherwise the row keeps what it
has, unplaced, and is marked uncertain. Nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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
from services.parser.document import Document, fold
from services.parser.memo import Memo
from services.parser.numbers import NUMBER, PLACEHOLDERS, VALUES, read_value, split_run, t3_row_sum, t4_group_sums

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

    __slots__ = ("grid", "label", "values")

    def __init__(self, label: list[Tok], values: list[Tok], grid: bool) -> None:
        self.label = label
        self.values = values
        self.grid = grid


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


def _text_line(raw: str) -> tuple[tuple[int, str, str, re.Match[str] | None], ...]:
    """The words of a text line, split at white space (tabs and spaces, no-break and ideographic
    too): (kind, word as written, match form, number match) each. Remembered: table lines recur
    (a cell a line, a label with its values)."""
    words = raw.split()
    kinds = [_WORDS.get(w) or _word(w) for w in words]
    if _RELINE in kinds:  # NFKC made a space inside a word: the whole line's NFKC words
        words = fold(raw).split()
        kinds = [_classify(w) for w in words]
    # (a kind per word: no strict zip, which is a keyword call, per line)
    return _TEXT_LINES.keep(raw, tuple((k, w, f, m) for w, (k, f, m) in zip(words, kinds)))  # noqa: B905


_TEXT_LINES: Memo[tuple[tuple[int, str, str, re.Match[str] | None], ...]] = Memo(64, 50_000)


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
    for no, raw_line, g, row_cells in zip(doc.nos[span], doc.raws[span], doc.grids[span], doc.cells[span], strict=True):
        if count > MAX_TOKENS:
            break
        if g is None:
            found = text_lines(raw_line) or _text_line(raw_line)
            count += len(found)
            for kind, raw, form, m in found:
                if kind == TEXT:
                    texts.append(form)
                    if values:
                        rows.append(RawRow(label, values, False))
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
        rows.append(RawRow(label, values, values[0][AT] is not None))
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


def _try_split(values: list[Tok], n: int, table: str) -> list[Tok] | None:
    if table == "t2" or any(v[KIND] != NUM or not v[NORM].isdigit() for v in values):
        return None
    check = t3_row_sum if table == "t3" else t4_group_sums
    pieces = split_run([v[NORM] for v in values], n, check)
    if pieces is None:
        return None
    out: list[Tok] = []
    i = 0
    for v in values:  # each piece keeps the line of the run it came from
        taken = 0
        while i < len(pieces) and taken < len(v[NORM]):
            p = pieces[i]
            out.append((NUM, p, p, v[LINE], v[AT], NUMBER.fullmatch(p)))
            taken += len(p)
            i += 1
    return out


def _fill(
    read: TableRead,
    table: str,
    row: Row,
    amounts: dict[str, bool],
    values: list[Tok],
    grid: bool,
    label: str,
    line: int | None,
    at: GridRef | None,
) -> None:
    n = len(row.columns)
    placed = place(values, n, grid)
    note = None
    if placed is None:
        placed = _try_split(values, n, table)
        if placed is not None:
            note = "digits written together (" + " ".join(v[RAW] for v in values) + ") split by the table's sums"
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
    read.cells[row.id] = {c: make_cell(None, None, line, state="missing") for c in row.columns}
    read.rows[row.id] = row_read(label, line, at, True, f"{len(kept)} values where the template has {n} columns", kept)


def _resolve(rows: list[RawRow], table: str) -> list[tuple[RawRow, str | None, str]]:
    matcher = _MATCHERS[table]
    out: list[tuple[RawRow, str | None, str]] = []
    for rr in rows:
        hit = matcher.match(rr.label)
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
    kinds = {c.id: c.kind is Kind.AMOUNT for c in spec.columns.values()}
    first = next(i for i, (_, rid, _) in enumerate(resolved) if rid)
    last = max(i for i, (_, rid, _) in enumerate(resolved) if rid)
    for i, (rr, rid, label) in enumerate(resolved):
        row = spec_rows.get(rid) if rid else None
        if row is None or (rid in read.cells and not _better(rr, row, read.rows[rid])):
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
        head = rr.label[-1] if rr.label else rr.values[0]
        _fill(read, table, row, kinds, rr.values, rr.grid, label, head[LINE], head[AT])
    return read


def _better(rr: RawRow, row: Row, have: RowRead) -> bool:
    """A second row with the same label replaces the first only when the first was uncertain."""
    return have["uncertain"] and place(rr.values, len(row.columns), rr.grid) is not None


_T4 = TEMPLATES["2019"].t4
_T4_AMOUNTS = dict.fromkeys(_T4.columns, False)


def _fill_t4(read: TableRead, whole: list[Tok], note: str | None = None) -> None:
    """The fifteen cells in order: review, litigation_direct, litigation_after_review."""
    for k, row in enumerate(_T4.rows):
        group = whole[5 * k : 5 * k + 5]
        _fill(read, "t4", row, _T4_AMOUNTS, group, True, row.label, group[0][LINE], group[0][AT])
        if note:
            read.rows[row.id]["note"] = note


def read_t4(doc: Document, start: int, end: int) -> TableRead:
    """Table 四: fifteen cells, usually one run after the headings, sometimes a row per group."""
    region = read_region(doc, start, end)
    rows = region.rows
    read = TableRead()
    if not rows and "行政复议" not in region.text:
        return read
    read.found = True
    leftovers: list[Tok] = []
    for rr in rows:
        whole = place(rr.values, 15, rr.grid)
        if whole is not None and not read.cells:
            _fill_t4(read, whole)
            continue
        hit = _MATCHERS["t4"].match(rr.label)
        group = place(rr.values, 5, rr.grid)
        if hit and group is not None and hit[0] not in read.cells:
            _fill(read, "t4", _T4.row(hit[0]), _T4_AMOUNTS, group, True, hit[1], group[0][LINE], group[0][AT])
            continue
        leftovers.extend(v for v in rr.values if v[KIND] != EMPTY)
    if leftovers and not read.cells:
        whole = leftovers if len(leftovers) == 15 else _try_split(leftovers, 15, "t4")
        if whole is not None:
            _fill_t4(read, whole, None if whole is leftovers else "digits written together split by the table's sums")
            return read
        for row in _T4.rows:
            read.cells[row.id] = {c: make_cell(None, None, leftovers[0][LINE], state="missing") for c in row.columns}
            read.rows[row.id] = row_read(
                row.label,
                leftovers[0][LINE],
                None,
                True,
                f"{len(leftovers)} values where table 四 has 15 cells",
                tuple(_loose(v) for v in leftovers) if row.id == "review" else (),
            )
    return read
