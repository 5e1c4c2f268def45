"""Shared logic of the package-cache rules: which RUNs download with a tool, where that tool
caches for the RUN's user and environment, and whether a cache mount covers that directory."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.facts import State, covers_path, mount_target, runs_under_sudo  # noqa: F401 (re-exported)
from aicache_lint.dockerfile.model import Flag, Instruction
from aicache_lint.dockerfile.words import expand
from aicache_lint.fix import Edit, Fix, overlapping
from aicache_lint.source import Span

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Facts
    from aicache_lint.dockerfile.shell import Invocation, Word
    from aicache_lint.rules.base import DockerfileContext


class CacheTool(NamedTuple):
    program: str  # canonical program name from shell.normalize
    label: str  # how messages name it
    cache_var: str  # env var that moves the cache
    xdg_name: str  # the directory name under $XDG_CACHE_HOME / ~/.cache
    no_cache_flags: tuple[str, ...]
    no_cache_env: str
    any_value_disables: bool  # pip: any non-empty PIP_NO_CACHE_DIR disables; uv: only true values
    downloads: tuple[tuple[str, ...], ...]  # subcommand paths that download packages
    aliases: tuple[str, ...] = ()  # programs that always download (`uvx` is `uv tool run`)
    no_download_flags: tuple[str, ...] = ()  # e.g. `uv run --no-sync` installs nothing

    def downloading(self, inv: "Invocation") -> bool:
        from aicache_lint.dockerfile.shell import subcommand

        if any(w.value in self.no_download_flags for w in inv.args):
            return False
        if inv.program in self.aliases:
            return True
        if inv.program != self.program:
            return False
        longest = max(len(d) for d in self.downloads)
        words = subcommand(inv, longest)
        return any(tuple(words[: len(d)]) == d for d in self.downloads)

    def cache_dir(self, inv: "Invocation", state: State) -> str | None:
        """Where this invocation caches: ``--cache-dir``, then env prefix, then the stage."""
        if not state.is_root and runs_under_sudo(inv):
            return None  # root, with a HOME that depends on sudoers (-E, -H, env_reset)
        flag = option_value(inv.args, "--cache-dir")
        if flag is not None:
            return posixpath.normpath(posixpath.join(state.workdir, flag)) if flag else None
        prefix = {k: (w.value if not w.has_expansion else None) for k, w in inv.env.items()}
        return state.cache_dir(self.xdg_name, self.cache_var, prefix)

    def disabling_flags(self, inv: "Invocation") -> list["Word"]:
        return [w for w in inv.args if w.value.split("=", 1)[0] in self.no_cache_flags]

    def disables(self, value: str | None) -> bool:
        """Whether a ``<no_cache_env>=value`` setting turns the cache off."""
        if value is None:
            return True  # set to something we cannot see: assume the worst
        if value == "":
            return False
        if self.any_value_disables:
            return True
        return value.strip().lower() in ("1", "true", "yes", "y", "on", "t")


PIP = CacheTool(
    program="pip",
    label="pip",
    cache_var="PIP_CACHE_DIR",
    xdg_name="pip",
    no_cache_flags=("--no-cache-dir",),
    no_cache_env="PIP_NO_CACHE_DIR",
    any_value_disables=True,
    downloads=(("install",), ("download",), ("wheel",)),
)
UV = CacheTool(
    program="uv",
    label="uv",
    cache_var="UV_CACHE_DIR",
    xdg_name="uv",
    no_cache_flags=("--no-cache", "-n", "--no-cache-dir"),
    no_cache_env="UV_NO_CACHE",
    any_value_disables=False,
    # `run`, `add` and `lock` sync or resolve the project first (uv docs, "Projects").
    downloads=(("pip", "install"), ("pip", "sync"), ("sync",), ("tool", "install"), ("tool", "run"),
               ("run",), ("add",), ("lock",)),
    aliases=("uvx",),
    no_download_flags=("--no-sync", "--offline"),
)
POETRY = CacheTool(
    program="poetry",
    label="poetry",
    cache_var="POETRY_CACHE_DIR",
    xdg_name="pypoetry",
    # The global `--no-cache` ("Disables Poetry source caches", poetry >= 1.2, python-poetry/poetry#5519).
    no_cache_flags=("--no-cache",),
    no_cache_env="",
    any_value_disables=False,
    downloads=(("install",), ("add",), ("lock",), ("update",), ("sync",)),
)
PYTHON_TOOLS = (PIP, UV, POETRY)


def unknown_dir_reason(inv: "Invocation", state: State) -> str:
    """Why the cache dir of ``inv`` cannot be known, for the message."""
    if state.user is None:
        return "the stage runs as its base image's user, whom the Dockerfile does not name"
    if not state.is_root and runs_under_sudo(inv):
        return "it runs under `sudo`, whose HOME depends on the sudoers policy"
    if not state.is_root and not state.home_known:
        return f"the home of user `{state.user_info.name}` is not known: this Dockerfile does not create it for certain"
    return "it depends on a variable set outside the Dockerfile"


def missing_mount_message(
    tool: CacheTool, ctx: "DockerfileContext", run: Instruction, inv: "Invocation", directory: str | None, why_not: str = ""
) -> str:
    if directory is not None:
        message = f"`{tool.label}` downloads packages with no cache mount at `{directory}`: every rebuild re-downloads them"
        return f"{message} (no fix: {why_not})" if why_not else message
    reason = unknown_dir_reason(inv, ctx.facts.state(run))
    return f"`{tool.label}` downloads packages with no cache mount; its cache dir cannot be known ({reason})"


def option_value(args: list["Word"], name: str) -> str | None:
    """The value of ``--name VALUE`` / ``--name=VALUE`` in ``args`` (last one wins), else None."""
    found = None
    for i, w in enumerate(args):
        if w.value == name and i + 1 < len(args):
            found = args[i + 1].value if not args[i + 1].has_expansion else ""
        elif w.value.startswith(name + "="):
            found = w.value[len(name) + 1 :] if not w.has_expansion else ""
    return found


def cache_mount_targets(run: Instruction, state: State) -> list[tuple[Flag, str | None]]:
    """The RUN's cache mounts with their absolute target (None when it cannot be known)."""
    return [(flag, mount_target(flag, state)) for flag in (run.inner or run).mounts if flag.mount_type == "cache"]


