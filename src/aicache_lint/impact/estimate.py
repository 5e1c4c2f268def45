"""What the images and Compose services of a project cost per event now and after the fixes, what
one finding's fix saves, and what a finding without a fix at a model load costs: the rebuild
model (``rebuild.py``) and the new-container model (``container.py``) run on the project as it is
and on in-memory copies with the fixes applied (the same fix plan as `--fix`; nothing is written).
Sizes come from a ``Sizes`` (``sizes.py``: the bundled table, and the registries with
--resolve-images)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.impact.container import RECREATE, Startup, startup
from aicache_lint.impact.rebuild import EVENTS, Download, Rebuild, Sizes, rebuild

if TYPE_CHECKING:
    from aicache_lint.compose.project import Service
    from aicache_lint.finding import Finding
    from aicache_lint.settings import Settings
    from aicache_lint.source import SourceText
    from aicache_lint.workspace.index import Workspace


class ImageCost(NamedTuple):
    """One image: the Dockerfile and the stage that makes it, and each event's rebuild."""

    dockerfile: str
    stage: str | None  # the final stage's name (None: unnamed)
    events: dict[str, Rebuild]

    def fetched(self, event: str) -> int:
        return self.events[event].fetched

    def unknown(self, event: str) -> int:
        return len(self.events[event].unknown)


def image_costs(ws: "Workspace", dockerfiles: list[str], sizes: Sizes) -> list[ImageCost]:
    """The image each Dockerfile's final stage makes, priced for every event (a Dockerfile that
    cannot be read or parsed is left out)."""
    out = []
    for path in dockerfiles:
        parsed = ws.linted_dockerfile(path)
        if parsed is None or parsed[1].final_stage is None:
            continue
        facts = parsed[1]
        final = facts.final_stage
        out.append(ImageCost(path, final.name, {e: rebuild(ws, path, facts, final, e, sizes) for e in EVENTS}))
    return out


def with_texts(paths: list[str], texts: dict[str, "SourceText"]) -> "Workspace":
    """A workspace over ``paths`` that sees ``texts`` (absolute path -> text) instead of the disk."""
    from aicache_lint.workspace.index import Workspace

    ws = Workspace(paths)
    for path, source in texts.items():
        ws.update(path, source)
    return ws


def fixed_texts(sources: list["SourceText"], settings: "Settings", ws: "Workspace") -> dict[str, "SourceText"]:
    """The texts `--fix` would write (with ``settings``' unsafe-fixes choice), by absolute path;
    only the files that change."""
    from aicache_lint.plan import fix_files

    results = fix_files([(s, settings) for s in sources], ws)
    return {os.path.abspath(s.path): r.source for s, r in zip(sources, results) if r.changed}


class ServiceCost(NamedTuple):
    """One Compose service: the image it builds (each build event), and what a new container of it
    downloads."""

    files: tuple[str, ...]  # its Compose project's files, base first
    name: str
    dockerfile: str | None  # the Dockerfile its `build:` names; None: it runs a pulled image
    build: dict[str, Rebuild] | None  # None: not built here
    start: Startup

    def priced(self, event: str) -> bool:
        return event == RECREATE or self.build is not None

    def fetched(self, event: str) -> int:
        if event == RECREATE:
            return self.start.fetched
        return self.build[event].fetched if self.build else 0

    def unknown(self, event: str) -> int:
        if event == RECREATE:
            return len(self.start.unknown)
        return len(self.build[event].unknown) if self.build else 0


def service_costs(ws: "Workspace", files: list[str], sizes: Sizes) -> list[ServiceCost]:
    """Every service of the Compose projects of ``files`` (and of the builds the project declares)."""
    from aicache_lint.graph import compose_projects

    return [service_cost(ws, group, service, sizes)
            for group in compose_projects(ws, files) for service in ws.compose_project(group).services.values()]


def service_cost(ws: "Workspace", group: tuple[str, ...], service: "Service", sizes: Sizes) -> ServiceCost:
    """``service`` of the Compose project ``group``: its image's build events, its new containers."""
    from aicache_lint.workspace.runtime import built_stage

    built = built_stage(ws, service)  # with the service's build args and target
    build = {e: rebuild(ws, built[0], built[1], built[2], e, sizes) for e in EVENTS} if built else None
    return ServiceCost(group, service.name, built[0] if built else None, build, startup(ws, group, service, sizes))


