"""Scanned reports (图片版) made from the office-made corpus, each with its truth: a test bed for OCR.

Portals publish reports that were printed and scanned, or PDFs rendered to images. This script
renders PDFs of tests/fixtures/made (and the real WPS PDF tests/fixtures/real/huaian-hongze-2024.pdf)
page by page with ``pdftoppm -gray``, optionally turns each page by a small angle and adds light
noise (gaussian grain before binarising, flipped pixels, a faint grey paper), and assembles the pages
into PDFs of images only, with no text layer and no fonts: 1-bit pages (CCITT G4, as an office
scanner's black-and-white mode writes them) or greyscale JPEG pages. It also writes one page holding
the start of table 三 as a greyscale PNG. Beside each document, ``<file>.json`` is the source's truth
with ``file`` and ``notes`` (how it was made) changed and a ``scan`` key (source, dpi, mode, the angle
of each page, noise); the PNG's truth holds only the table 三 rows on that page (``partial``: true).

    .venv/bin/python -m tests.make_scans [--out DIR] [--seed N]

Needs poppler-utils (pdftoppm, pdftotext, pdffonts) and Pillow. Deterministic for a seed: the same
bytes on every run. tests/fixtures/scans/README.md is written by it too.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pdfplumber
from PIL import Image, ImageChops

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OUT = FIXTURES / "scans"
SEED = 20250121
STAMP = time.gmtime(1737331200)  # 2025-01-20T00:00:00Z: fixed PDF dates, so that a remake gives the same bytes
T3_PAGE_SOURCE = "made/puxi-2020.pdf"  # table 三 starts on its page 3 and goes on to page 4
T3_FIRST_ROW = "本年新收政府信息公开申请数量"
BLANKS = {"", "/", "／", "—", "－", "-"}  # after whitespace (ideographic space too) is taken out


@dataclass(frozen=True)
class Scan:
    """One image-only PDF: which source, at what resolution, how its pages are written and spoiled."""

    source: str  # relative to tests/fixtures
    dpi: int
    mode: str  # "bw": 1-bit pages, CCITT G4; "grey": 8-bit pages, JPEG
    rotate: bool = False  # each page turned by its own angle, 0.2°-1° either way
    grain: float = 0.0  # sigma (grey levels) of gaussian noise added before binarising / encoding
    flip: float = 0.0  # fraction of pixels flipped after binarising ("bw" only)
    paper: int = 0  # grey levels below white of the paper ("grey" only)
    quality: int = 60  # JPEG quality ("grey" only)
    threshold: int = 176  # grey level below which a pixel turns black ("bw" only)

    @property
    def stem(self) -> str:
        return Path(self.source).stem

    @property
    def flip_fine(self) -> int:
        return max(1, round(self.flip * 65536 / FLIP_COARSE))

    @property
    def flipped(self) -> float:
        """The fraction of pixels flipped, as the random bytes allow it."""
        return FLIP_COARSE * self.flip_fine / 65536 if self.flip else 0.0

    @property
    def name(self) -> str:
        return f"{self.stem}.scan{self.dpi}{'-rot' if self.rotate else ''}.pdf"

    @property
    def truth_path(self) -> Path:
        src = FIXTURES / self.source
        if src.parent.name == "real":
            return src.parent / "truth" / f"{src.stem}.json"
        return src.with_name(src.name + ".json")

    def noise(self) -> str:
        parts = []
        if self.grain:
            parts.append(f"gaussian grain sigma {self.grain:g} grey levels{' before binarising' * (self.mode == 'bw')}")
        if self.flip:
            parts.append(f"{self.flipped * 100:.3g} % of pixels flipped")
        if self.paper:
            parts.append(f"grey paper ({255 - self.paper}/255)")
        return ", ".join(parts) or "none"

    def encoding(self) -> str:
        if self.mode == "bw":
            return f"1-bit (threshold {self.threshold}), CCITT G4"
        return f"8-bit greyscale, JPEG quality {self.quality}"


# Both templates; the real WPS PDF; blanks written '—' (market-2022) and '/' (xiguan-2019); arithmetic
# errors in table 三 (eco-2020, xianfeng-2021) and table 四 (county-2020). Every source at 150 dpi.
SCANS = (
    Scan("real/huaian-hongze-2024.pdf", 150, "grey", quality=60),
    Scan("real/huaian-hongze-2024.pdf", 150, "bw", rotate=True, grain=12, flip=0.003),
    Scan("real/huaian-hongze-2024.pdf", 200, "bw"),
    Scan("made/eco-2020.pdf", 150, "bw"),
    Scan("made/eco-2020.pdf", 200, "bw", rotate=True, grain=16, flip=0.002),
    Scan("made/xianfeng-2021.pdf", 150, "bw"),
    Scan("made/xianfeng-2021.pdf", 200, "bw", rotate=True, grain=10, flip=0.002),
    Scan("made/market-2022.pdf", 150, "bw", rotate=True, grain=20, flip=0.004),
    Scan("made/xiguan-2019.pdf", 150, "bw", rotate=True, grain=12, flip=0.003),
    Scan("made/edu-2025.pdf", 150, "bw"),
    Scan("made/county-2020.pdf", 150, "bw", rotate=True, grain=8, flip=0.01),
    Scan("made/moling-2019.pdf", 150, "grey", rotate=True, grain=5, paper=14, quality=60),
)


def render(pdf: Path, dpi: int, first: int | None = None, last: int | None = None) -> list[Image.Image]:
    """The pages of ``pdf`` as greyscale images, by ``pdftoppm -r dpi -gray``."""
    with tempfile.TemporaryDirectory(prefix="scans-") as tmp:
        cmd = ["pdftoppm", "-r", str(dpi), "-gray"]
        if first is not None:
            cmd += ["-f", str(first), "-l", str(last or first)]
        subprocess.run([*cmd, str(pdf), f"{tmp}/p"], check=True, capture_output=True)
        files = sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        pages = []
        for f in files:
            with Image.open(f) as im:
                pages.append(im.convert("L"))
        return pages


def random_image(rng: random.Random, size: tuple[int, int], lut: list[int], mode: str = "L") -> Image.Image:
    """An image of independent uniform random bytes mapped through ``lut``."""
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).point(lut, mode)


def gaussian_lut(sigma: float) -> list[int]:
    """Maps a uniform byte to 128 + gaussian noise of ``sigma`` grey levels (its quantile)."""
    dist = NormalDist(128, sigma)
    return [max(0, min(255, round(dist.inv_cdf((i + 0.5) / 256)))) for i in range(256)]


FLIP_COARSE = 32  # a pixel flips when its first random byte is below this and its second below Scan.flip_fine


def flip_mask(rng: random.Random, size: tuple[int, int], fine: int) -> Image.Image:
    """A 1-bit mask, set at a fraction FLIP_COARSE * fine / 65536 of the pixels, independently."""
    first = random_image(rng, size, [255 if v < FLIP_COARSE else 0 for v in range(256)], "1")
    second = random_image(rng, size, [255 if v < fine else 0 for v in range(256)], "1")
    return ImageChops.logical_and(first, second)


def spoil(page: Image.Image, scan: Scan, rng: random.Random) -> tuple[Image.Image, float]:
    """The page as the scanner writes it, and the angle (degrees, counter-clockwise) it was turned by."""
    angle = 0.0
    if scan.rotate:
        angle = round(rng.choice((-1, 1)) * rng.uniform(0.2, 1.0), 2)
        page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    if scan.paper:
        page = page.point([round(v * (255 - scan.paper) / 255) for v in range(256)])
    if scan.grain:
        page = ImageChops.add(page, random_image(rng, page.size, gaussian_lut(scan.grain)), 1.0, -128)
    if scan.mode == "bw":
        page = page.point([255 if v >= scan.threshold else 0 for v in range(256)], "1")
        if scan.flip:
            page = ImageChops.logical_xor(page, flip_mask(rng, page.size, scan.flip_fine))
    return page, angle


def write_pdf(pages: list[Image.Image], path: Path, scan: Scan) -> None:
    """The pages as a PDF of images only (no text, no fonts), at the scan's resolution."""
    buf = io.BytesIO()
    pages[0].save(
        buf,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=float(scan.dpi),
        **({"quality": scan.quality} if scan.mode == "grey" else {}),
        title="",
        creationDate=STAMP,
        modDate=STAMP,
    )
    path.write_bytes(buf.getvalue())


