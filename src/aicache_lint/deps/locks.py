"""The packages a lock file pins: `uv.lock` and `poetry.lock`.

Both are TOML with one `[[package]]` table per locked package (`name`, `version`, `source`). A
lock holds every package any extra, group or platform of the project may need, so its names say
what an install *may* download, a superset of what one install asks for. Packages from a local
directory (the project itself and workspace members: uv `source = { editable | virtual |
directory = ... }`, Poetry `[package.source] type = "directory"`) are not downloaded and are
left out.
"""

from __future__ import annotations

import re

from aicache_lint.deps import DepFile, Read, Requirement
from aicache_lint.knowledge.requirements import normalize

_PACKAGE_HEADER = re.compile(r"(?m)^[ \t]*\[\[[ \t]*package[ \t]*\]\][ \t]*(?:#.*)?$")
_LOCAL_SOURCES = frozenset({"editable", "virtual", "directory"})


def read_uv_lock(path: str, read: Read) -> DepFile:
    return _read_lock(path, read, lambda p: bool(_LOCAL_SOURCES & set(_table(p.get("source")))))


def read_poetry_lock(path: str, read: Read) -> DepFile:
    return _read_lock(path, read, lambda p: _table(p.get("source")).get("type") == "directory")


def _read_lock(path: str, read: Read, local) -> DepFile:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    text = read(path)
    if text is None:
        return DepFile((), (), (f"{path} not found",))
    try:
        data = _headers(text, tomllib)
    except tomllib.TOMLDecodeError as exc:
        return DepFile((), (path,), (f"{path}: invalid TOML: {exc}",))
    # The n-th `[[package]]` header is the n-th package table (tomllib keeps no positions).
    lines = [text.count("\n", 0, m.start()) + 1 for m in _PACKAGE_HEADER.finditer(text)]
    packages = []
    for i, package in enumerate(p for p in data.get("package", []) if isinstance(p, dict)):
        name = package.get("name")
        if not isinstance(name, str) or local(package):
            continue
        version = package.get("version")
        spec = f"{name}=={version}" if isinstance(version, str) else name
        packages.append(Requirement(normalize(name), spec, path, lines[i] if i < len(lines) else 1))
    return DepFile(tuple(packages), (path,), ())


# What is read of a package: its one-line `name`, `version` and `source` (uv), and Poetry's
# `[package.source]` table. The rest -- dependency lists, hashes, the `wheels` of every platform --
# is most of a lock (lerobot's uv.lock: 2 MB, 0.6 s to parse whole) and says nothing needed here.
_KEPT_KEY = re.compile(r"(?:name|version|source|type)[ \t]*=")
_TABLE = re.compile(r"[ \t]*\[")


def _headers(text: str, tomllib) -> dict:
    """The lock with only the lines read kept, parsed; the whole text when that reading fails (a
    layout it does not know: a `name` written over several lines, say)."""
    kept: list[str] = []
    table = None
    for line in text.splitlines():
        stripped = line.strip()
        if _TABLE.match(line):
            table = "package" if _PACKAGE_HEADER.fullmatch(line) else stripped.split("#")[0].strip()
            if table in ("package", "[package.source]"):
                kept.append("[[package]]" if table == "package" else "[package.source]")
        elif table in ("package", "[package.source]") and _KEPT_KEY.match(stripped) and line[:1] not in " \t":
            kept.append(stripped)
    try:
        data = tomllib.loads("\n".join(kept))
    except tomllib.TOMLDecodeError:
        return tomllib.loads(text)
    packages = data.get("package", [])
    if len(packages) != len(_PACKAGE_HEADER.findall(text)) or not all(isinstance(p.get("name"), str) for p in packages):
        return tomllib.loads(text)
    return data


def _table(value) -> dict:
    return value if isinstance(value, dict) else {}
