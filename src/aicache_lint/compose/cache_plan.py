"""Where fixes mount a shared model cache volume: one volume, one mount point per layout (DESIGN §5a).

Services that share a Hugging Face cache volume must agree on what its root holds: an `HF_HOME`
(models in `hub/`) or the hub cache itself (`models--org--name` at the root; `HF_HUB_CACHE`).
A service that sets `HF_HOME=/data` and one that sets `HF_HUB_CACHE=/models`, each with `hf-cache`
mounted at its variable, share nothing: one looks in `hf-cache/hub`, the other at its root. So the
layout of a volume name is decided once for the project, the same for every rule and service:

- services mount the name already: their layout (none when they disagree, or hold anything else);
- none does yet: the `HF_HOME` layout, unless a service that still needs the volume can only share
  the hub cache (an `HF_HUB_CACHE` whose last part is not `hub`); then the hub layout, and a
  service with an `HF_HOME` mounts the volume at `$HF_HOME/hub`.

A hub cache `<dir>/hub` joins an `HF_HOME` volume by mounting it at `<dir>`; any other hub cache
cannot, and gets no fix. No mount goes over a directory the image's build fills
(``LinkedImage.filler``). A volume shared by services that run as different users may hold files
one of them cannot write: fixes that make such sharing are unsafe (``other_users``).
"""

from __future__ import annotations

import os
import posixpath
import weakref
from itertools import islice
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.compose.caches import (
    HF,
    HF_CACHE_VARS,
    HF_HOME_LAYOUT,
    HF_HUB_LAYOUT,
    covered,
    runtime,
)

if TYPE_CHECKING:
    from aicache_lint.compose.caches import ModelCache, Runtime
    from aicache_lint.compose.project import Project, Service


# Per project, computed once: every finding of a pass asks (per finding, linting was quadratic).
_NEEDS: "weakref.WeakKeyDictionary[Project, list[_Need]]" = weakref.WeakKeyDictionary()
_LAYOUTS: "weakref.WeakKeyDictionary[Project, dict[str, set[str]]]" = weakref.WeakKeyDictionary()
_MOUNTING: "weakref.WeakKeyDictionary[Project, dict[str, list[Service]]]" = weakref.WeakKeyDictionary()
_SHARERS: "weakref.WeakKeyDictionary[Project, dict[tuple[str, bool], dict[str | None, list[Service]]]]" = \
    weakref.WeakKeyDictionary()
_HUB_ONLY: "weakref.WeakKeyDictionary[Project, bool]" = weakref.WeakKeyDictionary()
_SHOWN = 3  # services a message names before "and others"


class Mount(NamedTuple):
    path: str | None  # where the volume goes; None: no fix (``note`` says why)
    layout: str
    note: str = ""  # why there is no fix, or what the mount point means ("`$HF_HOME/hub`: ...")


class _Need(NamedTuple):
    """A service whose Hugging Face cache is on no volume yet, and the layouts it can share."""

    service: "Service"
    layouts: frozenset[str]


def hf_mount(project: "Project", service: "Service", name: str, root: str, layout: str) -> Mount:
    """Where ``service`` mounts the volume ``name`` for its Hugging Face cache rooted at ``root``
    (an `HF_HOME` for ``HF_HOME_LAYOUT``, a hub cache for ``HF_HUB_LAYOUT``)."""
    points = _mount_points(root, layout)
    if all(fill_reason(service, p) for p in points.values()):
        return Mount(None, layout, fill_reason(service, points[layout]) or "")
    chosen, why = _layout(project, name)
    if chosen is None:
        return Mount(None, layout, why)
    path = points.get(chosen)
    if path is None:
        return Mount(None, layout, f"`{name}` holds an `HF_HOME` (models in its `hub/`) for "
                                   f"{_names(_mounting(project, name) or _others(project, service))}; mounted at the "
                                   f"hub cache `{root}` it would share none of them (set `HF_HOME` instead of "
                                   "`HF_HUB_CACHE`, or use another volume)")
    filled = fill_reason(service, path)
    if filled:
        return Mount(None, chosen, filled)
    if chosen == layout:
        return Mount(path, chosen)
    waiting = (n.service for n in _needs(project) if n.service is not service and layout not in n.layouts)
    deciding = _mounting(project, name) or list(islice(waiting, _SHOWN + 1))
    others = _names(deciding or _others(project, service))
    if chosen == HF_HUB_LAYOUT:
        return Mount(path, chosen, f"the `hub/` of `HF_HOME`: `{name}` holds the hub cache itself for {others}")
    return Mount(path, chosen, f"the parent of the hub cache: `{name}` holds an `HF_HOME` for {others}")


def _others(project: "Project", service: "Service") -> list["Service"]:
    """Up to one more than a message names of the other services that need a volume."""
    return list(islice((n.service for n in _needs(project) if n.service is not service), _SHOWN + 1))


