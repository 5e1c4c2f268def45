"""AIC201 hf-home-not-set."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.dockerfile.facts import Stage
from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.libraries import (
    HF_CACHE_VARS,
    HF_LIBRARIES,
    TRANSFORMERS_CACHE_VARS,
)
from aicache_lint.knowledge.model_cache import (
    CacheTarget,
    base_may_set,
    cache_env_fix,
    cache_target,
    first_use_in_image,
    set_at_start,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

# Libraries that download from the Hugging Face Hub at run time (DOMAIN §3.3).


class HfHomeNotSet(Rule):
    """
    ## What it does
    Flags an image that installs a Hugging Face library (transformers, diffusers,
    sentence-transformers, huggingface_hub, datasets, peft, optimum, timm, open_clip_torch,
    faster-whisper, whisperx, vllm) or runs `hf download` / `huggingface-cli download`, while the
    final image sets neither `HF_HOME` nor `HF_HUB_CACHE` (nor its legacy alias
    `HUGGINGFACE_HUB_CACHE`). Only stages that end up in the final image count: the final stage,
    the stages it is built `FROM`, and stages it copies files from. A variable the image's
    entrypoint script exports before it runs the command (`export HF_HOME=${HF_HOME:-/data/hf}`
    then `exec "$@"`) counts as set: an ENV would only be its default.

    ## Why is this bad?
    Models then land in `~/.cache/huggingface` inside the container's writable layer, a path
    nobody mounted: every new container downloads gigabytes of weights again, and a Compose file
    cannot know which directory to keep in a volume. An explicit `HF_HOME` gives the cache one
    stable, documented place to persist.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN pip install transformers
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    ENV HF_HOME=/data/.huggingface
    RUN pip install transformers
    ```

    ## Fix safety
    The fix inserts `ENV HF_HOME=<path>` right after the `FROM` of the first final-image stage
    that installs or downloads (or after the final `FROM` when the libraries are copied in from a
    builder stage). It only decides where a cache that does not exist yet will live, so it is
    safe. The path is `/data/.huggingface` for an image that runs as root; for a non-root final
    `USER` it is that user's `~/.cache/huggingface` (the default, made explicit), because a non-root
    user cannot create `/data`. The rule reports without a fix when the final user's home cannot be
    known (a user of the base image), and when `TRANSFORMERS_CACHE` or `PYTORCH_TRANSFORMERS_CACHE`
    is set: transformers 4.x would keep using that directory and the cache would be split in two.
    Not reported: `hf download --local-dir` (it never writes the Hugging Face cache), images built
    on a base known to set the cache (text-generation-inference sets `HF_HOME=/data`), and packages
    named only in requirement files, which are not seen.

    When a Compose service that builds this Dockerfile (a `compose.yaml` in its directory or
    one above it, up to the repository root) keeps the default `~/.cache/huggingface` on a volume or
    bind mount and sets no `HF_HOME` of its own, the fix writes that default path instead, so the
    cache stays on the volume: moving it would leave the volume unused and download everything
    again.

    ## Options
    `hf-home` (string, default `/data/.huggingface`): the path written for root images.

    ## References
    - [huggingface_hub environment variables](https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables)
    - [Manage the huggingface_hub cache](https://huggingface.co/docs/huggingface_hub/guides/manage-cache)
    """

    code = "AIC201"
    name = "hf-home-not-set"
    summary = "An image with Hugging Face libraries sets no HF_HOME"
    fix_availability = FixAvailability.SOMETIMES
    default_options = {"hf-home": "/data/.huggingface"}

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        found = first_use_in_image(ctx, HF_CACHE_VARS, self._first_hf_use)
        if found is None or set_at_start(ctx, HF_CACHE_VARS):
            return
        anchor, end, (span, what) = found
        target = cache_target(ctx, end, self.options(ctx)["hf-home"], "huggingface", "hf")
        message = f"{what}, but the image sets no `HF_HOME`: downloaded models {target.consequence}"
        yield Violation(span, message + base_may_set(end), self._fix(ctx, anchor, end, target))

    def _first_hf_use(self, ctx: DockerfileContext, stage: Stage):
        facts = ctx.facts
        for instr in stage.instructions:
            if (instr.inner or instr).keyword != "RUN":
                continue
            for inv in facts.invocations(instr):
                script = inv.command.script  # nested for `sh -c` / heredoc bodies: maps to the file
                if inv.program in ("hf", "huggingface-cli"):
                    sub = [w.value for w in inv.args if not w.value.startswith("-")][:1]
                    # `--local-dir` writes the files there and never fills the HF cache (DOMAIN §2.7).
                    local = any(w.value == "--local-dir" or w.value.startswith("--local-dir=") for w in inv.args)
                    if sub == ["download"] and not local:
                        words = inv.program_words + inv.args[:1]
                        return script.file_span(words[0].start, words[-1].end), f"`{inv.program} download` fetches a model"
                for req in ctx.workspace.requested_packages(ctx.path, facts, instr, inv):
                    if req.name in HF_LIBRARIES:
                        return req.span(inv), f"{req.named} downloads models from the Hugging Face Hub"
        return None

    def _fix(self, ctx: DockerfileContext, stage: Stage, end, target: CacheTarget) -> Fix | None:
        if any(var in end.env for var in TRANSFORMERS_CACHE_VARS):
            # transformers 4.x keeps using that dir for its models: a new HF_HOME elsewhere would
            # split the cache in two (DOMAIN trap 9); the right move depends on the value.
            return None
        return cache_env_fix(ctx, stage, "HF_HOME", target)

    def options(self, ctx: DockerfileContext) -> dict:
        return {**self.default_options, **ctx.options}

