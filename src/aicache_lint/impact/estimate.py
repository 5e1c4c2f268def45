"""What the images of a project cost per event now, after the fixes, and what one finding's fix
saves: the rebuild model (``rebuild.py``) run on the project as it is and on in-memory copies with
the fixes applied (the same fix plan as `--fix`; nothing is written)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.impact.rebuild import EVENTS, Rebuild, Sizes, rebuild

if TYPE_CHECKING:
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


def fix_saves(ws: "Workspace", source: "SourceText", finding: "Finding", before: ImageCost,
              sizes: Sizes) -> dict[str, int]:
    """What ``finding``'s fix alone saves the image ``before`` prices, per event (``source``: the
    Dockerfile's text; events it changes nothing for are left out). The workspace sees the fixed
    text while the image is priced again, then its own text: what rests on other files is kept."""
    from aicache_lint.fix import apply_edits
    from aicache_lint.source import SourceText

    if finding.fix is None or finding.path != source.path:
        return {}
    changed = SourceText(apply_edits(source.text, list(finding.fix.edits), source.newline),
                         path=source.path, bom=source.bom)
    ws.update(source.path, changed)
    try:
        after = image_costs(ws, [source.path], sizes)
    finally:
        ws.update(source.path, source)
    return {s.event: s.bytes for s in savings([before], after)}


class Saving(NamedTuple):
    """What one fix saves an image per event (bytes no longer fetched; negative: it costs more)."""

    dockerfile: str
    event: str
    bytes: int


def savings(before: list[ImageCost], after: list[ImageCost]) -> list[Saving]:
    """Per image and event, what ``after`` fetches less than ``before`` (images matched by file)."""
    later = {cost.dockerfile: cost for cost in after}
    out = []
    for cost in before:
        then = later.get(cost.dockerfile)
        if then is None:
            continue
        for event in EVENTS:
            saved = cost.fetched(event) - then.fetched(event)
            if saved:
                out.append(Saving(cost.dockerfile, event, saved))
    return out


class FindingSaving(NamedTuple):
    """What applying one finding's fix alone saves its image, per event."""

    finding: "Finding"
    saved: dict[str, int]  # event -> bytes (events it changes nothing for are left out)

    @property
    def most(self) -> int:
        return max(self.saved.values(), default=0)


class Impact(NamedTuple):
    now: list[ImageCost]
    fixed: list[ImageCost]  # after the fixes `--fix` (with the settings' unsafe-fixes choice) applies
    findings: list[FindingSaving]  # largest saving first


def project_impact(ws: "Workspace", dockerfiles: list[str], settings: "Settings", sizes: Sizes) -> Impact:
    """Every image of ``dockerfiles`` now and after the fixes, and what each fixable finding's fix
    saves on its own."""
    from aicache_lint.engine import applicable, check_source

    now = image_costs(ws, dockerfiles, sizes)
    sources = [s for s in (ws.source(p) for p in dockerfiles) if s is not None]
    # the same run's paths as ``ws``: the project's build files (and so build args) are the same
    fixed = image_costs(with_texts(ws.paths, fixed_texts(sources, settings, with_texts(ws.paths, {}))),
                        dockerfiles, sizes)
    before = {cost.dockerfile: cost for cost in now}
    found: list[FindingSaving] = []
    for source in sources:
        if source.path not in before:
            continue
        for finding in check_source(source, settings, ws):
            saved = fix_saves(ws, source, finding, before[source.path], sizes) if applicable(finding, settings) else {}
            if saved:
                found.append(FindingSaving(finding, saved))
    found.sort(key=lambda f: (-f.most, f.finding.sort_key))
    return Impact(now, fixed, found)


