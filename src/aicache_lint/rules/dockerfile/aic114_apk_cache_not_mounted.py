"""AIC114 apk-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.dockerfile import edits
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix, overlapping
from aicache_lint.knowledge.package_cache import program_span, remove_word
from aicache_lint.knowledge.system_cache import (
    APK,
    APK_CACHE,
    APK_LINK,
    APK_LINK_COMMAND,
    apk_link_handled,
    cleanups,
    descendants,
    drop_cleanups,
    insert_before_command,
    line_ref,
    non_cache_mount_over,
    stage_runs,
    subcommand_of,
    tool_covered,
    tool_installs,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class ApkCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that installs with Alpine's `apk` (`apk add`, `apk upgrade`) with no cache
    mount at `/var/cache/apk` (or at `/etc/apk/cache`).

    ## Why is this bad?
    `apk add --no-cache` keeps the index and packages out of the image, but also out of any
    cache: every rebuild downloads them again. apk only keeps a cache when `/etc/apk/cache` is a
    link to a local directory; with that link pointing at a cache mount the packages stay
    between builds and never reach the image.

    ## Example
    ```dockerfile
    FROM alpine:3.20
    RUN apk add --no-cache build-base git
    ```

    ## Use instead
    ```dockerfile
    FROM alpine:3.20
    RUN --mount=type=cache,target=/var/cache/apk ln -sf /var/cache/apk /etc/apk/cache && apk add build-base git
    ```

    ## Fix safety
    One fix per stage, carried by each of its findings: it adds
    `--mount=type=cache,target=/var/cache/apk` to every flagged `RUN` of the stage, drops `apk`'s
    `--no-cache` from them (it would bypass the cache), drops `rm -rf /var/cache/apk/*`-style
    clean-ups that would now empty the mount, and -- unless the stage, or a stage it is built
    `FROM`, already links it -- puts `ln -sf /var/cache/apk /etc/apk/cache && ` before the first
    `apk` command, as apk-cache(5) describes. The link persists in the image. The fix is safe
    unless a later `apk add`/`apk upgrade` of the stage, or of a stage built `FROM` it, runs
    without a cache mount and without `--no-cache`: with the link in place it would now keep its
    packages in its layer, so the fix is unsafe then.

    No fix -- a report only -- when a non-cache mount sits over apk's directories, when a
    `--no-cache` cannot be removed without breaking the layout, or when the first `apk` command
    is conditional or in a pipeline, where the link cannot be put in front of it.

    ## Options
    None.

    ## References
    - [apk-cache(5)](https://man.archlinux.org/man/apk-cache.5.en)
    - [BuildKit `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    """

    code = "AIC114"
    name = "apk-cache-not-mounted"
    summary = "apk installs packages without a cache mount at /var/cache/apk"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for stage in facts.stages:
            flagged = []
            for run in stage_runs(stage):
                installs = tool_installs(ctx, run, APK)
                if installs and not tool_covered(run, facts.state(run), APK):
                    flagged.append((run, installs[0]))
            if not flagged:
                continue
            fix = _stage_fix(ctx, stage, flagged)
            for run, inv in flagged:
                yield Violation(
                    program_span(ctx, run, inv),
                    f"`apk {subcommand_of(inv)}` runs without a cache mount at `{APK_CACHE}`: every rebuild "
                    "downloads the index and packages again",
                    fix,
                )


def _stage_fix(ctx: DockerfileContext, stage, flagged: list) -> Fix | None:
    facts = ctx.facts
    edit_list: list[Edit] = []
    for run, _ in flagged:
        state = facts.state(run)
        if non_cache_mount_over(run, state, (APK_CACHE, APK_LINK)):
            return None
        edit_list.append(edits.add_flag(run, f"--mount=type=cache,target={APK_CACHE}"))
        for inv in facts.invocations(run):
            if inv.program != "apk":
                continue
            for word in inv.args:
                if word.value == "--no-cache":
                    removed = remove_word(ctx, inv, word)
                    if removed is None:
                        return None
                    edit_list.extend(removed)
        edit_list.extend(drop_cleanups(ctx, cleanups(ctx, run, state, [APK_CACHE])))
    first_run, first_inv = flagged[0]
    # A stage built FROM a stage whose own fix links the cache gets the link from there.
    parent_links = any(
        not tool_covered(r, facts.state(r), APK) and tool_installs(ctx, r, APK)
        for s in stage.chain()[1:]
        for r in stage_runs(s)
    )
    if not apk_link_handled(ctx, first_run) and not parent_links:
        apk_commands = [inv for inv in facts.invocations(first_run) if inv.program == "apk"]
        link = insert_before_command(ctx, apk_commands[0], APK_LINK_COMMAND)
        if link is None:
            return None
        edit_list.append(link)
    if overlapping(edit_list):
        return None
    fixed = {id(run) for run, _ in flagged}
    risks = []
    for s in [stage, *descendants(ctx, stage)]:
        for other in stage_runs(s):
            if id(other) in fixed or (s is stage and other.span.start < first_run.span.start):
                continue
            for inv in tool_installs(ctx, other, APK):
                if not tool_covered(other, facts.state(other), APK) and not any(
                    w.value == "--no-cache" for w in inv.args
                ):
                    risks.append(f"`apk` on {line_ref(other)} has no cache mount and would keep its packages in its layer")
    title = f"Mount an apk cache at {APK_CACHE}"
    if risks:
        return Fix.unsafe(f"{title} ({risks[0]})", *edit_list)
    return Fix.safe(title, *edit_list)
