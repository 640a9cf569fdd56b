"""Sections, title, office, year and signature date: the frame of a report."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from contracts.report import SectionRead, Sources, YearSources
from contracts.template import SECTIONS, SectionId, match_form
from services.parser.document import Document, Line
from services.parser.memo import Memo

_HEADING_NUMBER = re.compile(
    r"^(?P<n>[一二三四五六七八九十]{1,2}[、.,]?|[(][一二三四五六七八九十]{1,2}[)]|\d{1,2}[、.,](?!\d)|[(]\d{1,2}[)]|第[一二三四五六]部分)?"
)
_TRAILING = re.compile(r"[。.:;,!]+$")
_YEAR = re.compile(r"((?:19|20)\d{2})年")
_YEAR_COMPAT = "\uf98e"  # the one character besides 年 that NFKC makes 年 (a CJK compatibility ideograph)
_YEAR_FULL = re.compile(r"((?:19|20)\d{2})年度")
_PERIOD = re.compile(r"((?:19|20)\d{2})年1月1日(?:起)?(?:至|到|-|—|~)((?:19|20)\d{2}年)?12月31日")
_SUBMITTER = re.compile(r"(?:报送|发布|编制|填报)(?:单位[:]?|机构:|机关:)(.{2,40})")  # (a crawler's 发布机构: …)
_PREAMBLE = re.compile(r"现(?:将|予|就|对)?公布(.{2,40}?)(?:19|20)\d{2}年")
_PREAMBLE_2 = re.compile(r"现将(.{2,30}?)(?:的)?(?:19|20\d{2}年度?)?(?:政务公开|政府信息公开|信息公开)")
# “本报告由××办公室根据…编制”, “…要求，由××管理委员会编制”: who compiled the report
_COMPILER = re.compile(
    r"本(?:年度)?报告由(.{2,30}?)(?:根据|依据|按照|依照|编制|汇总|负责)|由(.{2,30}?)(?:负责)?(?:汇总)?编制"
)
# “2024年，淮安市洪泽区人民政府坚持…”: the office as the subject of the report's opening sentence
_OPENING = re.compile(r"^(?:19|20)\d{2}年(?:度|以来)?,(.{2,30}?)(?:坚持|认真|深入|紧紧|始终|全面|持续|严格|高度|积极)")
_PLACE_END = re.compile(r"(?:区|县|市|旗|州)$")
_TITLE_SUFFIX = re.compile(
    r"(?:关于)?(?:的)?(?:政府信息公开|政务公开|信息公开|政府信息)?(?:工作)?(?:年度)?(?:工作)?报告$"
)
_ORG_END = re.compile(
    r"(办事处|街道|政府|委员会|管委会|办公室|办公厅|局|厅|委|办|中心|乡|镇|院|署|所|站|队|处|会|公司|集团|部|行|校|馆|社|台)$"
)
_CN_DIGITS = {"〇": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DATE = re.compile(r"^((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日$")
_DATE_CN = re.compile(
    r"^([〇零O一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$"
)


@dataclass(slots=True)
class Heading:
    id: SectionId
    index: int  # position in the template
    line: Line
    pos: int  # position in the document's list of lines


def find_headings(doc: Document) -> list[Heading]:
    """The section headings, in document order; a heading repeated before the text is dropped."""
    found: dict[SectionId, Heading] = {}
    for pos in doc.lines_with("情况", "事项", "问题", "改进"):  # every heading holds one of these
        raw = doc.raws[pos]
        if len(raw) > 60 or doc.grids[pos] is not None:
            continue
        index = _SECTION_OF.get(raw, -1)
        if index == -1:
            index = _section_of(raw, doc.line(pos))
        if index is None:
            continue
        section = SECTIONS[index]
        earlier = found.get(section.id)
        later_seen = earlier is not None and any(h.index > index and h.pos > earlier.pos for h in found.values())
        if not later_seen:
            found[section.id] = Heading(section.id, index, doc.line(pos), pos)
    return sorted(found.values(), key=lambda h: h.pos)


_SECTION_OF: Memo[int | None] = Memo()


def _section_of(raw: str, line: Line) -> int | None:
    """The section a short line is the heading of (its place in ``SECTIONS``), or None.
    Remembered: headings and the lines that look like them recur from report to report."""
    index = None
    if len(line.text) <= 40:
        form = line.form.lstrip("#")
        m = _HEADING_NUMBER.match(form)
        rest = _TRAILING.sub("", form[m.end() :] if m else form)
        index = next((k for k, section in enumerate(SECTIONS) if section.pattern.fullmatch(rest)), None)
    return _SECTION_OF.keep(raw, index)


def sections(doc: Document, headings: list[Heading]) -> dict[SectionId, SectionRead]:
    out: dict[SectionId, SectionRead] = {}
    for k, h in enumerate(headings):
        end = headings[k + 1].pos if k + 1 < len(headings) else len(doc)
        text = doc.prose(h.pos + 1, end, h.line.no)
        out[h.id] = SectionRead(heading=h.line.raw.strip().lstrip("#").strip(), text=text, line=h.line.no)
    return out


def find_title(doc: Document, stop: int) -> tuple[str | None, int | None]:
    """The title as written: a short line before the first section that ends in 报告, with the
    lines above it that belong to it: a title broken over lines by the page's width
    (``××街道办事处2019年政`` / ``府信息公开工作年度报告``) or written on two (the office, then
    ``2024年政府信息公开工作年度报告``) is joined, line by line, while it still lacks its year or a
    whole office's name and the line above reads as part of a title."""
    prose = [doc.line(pos) for pos in range(min(stop, 40, len(doc))) if doc.grids[pos] is None][:15]
    for k, ln in enumerate(prose):
        if len(ln.raw) > 120 or ("报告" not in ln.raw and "報告" not in ln.raw):  # cheap look before NFKC
            continue
        form = _TITLE_LABEL.sub("", ln.form.lstrip("#"))
        if "报告" not in form or len(form) > 60 or "。" in form or form.startswith(_NOT_TITLE):
            continue
        if ":" in form or _BREADCRUMB.search(form):  # a page's breadcrumbs or labels: 当前位置:首页>…>年度报告
            continue
        if not _TITLE_END.search(form):  # (a line of a wrapped paragraph may hold 报告 and 年 too)
            continue
        title, first = _clean_title(ln.raw), k
        while first > 0 and k - first < 2 and not _whole(title) and _title_part(prose[first - 1].form):
            first -= 1
            title = _clean_title(prose[first].raw) + title
        if first < k and not _whole(title):  # joining made it no whole title: the line alone
            title, first = _clean_title(ln.raw), k
        return title, prose[first].no
    return None, None


