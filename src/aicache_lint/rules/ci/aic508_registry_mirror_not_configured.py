"""AIC508 registry-mirror-not-configured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Applicability, Fix
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule
from aicache_lint.source import Span

if TYPE_CHECKING:
    from aicache_lint.daemon.config import DaemonConfig
    from aicache_lint.compose.registry_cache import RegistryProxy


class RegistryMirrorNotConfigured(Rule):
    """
    ## What it does
    Looks at the Docker daemon's `daemon.json` and BuildKit's `buildkitd.toml` kept in a
    repository that runs a pull-through cache of Docker Hub (a Compose service as AIC507
    `registry-cache-not-persisted` finds them, in the Compose projects of the run and next to or
    above the file; a cache whose upstream a variable hides counts too). It flags:
    - a `daemon.json` with no `registry-mirrors` (or an empty list);
    - a `buildkitd.toml` with no `mirrors` in `[registry."docker.io"]` -- a `docker-container`
      or `kubernetes` Buildx builder runs its own BuildKit, which never reads `daemon.json`;
    - mirrors that reach none of those caches (no cache publishes the mirror's port, and none is
      named by its service name on its own port): not one the repository runs, so the cache
      stays unused. The mirror may be one run elsewhere: the message says which caches the
      repository has.
    A repository that runs no such cache is left alone: there is nothing to point the setting at.
    When the project's builds start `FROM` images of other registries (nvcr.io, ghcr.io, quay.io),
    the message adds that a mirror serves Docker Hub images only.

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
    A mirror a script computes may be the cache: no finding then.

    ## Why is this bad?
    The daemon (or BuildKit) pulls from Docker Hub directly: the cache runs, holds nothing and
    saves nothing, while every CUDA base image is downloaded again on each machine and counts
    against Docker Hub's pull limits.

    ## Example
    ```json
    {
      "features": {"buildkit": true}
    }
    ```
    (with a `registry:2` service whose `REGISTRY_PROXY_REMOTEURL` is Docker Hub, published on
    port 5000)

    ## Use instead
    ```json
    {
      "features": {"buildkit": true},
      "registry-mirrors": ["http://localhost:5000"]
    }
    ```

    ## Fix safety
    For `daemon.json`, when the repository runs exactly one such cache and it publishes exactly
    one host port, the fix adds `"registry-mirrors": ["http://<host>:<port>"]` after the last
    key of the top-level object (or fills an empty `registry-mirrors` list), in the file's
    indentation, tabs and newlines; `<host>` is the address the port is bound to, `localhost`
    when it is bound to every interface. It is unsafe: it assumes the daemon runs on the host that
    publishes the cache. For `buildkitd.toml` the fix adds `mirrors = ["<ip>:<port>"]` (and
    `http = true` for that address) only when the port is bound to one non-loopback address:
    BuildKit in a builder container cannot reach the host as `localhost`. Otherwise, and for
    mirrors that reach none of the caches, the finding is reported without a fix.
    Whether the default `docker` Buildx driver applies `registry-mirrors` to `FROM` pulls is
    not verified here. A configuration a script writes gets no fix (no edit goes inside a
    script): the message names the `registry-mirrors` entry to add to the JSON it writes.

    ## Options
    None.

    ## References
    - [Docker Hub: mirror (registry-mirrors, only Docker Hub can be mirrored)](https://docs.docker.com/docker-hub/image-library/mirror/)
    - [Registry as a pull through cache](https://distribution.github.io/distribution/recipes/mirror/)
    - [BuildKit configuration: registry mirrors](https://docs.docker.com/build/buildkit/configure/#registry-mirror)
    - [buildkitd.toml reference](https://github.com/moby/buildkit/blob/master/docs/buildkitd.toml.md)
    - [dockerd: daemon configuration file](https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file)
    - [Docker daemon configuration file locations](https://docs.docker.com/engine/daemon/#configuration-file)
    """

    code = "AIC508"
    name = "registry-mirror-not-configured"
    summary = "A daemon.json or buildkitd.toml does not use the pull-through cache the repository runs"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = Applicability.UNSAFE
    targets = ("daemon", "buildkitd", "workflow", "action", "gitlab", "shell")

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.daemon.config import daemon_configs
        from aicache_lint.daemon.mirrors import repository_caches

        configs = daemon_configs(ctx.file) if ctx.file.kind != "buildkitd" else None
        if configs == []:
            return  # (a script that writes no daemon configuration: the Compose projects are not read)
        caches = repository_caches(ctx.workspace, ctx.path)
        if not caches:
            return
        if configs is None:
            yield from _buildkitd(ctx, caches)
        for config in [c for c in configs or () if not c.throwaway]:  # a one-job daemon reaches no cache of ours
            yield from _daemon(ctx, config, caches)


def _daemon(ctx: BuildFileContext, config: "DaemonConfig", caches: list["RegistryProxy"]) -> Iterator[Violation]:
    import json

    from aicache_lint.daemon.edits import json_fill_empty_array
    from aicache_lint.json_edits import add_members
    from aicache_lint.daemon.config import UNKNOWN
    from aicache_lint.daemon.mirrors import cache_names, hub_only_note, single_address

    mirrors = config.data.get("registry-mirrors")
    if isinstance(mirrors, list) and mirrors:
        if any(m is UNKNOWN for m in mirrors):
            return  # a script computes one: it may be the cache
        texts = [m for m in mirrors if isinstance(m, str)]
        at = config.item_span("registry-mirrors", mirrors.index(texts[0])) if texts else config.span
        setting = f"`registry-mirrors` in {config.name}" if config.written else "registry-mirrors"
        yield from _unused(ctx, caches, texts, at, setting, "daemon")
        return
    if "registry-mirrors" in config.data and not isinstance(mirrors, list):
        return  # not a list: dockerd refuses the file, or a script computes it
    fix, why = None, ""
    address = single_address(caches)
    if isinstance(address, str):
        why = f" (no fix: {address})"
    else:
        cache, port = address
        url = f"http://{_host(port.host_ip) or 'localhost'}:{port.published}"
        if config.written:
            why = f" (add `\"registry-mirrors\": [\"{url}\"]` to the JSON it writes; no fix edits a script)"
        else:
            node = config.tree.get("registry-mirrors")
            edit = (json_fill_empty_array(node, json.dumps(url)) if node is not None
                    else add_members(ctx.source, config.tree, [("registry-mirrors", json.dumps([url]))]))
            fix = Fix.unsafe(f"Pull Docker Hub images through `{url}` (assumes this daemon runs on the host that "
                             f"publishes service `{cache.service.name}`)", edit)
    what = "an empty `registry-mirrors`" if mirrors is not None else "no `registry-mirrors`"
    yield Violation(
        config.key_span("registry-mirrors"),
        f"{config.name} sets {what} while the repository runs a pull-through cache of Docker Hub "
        f"({cache_names(caches, ctx.workspace, ctx.path)}): the daemon pulls from Docker Hub directly and the "
        "cache stays empty" + hub_only_note(ctx.workspace, ctx.path) + why,
        fix,
    )


def _buildkitd(ctx: BuildFileContext, caches: list["RegistryProxy"]) -> Iterator[Violation]:
    from aicache_lint.daemon.edits import toml_table_header
    from aicache_lint.daemon.mirrors import LOOPBACK, cache_names, hub_only_note, single_address

    registries = ctx.file.data.get("registry")
    hub = registries.get("docker.io") if isinstance(registries, dict) else None
    header = toml_table_header(ctx.source, "registry", "docker.io")
    mirrors = hub.get("mirrors") if isinstance(hub, dict) else None
    if isinstance(mirrors, list) and mirrors:
        yield from _unused(ctx, caches, [m for m in mirrors if isinstance(m, str)], header or Span(0, 0),
                           '`[registry."docker.io"]` mirrors', "builder")
        return
    fix, why = None, ""
    address = single_address(caches)
    if isinstance(address, str):
        why = f" (no fix: {address})"
    else:
        cache, port = address
        host = _host(port.host_ip)
        if host is None or host in LOOPBACK:
            why = (f" (no fix: service `{cache.service.name}` publishes port {port.published} on "
                   f"{'every interface' if host is None else host}, and BuildKit in a builder container does not reach "
                   "the host as `localhost`: write the address it reaches the cache at)")
        else:
            fix = _toml_fix(ctx, registries, hub, header, f"{host}:{port.published}", cache)
            if fix is None:
                why = ' (no fix: `[registry."docker.io"]` is written in a form the fix cannot extend)'
    yield Violation(
        header or Span(0, 0),
        f"buildkitd.toml sets no `mirrors` for `docker.io` while the repository runs a pull-through cache of "
        f"Docker Hub ({cache_names(caches, ctx.workspace, ctx.path)}): builders started with this file pull from Docker Hub directly"
        + hub_only_note(ctx.workspace, ctx.path) + why,
        fix,
    )


def _toml_fix(ctx: BuildFileContext, registries, hub, header: Span | None, address: str,
              cache: "RegistryProxy") -> Fix | None:
    from aicache_lint.daemon.edits import toml_append, toml_insert_after_header, toml_key_indent

    if registries is not None and not isinstance(registries, dict):
        return None
    indent = toml_key_indent(ctx.source)
    mirrors = f'mirrors = ["{address}"]'
    # The cache serves plain HTTP: BuildKit needs `http = true` for its address.
    plain = [] if address in (registries or {}) else [f'[registry."{address}"]', f"{indent}http = true"]
    if hub is None:
        edits = [toml_append(ctx.source, ['[registry."docker.io"]', f"{indent}{mirrors}", *([""] + plain if plain else [])])]
    elif header is None or not isinstance(hub, dict):
        return None  # `docker.io` written inline or with dotted keys
    else:
        edits = [toml_insert_after_header(ctx.source, header, mirrors)]
        if plain:
            edits.append(toml_append(ctx.source, plain))
    return Fix.unsafe(f"Pull Docker Hub images through `{address}` over HTTP (assumes the builder reaches "
                      f"service `{cache.service.name}` there)", *edits)


def _unused(ctx: BuildFileContext, caches: list["RegistryProxy"], mirrors: list[str], at: Span, setting: str,
            user: str) -> Iterator[Violation]:
    """Mirrors that reach none of the repository's caches: one finding, at ``at`` (the first of them)."""
    from aicache_lint.daemon.mirrors import cache_names, parse_mirror, served_by

    if any((m := parse_mirror(text)) is not None and served_by(m, caches) is not None for text in mirrors):
        return
    names = ", ".join(f"`{text}`" for text in mirrors)
    yield Violation(
        at,
        f"{setting} names {names}, not a cache this repository runs: its pull-through cache of Docker Hub "
        f"({cache_names(caches, ctx.workspace, ctx.path)}) stays unused by this {user}",
        None,
    )


def _host(host_ip: str | None) -> str | None:
    """The address a port is bound to (None: every interface)."""
    if host_ip in (None, "", "0.0.0.0", "::"):
        return None
    return f"[{host_ip}]" if ":" in host_ip else host_ip
