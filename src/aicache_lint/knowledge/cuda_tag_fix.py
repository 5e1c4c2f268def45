"""AIC303's logic, loaded for a file's first `nvidia/cuda` FROM only: choosing a published tag for
an unpinned, partial or removed one, and the smallest edits that write it (in the `FROM` line or in
the `ARG` default the part comes from)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.dockerfile.references import Trace, global_arg_values, trace_from
from aicache_lint.fix import Fix
from aicache_lint.images.cuda import (
    CudaTag,
    Wanted,
    bundled_table,
    candidates,
    os_preference,
    parse_tag,
    version_text,
)
from aicache_lint.knowledge import cuda_images

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


def check_stage(ctx: "DockerfileContext", stage: "Stage", ref: cuda_images.CudaRef, default_flavor: str,
                default_os: str) -> tuple[str, Fix | None] | None:
    """AIC303's (message, fix) for one stage's `nvidia/cuda` reference, or None when it is pinned."""
    source = _tag_source(ctx, ref)
    finding = _diagnose(ref, source)
    if finding is None:
        return None
    problem, parsed, wanted_fix = finding
    message = f"`{stage.base}` {problem}"
    new = None
    if wanted_fix:
        new = choose(parsed, source, file_context(ctx, stage), FileContext(default_flavor, default_os))
    if new is None:
        if wanted_fix:
            message += f"; {source.description} has no matching tag: pick one from NVIDIA's supported-tags list"
        return message, None
    fix, reason = _fix(ctx, stage, ref, parsed, new, source)
    message += f"; use `{new.text}`"
    if reason:
        message += f" (no automatic fix: {reason})"
    return message, fix


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


def _tag_source(ctx: "DockerfileContext", ref: cuda_images.CudaRef) -> TagSource:
    """The live tag list when registry resolution is on and works, else the bundled table."""
    table = bundled_table()
    if ctx.resolver is not None:
        live = ctx.resolver.tags(ref.repository)
        if live is not None:
            return TagSource(frozenset(live.tags), table.removed, live.description, True)
    return TagSource(cuda_images.published_tags(), table.removed, table.description, False)


def _diagnose(ref: cuda_images.CudaRef, source: TagSource) -> tuple[str, CudaTag | None, bool] | None:
    """(what is wrong, the parsed tag, whether a fix should be looked for), or None when pinned."""
    if ref.tag is None:
        return "has no tag, which means `latest`, and `nvidia/cuda` has no `latest` tag: the build fails", None, True
    if ref.tag == "latest":
        return "uses `latest`, which `nvidia/cuda` does not publish: the build fails", None, True
    parsed = parse_tag(ref.tag)
    if parsed is None:
        return f"uses the tag `{ref.tag}`, not a `<X.Y.Z>-<flavor>-<os>` tag", None, False
    if parsed.is_full and ref.tag in source.published:
        return None
    if source.is_gone(ref.tag):
        if source.live:
            why = "NVIDIA deletes end-of-life tags"
            if not parsed.is_full:
                why = "NVIDIA publishes full `X.Y.Z-flavor-os` tags"
            gone = f"which is not in {source.description} ({why})"
        else:
            gone = f"which NVIDIA deleted ({source.description} lists it as removed; end-of-life tags are deleted)"
        return f"uses `{ref.tag}`, {gone}: a build without the layer cache fails", parsed, True
    if not parsed.is_full:
        return f"uses the short tag `{ref.tag}`, which NVIDIA may move or has deleted", parsed, True
    same_but_cudnn = parsed.cudnn and choose(parsed, source, FileContext(None, None), FileContext(None, None))
    if same_but_cudnn and same_but_cudnn.version == parsed.version and same_but_cudnn.cudnn != parsed.cudnn:
        return (f"uses the cuDNN token `{parsed.cudnn}`, but CUDA {version_text(parsed.version)} images are "
                f"published as `{same_but_cudnn.cudnn}-`"), parsed, True
    return None  # a tag the table does not know: it may exist


def _fix(ctx: "DockerfileContext", stage: "Stage", ref: cuda_images.CudaRef, parsed: CudaTag | None,
         new: CudaTag, source: TagSource) -> tuple[Fix | None, str | None]:
    trace = trace_from(ctx.doc, stage.from_instruction, args := global_arg_values(ctx.doc))
    if trace is None or trace.text != stage.base:
        return None, "the image reference is not written out verbatim"
    name_end = len(ref.repository)  # the repository as written; the tag (if any) follows
    if parsed is None:
        if ref.tag is None:
            changes = [(name_end, name_end, ":" + new.text)]
        else:
            changes = [(name_end + 1, name_end + 1 + len(ref.tag), new.text)]
    else:
        changes = [(name_end + 1 + a, name_end + 1 + b, text) for a, b, text in tag_changes(parsed, new)]
    edits = trace.edits(changes)
    if edits is None:
        return None, "the change would cross from the `FROM` line into an `ARG` default"
    new_defaults = {p.arg: Trace((p,)).apply(edits) for p in trace.pieces if p.arg}
    edited = {name: value for name, value in new_defaults.items() if value != args[name].text}
    clash = _other_uses(ctx, stage, set(edited), edits, args, source)
    if clash:
        return None, clash
    title = f"Use `{new.text}`, the newest matching tag in {source.description}"
    if edited:
        title += " (sets " + ", ".join(f"`ARG {name}={value}`" for name, value in edited.items()) + ")"
    return Fix.unsafe(title, *edits), None


def _other_uses(ctx: "DockerfileContext", stage: "Stage", edited: set[str], edits, args,
                source: TagSource) -> str | None:
    """Why editing the ARG defaults ``edited`` would break another FROM that uses one, or None."""
    for other in ctx.facts.stages:
        if other is stage:
            continue
        other_trace = trace_from(ctx.doc, other.from_instruction, args)
        shared = other_trace.args & edited if other_trace else set()
        if not shared:
            continue
        text = other_trace.apply(edits)
        other_ref = cuda_images.parse(text)
        if other_ref is None or other_ref.tag not in source.published:
            name = sorted(shared)[0]
            return f"`ARG {name}` is also used by `FROM {other.base}`, which would become `{text}`"
    return None
