"""AIC101 pip-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.knowledge.package_cache import (
    PIP,
    missing_mount_findings,
    missing_mount_message,
    program_span,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class PipCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that runs `pip install`, `pip download` or `pip wheel` (also as `pip3`,
    `python -m pip`, `python3.11 -m pip`, behind `sudo`, `env` or `sh -c`) without a BuildKit cache
    mount at the directory pip really caches in for that `RUN`: `--cache-dir`, else
    `PIP_CACHE_DIR`, else `$XDG_CACHE_HOME/pip`, else `$HOME/.cache/pip` of the effective `USER`.

    ## Why is this bad?
    Without a cache mount every rebuild of the layer downloads every wheel again: for a PyTorch
    stack that is several gigabytes per build. `--no-cache-dir` only keeps the cache out of the
    image; a cache mount keeps it out of the image *and* keeps it between builds.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN pip install --no-cache-dir torch torchvision
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    RUN --mount=type=cache,target=/root/.cache/pip pip install torch torchvision
    ```

    After `USER app` with `ENV PIP_CACHE_DIR=/home/app/.pipcache`, the mount goes to
    `/home/app/.pipcache` with the user's `uid`/`gid`, not to `/root/.cache/pip`.

    ## Fix safety
    The fix adds `--mount=type=cache,target=<dir>` (an absolute literal path, `type=cache` first)
    after the `RUN`'s existing flags on the same line, and drops `--no-cache-dir` from that `RUN`'s
    pip commands. The mount is not part of the image, so for root the fix is safe. When another `RUN` of the
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

    ## Options
    None.

    ## References
    - [BuildKit `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    - [pip caching](https://pip.pypa.io/en/stable/topics/caching/)
    """

    code = "AIC101"
    name = "pip-cache-not-mounted"
    summary = "pip downloads without a BuildKit cache mount at its cache dir"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        for run, inv, directory, fix, why_not in missing_mount_findings(ctx, PIP):
            message = missing_mount_message(PIP, ctx, run, inv, directory, why_not)
            yield Violation(program_span(ctx, run, inv), message, fix)
