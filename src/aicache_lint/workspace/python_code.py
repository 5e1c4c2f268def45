"""The Python code an image or a Compose service runs, and the models it loads (DESIGN §5b).

Only the code that runs is read, never every `.py` of the repository: the container's command
(the final stage's `ENTRYPOINT` + `CMD` as Docker combines them, or the service's `entrypoint:` /
`command:`), read by ``python/launch.py``, names scripts and modules in the image; each is traced
back to a build-context file through the stage's `COPY`/`ADD` and `WORKDIR`
(``build_context.image_locator``), through a Compose bind mount, or through a `git clone` of this
very repository (the URL of one of its `.git/config` remotes). Shell scripts the command runs are
read too (two levels), with the directory and variables they set; an entrypoint script that ends
in `exec "$@"` runs the `CMD` as well; a program the project installs (`[project.scripts]` of the
context's pyproject.toml) runs its module; code a stage copies from another stage of the file is
followed there. From each Python file the local modules it imports are
followed, transitively, within what the image holds (absolute imports from the script's directory,
the working directory, `PYTHONPATH` and `--app-dir`-like roots; relative imports from the package),
at most ``MAX_FILES`` files per image. A `RUN python script.py` at build time is resolved the same
way at that RUN (``run_code``).

What cannot be followed is said in ``Code.unresolved`` (code copied from another image, a path with
a variable, a base image's command), never guessed.
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import TYPE_CHECKING, Callable, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.project import Service
    from aicache_lint.dockerfile.facts import Facts, Stage
    from aicache_lint.dockerfile.model import Instruction
    from aicache_lint.dockerfile.shell import Invocation
    from aicache_lint.python.launch import Download, Launch
    from aicache_lint.python.read import Import, ModelLoad, PythonFacts
    from aicache_lint.workspace.index import Workspace

MAX_FILES = 400  # Python files read for one image: an entry point with its local imports
_MAX_SHELL_DEPTH = 2
_INSTALLED = "/<installed>"  # where an installed package's modules are said to be (site-packages)
_RUNS_ARGS = re.compile(r'"\$@"|\$@|"\$\{@\}"')


class CodeFile(NamedTuple):
    path: str  # as the workspace names it
    image_path: str  # where the container holds it
    facts: "PythonFacts"
    imported_by: str | None  # the file whose import reached it (workspace path); None: an entry point
    # Each import of the file that names modules of the code, with their files (workspace paths).
    local_imports: tuple[tuple["Import", tuple[str, ...]], ...] = ()


class Code(NamedTuple):
    """What one image (or service) runs."""

    files: tuple[CodeFile, ...]  # entry points first, then what they import, each once
    downloads: tuple[tuple["Download", str | None], ...]  # `hf download` lines, with the file they are in
    launches: tuple["Launch", ...]
    unresolved: tuple[str, ...]  # what could not be followed, said plainly
    env: dict[str, str | None]  # the variables the code starts with (image ENV, service environment)
    exported: dict[str, str | None]  # those the command's scripts set on the way (`export HF_HOME=/cache`)
    cwd: str | None = None  # the working directory the first Python code starts in (None: unknown)

    def loads(self) -> list[tuple[CodeFile, "ModelLoad"]]:
        """The model loads of every file, in file order."""
        return [(f, load) for f in self.files for load in f.facts.loads]

    def file(self, path: str) -> CodeFile | None:
        key = os.path.abspath(path)
        return next((f for f in self.files if os.path.abspath(f.path) == key), None)


EMPTY = Code((), (), (), (), {}, {})

Locate = Callable[[str], "str | None"]  # image path -> workspace path (None: unknown)


def stage_code(ws: "Workspace", dockerfile: str, facts: "Facts", stage: "Stage", context: str | None,
               service: "Service | None" = None) -> Code:
    """The code the image of ``stage`` runs (with a service's overrides, mounts and environment)."""
    from aicache_lint.workspace.build_context import image_locator

    state = facts.end_state(stage)
    env = dict(state.env)
    locators: list[Locate] = []
    if service is not None:
        env.update(_service_env(service))
        locators.append(_bind_locator(service))
    if context is not None and "://" in context:
        context = None  # a remote context: nothing of it is here to read
    if context is not None:
        locators.append(image_locator(facts, stage, context, ws.text, ws.listdir))
    tracer = _Tracer(ws, locators, env, context=context)
    entrypoint, cmd = facts.command(stage)
    overrides = _overrides(service) if service is not None else None
    workdir = (overrides.workdir if overrides and overrides.workdir else None) or state.workdir
    entry_words, entry_shell = _instruction_command(entrypoint)
    cmd_words, cmd_shell = _instruction_command(cmd)
    if overrides is not None and overrides.entrypoint is not None:
        entry_words, entry_shell, cmd_words, cmd_shell = overrides.entrypoint, None, None, None
    if overrides is not None and overrides.command is not None:
        cmd_words, cmd_shell = overrides.command, None
    if entrypoint is None and cmd is None and (overrides is None or (overrides.entrypoint is None and
                                                                     overrides.command is None)):
        tracer.unresolved.append(f"{ws.spelt(dockerfile)} sets no CMD or ENTRYPOINT: the base image's command "
                                 "is not known")
    tracer.start(workdir, entry_words, entry_shell, cmd_words, cmd_shell, dockerfile)
    return tracer.code()


def service_code(ws: "Workspace", service: "Service") -> Code:
    """The code a service runs: its image built here (with its overrides), or, for an image built
    elsewhere, what its command runs from bind-mounted files."""
    from aicache_lint.workspace.runtime import built_stage

    if service.build is not None:
        built = built_stage(ws, service)
        return stage_code(ws, *built, service.build.context, service) if built is not None else EMPTY
    overrides = _overrides(service)
    if overrides.command is None and overrides.entrypoint is None:
        return EMPTY
    tracer = _Tracer(ws, [_bind_locator(service)], _service_env(service))
    tracer.start(overrides.workdir or None, overrides.entrypoint, None, overrides.command, None, None)
    return tracer.code()


def run_code(ws: "Workspace", dockerfile: str, facts: "Facts", run: "Instruction", inv: "Invocation") -> Code:
    """The Python files a RUN's command runs at build time (`python download.py`, `python -m pkg.x`)."""
    from aicache_lint.workspace.build_context import image_locator

    context = ws.build_context(dockerfile)
    stage = facts.stage_of(run)
    if context is None or stage is None or "://" in context:
        return EMPTY
    state = facts.state(run)
    locate = image_locator(facts, stage, context, ws.text, ws.listdir, run, inv)
    tracer = _Tracer(ws, [locate], dict(state.run_env))
    words = [w.value for w in inv.program_words] + [w.value if not w.has_expansion else "\0" for w in inv.args]
    tracer.start(state.workdir, words, None, None, None, dockerfile)
    return tracer.code()


def code_running(ws: "Workspace", path: str) -> Code | None:
    """The code of the first image or service of the run that includes the Python file ``path``
    (what its imports resolve to is known there); None when nothing of the run runs it."""
    from aicache_lint.discovery import file_kind, is_dockerfile_name

    near = [os.path.join(d, n) for d in ws.directories_up(path) for n in ws.listdir(d) or () if is_dockerfile_name(n)]
    for dockerfile in dict.fromkeys([*(p for p in ws.paths if file_kind(p) == "dockerfile"), *near]):
        code = ws.image_code(dockerfile)
        if code.file(path) is not None:
            return code
    found = services_running(ws, path)
    return found[0][2] if found else None


def import_time_libraries(ws: "Workspace", path: str,
                          loaded: Callable[["Import"], tuple[str, ...]]) -> Callable[["Import"], tuple[str, ...]]:
    """``loads(imp)`` for ``python.imports.first_import_of``: the libraries ``loaded(imp)`` names,
    and, for an import of the code's own modules, the libraries those import while they load
    (their module-level imports, transitively)."""
    code = code_running(ws, path)
    if code is None:
        return loaded
    files = {os.path.abspath(f.path): f for f in code.files}
    this = files.get(os.path.abspath(path))
    own = dict(this.local_imports) if this is not None else {}

    def module_libraries(local: str, seen: set[str]) -> list[str]:
        file = files.get(os.path.abspath(local))
        if file is None or local in seen:
            return []
        seen.add(local)
        inner = dict(file.local_imports)
        out: list[str] = []
        for imp in file.facts.imports:
            if imp.scope == "module":  # what runs while the module is imported
                out += loaded(imp)
                for other in inner.get(imp, ()):
                    out += module_libraries(other, seen)
        return out

    def loads(imp: "Import") -> tuple[str, ...]:
        found = list(loaded(imp))
        seen: set[str] = {path}
        for local in own.get(imp, ()):
            found += module_libraries(local, seen)
        return tuple(dict.fromkeys(found))

    return loads


def services_running(ws: "Workspace", path: str) -> list[tuple[str, "Service", Code]]:
    """The Compose services of the project whose code includes the Python file ``path``, as
    (the Compose file that defines the service, the service, its code)."""
    projects = dict.fromkeys(ws.companion_files(f) for f in ws.build_files_of("compose"))
    found = []
    for files in projects:
        for service in ws.compose_project(files).services.values():
            code = ws.service_code(service)
            if code.file(path) is not None:
                found.append((service.file.path, service, code))
    return found


def reached_files(ws: "Workspace", paths: list[str]) -> list[str]:
    """The Python files that the images of the Dockerfiles and the services of the Compose files
    among ``paths`` run, at build time (`RUN python x.py`) or when they start: what a run over a
    directory lints besides the build files (never every `.py` of the tree)."""
    from aicache_lint.discovery import file_kind

    found: dict[str, None] = {}
    for path in paths:
        kind = file_kind(path)
        if kind == "dockerfile":
            targets = {inv.target for inv in ws.invocations_of(path)} or {None}
            codes = [ws.image_code(path, target) for target in sorted(targets, key=lambda t: t or "")]
            codes += _build_time_codes(ws, path)
        elif kind == "compose":
            codes = [ws.service_code(s) for s in ws.compose_project(ws.companion_files(path)).services.values()]
        else:
            continue
        for code in codes:
            # a script without `.py` (`#!/usr/bin/env python3`) is read for what it loads, not linted:
            # the lint kinds go by file name
            found.update(dict.fromkeys(f.path for f in code.files if f.path.endswith(".py")))
    return list(found)


def _build_time_codes(ws: "Workspace", dockerfile: str) -> list[Code]:
    from aicache_lint.dockerfile.shell import PYTHON

    parsed = ws.linted_dockerfile(dockerfile)
    if parsed is None:
        return []
    facts = parsed[1]
    return [run_code(ws, dockerfile, facts, run, inv) for run in facts.runs() for inv in facts.invocations(run)
            if PYTHON.fullmatch(inv.program)]


# -- the command -------------------------------------------------------------------------------


class _Overrides(NamedTuple):
    entrypoint: list[str] | None
    command: list[str] | None
    workdir: str | None


def _overrides(service: "Service") -> _Overrides:
    from aicache_lint.compose.model import Scalar, Sequence

    def words(node) -> list[str] | None:
        if node is None:
            return None
        target = node.target
        cfile = service.file
        if isinstance(target, Scalar):
            if target.is_null:
                return None
            value = cfile.value(target)
            return _split(value) if value is not None else ["\0"]
        if isinstance(target, Sequence):
            out = []
            for item in target.items:
                value = cfile.value(item.target) if isinstance(item.target, Scalar) else None
                out.append(value if value is not None else "\0")
            return out
        return None

    workdir = None
    for cfile, mapping in service.definitions:
        node = mapping.get("working_dir")
        if node is not None:
            workdir = cfile.value(node)
    return _Overrides(words(service.entrypoint), words(service.command), workdir)


def _split(text: str) -> list[str]:
    """A Compose string command is split like a shell would split it (it is not run by one)."""
    import shlex

    try:
        return shlex.split(text)
    except ValueError:
        return ["\0"]


def _instruction_command(instr: "Instruction | None"):
    """(exec-form words, None) or (None, shell-form text as a MappedText) of a CMD/ENTRYPOINT."""
    if instr is None:
        return None, None
    if instr.json_args is not None:
        return list(instr.json_args), None
    return None, instr.args


def _service_env(service: "Service") -> dict[str, str | None]:
    env: dict[str, str | None] = {}
    for env_file in service.env_file:
        env.update(service.env_file_values(env_file))
    for name, var in service.environment.items():
        env[name] = var.value if var.raw is not None else None
    return env


def _bind_locator(service: "Service") -> Locate:
    binds = sorted(((v.target.rstrip("/") or "/", v.host_path) for v in service.volumes
                    if v.is_bind and v.target and v.host_path and v.known), key=lambda b: -len(b[0]))

    def locate(path: str) -> str | None:
        for target, host in binds:
            if path == target or path.startswith(target.rstrip("/") + "/"):
                rest = posixpath.relpath(path, target)
                return host if rest == "." else os.path.join(host, *rest.split("/"))
        return None

    return locate


def same_repository(url: str, other: str) -> bool:
    """Whether two Git URLs name one repository (`https://host/o/r.git` = `git@host:o/r`)."""
    return _repository_key(url) == _repository_key(other) != ""


def _repository_key(url: str) -> str:
    url = url.strip().removesuffix("/").removesuffix(".git")
    m = re.match(r"(?:[a-z+]+://)?(?:[^@/]+@)?([^/:]+)[:/](.+)", url)
    return f"{m.group(1).lower()}/{m.group(2).lower()}" if m else ""


# -- following the code ------------------------------------------------------------------------


class _Tracer:
    def __init__(self, ws: "Workspace", locators: list[Locate], env: dict[str, str | None],
                 context: str | None = None) -> None:
        self.ws = ws
        self.locators = locators
        self.env = env
        self.files: dict[str, CodeFile] = {}
        self.order: list[tuple[str, str, str | None, tuple[str, ...]]] = []  # to read: image path, path, by, roots
        self.launches: list[Launch] = []
        self.downloads: list[tuple[Download, str | None]] = []
        self.unresolved: list[str] = []
        self.clones: dict[str, str] = {}  # image dir -> workspace dir (a clone of this repository)
        self.entry_env: dict[str, str | None] | None = None
        self.entry_cwd: str | None = None
        self.exec_env: dict[str, str | None] | None = None  # what an entrypoint script hands its `exec "$@"`
        self.context = context  # the build context (as the workspace names it), for installed console scripts
        self.scripts: dict[str, str] | None = None
        self.installed: dict[str, str] = {}  # the installed-package root -> the context directory it comes from
        self.modules: dict[tuple, list[tuple[str, str]]] = {}  # find_module's answers (one per name and roots)

    def code(self) -> Code:
        # The variables the code sees: the image's and the service's, with what the scripts on the
        # way exported (`export HF_HOME=/cache` in an entrypoint script) for the first code that ran.
        env = {**self.env, **(self.entry_env or self.exec_env or {})}
        exported = {k: v for k, v in env.items() if k not in self.env or self.env[k] != v}
        return Code(tuple(self.files.values()), tuple(self.downloads), tuple(self.launches),
                    tuple(dict.fromkeys(self.unresolved)), env, exported, self.entry_cwd)

    def locate(self, image_path: str) -> str | None:
        for directory, local in (*self.clones.items(), *self.installed.items()):
            if image_path == directory or image_path.startswith(directory + "/"):
                found = os.path.join(local, posixpath.relpath(image_path, directory))
                return os.path.normpath(found) if self.ws.is_file(found) else None
        for locate in self.locators:
            found = locate(image_path)
            if found is not None:
                return found if self.ws.is_file(found) else None
        return None

    # -- commands ---------------------------------------------------------------------------------

    def start(self, workdir: str | None, entry_words, entry_shell, cmd_words, cmd_shell, where: str | None) -> None:
        from aicache_lint.python.launch import Reader

        if entry_words is not None or entry_shell is not None:
            reader = Reader(workdir, self.env)
            if entry_shell is not None:
                reader.shell(entry_shell)  # shell form: `/bin/sh -c`, the CMD is ignored
                self.follow(reader, where, 0, None)
                return
            reader.words(entry_words + (cmd_words or []))
            self.follow(reader, where, 0, cmd_words)
            if cmd_words is None and cmd_shell is None:
                return
            if not any(l.kind in ("shell", "exec") for l in reader.events.launches):
                return
        if cmd_words is not None or cmd_shell is not None:
            reader = Reader(workdir, self.env)
            if cmd_shell is not None:
                reader.shell(cmd_shell)
            else:
                reader.words(cmd_words)
            self.follow(reader, where, 0, None)

    def follow(self, reader, where: str | None, depth: int, passed: list[str] | None) -> None:
        """Follow what a command reader found (``where``: the file it was read from)."""
        from aicache_lint.python.launch import CODE, EXEC, MODULE, PROGRAM, SCRIPT, SHELL, absolute

        for clone in reader.events.clones:
            local = self.ws.own_clone(clone.url)
            if local is not None and clone.directory:
                self.clones[clone.directory] = local
        self.downloads.extend((d, self.ws.spelt(where) if where else None) for d in reader.events.downloads)
        for launch in reader.events.launches:
            self.launches.append(launch)
            if "\0" in launch.target:
                self.unresolved.append("the command names its Python file, module or script with a variable that "
                                       "has no known value")
                continue
            if launch.kind == CODE:
                continue  # read by the Dockerfile rules where it is written (a `-c` text has no file)
            if launch.kind == MODULE:
                self.module(launch)
                continue
            if launch.kind == PROGRAM:
                self.console_script(launch)
                continue
            path = absolute(launch.target, launch.cwd)
            if path is None:
                self.unresolved.append(f"`{launch.target}` is started from a directory that is not known")
                continue
            if launch.kind == SCRIPT or (launch.kind == EXEC and launch.target.endswith(".py")):
                self.script(path, launch)
            elif launch.kind in (SHELL, EXEC):
                self.shell(path, launch, depth, passed)

    def script(self, image_path: str, launch: "Launch") -> None:
        local = self.locate(image_path)
        if local is None:
            self.unresolved.append(f"`{image_path}` is not a file the image is known to hold")
            return
        roots = (posixpath.dirname(image_path), *(r for r in (launch.cwd,) if r), *self.pythonpath(launch))
        self.add(image_path, local, None, roots, launch)

    def module(self, launch: "Launch") -> None:
        roots = (*launch.roots, *(r for r in (launch.cwd,) if r), *self.pythonpath(launch))
        found = self.find_module(launch.target, roots, main=True)
        if not found:
            self.unresolved.append(f"module `{launch.target}` is not in the image's code (installed, or not known)")
        for image_path, local in found:
            self.add(image_path, local, None, roots, launch)

    def console_script(self, launch: "Launch") -> None:
        """A program the project installs (`[project.scripts]` or `[tool.poetry.scripts]` of the
        build context's pyproject.toml, `pip install .`): its module, read where the context holds
        it (the package directory at the root or under `src/`)."""
        target = self.console_scripts().get(launch.target)
        if target is None:
            return
        module = target.partition(":")[0].strip()
        for base in ("", "src"):
            root = os.path.join(self.context or "", base) if base else self.context or ""
            if self.ws.listdir(root or ".") is None:
                continue
            self.installed[_INSTALLED] = root or "."
            found = self.find_module(module, (_INSTALLED,))
            if found:
                for image_path, local in found:
                    self.add(image_path, local, None, (_INSTALLED,), launch)
                return
        self.unresolved.append(f"`{launch.target}` runs `{target}`, which is not in the build context")

    def console_scripts(self) -> dict[str, str]:
        if self.scripts is None:
            self.scripts = {}
            text = self.ws.text(os.path.join(self.context, "pyproject.toml")) if self.context is not None else None
            if text is not None and "scripts" in text:
                try:
                    import tomllib
                except ImportError:  # Python 3.10
                    import tomli as tomllib
                try:
                    data = tomllib.loads(text)
                except (tomllib.TOMLDecodeError, ValueError):
                    data = {}
                for table in (data.get("project", {}).get("scripts"),
                              data.get("tool", {}).get("poetry", {}).get("scripts")):
                    if isinstance(table, dict):
                        self.scripts.update({k: v for k, v in table.items() if isinstance(v, str)})
        return self.scripts

    def pythonpath(self, launch: "Launch") -> tuple[str, ...]:
        value = launch.env.get("PYTHONPATH") or self.env.get("PYTHONPATH") or ""
        return tuple(p for p in value.split(":") if p.startswith("/"))

    def shell(self, image_path: str, launch: "Launch", depth: int, passed: list[str] | None) -> None:
        from aicache_lint.dockerfile.shell import PYTHON, shebang_program
        from aicache_lint.python.launch import Reader
        from aicache_lint.source import MappedText

        local = self.locate(image_path)
        if local is None:
            self.unresolved.append(f"`{image_path}` is not a file the image is known to hold")
            return
        text = self.ws.text(local)
        if text is None:
            return
        if PYTHON.fullmatch(shebang_program(text) or ""):  # `#!/usr/bin/env python3`: a script
            self.add(image_path, local, None, (posixpath.dirname(image_path),), launch)
            return
        if depth >= _MAX_SHELL_DEPTH:
            return
        reader = Reader(launch.cwd, launch.env)
        reader.shell(MappedText.contiguous(text, 0))
        self.follow(reader, local, depth + 1, None)
        if passed and _RUNS_ARGS.search(text):  # `exec "$@"`: the CMD runs after the script's set-up
            if self.exec_env is None:
                self.exec_env = reader.env
            inner = Reader(reader.cwd, reader.env)
            inner.words(passed)
            self.follow(inner, None, depth + 1, None)

    # -- imports ----------------------------------------------------------------------------------

    def add(self, image_path: str, local: str, by: str | None, roots: tuple[str, ...],
            launch: "Launch | None" = None) -> None:
        if launch is not None and self.entry_env is None:
            self.entry_env, self.entry_cwd = launch.env, launch.cwd
        pending = [(image_path, local, by, roots)]
        while pending and len(self.files) < MAX_FILES:
            image_path, local, by, roots = pending.pop(0)
            local = self.ws.spelt(local)
            if local in self.files:
                continue
            facts = self.ws.python_facts(local)
            if facts is None:
                continue
            local_imports = []
            for imp in facts.imports:
                found = self.resolve(imp, image_path, roots)
                if found:
                    local_imports.append((imp, tuple(self.ws.spelt(f[1]) for f in found)))
                pending += [(*f, local, roots) for f in found if self.ws.spelt(f[1]) not in self.files]
            self.files[local] = CodeFile(local, image_path, facts, by, tuple(local_imports))

    def resolve(self, imp, image_path: str, roots: tuple[str, ...]) -> list[tuple[str, str]]:
        if imp.level:
            package = posixpath.dirname(image_path)
            for _ in range(imp.level - 1):
                package = posixpath.dirname(package)
            base = posixpath.join(package, *imp.module.split(".")) if imp.module else package
            found = self.file_of(base)
            found += [f for n in imp.names if n != "*" for f in self.file_of(posixpath.join(base, n))]
            return found
        found = self.find_module(imp.module, roots)
        if imp.names and found:
            for root_found in list(found):
                package = posixpath.dirname(root_found[0]) if root_found[0].endswith("/__init__.py") else None
                if package:
                    found += [f for n in imp.names if n != "*" for f in self.file_of(posixpath.join(package, n))]
        elif imp.names and imp.module:  # `from ns import mod` of a namespace package: its modules
            found = [f for n in imp.names if n != "*" for f in self.find_module(f"{imp.module}.{n}", roots)]
        return found

    def find_module(self, name: str, roots: tuple[str, ...], main: bool = False) -> list[tuple[str, str]]:
        """The files that importing (or, ``main``, running with -m) ``name`` runs, from the first
        root that has it: each package's `__init__.py` on the way (a directory without one is a
        namespace package, PEP 420) and the module itself (a partly found name: what was found)."""
        key = (name, roots, main, tuple(self.installed.items()))
        if key not in self.modules:
            self.modules[key] = self._find_module(name, roots, main)
        return self.modules[key]

    def _find_module(self, name: str, roots: tuple[str, ...], main: bool) -> list[tuple[str, str]]:
        parts = name.split(".")
        partial: list[tuple[str, str]] = []
        for root in dict.fromkeys(roots):
            found: list[tuple[str, str]] = []
            for i in range(1, len(parts)):
                found += self.file_of(posixpath.join(root, *parts[:i]))
            last = self.file_of(posixpath.join(root, *parts))
            if last:
                if main:
                    last += self.file_of(posixpath.join(root, *parts, "__main__"), module_only=True)
                return found + last
            partial = partial or found
        return partial

    def file_of(self, base: str, module_only: bool = False) -> list[tuple[str, str]]:
        """`base.py`, else `base/__init__.py`, as (image path, workspace path)."""
        candidates = [base + ".py"] if module_only else [base + ".py", base + "/__init__.py"]
        for candidate in candidates:
            local = self.locate(candidate)
            if local is not None:
                return [(candidate, local)]
        return []
