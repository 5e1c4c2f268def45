"""AIC602 model-cache-dir-not-kept."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.rules.base import BuildFileContext, Rule


class ModelCacheDirNotKept(Rule):
    """
    ## What it does
    Flags a model load in Python code that a Compose service runs when the load names its own cache
    directory (`cache_dir=`, `cache_folder=`, `local_dir=`, `download_root=`, `model_dir=`) and the
    service keeps nothing there: no volume or bind mount covers the directory, and the image does not
    already hold the files (no `COPY`, `ADD` or `RUN` of its Dockerfile fills it). A relative path is
    read from the directory the code starts in (the image's `WORKDIR`, the service's `working_dir`, a
    `cd` in its entrypoint script). The code a service runs is its command's script or module and the
    local modules they import (see the README, "Python sources"); other files are not judged.

    ## Why is this bad?
    An explicit cache directory replaces the library's cache (`HF_HOME`, `TORCH_HOME`), so the volume
    that keeps those does not keep this one. The model lands in the container's writable layer and
    every new container -- each `docker compose up` after a rebuild or a pull -- downloads it again;
    in `/tmp` it may not even outlive a restart.

    ## Example
    ```python
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer("BAAI/bge-small-en-v1.5", cache_folder="/tmp/models")
    ```
    with a service that mounts no volume at `/tmp/models`.

    ## Use instead
    Drop the argument so the model goes to the Hugging Face cache the service keeps on a volume
    (AIC401), or mount a volume at the directory:
    ```yaml
    services:
      api:
        build: ./app
        volumes:
          - model-cache:/tmp/models
    volumes:
      model-cache:
    ```

    ## Fix safety
    No fix: whether to move the directory or to mount it is the author's choice, and the argument may
    be there to keep the model apart from a shared cache. The message names the service and the volume
    line that would keep the directory.

    ## Options
    None.

    ## References
    - [huggingface_hub: manage the cache](https://huggingface.co/docs/huggingface_hub/guides/manage-cache)
    - [sentence-transformers `SentenceTransformer(cache_folder=...)`](https://sbert.net/docs/package_reference/sentence_transformer/SentenceTransformer.html)
    - [Compose file reference: volumes](https://docs.docker.com/reference/compose-file/volumes/)
    """

    code = "AIC602"
    name = "model-cache-dir-not-kept"
    summary = "Code a service runs downloads a model into a directory no volume keeps"
    targets = ("python",)

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.knowledge.code_caches import is_temporary, lost_caches

        facts = ctx.file.data
        if facts is None:
            return
        for lost in lost_caches(ctx.workspace, ctx.path, facts):
            load = lost.load
            what = f"`{load.model}`" if load.model else "the model"
            where = "a temporary directory" if is_temporary(lost.directory) else "the container's writable layer"
            yield Violation(
                load.cache_span or load.span,
                f"`{load.cache_keyword}` puts {what} in `{lost.directory}`, {where} of service "
                f"`{lost.service.name}` ({lost.compose_file}): no volume keeps it, so every new container "
                f"downloads it again; mount one there (`- model-cache:{lost.directory}`) or leave the model in the "
                "Hugging Face cache the service keeps",
            )
