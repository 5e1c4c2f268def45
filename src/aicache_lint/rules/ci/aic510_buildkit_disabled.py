"""AIC510 buildkit-disabled."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule


class BuildkitDisabled(Rule):
    """
    ## What it does
    Flags `"features": {"buildkit": false}` in a `daemon.json`. The message names the project's
    Dockerfiles (those its builds use) that need BuildKit: `RUN --mount=type=cache` and the other
    `--mount` forms.

    It reads the `daemon.json` a script writes as well: a workflow `run:` step, a GitLab
    `script:`/`before_script:` or a `*.sh` file that writes `/etc/docker/daemon.json` (or the
    rootless daemon's `~/.config/docker/daemon.json`) with `tee` or `cat >` and a heredoc, `echo`
    or `printf` piped to `sudo tee`, `sudo sh -c 'echo ... > PATH'`, or a file written elsewhere
    and moved into place; the finding goes on the JSON it writes. What the configuration holds
    at the end of the job counts: a later `jq` edit that names a key sets it, an append (`tee -a`,
    `>>`) or an edit that cannot be followed (`sed -i`, a template) leaves nothing to check, and
    parts the shell or GitHub fill in (`${MIRROR}` in an unquoted heredoc, `${{ vars.X }}`) are
    unknown: no finding depends on them.

    ## Why is this bad?
    With the feature off the daemon advertises the legacy builder, and clients that follow it
    (`docker build` without `DOCKER_BUILDKIT=1`) build with it: it knows no cache mounts (a
    Dockerfile with `RUN --mount` fails to build), no cache import or export, and rebuilds every
    stage in order. Every pip, uv, apt and model cache this linter asks for needs BuildKit.

    ## Example
    ```json
    {
      "features": {"buildkit": false}
    }
    ```

    ## Use instead
    ```json
    {
      "features": {"buildkit": true}
    }
    ```

    ## Fix safety
    No fix: the setting is a deliberate choice (a build that relies on the legacy builder's
    behaviour), which only the project can reverse; and no edit goes inside a script.

    ## Options
    None.

    ## References
    - [BuildKit: getting started (`features.buildkit` in daemon.json)](https://docs.docker.com/build/buildkit/#getting-started)
    - [moby `daemon/server/router/build/build.go`](https://github.com/moby/moby/blob/master/daemon/server/router/build/build.go):
      `BuilderVersion`: `features.buildkit: false` makes the daemon advertise the legacy builder,
      a recommendation the client follows or not
    - [Dockerfile reference: RUN --mount](https://docs.docker.com/reference/dockerfile/#run---mount)
    - [Docker daemon configuration file locations](https://docs.docker.com/engine/daemon/#configuration-file)
    """

    code = "AIC510"
    name = "buildkit-disabled"
    summary = "A daemon.json turns BuildKit off, and with it cache mounts"
    severity = Severity.WARNING
    fix_availability = FixAvailability.NONE
    targets = ("daemon", "workflow", "action", "gitlab", "shell")

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.daemon.config import daemon_configs

        configs = [c for c in daemon_configs(ctx.file) if _buildkit_off(c.data)]
        users = _mount_users(ctx) if configs else []
        need = ""
        if users:
            named = ", ".join(users[:3]) + (" and more" if len(users) > 3 else "")
            need = f"; {named} {'uses' if len(users) == 1 else 'use'} `RUN --mount`, which the legacy builder refuses"
        for config in configs:
            where = "" if not config.written else f" in {config.name}"
            yield Violation(
                config.value_span("features", "buildkit"),
                f"`features.buildkit: false`{where} makes the daemon offer the legacy builder, which `docker build` "
                f"then uses: no cache mounts, no cache import or export{need}",
            )


def _buildkit_off(data: dict) -> bool:
    features = data.get("features")
    return isinstance(features, dict) and features.get("buildkit") is False


def _mount_users(ctx: BuildFileContext) -> list[str]:
    """The project's Dockerfiles with a `RUN --mount` (from the repository root)."""
    from aicache_lint.ci import shown_path

    found: dict[str, None] = {}
    for inv in ctx.workspace.invocations():
        parsed = ctx.workspace.dockerfile(inv.dockerfile, inv.args) if inv.dockerfile else None
        if parsed is None:
            continue
        if any(flag.name.lower() == "mount" for run in parsed[1].runs() for flag in (run.inner or run).flags):
            found.setdefault(f"`{shown_path(inv.dockerfile, ctx.path, ctx.workspace.root)}`", None)
    return list(found)
