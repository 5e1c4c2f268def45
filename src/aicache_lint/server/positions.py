"""Offsets in a text <-> LSP positions, and the smallest edits that turn one text into another.

LSP positions are (line, character) with lines broken at `\\n`, `\\r\\n` and `\\r` and characters
counted in UTF-16 code units, the default `positionEncoding` (LSP 3.17, "Position"). The linter's
offsets count code points in the text without its BOM; an editor that keeps a BOM in the buffer
sees it as one more unit at the start, which ``Document`` adds.
"""

from __future__ import annotations

import bisect
import difflib
import re
from typing import NamedTuple

_BREAK = re.compile(r"\r\n|\r|\n")


def utf16_length(text: str) -> int:
    """UTF-16 code units in ``text``: characters beyond the BMP take two."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


class Lines:
    """The lines of a text as LSP counts them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _BREAK.finditer(text))]

    def position(self, offset: int) -> tuple[int, int]:
        """(line, UTF-16 character) of ``offset``, both 0-based."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, utf16_length(self.text[self.starts[line]:offset])

    def offset(self, line: int, character: int) -> int:
        """The offset of an LSP position; past the end of its line (or of the text) it is clamped,
        as the protocol asks, and inside a surrogate pair it moves past the pair."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        while end > start and self.text[end - 1] in "\r\n":  # the line break is not on the line
            end -= 1
        units = 0
        for i in range(start, end):
            if units >= character:
                return i
            units += 2 if ord(self.text[i]) > 0xFFFF else 1
        return end


class TextChange(NamedTuple):
    """Replace ``text[start:end]`` with ``new``."""

    start: int
    end: int
    new: str


def changes(old: str, new: str) -> list[TextChange]:
    """Small non-overlapping changes that turn ``old`` into ``new``: the differing runs of lines,
    each trimmed to the characters that differ (an editor keeps its cursor and undo history
    where nothing changed)."""
    if old == new:
        return []
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    starts_a = [0]
    for line in a:
        starts_a.append(starts_a[-1] + len(line))
    starts_b = [0]
    for line in b:
        starts_b.append(starts_b[-1] + len(line))
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        start, end = starts_a[i1], starts_a[i2]
        removed, added = old[start:end], new[starts_b[j1]:starts_b[j2]]
        prefix = _common_prefix(removed, added)
        suffix = _common_prefix(removed[prefix:][::-1], added[prefix:][::-1])
        out.append(TextChange(start + prefix, end - suffix, added[prefix:len(added) - suffix]))
    return out


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
