"""AIC301 copy-before-dependency-install."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Iterator, NamedTuple

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.words import expand, key_values, split_words
from aicache_lint.finding import Violation
from aicache_lint.fix import Applicability, Edit, Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Stage
    from aicache_lint.dockerfile.shell import Invocation, Word

# Instructions a RUN cannot depend on: moving the RUN above them changes nothing it sees.
_INERT = frozenset("LABEL EXPOSE MAINTAINER CMD ENTRYPOINT HEALTHCHECK STOPSIGNAL ONBUILD".split())
# Programs that read nothing from the build context (when they name no local path).
_HARMLESS = frozenset("apt-get apt apk dnf yum microdnf true : echo".split())
_SAFE_PATH = re.compile(r"[A-Za-z0-9._@+-][A-Za-z0-9._@+/-]*")
_GLOB = re.compile(r"[*?\[]")
_VARIABLE_NAME = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
# The broad COPY flags a manifest COPY keeps (ownership, mode, link: the files land as before).
_KEPT_FLAGS = ("chown", "chmod", "link")


class Read(NamedTuple):
    """What one install command reads from the directory it runs in."""

    inv: "Invocation"
    tool: str  # pip, uv sync, poetry, npm, yarn, conda
    manifests: list[str] | None  # paths as written (relative to the command's directory); None: unknown
    words: list["Word"]  # the words naming the manifests (to check for variables and globs)
    project: bool  # also installs the project itself (needs the whole source)
    two_phase: str | None  # the flag that makes it a dependencies-only install, when one exists
    anchor: "Word | None"  # the word after which that flag goes (the subcommand)
    no_fix: str | None = None  # why the install cannot be moved, when it cannot
    paths: tuple[str, ...] = ()  # local projects and archives it installs, as written (`.`, `/src[all]`)


class CopyBeforeDependencyInstall(Rule):
    """
    ## What it does
    Flags a `RUN` that installs dependencies from manifest files (`pip install -r
    requirements.txt`, `uv pip install -r`, `uv sync`, `poetry install`, `pip install .` /
    `pip install -e .`, `npm ci`, `yarn install`, `conda env create -f environment.yml`) after a
    `COPY . <dir>` (or `ADD .`, `COPY ./ <dir>`, `COPY * <dir>`, in shell or JSON form, with any
    flags) of the whole build context in the same stage -- whether the manifests it reads come
    from that copy or from elsewhere (`COPY . /tmp/project` then `COPY deploy/requirements.txt .`).
    `COPY --from=...`, heredoc `COPY` and a `COPY` of a subdirectory (`COPY src/ /app/src`) are not
    context copies, nor is a broad `COPY` in another stage. A project install (`uv sync`,
    `poetry install`, `pip install .`) passes when an earlier `RUN` of the stage already installed
    the dependencies from manifests (the two-phase pattern); so do `pip install --no-deps .` and
    `poetry install --only-root`. The rule does not read `.dockerignore`: a context it narrows
    down still counts as the whole context.

    ## Why is this bad?
    A `COPY` of the whole context changes whenever any source file changes, and every later
    instruction of the stage is rebuilt with it. The dependency install then runs again on every
    code edit, and downloads and builds PyTorch, CUDA wheels or `node_modules` again, although the
    manifests did not change -- even when the install reads nothing from that copy.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    WORKDIR /app
    COPY . .
    RUN pip install -r requirements.txt
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    WORKDIR /app
    COPY requirements.txt ./
    RUN pip install -r requirements.txt
    COPY . .
    ```

    When the install reads nothing from the copy, the copy goes below it:
    ```dockerfile
    WORKDIR /app
    COPY deploy/requirements.txt .
    RUN pip install -r requirements.txt
    COPY . /tmp/project/
    RUN pip install /tmp/project/
    ```

    For project installs, the two-phase form: dependencies first, then the project.
    ```dockerfile
    COPY pyproject.toml uv.lock ./
    RUN uv sync --locked --no-install-project
    COPY . .
    RUN uv sync --locked
    ```

    ## Fix safety
    The fix is unsafe: it reorders layers. It moves the install `RUN` (with the comment lines
    directly above it, its flags, mounts and layout byte for byte) above the broad `COPY` and
    inserts a `COPY` of exactly the manifest files it reads: the requirement, constraint or
    environment files as written (resolved against `WORKDIR`), `pyproject.toml uv.lock` for
    `uv sync`, `pyproject.toml poetry.lock` for `poetry install`, `package.json package-lock.json`
    for `npm ci`. The new `COPY` keeps the broad `COPY`'s `--chown`, `--chmod` and `--link` flags.
    For `uv sync` and `poetry install`, which also install the project, the fix inserts a copy of
    the `RUN` with `--no-install-project` / `--no-root` above the broad `COPY` and keeps the
    original after it (the two-phase form).
    The fix cannot see the build context, so it assumes that the manifests exist there and are not
    excluded by `.dockerignore`, that a lock file is present, and that the manifests do not refer
    to other local files (`-r base.txt`, `-e .` inside a requirements file, a local path in
    `environment.yml`, a uv workspace member, a `.python-version` that `uv sync` would read, an npm
    `prepare` script that reads the source). A manifest that an earlier `COPY` already put in place
    is copied once more (harmless, but not minimal).
    No fix -- a report only -- when something between the broad `COPY` and the `RUN` may matter to
    it (another `RUN`, `COPY`, `WORKDIR`, `ENV`, `ARG`, `USER`, `SHELL`), when the `RUN` runs anything
    else that may read the source, when a manifest name holds a variable or a glob, or uses
    `--project`/`--directory`/`--prefix`, when the broad `COPY` is a glob (`COPY * <dir>` flattens
    directories), uses `--exclude`/`--parents`, or has a destination that cannot be resolved, for
    `pip install .` (pip has no dependencies-only install: split the requirements out), for
    `yarn install` (Yarn 2+ also reads `.yarnrc.yml` and `.yarn/`, which the Dockerfile does not
    show), and for a two-phase install whose `RUN` holds other commands too or is in exec form.

    When the install reads nothing from the broad `COPY`, the fix (unsafe too) moves that `COPY`,
    byte for byte with the comment lines directly above it, below the install and the dependency
    installs that follow it, up to the first instruction that may see the copied files. Crossed
    freely: `LABEL`, `EXPOSE`, `CMD`, `ENTRYPOINT`, `HEALTHCHECK`, `USER` and `SHELL` (copied files
    are root-owned unless `--chown` says otherwise), `ENV`/`ARG` that set no variable the `COPY`
    uses, a `WORKDIR` outside the destination (when the destination is absolute), a `COPY`/`ADD`
    (`--from` too) whose destination neither contains nor lies in the broad one, and a `RUN` that
    does not run in the destination, name it, a directory above it or a path below it (relative to
    its `WORKDIR` too; a glob reaches its whole directory, `~` any home), uses no variable the
    Dockerfile does not set and runs with no variable pointing there. Anything else stops the
    move; when it stands before the install, the finding is a report only and names it. The test
    reads the Dockerfile only: a manifest that refers into the copy (`-e /tmp/project` in a
    requirements file) or a program that finds the files by itself is not seen.

    ## Options
    None.

    ## References
    - [Docker: optimize cache usage, order your layers](https://docs.docker.com/build/cache/optimize/#order-your-layers)
    - [uv: using uv in Docker, intermediate layers](https://docs.astral.sh/uv/guides/integration/docker/#intermediate-layers)
    - [Poetry: `install --no-root`](https://python-poetry.org/docs/cli/#install)
    - [Dockerfile reference: `COPY`](https://docs.docker.com/reference/dockerfile/#copy)
    """

    code = "AIC301"
    name = "copy-before-dependency-install"
    summary = "Dependencies are installed after a COPY of the whole build context"
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = Applicability.UNSAFE

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for stage in facts.stages:
            broad: Instruction | None = None
            # An earlier RUN of the stage installed dependencies from manifests: a project install
            # after it is the two-phase pattern (when that RUN is misplaced, its own finding says so).
            installed_before = False
            reach: _Reach | None = None  # how far down the broad COPY can move
            for instr in stage.instructions:
                if instr.inner is not None:
                    continue
                if instr.keyword in ("COPY", "ADD") and broad is None and _is_broad_copy(ctx, instr):
                    broad = instr
                    reach = _reach(ctx, stage, broad)
                    continue
                if instr.keyword != "RUN":
                    continue
                reads = _reads(facts, instr)
                if broad is not None and reach is not None and reads:
                    violation = _check_run(ctx, broad, reach, instr, reads, installed_before)
                    if violation is not None:
                        yield violation
                installed_before = installed_before or any(r.manifests for r in reads)


# -- the broad COPY ----------------------------------------------------------------------------


class _Copy(NamedTuple):
    sources: list[str]
    dest_raw: str  # as written (quotes kept for shell form), or the JSON string
    dest_value: str | None  # expanded
    json: bool


def _copy_args(ctx: DockerfileContext, instr: Instruction) -> _Copy | None:
    if instr.heredocs or instr.flags_named("from"):
        return None
    state = ctx.facts.state(instr)
    if instr.json_args is not None:
        if len(instr.json_args) < 2:
            return None
        dest = instr.json_args[-1]
        return _Copy(instr.json_args[:-1], dest, expand(dest.replace("\\", "\\\\"), state.run_env), True)
    words = split_words(instr.args.text, ctx.doc.escape)
    if len(words) < 2:
        return None
    raws = [w.raw for w in words]
    sources = [expand(r, state.run_env, ctx.doc.escape) or r for r in raws[:-1]]
    return _Copy(sources, raws[-1], expand(raws[-1], state.run_env, ctx.doc.escape), False)


def _destination(ctx: DockerfileContext, instr: Instruction) -> str | None:
    """Where a COPY or ADD puts its files, absolute and normalised; None when a variable without
    a value or the instruction's form hides it."""
    state = ctx.facts.state(instr)
    if instr.json_args is not None:
        raw = instr.json_args[-1] if len(instr.json_args) > 1 else None
        value = expand(raw.replace("\\", "\\\\"), state.run_env) if raw is not None else None
    else:
        words = split_words(instr.args.text, ctx.doc.escape)
        value = expand(words[-1].raw, state.run_env, ctx.doc.escape) if len(words) > 1 else None
    return posixpath.normpath(posixpath.join(state.workdir, value)) if value else None


def _is_root_source(source: str) -> bool:
    return posixpath.normpath(source) == "."


def _is_broad_source(source: str) -> bool:
    return _is_root_source(source) or source in ("*", "./*")


def _is_broad_copy(ctx: DockerfileContext, instr: Instruction) -> bool:
    args = _copy_args(ctx, instr)
    return args is not None and any(_is_broad_source(s) for s in args.sources)


# -- what install commands read ----------------------------------------------------------------


def _reads(facts, run: Instruction) -> list[Read]:
    out = []
    for inv in facts.invocations(run):
        read = _read(inv)
        if read is not None:
            out.append(read)
    return out


def _option_values(args: list["Word"], short: str, long: str) -> tuple[list["Word"], list[str]] | None:
    """Words and values of ``-x VALUE``/``-xVALUE``/``--long VALUE``/``--long=VALUE``; None when
    a value is missing."""
    words, values = [], []
    i = 0
    while i < len(args):
        v = args[i].value
        if v in (short, long):
            if i + 1 >= len(args):
                return None
            words.append(args[i + 1])
            values.append(args[i + 1].value)
            i += 2
            continue
        if v.startswith(long + "="):
            words.append(args[i])
            values.append(v[len(long) + 1 :])
        elif short and v.startswith(short) and not v.startswith("--") and len(v) > len(short):
            words.append(args[i])
            values.append(v[len(short) :])
        i += 1
    return words, values


def _has(args: list["Word"], *names: str) -> bool:
    return any(a.value in names or any(a.value.startswith(n + "=") for n in names if n.startswith("--")) for a in args)


def _is_local_path(value: str) -> bool:
    if "://" in value or value.startswith("git+"):
        return False
    base = value.split("[", 1)[0]
    return base in (".", "..") or base.startswith(("./", "../", "/", "~")) or base.endswith((".whl", ".tar.gz", ".zip"))


def _pip_read(inv: "Invocation", args: list["Word"], tool: str) -> Read | None:
    from aicache_lint.knowledge.requirements import _VALUE_OPTIONS

    words: list["Word"] = []
    manifests: list[str] = []
    for short, long in (("-r", "--requirement"), ("-c", "--constraint")):
        found = _option_values(args, short, long)
        if found is None:
            return None
        words += found[0]
        manifests += found[1]
    editable = _option_values(args, "-e", "--editable") or ([], [])
    paths = [v for v in editable[1] if _is_local_path(v)]
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a.value.startswith("-"):
            skip = a.value in _VALUE_OPTIONS
            continue
        if _is_local_path(a.value):
            paths.append(a.value)
    project = bool(paths)
    if project and _has(args, "--no-deps"):
        project = False  # only the project itself: nothing to download
        if not manifests:
            return None
    if not manifests and not project:
        return None
    reason = "pip has no dependencies-only install of a local project: move its requirements to a file" if project else None
    return Read(inv, tool, manifests, words, project, None, None, reason, tuple(paths) if project else ())


def _read(inv: "Invocation") -> Read | None:
    from aicache_lint.dockerfile.shell import subcommand

    program, args = inv.program, inv.args
    if program == "pip" and subcommand(inv, 1) == ["install"]:
        return _pip_read(inv, args, "pip")
    if program == "uv":
        sub = subcommand(inv, 2)
        if sub == ["pip", "install"]:
            return _pip_read(inv, args, "uv pip")
        if sub[:1] == ["sync"]:
            anchor = next(a for a in args if a.value == "sync")
            if _has(args, "--project", "--directory", "--package"):
                return Read(inv, "uv sync", None, [], False, None, anchor, "it runs in another directory")
            deps_only = _has(args, "--no-install-project", "--no-install-workspace")
            return Read(inv, "uv sync", ["pyproject.toml", "uv.lock"], [], not deps_only,
                        None if deps_only else "--no-install-project", anchor)
    if program == "poetry" and subcommand(inv, 1) == ["install"]:
        if _has(args, "--only-root"):
            return None
        anchor = next(a for a in args if a.value == "install")
        if _has(args, "-C", "--directory", "-P", "--project"):
            return Read(inv, "poetry", None, [], False, None, anchor, "it runs in another directory")
        deps_only = _has(args, "--no-root")
        return Read(inv, "poetry", ["pyproject.toml", "poetry.lock"], [], not deps_only,
                    None if deps_only else "--no-root", anchor)
    if program == "npm" and subcommand(inv, 1) in (["ci"], ["clean-install"]):
        if _has(args, "--prefix", "-C"):
            return Read(inv, "npm", None, [], False, None, None, "it runs in another directory")
        return Read(inv, "npm", ["package.json", "package-lock.json"], [], False, None, None)
    if program == "yarn" and subcommand(inv, 1) in ([], ["install"]):
        return Read(inv, "yarn", ["package.json", "yarn.lock"], [], False, None, None,
                    "Yarn 2+ also reads `.yarnrc.yml` and `.yarn/`, which the Dockerfile does not show")
    if program in ("conda", "mamba", "micromamba"):
        sub = subcommand(inv, 2)
        if sub in (["env", "create"], ["env", "update"]) or (program == "micromamba" and sub[:1] in (["create"], ["install"])):
            found = _option_values(args, "-f", "--file")
            if not found or not found[1]:
                if sub[:1] == ["env"]:
                    return Read(inv, "conda", None, [], False, None, None, "the environment file is not named")
                return None
            return Read(inv, "conda", found[1], found[0], False, None, None)
    return None


def _harmless(inv: "Invocation") -> bool:
    """A command that reads nothing from the build context."""
    from aicache_lint.dockerfile.shell import subcommand

    if inv.command.redirects:
        return False
    program = inv.program
    if program in _HARMLESS:
        return True
    if program == "pip" or (program == "uv" and subcommand(inv, 2) == ["pip", "install"]):
        if program == "pip" and subcommand(inv, 1) != ["install"]:
            return False
        return not any(_is_local_path(a.value) or a.has_expansion for a in inv.args)
    return False


# -- one RUN ---------------------------------------------------------------------------------


def _check_run(ctx: DockerfileContext, broad: Instruction, reach: "_Reach", run: Instruction, reads: list[Read],
               installed_before: bool) -> Violation | None:
    copy = _copy_args(ctx, broad)
    assert copy is not None
    dest = _destination(ctx, broad)
    hits, elsewhere = _classify(reads, ctx.facts.state(run).workdir, dest, installed_before)
    if hits:
        first = hits[0][0]
        names = ", ".join(dict.fromkeys(m for r, _ in hits for m in (r.manifests or [])))
        what = f"reads {names}" if names else "reads files"
        message = (
            f"`{first.tool}` {what} from the build context after `{_text(ctx, broad)}` copied all of it: "
            "every source edit re-runs the install; copy the manifests and install first"
        )
        hoist = _hoist_plan(ctx, broad, copy, dest, run, reads, hits)
        fix = _hoist_fix(ctx, broad, copy, run, hoist) if isinstance(hoist, _Hoist) else None
        reason = hoist if isinstance(hoist, str) else None
    elif elsewhere:
        message = (
            f"`{elsewhere[0].tool}` runs after `{_text(ctx, broad)}` copied the whole build context, although "
            "it reads nothing from that copy: every source edit re-runs the install; copy the context after it"
        )
        sink = _sink_plan(reach, run)
        fix = _sink_fix(ctx, broad, sink) if isinstance(sink, _Sink) else None
        reason = sink if isinstance(sink, str) else None
    else:
        return None
    if reason:
        message += f" (no automatic fix: {reason})"
    return Violation(run.keyword_span, message, fix)


def _inside(path: str, folder: str) -> bool:
    return folder == "/" or path == folder or path.startswith(folder + "/")


def _classify(reads: list[Read], workdir: str, dest: str | None,
              installed_before: bool) -> tuple[list[tuple[Read, list[str]]], list[Read]]:
    """The reads that take files from the broad copy (with the manifests they take from it), and
    those that read nothing from it. A project install after dependencies were installed before
    the copy is neither: that is the two-phase pattern."""
    def from_copy(path: str) -> bool:
        return dest is None or _inside(path, dest)

    hits: list[tuple[Read, list[str]]] = []
    elsewhere: list[Read] = []
    for read in reads:
        if read.manifests is None:
            inside, reads_copy = [], from_copy(workdir)
        else:
            resolved = [posixpath.normpath(posixpath.join(workdir, m)) for m in read.manifests]
            inside = [p for p in resolved if from_copy(p)]
            projects = [posixpath.normpath(posixpath.join(workdir, p.split("[", 1)[0])) for p in read.paths]
            reads_copy = bool(inside) or (read.project and any(from_copy(p) for p in projects or [workdir]))
        if not reads_copy:
            elsewhere.append(read)
        elif not (read.project and installed_before):
            hits.append((read, inside))
    return hits, elsewhere


def _text(ctx: DockerfileContext, instr: Instruction) -> str:
    text = ctx.source.text[instr.span.start : instr.span.end]
    first_line = text.split("\n", 1)[0].rstrip("\r")
    return first_line if len(first_line) <= 60 else first_line[:57] + "..."


# -- the fix for an install that reads the copy: copy its manifests and install first ----------


class _Hoist(NamedTuple):
    """What moving the install above the broad COPY needs."""

    copies: list[tuple[str, list[str]]]  # (directory under the destination, manifest paths in it)
    two_phase: Read | None  # a project install that is copied with its dependencies-only flag


def _hoist_plan(ctx: DockerfileContext, broad: Instruction, copy: _Copy, dest: str | None, run: Instruction,
                reads: list[Read], hits: list[tuple[Read, list[str]]]) -> _Hoist | str:
    """How to move ``run`` above ``broad``, or why it cannot be moved."""
    for read, _ in hits:
        if read.no_fix:
            return read.no_fix
        if read.manifests is None:
            return "the manifest files are not known"
        if any(w.has_expansion or _GLOB.search(w.value) for w in read.words):
            return "a manifest name holds a variable or a glob"
    # The broad COPY: exactly the context root, to a known directory, without filters.
    if len(copy.sources) != 1 or not _is_root_source(copy.sources[0]):
        return "the broad COPY is not a plain copy of the context root"
    if any(f.key in ("exclude", "parents") for f in broad.flags):
        return "the broad COPY filters its sources"
    if dest is None or not copy.dest_value or any(c in copy.dest_raw for c in " \t\"'\\`"):
        return "the COPY destination cannot be resolved"
    # Nothing between the COPY and the RUN that the RUN may depend on.
    between = ctx.doc.instructions[ctx.doc.instructions.index(broad) + 1 : ctx.doc.instructions.index(run)]
    blocker = next((i for i in between if i.keyword not in _INERT), None)
    if blocker is not None:
        return f"`{blocker.keyword}` between the COPY and the RUN may matter to it"
    script = ctx.facts.script(run)
    if script is None or script.opaque:
        return "the RUN cannot be read completely"
    invs = ctx.facts.invocations(run)
    if len(invs) != sum(1 for c in script.commands if c.words):
        return "the RUN runs commands that cannot be identified"
    hit_invs = {id(r.inv.command) for r, _ in hits}
    read_invs = {id(r.inv.command) for r in reads}
    for inv in invs:
        if id(inv.command) in hit_invs:
            continue
        if id(inv.command) in read_invs or not _harmless(inv):
            return f"the RUN also runs `{inv.program}`, which may read the source"
    # The manifest COPY lines, one per directory.
    by_dir: dict[str, list[str]] = {}
    for _read, inside in hits:
        for path in inside:
            rel = posixpath.relpath(path, dest)
            if rel.startswith("..") or not _SAFE_PATH.fullmatch(rel):
                return "a manifest path cannot be written safely"
            names = by_dir.setdefault(posixpath.dirname(rel), [])
            if rel not in names:
                names.append(rel)
    if not by_dir:
        return "the manifest files are not known"
    two_phase = [r for r, _ in hits if r.project]
    if two_phase:
        read = two_phase[0]
        if len(hits) != 1 or len(invs) != 1 or script.exec_form or read.anchor is None:
            return "a two-phase install needs a RUN that runs only the install, in shell form"
    return _Hoist(list(by_dir.items()), two_phase[0] if two_phase else None)


