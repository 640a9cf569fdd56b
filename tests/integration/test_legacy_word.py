"""Legacy Word (.doc, .wps) through the real converter, LibreOffice headless; and a converter that
is missing, hangs or dies: a plain reason, never a crash, and the next upload reads as usual."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from contracts.events import ReportJudged
from services.observability import Metrics
from services.parser import Reason, UnreadableUpload, parse
from services.parser.limits import Limits
from services.validator import unreadable

MADE = Path(__file__).resolve().parents[1] / "fixtures" / "made"
LEGACY = sorted([*MADE.glob("*.doc"), *MADE.glob("*.wps")])


def test_libreoffice_is_installed_for_these_tests() -> None:
    assert shutil.which("soffice"), "Debian libreoffice-writer-nogui (scripts/test installs it)"
    assert len(LEGACY) >= 8 and any(p.suffix == ".wps" for p in LEGACY)


@pytest.mark.parametrize("path", LEGACY, ids=[p.name for p in LEGACY])
def test_a_legacy_word_file_reads_exactly_as_its_docx_twin(path: Path) -> None:
    legacy = parse(path.read_bytes(), path.name)
    twin = parse((MADE / f"{path.stem}.docx").read_bytes(), f"{path.stem}.docx")
    assert legacy.format == "doc" and twin.format == "docx"
    for table in ("t2", "t3", "t4"):
        got = {r: {c: cell["value"] for c, cell in cols.items()} for r, cols in getattr(legacy.tables, table).items()}
        want = {r: {c: cell["value"] for c, cell in cols.items()} for r, cols in getattr(twin.tables, table).items()}
        assert got == want, table
    assert (legacy.office, legacy.year, legacy.title, legacy.signed_on) == (
        twin.office,
        twin.year,
        twin.title,
        twin.signed_on,
    )
    assert list(legacy.sections) == list(twin.sections)


def _converter(tmp_path: Path, body: str) -> str:
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


DOC = LEGACY[0].read_bytes() if LEGACY else b""


def test_without_a_converter_the_reason_says_so_plainly_and_is_counted() -> None:
    with pytest.raises(UnreadableUpload) as info:
        parse(DOC, "report.doc", limits=Limits(soffice=""))
    assert info.value.reason is Reason.CONVERTER_MISSING
    assert info.value.detail == "legacy Word: converter not installed"
    verdict = unreadable(info.value.reason, info.value.detail)
    assert "旧版 Word" in verdict.findings[0].message_zh
    metrics = Metrics()
    now = dt.datetime.now(dt.UTC)
    event = ReportJudged(
        event_id="judged:s:x",
        submission_id="s",
        office_id="xigong",
        occurred_at=now,
        submitted_at=now,
        producer="parser",
        file_name="report.doc",
        verdict=verdict,
    )
    metrics.on_entry("notifier", "handled", 0.001, event)
    assert metrics.registry.get_sample_value("intake_unreadable_total", {"reason": "converter_missing"}) == 1


def test_a_converter_that_hangs_is_killed_with_its_children_and_the_next_upload_reads(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    hang = _converter(tmp_path, f"sleep 300 &\necho $! > {child}\nwait")
    start = time.monotonic()
    with pytest.raises(UnreadableUpload) as info:
        parse(DOC, "report.doc", limits=Limits(soffice=hang, convert_seconds=1.0))
    assert time.monotonic() - start < 5
    assert info.value.reason is Reason.CONVERTER_FAILED and "stopped" in info.value.detail
    pid = int(child.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid):  # the converter's own children are killed with it (soffice starts soffice.bin)
        assert time.monotonic() < deadline, f"the converter's child {pid} is still running"
        time.sleep(0.05)
    assert parse(DOC, "report.doc").format == "doc"  # the real converter, right after


def test_a_converter_that_dies_gives_a_clear_reason(tmp_path: Path) -> None:
    dies = _converter(tmp_path, "echo 'soffice.bin: fatal error' >&2\nkill -9 $$")
    with pytest.raises(UnreadableUpload) as info:
        parse(DOC, "report.doc", limits=Limits(soffice=dies))
    assert info.value.reason is Reason.CONVERTER_FAILED and "converter failed" in info.value.detail


def test_a_converter_that_writes_nothing_gives_a_clear_reason(tmp_path: Path) -> None:
    silent = _converter(tmp_path, "exit 0")
    with pytest.raises(UnreadableUpload) as info:
        parse(DOC, "report.doc", limits=Limits(soffice=silent))
    assert info.value.reason is Reason.CONVERTER_FAILED and "could not read" in info.value.detail


def test_a_damaged_word_file_is_unreadable_not_a_crash() -> None:
    damaged = DOC[:512] + os.urandom(4096) + "WordDocument".encode("utf-16-le") + os.urandom(4096)  # header, noise
    with pytest.raises(UnreadableUpload) as info:
        parse(damaged, "report.doc")
    assert info.value.reason in (Reason.CONVERTER_FAILED, Reason.CORRUPT, Reason.NOT_A_REPORT)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead (its parent, the killed converter, did not reap it)
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
