"""AIC121 mount-type-missing."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.package_cache import (
    WELL_KNOWN_CACHE_DIRS,
    mount_target,
    run_cache_dirs,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

# Keys that only make sense on a cache mount: with them BuildKit rejects a bind mount
# ("invalid cache sharing set"; uid/gid/mode only on cache/secret/ssh mounts -- DOMAIN §1.4).
_CACHE_ONLY_KEYS = ("sharing", "uid", "gid", "mode")
# Keys that make a bind mount deliberate: it binds something named, not the whole context.
_BIND_KEYS = ("from", "source", "src")


class MountTypeMissing(Rule):
    """
    ## What it does
    Flags a `RUN --mount=target=<dir>` with no `type=` whose target is a package cache dir: the
    cache dir that pip, uv or poetry computes for that `RUN` (its `USER`, `HOME`,
    `XDG_CACHE_HOME`, `PIP_CACHE_DIR`, `UV_CACHE_DIR` ...), or a well-known cache path such as
    `/root/.cache/pip`, `/root/.cache/uv`, `/var/cache/apt`, `/var/lib/apt`, `/root/.npm`,
    `/go/pkg/mod`, `/opt/conda/pkgs`. A mount with cache-only options (`sharing`, `uid`, `gid`,
    `mode`) and no `type=` is flagged wherever it points.

    ## Why is this bad?
    BuildKit's default mount type is `bind`, not `cache`: `--mount=target=/root/.cache/pip` binds
    the build context, read-only, over pip's cache dir. Nothing is cached between builds, the tool
    either warns that the cache is not writable or fails, and `sharing=`/`uid=` on such a mount is
    a build error.

    ## Example
    ```dockerfile
    RUN --mount=target=/root/.cache/pip pip install torch
    ```

    ## Use instead
    ```dockerfile
    RUN --mount=type=cache,target=/root/.cache/pip pip install torch
    ```

    ## Fix safety
    The fix inserts `type=cache,` at the start of the mount's value (BuildKit reads `type` first,
    DOMAIN §1.4), leaving the other options as written. Binding the whole build context over a
    cache dir is never what was meant, and a cache mount is not part of the image: safe. For a
    non-root `USER` the new cache is created owned by root; the cache-mount-not-writable check
    (AIC122) then adds `uid`/`gid`.
    No finding -- so no fix -- when the mount names a `from`, `source` or `src` (a deliberate bind,
    e.g. of another stage's cache), when its target is not a cache dir, or when its target cannot
    be known. A finding without a fix when the value starts with a quote that could be a CSV
    quote.

    ## Options
    None.

    ## References
    - [Dockerfile reference: `RUN --mount` (default type `bind`)](https://docs.docker.com/reference/dockerfile/#run---mount)
    - [Dockerfile reference: `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    """

    code = "AIC121"
    name = "mount-type-missing"
    summary = "A --mount at a cache dir has no type=, so it is a read-only bind of the build context"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            state = facts.state(run)
            tool_dirs = None
            for flag in (run.inner or run).mounts:
                if flag.option("type") is not None or not flag.options:
                    continue
                if any(flag.option(k) is not None for k in _BIND_KEYS):
                    continue
                target = mount_target(flag, state)
                cache_only = [k for k in _CACHE_ONLY_KEYS if flag.option(k) is not None]
                if target is None and not cache_only:
                    continue
                if tool_dirs is None:
                    tool_dirs = run_cache_dirs(ctx.facts, run)
                if not cache_only and target not in tool_dirs and target not in WELL_KNOWN_CACHE_DIRS:
                    continue
                if target in tool_dirs:
                    why = f"`{tool_dirs[target].label}`'s cache dir `{target}`"
                elif target is not None:
                    why = f"the cache dir `{target}`"
                else:
                    why = "its target"
                message = (
                    f"`--mount` without `type=` is a read-only bind of the build context over {why}, "
                    "not a cache: add `type=cache`"
                )
                if cache_only:
                    message += f" (`{cache_only[0]}=` is only valid on a cache mount)"
                first = flag.options[0].span.start
                fix = None
                if ctx.source.text[first : first + 1] not in ("'", '"'):
                    fix = Fix.safe("Add `type=cache` to the mount", Edit.insert(first, "type=cache,"))
                yield Violation(flag.span, message, fix)
