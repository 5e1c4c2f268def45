"""AIC122 cache-mount-not-writable."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.dockerfile.model import Flag
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.package_cache import mount_target, runs_under_sudo
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

_TRUE = ("", "1", "t", "true")  # Go's strconv.ParseBool true spellings, lower-cased; bare key = true


class CacheMountNotWritable(Rule):
    """
    ## What it does
    Flags a `RUN --mount=type=cache` without `uid=` in a `RUN` that runs as a non-root `USER`
    (not everything under `sudo`), unless the mount is read-only, seeded `from=` another stage or
    image, or has a `mode=` that lets others write.

    ## Why is this bad?
    BuildKit creates a new cache directory owned by `0:0` with mode `0755`. A non-root user cannot
    write to it: pip warns and runs without its cache, uv fails to initialise its cache, and
    nothing is kept between builds.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN useradd -m -u 1000 app
    USER app
    ENV PIP_CACHE_DIR=/home/app/.pipcache
    RUN --mount=type=cache,target=/home/app/.pipcache pip install --user torch
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    RUN useradd -m -u 1000 app
    USER app
    ENV PIP_CACHE_DIR=/home/app/.pipcache
    RUN --mount=type=cache,target=/home/app/.pipcache,uid=1000 pip install --user torch
    ```

    ## Fix safety
    The fix appends `uid=<uid>` (and `gid=<gid>` when the group is known) to the mount, with the
    ids of the user as the Dockerfile creates it (`useradd -u`, `adduser --uid`, a numeric
    `USER`, or a known base image such as `mambaorg/micromamba`). The image does not change, so
    the fix is safe; but setting `uid`/`gid` gives the mount a different cache identity
    (DOMAIN §1.4), so the first build after the fix starts with an empty cache -- the fix title
    says so. No fix -- a report only -- when the uid cannot be known from the Dockerfile (a user
    of the base image, `useradd` without `-u`, a user or id from a build argument).

    ## Options
    None.

    ## References
    - [Dockerfile reference: `RUN --mount=type=cache` (`uid`, `gid`, `mode`)](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    """

    code = "AIC122"
    name = "cache-mount-not-writable"
    summary = "A non-root USER writes to a cache mount that has no uid/gid"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            state = facts.state(run)
            if state.user is None or state.is_root:
                continue
            invs = facts.invocations(run)
            if invs and all(runs_under_sudo(inv) for inv in invs):
                continue  # everything runs as root
            info = state.user_info
            for flag in (run.inner or run).mounts:
                if flag.mount_type != "cache" or not flag.options or _writable(flag):
                    continue
                target = mount_target(flag, state)
                where = f" at `{target}`" if target else ""
                message = (
                    f"user `{info.name}` cannot write to this cache mount{where}: without `uid`/`gid` "
                    "BuildKit creates it owned by root with mode 0755"
                )
                fix = None
                if info.uid is not None:
                    extra = f",uid={info.uid}" + (f",gid={info.gid}" if info.gid is not None else "")
                    fix = Fix.safe(
                        f"Add `{extra[1:]}` to the mount (a new cache: the first build after this fix is cold)",
                        Edit.insert(flag.options[-1].span.end, extra),
                    )
                else:
                    message += f"; the uid of `{info.name}` is not known here"
                yield Violation(flag.span, message, fix)


def _writable(flag: Flag) -> bool:
    """Whether the mount needs no uid: one is set, it is read-only, seeded from elsewhere, or its
    mode lets others write."""
    if flag.option("uid") is not None or flag.option("from") is not None:
        return True
    ro = flag.option("ro", "readonly")
    if ro is not None and (ro.value or "").lower() in _TRUE:
        rw = flag.option("rw", "readwrite")
        if rw is None or rw.span.start < ro.span.start:
            return True
    mode = flag.option("mode")
    if mode is not None and mode.value:
        try:
            return bool(int(mode.value, 8) & 0o002)
        except ValueError:
            return True  # not a mode BuildKit accepts: the build fails anyway; leave it
    return False
