"""AIC120 cache-mount-target-mismatch."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile.facts import State
from aicache_lint.dockerfile.model import Flag, Instruction
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.package_cache import (
    POETRY,
    PYTHON_TOOLS,
    CacheTool,
    cache_mount_targets,
    covers,
    option_value,
    owner_options,
    plain_path,
    poetry_venv_outside_cache,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation


class CacheMountTargetMismatch(Rule):
    """
    ## What it does
    Flags a cache mount that is clearly meant for pip, uv or poetry (its target ends in `pip`,
    `uv` or `pypoetry`) in a `RUN` where that tool caches somewhere else: after a non-root
    `USER` (whose `HOME` is not `/root`), or with `PIP_CACHE_DIR`, `UV_CACHE_DIR`,
    `POETRY_CACHE_DIR`, `XDG_CACHE_HOME` or `--cache-dir` pointing elsewhere.

    ## Why is this bad?
    The tool never reads or writes the mounted directory: the mount is dead weight, every
    rebuild downloads everything again, and -- unless the cache is disabled -- the real cache
    ends up in the image layer.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN useradd -m -u 1000 app
    USER app
    RUN --mount=type=cache,target=/root/.cache/pip pip install --user torch
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    RUN useradd -m -u 1000 app
    USER app
    RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000 pip install --user torch
    ```

    ## Fix safety
    The fix replaces the mount's target with the directory the tool really uses (an absolute
    literal path) and, for a non-root `USER` and a mount without `uid`, adds `uid=`/`gid=` as a
    new cache mount would get them. Without an `id=`, a cache mount's identity is its target, so
    the retargeted mount is a new cache and the first build after the fix is cold (the fix title
    says so); the old mount was never used, so nothing is lost. The image is unchanged: safe.
    The fix is unsafe, and says why, when the user's uid cannot be known or when BuildKit would
    create the new target's missing parent owned by root (see AIC101).
    No fix -- a report only -- when the effective dir is not known for sure (a non-root user of
    the base image whose `HOME` the Dockerfile does not show), when the tool's commands in the
    `RUN` cache in different places, when several mounts look meant for the tool, or when the
    mount has an explicit `id=` that other `RUN`s share (moving it would split or break their
    cache), or -- for poetry -- when its virtualenv would then land in the mount (poetry keeps
    virtualenvs in `{cache-dir}/virtualenvs`, DOMAIN §2.3, and a mount is not in the image).
    A mount that another command of the `RUN` uses is not reported.

    ## Options
    None.

    ## References
    - [Dockerfile reference: `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    - [pip caching](https://pip.pypa.io/en/stable/topics/caching/)
    - [uv cache directory](https://docs.astral.sh/uv/concepts/cache/#cache-directory)
    """

    code = "AIC120"
    name = "cache-mount-target-mismatch"
    summary = "A cache mount meant for pip/uv/poetry is not where the tool caches in that RUN"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            state = facts.state(run)
            mounts = cache_mount_targets(run, state)
            if not mounts:
                continue
            uses: dict[CacheTool, list[tuple["Invocation", str | None]]] = {}
            for inv in facts.invocations(run):
                for tool in PYTHON_TOOLS:
                    if tool.downloading(inv):
                        uses.setdefault(tool, []).append((inv, tool.cache_dir(inv, state)))
            used_dirs = {d for pairs in uses.values() for _, d in pairs if d is not None}
            for tool, pairs in uses.items():
                dirs = {d for _, d in pairs}
                if None in dirs:
                    continue  # the tool might cache at the mount
                if any(t is None or covers(t, d) for _, t in mounts for d in dirs):
                    continue  # covered (or might be): nothing is mismatched
                meant = [
                    (flag, t)
                    for flag, t in mounts
                    if posixpath.basename(t.rstrip("/")) == tool.xdg_name and not any(covers(t, d) for d in used_dirs)
                ]
                for flag, target in meant:
                    yield self._finding(ctx, run, state, tool, pairs[0][0], flag, target, dirs, len(meant))

    def _finding(
        self, ctx, run: Instruction, state: State, tool: CacheTool, inv: "Invocation", flag: Flag, target: str,
        dirs: set, count: int,
    ) -> Violation:
        directory = next(iter(dirs)) if len(dirs) == 1 else None
        sure = directory is not None and _dir_is_sure(tool, inv, state)
        if directory is None:
            where = "in " + ", ".join(f"`{d}`" for d in sorted(dirs))
        else:
            where = f"in `{directory}` ({_why(tool, inv, state)})"
        message = f"this cache mount at `{target}` is not where `{tool.label}` caches in this RUN: it caches {where}"
        fix = None
        venv_in_mount = tool is POETRY and directory is not None and not poetry_venv_outside_cache(
            ctx, run, inv, state, directory
        )
        if sure and count == 1 and not _shared_id(ctx, run, flag) and not venv_in_mount:
            fix = _retarget(ctx, run, state, tool, flag, directory)
        if venv_in_mount:
            message += "; poetry's virtualenv would land in the moved mount, so no fix is offered"
        if not sure and directory is not None:
            message += "; the user's HOME is a guess, so no fix is offered"
        return Violation(flag.span, message, fix)


def _dir_is_sure(tool: CacheTool, inv: "Invocation", state: State) -> bool:
    """Whether the dir comes from the Dockerfile rather than a guessed ``/home/<user>``."""
    if option_value(inv.args, "--cache-dir") or tool.cache_var in inv.env or "XDG_CACHE_HOME" in inv.env:
        return True
    scope = state.run_env
    return tool.cache_var in scope or "XDG_CACHE_HOME" in scope or state.home_known


def _why(tool: CacheTool, inv: "Invocation", state: State) -> str:
    if option_value(inv.args, "--cache-dir"):
        return "`--cache-dir`"
    for var in (tool.cache_var, "XDG_CACHE_HOME"):
        if var in inv.env or var in state.run_env:
            return f"`{var}`"
    if state.is_root:
        return "the HOME of root"
    return f"the HOME of user `{state.user_info.name}`"


def _shared_id(ctx: DockerfileContext, run: Instruction, flag: Flag) -> bool:
    """An explicit ``id=`` that another RUN's cache mount also uses."""
    opt = flag.option("id")
    if opt is None:
        return False
    for other in ctx.facts.runs():
        if other is run:
            continue
        for mount in (other.inner or other).mounts:
            other_id = mount.option("id")
            if mount.mount_type == "cache" and other_id is not None and other_id.value == opt.value:
                return True
    return False


def _retarget(
    ctx: DockerfileContext, run: Instruction, state: State, tool: CacheTool, flag: Flag, directory: str
) -> Fix | None:
    option = flag.option("target", "dst", "destination")
    if option is None or option.value_span is None or not plain_path(directory):
        return None
    edits = [Edit(option.value_span.start, option.value_span.end, directory)]
    plan = owner_options(ctx, run, state, directory)
    if plan.flag is None:
        return None
    if plan.flag and flag.option("uid") is None:
        edits.append(Edit.insert(flag.options[-1].span.end, plan.flag))
    title = f"Retarget the {tool.label} cache mount to {directory}"
    if flag.option("id") is None:
        title += " (a new cache: the first build after this fix is cold)"
    return plan.fix(title, *edits)
