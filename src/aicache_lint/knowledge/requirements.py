"""Package names that install commands on a RUN line ask for."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation, Word
    from aicache_lint.source import Span

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Options of pip/uv/conda/pipx/poetry that take a value as the next word.
_VALUE_OPTIONS = frozenset(
    "-r --requirement -c --constraint -e --editable -i --index-url --extra-index-url -f "
    "--find-links -t --target --prefix --root --cache-dir --python -p --platform --src "
    "--python-version --implementation --abi --progress-bar --log --trusted-host --index "
    "--default-index --override --group --extra -C --config-settings -n --name --prefix "
    "-c --channel --override-channels --file --only-binary --no-binary --upgrade-strategy "
    "--exclude-newer --index-strategy --torch-backend --with --source -E --extras".split()
)
# (program, subcommand path) pairs that install packages named on the command line.
INSTALLS = {
    "pip": (("install",),),
    "uv": (("pip", "install"), ("add",), ("tool", "install")),
    "pipx": (("install",), ("inject",)),
    "conda": (("install",), ("create",)),
    "mamba": (("install",), ("create",)),
    "micromamba": (("install",), ("create",)),
    "poetry": (("add",),),
}


def normalize(name: str) -> str:
    """PEP 503 normalisation: `Open_CLIP.torch` -> `open-clip-torch`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requested_values(inv: "Invocation") -> list[tuple[str, int]]:
    """(value, index into inv.args) of each requirement an install command names: package names
    with their extras and specifiers, URLs and local paths alike."""
    paths = INSTALLS.get(inv.program)
    if not paths:
        return []
    values = [w.value for w in inv.args]
    start = _after_subcommand(values, paths)
    if start is None:
        return []
    found = []
    skip = False
    for i in range(start, len(values)):
        value = values[i]
        if skip:
            skip = False
            continue
        if value.startswith("-"):
            skip = value in _VALUE_OPTIONS
            continue
        found.append((value, i))
    return found


def requested_packages(inv: "Invocation") -> list[tuple[str, int]]:
    """(normalised name, index into inv.args) of each package an install command names."""
    found = []
    for value, i in requested_values(inv):
        if "://" in value or value.startswith((".", "/", "~")):
            continue
        m = _NAME.match(value.rsplit("::", 1)[-1])  # conda `channel::package`
        if m:
            found.append((normalize(m.group()), i))
    return found


def _after_subcommand(values: list[str], paths: tuple[tuple[str, ...], ...]) -> int | None:
    positional = [(i, v) for i, v in enumerate(values) if not v.startswith("-")]
    for path in paths:
        if [v for _, v in positional[: len(path)]] == list(path):
            return positional[len(path) - 1][0] + 1
    return None


_EXTRAS = re.compile(r"\[[^\]]*\]")
_UNSEEN_OPTIONS = frozenset("-r --requirement -c --constraint -e --editable --file --override".split())
# (program, subcommand path) pairs that install from a project or lock file the linter cannot read.
_PROJECT_INSTALLS = {
    "uv": (("sync",), ("pip", "sync")),
    "pip": (),
    "poetry": (("install",), ("sync",)),
    "pipenv": (("install",), ("sync",)),
    "pdm": (("install",), ("sync",)),
    "conda": (("env", "create"), ("env", "update")),
    "mamba": (("env", "create"), ("env", "update")),
    "micromamba": (("env", "create"), ("env", "update")),
}


def requested_requirements(inv: "Invocation") -> list[tuple[str, str, int]]:
    """(normalised name, version specifier text, index into inv.args) of each package an install
    command names: `"huggingface_hub[cli]>=0.20,<1"` -> ('huggingface-hub', '>=0.20,<1', i).
    The specifier is empty when the package is named without a version."""
    return [(name, specifier(inv.args[index].value.rsplit("::", 1)[-1]), index) for name, index in requested_packages(inv)]


def specifier(requirement: str) -> str:
    """The version specifier of a requirement as written: `torch[cuda]==2.5.1; python_version>"3"`
    -> `==2.5.1` (empty when none)."""
    m = _NAME.match(requirement)
    rest = requirement[m.end() :] if m else ""
    rest = _EXTRAS.sub("", rest, count=1) if rest.lstrip().startswith("[") else rest
    return rest.split(";", 1)[0].strip()


def unseen_requirements(inv: "Invocation") -> bool:
    """Whether an install reads requirements from somewhere the linter cannot see: a requirements
    or constraints file, a local project or VCS URL, a lock file (`uv sync`, `poetry install`)."""
    values = [w.value for w in inv.args]
    for path in _PROJECT_INSTALLS.get(inv.program, ()):
        positional = [v for v in values if not v.startswith("-")]
        if positional[: len(path)] == list(path):
            return True
    paths = INSTALLS.get(inv.program)
    if not paths or _after_subcommand(values, paths) is None:
        return False
    start = _after_subcommand(values, paths)
    for value in values[start:]:
        if value.split("=", 1)[0] in _UNSEEN_OPTIONS:
            return True
        if not value.startswith("-") and ("://" in value or value.startswith((".", "/", "~"))):
            return True
    return False


class Requested(NamedTuple):
    """A package an install asks for."""

    name: str  # normalised (PEP 503)
    word: "Word | None"  # the command-line word naming it, or the file it comes from (None: not shown)
    where: str | None  # "requirements.txt:3" when a build-context file names it, None on the command line
    spec: str = ""  # its version specifier as written (`==2.5.1`), empty when none

    def span(self, inv: "Invocation") -> "Span":
        """Where a finding about it goes in the Dockerfile: its word, else the install's program."""
        words = [self.word] if self.word is not None else inv.program_words
        return inv.command.script.file_span(words[0].start, words[-1].end)

    @property
    def named(self) -> str:
        """How a message names it: "`torch`", or "`torch` (from `requirements.txt:3`)"."""
        return f"`{self.name}` (from `{self.where}`)" if self.where else f"`{self.name}`"


_INSTALLERS = frozenset({"pip", "uv", "poetry", "conda", "mamba", "micromamba"})
# Words by which an install may name files of the build context: a superset of what
# ``workspace/build_context.py`` recognises, so that `pip install torch` needs no more.
_FILE_WORDS = frozenset({"-r", "-c", "-e", "-f", "--requirement", "--constraint", "--editable", "--file", ".",
                         "--project", "--directory", "-C"})
_PROJECT_COMMANDS = frozenset({"sync", "env", "install", "create", "update"})  # uv/poetry/conda subcommands


def may_name_files(inv: "Invocation") -> bool:
    """Whether an install may read requirements, pyproject or environment files."""
    if inv.program not in _INSTALLERS:
        return False
    values = [w.value for w in inv.args]
    if inv.program in ("pip", "uv") and "sync" not in values:  # `install` names packages; files need an option
        return any(v in _FILE_WORDS or v.startswith(("-r", "-c", "--req", "--con", "-e", "--edit", ".", "/"))
                   for v in values)
    return any(v in _FILE_WORDS or v in _PROJECT_COMMANDS for v in values)
