"""Digits that lost the separators between their cells, split back by the template's sums.

Text a crawler took from a portal page can run a row's cells together (``1000001`` for
1 0 0 0 0 0 1, ``230 000023`` for 23 0 0 0 0 0 23). A row's digits are cut into its cells in
every way that keeps the boundaries the text has and gives no number a leading zero. When that
leaves one way, it is the row. Otherwise the rows' ways are tried together against every sum
the template states (a row's total; for each column of table 三, 一 + 二 = （七） + 四 and （七） =
the sum of the results; each group of table 四), and a row is split only when every assignment
of the whole table that satisfies them all gives it the same cells. Nothing is guessed: a row
with no such split, or with more than one, stays unsplit; so does every row that needed the
table's sums when no assignment satisfies them all (the table then has an error somewhere, and
no split that leans on its sums can be trusted).

The search is bounded: at most ``MAX_WAYS`` ways per row and ``MAX_TABLES`` assignments of the
table are looked at (and the document's deadline is checked as it goes); past either bound the
rows in question stay unsplit, as when the sums admit several splits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from contracts.template import T3_RESULT_ROWS, TemplateId

MAX_WAYS = 20_000  # ways to cut one row's digits
MAX_TABLES = 200_000  # assignments of the table's ambiguous rows

Values = tuple[int, ...]


def ways(parts: Sequence[str], n: int, limit: int = MAX_WAYS) -> list[tuple[str, ...]] | None:
    """Every cut of the digit strings ``parts`` into ``n`` numbers, their own boundaries kept and
    no number written with a leading zero; None when there are more than ``limit``."""
    text = "".join(parts)
    if not text.isdigit() or len(text) < n:
        return []
    bounds = [*itertools.accumulate(len(p) for p in parts)]  # no number runs across one of these
    # the fewest numbers the digits from each place on can be cut into (each part at least one, a
    # 0 that starts a number is that number): a cut that leaves more than the numbers still to be
    # made is not followed, so that every cut tried leads to a way (else the search is exponential:
    # 9…9 0 0 … 0, its nines cut every way before the zeros are found to need more numbers)
    fewest = [0] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        fewest[i] = 1 + fewest[i + 1 if text[i] == "0" else next(b for b in bounds if b > i)]
    if fewest[0] > n:
        return []
    out: list[tuple[str, ...]] = []

    def cut(start: int, left: int, pieces: tuple[str, ...]) -> bool:
        stop = next(b for b in bounds if b > start)
        if left == 1:
            piece = text[start:]
            if stop == len(text) and (len(piece) == 1 or piece[0] != "0"):
                out.append((*pieces, piece))
            return len(out) <= limit
        for end in range(start + 1, stop + 1):
            if len(text) - end < left - 1:
                break
            piece = text[start:end]
            if len(piece) > 1 and piece[0] == "0":
                break
            if fewest[end] > left - 1:
                continue
            if not cut(end, left - 1, (*pieces, piece)):
                return False
        return True

    return out if cut(0, n, ()) else None


def row_sum(values: Values) -> bool:
    """Table 三: a row's total is the sum of its six applicant columns."""
    return sum(values[:6]) == values[6]


def group_sums(values: Values) -> bool:
    """Table 四: each group's total is the sum of its four results."""
    return all(sum(values[g : g + 4]) == values[g + 4] for g in range(0, len(values), 5))


Check = Callable[[dict[str, Values | None]], bool]


def t3_columns(template: TemplateId) -> Check:
    """Table 三's column sums, each judged only where every operand is known."""
    results = T3_RESULT_ROWS[template]

    def check(rows: dict[str, Values | None]) -> bool:
        def col(row: str, c: int) -> int | None:
            v = rows.get(row)
            return None if v is None else v[c]

        for c in range(7):
            nr, co, total, cf = (col(r, c) for r in ("new_received", "carried_over", "total", "carried_forward"))
            if None not in (nr, co, total, cf) and nr + co != total + cf:  # type: ignore[operator]
                return False
            parts = [col(r, c) for r in results]
            if total is not None and None not in parts and sum(parts) != total:  # type: ignore[arg-type]
                return False
        return True

    return check


def split_rows(
    rows: dict[str, list[str]],
    n: int,
    known: dict[str, Values | None],
    row_check: Callable[[Values], bool] | None,
    table_check: Check | None,
    tick: Callable[[], None] = lambda: None,
) -> dict[str, tuple[tuple[str, ...] | None, str]]:
    """Each row's digit strings split into ``n`` cells, or None; with how it was decided.

    ``known``: the values of the table's other rows (None where a cell could not be read), for
    the table's sums. The reason is ``digits`` (one way to cut them), ``sums`` (one way that the
    sums allow) or why the row stays unsplit.
    """
    out: dict[str, tuple[tuple[str, ...] | None, str]] = {}
    open_rows: dict[str, list[tuple[str, ...]]] = {}
    for rid, parts in rows.items():
        found = ways(parts, n)
        if found is None:
            out[rid] = (None, "too many ways to cut the digits to be sure")
        elif not found:
            out[rid] = (None, "the digits cannot be cut into the row's cells")
        else:
            fitting = [w for w in found if row_check is None or row_check(tuple(map(int, w)))]
            if not fitting:  # (a blank cell that left no trace makes a cut that breaks the row's sum)
                out[rid] = (None, f"no way to cut the digits ({len(found)}) satisfies the row's sum")
            elif len(found) == 1:
                out[rid] = (found[0], "digits")
            else:
                open_rows[rid] = fitting
    if not open_rows:
        return out
    fixed: dict[str, Values | None] = dict(known)
    for rid, (split, _) in out.items():
        fixed[rid] = tuple(map(int, split)) if split is not None else None
    size = 1
    for options in open_rows.values():
        size *= len(options)
    if table_check is None or size > MAX_TABLES:
        why = "the digits admit several splits" if table_check is None else "too many splits to be sure"
        for rid, options in open_rows.items():
            out[rid] = (options[0], "sums") if len(options) == 1 else (None, f"{why} ({len(options)})")
        return out
    names = list(open_rows)
    agreed: dict[str, tuple[str, ...] | None] = {}
    survivors = 0
    for k, combo in enumerate(itertools.product(*open_rows.values())):
        if k % 10_000 == 0:
            tick()
        trial = dict(fixed)
        trial.update((rid, tuple(map(int, w))) for rid, w in zip(names, combo, strict=True))
        if not table_check(trial):
            continue
        survivors += 1
        for rid, w in zip(names, combo, strict=True):
            if rid not in agreed:
                agreed[rid] = w
            elif agreed[rid] != w:
                agreed[rid] = None
    for rid, options in open_rows.items():
        split = agreed.get(rid) if survivors else None
        if split is not None:
            out[rid] = (split, "sums")
        elif survivors:
            out[rid] = (None, f"the table's sums admit {len(set(options))} splits")
        else:
            out[rid] = (None, "no split satisfies the table's sums")
    return out
