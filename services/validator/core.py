"""The validator's pure core: a parsed report and its context in, a verdict out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from contracts.report import ParsedReport
from contracts.verdict import Finding, Location, Verdict
from services.parser.errors import Reason
from services.validator.model import Context, Hit, Report, Rule
from services.validator.rules import BY_ID, RULES

REASONS_ZH = {
    Reason.EMPTY: "文件为空",
    Reason.TOO_LARGE: "文件超过大小限制（16 MB）",
    Reason.BINARY: "文件内容不是文字（可能是图片或其他二进制文件）",
    Reason.UNDECODABLE: "无法识别文字编码（请使用 UTF-8 或 GBK）",
    Reason.CORRUPT: "文件已损坏，无法打开",
    Reason.ENCRYPTED: "文件设置了密码保护",
    Reason.UNSUPPORTED: "文件格式不受支持（如扫描件或图片）",
    Reason.TOO_COMPLEX: "文件结构过于复杂或异常",
    Reason.TIMEOUT: "文件读取超时",
    Reason.NOT_A_REPORT: "文件中没有政府信息公开工作年度报告的结构（六个部分或表格）",
    Reason.CONVERTER_MISSING: "暂不能读取旧版 Word 文件（.doc/.wps）",
    Reason.CONVERTER_FAILED: "旧版 Word 文件（.doc/.wps）转换失败",
    Reason.OCR_MISSING: "暂不能识别扫描件或图片",
}


QUOTE_MAX = 80  # characters of document text quoted in a message (a cell, a heading, a sentence)
_QUOTED = frozenset({"raw", "found", "text", "heading", "actual"})  # the parameters that quote the document


def _quoted(value: str) -> str:
    return value if len(value) <= QUOTE_MAX else value[: QUOTE_MAX - 1] + "…"


def _finding(rule: Rule, hit: Hit) -> Finding:
    params = {k: _quoted(v) if k in _QUOTED and isinstance(v, str) else v for k, v in hit.params.items()}
    actual = hit.actual
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        location=hit.location,
        expected=hit.expected,
        actual=_quoted(actual) if isinstance(actual, str) else actual,
        terms=hit.terms,
        message_zh=rule.message_zh.format(**params),
        message_en=rule.message_en.format(**params),
    )


def validate(report: ParsedReport, context: Context | None = None, rules: Sequence[Rule] = RULES) -> Verdict:
    """Every rule of the catalogue, in order, on one report; rejected when any error stands."""
    ctx = context or Context()
    view = Report(report, ctx)
    findings = [_finding(rule, hit) for rule in rules for hit in rule.check(view)]
    return _verdict(findings, ctx.now)


def unreadable(reason: Reason, detail: str, now: dt.date | dt.datetime | None = None) -> Verdict:
    """The verdict for an upload the parser could not read at all (``DOC-UNREADABLE``)."""
    hit = Hit(
        Location(), {"reason_zh": REASONS_ZH[reason], "reason_en": reason.value, "detail": detail}, actual=reason.value
    )
    return _verdict([_finding(BY_ID["DOC-UNREADABLE"], hit)], now)


def _verdict(findings: list[Finding], now: dt.date | dt.datetime | None) -> Verdict:
    status = "rejected" if any(f.severity == "error" for f in findings) else "accepted"
    checked = now if isinstance(now, dt.datetime) else None
    return Verdict(status=status, findings=tuple(findings), checked_at=checked)