def check_image_only(path: Path) -> None:
    """No text layer and no fonts, as pdftotext and pdffonts see the file."""
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    if text.strip():
        raise SystemExit(f"{path.name}: pdftotext finds text: {text[:80]!r}")
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    if len(fonts.strip().splitlines()) > 2:  # the two header lines only
        raise SystemExit(f"{path.name}: pdffonts lists fonts:\n{fonts}")


def make_scan(scan: Scan, out: Path, seed: int) -> dict[str, Any]:
    """Writes one image-only PDF and its truth; returns what README.md says of it."""
    rng = random.Random(f"{seed}:{scan.name}")
    pages, angles = [], []
    for page in render(FIXTURES / scan.source, scan.dpi):
        spoilt, angle = spoil(page, scan, rng)
        pages.append(spoilt)
        angles.append(angle)
    path = out / scan.name
    write_pdf(pages, path, scan)
    check_image_only(path)

    truth = json.loads(scan.truth_path.read_text(encoding="utf-8"))
    turned = (
        f"each page turned by {', '.join(f'{a:+g}°' for a in angles)} (white fill)" if scan.rotate else "not turned"
    )
    how = (
        f"Image-only PDF (no text layer, no fonts) made by tests/make_scans.py from tests/fixtures/{scan.source}: "
        f"{len(pages)} pages rendered by pdftoppm -r {scan.dpi} -gray, {turned}, noise: {scan.noise()}; "
        f"pages written {scan.encoding()} by Pillow at {scan.dpi} dpi."
    )
    truth["file"] = scan.name
    truth["notes"] = f"{how} The source's notes: {truth.get('notes') or ''}".strip()
    truth["source"] = f"made by tests/make_scans.py from tests/fixtures/{scan.source}"
    truth["scan"] = {
        "source": f"tests/fixtures/{scan.source}",
        "dpi": scan.dpi,
        "pages": len(pages),
        "encoding": scan.encoding(),
        "rotation_deg": angles,
        "grain_sigma": scan.grain,
        "flipped_fraction": round(scan.flipped, 6),
        "paper_grey": 255 - scan.paper,
    }
    (out / f"{scan.name}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {
        "file": scan.name,
        "source": scan.source,
        "template": truth.get("template"),
        "verdict": truth.get("verdict"),
        "must": truth.get("must_include") or [],
        "dpi": scan.dpi,
        "pages": len(pages),
        "encoding": scan.encoding(),
        "rotation": ", ".join(f"{a:+g}°" for a in angles) if scan.rotate else "none",
        "noise": scan.noise(),
        "size": path.stat().st_size,
    }


