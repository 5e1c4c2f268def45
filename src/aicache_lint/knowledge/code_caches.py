"""Model caches that Python code places itself (`cache_dir=`, `cache_folder=`, `local_dir=`,
`download_root=`, `model_dir=`), and whether the services that run the code keep them.

A directory the code names is kept when a volume or bind mount of the service covers it, or when
the image already holds the files there (a build step fills it: the load then finds them and
downloads nothing). Anything else lives in the container's writable layer and is downloaded again
by every new container; `/tmp`, `/var/tmp` and `/dev/shm` doubly so (tmpfs, cleaned). A relative
path is taken from the directory the code starts in; a path that cannot be resolved (a variable,
`~` of an unknown home, an unknown working directory) is not judged.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.project import Service
    from aicache_lint.python.read import ModelLoad, PythonFacts
    from aicache_lint.workspace.index import Workspace

TEMPORARY = ("/tmp", "/var/tmp", "/dev/shm")


class LostCache(NamedTuple):
    load: "ModelLoad"
    directory: str  # absolute in the container
    compose_file: str
    service: "Service"


def lost_caches(ws: "Workspace", path: str, facts: "PythonFacts") -> list[LostCache]:
    """The loads in ``path`` whose own cache directory a service that runs it does not keep."""
    loads = [load for load in facts.loads if load.remote and load.cache_dir]
    if not loads:
        return []
    from aicache_lint.compose.caches import covers, runtime
    from aicache_lint.workspace.python_code import services_running

    found = []
    for compose_file, service, code in services_running(ws, path):
        if any(not v.known for v in service.volumes):
            continue  # a volume we cannot read may keep it
        rt = runtime(service)
        for load in loads:
            directory = load_directory(load.cache_dir or "", code.cwd, rt.home)
            if directory is None or any(covers(v, directory) for v in service.volumes):
                continue
            if rt.linked is not None and rt.linked.filler(directory) is not None:
                continue  # the image holds the files: nothing is downloaded
            found.append(LostCache(load, directory, compose_file, service))
    return found


def is_temporary(directory: str) -> bool:
    from aicache_lint.dockerfile.facts import covers_path

    return any(covers_path(t, directory) for t in TEMPORARY)


def load_directory(value: str, cwd: str | None, home: str | None) -> str | None:
    """The absolute directory a load's literal cache argument names: `~` is ``home``, a relative
    path is read from ``cwd``; None when that cannot be known (a variable, an unknown home or cwd)."""
    from aicache_lint.python.launch import absolute

    if value.startswith("~/") or value == "~":
        return posixpath.normpath(home + value[1:]) if home else None
    if "$" in value and not value.startswith("/"):
        return None
    return absolute(value, cwd)
