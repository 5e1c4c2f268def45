"""The container event: what a Compose service downloads each time its container is created anew
(`docker compose up` after a rebuild or a pull, `down` then `up`).

A new container starts from the image, with nothing of the old container's writable layer; only
volumes and bind mounts carry files over ("Volumes", docs.docker.com/engine/storage/volumes/). So
every model the code a service runs loads at run time (the model inventory, ``models.py``) is
downloaded again unless a volume covers the directory it lands in, or the image already holds it.
A cache the service fills without naming a model (an installed Hugging Face or torch library, a
known image like Ollama: ``compose/caches.model_caches``) that no volume keeps counts as a download
of unknown size, as does a model whose size or keeping cannot be known: never as zero.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.impact.rebuild import Download, Sizes, fetched, sized, unknown

if TYPE_CHECKING:
    from aicache_lint.compose.project import Service
    from aicache_lint.workspace.index import Workspace

RECREATE = "recreate"


class Startup(NamedTuple):
    """What one new container of a service downloads."""

    downloads: tuple[Download, ...]

    @property
    def fetched(self) -> int:
        return fetched(list(self.downloads))

    @property
    def unknown(self) -> list[Download]:
        return unknown(list(self.downloads))


def startup(ws: "Workspace", group: tuple[str, ...], service: "Service", sizes: Sizes) -> Startup:
    """The run-time downloads of ``service`` (of the Compose project ``group``)."""
    from aicache_lint.compose.caches import covered, model_caches, runtime
    from aicache_lint.dockerfile.facts import covers_path
    from aicache_lint.models import CONTAINER, IMAGE, RUN, STAGE, UNKNOWN, service_models

    out: list[Download] = []
    loaded = [m for m in service_models(ws, group, service).models if m.when == RUN]
    for m in loaded:
        where = f"{m.path}:{m.line}" if m.line else m.path
        if m.kept.kind in (IMAGE, STAGE):
            continue  # the image holds the files: the load finds them
        what = f"model: {m.model or m.expression or 'a model the code names at run time'}"
        if m.kept.kind == UNKNOWN:
            out.append(Download(f"{what} ({m.kept.detail})", None, None, False, where))
            continue
        # `hf download` fetches the whole repository (file names it may give are not known here)
        size = sizes.model(m.model, whole=m.call == "hf download") if m.model and m.hub else None
        out.append(sized(what, size, m.kept.kind != CONTAINER, where))
    for cache in model_caches(service, runtime(service)):
        if covered(service, cache) is not False or cache.directory is None:
            continue
        if any(m.cache and covers_path(cache.directory, m.cache) for m in loaded):
            continue  # the models it holds are counted above
        out.append(Download(f"models: {cache.why}", None, None, False, _where(ws, service)))
    return Startup(tuple(out))


def _where(ws: "Workspace", service: "Service") -> str:
    """`file:line` of the key that names the service (where AIC401 reports it)."""
    key = service.key
    if key is None:
        return os.path.relpath(service.file.path)
    node, path = key
    source = ws.source(path)
    return f"{os.path.relpath(path)}:{source.line_of(node.span.start)}" if source else os.path.relpath(path)