def _hoist_fix(ctx: DockerfileContext, broad: Instruction, copy: _Copy, run: Instruction, plan: _Hoist) -> Fix:
    source, text = ctx.source, ctx.source.text
    kw = edits.keyword(broad, source, "COPY")
    flags = "".join(" " + text[f.span.start : f.span.end] for f in broad.flags if f.key in _KEPT_FLAGS)
    indent = text[source.line_start(source.line_of(broad.span.start)) : broad.span.start]
    base = copy.dest_raw.rstrip("/") or "/"
    lines = []
    for folder, names in plan.copies:
        target = base if not folder else posixpath.join(base, folder)
        if not target.endswith("/"):
            target += "/"
        lines.append(f"{indent}{kw}{flags} {' '.join(names)} {target}")
    insert_at = _block_start(ctx, broad)
    run_line_start = source.line_start(source.line_of(run.span.start))
    run_end = _line_end(ctx, run)
    read = plan.two_phase
    if read is not None:
        assert read.anchor is not None and read.two_phase is not None
        at = read.inv.command.script.file_span(read.anchor.start, read.anchor.end).end
        duplicate = text[run_line_start:at] + " " + read.two_phase + text[at:run_end]
        insertion = "\n".join(lines) + "\n" + duplicate + "\n"
        title = f"Install the dependencies with `{read.two_phase}` before `{_text(ctx, broad)}`"
        return Fix.unsafe(title, Edit.insert(insert_at, insertion))
    block_start = _block_start(ctx, run)
    if block_start <= broad.span.end:
        block_start = run_line_start
    moved = text[block_start:run_end]
    insertion = "\n".join(lines) + "\n" + moved + "\n"
    following = source.line_of(run_end) + 1
    if following <= source.line_count and run_end < len(text):
        delete = Edit.delete(block_start, source.line_start(following))
    else:  # the RUN ends the file: drop the newline before it, keep the final-newline state
        line = source.line_of(block_start) - 1
        while line > 1 and not source.line_text(line).strip():
            line -= 1  # blank lines before it go too, or the file would end with a newline
        delete = Edit.delete(source.line_end(line), len(text))
    title = f"Copy the manifests and install before `{_text(ctx, broad)}`"
    return Fix.unsafe(title, Edit.insert(insert_at, insertion), delete)


