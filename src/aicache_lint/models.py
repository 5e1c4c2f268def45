"""The model inventory, as data for `aicache-lint models`: for each image and each Compose service,
the models it loads, when (build time or run time), the cache directory each fills and what keeps it.

An image is a Dockerfile's final stage, or each stage its builds name as `target`. Its build-time
models are the `RUN hf download`s, the Python of `RUN python -c` / heredocs
(``dockerfile/hub_downloads.py``) and the scripts a `RUN python script.py` runs
(``workspace/python_code.run_code``) in the stages it is built from and copies from; its run-time
models are those of the code its command runs (``Workspace.image_code``) and the `hf download`s
on the way. A service's models are those of the code it runs (``Workspace.service_code``), its
`hf download`s and its `MODEL_ID`-style variables; a model named by a variable takes the value the
service's `environment:` / `env_file` (or the image's ENV) gives it, else its default in the code.

The cache a run-time load fills comes from its `cache_dir=`-like argument, else from the
variables the container starts with (``compose/caches.py``: `HF_HUB_CACHE`, `HF_HOME/hub`,
`XDG_CACHE_HOME`, the user's home); at build time from the RUN's state (``hub_downloads``).

Paths are relative to the current directory; every list is sorted. The renderers live in
``report/models.py`` and ``report/prefetch.py``. Nothing on the lint path imports this module.
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.caches import Runtime
    from aicache_lint.compose.project import Service
    from aicache_lint.dockerfile.facts import Facts, Stage, State
    from aicache_lint.dockerfile.model import Instruction
    from aicache_lint.python.launch import Download
    from aicache_lint.python.read import ModelLoad
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.python_code import Code

BUILD, RUN = "build", "run"
# What keeps a model's files (``Kept.kind``).
IMAGE, STAGE, CACHE_MOUNT, VOLUME, CONTAINER, UNKNOWN = "image", "stage", "cache-mount", "volume", "container", "unknown"
# Libraries that fetch from somewhere else than the Hugging Face Hub (DOMAIN §3.3): `hf download` cannot warm them.
NOT_HUB = {"whisper": "openai-whisper's own download URLs", "torch": "torch.hub (GitHub and download.pytorch.org)",
           "torchvision": "torchvision (download.pytorch.org)"}
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")  # `org/name`: a Hub repository
_WHOLE_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


class Kept(NamedTuple):
    kind: str  # IMAGE | STAGE | CACHE_MOUNT | VOLUME | CONTAINER | UNKNOWN
    detail: str  # said for people


class Model(NamedTuple):
    model: str | None  # the id: a literal, or the value the environment (else the default) gives the variable
    variable: str | None  # the environment variable that names it
    default: str | None  # the variable's default in the code
    value_from: str | None  # where ``model`` comes from: literal | environment | env_file | image | default |
    #                         build (an ARG or ENV of the Dockerfile, at build time)
    expression: str | None  # the code that names it, when nothing above is known
    revision: str | None
    library: str | None
    call: str  # `sentence_transformers.SentenceTransformer`, `hf download`, `MODEL_ID in environment`
    path: str
    line: int | None
    when: str  # BUILD | RUN
    how: str  # `RUN hf download`, `RUN python -c`, `RUN python dl.py`, `code`, `command`, `environment`
    hub: bool  # `hf download <model>` fetches it (an `org/name` id of a Hub library)
    cache: str | None  # the directory it fills (None: not known)
    cache_from: str  # where ``cache`` comes from
    kept: Kept
    repo_type: str | None = None  # a Hub repository type given ("model", "dataset", "space"); "": not known
    own_cache: bool = False  # it goes to a directory of its own (`cache_dir=`, `--local-dir`), not HF_HOME's cache


class ImageModels(NamedTuple):
    dockerfile: str
    target: str | None  # the stage its builds name; None: the final stage
    models: list[Model]
    unresolved: list[str]


class ServiceModels(NamedTuple):
    files: list[str]  # the Compose files of its project, base first
    name: str
    runs: str  # `build app/Dockerfile` or `image python:3.12`
    hf_home: str | None  # the HF_HOME it sets (a literal absolute path), for the prefetch script
    models: list[Model]
    unresolved: list[str]


class Inventory(NamedTuple):
    images: list[ImageModels]
    services: list[ServiceModels]


def build_inventory(ws: "Workspace", files: list[str]) -> Inventory:
    """The models of what ``files`` (the files discovery found) hold: their Dockerfiles and those
    their builds (Compose, workflows, Bake) name, their Compose projects, and the services that
    build one of those Dockerfiles. A directory gives every file under it; a file named alone gives
    its own images, not every image the project's other files build. Each image is listed with the
    targets any build of the project names."""
    from aicache_lint.graph import compose_projects, dockerfiles

    invocations = ws.invocations()
    given = {os.path.realpath(f) for f in files}
    projects = compose_projects(ws, files)
    declaring = given | {os.path.realpath(f) for group in projects for f in group
                         if given & {os.path.realpath(g) for g in group}}  # a given file's Compose project
    own = [inv for inv in invocations if os.path.realpath(inv.origin.path) in declaring]
    images: list[ImageModels] = []
    listed = dockerfiles(files, own)
    for real, path in listed.items():
        targets = {inv.target for inv in invocations if inv.dockerfile and os.path.realpath(inv.dockerfile) == real}
        for target in sorted(targets or {None}, key=lambda t: t or ""):
            images.append(_image(ws, path, target))
    services = [service_models(ws, group, s) for group in projects for s in ws.compose_project(group).services.values()
                if declaring & {os.path.realpath(f) for f in group} or _builds(s, listed)]
    return Inventory(sorted(images, key=lambda i: (i.dockerfile, i.target or "")),
                     sorted(services, key=lambda s: (s.files, s.name)))


def _builds(service: "Service", dockerfiles: dict[str, str]) -> bool:
    """Whether ``service`` builds one of ``dockerfiles`` (by real path)."""
    b = service.build
    return b is not None and bool(b.dockerfile) and not b.dockerfile_inline and \
        os.path.realpath(b.dockerfile) in dockerfiles


def _rel(path: str) -> str:
    return os.path.relpath(path)


def _line(ws: "Workspace", path: str, offset: int) -> int | None:
    source = ws.source(path)
    return source.line_of(offset) if source is not None else None


def _order(models: list[Model]) -> list[Model]:
    return sorted(dict.fromkeys(models), key=lambda m: (m.when != BUILD, m.path, m.line or 0, m.model or "", m.call))


# -- images -------------------------------------------------------------------------------------


def _image(ws: "Workspace", dockerfile: str, target: str | None) -> ImageModels:
    parsed = ws.linted_dockerfile(dockerfile)
    if parsed is None:
        return ImageModels(_rel(dockerfile), target, [], [f"{_rel(dockerfile)} cannot be read or does not parse"])
    facts = parsed[1]
    stage = facts.target_stage(target)
    if stage is None:
        return ImageModels(_rel(dockerfile), target, [], [f"{_rel(dockerfile)} has no stage `{target}`"])
    unresolved: list[str] = []
    models = _build_time(ws, dockerfile, facts, stage, unresolved)
    code = ws.image_code(dockerfile, target)
    state = facts.end_state(stage)
    rt = _image_runtime(state, code)
    kept = Kept(UNKNOWN, "depends on the volumes the container runs with")
    models += _run_time(ws, code, rt, lambda directory: kept, _command_line(ws, dockerfile, facts, stage))
    unresolved += code.unresolved
    return ImageModels(_rel(dockerfile), target, _order(models), list(dict.fromkeys(unresolved)))


def _built_stages(stage: "Stage") -> list["Stage"]:
    """The stages a build of ``stage`` runs: those it is built FROM and those it copies from."""
    seen: dict[int, Stage] = {}
    pending = [stage]
    while pending:
        s = pending.pop()
        if s.index not in seen:
            seen[s.index] = s
            pending += [p for p in (s.parent, *s.copies_from) if p is not None]
    return [seen[i] for i in sorted(seen)]


def _build_time(ws: "Workspace", dockerfile: str, facts: "Facts", stage: "Stage", unresolved: list[str]) -> list[Model]:
    from aicache_lint.dockerfile.hub_downloads import is_hub_download, python_downloads
    from aicache_lint.dockerfile.shell import PYTHON
    from aicache_lint.workspace.python_code import run_code

    chain = {s.index for s in stage.chain()}
    path = _rel(dockerfile)
    out: list[Model] = []
    for s in _built_stages(stage):
        for run in (i for i in s.instructions if i.keyword == "RUN"):
            state = facts.state(run)
            in_image = s.index in chain
            for inv in facts.invocations(run):
                if is_hub_download(inv):
                    out.append(_run_hf_download(ws, dockerfile, run, state, inv, in_image, s))
                elif PYTHON.fullmatch(inv.program) and _runs_script(inv):
                    code = run_code(ws, dockerfile, facts, run, inv)
                    unresolved += code.unresolved
                    script = next(w.value for w in inv.args if not w.value.startswith("-"))
                    program = " ".join(w.value for w in inv.program_words)  # as written: `python3`
                    for file, load in code.loads():
                        if _may_download(load):
                            cache = _load_cache(load, _state_runtime(state), state.workdir)
                            out.append(_model(load, _rel(file.path), load.line, BUILD, f"RUN {program} {script}", cache,
                                              _build_kept(run, state, cache[0], in_image, s), {}))
            for download in python_downloads(run, facts.script(run), state):
                load = download.load
                if load.cache_keyword:
                    where = f"its `{load.cache_keyword}=`" if load.cache_dir else _computed(load)
                else:
                    where = "the library's cache in the RUN's environment" if download.cache else "not known"
                cache = (download.cache, where)
                out.append(_model(load, path, _line(ws, dockerfile, download.span.start), BUILD, "RUN python -c / heredoc",
                                  cache, _build_kept(run, state, download.cache, in_image, s), {}))
    return out


def _runs_script(inv) -> bool:
    """`python [options] script.py`: not `-m`/`-c` (pip, a `-c` body read elsewhere)."""
    for word in inv.args:
        if word.value in ("-m", "-c") or word.value.startswith(("-m", "-c")) and not word.value.startswith("--"):
            return False
        if not word.value.startswith("-"):
            return True
    return False


def _run_hf_download(ws: "Workspace", dockerfile: str, run: "Instruction", state: "State", inv, in_image: bool,
                     stage: "Stage") -> Model:
    from aicache_lint.dockerfile.hub_downloads import hub_cache
    from aicache_lint.python.launch import Reader, expand

    prefix = {k: (w.value if not w.has_expansion else None) for k, w in inv.env.items()}
    env = {**state.run_env, **prefix}
    words = [*inv.program_words, *inv.args]
    reader = Reader(state.workdir, env)
    reader.words([(expand(w.value, env) or "\0") if w.has_expansion else w.value for w in words])
    [download] = reader.events.downloads
    as_written = Reader(state.workdir, env)  # the repository operand before expansion: `${MODEL_ID}`
    as_written.words([w.value for w in words])
    written = as_written.events.downloads[0].repo or ""
    words = inv.program_words
    line = _line(ws, dockerfile, inv.command.script.file_span(words[0].start, words[-1].end).start)
    if download.local_dir or download.cache_dir:
        cache = (download.local_dir or download.cache_dir, "`--local-dir`" if download.local_dir else "`--cache-dir`")
    else:
        cache = (hub_cache(state, prefix), "the Hugging Face cache of the RUN")
    model = _cli_model(download, _rel(dockerfile), line, BUILD, "RUN hf download", cache,
                       _build_kept(run, state, cache[0], in_image, stage))
    if "$" not in written:
        return model
    variable = _WHOLE_VARIABLE.fullmatch(written)
    return model._replace(variable=variable.group(1) if variable else None, expression=None if model.model else written,
                          value_from="build" if model.model else None)


def _build_kept(run: "Instruction", state: "State", cache: str | None, in_image: bool, stage: "Stage") -> Kept:
    from aicache_lint.knowledge.package_cache import cache_mount_targets, covers

    for _, target in cache_mount_targets(run, state):
        if target is not None and cache is not None and covers(target, cache):
            return Kept(CACHE_MOUNT, f"in the builder's cache mount on `{target}`, not in the image")
        if target is None or cache is None:
            return Kept(UNKNOWN, "a cache mount of this RUN may hold it: not known")
    if in_image:
        return Kept(IMAGE, f"in the image layer of the RUN at line {run.start_line}")
    label = f"`{stage.name}`" if stage.name else str(stage.index)
    return Kept(STAGE, f"in stage {label}'s layer: the image holds only what it copies from it")


def _command_line(ws: "Workspace", dockerfile: str, facts: "Facts", stage: "Stage"):
    """Where a command's `hf download` without a position of its own is shown: the CMD/ENTRYPOINT."""
    entrypoint, cmd = facts.command(stage)
    instr = cmd or entrypoint
    return (_rel(dockerfile), instr.start_line if instr is not None else None)


