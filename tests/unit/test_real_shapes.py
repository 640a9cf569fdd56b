"""The shapes real uploads have, one at a time: each made from a real document or a seed, changed
the way portals, office software and crawlers change them."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.parser import parse
from services.parser.document import split_inline
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "fixtures" / "real"
ARTICLE = (REAL / "pingtan-2023.html").read_text(encoding="utf-8")  # a CMS article body, no title in it
SEED000 = SEEDS[0].read_text(encoding="utf-8")
HUAIAN = "淮安市洪泽区人民政府2024年政府信息公开工作年度报告"
MOLING = "南京市江宁区秣陵街道办事处2019年政府信息公开工作年度报告"
XIGONG = "西工区西工街道办事处2020年政府信息公开工作年度报告"


def _values(report: object, row: str) -> list[object]:
    return [c["value"] for c in report.tables.t3[row].values()]  # type: ignore[attr-defined]


def test_an_article_body_whose_first_table_is_far_down_is_html_by_its_name() -> None:
    body = "<p>" + "政务公开工作持续推进。" * 500 + "</p>" + ARTICLE
    assert body.find("<table") > 4096
    report = parse(body.encode(), "report.html")
    assert report.format == "html" and _values(report, "new_received") == [80, 1, 0, 0, 0, 0, 81]
    assert parse(body.encode(), None, "text/html").format == "html"


def test_a_pages_own_title_is_the_reports_title_when_the_body_has_none() -> None:
    page = (
        "<html><head><title>平潭综合实验区2023年政府信息公开工作年度报告_政府信息公开年报_平潭综合实验区"
        "</title></head><body>" + ARTICLE + "</body></html>"
    )
    report = parse(page.encode(), "page.html")
    assert report.title == "平潭综合实验区2023年政府信息公开工作年度报告"
    assert report.office == "平潭综合实验区" and report.year == 2023
    meta = '<html><head><meta name="ArticleTitle" content="平潭综合实验区2023年政府信息公开工作年度报告"></head><body>'
    assert parse((meta + ARTICLE + "</body></html>").encode()).title == "平潭综合实验区2023年政府信息公开工作年度报告"


def test_a_layout_table_holding_the_article_is_read_as_its_text() -> None:
    page = "<html><body><table><tr><td><p>平潭综合实验区2023年政府信息公开工作年度报告</p>" + ARTICLE
    report = parse((page + "</td></tr></table></body></html>").encode())
    assert list(report.sections) == ["overview", "proactive", "requests", "appeals", "problems", "other"]
    assert report.title == "平潭综合实验区2023年政府信息公开工作年度报告"
    assert _values(report, "partially_granted") == [19, 1, 0, 0, 0, 0, 20]


def test_headings_inside_a_long_line_are_cut_out_but_not_sections_named_in_a_sentence() -> None:
    line = (
        "如对本报告有疑问，请与本机关联系。一、总体情况2019年，我区认真贯彻落实《条例》。"
        "二、主动公开政府信息情况 第二十条"
    )
    assert split_inline(line) == [
        "如对本报告有疑问，请与本机关联系。",
        "一、总体情况",
        "2019年，我区认真贯彻落实《条例》。",
        "二、主动公开政府信息情况",
        " 第二十条",
    ]
    listing = "本报告包括一、总体情况，二、主动公开政府信息情况，三、收到和处理政府信息公开申请情况等部分。" * 2
    assert split_inline(listing) == [listing]


@pytest.mark.parametrize(
    ("lines", "title"),
    [
        (["淮安市洪泽区人民政府", "2024年政府信息公开工作年度报告"], HUAIAN),
        (["南京市江宁区秣陵街道办事处2019年政", "府信息公开工作年度报告"], MOLING),
        ([XIGONG], XIGONG),
    ],
    ids=["office-then-year", "wrapped-by-the-page", "one-line"],
)
def test_a_title_over_lines_is_joined_while_it_lacks_its_year_or_office(lines: list[str], title: str) -> None:
    text = SEED000.replace("西工区西工街道办事处2020年政府信息公开工作年度报告", "\n".join(lines), 1)
    report = parse(text.encode())
    assert report.title == title and report.year == int(title[-17:-13])
    assert report.office == title[:-17]


def test_a_wrapped_line_of_a_paragraph_ending_in_report_is_no_title() -> None:
    text = SEED000.replace(
        "西工区西工街道办事处2020年政府信息公开工作年度报告",
        "根据《国务院办公厅政府信息与政务公开办公室关于印发〈中华人民共和国政府信息公开工作年度\n"
        "办公厅政府信息与政务公开办公室关于印发〈中华人民共和国政府信息公开工作年度报告格式〉",
        1,
    )
    report = parse(text.encode())
    assert report.title is None and report.office_sources.title is None


def test_a_misprinted_row_between_two_rows_found_by_label_is_that_row() -> None:
    text = SEED000.replace("2.其他法律行政法规禁止公开 0 0 0 0 0 0 0", "2.其他法律行政止公开 0 0 0 0 0 0 0", 1)
    report = parse(text.encode())
    assert _values(report, "denied.prohibited_by_law") == [0] * 7
    assert report.rows.t3["denied.prohibited_by_law"]["label"] == "2.其他法律行政止公开"
    assert report.extra_rows == ()


def test_a_local_row_where_no_row_is_missing_stays_an_extra_row() -> None:
    text = SEED000.replace(
        "二、上年结转政府信息公开申请数量 0 0 0 0 0 0 0",
        "其中：通过网络申请 3 0 0 0 0 0 3\n二、上年结转政府信息公开申请数量 0 0 0 0 0 0 0",
        1,
    )
    report = parse(text.encode())
    assert [e.label for e in report.extra_rows] == ["其中：通过网络申请"]
    assert _values(report, "new_received") == [0] * 7 and _values(report, "carried_over") == [0] * 7


def test_a_misprinted_row_is_not_placed_when_its_neighbours_do_not_pin_it() -> None:
    # two rows whose labels name nothing, where one template row is missing: which is it? neither
    text = SEED000.replace(
        "2.其他法律行政法规禁止公开 0 0 0 0 0 0 0",
        "2.其他法律行政止公开 0 0 0 0 0 0 0\n其中：涉密 1 0 0 0 0 0 1",
        1,
    )
    report = parse(text.encode())
    assert "denied.prohibited_by_law" not in report.tables.t3
    assert {e.label for e in report.extra_rows} == {"2.其他法律行政止公开", "其中：涉密"}


def test_a_misprint_unlike_the_missing_row_is_not_placed() -> None:
    text = SEED000.replace("2.其他法律行政法规禁止公开 0 0 0 0 0 0 0", "补充说明 0 0 0 0 0 0 0", 1)
    report = parse(text.encode())
    assert "denied.prohibited_by_law" not in report.tables.t3


def test_crawled_rows_of_a_label_and_its_figures_run_together_are_read() -> None:
    text = SEED000.replace("规章 0 0 0", "规章000", 1).replace(
        "（一）予以公开 0 0 0 0 0 0 0", "（一）予以公开0000000", 1
    )
    report = parse(text.encode())
    assert [c["value"] for c in report.tables.t2["rules"].values()] == [0, 0, 0]
    assert _values(report, "granted") == [0] * 7
    assert report.rows.t2["rules"]["note"] and "together" in report.rows.t2["rules"]["note"]


def test_a_multi_digit_figure_with_separators_in_table_two_is_a_number_not_figures_run_together() -> None:
    report = parse(SEED000.replace("行政许可 0 0 0", "行政许可 120", 1).encode())
    read = report.rows.t2["licensing"]
    assert read["uncertain"] and not read.get("run_together") and [c["raw"] for c in read["unplaced"]] == ["120"]


def test_a_pages_breadcrumbs_and_links_to_other_reports_are_no_title() -> None:
    chrome = (
        "<html><head><title>平潭综合实验区2023年政府信息公开工作年度报告_平潭</title></head><body>"
        "<div>当前位置：首页 > 政府信息公开 > 年度报告</div>"
        "<div>上一篇：平潭综合实验区2022年政府信息公开工作年度报告</div>"
    )
    report = parse((chrome + ARTICLE + "</body></html>").encode())
    assert report.title == "平潭综合实验区2023年政府信息公开工作年度报告" and report.year == 2023


def test_a_crawlers_header_names_the_title_and_the_publishing_office() -> None:
    text = "标题: 某县人民政府2019年政府信息公开工作年度报告\n发布机构: 某县人民政府办公室\n" + SEED000
    report = parse(text.encode())
    assert report.title == "某县人民政府2019年政府信息公开工作年度报告"
    assert report.office_sources.submitter == "某县人民政府办公室"
