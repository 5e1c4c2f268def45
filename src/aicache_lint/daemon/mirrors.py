"""What a registry mirror setting (`daemon.json` `registry-mirrors`, `buildkitd.toml`
`[registry."docker.io"] mirrors`) can point at in a repository: the pull-through caches its Compose
projects run, and which of its builds' base images a mirror cannot serve (DOMAIN §7.1: a mirror
serves Docker Hub images only)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.registry_cache import Port, RegistryProxy
    from aicache_lint.workspace.index import Workspace

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class Mirror(NamedTuple):
    host: str  # lower-cased
    port: int  # the scheme's default when none is written


def repository_caches(ws: "Workspace", near: str) -> list["RegistryProxy"]:
    """The pull-through caches of Docker Hub that the repository's Compose projects run: the
    projects of the run and those in ``near``'s directory and above."""
    from aicache_lint.compose.registry_cache import proxies
    from aicache_lint.discovery import file_kind

    projects = {ws.companion_files(p) for p in ws.build_files() if file_kind(p) == "compose"}
    projects.update(ws.compose_files_near(near))
    found: dict[tuple[str, str], RegistryProxy] = {}
    for files in sorted(projects):
        for proxy in proxies(ws.compose_project(files)):
            if proxy.mirrors_hub:
                found.setdefault((os.path.abspath(proxy.service.file.path), proxy.service.name), proxy)
    return list(found.values())


def parse_mirror(text: str) -> Mirror | None:
    """`https://mirror.gcr.io`, `http://localhost:5000` (daemon.json) or `mirror.gcr.io`,
    `10.0.0.5:5000` (buildkitd.toml, where HTTPS is the default)."""
    from urllib.parse import urlsplit

    try:
        url = urlsplit(text if "://" in text else "//" + text)
        port = url.port
    except ValueError:
        return None
    if not url.hostname:
        return None
    return Mirror(url.hostname.lower(), port or (80 if url.scheme == "http" else 443))


def served_by(mirror: Mirror, caches: list["RegistryProxy"]) -> "RegistryProxy | None":
    """The cache a mirror reaches: one that publishes the mirror's port (the daemon's host name
    cannot be known here, so any host matches), or a service reached by name on its own port."""
    for cache in caches:
        if any(p.published == mirror.port for p in cache.ports):
            return cache
        if mirror.host == cache.service.name and mirror.port == cache.port:
            return cache
    return None


def single_address(caches: list["RegistryProxy"]) -> "tuple[RegistryProxy, Port] | str":
    """The one cache, with its one published port, a new mirror setting can point at; else why
    there is none (for the message)."""
    if len(caches) != 1:
        return "the repository runs several caches: which one this daemon should use is not known"
    ports = {p.published for p in caches[0].ports}
    if len(ports) != 1:
        return (f"service `{caches[0].service.name}` publishes no port for the daemon to reach it at" if not ports
                else f"service `{caches[0].service.name}` publishes several ports")
    return caches[0], caches[0].ports[0]


def cache_names(caches: list["RegistryProxy"], ws: "Workspace", declared_in: str) -> str:
    from aicache_lint.ci import shown_path

    def one(cache: "RegistryProxy") -> str:
        ports = sorted({p.published for p in cache.ports})
        published = f"published on port {', '.join(map(str, ports))}" if ports else "with no published port"
        return f"service `{cache.service.name}` of {shown_path(cache.service.file.path, declared_in, ws.root)}, {published}"

    return "; ".join(one(c) for c in caches[:3]) + (f"; and {len(caches) - 3} more" if len(caches) > 3 else "")


def non_hub_bases(ws: "Workspace", declared_in: str) -> list[tuple[str, str]]:
    """(base image, Dockerfile) for the external bases of the project's builds that come from
    another registry than Docker Hub (nvcr.io, ghcr.io, quay.io...), one per registry."""
    from aicache_lint.ci import shown_path
    from aicache_lint.images.reference import DOCKER_HUB, parse_reference

    found: dict[str, tuple[str, str]] = {}
    for inv in ws.invocations():
        if inv.dockerfile is None:
            continue
        parsed = ws.dockerfile(inv.dockerfile, inv.args)
        if parsed is None:
            continue
        for stage in parsed[1].stages:
            ref = parse_reference(stage.base) if stage.parent is None and stage.base else None
            if ref is not None and ref.registry != DOCKER_HUB:
                found.setdefault(ref.registry, (stage.base, shown_path(inv.dockerfile, declared_in, ws.root)))
    return [found[k] for k in sorted(found)]


def hub_only_note(ws: "Workspace", declared_in: str) -> str:
    """The message's note on bases a Docker Hub mirror does not serve ("" when there are none)."""
    bases = non_hub_bases(ws, declared_in)
    if not bases:
        return ""
    named = ", ".join(f"`{image}` ({path})" for image, path in bases[:3])
    return (f". A mirror serves Docker Hub images only: the bases {named} are pulled from their own "
            "registry whatever the mirror")