# -- the fix for an install that reads nothing from the copy: move the COPY below it ------------


class _Sink(NamedTuple):
    below: Instruction  # the last dependency install the broad COPY moves below


class _Reach(NamedTuple):
    """How far down its stage the broad COPY can move."""

    stop: Instruction | None  # the first instruction that may see the copied files, if any
    reason: str  # why that one stops the move
    last_install: Instruction | None  # the last dependency install above ``stop``


def _reach(ctx: DockerfileContext, stage: "Stage", broad: Instruction) -> _Reach:
    dest = _destination(ctx, broad)
    if dest is None:
        return _Reach(broad, "the COPY destination cannot be resolved", None)
    copy_text = ctx.source.text[broad.span.start : broad.span.end]
    crossing = _Crossing(dest, frozenset(_VARIABLE_NAME.findall(copy_text)), not _absolute_dest(ctx, broad))
    last_install = None
    for instr in stage.instructions[stage.instructions.index(broad) + 1 :]:
        reason = _blocker(ctx, instr, crossing)
        if reason is not None:
            return _Reach(instr, reason, last_install)
        if _installs(ctx, instr):
            last_install = instr
    return _Reach(None, "", last_install)


def _sink_plan(reach: _Reach, run: Instruction) -> _Sink | str:
    """Where the broad COPY goes: below ``run`` and the dependency installs after it, up to the
    first instruction that may see its files; or why it cannot pass ``run``."""
    if reach.stop is not None and reach.stop.start_line <= run.start_line:
        return reach.reason
    last = reach.last_install
    return _Sink(last if last is not None and last.start_line > run.start_line else run)


