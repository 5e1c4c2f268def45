"""JSON Lines: one compact JSON object per finding per line, the same objects as `json`.

For log pipelines and tools that stream findings (`jq -c`, line-oriented collectors); no output
at all when nothing is found.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aicache_lint.report.json import finding_dicts

if TYPE_CHECKING:
    from aicache_lint.report import ReportContext


def render(ctx: "ReportContext") -> str:
    return "".join(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n" for d in finding_dicts(ctx))
