"""What the workspace believes, as data for `aicache-lint graph`: every image, every Compose
service, every link that could not be resolved (DESIGN §5a).

A user reads it before trusting a fix: which base each stage starts from and where that base's
USER and ENV come from (a stage of the file, an image built here, the known-image table, the
registry, or nothing -- then fixes resting on it are unsafe), who builds each Dockerfile with which
target, args and tags, and what each service runs, as whom, with which model caches and volumes.

Paths are relative to the current directory; every list is sorted, so the output of one tree is
always the same. The renderers live in ``report/graph.py``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.project import Service
    from aicache_lint.dockerfile.facts import Facts, Stage, State
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.invocations import Invocation

UNKNOWN_BASE = "unknown: fixes that depend on it are unsafe"
NO_BUILD = "no build declared: linted with its own ARG defaults"
UNKNOWN_IMAGE = "not known: its user and model caches are not inferred"


class User(NamedTuple):
    name: str | None  # None: the base image's user, which nothing here shows
    uid: int | None
    home: str | None
    home_known: bool  # False: `/home/<name>` is a guess


class BaseSource(NamedTuple):
    """Where a stage's starting USER and ENV come from."""

    kind: str  # "stage" | "built" | "known" | "registry" | "scratch" | "unknown"
    detail: str


class StageNode(NamedTuple):
    index: int
    name: str | None  # the `AS` name
    parent: int | None  # the index of the stage of this file it is built FROM
    base: str  # the FROM reference with build args applied (as written when they leave it unknown)
    base_source: BaseSource
    user: User  # at the end of the stage
    assumption: str | None  # what fixes resting on its USER, HOME or cache ENV take for granted
    env: dict[str, str | None]  # the cache-relevant ENV at the end of the stage (None: value not known)


class Origin(NamedTuple):
    kind: str  # "compose" | "workflow" | "gitlab" | "bake" | "command"
    path: str
    line: int
    name: str
    description: str


class Build(NamedTuple):
    origin: Origin
    target: str | None
    args: dict[str, str]
    tags: list[str]
    unresolved: list[str]
    cache_from: list[str]  # the cache it imports and exports (empty: none)
    cache_to: list[str]


class Image(NamedTuple):
    dockerfile: str
    error: str | None  # "cannot be read" | "does not parse"; None when it was read
    linted_with: str  # which build args its facts (and findings) use
    args: dict[str, str]
    builds: list[Build]
    stages: list[StageNode]
    runs: list[str] = []  # the Python files its command runs, entry points first (workspace/python_code.py)


class ModelCache(NamedTuple):
    kind: str
    directory: str | None
    where: str  # where the directory comes from
    why: str  # why the service downloads models


class Volume(NamedTuple):
    type: str  # "volume" | "bind" | "tmpfs" | ...
    source: str | None  # volume name or host path as written; None: anonymous
    target: str | None
    read_only: bool


class ServiceNode(NamedTuple):
    files: list[str]  # the Compose files of its project, base first
    name: str
    image: str | None  # `image:`
    image_source: str | None  # what the linter knows of an `image:` it does not build
    build: dict[str, str | None] | None  # dockerfile, context, target
    tags: list[str]  # the image names its build produces
    user: User
    model_caches: list[ModelCache]
    volumes: list[Volume]
    runs: list[str] = []  # the Python files its command runs


class Unresolved(NamedTuple):
    kind: str  # "link" (workspace notices) | "build" (part of a build declaration) | "base" (unknown FROM)
    #            | "code" (what an image's command runs that cannot be followed)
    path: str | None
    message: str


class Graph(NamedTuple):
    images: list[Image]
    services: list[ServiceNode]
    unresolved: list[Unresolved]


def build_graph(ws: Workspace, files: list[str]) -> Graph:
    """The graph of the project around ``files`` (the discovered Dockerfiles and Compose files)."""
    invocations = _unique(ws.invocations())
    unresolved: list[Unresolved] = []
    images = [_image(ws, path, real, invocations, unresolved) for real, path in dockerfiles(files, invocations).items()]
    for key in sorted(ws.graph.by_name):
        ws.graph.built(f"{key[0]}:{key[1]}")  # a name two builds claim is said even when no FROM uses it
    services = _services(ws, files, invocations)
    for inv in invocations:
        unresolved += [Unresolved("build", _rel(inv.origin.path), f"{_describe(inv)}: {phrase}") for phrase in inv.unresolved]
    unresolved += [Unresolved("link", None, notice) for notice in ws.notices]
    order = {"link": 0, "build": 1, "base": 2, "code": 3}
    unresolved = sorted(dict.fromkeys(unresolved), key=lambda u: (order[u.kind], u.path or "", u.message))
    return Graph(sorted(images, key=lambda i: i.dockerfile), services, unresolved)


