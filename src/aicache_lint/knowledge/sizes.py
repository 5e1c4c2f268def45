"""Download sizes of what AI images fetch: Python packages, Debian and Ubuntu packages, base images, models.

The table ships as data: ``data/sizes.tsv`` (PyPI wheels, Debian and Ubuntu packages, rewritten by
``scripts/refresh_sizes.py``) and ``data/sizes-sourced.tsv`` (``nvidia/cuda`` images and models, sourced
by hand). Every row names its source and the date it was read (``data/SOURCES.md``). The files are
read on the first lookup and kept: a lint run that shows no estimate never opens them.

A lookup answers a ``Size``, or None when the table has nothing to go by -- unknown is never 0.
``exact`` is True when the row measures what was asked (that version, release, tag); otherwise the
size is an estimate from another version of the same package, another Debian release, or another
tag of the same CUDA minor version and flavor, and ``what`` says which.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

TABLES = ("sizes.tsv", "sizes-sourced.tsv")
# Debian releases, oldest first: an apt lookup without a release (or with an unknown one) takes the newest
DEBIAN_RELEASES = ("bookworm", "trixie")


class Size(NamedTuple):
    bytes: int
    source: str  # URL the size was read from
    date: str  # YYYY-MM-DD it was read
    exact: bool  # the row measures what was asked; False: an estimate from a neighbouring row
    what: str  # what the row measures: files, package and version, image tag


class Row(NamedTuple):
    kind: str  # wheel, sdist, wheels (with its CUDA wheels), deb, deb+deps, image, model
    name: str
    version: str
    platform: str  # linux/amd64, linux/arm64, any
    variant: str  # cp311/cp312/abi3/py3/sdist; a Debian or Ubuntu release; what of an image or model is counted
    bytes: int
    source: str
    date: str
    detail: str


def parse_table(text: str) -> list[Row]:
    """The rows of a size table: tab-separated, ``#`` comments, a header line of column names."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = []
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) != len(Row._fields):
            raise ValueError(f"size table: {len(cells)} columns in {line!r}")
        cells[5] = int(cells[5])
        rows.append(Row(*cells))
    return rows


@lru_cache(maxsize=1)
def table() -> dict[str, list[Row]]:
    """The shipped rows by kind, read on first use."""
    from aicache_lint.data import read_text

    by_kind: dict[str, list[Row]] = {}
    for name in TABLES:
        text = read_text(name)
        for row in parse_table(text):
            by_kind.setdefault(row.kind, []).append(row)
    return by_kind


@lru_cache(maxsize=1)
def _by_name() -> dict[tuple[str, str], list[Row]]:
    """The rows by (kind, name): a lock file asks about hundreds of packages, each many times."""
    index: dict[tuple[str, str], list[Row]] = {}
    for kind, rows in table().items():
        for row in rows:
            index.setdefault((kind, row.name), []).append(row)
    return index


def _size(row: Row, exact: bool, what: str | None = None) -> Size:
    return Size(row.bytes, row.source, row.date, exact, what or row.detail)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version.split("+")[0])[:5])


def _nearest(rows: list[Row], version: str | None) -> tuple[Row, bool] | None:
    """The row of ``version`` (exact), else of the newest patch of its minor release, else the
    nearest older release, else the oldest; without a version, the newest (not exact: the version
    that will be installed is not known)."""
    if not rows:
        return None
    ordered = sorted(rows, key=lambda r: _version_key(r.version))
    if version is None:
        return ordered[-1], False
    want = _version_key(version)
    for row in ordered:
        if _version_key(row.version) == want:
            return row, True
    same_minor = [r for r in ordered if _version_key(r.version)[:2] == want[:2]]
    older = [r for r in ordered if _version_key(r.version) < want]
    candidates = same_minor or older
    return (candidates[-1] if candidates else ordered[0]), False


def package(name: str, version: str | None = None, platform: str = "linux/amd64", python: str = "cp312",
            with_deps: bool = False) -> Size | None:
    """The download of a PyPI project on ``platform`` for CPython ``python`` (``cp312``): its wheel,
    or with ``with_deps`` its wheel and the CUDA-stack wheels it pulls (recorded for torch only; None
    for the others). ``version`` is a pinned version (``2.5.1`` or ``==2.5.1``); a local version
    (``2.5.1+cu121``, ``+cpu``: download.pytorch.org builds) has no sourced row and answers None."""
    from aicache_lint.knowledge.requirements import normalize

    if version is not None:
        version = version.strip().lstrip("=").strip() or None
        if version and "+" in version:
            return None
    kinds = ("wheels",) if with_deps else ("wheel", "sdist")
    project = normalize(name)
    rows = [r for kind in kinds for r in _by_name().get((kind, project), ()) if r.platform in (platform, "any")]
    own = [r for r in rows if r.variant in (python, "abi3", "py3", "sdist")]
    found = _nearest(own or rows, version)
    if found is None:
        return None
    row, exact = found
    exact = exact and bool(own)
    return _size(row, exact, row.detail if exact else f"{row.name} {row.version} {row.variant} ({row.detail})")


