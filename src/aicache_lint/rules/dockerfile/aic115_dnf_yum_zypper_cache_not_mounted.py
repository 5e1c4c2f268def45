"""AIC115 dnf-yum-zypper-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.dockerfile import edits
from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.package_cache import covers, program_span, runs_under_sudo
from aicache_lint.knowledge.system_cache import (
    DNF,
    DNF5,
    KEEPCACHE_OPTION,
    MICRODNF,
    YUM,
    ZYPPER,
    cleanups,
    drop_cleanups,
    keep_option_edit,
    mount_targets,
    non_cache_mount_over,
    packages_kept,
    subcommand_of,
    tool_covered,
    tool_installs,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

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

    Also flags such a `RUN` that has the cache mount while the tool deletes the packages it
    downloads: dnf, dnf5 and yum unless `keepcache` is on, zypper unless `keeppackages` is on for
    the repositories. Any mention of the setting counts as dealing with it -- an option of the
    command (`--setopt=keepcache=...`), or an earlier command of the `RUN`, of the stage or of a
    stage it is built `FROM` (`echo keepcache=1 >> /etc/dnf/dnf.conf`,
    `dnf config-manager --save --setopt=keepcache=True`, `zypper modifyrepo --keep-packages`).

    ## Why is this bad?
    Without a cache mount every rebuild downloads the repository metadata -- often more than a
    hundred megabytes on Fedora and RHEL-family images -- and every package again. `dnf clean all`
    keeps them out of the image but also out of any cache. With the mount but without
    `keepcache`, dnf still deletes each downloaded package after a successful transaction, so the
    mount saves the metadata only (like apt's `docker-clean`, AIC112). `keepcache` is off by
    default in dnf4 and dnf5; yum 3 keeps packages by default, but CentOS 7's `/etc/yum.conf`
    sets `keepcache=0` (as published copies of that file show). zypper keeps the RPMs in `/var/cache/zypp/packages` only
    for repositories with `keeppackages` set.

    ## Example
    ```dockerfile
    FROM fedora:41
    RUN dnf5 install -y gcc && dnf5 clean all
    ```

    ## Use instead
    ```dockerfile
    FROM fedora:41
    RUN --mount=type=cache,target=/var/cache/libdnf5,sharing=locked dnf5 --setopt=keepcache=1 install -y gcc
    ```

    ## Fix safety
    For a `RUN` that calls `dnf5` by that name, as root (or under `sudo`), and has no cache mount:
    the fix adds `--mount=type=cache,target=/var/cache/libdnf5,sharing=locked` (dnf5's system
    cache dir, dnf5-caching(7)), puts `--setopt=keepcache=1` after `dnf5` in each install command
    that does not deal with `keepcache`, and drops `dnf5 clean` commands that would now empty the
    mount. The mount is not part of the image, the kept packages land in it, and `dnf5 clean`
    emptied the directory anyway, so the fix is safe.

    For a `RUN` that has the mount but drops the packages, with dnf, dnf5 or yum: the fix puts
    `--setopt=keepcache=1` after the program's name in each such install command (`1` is a
    boolean value all three accept). It is safe when the `RUN` mounts every cache dir the command
    may use; for `dnf` with only one of `/var/cache/dnf` and `/var/cache/libdnf5` mounted, or
    `yum` with only one of `/var/cache/yum` and `/var/cache/dnf`, it is unsafe: if the image's
    tool uses the other one, the kept packages stay in the layer.

    Report only -- no fix -- for an unmounted `dnf` or `yum` (which cache dir the image's tool
    uses is not known from the Dockerfile), for `microdnf` (its cache dir and package keeping are
    not documented) and for zypper (turning `keeppackages` on changes the image's repository
    files); also when a non-cache mount sits over the cache dir, when `dnf5` runs as a non-root
    user without `sudo`, or in an exec-form `RUN`, where no option can be added.

    ## Options
    None.

    ## References
    - [dnf5-caching(7): cache directory, keepcache](https://dnf5.readthedocs.io/en/latest/misc/caching.7.html)
    - [dnf5.conf(5): `keepcache`, default False](https://dnf5.readthedocs.io/en/latest/dnf5.conf.5.html)
    - [dnf.conf(5) (dnf4): `keepcache`, default False](https://dnf.readthedocs.io/en/latest/conf_ref.html)
    - [dnf4 system cache dir `/var/cache/dnf` (`dnf/const.py.in`, SYSTEM_CACHEDIR)](https://github.com/rpm-software-management/dnf/blob/master/dnf/const.py.in)
    - [dnf command reference: `--setopt`](https://dnf.readthedocs.io/en/latest/command_ref.html)
    - [yum.conf(5): `keepcache`, `cachedir`](https://github.com/rpm-software-management/yum/blob/master/docs/yum.conf.5)
    - [zypper(8): `/var/cache/zypp/packages` kept only with `keeppackages`; `modifyrepo --keep-packages`](https://github.com/openSUSE/zypper/blob/master/doc/zypper.8.txt)
    - [BuildKit `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    """

    code = "AIC115"
    name = "dnf-yum-zypper-cache-not-mounted"
    summary = "dnf, yum or zypper installs packages without a cache mount that keeps them"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            if run.keyword != "RUN":
                continue  # ONBUILD RUN runs in other builds
            state = facts.state(run)
            for tool in _TOOLS:
                installs = tool_installs(ctx, run, tool)
                if not installs:
                    continue
                if not tool_covered(run, state, tool):
                    yield _unmounted(ctx, run, state, tool, installs)
                    break
                dropped = [inv for inv in installs if not packages_kept(ctx, run, inv, tool)]
                held = [d for d in tool.cache_dirs if _held(run, state, d)]
                if dropped and held:  # with only unknown mount targets, where the packages go is unknown
                    yield _packages_dropped(ctx, run, tool, dropped, held)
                    break