def covers(target: str, directory: str) -> bool:
    return covers_path(target, directory)


def mount_covering(run: Instruction, state: State, directory: str | None) -> tuple[bool, Flag | None]:
    """(covered, mount): covered is True when a cache mount covers ``directory`` -- or might, when a
    target cannot be known (no report is better than a wrong one)."""
    for flag, target in cache_mount_targets(run, state):
        if target is None or directory is None:
            return True, flag  # cannot tell: assume it does
        if covers(target, directory):
            return True, flag
    return False, None


class MountPlan(NamedTuple):
    """How to add a cache mount for the RUN's user: the ``--mount`` text, or why it cannot be."""

    flag: str | None  # None: no fix can be offered (``blocked`` says why)
    unsafe: str | None = None  # why the mount may change the image, for the fix title
    blocked: str | None = None
    prepare: tuple[Edit, ...] = ()  # edits the mount needs above the RUN (`RUN mkdir -p` as the user)

    def fix(self, title: str, *edit_list: Edit) -> Fix | None:
        if self.flag is None:
            return None
        if self.unsafe:
            return Fix.unsafe(f"{title} ({self.unsafe})", *edit_list, *self.prepare)
        return Fix.safe(title, *edit_list, *self.prepare)


_PLAIN_PATH = re.compile(r"[!-~]+")
_NOT_PLAIN = frozenset(",\"'`\\$")


def plain_path(path: str) -> bool:
    """Whether a fix may write ``path`` as is, as a `--mount` target or an `ENV` value: printable
    ASCII (BuildKit splits a line at the bytes of Unicode blanks, so a NEL, LS or no-break space
    would cut it), no blank, no comma or quote (a mount value is CSV), no `$` (BuildKit would
    expand it again) and no escape character."""
    return bool(_PLAIN_PATH.fullmatch(path)) and not _NOT_PLAIN.intersection(path)


def mount_flag(
    ctx: "DockerfileContext", run: Instruction, directory: str, state: State, existing: tuple[str, ...] = ()
) -> MountPlan:
    """The ``--mount`` for a cache at ``directory`` in ``run``. ``existing`` names directories
    known to exist in the image (a conda root prefix ...)."""
    if not plain_path(directory):
        return MountPlan(None, blocked=f"`{directory}` cannot be written as a `--mount` target")
    same = _same_target_mount(ctx, run, directory)
    if same is not None:
        # Another RUN of the stage already mounts this cache: share it, options and all (a mount
        # with other uid/gid/mode/id options would be a different, cold cache -- DOMAIN §1.4).
        return MountPlan(f"--mount={same}", state.assumption(directory))
    owner = owner_options(ctx, run, state, directory, existing)
    if owner.flag is None:
        return owner
    return owner._replace(flag=f"--mount=type=cache,target={directory}{owner.flag}")