class Costs(NamedTuple):
    """What a project (or the part of it one file's change touches) costs per event."""

    images: list[ImageCost]
    services: list[ServiceCost]

    def fetched(self) -> dict[str, int]:
        """Bytes fetched per event: the build events from the images (a service's build is its
        image's, counted once), new containers from the services."""
        out = {e: sum(c.fetched(e) for c in self.images) for e in EVENTS}
        out[RECREATE] = sum(s.fetched(RECREATE) for s in self.services)
        return out

    def downloads(self, event: str) -> list[Download]:
        if event == RECREATE:
            return [d for s in self.services for d in s.start.downloads]
        return [d for c in self.images for d in c.events[event].downloads]

    def resting_on(self, path: str) -> "Costs":
        """The images and services a change to ``path`` (a Dockerfile or a Compose file) can change."""
        real = os.path.realpath(path)
        return Costs([c for c in self.images if os.path.realpath(c.dockerfile) == real],
                     [s for s in self.services if real in {os.path.realpath(f) for f in s.files}
                      or (s.dockerfile is not None and os.path.realpath(s.dockerfile) == real)])

    def again(self, ws: "Workspace", sizes: Sizes) -> "Costs":
        """The same images and services priced again, as ``ws`` now reads their files."""
        images = image_costs(ws, [c.dockerfile for c in self.images], sizes)
        services = []
        for s in self.services:
            service = ws.compose_project(s.files).services.get(s.name)
            if service is not None:
                services.append(service_cost(ws, s.files, service, sizes))
        return Costs(images, services)


def project_costs(ws: "Workspace", dockerfiles: list[str], files: list[str], sizes: Sizes) -> Costs:
    return Costs(image_costs(ws, dockerfiles, sizes), service_costs(ws, files, sizes))


def fix_saves(ws: "Workspace", source: "SourceText", finding: "Finding", before: Costs,
              sizes: Sizes) -> dict[str, int]:
    """What ``finding``'s fix alone saves, per event, the images and services of ``before`` (those
    resting on ``source``, the text of the finding's file; events it changes nothing for are left
    out; negative: it costs more). The workspace sees the fixed text while they are priced again,
    then its own text: what rests on other files is kept."""
    from aicache_lint.fix import apply_edits
    from aicache_lint.source import SourceText

    if finding.fix is None or finding.path != source.path:
        return {}
    changed = SourceText(apply_edits(source.text, list(finding.fix.edits), source.newline),
                         path=source.path, bom=source.bom)
    ws.update(source.path, changed)
    try:
        after = before.again(ws, sizes)
    finally:
        ws.update(source.path, source)
    return savings(before, after)


def savings(before: Costs, after: Costs) -> dict[str, int]:
    """Per event, what ``after`` fetches less than ``before`` (events with no change left out)."""
    then, later = before.fetched(), after.fetched()
    return {e: then[e] - later[e] for e in then if then[e] != later[e]}


class FindingSaving(NamedTuple):
    """What applying one finding's fix alone saves, per event."""

    finding: "Finding"
    saved: dict[str, int]  # event -> bytes (events it changes nothing for are left out)
    findings: int = 1  # how many findings of the file carry this very fix (one fix for a whole stage)

    @property
    def most(self) -> int:
        return max(self.saved.values(), default=0)


class Impact(NamedTuple):
    now: Costs
    fixed: Costs  # after the fixes `--fix` (with the settings' unsafe-fixes choice) applies
    findings: list[FindingSaving]  # largest saving first
    unfixed: list[FindingSaving]  # findings without a fix, with what the download they report costs
    skipped: list[str]  # the files that could not be priced, and why


def project_impact(ws: "Workspace", files: list[str], settings: "Settings", sizes: Sizes) -> Impact:
    """Every image of the Dockerfiles and every service of the Compose projects of ``files`` now
    and after the fixes, and what each fixable finding's fix saves on its own."""
    from aicache_lint.discovery import file_kind
    from aicache_lint.engine import applicable, check_source

    dockerfiles = [f for f in files if file_kind(f) == "dockerfile"]
    now = project_costs(ws, dockerfiles, files, sizes)
    fixable = [f for f in files if file_kind(f) in ("dockerfile", "compose")]
    sources = [s for s in (ws.source(p) for p in fixable) if s is not None]
    # the same run's paths as ``ws``: the project's build files (and so build args) are the same;
    # the plan leaves its workspace reading the fixed texts, with what rests on the others kept
    fixed_ws = with_texts(ws.paths, {})
    for path, text in fixed_texts(sources, settings, fixed_ws).items():
        fixed_ws.update(path, text)
    fixed = project_costs(fixed_ws, dockerfiles, files, sizes)
    found: list[FindingSaving] = []
    for source in sources:
        before = now.resting_on(source.path)
        if not before.images and not before.services:
            continue
        priced: dict[tuple, int | None] = {}  # a fix's edits -> its entry in ``found`` (None: saves nothing)
        for finding in check_source(source, settings, ws):
            if not applicable(finding, settings):
                continue
            edits = finding.fix.edits
            if edits in priced:  # one fix for several findings (a whole stage): priced and listed once
                index = priced[edits]
                if index is not None:
                    found[index] = found[index]._replace(findings=found[index].findings + 1)
                continue
            saved = fix_saves(ws, source, finding, before, sizes)
            priced[edits] = None
            if any(b > 0 for b in saved.values()):
                priced[edits] = len(found)
                found.append(FindingSaving(finding, saved))
    found.sort(key=lambda f: (-f.most, f.finding.sort_key))
    return Impact(now, fixed, found, _unfixed(ws, files, settings, now), _skipped(ws, dockerfiles, files, now))


