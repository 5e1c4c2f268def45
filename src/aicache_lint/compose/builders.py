"""From a Dockerfile, the Compose volume that keeps its default model cache.

The Dockerfile rules that choose where a model cache lives (AIC201 `HF_HOME`, AIC202 `TORCH_HOME`)
must not move a cache away from a volume a Compose file already keeps at the default place. The
workspace finds the services that build the Dockerfile (``Workspace.services_building``); asked
only when such a rule has something to report.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.project import Service

class CacheMount(NamedTuple):
    directory: str  # the image's default cache directory the mount keeps, e.g. /root/.cache/huggingface
    mount: str  # "volume `hf`" or "bind mount `./models`"
    service: str
    compose_file: str  # as a path relative to the Dockerfile's directory


def default_cache_mount(services: list[tuple[str, "Service"]], dockerfile: str, kind: str) -> CacheMount | None:
    """Of the ``services`` (Compose file, service) building ``dockerfile``, one that keeps its
    ``kind`` ("hf", "torch") model cache at the image's default directory (it sets no cache
    variable of its own) on a volume or bind mount."""
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