# -- services -----------------------------------------------------------------------------------


def service_models(ws: "Workspace", group: tuple[str, ...], service: "Service") -> ServiceModels:
    """The models of ``service`` of the Compose project ``group``: what the code it runs loads, its
    `hf download`s and its `MODEL_ID`-style variables, each with the cache it fills and what keeps it."""
    from aicache_lint.compose.caches import MODEL_ID_VARS, hf_cache, covers, runtime

    code = ws.service_code(service)
    rt = runtime(service)
    rt = rt._replace(env={**rt.env, **{k: v for k, v in code.env.items() if v is not None}})
    if service.build is not None:
        b = service.build
        runs = f"build {_rel(b.dockerfile)}" if b.dockerfile and not b.dockerfile_inline else "build (inline Dockerfile)"
    else:
        runs = f"image {service.image}" if service.image else "no image"

    def kept(directory: str | None) -> Kept:
        if directory is None:
            return Kept(UNKNOWN, "its cache directory is not known")
        if any(not v.known for v in service.volumes):
            return Kept(UNKNOWN, "a volume's target is not known")
        for v in service.volumes:
            if covers(v, directory):
                what = f"volume `{v.source}`" if v.is_named else f"bind mount `{v.source}`" if v.is_bind else \
                    "an anonymous volume"
                return Kept(VOLUME, f"on {what} at `{v.target}`")
        return Kept(CONTAINER, "not kept (container layer): downloaded again whenever the container is recreated")

    command = service.command or service.entrypoint
    where = (_rel(service.file.path), _line(ws, service.file.path, command.span.start) if command is not None else None)
    models = _run_time(ws, code, rt, kept, where, service)
    named = {m.variable for m in models}
    for name in MODEL_ID_VARS:
        var = service.environment.get(name)
        if var is None or name in named or not var.value or not REPO_ID.fullmatch(var.value.strip()):
            continue
        cache = hf_cache(rt, "")
        models.append(Model(var.value.strip(), name, None, "environment", None, None, None, f"`{name}` in environment",
                            _rel(var.file), _line(ws, var.file, var.node.span.start), RUN, "environment", True,
                            cache.directory, cache.where, kept(cache.directory)))
    hf_home = rt.get("HF_HOME")
    return ServiceModels([_rel(f) for f in group], service.name, runs,
                         posixpath.normpath(hf_home) if hf_home and hf_home.startswith("/") else None,
                         _order(models), list(code.unresolved))


