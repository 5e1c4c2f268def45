"""Which build-context files an install in a RUN reads, and the packages they ask for.

An install names files in the image (`pip install -r requirements.txt` in `WORKDIR /app` reads
`/app/requirements.txt`). The file got there from the build context through the last `COPY`/`ADD`
of the stage chain whose destination holds it (or a `RUN --mount=type=bind` of the RUN itself),
and that source is the file read here. BuildKit semantics (Dockerfile reference, COPY and
RUN --mount): sources are relative to the context root (`/` and `..` cannot leave it); a
destination is relative to the WORKDIR; a file copied to a destination ending in `/` (or that
is a directory) keeps its name, else it is written at the destination; a directory source
copies its contents; a bind mount's source defaults to the context root.

Whatever cannot be known makes the file *unknown*, and unknown files are left out (never guessed):
a destination or source with a variable that has no value, `COPY --from` (another stage or
context), `--parents`, a heredoc `COPY`, an `ADD` of a URL or an archive, a wildcard the
``listdir`` callback cannot list, a file from the base image, and a RUN between the copy and the
install (or an earlier command of the same RUN) that names the file as something other than an
input (`sed -i`, `>>`, `mv`, `pip-compile -o`). Files inside the image that the install's files
include (`-r base.txt`) are found the same way. `.dockerignore` is the ``read`` callback's
business: a file it excludes should read as missing.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.dockerfile.shell import PYTHON

if TYPE_CHECKING:
    from aicache_lint.deps import DepFile, Read, Selection
    from aicache_lint.dockerfile.facts import Facts, Stage, State
    from aicache_lint.dockerfile.model import Instruction
    from aicache_lint.dockerfile.shell import Invocation, Word

ListDir = Callable[[str], "list[str] | None"]  # a directory's entry names; None: not a directory


class ContextInstall(NamedTuple):
    """One build-context file (or project directory) an install reads."""

    kind: str  # "requirements", "constraints", "project" (pyproject.toml/setup.cfg), "uv.lock", "poetry.lock",
    #            "environment" (conda)
    image_path: str  # what the install names, absolute in the image (the directory for "project")
    context_path: str  # the same file or directory as ``read`` names it (the context joined with the source)
    depfile: DepFile  # paths in it are named as ``read`` names them too


class _Wanted(NamedTuple):
    kind: str
    path: str  # absolute in the image
    tool: str = "pip"  # for "project": pip, uv or poetry
    selection: "Selection | None" = None


_UNKNOWN = None
_NOT_HERE = ""  # an instruction that does not write the path: keep looking further up
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")
# Programs that only read or inspect the files they name (the installers read their manifests).
_READERS = frozenset({"pip", "uv", "conda", "mamba", "micromamba", "poetry", "cat", "grep", "head", "tail",
                      "wc", "ls", "test", "[", "[[", "stat", "diff", "md5sum", "sha256sum", "sha1sum", "chmod",
                      "chown", "chgrp", "echo", "printf", "file"})
_OUTPUT_OPTIONS = frozenset({"-o", "--output-file", "--output"})


def context_installs(facts: "Facts", instr: "Instruction", inv: "Invocation", context: str, read: Read,
                     listdir: ListDir) -> list[ContextInstall]:
    """The build-context files that ``inv`` (an invocation of the RUN ``instr``) reads, with the
    packages they ask for. ``context``: the build context directory as ``read`` and ``listdir``
    name paths ("" or "." for the current directory)."""
    state = facts.state(instr)
    image = _Image(facts, instr, inv, context, read, listdir)
    found = []
    for wanted in _wanted(inv, state, facts.doc.escape):
        result = image.install(wanted)
        if result is not None:
            found.append(result)
    return found


def image_locator(facts: "Facts", stage: "Stage", context: str, read: Read, listdir: ListDir,
                  run: "Instruction | None" = None, inv: "Invocation | None" = None) -> Callable[[str], str | None]:
    """``locate(image_path)``: the build-context file (as ``read`` names it) that the image holds at
    an absolute path once ``stage`` is built (or when ``run``'s ``inv`` starts), also through
    `COPY --from` another stage of the file; None when unknown. For the code the image runs."""
    return _Image(facts, run, inv, context, read, listdir, stage, stages=True).locate


def reads_context_files(facts: "Facts", instr: "Instruction", inv: "Invocation") -> bool:
    """Whether ``inv`` names files to install from (so its build context is worth finding)."""
    return bool(_wanted(inv, facts.state(instr), facts.doc.escape))


# -- what an install names ---------------------------------------------------------------------


def _wanted(inv: "Invocation", state: "State", escape: str) -> list[_Wanted]:
    from aicache_lint.deps import Selection
    from aicache_lint.dockerfile.shell import subcommand
    from aicache_lint.knowledge.requirements import requested_values

    program, env, workdir = inv.program, state.run_env, state.workdir
    options = _Options(inv, env, escape)

    def at(value: str | None) -> str | None:
        return posixpath.normpath(posixpath.join(workdir, value)) if value else None

    sub = subcommand(inv, 2)
    if (program == "pip" and sub[:1] == ["install"]) or (program == "uv" and sub == ["pip", "install"]):
        extras = Selection(extras=tuple(options.values("--extra")), all_extras=options.has("--all-extras"))
        out = [_file_kind(at(v), extras) for v in options.values("-r", "--requirement")]
        out += [_Wanted("constraints", p) for p in map(at, options.values("-c", "--constraint")) if p]
        # `--no-deps` installs the project alone: none of its dependencies.
        locals_ = [] if options.has("--no-deps") else options.values("-e", "--editable") + [
            v for v, _ in requested_values(inv)]
        for value in locals_:
            project = _local_project(value, workdir)
            if project is not None:
                out.append(_Wanted("project", project[0], "uv" if program == "uv" else "pip",
                                   Selection(extras=project[1])))
        return [w for w in out if w is not None and w.path]
    if program == "uv" and sub == ["pip", "sync"]:
        # Its operands are requirement files (an option's value, `--python 3.12`, is no such file).
        files = [v for v in options.positionals(2) if v.endswith((".txt", ".in", "pyproject.toml", "setup.cfg"))]
        return [w for w in (_file_kind(at(v), Selection()) for v in files) if w is not None]
    if program == "uv" and sub[:1] == ["sync"]:
        if options.has("--package", "--all-packages"):
            return []  # a workspace member's dependencies: not followed
        directory = at(posixpath.join(options.last("--directory") or ".", options.last("--project") or "."))
        no_dev = options.has("--no-dev")
        selection = Selection(
            extras=tuple(options.values("--extra")), all_extras=options.has("--all-extras"),
            groups=tuple(options.values("--group")), all_groups=options.has("--all-groups"),
            default_groups=not options.has("--no-default-groups"),
            without=tuple(options.values("--no-group")) + (("dev",) if no_dev else ()),
            only=tuple(options.values("--only-group")) + (("dev",) if options.has("--only-dev") else ()) or None)
        return [] if directory is None else [_Wanted("project", directory, "uv", selection),
                                             _Wanted("uv.lock", posixpath.join(directory, "uv.lock"))]
    if program == "poetry" and sub[:1] in (["install"], ["sync"]):
        if options.has("--only-root"):
            return []
        directory = at(options.last("-C", "--directory") or options.last("-P", "--project") or ".")

        def split(values: list[str]) -> tuple[str, ...]:  # `--with a,b`, `-E "a b"`
            return tuple(x for v in values for x in v.replace(",", " ").split())

        selection = Selection(
            extras=split(options.values("-E", "--extras")), all_extras=options.has("--all-extras"),
            groups=split(options.values("--with")), all_groups=options.has("--all-groups"),
            without=split(options.values("--without")), only=split(options.values("--only")) or None)
        return [] if directory is None else [_Wanted("project", directory, "poetry", selection),
                                             _Wanted("poetry.lock", posixpath.join(directory, "poetry.lock"))]
    if program in ("conda", "mamba", "micromamba"):
        files = options.values("-f", "--file")
        if sub in (["env", "create"], ["env", "update"]):
            files = files or ["environment.yml"]  # conda env create's default file
        elif not (program != "conda" and sub[:1] in (["create"], ["install"])):
            return []
        return [_Wanted("environment", p) for p in map(at, files)
                if p and p.endswith((".yml", ".yaml"))]
    return []


def _file_kind(path: str | None, selection: "Selection") -> _Wanted | None:
    """A file given to `-r` (or `uv pip sync`): requirements, or a project file uv reads as one."""
    if path is None:
        return None
    name = posixpath.basename(path)
    if name in ("pyproject.toml", "setup.cfg"):
        return _Wanted("project", path, "uv", selection)
    return _Wanted("requirements", path)


def _local_project(value: str, workdir: str) -> tuple[str, tuple[str, ...]] | None:
    """(directory, extras) of a local project argument (`.`, `-e .[train]`, `/app[gpu]`); None
    for package names, URLs, archives and `~` paths."""
    path, _, extras = value.partition("[")
    if "://" in path or path.startswith(("~", "git+")) or path.endswith((".whl", ".zip", *_ARCHIVES)):
        return None
    if not (path in (".", "..") or path.startswith(("./", "../", "/")) or ("/" in path and "@" not in path)):
        return None
    names = tuple(e.strip() for e in extras.rstrip("]").split(",") if e.strip()) if extras else ()
    return posixpath.normpath(posixpath.join(workdir, path)), names


class _Options:
    """The option values and positionals of an invocation, with variables expanded (a value that
    depends on an unknown variable is None)."""

    def __init__(self, inv: "Invocation", env: dict[str, str | None], escape: str) -> None:
        self.words = [_value(w, env, escape) for w in inv.args]

    def values(self, *names: str) -> list[str]:
        """Every value of the options ``names`` (`-r X`, `-rX`, `--requirement X`, `--requirement=X`)."""
        out: list[str] = []
        words = self.words
        for i, word in enumerate(words):
            if word is None:
                continue
            for name in names:
                if word == name and i + 1 < len(words):
                    value = words[i + 1]
                elif name.startswith("--") and word.startswith(name + "="):
                    value = word[len(name) + 1:]
                elif len(name) == 2 and word.startswith(name) and len(word) > 2 and not word.startswith("--"):
                    value = word[2:]
                else:
                    continue
                if value:
                    out.append(value)
        return out

    def last(self, *names: str) -> str | None:
        found = self.values(*names)
        return found[-1] if found else None

    def has(self, *names: str) -> bool:
        return any(w is not None and (w in names or w.split("=", 1)[0] in names) for w in self.words)

    def positionals(self, skip: int) -> list[str]:
        """Words that are not options, after the first ``skip`` (the subcommand)."""
        found = [w for w in self.words if w and not w.startswith("-")]
        return found[skip:]


def _value(word: "Word", env: dict[str, str | None], escape: str) -> str | None:
    from aicache_lint.dockerfile.words import expand

    return expand(word.raw, env, escape) if word.has_expansion else word.value


# -- where an image path comes from ------------------------------------------------------------


class _Image:
    """The image as the RUN sees it: which context file each path holds."""

    def __init__(self, facts: "Facts", run: "Instruction | None", inv: "Invocation | None", context: str, read: Read,
                 listdir: ListDir, stage: "Stage | None" = None, stages: bool = False) -> None:
        """``run`` None: the image as ``stage`` leaves it (what its CMD runs). ``stages``: follow a
        `COPY --from=<stage>` into that stage (code; not the manifests an install reads, which a
        builder stage may rewrite in ways no command line shows, like `pip-compile`'s default output)."""
        self.facts, self.run, self.inv, self.stages = facts, run, inv, stages
        self.context, self.read_context, self.listdir_context = context, read, listdir
        self.cache: dict[str, str | None] = {}
        self.index: tuple[dict[str, list[int]], list[int], list[int]] | None = None
        stage = facts.stage_of(run) if run is not None else stage
        before: list[Instruction] = []
        for s in reversed(stage.chain() if stage else []):
            before.extend(s.instructions)
        self.before = before[: before.index(run)] if run in before else before

    def install(self, wanted: _Wanted) -> ContextInstall | None:
        from aicache_lint.deps.conda import read_environment
        from aicache_lint.deps.locks import read_poetry_lock, read_uv_lock
        from aicache_lint.deps.pyproject import read_project
        from aicache_lint.deps.requirements import read_requirements

        path = wanted.path
        if wanted.kind == "project":
            directory = path if posixpath.basename(path) not in ("pyproject.toml", "setup.cfg") else \
                posixpath.dirname(path)
            located = [self.locate(posixpath.join(directory, n)) for n in ("pyproject.toml", "setup.cfg")]
            where = next((p for p in located if p), None)
            if where is None:
                return None
            depfile = read_project(directory, self.read, wanted.tool, wanted.selection)
            return ContextInstall("project", directory, posixpath.dirname(where) or ".", self.to_context(depfile))
        where = self.locate(path)
        if where is None:
            return None
        readers = {"requirements": read_requirements, "uv.lock": read_uv_lock, "poetry.lock": read_poetry_lock,
                   "environment": read_environment}
        if wanted.kind == "constraints":
            depfile = read_requirements(path, self.read, constraint=True)
        else:
            depfile = readers[wanted.kind](path, self.read)
        return ContextInstall(wanted.kind, path, where, self.to_context(depfile))

    def read(self, image_path: str) -> str | None:
        where = self.locate(image_path)
        return self.read_context(where) if where else None

    def to_context(self, depfile: DepFile) -> DepFile:
        """The DepFile with its image paths named as the context names them (every file it read
        was located)."""
        def name(path: str) -> str:
            return self.locate(path) or path

        return depfile._replace(
            packages=tuple(r._replace(path=name(r.path)) for r in depfile.packages),
            constraints=tuple(r._replace(path=name(r.path)) for r in depfile.constraints),
            files=tuple(name(f) for f in depfile.files))

    def ctx(self, source: str) -> str:
        """A context-relative source as ``read`` names it."""
        return posixpath.normpath(posixpath.join(self.context, source))

    def locate(self, path: str) -> str | None:
        """The context file the image holds at ``path`` when the RUN starts; None when unknown."""
        if path not in self.cache:
            self.cache[path] = self._locate(path)
        return self.cache[path]

    def _locate(self, path: str) -> str | None:
        if self.run is not None:
            found = self._mounted(path)
            if found != _NOT_HERE:
                return found
            invs = self.facts.invocations(self.run)
            earlier = invs[: invs.index(self.inv)] if self.inv in invs else []
            if any(_rewrites(inv, self.facts.state(self.run), path, self.facts.doc.escape) for inv in earlier):
                return _UNKNOWN
        # The COPY or ADD that put the file there, then whether a RUN after it may have changed it:
        # most paths asked for (a module name tried under every import root) come from no COPY at all,
        # and those cost a look at the COPYs whose destination holds them (indexed by destination).
        copies, unknown_dest, runs = self._copies()
        at, tried = path, set(unknown_dest)
        while True:
            tried.update(copies.get(at, ()))
            if at == "/":
                break
            at = posixpath.dirname(at)
        for pos in sorted(tried, reverse=True):  # the last COPY that holds it wins
            found = self._copied(self.before[pos], path)
            if found == _NOT_HERE:
                continue
            if found is not None and any(path in _written(self.facts, self.before[r]) for r in runs if r > pos):
                return _UNKNOWN
            return found
        return _UNKNOWN  # from the base image, or nowhere

    def _copies(self) -> tuple[dict[str, list[int]], list[int], list[int]]:
        """The positions (in ``before``) of the COPY/ADD lines by absolute destination, of those whose
        destination is not known, and of the RUNs; built once per image."""
        if self.index is None:
            copies: dict[str, list[int]] = {}
            unknown: list[int] = []
            runs: list[int] = []
            for pos, instr in enumerate(self.before):  # (an ONBUILD COPY runs in a later build: its keyword is ONBUILD)
                if instr.keyword == "RUN":
                    runs.append(pos)
                elif instr.keyword in ("COPY", "ADD"):
                    spec = _copy_spec(self.facts, instr)
                    if spec is not None:
                        (copies.setdefault(spec.dest, []) if spec.dest is not None else unknown).append(pos)
            self.index = (copies, unknown, runs)
        return self.index

    def _mounted(self, path: str) -> str | None:
        """The context file a `--mount` of the RUN puts at ``path``; _NOT_HERE when no mount covers it."""
        from aicache_lint.dockerfile.facts import covers_path, mount_target

        state = self.facts.state(self.run)
        for flag in reversed((self.run.inner or self.run).mounts):
            target = mount_target(flag, state)
            if target is None:
                return _UNKNOWN if flag.mount_type == "bind" else _NOT_HERE
            if not covers_path(target, path):
                continue
            if flag.mount_type != "bind" or flag.option("from") is not None:
                return _UNKNOWN
            option = flag.option("source", "src")
            source = _source(_expand(option.value or "", state, self.facts.doc.escape) if option else ".")
            if source is None:
                return _UNKNOWN
            rest = posixpath.relpath(path, target)
            return self.ctx(source if rest == "." else posixpath.join(source, rest))
        return _NOT_HERE

    def _copied(self, instr: "Instruction", path: str) -> str | None:
        """The context file ``instr`` (a COPY or ADD) writes at ``path``: None when unknown, _NOT_HERE
        when it does not write there."""
        from aicache_lint.dockerfile.facts import covers_path

        spec = _copy_spec(self.facts, instr)
        if spec is None:
            return _NOT_HERE
        if spec.dest is None:
            return _UNKNOWN  # it may write anywhere
        if not covers_path(spec.dest, path):
            return _NOT_HERE
        if spec.unknown:
            return _UNKNOWN
        if spec.stage is not None:
            return self._from_stage(spec, path) if self.stages else _UNKNOWN
        for value in reversed(spec.sources):  # a later source overwrites an earlier one
            if "://" in value or value.startswith("git@"):
                return _UNKNOWN
            if instr.keyword == "ADD" and value.endswith(_ARCHIVES):
                return _UNKNOWN  # ADD unpacks a local archive into the destination
            source = _source(value)
            if source is None:
                return _UNKNOWN
            if any(c in source for c in "*?["):
                matched = self._glob(source)
                if matched is None:
                    return _UNKNOWN
                candidates = [self._from_source(s, spec.dest, path, True) for s in reversed(matched)]
            else:
                candidates = [self._from_source(source, spec.dest, path, spec.dir_like)]
            for candidate in candidates:
                if candidate and not any(fnmatch.fnmatchcase(candidate, e) for e in spec.excludes):
                    return self.ctx(candidate)
        return _NOT_HERE

    def _from_stage(self, spec: "_CopySpec", path: str) -> str | None:
        """`COPY --from=<stage of this file>`: the context file that stage holds where the copy reads
        (a source directory's contents, or the file itself), followed into that stage."""
        stage = spec.stage
        inner = _Image(self.facts, None, None, self.context, self.read_context, self.listdir_context, stage, True)
        for value in reversed(spec.sources):
            if any(c in value for c in "*?[") or "$" in value:
                return _UNKNOWN
            source = posixpath.normpath(posixpath.join("/", value))
            rest = posixpath.relpath(path, spec.dest)
            tries = [posixpath.join(source, rest)] if rest != "." else []  # a directory's contents
            if path == posixpath.join(spec.dest, posixpath.basename(source)) or (path == spec.dest and not spec.dir_like):
                tries.append(source)  # the file itself
            for inside in tries:
                found = inner.locate(inside)
                if found is not None:
                    return found
        return _UNKNOWN

    def _from_source(self, source: str, dest: str, path: str, dir_like: bool) -> str | None:
        """The context-relative file that copying ``source`` to ``dest`` puts at ``path``, if any."""
        if source == "." or self.listdir_context(self.ctx(source)) is not None:  # a directory: its contents
            if path == dest:
                return None
            inside = posixpath.join(source, posixpath.relpath(path, dest))
            # Only what the directory holds lands there: a file it lacks may come from elsewhere.
            return inside if self.read_context(self.ctx(inside)) is not None else None
        if path == posixpath.join(dest, posixpath.basename(source)) or (path == dest and not dir_like):
            return source
        return None

    def _glob(self, source: str) -> list[str] | None:
        """The context entries a wildcard source matches, sorted; None when they cannot be listed."""
        parent, pattern = posixpath.split(source)
        if any(c in parent for c in "*?["):
            return None
        names = self.listdir_context(self.ctx(parent or "."))
        if names is None:
            return None
        return sorted(posixpath.join(parent, n) if parent else n for n in names if fnmatch.fnmatchcase(n, pattern))


def _expand(raw: str, state: "State", escape: str) -> str | None:
    from aicache_lint.dockerfile.words import expand

    return expand(raw, state.run_env, escape)


class CopySources(NamedTuple):
    """What a COPY or ADD takes, as the rebuild model reads it (``impact/rebuild.py``)."""

    sources: list[str]  # relative to the build context, or to the stage in ``stage``
    stage: "Stage | None"  # `--from=<a stage of this file>`
    unknown: bool  # heredoc, --parents, another image or context, a source that cannot be read


def copy_sources(facts: "Facts", instr: "Instruction") -> CopySources | None:
    """The sources of a COPY or ADD (None: it names no destination)."""
    spec = _copy_spec(facts, instr)
    return None if spec is None else CopySources(spec.sources, spec.stage, spec.unknown)


def _source(value: str) -> str | None:
    """A COPY source relative to the context root: `/` and `..` cannot leave it."""
    return posixpath.normpath("/" + value).lstrip("/") or "." if value else None


class _CopySpec(NamedTuple):
    dest: str | None  # absolute; None: a variable with no value (it may write anywhere)
    sources: list[str]  # expanded (a source with an unknown variable makes ``unknown``)
    dir_like: bool
    excludes: list[str]
    unknown: bool  # heredoc, --parents, --from another image or context, a source that cannot be read
    stage: "Stage | None"  # `--from=<a stage of this file>`


_MEMOS = None  # Facts -> {what: {id(instruction): value}}; made on first use (weakref loads then)


def _memo(facts: "Facts", what: str) -> dict:
    """The values of one kind worked out for the instructions of ``facts`` (kept as long as they are)."""
    global _MEMOS
    if _MEMOS is None:
        import weakref

        _MEMOS = weakref.WeakKeyDictionary()
    return _MEMOS.setdefault(facts, {}).setdefault(what, {})


def _copy_spec(facts: "Facts", instr: "Instruction") -> _CopySpec | None:
    """What a COPY or ADD copies where, read once per instruction (None: it names no destination)."""
    memo = _memo(facts, "copy")
    key = id(instr)
    if key in memo:
        return memo[key]
    from aicache_lint.dockerfile.words import split_words

    state, escape = facts.state(instr), facts.doc.escape
    if instr.json_args is not None:
        raws = [w.replace("\\", "\\\\") for w in instr.json_args]
    else:
        raws = [w.raw for w in split_words(instr.args.text, escape)]
    spec = None
    if len(raws) >= 2 or instr.heredocs:
        dest_raw = _expand(raws[-1], state, escape) if raws else None
        dest = posixpath.normpath(posixpath.join(state.workdir, dest_raw)) if dest_raw is not None else None
        sources = [_expand(raw, state, escape) for raw in raws[:-1]]
        stage, unknown = None, bool(instr.heredocs or instr.flags_named("parents")) or None in sources
        origin = instr.flags_named("from")
        if origin:
            name = (origin[0].value or "").lower()
            stage = next((s for s in facts.stages if s.name == name or str(s.index) == name), None)
            here = facts.stage_of(instr)
            # another image or context, or a stage that is not built before this one
            unknown = unknown or stage is None or stage.index >= (here.index if here is not None else 0)
        spec = _CopySpec(dest, [s for s in sources if s is not None], bool(dest_raw) and (
            dest_raw.endswith("/") or dest_raw in (".", "..") or len(sources) > 1),
            [f.value for f in instr.flags_named("exclude") if f.value], unknown, stage)
    memo[key] = spec
    return spec


def _written(facts: "Facts", run: "Instruction") -> frozenset[str]:
    """The absolute paths the commands of a RUN may change (see ``_rewrites``), once per RUN."""
    memo = _memo(facts, "written")
    key = id(run)
    if key not in memo:
        state, escape = facts.state(run), facts.doc.escape
        memo[key] = frozenset(p for inv in facts.invocations(run) for p in _outputs(inv, state, escape))
    return memo[key]


def _outputs(inv: "Invocation", state: "State", escape: str) -> list[str]:
    """Every path ``_rewrites`` would say ``inv`` may change."""
    def at(value: str | None) -> str | None:
        return posixpath.normpath(posixpath.join(state.workdir, value)) if value else None

    env = state.run_env
    out = [at(_value(r.target, env, escape)) for r in inv.command.redirects
           if r.target is not None and r.op not in ("<", "<<", "<<<", "<&", ">&")]
    values = [_value(w, env, escape) for w in inv.args]
    for i, value in enumerate(values):
        if value is None:
            continue
        option, eq, rest = value.partition("=")
        if (i > 0 and values[i - 1] in _OUTPUT_OPTIONS) or (eq and option in _OUTPUT_OPTIONS):
            out.append(at(rest if eq else value))
        if inv.program not in _READERS and not PYTHON.fullmatch(inv.program):  # `python app.py` runs it
            out.append(at(rest if value.startswith("-") and eq else value))
    return [p for p in out if p]


def _rewrites(inv: "Invocation", state: "State", path: str, escape: str) -> bool:
    """Whether a command may change the file at ``path``: it names the file as an output (`-o`,
    a `>`/`>>` redirection) or as an operand of a program that is not known to only read it."""
    return path in _outputs(inv, state, escape)
