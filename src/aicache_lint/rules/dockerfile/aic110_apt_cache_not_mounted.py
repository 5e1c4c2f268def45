"""AIC110 apt-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.dockerfile import edits
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.rules.dockerfile.package_cache import program_span
from aicache_lint.rules.dockerfile.system_cache import (
    APT_CACHE,
    APT_LISTS,
    APT_LISTS_ROOT,
    APT_MOUNTS,
    DOCKER_CLEAN,
    apt_installs,
    apt_layer_risks,
    apt_updates_itself,
    cleanups,
    covered,
    descendants,
    docker_clean_step,
    drop_cleanups,
    line_ref,
    non_cache_mount_over,
    stage_runs,
    subcommand_of,
)


class AptCacheNotMounted(Rule):
    r"""
    ## What it does
    Flags a `RUN` that installs with `apt-get` or `apt` (`install`, `upgrade`, `dist-upgrade`,
    `full-upgrade`, `build-dep`, `reinstall`, `source`; also behind `sudo`, `sh -c` or in a
    heredoc) with no cache mount at `/var/cache/apt` nor at `/var/lib/apt`. A `RUN` that mounts
    either one (or a directory inside them) has made its choice and is not flagged.

    ## Why is this bad?
    Without cache mounts every rebuild of the layer downloads the package lists and every
    `.deb` again; for CUDA and build-essential stacks that is hundreds of megabytes per build.
    `rm -rf /var/lib/apt/lists/*` and `apt-get clean` keep the files out of the image but also
    out of any cache; cache mounts keep them out of the image *and* between builds.

    ## Example
    ```dockerfile
    FROM ubuntu:24.04
    RUN apt-get update \
        && apt-get install -y --no-install-recommends git \
        && apt-get clean \
        && rm -rf /var/lib/apt/lists/*
    ```

    ## Use instead
    ```dockerfile
    FROM ubuntu:24.04
    RUN rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
    RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get update \
        && apt-get install -y --no-install-recommends git
    ```

    ## Fix safety
    One fix per stage, carried by each of its findings: it adds
    `--mount=type=cache,target=/var/cache/apt,sharing=locked` and
    `--mount=type=cache,target=/var/lib/apt,sharing=locked` to every flagged `RUN` of the stage,
    drops from them the clean-ups that would now empty the mounts (`rm -rf /var/lib/apt/lists/*`,
    `apt-get clean`, `rm -rf /var/cache/apt/*` -- with exactly one joining operator, or just the
    cache's operands of an `rm` that also removes other paths; guarded clean-ups stay), and,
    unless the stage or a stage it is built `FROM` already deals with it, inserts
    `RUN rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache`
    before the stage's first apt `RUN` (without it the package cache stays empty, see AIC112).

    The mounts are not part of the image, and the lists and packages they hold were being deleted
    anyway, so the fix is safe -- unless something later relies on what used to land in a layer:
    the fix is unsafe when a later apt `RUN` of the stage, or of a stage built `FROM` it, installs
    without its own `apt-get update` (the lists are no longer in a layer) or runs apt without a
    cache mount at `/var/cache/apt` (with `docker-clean` gone its packages would stay in its
    layer). The `docker-clean` removal persists in the image. `/var/lib/apt` also holds apt's
    auto-installed marks (`extended_states`), which now go to the cache instead of the image
    (reasoned, not documented upstream).

    No fix -- a report only -- when a flagged `RUN` installs without its own `apt-get update` (an
    empty lists mount would hide the lists of an earlier layer), when a non-cache mount sits over
    apt's directories, or when the stage runs as a non-root `USER` where `docker-clean` would have
    to be removed.

    ## Options
    None.

    ## References
    - [Dockerfile reference: example, cache apt packages](https://docs.docker.com/reference/dockerfile/#example-cache-apt-packages)
    - [Docker docs: optimize cache usage](https://docs.docker.com/build/cache/optimize/#use-cache-mounts)
    """

    code = "AIC110"
    name = "apt-cache-not-mounted"
    summary = "apt installs packages without cache mounts at /var/cache/apt and /var/lib/apt"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for stage in facts.stages:
            flagged = []
            for run in stage_runs(stage):
                installs = apt_installs(ctx, run)
                if not installs:
                    continue
                state = facts.state(run)
                if any(covered(run, state, d) for d in (APT_CACHE, APT_LISTS_ROOT, APT_LISTS)):
                    continue
                flagged.append((run, installs[0]))
            if not flagged:
                continue
            fix, problem = _stage_fix(ctx, stage, [run for run, _ in flagged])
            for run, inv in flagged:
                message = (
                    f"`{inv.program} {subcommand_of(inv)}` runs without cache mounts at `{APT_CACHE}` and `{APT_LISTS_ROOT}`: every rebuild "
                    "downloads the package lists and packages again"
                )
                if problem:
                    message += f" ({problem})"
                yield Violation(program_span(ctx, run, inv), message, fix)


def _stage_fix(ctx: DockerfileContext, stage, runs: list) -> tuple[Fix | None, str | None]:
    facts = ctx.facts
    edit_list: list[Edit] = []
    for run in runs:
        state = facts.state(run)
        if non_cache_mount_over(run, state, (APT_CACHE, APT_LISTS_ROOT)):
            return None, f"a non-cache mount on {line_ref(run)} sits over apt's directories"
        if not apt_updates_itself(ctx, run):
            return None, (
                f"the RUN on {line_ref(run)} installs without its own `apt-get update`: a lists mount "
                "would hide the lists of an earlier layer"
            )
        edit_list.append(edits.add_flag(run, " ".join(APT_MOUNTS)))
        edit_list.extend(drop_cleanups(ctx, cleanups(ctx, run, state, [APT_CACHE, APT_LISTS_ROOT])))
    step = docker_clean_step(ctx, runs[0])
    if step.problem:
        return None, step.problem
    if step.edit is not None:
        edit_list.append(step.edit)
    anchor = step.anchor or runs[0]
    risks = apt_layer_risks(ctx, stage, anchor, {id(r) for r in runs})
    fixed = {id(r) for r in runs}
    for s in [stage, *descendants(ctx, stage)]:
        for other in stage_runs(s):
            if id(other) in fixed or (s is stage and other.span.start < runs[0].span.start):
                continue
            if apt_installs(ctx, other) and not apt_updates_itself(ctx, other):
                risks.append(
                    f"the RUN on {line_ref(other)} installs without its own `apt-get update` and "
                    "would no longer find the lists in a layer"
                )
    title = f"Mount apt caches at {APT_CACHE} and {APT_LISTS_ROOT} (sharing=locked)"
    if step.edit is not None:
        title += f" and remove `{DOCKER_CLEAN}`"
    if risks:
        return Fix.unsafe(f"{title} ({risks[0]})", *edit_list), None
    return Fix.safe(title, *edit_list), None

