"""Text edits for Compose files: new keys in the style of their siblings, nothing re-serialised.

Every byte outside an edit stays as it is (comments, quoting, flow lists, CRLF); inserted lines
take the indentation of the keys next to them.
"""

from __future__ import annotations

from aicache_lint.compose.model import BLOCK, ComposeDoc, Mapping
from aicache_lint.fix import Edit
from aicache_lint.source import SourceText

DEFAULT_INDENT = 2


def child_indent(doc: ComposeDoc) -> int:
    """How far the file indents the keys under a top-level key (from `services:`)."""
    root = doc.root
    services = root.get("services") if root is not None else None
    if isinstance(services, Mapping) and services.style == BLOCK and services.indent:
        return services.indent
    return DEFAULT_INDENT


def declare_top_level_key(doc: ComposeDoc, source: SourceText, section: str, key: str) -> Edit | None:
    """Add ``key:`` (an empty entry) under the top-level ``section:`` mapping, creating the section
    at the end of the file when there is none. None when the section is not a block mapping we
    can extend (a flow mapping, an alias, a tag)."""
    root = doc.root
    if root is None or root.style != BLOCK:
        return None
    pair = root.own(section)
    indent = child_indent(doc)
    if pair is None:
        return _append_section(source, section, key, indent)
    value = pair.value
    if not isinstance(value, Mapping) or value.style != BLOCK or value.tag or value.anchor or not value.pairs:
        return None
    last = value.pairs[-1]
    end = max(last.key.span.end, last.value.span.end)
    return Edit.insert(source.line_end(source.line_of(end)), f"\n{' ' * (value.indent or indent)}{key}:")


def _append_section(source: SourceText, section: str, key: str, indent: int) -> Edit:
    text = source.text
    block = f"{section}:\n{' ' * indent}{key}:"
    if not text:
        return Edit.insert(0, block + "\n")
    if text.endswith("\n"):
        return Edit.insert(len(text), block + "\n")
    return Edit.insert(len(text), "\n" + block)  # keep the file's missing final newline