# -- run time -----------------------------------------------------------------------------------


def _image_runtime(state: "State", code: "Code") -> "Runtime":
    """What an image's container starts with, as ``compose/caches`` reads a service."""
    from aicache_lint.compose.caches import Runtime

    user = state.user_info.name if state.user is not None else None
    return Runtime(dict(code.env), None, None, state.is_root if state.user is not None else None, user,
                   state.home if state.home_known else None)


def _state_runtime(state: "State") -> "Runtime":
    from aicache_lint.compose.caches import Runtime

    return Runtime(dict(state.run_env), None, None, state.is_root if state.user is not None else None, None,
                   state.home if state.home_known else None)


def _run_time(ws: "Workspace", code: "Code", rt: "Runtime", kept, command: tuple[str, int | None],
              service: "Service | None" = None) -> list[Model]:
    from aicache_lint.compose.caches import hf_cache
    from aicache_lint.python.launch import MODULE, SCRIPT

    cwd = next((l.cwd for l in code.launches if l.kind in (SCRIPT, MODULE)), None)
    out: list[Model] = []
    sources = _value_sources(service, code)
    for file, load in code.loads():
        if not _may_download(load):
            continue
        cache = _load_cache(load, rt, cwd)
        out.append(_model(load, _rel(file.path), load.line, RUN, "code", cache, kept(cache[0]), sources))
    for download, where in code.downloads:
        if where is not None and download.span is not None:
            path, line = _rel(where), _line(ws, where, download.span.start)
        else:
            path, line = command
        if download.local_dir or download.cache_dir:
            cache = (download.local_dir or download.cache_dir, "`--local-dir`" if download.local_dir else "`--cache-dir`")
        else:
            hub = hf_cache(rt._replace(env={**rt.env, **{k: v for k, v in download.env.items() if v is not None}}), "")
            cache = (hub.directory, hub.where)
        out.append(_cli_model(download, path, line, RUN, "command", cache, kept(cache[0])))
    return out


