"""AIC202 torch-home-not-set."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.knowledge.libraries import TORCH_CACHE_VARS
from aicache_lint.knowledge.model_cache import base_may_set, cache_env_fix, cache_target
from aicache_lint.knowledge.torch_hub import torch_hub_use
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class TorchHomeNotSet(Rule):
    """
    ## What it does
    Flags an image that installs `torch`, `torchvision`, `torchaudio` or `timm` while the final
    image sets neither `TORCH_HOME` nor `XDG_CACHE_HOME`. Only stages that end up in the final
    image count: the final stage, the stages it is built `FROM`, and stages it copies files from.

    `TORCH_HOME` (default `$XDG_CACHE_HOME/torch`, else `~/.cache/torch`) is the root of the
    torch hub cache: `torch.hub.load()` unpacks repositories into `$TORCH_HOME/hub`, and
    `torch.hub.load_state_dict_from_url()` -- which torchvision and torchaudio pretrained weights
    use -- stores files in `$TORCH_HOME/hub/checkpoints`. timm downloads most models from the
    Hugging Face Hub (see AIC201) and uses the torch hub cache only for weights published as
    plain URLs. `TORCH_HOME` does **not** move the caches of other libraries: openai-whisper keeps
    its models in `$XDG_CACHE_HOME/whisper` (`~/.cache/whisper`), open_clip's URL fallback in
    `~/.cache/clip`, Hugging Face libraries in `HF_HOME`. Installing openai-whisper alone is
    therefore not reported here.

    ## Why is this bad?
    Weights fetched at run time land in `~/.cache/torch` inside the container's writable layer, a
    path nobody mounted: every new container downloads them again, and a Compose file cannot know
    which directory to keep in a volume. An explicit `TORCH_HOME` gives the cache one stable,
    documented place to persist.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN pip install torch torchvision
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    ENV TORCH_HOME=/data/.torch
    RUN pip install torch torchvision
    ```

    ## Fix safety
    The fix inserts `ENV TORCH_HOME=<path>` right after the `FROM` of the first final-image stage
    that installs the libraries (or after the final `FROM` when they are copied in from a builder
    stage). It only decides where a cache that does not exist yet will live, so it is safe. The
    path is `/data/.torch` (option `torch-home`) for an image that runs as root; for a non-root
    final `USER` it is that user's `~/.cache/torch` (the default, made explicit), because a
    non-root user cannot create `/data`. The rule reports without a fix when the final user's
    home cannot be known (a user of the base image, or a numeric uid). Packages named only in
    requirement files, and torch that comes with the base image, are not seen.

    When a Compose service that builds this Dockerfile (a `compose.yaml` in its directory or
    one above it, up to the repository root) keeps the default `~/.cache/torch` on a volume or
    bind mount and sets no `TORCH_HOME` of its own, the fix writes that default path instead, so the
    cache stays on the volume: moving it would leave the volume unused and download everything
    again.

    ## Options
    `torch-home` (string, default `/data/.torch`): the path written for root images.

    ## References
    - [torch.hub: where saved models are stored](https://pytorch.org/docs/stable/hub.html#where-are-my-downloaded-models-saved)
    - [torchvision: pretrained weights](https://pytorch.org/vision/stable/models.html)
    - [openai/whisper `load_model` (`download_root`)](https://github.com/openai/whisper/blob/main/whisper/__init__.py)
    """

    code = "AIC202"
    name = "torch-home-not-set"
    summary = "An image with torch libraries sets no TORCH_HOME"
    fix_availability = FixAvailability.SOMETIMES
    default_options = {"torch-home": "/data/.torch"}

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        final = facts.final_stage
        if final is None:
            return
        end = facts.end_state(final)
        if any(var in end.env for var in TORCH_CACHE_VARS):
            return
        use = torch_hub_use(ctx.workspace, ctx.path, facts, final)
        if use is None:
            return
        if any(ctx.workspace.image_code(ctx.path).env.get(var) for var in TORCH_CACHE_VARS):
            return  # the entrypoint script exports it before the code starts
        options = {**self.default_options, **ctx.options}
        target = cache_target(ctx, end, options["torch-home"], "torch", "torch")
        anchor = use.stage if use.stage in final.chain() else final
        yield Violation(
            use.span,
            f"{use.what} downloads pretrained weights into the torch hub cache, but the image sets no "
            f"`TORCH_HOME`: they {target.consequence}{base_may_set(end)}",
            cache_env_fix(ctx, anchor, "TORCH_HOME", target),
        )
