"""A real example of every rule: a clean real report (seed 000) changed in one place.

Used by the rule tests (each example makes its rule fire, and only the rules listed) and by
``python -m tests.rule_examples`` to write docs/rules.md from the catalogue.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from contracts.generated import write_or_check
from contracts.verdict import Finding, Office, PreviousFigures, Verdict
from services.parser import Reason, parse
from services.validator import RULES, Context, unreadable, validate

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
CLEAN = (SEEDS / "000_fa21241071e09f6f.txt").read_text(encoding="utf-8")  # 2020, accepted, no findings
CLEAN_2021 = (SEEDS / "002_21d8e222a39c5270.txt").read_text(encoding="utf-8")
T4_ROW = "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"


@dataclass(frozen=True)
class Example:
    rule: str
    what: str  # the change, in words
    edits: tuple[tuple[str, str], ...] = ()
    context: Context = field(default_factory=Context)
    fires: frozenset[str] = field(default_factory=frozenset)  # every rule the example makes fire
    base: str = CLEAN
    # cells as OCR leaves them when it cannot read them with confidence (the report as a scan)
    uncertain: tuple[tuple[str, str, str], ...] = ()

    def text(self) -> str:
        text = self.base
        for old, new in self.edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        return text

    def verdict(self) -> Verdict:
        if self.rule == "DOC-UNREADABLE":
            return unreadable(Reason.CORRUPT, "the .docx file is damaged: File is not a zip file")
        report = parse(self.text().encode(), "example.txt")
        if self.uncertain:
            report = report.model_copy(update={"scanned_pages": 1})
        for table, row, col in self.uncertain:
            cell = getattr(report.tables, table)[row][col]
            cell.update(state="uncertain", value=None, source="ocr", confidence=0.62)
        return validate(report, self.context)

    def finding(self) -> Finding:
        return next(f for f in self.verdict().findings if f.rule == self.rule)


def _ex(rule: str, what: str, *edits: tuple[str, str], fires: tuple[str, ...] = (), **kw: object) -> Example:
    return Example(rule, what, edits, fires=frozenset({rule, *fires}), **kw)  # type: ignore[arg-type]


TITLE = "西工区西工街道办事处2020年政府信息公开工作年度报告"
EXAMPLES: tuple[Example, ...] = (
    _ex("DOC-UNREADABLE", "a damaged .docx upload"),
    _ex(
        "DOC-OFFICE-UNKNOWN",
        "the title line removed (the only place naming the office and year)",
        (TITLE + "\n", ""),
        fires=("DOC-YEAR-UNKNOWN", "DOC-TITLE"),
    ),
    _ex("DOC-YEAR-UNKNOWN", "the title line removed", (TITLE + "\n", ""), fires=("DOC-OFFICE-UNKNOWN", "DOC-TITLE")),
    _ex(
        "DOC-OFFICE-MISMATCH",
        "submitted from another office's account",
        context=Context(office=Office(id="chengguan", name="城关镇人民政府", aliases=("城关镇",))),
    ),
    _ex("DOC-YEAR-MISMATCH", "declared as the 2021 report", context=Context(year=2021)),
    _ex("DOC-TITLE", "“公开” dropped from the title", (TITLE, "西工区西工街道办事处2020年政府信息工作年度报告")),
    _ex(
        "DOC-LATE",
        "signed in March",
        ("六、其他需要报告的事项\n\n无\n", "六、其他需要报告的事项\n\n无\n\n西工街道办事处\n2021年3月15日\n"),
    ),
    _ex(
        "DOC-SCAN-UNCERTAIN",
        "a scan, one cell of table 三 read by OCR at 62 % confidence",
        uncertain=(("t3", "granted", "natural_person"),),
        fires=("TPL-CELL-UNCERTAIN",),
    ),
    _ex("DOC-SECTION-MISSING", "section 六 removed", ("六、其他需要报告的事项\n\n无\n", "")),
    _ex(
        "DOC-SECTION-ORDER", "section 五 numbered 5、", ("五、存在的主要问题及改进情况", "5、存在的主要问题及改进情况")
    ),
    _ex("DOC-SECTION-EMPTY", "section 六 left empty", ("六、其他需要报告的事项\n\n无\n", "六、其他需要报告的事项\n")),
    _ex(
        "TPL-TABLE-MISSING",
        "table 四 removed",
        ("行政复议 行政诉讼", ""),
        ("结果维持 结果纠正 其他结果 尚未审结 总计\n", ""),
        ("未经复议直接起诉 复议后起诉", ""),
        ("结果维持 结果纠正 其他结果 尚未审结 总计 结果维持 结果纠正 其他结果 尚未审结 总计", ""),
        (T4_ROW, ""),
        fires=("DOC-SECTION-EMPTY",),
    ),
    _ex("TPL-VERSION", "a 2021 report in the 2019 layout", (TITLE, TITLE.replace("2020", "2021"))),
    _ex("TPL-ROW-MISSING", "row 2.重复申请 removed from table 三", ("2.重复申请 0 0 0 0 0 0 0\n", "")),
    _ex("TPL-CELL-BLANK", "a dash where 0 belongs", ("行政许可 0 0 0", "行政许可 0 — 0")),
    _ex(
        "TPL-CELL-MISSING", "a row of table 三 with six values", ("2.重复申请 0 0 0 0 0 0 0", "2.重复申请 0 0 0 0 0 0")
    ),
    _ex(
        "TPL-CELL-RUN",
        "table 二's labels and figures run together (898989: 89 89 89, or 8 98 989 …)",
        (
            "规章 0 0 0\n\n规范性文件 0 0 0\n\n第二十条第（五）项\n\n信息内容 上一年项目数量 本年增/减 处理决定数量\n\n"
            "行政许可 0 0 0\n\n其他对外管理服务事项 0 0 0",
            "规章000规范性文件898989第二十条第（五）项信息内容上一年项目数量本年增/减处理决定数量行政许可000其他对外管理服务事项000",
        ),
    ),
    _ex(
        "TPL-CELL-UNCERTAIN",
        "a scan, one cell of table 三 read by OCR at 62 % confidence",
        uncertain=(("t3", "granted", "natural_person"),),
        fires=("DOC-SCAN-UNCERTAIN",),
    ),
    _ex("TPL-CELL-INVALID", "a negative count", ("行政处罚 0 0 0", "行政处罚 0 0 -2")),
    _ex("TPL-CELL-SUSPECT", "00 for 0", ("规章 0 0 0", "规章 00 0 0")),
    _ex("TPL-UNIT", "procurement in 元", ("政府集中采购 0 0", "政府集中采购 3 250000元")),
    _ex(
        "T3-BALANCE",
        "two new applications, nothing handled",
        ("一、本年新收政府信息公开申请数量 0 0 0 0 0 0 0", "一、本年新收政府信息公开申请数量 2 0 0 0 0 0 2"),
        fires=("TXT-T3-MISMATCH",),
    ),
    _ex(
        "T3-ROWSUM",
        "予以公开 counted for a person, total left at 0",
        ("（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开 1 0 0 0 0 0 0"),
        fires=("T3-RESULT-TOTAL",),
    ),
    _ex(
        "T3-RESULT-TOTAL",
        "one application granted, （七）总计 not updated",
        ("（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开 1 0 0 0 0 0 1"),
        fires=(),
    ),
    _ex("T4-SUM", "a review upheld, its total left at 0", (T4_ROW, "1" + T4_ROW[1:])),
    _ex(
        "T2-CROSS-YEAR",
        "last year 3 rules in force, none issued or repealed, 0 in force now",
        base=CLEAN_2021,
        context=Context(previous=PreviousFigures(year=2021, in_force={"rules": 3, "normative_docs": 0})),
        fires=("TPL-CELL-MISSING",),
    ),
    _ex(
        "T3-CROSS-YEAR",
        "last year's report carried 2 applications forward",
        context=Context(previous=PreviousFigures(year=2019, carried_forward={"natural_person": 2, "total": 2})),
    ),
    _ex(
        "TXT-T3-MISMATCH",
        "the text says 3 applications, table 三 says none",
        ("2020 年我办未收到相关信息公开申请。", "2020 年我办共收到政府信息公开申请3件。"),
    ),
    _ex(
        "TXT-T4-MISMATCH",
        "the text mentions a review, table 四 has none",
        (
            "我街道政府信息公开依托西工区政府网站公开相关信息。",
            "我街道政府信息公开依托西工区政府网站公开相关信息。本年度发生行政复议1件。",
        ),
    ),
)


def render_docs() -> str:
    """docs/rules.md: every rule of the catalogue with its messages and a real example."""
    examples = {e.rule: e for e in EXAMPLES}
    out = [
        "# Rule catalogue",
        "",
        "Generated from `services/validator/rules.py` by `python -m tests.rule_examples`; a test fails when",
        "this file is stale. Ids and severities are those of ../shared/spec/rules.md. Each example is a real",
        "finding: the clean seed report 000 (or 002 for the 2021 template) changed in one place, parsed and",
        "validated.",
        "",
        "| id | severity | checks | 检查内容 |",
        "| --- | --- | --- | --- |",
    ]
    out += [f"| [`{r.id}`](#{r.id.lower()}) | {r.severity} | {r.summary_en} | {r.summary_zh} |" for r in RULES]
    for r in RULES:
        e = examples[r.id]
        f = e.finding()
        loc = {k: v for k, v in f.location.model_dump(exclude_none=True).items() if k != "cell"}
        out += [
            "",
            f"## {r.id}",
            "",
            f"**{r.severity}** — {r.summary_en}  ",
            f"{r.summary_zh}",
            "",
            f"- message (zh): `{r.message_zh}`",
            f"- message (en): `{r.message_en}`",
            "",
            f"Example — {e.what}:",
            "",
            f"> {f.message_zh}",
            ">",
            f"> {f.message_en}",
            "",
            f"location: `{loc}`"
            + (f", expected `{f.expected}`, actual `{f.actual}`" if f.expected is not None else ""),
        ]
    return "\n".join(out) + "\n"


DOCS = ROOT / "docs" / "rules.md"


def main(argv: list[str]) -> int:
    return write_or_check({DOCS: render_docs()}, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
