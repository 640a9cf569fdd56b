"""The OCR reader's table grid and figure reading on made images and made recogniser outputs
(no model run: the real OCR is tested on the scans, tests/integration/test_scans.py)."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")

from services.parser.formats import ocr  # noqa: E402


def _grid(gaps: bool, merged: bool, border: bool = False) -> list[ocr.Cell]:
    """The cells read off a table of 2 × 3 slots drawn on a page (its rules 2 pixels thick), the
    rule under the first slot broken by gaps the noise makes (``gaps``), or left out (``merged``),
    the table's border broken beside the last slot (``border``)."""
    ink = np.zeros((400, 800), np.uint8)
    xs, ys = [100, 300, 500, 700], [100, 160, 220]
    for x in xs:
        ink[ys[0] : ys[-1] + 2, x : x + 2] = 255
    for y in ys:
        ink[y : y + 2, xs[0] : xs[-1] + 2] = 255
    if merged:
        ink[160:162, 102:300] = 0
    if gaps:
        ink[160:162, 140:170] = 0
        ink[160:162, 230:262] = 0
    if border:
        ink[175:201, 700:702] = 0
    hor, ver = ocr._rule_lines(ink)
    rules = cv2.bitwise_or(hor, ver)
    (group,) = ocr._tables(ocr._cells(rules, 800, 400))
    edges_x = ocr._edges([c[0] for c in group] + [c[2] for c in group])
    edges_y = ocr._edges([c[1] for c in group] + [c[3] for c in group])
    return ocr._on_grid(group, edges_x, edges_y, (hor, ver))


def test_a_gap_the_noise_makes_in_a_rule_joins_no_cells() -> None:
    assert len(_grid(gaps=False, merged=False)) == 6
    assert len(_grid(gaps=True, merged=False)) == 6
    assert len(_grid(gaps=False, merged=False, border=True)) == 6  # (its region one with the page's)


def test_slots_no_rule_parts_are_one_merged_cell() -> None:
    cells = _grid(gaps=False, merged=True)
    assert len(cells) == 5
    assert max(y1 - y0 for _, y0, _, y1 in cells) > 100  # the first column's two slots, as one


def test_a_line_ends_at_its_last_mark_of_a_characters_height() -> None:
    line = np.zeros((20, 60), np.uint8)
    line[:, 10:22] = 255  # a digit
    line[9:11, 30:36] = 255  # grain after it, reading as a dash
    assert ocr._end(line, 36) == 22
    line[9:11, 0:6] = 255  # a minus sign before it stays
    line[9:11, 30:36] = 0
    assert ocr._end(line, 22) == 22


def _decoded(steps: list[dict[str, float]]) -> tuple[str, float]:
    """What the cell decoding makes of a recogniser's output: one step a dict of probabilities."""
    from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

    decode = CTCLabelDecode(character=["0", "8", "O", "/", "一", "K"])
    preds = np.zeros((1, len(steps), len(decode.character)), np.float32)
    for t, probs in enumerate(steps):
        for c, p in probs.items():
            preds[0, t, decode.character.index(c)] = p
    text, conf = ocr._CellDecode(decode)(preds)[0]
    return text, round(conf, 3)


def test_a_figure_is_read_among_what_a_cell_can_hold() -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    # a noisy 0: what it loses to the letter O is no doubt about the figure
    assert _decoded([{"0": 0.6, "O": 0.35, "8": 0.05}]) == ("0", 0.923)
    assert _decoded([{"O": 0.5, "0": 0.3, "8": 0.2}]) == ("0", 0.6)
    # another figure, a blank cell's slash, no mark at all count against it in full
    assert _decoded([{"0": 0.6, "8": 0.4}]) == ("0", 0.6)
    assert _decoded([{"0": 0.6, "/": 0.3, "blank": 0.1}]) == ("0", 0.6)
    # what is no figure is read as the recogniser reads it
    assert _decoded([{"/": 0.7, "0": 0.3}]) == ("/", 0.7)
    assert _decoded([{"O": 0.9, "0": 0.1}, {"K": 0.9, "一": 0.1}]) == ("OK", 0.9)
