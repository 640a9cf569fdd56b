"""Random valid reports of both templates, rendered into every upload shape the parser reads.

A ``Truth`` is what a report says (office, year, values with consistent sums); each renderer
writes it the way real uploads do. The round-trip tests parse each rendering and expect the
truth back exactly. Also used by bench/ and, later, by the validator's property tests.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import strategies as st

from contracts.template import SECTIONS, TEMPLATES, Kind, TemplateId

T3_HEADS = {
    "granted": "三、本年度办理结果",
    "denied.state_secret": "（三）不予公开",
    "unavailable.not_held": "（四）无法提供",
    "not_processed.complaint": "（五）不予处理",
    "other.no_correction": "（六）其他处理",
}
T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_SUB = ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
T4_COLS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
OFFICES = [
    "西工区西工街道办事处",
    "铜川市新区咸丰路街道办事处",
    "老城区西关街道办事处",
    "沈阳市辽中区蒲西街道办事处",
    "某市生态环境局",
    "某县人民政府办公室",
]
BODY = {
    "overview": "\n".join(
        [
            "{year}年，我单位以习近平新时代中国特色社会主义思想为指导，认真贯彻《中华人民共和国政府信息公开条例》，"
            "坚持以公开为常态、不公开为例外，全面推进决策、执行、管理、服务、结果公开，不断提升政务公开质量和实效。",
            "（一）主动公开。围绕群众关切，及时公开机构职能、政策文件、财政预决算、重点项目等信息，"
            "通过政府网站、政务新媒体和公开栏等渠道发布各类信息，方便群众查询和监督。",
            "（二）依申请公开。严格按照法定程序和时限办理政府信息公开申请，规范受理、审查、答复各环节，"
            "做到答复内容准确、依据充分、格式规范，切实保障申请人的合法权益。",
            "（三）政府信息管理。健全信息发布审查机制，严格落实“先审后发”和保密审查制度，"
            "对公开内容进行动态调整，确保发布信息的权威性、准确性和时效性。",
            "（四）平台建设。持续加强政府网站和政务新媒体建设管理，优化栏目设置，丰富公开形式，"
            "拓宽公开渠道，提升平台的集约化、规范化水平和服务能力。",
            "（五）监督保障。将政务公开工作纳入年度目标考核，开展业务培训和专项检查，"
            "畅通社会评议和投诉渠道，主动接受社会监督，推动政务公开工作落到实处。",
        ]
    ),
    "proactive": "本年度主动公开政府信息情况如下表。",
    "requests": "本年度收到和处理政府信息公开申请情况如下表。",
    "appeals": "",
    "problems": "\n".join(
        [
            "（一）存在的主要问题。一是政务公开工作的深度和广度还不够，部分领域信息公开不够及时、全面；"
            "二是政策解读形式较为单一，图解、视频等多样化解读较少；三是工作人员业务能力有待进一步提高。",
            "（二）改进情况。一是进一步加大主动公开力度，围绕重点领域及时准确发布信息；"
            "二是丰富政策解读形式，提高解读的针对性和可读性；三是加强业务培训，提升工作人员的专业水平，"
            "推动政务公开工作规范化、标准化、常态化。",
        ]
    ),
    "other": "无。",
}


@dataclass
class Truth:
    office: str
    year: int
    template: TemplateId
    signed_on: dt.date
    t2: dict[str, dict[str, int | Decimal]] = field(default_factory=dict)
    t3: dict[str, list[int]] = field(default_factory=dict)
    t4: dict[str, list[int]] = field(default_factory=dict)


@st.composite
def truths(draw: st.DrawFn, template: TemplateId | None = None) -> Truth:
    tid: TemplateId = template or draw(st.sampled_from(["2019", "2021"]))
    year = draw(st.integers(2019, 2020) if tid == "2019" else st.integers(2021, 2025))
    office = draw(st.sampled_from(OFFICES))
    signed = dt.date(year + 1, 1, draw(st.integers(1, 31)))
    spec = TEMPLATES[tid]
    count = st.integers(0, 999)
    t2: dict[str, dict[str, int | Decimal]] = {}
    for row in spec.t2.rows:
        t2[row.id] = {}
        for col in row.columns:
            kind = spec.t2.columns[col].kind
            if kind is Kind.AMOUNT:
                t2[row.id][col] = Decimal(draw(st.integers(0, 99_999_999))).scaleb(-4)
            elif kind is Kind.SIGNED:
                t2[row.id][col] = draw(st.integers(-99, 99))
            else:
                t2[row.id][col] = draw(count)
    small = st.integers(0, 60)
    results = [r.id for r in spec.t3.rows if r.id not in ("new_received", "carried_over", "total", "carried_forward")]
    t3: dict[str, list[int]] = {rid: [draw(small) for _ in range(6)] for rid in results}
    total = [sum(t3[r][c] for r in results) for c in range(6)]
    forward = [draw(small) for _ in range(6)]
    over = [draw(st.integers(0, total[c] + forward[c])) for c in range(6)]
    t3["new_received"] = [total[c] + forward[c] - over[c] for c in range(6)]
    t3["carried_over"], t3["total"], t3["carried_forward"] = over, total, forward
    t3 = {rid: [*vals, sum(vals)] for rid, vals in t3.items()}
    t4 = {}
    for g in spec.t4.rows:
        vals = [draw(st.integers(0, 30)) for _ in range(4)]
        t4[g.id] = [*vals, sum(vals)]
    return Truth(office, year, tid, signed, t2, t3, t4)


# --- pieces shared by the renderers ---------------------------------------------------------


def title(t: Truth) -> str:
    return f"{t.office}{t.year}年政府信息公开工作年度报告"


def heading(section_id: str) -> str:
    s = next(s for s in SECTIONS if s.id == section_id)
    return f"{s.number}、{s.heading}"


def fmt(v: int | Decimal) -> str:
    return str(v)


def t2_groups(t: Truth) -> list[tuple[str, list[str], list[tuple[str, list[str]]]]]:
    """(group label, column labels, [(row label, values)]) in the template's order."""
    spec = TEMPLATES[t.template].t2
    groups: list[tuple[str, list[str], list[tuple[str, list[str]]]]] = []
    for row in spec.rows:
        cols = [spec.columns[c].label for c in row.columns]
        if t.template == "2019" and row.id == "procurement":
            cols = ["采购项目数量", "采购总金额（单位：万元，保留4位小数）"]
        if not groups or groups[-1][0] != row.group:
            groups.append((row.group or "", cols, []))
        groups[-1][2].append((row.label, [fmt(t.t2[row.id][c]) for c in row.columns]))
    return groups


