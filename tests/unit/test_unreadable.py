"""Uploads that cannot be read as a report: each gives its typed reason, fast, without crashing."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from services.parser import Limits, Reason, UnreadableUpload, parse
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parents[2]


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _encrypted_pdf() -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=pdfencrypt.StandardEncryption("secret", ownerPassword="owner"))
    c.drawString(72, 720, "2020 annual report")
    c.save()
    return buf.getvalue()


def _scanned_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(72, 72, 300, 300, fill=1)
    c.save()
    return buf.getvalue()


def _pdf_pages(n: int) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for k in range(n):
        c.drawString(72, 720, f"page {k}")
        c.showPage()
    c.save()
    return buf.getvalue()


def _zip_bomb() -> bytes:
    return _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<" + b" " * (30 * 1024 * 1024) + b"/>"})


def _gigapixel_png() -> bytes:
    """A PNG of a few dozen bytes whose header declares a 60,000 × 60,000 page (3.6 G pixels)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


NOISE = random.Random(7).randbytes(50_000)
CASES: dict[str, tuple[Callable[[], bytes], str | None, Reason, Limits | None]] = {
    "empty": (lambda: b"", None, Reason.EMPTY, None),
    "blank": (lambda: b" \n\t\r\n  ", "r.txt", Reason.EMPTY, None),
    "binary noise": (lambda: NOISE, None, Reason.BINARY, None),
    "control characters": (lambda: bytes(range(1, 32)) * 100, "r.txt", Reason.BINARY, None),
    "undecodable utf-16": (lambda: b"\xff\xfe\x00\xd8a", "r.txt", Reason.UNDECODABLE, None),
    "undecodable text": (lambda: "年度报告".encode() + b"\x81\x30\xff\xff" * 3, "r.txt", Reason.UNDECODABLE, None),
    "corrupt docx": (lambda: b"PK\x03\x04" + NOISE[:4000], "r.docx", Reason.CORRUPT, None),
    "zip that is no docx": (lambda: _zip({"a.txt": b"hello"}), "r.docx", Reason.UNSUPPORTED, None),
    "encrypted docx": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + NOISE[:4000], "r.docx", Reason.ENCRYPTED, None),
    "an Office file, no Word document": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + NOISE[:4000],
        "r.xls",
        Reason.UNSUPPORTED,
        None,
    ),
    "named docx, is text": (lambda: b"hello", "r.docx", Reason.CORRUPT, None),
    "corrupt pdf": (lambda: b"%PDF-1.7\n" + NOISE[:4000], "r.pdf", Reason.CORRUPT, None),
    "encrypted pdf": (_encrypted_pdf, "r.pdf", Reason.ENCRYPTED, None),
    "too many pdf pages": (lambda: _pdf_pages(3), "r.pdf", Reason.TOO_COMPLEX, Limits(max_pdf_pages=2)),
    "over the size limit": (lambda: SEEDS[0].read_bytes(), "r.txt", Reason.TOO_LARGE, Limits(max_bytes=1000)),
    "zip bomb": (_zip_bomb, "r.docx", Reason.TOO_COMPLEX, None),
    "gigapixel image": (_gigapixel_png, "scan.png", Reason.TOO_COMPLEX, None),
    "too many zip entries": (
        lambda: _zip({f"f{i}": b"x" for i in range(30)}),
        "r.docx",
        Reason.TOO_COMPLEX,
        Limits(max_zip_entries=20),
    ),
    "too many lines": (lambda: b"x\n" * 50, "r.txt", Reason.TOO_COMPLEX, Limits(max_lines=10)),
    "no report structure": (
        lambda: "今天天气很好。\n我们去公园散步。\n".encode() * 50,
        "r.txt",
        Reason.NOT_A_REPORT,
        None,
    ),
    "html without a report": (lambda: b"<html><body><p>hello</p></body></html>", "r.html", Reason.NOT_A_REPORT, None),
    "out of time": (lambda: SEEDS[0].read_bytes(), "r.txt", Reason.TIMEOUT, Limits(max_seconds=-1)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_unreadable_upload_gives_its_reason_in_under_a_second(case: str) -> None:
    make, name, reason, limits = CASES[case]
    data = make()
    start = time.perf_counter()
    with pytest.raises(UnreadableUpload) as info:
        parse(data, name, limits=limits)
    assert time.perf_counter() - start < 1.0
    assert info.value.reason is reason, info.value.detail
    assert info.value.detail


def test_over_sixteen_megabytes_is_refused_by_default() -> None:
    with pytest.raises(UnreadableUpload) as info:
        parse(b"x" * (16 * 1024 * 1024 + 1), "big.txt")
    assert info.value.reason is Reason.TOO_LARGE


# VmHWM, not ru_maxrss: after fork+exec, ru_maxrss still counts the (large) pytest parent.
PEAK_RSS = """
import sys
from services.parser import parse, UnreadableUpload
data = open(sys.argv[1], "rb").read()
try:
    report = parse(data, sys.argv[2])
    outcome = "parsed:" + str(report.year)
except UnreadableUpload as exc:
    outcome = exc.reason.value
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(outcome, int(peak.split()[1]) // 1024)
"""


def _peak(tmp_path, data: bytes, name: str) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(path), name],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    ).stdout.split()
    return out[0], int(out[1])


