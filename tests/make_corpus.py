"""A corpus of annual reports made by real office software, each with the truth beside it.

Each report (random valid figures from a seeded ``random.Random``, or the figures of one of three
real documents) is written as .docx by python-docx in the national form's table structure
(w:gridSpan across columns, w:vMerge down rows, header cells with line breaks), then converted
by LibreOffice headless into PDF and HTML, and about half re-saved as .docx by LibreOffice. A
"CMS HTML" dialect (TRS WCM / UEditor article bodies with tables pasted from Word) is written
directly. Beside every document, ``<file>.json`` says what a correct intake concludes, with the
keys of ../shared/corpus/real/truth/*.json. The documents vary what real ones vary: the title on
one line or two, tables broken across pages, repeated header rows, narrow label columns,
misprinted row labels, local extra rows, a 2019 table 三 in a 2021 report, blank cells written
several ways, amounts with units, and a few real arithmetic errors.

    .venv/bin/python -m tests.make_corpus [--out DIR] [--seed N] [--soffice PATH]

Needs LibreOffice (Debian ``libreoffice-writer-nogui``) and ``fonts-noto-cjk``. Deterministic for
a seed, LibreOffice's own timestamps aside. tests/fixtures/made/README.md is written by it too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from contracts.template import SECTIONS, T3_COLUMNS, TEMPLATES, Kind, TemplateId
from tests.generator import BODY, T3_NOTE, Truth, heading

OUT = Path(__file__).parent / "fixtures" / "made"
SEED = 20250120
PROFILE = "file:///tmp/lo-profile-made"

ENDS = ("new_received", "carried_over", "total", "carried_forward")
T3_COLS = tuple(T3_COLUMNS)
T4_GROUPS = ("review", "litigation_direct", "litigation_after_review")
T4_COL_IDS = ("upheld", "corrected", "other", "pending", "total")
T3_SUBHEADS = ("商业\n企业", "科研\n机构", "社会\n公益\n组织", "法律\n服务\n机构", "其他")
T4_HEADS = ("结果\n维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总计")
T3_GROUP_HEADS = {
    "denied.state_secret": ("（三）不予公开", 8),
    "unavailable.not_held": ("（四）无法提供", 3),
    "not_processed.complaint": ("（五）不予处理", 5),
    "other.no_correction": ("（六）其他处理", 3),
}
SPAN_TWO = ("granted", "partially_granted", "other", "total")  # result rows whose label spans two columns
T2_HEADS_2019 = {"amount": "采购总金额"}
DOC_ID = {"2019": "国办公开办函〔2019〕60号", "2021": "国办公开办函〔2021〕30号"}

# Extra prose that pushes a table down the page (no application counts in it).
FILL_T2 = (
    "围绕优化营商环境、乡村振兴、生态环境保护、安全生产等重点领域，及时发布政策文件、工作动态和通知公告，"
    "做到应公开尽公开，让群众看得到、听得懂、能监督。",
    "加强政策解读，坚持政策文件与解读材料同步组织、同步审签、同步部署，综合运用图表图解、新闻发布、"
    "政策问答等形式，提升解读的针对性和可读性。",
    "做好财政预决算、“三公”经费、政府采购等信息公开，按要求在规定时限内公开部门预算、决算及说明，主动接受社会监督。",
    "推进基层政务公开标准化规范化，对照基层政务公开标准目录，动态调整公开事项清单，规范公开内容、"
    "公开时限和公开方式，提升基层政务公开的质量和实效。",
    "畅通政民互动渠道，认真办理群众来信来电，及时回应社会关切，对群众反映集中的问题主动发布权威信息，"
    "解疑释惑，凝聚共识。",
    "落实政府信息公开属性源头认定机制，公文拟制时同步明确公开属性，对不予公开的说明理由，从源头上提升公开质量。",
)
FILL_T3 = (
    "严格执行依申请公开登记、审核、办理、答复、归档等各环节工作规范，对申请内容逐件研判，"
    "确保答复依据充分、程序合法、内容准确、格式规范。",
    "对申请内容不明确的，及时一次性告知申请人补正；对涉及第三方权益的，依法书面征求第三方意见；"
    "对需要延期答复的，按规定告知申请人延长答复期限。",
    "加强与申请人的沟通，在答复前主动电话联系，了解申请人的实际需求，做好解释说明工作，化解潜在矛盾，减少争议。",
    "建立依申请公开办理台账，实行一案一档，对办理过程中的典型案例及时总结，形成可复制的办理经验，"
    "提升工作人员依法办理能力。",
    "会同法律顾问对疑难复杂申请进行会商研判，统一答复口径，规范引用法律依据，确保答复文书严谨规范。",
)
# The overview of a CMS page is long: its first table stands more than 4 KB into the file.
CMS_MORE = (
    "（六）政务公开标准化规范化建设。全面梳理本级政务公开事项，编制并动态更新政务公开事项标准目录，"
    "逐项明确公开内容、公开依据、公开时限、公开主体、公开方式，推动政务公开标准化规范化向基层延伸。",
    "（七）政策解读与回应关切。坚持“谁起草、谁解读”，对重要政策文件同步开展解读，"
    "通过新闻发布会、政策问答、图文解读等形式，增强政策解读的针对性和有效性，及时回应社会关切。",
    "（八）重点领域信息公开。围绕财政资金、重大建设项目、公共资源配置、社会公益事业等重点领域，"
    "细化公开内容，规范公开流程，做到决策公开、执行公开、管理公开、服务公开、结果公开。",
    "（九）政务新媒体管理。严格落实政务新媒体开设、变更、注销备案制度，定期开展内容巡查，"
    "对更新不及时、互动回应差的账号及时整改，推动政务新媒体健康有序发展。",
    "（十）会议开放与公众参与。邀请人大代表、政协委员、利益相关方和群众代表列席有关会议，"
    "就涉及群众切身利益的重要决策广泛听取意见，增强决策的透明度和公众参与度。",
    "（十一）政府网站建设。加强网站内容保障和安全防护，优化栏目设置和检索功能，完善政策文件库，"
    "提升网站的权威性、实用性和易用性，打造“指尖上的”政务服务平台。",
    "（十二）培训与考核。组织政务公开工作人员参加业务培训，学习《条例》和有关工作要求，"
    "将政务公开工作纳入年度绩效考核，压实工作责任，推动各项任务落地见效。",
    "（十三）档案与信息管理。规范政府信息的收集、整理、归档和保存，完善信息公开工作台账，"
    "做到底数清、情况明，为依申请公开和主动公开提供有力支撑。",
)


# --- what a report says --------------------------------------------------------------------


def _t3(layout: TemplateId, nonzero: dict[str, list[int]]) -> dict[str, list[int]]:
    rows = {r.id: [0] * 7 for r in TEMPLATES[layout].t3.rows}
    rows.update(nonzero)
    return rows


def _t4(*groups: list[int]) -> dict[str, list[int]]:
    return {g: [*vals, sum(vals)] for g, vals in zip(T4_GROUPS, groups, strict=True)}


# The figures of three real documents (../shared/corpus/real/truth), copied here.
HONGZE_2024 = Truth(
    "淮安市洪泽区人民政府",
    2024,
    "2021",
    dt.date(2025, 1, 20),
    {
        "rules": {"issued": 0, "repealed": 0, "in_force": 0},
        "normative_docs": {"issued": 3, "repealed": 0, "in_force": 8},
        "licensing": {"decisions": 9487},
        "punishment": {"decisions": 2776},
        "coercion": {"decisions": 84},
        "fees": {"amount": Decimal("7545")},
    },
    _t3(
        "2019",
        {
            "new_received": [95, 0, 0, 0, 0, 0, 95],
            "granted": [50, 0, 0, 0, 0, 0, 50],
            "partially_granted": [9, 0, 0, 0, 0, 0, 9],
            "denied.three_safeties": [1, 0, 0, 0, 0, 0, 1],
            "denied.process_info": [1, 0, 0, 0, 0, 0, 1],
            "denied.enforcement_file": [1, 0, 0, 0, 0, 0, 1],
            "unavailable.not_held": [31, 0, 0, 0, 0, 0, 31],
            "unavailable.needs_creation": [1, 0, 0, 0, 0, 0, 1],
            "not_processed.complaint": [1, 0, 0, 0, 0, 0, 1],
            "total": [95, 0, 0, 0, 0, 0, 95],
        },
    ),
    _t4([1, 1, 0, 0], [1, 0, 0, 0], [2, 0, 1, 0]),
)
PINGTAN_2023 = Truth(
    "平潭综合实验区管理委员会",
    2023,
    "2021",
    dt.date(2024, 1, 19),
    {
        "rules": {"issued": 0, "repealed": 0, "in_force": 0},
        "normative_docs": {"issued": 77, "repealed": 132, "in_force": 470},
        "licensing": {"decisions": 2629},
        "punishment": {"decisions": 1330},
        "coercion": {"decisions": 54},
        "fees": {"amount": Decimal("5949.088667")},
    },
    _t3(
        "2021",
        {
            "new_received": [80, 1, 0, 0, 0, 0, 81],
            "granted": [22, 0, 0, 0, 0, 0, 22],
            "partially_granted": [19, 1, 0, 0, 0, 0, 20],
            "denied.third_party": [1, 0, 0, 0, 0, 0, 1],
            "denied.process_info": [1, 0, 0, 0, 0, 0, 1],
            "denied.enforcement_file": [1, 0, 0, 0, 0, 0, 1],
            "denied.inquiry": [2, 0, 0, 0, 0, 0, 2],
            "unavailable.not_held": [31, 0, 0, 0, 0, 0, 31],
            "not_processed.duplicate": [1, 0, 0, 0, 0, 0, 1],
            "other.no_correction": [1, 0, 0, 0, 0, 0, 1],
            "other.other": [1, 0, 0, 0, 0, 0, 1],
            "total": [80, 1, 0, 0, 0, 0, 81],
        },
    ),
    _t4([1, 1, 0, 0], [4, 0, 0, 1], [1, 0, 1, 0]),
)
# Its real truth has no table 二: these figures are invented (one plausible split of the scraped digits).
PINGTAN_2019 = Truth(
    "平潭综合实验区管理委员会",
    2019,
    "2019",
    dt.date(2020, 1, 17),
    {
        "rules": {"made": 0, "published": 0, "total_public": 0},
        "normative_docs": {"made": 89, "published": 89, "total_public": 89},
        "licensing": {"prev_items": 396, "change": 0, "decisions": 181},
        "other_services": {"prev_items": 10, "change": 0, "decisions": 153},
        "punishment": {"prev_items": 2648, "change": 0, "decisions": 430},
        "coercion": {"prev_items": 126, "change": 0, "decisions": 25},
        "fees": {"prev_items": 35, "change": 0},
        "procurement": {"items": 1357, "amount": Decimal("539.4433")},
    },
    _t3(
        "2019",
        {
            "new_received": [23, 0, 0, 0, 0, 0, 23],
            "granted": [7, 0, 0, 0, 0, 0, 7],
            "partially_granted": [1, 0, 0, 0, 0, 0, 1],
            "unavailable.not_held": [7, 0, 0, 0, 0, 0, 7],
            "unavailable.unclear": [5, 0, 0, 0, 0, 0, 5],
            "not_processed.duplicate": [3, 0, 0, 0, 0, 0, 3],
            "total": [23, 0, 0, 0, 0, 0, 23],
        },
    ),
    _t4([0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]),
)

COL_WEIGHT = (1.0, 0.35, 0.04, 0.06, 0.1, 0.12)
ROW_WEIGHT = {
    "granted": 1.0,
    "partially_granted": 0.4,
    "unavailable.not_held": 0.6,
    "unavailable.unclear": 0.15,
    "not_processed.duplicate": 0.2,
    "not_processed.complaint": 0.15,
    "other.no_correction": 0.1,
    "other": 0.1,
}


def _some(rng: random.Random, chance: float, top: int) -> int:
    return rng.randint(1, max(1, top)) if rng.random() < chance else 0


def random_truth(rng: random.Random, office: str, year: int, day: int, layout: TemplateId | None = None) -> Truth:
    """Valid figures (every sum holds) for ``office``, table 三 in ``layout`` (default: the year's)."""
    tid: TemplateId = "2019" if year <= 2020 else "2021"
    scale = 60 if office.endswith("人民政府") else 6 if "街道" in office else 20
    t2: dict[str, dict[str, int | Decimal]] = {}
    for row in TEMPLATES[tid].t2.rows:
        vals: dict[str, int | Decimal] = {}
        for col in row.columns:
            kind = TEMPLATES[tid].t2.columns[col].kind
            if row.id == "rules":
                vals[col] = 0
            elif kind is Kind.AMOUNT:
                places = 4 if tid == "2019" else rng.choice((0, 2, 4, 6))
                top = {60: 20_000, 20: 3_000, 6: 20}[scale] * 10**places  # 万元, at most
                raw = rng.randint(0, top) if rng.random() < 0.8 else 0
                vals[col] = Decimal(raw).scaleb(-places)
            elif col == "change":
                vals[col] = rng.randint(-8, 8) if rng.random() < 0.5 else 0
            elif col in ("prev_items", "items"):
                vals[col] = rng.randint(0, 5 * scale)
            elif row.id in ("licensing", "punishment", "coercion", "other_services"):
                vals[col] = rng.randint(0, 200 * scale)
            else:
                vals[col] = rng.randint(0, scale)
        if row.id == "normative_docs":  # what is in force (or public) includes this year's
            first, _, last = row.columns
            vals[last] = int(vals[first]) + rng.randint(0, 10 * scale)
        if "prev_items" in vals and "change" in vals:
            vals["change"] = max(int(vals["change"]), -int(vals["prev_items"]))
        if row.id == "normative_docs" and tid == "2019":
            vals["published"] = vals["made"]
        t2[row.id] = vals
    rows = TEMPLATES[layout or tid].t3.rows
    results = [r.id for r in rows if r.id not in ENDS]
    t3: dict[str, list[int]] = {}
    for rid in results:
        w = ROW_WEIGHT.get(rid, 0.08 if rid.startswith("denied.") else 0.05)
        t3[rid] = [_some(rng, min(0.95, 1.5 * w * cw), round(scale * w * cw)) for cw in COL_WEIGHT]
    total = [sum(t3[r][c] for r in results) for c in range(6)]
    forward = [_some(rng, 0.4 * cw, 3) for cw in COL_WEIGHT]
    over = [_some(rng, 0.5, min(total[c] + forward[c], 4)) if total[c] + forward[c] else 0 for c in range(6)]
    t3["new_received"] = [total[c] + forward[c] - over[c] for c in range(6)]
    t3["carried_over"], t3["total"], t3["carried_forward"] = over, total, forward
    t3 = {r.id: [*t3[r.id], sum(t3[r.id])] for r in rows}
    t4 = _t4(*([_some(rng, 0.3, 3) for _ in range(4)] for _ in T4_GROUPS))
    return Truth(office, year, tid, dt.date(year + 1, 1, day), t2, t3, t4)


# --- how a document shows it --------------------------------------------------------------


@dataclass
class Spec:
    """One report and how its document is made: the look, the quirks, the formats."""

    slug: str
    truth: Truth
    short: str  # office_contains
    kind: str = "docx"  # docx: python-docx, then LibreOffice; cms: CMS HTML written directly
    layout: TemplateId | None = None  # table 三's layout when it differs from the template
    title: str = "one"  # one | two (two paragraphs) | two_br (one paragraph, a line break) | none
    font: str = "fangsong"  # fangsong: 仿宋_GB2312 16pt, fixed 28pt lines; song: 宋体 12pt
    page_numbers: bool = False
    fill_t2: int = 0  # paragraphs of extra prose before table 二
    fill_t3: int = 0  # … and before table 三
    repeat: str = ""  # "": no header rows repeat; "t34": tables 三/四; "all": tables 二/三/四
    narrow: bool = False
    breaks: str = "br"  # header cells broken by w:br (br) or as separate paragraphs (para)
    count_prose: bool = False  # the prose states the numbers of table 三/四 (matching them)
    resave: bool = False  # also re-saved as .docx by LibreOffice
    misprints: dict[str, str] = field(default_factory=dict)  # t3 row id -> label as printed
    extra_t2: bool = False
    extra_t3: bool = False
    blank: str | None = None  # how blank cells are written: "", "　", "/", "—"
    blanks: int = 0
    units: dict[tuple[str, str], str] = field(default_factory=dict)  # t2 (row, col) -> "wan" | "yuan"
    error: tuple[str, str, int, int] | None = None  # (t3|t4, row or group, column index, delta)
    page: bool = False  # cms: a whole page around the article body
    signature: bool = True
    nbsp_digits: bool = False  # cms: no-break spaces around some digits
    note: str = ""

    @property
    def t3_layout(self) -> TemplateId:
        return self.layout or self.truth.template


def plan(seed: int) -> list[Spec]:
    """The reports of the corpus. Figures are random (seeded) unless copied from a real document."""

    def rt(key: str, office: str, year: int, day: int, layout: TemplateId | None = None) -> Truth:
        return random_truth(random.Random(f"{seed}:{key}"), office, year, day, layout)

    xigong = "西工区西工街道办事处"
    xianfeng = "铜川市新区咸丰路街道办事处"
    eco = "某市生态环境局"
    xiguan = "老城区西关街道办事处"
    puxi = "沈阳市辽中区蒲西街道办事处"
    county = "某县人民政府办公室"
    land = "某市自然资源和规划局"
    moling = "南京市江宁区秣陵街道办事处"
    edu = "宁波市鄞州区教育局"
    agri = "杭州市西湖区农业农村局"
    market = "某县市场监督管理局"
    wuhou = "成都市武侯区人民政府"
    deny2 = {"denied.prohibited_by_law": "2.其他法律行政止公开"}
    deny4 = {"denied.third_party": "4.保护第三方合法权"}
    part = {"partially_granted": "（二）部分公开（区分处理的，只计这一情形）"}
    real = "figures of the real document ../shared/corpus/real/{}; "
    xianfeng21 = rt("xianfeng-2021", xianfeng, 2021, 25)
    xianfeng21.t2["fees"]["amount"] = Decimal("12.5")
    county20 = rt("county-2020", county, 2020, 26)
    county20.t2["procurement"]["amount"] = Decimal("0.3")  # written 3000元
    market22 = rt("market-2022", market, 2022, 14)
    market22.t2["fees"]["amount"] = Decimal("0.3")
    moling23 = rt("cms-moling-2023", moling, 2023, 10)
    moling23.t2["fees"]["amount"] = Decimal("0.45")
    return [
        # template 2019
        Spec(
            "pingtan-2019",
            PINGTAN_2019,
            "平潭",
            title="two",
            page_numbers=True,
            count_prose=True,
            resave=True,
            note=real.format("pingtan-2019-scraped.json (table 二 invented: that truth has none)"),
        ),
        Spec(
            "xigong-2019",
            rt("xigong-2019", xigong, 2019, 15),
            "西工街道",
            font="song",
            narrow=True,
            repeat="t34",
            blank="　",
            blanks=6,
            resave=True,
        ),
        Spec(
            "xianfeng-2020",
            rt("xianfeng-2020", xianfeng, 2020, 22),
            "咸丰路街道",
            title="two_br",
            fill_t3=3,
            breaks="para",
            misprints=deny4,
            extra_t3=True,
            units={("procurement", "amount"): "wan"},
        ),
        Spec(
            "eco-2020",
            rt("eco-2020", eco, 2020, 28),
            "生态环境局",
            repeat="t34",
            fill_t2=2,
            error=("t3", "granted", 0, 1),
            resave=True,
        ),
        Spec(
            "xiguan-2019",
            rt("xiguan-2019", xiguan, 2019, 10),
            "西关街道",
            narrow=True,
            page_numbers=True,
            misprints=part,
            blank="/",
            blanks=8,
        ),
        Spec(
            "puxi-2020",
            rt("puxi-2020", puxi, 2020, 18),
            "蒲西街道",
            title="two",
            fill_t3=2,
            extra_t2=True,
            blank="—",
            blanks=6,
            resave=True,
        ),
        Spec(
            "county-2020",
            county20,
            "某县人民政府办公室",
            title="two",
            font="song",
            breaks="para",
            units={("procurement", "amount"): "yuan"},
            error=("t4", "review", 4, 1),
        ),
        Spec(
            "land-2020",
            rt("land-2020", land, 2020, 16, layout="2021"),
            "自然资源和规划局",
            layout="2021",
            repeat="all",
            fill_t2=1,
            misprints=deny2,
            resave=True,
        ),
        Spec(
            "moling-2019",
            rt("moling-2019", moling, 2019, 8),
            "秣陵街道",
            font="song",
            narrow=True,
            repeat="t34",
            page_numbers=True,
            count_prose=True,
        ),
        # template 2021
        Spec(
            "hongze-2024",
            HONGZE_2024,
            "洪泽区",
            layout="2019",
            title="two",
            page_numbers=True,
            fill_t2=3,
            misprints=deny2,
            units={("fees", "amount"): "wan"},
            resave=True,
            note=real.format("huaian-hongze-2024.json (its table 三 in the 2019 layout, as in the real one)"),
        ),
        Spec(
            "pingtan-2023",
            PINGTAN_2023,
            "平潭",
            repeat="t34",
            narrow=True,
            count_prose=True,
            resave=True,
            note=real.format("pingtan-2023.json"),
        ),
        Spec(
            "xigong-2022",
            rt("xigong-2022", xigong, 2022, 12),
            "西工街道",
            title="two_br",
            fill_t3=3,
            extra_t3=True,
            blank="",
            blanks=6,
        ),
        Spec(
            "xianfeng-2021",
            xianfeng21,
            "咸丰路街道",
            repeat="t34",
            breaks="para",
            units={("fees", "amount"): "wan"},
            error=("t3", "new_received", 1, 1),
            resave=True,
        ),
        Spec(
            "eco-2023",
            rt("eco-2023", eco, 2023, 24, layout="2019"),
            "生态环境局",
            layout="2019",
            font="song",
            narrow=True,
            blank="/",
            blanks=5,
        ),
        Spec(
            "edu-2025",
            rt("edu-2025", edu, 2025, 21),
            "鄞州区教育局",
            repeat="all",
            fill_t2=3,
            misprints=deny4,
            extra_t2=True,
            resave=True,
        ),
        Spec(
            "market-2022",
            market22,
            "市场监督管理局",
            title="two",
            page_numbers=True,
            fill_t3=2,
            units={("fees", "amount"): "yuan"},
            blank="—",
            blanks=6,
        ),
        Spec(
            "agri-2021",
            rt("agri-2021", agri, 2021, 29),
            "西湖区农业农村局",
            narrow=True,
            fill_t2=3,
            misprints=part,
            error=("t4", "litigation_direct", 1, 1),
            resave=True,
        ),
        Spec(
            "wuhou-2024",
            rt("wuhou-2024", wuhou, 2024, 23),
            "武侯区",
            font="song",
            breaks="para",
            page_numbers=True,
            count_prose=True,
        ),
        # CMS HTML, written directly
        Spec(
            "cms-pingtan-2023",
            PINGTAN_2023,
            "平潭",
            kind="cms",
            title="none",
            count_prose=True,
            signature=False,
            note=real.format("pingtan-2023.json") + "shaped like the real article body; ",
        ),
        Spec(
            "cms-pingtan-2023-page",
            PINGTAN_2023,
            "平潭",
            kind="cms",
            title="none",
            page=True,
            count_prose=True,
            nbsp_digits=True,
            note=real.format("pingtan-2023.json"),
        ),
        Spec(
            "cms-xigong-2023",
            rt("cms-xigong-2023", xigong, 2023, 16),
            "西工街道",
            kind="cms",
            blank="",
            blanks=5,
            extra_t3=True,
        ),
        Spec(
            "cms-puxi-2020",
            rt("cms-puxi-2020", puxi, 2020, 13),
            "蒲西街道",
            kind="cms",
            title="none",
            misprints=deny4,
            units={("procurement", "amount"): "wan"},
        ),
        Spec(
            "cms-eco-2022",
            rt("cms-eco-2022", eco, 2022, 27, layout="2019"),
            "生态环境局",
            kind="cms",
            layout="2019",
            title="two",
            nbsp_digits=True,
        ),
        Spec(
            "cms-county-2019",
            rt("cms-county-2019", county, 2019, 30),
            "某县人民政府办公室",
            kind="cms",
            title="none",
            error=("t4", "litigation_after_review", 4, -1),
        ),
        Spec(
            "cms-xianfeng-2024",
            rt("cms-xianfeng-2024", xianfeng, 2024, 11),
            "咸丰路街道",
            kind="cms",
            title="two",
            extra_t2=True,
            error=("t3", "unavailable.not_held", 6, 1),
        ),
        Spec(
            "cms-xiguan-2020",
            rt("cms-xiguan-2020", xiguan, 2020, 20),
            "西关街道",
            kind="cms",
            title="none",
            page=True,
            misprints=part,
            blank="/",
            blanks=6,
        ),
        Spec(
            "cms-moling-2023",
            moling23,
            "秣陵街道",
            kind="cms",
            misprints=deny2,
            units={("fees", "amount"): "yuan"},
            blank="—",
            blanks=5,
        ),
        Spec(
            "cms-hongze-2024",
            HONGZE_2024,
            "洪泽区",
            kind="cms",
            layout="2019",
            title="none",
            misprints=deny2,
            nbsp_digits=True,
            note=real.format("huaian-hongze-2024.json"),
        ),
    ]


# --- the sheet: what the document prints, and what its truth says --------------------------


def num(v: int | Decimal) -> str:
    return format(v.normalize(), "f") if isinstance(v, Decimal) else str(v)


@dataclass
class Sheet:
    t2_rows: list[tuple[str | None, str, str, list[str]]]  # (row id or None, group, label, cell texts)
    t3_rows: list[tuple[str | None, str, list[str]]]  # (row id or None, label, 7 cell texts)
    t4: list[str]
    t2_truth: dict[str, dict[str, str | None]]
    t3_truth: dict[str, list[int | None]]
    t4_truth: list[int | None]
    blanked: list[str]
    extra: list[str]


def make_sheet(spec: Spec, seed: int) -> Sheet:
    rng = random.Random(f"{seed}:{spec.slug}:sheet")
    t, tid = spec.truth, spec.truth.template
    t2 = {r: {c: num(v) for c, v in cols.items()} for r, cols in t.t2.items()}
    t2_truth: dict[str, dict[str, str | None]] = {r: dict(cols) for r, cols in t2.items()}
    t3: dict[str, list[int | None]] = {r: list(v) for r, v in t.t3.items()}
    t4: list[int | None] = [v for g in T4_GROUPS for v in t.t4[g]]
    if spec.error:
        table, row, col, delta = spec.error
        cells, at = (t3[row], col) if table == "t3" else (t4, T4_GROUPS.index(row) * 5 + col)
        old = cells[at] or 0
        cells[at] = old + delta if old + delta >= 0 else old + 1
    t3_text = {r: [str(v) for v in vals] for r, vals in t3.items()}
    t4_text = [str(v) for v in t4]
    blanked: list[str] = []
    if spec.blank is not None:
        cands: list[tuple[str, str, int]] = [
            ("t3", r, c) for r, vals in t3.items() for c, v in enumerate(vals) if v == 0 and r != "new_received"
        ]
        cands += [("t4", "", i) for i, v in enumerate(t4) if v == 0]
        cands += [
            ("t2", r, i)
            for r, cols in t.t2.items()
            for i, (c, v) in enumerate(cols.items())
            if v == 0 and TEMPLATES[tid].t2.columns[c].kind is not Kind.AMOUNT
        ]
        for table, row, i in sorted(rng.sample(cands, min(spec.blanks, len(cands)))):
            if table == "t3":
                t3[row][i] = None
                t3_text[row][i] = spec.blank
                blanked.append(f"t3 {row}/{T3_COLS[i]}")
            elif table == "t4":
                t4[i] = None
                t4_text[i] = spec.blank
                blanked.append(f"t4 {T4_GROUPS[i // 5]}/{T4_COL_IDS[i % 5]}")
            else:
                col = list(t2[row])[i]
                t2[row][col] = spec.blank
                t2_truth[row][col] = None
                blanked.append(f"t2 {row}/{col}")
    for (row, col), unit in spec.units.items():
        value = t.t2[row][col]
        assert isinstance(value, Decimal)
        if unit == "wan":
            t2[row][col] = f"{num(value)}万元"
        else:
            t2[row][col] = t2_truth[row][col] = num(value * 10000)
            t2[row][col] += "元"
    extra: list[str] = []
    t2_rows: list[tuple[str | None, str, str, list[str]]] = []
    for row in TEMPLATES[tid].t2.rows:
        t2_rows.append((row.id, row.group or "", row.label, [t2[row.id][c] for c in row.columns]))
        if row.id == "normative_docs" and spec.extra_t2:
            vals = [rng.randint(0, int(t.t2[row.id][c])) for c in row.columns]
            t2_rows.append((None, row.group or "", "其中：部门规范性文件", [str(v) for v in vals]))
            extra.append(
                f"table 二: a local row '其中：部门规范性文件' ({' '.join(map(str, vals))}) after 行政规范性文件"
            )
    t3_rows: list[tuple[str | None, str, list[str]]] = []
    for row in TEMPLATES[spec.t3_layout].t3.rows:
        t3_rows.append((row.id, spec.misprints.get(row.id, row.label), t3_text[row.id]))
        if row.id == "new_received" and spec.extra_t3:
            vals = [rng.randint(0, v) for v in t.t3["new_received"][:6]]
            vals.append(sum(vals))
            t3_rows.append((None, "其中：通过网络申请", [str(v) for v in vals]))
            extra.append(f"table 三: a local row '其中：通过网络申请' ({' '.join(map(str, vals))}) after row 一")
    return Sheet(t2_rows, t3_rows, t4_text, t2_truth, t3, t4, blanked, extra)


def arithmetic(t3: dict[str, list[int | None]], t4: list[int | None]) -> list[tuple[str, str]]:
    """Every sum of the printed figures that fails: (rule id, which cells). A blank counts as 0."""

    def v(x: int | None) -> int:
        return x or 0

    out: list[tuple[str, str]] = []
    for row, vals in t3.items():
        if sum(v(x) for x in vals[:6]) != v(vals[6]):
            out.append(
                (
                    "T3-ROWSUM",
                    f"table 三 row {row}: the six columns add up to {sum(v(x) for x in vals[:6])}, "
                    f"its total cell says {vals[6]}",
                )
            )
    results = [r for r in t3 if r not in ENDS]
    for c, col in enumerate(T3_COLS):
        left = v(t3["new_received"][c]) + v(t3["carried_over"][c])
        right = v(t3["total"][c]) + v(t3["carried_forward"][c])
        if left != right:
            out.append(
                (
                    "T3-BALANCE",
                    f"table 三 column {col}: new_received + carried_over = {left}, total + carried_forward = {right}",
                )
            )
        got = sum(v(t3[r][c]) for r in results)
        if got != v(t3["total"][c]):
            out.append(
                (
                    "T3-RESULT-TOTAL",
                    f"table 三 column {col}: the result rows add up to {got}, （七）总计 says {t3['total'][c]}",
                )
            )
    for g, group in enumerate(T4_GROUPS):
        vals = t4[g * 5 : g * 5 + 5]
        if sum(v(x) for x in vals[:4]) != v(vals[4]):
            out.append(
                (
                    "T4-SUM",
                    f"table 四 {group}: upheld+corrected+other+pending = "
                    f"{sum(v(x) for x in vals[:4])}, total says {vals[4]}",
                )
            )
    return out


# --- grids: the national form's tables as rows of (text, rowspan, colspan, role) ------------

Cell = tuple[str, int, int, str]  # role: head | label | value | caption
Grid = list[list[Cell]]


def t2_grid(spec: Spec, sheet: Sheet) -> tuple[Grid, list[float], int]:
    tid = spec.truth.template
    cols = TEMPLATES[tid].t2.columns
    grid: Grid = []
    group = None
    for rid, grp, label, texts in sheet.t2_rows:
        n = len(texts)
        spans = [3] if n == 1 else [1, 2] if n == 2 else [1, 1, 1]
        if grp != group:
            group = grp
            row = TEMPLATES[tid].t2.row(rid or "normative_docs")
            heads = [T2_HEADS_2019.get(c, cols[c].label) if tid == "2019" else cols[c].label for c in row.columns]
            grid.append([(grp, 1, 4, "caption")])
            grid.append([("信息内容", 1, 1, "head"), *[(h, 1, s, "head") for h, s in zip(heads, spans, strict=True)]])
        grid.append([(label, 1, 1, "label"), *[(x, 1, s, "value") for x, s in zip(texts, spans, strict=True)]])
    widths = [0.9, 1.4, 1.4, 1.4] if spec.narrow else [2.6, 2.1, 2.1, 2.1]
    return grid, widths, 2


def t3_grid(spec: Spec, sheet: Sheet) -> tuple[Grid, list[float], int]:
    heads = [(h, 1, 1, "head") for h in T3_SUBHEADS]
    grid: Grid = [
        [(T3_NOTE, 3, 3, "head"), ("申请人情况", 1, 7, "head")],
        [("自然人", 2, 1, "head"), ("法人或其他组织", 1, 5, "head"), ("总计", 2, 1, "head")],
        heads,
    ]
    ids = [rid for rid, _, _ in sheet.t3_rows]
    n_results = ids.index("total") - ids.index("granted") + 1
    for rid, label, texts in sheet.t3_rows:
        cells: list[Cell] = []
        if rid is None or rid in ("new_received", "carried_over", "carried_forward"):
            cells.append((label, 1, 3, "label"))
        else:
            if rid == "granted":
                cells.append(("三、本年度办理结果", n_results, 1, "label"))
            if rid in T3_GROUP_HEADS:
                cells.append((*T3_GROUP_HEADS[rid], 1, "label"))
            cells.append((label, 1, 2 if rid in SPAN_TWO else 1, "label"))
        grid.append(cells + [(x, 1, 1, "value") for x in texts])
    widths = [0.5, 0.9, 1.5] + [0.8] * 7 if spec.narrow else [0.8, 1.5, 2.6] + [0.56] * 7
    return grid, widths, 3


def t4_grid(spec: Spec, sheet: Sheet) -> tuple[Grid, list[float], int]:
    grid: Grid = [
        [("行政复议", 1, 5, "head"), ("行政诉讼", 1, 10, "head")],
        [*[(h, 2, 1, "head") for h in T4_HEADS], ("未经复议直接起诉", 1, 5, "head"), ("复议后起诉", 1, 5, "head")],
        [(h, 1, 1, "head") for h in T4_HEADS * 2],
        [(x, 1, 1, "value") for x in sheet.t4],
    ]
    return grid, [1.0] * 15, 3


def place(grid: Grid) -> tuple[int, list[tuple[int, int, Cell]], dict[tuple[int, int], tuple[int, int]]]:
    """(width, [(row, col, cell)], {covered (row, col) below a merge: (origin row, colspan)})."""
    taken: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, Cell]] = []
    below: dict[tuple[int, int], tuple[int, int]] = {}
    width = 0
    for r, row in enumerate(grid):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            _, rs, cs, _ = cell
            taken.update((r + i, c + j) for i in range(rs) for j in range(cs))
            for i in range(1, rs):
                below[(r + i, c)] = (r, cs)
            c += cs
        width = max(width, c)
    return width, placed, below


