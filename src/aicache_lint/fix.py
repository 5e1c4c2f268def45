"""Edits, fixes and their application.

A fix is a set of non-overlapping text edits on file offsets plus a title and an applicability.
Untouched text is copied verbatim; inserted text is written with ``\\n`` and converted to the
file's own newline style here, so no rule has to care about CRLF.
"""

from __future__ import annotations

import bisect
from enum import Enum
from typing import NamedTuple


class Applicability(str, Enum):
    SAFE = "safe"  # keeps what the image contains and does, or fixes an unambiguous bug
    UNSAFE = "unsafe"  # may change behaviour: applied only with --unsafe-fixes


class Edit(NamedTuple):
    start: int
    end: int
    content: str = ""

    @classmethod
    def insert(cls, at: int, content: str) -> "Edit":
        return cls(at, at, content)

    @classmethod
    def delete(cls, start: int, end: int) -> "Edit":
        return cls(start, end, "")


class _FixFields(NamedTuple):
    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability


class Fix(_FixFields):
    """Sorted, non-overlapping edits with a title and an applicability."""

    __slots__ = ()

    def __new__(cls, title: str, edits: tuple[Edit, ...], applicability: Applicability = Applicability.SAFE) -> "Fix":
        ordered = tuple(sorted(set(edits)))
        pair = _overlapping_pair(ordered)
        if pair is not None:
            raise ValueError(f"fix {title!r} has overlapping edits {pair[0]} and {pair[1]}")
        return super().__new__(cls, title, ordered, applicability)

    @classmethod
    def safe(cls, title: str, *edits: Edit) -> "Fix":
        return cls(title, edits, Applicability.SAFE)

    @classmethod
    def unsafe(cls, title: str, *edits: Edit) -> "Fix":
        return cls(title, edits, Applicability.UNSAFE)

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE


def overlapping(edits: list[Edit]) -> bool:
    """Whether ``edits`` overlap, so no ``Fix`` can hold them all (two words deleted one by one
    whose deletions take the same continuation marker): the caller offers no fix then."""
    return _overlapping_pair(sorted(set(edits))) is not None


def _overlapping_pair(ordered: list[Edit] | tuple[Edit, ...]) -> tuple[Edit, Edit] | None:
    return next(((a, b) for a, b in zip(ordered, ordered[1:]) if _overlap(a, b)), None)


def _overlap(a: Edit, b: Edit) -> bool:
    """Edits overlap when their ranges intersect, or when both insert at the same point.

    Two insertions at one offset would apply in an order nobody chose; the second one waits
    for the next pass, when it sees the first.
    """
    if a == b:
        return False
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    return a.start < b.end and b.start < a.end


def with_newline(content: str, newline: str) -> str:
    if newline == "\n":
        return content
    return content.replace("\r\n", "\n").replace("\n", newline)


def apply_edits(text: str, edits: list[Edit], newline: str = "\n") -> str:
    """Apply sorted, non-overlapping edits.

    Inserted text that starts with LF goes before the lone CRs that end the kept text: right
    after them the LF would join the last one into a CRLF, and an LF file would turn mixed."""
    out: list[str] = []
    pos = 0
    for e in sorted(edits):
        content = with_newline(e.content, newline)
        kept = e.start
        if content.startswith("\n"):
            while kept > pos and text[kept - 1] == "\r":
                kept -= 1
        out.append(text[pos:kept])
        out.append(content)
        out.append(text[kept : e.start])
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def select_fixes(fixes: list[Fix]) -> list[Fix]:
    """The fixes one pass applies: in order of their first edit, skipping any that overlap one
    already taken (it is retried on the next pass). Identical edits apply once."""
    taken: list[Fix] = []
    # The edits taken so far, sorted. They do not overlap, so their ends are sorted too, and the
    # ones a new edit may overlap are found by bisection (comparing it with every taken edit made
    # a pass quadratic in the number of fixes).
    edits: list[Edit] = []
    ends: list[int] = []
    verdicts: dict[int, bool] = {}  # one fix object may serve many findings (a stage-wide fix): check it once
    for fix in sorted(fixes, key=lambda f: (f.edits[0] if f.edits else Edit(0, 0), f.title)):
        if not fix.edits:
            continue
        ok = verdicts.get(id(fix))
        if ok is None:
            ok = verdicts[id(fix)] = not any(_overlaps_any(e, edits, ends) for e in fix.edits)
            if ok:
                for e in fix.edits:
                    i = bisect.bisect_left(edits, e)
                    if i == len(edits) or edits[i] != e:
                        edits.insert(i, e)
                        ends.insert(i, e.end)
        if ok:
            taken.append(fix)
    return taken


def _overlaps_any(edit: Edit, edits: list[Edit], ends: list[int]) -> bool:
    """Whether ``edit`` overlaps one of ``edits`` (sorted, non-overlapping; ``ends`` their ends)."""
    i = bisect.bisect_left(ends, edit.start)  # the first that ends where ``edit`` starts, or later
    while i < len(edits) and edits[i].start <= edit.end:
        if _overlap(edit, edits[i]):
            return True
        i += 1
    return False


def apply_fixes(text: str, fixes: list[Fix], newline: str = "\n") -> tuple[str, list[Fix]]:
    chosen = select_fixes(fixes)
    edits = sorted({e for f in {id(f): f for f in chosen}.values() for e in f.edits})
    return apply_edits(text, edits, newline), chosen
