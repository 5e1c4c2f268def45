"""Source text: decoding, newline facts, offsets <-> line/column, and mapped sub-texts.

Offsets are indexes into the decoded text *without* the BOM. Lines and columns are 1-based and
columns count characters, as ruff's JSON does.

A line is what the file's own parser calls a line, so that positions and edits agree with it:
BuildKit splits a Dockerfile at LF only (a CR before it is dropped, a lone CR is text), while YAML
readers also break lines at a lone CR, NEL (U+0085), LS (U+2028) and PS (U+2029) -- PyYAML's
``reader.py``/``scanner.py`` and go-yaml's ``is_break`` (``yamlprivateh.go``), which Compose uses.
"""

from __future__ import annotations

import bisect
import os
import re
from typing import NamedTuple

from aicache_lint.discovery import is_compose_name

BOM = "\ufeff"
MAX_FILE_BYTES = 2 * 1024 * 1024  # a Dockerfile or Compose file larger than this is not a real one
YAML_BREAK_CHARS = "\r\n\x85\u2028\u2029"
YAML_BREAK = re.compile(f"\r\n|[{YAML_BREAK_CHARS}]")


class SourceError(Exception):
    """A file that cannot be linted as text; the message says why."""


class _SpanFields(NamedTuple):
    start: int
    end: int


class Span(_SpanFields):
    """A half-open range of offsets; a plain tuple underneath (cheap to create, to compare)."""

    __slots__ = ()

    def __new__(cls, start: int, end: int) -> "Span":
        if start > end:
            raise ValueError(f"span start {start} after end {end}")
        return super().__new__(cls, start, end)


class SourceText:
    __slots__ = ("text", "path", "bom", "yaml", "_starts")

    def __init__(self, text: str, path: str = "-", bom: bool = False, yaml: bool | None = None) -> None:
        """``yaml``: whether lines follow YAML's line breaks; by default, when ``path`` names a
        Compose file."""
        self.text = text  # without the BOM
        self.path = path
        self.bom = bom
        self.yaml = is_compose_name(os.path.basename(path)) if yaml is None else yaml
        self._starts: list[int] | None = None  # see _line_starts

    @property
    def _line_starts(self) -> list[int]:
        """The offset where each line starts, worked out on first use: most files a run reads
        (requirements, scripts, the Python an image runs) are never asked for a position, and a
        list of every line start is larger than the text."""
        if self._starts is None:
            if self.yaml:
                self._starts = [0, *(m.end() for m in YAML_BREAK.finditer(self.text))]
            else:
                starts = [0]
                find = self.text.find
                i = find("\n")
                while i != -1:
                    starts.append(i + 1)
                    i = find("\n", i + 1)
                self._starts = starts
        return self._starts

    @classmethod
    def decode(cls, data: bytes, path: str = "-") -> "SourceText":
        if len(data) > MAX_FILE_BYTES:
            raise SourceError(f"file is too large ({len(data)} bytes, limit {MAX_FILE_BYTES})")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise SourceError("file is UTF-16; save it as UTF-8")
        if b"\x00" in data:
            raise SourceError("file is binary (contains NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(f"file is not valid UTF-8 (byte {exc.start}: {exc.reason})") from None
        bom = text.startswith(BOM)
        return cls(text[1:] if bom else text, path=path, bom=bom)

    def encode(self, text: str | None = None) -> bytes:
        body = self.text if text is None else text
        return ((BOM if self.bom else "") + body).encode("utf-8")

    @property
    def newline(self) -> str:
        """The file's newline style: CRLF when most line ends are CRLF, else LF."""
        lf = self.text.count("\n")
        crlf = self.text.count("\r\n")
        return "\r\n" if crlf and crlf * 2 >= lf else "\n"

    @property
    def final_newline(self) -> bool:
        """Whether the text ends with a line break (the last line is empty)."""
        return len(self._line_starts) > 1 and self._line_starts[-1] == len(self.text)

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_of(self, offset: int) -> int:
        """1-based line holding ``offset``."""
        return bisect.bisect_right(self._line_starts, offset)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``offset``; columns count characters."""
        line = self.line_of(offset)
        return line, offset - self._line_starts[line - 1] + 1

    def line_start(self, line: int) -> int:
        return self._line_starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset of the end of ``line``'s content (before its line break)."""
        if line >= len(self._line_starts):
            end = len(self.text)
        else:
            end = self._line_starts[line] - 1  # the (last character of the) line break
            if self.yaml:
                return end - 1 if end and self.text[end - 1 : end + 1] == "\r\n" else end
        start = self.line_start(line)
        while end > start and self.text[end - 1] == "\r":  # as BuildKit trims the line end
            end -= 1
        return end

    def line_text(self, line: int) -> str:
        return self.text[self.line_start(line) : self.line_end(line)]


class MappedText(NamedTuple):
    """A text assembled from pieces of a file, with the file offset of every character.

    ``offsets[i]`` is the file offset of ``text[i]``; ``offsets[len(text)]`` is the file offset
    just after the last character, so spans map back exactly.
    """

    text: str
    offsets: list[int]

    @classmethod
    def contiguous(cls, text: str, start: int) -> "MappedText":
        return cls(text, list(range(start, start + len(text) + 1)))

    @classmethod
    def join(cls, pieces: list["MappedText"]) -> "MappedText":
        text = "".join(p.text for p in pieces)
        offsets: list[int] = []
        for p in pieces:
            offsets.extend(p.offsets[:-1])
        offsets.append(pieces[-1].offsets[-1] if pieces else 0)
        return cls(text, offsets)

    def file_offset(self, index: int) -> int:
        return self.offsets[index]

    def file_span(self, start: int, end: int) -> Span:
        """File span of ``text[start:end]``; the end follows the last character's source."""
        if end <= start:
            return Span(self.offsets[start], self.offsets[start])
        return Span(self.offsets[start], self.offsets[end - 1] + 1)

    def slice(self, start: int, end: int) -> "MappedText":
        return MappedText(self.text[start:end], self.offsets[start:end] + [self.file_span(start, end).end])

    def is_contiguous(self, start: int, end: int) -> bool:
        """True when ``text[start:end]`` is one unbroken run of the file."""
        return all(self.offsets[i + 1] == self.offsets[i] + 1 for i in range(start, end - 1))
