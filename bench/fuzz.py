"""Fuzzing the parser: ``services.parser.core.parse`` fed damaged real documents, in this process.

    python bench/fuzz.py [--n 200000] [--seed 16] [--seconds-budget 20] [--crashes /tmp/fuzz-crashes]
    python bench/fuzz.py --only 1234 [--seed 16]      # replay one input (its outcome and traceback)

Run it niced on one core: ``nice taskset -c 1 .venv/bin/python bench/fuzz.py``.

Every input is made from the real and office-made documents of tests/fixtures (the real PDF,
HTML and crawled text; the made .docx, PDF, HTML and markdown; the seed text reports; and
markdown and tab-separated text derived from the made HTML), mutated:

- bytes: flips, truncation, random bytes inserted, chunks deleted or duplicated, "interesting"
  values written over, two documents spliced;
- text, markdown and HTML: random Unicode, full-width digits, very long digit runs, very long
  lines, a table row repeated thousands of times, control characters, odd line breaks, numbers
  made huge or negative, section headings in odd places; HTML tags, spans, entities and nesting;
  then encoded as UTF-8, GB18030, UTF-16 (BOM) or UTF-8 with a BOM;
- .docx: document.xml changed as XML (elements deleted, duplicated, moved, renamed, nested
  hundreds deep, w:gridSpan / w:vMerge / w:gridBefore given huge or nonsense values, texts
  replaced) or as bytes, and the zip itself (members dropped, renamed, duplicated, thousands
  added, a bomb, another compression method, relationships pointing elsewhere);
- PDF: bytes flipped inside streams, content streams inflated and changed (operands, operators,
  meshes of ruling lines, floods of path segments, deep q nesting, text) and deflated again,
  object numbers damaged, the cross-reference table damaged;
- pure random bytes (with and without a format's magic) and tiny inputs.

Each input gets a random name and media type that match its content or not, and is cut to
8 MB at most. The run is reproducible: input ``i`` is made by ``random.Random(f"{seed}:{i}")``
alone (``--only i`` replays it; ``--way`` makes every input one way, as tests/unit/test_fuzz.py
does). Legacy Word (.doc/.wps, ~1 s of LibreOffice each) is one input in ``--legacy-every``
(5,000), lightly damaged; a small PNG/JPEG page image (OCR) one in ``--image-every`` (10,000),
read in a forked child: OCR's runtime and models (~110 MB, ~500 MB at their peak) are what the
service reads in a sandbox widened for scans, so their memory is reported apart. Scanned PDFs are
not used as seeds (OCR is 5 s and more a page).

Per input: the outcome (parsed, ``UnreadableUpload`` and its reason, or any other exception:
a bug, saved with its traceback to ``--crashes``) and the time. At the end: the counts, the
slowest inputs, those over their budget (an upload's 20 s; a page image OCR's own 120 s, as the
service gives it), the memory, and the rate. Memory is measured per input: the process's peak
resident size (``VmHWM``) is reset before each input (``/proc/self/clear_refs``) and read after
it, so each input's peak is the process's resident size at the highest point of reading that
input: the parser's, plus what the process held before (the generator's seeds, the imports), which
is conservative for the service's parser child, which holds no seeds. The report gives the highest
such peak, the inputs with the highest, and the process's resident size before them. After an
input that leaves the process resident past ``--trim-mb`` (192 MB, the size past which the service
replaces its parser child), the freed heap is given back to the system (glibc's ``malloc_trim``).
An input still running after ``--hang-seconds`` is saved with every thread's stack and the run
stops.
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import ctypes.util
import faulthandler
import io
import json
import os
import pickle
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AnyStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from services.parser.core import parse  # noqa: E402
from services.parser.errors import UnreadableUpload  # noqa: E402
from services.parser.limits import Limits  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
MAX_SIZE = 8 * 1024 * 1024  # a mutation that would make an input larger than this is cut back

KINDS = ("text", "markdown", "html", "docx", "pdf", "doc", "image")
EXTENSIONS = {
    "text": ".txt",
    "markdown": ".md",
    "html": ".html",
    "docx": ".docx",
    "pdf": ".pdf",
    "doc": ".doc",
    "image": ".png",
}
MEDIA_TYPES = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "html": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "image": "image/png",
}


# --- seeds ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Seed:
    """A document inputs are made from."""

    name: str
    kind: str  # one of KINDS
    data: bytes
    text: str | None = None  # text, markdown, HTML: the decoded text
    members: list[tuple[str, bytes]] | None = None  # .docx: the zip's members, in order


@dataclass(slots=True)
class Corpus:
    seeds: list[Seed]
    by_kind: dict[str, list[Seed]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for seed in self.seeds:
            self.by_kind.setdefault(seed.kind, []).append(seed)

    def pick(self, rng: random.Random, *kinds: str) -> Seed:
        pool = [s for k in kinds for s in self.by_kind.get(k, [])]
        return rng.choice(pool)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace")


def _seed(path: Path, kind: str) -> Seed:
    data = path.read_bytes()
    seed = Seed(path.name, kind, data)
    if kind in ("text", "markdown", "html"):
        seed.text = _decode(data)
    elif kind == "docx":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            seed.members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    return seed


def _derived(html: Seed) -> list[Seed]:
    """A made HTML report written out as markdown (pipe tables, ``##`` headings) and as text
    (cells separated by tabs): the shapes of the text uploads the fixtures hold few of."""
    root = etree.fromstring(html.data, etree.HTMLParser(encoding="utf-8"))
    md: list[str] = []
    tsv: list[str] = []
    for el in root.iter("p", "h1", "h2", "h3", "tr"):
        if el.tag == "tr":
            if any(a.tag == "td" for a in el.iterancestors("td")):
                continue
            cells = [" ".join("".join(td.itertext()).split()) for td in el if td.tag in ("td", "th")]
            md.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
            tsv.append("\t".join(cells))
            continue
        if next(el.iterancestors("td"), None) is not None:
            continue
        line = " ".join("".join(el.itertext()).split())
        if line:
            heading = re.match(r"^[一二三四五六]、", line) is not None
            md.extend(["", f"## {line}" if heading else line, ""])
            tsv.append(line)
    stem = html.name.rsplit(".", 1)[0]
    markdown = "\n".join(md) + "\n"
    text = "\n".join(tsv) + "\n"
    return [
        Seed(f"{stem}.derived.md", "markdown", markdown.encode(), markdown),
        Seed(f"{stem}.derived.txt", "text", text.encode(), text),
    ]


def load_corpus() -> Corpus:
    """The seed documents: the real ones, the made ones (legacy Word apart), the seed text reports,
    markdown and text derived from three made HTML reports, and a small page image."""
    seeds: list[Seed] = []
    for path in sorted((FIXTURES / "real").glob("*.*")):
        kind = {".pdf": "pdf", ".html": "html", ".txt": "text"}.get(path.suffix)
        if kind is not None:
            seeds.append(_seed(path, kind))
    made = {".txt": "text", ".md": "markdown", ".html": "html", ".docx": "docx", ".pdf": "pdf"}
    made |= {".doc": "doc", ".wps": "doc"}
    for path in sorted((FIXTURES / "made").glob("*.*")):
        kind = made.get(path.suffix)
        if kind is not None:
            seeds.append(_seed(path, kind))
    for path in sorted((FIXTURES / "seeds").glob("*.txt")):
        seeds.append(_seed(path, "text"))
    for name in ("agri-2021.html", "county-2020.html", "cms-pingtan-2023.html"):
        seeds += _derived(_seed(FIXTURES / "made" / name, "html"))
    seeds += _images()
    return Corpus(seeds)


def _images() -> list[Seed]:
    """A small page image, as PNG and as JPEG (a ruled table with figures): OCR reads it in a second."""
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        return []
    image = Image.new("L", (360, 160), 255)
    draw = ImageDraw.Draw(image)
    for y in range(20, 141, 30):
        draw.line([(20, y), (340, y)], fill=0, width=2)
    for x in (20, 120, 230, 340):
        draw.line([(x, 20), (x, 140)], fill=0, width=2)
    for k in range(8):
        draw.text((30 + 100 * (k % 3), 27 + 30 * (k // 3)), f"{k * 37}", fill=0)
    out = []
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg")):
        buf = io.BytesIO()
        image.save(buf, fmt)
        out.append(Seed(f"table.{ext}", "image", buf.getvalue()))
    return out


# --- byte mutations ------------------------------------------------------------------------------

INTERESTING = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"\x7f\xff\xff\xff",
    b"-1",
    b"0",
    b"4294967296",
    b"99999999999999999999",
    b"-2147483648",
    b"1e308",
    b"NaN",
    b"\xef\xbb\xbf",
    b"\xfe\xff",
    b"\r\n",
    b"<",
    b">",
    b"&#0;",
    b"PK\x03\x04",
    b"%PDF-1.7",
    b"endstream",
    b"endobj",
    b"obj",
    b"trailer",
]


def _span(rng: random.Random, size: int, longest: int = 4096) -> int:
    """A length, mostly short: log-uniform from 1 to ``longest``."""
    return max(1, min(size, int(2 ** rng.uniform(0, longest.bit_length()))))


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(1 + int(rng.expovariate(1 / 6))):
        pos = rng.randrange(len(out))
        out[pos] = rng.randrange(256) if rng.random() < 0.3 else out[pos] ^ (1 << rng.randrange(8))
    return bytes(out)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    if len(data) < 2:
        return data
    cut = rng.randrange(1, len(data))
    return data[:cut] if rng.random() < 0.85 else data[cut:]


def _insert(rng: random.Random, data: bytes) -> bytes:
    pos = rng.randrange(len(data) + 1)
    return data[:pos] + rng.randbytes(_span(rng, 1 << 16)) + data[pos:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    pos = rng.randrange(len(data))
    return data[:pos] + data[pos + _span(rng, len(data) - pos, 1 << 16) :]


def _duplicate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    pos = rng.randrange(len(data))
    chunk = data[pos : pos + _span(rng, len(data) - pos, 1 << 15)]
    times = rng.choice([1, 2, 8, 64, 512])
    at = rng.randrange(len(data) + 1)
    return data[:at] + chunk * times + data[at:]


def _interesting(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        value = rng.choice(INTERESTING)
        pos = rng.randrange(len(out) + 1)
        out[pos : pos + (len(value) if rng.random() < 0.5 else 0)] = value
    return bytes(out)


BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": _flip,
    "truncate": _truncate,
    "insert": _insert,
    "delete": _delete,
    "duplicate": _duplicate,
    "interesting": _interesting,
}


def mutate_bytes(rng: random.Random, data: bytes, rounds: int = 0) -> tuple[bytes, str]:
    """One to three byte mutations (``rounds``: that many)."""
    labels = []
    for _ in range(rounds or rng.choice([1, 1, 1, 2, 3])):
        name = rng.choice(list(BYTE_MUTATIONS))
        data = BYTE_MUTATIONS[name](rng, data)[:MAX_SIZE]
        labels.append(name)
    return data, "+".join(labels)


def splice(rng: random.Random, a: bytes, b: bytes) -> bytes:
    """The head of one document and the tail of another."""
    return a[: rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1) :]


# --- text mutations ------------------------------------------------------------------------------

_RANGES = [
    (0x20, 0x7E),
    (0x4E00, 0x9FFF),  # CJK
    (0xFF01, 0xFF5E),  # full-width forms
    (0x3000, 0x303F),  # CJK punctuation, the ideographic space
    (0x0300, 0x036F),  # combining marks
    (0x200B, 0x200F),  # zero-width, directional marks
    (0x2028, 0x202E),  # line and paragraph separators, embeddings
    (0xE000, 0xF8FF),  # private use
    (0x1F300, 0x1FAFF),  # emoji
    (0x20000, 0x2A6DF),  # CJK extension B
    (0xFFF0, 0xFFFD),
    (0x80, 0x9F),  # C1 controls
    (0x2460, 0x24FF),  # circled numbers
    (0x2160, 0x2188),  # roman numerals
]
_CONTROLS = [chr(c) for c in (*range(0x00, 0x20), 0x7F, 0x85, 0x2028, 0x2029, 0xFEFF, 0xFFFD)]
_FULLWIDTH = str.maketrans("0123456789,.-+%", "０１２３４５６７８９，．－＋％")
_NUMBERS = [
    "-1",
    "0",
    "-0",
    "99999999999999999999999",
    "1e308",
    "NaN",
    "１２３",
    "1,000,000",
    "1,2,3",
    "3.14159",
    "0.000000000000000001",
    "0x1F",
    "一千",
    "",
    " ",
    "—",
    "9" * 400,
    "1." + "0" * 300,
]
_HEADINGS = [
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
    "某某区人民政府2020年政府信息公开工作年度报告",
    "第二十条第（一）项",
    "本年新收政府信息公开申请数量",
    "结果维持",
    "2099年12月31日",
]
_ROW = {
    "html": re.compile(r"<tr\b.*?</tr>", re.IGNORECASE | re.DOTALL),
    "markdown": re.compile(r"(?m)^\|.*\|[ \t]*\n"),
    "text": re.compile(r"(?m)^.*\d.*\n"),
}
_DIGITS = re.compile(r"\d+")
_CELL_TAG = re.compile(r"<t[dh]\b", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{1,200}>")
_ELEMENTS = [re.compile(rf"<{tag}\b.*?</{tag}>", re.IGNORECASE | re.DOTALL) for tag in ("table", "p", "td")]


def random_text(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        lo, hi = rng.choice(_RANGES)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def _at(rng: random.Random, text: str) -> int:
    return rng.randrange(len(text) + 1)


def _insert_at(rng: random.Random, text: str, piece: str) -> str:
    pos = _at(rng, text)
    return text[:pos] + piece + text[pos:]


def _matches(rng: random.Random, pattern: re.Pattern[AnyStr], data: AnyStr, k: int) -> list[re.Match[AnyStr]]:
    """Up to ``k`` matches at random places (each the first after a random offset), in order and
    not overlapping, found without listing every match (an 8 MB input holds millions)."""
    found: dict[int, re.Match[AnyStr]] = {}
    for _ in range(k):
        m = pattern.search(data, rng.randrange(len(data) + 1))
        if m is not None:
            found[m.start()] = m
    out: list[re.Match[AnyStr]] = []
    for start in sorted(found):
        if not out or start >= out[-1].end():
            out.append(found[start])
    return out


def _replace(data: AnyStr, matches: list[re.Match[AnyStr]], value: Callable[[re.Match[AnyStr]], AnyStr]) -> AnyStr:
    """``data`` with each match replaced by what ``value`` makes of it."""
    pieces, last = [], 0
    for m in matches:
        pieces += [data[last : m.start()], value(m)]
        last = m.end()
    pieces.append(data[last:])
    return data[:0].join(pieces)


def _t_unicode(rng: random.Random, text: str, kind: str) -> str:
    for _ in range(rng.randint(1, 12)):
        text = _insert_at(rng, text, random_text(rng, _span(rng, 1 << 12, 256)))
    return text


def _t_fullwidth(rng: random.Random, text: str, kind: str) -> str:
    if rng.random() < 0.5:
        return text.translate(_FULLWIDTH)
    a = _at(rng, text)
    b = a + _span(rng, len(text) - a + 1, 1 << 14)
    return text[:a] + text[a:b].translate(_FULLWIDTH) + text[b:]


def _t_digits(rng: random.Random, text: str, kind: str) -> str:
    n = rng.choice([16, 17, 40, 400, 5_000, 100_000, 1_000_000])
    run = "9" * n if rng.random() < 0.5 else "".join(rng.choices("0123456789", k=min(n, 200_000)))
    if kind == "html" and rng.random() < 0.7:
        cell = _matches(rng, _CELL_TAG, text, 1)
        if cell:
            pos = text.find(">", cell[0].end()) + 1 or cell[0].end()
            return text[:pos] + run + text[pos:]
    return _insert_at(rng, text, run)


def _t_long_line(rng: random.Random, text: str, kind: str) -> str:
    if rng.random() < 0.5:  # the whole text, or a part of it, on one line
        if rng.random() < 0.5:
            return text.replace("\n", " ")
        a = _at(rng, text)
        b = a + _span(rng, len(text) - a + 1, 1 << 16)
        return text[:a] + text[a:b].replace("\n", "") + text[b:]
    times = rng.choice([1_000, 50_000, 300_000])
    piece = rng.choice(["一、总体情况", "数", "1\t", "、", "|", "<b>", "件", "a b "]) * times
    return _insert_at(rng, text, "\n" + piece + "\n")


def _t_rows(rng: random.Random, text: str, kind: str) -> str:
    rows = _matches(rng, _ROW[kind], text, 1)
    if not rows:
        return text
    row = rows[0]
    times = rng.choice([2, 10, 100, 1_000, 5_000, 20_000])
    times = max(1, min(times, 4 * 1024 * 1024 // max(len(row.group()), 1)))
    return text[: row.end()] + row.group() * times + text[row.end() :]


def _t_controls(rng: random.Random, text: str, kind: str) -> str:
    if rng.random() < 0.2:
        return _insert_at(rng, text, "".join(rng.choices(_CONTROLS, k=_span(rng, 1 << 14))))
    for _ in range(rng.randint(1, 50)):
        text = _insert_at(rng, text, rng.choice(_CONTROLS))
    return text


def _t_delete(rng: random.Random, text: str, kind: str) -> str:
    for _ in range(rng.randint(1, 20)):
        if not text:
            break
        a = rng.randrange(len(text))
        text = text[:a] + text[a + _span(rng, len(text) - a, 1 << 10) :]
    return text


def _t_numbers(rng: random.Random, text: str, kind: str) -> str:
    found = _matches(rng, _DIGITS, text, rng.choice([1, 5, 50, 1_000]))
    return _replace(text, found, lambda m: rng.choice(_NUMBERS))


def _t_headings(rng: random.Random, text: str, kind: str) -> str:
    for _ in range(rng.randint(1, 30)):
        heading = rng.choice(_HEADINGS)
        if kind == "html":
            heading = f"<p>{heading}</p>"
        elif kind == "markdown" and rng.random() < 0.5:
            heading = "#" * rng.randint(1, 8) + " " + heading
        text = _insert_at(rng, text, rng.choice(["\n", ""]) + heading + rng.choice(["\n", "", "。"]))
    return text


def _t_shuffle(rng: random.Random, text: str, kind: str) -> str:
    lines = text.split("\n")
    a = rng.randrange(len(lines))
    window = lines[a : a + rng.randint(2, 400)]
    rng.shuffle(window)
    return "\n".join([*lines[:a], *window, *lines[a + len(window) :]])


def _t_newlines(rng: random.Random, text: str, kind: str) -> str:
    return text.replace("\n", rng.choice(["\r", "\r\n", "\u2028", "\x0b", "\x0c", "\x1c", "\x85", "\n\n\n", ""]))


_MARKUP = [
    "<script>",
    "<style>",
    "<!--",
    "-->",
    "<![CDATA[",
    "<?xml version='1.0' encoding='ucs-4'?>",
    "<svg>",
    "<table>",
    "</table>",
    "<tr>",
    "<td>",
    "</td>",
    "<br>" * 1000,
    "<template>",
    "<math>",
    "<head>",
    "<title>年度报告</title>",
    '<meta name="ArticleTitle" content="',
    '<meta charset="utf-16">',
    '<meta charset="x-no-such-charset">',
    '<meta http-equiv="Content-Type" content="text/html; charset=ebcdic-cp-us">',
    "&#0;",
    "&#xD800;",
    "&#1114112;",
    "&#99999999999;",
    "&nbsp;",
    "&no-such-entity;",
    '<td rowspan="9999999" colspan="9999999">',
    "<html><body>",
    "</html>",
    "<!DOCTYPE html>",
    "<p",
    "<",
    ">",
]


def _t_markup(rng: random.Random, text: str, kind: str) -> str:
    for _ in range(rng.randint(1, 20)):
        text = _insert_at(rng, text, rng.choice(_MARKUP))
    return text


_SPAN_VALUES = ["0", "-1", "1", "2", "3", "100", "101", "9999999", "99999999999999999999", "1e9", "abc", "", " 2", "２"]


def _h_spans(rng: random.Random, text: str, kind: str) -> str:
    cells = _matches(rng, _CELL_TAG, text, rng.choice([1, 5, 50, 500]))
    return _replace(
        text, cells, lambda m: f'{m.group()} {rng.choice(["rowspan", "colspan"])}="{rng.choice(_SPAN_VALUES)}"'
    )


_NESTS = [("<div>", "</div>"), ("<table><tr><td>", "</td></tr></table>"), ("<span>", "</span>"), ("<p>", "")]


def _h_nest(rng: random.Random, text: str, kind: str) -> str:
    open_, close = rng.choice(_NESTS)
    depth = rng.choice([10, 100, 255, 256, 300, 1_000, 10_000])
    a = _at(rng, text)
    b = a + _span(rng, len(text) - a + 1, 1 << 12)
    return text[:a] + open_ * depth + text[a:b] + close * depth + text[b:]


def _h_tags(rng: random.Random, text: str, kind: str) -> str:
    return _replace(text, _matches(rng, _TAG, text, rng.choice([1, 10, 100, 1_000])), lambda m: "")


def _h_duplicate(rng: random.Random, text: str, kind: str) -> str:
    for pattern in _ELEMENTS:
        found = _matches(rng, pattern, text, 1)
        if found and rng.random() < 0.5:
            times = rng.choice([1, 2, 10, 100])
            return _insert_at(rng, text, found[0].group() * times)
    return text


TEXT_MUTATIONS: dict[str, Callable[[random.Random, str, str], str]] = {
    "unicode": _t_unicode,
    "fullwidth": _t_fullwidth,
    "digits": _t_digits,
    "long-line": _t_long_line,
    "rows": _t_rows,
    "controls": _t_controls,
    "delete": _t_delete,
    "numbers": _t_numbers,
    "headings": _t_headings,
    "shuffle": _t_shuffle,
    "newlines": _t_newlines,
    "markup": _t_markup,
}
HTML_MUTATIONS: dict[str, Callable[[random.Random, str, str], str]] = {
    "spans": _h_spans,
    "nest": _h_nest,
    "tags": _h_tags,
    "dup-element": _h_duplicate,
}
ENCODINGS = [
    ("utf-8", 55),
    ("gb18030", 15),
    ("utf-16", 10),  # (with its BOM, little-endian)
    ("utf-16-be+bom", 5),
    ("utf-8-sig", 10),
    ("gb18030+utf8-bom", 5),  # a BOM that lies
]


def encode(rng: random.Random, text: str) -> tuple[bytes, str]:
    name = rng.choices([e for e, _ in ENCODINGS], [w for _, w in ENCODINGS])[0]
    if name == "utf-16-be+bom":
        return b"\xfe\xff" + text.encode("utf-16-be", "surrogatepass"), name
    if name == "gb18030+utf8-bom":
        return b"\xef\xbb\xbf" + text.encode("gb18030", "replace"), name
    errors = "surrogatepass" if name.startswith("utf") else "replace"
    return text.encode(name, errors), name


def mutate_text(rng: random.Random, seed: Seed, corpus: Corpus) -> tuple[bytes, str]:
    """A text, markdown or HTML seed changed as text, then encoded."""
    assert seed.text is not None
    text = seed.text
    mutations = dict(TEXT_MUTATIONS)
    if seed.kind == "html":
        mutations |= HTML_MUTATIONS
    labels = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        name = rng.choice(list(mutations))
        text = mutations[name](rng, text, seed.kind)[: MAX_SIZE // 2]
        labels.append(name)
    data, encoding = encode(rng, text)
    return data[:MAX_SIZE], f"{'+'.join(labels)}/{encoding}"


# --- .docx mutations -----------------------------------------------------------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAIN = "word/document.xml"
_XML_SAFE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DOCX_TAGS = ["p", "tbl", "tr", "tc", "t", "body", "sdt", "sdtContent", "tcPr", "gridSpan", "vMerge", "r", "br", "tab"]
_VALUES = ["0", "-1", "1", "2", "restart", "continue", "", "9999999", "99999999999999999999", "1e5", "x" * 1000, "２"]


def _xml_safe(text: str) -> str:
    return _XML_SAFE.sub("", text)


def _elements(root: etree._Element, *tags: str) -> list[etree._Element]:
    if tags:
        return list(root.iter(*(W + t for t in tags)))
    return [el for el in root.iter() if el is not root]


def _x_delete(rng: random.Random, root: etree._Element) -> str:
    els = _elements(root, *rng.choice([(), ("tc",), ("tr",), ("p",), ("tcPr",), ("tblGrid",), ("body",)]))
    for el in rng.sample(els, min(len(els), rng.choice([1, 3, 30, 300]))):
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
    return "delete"


def _x_duplicate(rng: random.Random, root: etree._Element) -> str:
    els = _elements(root, *rng.choice([(), ("tc",), ("tr",), ("p",), ("tbl",), ("t",)]))
    if not els:
        return "duplicate"
    el = rng.choice(els)
    parent = el.getparent()
    if parent is None:
        return "duplicate"
    times = rng.choice([1, 2, 10, 100, 1_000, 5_000])
    size = len(etree.tostring(el))
    times = max(1, min(times, 4 * 1024 * 1024 // max(size, 1)))
    at = parent.index(el)
    for _ in range(times):
        parent.insert(at, copy.deepcopy(el))
    return f"duplicate×{times}"


def _x_attr(rng: random.Random, root: etree._Element) -> str:
    cells = _elements(root, "tc")
    for tc in rng.sample(cells, min(len(cells), rng.choice([1, 5, 50]))):
        which = rng.choice(["gridSpan", "vMerge", "gridBefore"])
        if which == "gridBefore":
            tr = tc.getparent()
            if tr is None:
                continue
            owner, pr_tag = tr, "trPr"
        else:
            owner, pr_tag = tc, "tcPr"
        pr = owner.find(W + pr_tag)
        if pr is None:
            pr = etree.Element(W + pr_tag)
            owner.insert(0, pr)
        el = pr.find(W + which)
        if el is None:
            el = etree.SubElement(pr, W + which)
        if rng.random() < 0.1:
            el.attrib.pop(W + "val", None)
        else:
            el.set(W + "val", rng.choice(_VALUES))
    return "attr"


def _x_nest(rng: random.Random, root: etree._Element) -> str:
    els = _elements(root, "p", "tbl", "tc")
    if not els:
        return "nest"
    el = rng.choice(els)
    parent = el.getparent()
    if parent is None:
        return "nest"
    depth = rng.choice([2, 10, 50, 100, 200, 300, 1_000])
    wrap = rng.choice([("tbl", "tr", "tc"), ("sdt", "sdtContent"), ("tc",)])
    at = parent.index(el)
    outer = inner = etree.Element(W + wrap[0])
    for level in range(depth):
        for tag in wrap[1 if level == 0 else 0 :]:
            inner = etree.SubElement(inner, W + tag)
    parent.remove(el)
    inner.append(el)
    parent.insert(at, outer)
    return f"nest×{depth}"


def _x_move(rng: random.Random, root: etree._Element) -> str:
    els = _elements(root)
    for _ in range(rng.randint(1, 20) if els else 0):
        el, target = rng.choice(els), rng.choice(els)
        if el.getparent() is None or any(a is el for a in target.iterancestors()) or el is target:
            continue
        target.insert(rng.randint(0, len(target)), el)
    return "move"


def _x_rename(rng: random.Random, root: etree._Element) -> str:
    els = _elements(root)
    for el in rng.sample(els, min(len(els), rng.choice([1, 10, 100]))):
        el.tag = W + rng.choice(_DOCX_TAGS) if rng.random() < 0.9 else "{urn:other}" + rng.choice(_DOCX_TAGS)
    return "rename"


def _x_text(rng: random.Random, root: etree._Element) -> str:
    texts = _elements(root, "t")
    for t in rng.sample(texts, min(len(texts), rng.choice([1, 10, 100, 1_000]))):
        choice = rng.random()
        if choice < 0.3:
            t.text = rng.choice(_NUMBERS)
        elif choice < 0.5:
            t.text = "9" * rng.choice([16, 400, 100_000])
        elif choice < 0.7:
            t.text = (t.text or "").translate(_FULLWIDTH)
        elif choice < 0.85:
            t.text = rng.choice(_HEADINGS)
        else:
            t.text = _xml_safe(random_text(rng, _span(rng, 1 << 12, 256)))
    return "text"


XML_MUTATIONS: dict[str, Callable[[random.Random, etree._Element], str]] = {
    "delete": _x_delete,
    "duplicate": _x_duplicate,
    "attr": _x_attr,
    "nest": _x_nest,
    "move": _x_move,
    "rename": _x_rename,
    "text": _x_text,
}
_RELS_TARGETS = [
    "/word/document.xml",
    "word/../word/document.xml",
    "",
    "word/missing.xml",
    "word/styles.xml",
    "docProps/thumbnail.jpeg",
    "[Content_Types].xml",
    "_rels/.rels",
    "http://example.invalid/x.xml",
    "/" * 300,
]


def _zip_members(rng: random.Random, members: list[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], str]:
    """The package changed as a zip: members dropped, renamed, replaced or added."""
    members = list(members)
    how = rng.choice(["drop", "rels", "rels-bytes", "many", "dup-name", "bomb", "rename", "empty-main", "other-main"])
    names = [n for n, _ in members]
    if how == "drop":
        victim = rng.choice([MAIN, "_rels/.rels", "[Content_Types].xml", rng.choice(names)])
        members = [(n, d) for n, d in members if n != victim]
    elif how == "rels":
        target = rng.choice(_RELS_TARGETS)
        rels = (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="http://x/officeDocument" Target="{target}"/></Relationships>'
        )
        members = [(n, rels.encode() if n == "_rels/.rels" else d) for n, d in members]
    elif how == "rels-bytes":
        members = [(n, mutate_bytes(rng, d)[0] if n == "_rels/.rels" else d) for n, d in members]
    elif how == "many":
        members += [(f"word/media/x{k}.bin", b"x") for k in range(rng.choice([10, 500, 1_999, 2_001, 3_000]))]
    elif how == "dup-name":
        members.append((MAIN, rng.choice([b"", b"<x/>", dict(members).get("word/styles.xml", b"")])))
    elif how == "bomb":  # past the ratio, one entry's size, or all entries' size
        size, count = rng.choice([(2, 1), (33, 1), (22, 3)])
        zeros = b"\0" * (size * 1024 * 1024)
        members += [(f"word/bomb{k}.xml" if k or rng.random() < 0.5 else MAIN, zeros) for k in range(count)]
    elif how == "rename":
        new = rng.choice(["Word/Document.xml", "word/document.XML", "word/document2.xml", "/word/document.xml"])
        members = [(new if n == MAIN else n, d) for n, d in members]
    elif how == "empty-main":
        members = [(n, b"" if n == MAIN else d) for n, d in members]
    else:
        other = rng.choice(
            [
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>',
                b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;'>]><x>&b;</x>",
                b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
                b"<x>" * 5000,
                dict(members).get("word/styles.xml", b""),
                b"\xff\xfe<\x00x\x00/\x00>\x00",
            ]
        )
        members = [(n, other if n == MAIN else d) for n, d in members]
    return members, f"zip-{how}"


# (no LZMA: its compressor takes ~90 MB, which the run's peak memory would count as the parser's)
_METHODS = [zipfile.ZIP_DEFLATED, zipfile.ZIP_DEFLATED, zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2]
_METHOD_NAMES = {zipfile.ZIP_DEFLATED: "", zipfile.ZIP_STORED: "/stored", zipfile.ZIP_BZIP2: "/bzip2"}
_BASES: dict[tuple[str, int], bytes] = {}  # a .docx seed's other members, zipped with a method


def _zip(members: list[tuple[str, bytes]], method: int, base: bytes = b"") -> bytes:
    """The members zipped (after those of ``base``, a zip, when given)."""
    buf = io.BytesIO(base)
    level = 1 if method == zipfile.ZIP_DEFLATED else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a duplicate name, on purpose)
        with zipfile.ZipFile(buf, "a" if base else "w") as archive:
            for name, data in members:
                archive.writestr(zipfile.ZipInfo(name), data, compress_type=method, compresslevel=level)
    return buf.getvalue()


def _with_main(seed: Seed, xml: bytes, method: int) -> bytes:
    """The seed's package with ``xml`` for its document.xml (its other members zipped once)."""
    assert seed.members is not None
    key = (seed.name, method)
    if key not in _BASES:
        _BASES[key] = _zip([(n, d) for n, d in seed.members if n != MAIN], method)
    return _zip([(MAIN, xml)], method, _BASES[key])


def mutate_docx(rng: random.Random, seed: Seed, corpus: Corpus) -> tuple[bytes, str]:
    """A .docx seed changed inside: its document.xml as XML or as bytes, or the zip's members."""
    assert seed.members is not None
    main = dict(seed.members).get(MAIN, b"")
    method = rng.choice(_METHODS)
    choice = rng.random()
    if choice < 0.8:
        if choice < 0.6:
            root = etree.fromstring(main)
            labels = [XML_MUTATIONS[rng.choice(list(XML_MUTATIONS))](rng, root) for _ in range(rng.choice([1, 1, 2]))]
            xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            label = "xml:" + "+".join(labels)
        elif rng.random() < 0.3:
            other = dict(corpus.pick(rng, "docx").members or []).get(MAIN, b"")
            xml, label = splice(rng, main, other), "xml-bytes:splice"
        else:
            xml, label = mutate_bytes(rng, main)
            label = "xml-bytes:" + label
        return _with_main(seed, xml, method), label + _METHOD_NAMES[method]
    members, label = _zip_members(rng, seed.members)
    if label == "zip-bomb":
        method = zipfile.ZIP_DEFLATED
    return _zip(members, method), label + _METHOD_NAMES[method]


# --- PDF mutations -------------------------------------------------------------------------------

_STREAM = re.compile(rb"stream\r?\n")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
_OPERAND = re.compile(rb"-?\d+(?:\.\d+)?")
_PDF_NUMBERS = [b"0", b"-1", b"99999999999", b"-99999999999", b"340282346638528859811704183484516925440", b"0.0000001"]
_PDF_KEYS = re.compile(rb"/(?:Count|Length|Size|W|MediaBox|CropBox|Kids|First|N|Prev|Columns|Predictor|Rotate)\b")


def _streams(data: bytes) -> list[tuple[int, int, int]]:
    """Each stream's (dictionary start, data start, data end)."""
    out = []
    for m in _STREAM.finditer(data):
        end = data.find(b"endstream", m.end())
        if end < 0:
            continue
        head = data.rfind(b"obj", max(0, m.start() - 2048), m.start())
        out.append((head if head >= 0 else m.start(), m.end(), end))
    return out


def _content(rng: random.Random, content: bytes) -> tuple[bytes, str]:
    """A content stream (or any inflated stream) changed."""
    how = rng.choice(["flip", "operands", "lines", "grid", "flood", "q-nest", "text", "truncate", "bytes"])
    if how == "flip":
        return _flip(rng, content), how
    if how == "operands":
        found = _matches(rng, _OPERAND, content, rng.choice([1, 10, 100, 1_000]))
        return _replace(content, found, lambda m: rng.choice(_PDF_NUMBERS)), how
    if how == "lines":
        lines = content.split(b"\n")
        for _ in range(rng.randint(1, 30)):
            if not lines:
                break
            k = rng.randrange(len(lines))
            if rng.random() < 0.5:
                del lines[k]
            else:
                lines[k : k + 1] = [lines[k]] * rng.choice([2, 10, 100])
        return b"\n".join(lines), how
    if how == "grid":  # many ruling lines: a table of thousands of cells, or a mesh
        n = rng.choice([10, 100, 300, 1_000, 3_000])
        step = rng.choice([0.5, 2.0, 5.0, 20.0])
        parts = [b"q 0.5 w"]
        for k in range(n):
            at = 50 + k * step
            parts.append(b"%.2f 50 m %.2f 750 l" % (at, at) if k % 2 else b"50 %.2f m 550 %.2f l" % (at, at))
        parts.append(b"S Q")
        return content + b"\n" + b"\n".join(parts) + b"\n", f"grid×{n}"
    if how == "flood":  # a great many path segments: short strokes, or rules on one another
        n = rng.choice([10_000, 50_000, 200_000])
        if rng.random() < 0.5:
            parts = [b"%d %d m %d %d l" % (k % 500, k // 500 % 700, k % 500 + 1, k // 500 % 700) for k in range(n)]
        else:
            parts = [b"%.2f 50 m %.2f 750 l" % (50 + k % 97 * 0.01, 50 + k % 97 * 0.01) for k in range(n)]
        return content + b"\nq 0.5 w " + b" ".join(parts) + b" S Q\n", f"flood×{n}"
    if how == "q-nest":
        depth = rng.choice([100, 10_000, 100_000])
        return b"q " * depth + content + b" Q" * rng.choice([0, depth]), f"q-nest×{depth}"
    if how == "text":
        fonts = re.findall(rb"/([A-Za-z0-9_+]+)\s+[\d.]+\s+Tf", content) or [b"F1"]
        parts = []
        for _ in range(rng.randint(1, 50)):
            text = rng.randbytes(rng.randint(1, 200)).replace(b"\\", b"").replace(b"(", b"").replace(b")", b"")
            x, y = rng.uniform(-1000, 1000), rng.uniform(-1000, 1000)
            parts.append(b"BT /%s %d Tf %.1f %.1f Td (%s) Tj ET" % (rng.choice(fonts), rng.randint(-5, 80), x, y, text))
        return content + b"\n" + b"\n".join(parts), how
    if how == "truncate":
        return _truncate(rng, content), how
    data, label = mutate_bytes(rng, content)
    return data, label


def mutate_pdf(rng: random.Random, seed: Seed, corpus: Corpus) -> tuple[bytes, str]:
    """A PDF seed changed: inside its streams (raw, or inflated, changed and deflated again), in
    its objects' numbers, or at its cross-reference table."""
    data = seed.data
    streams = _streams(data)
    choice = rng.random()
    if choice < 0.2 and streams:
        _, start, end = rng.choice(streams)
        return data[:start] + _flip(rng, data[start:end]) + data[end:], "stream-flip"
    if choice < 0.8 and streams:
        labels = []
        for _ in range(rng.choice([1, 1, 2, 4])):
            head, start, end = rng.choice(_streams(data))
            try:
                content = zlib.decompressobj().decompress(data[start:end], 64 * 1024 * 1024)
            except zlib.error:
                continue
            changed, label = _content(rng, content)
            packed = zlib.compress(changed, 1)
            dictionary = _LENGTH.sub(b"/Length %d" % len(packed), data[head:start], count=1)
            data = data[:head] + dictionary + packed + b"\n" + data[end:]
            labels.append(label)
        return data, "content:" + ("+".join(labels) or "none")
    if choice < 0.9:
        keys = list(_PDF_KEYS.finditer(data))
        out = bytearray(data)
        for m in sorted(rng.sample(keys, min(len(keys), rng.randint(1, 10))), key=lambda m: -m.start()):
            number = _OPERAND.search(out, m.end(), m.end() + 40)
            if number is not None:
                out[number.start() : number.end()] = rng.choice(_PDF_NUMBERS)
        return bytes(out), "objects"
    tail = max(0, len(data) - 2048)
    if rng.random() < 0.5:
        return data[:tail] + _flip(rng, data[tail:]), "xref-flip"
    return data.replace(b"startxref", b"startxreF").replace(b"xref", b"xreF"), "xref-gone"


# --- random and tiny inputs ----------------------------------------------------------------------

MAGICS = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"%PDF-1.7\n",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE2 (no WordDocument stream: never reaches LibreOffice)
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"<html>",
    b"# ",
    "一、总体情况\n".encode(),
]
TINY = [
    b"",
    b" ",
    b"\n",
    b"\r\n\t ",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xff\xfe\x00",
    b"\xfe\xff\xd8\x00",
    b"PK",
    b"PK\x03\x04",
    b"PK\x05\x06" + b"\x00" * 18,
    b"%PDF-",
    b"%PDF-1.7",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"<",
    b"<html>",
    b"<table>",
    b"|",
    b"#",
    b"# a",
    "一".encode(),
    "一、总体情况".encode("gb18030"),
    b"\x80",
    b"\xc3",
    b"0",
]


def random_input(rng: random.Random) -> tuple[bytes, str]:
    magic = rng.choice(MAGICS) if rng.random() < 0.6 else b""
    size = _span(rng, 1 << 16, 1 << 16)
    return magic + rng.randbytes(size), f"random{':' + magic[:4].hex() if magic else ''}"


def tiny_input(rng: random.Random) -> tuple[bytes, str]:
    if rng.random() < 0.6:
        return rng.choice(TINY), "tiny"
    return rng.randbytes(rng.randint(1, 16)), "tiny:random"


# --- one input -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Case:
    index: int
    kind: str  # the seed's kind, or random / tiny
    mutation: str
    data: bytes
    filename: str | None
    media_type: str | None


def upload_labels(rng: random.Random, kind: str) -> tuple[str | None, str | None]:
    """A name and media type: the content's (often), none, or another format's."""
    choice = rng.random()
    if choice < 0.55 and kind in EXTENSIONS:
        stem = rng.choice(["report", "2020年度报告", "a" * 200, "../../x", "年报.final"])
        ext = EXTENSIONS[kind] if rng.random() < 0.9 else EXTENSIONS[kind].upper()
        return stem + ext, MEDIA_TYPES[kind] if rng.random() < 0.5 else None
    if choice < 0.8:
        return None, None
    other = rng.choice(KINDS)
    media = rng.choice([MEDIA_TYPES[other], "application/octet-stream", "", "text/html; charset=utf-8", None])
    return rng.choice(["x" + EXTENSIONS[other], "noext", "", ".markdown", "x.htm"]), media


WEIGHTS = [
    ("random", 3),
    ("tiny", 2),
    ("bytes", 25),
    ("splice", 5),
    ("text", 25),
    ("docx", 20),
    ("pdf", 20),
]
WAYS = (*(w for w, _ in WEIGHTS), "legacy", "image")


def make_case(
    corpus: Corpus, seed: int, index: int, legacy_every: int = 5_000, image_every: int = 10_000, way: str | None = None
) -> Case:
    """Input ``index`` of the run with ``seed``: made by its own random generator alone (``way``:
    made that way, one of ``WAYS``; by default one of them by ``WEIGHTS``, and legacy Word or a
    page image at their intervals)."""
    rng = random.Random(f"{seed}:{index}")
    if way is None:
        if legacy_every and index % legacy_every == legacy_every - 1 and "doc" in corpus.by_kind:
            way = "legacy"
        elif image_every and index % image_every == image_every // 2 and "image" in corpus.by_kind:
            way = "image"
        else:
            way = rng.choices([w for w, _ in WEIGHTS], [n for _, n in WEIGHTS])[0]
    if way in ("legacy", "image"):
        kind = "doc" if way == "legacy" else "image"
        source = corpus.pick(rng, kind)
        how = rng.choice(["none", "flip", "truncate"])
        data = source.data if how == "none" else BYTE_MUTATIONS[how](rng, source.data)
        mutation = f"{source.name}:{how}"
    else:
        general = ("text", "markdown", "html", "docx", "pdf")
        if way == "random":
            (data, mutation), kind = random_input(rng), "random"
        elif way == "tiny":
            (data, mutation), kind = tiny_input(rng), "tiny"
        elif way == "bytes":
            source = corpus.pick(rng, *general)
            data, mutation = mutate_bytes(rng, source.data)
            kind, mutation = source.kind, f"{source.name}:bytes:{mutation}"
        elif way == "splice":
            a, b = corpus.pick(rng, *general), corpus.pick(rng, *general)
            data, kind, mutation = splice(rng, a.data, b.data), a.kind, f"{a.name}:splice:{b.name}"
        else:
            source = corpus.pick(rng, *(("text", "markdown", "html") if way == "text" else (way,)))
            mutate = {"docx": mutate_docx, "pdf": mutate_pdf}.get(way, mutate_text)
            data, mutation = mutate(rng, source, corpus)
            kind, mutation = source.kind, f"{source.name}:{mutation}"
            if rng.random() < 0.15:  # and damaged as bytes besides
                data, more = mutate_bytes(rng, data, 1)
                mutation += f"+bytes:{more}"
    filename, media_type = upload_labels(rng, kind)
    return Case(index, kind, mutation, data[:MAX_SIZE], filename, media_type)


# --- the run -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    """What reading one input came to."""

    result: str  # parsed, unreadable:<reason>, error:<type>
    seconds: float
    detail: str = ""  # an exception other than UnreadableUpload: its traceback
    signature: str = ""  # ... its type, where in the parser it was raised, and its message
    peak_mb: float = 0.0  # (read in a child: the child's peak memory)


def read(case: Case) -> Result:
    start = time.perf_counter()
    try:
        parse(case.data, case.filename, case.media_type)
    except UnreadableUpload as exc:
        return Result(f"unreadable:{exc.reason.value}", time.perf_counter() - start)
    except Exception as exc:
        seconds = time.perf_counter() - start
        return Result(f"error:{type(exc).__name__}", seconds, "".join(traceback.format_exception(exc)), _signature(exc))
    return Result("parsed", time.perf_counter() - start)


def read_forked(case: Case) -> Result:
    """Read in a forked child: a page image loads OCR (~350 MB resident, more at its peak), which
    the service reads in a sandbox widened for scans (``ocr_memory_mb``); the memory is the
    child's, reported apart from the run's."""
    into, out = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(into)
        done = read(case)
        done.peak_mb = peak_mb()
        with os.fdopen(out, "wb") as pipe:
            pickle.dump(done, pipe)
        os._exit(0)
    os.close(out)
    start = time.perf_counter()
    with os.fdopen(into, "rb") as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not answer:
        return Result("error:ChildDied", time.perf_counter() - start, f"wait status {status}\n", "the child died")
    result: Result = pickle.loads(answer)
    return result


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/services/" in f.filename] or frames
    last = ours[-1] if ours else None
    where = f"{Path(last.filename).name}:{last.lineno} in {last.name}" if last else "?"
    return f"{type(exc).__name__} at {where}: {str(exc)[:100]}"


def save_case(folder: Path, case: Case, result: str, detail: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{case.index:06d}-{result.split(':', 1)[1]}"
    stem.with_suffix(".bin").write_bytes(case.data)
    meta = f"index: {case.index}\nkind: {case.kind}\nmutation: {case.mutation}\n"
    meta += f"filename: {case.filename!r}\nmedia_type: {case.media_type!r}\nbytes: {len(case.data)}\n\n"
    stem.with_suffix(".txt").write_text(meta + detail, encoding="utf-8")
    return stem.with_suffix(".bin")


class Watchdog:
    """Stops the run when an input runs past ``seconds``: the input and every thread's stack saved."""

    def __init__(self, seconds: float, folder: Path) -> None:
        self.seconds = seconds
        self.folder = folder
        self.case: Case | None = None
        self.started = 0.0
        threading.Thread(target=self._watch, daemon=True).start()

    def start(self, case: Case) -> None:
        self.started = time.monotonic()
        self.case = case

    def stop(self) -> None:
        self.case = None

    def _watch(self) -> None:
        while True:
            time.sleep(1.0)
            case = self.case
            if case is not None and time.monotonic() - self.started > self.seconds:
                path = save_case(self.folder, case, "error:Hang", f"still running after {self.seconds:g} s\n")
                with path.with_suffix(".stack").open("w") as out:
                    faulthandler.dump_traceback(out, all_threads=True)
                print(f"input {case.index} hangs ({case.kind}, {case.mutation}): saved to {path}", flush=True)
                os._exit(3)


def peak_mb() -> float:
    """The process's peak resident size since the last ``reset_peak`` (``VmHWM``), else since it began."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # (KB on Linux)


def reset_peak() -> bool:
    """Reset the process's peak resident size to its present size (Linux 4.0+); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _libc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError):  # (not glibc)
        return None


MALLOC_TRIM = _libc_trim()


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / (1024 * 1024)


@dataclass(slots=True)
class Outcome:
    index: int
    kind: str
    mutation: str
    seconds: float
    result: str


@dataclass
class Totals:
    n: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    slowest_by_kind: dict[str, float] = field(default_factory=dict)
    slowest: list[Outcome] = field(default_factory=list)
    over_budget: list[Outcome] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    peak_mb: float = 0.0  # the highest peak of one input (the process's resident size while reading it)
    highest: list[tuple[float, float, Outcome]] = field(default_factory=list)  # (peak, resident before, input)
    per_input: bool = True  # whether each input's peak was measured alone (else: the process's high-water mark)
    forked_peak_mb: float = 0.0
    trims: int = 0  # times the freed heap was given back
    seconds: float = 0.0
    parse_seconds: float = 0.0

    def add(self, out: Outcome, budget: float, forked: Result | None = None, before_mb: float = 0.0) -> None:
        self.n += 1
        self.parse_seconds += out.seconds
        self.outcomes[out.result] += 1
        self.by_kind.setdefault(out.kind, Counter())[out.result.split(":")[0]] += 1
        self.slowest_by_kind[out.kind] = max(self.slowest_by_kind.get(out.kind, 0.0), out.seconds)
        if len(self.slowest) < 10 or out.seconds > self.slowest[-1].seconds:
            self.slowest = sorted([*self.slowest, out], key=lambda o: -o.seconds)[:10]
        if out.seconds > budget:
            self.over_budget.append(out)
        if forked is not None:
            self.forked_peak_mb = max(self.forked_peak_mb, forked.peak_mb)
        peak = peak_mb()
        if len(self.highest) < 10 or peak > self.highest[-1][0]:
            self.highest = sorted([*self.highest, (peak, before_mb, out)], key=lambda h: -h[0])[:10]
        self.peak_mb = max(self.peak_mb, peak)


def report(totals: Totals, args: argparse.Namespace) -> str:
    lines = [
        f"fuzz: {totals.n} inputs, seed {args.seed}, in {totals.seconds:.1f} s "
        f"({totals.n / max(totals.seconds, 1e-9):.1f} inputs/s; parse {totals.parse_seconds:.1f} s of it)",
        f"parsed: {totals.outcomes['parsed']}",
        f"unreadable: {sum(v for k, v in totals.outcomes.items() if k.startswith('unreadable:'))}",
    ]
    for key, count in sorted(totals.outcomes.items(), key=lambda kv: -kv[1]):
        if key.startswith("unreadable:"):
            lines.append(f"  {key.split(':', 1)[1]:<18} {count}")
    errors = {k: v for k, v in totals.outcomes.items() if k.startswith("error:")}
    lines.append(f"other exceptions: {sum(errors.values())}")
    for key, count in sorted(errors.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {key.split(':', 1)[1]:<18} {count}")
    for sig, count in Counter(e["signature"] for e in totals.errors).most_common():
        lines.append(f"    {count:>6} × {sig}")
    lines.append("by kind:             inputs   parsed  unreadable  errors  slowest s")
    for kind, counts in sorted(totals.by_kind.items(), key=lambda kv: -sum(kv[1].values())):
        lines.append(
            f"  {kind:<18} {sum(counts.values()):>7} {counts['parsed']:>8} {counts['unreadable']:>11} "
            f"{counts['error']:>7} {totals.slowest_by_kind[kind]:>10.2f}"
        )
    lines.append("slowest inputs:")
    for out in totals.slowest[:5]:
        lines.append(f"  {out.seconds:7.2f} s  #{out.index} {out.kind} {out.mutation} → {out.result}")
    lines.append(
        f"over the budget ({args.seconds_budget:g} s; a page image {args.ocr_budget:g} s): {len(totals.over_budget)}"
    )
    for out in totals.over_budget[:20]:
        lines.append(f"  {out.seconds:7.2f} s  #{out.index} {out.kind} {out.mutation} → {out.result}")
    what = "one input's peak (VmHWM reset before each)" if totals.per_input else "the process's peak (VmHWM)"
    lines.append(f"peak memory, {what}: {totals.peak_mb:.0f} MB; the highest (peak, resident before it):")
    for peak, before, out in totals.highest[:8]:
        lines.append(f"  {peak:5.0f} MB ({before:4.0f})  #{out.index} {out.kind} {out.mutation} → {out.result}")
    if totals.trims:
        lines.append(
            f"  (freed heap given back after {totals.trims} inputs that left the process over {args.trim_mb:g} MB)"
        )
    if totals.forked_peak_mb:
        lines.append(f"page images (OCR), read in forked children: their peak {totals.forked_peak_mb:.0f} MB")
    if totals.errors:
        lines.append(f"offending inputs saved to {args.crashes}")
    return "\n".join(lines)


ALONE = """
import sys, time
sys.path.insert(0, sys.argv[1])
from services.parser.core import parse
from services.parser.errors import UnreadableUpload
data = open(sys.argv[2], "rb").read()
start = time.perf_counter()
try:
    parse(data, sys.argv[3] or None, sys.argv[4] or None)
    result = "parsed"
except UnreadableUpload as exc:
    result = "unreadable:" + exc.reason.value
# (VmHWM, not ru_maxrss: the latter keeps the high-water mark of the forked image before the exec)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
print(result, time.perf_counter() - start, int(hwm) / 1024)
"""


def replay_alone(corpus: Corpus, args: argparse.Namespace) -> None:
    """The inputs a run found heaviest (its highest per-input peaks, its slowest), each read again
    alone in a new interpreter that imports the parser and nothing else, as the service's reading
    child does: that process's peak resident size (``VmHWM``) is the parsing process's memory
    for that input, without the fuzzing process's seeds and heap; and its time without the run's
    contention."""
    picked: dict[int, str] = {}
    for path in args.alone:
        run = json.loads(path.read_text(encoding="utf-8"))
        for row in run.get("highest_peaks", []):
            picked.setdefault(row["index"], f"peak {row['peak_mb']:.0f} MB in the run")
        for row in run.get("slowest", [])[:5] + run.get("over_budget", []):
            picked.setdefault(row["index"], f"{row['seconds']:.1f} s in the run")
    print(f"{'input':<43} {'in the run':<24} alone: result, seconds, peak MB")
    with tempfile.TemporaryDirectory() as tmp:
        for index, why in sorted(picked.items()):
            case = make_case(corpus, args.seed, index, args.legacy_every, args.image_every, args.way)
            upload = Path(tmp) / "upload"
            upload.write_bytes(case.data)
            done = subprocess.run(
                [sys.executable, "-c", ALONE, str(ROOT), str(upload), case.filename or "", case.media_type or ""],
                capture_output=True,
                text=True,
                timeout=600,
            )
            answer = done.stdout.split() or ["died", "0", "0"]
            label = f"#{index} {case.kind} {case.mutation}"[:42]
            print(f"{label:<43} {why:<24} {answer[0]:<24} {float(answer[1]):6.2f} s {float(answer[2]):6.0f} MB")


def _as_dict(out: Outcome) -> dict[str, Any]:
    return {
        "index": out.index,
        "kind": out.kind,
        "mutation": out.mutation,
        "seconds": out.seconds,
        "result": out.result,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--n", type=int, default=200_000, help="inputs (default 200,000)")
    ap.add_argument("--seed", type=int, default=16, help="the run's seed: input i is made from (seed, i) alone")
    ap.add_argument("--seconds-budget", type=float, default=Limits().max_seconds, help="an input's time budget")
    ap.add_argument(
        "--ocr-budget",
        type=float,
        default=Limits().ocr_seconds,
        help="a page image's (OCR's own budget, as the service gives it)",
    )
    ap.add_argument("--start", type=int, default=0, help="the first input's index")
    ap.add_argument("--only", type=int, help="replay this input alone: its outcome, and any traceback")
    ap.add_argument("--crashes", type=Path, default=Path("/tmp/fuzz-crashes"), help="where offending inputs go")
    ap.add_argument("--legacy-every", type=int, default=5_000, help="one legacy Word input in this many (0: none)")
    ap.add_argument("--image-every", type=int, default=10_000, help="one page image (OCR) in this many (0: none)")
    ap.add_argument("--way", choices=WAYS, help="every input made this way (the tests' way of naming one)")
    ap.add_argument("--hang-seconds", type=float, default=300.0, help="stop the run when an input takes this long")
    ap.add_argument(
        "--trim-mb",
        type=float,
        default=192.0,
        help="after an input that leaves the process resident past this, give its freed heap back (malloc_trim)",
    )
    ap.add_argument("--progress", type=int, default=10_000, help="a progress line every this many inputs")
    ap.add_argument(
        "--alone",
        type=Path,
        action="append",
        help="a run's --json: read its highest-peak and slowest inputs again, each alone in a new process",
    )
    ap.add_argument("--json", type=Path, help="write the totals here as JSON too")
    args = ap.parse_args()

    corpus = load_corpus()
    if args.only is not None:
        case = make_case(corpus, args.seed, args.only, args.legacy_every, args.image_every, args.way)
        done = read(case)
        print(f"#{case.index} {case.kind} {case.mutation} name={case.filename!r} media={case.media_type!r}")
        print(f"{len(case.data)} bytes → {done.result} in {done.seconds:.3f} s\n{done.detail}", end="")
        return

    if args.alone:
        replay_alone(corpus, args)
        return

    print(f"seeds: {dict(Counter(s.kind for s in corpus.seeds))}", flush=True)
    totals = Totals()
    watchdog = Watchdog(args.hang_seconds, args.crashes)
    began = time.perf_counter()
    for index in range(args.start, args.start + args.n):
        case = make_case(corpus, args.seed, index, args.legacy_every, args.image_every, args.way)
        totals.per_input = reset_peak() and totals.per_input
        before = rss_mb()
        watchdog.start(case)
        done = read_forked(case) if case.kind == "image" else read(case)
        watchdog.stop()
        if done.detail:
            path = save_case(args.crashes, case, done.result, done.detail)
            totals.errors.append(
                {"index": index, "kind": case.kind, "mutation": case.mutation, "signature": done.signature}
            )
            print(f"#{index} {case.kind} {case.mutation}: {done.signature} (saved to {path})", flush=True)
        outcome = Outcome(index, case.kind, case.mutation, done.seconds, done.result)
        budget = args.ocr_budget if case.kind == "image" else args.seconds_budget
        totals.add(outcome, budget, done if case.kind == "image" else None, before)
        if MALLOC_TRIM is not None and args.trim_mb and rss_mb() > args.trim_mb:
            MALLOC_TRIM(0)  # (as the service replaces a parser child grown past 192 MB: see the docstring)
            totals.trims += 1
        count = index - args.start + 1
        if args.progress and count % args.progress == 0:
            elapsed = time.perf_counter() - began
            errors = sum(v for k, v in totals.outcomes.items() if k.startswith("error:"))
            print(
                f"{count} inputs in {elapsed:.0f} s ({count / elapsed:.1f}/s): parsed {totals.outcomes['parsed']}, "
                f"errors {errors}, over budget {len(totals.over_budget)}, slowest {totals.slowest[0].seconds:.2f} s, "
                f"peak {totals.peak_mb:.0f} MB, now {rss_mb():.0f} MB",
                flush=True,
            )
    totals.seconds = time.perf_counter() - began
    print(report(totals, args), flush=True)
    if args.json:
        data = {
            "inputs": totals.n,
            "seed": args.seed,
            "seconds": totals.seconds,
            "outcomes": dict(totals.outcomes),
            "by_kind": {k: dict(v) for k, v in totals.by_kind.items()},
            "slowest": [_as_dict(o) for o in totals.slowest],
            "over_budget": [_as_dict(o) for o in totals.over_budget],
            "errors": totals.errors,
            "peak_mb": totals.peak_mb,
            "peak_per_input": totals.per_input,
            "highest_peaks": [{"peak_mb": p, "resident_before_mb": b, **_as_dict(o)} for p, b, o in totals.highest],
            "forked_peak_mb": totals.forked_peak_mb,
            "trims": totals.trims,
        }
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