def _whole(title: str) -> bool:
    """A title naming its year and an office's whole name (not the tail of one: 府, 息公开)."""
    office = office_from_title(title)
    return _YEAR.search(match_form(title)) is not None and office is not None and _named_office(office) is not None


def _title_part(form: str) -> bool:
    """A short line that may be the first part of a title: no sentence, no label, no date."""
    return 2 <= len(form) <= 40 and not re.search(r"[。,;:!?《》]", form) and parse_date(form) is None


_BREADCRUMB = re.compile(r"首页|当前位置|您的位置|>>|»")
_NOT_TITLE = ("根据", "按照", "现", "上一篇", "下一篇", "相关", "附件")
_TITLE_END = re.compile(r"报告(?:[(（][^()（）]{0,10}[)）])?$")  # “…年度报告”, “…年度报告（全文）”
_TITLE_LABEL = re.compile(r"^\s*(?:标题|题目|文章标题|名称)\s*[:：]\s*")  # a crawler's “标题: …”


def _clean_title(raw: str) -> str:
    return _TITLE_LABEL.sub("", raw.strip().lstrip("#").strip())


def office_from_title(title: str) -> str | None:
    hit = _OFFICES.get(title, "")
    if hit != "":
        return hit
    form = match_form(title)
    form = re.sub(r"(?:19|20)\d{2}年度?", "", form)
    form = _TITLE_SUFFIX.sub("", form)
    return _OFFICES.keep(title, form or None)


_OFFICES: Memo[str | None] = Memo()  # titles recur from an office's report to the next


