"""AIC110 apt-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.model import Flag
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.package_cache import (
    cache_mount_targets,
    covers,
    program_span,
)
from aicache_lint.knowledge.system_cache import (
    APT_CACHE,
    APT_DOWNLOADS,
    APT_LISTS_ROOT,
    DOCKER_CLEAN,
    apt_installs,
    apt_layer_risks,
    apt_mount,
    apt_unmounted,
    apt_updates_itself,
    cleanup_edit_sets,
    cleanups,
    descendants,
    docker_clean_step,
    drop_cleanups,
    line_ref,
    mount_targets,
    non_cache_mount_over,
    stage_runs,
    subcommand_of,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class AptCacheNotMounted(Rule):
    r"""
    ## What it does
    Flags a `RUN` that installs with `apt-get` or `apt` (`install`, `upgrade`, `dist-upgrade`,
    `full-upgrade`, `build-dep`, `reinstall`, `source`; also behind `sudo`, `sh -c` or in a
    heredoc) without a cache mount at `/var/cache/apt` and one at `/var/lib/apt` -- both, or the
    one of the two that is missing: a mount at the directory the downloads land in
    (`/var/cache/apt/archives` for the packages, `/var/lib/apt/lists` for the package lists)
    counts too, whatever its `id`. A mount whose target cannot be known counts as either.

    ## Why is this bad?
    Without cache mounts every rebuild of the layer downloads the package lists and every
    `.deb` again; for CUDA and build-essential stacks that is hundreds of megabytes per build.
    With only one of the two mounted, the other half is downloaded every time: the lists (tens
    of megabytes per `apt-get update`) when only `/var/cache/apt` is mounted, the packages when
    only `/var/lib/apt` is.
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
    `--mount=type=cache,target=/var/lib/apt,sharing=locked` to every flagged `RUN` of the stage
    after its flags -- or, when the `RUN` mounts one of them already, only the missing one, right
    after that mount and in its layout (on a continuation line of its own when that mount has
    one); the added mount has the default `id` (its target), as in the Dockerfile reference's
    recipe. It drops from those `RUN`s the clean-ups that would now empty the mounts
    (`rm -rf /var/lib/apt/lists/*`, `apt-get clean`, `rm -rf /var/cache/apt/*` -- with exactly
    one joining operator, or just the cache's operands of an `rm` that also removes other paths;
    guarded clean-ups stay), and, when it adds a mount at `/var/cache/apt` and unless the stage
    or a stage it is built `FROM` already deals with it, inserts
    `RUN rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache`
    before the stage's first apt `RUN` (without it the package cache stays empty, see AIC112).

    The mounts are not part of the image, and the lists and packages they hold were being deleted
    anyway (`docker-clean` removes the packages, the `RUN` its lists), so the fix is safe --
    unless the image loses something it kept: the fix is unsafe when a `RUN` that gets the lists
    mount does not delete the lists today (they are in the image now, and a container running
    `apt-get install` without `apt-get update` would fail without them), or when a later apt `RUN`
    runs apt without a cache mount at `/var/cache/apt` (with `docker-clean` gone its packages would
    stay in its layer). The `docker-clean` removal persists in the image. `/var/lib/apt` also holds
    apt's auto-installed marks (`extended_states`), which now go to the cache instead of the image
    (reasoned, not documented upstream).

    No fix for the stage when a later apt `RUN` of it, or of a stage built `FROM` it, installs
    without its own `apt-get update` while the fix would put the lists on a mount: that `RUN` would
    find no lists and the build would fail.
    No fix for a `RUN` -- a report only -- when it installs without its own `apt-get update` and
    lacks the lists mount (an empty lists mount would hide the lists of an earlier layer), when a
    non-cache mount sits over a directory to be mounted or a cache mount sits inside it, or when
    a clean-up that would empty the new mount cannot be removed (joined by `||`, in a pipeline or
    group, in an exec-form `RUN`): the fix would leave a clean-up inside a cache mount (AIC113).
    Such a `RUN` does not hold back the fix of the stage's other `RUN`s. No fix for the stage
    when it runs as a non-root `USER` where `docker-clean` would have to be removed.

    ## Options
    None.

    ## References
    - [Dockerfile reference: example, cache apt packages](https://docs.docker.com/reference/dockerfile/#example-cache-apt-packages)
    - [Docker docs: optimize cache usage](https://docs.docker.com/build/cache/optimize/#use-cache-mounts)
    - [apt-get(8), FILES: packages in `/var/cache/apt/archives/` (`Dir::Cache::Archives`), package lists in `/var/lib/apt/lists/` (`Dir::State::Lists`)](https://manpages.debian.org/bookworm/apt/apt-get.8.en.html#FILES)
    """

    code = "AIC110"
    name = "apt-cache-not-mounted"
    summary = "apt installs packages without cache mounts at both /var/cache/apt and /var/lib/apt"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for stage in facts.stages:
            flagged = []
            for run in stage_runs(stage):
                installs = apt_installs(ctx.facts, run)
                missing = apt_unmounted(run, facts.state(run)) if installs else []
                if missing:
                    flagged.append((run, installs[0], missing, _run_problem(ctx, run, missing)))
            if not flagged:
                continue
            fixable = [(run, missing) for run, _, missing, problem in flagged if problem is None]
            fix, stage_problem = _stage_fix(ctx, stage, fixable) if fixable else (None, None)
            for run, inv, missing, problem in flagged:
                command = f"`{inv.program} {subcommand_of(inv)}`"
                if len(missing) == len(APT_DOWNLOADS):
                    message = (
                        f"{command} runs without cache mounts at `{APT_CACHE}` and `{APT_LISTS_ROOT}`: every rebuild "
                        "downloads the package lists and packages again"
                    )
                else:
                    root, _, what = next(d for d in APT_DOWNLOADS if d[0] == missing[0])
                    _, present = _other_mount(run, facts.state(run), root)
                    message = (
                        f"{command} runs without a cache mount at `{root}` (only `{present}` is mounted): every "
                        f"rebuild downloads the {what} again"
                    )
                if problem or stage_problem:
                    message += f" ({problem or stage_problem})"
                yield Violation(program_span(ctx, run, inv), message, None if problem else fix)


def _run_problem(ctx: DockerfileContext, run, missing: list[str]) -> str | None:
    """Why the RUN cannot be given the mounts it lacks (None: it can)."""
    state = ctx.facts.state(run)
    if non_cache_mount_over(run, state, missing):
        return f"a non-cache mount on {line_ref(run)} sits over apt's directories"
    inside = next((t for t in mount_targets(run, state) for d in missing if t and t != d and covers(d, t)), None)
    if inside is not None:
        return f"the cache mount at `{inside}` on {line_ref(run)} sits inside an apt directory to be mounted"
    if APT_LISTS_ROOT in missing and not apt_updates_itself(ctx.facts, run):
        return (
            f"the RUN on {line_ref(run)} installs without its own `apt-get update`: a lists mount "
            "would hide the lists of an earlier layer"
        )
    found = cleanups(ctx, run, state, missing)
    stuck = next((c for c, e in zip(found, cleanup_edit_sets(ctx, found)) if e is None), None)
    if stuck is not None:
        return (
            f"`{stuck.label}` on {line_ref(run)} would empty a cache mount at `{stuck.directory}` and cannot be "
            "removed safely"
        )
    return None


def _stage_fix(ctx: DockerfileContext, stage, flagged: list) -> tuple[Fix | None, str | None]:
    """One fix for the stage's fixable RUNs, each given the mounts it lacks; or why none."""
    facts = ctx.facts
    edit_list: list[Edit] = []
    for run, missing in flagged:
        state = facts.state(run)
        edit_list.append(_mount_edit(ctx, run, state, missing))
        edit_list.extend(drop_cleanups(ctx, cleanups(ctx, run, state, missing)))
    mounted = [d for d, _, _ in APT_DOWNLOADS if any(d in missing for _, missing in flagged)]
    title = " and ".join(mounted)
    title = f"Mount apt caches at {title}" if len(mounted) > 1 else f"Mount an apt cache at {title}"
    title += " (sharing=locked)"
    first = flagged[0][0]
    risks: list[str] = []
    if APT_CACHE in mounted:
        cached = [run for run, missing in flagged if APT_CACHE in missing]
        step = docker_clean_step(ctx, cached[0])
        if step.problem:
            return None, step.problem
        if step.edit is not None:
            edit_list.append(step.edit)
            title += f" and remove `{DOCKER_CLEAN}`"
        risks = apt_layer_risks(ctx, stage, step.anchor or cached[0], {id(r) for r in cached})
    if APT_LISTS_ROOT in mounted:
        fixed = {id(run) for run, _ in flagged}
        for s in [stage, *descendants(ctx, stage)]:
            for other in stage_runs(s):
                if id(other) in fixed or (s is stage and other.span.start < first.span.start):
                    continue
                if apt_installs(ctx.facts, other) and not apt_updates_itself(ctx.facts, other):
                    # It relies on the lists staying in a layer: with them on a mount it fails.
                    return None, (
                        f"the RUN on {line_ref(other)} installs without its own `apt-get update` and would no "
                        f"longer find the package lists, which a mount at `{APT_LISTS_ROOT}` keeps out of the image"
                    )
        kept = [run for run, missing in flagged
                if APT_LISTS_ROOT in missing and not cleanups(ctx, run, facts.state(run), [APT_LISTS_ROOT])]
        if kept:
            risks.append(
                f"the RUN on {line_ref(kept[0])} leaves the package lists in the image today; on a mount they "
                "leave it, so an `apt-get install` without `apt-get update` in a container would fail"
            )
    if risks:
        return Fix.unsafe(f"{title} ({risks[0]})", *edit_list), None
    return Fix.safe(title, *edit_list), None


def _mount_edit(ctx: DockerfileContext, run, state, missing: list[str]) -> Edit:
    """Both mounts after the RUN's flags; a single missing one next to the apt mount already there."""
    if len(missing) == len(APT_DOWNLOADS):
        return edits.add_flag(run, " ".join(apt_mount(d) for d in missing))
    present, _ = _other_mount(run, state, missing[0])
    return edits.add_flag_after(ctx.source, present.span, apt_mount(missing[0]), ctx.doc.escape)


def _other_mount(run, state, root: str) -> tuple[Flag, str]:
    """The cache mount (and its target) that keeps the downloads of the apt directory other than ``root``."""
    kept = next(downloads for d, downloads, _ in APT_DOWNLOADS if d != root)
    return next((f, t) for f, t in cache_mount_targets(run, state) if t and covers(t, kept))