def owner_options(
    ctx: "DockerfileContext", run: Instruction, state: State, directory: str, existing: tuple[str, ...] = ()
) -> MountPlan:
    """The ``,uid=…,gid=…`` (as ``flag``; "" for root) a cache mount at ``directory`` needs for
    the RUN's user. Under a non-root user the mount must not leave a root-owned directory that
    the user needs: BuildKit creates the target and its missing parents owned by root, and they
    stay in the image (DOMAIN §11.1). Inside the user's home the plan creates them as the user
    first; where it cannot, there is no fix."""
    assumed = state.assumption(directory)
    if state.is_root:
        return MountPlan("", assumed)
    info = state.user_info
    if info.uid is None:
        return MountPlan(None, blocked=f"the uid of user `{info.name}` is not known here, and a cache mount "
                                       "without `uid=` is not writable for it")
    opts = f",uid={info.uid}" + (f",gid={info.gid}" if info.gid is not None else "")
    home = posixpath.normpath(info.home) if info.home else None
    if home and home != "/" and directory.startswith(home + "/"):
        if not state.dir_exists(home):
            return MountPlan(None, blocked=f"the home `{home}` of `{info.name}` is not created in this Dockerfile, "
                                           f"so BuildKit would create it owned by root")
        prepare = make_dirs_as_user(ctx, run, state, directory)
        if prepare is None:
            return MountPlan(None, blocked=f"BuildKit would create `{directory}` and its missing parents owned by "
                                           f"root, and they cannot be created as `{info.name}` first here")
        return MountPlan(opts, assumed, prepare=prepare)
    parent = posixpath.dirname(directory)
    if not state.dir_exists(parent) and parent not in existing:
        # BuildKit creates missing parents of a mount point owned by root, in the image.
        return MountPlan(
            opts,
            f"BuildKit would create `{parent}` owned by root, and `{info.name}` could no longer write "
            f"there; create it as `{info.name}` first or point {_cache_var_hint(directory)} elsewhere",
        )
    return MountPlan(opts, assumed)


_SHELL_SAFE_DIR = re.compile(r"/[A-Za-z0-9_.@+/-]*")  # written unquoted after `mkdir -p`


def make_dirs_as_user(ctx: "DockerfileContext", run: Instruction, state: State, directory: str) -> tuple[Edit, ...] | None:
    """Edits creating ``directory`` (and its missing parents) as the RUN's user before the RUN,
    so BuildKit mounts over a directory the user owns: ``()`` when it already exists, None when
    that cannot be done here. The new ``RUN mkdir -p`` goes above the first RUN of the stage that
    runs as this user with the directory still missing, so that every fix needing it writes the
    same line (identical edits apply once)."""
    if state.dir_exists(directory):
        return ()
    if run.inner is not None or not _SHELL_SAFE_DIR.fullmatch(directory):
        return None
    facts = ctx.facts
    anchor = facts.block_start(run, directory)
    # Every directory on the way down that exists there must be the user's own (else mkdir fails).
    at = facts.state(anchor)
    path = directory
    while not at.dir_exists(path):
        path = posixpath.dirname(path)
    if at.dirs.get(path, at.user_info.name) != at.user_info.name and path != at.home:
        return None
    keyword = edits.keyword(run, ctx.source, "RUN")
    return (edits.insert_line_above(ctx.source, anchor, f"{keyword} mkdir -p {directory}"),)


def _cache_var_hint(directory: str) -> str:
    return "the cache variable" if "/.cache/" not in directory else "`XDG_CACHE_HOME` or the tool's cache variable"


def _same_target_mount(ctx: "DockerfileContext", run: Instruction, directory: str) -> str | None:
    """The raw ``--mount`` value of another cache mount in the run's stage with this target."""
    stage = ctx.facts.stage_of(run)
    if stage is None:
        return None
    for other, flag in ctx.facts.cache_mounts(stage).get(directory, ()):
        if other is not run and flag.value_span is not None:
            return ctx.source.text[flag.value_span.start : flag.value_span.end]
    return None


