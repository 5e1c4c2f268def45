"""The `nvidia/cuda` tag model and the tag table shipped with aicache-lint.

Tags (DOMAIN §4.1): ``<major>.<minor>.<patch>-[cudnn[N]-]{base|runtime|devel}-<os>``; the cuDNN
token was ``cudnn8-`` up to CUDA 12.2, ``cudnn9-`` for 12.3 and ``cudnn-`` since 12.4 (the table,
not this module, says which one a version has). The pre-2021 scheme had short tags (``11.0-base``,
``10.2-cudnn7-devel``) and a ``latest`` that no longer exists.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, NamedTuple

FLAVORS = ("base", "runtime", "devel")
_TAG = re.compile(
    r"(?P<version>\d+\.\d+(?:\.\d+)?)"
    r"(?:-(?P<cudnn>cudnn\d*))?"
    r"(?:-(?P<flavor>base|runtime|devel))?"
    r"(?:-(?P<os>[a-z]+\d+(?:\.\d+)?))?"
)


class CudaTag(NamedTuple):
    """A parsed tag; each part with its (start, end) in ``text`` (None when absent)."""

    text: str
    version: tuple[int, ...]
    cudnn: str | None  # "cudnn", "cudnn8", "cudnn9" ...
    flavor: str | None
    os: str | None
    spans: dict[str, tuple[int, int]]

    @property
    def minor(self) -> tuple[int, int]:
        return self.version[0], self.version[1]

    @property
    def is_full(self) -> bool:
        return len(self.version) == 3 and self.flavor is not None and self.os is not None

    @property
    def variant(self) -> str | None:
        """The flavor as the rule options name it: ``runtime``, ``cudnn-devel`` ..."""
        if self.flavor is None:
            return None
        return f"cudnn-{self.flavor}" if self.cudnn else self.flavor


def parse_tag(tag: str) -> CudaTag | None:
    m = _TAG.fullmatch(tag)
    if m is None:
        return None
    spans = {name: m.span(name) for name in ("version", "cudnn", "flavor", "os") if m.group(name)}
    version = tuple(int(part) for part in m.group("version").split("."))
    return CudaTag(tag, version, m.group("cudnn"), m.group("flavor"), m.group("os"), spans)


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(v) for v in version)


class TagTable(NamedTuple):
    date: str  # when the source was read (YYYY-MM-DD)
    source: str
    supported: frozenset[str]
    unsupported: frozenset[str]  # no longer supported, still published
    removed: frozenset[str]  # published once, deleted since

    @property
    def published(self) -> frozenset[str]:
        return self.supported | self.unsupported

    @property
    def description(self) -> str:
        return f"aicache-lint's nvidia/cuda tag table of {self.date}"


def load_table_text(text: str) -> TagTable:
    """Parse the table format (``#`` header lines ``date:`` / ``source:``, then ``tag<TAB>status``)."""
    meta: dict[str, str] = {}
    by_status: dict[str, set[str]] = {"supported": set(), "unsupported": set(), "removed": set()}
    in_rows = False
    for number, line in enumerate(text.splitlines(), 1):
        if not in_rows:
            key, sep, value = line[1:].partition(":") if line.startswith("#") else ("", "", "")
            if sep and key.strip() in ("date", "source"):
                meta[key.strip()] = value.strip()
            in_rows = line == "tag\tstatus"
            continue
        if not line.strip():
            continue
        tag, sep, status = line.partition("\t")
        if not sep or status not in by_status:
            raise ValueError(f"line {number}: expected `tag<TAB>supported|unsupported|removed`, got {line!r}")
        by_status[status].add(tag)
    if not in_rows:
        raise ValueError("no `tag<TAB>status` header line")
    return TagTable(meta.get("date", "unknown date"), meta.get("source", "unknown source"),
                    frozenset(by_status["supported"]), frozenset(by_status["unsupported"]),
                    frozenset(by_status["removed"]))


TABLE_HEADER = (
    "nvidia/cuda image tags (Docker Hub `nvidia/cuda` and NGC `nvcr.io/nvidia/cuda` publish the same tags),",
    "read offline by AIC303 and AIC304. Refresh: python scripts/refresh_cuda_tags.py (see data/SOURCES.md).",
    "status: supported = supported by NVIDIA (its supported-tags list; for a tag a refresh found, the newest",
    "patch of its minor version); unsupported = no longer supported, still published; removed = published",
    "once, deleted since (NVIDIA deletes end-of-life tags).",
)


def dump_table(table: TagTable, header: Iterable[str] = TABLE_HEADER) -> str:
    """The table file's text: comments, ``date:``, ``source:``, then rows newest version first."""
    rows = [(tag, "supported") for tag in table.supported]
    rows += [(tag, "unsupported") for tag in table.unsupported - table.supported]
    rows += [(tag, "removed") for tag in table.removed - table.supported - table.unsupported]
    rows.sort(key=lambda row: _sort_key(row[0]))
    out = [f"# {line}" for line in header]
    out += [f"# date: {table.date}", f"# source: {table.source}", "tag\tstatus"]
    out += [f"{tag}\t{status}" for tag, status in rows]
    return "\n".join(out) + "\n"


def _sort_key(tag: str) -> tuple:
    parsed = parse_tag(tag)
    if parsed is None:
        return (1, (), tag)  # not a CUDA tag of the known scheme (e.g. `-tensorrt-`): last
    return (0, tuple(-v for v in parsed.version), tag)


TABLE_NAME = "nvidia-cuda-tags.tsv"


@lru_cache(maxsize=1)
def bundled_table() -> TagTable:
    """``aicache_lint/data/nvidia-cuda-tags.tsv`` (read on first use)."""
    from aicache_lint.data import read_text

    text = read_text(TABLE_NAME)
    return load_table_text(text)


class Wanted(NamedTuple):
    """What a completed tag must match; None: anything."""

    minor: tuple[int, int] | None
    patch: int | None
    cudnn: bool
    flavor: str
    os: str | None


def candidates(tags: frozenset[str], wanted: Wanted) -> list[CudaTag]:
    """Full tags matching ``wanted``, newest version first (any cuDNN token when cuDNN is wanted)."""
    out = []
    for parsed in _full_tags(tags):
        if wanted.minor is not None and parsed.minor != wanted.minor:
            continue
        if wanted.patch is not None and parsed.version[2] != wanted.patch:
            continue
        if bool(parsed.cudnn) != wanted.cudnn or parsed.flavor != wanted.flavor:
            continue
        if wanted.os is not None and parsed.os != wanted.os:
            continue
        out.append(parsed)
    return out


@lru_cache(maxsize=4)
def _full_tags(tags: frozenset[str]) -> tuple[CudaTag, ...]:
    """The full tags of a tag set, parsed once per set, newest version first."""
    parsed = (parse_tag(tag) for tag in tags)
    return tuple(sorted((t for t in parsed if t is not None and t.is_full), key=lambda t: (t.version, t.text),
                        reverse=True))


def os_preference(os_name: str) -> tuple:
    """Newer Ubuntu releases first, then the other OS families by their newest release."""
    m = re.fullmatch(r"([a-z]+)(\d+(?:\.\d+)?)", os_name)
    if m is None:
        return (1, os_name)
    family, number = m.groups()
    return (0 if family == "ubuntu" else 1, -float(number), family)
