"""AIC507 registry-cache-not-persisted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Fix
from aicache_lint.rules.base import ComposeContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.compose.registry_cache import RegistryProxy


class RegistryCacheNotPersisted(Rule):
    """
    ## What it does
    Flags a Compose service that runs a pull-through registry cache -- the distribution registry
    (`registry`, `registry:2`, `registry:3`, `distribution/distribution`) with an upstream set by
    `REGISTRY_PROXY_REMOTEURL` (in `environment` or an `env_file`, with `${VAR}` interpolated from
    `.env`) or by `proxy.remoteurl` in the config file a bind mount puts where the image reads it
    (`/etc/docker/registry/config.yml` for `registry:2`, `/etc/distribution/config.yml` for
    `registry:3`, both for another tag, or the path the service's `command:` names) -- when:
    - no named volume or bind mount holds its storage: `/var/lib/registry`, or the directory that
      `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY` or `storage.filesystem.rootdirectory` sets;
    - it has no `restart:` policy (nor `deploy.restart_policy`).
    A plain registry (no upstream) is not a cache and is left alone; so is storage on another
    driver (`s3`, `gcs`, `azure`...).

    ## Why is this bad?
    The cache exists to pull each layer from the upstream once. Without a volume it lives in the
    anonymous volume the image declares (`VOLUME /var/lib/registry`) -- which `docker compose down`
    leaves behind and the next `up` replaces with an empty one -- or, for a storage root moved
    elsewhere, in the container's writable layer, gone with the container. Every multi-GB CUDA
    layer is then pulled from the upstream again, against its rate limits.
    Without a restart policy the cache stays stopped after a reboot or a daemon restart: pulls
    meant for it go to the upstream, or fail where only the cache is reachable, until someone
    starts it.

    ## Example
    ```yaml
    services:
      registry-cache:
        image: registry:2
        ports:
          - "5000:5000"
        environment:
          REGISTRY_PROXY_REMOTEURL: https://registry-1.docker.io
    ```

    ## Use instead
    ```yaml
    services:
      registry-cache:
        image: registry:2
        restart: unless-stopped
        ports:
          - "5000:5000"
        environment:
          REGISTRY_PROXY_REMOTEURL: https://registry-1.docker.io
        volumes:
          - registry-cache:/var/lib/registry
    volumes:
      registry-cache:
    ```

    ## Fix safety
    The fix mounts a named volume (`registry-cache`, configurable; `<name>-<service>` when the project
    runs several caches) at the storage root and declares it under the top-level
    `volumes:`. The registry images run as root, so the new volume is writable: the fix is safe.
    Reported without a fix: a volume name another service already mounts, a service written in
    another file than the one linted (it is fixed where it is written) or in a form the fix cannot
    extend (a flow mapping, an aliased or tagged `volumes:`).
    A missing restart policy is reported without a fix: `unless-stopped` and `always` differ in
    what a manual stop means, which only the project knows.

    ## Options
    - `volume` (string, default `registry-cache`): the name of the volume the fix mounts.

    ## References
    - [Registry as a pull through cache](https://distribution.github.io/distribution/recipes/mirror/)
    - [Registry configuration: proxy, storage, environment overrides](https://distribution.github.io/distribution/about/configuration/)
    - [distribution `Dockerfile`](https://github.com/distribution/distribution/blob/main/Dockerfile):
      `VOLUME ["/var/lib/registry"]`, config at `/etc/distribution/config.yml` (v3,
      [distribution/distribution#4365](https://github.com/distribution/distribution/pull/4365))
    - [registry:2 image `Dockerfile`](https://github.com/distribution/distribution-library-image/blob/master/Dockerfile):
      config at `/etc/docker/registry/config.yml`
    - [docker compose up: `--renew-anon-volumes`](https://docs.docker.com/reference/cli/docker/compose/up/)
    - [Compose file reference: restart](https://docs.docker.com/reference/compose-file/services/#restart)
    - [Docker Hub: mirror](https://docs.docker.com/docker-hub/image-library/mirror/)
    """

    code = "AIC507"
    name = "registry-cache-not-persisted"
    summary = "A pull-through registry cache keeps its storage in no volume, or has no restart policy"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    targets = ("compose",)
    default_options = {"volume": "registry-cache"}

    def check(self, ctx: ComposeContext) -> Iterator[Violation]:
        from aicache_lint.compose.registry_cache import has_restart_policy, proxies, storage_persisted

        found = proxies(ctx.project)
        local = [p for p in found if p.storage_root is not None]
        unkept = [p for p in local if storage_persisted(p.service, p.storage_root) is False]
        for proxy in found:
            service = proxy.service
            where = service.key
            if where is None:
                continue
            key, path = where
            if proxy in unkept:
                fix, why = None, ""
                if path == ctx.source.path:
                    fix = self._fix(ctx, proxy, len(local) > 1)  # one name per cache, however many are kept
                    if isinstance(fix, str):
                        fix, why = None, f" (no fix: {fix})"
                yield Violation(key.span, _storage_message(proxy) + why, fix, path)
            if not has_restart_policy(service):
                yield Violation(
                    key.span,
                    f"service `{service.name}` runs {proxy.described} with no `restart:` policy: after a reboot "
                    "or a daemon restart it stays stopped, and pulls meant for it go upstream or fail until "
                    "someone starts it. Add `restart: unless-stopped` (or `always`)",
                    None,
                    path,
                )

    def _fix(self, ctx: ComposeContext, proxy: "RegistryProxy", several: bool) -> Fix | str | None:
        from aicache_lint.compose.edits import add_service_volume, declare_top_level_key, merge_inserts, service_mapping
        from aicache_lint.compose.project import is_volume_name

        name = {**self.default_options, **ctx.options}["volume"]
        if several:
            name = f"{name}-{proxy.service.name}"
        if not is_volume_name(name):
            return None
        users = sorted(s.name for s in ctx.project.services.values()
                       if any(v.is_named and v.source == name for v in s.volumes))
        if users:
            return f"service `{users[0]}` mounts a volume `{name}` already; choose another with the `volume` option"
        mapping = service_mapping(ctx.doc, proxy.service.name)
        edits = add_service_volume(ctx.doc, ctx.source, mapping, f"{name}:{proxy.storage_root}") if mapping else None
        if edits is None:
            return None
        if name not in ctx.project.volumes:
            declared = declare_top_level_key(ctx.doc, ctx.source, "volumes", name)
            if declared is None:
                return None
            edits = [*edits, declared]
        return Fix.safe(f"Keep the cache in volume `{name}` at `{proxy.storage_root}`", *merge_inserts(edits))


def _storage_message(proxy: "RegistryProxy") -> str:
    from aicache_lint.compose.registry_cache import DEFAULT_ROOT

    root = proxy.storage_root
    set_by = f", set by {proxy.root_from}" if proxy.root_from else ""
    if root is not None and root.rstrip("/") == DEFAULT_ROOT:
        lost = ("it lives in the anonymous volume the image declares, which `docker compose down` leaves "
                "behind and the next `up` replaces with an empty one")
    else:
        lost = "it lives in the container's writable layer and is gone whenever the container is recreated"
    return (f"service `{proxy.service.name}` runs {proxy.described} but no volume holds its storage "
            f"`{root}`{set_by}: {lost}, and every layer is pulled from the upstream again")

