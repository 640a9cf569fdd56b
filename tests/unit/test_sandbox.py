"""The sandbox: uploads read in a child process under kernel limits; whatever happens to the
child, the upload gets an answer and the next upload is read."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.parser.core import parse
from services.parser.errors import Reason, UnreadableUpload
from services.parser.limits import Limits
from services.parser.sandbox import Sandbox, SandboxLimits, SandboxPool
from tests.unit.test_unreadable import _lying_docx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REAL_PDF = FIXTURES / "real" / "huaian-hongze-2024.pdf"
DOCX = FIXTURES / "made" / "agri-2021.docx"
SCAN_PNG = FIXTURES / "scans" / "puxi-2020.t3-page.png"


@pytest.fixture
def make() -> Iterator[type[Sandbox]]:
    made: list[Sandbox] = []

    class Closing(Sandbox):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self)

    yield Closing
    for box in made:
        box.close()


def _peak_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def _big_docx(size: int) -> bytes:
    """A .docx whose document.xml truly inflates to ``size`` bytes (written in chunks: the test
    itself never holds it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as entry:
            entry.write(b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">')
            entry.write(b"<w:body><w:p><w:r><w:t>")
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                entry.write(chunk)
            entry.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return out.getvalue()


def _read_right_after(box: Sandbox) -> None:
    report = box.parse(DOCX.read_bytes(), DOCX.name)
    assert report == parse(DOCX.read_bytes(), DOCX.name)


def test_an_upload_read_in_the_sandbox_is_the_report_read_in_process(make: type[Sandbox]) -> None:
    box = make(Limits())
    for path in (REAL_PDF, DOCX):
        assert box.parse(path.read_bytes(), path.name) == parse(path.read_bytes(), path.name)
    assert box.started == 1  # one warm child for both


def test_an_unreadable_upload_keeps_its_reason_and_the_child(make: type[Sandbox]) -> None:
    box = make(Limits())
    with pytest.raises(UnreadableUpload) as info:
        box.parse(b"\x00\x01 not a report", "r.txt")
    assert info.value.reason == Reason.BINARY
    _read_right_after(box)
    assert box.started == 1


def test_a_bomb_past_the_readers_own_checks_is_stopped_by_the_memory_limit(make: type[Sandbox]) -> None:
    # the reader's zip limits opened wide, so that only the kernel's limit on the child stands in the way
    wide = Limits(max_zip_entry=2**31, max_zip_total=2**31, max_zip_ratio=10**9)
    bomb = _big_docx(600 * 1024 * 1024)  # 600 MB of spaces, 600 KB deflated
    box = make(wide)
    with pytest.raises(UnreadableUpload) as info:
        box.parse(bomb, "report.docx")
    assert info.value.reason == Reason.TOO_COMPLEX
    _read_right_after(box)


def test_the_lying_zip_bomb_is_answered_and_the_reading_process_stays_under_400_mb(make: type[Sandbox]) -> None:
    box = make(Limits())
    with pytest.raises(UnreadableUpload) as info:
        box.parse(_lying_docx(300 * 1024 * 1024), "report.docx")  # the 306 KB .docx: 300 MB inflated
    assert info.value.reason in (Reason.TOO_COMPLEX, Reason.CORRUPT)  # stopped at the limit, or at its CRC
    assert box.pid is not None and _peak_kb(box.pid) < 400 * 1024


def test_a_sixteen_megabyte_report_fits_the_memory_limit(make: type[Sandbox]) -> None:
    seed = (FIXTURES / "real" / "pingtan-2019-scraped.txt").read_text(encoding="utf-8")
    line = "我办严格落实政府信息公开各项制度，" * 20 + "\n"
    room = 16 * 1024 * 1024 - len(seed.encode()) - 100
    big = seed + line * (room // len(line.encode()))
    box = make(Limits())
    assert box.parse(big.encode(), "big.txt").year == parse(seed.encode(), "r.txt").year
    assert box.pid is not None and _peak_kb(box.pid) < 400 * 1024


def test_a_reading_past_its_time_is_stopped_and_the_next_upload_is_read(make: type[Sandbox]) -> None:
    # OCR of a page takes seconds; a budget of a fraction of one, and no grace
    box = make(Limits(max_seconds=0.3, ocr_seconds=0.3), SandboxLimits(grace_s=0.2))
    start = time.monotonic()
    with pytest.raises(UnreadableUpload) as info:
        box.parse(SCAN_PNG.read_bytes(), SCAN_PNG.name)
    assert time.monotonic() - start < 3.0
    assert info.value.reason in (Reason.TIMEOUT, Reason.TOO_COMPLEX)
    _read_right_after(box)
    assert box.started == 2


def test_a_child_killed_mid_read_answers_too_complex_and_a_new_one_takes_over(make: type[Sandbox]) -> None:
    box = make(Limits())
    _read_right_after(box)
    pid = box.pid
    assert pid is not None
    threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
    with pytest.raises(UnreadableUpload) as info:
        box.parse(SCAN_PNG.read_bytes(), SCAN_PNG.name)  # seconds of OCR: killed on the way
    assert info.value.reason == Reason.TOO_COMPLEX and "killed" in info.value.detail
    _read_right_after(box)
    assert box.pid not in (None, pid)


def test_a_scan_widens_the_limits_for_its_own_reading_only(make: type[Sandbox]) -> None:
    box = make(Limits())
    report = box.parse(SCAN_PNG.read_bytes(), SCAN_PNG.name)
    assert report.scanned_pages == 1
    _read_right_after(box)
    assert box.started == 2  # the child that ran OCR (1.5 GB mapped) was replaced


def test_a_pdf_whose_font_widths_claim_a_billion_glyphs_reads_in_bounded_time_and_memory(
    make: type[Sandbox],
) -> None:
    """The issue's PDF bomb: one range of a CID font's /W array widened to a billion glyphs (the
    same length, so the file's offsets still hold). It cost pdfminer gigabytes; PDFium reads the
    report as it is."""
    data = REAL_PDF.read_bytes()
    old = b"16 [333 250] 19 27 500"
    assert data.count(old) == 1
    bomb = data.replace(old, b"19 1000000000 500".ljust(len(old)))
    box = make(Limits())
    start = time.monotonic()
    report = box.parse(bomb, "report.pdf")
    assert time.monotonic() - start < 5
    assert report.tables == parse(data, "report.pdf").tables
    assert box.pid is not None and _peak_kb(box.pid) < 400 * 1024


def test_a_pool_reads_uploads_side_by_side_and_a_bomb_costs_only_its_own_child() -> None:
    """Two uploads at once in a pool of two: each in its own child (two children started), both
    read right; a bomb read beside a good upload takes down its child only."""
    pool = SandboxPool(Limits(max_zip_entry=2**31, max_zip_total=2**31, max_zip_ratio=10**9), size=2)
    try:
        results: dict[str, object] = {}
        gate = threading.Barrier(2)

        def read(name: str, data: bytes, filename: str) -> None:
            gate.wait()
            try:
                results[name] = pool.parse(data, filename)
            except UnreadableUpload as exc:
                results[name] = exc.reason

        pairs = [("pdf", REAL_PDF.read_bytes(), REAL_PDF.name), ("bomb", _big_docx(600 * 1024 * 1024), "r.docx")]
        threads = [threading.Thread(target=read, args=pair) for pair in pairs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results["pdf"] == parse(REAL_PDF.read_bytes(), REAL_PDF.name)
        assert results["bomb"] == Reason.TOO_COMPLEX
        assert pool.started == 2
        assert pool.parse(DOCX.read_bytes(), DOCX.name) == parse(DOCX.read_bytes(), DOCX.name)
    finally:
        pool.close()


def test_a_started_sandbox_reads_its_first_upload_in_the_child_it_started(make: type[Sandbox]) -> None:
    """The service starts its readers' children with itself: the first upload finds one waiting."""
    box = make(Limits())
    assert box.pid is None
    box.start()
    child = box.pid
    assert child is not None
    _read_right_after(box)
    assert box.pid == child and box.started == 1