def missing_mount_findings(
    ctx: "DockerfileContext",
    tool: CacheTool,
    dir_of: "Callable[[Instruction, Invocation, State], str | None] | None" = None,
    mount_dirs: "Callable[[DockerfileContext, Instruction, Invocation, State, str], list[str]] | None" = None,
    existing: "tuple[str, ...] | Callable[[Instruction], tuple[str, ...]]" = (),
) -> Iterator[tuple[Instruction, "Invocation", str | None, Fix | None, str]]:
    """For each RUN that downloads with ``tool`` and has no cache mount at its cache dir:
    (run, first invocation, cache dir, fix, why there is no fix -- "" when none is said).

    ``dir_of`` replaces the tool's own cache-dir reading; ``mount_dirs`` names the directories to
    mount for a cache dir (poetry: its `cache` and `artifacts` subdirectories only, when its
    virtualenvs would land in the cache dir); ``existing`` names directories known to exist in
    the image (see ``owner_options``), or a function of the RUN giving them (called after
    ``dir_of`` has run for that RUN)."""
    facts = ctx.facts
    for run in facts.runs():
        state = facts.state(run)
        pending: list[tuple["Invocation", str | None, tuple[str, ...]]] = []
        for inv in facts.invocations(run):
            if not tool.downloading(inv):
                continue
            directory = dir_of(run, inv, state) if dir_of is not None else tool.cache_dir(inv, state)
            if directory is None:
                if not cache_mount_targets(run, state):
                    pending.append((inv, None, ()))  # report; the right target is unknown
                continue
            covered, _ = mount_covering(run, state, directory)
            if covered or _looks_mounted(run, state, tool):
                continue
            targets = mount_dirs(ctx, run, inv, state, directory) if mount_dirs is not None else [directory]
            targets = [t for t in targets if not mount_covering(run, state, t)[0]]
            if targets:
                pending.append((inv, directory, tuple(targets)))
        if not pending:
            continue
        first, directory, targets = pending[0]
        fix, why_not = None, ""
        if (
            directory is not None
            and len({p[2] for p in pending}) == 1
            and not any(_other_mount_over(run, state, t) for t in targets)
            and not any(_links_into_cache(tool, inv, state) for inv, _, _ in pending)
        ):
            known = existing(run) if callable(existing) else existing
            plan = combine_plans([mount_flag(ctx, run, t, state, known) for t in targets])
            stuck = _stuck_cleanup(ctx, run, state, list(targets))
            if plan.flag is None:
                why_not = plan.blocked or ""
            elif stuck:
                why_not = f"`{stuck}` in this RUN would empty the new cache mount and cannot be removed safely"
            else:
                fix = _mount_fix(ctx, run, tool, list(targets), [inv for inv, _, _ in pending], plan)
        yield run, first, directory, fix, why_not


def _stuck_cleanup(ctx: "DockerfileContext", run: Instruction, state: State, targets: list[str]) -> str | None:
    """A command of ``run`` that would empty a cache mounted at ``targets`` (`conda clean -ya`, `pip
    cache purge`) and that cannot be removed (after `esac &&`, in exec form ...): its label. AIC113
    removes the others once the mount is there; with this one left, a mount would only add that
    finding."""
    from aicache_lint.knowledge.system_cache import cleanup_edit_sets, cleanups

    found = cleanups(ctx, run, state, list(targets))
    return next((c.label for c, dropped in zip(found, cleanup_edit_sets(ctx, found)) if dropped is None), None)


def _links_into_cache(tool: CacheTool, inv: "Invocation", state: State) -> bool:
    """uv with link mode `symlink` (or one that cannot be known) leaves installed files as links
    into its cache; with the cache on a mount, which is not in the image, the image would ship
    dangling links (DOMAIN §2.2), so no mount is offered."""
    if tool.program != "uv":
        return False
    mode = option_value(inv.args, "--link-mode")
    if mode is None:
        word = inv.env.get("UV_LINK_MODE")
        if word is not None:
            mode = word.value if not word.has_expansion else ""
        else:
            mode = state.run_env.get("UV_LINK_MODE", "copy")
    return not mode or mode.strip().lower() == "symlink"


