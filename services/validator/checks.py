"""Checks of the document's frame (DOC-*) and of template conformance (TPL-*).

Each check takes a ``Report`` and yields a ``Hit`` for every place it fails; the catalogue
(``rules.py``) pairs each with its id, severity and messages.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Iterator

from contracts.report import Cell, cell_state
from contracts.template import SECTIONS, TEMPLATES, Kind, match_form, template_for_year
from contracts.verdict import Location
from services.validator.model import TABLE_EN, TABLE_LABELS, Hit, Report

_TITLE = re.compile(r"(?:19|20)\d{2}年度?政府信息公开工作年度报告$")
_ZH_NUMBER = {s.id: s.number for s in SECTIONS}
_TEMPLATE_NAMES = {tid: t.name for tid, t in TEMPLATES.items()}


# --- DOC -------------------------------------------------------------------------------------


def office_unknown(r: Report) -> Iterator[Hit]:
    """Only when neither the document nor the submission names the office (else DOC-TITLE)."""
    if not r.r.office and r.ctx.office is None:
        yield Hit(Location(line=r.r.title_line))


def year_unknown(r: Report) -> Iterator[Hit]:
    """Only when neither the document nor the submission gives the year (else DOC-TITLE)."""
    if r.r.year is None and r.ctx.year is None:
        yield Hit(Location(line=r.r.title_line))


# Office names and the registry's names recur in every report of an office.
_office_form = functools.lru_cache(maxsize=4096)(match_form)


def _same_office(found: str, name: str) -> bool:
    a, b = _office_form(found), _office_form(name)
    return len(a) >= 2 and len(b) >= 2 and (a in b or b in a)


def _nearly(found: str, name: str) -> bool:
    return difflib.SequenceMatcher(None, _office_form(found), _office_form(name), autojunk=False).ratio() >= 0.85


def office_mismatch(r: Report) -> Iterator[Hit]:
    office = r.ctx.office
    if office is None or not r.r.office:
        return
    sources = r.r.office_sources
    # (not ``sources.text``: a report's sentences name offices loosely, 区政府, 市生态环境局)
    found = [v for v in (sources.title, sources.submitter, sources.preamble, sources.signature) if v]
    if not found or any(_same_office(f, n) for f in found for n in (office.name, *office.aliases)):
        return
    if r.r.scanned_pages and any(_nearly(f, n) for f in found for n in (office.name, *office.aliases)):
        return  # read off a scan: a character OCR dropped or misread is no other office
    yield Hit(
        Location(line=r.r.title_line),
        {"registered": office.name, "found": r.r.office},
        expected=office.name,
        actual=r.r.office,
    )


def year_mismatch(r: Report) -> Iterator[Hit]:
    declared, found = r.ctx.year, r.r.year
    if declared is not None and found is not None and declared != found:
        yield Hit(
            Location(line=r.r.title_line), {"declared": declared, "found": found}, expected=declared, actual=found
        )


def title(r: Report) -> Iterator[Hit]:
    if r.r.title is None:
        yield Hit(Location(), {"title": "（无）", "problem_zh": "报告缺少标题", "problem_en": "the title is missing"})
        return
    unnamed = [
        (zh, en)
        for zh, en, missing in (
            ("发布机关", "office", not r.r.office and r.ctx.office is not None),
            ("报告年度", "year", r.r.year is None and r.ctx.year is not None),
        )
        if missing
    ]
    if unnamed:  # what the submission declares, the document does not say anywhere
        yield Hit(
            Location(line=r.r.title_line),
            {
                "title": r.r.title,
                "problem_zh": f"报告中未写明{'和'.join(zh for zh, _ in unnamed)}",
                "problem_en": f"the document names no {' and no '.join(en for _, en in unnamed)}",
            },
            actual=r.r.title,
        )
    elif not _TITLE.search(match_form(r.r.title)):
        yield Hit(
            Location(line=r.r.title_line),
            {
                "title": r.r.title,
                "problem_zh": f"标题“{r.r.title}”不符合规范",
                "problem_en": f"the title reads “{r.r.title}”",
            },
            actual=r.r.title,
        )


def late(r: Report) -> Iterator[Hit]:
    year, signed = r.r.year, r.r.signed_on
    if year is None or signed is None:
        return
    deadline = dt.date(year + 1, 1, 31)
    if signed > deadline:
        yield Hit(
            Location(),
            {"date": signed.isoformat(), "deadline": deadline.isoformat()},
            expected=deadline.isoformat(),
            actual=signed.isoformat(),
        )


def section_missing(r: Report) -> Iterator[Hit]:
    if r.r.scanned_pages:  # on a scan, a heading not found is one the reading did not make out: DOC-SCAN-UNCERTAIN
        return
    yield from _missing_sections(r)


def _missing_sections(r: Report) -> Iterator[Hit]:
    for s in SECTIONS:
        if s.id not in r.r.sections:
            yield Hit(Location(section=s.id), {"heading": f"{s.number}、{s.heading}"})


_SECTION_IDS = tuple(s.id for s in SECTIONS)
_NUMBERED = tuple(f"{s.number}、" for s in SECTIONS)


def section_order(r: Report) -> Iterator[Hit]:
    present = list(r.r.sections)
    if present != [s for s in _SECTION_IDS if s in present]:
        order = "、".join(_ZH_NUMBER[s] for s in present)
        yield Hit(
            Location(),
            {
                "problem_zh": f"各部分顺序为{order}，与模板顺序不一致",
                "problem_en": f"sections appear in the order {', '.join(present)}",
            },
        )
    for s, numbered in zip(SECTIONS, _NUMBERED, strict=True):
        read = r.r.sections.get(s.id)
        if read is None or read.heading.startswith(numbered):  # the usual case, no NFKC
            continue
        if not match_form(read.heading).startswith(numbered):
            yield Hit(
                Location(section=s.id, line=read.line),
                {
                    "problem_zh": f"标题“{read.heading}”的编号应为“{s.number}、”",
                    "problem_en": f"heading “{read.heading}” should be numbered “{s.number}、”",
                },
                expected=f"{s.number}、{s.heading}",
                actual=read.heading,
            )


def section_empty(r: Report) -> Iterator[Hit]:
    tables = {"proactive": "t2", "requests": "t3", "appeals": "t4"}
    for s in SECTIONS:
        read = r.r.sections.get(s.id)
        if read is None or (read.text and not read.text.isspace()):  # (strip would copy the text)
            continue
        if s.id in tables and r.cells(tables[s.id]) is not None:
            continue
        yield Hit(Location(section=s.id, line=read.line), {"heading": read.heading})


# --- TPL -------------------------------------------------------------------------------------


def table_missing(r: Report) -> Iterator[Hit]:
    for table in ("t2", "t3", "t4"):
        if r.cells(table) is None:
            yield Hit(
                Location(
                    section={"t2": "proactive", "t3": "requests", "t4": "appeals"}[table],
                    table=table,
                    table_label=TABLE_LABELS[table],
                ),
                {"table": TABLE_LABELS[table], "table_en": TABLE_EN[table]},
            )


def version(r: Report) -> Iterator[Hit]:
    year = r.r.year or r.ctx.year
    if year is None:
        return
    want = template_for_year(year)
    for table in ("t2", "t3"):
        have = getattr(r.r.table_templates, table)
        if have is not None and have != want:
            loc = r.where(table)
            yield Hit(
                loc,
                {
                    "table": TABLE_LABELS[table],
                    "table_en": TABLE_EN[table],
                    "year": year,
                    "have": _TEMPLATE_NAMES[have],
                    "want": _TEMPLATE_NAMES[want],
                },
                expected=want,
                actual=have,
            )


_ROW_IDS = {  # (template, table): the ids of its rows
    (tid, t): frozenset(row.id for row in tpl.table(t).rows)
    for tid, tpl in TEMPLATES.items()
    for t in ("t2", "t3", "t4")
}


def row_missing(r: Report) -> Iterator[Hit]:
    if r.r.scanned_pages:  # on a scan, a row not found is one the reading did not make out: DOC-SCAN-UNCERTAIN
        return
    yield from _missing_rows(r)


def _missing_rows(r: Report) -> Iterator[Hit]:
    for table in ("t2", "t3", "t4"):
        cells = r.cells(table)
        if cells is None or cells.keys() >= _ROW_IDS[r.template_of(table), table]:  # every row there (usual)
            continue
        for row in r.spec(table).rows:
            if row.id not in cells:
                loc = r.where(table, row.id)
                yield Hit(loc, {"table": TABLE_LABELS[table], "row": loc.row_label, "table_en": TABLE_EN[table]})


def _order(r: Report):  # type: ignore[no-untyped-def]
    """Table order for cells gathered from several lists: table, then row and column as read."""
    rank = {}
    for table in ("t2", "t3", "t4"):
        for i, (row_id, row) in enumerate((r.cells(table) or {}).items()):
            for j, col in enumerate(row):
                rank[(table, row_id, col)] = (table, i, j)
    return lambda ref: rank[ref[:3]]


def _cell_params(r: Report, table: str, row: str, col: str, cell: Cell) -> tuple[Location, dict[str, object]]:
    loc = r.where(table, row, col, cell)
    return loc, {
        "table": TABLE_LABELS[table],
        "row": loc.row_label,
        "column": loc.column_label,
        "raw": cell["raw"] or "",
        "table_en": TABLE_EN[table],
        "row_id": row,
        "col_id": col,
    }


def cell_blank(r: Report) -> Iterator[Hit]:
    for table, row, col, cell in r.blank:
        loc, params = _cell_params(r, table, row, col, cell)
        yield Hit(loc, params, expected=0, actual=cell["raw"] or "")


def cell_missing(r: Report) -> Iterator[Hit]:
    yield from _uncertain_rows(r, run_together=False)


def cell_run(r: Report) -> Iterator[Hit]:
    """Rows whose figures ran together (crawled text) and could not be split: not the office's fault."""
    yield from _uncertain_rows(r, run_together=True)