def cell(text: str | None) -> int | str | None:
    """A table 三 value cell as the truth writes it: an int, None for a blank, else the text itself."""
    value = re.sub(r"\s", "", text or "")
    if value in BLANKS:
        return None
    return int(value) if value.isdigit() else value


def t3_rows_on_page(pdf: Path, page_no: int) -> list[list[int | str | None]]:
    """The value rows (seven cells each) of the table on ``page_no`` that holds table 三's first row."""
    with pdfplumber.open(pdf) as doc:
        tables = doc.pages[page_no - 1].extract_tables()
    table = next(t for t in tables if any(T3_FIRST_ROW in (c or "") for row in t for c in row))
    rows = []
    for row in table:
        values = row[-7:]
        if any(c is None for c in values):  # a header row: merged cells
            continue
        cells = [cell(c) for c in values]
        if all(c is None or isinstance(c, int) for c in cells) and any(isinstance(c, int) for c in cells):
            rows.append(cells)
    return rows


def make_t3_page(out: Path) -> dict[str, Any]:
    """The page where table 三 starts, as a 150 dpi greyscale PNG, with the truth of its table 三 rows."""
    src = FIXTURES / T3_PAGE_SOURCE
    with pdfplumber.open(src) as doc:
        page_no = next(i for i, p in enumerate(doc.pages, 1) if T3_FIRST_ROW in (p.extract_text() or ""))
    (page,) = render(src, 150, page_no)
    stem = src.stem
    name = f"{stem}.t3-page.png"
    path = out / name
    page.save(path, "PNG", optimize=True, dpi=(150, 150))

    truth = json.loads(src.with_name(src.name + ".json").read_text(encoding="utf-8"))
    seen = t3_rows_on_page(src, page_no)
    keys = list(truth["t3"])
    if not seen or len(seen) >= len(keys):
        raise SystemExit(f"{name}: found {len(seen)} table 三 rows on page {page_no}, expected part of {len(keys)}")
    for key, values in zip(keys, seen, strict=False):
        if truth["t3"][key] != values:
            raise SystemExit(f"{name}: row {key} reads {values} on the page, the truth says {truth['t3'][key]}")
    visible = keys[: len(seen)]
    page_text = subprocess.run(
        ["pdftotext", "-f", str(page_no), "-l", str(page_no), str(src), "-"], check=True, capture_output=True, text=True
    ).stdout
    part = {
        "file": name,
        "partial": True,
        "year": truth["year"],
        "template": truth["template"],
        "verdict": None,
        "must_include": [],
        "should_include": [],
        "t3": {key: truth["t3"][key] for key in visible},
        "declared_office": truth["declared_office"],
        "declared_year": truth["declared_year"],
        "notes": (
            f"One page, not a whole report: page {page_no} of tests/fixtures/{T3_PAGE_SOURCE} (the page where "
            f"table 三 starts), rendered by pdftoppm -r 150 -gray, not turned, no noise, saved as an 8-bit "
            f"greyscale PNG. Only its table 三 cells are to be checked: the {len(visible)} rows printed on this page "
            f"({visible[0]} … {visible[-1]}), read off the source page with pdfplumber and checked against the "
            f"source's truth. The other {len(keys) - len(visible)} rows of table 三 and table 四 are on later pages;"
            f"{' the end of table 二 above table 三 is on it, but not checked;' * ('信息内容' in page_text)} "
            f"the title, office and date are not on it. Template and year are the source report's, given as "
            f"context, not to be checked."
        ),
        "source": f"made by tests/make_scans.py from tests/fixtures/{T3_PAGE_SOURCE}",
    }
    (out / f"{name}.json").write_text(json.dumps(part, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {
        "file": name,
        "source": T3_PAGE_SOURCE,
        "page": page_no,
        "rows": visible,
        "size": path.stat().st_size,
    }


def readme(made: list[dict[str, Any]], png: dict[str, Any], seed: int) -> str:
    lines = [
        "# Scanned reports (图片版) for testing OCR, with the truth beside each",
        "",
        "Written by `tests/make_scans.py` (do not edit by hand) from PDFs of `../made/` and the real WPS PDF",
        "`../real/huaian-hongze-2024.pdf`: each page rendered by `pdftoppm -gray`, some pages turned by a small",
        "angle and spoilt with light noise, then assembled by Pillow into a PDF of images only: no text layer,",
        "no fonts (the script checks both with `pdftotext` and `pdffonts`). `*.scanNNN.pdf` are clean renders;",
        "`*.scanNNN-rot.pdf` are turned (each page by its own angle, 0.2°-1° either way, white fill) and noisy.",
        "Beside each, `<file>.json` is the source's truth (same cells, verdict, `must_include`,",
        "`declared_office`, `declared_year`) with `file`, `notes` and `source` changed and a `scan` key",
        "(source, dpi, pages, encoding, rotation of each page, noise).",
        "",
        "Remake (deterministic for a seed: the same bytes on every run; needs poppler-utils and Pillow):",
        "",
        "```sh",
        f".venv/bin/python -m tests.make_scans   # from the checkout's root; --out DIR, --seed N (default {SEED})",
        "```",
        "",
        f"Seed of these files: {seed}.",
        "",
        "| file | source | template | verdict | dpi | pages | pages written | rotation | noise | size |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in made:
        verdict = m["verdict"] + (f" ({', '.join(m['must'])})" if m["must"] else "")
        lines.append(
            f"| {m['file']} | {m['source']} | {m['template']} | {verdict} | {m['dpi']} | {m['pages']} | "
            f"{m['encoding']} | {m['rotation']} | {m['noise']} | {m['size'] // 1024} KB |"
        )
    lines += [
        "",
        "One page, not a whole report:",
        "",
        f"- `{png['file']}`: page {png['page']} of `../{png['source']}`, where table 三 starts, rendered at 150 dpi",
        f"  greyscale (not turned, no noise), {png['size'] // 1024} KB. Its truth has `partial: true`,",
        f"  `verdict: null`, `must_include: []`, no `t2`/`t4`, and a `t3` of the {len(png['rows'])} rows on the page",
        f"  ({png['rows'][0]} … {png['rows'][-1]}); only those cells are to be checked.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("*.scan*.pdf"), *out.glob("*.scan*.pdf.json"), *out.glob("*.t3-page.png*")]:
        stale.unlink()

    started = time.perf_counter()
    made = []
    for scan in SCANS:
        t0 = time.perf_counter()
        made.append(make_scan(scan, out, args.seed))
        print(f"{scan.name:40} {made[-1]['size'] // 1024:5} KB  {time.perf_counter() - t0:5.1f} s", file=sys.stderr)
    png = make_t3_page(out)
    print(f"{png['file']:40} {png['size'] // 1024:5} KB  rows {png['rows'][0]} … {png['rows'][-1]}", file=sys.stderr)
    (out / "README.md").write_text(readme(made, png, args.seed), encoding="utf-8")
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(
        f"{len(made) + 1} documents, {total / 1e6:.2f} MB in {out}, {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
