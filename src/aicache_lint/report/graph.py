"""`aicache-lint graph` output: ``render(fmt, graph)`` for `text`, `json` and `mermaid`.

JSON (``version`` 1) -- every field always present, lists sorted, paths relative to the current
directory::

    {"version": 1,
     "images": [{"dockerfile", "error" (null | "cannot be read" | "does not parse"), "linted_with",
                 "args" {name: value},
                 "builds": [{"origin": {"kind", "path", "line", "name", "description"},
                             "target", "args", "tags", "unresolved", "cache_from", "cache_to"}],
                 "stages": [{"index", "name", "parent" (index of the stage it is FROM, or null), "base",
                             "base_source": {"kind" (stage | built | known | registry | scratch |
                                             unknown), "detail"},
                             "user": {"name" (null: unknown), "uid", "home", "home_known"},
                             "assumption" (what fixes take for granted about an unknown base, or null),
                             "env": {name: value or null}}]}],
     "services": [{"files", "name", "image", "image_source", "build" ({"dockerfile", "context",
                   "target"} | null), "tags", "user", "model_caches": [{"kind", "directory",
                   "where", "why"}], "volumes": [{"type", "source", "target", "read_only"}]}],
     "unresolved": [{"kind" (link | build | base), "path" (or null), "message"}]}

``base_source.detail`` and ``linted_with`` are sentences for people; the other fields are data.

Mermaid: a `flowchart LR` that GitHub renders -- one subgraph per Dockerfile with a node per
stage, a node per image name (built here or a base), a node per builder and per service; edges
builder -> image -> stage that is built FROM it, service -> image it runs.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aicache_lint.graph import Graph, Image, ServiceNode, StageNode, User

FORMATS = ("text", "json", "mermaid")


def render(fmt: str, graph: Graph) -> str:
    return {"text": text, "json": as_json, "mermaid": mermaid}[fmt](graph)


# -- text ---------------------------------------------------------------------------------------


def text(graph: Graph) -> str:
    lines = ["Images"] if graph.images else ["Images: no Dockerfile found"]
    for image in graph.images:
        lines += _image_lines(image)
    lines.append("Services" if graph.services else "Services: no Compose service found")
    for service in graph.services:
        lines += _service_lines(service)
    lines.append("Unresolved" if graph.unresolved else "Unresolved: none")
    lines += [f"  - {u.message}" for u in graph.unresolved]
    return "\n".join(lines) + "\n"


def _cache(build) -> str:
    """What a build keeps between runs, as its builder is told (a local `docker compose build`
    keeps the builder's own cache and says nothing)."""
    if not (build.cache_from or build.cache_to):
        return "no cache import or export"
    return "; ".join(f"{what} {' | '.join(entries)}" for what, entries in
                     (("cache from", build.cache_from), ("cache to", build.cache_to)) if entries)


def _image_lines(image: Image) -> list[str]:
    from aicache_lint.graph import stage_label

    lines = [f"  {image.dockerfile}" + (f" ({image.error})" if image.error else "")]
    for build in image.builds:
        parts = [f"target {build.target}"] if build.target else []
        parts += [f"args {_pairs(build.args)}"] if build.args else []
        parts += [f"tags {', '.join(build.tags)}"] if build.tags else []
        parts += [_cache(build)] if build.origin.kind != "compose" or build.cache_from or build.cache_to else []
        lines.append(f"    built by {build.origin.description}" + (f": {'; '.join(parts)}" if parts else ""))
    lines.append(f"    {image.linted_with}")
    for stage in image.stages:
        lines.append(f"    {stage_label(stage)}: FROM {stage.base}")
        lines.append(f"      base: {stage.base_source.detail}")
        lines.append(f"      user: {_user(stage.user)}")
        if stage.assumption:
            lines.append(f"      {stage.assumption}")
        if stage.env:
            lines.append(f"      env: {_pairs(stage.env)}")
    if image.runs:
        lines.append(f"    runs: {', '.join(image.runs)}")
    return lines


def _service_lines(service: ServiceNode) -> list[str]:
    lines = [f"  {service.name} ({' + '.join(service.files)})"]
    if service.build is not None:
        b = service.build
        where = f"{b['dockerfile'] or 'no Dockerfile in the repository'} (context {b['context']}"
        where += f", target {b['target']})" if b["target"] else ")"
        lines.append(f"    build: {where}" + (f" -> image {', '.join(service.tags)}" if service.tags else ""))
    if service.image and service.build is None:
        lines.append(f"    image: {service.image} ({service.image_source})")
    lines.append(f"    user: {_user(service.user)}")
    if service.runs:
        lines.append(f"    runs: {', '.join(service.runs)}")
    for cache in service.model_caches:
        lines.append(f"    model cache: {cache.kind} in {cache.directory or 'an unknown directory'} "
                     f"({cache.where}; {cache.why})")
    for v in service.volumes:
        kind = {"volume": "named volume" if v.source else "anonymous volume"}.get(v.type, v.type)
        source = f" {v.source}" if v.source else ""
        lines.append(f"    volume: {kind}{source} -> {v.target}" + (" (read-only)" if v.read_only else ""))
    return lines


def _pairs(values: dict[str, str | None]) -> str:
    return ", ".join(f"{k}={'?' if v is None else v}" for k, v in values.items())


def _user(user: User) -> str:
    if user.name is None:
        return "unknown (the base image's)"
    details = [f"uid {user.uid if user.uid is not None else '?'}"]
    if user.home:
        details.append(f"home {user.home}" + ("" if user.home_known else " (guessed)"))
    return f"{user.name} ({', '.join(details)})"


# -- json ---------------------------------------------------------------------------------------


def as_json(graph: Graph) -> str:
    from aicache_lint.report._common import plain

    return json.dumps({"version": 1, **plain(graph)}, indent=2) + "\n"


# -- mermaid ------------------------------------------------------------------------------------


class _Ids:
    """Mermaid node ids: letters, digits and `_` only, one per thing, never twice."""

    def __init__(self) -> None:
        self._by_key: dict[tuple, str] = {}
        self._used: set[str] = set()

    def get(self, prefix: str, key: Any) -> str:
        full = (prefix, key)
        if full not in self._by_key:
            base = f"{prefix}_" + re.sub(r"[^A-Za-z0-9_]+", "_", str(key)).strip("_")
            node, n = base, 1
            while node in self._used:
                n += 1
                node = f"{base}_{n}"
            self._used.add(node)
            self._by_key[full] = node
        return self._by_key[full]


def label(*lines: str) -> str:
    """A quoted Mermaid label: characters Mermaid would read as syntax become entity codes."""
    codes = {"#": "#35;", '"': "#quot;", "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;",
             "(": "#40;", ")": "#41;", "<": "#lt;", ">": "#gt;", "|": "#124;", "`": "#96;"}
    return '"' + "<br/>".join("".join(codes.get(c, c) for c in line) for line in lines) + '"'


def mermaid(graph: Graph) -> str:
    from aicache_lint.graph import UNKNOWN_IMAGE
    from aicache_lint.workspace.images import image_key

    ids = _Ids()
    out = ["flowchart LR"]
    edges: list[str] = []
    images: dict[Any, tuple[str, str, bool]] = {}  # image key -> (id, name as first met, unknown)
    services: dict[tuple[str, str], str] = {}  # (Compose file, service) -> id
    builders: dict[str, str] = {}  # id -> declaration
    for service in graph.services:
        node = ids.get("svc", (tuple(service.files), service.name))
        services.update({(f, service.name): node for f in service.files})

    def image_node(reference: str, unknown: bool = False) -> str:
        key = image_key(reference) or reference
        if key not in images:
            images[key] = (ids.get("img", reference), reference, unknown)
        return images[key][0]

    def builder(origin) -> str:
        node = services.get((origin.path, origin.name)) if origin.kind == "compose" else None
        if node is None:
            node = ids.get("b", (origin.path, origin.line, origin.name))
            builders[node] = f"  {node}{{{{{label(f'{origin.kind} {origin.name}', f'{origin.path}:{origin.line}')}}}}}"
        return node

    for image in graph.images:
        df = ids.get("df", image.dockerfile)
        out.append(f"  subgraph {df}[{label(image.dockerfile + (f' ({image.error})' if image.error else ''))}]")
        for stage in image.stages:
            sid = ids.get("st", (image.dockerfile, stage.index))
            user = stage.user.name if stage.user.name is not None else "?"
            out.append(f"    {sid}[{label(f'stage {stage.index}' + (f' {stage.name}' if stage.name else ''), f'user {user}')}]")
            if stage.parent is not None:
                edges.append(f"  {ids.get('st', (image.dockerfile, stage.parent))} -->|FROM| {sid}")
            elif stage.base_source.kind != "scratch":
                edges.append(f"  {image_node(stage.base, stage.base_source.kind == 'unknown')} -->|FROM| {sid}")
        out.append("  end")
        for build in image.builds:
            who = builder(build.origin)
            stage = _built_stage(image, build.target)
            sid = ids.get("st", (image.dockerfile, stage.index)) if stage is not None else df
            targets = [image_node(tag) for tag in build.tags]
            edges += [f"  {sid} --> {t}" for t in targets]
            how = "builds" if build.cache_to or build.origin.kind == "compose" else "builds with no cache export"
            edges += [f"  {who} -.->|{how}| {t}" for t in targets or [sid]]
    out += builders.values()
    for service in graph.services:
        node = services[(service.files[0], service.name)]
        out.append(f"  {node}({label(f'service {service.name}', service.files[-1])})")
        if service.image and service.build is None:
            edges.append(f"  {node} -->|runs| {image_node(service.image, service.image_source == UNKNOWN_IMAGE)}")
    for node, name, _ in sorted(images.values()):
        out.append(f"  {node}([{label(name)}])")
    unknown = sorted(node for node, _, is_unknown in images.values() if is_unknown)
    if unknown:
        out.append("  classDef unknown stroke:#c00,stroke-width:2px,stroke-dasharray:4 3")
        out.append(f"  class {','.join(unknown)} unknown")
    return "\n".join(out + list(dict.fromkeys(edges))) + "\n"


def _built_stage(image: Image, target: str | None) -> StageNode | None:
    if not image.stages:
        return None
    if target:
        return next((s for s in image.stages if s.name == target.lower()), None)
    return image.stages[-1]