# --- prose -----------------------------------------------------------------------------------


def title_text(t: Truth) -> str:
    return f"{t.office}{t.year}年政府信息公开工作年度报告"


def preamble(t: Truth) -> str:
    return (
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《国务院办公厅政府信息与政务公开办公室"
        f"关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》（{DOC_ID[t.template]}）要求，"
        f"由{t.office}编制。本报告中所列数据的统计期限自{t.year}年1月1日起至{t.year}年12月31日止。"
        f"本报告电子版可在{t.office}门户网站查阅或下载。如对本报告有疑问，请与{t.office}联系。"
    )


def paragraphs(spec: Spec, sheet: Sheet, section: str) -> list[str]:
    t = spec.truth
    out: list[str] = []
    if section == "overview":
        out = BODY["overview"].replace("{year}", str(t.year)).split("\n")
        if spec.kind == "cms":
            out += list(CMS_MORE)
    elif section == "proactive":
        out = [FILL_T2[i % len(FILL_T2)] for i in range(spec.fill_t2)] + [BODY["proactive"]]
    elif section == "requests":
        if spec.count_prose:
            new, over = t.t3["new_received"][6], t.t3["carried_over"][6]
            done, fwd = t.t3["total"][6], t.t3["carried_forward"][6]
            got = f"共收到政府信息公开申请{new}件" if new else "未收到政府信息公开申请"
            out.append(f"{t.year}年，{got}，上年结转{over}件，办结{done}件，结转下年度继续办理{fwd}件。")
        out += [FILL_T3[i % len(FILL_T3)] for i in range(spec.fill_t3)] + [BODY["requests"]]
    elif section == "appeals":
        if spec.count_prose:
            review, suits = t.t4["review"][4], t.t4["litigation_direct"][4] + t.t4["litigation_after_review"][4]
            out.append(f"{t.year}年，因政府信息公开工作被申请行政复议{review}件，被提起行政诉讼{suits}件。")
        out.append("本年度政府信息公开行政复议、行政诉讼情况如下表。")
    elif section == "problems":
        out = BODY["problems"].split("\n")
    else:
        out = ["本年度未收取信息处理费。无其他需要报告的事项。" if t.template == "2021" else BODY["other"]]
    return out


