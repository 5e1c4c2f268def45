"""AIC401 model-cache-not-persisted."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile.facts import covers_path
from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.rules.base import ComposeContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.compose.caches import ModelCache, Runtime
    from aicache_lint.compose.project import Project, Service

_LABELS = {"hf": "Hugging Face", "torch": "torch hub", "local-dir": "model download"}


class ModelCacheNotPersisted(Rule):
    """
    ## What it does
    Flags a Compose service that downloads models at run time while no volume (named or bind)
    covers the directory its models land in. A service downloads when it runs a well-known AI
    image (Ollama, vLLM, text-generation-inference, text-embeddings-inference, LocalAI,
    Open WebUI, ...), when the Dockerfile its `build:` names installs Hugging Face libraries
    (transformers, diffusers, huggingface_hub, ...) or torch libraries (torch, torchvision, ...),
    when its `command:` runs `hf download`, or when it sets `HF_TOKEN` or a Hugging Face repo id
    in `MODEL_ID`. The cache directory comes from the service's `environment` (`HF_HOME`,
    `HF_HUB_CACHE`, `TORCH_HOME`, `XDG_CACHE_HOME`), else from the ENV of the Dockerfile's final
    stage (or its `build.target`, with the build `args` applied), else from the default under the
    user's home (`~/.cache/huggingface`, `~/.cache/torch`) when that home is known. The project
    is merged as Compose merges it, so a volume added by an override file counts. A cache that a
    variable of the service's own `environment` (`HF_HOME`, `TORCH_HOME`, `XDG_CACHE_HOME`,
    `OLLAMA_MODELS`...) puts at an absolute path is left to AIC402 `cache-path-not-on-volume`,
    which reports that variable where it is written; one the Dockerfile's ENV places is the
    image's cache dir and stays here, so a fix that sets `HF_HOME` in the Dockerfile (AIC201)
    never turns this finding into another rule's.

    ## Why is this bad?
    Without a volume the models live in the container's writable layer: every rebuild, every
    `docker compose up` that recreates the container, downloads gigabytes again (2-20 GB per
    service in a typical GPU stack).

    ## Example
    ```yaml
    services:
      comfyui:
        build: ./comfyui   # its Dockerfile installs diffusers and transformers
        volumes:
          - comfyui-models:/workspace/ComfyUI/models
    volumes:
      comfyui-models:
    ```

    ## Use instead
    ```yaml
    services:
      comfyui:
        build: ./comfyui
        volumes:
          - comfyui-models:/workspace/ComfyUI/models
          - hf-cache:/data/.huggingface
        environment:
          HF_HOME: /data/.huggingface
    volumes:
      comfyui-models:
      hf-cache:
    ```

    ## Fix safety
    The fix mounts a named volume (one name shared by every service: `hf-cache`, `torch-cache`,
    configurable) at the cache directory, declares it under the top-level `volumes:`, and, when
    neither the service nor its Dockerfile sets one, sets `HF_HOME` (or `TORCH_HOME`):
    `/data/.huggingface` (`/data/.torch`) for a root image, `<home>/.cache/huggingface` for a
    non-root user whose home the Dockerfile shows. A known image gets the volume its
    documentation uses (`ollama:/root/.ollama`). The fix is safe for a service that runs as root.
    It is unsafe when the service runs as a non-root user (a new volume mounted where the image
    has no directory starts root-owned, so that user cannot write it) unless the image creates
    the directory for that user, when the user is not known, and when the shared volume is (or,
    by the same fixes, will be) mounted by a service of another user: files one of them writes
    the other may not be able to change.
    Services that share a Hugging Face volume agree on what it holds: an `HF_HOME`, or the hub
    cache itself when a service can share only that (its `HF_HUB_CACHE`, or a known image's,
    like text-embeddings-inference's `/data`). Then the volume goes at the `hub/` of the other
    services' `HF_HOME` (a hub cache named `…/hub` joins an `HF_HOME` volume at its parent).
    Reported without a fix, the message saying why: a mount point where the service's image puts
    files at build time (a `COPY`/`ADD` destination, a directory a `RUN` downloads or writes into,
    a model downloaded into its Hugging Face cache: a volume there would hide them), and a hub
    cache that cannot share the volume's `HF_HOME` layout. Also reported without a fix: a cache
    directory that cannot be known (a user of the base image, a variable), a shared volume name
    that other services use for anything else, `TRANSFORMERS_CACHE` outside the new volume, a
    service whose
    definition the fix cannot extend (written in another file -- an `include:`d service is fixed
    when that file is linted --, a flow mapping, an aliased or tagged `volumes:`), and images whose
    model directory differs between tags. `volumes:` inherited through a `<<` merge key is copied
    into the service's own list together with the new item, so nothing inherited is lost. A
    service defined in a base and an override file is fixed in the file that defines it last
    (the override), as the merged project is what `docker compose up` runs.

    ## Options
    - `hf-volume` (string, default `hf-cache`): the volume name for Hugging Face caches.
    - `torch-volume` (string, default `torch-cache`): the volume name for torch hub caches.
    - `hf-home` (string, default `/data/.huggingface`): the `HF_HOME` set for root images.
    - `torch-home` (string, default `/data/.torch`): the `TORCH_HOME` set for root images.

    ## References
    - [Manage the huggingface_hub cache](https://huggingface.co/docs/huggingface_hub/guides/manage-cache)
    - [torch.hub: where are my downloaded models saved?](https://pytorch.org/docs/stable/hub.html#where-are-my-downloaded-models-saved)
    - [Compose file reference: volumes](https://docs.docker.com/reference/compose-file/volumes/)
    - [Docker: populate a volume using a container](https://docs.docker.com/engine/storage/volumes/#populate-a-volume-using-a-container)
    - [huggingface_hub environment variables](https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables):
      `HF_HUB_CACHE` defaults to `$HF_HOME/hub`
    """

    code = "AIC401"
    name = "model-cache-not-persisted"
    summary = "A service that downloads models keeps its model cache in no volume"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    targets = ("compose",)
    default_options = {
        "hf-volume": "hf-cache", "torch-volume": "torch-cache",
        "hf-home": "/data/.huggingface", "torch-home": "/data/.torch",
    }

    def check(self, ctx: ComposeContext) -> Iterator[Violation]:
        from aicache_lint.compose.caches import LOCAL_DIR, covered, model_caches, runtime

        options = {**self.default_options, **ctx.options}
        project = ctx.project
        layouts = None
        for service in project.services.values():
            where = service.key
            if where is None:
                continue
            key, path = where
            rt = runtime(service)
            for cache in model_caches(service, rt):
                if _set_explicitly(service, rt, cache):
                    continue  # AIC402 reports the variable that points at an unmounted path
                state = covered(service, cache)
                if state is True:
                    continue
                if state is None and (cache.directory is not None or service.volumes):
                    continue  # a volume we cannot read, or a dir we cannot know next to some volume
                fix, why = None, ""
                if os.path.abspath(path) == os.path.abspath(ctx.source.path) and cache.directory is not None:
                    if layouts is None:
                        layouts = _layouts(project)
                    fix = self._fix(ctx, service, rt, cache, options, layouts) if cache.kind != LOCAL_DIR else (
                        "the command chooses that directory; a volume must not hide what it creates first, "
                        "such as a `git clone` destination")
                    if isinstance(fix, str):
                        fix, why = None, f" (no fix: {fix})"
                label = _LABELS.get(cache.kind, cache.kind)
                at = f" at `{cache.directory}` ({cache.where})" if cache.directory else ""
                yield Violation(
                    key.span,
                    f"service `{service.name}` downloads models ({cache.why}) but no volume keeps its {label} "
                    f"cache{at}: every new container downloads them again{why}",
                    fix,
                    path,
                )

    def _fix(self, ctx: ComposeContext, service: "Service", rt: "Runtime", cache: "ModelCache", options: dict,
             layouts: dict[str, set[str]]) -> Fix | str | None:
        """The fix, or why there is none when the message should say it (a string), or None."""
        from aicache_lint.compose import caches as c
        from aicache_lint.compose.cache_plan import fill_reason, hf_mount, other_users
        from aicache_lint.compose.edits import (
            add_service_env,
            add_service_volume,
            declare_top_level_key,
            service_mapping,
        )
        from aicache_lint.compose.project import is_volume_name

        mapping = service_mapping(ctx.doc, service.name)
        if mapping is None:
            return None
        env: tuple[str, str] | None = None
        note = ""
        if cache.kind in (c.HF, c.TORCH):
            hf = cache.kind == c.HF
            name = options["hf-volume" if hf else "torch-volume"]
            mount, layout = cache.root, cache.layout
            if cache.variable is None and not rt.has("XDG_CACHE_HOME"):
                # The default dir under HOME: make it explicit, at a path that user can have.
                var = "HF_HOME" if hf else "TORCH_HOME"
                if rt.is_root:
                    mount = options["hf-home" if hf else "torch-home"]
                elif rt.is_root is False and rt.home:
                    mount = posixpath.join(rt.home, ".cache", "huggingface" if hf else "torch")
                else:
                    return None
                env = (var, mount)
            if mount is None:
                return None
            if hf:
                planned = hf_mount(ctx.project, service, name, mount, layout)
                if planned.path is None:
                    return planned.note or None
                mount, layout, note = planned.path, planned.layout, planned.note
            elif layouts.get(name, set()) - {layout}:
                return None  # the shared volume holds something else there
            covered_dirs = [posixpath.join(mount, "hub") if layout != c.HF_HUB_LAYOUT else mount, *cache.extra]
            if env is None and any(not _under(d, mount) for d in covered_dirs):
                return None
            if env is not None and any(not _under(d, mount) for d in cache.extra):
                return None  # TRANSFORMERS_CACHE stays elsewhere
            item = f"{name}:{mount}"
        else:
            image = rt.image
            if image is None or image.tag_dependent or cache.root is None:
                return None
            mount, name = cache.root, f"{cache.kind}-models"
            docs_source, _, docs_target = (image.docs_volume or "").rpartition(":")
            if cache.variable is None and is_volume_name(docs_source) and docs_target.startswith("/") \
                    and _under(mount, docs_target):
                name, mount = docs_source, docs_target
            if layouts.get(name, set()) - {cache.kind}:
                return None
            item = f"{name}:{mount}"
        filled = fill_reason(service, mount)
        if filled:
            return filled
        if not is_volume_name(name):
            return None  # a configured name Compose would not accept
        if any(v.target and posixpath.normpath(v.target) == mount for v in service.volumes):
            return None  # the same target would replace that mount
        edits = add_service_volume(ctx.doc, ctx.source, mapping, item)
        if edits is None:
            return None
        edits = list(edits)
        if env is not None:
            if rt.has(env[0]):
                return None
            more = add_service_env(ctx.doc, ctx.source, mapping, *env)
            if more is None:
                return None
            edits += more
        if name not in ctx.project.volumes:
            declared = declare_top_level_key(ctx.doc, ctx.source, "volumes", name)
            if declared is None:
                return None
            edits.append(declared)
        title = f"Mount volume `{name}` at `{mount}`" + (f" ({note})" if note else "") \
            + (f" and set `{env[0]}={env[1]}`" if env else "")
        shared = other_users(ctx.project, service, name, cache.kind == c.HF)
        if shared:
            return Fix.unsafe(f"{title} ({shared})", *_merge_inserts(edits))
        # Root writes any new volume; a non-root user only one the image creates for it (trap 17).
        if rt.linked is not None and rt.linked.assumed and _user_from_image(service):
            return Fix.unsafe(f"{title} ({rt.linked.assumed})", *_merge_inserts(edits))
        if rt.is_root or (rt.is_root is False and rt.linked is not None and rt.linked.owns(mount)):
            return Fix.safe(title, *_merge_inserts(edits))
        who = f"`{rt.user}`" if rt.user else "the service's user"
        return Fix.unsafe(f"{title} (assumes {who} can write a new volume there: the image does not create "
                          f"`{mount}` for it, and AIC124 does that where it can)", *_merge_inserts(edits))


def _user_from_image(service: "Service") -> bool:
    """Whether the service runs as its image's user (no `user:` of its own)."""
    return not any(mapping.get("user") is not None for _, mapping in service.definitions)


def _set_explicitly(service: "Service", rt: "Runtime", cache: "ModelCache") -> bool:
    """The cache dir comes from a variable (HF_HOME, TORCH_HOME, XDG_CACHE_HOME...) that the service's
    `environment` sets to an absolute path: AIC402 `cache-path-not-on-volume` reports that variable,
    where it is written. (One the Dockerfile sets is the image's cache dir: reported here.)"""
    from aicache_lint.knowledge.libraries import RUNTIME_CACHE_VARS

    var = cache.variable or ("XDG_CACHE_HOME" if rt.has("XDG_CACHE_HOME") and cache.kind in ("hf", "torch") else None)
    if var is None or var not in RUNTIME_CACHE_VARS or not (rt.get(var) or "").startswith("/"):
        return False
    return var in service.environment


def _layouts(project: "Project") -> dict[str, set[str]]:
    from aicache_lint.compose.caches import volume_layouts

    return volume_layouts(project)


def _under(directory: str, parent: str) -> bool:
    return covers_path(posixpath.normpath(parent), directory)


def _merge_inserts(edits: list[Edit]) -> list[Edit]:
    """Insertions at one point become one, a fix's edits must not overlap: the more indented text
    first, so an item that continues a nested list or map stays inside it (`volumes:` list items
    before a new `environment:` key, `HF_HOME` in the env map before a new `volumes:` key)."""
    groups: dict[int, list[Edit]] = {}
    merged: list[Edit] = []
    for edit in edits:
        if edit.start == edit.end:
            groups.setdefault(edit.start, []).append(edit)
        else:
            merged.append(edit)
    for at, group in groups.items():
        group.sort(key=lambda e: -_indent(e.content))
        merged.append(Edit.insert(at, "".join(e.content for e in group)))
    return merged


def _indent(text: str) -> int:
    line = text[1:] if text.startswith("\n") else text
    line = line.split("\n", 1)[0]
    return len(line) - len(line.lstrip(" "))
