"""GitLab Code Quality report: a JSON array that GitLab CI reads as a `codequality` artifact.

GitLab reads `description`, `check_name`, `fingerprint` (matches an issue between the merge
request's base and head, so it hashes the rule, the relative path, the stripped text of the line and
an occurrence counter -- not the line number), `severity` and `location.path`/`location.lines.begin`.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from aicache_lint.finding import Severity
from aicache_lint.report._common import display_path, keyed_findings

if TYPE_CHECKING:
    from aicache_lint.report import ReportContext

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(ctx: "ReportContext") -> str:
    issues = []
    for r in ctx.results:
        path = display_path(r.path, ctx.root)
        for f, line, occurrence in keyed_findings(r):
            key = "\0".join((f.code, path, line, str(occurrence)))
            issues.append(
                {
                    "description": f"{f.code} {f.message}",
                    "check_name": f.code,
                    "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest(),
                    "severity": SEVERITIES[f.severity],
                    "location": {"path": path, "lines": {"begin": f.start.row}},
                }
            )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