def _other_mount_over(run: Instruction, state: State, directory: str) -> bool:
    """A non-cache mount (often `--mount=target=...` missing `type=cache`, a read-only bind) at or
    above the cache dir: a second mount on top would shadow it or be shadowed by it, so what
    pip/uv then sees cannot be known -- report without a fix."""
    for flag in (run.inner or run).mounts:
        if flag.mount_type == "cache" or not flag.mount_target:
            continue
        value = expand(flag.mount_target, state.run_env)
        target = posixpath.normpath(posixpath.join(state.workdir, value)) if value else None
        if target is None or covers(target, directory):
            return True
    return False


def _looks_mounted(run: Instruction, state: State, tool: CacheTool) -> bool:
    """A cache mount that is clearly meant for this tool but sits elsewhere: that is a target
    mismatch, not a missing mount, and adding a second mount would only hide it."""
    for _, target in cache_mount_targets(run, state):
        if target and posixpath.basename(target.rstrip("/")) == tool.xdg_name:
            return True
    return False


def _mount_fix(
    ctx: "DockerfileContext", run: Instruction, tool: CacheTool, targets: list[str], invs: list["Invocation"],
    plan: MountPlan,
) -> Fix | None:
    # One insertion: two at the same offset would be applied in separate passes.
    edit_list: list[Edit] = [edits.add_flag(run, plan.flag or "")]
    for inv in invs:
        for word in tool.disabling_flags(inv):
            if "=" in word.value:
                continue  # `--no-cache-dir=false` style: leave to AIC102's reading
            edit = remove_word(ctx, inv, word)
            if edit is None:
                return None
            edit_list.extend(edit)
    if overlapping(edit_list):
        return None
    return plan.fix(f"Mount a {tool.label} cache at {' and '.join(targets)}", *edit_list)


def combine_plans(plans: list[MountPlan]) -> MountPlan:
    """One plan for several mounts added together: every reason, every preparing edit once."""
    unsafe = "; ".join(dict.fromkeys(p.unsafe for p in plans if p.unsafe)) or None
    blocked = next((p.blocked for p in plans if p.flag is None), None)
    # Preparing lines for several targets go in at one point: one insertion, in target order.
    by_point: dict[int, list[Edit]] = {}
    for e in dict.fromkeys(e for p in plans for e in p.prepare):
        by_point.setdefault(e.start, []).append(e)
    prepare = tuple(Edit.insert(at, "".join(e.content for e in group)) for at, group in by_point.items())
    flag = None if blocked else " ".join(p.flag for p in plans if p.flag)
    return MountPlan(flag, unsafe, blocked, prepare)


def remove_word(ctx: "DockerfileContext", inv: "Invocation", word: "Word") -> tuple[Edit, ...] | None:
    """Edits deleting one word of ``inv``'s command, None when that cannot be done safely (a JSON
    string of an exec-form RUN is not a shell word: removing it needs the comma too)."""
    script = inv.command.script  # nested for `sh -c` / heredoc bodies: maps to the file
    if script.exec_form:
        return None
    return edits.delete_word(ctx.source, script.file_span(word.start, word.end), ctx.doc.escape)


def program_span(ctx: "DockerfileContext", run: Instruction, inv: "Invocation") -> Span:
    """The span that names the command, e.g. ``python3 -m pip install``."""
    words = inv.program_words + inv.args[:1]
    # The command's own script (nested for `sh -c` / heredoc bodies) maps its offsets to the file.
    return inv.command.script.file_span(words[0].start, words[-1].end)


# -- uv's managed Python downloads --------------------------------------------------------------

# `uv python install` streams the Python build it downloads straight into place; it keeps the
# archive only when UV_PYTHON_CACHE_DIR is set and not empty, and then reuses it (uv >= 0.7.0:
# astral-sh/uv `crates/uv-python/src/downloads.rs` `fetch_from_url`, `crates/uv-static/src/env_vars.rs`).
# uv's Docker guide puts that directory inside the uv cache mount: `/root/.cache/uv/python`.
UV_PYTHON_CACHE = "UV_PYTHON_CACHE_DIR"
_SHELL_SAFE_PATH = re.compile(r"/[A-Za-z0-9_.+/-]*")


class PythonDownload(NamedTuple):
    run: Instruction
    inv: "Invocation"
    message: str
    fix: Fix | None


def uv_python_downloads(ctx: "DockerfileContext") -> Iterator[PythonDownload]:
    """Each `uv python install` whose download no cache mount keeps, with the fix when one is
    known: the variable for the command (when unset) and a cache mount that holds its directory."""
    from aicache_lint.dockerfile.shell import subcommand

    facts = ctx.facts
    for run in facts.runs():
        state = facts.state(run)
        for inv in facts.invocations(run):
            if inv.program != "uv" or subcommand(inv, 2) != ["python", "install"]:
                continue
            found = _python_download(ctx, run, state, inv)
            if found is not None:
                yield found


