"""`aicache-lint impact`: what each image downloads per rebuild and each Compose service per new
container, now and after the fixes, as text, JSON or a Markdown pull-request comment (the tables,
the top fixes, and a mermaid bar chart that GitHub renders). Every number is an estimate: its
sizes come from a dated table, and what cannot be sized is listed and shown as `?`, never counted
as zero."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.impact.container import RECREATE
from aicache_lint.impact.estimate import ServiceCost
from aicache_lint.impact.rebuild import EVENTS
from aicache_lint.report._common import EVENT_NAMES, gigabytes, per_event

if TYPE_CHECKING:
    from aicache_lint.impact.estimate import FindingSaving, ImageCost, Impact

FORMATS = ("text", "json", "markdown")
TOP = 10  # findings listed in text and Markdown
ASSUMPTIONS = (
    "A step runs again when its instruction or the files it copies change, and so does every later step of its "
    "stage, the stages built FROM it and the COPY --from it.",
    "A cache mount keeps what it caches between builds; the layer cache itself is assumed warm (no eviction, "
    "no --no-cache, a builder that keeps its cache: CI runners without a cache backend start cold).",
    "Only pip/uv/poetry packages, apt packages, `hf download` models and base pulls are sized; other fetches "
    "(curl, git clone, conda, npm, ADD of a URL) are listed as unknown.",
    "A new container (`docker compose up` after a rebuild or a pull) starts without the old one's files: the "
    "models its code loads are downloaded again unless a volume keeps their directory or the image holds them.",
)
ALL = (*EVENTS, RECREATE)
_WIDTH = 22  # a table cell in text


def render(fmt: str, impact: "Impact", sources: list[str]) -> str:
    return {"text": _text, "json": _json, "markdown": _markdown}[fmt](impact, sources)


class _Row(NamedTuple):
    label: str
    now: "ImageCost | ServiceCost"
    after: "ImageCost | ServiceCost | None"


def _image_rows(impact: "Impact") -> list[_Row]:
    fixed = {c.dockerfile: c for c in impact.fixed.images}
    out = []
    for c in impact.now.images:
        path = os.path.relpath(c.dockerfile)
        out.append(_Row(f"{path} ({c.stage})" if c.stage else path, c, fixed.get(c.dockerfile)))
    return out


def _service_rows(impact: "Impact", every: bool = True) -> list[_Row]:
    """The services; not ``every``: without those that pull an image and download nothing when
    they start (databases, proxies: rows of dashes and zeros), in text and Markdown."""
    fixed = {(s.files, s.name): s for s in impact.fixed.services}
    return [_Row(f"{s.name} ({os.path.relpath(s.files[-1])})", s, fixed.get((s.files, s.name)))
            for s in impact.now.services if every or s.dockerfile is not None or s.start.downloads]


def _containers(impact: "Impact") -> list[str]:
    """New containers of every service together (each downloads its own copy), now -> after --fix."""
    if len(impact.now.services) < 2:
        return []
    before, later = _total(impact.now.services, RECREATE), _total(impact.fixed.services, RECREATE)
    return [f"All services, one new container each: {before if before == later else f'{before} -> {later}'}."]


def _quiet_services(impact: "Impact", shown: list[_Row]) -> list[str]:
    """The line that says how many services ``shown`` (the table's rows) leaves out."""
    hidden = len(impact.now.services) - len(shown)
    if not hidden:
        return []
    if hidden == 1:
        return ["1 service that pulls an image and downloads no model when it starts is not listed."]
    return [f"{hidden} services that pull an image and download no model when they start are not listed."]


def _amount(cost, event: str) -> str:
    """What an event fetches, `+ ?` when some of it cannot be sized (unknown is never shown as 0);
    `-` for an event that does not apply (a pulled image is not built)."""
    if isinstance(cost, ServiceCost) and not cost.priced(event):
        return "-"
    return _sum(cost.fetched(event), cost.unknown(event))


def _sum(known: int, unknown: int) -> str:
    if not unknown:
        return gigabytes(known)
    return "?" if not known else f"{gigabytes(known)} + ?"


def _change(row: _Row, event: str) -> str:
    before = _amount(row.now, event)
    later = _amount(row.after, event) if row.after is not None else before
    return before if later == before else f"{before} -> {later}"


def _total(costs: list, event: str) -> str:
    """The images (or services) together: the steps of a base image built here count once, in its
    own row."""
    if event == RECREATE:
        return _sum(sum(c.fetched(event) for c in costs), sum(c.unknown(event) for c in costs))
    listed = {os.path.realpath(c.dockerfile) for c in costs}
    apart = [c.events[event].apart_from(listed) for c in costs]
    return _sum(sum(r.fetched for r in apart), sum(len(r.unknown) for r in apart))


def _unknowns(impact: "Impact") -> list[str]:
    """Each download of unknown size, `file:line: what`, by file and line (every one: for JSON)."""
    found: set[tuple[str, str]] = set()
    for cost in impact.now.images:
        for step in {s for e in EVENTS for s in cost.events[e].steps}:
            for d in step.downloads:
                if d.fetched is None:
                    found.add((d.where or f"{os.path.relpath(cost.dockerfile)}:{step.instruction.start_line}", d.what))
    for service in impact.now.services:
        found |= {(d.where, f"{d.what} (service `{service.name}`)") for d in service.start.unknown}
    return [f"{where}: {what}" for where, what in sorted(found, key=_place)]


def _place(item: tuple[str, str]) -> tuple[str, int, str]:
    path, _, line = item[0].rpartition(":")
    return (path, int(line), item[1]) if line.isdigit() else (item[0], 0, item[1])


_LISTED = 3  # names shown of one step's unknown packages in text and Markdown


def _unknown_lines(impact: "Impact") -> list[str]:
    """The unknowns for people: one step's packages of one tool on one line (a lock file lists
    hundreds), the first few named."""
    groups: dict[tuple[str, str], list[str]] = {}
    for entry in _unknowns(impact):
        where, _, what = entry.partition(": ")
        tool, _, name = what.partition(": ")
        groups.setdefault((where, tool if name else what), []).append(name)
    out = []
    for (where, tool), names in groups.items():
        names = [n for n in names if n]
        if len(names) > _LISTED:
            shown = f"{', '.join(names[:_LISTED])} and {len(names) - _LISTED} more"
            out.append(f"{where}: {tool}: {shown}")
        else:
            out += [f"{where}: {tool}: {n}" if n else f"{where}: {tool}" for n in names or [""]]
    return out


def _finding_line(s: "FindingSaving", verb: str = "saves") -> str:
    f, saved = s.finding, s.saved
    best = max(saved, key=lambda e: saved[e])
    shared = f" (one fix for {s.findings} findings)" if s.findings > 1 else ""
    where = f"{os.path.relpath(f.path)}:{f.start.row}:{f.start.column}"
    return f"{where} {f.code} {verb} {per_event(saved[best], best)}{shared}"


_UNFIXED = "What the findings without a fix cost (the download they report):"


def _text_table(head: str, rows: list[_Row], events: tuple[str, ...], total: tuple[list, list] | None) -> list[str]:
    width = max([len(r.label) for r in rows] + [len(head), 5])
    lines = [f"{head:<{width}}  " + "  ".join(f"{EVENT_NAMES[e]:>{_WIDTH}}" for e in events)]
    for row in rows:
        lines.append(f"{row.label:<{width}}  " + "  ".join(f"{_change(row, e):>{_WIDTH}}" for e in events))
    if total is not None and len(rows) > 1:
        cells = []
        for e in events:
            before, later = _total(total[0], e), _total(total[1], e)
            cells.append(before if before == later else f"{before} -> {later}")
        lines.append(f"{'total':<{width}}  " + "  ".join(f"{c:>{_WIDTH}}" for c in cells))
    return lines


def _text(impact: "Impact", sources: list[str]) -> str:
    lines = ["Estimated downloads per rebuild (estimates), now -> after --fix:", ""]
    lines += _text_table("image", _image_rows(impact), EVENTS, (impact.now.images, impact.fixed.images))
    services = _service_rows(impact, every=False)
    if services:
        lines += ["", "Per service (the build events are its image's; `-`: a pulled image, not built here):", ""]
        lines += _text_table("service", services, ALL, None)
    if impact.now.services:
        lines += _containers(impact) + _quiet_services(impact, services)
    if impact.findings:
        lines += ["", "What each fix saves on its own:"]
        lines += [f"  {_finding_line(s)}" for s in impact.findings[:TOP]]
    if impact.unfixed:
        lines += ["", _UNFIXED] + [f"  {_finding_line(s, 'costs')}" for s in impact.unfixed[:TOP]]
    if impact.skipped:
        lines += ["", "What could not be read or followed (not priced, or not all of it):"]
        lines += [f"  {s}" for s in impact.skipped]
    unknown = _unknown_lines(impact)
    if unknown:
        lines += ["", "Not counted (size unknown, `?` above):"] + [f"  {u}" for u in unknown]
    lines += ["", "Sizes: " + "; ".join(sources) if sources else "Sizes: none known"]
    lines += ["Assumptions:"] + [f"  - {a}" for a in ASSUMPTIONS]
    return "\n".join(lines) + "\n"


def _json(impact: "Impact", sources: list[str]) -> str:
    def events(cost, names) -> dict:
        return {e: {"bytes": cost.fetched(e), "unknown": cost.unknown(e)} for e in names
                if not isinstance(cost, ServiceCost) or cost.priced(e)}

    data = {
        "estimate": True,
        "sources": sources,
        "assumptions": list(ASSUMPTIONS),
        "images": [{"dockerfile": os.path.relpath(r.now.dockerfile), "stage": r.now.stage,
                    "now": events(r.now, EVENTS), "after_fix": events(r.after, EVENTS) if r.after else None}
                   for r in _image_rows(impact)],
        "services": [{"name": r.now.name, "compose_files": [os.path.relpath(f) for f in r.now.files],
                      "dockerfile": os.path.relpath(r.now.dockerfile) if r.now.dockerfile else None,
                      "now": events(r.now, ALL), "after_fix": events(r.after, ALL) if r.after else None}
                     for r in _service_rows(impact)],
        "findings": [{"path": os.path.relpath(s.finding.path), "row": s.finding.start.row,
                      "column": s.finding.start.column, "code": s.finding.code,
                      "saves": {e: {"bytes": b} for e, b in s.saved.items()}, "findings": s.findings}
                     for s in impact.findings],
        "unfixed": [{"path": os.path.relpath(s.finding.path), "row": s.finding.start.row,
                     "column": s.finding.start.column, "code": s.finding.code,
                     "costs": {e: {"bytes": b} for e, b in s.saved.items()}} for s in impact.unfixed],
        "unknown": _unknowns(impact),
        "skipped": impact.skipped,
    }
    return json.dumps(data, indent=2) + "\n"


def _markdown_table(head: str, rows: list[_Row], events: tuple[str, ...]) -> list[str]:
    lines = [f"| {head} | " + " | ".join(EVENT_NAMES[e] for e in events) + " |",
             "| --- | " + " | ".join("---:" for _ in events) + " |"]
    for row in rows:
        lines.append(f"| `{row.label}` | " + " | ".join(_change(row, e).replace("->", "→") for e in events) + " |")
    return lines


def _markdown(impact: "Impact", sources: list[str]) -> str:
    lines = ["### aicache-lint: estimated downloads per rebuild", "",
             *_markdown_table("image", _image_rows(impact), EVENTS)]
    services = _service_rows(impact, every=False)
    if services:
        lines += ["", *_markdown_table("service", services, ALL)]
    said = _containers(impact) + _quiet_services(impact, services)
    if said:
        lines += ["", " ".join(said)]
    if impact.findings:
        lines += ["", "**What each fix saves on its own**", ""]
        lines += [f"- {_finding_line(s)}" for s in impact.findings[:TOP]]
    if impact.unfixed:
        lines += ["", f"**{_UNFIXED[:-1]}**", ""]
        lines += [f"- {_finding_line(s, 'costs')}" for s in impact.unfixed[:TOP]]
    if impact.now.images or impact.now.services:
        lines += ["", *_chart(impact)]
    if impact.skipped:
        lines += ["", "**What could not be read or followed:** " + "; ".join(f"`{s}`" for s in impact.skipped)]
    unknown = _unknowns(impact)
    note = f" `?`: {len(unknown)} downloads of unknown size, not counted." if unknown else ""
    lines += ["", f"<sub>Estimates. Sizes: {'; '.join(sources) or 'none known'}.{note} "
                  f"{' '.join(ASSUMPTIONS)}</sub>"]
    return "\n".join(lines) + "\n"


def _chart(impact: "Impact") -> list[str]:
    """A mermaid `xychart-beta` of the event that costs most: GB now (bars) and after --fix (a
    line), per image (a build event) or per service (new containers)."""
    images, services = _image_rows(impact), _service_rows(impact, every=False)
    options = [(e, images) for e in EVENTS] + ([(RECREATE, services)] if services else [])
    event, rows = max(options, key=lambda o: sum(r.now.fetched(o[0]) for r in o[1]))
    if event == RECREATE:
        names = [r.now.name for r in rows]
        title = "GB per new container"
    else:
        names = [r.now.stage or os.path.basename(os.path.dirname(os.path.abspath(r.now.dockerfile))) for r in rows]
        title = f"GB per rebuild after a {EVENT_NAMES[event]}"
    before = [r.now.fetched(event) / 1e9 for r in rows]
    after = [(r.after or r.now).fetched(event) / 1e9 for r in rows]
    top = max(before + after + [0.1])
    return ["```mermaid", "xychart-beta",
            f'    title "{title}, known sizes: now (bars), after --fix (line)"',
            f"    x-axis [{', '.join(json.dumps(n) for n in names)}]", f'    y-axis "GB" 0 --> {top * 1.1:.1f}',
            f"    bar [{', '.join(f'{v:.2f}' for v in before)}]",
            f"    line [{', '.join(f'{v:.2f}' for v in after)}]", "```"]
