"""AIC106 poetry-cache-not-mounted."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.knowledge.package_cache import (
    POETRY,
    missing_mount_findings,
    missing_mount_message,
    poetry_mount_dirs,
    program_span,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class PoetryCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that runs `poetry install`, `poetry add`, `poetry lock`, `poetry update` or
    `poetry sync` without a BuildKit cache mount at poetry's cache dir for that `RUN`:
    `POETRY_CACHE_DIR`, else `$XDG_CACHE_HOME/pypoetry`, else `$HOME/.cache/pypoetry` of the
    effective `USER`.

    ## Why is this bad?
    poetry keeps downloaded distributions (`artifacts/`) and package metadata
    (`cache/repositories/`) in its cache dir. Without a cache mount they die with the layer and
    every rebuild downloads every package again.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    ENV POETRY_VIRTUALENVS_IN_PROJECT=true
    RUN poetry install --no-root
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    ENV POETRY_VIRTUALENVS_IN_PROJECT=true
    RUN --mount=type=cache,target=/root/.cache/pypoetry poetry install --no-root
    ```

    Without `POETRY_VIRTUALENVS_CREATE=false` or `POETRY_VIRTUALENVS_IN_PROJECT=true`, poetry
    creates its virtualenv in `{cache-dir}/virtualenvs`: mount only the `cache` and `artifacts`
    subdirectories so that the virtualenv stays in the image:

    ```dockerfile
    RUN --mount=type=cache,target=/root/.cache/pypoetry/cache \
        --mount=type=cache,target=/root/.cache/pypoetry/artifacts \
        poetry install --no-root
    ```

    ## Fix safety
    The trap: a cache mount over the whole cache dir would also hold poetry's default
    virtualenv (`virtualenvs.path` is `{cache-dir}/virtualenvs`), and the image would ship
    without it. So the fix mounts the whole cache dir only when the virtualenv is known to stay
    out of it -- `POETRY_VIRTUALENVS_CREATE=false`, `POETRY_VIRTUALENVS_IN_PROJECT=true`, an
    absolute `POETRY_VIRTUALENVS_PATH` elsewhere or an active `VIRTUAL_ENV`, in scope as `ENV`,
    `ARG` or a command prefix, or set by `poetry config virtualenvs.create false` (or
    `virtualenvs.in-project true`, `virtualenvs.path`) earlier in the `RUN` or in an earlier `RUN`
    of the stage by the same user -- and otherwise mounts only `<cache dir>/cache` and
    `<cache dir>/artifacts`. It also drops poetry's global `--no-cache` from the `RUN`'s poetry
    commands. For root the fix is safe; for a non-root `USER` the mounts get `uid=`/`gid=`, and
    the fix is unsafe, and says why, when the uid cannot be known or a missing parent of a mount
    point would be created owned by root (AIC101 explains why).
    No fix -- a report only -- when the cache dir cannot be known (a variable set outside the
    Dockerfile, a base image user the Dockerfile does not show, `sudo` as a non-root user), when
    poetry commands of one `RUN` need different mounts, or when a non-cache mount sits over the
    cache dir. A `RUN` whose cache mount is clearly meant for poetry but sits elsewhere is left
    to AIC120.

    ## Options
    None.

    ## References
    - [poetry configuration: `cache-dir`, `virtualenvs.path`, `virtualenvs.create`, `virtualenvs.in-project`](https://python-poetry.org/docs/configuration/)
    - [poetry CLI global options (`--no-cache`)](https://python-poetry.org/docs/cli/#global-options)
    - [Dockerfile reference: `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    """

    code = "AIC106"
    name = "poetry-cache-not-mounted"
    summary = "poetry downloads without a BuildKit cache mount at its cache dir"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        for run, inv, directory, fix, why_not in missing_mount_findings(ctx, POETRY, mount_dirs=poetry_mount_dirs):
            message = missing_mount_message(POETRY, ctx, run, inv, directory, why_not)
            yield Violation(program_span(ctx, run, inv), message, fix)