def find_sources(doc: Document, title: str | None, first_heading: int, signature: str | None) -> Sources:
    submitter = preamble = text = None
    for pos in range(min(max(first_heading, 1) + 3, len(doc))):
        raw = doc.raws[pos]
        if doc.grids[pos] is not None:
            continue
        if text is None and "年" in raw[:8] and (m := _OPENING.match(doc.line(pos).form)):
            text = _named_office(m.group(1))
        if text is None and "由" in raw and (m := _COMPILER.search(doc.line(pos).form)):
            text = _named_office(m.group(1) or m.group(2))
        if not ("单位" in raw or "机构" in raw or "机关" in raw or "公布" in raw or "现将" in raw):
            continue
        form = doc.line(pos).form
        if submitter is None and (m := _SUBMITTER.search(form)):
            submitter = _plausible(_TRAILING.sub("", m.group(1)) or None)
        if preamble is None and (m := _PREAMBLE.search(form) or _PREAMBLE_2.search(form)):
            preamble = m.group(1)
    return Sources(
        title=_plausible(office_from_title(title)) if title else None,
        submitter=submitter,
        preamble=preamble,
        signature=signature,
        text=text,
    )


def _plausible(office: str | None) -> str | None:
    """What a title names before its year and 报告, when it can be a name at all (not a sentence's
    words: a line of a paragraph wrapped by the page can end in 报告 too)."""
    if office is None or not 2 <= len(office) <= 40 or re.search(r"[。,;:!?《》〈〉]", office):
        return None
    return None if office.startswith(("关于", "根据", "按照", "依据", "本报告")) else office


def _named_office(found: str) -> str | None:
    """What a sentence names as the office, when it reads as an office's or a place's name."""
    if len(found) < 4 or re.search(r"[。,;:、()]", found):
        return None
    return found if _ORG_END.search(found) or _PLACE_END.search(found) else None


def signature(doc: Document) -> tuple[str | None, dt.date | None]:
    """The office and date under the text: the last date line and the short line above it."""
    # the last twelve short text lines of the last forty, read from the end (the date is usually
    # last): folded only as far as needed
    last = range(len(doc) - 1, max(len(doc) - 40, 0) - 1, -1)
    tail = (
        ln for ln in (doc.line(pos) for pos in last if doc.grids[pos] is None and len(doc.raws[pos]) < 80) if ln.text
    )
    line = next(tail, None)
    for k in range(12):
        if line is None:
            break
        above = next(tail, None) if k < 11 else None  # the line above, if it is one of the twelve
        date = parse_date(line.form)
        if date is not None:
            office = None
            if above is not None:
                form = above.form
                if 2 <= len(form) <= 40 and not re.search(r"[。,;:]", form) and _ORG_END.search(form):
                    office = form
            return office, date
        line = above
    return None, None


def parse_date(form: str) -> dt.date | None:
    m = _DATE.match(form)
    try:
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _DATE_CN.match(form)
        if m:
            year = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
            return dt.date(year, _cn_small(m.group(2)), _cn_small(m.group(3)))
    except ValueError:
        return None
    return None


def _cn_small(text: str) -> int:
    """一 … 三十一: the numbers of months and days."""
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[text]


def find_years(doc: Document, title: str | None, first_heading: int) -> YearSources:
    title_year = None
    if title and (m := _YEAR.search(match_form(title))):
        title_year = int(m.group(1))
    text_year = period_year = None
    for pos in range(min(max(first_heading, 1) + 3, len(doc))):
        raw = doc.raws[pos]
        if "年" not in raw and _YEAR_COMPAT not in raw:  # either pattern needs a 年
            continue
        form = doc.line(pos).form
        if period_year is None and (m := _PERIOD.search(form)):
            period_year = int(m.group(1))
        if text_year is None and (m := _YEAR_FULL.search(form)):
            text_year = int(m.group(1))
    if period_year is None:
        for pos in doc.lines_with("31日", "３１日"):
            if m := _PERIOD.search(doc.line(pos).form):
                period_year = int(m.group(1))
                break
    head_lines = range(min(max(first_heading, 1) + 3, len(doc)))
    if period_year is None and any("统计" in doc.raws[p] or "期限" in doc.raws[p] for p in head_lines):
        # a statement wrapped over lines by the page (PDF): the lines read as one
        head = "".join(doc.line(p).form for p in head_lines if doc.grids[p] is None)
        if m := _PERIOD.search(head):
            period_year = int(m.group(1))
    return YearSources(title=title_year, text=text_year, period=period_year)
