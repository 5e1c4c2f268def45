"""The build-context files that installs read: requirements, constraints, pyproject, lock files.

Each parser is pure: it takes the path of the file and a ``read(path) -> str | None`` callback
(None: the file does not exist or cannot be seen) and never opens a file itself; the workspace
owns disk access, and the fix loop feeds in-memory texts. Paths are POSIX strings, named as the
callback knows them; includes are resolved against the including file's directory.

This module only holds the shared records, so importing it stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

Read = Callable[[str], "str | None"]


class Requirement(NamedTuple):
    """One package a file asks for."""

    name: str  # PEP 503 normalised: lower case, runs of `-_.` become `-`
    spec: str  # the requirement as written (continuations joined, comment and options dropped)
    path: str  # the file that names it
    line: int  # 1-based line where it starts
    installer: str = "pip"  # "pip" (PyPI) or "conda" (a conda package name, e.g. `pytorch`)


class DepFile(NamedTuple):
    """What reading one dependency file (and everything it includes) found."""

    packages: tuple[Requirement, ...]  # what the install asks to install
    files: tuple[str, ...]  # every file read, in order: the file itself first, then its includes
    problems: tuple[str, ...]  # what could not be read or understood, each a sentence naming file and line
    # Constraint files (`-c`) only pin versions of packages that something else asks for: they
    # install nothing, so their entries stay out of ``packages``.
    constraints: tuple[Requirement, ...] = ()


class Selection(NamedTuple):
    """Which optional parts of a project an install asks for, as its command line says."""

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()  # uv `--group`, poetry `--with`, pip `--group`
    all_groups: bool = False
    default_groups: bool = True  # False: uv `--no-default-groups`
    without: tuple[str, ...] = ()  # uv `--no-group` (`--no-dev`: `dev`), poetry `--without`
    only: tuple[str, ...] | None = None  # uv `--only-group`, poetry `--only` (`main`: the project's own)
