"""What a container's command starts: the Python scripts and modules, the shell scripts it runs on
the way, and the models it downloads with `hf download`.

A command is an exec-form list (`CMD ["python", "app.py"]`, a Compose `command:` list) or a shell
text (`CMD python app.py`, `bash -c "..."`, a shell script). It is read as a sequence, never run:
`cd` moves the working directory, `export`/assignments set variables (`PYTHONPATH`, `HF_HOME`...),
`git clone URL DIR` is remembered (the repository may clone itself: see workspace/python_code.py),
and each command that starts Python is one ``Launch``. Wrappers are looked through (`exec`, `env`,
`tini --`, `gosu user`, `conda run -n env`, `uv run`, `accelerate launch`, `torchrun` ...). What
cannot be known (a `cd` to a variable without a value) makes the working directory unknown (None).

Python is started by `python[3[.x]] [options] script.py | -m module | -c code`, by application
servers that import a module (`uvicorn app.main:app`, `gunicorn`, `hypercorn`, `daphne`, `celery
-A proj`) and by tools that run a file (`streamlit run app.py`, `fastapi run [file]`, `chainlit run`,
`panel serve`, `gradio app.py`). Sources: each tool's CLI reference (uvicorn `--app-dir`, gunicorn
`--chdir`/`--pythonpath`, FastAPI CLI's default files `main.py`, `app.py`, `api.py` and the same in
`app/`).
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.dockerfile.shell import PYTHON
from aicache_lint.source import MappedText, Span

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Command

SCRIPT, MODULE, CODE, SHELL, EXEC = "script", "module", "code", "shell", "exec"
PROGRAM = "program"  # any other program by name: a project's console script (`[project.scripts]`) runs Python
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash"})
# Builtins and everyday tools of a shell script: never a project's console script.
_SHELL_WORDS = frozenset("echo printf set unset export exec cd test [ [[ true false exit return shift source . "
                         "read wait trap sleep mkdir cp mv rm ln chmod chown cat tee grep sed awk tr cut sort head "
                         "tail ls find xargs touch env eval local declare if then else fi for do done while case "
                         "esac curl wget tar unzip git pip pip3 apt-get apk".split())
_APP = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(?:\(.*\))?")
# Python's own options that take the next word (https://docs.python.org/3/using/cmdline.html).
_PYTHON_VALUES = frozenset({"-W", "-X", "--check-hash-based-pycs"})
# Wrappers: name -> (options that take a value, operands before the wrapped command).
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "tini": (frozenset({"-s", "-p", "-l", "-e"}), 0),
    "dumb-init": (frozenset({"-r", "--rewrite"}), 0),
    "gosu": (frozenset(), 1),
    "su-exec": (frozenset(), 1),
    "setpriv": (frozenset({"--reuid", "--regid", "--groups"}), 0),
    "xvfb-run": (frozenset({"-s", "--server-args", "-n", "--server-num", "-e", "--error-file"}), 0),
    "nohup": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0),
    "time": (frozenset(), 0),
    "stdbuf": (frozenset(), 0),
    "nice": (frozenset({"-n"}), 0),
    "ddtrace-run": (frozenset(), 0),
    "opentelemetry-instrument": (frozenset(), 0),
    "newrelic-admin": (frozenset(), 1),  # `newrelic-admin run-program CMD`
}
# `TOOL run [options] CMD`: environment managers.
_RUNNERS = frozenset({"uv", "poetry", "pipenv", "pdm", "hatch", "rye", "conda", "mamba", "micromamba", "pixi"})
_RUNNER_VALUES = frozenset({"-n", "--name", "-p", "--prefix", "--with", "--python", "--env", "-e", "--project",
                            "--directory", "--extra", "--group", "--frozen-from", "--cwd", "--manifest-path"})
# Launchers of a Python script or module: options with a value (torchrun, accelerate, deepspeed).
_LAUNCHERS = {
    "torchrun": frozenset({"--nproc_per_node", "--nproc-per-node", "--nnodes", "--node_rank", "--node-rank",
                           "--master_addr", "--master-addr", "--master_port", "--master-port", "--rdzv_backend",
                           "--rdzv-backend", "--rdzv_endpoint", "--rdzv-endpoint", "--rdzv_id", "--rdzv-id",
                           "--max_restarts", "--max-restarts", "--log_dir", "--log-dir"}),
    "deepspeed": frozenset({"--num_gpus", "--num_nodes", "--hostfile", "--include", "--exclude", "--master_port",
                            "--master_addr", "--launcher"}),
    "accelerate": frozenset({"--config_file", "--config-file", "--num_processes", "--num-processes",
                             "--num_machines", "--num-machines", "--mixed_precision", "--mixed-precision",
                             "--main_process_port", "--main-process-port", "--gpu_ids", "--gpu-ids",
                             "--machine_rank", "--machine-rank", "--main_process_ip", "--main-process-ip",
                             "--dynamo_backend", "--dynamo-backend"}),
}
_SERVERS = frozenset({"uvicorn", "gunicorn", "hypercorn", "daphne", "granian"})
_SERVER_DIRS = frozenset({"--app-dir", "--chdir", "--pythonpath", "--root-path-dir"})
_FILE_TOOLS = {"streamlit": "run", "chainlit": "run", "panel": "serve", "gradio": None, "solara": "run"}
FASTAPI_DEFAULTS = ("main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py")
_EXPANSION = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class Launch(NamedTuple):
    """One program a command starts that may run Python (or a shell script that may)."""

    kind: str  # SCRIPT (a .py path), MODULE (dotted name), CODE (`-c` text), SHELL (a shell script path),
    #            EXEC (a path run directly: its shebang decides), PROGRAM (a name looked up on PATH)
    target: str  # as written, variables expanded
    cwd: str | None  # the working directory it starts in; None when unknown
    env: dict[str, str | None]  # the variables the command line set on the way (None: value unknown)
    roots: tuple[str, ...]  # extra import roots it names (`--app-dir`, `--chdir`, `--pythonpath`)
    span: Span | None  # where it is written, in the text read (None for an exec-form list)
    args: tuple[str, ...] = ()  # the words after the target (a shell script's "$@" are the caller's)
    code: MappedText | None = None  # for CODE: the text, mapped to the file


class Download(NamedTuple):
    """`hf download REPO` (or `huggingface-cli download`) on a command line."""

    repo: str | None  # None: a variable without a value
    local_dir: str | None  # `--local-dir`, absolute when the working directory is known
    cache_dir: str | None
    env: dict[str, str | None]
    span: Span | None
    revision: str | None = None  # `--revision`
    repo_type: str | None = None  # `--repo-type` ("model", "dataset", "space"); "": not known; None: not given


class Clone(NamedTuple):
    url: str
    directory: str | None  # absolute, None when unknown


class Events(NamedTuple):
    launches: list[Launch]
    downloads: list[Download]
    clones: list[Clone]


def expand(value: str, env: dict[str, str | None]) -> str | None:
    """``value`` with `$NAME`, `${NAME}` and `${NAME:-default}` replaced; None when one has no known value.
    A name in ``env`` with the value None is set to something not known (a Compose variable taken
    from the host): its default does not apply. A default is expanded in turn."""
    missing = False

    def sub(m: re.Match) -> str:
        nonlocal missing
        name, default = m.group(1) or m.group(3), m.group(2)
        known = env.get(name)
        if known is None and default is not None and name not in env:
            known = expand(default, env)
        if known is None:
            missing = True
            return ""
        return known

    out = _EXPANSION.sub(sub, value)
    return None if missing or "$" in out or "`" in out else out


def absolute(path: str, cwd: str | None) -> str | None:
    """``path`` made absolute from ``cwd``; None when it is relative and ``cwd`` is not known."""
    if path.startswith("/"):
        return posixpath.normpath(path)
    return posixpath.normpath(posixpath.join(cwd, path)) if cwd else None


class Reader:
    """Reads command lines in order, keeping the working directory and the variables they set."""

    def __init__(self, cwd: str | None, env: dict[str, str | None]) -> None:
        self.cwd = cwd
        self.env = dict(env)
        self.events = Events([], [], [])

    # -- input forms --------------------------------------------------------------------------

    def words(self, words: list[str]) -> None:
        """An exec-form command: no shell reads it (`sh -c TEXT` then reads TEXT)."""
        self.command(list(words), None, shell=False)

    def shell(self, source: MappedText) -> None:
        from aicache_lint.dockerfile.shell import parse_script

        for cmd in parse_script(source).commands:
            self.shell_command(cmd, source)

    def shell_command(self, cmd: "Command", source: MappedText) -> None:
        if not cmd.words:
            for word in cmd.assignments:  # `x=1` sets a shell variable
                self.assign(word.value)
            return
        values: list[str] = []
        for word in cmd.words:
            value = expand(word.value, self.env) if word.has_expansion else word.value
            values.append(value if value is not None else "\0")  # an unknown word
        span = cmd.script.file_span(cmd.words[0].start, cmd.words[-1].end) if cmd.script is not None else None
        saved = dict(self.env)
        for word in cmd.assignments:  # `A=1 python x.py`: for that command only
            self.assign(word.value)
        self.command(values, span, shell=True)
        if cmd.assignments:
            self.env = saved

    def assign(self, text: str) -> None:
        name, _, value = text.partition("=")
        self.env[name] = expand(value, self.env) if "$" in value else value

    # -- one command --------------------------------------------------------------------------

    def command(self, words: list[str], span: Span | None, shell: bool) -> None:
        words = self.unwrap(words)
        if not words or words[0] == "\0":
            return
        program = posixpath.basename(words[0])
        rest = words[1:]
        if program in ("cd", "pushd"):
            self.cwd = self.path(rest[0]) if rest else None
        elif program == "export":
            for word in rest:
                if "=" in word and word != "\0":
                    self.assign(word)
        elif program == "git" and rest[:1] == ["clone"]:
            self.clone(rest[1:])
        elif program in ("hf", "huggingface-cli") and rest[:1] == ["download"]:
            self.download(rest[1:], span)
        elif program in _SHELLS:
            self.shell_program(rest, span)
        elif PYTHON.fullmatch(program):
            self.python(rest, span)
        elif program in _SERVERS:
            self.server(rest, span)
        elif program in _FILE_TOOLS:
            sub = _FILE_TOOLS[program]
            args = rest[1:] if sub is not None and rest[:1] == [sub] else rest if sub is None else None
            target = next((a for a in args or () if a.endswith(".py")), None)
            if target:
                self.launch(SCRIPT, target, span)
        elif program == "fastapi" and rest[:1] in (["run"], ["dev"]):
            target = next((a for a in rest[1:] if a.endswith(".py") or "/" in a), None)
            for candidate in (target,) if target else FASTAPI_DEFAULTS:
                self.launch(SCRIPT, candidate, span)
        elif program == "celery":
            app = _option_value(rest, ("-A", "--app"))
            if app:
                self.launch(MODULE, app.split(":", 1)[0], span)
        elif program.endswith(".sh") or "/" in words[0]:
            self.launch(SHELL if program.endswith(".sh") else EXEC, words[0], span, tuple(rest))
        elif shell is False or program not in _SHELL_WORDS:
            self.launch(PROGRAM, program, span, tuple(rest))

    def unwrap(self, words: list[str]) -> list[str]:
        """The command a chain of wrappers and launchers finally runs (as words)."""
        while words:
            name = posixpath.basename(words[0])
            if name == "env":
                i = 1
                while i < len(words) and (words[i].startswith("-") or "=" in words[i]):
                    if "=" in words[i] and not words[i].startswith("-"):
                        self.assign(words[i])
                    i += 1
                words = words[i:]
            elif name in _WRAPPERS:
                values, operands = _WRAPPERS[name]
                words = _skip_options(words[1:], values)[operands:]
            elif name in _RUNNERS and words[1:2] == ["run"]:
                words = _skip_options(words[2:], _RUNNER_VALUES)
            elif name == "accelerate" and words[1:2] == ["launch"]:
                words = self.launcher(words[2:], _LAUNCHERS["accelerate"])
            elif name in ("torchrun", "deepspeed"):
                words = self.launcher(words[1:], _LAUNCHERS[name])
            else:
                return words
        return words

    def launcher(self, words: list[str], values: frozenset[str]) -> list[str]:
        """`torchrun [opts] script.py args` / `-m module`: rewritten as the python command it runs."""
        words = _skip_options(words, values | {"-m", "--module"}, stop_at={"-m", "--module"})
        if words[:1] in (["-m"], ["--module"]):
            return ["python", "-m", *words[1:]]
        return ["python", *words]

    def shell_program(self, rest: list[str], span: Span | None) -> None:
        args = _skip_options(rest, frozenset({"-o", "+o"}), stop_at={"-c"})
        if args[:1] == ["-c"] and len(args) > 1 and args[1] != "\0":
            inner = Reader(self.cwd, self.env)
            inner.shell(MappedText.contiguous(args[1], 0))
            # what a `sh -c` text starts is placed at the command that runs it
            self.events.launches.extend(l._replace(span=span) for l in inner.events.launches)
            self.events.downloads.extend(d._replace(span=span) for d in inner.events.downloads)
            self.events.clones.extend(inner.events.clones)
        elif args and args[0] != "\0" and not args[0].startswith("-"):
            self.launch(SHELL, args[0], span, tuple(args[1:]))

    def python(self, rest: list[str], span: Span | None) -> None:
        i = 0
        while i < len(rest):
            word = rest[i]
            if word in ("-m", "-c") and i + 1 < len(rest):
                if rest[i + 1] == "\0":
                    return
                if word == "-c":
                    self.launch(CODE, rest[i + 1], span)
                    return
                module = rest[i + 1]
                args = rest[i + 2:]
                if module in _SERVERS or module in ("streamlit", "celery", "fastapi"):
                    self.command([module, *args], span, shell=False)
                elif module in ("torch.distributed.run", "torch.distributed.launch"):
                    self.command(["torchrun", *args], span, shell=False)
                elif module == "accelerate.commands.launch":
                    self.command(["accelerate", "launch", *args], span, shell=False)
                else:
                    self.launch(MODULE, module, span, tuple(args))
                return
            if word in _PYTHON_VALUES:
                i += 2
                continue
            if word.startswith("-"):
                if word.startswith(("-m", "-c")) and len(word) > 2:  # `-mmodule`
                    rest = [*rest[:i], word[:2], word[2:], *rest[i + 1:]]
                    continue
                i += 1
                continue
            self.launch(SCRIPT, word, span, tuple(rest[i + 1:]))
            return

    def server(self, rest: list[str], span: Span | None) -> None:
        roots = []
        for i, word in enumerate(rest):
            option, eq, value = word.partition("=")
            if option in _SERVER_DIRS:
                value = value if eq else (rest[i + 1] if i + 1 < len(rest) else "")
                root = self.path(value) if value else None
                if root is not None:  # (a relative root under an unknown directory could not be looked up)
                    roots.append(root)
        app = next((w for w in rest if _APP.fullmatch(w)), None)
        if app:
            self.launch(MODULE, app.split(":", 1)[0], span, roots=tuple(roots))

    def clone(self, rest: list[str]) -> None:
        operands = _skip_options(rest, frozenset({"-b", "--branch", "--depth", "-o", "--origin", "-c", "--config",
                                                  "--reference", "-j", "--jobs"}), keep_going=True)
        if not operands or operands[0] == "\0":
            return
        url = operands[0]
        name = operands[1] if len(operands) > 1 else posixpath.basename(url.rstrip("/")).removesuffix(".git")
        self.events.clones.append(Clone(url, self.path(name)))

    def download(self, rest: list[str], span: Span | None) -> None:
        operands = _skip_options(rest, frozenset({"--local-dir", "--cache-dir", "--revision", "--repo-type",
                                                  "--include", "--exclude", "--token", "--max-workers"}),
                                 keep_going=True)
        repo = operands[0] if operands and operands[0] != "\0" else None
        local = self.path(_option_value(rest, ("--local-dir",)))
        cache = self.path(_option_value(rest, ("--cache-dir",)))
        revision = _option_value(rest, ("--revision",))
        repo_type = _option_value(rest, ("--repo-type",))
        self.events.downloads.append(Download(repo, local, cache, dict(self.env), span,
                                              revision if revision != "\0" else None,
                                              "" if repo_type == "\0" else repo_type))

    def path(self, value: str | None) -> str | None:
        return absolute(value, self.cwd) if value is not None and value != "\0" else None

    def launch(self, kind: str, target: str, span: Span | None, args: tuple[str, ...] = (),
               roots: tuple[str, ...] = ()) -> None:
        code = MappedText.contiguous(target, 0) if kind == CODE else None
        self.events.launches.append(Launch(kind, target, self.cwd, dict(self.env), roots, span, args, code))


def _skip_options(words: list[str], values: frozenset[str], stop_at: frozenset[str] | set = frozenset(),
                  keep_going: bool = False) -> list[str]:
    """The words from the first operand on (``keep_going``: every operand, options dropped).
    ``values``: options that take the next word; `--` ends the options."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in stop_at:
            return out + words[i:]
        if word == "--":
            return out + words[i + 1:]
        if word.startswith("-") and len(word) > 1:
            i += 2 if word in values else 1
            continue
        if not keep_going:
            return words[i:]
        out.append(word)
        i += 1
    return out


def _option_value(words: list[str], names: tuple[str, ...]) -> str | None:
    for i, word in enumerate(words):
        option, eq, value = word.partition("=")
        if option in names:
            return value if eq else (words[i + 1] if i + 1 < len(words) else None)
    return None
