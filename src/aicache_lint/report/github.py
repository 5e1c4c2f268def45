"""GitHub Actions workflow commands: one `::error|warning|notice ...::message` line per finding.

The Actions runner reads them from a step's output and shows each as an annotation on the file
and line (`file` relative to the report root, which the CLI sets to the working directory: the
workspace in a workflow). Property values and the message are escaped as the runner expects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aicache_lint.finding import Severity
from aicache_lint.report._common import display_path, in_order

if TYPE_CHECKING:
    from aicache_lint.finding import Finding
    from aicache_lint.report import ReportContext

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(ctx: "ReportContext") -> str:
    return "".join(_command(f, display_path(r.path, ctx.root)) + "\n" for r, f in in_order(ctx))


def _command(f: "Finding", path: str) -> str:
    props = {
        "file": path,
        "line": f.start.row,
        "col": f.start.column,
        "endLine": f.end.row,
        "endColumn": f.end.column,
        "title": f"{f.code} {f.name}",
    }
    joined = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props.items())
    return f"::{COMMANDS[f.severity]} {joined}::{_escape_data(f.message)}"


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")