class BundledSizes:
    """The model's questions answered from the bundled, dated size table (``knowledge/sizes.py``):
    a pinned version's own row when there is one, else the nearest version's (an estimate); torch
    and its family with the CUDA wheels their Linux wheel pulls. ``registry`` (--resolve-images:
    the run's registry resolver) sizes a base image the table has no row of its own for, from its
    manifest, and a package the table lacks, from the package index; when they do not answer,
    the table's estimate (or unknown) stands."""

    def __init__(self, registry=None) -> None:
        self.registry = registry

    def package(self, name: str, spec: str = ""):
        from aicache_lint.knowledge import sizes

        pinned = spec.strip()
        version = pinned[2:].strip() if pinned.startswith("==") and "," not in pinned and "*" not in pinned else None
        found = sizes.package(name, version, with_deps=True) or sizes.package(name, version)
        # only what the table lacks: its torch rows count the CUDA wheels, which the index's one file does not
        if found is None and self.registry is not None and (version or not spec.strip()):
            asked = self.registry.package_size(name, version)
            if asked is not None:
                return sizes.Size(asked[0], asked[1], _today(), True, f"{name} {version or '(newest)'}")
        return found

    def apt(self, name: str):
        from aicache_lint.knowledge import sizes

        return sizes.apt(name)

    def image(self, reference: str):
        from aicache_lint.knowledge import sizes

        found = sizes.image(reference)
        if (found is None or not found.exact) and self.registry is not None:
            pulled = self.registry.image_size(reference)
            if pulled is not None:
                from aicache_lint.images.reference import parse_reference

                image = parse_reference(reference)
                where = f"https://{image.registry}/v2/{image.repository}/manifests/{image.digest or image.tag or 'latest'}"
                return sizes.Size(pulled, where, _today(), True, reference)
        return found

    def model(self, repo_id: str, whole: bool = False):
        """The weights a library load of ``repo_id`` downloads, or with ``whole`` the whole
        repository (`hf download REPO` with no file names). The table's rows count the weights, so
        for ``whole`` the Hub (``registry``) is asked first and a row is the fallback."""
        from aicache_lint.knowledge import sizes

        found = sizes.model(repo_id)
        if (found is None or whole) and self.registry is not None:
            asked = self.registry.model_size(repo_id, whole)
            if asked is not None:
                return sizes.Size(asked[0], asked[1], _today(), True, asked[2])
        return found


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()


def sources_used(impact: Impact) -> list[str]:
    """Where the counted sizes come from, by host, for the report's footer."""
    from urllib.parse import urlparse

    hosts: dict[str, int] = {}
    for cost in impact.now + impact.fixed:
        for event in EVENTS:
            for d in cost.events[event].downloads:
                if d.source:
                    host = urlparse(d.source).netloc or d.source
                    hosts[host] = hosts.get(host, 0) + 1
    return [f"{host} ({n} sizes)" for host, n in sorted(hosts.items())]


class Estimate(NamedTuple):
    """What a finding's fix saves its image, for the event where it saves most."""

    bytes: int
    event: str
    sources: tuple[str, ...]  # where the sizes counted come from


def estimate_findings(results: list, sizes: Sizes) -> None:
    """Give each finding of a Dockerfile whose fix saves downloads its ``Estimate``
    (``FileResult.estimates``): the fix applied alone, the image priced again (lint runs)."""
    from aicache_lint.discovery import file_kind
    from aicache_lint.source import SourceText

    linted = [r for r in results if r.original is not None and file_kind(r.path) == "dockerfile"
              and any(f.fix is not None for f in r.findings)]
    paths = [r.path for r in results]
    ws = with_texts(paths, {})
    for r in linted:
        before = image_costs(ws, [r.path], sizes)
        if not before:
            continue
        source = SourceText(r.original, path=r.path)
        for finding in r.findings:
            saved = fix_saves(ws, source, finding, before[0], sizes)
            event = max(saved, key=lambda e: saved[e], default=None)
            if event is not None and saved[event] > 0:
                r.estimates[finding] = Estimate(saved[event], event, _sources(before[0], event))


def _sources(cost: ImageCost, event: str) -> tuple[str, ...]:
    return tuple(sorted({d.source for d in cost.events[event].downloads if d.source}))