def test_peak_memory_on_a_sixteen_megabyte_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed = SEEDS[0].read_text(encoding="utf-8")
    line = "我办严格落实政府信息公开各项制度，" * 20 + "\n"
    room = 16 * 1024 * 1024 - len(seed.encode()) - 100
    for anchor in ("（二）主动公开情况 。", "（本列数据的勾稽关系"):  # in prose, and inside table 三
        pad = line * (room // len(line.encode()))
        outcome, mb = _peak(tmp_path, seed.replace(anchor, pad + anchor).encode(), "big.txt")
        assert outcome == "parsed:2020" and mb < 200, (anchor, outcome, mb)


def test_peak_memory_on_a_zip_bomb(tmp_path) -> None:  # type: ignore[no-untyped-def]
    outcome, mb = _peak(tmp_path, _zip_bomb(), "bomb.docx")
    assert outcome == "too_complex" and mb < 200


def test_unreadable_reason_survives_json() -> None:
    with pytest.raises(UnreadableUpload) as info:
        parse(b"")
    assert json.loads(json.dumps({"reason": info.value.reason})) == {"reason": "empty"}


def test_a_scan_where_ocr_finds_no_text_is_no_report() -> None:
    start = time.perf_counter()
    with pytest.raises(UnreadableUpload) as info:
        parse(_scanned_pdf(), "r.pdf")  # a page with a black square and nothing else
    assert info.value.reason is Reason.NOT_A_REPORT and "OCR" in info.value.detail
    assert time.perf_counter() - start < 15


def test_a_scan_without_ocr_installed_says_so_plainly(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(_scanned_pdf())
    code = (
        "import sys; sys.modules['rapidocr_onnxruntime'] = None  # as where the ocr extra is not installed\n"
        "from services.parser import parse, UnreadableUpload\n"
        f"try:\n    parse(open({str(scan)!r}, 'rb').read(), 'scan.pdf')\n"
        "except UnreadableUpload as exc:\n    print(exc.reason.value, exc.detail)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.startswith("ocr_missing") and "OCR is not installed" in out.stdout, out.stderr


def _lying_docx(real_size: int, declared: int = 1000) -> bytes:
    """A .docx whose zip directory and local header declare word/document.xml ``declared`` bytes
    long while it inflates to ``real_size`` (the zip bomb that lies about its sizes)."""
    import struct

    data = _zip(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document>" + b" " * real_size + b"</w:document>"}
    )
    name = b"word/document.xml"
    out = bytearray(data)
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header; central directory
        at = out.find(sig)
        while at >= 0:
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if out[name_at : name_at + len(name)] == name:
                out[at + size_at : at + size_at + 4] = struct.pack("<I", declared)
            at = out.find(sig, at + 4)
    return bytes(out)


def test_a_docx_that_lies_about_its_sizes_is_stopped_at_the_limit_in_bounded_memory() -> None:
    import tracemalloc

    bomb = _lying_docx(40 * 1024 * 1024)  # 40 MB of spaces, ~40 KB deflated, declared 1,000 bytes
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(UnreadableUpload) as info:
            parse(bomb, "report.docx", limits=Limits(max_zip_entry=8 * 1024 * 1024))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.reason in (Reason.TOO_COMPLEX, Reason.CORRUPT)
    assert peak < 64 * 1024 * 1024


def test_a_docx_needing_a_zip_version_nobody_has_is_damaged_not_a_crash() -> None:
    import struct

    data = bytearray(_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}))
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # "version needed to extract" 25.5, in the central directory
        data[at + 6 : at + 8] = struct.pack("<H", 255)
        at = data.find(b"PK\x01\x02", at + 4)
    with pytest.raises(UnreadableUpload) as info:
        parse(bytes(data), "report.docx")
    assert info.value.reason in (Reason.CORRUPT, Reason.UNSUPPORTED)


def test_a_cell_of_thousands_of_digits_is_no_number_and_no_crash() -> None:
    text = SEEDS[0].read_text(encoding="utf-8").replace("行政许可 0 0 0", "行政许可 " + "9" * 5000 + " 0 0", 1)
    report = parse(text.encode(), "r.txt")
    cell = report.tables.t2["licensing"]["prev_items"]
    assert cell["value"] is None and cell.get("state") == "unread"


def test_invalid_base64_in_a_submission_is_answered_as_unreadable() -> None:
    import asyncio
    import datetime as dt

    from contracts.events import SubmissionReceived
    from services.parser.service import make_handler
    from services.streams import Settings

    now = dt.datetime(2025, 1, 20, tzinfo=dt.UTC)
    handle = make_handler(None, Settings(), lambda: now)  # type: ignore[arg-type]  (inline bytes: no Redis read)
    sub = SubmissionReceived(
        event_id="submitted:s1:x",
        submission_id="s1",
        office_id="xigong",
        occurred_at=now,
        submitted_at=now,
        producer="portal",
        file_name="r.txt",
        sha256="0" * 64,
        size=3,
        content_b64="not base64 at all!!",
    )
    result = asyncio.run(handle(sub))
    (out,) = result.outputs
    verdict = out.event.verdict  # type: ignore[attr-defined]
    assert verdict.findings[0].rule == "DOC-UNREADABLE" and verdict.findings[0].actual == "corrupt"
