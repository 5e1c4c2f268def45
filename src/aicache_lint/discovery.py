"""Which files to lint: Dockerfile variants, Compose files and the build-infrastructure files (CI
workflows, Bake files, daemon and BuildKit configuration, shell scripts) found under the given paths,
and Python sources named on the command line (a walk does not take every `.py` of a tree: only
the code an image or service runs is read, see ``workspace/python_code.py``)."""

from __future__ import annotations

import os
import re
from typing import Callable

# `Dockerfile`/`Containerfile` in any case, with any `.`, `-` or `_` prefix or suffix
# (`Dockerfile.gpu`, `Dockerfile-cuda`, `Dockerfile_dev`, `app.Dockerfile`, `Qwen2VL_Dockerfile`).
_DOCKERFILE = re.compile(r"(?:.+[._-])?(?:dockerfile|containerfile)(?:[._-].+)?", re.IGNORECASE)
# Docs, scripts and templates that merely carry the word in their name.
_NOT_DOCKERFILE = (
    ".md", ".txt", ".py", ".sh", ".json", ".yml", ".yaml", ".dockerignore", ".j2", ".jinja",
    ".jinja2", ".template", ".tmpl", ".in", ".rst", ".html", ".toml", ".cfg", ".ini", ".bak",
    ".orig", ".swp", ".ps1", ".bat", ".go", ".rs", ".js", ".ts",
)


# Compose files: `compose.yaml`, `docker-compose.override.yml`, `compose.gpu.yaml`,
# `docker-compose-dev.yml` ... (not `composer.yml`); the pre-commit hooks use the same pattern.
_COMPOSE = re.compile(r"(?:docker-)?compose(?:[._-][^/\n]*)?\.ya?ml", re.IGNORECASE)


def is_dockerfile_name(name: str) -> bool:
    return bool(_DOCKERFILE.fullmatch(name)) and not name.lower().endswith(_NOT_DOCKERFILE)


def is_compose_name(name: str) -> bool:
    return bool(_COMPOSE.fullmatch(name))


# The Docker daemon's and BuildKit's configuration, as kept in a repository that sets up its builders.
_CONFIG_NAMES = {"daemon.json": "daemon", "buildkitd.toml": "buildkitd"}
# Shell scripts, read for the daemon configuration they write (a script that does not contain
# `daemon.json` costs a substring search: see daemon/scripts.py).
_SHELL_SUFFIXES = (".sh", ".bash")
# Kinds a directory walk leaves out: a repository's Python is read only where something runs it.
_NOT_WALKED = frozenset({"python"})


def file_kind(path: str) -> str:
    """What a file is, by its name and place: `compose`, a CI or Bake file (`workflow`, `action`,
    `gitlab`, `bake`: see ``ci.kind_of``), `daemon`, `buildkitd`, `shell`, `python`, else `dockerfile`
    (also for any other file named explicitly)."""
    from aicache_lint.ci import kind_of

    name = os.path.basename(path)
    if is_compose_name(name):
        return "compose"
    return (kind_of(path) or _CONFIG_NAMES.get(name) or ("shell" if name.endswith(_SHELL_SUFFIXES) else None)
            or ("python" if name.endswith(".py") else None) or "dockerfile")


def is_walked(path: str) -> bool:
    """Whether a directory walk lints ``path`` (the pre-commit hooks select the same names)."""
    kind = file_kind(path)
    if kind == "dockerfile":
        return is_dockerfile_name(os.path.basename(path))
    return kind not in _NOT_WALKED


def stage(path: str) -> int:
    """The order the fix plan settles files in: Dockerfiles, Compose files, then every
    build-infrastructure file and Python source (a Compose, CI or Python fix must see the images
    as their fixes leave them)."""
    return {"dockerfile": 0, "compose": 1}.get(file_kind(path), 2)


def _is_virtualenv(path: str) -> bool:
    return os.path.exists(os.path.join(path, "pyvenv.cfg"))


def discover(paths: list[str], excluded: Callable[[str], bool],
             python: list[str] | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """(files to lint, sorted; [(path, problem)] for paths that cannot be used).

    ``excluded(path)`` says whether a file or directory found while walking is left out (the
    settings' exclude patterns); paths named here are always linted, whatever they are (a FIFO or
    a device is then reported, never read: see ``files.read_bytes``). ``python``, when given,
    receives the first `.py` file a walk passes (a tree without one has no code to follow).
    """
    files: set[str] = set()
    problems: list[tuple[str, str]] = []
    for path in paths:
        if os.path.isdir(path):
            files.update(_walk(path, excluded, problems, python))
        elif os.path.exists(path) or os.path.islink(path):
            files.add(os.path.normpath(path))
        else:
            problems.append((path, "no such file or directory"))
    return sorted(files), problems


def _walk(root: str, excluded: Callable[[str], bool], problems: list[tuple[str, str]],
          python: list[str] | None = None) -> list[str]:
    """The files to lint under ``root``. A link to a directory is not entered, as in ruff
    (https://github.com/astral-sh/ruff/pull/280: it leads to a dependency, a virtualenv, or back up
    the tree in a loop). A link to a file inside ``root`` is linted once: not when the file it
    points to is linted under its own name. A link out of ``root`` is skipped (ruff would lint it):
    what lies outside is not this tree's to lint or to fix; named on the command line, it is linted."""

    def on_error(err: OSError) -> None:
        problems.append((err.filename or root, err.strerror or str(err)))

    tree = os.path.realpath(root)
    found: dict[str, str] = {}  # real path -> the path to lint it under
    links: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):  # followlinks=False
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not excluded(os.path.join(dirpath, d)) and not _is_virtualenv(os.path.join(dirpath, d))
        )
        for name in filenames:
            if python is not None and not python and name.endswith(".py"):
                python.append(os.path.join(dirpath, name))
            path = os.path.normpath(os.path.join(dirpath, name))
            if not is_walked(path) or excluded(path):
                continue
            if os.path.islink(path):
                links.append((os.path.realpath(path), path))
            else:
                found[os.path.realpath(path)] = path
    for real, path in sorted(links):
        if os.path.commonpath([tree, real]) == tree:
            found.setdefault(real, path)
    return list(found.values())
