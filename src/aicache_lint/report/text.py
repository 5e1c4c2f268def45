"""Human-readable output: `path:line:col: CODE [*] message`, then a summary line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aicache_lint.engine import applicable

if TYPE_CHECKING:
    from aicache_lint.report import ReportContext
    from aicache_lint.settings import Settings


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(ctx: "ReportContext") -> str:
    results, settings, fixing = ctx.results, ctx.settings, ctx.fixing
    lines: list[str] = []
    findings = [f for r in results for f in r.findings]
    for f in findings:
        marker = " [*]" if applicable(f, settings) else ""
        lines.append(f"{f.path}:{f.start.row}:{f.start.column}: {f.code}{marker} {f.message}")
    fixed = sum(len(r.applied) for r in results)
    if fixing:
        if not findings and not fixed:
            lines.append("All checks passed!")
        elif not findings:
            lines.append(f"Found {_plural(fixed, 'error')} ({fixed} fixed, 0 remaining).")
        else:
            lines.append(f"Found {_plural(fixed + len(findings), 'error')} ({fixed} fixed, {len(findings)} remaining).")
        lines.extend(_hints(findings, settings, fixing=True))
        return "\n".join(lines) + "\n"
    if not findings:
        return "All checks passed!\n"
    lines.append(f"Found {_plural(len(findings), 'error')}.")
    lines.extend(_hints(findings, settings, fixing=False))
    return "\n".join(lines) + "\n"


def _hints(findings, settings: "Settings", fixing: bool) -> list[str]:
    out = []
    safe = sum(1 for f in findings if applicable(f, settings))
    hidden = sum(1 for f in findings if f.fix is not None and not f.fix.is_safe and not settings.unsafe_fixes)
    if safe and not fixing:
        out.append(f"[*] {safe} fixable with the `--fix` option.")
    if hidden:
        fixes = "fix" if hidden == 1 else "fixes"
        out.append(f"({hidden} hidden {fixes} can be enabled with the `--unsafe-fixes` option.)")
    return out