def _sink_fix(ctx: DockerfileContext, broad: Instruction, plan: _Sink) -> Fix:
    """Cut the COPY (with the comment lines directly above it) and put it back after the last
    line of ``plan.below``. A COPY that stood between blank lines leaves one of them behind and
    takes one along, so the layout keeps its paragraphs."""
    source, text = ctx.source, ctx.source.text
    start = _block_start(ctx, broad)
    block = text[start : _line_end(ctx, broad)]
    first = source.line_of(start)
    next_line = source.line_of(_line_end(ctx, broad)) + 1
    separate = first > 1 and not source.line_text(first - 1).strip() and not source.line_text(next_line).strip()
    cut_end = source.line_start(next_line + 1 if separate else next_line)
    moved = ("\n" if separate else "") + block
    below_end = _line_end(ctx, plan.below)
    following = source.line_of(below_end) + 1
    if following <= source.line_count and below_end < len(text):
        insert = Edit.insert(source.line_start(following), moved + "\n")
    else:  # the install ends the file: the COPY now does, with the file's final-newline state
        insert = Edit.insert(len(text), "\n" + moved)
    title = f"Move `{_text(ctx, broad)}` below the dependency installs (after line {source.line_of(below_end)})"
    return Fix.unsafe(title, Edit.delete(start, cut_end), insert)


