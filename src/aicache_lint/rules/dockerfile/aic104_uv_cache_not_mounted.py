"""AIC104 uv-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.knowledge.package_cache import (
    UV,
    missing_mount_findings,
    missing_mount_message,
    program_span,
    uv_python_downloads,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class UvCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that runs a uv command that downloads packages -- `uv pip install`,
    `uv pip sync`, `uv sync`, `uv run` (which syncs the project first, unless `--no-sync`),
    `uv add`, `uv lock`, `uv tool install`, `uv tool run` / `uvx` -- without a BuildKit cache mount
    at uv's cache dir for that `RUN`: `--cache-dir`, else `UV_CACHE_DIR`, else
    `$XDG_CACHE_HOME/uv`, else `$HOME/.cache/uv` of the effective `USER`.

    Also flags `uv python install` unless `UV_PYTHON_CACHE_DIR` is set (by `ENV` or on the
    command) to a directory that a cache mount of the `RUN` holds.

    ## Why is this bad?
    uv is fast because of its cache; in a Docker build without a cache mount the cache dies with
    the layer and every rebuild downloads every wheel again. `uv python install` does not use that
    cache at all: it streams the Python build (tens of megabytes) into place, and keeps the
    archive for the next time only in `UV_PYTHON_CACHE_DIR` (uv 0.7.0 and later) -- so a uv cache
    mount alone does not stop the download.

    ## Example
    ```dockerfile
    RUN uv pip install --system --no-cache torch
    ```

    ## Use instead
    ```dockerfile
    ENV UV_LINK_MODE=copy
    RUN --mount=type=cache,target=/root/.cache/uv uv pip install --system torch
    ```

    ## Fix safety
    The fix adds `--mount=type=cache,target=<dir>` after the `RUN`'s existing flags and drops
    `--no-cache` (and its spellings `-n`, `--no-cache-dir`) from that `RUN`'s uv commands. The mount is not part of the image, so for root the fix is safe. When another `RUN` of the
    stage already mounts a cache at the same directory, the fix copies that mount's options (`id`,
    `uid`, `sharing` ...), since a mount with other options is a different, cold cache.
    For a non-root `USER` the mount gets `uid=` (and `gid=` when known) so the tool can write to it.
    The fix is unsafe, and says why, when the uid cannot be known from the Dockerfile, or when the
    cache dir's parent is not known to exist already (only `/`, `/tmp` and a home created by
    `useradd -m`/`adduser` are): BuildKit creates missing parents of a mount point owned by root, in
    the image, so `~/.cache` would become unwritable for the user at run time.
    No fix at all -- a report only -- when the cache dir cannot be known: it depends on a variable
    set outside the Dockerfile, the command runs under `sudo` as a non-root user (whose `HOME` then
    depends on sudoers), or the stage uses `sudo` before any `USER` line (so its base image runs as a
    user the Dockerfile does not show). Likewise when commands of one `RUN` cache in different
    places, when a non-cache mount (such as a `--mount` missing `type=cache`) sits over the cache
    dir, or when a dropped flag cannot be removed without breaking the continuation layout.
    A `RUN` whose cache mount is clearly meant for the tool but sits at another path is left to the
    target-mismatch check rather than given a second mount.
    With `UV_LINK_MODE=symlink` (or `--link-mode=symlink`, or a link mode that cannot be known) the
    installed files would be links into the cache, which is not in the image: no fix. uv warns that it
    cannot hard-link across the mount: set `UV_LINK_MODE=copy`, as uv's Docker guide does.

    For `uv python install` the fix keeps the archive in `<uv cache dir>/python`, as uv's Docker
    guide does: it puts `UV_PYTHON_CACHE_DIR=<uv cache dir>/python` before the command (for that
    command only, so the image's environment does not change) and mounts the uv cache dir as
    above, unless the `RUN` mounts it already. When `UV_PYTHON_CACHE_DIR` is set already, the fix
    mounts the uv cache dir if the directory is inside it, else the directory itself. The mount's
    ownership follows the same rules as above (`uid=`/`gid=` for a non-root `USER`; unsafe when the
    cache dir's parent may not exist). uv older than 0.7.0 ignores the variable, so the fix then
    changes nothing. `uv cache prune` counts `<uv cache dir>/python` as a stale bucket and removes
    it. No fix -- a report only -- when uv's cache dir cannot be known, when uv runs under a
    wrapper such as `sudo` (which may not pass the variable on) or in an exec-form `RUN`, when a
    cache mount's target cannot be known, when a uv cache mount sits at another path, or when a
    non-cache mount sits over the directory.

    ## Options
    None.

    ## References
    - [uv: Using uv in Docker, caching](https://docs.astral.sh/uv/guides/integration/docker/#caching)
    - [uv cache](https://docs.astral.sh/uv/concepts/cache/)
    - [uv: environment variables, `UV_PYTHON_CACHE_DIR`](https://docs.astral.sh/uv/reference/environment/#uv_python_cache_dir)
    - [uv source: the archive is kept only when `UV_PYTHON_CACHE_DIR` is set (`fetch_from_url`)](https://github.com/astral-sh/uv/blob/main/crates/uv-python/src/downloads.rs)
    """

    code = "AIC104"
    name = "uv-cache-not-mounted"
    summary = "uv downloads packages or Python builds without a BuildKit cache mount that keeps them"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        for run, inv, directory, fix, why_not in missing_mount_findings(ctx, UV):
            message = missing_mount_message(UV, ctx, run, inv, directory, why_not)
            yield Violation(program_span(ctx, run, inv), message, fix)
        for found in uv_python_downloads(ctx):
            yield Violation(program_span(ctx, found.run, found.inv), found.message, found.fix)