def signed(t: Truth) -> str:
    d = t.signed_on
    return f"{d.year}年{d.month}月{d.day}日"


# --- .docx by python-docx --------------------------------------------------------------------

FONTS = {
    "fangsong": ("仿宋_GB2312", 16, "仿宋_GB2312", 21),  # body font, size (pt), table font, size (half-points)
    "song": ("宋体", 12, "宋体", 18),
}


def _run_xml(text: str, font: str, size: int, bold: bool = False) -> str:
    rpr = (
        f'<w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="{font}" '
        f'w:cs="Times New Roman"/>{"<w:b/>" if bold else ""}<w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr>'
    )
    parts = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(s)}</w:t>' for s in text.split("\n"))
    return f"<w:r>{rpr}{parts}</w:r>" if text else ""


def _tc_xml(text: str, role: str, width: int, span: int, merge: str | None, font: str, size: int, breaks: str) -> str:
    pr = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if span > 1:
        pr += f'<w:gridSpan w:val="{span}"/>'
    if merge == "restart":
        pr += '<w:vMerge w:val="restart"/>'
    elif merge == "continue":
        pr += "<w:vMerge/>"
    pr += '<w:vAlign w:val="center"/>'
    jc = "left" if role == "label" else "center"
    ppr = (
        '<w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
        f'<w:ind w:firstLine="0" w:firstLineChars="0"/><w:jc w:val="{jc}"/></w:pPr>'
    )
    lines = text.split("\n") if role == "head" and breaks == "para" else [text]
    paras = "".join(f"<w:p>{ppr}{_run_xml(line, font, size)}</w:p>" for line in lines)
    return f"<w:tc><w:tcPr>{pr}</w:tcPr>{paras}</w:tc>"


