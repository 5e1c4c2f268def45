"""Text edits for `daemon.json` and `buildkitd.toml`: a new key or table written in the file's own
layout (indentation, tabs, CRLF, final newline), nothing re-serialised."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aicache_lint.fix import Edit

if TYPE_CHECKING:
    from aicache_lint.compose.model import Mapping, Sequence
    from aicache_lint.source import SourceText, Span

DEFAULT_INDENT = "  "


# -- JSON ---------------------------------------------------------------------------------------

def json_add_key(source: "SourceText", obj: "Mapping", key: str, value: str) -> Edit:
    """Add ``"key": value`` (``value`` is JSON text) after the last member of the object ``obj``
    (the position tree of a JSON file): on a line of its own, indented like that member, when the
    member starts its line; on the same line otherwise. An empty object gets it inside its braces."""
    import json

    member = f"{json.dumps(key)}: {value}"
    text, nl = source.text, source.newline
    if not obj.pairs:
        inside = text[obj.span.start + 1:obj.span.end - 1]
        if "\n" in inside or "\r" in inside:  # `{` and `}` on lines of their own
            return Edit.insert(obj.span.start + 1, f"{nl}{_indent_of(source, obj.span.start)}{DEFAULT_INDENT}{member}")
        return Edit.insert(obj.span.start + 1, member)
    last = obj.pairs[-1]
    start = last.key.span.start
    line_start = source.line_start(source.line_of(start))
    indent = text[line_start:start]
    if indent.strip(" \t"):  # the member shares its line with something before it
        return Edit.insert(last.value.span.end, f", {member}")
    return Edit.insert(last.value.span.end, f",{nl}{indent}{member}")


def json_fill_empty_array(array: "Sequence", value: str) -> Edit:
    """Write ``value`` (JSON text) into the empty array ``array`` (`[]`, `[ ]`)."""
    return Edit.insert(array.span.start + 1, value)


def _indent_of(source: "SourceText", offset: int) -> str:
    line_start = source.line_start(source.line_of(offset))
    head = source.text[line_start:offset]
    return head[:len(head) - len(head.lstrip(" \t"))]


# -- TOML ---------------------------------------------------------------------------------------

def toml_table_header(source: "SourceText", *names: str) -> "Span | None":
    """Where the header `[a."b"]` of the table ``names`` is written (bare, basic or literal
    keys, spaces around the dots), or None."""
    from aicache_lint.source import Span

    key = r"[ \t]*\.[ \t]*".join(_toml_key(n) for n in names)
    m = re.search(rf"^[ \t]*\[[ \t]*{key}[ \t]*\][ \t]*(?:#.*)?$", source.text, re.MULTILINE)
    return Span(m.start(), m.end()) if m else None


def _toml_key(name: str) -> str:
    quoted = rf"(?:\"{re.escape(name)}\"|'{re.escape(name)}')"
    return rf"(?:{re.escape(name)}|{quoted})" if re.fullmatch(r"[A-Za-z0-9_-]+", name) else quoted


def toml_key_indent(source: "SourceText") -> str:
    """How the file indents the keys of its tables (from the first key after a table header)."""
    m = re.search(r"^[ \t]*\[[^\n]*\][ \t]*\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*([ \t]*)[A-Za-z0-9_\"']", source.text,
                  re.MULTILINE)
    return m.group(1) if m else DEFAULT_INDENT


def toml_insert_after_header(source: "SourceText", header: "Span", line: str) -> Edit:
    """Insert the key ``line`` as the first entry of the table whose header is at ``header``."""
    return Edit.insert(header.end, f"{source.newline}{toml_key_indent(source)}{line}")


def toml_append(source: "SourceText", block: list[str]) -> Edit:
    """Append ``block`` (lines) at the end of the file, after a blank line, keeping the file's
    newline style and its final newline (or its lack of one)."""
    nl, text = source.newline, source.text
    body = nl.join(block)
    if not text.strip():
        return Edit.insert(len(text), body + nl)
    if source.final_newline:
        return Edit.insert(len(text), nl + body + nl)
    return Edit.insert(len(text), nl + nl + body)
