"""AIC402 cache-path-not-on-volume."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import NamedTuple

from aicache_lint.dockerfile.facts import covers_path
from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.libraries import RUNTIME_CACHE_VARS
from aicache_lint.rules.base import ComposeContext, FixAvailability, Rule
from aicache_lint.source import Span

# The variables that move a model or runtime cache (DOMAIN §3), in the order they are reported.
DEFAULT_NAMES = {
    "HF_HOME": "hf-cache",
    "HF_HUB_CACHE": "hf-cache",
    "SENTENCE_TRANSFORMERS_HOME": "sentence-transformers-cache",
    "TORCH_HOME": "torch-cache",
    "OLLAMA_MODELS": "ollama-models",
    "VLLM_CACHE_ROOT": "vllm-cache",
    "XDG_CACHE_HOME": "cache",
}
# What a volume mounted at a variable's directory holds, as ``caches.volume_layouts`` names it: a
# volume already holding another layout must not be reused for this one.
_LAYOUTS = {"TORCH_HOME": "torch-home"}
# Hugging Face cache variables: their volume's layout is planned for the project (compose/cache_plan.py).
_HF_VARS = ("HF_HOME", "HF_HUB_CACHE")


class CacheSetting(NamedTuple):
    var: str
    path: str  # absolute, normalised
    span: Span
    file: str
    where: str  # "environment" or the Dockerfile path


class CachePathNotOnVolume(Rule):
    """
    ## What it does
    Flags `HF_HOME`, `HF_HUB_CACHE`, `SENTENCE_TRANSFORMERS_HOME`, `TORCH_HOME`, `OLLAMA_MODELS`,
    `VLLM_CACHE_ROOT` or `XDG_CACHE_HOME` set to an absolute path that no volume of the service
    covers. The variable may be set in the service's `environment` (reported there) or in the final
    stage of the Dockerfile the service builds (reported at its `build:`), when the service does not
    set it itself -- except where the Dockerfile's variable places a Hugging Face or torch cache
    the service fills: that is the image's model cache, reported by AIC401. A named volume, an
    anonymous volume or a bind mount whose target is the path or a parent of it covers it; a
    mount *inside* the path is taken as a deliberate choice and also silences the rule, as does a
    `tmpfs` there. The project is the file together with the base or
    override file Compose loads with it.

    ## Why is this bad?
    Setting the variable says "keep the models here", but without a volume the directory lives in
    the container's writable layer: every `docker compose up --build`, every new container,
    downloads the models again -- often 2 to 20 GB.

    ## Example
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        environment:
          HF_HOME: /data/.huggingface
    ```

    ## Use instead
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        environment:
          HF_HOME: /data/.huggingface
        volumes:
          - hf-cache:/data/.huggingface
    volumes:
      hf-cache:
    ```

    ## Fix safety
    The fix mounts a named volume at the path (added to the service's `volumes:` in its own style,
    or a new `volumes:` key) and declares it under the top-level `volumes:` unless the project
    already does; the volume name comes from the `volume-names` option, unless another service
    already mounts a named volume at that very path: that volume is shared (one cache, not two for
    AIC405 to merge). A name another service already uses for the same kind of cache is shared,
    which is what a model cache wants. When one
    flagged path lies inside another (`HF_HOME=/data/hf`, `HF_HUB_CACHE=/data/hf/hub`), both
    findings carry the fix that mounts the outer one, which covers both.
    For `HF_HOME` and `HF_HUB_CACHE`, services that share the volume agree on what it holds: an
    `HF_HOME`, or the hub cache itself when a service can share only that (an `HF_HUB_CACHE` not
    named `…/hub`). Then an `HF_HOME` service mounts it at `$HF_HOME/hub`; a hub cache `…/hub`
    joins an `HF_HOME` volume at its parent.
    The fix is safe when the service runs as root (a `user:` of root, a known image or a linked
    Dockerfile running as root) or when its Dockerfile creates the directory for its final user.
    Otherwise it is unsafe: a new named volume mounted where the image has no directory starts
    root-owned, and a non-root process cannot write into it (the user may also simply not be
    known). It is unsafe too when the volume is (or, by the same fixes, will be) shared with a
    service that runs as another user: files one of them writes the other may not be able to
    change.
    Reported without a fix, the message saying why: a path where the service's image puts files
    at build time (a `COPY`/`ADD` destination, a directory a `RUN` downloads or writes into, a
    model downloaded into its Hugging Face cache: a volume there would hide them), a hub cache
    that cannot share the volume's `HF_HOME` layout, and an `HF_HOME` that holds no models
    because `HF_HUB_CACHE` puts them elsewhere.
    There is no fix -- a report only -- when the value depends on a variable that cannot be known
    (then there is no finding at all), when the path contains `:` or `$`, when the variable's path
    lies inside another flagged variable's path (fixing the outer one covers it), when the volume
    name is already mounted by the service elsewhere or holds another cache layout, when the
    service gets `volumes` through a `<<` merge that cannot be copied or through an alias, when a
    later file replaces the service's volumes (`!reset`/`!override`), and when the top-level
    `volumes:` cannot be extended (a flow mapping, an alias or a tag).
    Variables set only in an `env_file` are not read.

    ## Options
    `volume-names` (table, variable -> volume name; default `HF_HOME = "hf-cache"`,
    `HF_HUB_CACHE = "hf-cache"`, `SENTENCE_TRANSFORMERS_HOME = "sentence-transformers-cache"`,
    `TORCH_HOME = "torch-cache"`, `OLLAMA_MODELS = "ollama-models"`, `VLLM_CACHE_ROOT = "vllm-cache"`,
    `XDG_CACHE_HOME = "cache"`): the named volume a fix mounts for each variable. Given names are
    merged over the defaults.

    ## References
    - [Compose file reference: services.volumes](https://docs.docker.com/reference/compose-file/services/#volumes)
    - [Docker volumes: populate a volume using a container](https://docs.docker.com/engine/storage/volumes/#populate-a-volume-using-a-container)
    - [huggingface_hub environment variables](https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables)
    """

    code = "AIC402"
    name = "cache-path-not-on-volume"
    summary = "A model cache variable points at a path no volume covers"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    targets = ("compose",)
    default_options = {"volume-names": dict(DEFAULT_NAMES)}

    def check(self, ctx: ComposeContext) -> Iterator[Violation]:
        from aicache_lint.compose.caches import volume_layouts

        names = {**DEFAULT_NAMES, **(ctx.options.get("volume-names") or {})}
        layouts = None  # read once, when a fix needs them: per fix, linting was quadratic in services
        for service in ctx.project.services.values():
            settings = _settings(service)
            if not settings or any(not v.known for v in service.volumes):
                continue
            uncovered = [s for s in settings if not _covered(service, s.path)]
            claimed: dict[str, str] = {}  # volume name -> path, within this service
            fixes: dict[CacheSetting, Fix | str | None] = {}  # a string: why there is no fix
            for setting in uncovered:
                fix = None
                if setting.file == ctx.source.path:
                    # A path inside another flagged one: the volume at the outer path covers both.
                    outer = min((o for o in uncovered if o.file == ctx.source.path and covers_path(o.path, setting.path)),
                                key=lambda o: len(o.path), default=setting)
                    if outer not in fixes:
                        if layouts is None:
                            layouts = volume_layouts(ctx.project)
                        fixes[outer] = self._fix(ctx, service, outer, names.get(outer.var), claimed, layouts)
                    fix = fixes[outer]
                why = f" (no fix: {fix})" if isinstance(fix, str) else ""
                yield Violation(
                    setting.span,
                    f"`{setting.var}` ({setting.where}) points at `{setting.path}`, which no volume of service "
                    f"`{service.name}` covers: what is cached there is lost with every new container{why}",
                    None if isinstance(fix, str) else fix,
                    setting.file,
                )

    def _fix(self, ctx: ComposeContext, service, setting: CacheSetting, name: str | None,
             claimed: dict[str, str], layouts: dict[str, set[str]]) -> Fix | str | None:
        """The fix, or why there is none when the message should say it (a string), or None.
        ``layouts``: ``caches.volume_layouts`` of the project, read once per file."""
        from aicache_lint.compose.cache_plan import fill_reason, other_users
        from aicache_lint.compose.caches import runtime
        from aicache_lint.compose.edits import (
            add_service_volume,
            declare_top_level_key,
            merge_inserts,
            service_mapping,
        )
        from aicache_lint.compose.project import is_volume_name

        path = setting.path
        name = _volume_at(ctx.project, service, path) or name  # the project's volume there: one cache, shared
        if not name or not is_volume_name(name) or ":" in path or "$" in path:
            return None
        rt = runtime(service)
        hf = setting.var in _HF_VARS
        planned = _hf_mount(ctx.project, service, rt, setting, name) if hf else None
        if planned is not None and planned.path is None:
            return planned.note or None
        if claimed.get(name, path) != path:
            return None
        if any(v.is_named and v.source == name and posixpath.normpath(v.target or "") != path
               for v in service.volumes):
            return None
        note = ""
        if planned is not None:
            path, note = planned.path, planned.note
        elif setting.var in _LAYOUTS:
            used = layouts.get(name)
            if used and used != {_LAYOUTS[setting.var]}:
                return None
        filled = fill_reason(service, path)
        if filled:
            return filled
        # the service's mapping in this file's tree (the project parsed its own copy of the file)
        mapping = service_mapping(ctx.doc, service.name) if _mapping_in(service, ctx.source.path) else None
        if mapping is None or _volumes_replaced_later(service, ctx.source.path):
            return None
        edits = add_service_volume(ctx.doc, ctx.source, mapping, f"{name}:{path}")
        if edits is None:
            return None
        if name not in ctx.project.volumes:
            declare = declare_top_level_key(ctx.doc, ctx.source, "volumes", name)
            if declare is None:
                return None
            edits.append(declare)
        claimed[name] = setting.path
        title = f"Mount a named volume `{name}` at `{path}`" + (f" ({note})" if note else "")
        reason = other_users(ctx.project, service, name, hf) or _unsafe_reason(rt, path)
        edits = merge_inserts(edits)
        if reason:
            return Fix.unsafe(f"{title} ({reason})", *edits)
        return Fix.safe(title, *edits)


def _volume_at(project, service, path: str) -> str | None:
    """The declared named volume another service of the project mounts at ``path`` (the same
    cache, kept once: what AIC405 would otherwise ask to merge), or None."""
    for other in project.services.values():
        if other is service:
            continue
        for volume in other.volumes:
            if volume.is_named and volume.source in project.volumes and volume.target \
                    and posixpath.normpath(volume.target) == path:
                return volume.source
    return None


def _hf_mount(project, service, rt, setting: CacheSetting, name: str):
    """Where the Hugging Face cache volume goes for a setting of `HF_HOME` or `HF_HUB_CACHE`, as
    the project's other services share it (``cache_plan``)."""
    from aicache_lint.compose.cache_plan import Mount, hf_mount
    from aicache_lint.compose.caches import HF_HOME_LAYOUT, hf_cache

    cache = hf_cache(rt, "")
    if cache.root is None:
        return Mount(None, cache.layout)
    if cache.root == setting.path:
        return hf_mount(project, service, name, setting.path, cache.layout)
    if cache.root == posixpath.join(setting.path, "hub"):  # HF_HUB_CACHE=$HF_HOME/hub
        return hf_mount(project, service, name, setting.path, HF_HOME_LAYOUT)
    if covers_path(setting.path, cache.root):  # a hub cache inside HF_HOME, not at its `hub/`: mount that
        return hf_mount(project, service, name, cache.root, cache.layout)
    return Mount(None, cache.layout, f"the models are kept in `{cache.root}`, not here, so a shared Hugging Face "
                                     "cache volume at this path would hold none of them")


def _settings(service) -> list[CacheSetting]:
    """The cache variables the service sets in its `environment`, then those its Dockerfile's
    final stage sets and the service does not override."""
    found: list[CacheSetting] = []
    for var in RUNTIME_CACHE_VARS:
        v = service.environment.get(var)
        if v is None:
            continue
        path = _abs(v.value)
        if path is not None:
            node = v.key_node if v.key_node is not None else v.node
            found.append(CacheSetting(var, path, node.span, v.file, "set in `environment`"))
    if service.build is None:
        return found
    linked = service.linked
    if linked is None:
        return found
    from aicache_lint.compose.caches import image_cache_vars

    reported = image_cache_vars(service)  # the image's model cache: AIC401 reports it
    for var in RUNTIME_CACHE_VARS:
        if var in service.environment or var not in linked.env or var in reported:
            continue
        path = _abs(linked.env[var])
        if path is not None:
            node = service.build.node
            span = node.span
            found.append(CacheSetting(var, path, span, service.build.file,
                                      f"set by `{posixpath.basename(linked.dockerfile)}`"))
    return found


def _abs(value: str | None) -> str | None:
    if not value or not value.startswith("/"):
        return None
    return posixpath.normpath(value)



def _covered(service, path: str) -> bool:
    """A volume, bind or tmpfs at the path or a parent of it, or a mount inside it."""
    for v in service.volumes:
        if not v.target or v.type not in ("volume", "bind", "tmpfs"):
            continue
        target = posixpath.normpath(v.target)
        if covers_path(target, path) or covers_path(path, target):
            return True
    return False


def _mapping_in(service, path: str):
    for cfile, mapping in service.definitions:
        if cfile.path == path:
            return mapping
    return None


def _volumes_replaced_later(service, path: str) -> bool:
    """A file loaded after ``path`` that resets or overrides the service's volumes (or the service)."""
    later = False
    for cfile, mapping in service.definitions:
        if cfile.path == path:
            later = True
            continue
        if later:
            node = mapping.get("volumes")
            if mapping.is_override or (node is not None and (node.is_reset or node.is_override)):
                return True
    return False


def _unsafe_reason(rt, path: str) -> str | None:
    """Trap 17: a new named volume where the image has no directory starts root-owned."""
    if rt.is_root:
        return None
    if rt.linked is not None and rt.linked.owns(path):
        return None
    if rt.is_root is False:
        return (f"the service runs as `{rt.user}`, and a new volume at `{path}` is root-owned unless the image "
                "creates that directory for its user")
    return f"the service's user is not known; a new volume at `{path}` is root-owned and a non-root user cannot write it"
