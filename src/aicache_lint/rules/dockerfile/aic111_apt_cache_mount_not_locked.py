"""AIC111 apt-cache-mount-not-locked."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.system_cache import apt_cache_mounts
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class AptCacheMountNotLocked(Rule):
    """
    ## What it does
    Flags a cache mount at apt's directories -- `/var/cache/apt`, `/var/lib/apt` or a directory
    inside them -- without `sharing=locked`: no `sharing` option (the default is `shared`), or
    `sharing=shared` / `sharing=private` written out.

    ## Why is this bad?
    apt needs exclusive access to its cache and lists: it takes a lock on them, and two builds
    writing the same shared cache at once fail with "Could not get lock" or corrupt the cache.
    `sharing=private` avoids that by giving a concurrent build a new, empty mount, which then
    downloads everything again. `sharing=locked` makes the second build wait, which is why the
    Dockerfile reference's apt example uses it on both mounts.

    ## Example
    ```dockerfile
    RUN --mount=type=cache,target=/var/cache/apt \
        --mount=type=cache,target=/var/lib/apt,sharing=private \
        apt-get update && apt-get install -y git
    ```

    ## Use instead
    ```dockerfile
    RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
        --mount=type=cache,target=/var/lib/apt,sharing=locked \
        apt-get update && apt-get install -y git
    ```

    ## Fix safety
    The fix appends `,sharing=locked` to the mount, or changes the written `sharing` value to
    `locked`. The sharing mode is not part of the cache's identity (that is its `id`, which
    defaults to the target), so the same cache is used; builds only wait for each other instead
    of racing. The fix is safe. No fix -- a report only -- when the mount's value is written
    with quotes, where an appended option could land inside a quoted field.

    ## Options
    None.

    ## References
    - [Dockerfile reference: `RUN --mount=type=cache` and the apt example](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    - [Docker docs: optimize cache usage](https://docs.docker.com/build/cache/optimize/#use-cache-mounts)
    """

    code = "AIC111"
    name = "apt-cache-mount-not-locked"
    summary = "An apt cache mount without sharing=locked"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        text = ctx.source.text
        for run in ctx.facts.runs():
            state = ctx.facts.state(run)
            for flag, target in apt_cache_mounts(run, state):
                sharing = flag.option("sharing")
                if sharing is not None and (sharing.value or "").lower() == "locked":
                    continue
                fix = None
                if sharing is not None and sharing.value_span is not None:
                    message = f"the apt cache mount at `{target}` uses `sharing={sharing.value}`"
                    fix = Fix.safe("Use `sharing=locked`", Edit(sharing.value_span.start, sharing.value_span.end, "locked"))
                else:
                    message = f"the apt cache mount at `{target}` is shared (the default)"
                    raw = text[flag.value_span.start : flag.value_span.end] if flag.value_span else ""
                    if raw and not any(q in raw for q in "\"'") and sharing is None:
                        fix = Fix.safe("Add `sharing=locked`", Edit.insert(flag.value_span.end, ",sharing=locked"))
                yield Violation(
                    flag.span,
                    f"{message}: apt needs exclusive access, so concurrent builds race on it; use `sharing=locked`",
                    fix,
                )