def _uncertain_rows(r: Report, run_together: bool) -> Iterator[Hit]:
    for table in ("t2", "t3", "t4"):
        cells = r.cells(table)
        if cells is None:
            continue
        for row_id, read in getattr(r.r.rows, table).items():
            if not read["uncertain"] or read.get("run_together", False) != run_together:
                continue
            loc = r.where(table, row_id)
            found = [c["raw"] or "" for c in read["unplaced"]]
            n = len(r.spec(table).row(row_id).columns) if row_id in {x.id for x in r.spec(table).rows} else 0
            yield Hit(
                loc,
                {
                    "table": TABLE_LABELS[table],
                    "row": loc.row_label,
                    "table_en": TABLE_EN[table],
                    "row_id": row_id,
                    "count": len(found),
                    "columns": n,
                    "found": (" " if not run_together else "").join(found) or "（无）",
                },
                expected=n,
                actual=len(found),
            )


def cell_uncertain(r: Report) -> Iterator[Hit]:
    """Cells of a scan that OCR could not read with confidence, and rows it could not find: each
    named, none judged."""
    for table, row, col, cell in r.uncertain:
        loc, params = _cell_params(r, table, row, col, cell)
        params["what_zh"] = (
            f"“{loc.column_label}”列识别为“{cell['raw'] or ''}”（可信度{cell.get('confidence', 0):.0%}）"
        )
        params["what_en"] = f"{col} reads “{cell['raw'] or ''}” at {cell.get('confidence', 0):.0%} confidence"
        yield Hit(loc, params, actual=cell["raw"] or "")
    if r.r.scanned_pages:
        for hit in _missing_rows(r):
            hit.params.update(what_zh="未能识别", what_en="not found by OCR", row_id=hit.location.row)
            yield hit


