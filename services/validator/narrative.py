"""What the text says about the tables: numbers of applications, reviews and lawsuits.

Statements are found in the report's prose (not in table lines), in Arabic or Chinese numerals
(“收到申请3件”, “收到申请三件”), or as negations (“未收到…申请”, “尚无…申请”, “申请…：无”).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from contracts.template import match_form
from services.validator.model import Hit, Report, fmt, number

_CN = "零〇一二两三四五六七八九十百千"
_N = rf"(\d+|[{_CN}]+)"
_UNIT = r"(?:件|个|份|条|宗|起|次|人次)"
_CLAUSE = r"[^。;!?]"

T3_COUNT = re.compile(rf"(?:收到|受理|接到|新收|接收){_CLAUSE}{{0,24}}?申请{_CLAUSE}{{0,6}}?{_N}{_UNIT}")
T3_NONE = re.compile(
    rf"(?:未|没有)(?:收到|受理|接到|发生){_CLAUSE}{{0,16}}?申请"
    rf"|(?:尚无|暂无|无)(?:相关)?(?:政府信息公开|信息公开|依申请公开)?(?:的)?申请"
    rf"|申请(?:情况)?:无(?:$|[。;,])"
)
T4_NONE = re.compile(
    rf"(?:未|没有|无|尚无|暂无)(?:发生|出现|涉及|收到)?{_CLAUSE}{{0,20}}?行政复议(?:[、,和及与或]|或者){_CLAUSE}{{0,4}}?行政诉讼"
    rf"|行政复议[、,和及与]?行政诉讼(?:情况)?:无(?:$|[。;,])"
)
T4_COUNT = {
    "review": re.compile(rf"行政复议(?:案件|申请)?{_CLAUSE}{{0,4}}?{_N}{_UNIT}"),
    "litigation": re.compile(rf"行政诉讼(?:案件)?{_CLAUSE}{{0,4}}?{_N}{_UNIT}"),
}


def to_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    import cn2an  # type: ignore[import-untyped]  # only for Chinese numerals, which are rare (and cn2an takes 0.1 s to import)

    try:
        return int(cn2an.cn2an(text.replace("两", "二"), "normal"))
    except (ValueError, KeyError):
        return None


_TOPIC = re.compile("申请|复议|诉讼")
# Three numbers: a table row, not a statement. Possessive (each run taken whole, never given
# back): the plain pattern backtracks over every split of a long line with one number (18 µs
# for a paragraph of 300 characters, the commonest line of HTML and .docx prose).
_TABLE_ROW = re.compile(r"\d++\D++\d++\D++\d")
# Every statement pattern above holds a unit or a negation: a line with none of these characters
# (nor one that NFKC turns into one of them: ⽆ → 无 …) states nothing.
STATING = "件个份条宗起次未没无"
_MAY_STATE = re.compile(f"[{STATING}\u2f46\u32aa\U0002f8ef\U0002f9d7]")


def _prose(r: Report) -> list[tuple[str, str, int | None]]:
    """(section id, a line in matching form, line number) for the lines of text that may state
    numbers of applications, reviews or lawsuits; worked out once per report."""
    if r.prose is None:
        found: list[tuple[str, str, int | None]] = []
        for section_id, read in r.r.sections.items():
            text, pos = read.text, 0
            if "申请" not in text and "复议" not in text and "诉讼" not in text:  # str's search: far quicker than re's
                continue
            while (m := _TOPIC.search(text, pos)) is not None:  # the next line naming a topic
                start = text.rfind("\n", pos, m.start()) + 1 or pos
                end = text.find("\n", m.end())
                pos = end = len(text) if end < 0 else end
                if _MAY_STATE.search(text, start, end) and not _TABLE_ROW.search(text, start, end):
                    no = read.line + 1 + text.count("\n", 0, start) if read.line else None
                    found.append((section_id, match_form(text[start:end]), no))
        r.prose = found
        return found
    return r.prose


_STOPS = re.compile(r"[。;,:!?]")


def _sentence(form: str, m: re.Match[str]) -> str:
    """The clause that holds the statement, as quoted to the office."""
    start = max((s.end() for s in _STOPS.finditer(form, 0, m.start())), default=0)
    stop = _STOPS.search(form, m.end())
    return form[start : stop.start() if stop else len(form)][:80]


def t3_statement(r: Report) -> Iterator[Hit]:
    cells = r.cells("t3")
    table = number(cells.get("new_received", {}).get("total")) if cells else None
    if table is None:
        return
    for section, form, line in _prose(r):
        said = None
        m = T3_COUNT.search(form)
        if m is not None and "结转" not in form[max(0, m.start() - 6) : m.end()]:
            said = to_int(m.group(1))
        elif (m := T3_NONE.search(form)) is not None:
            said = 0
        if said is None or m is None:
            continue
        if said != table:
            yield Hit(
                r.where("t3", "new_received", "total", cells["new_received"]["total"]).model_copy(  # type: ignore[index]
                    update={"section": section, "line": line}
                ),
                {"text": _sentence(form, m), "said": said, "table": fmt(table)},
                expected=table,
                actual=said,
            )
        return  # the first statement counts


def t4_statement(r: Report) -> Iterator[Hit]:
    cells = r.cells("t4")
    if cells is None:
        return
    review = number(cells.get("review", {}).get("total"))
    direct = number(cells.get("litigation_direct", {}).get("total"))
    after = number(cells.get("litigation_after_review", {}).get("total"))
    table = {"review": review, "litigation": None if direct is None or after is None else direct + after}
    labels = {"review": ("行政复议", "administrative reviews"), "litigation": ("行政诉讼", "lawsuits")}
    for section, form, line in _prose(r):
        said: dict[str, int | None] = {}
        m = T4_NONE.search(form)
        if m is not None:
            said = {"review": 0, "litigation": 0}
        else:
            for key, pattern in T4_COUNT.items():
                if (m2 := pattern.search(form)) is not None:
                    said[key] = to_int(m2.group(1))
                    m = m2
        if not said or m is None:
            continue
        for key, value in said.items():
            if value is not None and table[key] is not None and value != table[key]:
                row = "review" if key == "review" else "litigation_direct"
                loc = r.where("t4", row, "total", cells.get(row, {}).get("total")).model_copy(
                    update={"section": section, "line": line}
                )
                yield Hit(
                    loc,
                    {
                        "text": _sentence(form, m),
                        "what_zh": labels[key][0],
                        "what_en": labels[key][1],
                        "said": value,
                        "table": fmt(table[key]),
                    },
                    expected=table[key],
                    actual=value,
                )
        return
