"""AIC112 apt-cache-defeated-by-docker-clean."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.package_cache import covers
from aicache_lint.knowledge.system_cache import (
    APT_CACHE,
    DOCKER_CLEAN,
    apt_cache_mounts,
    apt_layer_risks,
    docker_clean_handled,
    docker_clean_step,
    stage_runs,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class AptCacheDefeatedByDockerClean(Rule):
    """
    ## What it does
    Flags the first `RUN` of a stage that mounts a cache at `/var/cache/apt` (or inside it) while
    `/etc/apt/apt.conf.d/docker-clean` is still in place: no earlier `RUN` of the stage, or of a
    stage it is built `FROM`, removes (or otherwise deals with) that file.

    ## Why is this bad?
    Debian and Ubuntu images ship `/etc/apt/apt.conf.d/docker-clean`, which hooks every `dpkg`
    run and every `apt-get update` to delete `/var/cache/apt/archives/*.deb` and the package
    caches -- whatever `Keep-Downloaded-Packages` says. With the file in place the cache mount at
    `/var/cache/apt` is emptied after each install and every build downloads all packages again.

    ## Example
    ```dockerfile
    FROM ubuntu:24.04
    RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
        --mount=type=cache,target=/var/lib/apt,sharing=locked \
        apt-get update && apt-get install -y git
    ```

    ## Use instead
    ```dockerfile
    FROM ubuntu:24.04
    RUN rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
    RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
        --mount=type=cache,target=/var/lib/apt,sharing=locked \
        apt-get update && apt-get install -y git
    ```

    ## Fix safety
    The fix inserts the line above (in the file's keyword case) before the stage's first `RUN`
    that runs apt, above the comments directly over it so that a suppression comment keeps its
    instruction. `Keep-Downloaded-Packages` matters for the `apt` binary; `apt-get` keeps
    packages by default. The removal persists in the image. The fix is safe when every apt
    `RUN` from there on -- in the stage and in stages built `FROM` it -- mounts a cache at
    `/var/cache/apt`; otherwise it is unsafe, because those `RUN`s would now keep downloaded
    packages and package caches in their layers. No fix -- a report only -- when the stage runs
    as a non-root `USER` at that point (the file cannot be removed there).

    ## Options
    None.

    ## References
    - [Dockerfile reference: example, cache apt packages](https://docs.docker.com/reference/dockerfile/#example-cache-apt-packages)
    - [debuerreotype: `docker-clean`](https://github.com/debuerreotype/debuerreotype/blob/master/scripts/debuerreotype-minimizing-config)
    """

    code = "AIC112"
    name = "apt-cache-defeated-by-docker-clean"
    summary = "apt cache mounts in a stage where docker-clean still deletes the packages"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for stage in facts.stages:
            for run in stage_runs(stage):
                state = facts.state(run)
                flags = [f for f, target in apt_cache_mounts(run, state) if covers(APT_CACHE, target)]
                if not flags:
                    continue
                if docker_clean_handled(ctx, run):
                    break
                step = docker_clean_step(ctx, run)
                if step.edit is None and step.problem is None:
                    break
                fix = None
                if step.edit is not None:
                    risks = apt_layer_risks(ctx, stage, step.anchor, set())
                    title = f"Remove `{DOCKER_CLEAN}` before line {step.anchor.start_line}"
                    fix = Fix.unsafe(f"{title} ({risks[0]})", step.edit) if risks else Fix.safe(title, step.edit)
                message = (
                    f"`{DOCKER_CLEAN}` deletes downloaded packages after every install, so the cache "
                    f"mounted at `{APT_CACHE}` stays empty"
                )
                if step.problem:
                    message += f"; {step.problem}"
                yield Violation(flags[0].span, message, fix)
                break