def table_xml(grid: Grid, weights: list[float], header_rows: int, text_width: int, spec: Spec) -> str:
    """A Word table with the merges Word writes: w:gridSpan across, w:vMerge restart/continue down."""
    _, _, font, size = FONTS[spec.font]
    widths = [round(w * text_width / sum(weights)) for w in weights]
    width, placed, below = place(grid)
    starts = {(r, c): cell for r, c, cell in placed}
    border = '<w:{} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    borders = "".join(border.format(b) for b in ("top", "left", "bottom", "right", "insideH", "insideV"))
    rows = []
    for r in range(len(grid)):
        trpr = '<w:trHeight w:val="397"/>'
        if r < header_rows and (spec.repeat == "all" or (spec.repeat == "t34" and header_rows == 3)):
            trpr += "<w:tblHeader/>"
        cells, c = [], 0
        while c < width:
            if (r, c) in starts:
                text, rs, cs, role = starts[(r, c)]
                merge = "restart" if rs > 1 else None
            else:
                _, cs = below[(r, c)]
                text, role, merge = "", "value", "continue"
            w = sum(widths[c : c + cs])
            cells.append(_tc_xml(text, role, w, cs, merge, font, size, spec.breaks))
            c += cs
        rows.append(f"<w:tr><w:trPr>{trpr}</w:trPr>{''.join(cells)}</w:tr>")
    grid_cols = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (
        '<w:tbl xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f'<w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
        f"</w:tblPr><w:tblGrid>{grid_cols}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


def fixed_zip(data: bytes, when: dt.date) -> bytes:
    """The same package with every entry stamped ``when``: the bytes depend on the content only."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(when.year, when.month, when.day, 9, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def render_docx(spec: Spec, sheet: Sheet) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    t = spec.truth
    body_font, body_size, _, _ = FONTS[spec.font]
    d = docx.Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    if spec.font == "fangsong":  # 公文 margins
        sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Cm(3.7), Cm(3.5), Cm(2.8), Cm(2.6)
    else:
        sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Cm(2.54), Cm(2.54), Cm(3.17), Cm(3.17)
    text_width = round((sec.page_width - sec.left_margin - sec.right_margin) / 635)  # EMU -> twips
    defaults = d.styles.element.find(qn("w:docDefaults"))
    lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal = d.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(body_size)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), body_font)
    pf = normal.paragraph_format
    pf.space_before, pf.space_after = Pt(0), Pt(0)
    pf.line_spacing = Pt(28) if spec.font == "fangsong" else 1.5
    pf.first_line_indent = Pt(2 * body_size)

    def para(text: str, font: str = body_font, size: int = body_size, align: str = "", bold: bool = False) -> None:
        p = d.add_paragraph()
        if align:
            p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
            p.paragraph_format.first_line_indent = Pt(0)
        if align == "right":
            p.paragraph_format.right_indent = Pt(2 * body_size)
        lines = text.split("\n")
        for i, line in enumerate(lines):
            run = p.add_run(line)
            run.font.size, run.font.bold = Pt(size), bold or None
            run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
            if i < len(lines) - 1:
                run.add_break()

    title_font = "方正小标宋简体"
    year_line = f"{t.year}年政府信息公开工作年度报告"
    if spec.title == "one":
        para(title_text(t), title_font, 22, "center")
    elif spec.title == "two":
        para(t.office, title_font, 22, "center")
        para(year_line, title_font, 22, "center")
    elif spec.title == "two_br":
        para(f"{t.office}\n{year_line}", title_font, 22, "center")
    para("")
    para(preamble(t))
    body = d.element.body
    tables: dict[str, Callable[[Spec, Sheet], tuple[Grid, list[float], int]]] = {
        "proactive": t2_grid,
        "requests": t3_grid,
        "appeals": t4_grid,
    }
    for s in SECTIONS:
        para(heading(s.id), "黑体")
        for text in paragraphs(spec, sheet, s.id):
            para(text)
        if s.id in tables:
            grid, weights, header_rows = tables[s.id](spec, sheet)
            body.insert(len(body) - 1, parse_xml(table_xml(grid, weights, header_rows, text_width, spec)))
    para("")
    para(t.office, align="right")
    para(signed(t), align="right")
    if spec.page_numbers:
        fp = sec.footer.paragraphs[0]
        fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fp.paragraph_format.first_line_indent = Pt(0)
        fp.add_run("- ")
        fp._p.append(
            parse_xml(
                '<w:fldSimple xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                'w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'
            )
        )
        fp.add_run(" -")
    when = dt.datetime(t.signed_on.year, t.signed_on.month, t.signed_on.day, 9, 0, 0)
    cp = d.core_properties
    cp.title = title_text(t) if spec.title == "one" else ""
    cp.author, cp.last_modified_by, cp.comments = t.office, t.office, ""
    cp.created, cp.modified, cp.revision = when, when, 1
    buf = io.BytesIO()
    d.save(buf)
    return fixed_zip(buf.getvalue(), t.signed_on)


# --- CMS HTML (TRS WCM / UEditor, tables pasted from Word) ----------------------------------

CMS_BORDER = {
    "first": "border-width: 1px; border-style: solid; border-color: windowtext;",
    "top": "border-width: 1px 1px 1px medium; border-style: solid solid solid none; "
    "border-color: windowtext windowtext windowtext currentcolor;",
    "left": "border-width: medium 1px 1px; border-style: none solid solid; "
    "border-color: currentcolor windowtext windowtext;",
    "inner": "border-width: medium 1px 1px medium; border-style: none solid solid none; "
    "border-color: currentcolor windowtext windowtext currentcolor;",
}
P0 = '<p style="text-indent: 0em;">'


def _cms_longhand(r: int, c: int) -> str:
    left = "1px solid windowtext" if c == 0 else "none"
    top = "1px solid windowtext" if r == 0 else "none"
    return (
        f"padding:5px 5px 5px 5px ;border-left:{left};border-right:1px solid windowtext;"
        f"border-top:{top};border-bottom:1px solid windowtext"
    )


def cms_table(grid: Grid, weights: list[float], spec: Spec, longhand: bool, salt: int) -> str:
    px = [round(w * 650 / sum(weights)) for w in weights]
    _, placed, _ = place(grid)
    by_row: dict[int, list[tuple[int, Cell]]] = {}
    for r, c, cell in placed:
        by_row.setdefault(r, []).append((c, cell))
    out = ['<table style="border-collapse:collapse;border:none" cellspacing="0" align="center" border="1"><tbody>']
    for r in range(len(grid)):
        attrs = ' class="firstRow"' if r == 0 else ""
        out.append(f'<tr style="height:38px"{attrs}>' if longhand else f"<tr{attrs}>")
        for c, (text, rs, cs, role) in by_row.get(r, []):
            span = (f' colspan="{cs}"' if cs > 1 else "") + (f' rowspan="{rs}"' if rs > 1 else "")
            if longhand:
                style = _cms_longhand(r, c)
            else:
                edge = "first" if r == 0 and c == 0 else "top" if r == 0 else "left" if c == 0 else "inner"
                style = f"padding: 0px 7px; {CMS_BORDER[edge]}"
            parts = text.split("\n")
            if role == "head" and len(parts) > 1:
                if "结果" in text or "审结" in text:  # table 四's heads: <br/>; table 三's: one <p> a line
                    inner = P0 + "<br/>".join(html.escape(x) for x in parts) + "</p>"
                else:
                    inner = "".join(f"{P0}{html.escape(x)}</p>" for x in parts)
            elif text in ("", "　"):
                inner = f"{P0}&nbsp;</p>" if (r + c) % 2 else f"{P0}<br/></p>"
            else:
                shown = html.escape(text)
                if spec.nbsp_digits and role == "value" and text.isdigit() and (r * 7 + c + salt) % 5 == 0:
                    shown = f"&nbsp;{shown}&nbsp;"
                inner = f"{P0}{shown}</p>"
            align = ' valign="middle" align="center"' if r == 0 and role == "head" else ' valign="center"'
            out.append(f'<td{span} style="{style}"{align} width="{sum(px[c : c + cs])}">{inner}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_cms(spec: Spec, sheet: Sheet) -> bytes:
    t = spec.truth
    indent = '<p style="text-indent: 2em;">'
    out = ["<div class=TRS_Editor>"]
    big = '<p style="text-align: center;"><strong><span style="font-size: 24px;">{}</span></strong></p>'
    if spec.title == "one":
        out.append(big.format(html.escape(title_text(t))))
    elif spec.title == "two":
        out.append(big.format(html.escape(t.office)) + big.format(f"{t.year}年政府信息公开工作年度报告"))
    out.append(f"{indent}{html.escape(preamble(t))}</p>")
    tables = {"proactive": t2_grid, "requests": t3_grid, "appeals": t4_grid}
    for k, s in enumerate(SECTIONS):
        head = html.escape(heading(s.id))
        out.append(
            f"{indent}<strong>&nbsp;{head}</strong>&nbsp;</p>" if k == 0 else f"{indent}<strong>{head}</strong></p>"
        )
        texts = paragraphs(spec, sheet, s.id)
        for i, text in enumerate(texts):
            tail = "&nbsp;&nbsp;&nbsp;" if i == len(texts) - 1 and s.id == "overview" else ""
            out.append(f"{indent}{html.escape(text)}{tail}</p>")
        if s.id in tables:
            grid, weights, _ = tables[s.id](spec, sheet)
            out.append(cms_table(grid, weights, spec, longhand=s.id == "proactive" and t.year % 2 == 1, salt=k))
    if spec.signature:
        right = '<p style="text-align: right;">{}</p>'
        out += [f"{indent}&nbsp;</p>", right.format(html.escape(t.office)), right.format(signed(t))]
    out.append(f"{indent}&nbsp;</p></div>")
    fragment = "".join(out)
    assert len(fragment[: fragment.find("<table")].encode()) > 4096, spec.slug
    if not spec.page:
        return fragment.encode()
    title = title_text(t)
    site = f"{t.office}门户网站"
    pub = f"{t.signed_on.isoformat()} 15:34"
    prev = f"{t.office}{t.year - 1}年政府信息公开工作年度报告"
    page = (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />\n'
        f"<title>{title}_政府信息公开年报_{site}</title>\n"
        f'<meta name="SiteName" content="{site}">\n<meta name="ColumnName" content="政府信息公开年报">\n'
        f'<meta name="ArticleTitle" content="{title}">\n<meta name="PubDate" content="{pub}">\n'
        f'<meta name="ContentSource" content="{t.office}">\n</head>\n<body>\n'
        '<div class="header"><div class="nav"><a href="/">首页</a>&nbsp;&gt;&nbsp;<a href="../../">政务公开</a>'
        '&nbsp;&gt;&nbsp;<a href="../">政府信息公开年报</a></div></div>\n'
        f'<div class="article">\n<div class="article_title">{title}</div>\n'
        f'<div class="article_info"><span>时间：{pub}</span>&nbsp;&nbsp;<span>来源：{t.office}</span>'
        "&nbsp;&nbsp;<span>字体：<a>大</a> <a>中</a> <a>小</a></span></div>\n"
        f'<div class="article_content">\n{fragment}\n</div>\n'
        f'<div class="article_nav"><p>上一篇：<a href="../{t.year - 1}/">{prev}</a></p></div>\n</div>\n'
        f'<div class="footer"><p>主办：{t.office}&nbsp;&nbsp;网站标识码：0000000000</p></div>\n</body>\n</html>\n'
    )
    return page.encode()


# --- truth -----------------------------------------------------------------------------------


def variations(spec: Spec, sheet: Sheet, brief: bool = False) -> list[str]:
    """What the document varies, in words: for the notes, or ``brief`` for the README."""
    t = spec.truth
    out: list[str] = []
    if spec.title == "one":
        out.append("title on one line")
    elif spec.title == "two":
        out.append(f"title on two lines (office, then {t.year}年政府信息公开工作年度报告), two paragraphs")
    elif spec.title == "two_br":
        out.append(
            f"title on two lines (office, then {t.year}年政府信息公开工作年度报告), one paragraph with a line break"
        )
    elif spec.page:
        out.append(
            "no title in the article body; the page's `<title>`, ArticleTitle meta and article_title div hold it"
        )
    else:
        out.append("no title at all in the body (the portal shows it outside the article)")
    if spec.page:
        out.append(f"whole portal page around the body (its 上一篇 link names the {t.year - 1} report)")
    if spec.layout and spec.layout != t.template:
        out.append(
            f"table 三 in the {spec.layout} layout in a {t.template} report "
            + ("(one （六）其他处理 row)" if spec.layout == "2019" else "(（六）其他处理 in three sub-rows)")
        )
    if spec.kind == "docx":
        if spec.fill_t2:
            out.append(f"{spec.fill_t2} extra paragraphs before table 二 (to break it across pages)")
        if spec.fill_t3:
            out.append(f"{spec.fill_t3} extra paragraphs before table 三")
        if spec.repeat == "t34":
            out.append("header rows of tables 三/四 repeat on each page (w:tblHeader)")
        elif spec.repeat == "all":
            out.append(
                "header rows repeat (w:tblHeader) on tables 三/四 and on table 二, whose first two rows "
                "(第二十条第（一）项 and its column heads) then reappear at the top of the next page"
            )
        else:
            out.append("no repeated header rows")
        if spec.narrow:
            out.append("narrow label columns (labels wrap over two or three lines)")
        out.append("header cells broken by " + ("w:br" if spec.breaks == "br" else "separate paragraphs"))
        if spec.page_numbers:
            out.append("page numbers '- N -' in the footer")
        out.append("body in " + ("仿宋_GB2312 16pt, 公文 margins" if spec.font == "fangsong" else "宋体 12pt"))
    else:
        out.append(
            "CMS dialect: headings `<p><strong>`, head cells split over `<p>` or `<br/>`, "
            "width and border CSS on every cell"
        )
        if spec.nbsp_digits:
            out.append("`&nbsp;` around some digits in cells")
        if t.year % 2:
            out.append("table 二's cells styled in CSS longhand (border-left:…), the others in shorthand")
    for row, label in spec.misprints.items():
        out.append(f"misprinted row label '{label}' (row {row})")
    out += [e.replace("a local row", "a local extra row") for e in sheet.extra]
    if spec.blank is not None:
        shown = {"": "empty", "　": "an ideographic space", "/": "'/'", "—": "'—'"}[spec.blank]
        cells = f"{len(sheet.blanked)} cells" if brief else ", ".join(sheet.blanked)
        out.append(f"blank cells written as {shown}: {cells}")
    for (row, col), unit in spec.units.items():
        cell = next(texts for rid, _, _, texts in sheet.t2_rows if rid == row)
        shown = cell[list(TEMPLATES[t.template].t2.row(row).columns).index(col)]
        out.append(f"t2 {row}/{col} written '{shown}'" + (" (in 元, not 万元)" if unit == "yuan" else ""))
    if spec.error:
        table, row, col, _ = spec.error
        cols = T3_COLS if table == "t3" else T4_COL_IDS
        found = "; ".join(d for _, d in arithmetic(sheet.t3_truth, sheet.t4_truth))
        out.append(f"arithmetic error in {table} {row}/{cols[col]}" + ("" if brief else f": {found}"))
    if spec.count_prose:
        out.append("prose states the counts of tables 三/四 (matching them)")
    return out


def truth_json(spec: Spec, sheet: Sheet, file: str, made_by: str, facts: str = "") -> dict[str, object]:
    t = spec.truth
    found = arithmetic(sheet.t3_truth, sheet.t4_truth)
    assert bool(found) == bool(spec.error), (spec.slug, found)
    must = ["TPL-VERSION"] if spec.t3_layout != t.template else []
    must += sorted({rule for rule, _ in found})
    should = []
    if spec.title == "none" and not spec.page:
        should.append("DOC-TITLE")
    if sheet.blanked:
        should.append("TPL-CELL-BLANK")
    if "yuan" in spec.units.values():
        should.append("TPL-UNIT")
    notes = f"Made by {made_by}. " + spec.note + "; ".join(variations(spec, sheet)) + "." + facts
    return {
        "file": file,
        "office_contains": spec.short,
        "year": t.year,
        "template": t.template,
        "verdict": "rejected" if must else "accepted",
        "must_include": must,
        "should_include": should,
        "t2": sheet.t2_truth,
        "t3": sheet.t3_truth,
        "t4": sheet.t4_truth,
        "declared_office": t.office,
        "declared_year": t.year,
        "signed_on": t.signed_on.isoformat() if spec.signature else None,
        "violations": [d for _, d in found],
        "notes": notes,
        "source": "generated by tests/make_corpus.py",
    }


def pdf_facts(path: Path) -> str:
    """Where the tables fall in a PDF, read back with pdfplumber (for the notes)."""
    import pdfplumber

    texts, broken = [], []
    with pdfplumber.open(path) as pdf:
        for n, page in enumerate(pdf.pages, 1):
            texts.append("".join((page.extract_text() or "").split()))
            tables = page.find_tables()
            if n > 1 and tables and tables[0].bbox[1] < 120:  # a table at the top of the page
                for row in tables[0].extract():  # repeated header rows, then the rest of a broken row
                    label = "".join(c for c in row if c)
                    if any(ch.isdigit() for ch in label):
                        break
                    if row[-1] == "" and label:
                        broken.append(f"a row is broken across the page break ('{label}' ends it on page {n})")

    def pages(start: str, heading_after: str) -> str:
        first = next(n for n, text in enumerate(texts, 1) if start in text)
        last = next(n for n, text in enumerate(texts, 1) if heading_after in text)
        return f"{first}–{last - 1 if texts[last - 1].startswith(heading_after) else last}"

    def on(word: str) -> list[int]:
        return [n for n, text in enumerate(texts, 1) if word in text]

    out = f" The PDF has {len(texts)} pages; table 二 on pages {pages('第二十条第（一）项', heading('requests'))}"
    out += f", table 三 on pages {pages('申请人情况', heading('appeals'))}"
    if len(on("申请人情况")) > 1:
        again = on("申请人情况")[1:]
        out += f" (its header rows repeated on page{'s' if len(again) > 1 else ''} {', '.join(map(str, again))})"
    if len(on("第二十条第（一）项")) > 1:
        out += f"; 第二十条第（一）项 also printed on page {on('第二十条第（一）项')[1]} (repeated header)"
    return "; ".join([out, *broken]) + "."


# --- running it --------------------------------------------------------------------------


def soffice(binary: str, target: str, files: list[Path], outdir: Path) -> None:
    cmd = [binary, "--headless", f"-env:UserInstallation={PROFILE}", "--convert-to", target, "--outdir", str(outdir)]
    subprocess.run([*cmd, *map(str, files)], check=True, capture_output=True, timeout=1200)


def lo_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=120).stdout.split()
    return f"LibreOffice {out[1]}" if len(out) > 1 else "LibreOffice"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--soffice", default="soffice")
    args = ap.parse_args(argv)
    started = time.monotonic()
    import docx

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file() and old.suffix in (".docx", ".doc", ".wps", ".pdf", ".html", ".json"):
            old.unlink()
    lo = lo_version(args.soffice)
    pydocx = f"python-docx {docx.__version__} (tests/make_corpus.py, seed {args.seed})"
    specs = plan(args.seed)
    sheets = {s.slug: make_sheet(s, args.seed) for s in specs}
    rows: list[tuple[str, str, str, Spec]] = []  # (file, format, made by, spec)
    made: list[Path] = []
    for s in specs:
        if s.kind == "cms":
            (out / f"{s.slug}.html").write_bytes(render_cms(s, sheets[s.slug]))
            what = "CMS HTML page" if s.page else "CMS HTML fragment"
            rows.append((f"{s.slug}.html", what, "tests/make_corpus.py (TRS WCM / UEditor dialect)", s))
        else:
            (out / f"{s.slug}.docx").write_bytes(render_docx(s, sheets[s.slug]))
            made.append(out / f"{s.slug}.docx")
            rows.append((f"{s.slug}.docx", "docx", pydocx, s))
    soffice(args.soffice, "pdf", made, out)
    soffice(args.soffice, "html", made, out)
    with tempfile.TemporaryDirectory() as tmp:
        again = [p for p in made if next(s for s in specs if s.slug == p.stem).resave]
        soffice(args.soffice, "docx:MS Word 2007 XML", again, Path(tmp))
        for p in again:
            shutil.move(Path(tmp) / p.name, out / f"{p.stem}.lo.docx")
    # legacy Word: the reports not re-saved as .docx, saved as Word 97 .doc; two of them also as
    # .wps (WPS saves the same OLE2 container under that name)
    legacy = [p for p in made if p not in again]
    soffice(args.soffice, "doc:MS Word 97", legacy, out)
    wps = {p.stem for p in legacy[:2]}
    for stem in wps:
        shutil.copy(out / f"{stem}.doc", out / f"{stem}.wps")
    for s in specs:
        if s.kind != "docx":
            continue
        src = f"{s.slug}.docx (python-docx)"
        rows.append((f"{s.slug}.pdf", "pdf", f"{lo} --convert-to pdf of {src}", s))
        rows.append((f"{s.slug}.html", "html", f"{lo} --convert-to html of {src}", s))
        if s.resave:
            rows.append((f"{s.slug}.lo.docx", "docx", f'{lo} --convert-to docx:"MS Word 2007 XML" of {src}', s))
        else:
            rows.append((f"{s.slug}.doc", "doc", f'{lo} --convert-to doc:"MS Word 97" of {src}', s))
            if s.slug in wps:
                rows.append((f"{s.slug}.wps", "doc", f'{lo} --convert-to doc:"MS Word 97" of {src}, named .wps', s))
    copies = real_copies(args.soffice, lo, out)
    entries = []
    for file, fmt, by, s in rows:
        facts = pdf_facts(out / file) if file.endswith(".pdf") else ""
        truth = truth_json(s, sheets[s.slug], file, by, facts)
        (out / f"{file}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        entries.append((file, fmt, by, s, truth, facts))
    (out / "README.md").write_text(readme(entries, sheets, args.seed, copies), encoding="utf-8")
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{len(rows) + len(copies)} documents in {out} ({size / 1e6:.1f} MB) in {time.monotonic() - started:.0f} s")
    return 0


REAL = Path(__file__).parent / "fixtures" / "real"
# the real documents LibreOffice can open as text documents, opened as it opens them
REAL_COPIES = {
    "pingtan-2023.html": ("pingtan-2023", []),
    "pingtan-2019-scraped.txt": ("pingtan-2019-scraped", ["--infilter=Text (encoded):UTF8,LF,,,"]),
}


def real_copies(binary: str, lo: str, out: Path) -> list[tuple[str, str]]:
    """Real documents as LibreOffice writes them (.docx, .doc and PDF), with the real documents' truth:
    a portal's article opened in Writer/Web, a crawler's text opened as plain text. (The WPS PDF
    cannot be opened as a text document.)"""
    made: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (stem, flags) in REAL_COPIES.items():
            src = Path(tmp) / name
            shutil.copy(REAL / name, src)
            truth = json.loads((REAL / "truth" / f"{stem}.json").read_text(encoding="utf-8"))
            for target, ext in (("docx:MS Word 2007 XML", "docx"), ("doc:MS Word 97", "doc"), ("pdf", "pdf")):
                cmd = [binary, "--headless", f"-env:UserInstallation={PROFILE}", *flags, "--convert-to", target]
                subprocess.run([*cmd, "--outdir", tmp, str(src)], check=True, capture_output=True, timeout=600)
                file = f"real-{stem}.lo.{ext}"
                shutil.move(Path(tmp) / f"{Path(name).stem}.{ext}", out / file)
                by = f"{lo} --convert-to {target.split(':')[0]} of tests/fixtures/real/{name}"
                copy = {**truth, "file": file, "notes": f"Made by {by}. The real document's truth. " + truth["notes"]}
                (out / f"{file}.json").write_text(
                    json.dumps(copy, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
                )
                made.append((file, by))
    return made


Entry = tuple[str, str, str, Spec, dict[str, object], str]  # file, format, made by, spec, truth, PDF facts


def readme(entries: list[Entry], sheets: dict[str, Sheet], seed: int, copies: list[tuple[str, str]]) -> str:
    order = {".docx": 0, ".lo.docx": 1, ".doc": 2, ".wps": 3, ".pdf": 4, ".html": 5}
    rows = sorted(entries, key=lambda e: (e[3].kind == "cms", e[3].slug, order[e[0][len(e[3].slug) :]]))
    lines = [
        "# Reports made by real office software, with the truth beside each",
        "",
        "Written by `tests/make_corpus.py` (do not edit by hand): each report is written as .docx by",
        "python-docx in the national form's table structure (w:gridSpan, w:vMerge, header cells with",
        "line breaks), then converted by LibreOffice headless into PDF and HTML, and about half are",
        "re-saved as .docx by LibreOffice (`*.lo.docx`); the `cms-*.html` documents are written directly in",
        "the dialect of Chinese government portals (TRS WCM / UEditor article bodies, tables pasted from",
        "Word). Beside each document, `<file>.json` says what a correct intake concludes: the keys of",
        "`../shared/corpus/real/truth/*.json` (t2 values as strings, null for a blank cell; t3 the row set",
        "of the table as laid out; t4 review, litigation_direct, litigation_after_review × upheld,",
        "corrected, other, pending, total), plus `signed_on`. `must_include` lists the rules that must be",
        "among the findings, `should_include` the warnings a thorough validator reports. Zero cells are",
        "written `0` unless a document's variations say otherwise; a PDF's line says where its tables fall.",
        "",
        "Remake (deterministic for a seed, LibreOffice's own timestamps aside; needs Debian",
        "`libreoffice-writer-nogui` and `fonts-noto-cjk`):",
        "",
        "```sh",
        f".venv/bin/python -m tests.make_corpus   # from the checkout's root; --out DIR, --seed N (default {seed})",
        "```",
        "",
        "| file | format | made by | template | verdict | variations |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for file, fmt, by, s, truth, facts in rows:
        t = s.truth
        must = truth["must_include"]
        assert isinstance(must, list)
        verdict = "rejected (" + ", ".join(must) + ")" if must else "accepted"
        what = "; ".join(variations(s, sheets[s.slug], brief=True)).replace("|", "\\|") + "." + facts
        lines.append(f"| {file} | {fmt} | {by.split(' (')[0]} | {t.template} ({t.year}) | {verdict} | {what} |")
    lines += [
        "",
        "Real documents (tests/fixtures/real) as LibreOffice writes them, each with the real document's truth:",
        "",
    ]
    lines += [f"- `{file}`: {by}" for file, by in copies]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
