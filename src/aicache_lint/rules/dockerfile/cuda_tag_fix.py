"""Choosing a published `nvidia/cuda` tag for an unpinned, partial or removed one, and the
smallest edits that write it (in the `FROM` line or in the `ARG` default the part comes from)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.images.cuda import CudaTag, Wanted, candidates, os_preference, parse_tag
from aicache_lint.rules.dockerfile import cuda_images

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Stage
    from aicache_lint.rules.base import DockerfileContext


class TagSource(NamedTuple):
    """The tags a fix may choose from, and what is known to be gone."""

    published: frozenset[str]
    removed: frozenset[str]
    description: str  # named in fix titles: "aicache-lint's nvidia/cuda tag table of 2026-..."
    live: bool  # from the registry: a tag not in ``published`` does not exist

    def is_gone(self, tag: str) -> bool:
        return tag in self.removed or (self.live and tag not in self.published)


class FileContext(NamedTuple):
    """The flavor and OS the file's other `nvidia/cuda` FROM lines use (None: none seen)."""

    variant: str | None  # "runtime", "cudnn-devel" ...
    os: str | None


def file_context(ctx: "DockerfileContext", skip: "Stage") -> FileContext:
    variant = os_name = None
    for stage in ctx.facts.stages:
        ref = cuda_images.parse(stage.base) if stage is not skip else None
        parsed = parse_tag(ref.tag) if ref and ref.tag else None
        if parsed is None:
            continue
        variant = variant or parsed.variant
        os_name = os_name or parsed.os
    return FileContext(variant, os_name)


def choose(parsed: CudaTag | None, source: TagSource, context: FileContext, defaults: FileContext) -> CudaTag | None:
    """The newest published tag for ``parsed`` (None: no tag or `latest`), or None.

    A missing flavor comes from the file's other CUDA images, else the default; a missing OS
    likewise, and when neither has the version, the newest Ubuntu (then other OS) that has it.
    A missing or unpublished patch release becomes the newest patch of the same minor version.
    """
    if parsed is None:
        variant = context.variant or defaults.variant
        minor = patch = None
    else:
        variant = parsed.variant or context.variant or defaults.variant
        if parsed.flavor is None and parsed.cudnn:  # `12.1-cudnn8`: cuDNN was asked for
            variant = "cudnn-" + variant.removeprefix("cudnn-")
        minor = parsed.minor
        patch = parsed.version[2] if len(parsed.version) == 3 else None
    cudnn = variant.startswith("cudnn-")
    flavor = variant.removeprefix("cudnn-")
    if parsed and parsed.os:
        os_choices: list[str | None] = [parsed.os]
    else:  # None last: any OS, the preferred one among the newest
        os_choices = [name for name in (context.os, defaults.os) if name] + [None]
    for wanted_patch in ([patch, None] if patch is not None else [None]):
        for os_name in os_choices:
            found = candidates(source.published, Wanted(minor, wanted_patch, cudnn, flavor, os_name))
            if found:
                if os_name is None:  # newest version first, then the preferred OS
                    newest = found[0].version
                    found = sorted((t for t in found if t.version == newest), key=lambda t: os_preference(t.os))
                return found[0]
    return None


def tag_changes(old: CudaTag, new: CudaTag) -> list[tuple[int, int, str]]:
    """Smallest (start, end, text) changes, in offsets of ``old.text``, that turn it into ``new``."""
    changes = []
    end_of_previous = 0
    for part in ("version", "cudnn", "flavor", "os"):
        new_span = new.spans.get(part)
        new_text = new.text[new_span[0] : new_span[1]] if new_span else ""
        if part in old.spans:
            start, end = old.spans[part]
            if old.text[start:end] != new_text:
                changes.append(minimal_change(old.text[start:end], new_text, start))
            end_of_previous = end
        elif new_text:
            if changes and changes[-1][:2] == (end_of_previous, end_of_previous):  # flavor and OS both missing
                changes[-1] = (end_of_previous, end_of_previous, changes[-1][2] + "-" + new_text)
            else:
                changes.append((end_of_previous, end_of_previous, "-" + new_text))
    return changes


def minimal_change(old: str, new: str, offset: int) -> tuple[int, int, str]:
    """One change turning ``old`` into ``new``: the part between their common prefix and suffix."""
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return offset + prefix, offset + len(old) - suffix, new[prefix : len(new) - suffix]
