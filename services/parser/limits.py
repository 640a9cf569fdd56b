"""Safe limits for reading untrusted uploads; every check happens before the costly step."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from services.parser.errors import Reason, UnreadableUpload

MB = 1024 * 1024
# a cell read off a scan with less confidence than this is uncertain: shown, never taken as a value
OCR_THRESHOLD = 0.90


@dataclass(frozen=True, slots=True)
class Limits:
    """Defaults suit real reports (a few hundred KB) with a wide margin."""

    max_bytes: int = 16 * MB
    max_zip_entries: int = 2_000
    max_zip_total: int = 64 * MB  # expanded size of every entry together
    max_zip_entry: int = 32 * MB  # expanded size of one entry
    max_zip_ratio: int = 200  # expanded / compressed, per entry
    max_pdf_pages: int = 200
    max_seconds: float = 20.0
    max_lines: int = 200_000
    # legacy Word (.doc/.wps) is converted by LibreOffice: its ``soffice`` (None: found on PATH,
    # "": none, the upload is then unreadable with that reason) and the time one conversion may take
    soffice: str | None = None
    convert_seconds: float = 30.0
    # scanned pages are read by OCR, seconds a page: an upload that needs it has this budget instead
    ocr_seconds: float = 120.0
    max_image_pixels: int = 50_000_000  # a PNG/JPEG upload (an A4 page at 600 dpi is 35 M)


class Deadline:
    """A per-document time budget, checked between pages, tables and other big steps."""

    __slots__ = ("_end", "_on_extend", "_seconds")

    def __init__(self, seconds: float, on_extend: Callable[[float], None] | None = None) -> None:
        self._seconds = seconds
        self._end = time.monotonic() + seconds
        self._on_extend = on_extend  # told of each extension (the sandbox widens its limits then)

    def extend(self, seconds: float) -> None:
        """The budget made ``seconds`` from the start (when it is more than it was)."""
        start = self._end - self._seconds
        if seconds > self._seconds:
            self._seconds = seconds
            self._end = start + seconds
        if self._on_extend is not None:
            self._on_extend(self._seconds)

    def left(self) -> float:
        """Seconds left of the budget."""
        return self._end - time.monotonic()

    def check(self) -> None:
        if time.monotonic() > self._end:
            raise UnreadableUpload(Reason.TIMEOUT, f"reading took longer than {self._seconds:g} s")
