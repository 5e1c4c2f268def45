"""AIC301 copy-before-dependency-install."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Iterator, NamedTuple

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.words import expand, split_words
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import State
    from aicache_lint.dockerfile.shell import Invocation, Word

# Instructions a RUN cannot depend on: moving the RUN above them changes nothing it sees.
_INERT = frozenset("LABEL EXPOSE MAINTAINER CMD ENTRYPOINT HEALTHCHECK STOPSIGNAL ONBUILD".split())
# Programs that read nothing from the build context (when they name no local path).
_HARMLESS = frozenset("apt-get apt apk dnf yum microdnf true : echo".split())
_SAFE_PATH = re.compile(r"[A-Za-z0-9._@+-][A-Za-z0-9._@+/-]*")
_GLOB = re.compile(r"[*?\[]")
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


class CopyBeforeDependencyInstall(Rule):
    """
    ## What it does
    Flags a `RUN` that installs dependencies from manifest files (`pip install -r
    requirements.txt`, `uv pip install -r`, `uv sync`, `poetry install`, `pip install .` /
    `pip install -e .`, `npm ci`, `yarn install`, `conda env create -f environment.yml`) after a
    `COPY . <dir>` (or `ADD .`, `COPY ./ <dir>`, `COPY * <dir>`) of the whole build context in the same
    stage, when the manifests it reads come from that copy. `COPY --from=...` and heredoc `COPY`
    are not context copies. A project install (`uv sync`, `poetry install`, `pip install .`) after
    the broad `COPY` passes when an earlier `RUN` of the stage, before the `COPY`, already installed
    the dependencies (the two-phase pattern); so do `pip install --no-deps .`, `poetry install
    --only-root` and installs whose manifests come from elsewhere (a bind mount, another path).

    ## Why is this bad?
    A `COPY` of the whole context changes whenever any source file changes, and every later
    instruction of the stage is rebuilt with it. The dependency install then runs again on every
    code edit, and downloads and builds PyTorch, CUDA wheels or `node_modules` again, although the
    manifests did not change.

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
    fix_safety = "unsafe"

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for stage in facts.stages:
            broad: Instruction | None = None
            installed_before = False  # a manifest install ran before the broad COPY
            for instr in stage.instructions:
                if instr.inner is not None:
                    continue
                if instr.keyword in ("COPY", "ADD") and broad is None and _is_broad_copy(ctx, instr):
                    broad = instr
                    continue
                if instr.keyword != "RUN":
                    continue
                reads = _reads(facts, instr)
                if broad is None:
                    installed_before = installed_before or any(r.manifests for r in reads)
                    continue
                if not reads:
                    continue
                violation = _check_run(ctx, stage, broad, instr, reads, installed_before)
                if violation is not None:
                    yield violation


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
    from aicache_lint.rules.dockerfile.requirements import _VALUE_OPTIONS

    words: list["Word"] = []
    manifests: list[str] = []
    for short, long in (("-r", "--requirement"), ("-c", "--constraint")):
        found = _option_values(args, short, long)
        if found is None:
            return None
        words += found[0]
        manifests += found[1]
    editable = _option_values(args, "-e", "--editable") or ([], [])
    project = any(_is_local_path(v) for v in editable[1])
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a.value.startswith("-"):
            skip = a.value in _VALUE_OPTIONS
            continue
        if _is_local_path(a.value):
            project = True
    if project and _has(args, "--no-deps"):
        project = False  # only the project itself: nothing to download
        if not manifests:
            return None
    if not manifests and not project:
        return None
    reason = "pip has no dependencies-only install of a local project: move its requirements to a file" if project else None
    return Read(inv, tool, manifests, words, project, None, None, reason)


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


# -- one RUN -----------------------------------------------------------------------------------


def _check_run(ctx: DockerfileContext, stage, broad: Instruction, run: Instruction, reads: list[Read],
               installed_before: bool) -> Violation | None:
    state = ctx.facts.state(run)
    copy = _copy_args(ctx, broad)
    assert copy is not None
    broad_state = ctx.facts.state(broad)
    dest = posixpath.normpath(posixpath.join(broad_state.workdir, copy.dest_value)) if copy.dest_value else None
    workdir = state.workdir

    def from_copy(path: str) -> bool:
        if dest is None:
            return True
        return dest == "/" or path == dest or path.startswith(dest + "/")

    hits: list[tuple[Read, list[str]]] = []  # reads whose manifests come from the broad copy
    for read in reads:
        if read.project and installed_before:
            continue  # the two-phase pattern: dependencies were installed before the COPY
        if read.manifests is None:
            if from_copy(workdir):
                hits.append((read, []))
            continue
        resolved = [posixpath.normpath(posixpath.join(workdir, m)) for m in read.manifests]
        inside = [p for p in resolved if from_copy(p)]
        if inside or (read.project and from_copy(workdir)):
            hits.append((read, inside))
    if not hits:
        return None
    first = hits[0][0]
    names = ", ".join(dict.fromkeys(m for r, _ in hits for m in (r.manifests or [])))
    what = f"reads {names}" if names else "reads files"
    message = (
        f"`{first.tool}` {what} from the build context after `{_text(ctx, broad)}` copied all of it: "
        "every source edit re-runs the install; copy the manifests and install first"
    )
    fix, reason = _fix(ctx, broad, copy, dest, run, reads, hits, state)
    if fix is None and reason:
        message += f" (no automatic fix: {reason})"
    return Violation(run.keyword_span, message, fix)


