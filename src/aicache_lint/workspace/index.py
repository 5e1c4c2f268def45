"""The project index: every build input of one run, read once and parsed lazily.

A ``Workspace`` is the only reader of files for rules and links (DESIGN §5a). It knows the
repository root, answers "what is in this file" from the fix plan's in-memory texts first and the
disk second, parses each Dockerfile, Compose project and CI file at most once per text, and
records which files each check consulted, so the fix plan knows whom a change concerns.

Which build inputs belong to the project: the files the run was given, and the well-known places
where a build is declared -- Compose and Bake files in a linted file's directory and the ones above
it up to the repository root (the nearest directory with `.git`, else at most ``MAX_LEVELS`` up),
`.github/workflows/*.y(a)ml`, `.gitlab-ci.yml` and Bake files at the root. A one-file run lists
those few directories and parses nothing until a rule asks.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable

from aicache_lint.source import SourceError, SourceText

if TYPE_CHECKING:
    from aicache_lint.buildfiles import BuildFile
    from aicache_lint.compose.project import Project, Service
    from aicache_lint.dockerfile.facts import Facts
    from aicache_lint.dockerfile.model import Dockerfile, Instruction
    from aicache_lint.dockerfile.shell import Invocation as ShellInvocation
    from aicache_lint.knowledge.base_images import ImageFacts
    from aicache_lint.knowledge.requirements import Requested
    from aicache_lint.workspace.images import ImageGraph
    from aicache_lint.workspace.invocations import Invocation
    from aicache_lint.python.read import PythonFacts
    from aicache_lint.workspace.python_code import Code
    from aicache_lint.workspace.runtime import LinkedImage

BUILDS = "<builds>"  # read by whoever asks for the project's builds (see Workspace.cached)
BUILD_FILES = "<build-files>"  # read by whoever asks which files declare builds (they depend on the run's paths)
LISTED, PROBED = "ls:", "is:"  # recorded with a path: its names were listed, whether it is a file was asked
_NOT_FILES = (LISTED, PROBED)
MAX_LEVELS = 4  # without a `.git`, Compose files this far above a Dockerfile are still looked for
_BAKE_NAMES = ("docker-bake.json", "docker-bake.override.json", "docker-bake.hcl", "docker-bake.override.hcl")
_DECLARES_BUILDS = frozenset({"compose", "workflow", "gitlab", "bake"})  # file kinds whose files declare builds


def repository_root(path: str) -> str | None:
    """The nearest directory at or above ``path`` holding `.git`, or None."""
    directory = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


class Workspace:
    """One run's view of the project. ``paths``: the files the run lints (discovered or named);
    ``resolver``: registry look-ups (``--resolve-images``), or None."""

    def __init__(self, paths: Iterable[str] = (), resolver: Any = None, root: str | None = None) -> None:
        self.paths = [os.path.normpath(p) for p in paths]
        self.resolver = resolver
        first = self.paths[0] if self.paths else "."
        # Paths the workspace finds itself are spelt like the run's (relative to the working
        # directory, or absolute), so a file has one name whoever reaches it.
        self._relative = not os.path.isabs(first)
        self.root = root if root is not None else repository_root(first)
        self._overlay: dict[str, SourceText] = {}  # abs path -> text the fix plan holds
        self._disk: dict[str, SourceText | None] = {}  # abs path -> text read (None: unreadable)
        self._derived: dict[tuple, tuple[Any, frozenset[str]]] = {}  # key -> (value, files read to build it)
        self._dependents: dict[str, set[tuple]] = {}  # file -> keys of the values built from it
        self._recording: list[set[str]] = []
        self._notices: dict[str, None] = {}  # ordered set
        self._graph: ImageGraph | None = None
        self._listings: dict[str, list[str] | None] = {}  # directory -> its names (see listdir)
        self._changed: set[str] = set()  # see take_changes
        self._spelt: dict[str, str] = {}  # path -> as the run names it (asked for every import of the code)

    @property
    def spelling(self) -> tuple[bool, str | None]:
        """Whether paths are named relative to the working directory, and the repository root:
        what the names of other files in messages depend on."""
        return self._relative, self.root

    # -- files ----------------------------------------------------------------------------------

    def source(self, path: str) -> SourceText | None:
        """The text of ``path``: the fix plan's current text, else the file on disk (read once);
        None when it cannot be read or decoded."""
        key = os.path.abspath(path)
        self._record(key)
        if key in self._overlay:
            return self._overlay[key]
        if key not in self._disk:
            self._disk[key], problem = _read(path)
            if problem:
                self.notice(f"{self.spelt(path)}: cannot be read: {problem}")
        return self._disk[key]

    def text(self, path: str) -> str | None:
        source = self.source(path)
        return source.text if source is not None else None

    def is_file(self, path: str) -> bool:
        key = os.path.abspath(path)
        self._record(PROBED + key)
        return key in self._overlay or os.path.isfile(path)

    def listdir(self, path: str) -> list[str] | None:
        """The names in directory ``path``, sorted (None: not a directory), listed once per run:
        fixes never add or remove files."""
        self._record(LISTED + os.path.abspath(path))
        if path not in self._listings:
            try:
                self._listings[path] = sorted(os.listdir(path))
            except OSError:
                self._listings[path] = None
        return self._listings[path]

    def remember(self, path: str, source: SourceText) -> None:
        """``source`` is the text of ``path`` as read (a file the run was given, standard input)."""
        key = os.path.abspath(path)
        before = self._disk.get(key)
        if key not in self._overlay and before is not source:
            self._disk[key] = source
            if before is not None and (before.text != source.text or before.bom != source.bom):
                self._forget(key)  # it changed since it was read: what rests on it is rebuilt

    def update(self, path: str, source: SourceText) -> None:
        """The fix plan changed ``path``: later questions see the new text. The same text read
        again (each linted file is read once more to be checked) changes nothing: forgetting what
        rests on it would rebuild the project's builds once per file -- quadratic in a repository
        with many workflows."""
        key = os.path.abspath(path)
        before = self._overlay.get(key) or self._disk.get(key)
        self._overlay[key] = source
        if before is None or before.text != source.text or before.bom != source.bom:
            self._forget(key)

    def _forget(self, key: str) -> None:
        """Drop what was built from the file ``key`` (a parse, a project, a base image's facts):
        each value knows the files it read, so the rest stays (a fix plan over many files would
        otherwise parse everything again after every change). The project's builds are read
        again at once: only when they differ does what rests on them go too (a Compose fix that
        adds a volume changes no build, and every Dockerfile would be checked again for nothing)."""
        before = self._derived.get(("invocations",))
        for dependent in self._dependents.pop(key, ()):
            self._derived.pop(dependent, None)
        if self._graph is not None:
            self._graph.forget()
        if before is not None and ("invocations",) not in self._derived:
            if _signature(self.invocations()) != _signature(before[0]):
                self._changed.add(BUILDS)
                self._forget(BUILDS)

    def release(self, path: str) -> None:
        """A lint run is done with the Dockerfile ``path``: when the project declares no builds, or
        its builds are known and none builds it (so no other image starts from it), drop its text
        and what was built from it, so memory does not grow with the files linted. Whatever asks
        again reads it again."""
        builds = self._derived.get(("builds-by-dockerfile",))
        if builds is None:
            if self.build_files():
                return  # builds are declared, but no check asked for them yet: a later one may
        elif os.path.realpath(path) in builds[0]:
            return
        key = os.path.abspath(path)
        for dependent in self._dependents.pop(key, ()):
            dropped = self._derived.pop(dependent, None)
            for read in dropped[1] if dropped is not None else ():  # nor do the other files it read keep it
                self._dependents.get(read, set()).discard(dependent)
        self._disk.pop(key, None)

    def take_changes(self) -> set[str]:
        """Besides files, what changed since the last call (``BUILDS``: the project's builds)."""
        changed, self._changed = self._changed, set()
        return changed

    def _record(self, read: str) -> None:
        for reads in self._recording:
            reads.add(read)

    @contextmanager
    def recording(self) -> Iterator[set[str]]:
        """Collect what is read inside the block: files (absolute paths), and -- for the result
        cache -- directory listings (``LISTED`` + path), file probes (``PROBED`` + path) and
        ``BUILDS``/``BUILD_FILES``, which ``dependencies`` unfolds."""
        reads: set[str] = set()
        self._recording.append(reads)
        try:
            yield reads
        finally:
            self._recording.pop()  # recordings nest: this one is the last

    def dependencies(self, reads: set[str]) -> set[str]:
        """``reads`` (a ``recording``) with ``BUILDS`` unfolded into what reading the project's
        builds read: everything a result rests on, for the result cache."""
        if BUILDS not in reads:
            return set(reads)
        built = self._derived.get(("invocations",))
        return (reads - {BUILDS}) | (built[1] if built is not None else set())

    def notice(self, message: str) -> None:
        """A link that could not be resolved (said once per run)."""
        self._notices.setdefault(message, None)

    @property
    def notices(self) -> list[str]:
        return list(self._notices)

    # -- parsed files, each at most once per text ------------------------------------------------

    def cached(self, key: tuple, build: Callable[[], Any], stands_for: str | None = None) -> Any:
        """``build()`` once until a file it read changes; a check that reuses the value is
        recorded as reading the files that building it read -- or, with ``stands_for``, as
        reading that one name (the value then changes only when ``_forget`` says so)."""
        hit = self._derived.get(key)
        if hit is None:
            outer, self._recording = self._recording, [] if stands_for else self._recording
            try:
                with self.recording() as reads:
                    value = build()
            finally:
                self._recording = outer
            hit = self._derived[key] = (value, frozenset(reads))
            for path in reads:
                if path[:3] not in _NOT_FILES:  # listings and probes: a run never adds or removes files
                    self._dependents.setdefault(path, set()).add(key)
        for active in self._recording:
            active.update((stands_for,) if stands_for else hit[1])
        return hit[0]

    def dockerfile(self, path: str, args: tuple[tuple[str, str], ...] = ()) -> tuple["Dockerfile", "Facts"] | None:
        """The parsed Dockerfile and its facts under ``args`` (None: unreadable or unparsable)."""

        def build():
            from aicache_lint.dockerfile.facts import Facts
            from aicache_lint.dockerfile.lexer import parse

            if args:  # the same text under other build args: parsed once
                plain = self.dockerfile(path)
                return None if plain is None else (plain[0], Facts(plain[0], dict(args), self.base_facts))
            source = self.source(path)
            if source is None:
                return None
            doc = parse(source)
            if doc.errors:
                return None
            return doc, Facts(doc, {}, self.base_facts)

        return self.cached(("dockerfile", os.path.abspath(path), args), build)

    def linted_dockerfile(self, path: str) -> tuple["Dockerfile", "Facts"] | None:
        """The Dockerfile as its check reads it: with the build args its builds agree on when it
        declares ARGs (only then are the project's builds looked at); None: unreadable or unparsable."""
        plain = self.dockerfile(path)
        args = self.lint_args(path, plain[0]) if plain is not None else {}
        return self.dockerfile(path, tuple(sorted(args.items()))) if args else plain

    def lint_args(self, path: str, doc: "Dockerfile") -> dict[str, str]:
        """The build args a Dockerfile is checked with: those its builds agree on, when it declares
        ARGs (only then are the project's builds looked at)."""
        return self.build_args(path) if any(i.keyword == "ARG" for i in doc.instructions) else {}

    def build_file(self, path: str) -> "BuildFile | None":
        """A workflow, GitLab, Bake or daemon file parsed once per text (``buildfiles.parse``);
        None when it cannot be read or is no such file."""

        def build():
            from aicache_lint import buildfiles
            from aicache_lint.discovery import file_kind

            source = self.source(path)
            kind = file_kind(path)
            if source is None or kind in ("dockerfile", "compose"):
                return None
            return buildfiles.parse(source, kind)

        return self.cached(("build-file", os.path.abspath(path)), build)

    def build_args(self, dockerfile: str) -> dict[str, str]:
        """The build args every build of ``dockerfile`` gives the same value (what the file is
        linted with; a value builds disagree on stays the ARG default)."""
        invocations = self.invocations_of(dockerfile)
        if not invocations or self._maybe_built_unseen(dockerfile):
            return {}
        common = dict(invocations[0].args)
        for inv in invocations[1:]:
            given = dict(inv.args)
            common = {k: v for k, v in common.items() if given.get(k) == v}
        return common

    def _maybe_built_unseen(self, dockerfile: str) -> bool:
        """Whether a build whose Dockerfile is not known (`file: ${{ matrix.dockerfile }}`) may
        build ``dockerfile``: its context holds it. Its build args are then not known either."""
        here = os.path.realpath(dockerfile)
        return any(inv.dockerfile is None and inv.context is not None
                   and os.path.commonpath([os.path.realpath(inv.context), here]) == os.path.realpath(inv.context)
                   for inv in self.invocations())

    def compose_project(self, files: tuple[str, ...]) -> "Project":
        """The merged Compose project of ``files`` (base first); its services link to the images
        they build through this workspace."""

        def build():
            from aicache_lint.compose.project import load_project

            project = load_project(list(files), read=self._read_compose, exists=self.is_file)
            for service in project.services.values():
                service.workspace = self
            return project

        return self.cached(("compose", files), build)  # by name as given: paths in findings keep it

    def _read_compose(self, path: str) -> SourceText:
        source = self.source(path)
        if source is None:
            raise OSError(f"cannot read {path}")
        return source

    def companion_files(self, path: str) -> tuple[str, ...]:
        from aicache_lint.compose.project import companion_files

        return tuple(companion_files(path, self.is_file))

    # -- build inputs ---------------------------------------------------------------------------

    def compose_files_near(self, path: str) -> list[tuple[str, ...]]:
        """The Compose projects declared in ``path``'s directory and those above it (up to the
        root): `compose.yaml` with its override as Compose loads them, each variant on its own."""
        projects: list[tuple[str, ...]] = []
        for directory in self.directories_up(path):
            projects += self._compose_files_in(directory)
        return projects

    def _compose_files_in(self, directory: str) -> list[tuple[str, ...]]:
        """The Compose projects of one directory (listed once per run)."""
        return self.cached(("compose-files-in", directory), lambda: self._find_compose_files(directory))

    def _find_compose_files(self, directory: str) -> list[tuple[str, ...]]:
        from aicache_lint.discovery import is_compose_name

        names = [n for n in (self.listdir(directory) or ()) if is_compose_name(n)]
        found = []
        if names:
            from aicache_lint.compose.project import MAIN_NAMES, OVERRIDE_NAMES

            together = {self.companion_files(os.path.normpath(os.path.join(directory, n))) for n in names
                        if n in MAIN_NAMES + OVERRIDE_NAMES}
            alone = {(os.path.normpath(os.path.join(directory, n)),) for n in names if n not in MAIN_NAMES + OVERRIDE_NAMES}
            found = sorted(together | alone)
        return found

    def spelt(self, path: str) -> str:
        """``path`` named the way the run names files (see ``_relative``)."""
        found = self._spelt.get(path)
        if found is None:
            found = self._spelt[path] = os.path.relpath(path) if self._relative else os.path.abspath(path)
        return found

    def directories_up(self, path: str) -> list[str]:
        directory = os.path.dirname(os.path.abspath(path))
        root = self.root
        found = []
        for _ in range(64 if root else MAX_LEVELS):
            found.append(self.spelt(directory))
            parent = os.path.dirname(directory)
            if parent == directory or directory == root or (root is None and os.path.exists(os.path.join(directory, ".git"))):
                break
            directory = parent
        return found

    def build_files_of(self, kind: str) -> list[str]:
        """The build files of one kind (``discovery.file_kind``), worked out once per run."""
        def build() -> dict[str, list[str]]:
            from aicache_lint.discovery import file_kind

            by_kind: dict[str, list[str]] = {}
            for path in self.build_files():
                by_kind.setdefault(file_kind(path), []).append(path)
            return by_kind

        return self.cached(("build-files-by-kind",), build).get(kind, [])

    def build_files(self) -> list[str]:
        """Every file of the project that declares builds: Compose files (given or near a given
        file), workflows and local composite actions, GitLab CI and Bake files at the root, and
        any of these given to the run (a workflow of a folder linted on its own)."""
        # Recorded as one name: the list depends on the run's paths, so the result cache compares
        # the list itself, not the many directories listed to make it.
        return self.cached(("build-files",), self._find_build_files, stands_for=BUILD_FILES)

    def _find_build_files(self) -> list[str]:
        from aicache_lint.discovery import file_kind

        found: dict[str, None] = {}
        given = [path for path in self.paths if file_kind(path) in _DECLARES_BUILDS]
        found.update(dict.fromkeys(path for path in self.paths if file_kind(path) == "compose"))
        # each directory once: 400 Dockerfiles side by side share one parent
        for directory in dict.fromkeys(d for path in self.paths for d in self.directories_up(path)):
            for files in self._compose_files_in(directory):
                found.update(dict.fromkeys(files))
            names = self.listdir(directory) or ()
            found.update(dict.fromkeys(os.path.normpath(os.path.join(directory, n)) for n in _BAKE_NAMES
                                       if n in names and self.is_file(os.path.join(directory, n))))
        root = self.spelt(self.root or (os.path.dirname(os.path.abspath(self.paths[0])) if self.paths else "."))
        for name in self.listdir(os.path.join(root, ".github", "workflows")) or ():
            if name.endswith((".yml", ".yaml")):
                found.setdefault(os.path.normpath(os.path.join(root, ".github", "workflows", name)), None)
        for name in (".gitlab-ci.yml", *_BAKE_NAMES):
            if name in (self.listdir(root) or ()):
                found.setdefault(os.path.normpath(os.path.join(root, name)), None)
        known = {os.path.abspath(p) for p in found}
        return list(found) + [p for p in given if os.path.abspath(p) not in known]


    def invocations(self) -> list["Invocation"]:
        """Every planned build the project declares."""
        from aicache_lint.workspace.invocations import collect

        return self.cached(("invocations",), lambda: collect(self), stands_for=BUILDS)

    def invocations_of(self, dockerfile: str) -> list["Invocation"]:
        """The builds of ``dockerfile`` (compared by real path)."""
        if not self.build_files():  # the one-file case with nothing that declares builds
            return []
        return self.cached(("builds-by-dockerfile",), self._builds_by_dockerfile).get(os.path.realpath(dockerfile), [])

    def _builds_by_dockerfile(self) -> dict[str, list["Invocation"]]:
        found: dict[str, list[Invocation]] = {}
        for inv in self.invocations():
            if inv.dockerfile:
                found.setdefault(os.path.realpath(inv.dockerfile), []).append(inv)
        return found

    def services_building(self, dockerfile: str) -> list[tuple[str, "Service"]]:
        """(Compose file, service) for every service whose `build:` names ``dockerfile``."""
        target = os.path.realpath(dockerfile)
        found = []
        for files in self.compose_files_near(dockerfile):
            found += [(files[0], s) for s in self._services_by_dockerfile(files).get(target, [])]
        return found

    def _services_by_dockerfile(self, files: tuple[str, ...]) -> dict[str, list["Service"]]:
        def build() -> dict[str, list[Service]]:
            found: dict[str, list[Service]] = {}
            for service in self.compose_project(files).services.values():
                b = service.build
                if b and b.dockerfile and not b.dockerfile_inline:
                    found.setdefault(os.path.realpath(b.dockerfile), []).append(service)
            return found

        return self.cached(("services-by-dockerfile", files), build)

    def build_context(self, dockerfile: str) -> str | None:
        """The build context of ``dockerfile``: the one its builds agree on, else (built by no
        one) its own directory, as `docker build .` next to it would use; None when builds
        disagree or use a remote context."""
        invocations = self.invocations_of(dockerfile)
        if not invocations:
            return os.path.dirname(dockerfile) or "."
        contexts = {inv.context for inv in invocations}
        if None in contexts or any("://" in c or c.startswith("git@") for c in contexts):
            return contexts.pop() if len(contexts) == 1 and None not in contexts else None
        # `context: .` of a workflow and the absolute path Compose resolves may name one directory
        return min(contexts, key=len) if len({os.path.realpath(c) for c in contexts}) == 1 else None

    def requested_packages(self, dockerfile: str, facts: "Facts", instr: "Instruction",
                           inv: "ShellInvocation") -> list["Requested"]:
        """The packages one install of a RUN asks for: named on its command line, or in the
        build-context files it reads (`-r requirements.txt`, `.`, `uv sync`, `conda env create`)."""
        from aicache_lint.knowledge.requirements import Requested, may_name_files, requested_requirements, specifier

        found = [Requested(name, inv.args[index], None, spec) for name, spec, index in requested_requirements(inv)]
        if not may_name_files(inv):  # the common `pip install torch`: nothing to map (and nothing to import)
            return found
        from aicache_lint.workspace.build_context import (
            context_installs,
            reads_context_files,
        )

        if not reads_context_files(facts, instr, inv):
            return found

        def build() -> tuple["ShellInvocation", list[Requested]]:
            self._record(os.path.abspath(dockerfile))  # it rests on the Dockerfile's text (``facts``)
            context = self.build_context(dockerfile)
            if context is None:
                return inv, []
            # The installs' own problems (a file not in the context) are not said: a file an earlier
            # RUN writes (`git clone`, a generated lock) is as likely as a mistake.
            here = os.path.dirname(dockerfile) or "."  # named as the Dockerfile's own COPY lines would
            out = []
            for install in context_installs(facts, instr, inv, context, self.text, self.listdir):
                word = next((w for w in inv.args if w.value.rstrip("/").endswith(posixpath.basename(install.image_path))), None)
                out += [Requested(r.name, word, f"{os.path.relpath(r.path, here)}:{r.line}", specifier(r.spec))
                        for r in install.depfile.packages]
            return inv, out

        # Once per install: every rule about packages asks. The value holds ``inv``, so its id
        # names no other invocation while the entry lives.
        return found + self.cached(("requested", dockerfile, facts, id(instr), id(inv)), build)[1]

    # -- images ---------------------------------------------------------------------------------

    @property
    def graph(self) -> "ImageGraph":
        if self._graph is None:
            from aicache_lint.workspace.images import ImageGraph

            self._graph = ImageGraph(self)
        return self._graph

    def base_facts(self, reference: str) -> "ImageFacts | None":
        """What a `FROM reference` inherits: an image built here, else (with `--resolve-images`)
        the registry's image config; None leaves it to the known-image table or unknown."""
        from aicache_lint.knowledge.base_images import known_image

        if known_image(reference) is not None:
            return None  # a known image: the table answers (and no build file need be read)
        return self.graph.base_facts(reference)

    # -- code -------------------------------------------------------------------------------------

    def python_facts(self, path: str) -> "PythonFacts | None":
        """What a Python file imports, sets and loads (None: unreadable or not valid Python)."""

        from aicache_lint.discovery import file_kind

        if file_kind(path) == "python":  # one parse for the check of the file and for the code that runs it
            parsed = self.build_file(path)
            return parsed.data if parsed is not None else None

        def build():  # a script without `.py` (`#!/usr/bin/env python3`)
            from aicache_lint.python.read import read

            text = self.text(path)
            return read(text) if text is not None else None

        return self.cached(("python", os.path.abspath(path)), build)

    def image_code(self, dockerfile: str, target: str | None = None) -> "Code":
        """The Python code the image of ``dockerfile`` (its ``target`` stage, else the final one) runs
        (``workspace/python_code.py``), read with the build args its builds agree on."""

        def build():
            from aicache_lint.workspace.python_code import EMPTY, stage_code

            parsed = self.linted_dockerfile(dockerfile)
            if parsed is None:
                return EMPTY
            facts = parsed[1]
            stage = facts.target_stage(target)
            if stage is None:
                return EMPTY
            return stage_code(self, dockerfile, facts, stage, self.build_context(dockerfile))

        return self.cached(("image-code", os.path.abspath(dockerfile), target), build)

    def service_code(self, service: "Service") -> "Code":
        """The Python code a Compose service runs (``workspace/python_code.py``)."""
        from aicache_lint.workspace.python_code import service_code

        files = tuple(cfile.path for cfile, _ in service.definitions)

        def build() -> "Code":
            for path in files:  # the service's command, mounts and environment are written there
                self.source(path)
            return service_code(self, service)

        return self.cached(("service-code", files, service.name), build)

    def own_clone(self, url: str) -> str | None:
        """The repository root when ``url`` is one of its own remotes (`.git/config`): a command that
        clones it runs this repository's files. None otherwise."""
        from aicache_lint.workspace.python_code import same_repository

        if self.root is None:
            return None

        def build() -> tuple[str, ...]:
            import re

            config = self.text(os.path.join(self.root, ".git", "config")) or ""
            return tuple(re.findall(r"(?m)^\s*url\s*=\s*(\S+)", config))

        remotes = self.cached(("remotes",), build)
        return self.root if any(same_repository(url, r) for r in remotes) else None

    def linked_image(self, service: "Service") -> "LinkedImage | None":
        """What the Dockerfile a service builds says about the image it runs (None: not built here,
        or its Dockerfile cannot be read)."""
        from aicache_lint.workspace.runtime import linked_image

        return linked_image(self, service)


def _signature(invocations: list["Invocation"]) -> list[tuple]:
    """What of the builds a check can depend on (where they are declared moves with every fix)."""
    return [inv[1:] for inv in invocations]


def _read(path: str) -> tuple[SourceText | None, str | None]:
    """The text of ``path``, or None and why a file that is there cannot be read (a missing file
    needs no word: looking for one is how the workspace finds out)."""
    from aicache_lint.files import read_bytes

    try:
        return SourceText.decode(read_bytes(path), path=path), None
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, exc.strerror or str(exc)
    except SourceError as exc:
        return None, str(exc)
