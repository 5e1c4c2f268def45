"""AIC202 torch-home-not-set."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.knowledge.libraries import TORCH_CACHE_VARS
from aicache_lint.knowledge.model_cache import base_may_set, cache_env_fix, cache_target, set_at_start
from aicache_lint.knowledge.torch_hub import torch_hub_use
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class TorchHomeNotSet(Rule):
    """
    ## What it does
    Flags an image that loads weights through torch.hub while the final image sets neither
    `TORCH_HOME` nor `XDG_CACHE_HOME`. Installing torch downloads nothing; the torch hub cache fills
    when
    - the code the image runs -- its `CMD`/`ENTRYPOINT`, the files they start (found in the build
      context through `COPY` and `WORKDIR`) and the local modules those import -- calls
      `torch.hub.load`, `torch.hub.load_state_dict_from_url` (`torch.utils.model_zoo.load_url`), a
      torchvision model builder with `weights=`/`pretrained=`, or a torchaudio pipeline's
      `get_model()`; the finding is at the install of torch (at the command when the install is
      not seen) and names the file and line;
    - a `RUN` does so at build time: `python -c`, a heredoc, or a script the `RUN` runs;
    - the image installs a library that does so by default when used: `lpips` (torchvision's
      pretrained AlexNet/VGG), `pytorch-fid` (its Inception weights), `demucs` (its pretrained
      models), `whisperx` (its torchaudio alignment models for English, French, German, Spanish
      and Italian).

    Only stages that end up in the final image count: the final stage, the stages it is built
    `FROM`, and stages it copies files from. A load with a local path (`source="local"`) or its own
    directory (`model_dir=`) does not use the cache. timm's `create_model(..., pretrained=True)`
    takes its weights from the Hugging Face Hub (see AIC201), not from torch.hub, and an
    entrypoint script that exports `TORCH_HOME` before the code starts sets it too.

    `TORCH_HOME` (default `$XDG_CACHE_HOME/torch`, else `~/.cache/torch`) is the root of the
    torch hub cache: `torch.hub.load()` unpacks repositories into `$TORCH_HOME/hub`, and
    `load_state_dict_from_url()` stores files in `$TORCH_HOME/hub/checkpoints`. It does **not**
    move the caches of other libraries: openai-whisper keeps its models in
    `$XDG_CACHE_HOME/whisper`, open_clip's URL fallback in `~/.cache/clip`, Hugging Face libraries
    in `HF_HOME`.

    ## Why is this bad?
    Weights fetched at run time land in `~/.cache/torch` inside the container's writable layer, a
    path nobody mounted: every new container downloads them again, and a Compose file cannot know
    which directory to keep in a volume. An explicit `TORCH_HOME` gives the cache one stable,
    documented place to persist.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN pip install torch
    COPY app.py /app/app.py
    # app.py: model, utils = torch.hub.load("snakers4/silero-vad", "silero_vad")
    CMD ["python", "/app/app.py"]
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    ENV TORCH_HOME=/data/.torch
    RUN pip install torch
    COPY app.py /app/app.py
    CMD ["python", "/app/app.py"]
    ```

    ## Fix safety
    The fix inserts `ENV TORCH_HOME=<path>` right after the `FROM` of the final-image stage where
    the finding is (or after the final `FROM` when that stage is a builder the final stage copies
    from). It only decides where a cache that does not exist yet will live, so it is safe. The
    path is `/data/.torch` (option `torch-home`) for an image that runs as root; for a non-root
    final `USER` it is that user's `~/.cache/torch` (the default, made explicit), because a
    non-root user cannot create `/data`. The rule reports without a fix when the final user's
    home cannot be known (a user of the base image, or a numeric uid). Packages named in
    requirement files the build context does not hold, and code that comes with the base image,
    are not seen.

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
    - [torchaudio pipelines](https://pytorch.org/audio/stable/pipelines.html)
    - [timm: weights from the Hugging Face Hub first (`_resolve_pretrained_source`)](https://github.com/huggingface/pytorch-image-models/blob/main/timm/models/_builder.py)
    - [lpips: torchvision trunks](https://github.com/richzhang/PerceptualSimilarity/blob/master/lpips/pretrained_networks.py),
      [pytorch-fid: `fid_inception_v3`](https://github.com/mseitzer/pytorch-fid/blob/master/src/pytorch_fid/inception.py),
      [demucs: `RemoteRepo`](https://github.com/facebookresearch/demucs/blob/main/demucs/repo.py),
      [whisperX: `load_align_model`](https://github.com/m-bain/whisperX/blob/main/whisperx/alignment.py)
    - [openai/whisper `load_model` (`download_root`)](https://github.com/openai/whisper/blob/main/whisper/__init__.py)
    """

    code = "AIC202"
    name = "torch-home-not-set"
    summary = "An image that loads torch hub weights sets no TORCH_HOME"
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
        if set_at_start(ctx, TORCH_CACHE_VARS):
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
