"""Where each character of a `FROM` image reference comes from: the `FROM` line itself or the
default of a global `ARG` (``ARG CUDA_VERSION=12.4.1`` before the first ``FROM``). A fix that
changes part of the reference edits the place that wrote that part, so a version kept in an
``ARG`` is changed there, not by hard-coding it into the ``FROM`` line."""

from __future__ import annotations

import re
from typing import NamedTuple

from aicache_lint.dockerfile.model import Dockerfile, Instruction
from aicache_lint.dockerfile.words import key_values, split_words
from aicache_lint.fix import Edit

# A value that is written verbatim: no quotes, escapes or expansions.
_PLAIN = re.compile(r"[A-Za-z0-9._/:@+-]*")
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


class Piece(NamedTuple):
    text: str
    start: int  # file offset of ``text``, written verbatim there
    arg: str | None  # the global ARG whose default wrote it; None: the FROM line


class Trace(NamedTuple):
    pieces: tuple[Piece, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)

    @property
    def args(self) -> frozenset[str]:
        return frozenset(p.arg for p in self.pieces if p.arg)

    def apply(self, edits: list[Edit]) -> str:
        """The traced text after the file ``edits`` that fall inside its pieces (e.g. an edit of
        an ARG default shows in every reference that uses the ARG)."""
        out = []
        for piece in self.pieces:
            text = piece.text
            for e in sorted(edits, reverse=True):
                if piece.start <= e.start and e.end <= piece.start + len(text):
                    text = text[: e.start - piece.start] + e.content + text[e.end - piece.start :]
            out.append(text)
        return "".join(out)

    def edits(self, changes: list[tuple[int, int, str]]) -> list[Edit] | None:
        """File edits for ``changes`` (start, end, new text) given in offsets of ``text``; None
        when a change crosses from one source into another. An insertion goes to the piece that
        holds the character before it (the one it extends), else the one after it."""
        out = []
        for start, end, new in changes:
            piece_start = 0
            target = None
            for piece in self.pieces:
                piece_end = piece_start + len(piece.text)
                if start == end:
                    fits = piece_start < start <= piece_end or (start == 0 and piece_start == 0)
                else:
                    fits = piece_start <= start and end <= piece_end
                if fits:
                    target = (piece, piece_start)
                    break
                piece_start = piece_end
            if target is None:
                return None
            piece, offset = target
            out.append(Edit(piece.start + start - offset, piece.start + end - offset, new))
        return out


def global_arg_values(doc: Dockerfile) -> dict[str, Piece | None]:
    """The last default of each global ARG as a Piece; None when it is not written verbatim
    (quoted, escaped, built from other variables) or has no default."""
    out: dict[str, Piece | None] = {}
    for instr in doc.instructions:
        if instr.keyword == "FROM":
            break
        if instr.keyword != "ARG":
            continue
        for kv in key_values(instr.args, "ARG", doc.escape):
            raw = kv.raw_value
            if raw is None or not _PLAIN.fullmatch(raw):
                out[kv.key] = None
                continue
            start = kv.end - len(raw)
            if not instr.args.is_contiguous(start, kv.end):
                out[kv.key] = None
                continue
            out[kv.key] = Piece(raw, instr.args.file_span(start, kv.end).start, kv.key)
    return out


def trace_from(doc: Dockerfile, instruction: Instruction,
               args: dict[str, Piece | None] | None = None) -> Trace | None:
    """The pieces of the FROM's image reference; None when any part cannot be traced to a
    verbatim source (quotes, ``${VAR:-default}``, a stage ARG, a continuation inside the word)."""
    words = split_words(instruction.args.text, doc.escape)
    if not words:
        return None
    word = words[0]
    if not instruction.args.is_contiguous(word.start, word.end):
        return None
    if args is None:
        args = global_arg_values(doc)
    base = instruction.args.file_span(word.start, word.end).start
    raw = word.raw
    pieces: list[Piece] = []
    i = 0
    for m in _VARIABLE.finditer(raw):
        if not _PLAIN.fullmatch(raw[i : m.start()]):
            return None
        if m.start() > i:
            pieces.append(Piece(raw[i : m.start()], base + i, None))
        value = args.get(m.group("braced") or m.group("bare"))
        if value is None:
            return None
        if value.text:
            pieces.append(value)
        i = m.end()
    if not _PLAIN.fullmatch(raw[i:]):
        return None
    if i < len(raw):
        pieces.append(Piece(raw[i:], base + i, None))
    return Trace(tuple(pieces))
