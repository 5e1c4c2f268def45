"""From a Dockerfile, the Compose services that build it.

The Dockerfile rules that choose where a model cache lives (AIC201 `HF_HOME`, AIC202 `TORCH_HOME`)
must not move a cache away from a volume a Compose file already keeps at the default place. Compose
files are looked for in the Dockerfile's directory and the ones above it, up to the repository root
(a directory with `.git`): `compose.yaml` with its override as Compose loads them, and each variant
(`compose.gpu.yaml`) on its own. Read only when such a rule has something to report.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.project import Service

MAX_LEVELS = 4  # a Dockerfile nested deeper below its Compose file is not looked for


class CacheMount(NamedTuple):
    directory: str  # the image's default cache directory the mount keeps, e.g. /root/.cache/huggingface
    mount: str  # "volume `hf`" or "bind mount `./models`"
    service: str
    compose_file: str  # as a path relative to the Dockerfile's directory


def default_cache_mount(dockerfile: str, kind: str) -> CacheMount | None:
    """A service building ``dockerfile`` that keeps its ``kind`` ("hf", "torch") model cache at the
    image's default directory (it sets no cache variable of its own) on a volume or bind mount."""
    services = services_building(dockerfile)
    if not services:
        return None
    from aicache_lint.compose.caches import covers, model_caches

    for compose_file, service in services:
        for cache in model_caches(service):
            if cache.kind != kind or cache.variable is not None or cache.root is None or cache.directory is None:
                continue
            for volume in service.volumes:
                if covers(volume, cache.directory):
                    if volume.is_named:
                        what = f"volume `{volume.source}`"
                    else:
                        what = f"{volume.type} mount `{volume.source or volume.target}`"
                    where = os.path.relpath(compose_file, os.path.dirname(os.path.abspath(dockerfile)))
                    return CacheMount(cache.root, what, service.name, where)
    return None


def services_building(dockerfile: str) -> list[tuple[str, "Service"]]:
    """(Compose file, service) for every service whose `build:` names ``dockerfile``."""
    from aicache_lint.discovery import is_compose_name

    target = os.path.realpath(dockerfile)
    directory = os.path.dirname(target)
    found = []
    for _ in range(MAX_LEVELS):
        try:
            names = sorted(n for n in os.listdir(directory) if is_compose_name(n))
        except OSError:
            names = []
        if names:  # the Compose model (and PyYAML) only when there is a Compose file
            found += _services_in(directory, names, target)
        parent = os.path.dirname(directory)
        if parent == directory or os.path.exists(os.path.join(directory, ".git")):
            break
        directory = parent
    return found


def _services_in(directory: str, names: list[str], target: str) -> list[tuple[str, "Service"]]:
    from aicache_lint.compose.project import (
        MAIN_NAMES,
        OVERRIDE_NAMES,
        companion_files,
        load_project,
    )

    loaded_together = MAIN_NAMES + OVERRIDE_NAMES
    projects = {tuple(companion_files(os.path.join(directory, n))) for n in names if n in loaded_together}
    projects |= {(os.path.join(directory, n),) for n in names if n not in loaded_together}
    found = []
    for files in sorted(projects):
        for service in load_project(list(files)).services.values():
            build = service.build
            if build and build.dockerfile and not build.dockerfile_inline and \
                    os.path.realpath(build.dockerfile) == target:
                found.append((files[0], service))
    return found