def scan_uncertain(r: Report) -> Iterator[Hit]:
    """A scan is accepted only when every cell was read with confidence (and every row and section
    heading found)."""
    if not r.r.scanned_pages:
        return
    count = len(r.uncertain) + sum(1 for _ in _missing_rows(r)) + sum(1 for _ in _missing_sections(r))
    if count:
        yield Hit(Location(), {"count": count}, actual=count)


def cell_invalid(r: Report) -> Iterator[Hit]:
    cells = r.unread + r.attention
    if r.unread and r.attention:
        cells.sort(key=_order(r))
    for table, row, col, cell in cells:
        kind = r.kind(table, col)
        value = cell["value"]
        bad = cell_state(cell) == "unread" or (kind is Kind.COUNT and isinstance(value, int) and value < 0)
        if bad:
            loc, params = _cell_params(r, table, row, col, cell)
            params["need_zh"] = {"count": "非负整数", "signed": "整数", "amount": "金额（万元）"}[kind.value]
            params["need_en"] = {
                "count": "a whole number ≥ 0",
                "signed": "a whole number",
                "amount": "an amount in 万元",
            }[kind.value]
            yield Hit(loc, params, actual=cell["raw"] or "")


_DIGITS = re.compile(r"[+-]?\d+(?:\.\d+)?")


# counts past these are no real office's (the largest provinces' yearly figures stay well below)
PLAUSIBLE_T2 = 10_000_000
PLAUSIBLE_T34 = 1_000_000


def cell_suspect(r: Report) -> Iterator[Hit]:
    for table, row, col, cell in r.attention:
        value, raw = cell["value"], cell["raw"]
        if r.kind(table, col) is Kind.AMOUNT or value is None or raw is None:
            continue
        written = "".join(match_form(raw).split()).replace(",", "")
        huge = isinstance(value, int) and abs(value) >= (PLAUSIBLE_T2 if table == "t2" else PLAUSIBLE_T34)
        if written == str(value) and not huge:
            continue
        loc, params = _cell_params(r, table, row, col, cell)
        if huge:
            params["why_zh"], params["why_en"] = "数值远超实际可能", "far past any office's real figures"
        elif _DIGITS.fullmatch(written):
            params["why_zh"], params["why_en"] = "有多余的前导零", "leading zeros"
        else:
            params["why_zh"], params["why_en"] = "含有多余字符", "stray characters"
        yield Hit(loc, params, expected=value, actual=raw)


def unit(r: Report) -> Iterator[Hit]:
    for table, row, col, cell in r.attention:
        value, written_unit = cell["value"], cell.get("unit")
        if r.kind(table, col) is not Kind.AMOUNT or value is None:
            continue
        problems = []
        if written_unit == "元":
            problems.append(("金额以“元”为单位，应以“万元”为单位填写", "the amount is in 元 instead of 万元"))
        elif written_unit not in (None, "万元", "万"):
            problems.append((f"金额带有单位“{written_unit}”", f"the amount carries the unit {written_unit}"))
        exponent = value.as_tuple().exponent if not isinstance(value, int) else 0
        if isinstance(exponent, int) and exponent < -4:
            problems.append(("金额超过4位小数", "the amount has more than 4 decimals"))
        for zh, en in problems:
            loc, params = _cell_params(r, table, row, col, cell)
            params["why_zh"], params["why_en"] = zh, en
            yield Hit(loc, params, actual=cell["raw"])
