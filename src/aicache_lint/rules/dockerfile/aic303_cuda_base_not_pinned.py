"""AIC303 cuda-base-not-pinned."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile.references import global_arg_values, trace_from
from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.images.cuda import CudaTag, bundled_table, parse_tag, version_text
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.rules.dockerfile import cuda_images
from aicache_lint.rules.dockerfile.cuda_tag_fix import FileContext, TagSource, choose, file_context, tag_changes

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Stage


class CudaBaseNotPinned(Rule):
    """
    ## What it does
    Flags a `FROM` of `nvidia/cuda` (Docker Hub, with or without `docker.io/`, or
    `nvcr.io/nvidia/cuda`) whose tag
    - is missing or `latest` (`nvidia/cuda` has no `latest`: the build fails);
    - is partial: `12.4-runtime`, `12.4.1`, `12.4.1-runtime` (no OS), `11.0-base` (the pre-2021
      scheme);
    - has a cuDNN token NVIDIA does not publish for that CUDA version (`cudnn8-` up to 12.2,
      `cudnn9-` for 12.3, `cudnn-` since 12.4): `12.4.1-cudnn8-runtime-ubuntu22.04`;
    - was deleted by NVIDIA (end-of-life tags are deleted): `11.7.0-runtime-ubuntu20.04`.

    `ARG` defaults are resolved first; a reference that depends on a build argument without a
    default is not reported. A reference with a `@sha256:` digest is pinned. A full tag the tag
    table does not know is not reported: it may be newer than the table.

    What is published comes from the tag table shipped with aicache-lint (NVIDIA's supported and
    unsupported-but-still-published tags, and the tags NVIDIA deleted; its date is in every fix
    title) or, with `--resolve-images`, from the registry's live tag list.

    ## Why is this bad?
    `nvidia/cuda` has no `latest` tag (it was removed in 2021): `FROM nvidia/cuda` fails with
    "manifest unknown". Short tags and the old scheme's tags are gone or move: NVIDIA supports only
    the latest patch release of each minor version and deletes end-of-life tags, so a short tag
    either stops resolving or changes under the layer cache, and every builder may get another
    CUDA, cuDNN or OS. A deleted tag keeps building only where the layer cache still has it: the
    next cold build (CI, a new machine) fails. The CUDA version also decides the host driver the
    container needs.

    ## Example
    ```dockerfile
    ARG CUDA_VERSION=12.4
    FROM nvidia/cuda:${CUDA_VERSION}-runtime
    ```

    ## Use instead
    ```dockerfile
    ARG CUDA_VERSION=12.4.1
    FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04
    ```

    Or, to make the build immutable, add the digest (AIC306 does it with `--resolve-images`; tags
    and digests of end-of-life versions are deleted by NVIDIA, so keep the tag for humans):
    ```dockerfile
    FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04@sha256:<digest>
    ```

    ## Fix safety
    The fix is unsafe: it chooses an image. It writes the newest published tag that keeps what the
    reference says:
    - no tag or `latest`: the newest tag for the flavor and OS of the file's other `nvidia/cuda`
      images, else for the `default-flavor` and `default-os` options;
    - a partial tag: the same minor version (and patch, when it is still published), flavor and
      cuDNN; a missing flavor or OS as above, and when that OS has no such image, the newest
      Ubuntu that has it;
    - a wrong cuDNN token: the token NVIDIA publishes for that version;
    - a deleted tag: the newest patch release of the same minor version, flavor and OS.

    Only the bytes that change are edited: when the version comes from a global `ARG` default,
    that default is edited (`ARG CUDA_VERSION=12.4` becomes `12.4.1`) and the `FROM` keeps its
    variable. No fix is offered when no published tag matches (a version is never invented), when
    the reference is not written out verbatim (quotes, `${VAR:-default}`), or when the edited `ARG`
    is also used by another `FROM` that would then name an image that is not published.

    ## Options
    - `default-flavor` (default `"runtime"`): the flavor for a missing tag or flavor when the file
      has no other CUDA image: `base`, `runtime`, `devel`, `cudnn-runtime` or `cudnn-devel`.
    - `default-os` (default `"ubuntu24.04"`): the OS likewise, e.g. `ubuntu22.04`, `ubi9`.

    ```toml
    [rules.AIC303]
    default-flavor = "cudnn-runtime"
    default-os = "ubuntu22.04"
    ```

    ## References
    - [NVIDIA CUDA images: supported tags](https://gitlab.com/nvidia/container-images/cuda/-/blob/master/doc/supported-tags.md)
    - [NVIDIA CUDA images: support policy](https://gitlab.com/nvidia/container-images/cuda/-/blob/master/doc/support-policy.md)
    - [nvidia/cuda on Docker Hub](https://hub.docker.com/r/nvidia/cuda)
    - [NVIDIA CUDA images: unsupported (still published) tags](https://gitlab.com/nvidia/container-images/cuda/-/blob/master/doc/unsupported-tags.md)
    - [NVIDIA/nvidia-docker#1454: `latest` tag removed](https://github.com/NVIDIA/nvidia-docker/issues/1454)
    """

    code = "AIC303"
    name = "cuda-base-not-pinned"
    summary = "An nvidia/cuda base image without a published, full X.Y.Z-flavor-os tag"
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = "unsafe"
    default_options = {"default-flavor": "runtime", "default-os": "ubuntu24.04"}

    @classmethod
    def check_option(cls, name: str, value: object) -> str | None:
        if name == "default-flavor" and value not in VARIANTS:
            return f"expected one of {', '.join(VARIANTS)}"
        if name == "default-os" and not (isinstance(value, str) and re.fullmatch(r"[a-z]+\d+(\.\d+)?", value)):
            return "expected an OS token such as `ubuntu24.04` or `ubi9`"
        return None

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        options = {**self.default_options, **ctx.options}
        defaults = FileContext(options["default-flavor"], options["default-os"])
        for stage in ctx.facts.stages:
            ref = cuda_images.parse(stage.base)
            if ref is None or (ref.digest and cuda_images.DIGEST.fullmatch(ref.digest)):
                continue
            source = _tag_source(ctx, ref)
            finding = _diagnose(ref, source)
            if finding is None:
                continue
            problem, parsed, wanted_fix = finding
            word = cuda_images.reference_word(stage.from_instruction, ctx.doc.escape)
            span = word.span if word else stage.from_instruction.keyword_span
            message = f"`{stage.base}` {problem}"
            new = choose(parsed, source, file_context(ctx, stage), defaults) if wanted_fix else None
            if new is None:
                if wanted_fix:
                    message += f"; {source.description} has no matching tag: pick one from NVIDIA's supported-tags list"
                yield Violation(span, message)
                continue
            fix, reason = _fix(ctx, stage, ref, parsed, new, source)
            message += f"; use `{new.text}`"
            if reason:
                message += f" (no automatic fix: {reason})"
            yield Violation(span, message, fix)


VARIANTS = ("base", "runtime", "devel", "cudnn-runtime", "cudnn-devel")


def _tag_source(ctx: DockerfileContext, ref: cuda_images.CudaRef) -> TagSource:
    """The live tag list when registry resolution is on and works, else the bundled table."""
    table = bundled_table()
    if ctx.resolver is not None:
        live = ctx.resolver.tags(ref.repository)
        if live is not None:
            return TagSource(frozenset(live.tags), table.removed, live.description, True)
    return TagSource(table.published, table.removed, table.description, False)


def _diagnose(ref: cuda_images.CudaRef, source: TagSource) -> tuple[str, CudaTag | None, bool] | None:
    """(what is wrong, the parsed tag, whether a fix should be looked for), or None when pinned."""
    if ref.tag is None:
        return "has no tag, which means `latest`, and `nvidia/cuda` has no `latest` tag: the build fails", None, True
    if ref.tag == "latest":
        return "uses `latest`, which `nvidia/cuda` does not publish: the build fails", None, True
    parsed = parse_tag(ref.tag)
    if parsed is None:
        return f"uses the tag `{ref.tag}`, not a `<X.Y.Z>-<flavor>-<os>` tag", None, False
    if not parsed.is_full:
        return f"uses the short tag `{ref.tag}`, which NVIDIA may move or has deleted", parsed, True
    if ref.tag in source.published:
        return None
    if source.is_gone(ref.tag):
        if source.live:
            gone = f"which is not in {source.description} (NVIDIA deletes end-of-life tags)"
        else:
            gone = f"which NVIDIA deleted ({source.description} lists it as removed; end-of-life tags are deleted)"
        return f"uses `{ref.tag}`, {gone}: a build without the layer cache fails", parsed, True
    same_but_cudnn = parsed.cudnn and choose(parsed, source, FileContext(None, None), FileContext(None, None))
    if same_but_cudnn and same_but_cudnn.version == parsed.version and same_but_cudnn.cudnn != parsed.cudnn:
        return (f"uses the cuDNN token `{parsed.cudnn}`, but CUDA {version_text(parsed.version)} images are "
                f"published as `{same_but_cudnn.cudnn}-`"), parsed, True
    return None  # a tag the table does not know: it may exist


def _fix(ctx: DockerfileContext, stage: "Stage", ref: cuda_images.CudaRef, parsed: CudaTag | None,
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
    clash = _other_uses(ctx, stage, trace, edits, args, source)
    if clash:
        return None, clash
    kept = "" if parsed is None or parsed.version[:2] == new.version[:2] else " (another minor version)"
    title = f"Use `{new.text}`{kept}, the newest matching tag in {source.description}"
    return Fix.unsafe(title, *edits), None


def _other_uses(ctx: DockerfileContext, stage: "Stage", trace, edits, args, source: TagSource) -> str | None:
    """Why editing an ARG default would break another FROM that uses it, or None."""
    edited = {p.arg for p in trace.pieces if p.arg and any(p.start <= e.start <= p.start + len(p.text) for e in edits)}
    for other in ctx.facts.stages:
        if other is stage:
            continue
        other_trace = trace_from(ctx.doc, other.from_instruction, args)
        shared = other_trace.args & edited if other_trace else set()
        if not shared:
            continue
        text = _apply(other_trace, edits)
        other_ref = cuda_images.parse(text)
        if other_ref is None or other_ref.tag not in source.published:
            name = sorted(shared)[0]
            return f"`ARG {name}` is also used by `FROM {other.base}`, which would become `{text}`"
    return None


def _apply(trace, edits) -> str:
    """The trace's text after the edits that fall inside its pieces (the shared ARG defaults)."""
    out = []
    for piece in trace.pieces:
        text = piece.text
        for e in sorted(edits, reverse=True):
            if piece.start <= e.start and e.end <= piece.start + len(text):
                text = text[: e.start - piece.start] + e.content + text[e.end - piece.start :]
        out.append(text)
    return "".join(out)
