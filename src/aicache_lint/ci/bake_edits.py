"""Text edits that add attributes to a Bake target's `target` block in an HCL file (a JSON file's
target object takes new members through ``json_edits``). Only the new lines are written: the
block's indentation, the file's newline style and the `=` alignment of an hclfmt-formatted file
are copied from what is there; nothing is re-serialised. Values are JSON string lists, which HCL
reads the same way (its string escapes are JSON's)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from aicache_lint.fix import Edit

if TYPE_CHECKING:
    from aicache_lint.ci.hcl import Block, HclDoc
    from aicache_lint.source import SourceText

_DEFAULT_STEP = "  "  # hclfmt and the Bake documentation indent by two spaces
_PADDED = re.compile(r"[ \t]{2,}=")


def string_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def add_hcl_attributes(doc: "HclDoc", block: "Block", entries: list[tuple[str, str]]) -> list[Edit] | None:
    """Edits adding ``name = value`` lines (``entries``) at the end of ``block``, before its closing
    brace. A one-line block (`target "x" { context = "." }`) is opened onto lines first; None when
    that block holds a comment (it could not be moved safely)."""
    source = doc.source
    text = source.text
    nl = source.newline
    outer = _indent_of_line(source, block.span.start)
    own_line = [a for a in block.attributes.values() if _starts_line(source, a.span.start)]
    if own_line:
        first = min(own_line, key=lambda a: a.span.start)
        indent = text[source.line_start(source.line_of(first.span.start)) : first.span.start]
    else:
        indent = outer + _step(doc)
    column = _equals_column(doc, block, len(indent) + max(len(name) for name, _ in entries) + 1)
    lines = [f"{indent}{name}{' ' * max(1, column - len(indent) - len(name))}= {value}" for name, value in entries]
    close = block.close_brace.start
    if source.line_of(block.open_brace.start) == source.line_of(close):  # a one-line block
        inner = text[block.open_brace.end : close].strip()
        if any(c.start >= block.open_brace.end and c.end <= close for c in doc.comments):
            return None
        body = ([indent + inner] if inner else []) + lines
        return [Edit(block.open_brace.end, close, nl + nl.join(body) + nl + outer)]
    line_start = source.line_start(source.line_of(close))
    if not text[line_start:close].strip():  # `}` begins its line
        return [Edit.insert(line_start, "".join(line + nl for line in lines))]
    # Something ends just before `}` on its line (`  tags = ["a"] }`): the new lines go between.
    end = close
    while end > line_start and text[end - 1] in " \t":
        end -= 1
    return [Edit(end, close, nl + nl.join(lines) + nl + outer)]


def _starts_line(source: "SourceText", offset: int) -> bool:
    return not source.text[source.line_start(source.line_of(offset)) : offset].strip()


def _indent_of_line(source: "SourceText", offset: int) -> str:
    line = source.line_text(source.line_of(offset))
    return line[: len(line) - len(line.lstrip(" \t"))]


def _step(doc: "HclDoc") -> str:
    """The file's indentation step: the first attribute on a line of its own, less its block's."""
    for block in doc.blocks:
        for attr in block.attributes.values():
            if _starts_line(doc.source, attr.span.start):
                inner = _indent_of_line(doc.source, attr.span.start)
                outer = _indent_of_line(doc.source, block.span.start)
                if inner.startswith(outer) and len(inner) > len(outer):
                    return inner[len(outer):]
    return _DEFAULT_STEP


def _equals_column(doc: "HclDoc", block: "Block", needed: int) -> int:
    """Where `=` goes on the new lines: right after the name (``needed``), or -- in a file that
    aligns `=` as hclfmt does -- at the column of the one-line attribute just above the insertion
    point when that is further right, so the lines stay one aligned run."""
    source = doc.source
    if not any(_PADDED.search(source.text, a.span.start, a.value.start)
               for b in doc.blocks for a in b.attributes.values() if _starts_line(source, a.span.start)):
        return 0
    close_line = source.line_of(block.close_brace.start)
    for a in block.attributes.values():
        line = source.line_of(a.span.start)
        if line == source.line_of(a.span.end) == close_line - 1 and _starts_line(source, a.span.start):
            return max(needed, source.text.index("=", a.span.start + len(a.name)) - source.line_start(line))
    return needed