def apt(name: str, release: str | None = None, platform: str = "linux/amd64", with_deps: bool = False) -> Size | None:
    """The .deb download of a Debian or Ubuntu package (``Size``), or with ``with_deps`` with the
    packages it depends on that ``debian:<release>-slim`` (``ubuntu:<version>``) lacks. ``release``:
    a codename (``bookworm``, ``jammy``; ``apt_release`` reads it from a base image); None, or a
    release the table has no row of the package for, takes the newest Debian release's row, as an
    estimate (another release's packages differ)."""
    kind = "deb+deps" if with_deps else "deb"
    rows = {r.variant: r for r in _by_name().get((kind, name), ()) if r.platform == platform}
    if release in rows:
        return _size(rows[release], True, f"{name} {rows[release].version} ({release})")
    for newest in reversed(DEBIAN_RELEASES):
        if newest in rows:
            row = rows[newest]
            return _size(row, False, f"{name} {row.version} ({newest})")
    return None


DEBIAN_VERSIONS = {"10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie", "14": "forky"}


def apt_release(reference: str | None) -> str | None:
    """The Debian or Ubuntu release (codename) whose packages apt installs on the image
    ``reference``, when its name says it: ``ubuntu:22.04`` and ``ubuntu:jammy-20240416`` (jammy),
    ``debian:12-slim`` (bookworm), a tag word that is a codename (``python:3.12-slim-bookworm``) or
    ``ubuntuXX.YY`` (``nvidia/cuda:12.4.1-runtime-ubuntu22.04``). None when it does not say
    (``python:3.12-slim``, ``ubuntu:latest``, ``pytorch/pytorch:*``: images whose tag moves or
    names no release) or holds a variable."""
    from aicache_lint.images.reference import parse_reference
    from aicache_lint.knowledge.base_images import UBUNTU_CODENAMES

    image = parse_reference(reference) if reference else None
    if image is None or not image.tag:
        return None
    ubuntu = {f"{year}.{month:02d}": codename for codename, (year, month) in UBUNTU_CODENAMES.items()}
    words = re.split(r"[-_]", image.tag.lower())
    if image.registry == "docker.io" and image.repository == "library/ubuntu" and words[0] in ubuntu:
        return ubuntu[words[0]]
    if image.registry == "docker.io" and image.repository == "library/debian":
        if words[0].split(".")[0] in DEBIAN_VERSIONS:
            return DEBIAN_VERSIONS[words[0].split(".")[0]]
    for word in words:
        if word in UBUNTU_CODENAMES or word in DEBIAN_VERSIONS.values():
            return word
        if word.startswith("ubuntu") and word[len("ubuntu"):] in ubuntu:
            return ubuntu[word[len("ubuntu"):]]
    return None


_REGISTRIES = ("docker.io", "nvcr.io")  # the registries the table's image rows are read from
_CUDA_TAG = re.compile(r"^(\d+\.\d+)(?:\.\d+)?-(cudnn\d*-)?(base|runtime|devel)(?:-(.+))?$")


def image(reference: str, platform: str = "linux/amd64") -> Size | None:
    """The compressed download of a base image (``nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04``):
    its own row, else (``nvidia/cuda``) a row of the same CUDA minor version and flavor (cuDNN or not;
    base, runtime, devel), preferring the same OS; None when neither is known."""
    from aicache_lint.images.reference import DOCKER_HUB, parse_reference

    image = parse_reference(reference)
    if image is None or image.registry not in _REGISTRIES:
        return None
    # the table names Docker Hub's official images as Docker does (`node`, not `library/node`);
    # nvcr.io publishes the same `nvidia/cuda` tags as Docker Hub
    repo = image.repository.removeprefix("library/") if image.registry == DOCKER_HUB else image.repository
    tag = image.tag or "latest"
    rows = [r for r in table().get("image", ()) if r.name == repo and r.platform == platform]
    for row in rows:
        if row.version == tag:
            return _size(row, True, f"{repo}:{tag}")
    want = _CUDA_TAG.match(tag) if repo == "nvidia/cuda" else None
    if want is None:
        return None
    alike = [r for r in rows if (m := _CUDA_TAG.match(r.version)) and m.group(1) == want.group(1)
             and bool(m.group(2)) == bool(want.group(2)) and m.group(3) == want.group(3)]
    if not alike:
        return None
    row = max(alike, key=lambda r: (r.version.endswith(f"-{want.group(4)}"), _version_key(r.version)))
    return _size(row, False, f"{repo}:{row.version} (for {tag})")


def model(repo_id: str) -> Size | None:
    """The download of a model repository's weights (``openai/whisper-large-v3``) as its row counts
    them (``variant``: which files); None when the table has no row of it."""
    for row in table().get("model", ()):
        if row.name.lower() == repo_id.strip().lower():
            return _size(row, True, f"{row.name} ({row.variant})")
    return None