class _Crossing(NamedTuple):
    """What an instruction must leave alone for the broad COPY to move below it."""

    dest: str  # where the COPY puts the files
    variables: frozenset[str]  # the variables its line uses
    relative: bool  # its destination is relative to WORKDIR


def _absolute_dest(ctx: DockerfileContext, instr: Instruction) -> bool:
    copy = _copy_args(ctx, instr)
    return copy is not None and (copy.dest_value or "").startswith("/")


def _installs(ctx: DockerfileContext, instr: Instruction) -> bool:
    """A RUN that installs dependencies: from manifests, or packages named on its line."""
    from aicache_lint.knowledge.requirements import requested_packages

    return instr.keyword == "RUN" and (
        bool(_reads(ctx.facts, instr)) or any(requested_packages(inv) for inv in ctx.facts.invocations(instr))
    )


def _blocker(ctx: DockerfileContext, instr: Instruction, crossing: _Crossing) -> str | None:
    """Why the broad COPY cannot move below ``instr``, or None."""
    keyword = instr.keyword
    where = f"`{keyword}` on line {instr.start_line}"
    if keyword in _INERT or keyword in ("USER", "SHELL"):
        return None  # copied files are root-owned unless --chown says otherwise, whatever USER is
    if keyword in ("ENV", "ARG"):
        names = {kv.key for kv in key_values(instr.args, keyword, ctx.doc.escape)} & crossing.variables
        return f"{where} sets `{min(names)}`, which the COPY uses" if names else None
    if keyword == "WORKDIR":
        if crossing.relative:
            return f"{where} changes where the COPY's relative destination lands"
        state = ctx.facts.state(instr)
        value = expand(instr.args.text.strip(), state.run_env, ctx.doc.escape)
        if not value:
            return f"{where} cannot be resolved"
        folder = posixpath.normpath(posixpath.join(state.workdir, value))
        return f"{where} enters `{crossing.dest}`" if _inside(folder, crossing.dest) else None
    if keyword in ("COPY", "ADD"):
        target = _destination(ctx, instr)
        if target is None:
            return f"{where} has a destination that cannot be resolved"
        if _overlaps(target, crossing.dest):
            return f"{where} writes to `{target}`"
        return None
    if keyword == "RUN":
        return _run_blocker(ctx, instr, crossing.dest, where)
    return f"{where} may matter to the copied files"


