"""AIC124 volume-dir-not-in-image."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.facts import State, covers_path
from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.compose.caches import Runtime
    from aicache_lint.compose.project import Service
    from aicache_lint.dockerfile.facts import Stage

_LABELS = {"hf": ("Hugging Face", "huggingface"), "torch": ("torch hub", "torch")}


class VolumeDirNotInImage(Rule):
    """
    ## What it does
    Flags an image that a Compose service runs as a non-root user when the service keeps a
    cache in a named volume -- one it mounts, or the model cache `model-cache-not-persisted`
    (AIC401) would mount -- at a directory the image does not create for that user.

    ## Why is this bad?
    A new named volume copies the directory it is mounted on from the image, with its owner.
    Where the image has no such directory, Docker creates it for the volume owned by `root`
    (DOMAIN trap 17), and a service running as `app` cannot write there: Hugging Face and
    torch hub downloads fail, or land nowhere persistent, on every start.

    ## Example
    ```dockerfile
    # compose.yaml: services.app.volumes: [hf-cache:/home/app/.cache/huggingface]
    FROM python:3.12-slim
    RUN useradd -m -u 1000 app
    USER app
    RUN pip install --user transformers
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    RUN useradd -m -u 1000 app
    USER app
    RUN mkdir -p /home/app/.cache/huggingface
    RUN pip install --user transformers
    ```

    ## Fix safety
    The fix adds `RUN mkdir -p <dir>` right after the `USER` line of the image's final stage
    (after its `FROM` when the user comes from the base image), so the directory exists, empty
    and owned by that user, before anything else runs as them; a new volume then takes that
    ownership. It is safe: an empty directory the user owns changes nothing else. There is no
    fix when the directory lies outside the user's home, whose parents the user cannot create
    (create it as root and `chown` it before the `USER` line), or when the home itself is not
    made by this Dockerfile.

    ## Options
    None.

    ## References
    - [Docker: populate a volume using a container](https://docs.docker.com/engine/storage/volumes/#populate-a-volume-using-a-container)
    - [Compose file reference: volumes](https://docs.docker.com/reference/compose-file/volumes/)
    """

    code = "AIC124"
    name = "volume-dir-not-in-image"
    summary = "A non-root service keeps a cache volume where its image makes no directory for that user"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        reported: set[str] = set()
        for compose_file, service in ctx.workspace.services_building(ctx.path):
            from aicache_lint.compose.caches import (
                runtime,  # only when a Compose file builds this one
            )

            rt = runtime(service)
            linked = rt.linked
            if linked is None or rt.is_root is not False or linked.user is None or rt.user != linked.user:
                continue  # root writes anything; a Compose `user:` of its own is another user
            stage = next((s for s in ctx.facts.stages if s.name == linked.stage), ctx.facts.final_stage) \
                if linked.stage else ctx.facts.final_stage
            if stage is None:
                continue
            end = ctx.facts.end_state(stage)
            for directory, what in _needed(service, rt):
                if directory in reported or _owned(end, directory):
                    continue
                reported.add(directory)
                anchor = _user_line(stage) or stage.from_instruction
                where = os.path.relpath(compose_file, os.path.dirname(os.path.abspath(ctx.path)))
                message = (
                    f"service `{service.name}` ({where}) runs this image as `{linked.user}` and {what} "
                    f"at `{directory}`, which the image does not create for that user: a new volume there is "
                    f"owned by root and `{linked.user}` cannot write it"
                )
                fix, why = _fix(ctx, stage, end, directory)
                yield Violation(anchor.span, message + (f" (no fix: {why})" if why else ""), fix)


def _needed(service: "Service", rt: "Runtime") -> list[tuple[str, str]]:
    """(directory, what it keeps) for each named volume of the service and each model cache that
    needs one (where AIC401 would mount it)."""
    from aicache_lint.compose.caches import covered, model_caches

    found = [(posixpath.normpath(v.target), f"mounts volume `{v.source}`") for v in service.volumes
             if v.is_named and v.target and v.target.startswith("/")]
    for cache in model_caches(service, rt):
        if cache.kind not in _LABELS or covered(service, cache) is not False:
            continue
        label, tool = _LABELS[cache.kind]
        directory = cache.root if cache.variable is not None or rt.has("XDG_CACHE_HOME") else (
            posixpath.join(rt.home, ".cache", tool) if rt.home else None)
        if directory:
            found.append((directory, f"needs a volume for its {label} cache (AIC401)"))
    return found


def _owned(state: State, directory: str) -> bool:
    """Whether the image makes ``directory`` for the stage's final user."""
    info = state.user_info
    names = {n for n in (info.name, str(info.uid) if info.uid is not None else None, state.user) if n}
    return state.dirs.get(directory) in names or (
        info.home_created and info.home is not None and posixpath.normpath(info.home) == directory)


def _user_line(stage: "Stage"):
    return next((i for i in reversed(stage.instructions) if i.keyword == "USER"), None)


def _fix(ctx: DockerfileContext, stage: "Stage", end: State, directory: str) -> tuple[Fix | None, str]:
    from aicache_lint.knowledge.package_cache import plain_path

    home = end.home
    if not (home and end.home_known and covers_path(home, directory) and plain_path(directory)):
        return None, "the directory is outside the user's home: create it as root and `chown` it before `USER`"
    if not end.dir_exists(posixpath.normpath(home)):
        return None, f"this Dockerfile does not create the home `{home}`"
    anchor = _user_line(stage) or stage.from_instruction
    keyword = edits.keyword(anchor, ctx.source, "RUN")
    title = f"Create `{directory}` as `{end.user_info.name}` in the image"
    return Fix.safe(title, edits.insert_line_after(anchor, f"{keyword} mkdir -p {directory}")), ""
