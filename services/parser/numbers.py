"""Numbers as written in table cells, and digits that lost their separators."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from decimal import Decimal

from services.parser.memo import Memo

# A whole cell that is a number: sign, digits (with thousands commas), decimals, a unit.
NUMBER = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(万元|元|万|件|个|项|条|次)?")
# What offices put in a cell to mean “nothing”.
PLACEHOLDERS = frozenset({"/", "-", "--", "—", "——", "–", "―", "无", "\\", "×", "x", "X"})


# What number cells read as, by their text: counts (index 0) and amounts (index 1).
VALUES: tuple[Memo[tuple[int | Decimal | None, str | None]], ...] = (Memo(size=50_000), Memo(size=50_000))


def read_value(match: re.Match[str], amount: bool) -> tuple[int | Decimal | None, str | None]:
    """The value of a number cell: a decimal for an ``amount`` column, else an integer
    (None: a fraction where a count must stand). Remembered, since the same cells recur."""
    values = VALUES[amount]
    hit = values.get(match.string)
    return values.keep(match.string, _read_value(match, amount)) if hit is None else hit


def _read_value(match: re.Match[str], amount: bool) -> tuple[int | Decimal | None, str | None]:
    sign, digits, frac, unit = match.groups()
    digits = digits.replace(",", "")
    if amount:
        return Decimal(f"{sign}{digits}.{frac}" if frac is not None else f"{sign}{digits}"), unit
    if frac is not None:
        return None, unit
    return int(sign + digits), unit


def split_run(
    parts: Sequence[str], n: int, check: Callable[[list[int]], bool], budget: int = 50_000
) -> list[str] | None:
    """Split digit strings into ``n`` numbers when exactly one split satisfies ``check``.

    Scraped web text loses the separators between cells (``713000074``). The existing
    boundaries are kept; cuts are tried inside each string; numbers with a leading zero are
    not allowed. Returns None when no split or more than one split fits (or the search is
    too large to be sure).
    """
    text = "".join(parts)
    if len(text) < n or not text.isdigit():
        return None
    fixed, pos = set(), 0
    for p in parts[:-1]:
        pos += len(p)
        fixed.add(pos)
    optional = [i for i in range(1, len(text)) if i not in fixed]
    need = n - 1 - len(fixed)
    if need < 0 or need > len(optional):
        return None
    found: list[str] | None = None
    for tried, cuts in enumerate(itertools.combinations(optional, need)):
        if tried >= budget:
            return None
        bounds = [0, *sorted((*fixed, *cuts)), len(text)]
        pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
        if any(len(p) > 1 and p[0] == "0" for p in pieces):
            continue
        if check([int(p) for p in pieces]):
            if found is not None:
                return None
            found = pieces
    return found


def t3_row_sum(values: list[int]) -> bool:
    return sum(values[:6]) == values[6]


def t4_group_sums(values: list[int]) -> bool:
    return all(sum(values[g : g + 4]) == values[g + 4] for g in range(0, len(values), 5))
