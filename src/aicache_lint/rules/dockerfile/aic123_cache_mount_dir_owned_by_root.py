"""AIC123 cache-mount-dir-owned-by-root."""

from __future__ import annotations

import posixpath
from typing import Iterator

from aicache_lint.dockerfile.facts import ROOT_NAMES, State, UserInfo
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.package_cache import (
    PYTHON_TOOLS,
    cache_mount_targets,
    make_dirs_as_user,
    run_cache_dirs,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class CacheMountDirOwnedByRoot(Rule):
    """
    ## What it does
    Flags a `RUN --mount=type=cache` whose target lies in the home of a non-root user -- the
    `USER` of that `RUN`, or one the stage switches to later -- when the target or one of its
    parents does not exist yet, so that BuildKit creates it. Directories the Dockerfile made
    before (`useradd -m`, `mkdir`, `install -d`, `WORKDIR`) count as existing; a later
    `chown` back to the user clears the finding.

    ## Why is this bad?
    BuildKit creates a cache mount's missing target and parents owned by `root`, and they stay
    in the image after the `RUN`, whatever `uid=` the mount has. A mount at
    `/home/app/.cache/pip` in a stage where `/home/app/.cache` did not exist leaves
    `/home/app/.cache` owned by root: when the container runs as `app`, Hugging Face, torch hub
    and pip cannot create their caches under `~/.cache`, so models fail to download or are
    fetched again and again.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN useradd -m -u 1000 comfy
    USER comfy
    RUN --mount=type=cache,target=/home/comfy/.cache/pip,uid=1000 pip install --user torch
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    RUN useradd -m -u 1000 comfy
    USER comfy
    RUN mkdir -p /home/comfy/.cache/pip
    RUN --mount=type=cache,target=/home/comfy/.cache/pip,uid=1000 pip install --user torch
    ```

    ## Fix safety
    The fix inserts `RUN mkdir -p <target>` as the same user before the first `RUN` of that
    `USER` block, so the directories exist and belong to the user when BuildKit mounts the cache.
    It only adds empty directories the user owns, so it is safe. No fix -- a report only -- when
    the mount runs as another user than the one whose home it is in, when the user's home is not
    created in this Dockerfile (a user of the base image, `useradd` without `-m`), or when a
    directory on the way belongs to someone else.

    ## Options
    None.

    ## References
    - [moby/buildkit#3153: user owned cache mount becomes root owned directory in final image](https://github.com/moby/buildkit/issues/3153)
    - [moby/buildkit#1237: cache mount uid/gid default to 0](https://github.com/moby/buildkit/issues/1237)
    - [Dockerfile reference: `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    """

    code = "AIC123"
    name = "cache-mount-dir-owned-by-root"
    summary = "A cache mount leaves a root-owned directory in a non-root user's home"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            stage = facts.stage_of(run)
            if stage is None or run.inner is not None:
                continue
            state = facts.state(run)
            end = facts.end_state(stage)
            for flag, target in cache_mount_targets(run, state):
                if target is None:
                    continue
                for user in _users_after(ctx, run, state):
                    top = _topmost_missing(state, user, target)
                    if top is None or end.dirs.get(top) != "root":
                        continue  # nothing created in that home, or chowned back later
                    message = (
                        f"BuildKit creates `{top}` for this cache mount owned by root, and it stays in the image: "
                        f"`{user.name}` cannot write there later (tools cache under `~/.cache`)"
                    )
                    fix, why_not = _fix(ctx, run, state, user, target)
                    if fix is not None and _misplaced(ctx, run, target):
                        fix, why_not = None, "no fix yet: the mount is not where its tool caches (AIC120 moves it first)"
                    yield Violation(flag.span, f"{message}; {why_not}" if why_not else message, fix)
                    break


def _misplaced(ctx: DockerfileContext, run: Instruction, target: str) -> bool:
    """A mount named for pip/uv/poetry that is not where that tool caches in this RUN: AIC120
    retargets it, and creating the old target first would only leave a stray directory."""
    used = run_cache_dirs(ctx.facts, run)
    name = posixpath.basename(target.rstrip("/"))
    return target not in used and any(t.xdg_name == name for t in PYTHON_TOOLS)


def _users_after(ctx: DockerfileContext, run: Instruction, state: State) -> list[UserInfo]:
    """The non-root users with a known home that run this RUN or a later part of its stage."""
    facts = ctx.facts
    stage = facts.stage_of(run)
    assert stage is not None
    later = stage.instructions[stage.instructions.index(run) :]
    states = [facts.state(i) for i in later] + [facts.end_state(stage)]
    users: list[UserInfo] = []
    for s in states:
        if s.user is None or s.user in ROOT_NAMES:
            continue
        info = s.user_info
        if info.home and info.name in s.users and all(u.name != info.name for u in users):
            users.append(info)
    return users


def _topmost_missing(state: State, user: UserInfo, target: str) -> str | None:
    """The highest directory of ``target`` inside ``user``'s home that does not exist yet."""
    home = posixpath.normpath(user.home or "/")
    if home == "/" or not target.startswith(home + "/"):
        return None
    top, path = None, target
    while path != home:
        if not state.dir_exists(path):
            top = path
        path = posixpath.dirname(path)
    return top


def _fix(ctx: DockerfileContext, run: Instruction, state: State, user: UserInfo, target: str) -> tuple[Fix | None, str]:
    if state.user_info.name != user.name:
        return None, f"no fix: this RUN runs as `{state.user_info.name}`, not `{user.name}`"
    if not state.dir_exists(posixpath.normpath(user.home or "/")):
        return None, f"no fix: the home of `{user.name}` is not created in this Dockerfile"
    edits = make_dirs_as_user(ctx, run, state, target)
    if not edits:
        return None, f"no fix: `{target}` cannot be created as `{user.name}` first here"
    return Fix.safe(f"Create `{target}` as `{user.name}` before the mount", *edits), ""
