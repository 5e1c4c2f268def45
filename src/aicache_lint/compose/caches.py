"""Where a Compose service keeps the models it downloads at run time (DOMAIN §3).

For each service: whether it downloads models at all (a known AI image, a linked Dockerfile that
installs Hugging Face or torch libraries, a `command:` running `hf download`, or variables such as
`HF_TOKEN` / `MODEL_ID=org/name`), and the cache directories that then must be on a volume, from
(a) its `environment` (and `env_file`s), interpolated, (b) the linked Dockerfile's final ENV,
(c) the defaults under the user's HOME (only when that home is known), (d) the known-image table.
A directory that cannot be known is None: rules then report without a fix, or not at all.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.compose.images import ImageInfo, lookup
from aicache_lint.dockerfile.facts import covers_path
from aicache_lint.knowledge.libraries import HF_CACHE_VARS, TRANSFORMERS_CACHE_VARS

if TYPE_CHECKING:
    from aicache_lint.compose.project import Project, Service, Volume
    from aicache_lint.workspace.runtime import LinkedImage

HF, TORCH = "hf", "torch"
LOCAL_DIR = "local-dir"  # a model downloaded into a directory of its own (`hf download --local-dir`)
# Layouts of what a cache volume holds: the HF_HOME dir (hub cache in `hub/`), a hub cache itself
# (`models--org--name` directly inside), a TORCH_HOME, or an image's own layout.
HF_HOME_LAYOUT, HF_HUB_LAYOUT, TORCH_HOME_LAYOUT = "hf-home", "hf-hub", "torch-home"
HF_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
MODEL_ID_VARS = ("MODEL_ID", "HF_MODEL_ID", "HF_MODEL", "MODEL_NAME", "HUGGINGFACE_MODEL")
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_UNKNOWN = object()


class ModelCache(NamedTuple):
    kind: str  # "hf", "torch", or a known image's own kind ("ollama", ...)
    directory: str | None  # where the models land: a volume must cover it; None when unknown
    root: str | None  # the dir a fix mounts (HF_HOME, TORCH_HOME, the image's model dir)
    layout: str  # what ``root`` holds (HF_HOME_LAYOUT, HF_HUB_LAYOUT, TORCH_HOME_LAYOUT, or kind)
    why: str  # why the service downloads ("`transformers` installed by ./app/Dockerfile")
    where: str  # where ``directory`` comes from ("HF_HOME in environment", "default of root", ...)
    variable: str | None  # the variable that sets ``root``; None when the default is used
    extra: tuple[str, ...] = ()  # other dirs that must be covered too (TRANSFORMERS_CACHE)


class Runtime(NamedTuple):
    """What a service runs with: its environment and user, as far as they can be known."""

    env: dict[str, object]  # name -> value (str), None (set without value), or _UNKNOWN
    image: ImageInfo | None  # known image (only for services without `build:`)
    linked: LinkedImage | None
    is_root: bool | None  # None: unknown
    user: str | None
    home: str | None  # known home, else None

    def get(self, name: str) -> str | None:
        value = self.env.get(name)
        return value if isinstance(value, str) else None

    def unknown(self, name: str) -> bool:
        return self.env.get(name) is _UNKNOWN

    def has(self, name: str) -> bool:
        return name in self.env


def runtime(service: "Service") -> Runtime:
    linked = service.linked
    image = lookup(service.image) if service.build is None else None
    env: dict[str, object] = {}
    user: str | None = None
    is_root: bool | None = None
    home: str | None = None
    if linked is not None:
        env.update({k: (v if v is not None else _UNKNOWN) for k, v in linked.env.items()})
        user = linked.user
        is_root = linked.is_root if linked.user is not None else None
        home = linked.home if linked.home_known else None
    elif image is not None:
        if image.env_var:
            env[image.env_var] = image.model_dir
        if image.user is not None:
            user, is_root = image.user, image.uid == 0
            home = "/root" if image.uid == 0 else None
    for env_file in service.env_file:
        env.update(service.env_file_values(env_file))
    for name, var in service.environment.items():
        if var.raw is None:
            env[name] = _UNKNOWN  # taken from the shell when Compose runs
        else:
            env[name] = var.value if var.value is not None else _UNKNOWN
    if service.workspace is not None:
        # What the entrypoint's scripts export wins over the image and the service (`export HF_HOME=/cache`
        # before `exec "$@"`); a value they compute from what is not known is not known.
        for name, value in service.workspace.service_code(service).exported.items():
            env[name] = value if value is not None else _UNKNOWN
    compose_user = _compose_user(service)
    if compose_user is not _UNKNOWN and compose_user is not None:
        name = compose_user.partition(":")[0]
        if name in ("root", "0"):
            user, is_root, home = "root", True, "/root"
        elif linked is None or name not in (linked.user, str(linked.uid)):
            user, is_root, home = name, False, None
    elif compose_user is _UNKNOWN:
        user, is_root, home = None, None, None
    if "HOME" in env:
        home = env["HOME"] if isinstance(env["HOME"], str) and env["HOME"].startswith("/") else None
    return Runtime(env, image, linked, is_root, user, home)


def _compose_user(service: "Service"):
    value: object = None
    for cfile, mapping in service.definitions:
        node = mapping.get("user")
        if node is not None:
            text = cfile.value(node)
            value = text if text is not None else _UNKNOWN
    return value


# The variables that place the Hugging Face and torch caches AIC401 follows.
_CACHE_KIND_VARS = {"hf": ("HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME"), "torch": ("TORCH_HOME", "XDG_CACHE_HOME")}


def image_cache_vars(service: "Service", rt: Runtime | None = None) -> set[str]:
    """The cache variables that the service's Dockerfile (not its `environment`) sets for a model
    cache the service fills: where they point is the image's model cache, which AIC401 reports
    (so fixing the Dockerfile alone never turns its finding into another rule's)."""
    rt = rt or runtime(service)
    if rt.linked is None:
        return set()
    kinds = {c.kind for c in model_caches(service, rt)}
    return {v for kind in kinds for v in _CACHE_KIND_VARS.get(kind, ())
            if v in rt.linked.env and v not in service.environment}


def model_caches(service: "Service", rt: Runtime | None = None) -> list[ModelCache]:
    """The model caches the service fills at run time (empty when it downloads nothing known)."""
    rt = rt or runtime(service)
    found: list[ModelCache] = []
    hf_why = _hf_reason(service, rt)
    if hf_why:
        found.append(hf_cache(rt, hf_why))
    torch_why = _torch_reason(service, rt)
    if torch_why:
        found.append(torch_cache(rt, torch_why))
    image = rt.image
    if image is not None and not image.hub_layout:
        kind = image.repositories[0].rsplit("/", 1)[-1]
        directory: str | None = image.model_dir
        where = f"{image.name}'s model dir"
        moved = bool(image.env_var) and rt.env.get(image.env_var, image.model_dir) != image.model_dir
        if moved:
            directory = _abs(rt.get(image.env_var))
            where = f"`{image.env_var}`"
        found.append(ModelCache(kind, directory, directory, kind, f"{image.name} downloads models", where,
                                image.env_var if moved else None))
    return found + local_downloads(service)


def _hf_reason(service: "Service", rt: Runtime) -> str | None:
    if rt.image is not None and rt.image.hub_layout:
        return f"{rt.image.name} downloads models from the Hugging Face Hub"
    code = _code_reason(service)
    if code:
        return code
    if rt.linked is not None and rt.linked.hf_libraries:
        return f"its Dockerfile installs `{rt.linked.hf_libraries[0]}`"
    if _runs_hf_download(service):
        return "its `command:` runs `hf download`"
    for name in HF_TOKEN_VARS:
        if name in service.environment:
            return f"it sets `{name}`"
    for name in MODEL_ID_VARS:
        var = service.environment.get(name)
        if var is not None and var.value and _REPO_ID.fullmatch(var.value.strip()):
            return f"it sets `{name}={var.value.strip()}`"
    for name in HF_CACHE_VARS:
        if name in service.environment:
            return f"it sets `{name}`"
    return None


def _code_reason(service: "Service") -> str | None:
    """What the service's own code (workspace/python_code.py) downloads into the Hugging Face hub
    cache: literal model ids where it names them."""
    from aicache_lint.knowledge.libraries import HUB_CACHE_MODULES

    ws = service.workspace
    if ws is None:
        return None
    code = ws.service_code(service)
    named: dict[str, str] = {}  # model (or how it is given) -> where
    for file, load in code.loads():
        if load.remote and not load.cache_keyword and load.library in HUB_CACHE_MODULES:
            given = f"`{load.model}`" if load.model else f"the model in `{load.variable}`" + (
                f" (default `{load.default}`)" if load.default else "") if load.variable else "a model"
            named.setdefault(given, f"{_shown(service, file.path)}:{load.line}")
    for download, where in code.downloads:
        if download.local_dir is None and download.cache_dir is None and where:
            named.setdefault(f"`{download.repo}`" if download.repo else "a model",
                             f"{_shown(service, where)}: `hf download`")
    if not named:
        return None
    shown = [f"{given} ({where})" for given, where in list(named.items())[:3]]
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    return f"its code loads {', '.join(shown)}{more}"


def local_downloads(service: "Service") -> list[ModelCache]:
    """`hf download --local-dir DIR` run by the service's command or scripts: DIR holds the model."""
    ws = service.workspace
    if ws is None:
        return []
    found = []
    for download, where in ws.service_code(service).downloads:
        if download.local_dir is not None:
            why = f"{_shown(service, where) if where else 'its command'} runs `hf download {download.repo or '…'}`"
            found.append(ModelCache(LOCAL_DIR, download.local_dir, None, LOCAL_DIR, why, "`--local-dir`", None))
    return found


def _torch_reason(service: "Service", rt: Runtime) -> str | None:
    """Why the service fills the torch hub cache: its image installs torch and the code it runs, a
    RUN, or a library it installs loads weights through torch.hub (knowledge/torch_hub.py, as for
    AIC202); torch alone downloads nothing."""
    linked, ws = rt.linked, service.workspace
    if linked is None or not linked.torch_libraries or ws is None:
        return None
    from aicache_lint.knowledge.torch_hub import described, fills_torch_hub, torch_hub_use

    for file, load in ws.service_code(service).loads():
        if fills_torch_hub(load):
            return f"its code loads {described(load)} ({_shown(service, file.path)}:{load.line})"
    from aicache_lint.workspace.runtime import built_stage

    built = built_stage(ws, service)
    use = torch_hub_use(ws, *built) if built is not None else None
    return f"its image loads torch hub weights: {use.what.rstrip(',')}" if use is not None else None


def _runs_hf_download(service: "Service") -> bool:
    from aicache_lint.compose.model import Scalar, Sequence

    node = service.command.target if service.command is not None else None
    if isinstance(node, Scalar) and not node.is_null:
        words = node.value.split()
    elif isinstance(node, Sequence):
        words = [w for item in node.items if isinstance(item.target, Scalar) for w in item.target.value.split()]
    else:
        return False
    for i, word in enumerate(words[:-1]):
        if word.rsplit("/", 1)[-1] in ("hf", "huggingface-cli") and words[i + 1] == "download":
            rest = words[i + 2:]
            return not any(w == "--local-dir" or w.startswith("--local-dir=") for w in rest)
    return False


def _shown(service: "Service", path: str) -> str:
    """A file named from the Compose file's directory (`app/main.py`)."""
    import os

    return os.path.relpath(path, os.path.dirname(os.path.abspath(service.file.path)))


def _abs(value: str | None) -> str | None:
    return posixpath.normpath(value) if value and value.startswith("/") else None


def hf_cache(rt: Runtime, why: str) -> ModelCache:
    extra = tuple(d for d in (_abs(rt.get(v)) for v in TRANSFORMERS_CACHE_VARS if rt.has(v)) if d)
    unknown_extra = any(rt.has(v) and _abs(rt.get(v)) is None for v in TRANSFORMERS_CACHE_VARS)
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if rt.has(var):
            d = _abs(rt.get(var))
            return ModelCache(HF, d, d, HF_HUB_LAYOUT, why, f"`{var}`", var, extra)
    if unknown_extra:
        return ModelCache(HF, None, None, HF_HOME_LAYOUT, why, "`TRANSFORMERS_CACHE`", None)
    if rt.has("HF_HOME"):
        home = _abs(rt.get("HF_HOME"))
        return ModelCache(HF, posixpath.join(home, "hub") if home else None, home, HF_HOME_LAYOUT, why,
                          "`HF_HOME`", "HF_HOME", extra)
    root = default_cache(rt, "huggingface")
    return ModelCache(HF, posixpath.join(root, "hub") if root else None, root, HF_HOME_LAYOUT, why,
                      default_where(rt, "huggingface"), None, extra)


def torch_cache(rt: Runtime, why: str) -> ModelCache:
    if rt.has("TORCH_HOME"):
        home = _abs(rt.get("TORCH_HOME"))
        return ModelCache(TORCH, posixpath.join(home, "hub") if home else None, home, TORCH_HOME_LAYOUT, why,
                          "`TORCH_HOME`", "TORCH_HOME")
    root = default_cache(rt, "torch")
    return ModelCache(TORCH, posixpath.join(root, "hub") if root else None, root, TORCH_HOME_LAYOUT, why,
                      default_where(rt, "torch"), None)


def default_cache(rt: Runtime, tool: str) -> str | None:
    """`$XDG_CACHE_HOME/<tool>`, else `~/.cache/<tool>` when the home is known."""
    if rt.has("XDG_CACHE_HOME"):
        xdg = _abs(rt.get("XDG_CACHE_HOME"))
        return posixpath.join(xdg, tool) if xdg else None
    if rt.home is None:
        return None
    return posixpath.join(rt.home, ".cache", tool)


def default_where(rt: Runtime, tool: str) -> str:
    if rt.has("XDG_CACHE_HOME"):
        return "`XDG_CACHE_HOME`"
    return f"the default `~/.cache/{tool}` of {'root' if rt.is_root else 'the user'}"


# -- volumes ----------------------------------------------------------------------------------

def covers(volume: "Volume", directory: str) -> bool:
    """Whether a volume or bind mount keeps ``directory`` (its target is the dir or a parent)."""
    if volume.type not in ("volume", "bind") or not volume.target or not volume.known:
        return False
    target = posixpath.normpath(volume.target)
    return covers_path(target, directory)


def covered(service: "Service", cache: ModelCache) -> bool | None:
    """True when every dir of the cache is on a volume, False when one is not, None when unknown."""
    if cache.directory is None:
        return None
    if any(not v.known for v in service.volumes):
        return None
    return all(any(covers(v, d) for v in service.volumes) for d in (cache.directory, *cache.extra))


def volume_layouts(project: "Project") -> dict[str, set[str]]:
    """For each named volume: what the services that mount it keep there (a layout, or "other")."""
    found: dict[str, set[str]] = {}
    for service in project.services.values():
        caches = None
        for volume in service.volumes:
            if not volume.is_named or not volume.known or not volume.target:
                continue
            if caches is None:
                rt = runtime(service)
                # What the service's variables say, whether or not it is seen downloading.
                caches = [*model_caches(service, rt), hf_cache(rt, ""), torch_cache(rt, "")]
            target = posixpath.normpath(volume.target)
            layout = "other"
            for cache in caches:
                if cache.root == target:
                    layout = cache.layout
                elif cache.kind == HF and cache.directory == target:
                    layout = HF_HUB_LAYOUT
                elif cache.layout == HF_HUB_LAYOUT and cache.root == posixpath.join(target, "hub"):
                    layout = HF_HOME_LAYOUT  # HF_HUB_CACHE=<target>/hub: the volume holds what an HF_HOME does
            found.setdefault(volume.source, set()).add(layout)
    return found
