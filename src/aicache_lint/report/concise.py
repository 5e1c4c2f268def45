"""Concise output, one line a finding: `path:line:col: CODE [*] message`, then the summary.

People read it in a terminal; editors and CI log parsers match the `path:line:col:` prefix. The
summary (`Found N errors.`, the fixable and hidden-unsafe-fix hints, `All checks passed!`) is shared
with the `text` format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aicache_lint.engine import applicable
from aicache_lint.report._common import in_order

if TYPE_CHECKING:
    from aicache_lint.finding import Finding
    from aicache_lint.report import ReportContext
    from aicache_lint.settings import Settings


def header(f: "Finding", settings: "Settings") -> str:
    marker = " [*]" if applicable(f, settings) else ""
    return f"{f.path}:{f.start.row}:{f.start.column}: {f.code}{marker} {f.message}"


def summary(ctx: "ReportContext") -> list[str]:
    """The closing lines: counts, then the hints about `--fix` and `--unsafe-fixes`."""
    findings = [f for r in ctx.results for f in r.findings]
    if ctx.fixing:
        fixed = sum(len(r.applied) for r in ctx.results)
        if not findings and not fixed:
            lines = ["All checks passed!"]
        else:
            total = _plural(fixed + len(findings), "error")
            lines = [f"Found {total} ({fixed} fixed, {len(findings)} remaining)."]
    elif not findings:
        return ["All checks passed!"]
    else:
        lines = [f"Found {_plural(len(findings), 'error')}."]
    return lines + _hints(findings, ctx.settings, ctx.fixing)


def render(ctx: "ReportContext") -> str:
    lines = [header(f, ctx.settings) for _, f in in_order(ctx)]
    return "\n".join(lines + summary(ctx)) + "\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _hints(findings: list["Finding"], settings: "Settings", fixing: bool) -> list[str]:
    out = []
    safe = sum(1 for f in findings if applicable(f, settings))
    hidden = sum(1 for f in findings if f.fix is not None and not f.fix.is_safe and not settings.unsafe_fixes)
    if safe and not fixing:
        out.append(f"[*] {safe} fixable with the `--fix` option.")
    if hidden:
        fixes = "fix" if hidden == 1 else "fixes"
        out.append(f"({hidden} hidden {fixes} can be enabled with the `--unsafe-fixes` option.)")
    return out