def dockerfiles(files: list[str], invocations: list[Invocation]) -> dict[str, str]:
    """The Dockerfiles of the run: those discovered and those a build names (real path -> the name shown)."""
    from aicache_lint.discovery import file_kind

    found: dict[str, str] = {}
    for path in [f for f in files if file_kind(f) == "dockerfile"] + [i.dockerfile for i in invocations if i.dockerfile]:
        found.setdefault(os.path.realpath(path), _rel(path))
    return found


def compose_projects(ws: Workspace, files: list[str]) -> list[tuple[str, ...]]:
    """The Compose projects of the run (each file with its override, base first), each once."""
    from aicache_lint.discovery import file_kind

    projects: dict[tuple[str, ...], tuple[str, ...]] = {}  # real paths -> the files as named
    for path in files + ws.build_files():
        if file_kind(path) == "compose":
            group = ws.companion_files(path)
            projects.setdefault(tuple(os.path.realpath(f) for f in group), group)
    return list(projects.values())


def _rel(path: str) -> str:
    return os.path.relpath(path) if path else path


def _unique(invocations: list[Invocation]) -> list[Invocation]:
    """Each build once (a Compose file reached under two spellings declares its builds twice),
    in declaration order."""
    seen: dict[tuple, Invocation] = {}
    for inv in invocations:
        o = inv.origin
        key = (o.kind, os.path.realpath(o.path), o.line, o.name,
               os.path.realpath(inv.dockerfile) if inv.dockerfile else None, inv.target, inv.args, inv.tags)
        seen.setdefault(key, inv)
    return sorted(seen.values(), key=lambda i: (_rel(i.origin.path), i.origin.line, i.origin.name))


def _describe(inv: Invocation) -> str:
    return inv.origin._replace(path=_rel(inv.origin.path)).describe()


def _build(inv: Invocation) -> Build:
    o = inv.origin
    return Build(Origin(o.kind, _rel(o.path), o.line, o.name, _describe(inv)), inv.target, dict(inv.args),
                 list(inv.tags), list(inv.unresolved), list(inv.cache_from), list(inv.cache_to))


# -- images -------------------------------------------------------------------------------------


def _image(ws: Workspace, path: str, real: str, invocations: list[Invocation], unresolved: list[Unresolved]) -> Image:
    builds = [inv for inv in invocations if inv.dockerfile and os.path.realpath(inv.dockerfile) == real]
    args = ws.build_args(path)
    if not builds:
        linted_with = NO_BUILD
    elif args:
        linted_with = "linted with the build args every build gives: " + ", ".join(f"{k}={v}" for k, v in sorted(args.items()))
    else:
        linted_with = "linted with its own ARG defaults" + (
            " (its builds agree on no build arg)" if any(inv.args for inv in builds) else "")
    error = None
    stages: list[StageNode] = []
    runs: list[str] = []
    if not ws.is_file(path) or ws.source(path) is None:
        error = "cannot be read"
    else:
        parsed = ws.dockerfile(path, tuple(sorted(args.items())))
        if parsed is None:
            error = "does not parse"
        else:
            stages = [_stage(ws, parsed[1], s) for s in parsed[1].stages]
            runs = _runs(ws, path, parsed[1], unresolved)
    if error is not None:
        unresolved += [Unresolved("build", _rel(inv.origin.path), f"{_describe(inv)} builds {path}, which {error}")
                       for inv in builds]
    for stage in stages:
        if stage.base_source.kind == "unknown":
            unresolved.append(Unresolved("base", path, f"{path}: {stage_label(stage)} FROM `{stage.base}`: not a stage of "
                                         "this file, not built here, not in the known-image table: fixes that "
                                         "depend on its USER or ENV are unsafe"))
    return Image(path, error, linted_with, dict(sorted(args.items())), [_build(i) for i in builds], stages, runs)


def _runs(ws: Workspace, path: str, facts: Facts, unresolved: list[Unresolved]) -> list[str]:
    """The Python files the final image runs; what of its command cannot be followed is said
    (an image with no command of its own, a base for others, runs nothing here: nothing to say)."""
    if facts.final_stage is None or facts.command(facts.final_stage) == (None, None):
        return []
    code = ws.image_code(path)
    unresolved += [Unresolved("code", path, f"{path}: {message}") for message in code.unresolved]
    return [_rel(f.path) for f in code.files]


