"""Text edits for JSON files read as the YAML position tree (`daemon.json`, `docker-bake.json`): new
members written in the object's own layout (indentation, `": "` spacing, tabs, CRLF), nothing
re-serialised."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aicache_lint.fix import Edit

if TYPE_CHECKING:
    from aicache_lint.compose.model import Mapping
    from aicache_lint.source import SourceText

DEFAULT_INDENT = "  "


def add_members(source: "SourceText", obj: "Mapping", entries: list[tuple[str, str]]) -> Edit | None:
    """The edit adding ``"name": value`` members (``value`` is JSON text) after the last member of
    the object ``obj``: each on a line of its own, indented like that member, when the member starts
    its line; on the same line otherwise, with its `": "` spacing. An empty object gets them inside
    its braces (on lines of their own when the braces are). None when ``obj`` is not a `{ ... }`."""
    text, nl = source.text, source.newline
    if not text.startswith("{", obj.span.start) or not text[: obj.span.end].endswith("}"):
        return None
    if not obj.pairs:
        members = [f"{json.dumps(k)}: {v}" for k, v in entries]
        inside = text[obj.span.start + 1 : obj.span.end - 1]
        if "\n" in inside or "\r" in inside:  # `{` and `}` on lines of their own
            indent = _indent_of(source, obj.span.start) + DEFAULT_INDENT
            return Edit.insert(obj.span.start + 1, ",".join(f"{nl}{indent}{m}" for m in members))
        return Edit.insert(obj.span.start + 1, ", ".join(members))
    last = obj.pairs[-1]
    separator = text[last.key.span.end : last.value.span.start]  # `": "` as written
    members = [f"{json.dumps(k)}{separator}{v}" for k, v in entries]
    end = max(last.key.span.end, last.value.span.end)
    indent = text[source.line_start(source.line_of(last.key.span.start)) : last.key.span.start]
    if indent.strip(" \t"):  # the member shares its line with something before it
        return Edit.insert(end, "".join(f", {m}" for m in members))
    return Edit.insert(end, "".join(f",{nl}{indent}{m}" for m in members))


def _indent_of(source: "SourceText", offset: int) -> str:
    head = source.text[source.line_start(source.line_of(offset)) : offset]
    return head[: len(head) - len(head.lstrip(" \t"))]
