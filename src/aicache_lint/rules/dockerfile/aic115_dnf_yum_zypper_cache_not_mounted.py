"""AIC115 dnf-yum-zypper-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.dockerfile import edits
from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.rules.dockerfile.package_cache import program_span, runs_under_sudo
from aicache_lint.rules.dockerfile.system_cache import (
    DNF,
    DNF5,
    MICRODNF,
    YUM,
    ZYPPER,
    cleanups,
    drop_cleanups,
    non_cache_mount_over,
    subcommand_of,
    tool_covered,
    tool_installs,
)

_TOOLS = (DNF5, DNF, YUM, MICRODNF, ZYPPER)


class DnfYumZypperCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that installs with `dnf`, `dnf5`, `yum`, `microdnf` or `zypper` (`install`,
    `upgrade`/`update`, `reinstall`, `groupinstall`, `distro-sync`, `builddep`; zypper's `install`/
    `in`, `update`/`up`, `dist-upgrade`/`dup`, `patch`, `source-install`) with no cache mount at
    the tool's cache directory: `/var/cache/libdnf5` (dnf5), `/var/cache/dnf` (dnf4; `dnf` on
    Fedora 41+ is dnf5, so a mount at either counts), `/var/cache/yum` or `/var/cache/dnf` (yum),
    `/var/cache/zypp` (zypper).

    ## Why is this bad?
    Without a cache mount every rebuild downloads the repository metadata -- often more than a
    hundred megabytes on Fedora and RHEL-family images -- and every package again. `dnf clean all`
    keeps them out of the image but also out of any cache.

    ## Example
    ```dockerfile
    FROM fedora:41
    RUN dnf5 install -y gcc && dnf5 clean all
    ```

    ## Use instead
    ```dockerfile
    FROM fedora:41
    RUN --mount=type=cache,target=/var/cache/libdnf5,sharing=locked dnf5 install -y gcc
    ```

    ## Fix safety
    A fix is offered only where the recipe is verified: for a `RUN` that calls `dnf5` by that
    name, as root, it adds `--mount=type=cache,target=/var/cache/libdnf5,sharing=locked` (dnf5's
    system cache dir, dnf5-caching(7)) and drops `dnf5 clean` commands that would now empty it.
    dnf5 keeps only metadata there unless `keepcache=True` is set, which the fix does not change.
    The mount is not part of the image and `dnf5 clean` emptied the directory anyway, so the fix
    is safe.

    Report only for `dnf` (dnf4 or dnf5 depending on the image), `yum`, `microdnf` and `zypper`:
    dnf4/yum delete packages after a successful transaction unless `keepcache=1`, and a cache-mount
    recipe for them (and for zypper's `/var/cache/zypp`) is not confirmed by the tools' own
    documentation, so no fix is guessed. Also report only when a non-cache mount sits over the
    cache dir, or when `dnf5` runs as a non-root user without `sudo`.

    ## Options
    None.

    ## References
    - [dnf5-caching(7)](https://dnf5.readthedocs.io/en/latest/misc/caching.7.html)
    - [BuildKit `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    """

    code = "AIC115"
    name = "dnf-yum-zypper-cache-not-mounted"
    summary = "dnf, yum or zypper installs packages without a cache mount"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            if run.keyword != "RUN":
                continue  # ONBUILD RUN runs in other builds
            state = facts.state(run)
            for tool in _TOOLS:
                installs = tool_installs(ctx, run, tool)
                if not installs or tool_covered(run, state, tool):
                    continue
                inv = installs[0]
                fix = None
                if tool.recipe is not None and (state.is_root or runs_under_sudo(inv)):
                    if not non_cache_mount_over(run, state, (tool.recipe,)):
                        flag = f"--mount=type=cache,target={tool.recipe},sharing=locked"
                        dropped = drop_cleanups(ctx, cleanups(ctx, run, state, [tool.recipe]))
                        fix = Fix.safe(f"Mount a {inv.program} cache at {tool.recipe}", edits.add_flag(run, flag), *dropped)
                    hint = f"no cache mount at `{tool.recipe}`"
                else:
                    hint = f"no cache mount at `{tool.cache_dirs[0]}` (no verified recipe to add one automatically)"
                yield Violation(
                    program_span(ctx, run, inv),
                    f"`{inv.program} {subcommand_of(inv)}` runs with {hint}: every rebuild downloads the "
                    "repository metadata and packages again",
                    fix,
                )
                break
