"""The download of one release of a Python package, read from the package index's JSON page
(PEP 691 lists each file with its size; PEP 700 lists the versions): the wheel pip picks on
Linux x86_64 for CPython 3.12, else the source archive."""

from __future__ import annotations

import re

_WHEEL = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)(?:-\d[^-]*)?-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$")
_SDIST = (".tar.gz", ".zip")
_FINAL = re.compile(r"^\d+(\.\d+)*(\.post\d+)?$")  # no pre-release, dev or local version


def wheel_size(page: dict, version: str | None, python: str = "cp312") -> tuple[int, str, str] | None:
    """(bytes, file name, version) of the file a Linux x86_64 CPython ``python`` install of
    ``version`` (None: the newest final release) downloads; None when the page lists none."""
    files = [f for f in page.get("files", []) if isinstance(f, dict) and isinstance(f.get("size"), int)
             and not f.get("yanked")]
    if version is None:
        final = [v for v in page.get("versions", []) if isinstance(v, str) and _FINAL.match(v)]
        if not final:
            return None
        version = max(final, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v)))
    best: tuple[int, dict] | None = None
    for f in files:
        name = f.get("filename", "")
        m = _WHEEL.match(name)
        if m and m.group("version") == version:
            rank = _rank(m.group("python"), m.group("abi"), m.group("platform"), python)
        elif any(name.endswith(f"-{version}{ext}") for ext in _SDIST):
            rank = 1  # built on install: what pip downloads when no wheel fits
        else:
            continue
        if rank and (best is None or rank > best[0]):
            best = (rank, f)
    return (best[1]["size"], best[1]["filename"], version) if best else None


def _rank(pythons: str, abi: str, platforms: str, python: str) -> int:
    """How well a wheel's tags fit Linux x86_64 CPython ``python`` (0: not at all; higher: better)."""
    tags = pythons.split(".")
    fits_python = python in tags or (abi == "abi3" and any(t.startswith("cp3") and int(t[3:] or 0) <= int(python[3:])
                                                            for t in tags)) or any(t in ("py3", "py2.py3") for t in tags)
    plats = platforms.split(".")
    if not fits_python:
        return 0
    if any("x86_64" in p and ("manylinux" in p or p.startswith("linux")) for p in plats):
        return 3 if python in tags else 2
    return 2 if "any" in plats else 0