def t3_rows(t: Truth) -> list[tuple[list[str], list[str]]]:
    """([label parts: group heads, row label], values) in order."""
    out = []
    for row in TEMPLATES[t.template].t3.rows:
        heads = [T3_HEADS[row.id]] if row.id in T3_HEADS else []
        if row.id == "granted":
            heads = ["三、本年度办理结果"]
        if t.template == "2021" and row.id == "other.no_correction":
            heads = ["（六）其他处理"]
        out.append(([*heads, row.label], [str(v) for v in t.t3[row.id]]))
    return out


def t4_values(t: Truth) -> list[str]:
    return [str(v) for g in ("review", "litigation_direct", "litigation_after_review") for v in t.t4[g]]


def prose(t: Truth, section_id: str) -> str:
    return BODY[section_id].replace("{year}", str(t.year))


def signature(t: Truth) -> list[str]:
    d = t.signed_on
    return [t.office, f"{d.year}年{d.month}月{d.day}日"]


# --- text layouts -----------------------------------------------------------------------


def render_pdf_text(t: Truth) -> bytes:
    """Text taken out of a PDF: a table row on one line, cells split by spaces (seed 000)."""
    out = [heading("overview"), "", title(t), ""]
    for sec in SECTIONS:
        out += [heading(sec.id), ""]
        if prose(t, sec.id):
            out += [prose(t, sec.id), ""]
        if sec.id == "proactive":
            for group, cols, rows in t2_groups(t):
                out += [group, "", "信息内容 " + " ".join(cols), ""]
                out += [f"{label} {' '.join(vals)}" for label, vals in rows]
        elif sec.id == "requests":
            out += [
                T3_NOTE,
                "申请人情况",
                "自然人",
                "法人或其他组织",
                "总计",
                "商业企业 科研机构",
                "社会公益",
                "组织",
                "法律服务",
                "机构",
                "其他",
                "",
            ]
            out += [" ".join(parts) + " " + " ".join(vals) for parts, vals in t3_rows(t)]
        elif sec.id == "appeals":
            out += [
                "行政复议 行政诉讼",
                " ".join(T4_COLS),
                "未经复议直接起诉 复议后起诉",
                " ".join(T4_COLS * 3),
                "",
                " ".join(t4_values(t)),
                "",
            ]
    out += ["", *signature(t)]
    return "\n".join(out).encode()


