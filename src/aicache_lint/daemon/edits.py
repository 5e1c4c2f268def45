"""Text edits for `daemon.json` (new members: ``json_edits``) and `buildkitd.toml`: a new key or table written in the file's own
layout (indentation, tabs, CRLF, final newline), nothing re-serialised."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aicache_lint.fix import Edit

if TYPE_CHECKING:
    from aicache_lint.compose.model import Sequence
    from aicache_lint.source import SourceText, Span

DEFAULT_INDENT = "  "

# -- JSON ---------------------------------------------------------------------------------------

def json_fill_empty_array(array: "Sequence", value: str) -> Edit:
    """Write ``value`` (JSON text) into the empty array ``array`` (`[]`, `[ ]`)."""
    return Edit.insert(array.span.start + 1, value)


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
