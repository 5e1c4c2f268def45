"""Reporters: each format is one module with ``render(ctx: ReportContext) -> str``, imported only
when that format is asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.api import FileResult
    from aicache_lint.settings import Settings

# format name -> module under aicache_lint.report
FORMATS = {
    "text": "text",
    "concise": "concise",
    "json": "json",
    "json-lines": "json_lines",
    "sarif": "sarif",
    "github": "github",
    "gitlab": "gitlab",
}


class ReportContext(NamedTuple):
    results: list["FileResult"]  # sorted by path; findings sorted; positions refer to the final text
    settings: "Settings"
    fixing: bool  # --fix ran: findings are what remains
    root: str  # absolute directory that relative paths (SARIF, GitLab) are relative to
    estimates: bool = False  # --estimate: findings carry what their fix saves (FileResult.estimates)
    by_impact: bool = False  # --sort impact: findings in the order of their estimates, largest first


def render(fmt: str, ctx: ReportContext) -> str:
    # __import__, not importlib.import_module: importing importlib costs ~2 ms of every run
    module = __import__(f"aicache_lint.report.{FORMATS[fmt]}", fromlist=("render",))
    return module.render(ctx)
