"""Full text output, for people at a terminal (ruff's "full" format, without colour).

For each finding: the concise line, the source line under a gutter of line numbers with carets
under the finding's columns (a finding over several lines shows its first line and `...`), and
`= help: <fix title>` when it has a fix; a blank line after each. Then the concise summary.
Positions refer to the file's final text; an unreadable file gets its header line only.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from aicache_lint.report._common import estimate_text, final_source, in_order
from aicache_lint.report.concise import header, summary

if TYPE_CHECKING:
    from aicache_lint.finding import Finding
    from aicache_lint.report import ReportContext
    from aicache_lint.source import SourceText

TAB_WIDTH = 4


def render(ctx: "ReportContext") -> str:
    lines: list[str] = []
    sources = {id(r): final_source(r) for r in ctx.results}
    for r, f in in_order(ctx):
        source = sources[id(r)]
        lines.append(header(f, ctx.settings))
        if source is not None and f.start.row <= source.line_count:
            lines.extend(_snippet(f, source))
        estimate = r.estimates.get(f) if ctx.estimates else None
        if estimate is not None:  # under the snippet's `= help:`, in its gutter
            lines.append(f"{' ' * len(str(f.start.row))} = estimate: {estimate_text(estimate)}")
        lines.append("")
    return "\n".join(lines + summary(ctx)) + "\n"


def _snippet(f: "Finding", source: "SourceText") -> list[str]:
    row = f.start.row
    text = source.line_text(row)
    # A span that ends at column 1 of a later line ends, for display, with the line before it.
    last_row = f.end.row - 1 if f.end.row > row and f.end.column == 1 else f.end.row
    end_column = f.end.column if f.end.row == row else len(text) + 1
    start = _width(text[: f.start.column - 1])
    end = _width(text[: end_column - 1])
    gutter = " " * len(str(row))
    out = [
        f"{gutter} |",
        f"{row} | {text.expandtabs(TAB_WIDTH)}".rstrip(),
        f"{gutter} | {' ' * start}{'^' * max(1, end - start)}",
    ]
    if last_row > row:
        out.append("...")
    out.append(f"{gutter} |")
    if f.fix is not None:
        unsafe = "" if f.fix.is_safe else " (unsafe fix)"
        out.append(f"{gutter} = help: {f.fix.title}{unsafe}")
    return out


def _width(prefix: str) -> int:
    """Display width of the start of a line: tabs expanded, wide characters counted twice."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in prefix.expandtabs(TAB_WIDTH))
