"""Notices in Chinese: snapshots of what offices read, escaping, and headers free of document text."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from contracts.notice import SubmissionRef
from contracts.verdict import Office
from services.notifier.notice import render_notice
from services.parser import Reason, parse
from services.validator import unreadable, validate
from tests.conftest import SEEDS

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"
PUXI = Office(id="puxi", name="沈阳市辽中区蒲西街道办事处", aliases=("蒲西街道",), email="gk@puxi.example.gov.cn")
SUBMISSION = SubmissionRef(
    submission_id="sub-20210127-0042",
    office_id="puxi",
    file_name="蒲西街道2020年报.docx",
    declared_year=2020,
    submitted_at=dt.datetime(2021, 1, 27, 9, 30),
)
TODAY = dt.date(2021, 1, 28)


def snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("INTAKE_UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed (INTAKE_UPDATE_SNAPSHOTS=1 to accept)"


@pytest.fixture(scope="module")
def notice_004():  # type: ignore[no-untyped-def]
    report = parse(SEEDS[4].read_bytes())
    return render_notice(validate(report), report, PUXI, SUBMISSION, TODAY)


def test_rejection_notice_snapshot(notice_004) -> None:  # type: ignore[no-untyped-def]
    snapshot("notice_004.txt", f"Subject: {notice_004.subject}\n\n{notice_004.text}")
    snapshot("notice_004.html", notice_004.html)


def test_rejection_notice_says_what_where_and_how(notice_004) -> None:  # type: ignore[no-untyped-def]
    text = notice_004.text
    assert notice_004.kind == "rejection"
    assert notice_004.subject == "关于退回《沈阳市辽中区蒲西街道办事处2020年政府信息公开工作年度报告》的通知"
    assert text.startswith("沈阳市辽中区蒲西街道办事处：")
    assert "sub-20210127-0042" in text and "2021年1月27日" in text
    assert "存在以下4项须修改的问题" in text
    assert "表三（收到和处理政府信息公开申请情况） “（七）总计”行 “自然人”列" in text  # table, row, column
    assert "“（七）总计”为0，但（一）至（六）各项办理结果之和为1，相差1" in text  # the numbers
    assert "如何修改和重新报送" in text and "填写“0”" in text  # the fix
    errors, _, warnings = text.partition("二、提示")
    assert "TPL-UNIT" in warnings and "TPL-UNIT" not in errors
    assert "T3-BALANCE" in errors and "T3-BALANCE" not in warnings


def test_unreadable_upload_gets_a_notice() -> None:
    verdict = unreadable(Reason.ENCRYPTED, "the .docx file is password-protected")
    notice = render_notice(verdict, None, PUXI, SUBMISSION, TODAY)
    assert "文件设置了密码保护" in notice.text and "DOC-UNREADABLE" in notice.text
    assert notice.subject.startswith("关于退回")


def test_document_text_is_escaped_and_never_reaches_the_subject() -> None:
    text = (
        SEEDS[0]
        .read_text(encoding="utf-8")
        .replace(
            "西工区西工街道办事处2020年政府信息公开工作年度报告",
            "西工<script>x</script>Bcc=x@evil.cn 2020年政府信息工作年度报告",  # (a title holds no colon)
        )
    )
    report = parse(text.encode())
    notice = render_notice(validate(report), report, PUXI, SUBMISSION, TODAY)
    assert "<script>" not in notice.html and "&lt;script&gt;" in notice.html
    assert "\n" not in notice.subject and "\r" not in notice.subject
    assert "evil" not in notice.subject and "script" not in notice.subject


def test_acceptance_lists_warnings_apart() -> None:
    report = parse(SEEDS[3].read_bytes())
    notice = render_notice(validate(report), report, None, SubmissionRef(submission_id="s"), TODAY)
    assert notice.kind == "acceptance" and "予以受理" in notice.text
    assert "须修改的问题" not in notice.text and "TPL-CELL-SUSPECT" in notice.text


def test_document_text_quoted_in_a_notice_is_capped() -> None:
    """A cell stuffed with text reaches the office as a short quote, not as the whole cell."""
    import datetime as dt

    from contracts.notice import SubmissionRef
    from contracts.report import ParsedReport
    from services.notifier.notice import render_notice
    from services.parser import parse
    from services.validator import validate
    from services.validator.core import QUOTE_MAX
    from tests.conftest import SEEDS

    data = parse(SEEDS[0].read_bytes()).model_dump()
    data["tables"]["t3"]["total"]["natural_person"].update(raw="很长" * 2000, value=None, state="unread")
    verdict = validate(ParsedReport.model_validate(data))
    assert verdict.status == "rejected" and "TPL-CELL-INVALID" in {f.rule for f in verdict.findings}
    notice = render_notice(verdict, None, None, SubmissionRef(submission_id="s"), dt.date(2021, 1, 20))
    assert QUOTE_MAX <= 100
    assert "很长" * 50 not in notice.text and "很长很长" in notice.text and "…”" in notice.text
    assert len(notice.text) < 10_000
    assert all(len(f.actual) <= 100 for f in verdict.findings if isinstance(f.actual, str))