def _unmounted(ctx: DockerfileContext, run, state, tool, installs: list) -> Violation:
    inv = installs[0]
    command = f"`{inv.program} {subcommand_of(inv)}`"
    message = (
        f"{command} runs with no cache mount at `{tool.recipe or tool.cache_dirs[0]}`: every rebuild downloads "
        "the repository metadata and packages again"
    )
    fix = None
    if tool.recipe is None:
        message += f" (no fix: {tool.manual})"
    elif (state.is_root or runs_under_sudo(inv)) and not non_cache_mount_over(run, state, (tool.recipe,)):
        fix = _mount_fix(ctx, run, state, tool, installs)
    return Violation(program_span(ctx, run, inv), message, fix)


def _mount_fix(ctx: DockerfileContext, run, state, tool, installs: list) -> Fix | None:
    """The recipe's mount, the option that keeps the packages in it, and no clean-up emptying it."""
    edit_list = [edits.add_flag(run, f"--mount=type=cache,target={tool.recipe},sharing=locked")]
    title = f"Mount a {installs[0].program} cache at {tool.recipe}"
    keep = [keep_option_edit(ctx, inv) for inv in installs if not packages_kept(ctx, run, inv, tool)]
    if None in keep:
        return None
    if keep:
        edit_list.extend(keep)
        title += f" and keep the downloaded packages there ({KEEPCACHE_OPTION})"
    edit_list.extend(drop_cleanups(ctx, cleanups(ctx, run, state, [tool.recipe])))
    return Fix.safe(title, *edit_list)


def _held(run, state, directory: str) -> bool:
    """A cache mount with a known target holds ``directory``."""
    return any(t and covers(t, directory) for t in mount_targets(run, state))


def _packages_dropped(ctx: DockerfileContext, run, tool, dropped: list, held: list[str]) -> Violation:
    inv = dropped[0]
    default = " (off in dnf and in CentOS 7's /etc/yum.conf)" if tool is YUM else ""
    message = (
        f"`{inv.program} {subcommand_of(inv)}` runs with a cache mount at `{held[0]}`, but {inv.program} deletes the "
        f"packages it downloads after installing them unless `{tool.keep}` is on{default}: the mount keeps only "
        "the repository metadata, and every rebuild downloads the packages again"
    )
    fix = None
    if tool is ZYPPER:
        message += (
            " (no fix: `zypper modifyrepo --keep-packages --all` turns it on in the image's repository files, "
            "a change left to you)"
        )
    else:
        keep = [keep_option_edit(ctx, call) for call in dropped]
        if None not in keep:
            title = f"Keep the downloaded packages in the cache mount ({KEEPCACHE_OPTION})"
            bare = next((d for d in tool.cache_dirs if d not in held), None)
            if bare is None:
                fix = Fix.safe(title, *keep)
            else:
                fix = Fix.unsafe(
                    f"{title} (if this image's {inv.program} caches in `{bare}`, which no mount holds, the kept "
                    "packages stay in the layer)",
                    *keep,
                )
    return Violation(program_span(ctx, run, inv), message, fix)