def _may_download(load: "ModelLoad") -> bool:
    """A load that downloads, or one whose model is not known here (a variable without a default,
    an expression): the inventory shows the gap rather than hide a download."""
    return load.remote or (load.model is None and load.default is None and load.expr is not None)


def _value_sources(service: "Service | None", code: "Code") -> dict[str, tuple[str, str]]:
    """Each variable with a known value: (value, where it comes from)."""
    found = {k: (v, "image") for k, v in code.env.items() if v is not None}
    if service is not None:
        for env_file in service.env_file:
            found.update({k: (v, "env_file") for k, v in service.env_file_values(env_file).items()})
        found.update({k: (v.value, "environment") for k, v in service.environment.items() if v.value is not None})
    return found


def _load_cache(load: "ModelLoad", rt: "Runtime", cwd: str | None) -> tuple[str | None, str]:
    """The directory a load fills, and where that comes from: its cache argument, else its library's cache."""
    from aicache_lint.compose.caches import default_cache, default_where, hf_cache, torch_cache
    from aicache_lint.dockerfile.hub_downloads import LIBRARY_CACHE, LIBRARY_HOME

    if load.cache_keyword:
        if not load.cache_dir:
            return None, _computed(load)
        from aicache_lint.knowledge.code_caches import load_directory

        directory = load_directory(load.cache_dir, cwd, rt.home)
        if directory is not None:
            return directory, f"its `{load.cache_keyword}=`"
        return None, f"its `{load.cache_keyword}=`, a directory that is not known here (relative, `~` or a variable)"
    home_var = LIBRARY_HOME.get(load.library or "")
    if home_var and rt.has(home_var):
        value = rt.get(home_var)
        return (posixpath.normpath(value) if value and value.startswith("/") else None), f"`{home_var}`"
    tool = LIBRARY_CACHE.get(load.library or "")
    if tool is None:
        cache = hf_cache(rt, "")
    elif tool[1] == "TORCH_HOME":
        cache = torch_cache(rt, "")
    else:
        return default_cache(rt, tool[0]), default_where(rt, tool[0])
    return cache.directory, cache.where


