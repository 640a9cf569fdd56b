"""What the parser remembers from report to report: labels, cells, table lines recur in every
report of a template, so what is worked out from their text is kept, by that text.

A ``Memo`` is a plain dictionary (looking up stays as quick as a dict's ``get``) that keeps
only short keys and starts afresh when it is full, so that its memory stays bounded whatever
the uploads hold: all of them together stay under ~40 MB (table lines, the largest, take ~0.4 KB
an entry; 10,000 new reports grew a parser by 17 MB).
"""

from __future__ import annotations

from typing import TypeVar

V = TypeVar("V")


class Memo(dict[str, V]):
    __slots__ = ("longest", "size")

    def __init__(self, longest: int = 64, size: int = 20_000) -> None:
        super().__init__()
        self.longest = longest  # longer keys are one-offs (prose), not kept
        self.size = size

    def keep(self, key: str, value: V) -> V:
        """``value``, kept for ``key`` when the key is short."""
        if len(key) <= self.longest:
            if len(self) >= self.size:
                self.clear()
            self[key] = value
        return value