def _word_cells(cells: list[str], nbsp: bool, salt: int) -> list[str]:
    out = []
    for k, c in enumerate(cells):
        if nbsp and c.lstrip("-").isdigit():
            c = ("\u00a0" + c) if (k + salt) % 3 == 0 else (c + "\u00a0" if (k + salt) % 3 == 1 else "\u3000" + c)
        out.append("\t" + c)
    return out


def render_word_text(t: Truth, nbsp: bool = False) -> bytes:
    """Text taken out of Word: one cell per line, tab-indented (seed 001); with ``nbsp``, digits
    between no-break and ideographic spaces and labels broken over lines (seed 003)."""
    out = ["附件：", f"{t.office}{t.year}年度政府信息公开工作", "年度报告"] if nbsp else [title(t)]
    out.append(
        f"报送单位：{t.office}"
        if nbsp
        else f"根据《中华人民共和国政府信息公开条例》，现公布{t.office}{t.year}年政府信息公开工作年度报告。"
    )
    salt = t.year
    for sec in SECTIONS:
        out.append(heading(sec.id))
        if prose(t, sec.id):
            out.append(prose(t, sec.id))
        if sec.id == "proactive":
            for group, cols, rows in t2_groups(t):
                out += ["\t" + group, ""]
                heads = [c.replace("本年新", "本年新\n") if nbsp else c for c in cols]
                out += ["\t信息内容", *["\t" + h for h in heads], ""]
                for label, vals in rows:
                    if nbsp and len(label) > 6:
                        label = label[:4] + "\n" + label[4:]
                    out += ["\t" + label, *_word_cells(vals, nbsp, salt), ""]
                    salt += 1
        elif sec.id == "requests":
            out += [
                "\t" + T3_NOTE,
                "\t申请人情况",
                "",
                "\t",
                "\t自然人",
                "\t法人或其他组织",
                "\t总计",
                "",
                "\t",
                "\t",
                *["\t" + s for s in T3_SUB],
                "\t",
                "",
            ]
            for parts, vals in t3_rows(t):
                out += [*["\t" + p for p in parts], *_word_cells(vals, nbsp, salt), "", "\t"]
                salt += 1
        elif sec.id == "appeals":
            out += [
                "\t行政复议",
                "\t行政诉讼",
                "",
                *["\t" + c for c in T4_COLS],
                "\t未经复议直接起诉",
                "\t复议后起诉",
                "",
                *["\t"] * 5,
                *["\t" + c for c in T4_COLS * 2],
                "",
                *_word_cells(t4_values(t), nbsp, salt),
                "",
            ]
    out += ["", *["            " + s for s in signature(t)]]
    return "\n".join(out).encode()


def render_markdown(t: Truth) -> bytes:
    """Markdown with tab-separated tables whose merged cells leave empty cells (seed 002)."""
    out = ["", f"# {title(t)}", ""]
    for sec in SECTIONS:
        out += [f"## {heading(sec.id)}", ""]
        if prose(t, sec.id):
            out += [prose(t, sec.id), ""]
        if sec.id == "proactive":
            for group, cols, rows in t2_groups(t):
                out.append(group + "\t\t\t")
                out.append("信息内容\t" + "\t".join(cols) + "\t" * (3 - len(cols)))
                out += [label + "\t" + "\t".join(vals) + "\t" * (3 - len(vals)) for label, vals in rows]
            out.append("")
        elif sec.id == "requests":
            out += [
                T3_NOTE + "\t申请人情况\t\t\t\t\t\t总计",
                "\t自然人\t法人或其他组织\t\t\t\t\t",
                "\t\t" + "\t".join(T3_SUB) + "\t",
            ]
            for parts, vals in t3_rows(t):
                lead = "\t".join(parts) if len(parts) > 1 else parts[0] + "\t"
                out.append(lead + "\t" + "\t".join(vals))
            out.append("")
        elif sec.id == "appeals":
            out += [
                "行政复议\t\t\t\t\t行政诉讼" + "\t" * 9,
                "\t".join(T4_COLS) + "\t未经复议直接起诉\t\t\t\t\t复议后起诉\t\t\t\t",
                "\t" * 5 + "\t".join(T4_COLS * 2),
                "\t".join(t4_values(t)),
                "",
            ]
    out += ["", *signature(t)]
    return "\n".join(out).encode()


# --- real tables -----------------------------------------------------------------------

Grid = list[list[tuple[str, int, int]]]  # rows of (text, rowspan, colspan)


