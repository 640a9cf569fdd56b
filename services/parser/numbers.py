"""Numbers as written in table cells."""

from __future__ import annotations

import re
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


MAX_DIGITS = 15  # no office counts past a thousand trillion: a longer figure is no number read


def _read_value(match: re.Match[str], amount: bool) -> tuple[int | Decimal | None, str | None]:
    sign, digits, frac, unit = match.groups()
    digits = digits.replace(",", "")
    if len(digits) > MAX_DIGITS or (frac is not None and len(frac) > MAX_DIGITS):
        return None, unit  # (and never an int() of thousands of digits, which CPython refuses)
    if amount:
        return Decimal(f"{sign}{digits}.{frac}" if frac is not None else f"{sign}{digits}"), unit
    if frac is not None:
        return None, unit
    return int(sign + digits), unit
