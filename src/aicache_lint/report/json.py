"""JSON output in ruff's shape, plus `severity` and `name`; every field is always present.

Scripts and editor integrations read one array of objects: `code`, `name`, `severity`, `message`,
`filename` (absolute), `location`/`end_location` (1-based row and character column in the file's
final text), `fix` (`applicability`, `message`, `edits` with `content` and positions) or null,
and `url` (the rule's page). With `--estimate`, also `estimate`: what the fix saves (`bytes`, `event`,
`source`, `estimate: true`) or null.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Iterator

from aicache_lint.report._common import estimate_dict, final_text, in_order
from aicache_lint.rules.base import rule_url
from aicache_lint.source import SourceText

if TYPE_CHECKING:
    from aicache_lint.finding import Finding
    from aicache_lint.report import ReportContext


def _location(source: SourceText, offset: int) -> dict[str, int]:
    row, column = source.position(offset)
    return {"row": row, "column": column}


def finding_dict(f: "Finding", source: SourceText) -> dict:
    fix = None
    if f.fix is not None:
        fix = {
            "applicability": f.fix.applicability.value,
            "message": f.fix.title,
            "edits": [
                {
                    "content": e.content,
                    "location": _location(source, e.start),
                    "end_location": _location(source, e.end),
                }
                for e in f.fix.edits
            ],
        }
    return {
        "cell": None,
        "code": f.code,
        "name": f.name,
        "severity": f.severity.value,
        "message": f.message,
        "filename": os.path.abspath(f.path) if f.path != "-" else "-",
        "location": {"row": f.start.row, "column": f.start.column},
        "end_location": {"row": f.end.row, "column": f.end.column},
        "fix": fix,
        "noqa_row": f.start.row,
        "url": rule_url(f.code),
    }


def finding_dicts(ctx: "ReportContext") -> Iterator[dict]:
    """Every finding's object, in report order (shared with `json-lines`)."""
    sources = {id(r): SourceText(final_text(r) or "", path=r.path) for r in ctx.results}
    for r, f in in_order(ctx):
        found = finding_dict(f, sources[id(r)])
        if ctx.estimates:  # --estimate: what the fix saves, or null
            found["estimate"] = estimate_dict(r.estimates.get(f))
        yield found


def render(ctx: "ReportContext") -> str:
    return json.dumps(list(finding_dicts(ctx)), indent=2, ensure_ascii=False) + "\n"
