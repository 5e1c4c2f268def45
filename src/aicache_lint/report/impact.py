"""`aicache-lint impact`: what each image downloads per rebuild, now and after the fixes, as text,
JSON or a Markdown pull-request comment (a table, the top fixes, and a mermaid bar chart that
GitHub renders). Every number is an estimate: its sizes come from a dated table, and what cannot
be sized is listed and shown as `?`, never counted as zero."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from aicache_lint.impact.rebuild import EVENTS
from aicache_lint.report._common import EVENT_NAMES, gigabytes

if TYPE_CHECKING:
    from aicache_lint.impact.estimate import ImageCost, Impact

FORMATS = ("text", "json", "markdown")
TOP = 10  # findings listed in text and Markdown
ASSUMPTIONS = (
    "A step runs again when its instruction or the files it copies change, and so does every later step of its "
    "stage, the stages built FROM it and the COPY --from it.",
    "A cache mount keeps what it caches between builds; the layer cache itself is assumed warm (no eviction, "
    "no --no-cache, a builder that keeps its cache: CI runners without a cache backend start cold).",
    "Only pip/uv/poetry packages, apt packages, `hf download` models and base pulls are sized; other fetches "
    "(curl, git clone, conda, npm, ADD of a URL) are listed as unknown.",
)


def render(fmt: str, impact: "Impact", sources: list[str]) -> str:
    return {"text": _text, "json": _json, "markdown": _markdown}[fmt](impact, sources)


def _label(cost: "ImageCost") -> str:
    path = os.path.relpath(cost.dockerfile)
    return f"{path} ({cost.stage})" if cost.stage else path


def _pairs(impact: "Impact") -> list[tuple["ImageCost", "ImageCost | None"]]:
    fixed = {c.dockerfile: c for c in impact.fixed}
    return [(c, fixed.get(c.dockerfile)) for c in impact.now]


def _amount(cost: "ImageCost", event: str) -> str:
    """What an event fetches, `+ ?` when some of it cannot be sized (unknown is never shown as 0)."""
    known, unknown = cost.fetched(event), cost.unknown(event)
    if not unknown:
        return gigabytes(known)
    return "?" if not known else f"{gigabytes(known)} + ?"


def _change(now: "ImageCost", after: "ImageCost | None", event: str) -> str:
    before = _amount(now, event)
    later = _amount(after, event) if after is not None else before
    return before if later == before else f"{before} -> {later}"


def _total(costs: list["ImageCost"], event: str) -> str:
    known, unknown = sum(c.fetched(event) for c in costs), sum(c.unknown(event) for c in costs)
    return gigabytes(known) if not unknown else ("?" if not known else f"{gigabytes(known)} + ?")


def _unknowns(impact: "Impact") -> list[str]:
    out = []
    for cost in impact.now:
        for step in {s for e in EVENTS for s in cost.events[e].steps}:
            for d in step.downloads:
                if d.fetched is None:
                    out.append(f"{os.path.relpath(cost.dockerfile)}:{step.instruction.start_line}: {d.what}")
    return sorted(set(out))


def _finding_line(f, saved: dict[str, int]) -> str:
    best = max(saved, key=lambda e: saved[e])
    where = f"{os.path.relpath(f.path)}:{f.start.row}:{f.start.column}"
    return f"{where} {f.code} saves ~{gigabytes(saved[best])} per rebuild after a {EVENT_NAMES[best]}"


def _text(impact: "Impact", sources: list[str]) -> str:
    lines = ["Estimated downloads per rebuild (estimates), now -> after --fix:", ""]
    width = max([len(_label(c)) for c in impact.now] + [5])
    lines.append(f"{'image':<{width}}  " + "  ".join(f"{EVENT_NAMES[e]:>22}" for e in EVENTS))
    for now, after in _pairs(impact):
        cells = [_change(now, after, e) for e in EVENTS]
        lines.append(f"{_label(now):<{width}}  " + "  ".join(f"{c:>22}" for c in cells))
    if len(impact.now) > 1:
        cells = []
        for e in EVENTS:
            before, later = _total(impact.now, e), _total(impact.fixed, e)
            cells.append(before if before == later else f"{before} -> {later}")
        lines.append(f"{'total':<{width}}  " + "  ".join(f"{c:>22}" for c in cells))
    if impact.findings:
        lines += ["", "What each fix saves on its own:"]
        lines += [f"  {_finding_line(s.finding, s.saved)}" for s in impact.findings[:TOP]]
    unknown = _unknowns(impact)
    if unknown:
        lines += ["", "Not counted (size unknown, `?` above):"] + [f"  {u}" for u in unknown]
    lines += ["", "Sizes: " + "; ".join(sources) if sources else "Sizes: none known"]
    lines += ["Assumptions:"] + [f"  - {a}" for a in ASSUMPTIONS]
    return "\n".join(lines) + "\n"


def _json(impact: "Impact", sources: list[str]) -> str:
    def image(cost: "ImageCost") -> dict:
        return {e: {"bytes": cost.fetched(e), "unknown": cost.unknown(e)} for e in EVENTS}

    data = {
        "estimate": True,
        "sources": sources,
        "assumptions": list(ASSUMPTIONS),
        "images": [{"dockerfile": os.path.relpath(now.dockerfile), "stage": now.stage, "now": image(now),
                    "after_fix": image(after) if after else None} for now, after in _pairs(impact)],
        "findings": [{"path": os.path.relpath(s.finding.path), "row": s.finding.start.row,
                      "column": s.finding.start.column, "code": s.finding.code,
                      "saves": {e: {"bytes": b} for e, b in s.saved.items()}} for s in impact.findings],
        "unknown": _unknowns(impact),
    }
    return json.dumps(data, indent=2) + "\n"


def _markdown(impact: "Impact", sources: list[str]) -> str:
    lines = ["### aicache-lint: estimated downloads per rebuild", "",
             "| image | " + " | ".join(EVENT_NAMES[e] for e in EVENTS) + " |",
             "| --- | " + " | ".join("---:" for _ in EVENTS) + " |"]
    for now, after in _pairs(impact):
        cells = [_change(now, after, e).replace("->", "→") for e in EVENTS]
        lines.append(f"| `{_label(now)}` | " + " | ".join(cells) + " |")
    if impact.findings:
        lines += ["", "**What each fix saves on its own**", ""]
        lines += [f"- {_finding_line(s.finding, s.saved)}" for s in impact.findings[:TOP]]
    if impact.now:
        lines += ["", *_chart(impact)]
    unknown = _unknowns(impact)
    note = f" `?`: {len(unknown)} downloads of unknown size, not counted." if unknown else ""
    lines += ["", f"<sub>Estimates. Sizes: {'; '.join(sources) or 'none known'}.{note} "
                  f"{' '.join(ASSUMPTIONS)}</sub>"]
    return "\n".join(lines) + "\n"


def _chart(impact: "Impact") -> list[str]:
    """A mermaid `xychart-beta` of the event that costs most: GB per rebuild now (bars) and after
    --fix (a line), per image."""
    pairs = _pairs(impact)
    event = max(EVENTS, key=lambda e: sum(now.fetched(e) for now, _ in pairs))
    names = ", ".join(json.dumps(now.stage or os.path.basename(os.path.dirname(os.path.abspath(now.dockerfile))))
                      for now, _ in pairs)
    before = [now.fetched(event) / 1e9 for now, _ in pairs]
    after = [(a.fetched(event) if a else n.fetched(event)) / 1e9 for n, a in pairs]
    top = max(before + after + [0.1])
    return ["```mermaid", "xychart-beta",
            f'    title "GB per rebuild after a {EVENT_NAMES[event]}: now (bars), after --fix (line)"',
            f"    x-axis [{names}]", f'    y-axis "GB" 0 --> {top * 1.1:.1f}',
            f"    bar [{', '.join(f'{v:.2f}' for v in before)}]",
            f"    line [{', '.join(f'{v:.2f}' for v in after)}]", "```"]
