"""AIC113 cache-cleared-inside-cache-mount."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.system_cache import (
    cleanup_edit_sets,
    cleanup_span,
    cleanups,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class CacheClearedInsideCacheMount(Rule):
    r"""
    ## What it does
    Flags a command that empties a cache which the same `RUN` mounts with
    `--mount=type=cache`: `rm -rf` of the mounted directory or of anything inside it
    (`rm -rf /var/lib/apt/lists/*` with `/var/lib/apt` mounted), `apt-get clean` / `apt clean` /
    `apt-get autoclean` with `/var/cache/apt` mounted, `pip cache purge`, `uv cache clean`,
    `conda clean` (also `mamba`/`micromamba`) with the `pkgs` directory mounted, `npm cache clean`
    with `~/.npm` mounted, and `dnf5 clean`, `dnf clean` or `yum clean` (but not
    `clean expire-cache`, which deletes nothing) with one of their cache dirs mounted
    (`/var/cache/libdnf5`; `/var/cache/dnf` or `/var/cache/libdnf5`; `/var/cache/yum` or
    `/var/cache/dnf`). The cache directory
    is the one the tool really uses in that `RUN` (`PIP_CACHE_DIR`, `UV_CACHE_DIR`, `--cache-dir`,
    `HOME` of the `USER` ...).

    Clean-ups guarded by a condition (`if [ -n "$CI" ]; then ...; fi`, `[ -n "$CI" ] && ...`,
    after `||`) are deliberate and not reported. `rm -rf /var/lib/apt/lists/*` is only reported
    when `/var/lib/apt` (or the lists directory) is mounted: with only `/var/cache/apt` mounted
    the lists land in the layer, and removing them there is right.

    ## Why is this bad?
    A cache mount is not part of the image, so emptying it saves nothing in the image; it only
    throws away what the mount is there to keep, and the next build downloads everything again.

    ## Example
    ```dockerfile
    RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
        --mount=type=cache,target=/var/lib/apt,sharing=locked \
        apt-get update \
        && apt-get install -y --no-install-recommends git \
        && apt-get clean \
        && rm -rf /var/lib/apt/lists/*
    ```

    ## Use instead
    ```dockerfile
    RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
        --mount=type=cache,target=/var/lib/apt,sharing=locked \
        apt-get update \
        && apt-get install -y --no-install-recommends git
    ```

    ## Fix safety
    The fix removes the command with exactly one of the operators that join it to its neighbours
    (`a && b && c` becomes `a && c`; a first command loses the operator after it, a last one the
    operator before it), keeping the continuation layout valid: a line left with only a `\` goes,
    and the line that now ends the instruction loses its `\`. Comment lines stay. When `rm` also
    removes paths outside the mount (`rm -rf /var/lib/apt/lists/* /tmp/*`), only the cache's
    operands are dropped. What the image contains does not change, so the fix is safe -- except
    for `conda clean -f`, which also empties writable package caches outside the mount: that fix
    is unsafe.

    No fix -- a report only, which says so -- when the command is joined by `||` (`apt-get clean ||
    true`), is part of a pipeline, sits inside a loop, group or subshell, follows an `if`/`case`
    block in its `&&` chain, is the `RUN`'s only command, is in an exec-form `RUN`, or cannot be
    removed without breaking the layout.

    ## Options
    None.

    ## References
    - [BuildKit `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    - [Docker docs: cache apt packages](https://docs.docker.com/reference/dockerfile/#example-cache-apt-packages)
    - [pip caching](https://pip.pypa.io/en/stable/topics/caching/)
    - [uv cache](https://docs.astral.sh/uv/concepts/cache/)
    """

    code = "AIC113"
    name = "cache-cleared-inside-cache-mount"
    summary = "A RUN empties a cache that it mounts with --mount=type=cache"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            state = facts.state(run)
            found = cleanups(ctx, run, state)
            sets = cleanup_edit_sets(ctx, found)
            for cleanup, edit in zip(found, sets):
                fix = None
                if edit is not None:
                    # A group of consecutive clean-ups goes as one: unsafe if any of them is.
                    unsafe = next((c.unsafe for c, e in zip(found, sets) if e == edit and c.unsafe), None)
                    title = f"Remove `{cleanup.label}`"
                    fix = Fix.unsafe(f"{title} ({unsafe})", *edit) if unsafe else Fix.safe(title, *edit)
                message = (
                    f"`{cleanup.label}` empties the cache mounted at `{cleanup.directory}`: the mount is not "
                    "in the image, so this saves nothing and the next build downloads everything again"
                )
                if fix is None:
                    message += (" (no fix: it cannot be removed with certainty here -- joined by `||` or a pipe, "
                                "after or inside a compound command, or the RUN's only command; delete it by hand)")
                yield Violation(cleanup_span(cleanup), message, fix)