def _python_download(
    ctx: "DockerfileContext", run: Instruction, state: State, inv: "Invocation"
) -> PythonDownload | None:
    targets = [t for _, t in cache_mount_targets(run, state)]
    word = inv.env.get(UV_PYTHON_CACHE)
    if word is not None:
        value = word.value if not word.has_expansion else None
    else:
        value = state.run_env.get(UV_PYTHON_CACHE, "")
    if value is None:
        if targets:
            return None  # set to something we cannot see, and a mount may hold it
        return PythonDownload(
            run, inv, f"`uv python install` runs with no cache mount, and where `{UV_PYTHON_CACHE}` points cannot "
            "be known: every rebuild downloads the Python build again", None,
        )
    if value:
        directory = posixpath.normpath(posixpath.join(state.workdir, value))
        if mount_covering(run, state, directory)[0]:
            return None
        message = (
            f"`uv python install` keeps the Python build it downloads in `{directory}` (`{UV_PYTHON_CACHE}`), "
            "which no cache mount holds: every rebuild downloads it again, and the archive stays in the layer"
        )
        prefix = None
    else:
        uv_dir = UV.cache_dir(inv, state)
        directory = posixpath.join(uv_dir, "python") if uv_dir else None
        message = (
            f"`uv python install` downloads the Python build again on every rebuild: uv keeps the archive "
            f"only when `{UV_PYTHON_CACHE}` is set, in a directory that a cache mount must hold"
        )
        prefix = f"{UV_PYTHON_CACHE}={directory} "
    fix, reason = _python_fix(ctx, run, state, inv, directory, prefix, targets)
    if reason:
        message += f" (no fix: {reason})"
    return PythonDownload(run, inv, message, fix)


def _python_fix(
    ctx: "DockerfileContext", run: Instruction, state: State, inv: "Invocation", directory: str | None,
    prefix: str | None, targets: list[str | None],
) -> tuple[Fix | None, str | None]:
    """The fix for one `uv python install`, or why there is none."""
    if directory is None:
        return None, f"uv's cache dir cannot be known: {unknown_dir_reason(inv, state)}"
    if None in targets:
        return None, "a cache mount's target cannot be known"
    if _looks_mounted(run, state, UV) and not mount_covering(run, state, directory)[0]:
        return None, "a uv cache mount sits at another path than uv's cache dir"
    uv_dir = UV.cache_dir(inv, state)
    target = uv_dir if uv_dir and covers(uv_dir, directory) else directory
    if _other_mount_over(run, state, target):
        return None, f"a non-cache mount sits over `{target}`"
    edit_list: list[Edit] = []
    title = ""
    if prefix is not None:
        command = inv.command
        if command.script.exec_form:
            return None, f"an exec-form RUN cannot set `{UV_PYTHON_CACHE}` for the command"
        if command.words[0] is not inv.program_words[0]:
            return None, f"uv runs under `{command.words[0].value}`, which may not pass `{UV_PYTHON_CACHE}` on"
        if not _SHELL_SAFE_PATH.fullmatch(directory):
            return None, f"`{directory}` would need quoting"
        at = command.script.file_span(command.words[0].start, command.words[0].start).start
        edit_list.append(Edit.insert(at, prefix))
        title = f"Keep uv's Python downloads in {directory} ({UV_PYTHON_CACHE})"
    plan = MountPlan("", state.assumption(target))
    if not mount_covering(run, state, target)[0]:
        plan = mount_flag(ctx, run, target, state)
        if plan.flag is None:
            return None, plan.blocked
        edit_list.append(edits.add_flag(run, plan.flag))
        title = f"{title} and mount a uv cache at {target}" if title else f"Mount a uv cache at {target}"
    return plan.fix(title, *edit_list), None


# Cache dirs no bind mount is ever meant for: the root defaults of DOMAIN §2's table.
WELL_KNOWN_CACHE_DIRS = frozenset({
    "/root/.cache/pip", "/root/.cache/uv", "/root/.cache/pypoetry", "/root/.cache/pipenv",
    "/opt/conda/pkgs", "/var/cache/apt", "/var/lib/apt", "/var/lib/apt/lists", "/var/cache/apk",
    "/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5", "/root/.npm", "/go/pkg/mod",
    "/root/.cache/go-build", "/usr/local/cargo/registry", "/usr/local/cargo/git/db",
    "/root/.cache/huggingface", "/root/.cache/torch",
})


