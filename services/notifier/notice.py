"""Rendering the notice an office receives: pure, from a verdict, its report and the office.

Chinese, formal register. The subject and the salutation come from the office registry and the
submission only: text taken from the document never reaches a mail header. HTML is autoescaped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from contracts.notice import Notice, SubmissionRef
from contracts.report import ParsedReport
from contracts.template import TEMPLATES, template_for_year
from contracts.verdict import Finding, Number, Office, Verdict
from services.validator.model import fmt

_ENV = Environment(
    loader=PackageLoader("services.notifier", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ZH_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class Item:
    """One finding as the office reads it."""

    number: int
    rule: str
    where: str
    message: str
    expected: str | None
    actual: str | None

    @property
    def values(self) -> str:
        """“应为…；报告中为…” where one cell's value is at stake (sums name both sides instead)."""
        parts = []
        if self.expected is not None:
            parts.append(f"应为：{self.expected}")
        if self.actual is not None:
            parts.append(f"报告中为：{self.actual}")
        return "；".join(parts)


_SECTIONS_ZH = {
    "overview": "一、总体情况",
    "proactive": "二、主动公开政府信息情况",
    "requests": "三、收到和处理政府信息公开申请情况",
    "appeals": "四、政府信息公开行政复议、行政诉讼情况",
    "problems": "五、存在的主要问题及改进情况",
    "other": "六、其他需要报告的事项",
}
_DOC_PLACES = {
    "DOC-TITLE": "报告标题",
    "DOC-OFFICE-UNKNOWN": "报告标题及落款",
    "DOC-OFFICE-MISMATCH": "报告标题及落款",
    "DOC-YEAR-UNKNOWN": "报告标题",
    "DOC-YEAR-MISMATCH": "报告标题",
    "DOC-LATE": "落款日期",
    "DOC-UNREADABLE": "上传文件",
}
_TABLE_SECTION = {"t2": "proactive", "t3": "requests", "t4": "appeals"}


def _where(f: Finding) -> str:
    loc = f.location
    if loc.section and loc.table and _TABLE_SECTION[loc.table] != loc.section:  # text about a table
        return _SECTIONS_ZH[loc.section] + (f"（原文第{loc.line}行）" if loc.line else "")
    parts = []
    if loc.table_label:
        parts.append(loc.table_label)
    elif loc.section:
        parts.append(_SECTIONS_ZH[loc.section])
    if loc.row_label:
        parts.append(f"“{loc.row_label}”行")
    if loc.column_label:
        parts.append(f"“{loc.column_label}”列")
    if loc.cell is not None:
        parts.append(f"（第{loc.cell['table']}个表格第{loc.cell['row']}行第{loc.cell['col']}列）")
    elif loc.line:
        parts.append(f"（原文第{loc.line}行）")
    if not (loc.table_label or loc.section):
        parts.insert(0, _DOC_PLACES.get(f.rule, "全文"))
    return " ".join(parts)


def _value(v: Number | str | None) -> str | None:
    return v if v is None or isinstance(v, str) else fmt(v)


def _items(findings: tuple[Finding, ...]) -> list[Item]:
    return [
        Item(
            k,
            f.rule,
            _where(f),
            f.message_zh,
            None if f.terms else _value(f.expected),
            None if f.terms else _value(f.actual),
        )
        for k, f in enumerate(findings, 1)
    ]


def _date_zh(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def render_notice(
    verdict: Verdict,
    report: ParsedReport | None,
    office: Office | None,
    submission: SubmissionRef,
    today: dt.date,
) -> Notice:
    """The notice for one judged submission (a rejection, or an acceptance with its warnings)."""
    year = submission.declared_year or (report.year if report else None)
    office_name = office.name if office else "报送单位"
    report_name = f"{office.name if office else ''}{year or ''}{'年' if year else ''}政府信息公开工作年度报告"
    rejected = verdict.status == "rejected"
    subject = f"关于{'退回' if rejected else '受理'}《{report_name}》的通知"
    template = template_for_year(year) if year else None
    values = {
        "office_name": office_name,
        "report_name": report_name,
        "title": report.title if report and report.title else None,
        "submission": submission,
        "submitted_on": _date_zh(submission.submitted_at.date()) if submission.submitted_at else None,
        "errors": _items(verdict.errors),
        "warnings": _items(verdict.warnings),
        "template_name": TEMPLATES[template].name if template else "国办公开办函〔2021〕30号",
        "today": _date_zh(today),
        "rejected": rejected,
    }
    return Notice(
        kind="rejection" if rejected else "acceptance",
        submission=submission,
        subject=subject,
        text=_ENV.get_template("notice.txt").render(values),
        html=_ENV.get_template("notice.html").render(values),
    )
