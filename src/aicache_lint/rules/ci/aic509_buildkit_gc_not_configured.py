"""AIC509 buildkit-gc-not-configured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.daemon.config import DaemonConfig

# `builder.gc` keys, matched case-insensitively as Go's encoding/json does (moby `daemon/config/builder.go`).
_NEW = ("defaultreservedspace", "defaultmaxusedspace", "defaultminfreespace")  # Engine 28.0 and later
_OLD = ("defaultkeepstorage",)  # every engine; 28.0 and later read it as defaultReservedSpace
_RULE_NEW = ("reservedspace", "maxusedspace", "minfreespace")
_RULE_OLD = ("keepstorage",)
_NEW_KEYS = "`defaultReservedSpace`, `defaultMaxUsedSpace`, `defaultMinFreeSpace`"


class BuildkitGcNotConfigured(Rule):
    """
    ## What it does
    Flags a `daemon.json` that sets no limit for the garbage collection of the `docker` driver's
    BuildKit build cache: no `builder`, no `builder.gc`, or a `builder.gc` with neither a
    `default...` size nor a `policy` rule with a size (an empty string sets none). The message
    names the keys for the engine the file is written for: `defaultReservedSpace`,
    `defaultMaxUsedSpace`, `defaultMinFreeSpace` (`reservedSpace`... in `policy` rules; Docker
    Engine 28.0 and later) when the file writes those, `defaultKeepStorage` (`keepStorage`) when
    it writes that naming, both otherwise. A `builder.gc` with `"enabled": false` is a choice to
    keep every cache and is left alone.

    It reads the `daemon.json` a script writes as well: a workflow `run:` step, a GitLab
    `script:`/`before_script:` or a `*.sh` file that writes `/etc/docker/daemon.json` (or the
    rootless daemon's `~/.config/docker/daemon.json`) with `tee` or `cat >` and a heredoc, `echo`
    or `printf` piped to `sudo tee`, `sudo sh -c 'echo ... > PATH'`, or a file written elsewhere
    and moved into place; the finding goes on the JSON it writes. Not a step that runs only on a
    GitHub-hosted runner (its job's `runs-on`, or an action step's `if: runner.environment ==
    'github-hosted'`): that daemon lives for one job. What the configuration holds
    at the end of the job counts: a later `jq` edit that names a key sets it, an append (`tee -a`,
    `>>`) or an edit that cannot be followed (`sed -i`, a template) leaves nothing to check, and
    parts the shell or GitHub fill in (`${MIRROR}` in an unquoted heredoc, `${{ vars.X }}`) are
    unknown: no finding depends on them.
    A size a script computes counts as a limit.

    ## Why is this bad?
    Before Docker Engine 28.2, BuildKit's garbage collection in the daemon runs only when
    `builder.gc.enabled` is true: without it the build cache grows until the disk is full, and the
    way out is `docker builder prune`, which drops every cache at once. From 28.2 it runs by default
    with limits taken from the disk size (reserve 10% of it, use at most 80%, keep 20% free), and
    its first rule deletes cache mounts, local sources and Git checkouts unused for 48 hours once
    they pass 13.8% of the reserved space (about 1.4% of the disk, at least 512 MB): the multi-GB
    pip, uv and model caches of CUDA builds go first. Limits sized for the machine keep them.

    ## Example
    ```json
    {
      "registry-mirrors": ["http://localhost:5000"]
    }
    ```

    ## Use instead
    ```json
    {
      "registry-mirrors": ["http://localhost:5000"],
      "builder": {"gc": {"enabled": true, "defaultKeepStorage": "100GB"}}
    }
    ```

    ## Fix safety
    No fix: the right size depends on the machine's disk (and no edit goes inside a script).

    ## Options
    None.

    ## References
    - [Build garbage collection](https://docs.docker.com/build/cache/garbage-collection/)
    - [moby `daemon/config/builder.go`](https://github.com/moby/moby/blob/master/daemon/config/builder.go):
      `defaultKeepStorage`/`keepStorage` are read as `defaultReservedSpace`/`reservedSpace`; the
      `defaultReservedSpace`/`defaultMaxUsedSpace`/`defaultMinFreeSpace` keys came in moby commit
      8e529682 (first release v28.0.0); `enabled` defaults to true since commit a79d081a (v28.2.0)
    - [moby `daemon/internal/builder-next/worker/gc.go`](https://github.com/moby/moby/blob/master/daemon/internal/builder-next/worker/gc.go):
      the default policy (10% / 80% / 20% of the disk, 48 h for cache mounts)
    - [moby/moby#49826: Default BuildKit GC policy](https://github.com/moby/moby/issues/49826)
    - [dockerd: daemon configuration file](https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file)
    - [Docker daemon configuration file locations](https://docs.docker.com/engine/daemon/#configuration-file)
    """

    code = "AIC509"
    name = "buildkit-gc-not-configured"
    summary = "A daemon.json sets no garbage-collection limits for the BuildKit build cache"
    severity = Severity.INFO
    fix_availability = FixAvailability.NONE
    targets = ("daemon", "workflow", "action", "gitlab", "shell")

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.daemon.config import daemon_configs

        for config in daemon_configs(ctx.file):
            if config.throwaway:
                continue  # a daemon that lives for one CI job never fills its disk
            yield from _check(config)


def _check(config: "DaemonConfig") -> Iterator[Violation]:
    from aicache_lint.daemon.config import UNKNOWN, folded

    has_builder, builder = "builder" in config.data, config.data.get("builder")
    if has_builder and not isinstance(builder, dict):
        return  # dockerd refuses the file, or a script computes it
    has_gc, gc = folded(builder, "gc") if has_builder else (False, None)
    if not has_gc:
        what = "no `builder.gc`" if has_builder else "no `builder`"
        yield Violation(config.key_span("builder"), f"{config.name} sets {what}: {_consequence(False)}. {_keys(set())}")
        return
    if not isinstance(gc, dict):
        return
    keys = {k.lower(): v for k, v in gc.items()}
    enabled = keys.get("enabled")
    policy = keys.get("policy", [])
    unknown_policy = policy is UNKNOWN or (isinstance(policy, list) and any(r is UNKNOWN for r in policy))
    if enabled is UNKNOWN or enabled is False or enabled == "false" or unknown_policy:
        return  # turned off on purpose, or computed by a script
    rules = [{k.lower(): v for k, v in r.items()} for r in policy if isinstance(r, dict)] if isinstance(policy, list) else []
    if _sized(keys, _NEW + _OLD) or any(_sized(rule, _RULE_NEW + _RULE_OLD) for rule in rules):
        return
    names = set(keys).union(*rules)
    where = "" if not config.written else f" in {config.name}"
    yield Violation(
        config.key_span("builder", "gc"),
        f"`builder.gc`{where} sets no size limit: {_consequence(enabled is True or enabled == 'true')}. {_keys(names)}",
    )


def _sized(keys: dict, names: tuple[str, ...]) -> bool:
    """One of ``names`` is set to a size (an empty string sets none; a computed one may set one)."""
    from aicache_lint.daemon.config import UNKNOWN

    values = [keys[n] for n in names if n in keys]
    return any(v is UNKNOWN or (isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v).strip())
               for v in values)


def _consequence(enabled: bool) -> str:
    limits = ("the default policy keeps 10% of the disk, uses at most 80% and deletes cache mounts unused for "
              "48 h once they pass about 1.4% of it: the multi-GB pip, uv and model caches go first")
    if enabled:
        return limits
    return ("before Docker Engine 28.2 BuildKit's garbage collection is then off and the build cache grows until "
            f"the disk is full; from 28.2 {limits}")


def _keys(names: set[str]) -> str:
    """Which keys to set, in the naming the file already uses (its empty or per-rule keys)."""
    if names & set(_OLD + _RULE_OLD):
        return "Set `defaultKeepStorage` (the naming this file uses) to the size the cache may keep"
    if names & set(_NEW + _RULE_NEW):
        return f"Set {_NEW_KEYS} (the naming this file uses, Docker Engine 28.0 and later) to sizes fitting the disk"
    return (f"Set {_NEW_KEYS} (Docker Engine 28.0 and later) or `defaultKeepStorage` (older engines, and "
            "still read by later ones) to sizes fitting the disk")
