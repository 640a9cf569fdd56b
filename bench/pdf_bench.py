"""PDF pages/s on real and office-made PDFs, side by side in one run, on one core:

    taskset -c 1 python bench/pdf_bench.py [--repeat 3]

- ``pdfplumber``: what the PDF reader did before (pdfplumber: each page's tables found, its
  text lines, each table's cells), the extraction alone;
- ``pdfium floor``: pypdfium2's text extraction of each page, nothing else: the floor for a
  text layer;
- ``parse (pdfium)``: the whole parser as it is now (characters, rules and tables through
  PDFium, then the report), to a ``ParsedReport``.

The PDFs: tests/fixtures/real/*.pdf (WPS) and tests/fixtures/made/*.pdf (LibreOffice). Best of
``--repeat`` passes.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pdfplumber  # noqa: E402
import pypdfium2 as pdfium  # noqa: E402

from services.parser import parse  # noqa: E402


def with_pdfplumber(data: bytes) -> None:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            found = page.find_tables()
            page.extract_text_lines(return_chars=False)
            for table in found:
                table.extract()


def pdfium_floor(data: bytes) -> None:
    pdf = pdfium.PdfDocument(data)
    for page in pdf:
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
    pdf.close()


def parsed(data: bytes) -> None:
    parse(data, "report.pdf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    files = sorted((ROOT / "tests" / "fixtures" / "real").glob("*.pdf"))
    files += sorted((ROOT / "tests" / "fixtures" / "made").glob("*.pdf"))
    docs = [p.read_bytes() for p in files]
    pages = sum(len(pdfium.PdfDocument(d)) for d in docs)
    ways: list[tuple[str, Callable[[bytes], None]]] = [
        ("pdfplumber (before)", with_pdfplumber),
        ("pdfium floor (text only)", pdfium_floor),
        ("parse (pdfium, now)", parsed),
    ]
    print(f"{len(docs)} PDFs, {pages} pages")
    print(f"{'way':28} {'pages/s':>8} {'ms/page':>8}")
    for name, way in ways:
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            for d in docs:
                way(d)
            best = min(best, time.perf_counter() - start)
        print(f"{name:28} {pages / best:8.1f} {1000 * best / pages:8.2f}")


if __name__ == "__main__":
    main()
