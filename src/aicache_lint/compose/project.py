"""The merged view of a Compose project that rules read (DOMAIN §6).

Compose interpolates each file, then merges base + override files key by key: `volumes` unique by
container target (an override REPLACES the base entry), `environment`/`labels`/build `args` by name,
`command`/`entrypoint` replaced, other sequences appended, `!reset` clears and `!override` replaces
wholesale. We model only the fields rules read, and every value keeps the node and the file it is
written in, so a fix edits the right file at the right place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.compose.interpolate import interpolate, parse_dotenv
from aicache_lint.compose.model import ComposeDoc, Mapping, Node, Scalar, Sequence
from aicache_lint.compose.parse import parse
from aicache_lint.source import SourceError, SourceText, Span

if TYPE_CHECKING:
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.runtime import LinkedImage

MAIN_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                  "docker-compose.override.yaml")


def is_compose_name(name: str) -> bool:
    """`compose.yaml`, `docker-compose.override.yml`, `compose.gpu.yaml`, `docker-compose-dev.yml`…"""
    from aicache_lint.discovery import is_compose_name as by_name

    return by_name(name)


def companion_files(path: str, exists: Callable[[str], bool] = os.path.isfile) -> list[str]:
    """The files Compose loads together with ``path`` when run in its directory without `-f`:
    the first main file found, then the first override found (compose-go's search order).
    Other variants (`compose.gpu.yaml`) are only used with `-f`, so they stand alone."""
    directory, name = os.path.split(path)
    if name not in MAIN_NAMES and name not in OVERRIDE_NAMES:
        return [path]
    main = next((n for n in MAIN_NAMES if exists(os.path.join(directory, n))), None)
    override = next((n for n in OVERRIDE_NAMES if exists(os.path.join(directory, n))), None)
    found = [os.path.join(directory, n) for n in (main, override) if n is not None]
    return found or [path]


class ComposeFile(NamedTuple):
    path: str
    doc: ComposeDoc
    project_dir: str  # relative paths in this file resolve against it
    env: dict[str, str | None]  # interpolation variables (`.env`, then the given environment)

    def value(self, node: Node | None) -> str | None:
        """The interpolated string of a scalar node (None: null, non-scalar, or unknown)."""
        node = node.target if node is not None else None
        if not isinstance(node, Scalar) or node.is_null:
            return None
        return interpolate(node.value, self.env).value if "$" in node.value else node.value

    def resolve(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.project_dir, path))


class Variable(NamedTuple):
    """One `environment`/`labels`/build `args` entry."""

    name: str
    value: str | None  # interpolated; None when value-less or depending on an unknown variable
    raw: str | None  # the value as written (after YAML); None for `- HF_TOKEN` or `HF_TOKEN:`
    form: str  # "list" (`- K=V`) or "map" (`K: V`)
    node: Node  # the list item, or the map value
    key_node: Node | None  # map form: the key
    file: str
    inherited: bool = False  # comes from a `<<` merge (the node is in the anchored fragment)

    @property
    def has_value(self) -> bool:
        return self.raw is not None


class EnvFile(NamedTuple):
    path: str  # resolved against the project directory
    raw: str
    required: bool
    format: str | None
    node: Node
    file: str


class Volume(NamedTuple):
    type: str  # volume, bind, tmpfs, image, npipe, cluster
    source: str | None  # volume name or host path as written (interpolated); None: anonymous
    target: str | None
    read_only: bool
    syntax: str  # "short" or "long"
    node: Node
    file: str
    host_path: str | None = None  # a bind's source resolved against the project directory
    mode: str | None = None  # the short syntax's `:ro,z`… part
    known: bool = True  # False when interpolation left a variable unknown (fields from the raw text)
    interpolated: bool = False  # the source is written with a variable (`${MODELS}:/models`)

    @property
    def is_named(self) -> bool:
        return self.type == "volume" and bool(self.source)

    @property
    def is_bind(self) -> bool:
        return self.type == "bind"


class Build(NamedTuple):
    context: str | None  # resolved path, or a URL as written
    dockerfile: str | None  # resolved against the context
    args: dict[str, Variable]
    node: Node
    file: str
    dockerfile_inline: bool = False


class TopVolume(NamedTuple):
    name: str
    external: bool
    explicit_name: str | None  # `name:`; else Compose creates `<project>_<name>`
    node: Node  # the value (often an empty null)
    key_node: Node
    file: str


class Problem(NamedTuple):
    path: str
    message: str
    span: Span | None


class Service:
    """One service after merging; ``definitions`` lists (file, mapping) for each file defining it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.definitions: list[tuple[ComposeFile, Mapping]] = []
        self.image: str | None = None
        self.image_node: Node | None = None
        self.build: Build | None = None
        self.environment: dict[str, Variable] = {}
        self.env_file: list[EnvFile] = []
        self.volumes: list[Volume] = []
        self.labels: dict[str, Variable] = {}
        self.command: Node | None = None  # as written (list or string)
        self.entrypoint: Node | None = None
        self.profiles: list[str] = []
        # The workspace that loaded the project: it links the service to the image it builds and
        # reads its env files (None for a project loaded alone).
        self.workspace: "Workspace | None" = None

    def __repr__(self) -> str:
        return f"Service({self.name!r}, files={[f.path for f, _ in self.definitions]})"

    @property
    def linked(self) -> "LinkedImage | None":
        """The image this service builds, as its Dockerfile shows it (None: no `build:`, or not
        loaded through a workspace, or the Dockerfile cannot be read)."""
        return self.workspace.linked_image(self) if self.workspace is not None and self.build is not None else None

    def env_file_values(self, env_file: "EnvFile") -> dict[str, str]:
        """The variables of one `env_file` (empty when it cannot be read)."""
        text = self.workspace.text(env_file.path) if self.workspace is not None else None
        try:
            return dict(parse_dotenv(text)) if text is not None else {}
        except ValueError:
            return {}

    @property
    def file(self) -> ComposeFile:
        """The last file that defines the service (where an override-aware fix would go)."""
        return self.definitions[-1][0]

    @property
    def key(self) -> tuple[Node, str] | None:
        """(the key naming the service, its file) in the last file that defines it: where findings
        about the service are reported."""
        cfile = self.definitions[-1][0] if self.definitions else None
        services = _mapping(cfile.doc.root.get("services")) if cfile is not None and cfile.doc.root else None
        entry = services.entry(self.name) if services is not None else None
        return (entry.pair.key, cfile.path) if entry is not None else None


class Project:
    def __init__(self) -> None:
        self.files: list[ComposeFile] = []
        self.services: dict[str, Service] = {}
        self.volumes: dict[str, TopVolume] = {}
        self.name: str | None = None
        self.problems: list[Problem] = []

    @property
    def errors(self) -> list[Problem]:
        """Parse errors of every file, then loading problems."""
        found = [Problem(f.path, e.message, e.span) for f in self.files for e in f.doc.errors]
        return found + self.problems


def load_project(paths: Iterable[str | SourceText | ComposeDoc], environ: dict[str, str | None] | None = None,
                 read: Callable[[str], SourceText] | None = None, _seen: frozenset[str] = frozenset(),
                 project_dir: str | None = None, exists: Callable[[str], bool] | None = None) -> Project:
    """Load and merge ``paths`` (base first) as `docker compose -f a -f b` would.

    ``environ`` stands for the shell environment (it wins over `.env`); by default it is empty, so
    results do not depend on where the linter runs. ``read`` reads a file (tests pass their own);
    ``exists`` says whether an included file is there (by default: on disk, unless ``read`` is given).
    """
    if exists is None and read is None:
        exists = os.path.isfile
    read = read or _read
    project = Project()
    sources: list[SourceText] = []
    parsed: dict[int, ComposeDoc] = {}  # documents the caller parsed already (by source identity)
    for p in paths:
        if isinstance(p, ComposeDoc):
            parsed[id(p.source)] = p
            p = p.source
        if isinstance(p, SourceText):
            sources.append(p)
            continue
        try:
            sources.append(read(p))
        except (OSError, SourceError) as exc:
            project.problems.append(Problem(p, f"cannot read Compose file: {exc}", None))
    if not sources:
        return project
    project_dir = project_dir or os.path.dirname(os.path.abspath(sources[0].path))
    env: dict[str, str | None] = dict(_dotenv(os.path.join(project_dir, ".env"), read))
    env.update(environ or {})
    seen = _seen | {os.path.abspath(s.path) for s in sources}
    for source in sources:
        cfile = ComposeFile(source.path, parsed.get(id(source)) or parse(source), project_dir, env)
        project.files.append(cfile)
        root = cfile.doc.root
        if root is None:
            continue
        own = _mapping(root.get("services"))
        _include(project, cfile, root.get("include"), environ, read, exists, seen, set(own.keys()) if own else set())
        name = cfile.value(root.get("name"))
        project.name = name or project.name
        if own is not None:
            for sname, entry in own.entries().items():
                _merge_service(project, cfile, sname, entry.value)
        volumes = _mapping(root.get("volumes"))
        if volumes is not None:
            for vname, entry in volumes.entries().items():
                _merge_top_volume(project, cfile, vname, entry)
    return project


def _read(path: str) -> SourceText:
    from aicache_lint.files import read_bytes

    return SourceText.decode(read_bytes(path), path=path)


def _dotenv(path: str, read: Callable[[str], SourceText]) -> dict[str, str]:
    try:
        return parse_dotenv(read(path).text)
    except (OSError, SourceError):
        return {}


def _mapping(node: Node | None) -> Mapping | None:
    node = node.target if node is not None else None
    return node if isinstance(node, Mapping) else None


def _items(node: Node | None) -> list[Node]:
    node = node.target if node is not None else None
    if isinstance(node, Sequence):
        return [i.target for i in node.items]
    return [node] if node is not None and not (isinstance(node, Scalar) and node.is_null) else []


# -- include ----------------------------------------------------------------------------------

def _include(project: Project, cfile: ComposeFile, node: Node | None, environ, read, exists,
             seen: frozenset[str], own_services: set[str]) -> None:
    """`include:` (short paths or `{path, project_directory, env_file}`): each included project keeps
    its own directory; a service name clash is reported, never merged (CS `14-include.md`)."""
    for item in _items(node):
        if isinstance(item, Mapping):
            paths = [cfile.value(p) for p in _items(item.get("path"))]
            directory = cfile.value(item.get("project_directory"))
        else:
            paths, directory = [cfile.value(item)], None
        paths = [cfile.resolve(p) for p in paths if p]
        if not paths:
            continue
        if any(os.path.abspath(p) in seen for p in paths):
            project.problems.append(Problem(cfile.path, f"include cycle through {paths[0]}", item.span))
            continue
        missing = [p for p in paths if not exists(p)] if exists is not None else []
        if missing:
            project.problems.append(Problem(cfile.path, f"included file not found: {missing[0]}", item.span))
            continue
        sub = load_project(paths, environ, read, seen | {os.path.abspath(p) for p in paths},
                           cfile.resolve(directory) if directory else None, exists)
        project.files.extend(sub.files)
        project.problems.extend(sub.problems)
        for name, service in sub.services.items():
            if name in project.services or name in own_services:
                project.problems.append(Problem(
                    cfile.path, f"service '{name}' from {paths[0]} conflicts with one already defined", item.span))
            else:
                project.services[name] = service
        for name, volume in sub.volumes.items():
            project.volumes.setdefault(name, volume)


# -- services ---------------------------------------------------------------------------------

def _merge_service(project: Project, cfile: ComposeFile, name: str, node: Node) -> None:
    if node.is_reset:
        project.services.pop(name, None)
        return
    service = project.services.get(name)
    if service is None or node.is_override:
        service = project.services[name] = Service(name)
    mapping = _mapping(node)
    if mapping is None:
        return
    service.definitions.append((cfile, mapping))
    for key, entry in mapping.entries().items():
        value = entry.value
        handler = _FIELDS.get(key)
        if handler is None:
            continue
        if value.is_reset:
            _reset(service, key)
            continue
        if value.is_override:
            _reset(service, key)
        handler(service, cfile, value, entry.inherited)


def _reset(service: Service, key: str) -> None:
    fresh = Service(service.name)
    attr = {"image": ("image", "image_node"), "env_file": ("env_file",)}.get(key, (key,))
    for a in attr:
        setattr(service, a, getattr(fresh, a))


def _image(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    service.image, service.image_node = cfile.value(node), node


def _command(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    service.command = node  # replaced, never merged


def _entrypoint(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    service.entrypoint = node


def _profiles(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    for item in _items(node):
        value = cfile.value(item)
        if value and value not in service.profiles:
            service.profiles.append(value)


def _environment(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    service.environment.update(variables(cfile, node, inherited))


def _labels(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    service.labels.update(variables(cfile, node, inherited))


def variables(cfile: ComposeFile, node: Node, inherited: bool = False) -> dict[str, Variable]:
    """Entries of a map- or list-form `environment` (also `labels`, build `args`)."""
    found: dict[str, Variable] = {}
    node = node.target
    if isinstance(node, Mapping):
        for name, entry in node.entries().items():
            value = entry.value
            raw = value.text if isinstance(value, Scalar) else None
            found[name] = Variable(name, cfile.value(value) if raw is not None else None, raw, "map", value,
                                   entry.pair.key, cfile.path, inherited or entry.inherited)
    elif isinstance(node, Sequence):
        for item in node.items:
            item = item.target
            if not isinstance(item, Scalar) or item.is_null:
                continue
            name, sep, raw = item.value.partition("=")
            value = (interpolate(raw, cfile.env).value if "$" in raw else raw) if sep else None
            found[name] = Variable(name, value, raw if sep else None, "list", item, None, cfile.path, inherited)
    return found


def _env_file(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    for item in _items(node):
        required, fmt = True, None
        if isinstance(item, Mapping):
            raw = cfile.value(item.get("path"))
            required = (cfile.value(item.get("required")) or "true").lower() != "false"
            fmt = cfile.value(item.get("format"))
        else:
            raw = cfile.value(item)
        if not raw:
            continue
        path = cfile.resolve(raw)
        service.env_file = [e for e in service.env_file if e.path != path]  # a later file wins
        service.env_file.append(EnvFile(path, raw, required, fmt, item, cfile.path))


def _volumes(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    for item in _items(node):
        volume = parse_volume(cfile, item)
        if volume is None:
            continue
        for i, old in enumerate(service.volumes):
            if volume.target is not None and old.target == volume.target:
                service.volumes[i] = volume  # same target: the override replaces the base entry
                break
        else:
            service.volumes.append(volume)


def _build(service: Service, cfile: ComposeFile, node: Node, inherited: bool) -> None:
    old = service.build
    context = dockerfile = None
    args: dict[str, Variable] = dict(old.args) if old else {}
    inline = old.dockerfile_inline if old else False
    mapping = _mapping(node)
    if mapping is None:
        context = cfile.value(node)
    else:
        context = cfile.value(mapping.get("context"))
        dockerfile = cfile.value(mapping.get("dockerfile"))
        inline = inline or mapping.get("dockerfile_inline") is not None
        if mapping.get("args") is not None:
            args.update(variables(cfile, mapping.get("args")))
    if context is not None and not _is_url(context):
        context = cfile.resolve(context)
    context = context or (old.context if old else cfile.resolve("."))
    if dockerfile is not None:
        dockerfile = dockerfile if _is_url(context) else os.path.normpath(os.path.join(context, dockerfile))
    elif old is not None and old.dockerfile is not None:
        dockerfile = old.dockerfile
    elif not inline and not _is_url(context):
        dockerfile = os.path.join(context, "Dockerfile")
    service.build = Build(context, dockerfile, args, node, cfile.path, inline)


def _is_url(context: str) -> bool:
    return "://" in context or context.startswith("git@")


_FIELDS = {
    "image": _image, "build": _build, "environment": _environment, "labels": _labels,
    "env_file": _env_file, "volumes": _volumes, "command": _command, "entrypoint": _entrypoint,
    "profiles": _profiles,
}


# -- volumes ----------------------------------------------------------------------------------

def parse_volume(cfile: ComposeFile, node: Node) -> Volume | None:
    """A service `volumes` item in short (`SRC:TARGET[:MODE]`) or long (mapping) syntax."""
    node = node.target
    if isinstance(node, Mapping):
        vtype = (cfile.value(node.get("type")) or "volume").lower()
        source = cfile.value(node.get("source"))
        read_only = (cfile.value(node.get("read_only")) or "false").lower() == "true"
        host = _host_path(cfile, source) if vtype == "bind" and source else None
        raw = node.get("source")
        interpolated = isinstance(raw, Scalar) and "$" in raw.value
        return Volume(vtype, source, cfile.value(node.get("target")), read_only, "long", node, cfile.path, host,
                      interpolated=interpolated)
    if not isinstance(node, Scalar) or node.is_null:
        return None
    spec = cfile.value(node)
    known = spec is not None
    source, target, mode = split_short_volume(spec if known else node.value)
    if not source:
        vtype = "volume"  # anonymous
    elif source[0] in "./~" or re.match(r"[A-Za-z]:[\\/]|\\\\", source):
        vtype = "bind"
    else:
        vtype = "volume"
    read_only = bool(mode) and "ro" in mode.split(",")
    host = _host_path(cfile, source) if vtype == "bind" and source else None
    interpolated = "$" in (split_short_volume(node.value)[0] or "")
    return Volume(vtype, source, target, read_only, "short", node, cfile.path, host, mode, known, interpolated)


def split_short_volume(spec: str) -> tuple[str | None, str | None, str | None]:
    """(source, target, mode) of `SRC:TARGET[:MODE]` or a bare `TARGET`; Windows drives kept whole."""
    parts: list[str] = []
    buf = ""
    for ch in spec:
        if ch == ":" and not (len(buf) == 1 and buf.isalpha()):  # `C:\data` is one part
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    if len(parts) == 1:
        return None, parts[0], None
    return parts[0], parts[1], ":".join(parts[2:]) or None


def _host_path(cfile: ComposeFile, source: str) -> str:
    if source.startswith("~") or os.path.isabs(source) or re.match(r"[A-Za-z]:[\\/]", source):
        return source  # `~` is the user's home when Compose runs: left as written
    return cfile.resolve(source)


# -- top-level volumes ------------------------------------------------------------------------

# A key of the top-level `volumes:` as the Compose schema accepts it (compose-spec `schema/compose-spec.json`,
# `volumes.patternProperties`). A short-syntax source that is not a path (compose-go `format/volume.go`,
# `isFilePath`: not starting with `.`, `/`, `~`, a drive letter or `\\`) is a volume name, so
# `tools/models:/m` names a volume that can never be declared.
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9._-]+")


def is_volume_name(name: str) -> bool:
    """Whether ``name`` can be declared under the top-level `volumes:` and names that volume as a
    short-syntax source (`.models` would be a host path)."""
    return bool(_VOLUME_NAME.fullmatch(name)) and not name.startswith(".")


def _merge_top_volume(project: Project, cfile: ComposeFile, name: str, entry) -> None:
    node = entry.value
    old = project.volumes.get(name)
    if node.is_reset:
        project.volumes.pop(name, None)
        return
    external = old.external if old and not node.is_override else False
    explicit = old.explicit_name if old and not node.is_override else None
    mapping = _mapping(node)
    if mapping is not None:
        ext = mapping.get("external")
        if isinstance(ext, Mapping):  # legacy `external: {name: x}`
            external, explicit = True, cfile.value(ext.get("name")) or explicit
        elif ext is not None:
            external = (cfile.value(ext) or "false").lower() == "true"
        explicit = cfile.value(mapping.get("name")) or explicit
    project.volumes[name] = TopVolume(name, external, explicit, node, entry.pair.key, cfile.path)
