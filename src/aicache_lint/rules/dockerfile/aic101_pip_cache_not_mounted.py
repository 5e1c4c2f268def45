"""AIC101 pip-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.rules.dockerfile.package_cache import PIP, missing_mount_findings, program_span


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
    pip commands. The mount is not part of the image, so the image is unchanged: the fix is safe.
    For a non-root user the mount gets `uid=` (and `gid=` when known) so pip can write to it; when
    the user's uid cannot be known from the Dockerfile the fix is unsafe and says so. When the cache
    dir itself cannot be known (it depends on a variable set outside the Dockerfile), or different
    pip commands in one `RUN` cache in different places, the rule reports without a fix.
    A `RUN` whose cache mount is clearly meant for pip but sits at another path is left to the
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
        for run, inv, directory, fix in missing_mount_findings(ctx, PIP):
            where = f"at `{directory}`" if directory else "(its cache dir cannot be known here)"
            yield Violation(
                program_span(ctx, run, inv),
                f"`pip` downloads packages with no cache mount {where}: every rebuild re-downloads them",
                fix,
            )
