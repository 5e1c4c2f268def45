"""AIC303 cuda-base-not-pinned."""

from __future__ import annotations

import re
from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Applicability
from aicache_lint.knowledge import cuda_images
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

VARIANTS = ("base", "runtime", "devel", "cudnn-runtime", "cudnn-devel")


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
    fix_safety = Applicability.UNSAFE
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
        fixer = None  # the tag table and the fix logic: loaded for the first nvidia/cuda FROM only
        for stage in ctx.facts.stages:
            ref = cuda_images.parse(stage.base)
            if ref is None or (ref.digest and cuda_images.DIGEST.fullmatch(ref.digest)):
                continue
            if fixer is None:
                from aicache_lint.knowledge import cuda_tag_fix as fixer
            word = cuda_images.reference_word(stage.from_instruction, ctx.doc.escape)
            span = word.span if word else stage.from_instruction.keyword_span
            found = fixer.check_stage(ctx, stage, ref, options["default-flavor"], options["default-os"])
            if found is not None:
                yield Violation(span, *found)