def _computed(load: "ModelLoad") -> str:
    return f"a computed `{load.cache_keyword}=`"


def _model(load: "ModelLoad", path: str, line: int | None, when: str, how: str, cache: tuple[str | None, str],
           kept: Kept, sources: dict[str, tuple[str, str]]) -> Model:
    model, value_from = load.model, "literal" if load.model is not None else None
    if model is None and load.variable and load.variable in sources:
        model, value_from = sources[load.variable]
    elif model is None and load.default is not None:
        model, value_from = load.default, "default"
    expression = load.expr if model is None and load.variable is None else None
    hub = model is not None and load.library not in NOT_HUB and bool(REPO_ID.fullmatch(model))
    return Model(model, load.variable, load.default, value_from, expression, load.revision, load.library, load.call,
                 path, line, when, how, hub, cache[0], cache[1], kept, load.repo_type, bool(load.cache_keyword))


def _cli_model(download: "Download", path: str, line: int | None, when: str, how: str,
               cache: tuple[str | None, str], kept: Kept) -> Model:
    repo = download.repo
    return Model(repo, None, None, "literal" if repo else None, None,
                 download.revision, "huggingface_hub", "hf download", path, line, when, how,
                 bool(repo and REPO_ID.fullmatch(repo)), cache[0], cache[1], kept, download.repo_type,
                 bool(download.local_dir or download.cache_dir))