def run_cache_dirs(facts: "Facts", run: Instruction) -> dict[str, CacheTool]:
    """The cache dirs that the RUN's downloading commands use, with their tool."""
    state = facts.state(run)
    out: dict[str, CacheTool] = {}
    for inv in facts.invocations(run):
        for tool in PYTHON_TOOLS:
            if tool.downloading(inv):
                directory = tool.cache_dir(inv, state)
                if directory is not None:
                    out.setdefault(directory, tool)
    return out


# -- poetry's virtualenvs live in its cache dir (DOMAIN §2.3) ----------------------------------------

_POETRY_FALSE = ("false", "0")
_POETRY_TRUE = ("true", "1")


def poetry_venv_outside_cache(
    ctx: "DockerfileContext", run: Instruction, inv: "Invocation", state: State, directory: str
) -> bool:
    """Whether poetry keeps its virtualenv out of ``directory`` (its cache dir) for ``inv``:
    `POETRY_VIRTUALENVS_CREATE=false`, `POETRY_VIRTUALENVS_IN_PROJECT=true`, an absolute
    `POETRY_VIRTUALENVS_PATH` elsewhere, an active `VIRTUAL_ENV`, or the same settings made by
    `poetry config` earlier in the RUN or in an earlier RUN of the stage as the same user."""
    scope = {**state.run_env, **{k: (w.value if not w.has_expansion else None) for k, w in inv.env.items()}}
    settings = {
        "virtualenvs.create": scope.get("POETRY_VIRTUALENVS_CREATE"),
        "virtualenvs.in-project": scope.get("POETRY_VIRTUALENVS_IN_PROJECT"),
        "virtualenvs.path": scope.get("POETRY_VIRTUALENVS_PATH"),
    }
    if scope.get("VIRTUAL_ENV"):
        return True
    for key, value in _poetry_config_calls(ctx, run, inv, state):
        if key in settings and not any(f"POETRY_{key.upper().replace('.', '_').replace('-', '_')}" == k for k in scope):
            settings[key] = value
    if (settings["virtualenvs.create"] or "").lower() in _POETRY_FALSE:
        return True
    if (settings["virtualenvs.in-project"] or "").lower() in _POETRY_TRUE:
        return True
    path = settings["virtualenvs.path"]
    if path and path.startswith("/") and "{" not in path:
        return not covers(directory, posixpath.normpath(path))
    return False


def _poetry_config_calls(ctx: "DockerfileContext", run: Instruction, inv: "Invocation", state: State) -> list[tuple[str, str]]:
    """(key, value) of `poetry config KEY VALUE` run before ``inv`` by the same user: earlier RUNs
    of the stage chain, then earlier commands of this RUN (later ones win)."""
    from aicache_lint.dockerfile.shell import subcommand

    facts = ctx.facts
    stage = facts.stage_of(run)
    runs: list[Instruction] = []
    if stage is not None:
        for s in reversed(stage.chain()):
            runs.extend(i for i in s.instructions if (i.inner or i).keyword == "RUN" and i.inner is None)
    out: list[tuple[str, str]] = []
    for other in runs:
        if other.span.start > run.span.start:
            break
        other_state = facts.state(other)
        if other_state.user != state.user:
            continue
        for call in facts.invocations(other):
            if other is run and call.command is inv.command:
                return out
            if call.program != "poetry" or any(w.value in ("--unset", "--list") for w in call.args):
                continue
            local = any(w.value == "--local" for w in call.args)
            if local and other_state.workdir != state.workdir:
                continue
            words = subcommand(call, 3)
            if len(words) == 3 and words[0] == "config":
                out.append((words[1], words[2]))
    return out


def poetry_mount_dirs(ctx: "DockerfileContext", run: Instruction, inv: "Invocation", state: State, directory: str) -> list[str]:
    """What to mount for poetry: the whole cache dir when the virtualenv stays out of it, else
    only its `cache` and `artifacts` subdirectories (the venv must stay in the image)."""
    if poetry_venv_outside_cache(ctx, run, inv, state, directory):
        return [directory]
    return [posixpath.join(directory, "cache"), posixpath.join(directory, "artifacts")]