def stage_label(stage: StageNode) -> str:
    return f"stage {stage.index}" + (f" `{stage.name}`" if stage.name else "")


def _stage(ws: Workspace, facts: Facts, stage: Stage) -> StageNode:
    from aicache_lint.knowledge.base_images import is_cache_variable

    start = facts.state(stage.from_instruction)
    end = facts.end_state(stage)
    written = stage.from_instruction.words[0] if stage.from_instruction.words else "?"
    env = {k: v for k, v in sorted(end.env.items()) if is_cache_variable(k)}
    return StageNode(stage.index, stage.name, stage.parent.index if stage.parent else None, stage.base or written, _base_source(ws, stage, start),
                     _user(end), end.assumption(), env)


def _base_source(ws: Workspace, stage: Stage, start: State) -> BaseSource:
    """Why a stage starts with the USER and ENV it has: the order ``Facts`` asks in."""
    from aicache_lint.knowledge.base_images import known_image

    base = stage.base
    if stage.parent is not None:
        parent = stage.parent
        return BaseSource("stage", f"stage {parent.index}" + (f" `{parent.name}`" if parent.name else "") + " of this file")
    if base is None:
        return BaseSource("unknown", f"`{stage.from_instruction.words[0]}` has no known value; {UNKNOWN_BASE}")
    if base.lower() == "scratch":
        return BaseSource("scratch", "the empty image: root, no environment")
    known = known_image(base)
    if known is not None:
        return BaseSource("known", known.origin)
    built = ws.graph.built(base)
    if built is not None:
        inv = built.invocation
        where = _rel(inv.dockerfile or "") + (f" (stage `{built.stage.name}`)" if built.stage.name else "")
        detail = f"built here from {where} by {_describe(inv)}"
        if start.assumed_base:
            detail += f"; its own base `{start.assumed_base}` is unknown, so root and no cache variable are assumed"
        return BaseSource("built", detail)
    if start.base_origin:
        return BaseSource("registry", start.base_origin)
    return BaseSource("unknown", UNKNOWN_BASE)


def _user(state: State) -> User:
    if state.user is None:
        return User(None, None, None, False)
    info = state.user_info
    return User(info.name, info.uid, state.home, bool(state.home_known and state.home))


# -- services -----------------------------------------------------------------------------------


def _services(ws: Workspace, files: list[str], invocations: list[Invocation]) -> list[ServiceNode]:
    found = []
    for group in compose_projects(ws, files):
        project = ws.compose_project(group)
        names = [_rel(f) for f in group]
        for service in project.services.values():
            found.append(_service(ws, names, service, invocations))
    return sorted(found, key=lambda s: (s.files, s.name))


def _service(ws: Workspace, files: list[str], service: Service, invocations: list[Invocation]) -> ServiceNode:
    from aicache_lint.compose.caches import model_caches, runtime

    rt = runtime(service)
    build = None
    tags: list[str] = []
    if service.build is not None:
        from aicache_lint.workspace.runtime import build_target

        b = service.build
        build = {"dockerfile": None if b.dockerfile_inline or b.dockerfile is None else _rel(b.dockerfile),
                 "context": b.context if b.context is None or "://" in b.context else _rel(b.context),
                 "target": build_target(service)}
        real = {os.path.realpath(f) for f in files}
        tags = [t for inv in invocations if inv.origin.kind == "compose" and inv.origin.name == service.name
                and os.path.realpath(inv.origin.path) in real for t in inv.tags]
    if rt.is_root:
        user = User("root", 0, "/root", True)
    else:
        linked = rt.linked
        uid = linked.uid if linked is not None and rt.user is not None and rt.user == linked.user else None
        user = User(rt.user, uid, rt.home, rt.home is not None)
    caches = [ModelCache(c.kind, c.directory, c.where, c.why) for c in model_caches(service, rt)]
    volumes = [Volume(v.type, v.source, v.target, v.read_only) for v in service.volumes]
    runs = [_rel(f.path) for f in ws.service_code(service).files]
    return ServiceNode(files, service.name, service.image, _image_source(ws, service) if build is None else None,
                       build, tags, user, caches, volumes, runs)


def _image_source(ws: Workspace, service: Service) -> str | None:
    """What the linter knows of the image a service runs without building it."""
    from aicache_lint.compose.images import lookup

    if not service.image:
        return None
    builds = ws.graph.builds_of(service.image)
    if builds:
        return "built here by " + "; ".join(_describe(i) for i in _unique(builds))
    info = lookup(service.image)
    if info is not None:
        return f"known image table: {info.name} ({info.source})"
    return UNKNOWN_IMAGE