def _text(ctx: DockerfileContext, instr: Instruction) -> str:
    text = ctx.source.text[instr.span.start : instr.span.end]
    first_line = text.split("\n", 1)[0].rstrip("\r")
    return first_line if len(first_line) <= 60 else first_line[:57] + "..."


def _fix(ctx: DockerfileContext, broad: Instruction, copy: _Copy, dest: str | None, run: Instruction,
         reads: list[Read], hits: list[tuple[Read, list[str]]], state: "State") -> tuple[Fix | None, str | None]:
    source, text = ctx.source, ctx.source.text
    for read, _ in hits:
        if read.no_fix:
            return None, read.no_fix
        if read.manifests is None:
            return None, "the manifest files are not known"
        if any(w.has_expansion or _GLOB.search(w.value) for w in read.words):
            return None, "a manifest name holds a variable or a glob"
    # The broad COPY: exactly the context root, to a known directory, without filters.
    if len(copy.sources) != 1 or not _is_root_source(copy.sources[0]):
        return None, "the broad COPY is not a plain copy of the context root"
    if any(f.key in ("exclude", "parents") for f in broad.flags):
        return None, "the broad COPY filters its sources"
    if dest is None or not copy.dest_value or any(c in copy.dest_raw for c in " \t\"'\\`"):
        return None, "the COPY destination cannot be resolved"
    # Nothing between the COPY and the RUN that the RUN may depend on.
    between = ctx.doc.instructions[ctx.doc.instructions.index(broad) + 1 : ctx.doc.instructions.index(run)]
    blocker = next((i for i in between if i.keyword not in _INERT), None)
    if blocker is not None:
        return None, f"`{blocker.keyword}` between the COPY and the RUN may matter to it"
    script = ctx.facts.script(run)
    if script is None or script.opaque:
        return None, "the RUN cannot be read completely"
    invs = ctx.facts.invocations(run)
    if len(invs) != sum(1 for c in script.commands if c.words):
        return None, "the RUN runs commands that cannot be identified"
    hit_invs = {id(r.inv.command) for r, _ in hits}
    read_invs = {id(r.inv.command) for r in reads}
    for inv in invs:
        if id(inv.command) in hit_invs:
            continue
        if id(inv.command) in read_invs or not _harmless(inv):
            return None, f"the RUN also runs `{inv.program}`, which may read the source"
    # The manifest COPY lines, one per directory.
    by_dir: dict[str, list[str]] = {}
    for _read, inside in hits:
        for path in inside:
            rel = posixpath.relpath(path, dest)
            if rel.startswith("..") or not _SAFE_PATH.fullmatch(rel):
                return None, "a manifest path cannot be written safely"
            folder, name = posixpath.split(rel)
            names = by_dir.setdefault(folder, [])
            if rel not in names:
                names.append(rel)
    if not by_dir:
        return None, "the manifest files are not known"
    kw = edits.keyword(broad, source, "COPY")
    flags = "".join(" " + text[f.span.start : f.span.end] for f in broad.flags if f.key in _KEPT_FLAGS)
    indent = text[source.line_start(source.line_of(broad.span.start)) : broad.span.start]
    base = copy.dest_raw.rstrip("/") or "/"
    lines = []
    for folder, names in by_dir.items():
        target = base if not folder else posixpath.join(base, folder)
        if not target.endswith("/"):
            target += "/"
        lines.append(f"{indent}{kw}{flags} {' '.join(names)} {target}")
    insert_at = _block_start(ctx, broad)
    two_phase = [r for r, _ in hits if r.project]
    run_line_start = source.line_start(source.line_of(run.span.start))
    run_end = _line_end(ctx, run)
    if two_phase:
        read = two_phase[0]
        if len(hits) != 1 or len(invs) != 1 or script.exec_form or read.anchor is None:
            return None, "a two-phase install needs a RUN that runs only the install, in shell form"
        at = read.inv.command.script.file_span(read.anchor.start, read.anchor.end).end
        duplicate = text[run_line_start:at] + " " + read.two_phase + text[at:run_end]
        insertion = "\n".join(lines) + "\n" + duplicate + "\n"
        title = f"Install the dependencies with `{read.two_phase}` before `{_text(ctx, broad)}`"
        return Fix.unsafe(title, Edit.insert(insert_at, insertion)), None
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
    return Fix.unsafe(title, Edit.insert(insert_at, insertion), delete), None


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
