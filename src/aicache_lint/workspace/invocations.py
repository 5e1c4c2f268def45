"""One record per planned build: who builds which Dockerfile, with which context, target, build
args and image names (DESIGN §5a). The parsers in ``compose/`` and ``ci/`` produce them; the
workspace joins them to Dockerfiles and images."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.project import Project
    from aicache_lint.workspace.index import Workspace


class Origin(NamedTuple):
    """Where an invocation is declared."""

    kind: str  # "compose" | "workflow" | "gitlab" | "bake" | "command"
    path: str  # the declaring file, as the index names it
    line: int  # 1-based line of the declaration (the service key, the step, the target block)
    name: str  # service `web`, workflow `job / step name`, bake target `app`

    def describe(self) -> str:
        what = {"compose": "service", "workflow": "workflow step", "gitlab": "GitLab job",
                "bake": "bake target", "command": "command"}.get(self.kind, self.kind)
        return f"{what} `{self.name}` ({self.path}:{self.line})"


class Invocation(NamedTuple):
    """A build of one Dockerfile."""

    origin: Origin
    dockerfile: str | None  # normalised path; None when it cannot be known (inline, remote context)
    context: str | None  # normalised path of the build context; None when remote or unknown
    target: str | None = None  # the stage built (None: the last one)
    args: tuple[tuple[str, str], ...] = ()  # build args whose values are known, sorted by name
    tags: tuple[str, ...] = ()  # image names the build produces, fully resolved
    # What could not be known, each a short phrase for `aicache-lint graph` (e.g. "tag
    # `${{ matrix.image }}` comes from a matrix"); such parts are left out of the fields above.
    unresolved: tuple[str, ...] = ()
    # The build's cache import and export (`--cache-from`/`--cache-to`, the action inputs, the
    # Bake attributes, Compose `cache_from`/`cache_to`), as written when a variable hides a value.
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()


def collect(ws: "Workspace") -> list[Invocation]:
    """Every build the project's build files declare, in file order."""
    found: list[Invocation] = []
    seen_projects: set[tuple[str, ...]] = set()
    compose = set(ws.build_files_of("compose"))
    for path in ws.build_files():
        if path in compose:
            files = ws.companion_files(path)
            if files in seen_projects:
                continue
            seen_projects.add(files)
            found += ws.cached(("compose-invocations", files), lambda: compose_invocations(ws.compose_project(files)))
            continue
        # Each file's builds are kept on their own: a fix of one workflow reads that one again,
        # not every build file of the project.
        declared, problems = _declared_cached(ws, path)
        found += declared
        for problem in problems:
            ws.notice(problem)
    return found


def declared_in(ws: "Workspace", path: str) -> list[Invocation]:
    """The builds a workflow, GitLab or Bake file declares, read from that file (and what it
    reads) alone: a question about one workflow's steps does not rest on every build file."""
    return _declared_cached(ws, path)[0]


def _declared_cached(ws: "Workspace", path: str) -> tuple[list[Invocation], list[str]]:
    import os

    return ws.cached(("file-invocations", os.path.abspath(path)), lambda: _declared(ws, path))


def _declared(ws: "Workspace", path: str) -> tuple[list[Invocation], list[str]]:
    import os

    text = ws.text(path)
    if text is None:
        return [], []
    from aicache_lint import ci

    return ci.invocations(path, text, ws.text, ws.root or os.path.dirname(path))


def compose_invocations(project: "Project") -> list[Invocation]:
    """The builds a Compose project declares: one per service with `build:`. The image is named
    by `image:`, else `<project>-<service>` as Compose names it."""
    from aicache_lint.workspace.runtime import build_target

    found = []
    for service in project.services.values():
        build = service.build
        if build is None:
            continue
        cfile, mapping = service.definitions[-1]
        line = cfile.doc.source.line_of(mapping.span.start)
        origin = Origin("compose", cfile.path, line, service.name)
        remote = build.context is not None and ("://" in build.context or build.context.startswith("git@"))
        unresolved = []
        if build.dockerfile_inline:
            unresolved.append("`dockerfile_inline`: no Dockerfile in the repository")
        if remote:
            unresolved.append(f"remote build context `{build.context}`")
        args = tuple(sorted((n, v.value) for n, v in build.args.items() if v.value is not None))
        unresolved += [f"build arg `{n}` comes from the shell" for n, v in build.args.items() if v.value is None]
        if service.image:
            tags: tuple[str, ...] = (service.image,)
        elif project.name or cfile.project_dir:
            import os

            name = (project.name or os.path.basename(cfile.project_dir)).lower()
            tags = (f"{name}-{service.name}",)
        else:
            tags = ()
        usable = not (build.dockerfile_inline or remote)
        found.append(Invocation(
            origin, build.dockerfile if usable else None, build.context if usable else None,
            build_target(service), args, tags, tuple(unresolved), _items(build.node, "cache_from"),
            _items(build.node, "cache_to")))
    return found


def _items(build, key: str) -> tuple[str, ...]:
    """The strings of a Compose `build:` list such as `cache_from` (empty for the short form)."""
    from aicache_lint.compose.model import Mapping, Scalar, Sequence

    node = build.target.get(key) if isinstance(build.target, Mapping) else None
    node = node.target if node is not None else None
    items = node.items if isinstance(node, Sequence) else []
    return tuple(item.target.value for item in items if isinstance(item.target, Scalar) and item.target.value)
