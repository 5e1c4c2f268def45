"""Helpers the reporters share: which text a result's positions refer to, paths relative to the
report root, line-content keys that identify a finding across unrelated edits, and named tuples
as plain JSON data."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

from aicache_lint.source import SourceText

if TYPE_CHECKING:
    from aicache_lint.api import FileResult
    from aicache_lint.finding import Finding


def in_order(ctx) -> list[tuple["FileResult", "Finding"]]:
    """Every finding with its file's result, in report order: by file, or with ``--sort impact``
    by estimate across all files, largest first (ties keep the file order)."""
    pairs = [(r, f) for r in ctx.results for f in r.findings]
    if ctx.by_impact:
        pairs.sort(key=lambda p: -(p[0].estimates[p[1]].bytes if p[1] in p[0].estimates else 0))
    return pairs


def final_text(r: "FileResult") -> str | None:
    """The text the findings' positions refer to: the fixed text when fixes changed it; None
    when the file could not be read."""
    return r.fixed if r.fixed is not None else r.original


def final_source(r: "FileResult") -> SourceText | None:
    text = final_text(r)
    return None if text is None else SourceText(text, path=r.path)


def relative_path(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` with ``/`` separators, or None when it lies outside ``root``."""
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    except ValueError:  # another drive on Windows
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def display_path(path: str, root: str) -> str:
    """The relative path when the file is under ``root``, else the absolute one (``/`` separators)."""
    rel = relative_path(path, root)
    return rel if rel is not None else os.path.abspath(path).replace(os.sep, "/")


class Keyed(NamedTuple):
    finding: "Finding"
    line: str  # the stripped text of the finding's first line ("" when the file is unreadable)
    occurrence: int  # 1-based, among this file's findings of the same rule on lines with this text


def keyed_findings(r: "FileResult") -> Iterator[Keyed]:
    """Each finding with what identifies it without its line number, so that inserting or removing
    lines above it keeps its identity and two findings on identical lines stay apart."""
    source = final_source(r)
    seen: dict[tuple[str, str], int] = {}
    for f in r.findings:
        line = ""
        if source is not None and f.start.row <= source.line_count:
            line = source.line_text(f.start.row).strip()
        n = seen[(f.code, line)] = seen.get((f.code, line), 0) + 1
        yield Keyed(f, line, n)


def plain(value: Any) -> Any:
    """Named tuples, dicts and lists as JSON data (a named tuple becomes an object of its fields)."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


EVENT_NAMES = {"source": "source edit", "manifest": "dependency edit", "base": "base update",
               "recreate": "new container"}


def gigabytes(n: int) -> str:
    """A byte count for people: decimal units, as registries and the package index show them."""
    if abs(n) >= 1e9:
        return f"{n / 1e9:.1f} GB"
    if abs(n) >= 1e6:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e3:.0f} kB" if n else "0"


def per_event(n: int, event: str) -> str:
    """`~2.5 GB per rebuild after a base update`, `~1.3 GB per new container`."""
    if event == "recreate":
        return f"~{gigabytes(n)} per new container"
    return f"~{gigabytes(n)} per rebuild after a {EVENT_NAMES[event]}"


def estimate_text(estimate) -> str:
    """What an ``impact.estimate.Estimate`` says, for people."""
    return per_event(estimate.bytes, estimate.event)


def estimate_dict(estimate) -> dict | None:
    if estimate is None:
        return None
    return {"bytes": estimate.bytes, "event": estimate.event, "source": list(estimate.sources), "estimate": True}
