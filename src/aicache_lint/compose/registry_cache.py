"""Pull-through registry caches a Compose project runs (DOMAIN §7.2).

A service runs one when its image is the distribution registry (the Docker Official Image
`registry`, or `distribution/distribution`) and its upstream is set: `REGISTRY_PROXY_REMOTEURL` in
its `environment` or `env_file`, or `proxy.remoteurl` in the config file a volume mounts where the
image reads it. Environment variables override the config file, key by key
(`REGISTRY_<SECTION>_<KEY>`). Sources:
- distribution/distribution@0d6b721 `docs/content/about/configuration.md` (proxy, storage, the
  `REGISTRY_*` override variables) and its `Dockerfile`: `VOLUME ["/var/lib/registry"]`, the config
  at `/etc/distribution/config.yml` since v3.0.0 (distribution/distribution#4365);
- distribution/distribution-library-image `Dockerfile` (registry:2): the same VOLUME, the config at
  `/etc/docker/registry/config.yml`, `EXPOSE 5000`.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.project import ComposeFile, Project, Service

V2_CONFIG = "/etc/docker/registry/config.yml"
V3_CONFIG = "/etc/distribution/config.yml"
DEFAULT_ROOT = "/var/lib/registry"  # `storage.filesystem.rootdirectory` of both images, and their VOLUME
DEFAULT_PORT = 5000  # `http.addr: :5000`
_IMAGES = frozenset({("docker.io", "library/registry"), ("docker.io", "distribution/distribution"),
                     ("ghcr.io", "distribution/distribution")})
# Upstream hosts that are Docker Hub: only a cache of Docker Hub can serve as the daemon's mirror.
HUB_HOSTS = frozenset({"registry-1.docker.io", "docker.io", "index.docker.io", "registry.hub.docker.com"})
# `storage:` keys that configure the storage rather than name a driver.
_STORAGE_OPTIONS = frozenset({"delete", "cache", "maintenance", "redirect", "tag"})


class Port(NamedTuple):
    host_ip: str | None  # None: every interface
    published: int  # the host port
    target: int  # the container port


class RegistryProxy(NamedTuple):
    service: "Service"
    remote_url: str | None  # None: a variable not known here gives it
    remote_from: str  # where the upstream is set, for messages
    # None: nothing local to keep (a storage driver other than `filesystem`), or a variable hides it
    storage_root: str | None
    root_from: str | None  # where the storage root is set (None: the image's default)
    port: int  # the port the registry listens on in its container
    ports: tuple[Port, ...]  # the host ports that reach it

    @property
    def upstream_host(self) -> str | None:
        if self.remote_url is None:
            return None
        from urllib.parse import urlsplit

        return (urlsplit(self.remote_url if "://" in self.remote_url else "//" + self.remote_url).hostname
                or "").lower()

    @property
    def mirrors_hub(self) -> bool:
        """A cache of Docker Hub, or of an upstream a variable hides (it may well be Docker Hub)."""
        return self.remote_url is None or self.upstream_host in HUB_HOSTS

    @property
    def described(self) -> str:
        upstream = f"`{self.remote_url}`" if self.remote_url else "an upstream set by a variable"
        return f"a pull-through cache of {upstream} ({self.remote_from})"


def config_paths(image: str | None) -> tuple[str, ...]:
    """Where the registry image reads its config (none: not a registry image). `registry:2*` is
    distribution 2.x, `registry:3*` 3.x; another tag (`latest`) may be either, so both."""
    from aicache_lint.images.reference import parse_reference

    ref = parse_reference(image) if image else None
    if ref is None or (ref.registry, ref.repository) not in _IMAGES:
        return ()
    tag = ref.tag or ""
    if tag.startswith("2"):
        return (V2_CONFIG,)
    if tag.startswith("3"):
        return (V3_CONFIG,)
    return (V3_CONFIG, V2_CONFIG)


def proxies(project: "Project") -> list[RegistryProxy]:
    """The project's registry services configured as pull-through caches, in service order."""
    return [p for p in map(proxy_of, project.services.values()) if p is not None]


def proxy_of(service: "Service") -> RegistryProxy | None:
    paths = config_paths(service.image)
    if not paths:
        return None
    env = _environment(service)
    config, config_file = _config(service, paths)
    remote = env.get("REGISTRY_PROXY_REMOTEURL")
    if remote is not None:
        url, where = remote
        if url == "":
            return None  # set to nothing: a plain registry
    else:
        url = _get(config, "proxy", "remoteurl")
        if not isinstance(url, str) or not url:
            return None
        where = f"`proxy.remoteurl` in {config_file}"
    root, root_from = DEFAULT_ROOT, None
    storage = config.get("storage") if isinstance(config.get("storage"), dict) else {}
    drivers = set(storage) - _STORAGE_OPTIONS
    configured = _get(config, "storage", "filesystem", "rootdirectory")
    if isinstance(configured, str) and configured:
        root, root_from = configured, f"`storage.filesystem.rootdirectory` in {config_file}"
    driver = env.get("REGISTRY_STORAGE")
    if driver is not None:
        drivers = {driver[0] or ""}
    if drivers and "filesystem" not in drivers:
        root = None  # s3, gcs, azure...: the cache lives outside the container
    moved = env.get("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY")
    if moved is not None and root is not None:
        root, root_from = moved[0], moved[1]
    addr = env.get("REGISTRY_HTTP_ADDR", (None, ""))[0] or _get(config, "http", "addr")
    port = _port_of(addr) if isinstance(addr, str) else DEFAULT_PORT
    return RegistryProxy(service, url, where, root, root_from, port or DEFAULT_PORT,
                         tuple(p for p in published_ports(service) if p.target == (port or DEFAULT_PORT)))