def _unfixed(ws: "Workspace", files: list[str], settings: "Settings", now: Costs) -> list[FindingSaving]:
    """The findings without a fix in the Python code the project runs that sit on a model load a
    new container repeats, with what that download costs, largest first."""
    from aicache_lint.discovery import file_kind
    from aicache_lint.engine import check_source
    from aicache_lint.workspace.python_code import reached_files

    out = []
    code = dict.fromkeys([p for p in files if file_kind(p) == "python"] + reached_files(ws, files))
    for source in (s for s in (ws.source(p) for p in code) if s is not None):
        for finding in check_source(source, settings, ws):
            cost = cost_at(now, finding)[0] if finding.fix is None else 0
            if cost:
                out.append(FindingSaving(finding, {RECREATE: cost}))
    return sorted(out, key=lambda f: (-f.most, f.finding.sort_key))


def _skipped(ws: "Workspace", dockerfiles: list[str], files: list[str], now: Costs) -> list[str]:
    """What could not be priced, said per file: unreadable files, Dockerfiles without an image,
    Compose files that do not parse (their services are not listed)."""
    from aicache_lint.graph import compose_projects

    out = list(ws.notices)  # `path: cannot be read: ...`
    priced = {os.path.realpath(c.dockerfile) for c in now.images}
    for path in dockerfiles:
        if os.path.realpath(path) not in priced and ws.source(path) is not None:
            out.append(f"{path}: no image (no FROM, or it does not parse)")
    for group in compose_projects(ws, files):
        project = ws.compose_project(group)
        for cfile in project.files:
            out += [f"{cfile.path}: {e.message}" for e in cfile.doc.errors[:1]]
        out += [f"{p.path}: {p.message}" for p in project.problems]
    return sorted(set(out))


def sources_used(impact: Impact) -> list[str]:
    """Where the counted sizes come from, by host, for the report's footer."""
    from urllib.parse import urlparse

    hosts: dict[str, int] = {}
    for costs in (impact.now, impact.fixed):
        for event in (*EVENTS, RECREATE):
            for d in costs.downloads(event):
                if d.source:
                    host = urlparse(d.source).netloc or d.source
                    hosts[host] = hosts.get(host, 0) + 1
    return [f"{host} ({n} sizes)" for host, n in sorted(hosts.items())]


class Estimate(NamedTuple):
    """What a finding's fix saves, for the event where it saves most."""

    bytes: int
    event: str
    sources: tuple[str, ...]  # where the sizes counted come from


def estimate_findings(results: list, sizes: Sizes) -> None:
    """Give each finding whose fix saves downloads its ``Estimate`` (``FileResult.estimates``): the
    fix applied alone, the images and services resting on its file priced again; and a finding
    without a fix at a model load a new container repeats (AIC602) what that download costs (lint
    runs)."""
    from aicache_lint.discovery import file_kind
    from aicache_lint.source import SourceText

    linted = [r for r in results if r.original is not None and r.findings
              and file_kind(r.path) in ("dockerfile", "compose", "python")]
    if not linted:
        return
    paths = [r.path for r in results]
    # the texts the run checked (standard input's among them), not the disk's
    texts = {os.path.abspath(r.path): SourceText(r.original, path=r.path) for r in linted}
    ws = with_texts(paths, texts)
    everything = project_costs(ws, [r.path for r in results if file_kind(r.path) == "dockerfile"], paths, sizes)
    for r in linted:
        before = everything.resting_on(r.path)
        source = texts[os.path.abspath(r.path)]
        priced: dict[tuple, dict[str, int]] = {}  # a fix's edits -> what it saves (one fix may serve many findings)
        for finding in r.findings:
            if finding.fix is None:
                cost, sources = cost_at(everything, finding)
                if cost:
                    r.estimates[finding] = Estimate(cost, RECREATE, sources)
                continue
            if not before.images and not before.services:
                continue
            if finding.fix.edits not in priced:
                priced[finding.fix.edits] = fix_saves(ws, source, finding, before, sizes)
            saved = priced[finding.fix.edits]
            event = max(saved, key=lambda e: saved[e], default=None)
            if event is not None and saved[event] > 0:
                found = sorted({d.source for d in before.downloads(event) if d.source})
                r.estimates[finding] = Estimate(saved[event], event, tuple(found))


def cost_at(costs: Costs, finding: "Finding") -> tuple[int, tuple[str, ...]]:
    """What the run-time downloads on the finding's line cost all new containers together (each
    service's container downloads its own copy), and where their sizes come from: a finding with no
    fix at a model load is priced by what it lets happen."""
    real = os.path.realpath(finding.path)
    total, sources = 0, set()
    for service in costs.services:
        for d in service.start.downloads:
            if d.where is None or d.cached or not d.bytes:
                continue
            path, _, line = d.where.rpartition(":")
            if line == str(finding.start.row) and os.path.realpath(path) == real:
                total += d.bytes
                sources.add(d.source)
    return total, tuple(sorted(s for s in sources if s))