def fill_reason(service: "Service", path: str) -> str | None:
    """Why no volume may go at ``path``: the service's image puts files there at build time."""
    linked = runtime(service).linked
    step = linked.filler(path) if linked is not None else None
    if step is None:
        return None
    where = os.path.relpath(linked.dockerfile, service.file.project_dir).replace(os.sep, "/")
    return f"`{step.what}` on line {step.line} of `{where}` may put files in `{path}`, and a volume there would hide them"


def other_users(project: "Project", service: "Service", name: str, hf: bool) -> str | None:
    """Why sharing volume ``name`` is unsafe: services that mount it (or, for a Hugging Face cache
    volume, ``hf``, will by the same fixes) run as another user, or as a user that is not known, so
    files one of them writes may not be writable by the other."""
    me = _user(runtime(service))
    by_user = _sharers(project, name, hf)
    others = (s for user, group in by_user.items() if me is None or user != me for s in group if s is not service)
    different = list(islice(others, _SHOWN + 1))
    if not different:
        return None
    return (f"`{name}` is shared with {_names(different)}, run as another user or one not known: files one of "
            "them writes the other may not be able to change")


def _sharers(project: "Project", name: str, hf: bool) -> dict[str | None, list["Service"]]:
    """The services that mount ``name`` (and, for a Hugging Face cache volume, will by the same
    fixes), by the user they run as: computed once per project and volume."""
    cache = _SHARERS.setdefault(project, {})
    if (name, hf) not in cache:
        services = list(_mounting(project, name))
        if hf:
            seen = set(map(id, services))
            services += [n.service for n in _needs(project) if id(n.service) not in seen]
        by_user: dict[str | None, list[Service]] = {}
        for s in services:
            by_user.setdefault(_user(runtime(s)), []).append(s)
        cache[(name, hf)] = by_user
    return cache[(name, hf)]


def _user(rt: "Runtime") -> str | None:
    if rt.is_root:
        return "root"
    return rt.user if rt.is_root is False else None


def _mount_points(root: str, layout: str) -> dict[str, str]:
    """The mount point that gives each layout for a cache rooted at ``root``."""
    if layout == HF_HOME_LAYOUT:
        return {HF_HOME_LAYOUT: root, HF_HUB_LAYOUT: posixpath.join(root, "hub")}
    points = {HF_HUB_LAYOUT: root}
    if posixpath.basename(root) == "hub" and posixpath.dirname(root) != "/":
        points[HF_HOME_LAYOUT] = posixpath.dirname(root)
    return points


def _layout(project: "Project", name: str) -> tuple[str | None, str]:
    from aicache_lint.compose.caches import volume_layouts

    if project not in _LAYOUTS:
        _LAYOUTS[project] = volume_layouts(project)
    used = _LAYOUTS[project].get(name, set())
    if used - {HF_HOME_LAYOUT, HF_HUB_LAYOUT}:
        return None, f"`{name}` already holds something else for {_names(_mounting(project, name))}"
    if len(used) > 1:
        return None, (f"services already mount `{name}` at an `HF_HOME` and at a hub cache "
                      f"({_names(_mounting(project, name))}): fix that first")
    if used:
        return next(iter(used)), ""
    if _hub_only(project):
        return HF_HUB_LAYOUT, ""
    return HF_HOME_LAYOUT, ""


def _hub_only(project: "Project") -> bool:
    """Whether a service that needs a volume can share only the hub cache (once per project)."""
    if project not in _HUB_ONLY:
        _HUB_ONLY[project] = any(HF_HOME_LAYOUT not in n.layouts for n in _needs(project))
    return _HUB_ONLY[project]


def _needs(project: "Project") -> list[_Need]:
    """Services whose Hugging Face cache is known, on no volume, and mountable somewhere (once per
    project: every finding of a pass asks)."""
    from aicache_lint.compose.caches import hf_cache, model_caches

    if project in _NEEDS:
        return _NEEDS[project]
    found = _NEEDS[project] = []
    for service in project.services.values():
        rt = runtime(service)
        if not any(c.kind == HF for c in model_caches(service, rt)) and not any(rt.has(v) for v in HF_CACHE_VARS):
            continue
        cache: ModelCache = hf_cache(rt, "")
        if cache.root is None or covered(service, cache) is not False:
            continue
        layouts = frozenset(lay for lay, path in _mount_points(cache.root, cache.layout).items()
                            if fill_reason(service, path) is None)
        if layouts:
            found.append(_Need(service, layouts))
    return found


def _mounting(project: "Project", name: str) -> list["Service"]:
    if project not in _MOUNTING:
        by_name: dict[str, list[Service]] = {}
        for s in project.services.values():
            for v in dict.fromkeys(v.source for v in s.volumes if v.is_named and v.source):
                by_name.setdefault(v, []).append(s)
        _MOUNTING[project] = by_name
    return _MOUNTING[project].get(name, [])


def _names(services: list["Service"]) -> str:
    if not services:
        return "other services"
    shown = ", ".join(f"`{s.name}`" for s in services[:_SHOWN])
    return shown + (" and others" if len(services) > _SHOWN else "")
