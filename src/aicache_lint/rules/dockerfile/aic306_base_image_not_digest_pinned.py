"""AIC306 base-image-not-digest-pinned."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge import cuda_images
from aicache_lint.rules.base import (
    ComposeContext,
    DockerfileContext,
    FixAvailability,
    Rule,
)


class BaseImageNotDigestPinned(Rule):
    """
    ## What it does
    Flags a `FROM` whose image reference has no `@sha256:` digest: `FROM python:3.12-slim`,
    `FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04`. `FROM scratch`, `FROM <earlier stage>` and a
    reference that depends on a build argument without a default are not reported, nor is an
    image the repository builds itself (a Compose service, workflow step or Bake target tags it):
    its digest changes with every build. In Compose files it flags the `image:` of a service that
    runs a published image (a service with `build:` names the image it builds, which is not
    pulled). Not in the default selection: enable it with
    `--extend-select AIC306` (or `extend-select = ["AIC306"]`).

    ## Why is this bad?
    A tag is a name that its publisher moves: `python:3.12-slim` gets a new image with every
    patch release and security rebuild. Docker's layer cache keeps serving the image of the first
    build while a cold build (CI, a new machine, `--no-cache`, `--pull`) gets the new one, so two
    images built from the same Dockerfile differ, and every tag move invalidates every layer
    above the `FROM`. A digest names exactly one image; BuildKit then never resolves the tag.
    hadolint users have asked for this check for years (hadolint#773).

    ## Example
    ```dockerfile
    FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
    ```
    ```yaml
    services:
      ollama:
        image: ollama/ollama:0.5.7
    ```

    ## Use instead
    ```dockerfile
    FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04@sha256:<the digest the registry reports>
    ```
    ```yaml
    services:
      ollama:
        image: ollama/ollama:0.5.7@sha256:<the digest the registry reports>
    ```

    ## Fix safety
    With `--resolve-images` (or `resolve-images = true`) the fix asks the image's registry for
    the digest the tag names now (`HEAD /v2/<name>/manifests/<tag>`, asking for the
    multi-platform index so that every platform stays pinned) and appends `@sha256:<digest>`,
    keeping the tag for humans. When the tag comes from an `ARG` default, the digest is appended
    there; in a Compose file it is appended to the `image:` value, inside its quotes. No fix for an
    interpolated `image: ${IMAGE}` or a value that is not written out verbatim. The fix is safe:
    the pinned image is the one a cold build gets today. It also stops updates: raise the tag and
    the digest together (Renovate and Dependabot do this for pinned digests). NVIDIA deletes
    end-of-life `nvidia/cuda` tags *and their digests* (see AIC303).

    Without `--resolve-images` the rule reports only: the digest cannot be known offline. When
    the registry cannot be reached, refuses, or rate-limits, one warning is printed and the
    finding stays without a fix; when the registry answers that it has no such image (a typo, a
    deleted tag, or an image built locally with `docker build -t`), the finding says so and has no
    fix.

    ## Options
    None.

    ## References
    - [Docker: pin base image versions](https://docs.docker.com/build/building/best-practices/#pin-base-image-versions)
    - [OCI distribution spec: pulling manifests](https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests)
    - [hadolint#773: require digest pinning](https://github.com/hadolint/hadolint/issues/773)
    - [Compose file reference: image](https://docs.docker.com/reference/compose-file/services/#image)
    """

    code = "AIC306"
    name = "base-image-not-digest-pinned"
    summary = "A base image is not pinned by digest"
    fix_availability = FixAvailability.SOMETIMES
    default_enabled = False
    targets = ("dockerfile", "compose")

    def check(self, ctx: DockerfileContext | ComposeContext) -> Iterator[Violation]:
        if isinstance(ctx, ComposeContext):
            yield from _check_compose(ctx)
            return
        from aicache_lint.dockerfile.references import trace_from
        from aicache_lint.images.reference import parse_reference

        for stage in ctx.facts.stages:
            if stage.parent is not None or not stage.base or "$" in stage.base:
                continue
            image = parse_reference(stage.base)
            if image is None or image.pinned or ctx.workspace.graph.builds_of(stage.base):
                continue  # pinned, or built in this repository: its digest changes with every build
            word = cuda_images.reference_word(stage.from_instruction, ctx.doc.escape)
            span = word.span if word else stage.from_instruction.keyword_span

            message, digest = _look_up(ctx.resolver, stage.base, image)
            edits = None
            if digest is not None:
                trace = trace_from(ctx.doc, stage.from_instruction)
                if trace is not None and trace.text == stage.base:
                    end = len(stage.base)
                    edits = trace.edits([(end, end, "@" + digest)])
            yield _violation(span, stage.base, message, digest, edits)


def _look_up(resolver, reference: str, image) -> tuple[str, str | None]:
    """(the finding's message, the digest to pin or None) for one unpinned reference."""
    message = f"`{reference}` is not pinned by digest: the tag can move under the layer cache"
    if resolver is None:
        return message + " (`--resolve-images` looks the digest up and pins it)", None
    found = resolver.digest(image)
    if found.missing:  # or an image built locally (`docker build -t name`), which no registry has
        return (f"{message}; {image.registry} has no `{image.repository}:{image.tag or 'latest'}`, so there is no "
                "digest to pin (an image built locally cannot be pinned this way)"), None
    if found.value is None:
        return message + " (the registry did not answer: no automatic fix)", None
    return message, found.value


def _violation(span, reference: str, message: str, digest: str | None, edits) -> Violation:
    """With a digest, the fix that pins it -- or why not: ``edits`` None (not written verbatim)."""
    if digest is None:
        return Violation(span, message)
    if edits is None:
        return Violation(span, message + " (no automatic fix: the reference is not written out verbatim)")
    return Violation(span, message, Fix.safe(f"Pin `{reference}` to `{digest}`", *edits))


def _check_compose(ctx: ComposeContext) -> Iterator[Violation]:
    """`image:` of the services this file defines that run a published image (not a `build:`)."""
    from aicache_lint.compose.model import DOUBLE, PLAIN, SINGLE, Scalar
    from aicache_lint.images.reference import parse_reference

    text = ctx.source.text
    for service in ctx.project.services.values():
        node = service.image_node
        if service.build is not None or not service.image or not isinstance(node, Scalar):
            continue
        if not any(cfile.path == ctx.source.path and mapping.get("image") is node
                   for cfile, mapping in service.definitions):
            continue  # defined in another file of the project
        image = parse_reference(service.image)
        if image is None or image.pinned or ctx.workspace.graph.builds_of(service.image):
            continue
        message, digest = _look_up(ctx.resolver, service.image, image)
        raw = text[node.span.start : node.span.end]
        quoted = node.style in (SINGLE, DOUBLE)
        edits = None
        # Interpolated, escaped or a block scalar: not written out verbatim, no fix.
        if digest is not None and node.style in (PLAIN, SINGLE, DOUBLE) and \
                (raw[1:-1] if quoted else raw) == service.image:
            at = node.span.end - (1 if quoted else 0)  # inside the closing quote
            edits = [Edit(at, at, "@" + digest)]
        yield _violation(node.span, service.image, message, digest, edits)