# Splits expanded shell words into the pieces that may name a path (`--target=/x`, `A=/x:/y`).
_PIECES = re.compile(r"[\s;&|()<>'\"`=,:]+")
_PATH_START = re.compile(r"[A-Za-z0-9_./*?~]")


def _run_blocker(ctx: DockerfileContext, run: Instruction, dest: str, where: str) -> str | None:
    """Why a RUN may see the files the broad COPY puts at ``dest`` (so the COPY cannot move below
    it), or None. The test is on text: a RUN that runs in ``dest``, names it, a directory above
    it or anything below it (relative to its WORKDIR too, globs and `~` included), uses a
    variable the Dockerfile does not set, or runs with a variable set to such a path."""
    state = ctx.facts.state(run)
    workdir = state.workdir
    if _inside(workdir, dest):
        return f"{where} runs in `{workdir}`"
    for name, value in state.run_env.items():
        if value and any(p.startswith("/") and _overlaps(posixpath.normpath(p), dest) for p in _PIECES.split(value)):
            return f"{where} runs with `{name}` set to `{value}`"
    text = ctx.source.text
    pieces = [text[f.span.start : f.span.end] for f in run.flags]
    pieces += [run.args.text] + [h.content for h in run.heredocs]
    for piece in pieces:
        for word in split_words(piece, ctx.doc.escape):
            value = expand(word.raw, state.run_env, ctx.doc.escape)
            if value is None:
                return f"{where} uses a variable the Dockerfile does not set"
            for token in _PIECES.split(value):
                if _names(token, workdir, dest):
                    return f"{where} names `{token}`"
    return None


