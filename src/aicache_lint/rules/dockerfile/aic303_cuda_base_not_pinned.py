"""AIC303 cuda-base-not-pinned."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.rules.dockerfile import cuda_images


class CudaBaseNotPinned(Rule):
    """
    ## What it does
    Flags a `FROM` of `nvidia/cuda` (Docker Hub, with or without `docker.io/`, or
    `nvcr.io/nvidia/cuda`) whose tag is missing, is `latest`, or lacks the full
    `<major>.<minor>.<patch>-<flavor>-<os>` form: `nvidia/cuda:12.4-runtime`, `nvidia/cuda:12.4.1`,
    `nvidia/cuda:12.4.1-runtime`, `nvidia/cuda:11.0-base` (the pre-2021 scheme). Flavors are
    `base`, `runtime`, `devel` and `cudnn-runtime`/`cudnn-devel` (written `cudnn8-`/`cudnn9-` for
    older CUDA versions). `ARG` defaults are resolved first; a reference that depends on a build
    argument without a default is not reported. A reference with a `@sha256:` digest is pinned.

    ## Why is this bad?
    `nvidia/cuda` has no `latest` tag (it was removed in 2021): `FROM nvidia/cuda` fails with
    "manifest unknown". Short tags and the old scheme's tags are gone or move: NVIDIA supports only
    the latest patch release of each minor version and deletes end-of-life tags, so a short tag
    either stops resolving or changes under the layer cache, and every builder may get another
    CUDA, cuDNN or OS. The CUDA version also decides the host driver the container needs.

    ## Example
    ```dockerfile
    FROM nvidia/cuda:12.4-runtime
    ```

    ## Use instead
    ```dockerfile
    FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
    ```

    Or, to make the build immutable, add the digest (tags and digests of end-of-life versions are
    deleted by NVIDIA about six months after EOL, so keep the tag for humans):
    ```dockerfile
    FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04@sha256:<digest>
    ```

    ## Fix safety
    Report only. No offline fix can know the right tag: the patch release, the flavor (`base`,
    `runtime`, `devel`, with or without cuDNN) and the OS each change what the image contains, and
    NVIDIA's list of supported tags changes as versions reach end of life. Pick the tag from
    NVIDIA's supported-tags list.

    ## Options
    None.

    ## References
    - [NVIDIA CUDA images: supported tags](https://gitlab.com/nvidia/container-images/cuda/-/blob/master/doc/supported-tags.md)
    - [NVIDIA CUDA images: support policy](https://gitlab.com/nvidia/container-images/cuda/-/blob/master/doc/support-policy.md)
    - [nvidia/cuda on Docker Hub](https://hub.docker.com/r/nvidia/cuda)
    - [NVIDIA/nvidia-docker#1454: `latest` tag removed](https://github.com/NVIDIA/nvidia-docker/issues/1454)
    """

    code = "AIC303"
    name = "cuda-base-not-pinned"
    summary = "An nvidia/cuda base image without a full X.Y.Z-flavor-os tag"
    fix_availability = FixAvailability.NONE

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        for stage in ctx.facts.stages:
            ref = cuda_images.parse(stage.base)
            if ref is None:
                continue
            if ref.digest and cuda_images.DIGEST.fullmatch(ref.digest):
                continue
            if ref.tag is None:
                problem = "has no tag, which means `latest`, and `nvidia/cuda` has no `latest` tag"
            elif ref.tag == "latest":
                problem = "uses `latest`, which `nvidia/cuda` does not publish"
            elif ref.full is None:
                problem = f"uses the short tag `{ref.tag}`, which NVIDIA may move or delete"
            else:
                continue
            word = cuda_images.reference_word(stage.from_instruction, ctx.doc.escape)
            span = word.span if word else stage.from_instruction.keyword_span
            yield Violation(
                span,
                f"`{stage.base}` {problem}: pin a full `<X.Y.Z>-<flavor>-<os>` tag "
                "(e.g. `12.4.1-cudnn-runtime-ubuntu22.04`) from NVIDIA's supported-tags list",
            )
