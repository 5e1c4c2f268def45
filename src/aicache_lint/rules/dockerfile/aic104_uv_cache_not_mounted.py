"""AIC104 uv-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.rules.dockerfile.package_cache import UV, missing_mount_findings, program_span


class UvCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that runs `uv pip install`, `uv pip sync`, `uv sync` or `uv tool install`
    without a BuildKit cache mount at uv's cache dir for that `RUN`: `--cache-dir`, else
    `UV_CACHE_DIR`, else `$XDG_CACHE_HOME/uv`, else `$HOME/.cache/uv` of the effective `USER`.

    ## Why is this bad?
    uv is fast because of its cache; in a Docker build without a cache mount the cache dies with
    the layer and every rebuild downloads every wheel again.

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
    `--no-cache` (and its spellings `-n`, `--no-cache-dir`) from that `RUN`'s uv commands. The
    mount is not in the image, so the fix is safe; for a non-root user it adds `uid=`/`gid=`, and
    it is unsafe when the uid cannot be known. No fix when the cache dir cannot be known. uv warns
    that it cannot hard-link across the mount: set `UV_LINK_MODE=copy` (see uv's Docker guide).

    ## Options
    None.

    ## References
    - [uv: Using uv in Docker, caching](https://docs.astral.sh/uv/guides/integration/docker/#caching)
    - [uv cache](https://docs.astral.sh/uv/concepts/cache/)
    """

    code = "AIC104"
    name = "uv-cache-not-mounted"
    summary = "uv downloads without a BuildKit cache mount at its cache dir"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        for run, inv, directory, fix in missing_mount_findings(ctx, UV):
            where = f"at `{directory}`" if directory else "(its cache dir cannot be known here)"
            yield Violation(
                program_span(ctx, run, inv),
                f"`uv` downloads packages with no cache mount {where}: every rebuild re-downloads them",
                fix,
            )
