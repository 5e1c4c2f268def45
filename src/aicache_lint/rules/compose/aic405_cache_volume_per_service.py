"""AIC405 cache-volume-per-service."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Applicability, Edit, Fix
from aicache_lint.rules.base import ComposeContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.compose.project import Project, Service, Volume

_WHAT = {"hf-home": "Hugging Face cache (`HF_HOME`)", "hf-hub": "Hugging Face hub cache"}
# text-generation-inference moved its cache from HUGGINGFACE_HUB_CACHE=/data to HF_HOME=/data in
# v2.3.0: the layout of its /data depends on the tag (compose/images.py), so it is never merged.
_TAG_DEPENDENT_LAYOUT = frozenset({"text-generation-inference"})


class CacheVolumePerService(Rule):
    """
    ## What it does
    Flags services that keep the same kind of Hugging Face cache in different named volumes:
    `whisperx` mounts `whisperx-hf` at its `HF_HOME` and `comfyui` mounts `comfyui-hf` at its
    own. Two volumes hold the same layout when both are mounted at the services' `HF_HOME` (from
    their `environment`, their Dockerfile, a known image, or the default `~/.cache/huggingface`
    of a known home), or both at the hub cache itself (`HF_HUB_CACHE`, `$HF_HOME/hub`). A volume
    also used for anything else is left out.

    ## Why is this bad?
    The Hugging Face hub cache is built to be shared (content-addressed blobs, file locks): with
    one volume per service, each service downloads the same models again and the disk holds
    several copies of gigabytes of weights.

    ## Example
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        environment: [HF_HOME=/data/hf]
        volumes: [whisperx-hf:/data/hf]
      comfyui:
        image: comfyui
        environment: [HF_HOME=/data/hf]
        volumes: [comfyui-hf:/data/hf]
    volumes:
      whisperx-hf:
      comfyui-hf:
    ```

    ## Use instead
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        environment: [HF_HOME=/data/hf]
        volumes: [whisperx-hf:/data/hf]
      comfyui:
        image: comfyui
        environment: [HF_HOME=/data/hf]
        volumes: [whisperx-hf:/data/hf]
    volumes:
      whisperx-hf:
      comfyui-hf:
    ```

    ## Fix safety
    The fix replaces only the volume name of each other mount (the short syntax's source, or the
    long syntax's `source:`) by the name already used most (on a tie, the one declared first).
    It is unsafe: the models already downloaded into the other volumes are no longer used, and
    services of different users writing one volume may meet files they cannot write. Reported
    without a fix: a volume name that depends on a variable or is written with escapes, a mount
    inherited through a `<<` merge key or an alias (editing it would change other services), an
    `external` volume, and a shared name that is not declared yet (AIC404 declares it first).
    text-generation-inference's `/data` is never merged: its layout changed between tags.

    ## Options
    None.

    ## References
    - [Manage the huggingface_hub cache](https://huggingface.co/docs/huggingface_hub/guides/manage-cache)
    - [Compose file reference: volumes](https://docs.docker.com/reference/compose-file/volumes/)
    """

    code = "AIC405"
    name = "cache-volume-per-service"
    summary = "Services keep the same model cache in different volumes"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = Applicability.UNSAFE
    targets = ("compose",)

    def check(self, ctx: ComposeContext) -> Iterator[Violation]:
        from aicache_lint.compose.caches import volume_layouts

        project = ctx.project
        mounts = _cache_mounts(project)
        if not mounts:
            return
        layouts = volume_layouts(project)
        groups: dict[str, dict[str, list[tuple["Service", "Volume"]]]] = {}
        for layout, service, volume in mounts:
            if layouts.get(volume.source) != {layout}:
                continue  # the volume also holds something else
            groups.setdefault(layout, {}).setdefault(volume.source, []).append((service, volume))
        order = list(project.volumes)
        for layout, by_name in groups.items():
            if len(by_name) < 2:
                continue
            chosen = max(by_name, key=lambda n: (len(by_name[n]), -_rank(order, n), ""))
            users = ", ".join(f"`{s.name}`" for s, _ in by_name[chosen])
            for name, uses in by_name.items():
                if name == chosen:
                    continue
                for service, volume in uses:
                    fix = None
                    if os.path.abspath(volume.file) == os.path.abspath(ctx.source.path):
                        fix = _fix(ctx, project, service, volume, chosen)
                    yield Violation(
                        volume.node.span,
                        f"service `{service.name}` keeps its {_WHAT[layout]} in volume `{name}`, while "
                        f"`{chosen}` holds the same cache for {users}: each volume downloads the same models",
                        fix,
                        volume.file,
                    )


def _rank(order: list[str], name: str) -> int:
    return order.index(name) if name in order else len(order)


def _cache_mounts(project: "Project") -> list[tuple[str, "Service", "Volume"]]:
    """(layout, service, volume) of each named volume mounted at a service's HF_HOME or hub cache."""
    from aicache_lint.compose.caches import (
        HF_HOME_LAYOUT,
        HF_HUB_LAYOUT,
        hf_cache,
        runtime,
    )

    found = []
    for service in project.services.values():
        named = [v for v in service.volumes if v.is_named and v.known and v.target]
        if not named:
            continue
        rt = runtime(service)
        if rt.image is not None and rt.image.name in _TAG_DEPENDENT_LAYOUT:
            continue
        cache = hf_cache(rt, "")
        for volume in named:
            target = posixpath.normpath(volume.target)
            if cache.root is not None and target == cache.root:
                found.append((cache.layout, service, volume))
            elif cache.layout == HF_HOME_LAYOUT and cache.directory is not None and target == cache.directory:
                found.append((HF_HUB_LAYOUT, service, volume))
    return found


def _fix(ctx: ComposeContext, project: "Project", service: "Service", volume: "Volume", chosen: str) -> Fix | None:
    from aicache_lint.compose.edits import service_mapping
    from aicache_lint.compose.model import (
        DOUBLE,
        PLAIN,
        SINGLE,
        Mapping,
        Scalar,
        Sequence,
    )

    declared = project.volumes.get(chosen)
    old = project.volumes.get(volume.source)
    if declared is None or (old is not None and old.external):
        return None
    mapping = service_mapping(ctx.doc, service.name)
    own = mapping.own("volumes") if mapping is not None else None
    items = own.value if own is not None else None
    if not isinstance(items, Sequence) or items.tag or items.anchor:
        return None
    for item in items.items:
        given = item.target.get("source") if isinstance(item.target, Mapping) else item.target
        if isinstance(given, Scalar) and given.text is not None and given.text.split(":")[0] == chosen:
            return None  # the service mounts it already: renamed, it would be mounted twice
    # The project parsed its own copy of this file: find the same item in ``ctx.doc`` by its span.
    node = next((item for item in items.items if item.span == volume.node.span), None)
    if node is None or node.anchor:
        return None  # inherited, or through an alias: the edit would reach other services
    if isinstance(node, Mapping):
        source = node.get("source")
        if not isinstance(source, Scalar) or node.own("source") is None or source.anchor:
            return None
        node = source
    if not isinstance(node, Scalar) or node.style not in (PLAIN, SINGLE, DOUBLE):
        return None
    start = node.span.start + (0 if node.style == PLAIN else 1)
    end = start + len(volume.source)
    if ctx.source.text[start:end] != volume.source or "$" in node.value:
        return None  # written with escapes or variables: not a plain token to swap
    after = ctx.source.text[end:end + 1]
    if isinstance(volume.node, Scalar) and after != ":":  # short syntax: `SOURCE:TARGET`
        return None
    if any(ch in chosen for ch in "'\"\\:"):
        return None
    return Fix.unsafe(f"Use the shared volume `{chosen}`", Edit(start, end, chosen))
