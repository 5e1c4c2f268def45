"""Package names that install commands on a RUN line ask for."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation

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


def requested_packages(inv: "Invocation") -> list[tuple[str, int]]:
    """(normalised name, index into inv.args) of each package an install command names."""
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
        if "://" in value or value.startswith((".", "/", "~")):
            continue
        m = _NAME.match(value)
        if m:
            found.append((normalize(m.group()), i))
    return found


def _after_subcommand(values: list[str], paths: tuple[tuple[str, ...], ...]) -> int | None:
    positional = [(i, v) for i, v in enumerate(values) if not v.startswith("-")]
    for path in paths:
        if [v for _, v in positional[: len(path)]] == list(path):
            return positional[len(path) - 1][0] + 1
    return None