def _environment(service: "Service") -> dict[str, tuple[str | None, str]]:
    """name -> (value, where it is set) as the container sees it: `environment` wins over `env_file`
    (a value None: a variable not known here, or a name without a value taken from the shell)."""
    found: dict[str, tuple[str | None, str]] = {}
    for env_file in service.env_file:
        for name, value in service.env_file_values(env_file).items():
            found[name] = (value, f"`{name}` in env_file `{env_file.raw}`")
    for name, var in service.environment.items():
        found[name] = (var.value, f"`{name}` in `environment`")
    return found


def _config(service: "Service", paths: tuple[str, ...]) -> tuple[dict, str | None]:
    """The registry config file a volume mounts where the image (or the service's command) reads
    it, parsed (empty when there is none, or it cannot be read), and how to name it."""
    wanted = [w for w in _command_words(service) if w.startswith("/") and w.endswith((".yml", ".yaml"))]
    candidates = wanted[-1:] or list(paths)
    for path in candidates:
        for volume in reversed(service.volumes):
            if not volume.is_bind or not volume.host_path or not volume.target:
                continue
            target = posixpath.normpath(volume.target)
            if target == path:
                host = volume.host_path
            elif target == posixpath.dirname(path):
                host = posixpath.join(volume.host_path, posixpath.basename(path))
            else:
                continue
            text = service.workspace.text(host) if service.workspace is not None else None
            if text is None:
                return {}, None
            import yaml

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError:
                return {}, None
            return (data if isinstance(data, dict) else {}), f"`{volume.source}`"
    return {}, None


def _command_words(service: "Service") -> list[str]:
    from aicache_lint.compose.model import Scalar, Sequence

    node = service.command.target if service.command is not None else None
    if isinstance(node, Sequence):
        return [i.target.value for i in node.items if isinstance(i.target, Scalar)]
    if isinstance(node, Scalar) and not node.is_null:
        return node.value.split()
    return []


def _get(data: dict, *keys: str):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _port_of(addr: str) -> int | None:
    """The port of `http.addr` (`:5000`, `0.0.0.0:5000`, `[::]:5000`)."""
    tail = addr.rpartition(":")[2]
    return int(tail) if tail.isdigit() else None


# -- the service's keys the project model does not keep -----------------------------------------

def last_value(service: "Service", key: str):
    """(the node, its file) of ``key`` in the last file that sets it for the service, or None."""
    for cfile, mapping in reversed(service.definitions):
        node = mapping.get(key)
        if node is not None:
            return node, cfile
    return None


def has_restart_policy(service: "Service") -> bool:
    """`restart:` (any value: `"no"` is a choice too) or `deploy.restart_policy`."""
    from aicache_lint.compose.model import Mapping

    if last_value(service, "restart") is not None:
        return True
    deploy = last_value(service, "deploy")
    return deploy is not None and isinstance(deploy[0], Mapping) and deploy[0].get("restart_policy") is not None


def published_ports(service: "Service") -> list[Port]:
    """The service's `ports:` that publish a known host port (the lists of every file that sets
    them, as Compose appends them); ranges and random host ports are left out."""
    from aicache_lint.compose.model import Mapping, Scalar, Sequence

    found: list[Port] = []
    for cfile, mapping in service.definitions:
        node = mapping.get("ports")
        if not isinstance(node, Sequence):
            continue
        for item in node.items:
            item = item.target
            if isinstance(item, Mapping):
                port = _long_port(cfile, item)
            elif isinstance(item, Scalar):
                port = _short_port(cfile.value(item) or "")
            else:
                port = None
            if port is not None:
                found.append(port)
    return found


def _long_port(cfile: "ComposeFile", item) -> Port | None:
    target, published = cfile.value(item.get("target")), cfile.value(item.get("published"))
    if not (target and target.isdigit() and published and published.isdigit()):
        return None
    return Port(cfile.value(item.get("host_ip")) or None, int(published), int(target))


def _short_port(spec: str) -> Port | None:
    """`[HOST_IP:]HOST:CONTAINER[/PROTOCOL]`; an IPv6 host is written in brackets."""
    spec = spec.partition("/")[0]
    host_ip = None
    if spec.startswith("["):
        host_ip, _, spec = spec[1:].partition("]")
        spec = spec.lstrip(":")
    parts = spec.split(":")
    if len(parts) == 3:
        host_ip, parts = parts[0], parts[1:]
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return Port(host_ip or None, int(parts[0]), int(parts[1]))


def storage_persisted(service: "Service", root: str) -> bool | None:
    """Whether a volume or bind mount holds ``root`` (None: a mount whose target is not known)."""
    from aicache_lint.dockerfile.facts import covers_path

    root = posixpath.normpath(root)
    unknown = False
    for volume in service.volumes:
        if volume.target is None:
            unknown = True
            continue
        target = posixpath.normpath(volume.target)
        kept = volume.is_bind or volume.is_named  # an anonymous volume is replaced by `down` + `up`
        if kept and covers_path(target, root):
            return True
    if last_value(service, "volumes_from") is not None:
        unknown = True
    return None if unknown else False