def _names(token: str, workdir: str, dest: str) -> bool:
    """Whether a word piece may name ``dest``, a directory above it or a path below it."""
    if not token or not _PATH_START.match(token):
        return False
    if token.startswith("~"):
        return _overlaps("/root", dest) or _overlaps("/home", dest)
    glob = _GLOB.search(token)
    if glob:  # a glob reaches every name in the directory it starts in
        token = token[: glob.start()].rpartition("/")[0] or ("/" if token.startswith("/") else ".")
    if ".." in token.split("/"):
        return True
    return _overlaps(posixpath.normpath(posixpath.join(workdir, token)), dest)


def _overlaps(path: str, dest: str) -> bool:
    return _inside(path, dest) or _inside(dest, path)


def _line_end(ctx: DockerfileContext, instr: Instruction) -> int:
    source = ctx.source
    end = instr.span.end
    line = source.line_of(max(end - 1, instr.span.start))
    return source.line_end(line)


def _block_start(ctx: DockerfileContext, instr: Instruction) -> int:
    """Start of the comment lines directly above ``instr`` (no blank line between), or of its line."""
    source = ctx.source
    line = source.line_of(instr.span.start)
    comments = {source.line_of(c.start) for c in ctx.doc.comments}
    previous_end = 0
    index = ctx.doc.instructions.index(instr)
    if index > 0:
        previous_end = source.line_of(ctx.doc.instructions[index - 1].span.end)
    first = line
    while first - 1 > previous_end and first - 1 in comments and source.line_text(first - 1).strip():
        first -= 1
    return source.line_start(first)