def t2_grid(t: Truth) -> Grid:
    grid: Grid = []
    for group, cols, rows in t2_groups(t):
        grid.append([(group, 1, 4)])
        span = 3 // len(cols) if len(cols) != 2 else 1
        grid.append([("信息内容", 1, 1), *[(c, 1, span) for c in cols]] + ([("", 1, 1)] if len(cols) == 2 else []))
        for label, vals in rows:
            grid.append([(label, 1, 1), *[(v, 1, span) for v in vals]] + ([("", 1, 1)] if len(vals) == 2 else []))
    return grid


def t3_grid(t: Truth) -> Grid:
    grid: Grid = [
        [(T3_NOTE, 3, 3), ("申请人情况", 1, 7)],
        [("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)],
        [(s, 1, 1) for s in T3_SUB],
    ]
    rows = t3_rows(t)
    n_results = len(rows) - 4
    group_sizes = {
        "denied.state_secret": 8,
        "unavailable.not_held": 3,
        "not_processed.complaint": 5,
        "other.no_correction": 3,
    }
    spec_rows = TEMPLATES[t.template].t3.rows
    for (parts, vals), row in zip(rows, spec_rows, strict=True):
        cells: list[tuple[str, int, int]] = []
        if row.id in ("new_received", "carried_over", "carried_forward"):
            cells.append((parts[-1], 1, 3))
        else:
            if row.id == "granted":
                cells.append(("三、本年度办理结果", n_results + 1, 1))
            if row.id in group_sizes:
                cells.append((parts[-2], group_sizes[row.id], 1))
                cells.append((parts[-1], 1, 1))
            elif row.group and row.group.endswith(("不予公开", "无法提供", "不予处理", "其他处理")):
                cells.append((parts[-1], 1, 1))
            else:
                cells.append((parts[-1], 1, 2))
        grid.append(cells + [(v, 1, 1) for v in vals])
    return grid


def t4_grid(t: Truth) -> Grid:
    return [
        [("行政复议", 1, 5), ("行政诉讼", 1, 10)],
        [*[(c, 2, 1) for c in T4_COLS], ("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
        [(c, 1, 1) for c in T4_COLS * 2],
        [(v, 1, 1) for v in t4_values(t)],
    ]


def _blocks(t: Truth) -> list[tuple[str, str | Grid]]:
    """The report as ('h'|'p', text) and ('table', grid) blocks."""
    out: list[tuple[str, str | Grid]] = [("h", title(t))]
    for sec in SECTIONS:
        out.append(("h", heading(sec.id)))
        if prose(t, sec.id):
            out.append(("p", prose(t, sec.id)))
        grid = {"proactive": t2_grid, "requests": t3_grid, "appeals": t4_grid}.get(sec.id)
        if grid:
            out.append(("table", grid(t)))
    out += [("p", s) for s in signature(t)]
    return out


def render_html(t: Truth) -> bytes:
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>x</title></head><body>"]
    for kind, item in _blocks(t):
        if kind == "table":
            out.append("<table border='1'>")
            for row in item:
                out.append(
                    "<tr>"
                    + "".join(
                        "<td"
                        + (f" rowspan='{rs}'" if rs > 1 else "")
                        + (f" colspan='{cs}'" if cs > 1 else "")
                        + f">{html.escape(text)}</td>"
                        for text, rs, cs in row
                    )
                    + "</tr>"
                )
            out.append("</table>")
        else:
            tag = "h2" if kind == "h" else "p"
            out.append(f"<{tag}>{html.escape(str(item))}</{tag}>")
    out.append("</body></html>")
    return "\n".join(out).encode()


def _place(grid: Grid) -> tuple[int, list[tuple[int, int, int, int, str]]]:
    """Grid rows to (row, col, rowspan, colspan, text) placements and the table width."""
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, row in enumerate(grid):
        c = 0
        for text, rs, cs in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, rs, cs, text))
            taken.update((r + i, c + j) for i in range(rs) for j in range(cs))
            c += cs
    return max(c for _, c in taken) + 1, placed


def render_docx(t: Truth) -> bytes:
    """A real Word document (python-docx), its tables with merged cells as Word writes them:
    w:gridSpan across columns, w:vMerge restart/continue down rows."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = docx.Document()
    for kind, item in _blocks(t):
        if kind != "table":
            d.add_paragraph(str(item))
            continue
        width, placed = _place(item)  # type: ignore[arg-type]
        table = d.add_table(rows=0, cols=width)
        starts = {(r, c): (rs, cs, text) for r, c, rs, cs, text in placed}
        below: dict[tuple[int, int], int] = {}  # (row, col) covered by a merge from above -> colspan
        for r, c, rs, cs, _ in placed:
            for dr in range(1, rs):
                below[(r + dr, c)] = cs
        for r in range(len(item)):  # type: ignore[arg-type]
            tr = OxmlElement("w:tr")
            c = 0
            while c < width:
                tc = OxmlElement("w:tc")
                pr = OxmlElement("w:tcPr")
                tc.append(pr)
                p = OxmlElement("w:p")
                if (r, c) in starts:
                    rs, cs, text = starts[(r, c)]
                    if rs > 1:
                        merge = OxmlElement("w:vMerge")
                        merge.set(qn("w:val"), "restart")
                        pr.append(merge)
                    run, txt = OxmlElement("w:r"), OxmlElement("w:t")
                    txt.text = text
                    run.append(txt)
                    p.append(run)
                else:
                    cs = below[(r, c)]
                    pr.append(OxmlElement("w:vMerge"))
                if cs > 1:
                    span = OxmlElement("w:gridSpan")
                    span.set(qn("w:val"), str(cs))
                    pr.insert(0, span)
                tc.append(p)
                tr.append(tc)
                c += cs
            table._tbl.append(tr)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def render_pdf(t: Truth) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=9, leading=12)
    small = ParagraphStyle("zh-small", fontName="STSong-Light", fontSize=6, leading=7)
    story = []
    for kind, item in _blocks(t):
        if kind != "table":
            story.append(Paragraph(html.escape(str(item)), style))
            continue
        width, placed = _place(item)  # type: ignore[arg-type]
        data = [["" for _ in range(width)] for _ in item]
        spans = []
        for r, c, rs, cs, text in placed:
            data[r][c] = Paragraph(html.escape(text), small) if len(text) > 4 else text
            if rs > 1 or cs > 1:
                spans.append(("SPAN", (c, r), (c + cs - 1, r + rs - 1)))
        table = Table(data, colWidths=[(A4[0] - 80) / width] * width)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                    ("FONTSIZE", (0, 0), (-1, -1), 7),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    *spans,
                ]
            )
        )
        story.append(table)
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=40, rightMargin=40).build(story)
    return buf.getvalue()


SHAPES: dict[str, tuple[str, Callable[[Truth], bytes]]] = {
    "pdf_text": ("report.txt", render_pdf_text),
    "word_text": ("report.txt", render_word_text),
    "word_text_nbsp": ("report.txt", lambda t: render_word_text(t, nbsp=True)),
    "markdown": ("report.md", render_markdown),
    "html": ("report.html", render_html),
    "docx": ("report.docx", render_docx),
    "pdf": ("report.pdf", render_pdf),
}


# --- the same layouts inside other containers: tables flattened to text -------------------


def render_html_flat(t: Truth) -> bytes:
    """An HTML page whose tables were flattened to text: a paragraph per table row."""
    lines = render_pdf_text(t).decode().split("\n")
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines if line.strip())
    return f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>".encode()


def render_docx_flat(t: Truth) -> bytes:
    """A Word document without tables: every table row typed as a paragraph."""
    import docx

    d = docx.Document()
    for line in render_pdf_text(t).decode().split("\n"):
        if line.strip():
            d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _wrap(line: str, width: int) -> list[str]:
    """Lines as a PDF lays them out: a row breaks between cells, prose anywhere."""
    out: list[str] = []
    while len(line) > width:
        cut = line.rfind(" ", 0, width)
        cut = width if cut <= 0 else cut
        out.append(line[:cut])
        line = line[cut:].lstrip(" ")
    return [*out, line]


def render_pdf_flat(t: Truth) -> bytes:
    """A PDF with no ruled tables: rows as lines of text, cells split by spaces."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y = A4[1] - 40
    for line in render_pdf_text(t).decode().split("\n"):
        if not line.strip():
            continue
        for part in _wrap(line, 60):
            if y < 40:
                c.showPage()
                y = A4[1] - 40
            c.setFont("STSong-Light", 8)
            c.drawString(30, y, part)
            y -= 11
    c.save()
    return buf.getvalue()


SHAPES.update(
    {
        "html_flat": ("report.html", render_html_flat),
        "docx_flat": ("report.docx", render_docx_flat),
        "pdf_flat": ("report.pdf", render_pdf_flat),
    }
)
