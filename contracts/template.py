"""The two national templates as data: sections, tables, rows, columns and their labels.

One place for everything the parser matches, the validator checks and the notices show
(../shared/spec/template.md). Identifiers are English; Chinese labels are data. ``keys`` are
the label phrases that identify a row or column in a document, already in matching form
(see ``match_form``): long keys may stand inside a longer label, short ones (``exact``) must be
the whole label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

TemplateId = Literal["2019", "2021"]
TableId = Literal["t2", "t3", "t4"]
SectionId = Literal["overview", "proactive", "requests", "appeals", "problems", "other"]


class Kind(StrEnum):
    """What a column holds."""

    COUNT = "count"  # a non-negative integer
    SIGNED = "signed"  # an integer that may be negative (本年增/减)
    AMOUNT = "amount"  # 万元, an exact decimal


@dataclass(frozen=True, slots=True)
class Column:
    id: str
    label: str
    kind: Kind = Kind.COUNT
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    label: str
    columns: tuple[str, ...]
    group: str | None = None  # the label of the group heading the row stands under
    keys: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()  # short labels that must match a whole cell


@dataclass(frozen=True, slots=True)
class Table:
    id: TableId
    label: str
    rows: tuple[Row, ...]
    columns: dict[str, Column] = field(default_factory=dict)

    def row(self, row_id: str) -> Row:
        for r in self.rows:
            if r.id == row_id:
                return r
        raise KeyError(row_id)


@dataclass(frozen=True, slots=True)
class Template:
    id: TemplateId
    name: str
    years: str
    t2: Table
    t3: Table
    t4: Table

    def table(self, table_id: str) -> Table:
        if table_id not in ("t2", "t3", "t4"):
            raise KeyError(table_id)
        return getattr(self, table_id)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Section:
    id: SectionId
    number: str
    heading: str
    pattern: re.Pattern[str]  # matches the heading text in matching form, numbering removed


# Applied after NFKC: quotes go, typing variants become the template's characters.
MATCH_TABLE = str.maketrans({**dict.fromkeys("“”\"'‘’「」『』《》"), "釆": "采"})


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, exactly, about ten times faster on Chinese text.

    CPython composes (the C of NFKC) by scanning a table for every character, ~100 ns each, so
    a line of Chinese prose costs ~8 µs. NFKC is NFC of NFKD, and NFKD of Chinese text is almost
    always already composed, which a quick check tells: then NFKD alone is the answer.
    (tests/unit/test_contracts.py compares the two on every code point and on random text.)
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    if unicodedata.is_normalized("NFC", decomposed):
        return decomposed
    return unicodedata.normalize("NFC", decomposed)


_MATCH_CHARS = re.compile("[" + re.escape("".join(map(chr, MATCH_TABLE))) + "]")


_MATCH_PAIRS = tuple((chr(k), v or "") for k, v in MATCH_TABLE.items())


def unquote(text: str) -> str:
    """``text.translate(MATCH_TABLE)``, character by character with ``str.replace``: translating
    Chinese text costs ~50 ns a character (29 µs for a paragraph with a 《》 in it), replacing a
    character a few ns. Most text holds none of them, which is looked for first."""
    if not _MATCH_CHARS.search(text):
        return text
    for char, by in _MATCH_PAIRS:  # each replaced by one or none: no order between them
        if char in text:
            text = text.replace(char, by)
    return text


def match_form(text: str) -> str:
    """Fold a label into the form keys are written in: NFKC, no spaces, no quotes, 釆→采."""
    return unquote("".join(nfkc(text).split()))


SECTIONS: tuple[Section, ...] = (
    Section("overview", "一", "总体情况", re.compile(r"总体情况")),
    Section("proactive", "二", "主动公开政府信息情况", re.compile(r"主动公开政府信息(的)?情况")),
    Section(
        "requests",
        "三",
        "收到和处理政府信息公开申请情况",
        re.compile(r"收到和处理政府信息公开申请(的)?情况"),
    ),
    Section(
        "appeals",
        "四",
        "政府信息公开行政复议、行政诉讼情况",
        re.compile(r"(因)?政府信息公开(工作)?(被申请)?行政复议[、,]?(提起)?行政诉讼(的)?情况"),
    ),
    Section(
        "problems",
        "五",
        "存在的主要问题及改进情况",
        re.compile(r"存在(的)?(主要)?问题(及|和|与)?(其)?改进(情况|措施)?"),
    ),
    Section("other", "六", "其他需要报告的事项", re.compile(r"其他需要报告的(事项|情况)")),
)

# --- table 二 ------------------------------------------------------------------------------

_T2_COLUMNS_2019 = {
    "made": Column("made", "本年新制作数量", keys=("本年新制作数量",)),
    "published": Column("published", "本年新公开数量", keys=("本年新公开数量",)),
    "total_public": Column("total_public", "对外公开总数量", keys=("对外公开总数量",)),
    "prev_items": Column("prev_items", "上一年项目数量", keys=("上一年项目数量",)),
    "change": Column("change", "本年增/减", Kind.SIGNED, keys=("本年增/减", "本年增减")),
    "decisions": Column("decisions", "处理决定数量", keys=("处理决定数量",)),
    "items": Column("items", "采购项目数量", keys=("采购项目数量",)),
    "amount": Column("amount", "采购总金额（万元）", Kind.AMOUNT, keys=("采购总金额",)),
}
_T2_COLUMNS_2021 = {
    "issued": Column("issued", "本年制发件数", keys=("本年制发件数",)),
    "repealed": Column("repealed", "本年废止件数", keys=("本年废止件数",)),
    "in_force": Column("in_force", "现行有效件数", keys=("现行有效件数",)),
    "decisions": Column("decisions", "本年处理决定数量", keys=("本年处理决定数量",)),
    "amount": Column("amount", "本年收费金额（单位：万元）", Kind.AMOUNT, keys=("本年收费金额",)),
}

_ART = "第二十条第（{}）项"
_T2_2019 = Table(
    "t2",
    "主动公开政府信息情况",
    (
        Row("rules", "规章", ("made", "published", "total_public"), _ART.format("一"), exact=("规章",)),
        Row(
            "normative_docs",
            "规范性文件",
            ("made", "published", "total_public"),
            _ART.format("一"),
            keys=("规范性文件",),
        ),
        Row("licensing", "行政许可", ("prev_items", "change", "decisions"), _ART.format("五"), keys=("行政许可",)),
        Row(
            "other_services",
            "其他对外管理服务事项",
            ("prev_items", "change", "decisions"),
            _ART.format("五"),
            keys=("其他对外管理服务事项", "对外管理服务事项"),
        ),
        Row("punishment", "行政处罚", ("prev_items", "change", "decisions"), _ART.format("六"), keys=("行政处罚",)),
        Row("coercion", "行政强制", ("prev_items", "change", "decisions"), _ART.format("六"), keys=("行政强制",)),
        Row("fees", "行政事业性收费", ("prev_items", "change"), _ART.format("八"), keys=("行政事业性收费",)),
        Row("procurement", "政府集中采购", ("items", "amount"), _ART.format("九"), keys=("政府集中采购",)),
    ),
    _T2_COLUMNS_2019,
)
_T2_2021 = Table(
    "t2",
    "主动公开政府信息情况",
    (
        Row("rules", "规章", ("issued", "repealed", "in_force"), _ART.format("一"), exact=("规章",)),
        Row(
            "normative_docs",
            "行政规范性文件",
            ("issued", "repealed", "in_force"),
            _ART.format("一"),
            keys=("规范性文件",),
        ),
        Row("licensing", "行政许可", ("decisions",), _ART.format("五"), keys=("行政许可",)),
        Row("punishment", "行政处罚", ("decisions",), _ART.format("六"), keys=("行政处罚",)),
        Row("coercion", "行政强制", ("decisions",), _ART.format("六"), keys=("行政强制",)),
        Row("fees", "行政事业性收费", ("amount",), _ART.format("八"), keys=("行政事业性收费",)),
    ),
    _T2_COLUMNS_2021,
)

# --- table 三 ------------------------------------------------------------------------------

T3_COLUMNS = {
    "natural_person": Column("natural_person", "自然人"),
    "commercial": Column("commercial", "商业企业"),
    "research": Column("research", "科研机构"),
    "social_org": Column("social_org", "社会公益组织"),
    "legal_service": Column("legal_service", "法律服务机构"),
    "other_org": Column("other_org", "其他"),
    "total": Column("total", "总计"),
}
_C3 = tuple(T3_COLUMNS)
_RESULT = "三、本年度办理结果"


def _t3_rows(other_rows: tuple[Row, ...]) -> tuple[Row, ...]:
    def r(row_id: str, label: str, group: str | None, *keys: str, exact: tuple[str, ...] = ()) -> Row:
        return Row(row_id, label, _C3, group, keys=keys, exact=exact)

    deny, unav, notp = _RESULT + "（三）不予公开", _RESULT + "（四）无法提供", _RESULT + "（五）不予处理"
    return (
        r("new_received", "一、本年新收政府信息公开申请数量", None, "本年新收政府信息公开申请"),
        r("carried_over", "二、上年结转政府信息公开申请数量", None, "上年结转政府信息公开申请"),
        r("granted", "（一）予以公开", _RESULT, "予以公开"),
        r("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", _RESULT, "部分公开"),
        r("denied.state_secret", "1.属于国家秘密", deny, "属于国家秘密"),
        r(
            "denied.prohibited_by_law",
            "2.其他法律行政法规禁止公开",
            deny,
            "法律行政法规禁止公开",
            "其他法律法规禁止公开",
            "法律法规禁止公开",
        ),
        r("denied.three_safeties", "3.危及“三安全一稳定”", deny, "危及三安全一稳定"),
        r("denied.third_party", "4.保护第三方合法权益", deny, "保护第三方合法权益"),
        r("denied.internal_affairs", "5.属于三类内部事务信息", deny, "三类内部事务信息"),
        r("denied.process_info", "6.属于四类过程性信息", deny, "四类过程性信息"),
        r("denied.enforcement_file", "7.属于行政执法案卷", deny, "属于行政执法案卷"),
        r("denied.inquiry", "8.属于行政查询事项", deny, "属于行政查询事项"),
        r("unavailable.not_held", "1.本机关不掌握相关政府信息", unav, "本机关不掌握相关政府信息"),
        r("unavailable.needs_creation", "2.没有现成信息需要另行制作", unav, "没有现成信息需要另行制作"),
        r("unavailable.unclear", "3.补正后申请内容仍不明确", unav, "补正后申请内容仍不明确"),
        r("not_processed.complaint", "1.信访举报投诉类申请", notp, "信访举报投诉类申请"),
        r("not_processed.duplicate", "2.重复申请", notp, "重复申请"),
        r("not_processed.publication", "3.要求提供公开出版物", notp, "要求提供公开出版物"),
        r("not_processed.excessive", "4.无正当理由大量反复申请", notp, "无正当理由大量反复申请"),
        r(
            "not_processed.confirmation",
            "5.要求行政机关确认或重新出具已获取信息",
            notp,
            "要求行政机关确认或重新出具已获取信息",
            "确认或重新出具已获取信息",
        ),
        *other_rows,
        r("total", "（七）总计", _RESULT, exact=("总计", "合计")),
        r("carried_forward", "四、结转下年度继续办理", None, "结转下年度继续办理"),
    )


_OTHER = _RESULT + "（六）其他处理"
_T3_2019 = Table(
    "t3",
    "收到和处理政府信息公开申请情况",
    _t3_rows((Row("other", "（六）其他处理", _C3, _RESULT, keys=("其他处理",)),)),
    T3_COLUMNS,
)
_T3_2021 = Table(
    "t3",
    "收到和处理政府信息公开申请情况",
    _t3_rows(
        (
            Row(
                "other.no_correction",
                "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                _C3,
                _OTHER,
                keys=("无正当理由逾期不补正",),
            ),
            Row(
                "other.no_fee",
                "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
                _C3,
                _OTHER,
                keys=("逾期未按收费通知要求缴纳费用",),
            ),
            Row("other.other", "3.其他", _C3, _OTHER, exact=("其他",)),
        )
    ),
    T3_COLUMNS,
)

# --- table 四 ------------------------------------------------------------------------------

T4_COLUMNS = {
    "upheld": Column("upheld", "结果维持"),
    "corrected": Column("corrected", "结果纠正"),
    "other": Column("other", "其他结果"),
    "pending": Column("pending", "尚未审结"),
    "total": Column("total", "总计"),
}
_C4 = tuple(T4_COLUMNS)
_T4 = Table(
    "t4",
    "政府信息公开行政复议、行政诉讼情况",
    (
        Row("review", "行政复议", _C4, keys=("行政复议",)),
        Row("litigation_direct", "行政诉讼·未经复议直接起诉", _C4, "行政诉讼", keys=("未经复议直接起诉",)),
        Row("litigation_after_review", "行政诉讼·复议后起诉", _C4, "行政诉讼", keys=("复议后起诉",)),
    ),
    T4_COLUMNS,
)

TEMPLATES: dict[TemplateId, Template] = {
    "2019": Template("2019", "国办公开办函〔2019〕60号", "2019–2020", _T2_2019, _T3_2019, _T4),
    "2021": Template("2021", "国办公开办函〔2021〕30号", "2021 onward", _T2_2021, _T3_2021, _T4),
}

# Header phrases that tell the layout of table 二 apart (in matching form).
T2_MARKERS: dict[TemplateId, tuple[str, ...]] = {
    "2019": (
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "采购项目数量",
        "采购总金额",
        "政府集中采购",
        "其他对外管理服务事项",
    ),
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额"),
}

T3_RESULT_ROWS: dict[TemplateId, tuple[str, ...]] = {
    tid: tuple(r.id for r in t.t3.rows if r.id not in ("new_received", "carried_over", "total", "carried_forward"))
    for tid, t in TEMPLATES.items()
}


def template_for_year(year: int) -> TemplateId:
    """The template a report of ``year`` must follow."""
    return "2019" if year <= 2020 else "2021"
