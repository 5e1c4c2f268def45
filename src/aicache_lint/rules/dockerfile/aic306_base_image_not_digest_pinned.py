"""AIC306 base-image-not-digest-pinned."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.rules.dockerfile import cuda_images


class BaseImageNotDigestPinned(Rule):
    """
    ## What it does
    Flags a `FROM` whose image reference has no `@sha256:` digest: `FROM python:3.12-slim`,
    `FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04`. `FROM scratch`, `FROM <earlier stage>` and a
    reference that depends on a build argument without a default are not reported. Not in the
    default selection: enable it with `--extend-select AIC306` (or `extend-select = ["AIC306"]`).

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

    ## Use instead
    ```dockerfile
    FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04@sha256:<the digest the registry reports>
    ```

    ## Fix safety
    With `--resolve-images` (or `resolve-images = true`) the fix asks the image's registry for
    the digest the tag names now (`HEAD /v2/<name>/manifests/<tag>`, asking for the
    multi-platform index so that every platform stays pinned) and appends `@sha256:<digest>`,
    keeping the tag for humans. When the tag comes from an `ARG` default, the digest is appended
    there. The fix is safe: the pinned image is the one a cold build gets today. It also stops
    updates: raise the tag and the digest together (Renovate and Dependabot do this for pinned
    digests). NVIDIA deletes end-of-life `nvidia/cuda` tags *and their digests* (see AIC303).

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
    """

    code = "AIC306"
    name = "base-image-not-digest-pinned"
    summary = "A base image is not pinned by digest"
    fix_availability = FixAvailability.SOMETIMES
    default_enabled = False

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        from aicache_lint.dockerfile.references import trace_from
        from aicache_lint.images.reference import parse_reference

        for stage in ctx.facts.stages:
            if stage.parent is not None or not stage.base or "$" in stage.base:
                continue
            image = parse_reference(stage.base)
            if image is None or image.pinned:
                continue
            word = cuda_images.reference_word(stage.from_instruction, ctx.doc.escape)
            span = word.span if word else stage.from_instruction.keyword_span
            message = f"`{stage.base}` is not pinned by digest: the tag can move under the layer cache"
            if ctx.resolver is None:
                yield Violation(span, message + " (`--resolve-images` looks the digest up and pins it)")
                continue
            found = ctx.resolver.digest(image)
            if found.missing:  # or an image built locally (`docker build -t name`), which no registry has
                yield Violation(span, f"{message}; {image.registry} has no `{image.repository}:{image.tag or 'latest'}`, "
                                      "so there is no digest to pin (an image built locally cannot be pinned this way)")
                continue
            if found.value is None:
                yield Violation(span, message + " (the registry did not answer: no automatic fix)")
                continue
            trace = trace_from(ctx.doc, stage.from_instruction)
            edits = trace.edits([(len(stage.base), len(stage.base), "@" + found.value)]) if trace else None
            if trace is None or trace.text != stage.base or edits is None:
                yield Violation(span, message + " (no automatic fix: the reference is not written out verbatim)")
                continue
            yield Violation(span, message, Fix.safe(f"Pin `{stage.base}` to `{found.value}`", *edits))
