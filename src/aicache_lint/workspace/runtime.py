"""Runtime links: a Compose service that has `build:` and the image its Dockerfile makes.

The image a service runs decides where it keeps models: the final (or `target:`) stage's `HF_HOME`,
`TORCH_HOME`, `XDG_CACHE_HOME`, its USER and that user's HOME, and the Hugging Face / torch
libraries it installs (DOMAIN §3). The workspace gives the Dockerfile (`context` + `dockerfile`,
default `Dockerfile`) with the build `args` applied to the ARG defaults; we summarise what the rules
need. A Dockerfile that cannot be read (missing, a URL context, `dockerfile_inline`) gives None:
no guess.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.compose.project import Service
    from aicache_lint.dockerfile.facts import Facts, Stage, State
    from aicache_lint.dockerfile.image_writes import ImageWrite
    from aicache_lint.workspace.index import Workspace


class LinkedImage(NamedTuple):
    """What a service's Dockerfile says about the image it runs."""

    dockerfile: str  # the path read
    stage: str | None  # the stage used: its `AS` name, or None for an unnamed final stage
    env: dict[str, str | None]  # ENV of that stage at its end (None: value not known)
    user: str | None  # as written in USER ("" never set = root); None when unknown (base image user)
    uid: int | None
    is_root: bool
    home: str | None  # the user's HOME (may be a guess: see ``home_known``)
    home_known: bool
    hf_libraries: tuple[str, ...]  # Hugging Face libraries installed into the image
    torch_libraries: tuple[str, ...]  # torch libraries installed into the image
    created_dirs: dict[str, str]  # directory -> owner name the build makes it for (``State.dirs``)
    writes: tuple["ImageWrite", ...] = ()  # where the build may put files (dockerfile/image_writes.py)
    # What the summary takes for granted about an unknown base image (``State.assumption``), or None.
    assumed: str | None = None

    def filler(self, directory: str) -> "ImageWrite | None":
        """The first build step that may put files in ``directory``: a volume there would hide them."""
        from aicache_lint.dockerfile.image_writes import first_filler

        return first_filler(list(self.writes), directory)

    def owns(self, directory: str) -> bool:
        """Whether the image creates ``directory`` (or a parent it chowns recursively) for its
        final user, so a new named volume mounted there is writable (DOMAIN trap 17)."""
        if self.is_root:
            return True
        names = {n for n in (self.user, str(self.uid) if self.uid is not None else None) if n}
        owner = self.created_dirs.get(directory.rstrip("/") or "/")
        return owner is not None and owner in names


def linked_image(ws: "Workspace", service: "Service") -> LinkedImage | None:
    """The linked image of a service with a `build:` whose Dockerfile can be read, else None."""
    built = built_stage(ws, service)
    if built is None:
        return None
    dockerfile, facts, stage = built
    return _summary(ws, dockerfile, facts, stage, service.build.context)


def built_stage(ws: "Workspace", service: "Service") -> tuple[str, "Facts", "Stage"] | None:
    """The Dockerfile a service's `build:` names, its facts under the service's build `args`, and
    the stage it builds (`target:`, else the final one); None when it is not built here from a
    local context, or its Dockerfile cannot be read."""
    build = service.build
    if build is None or build.dockerfile_inline or build.dockerfile is None or build.context is None:
        return None
    if "://" in build.context or build.context.startswith("git@"):
        return None
    args = tuple(sorted((name, var.value) for name, var in build.args.items() if var.value is not None))
    parsed = ws.dockerfile(build.dockerfile, args)
    stage = parsed[1].target_stage(build_target(service)) if parsed is not None else None
    return (build.dockerfile, parsed[1], stage) if stage is not None else None


def build_target(service: "Service") -> str | None:
    """The `build.target` of the last file that sets one (interpolated), or None."""
    from aicache_lint.compose.model import Mapping

    target = None
    for cfile, mapping in service.definitions:
        build = mapping.get("build")
        if isinstance(build, Mapping) and build.get("target") is not None:
            target = cfile.value(build.get("target"))
    return target


def _summary(ws: "Workspace", path: str, facts, stage: "Stage", context: str) -> LinkedImage:
    from aicache_lint.dockerfile.image_writes import image_writes
    from aicache_lint.knowledge.libraries import HF_LIBRARIES, TORCH_LIBRARIES
    from aicache_lint.knowledge.model_cache import image_stages

    end: State = facts.end_state(stage)
    # What the base image, when built here, installs counts too (`FROM acme/base` with transformers).
    root = stage.chain()[-1]
    inherited = ws.base_facts(root.base) if root.base else None
    packages = inherited.packages if inherited is not None else ()
    hf: list[str] = [name for name in packages if name in HF_LIBRARIES]
    torch: list[str] = [name for name in packages if name in TORCH_LIBRARIES]
    for s in sorted(image_stages(stage), key=lambda s: s.index):
        for instr in s.instructions:
            if (instr.inner or instr).keyword != "RUN":
                continue
            for inv in facts.invocations(instr):
                for req in ws.requested_packages(path, facts, instr, inv):
                    if req.name in HF_LIBRARIES and req.name not in hf:
                        hf.append(req.name)
                    if req.name in TORCH_LIBRARIES and req.name not in torch:
                        torch.append(req.name)
    info = end.user_info if end.user is not None else None
    return LinkedImage(
        dockerfile=path,
        stage=stage.name,
        env=dict(end.env),
        user=end.user,
        uid=0 if end.is_root else (info.uid if info else None),
        is_root=end.is_root,
        home=end.home,
        home_known=bool(end.home_known and end.home and end.home.startswith("/")),
        hf_libraries=tuple(hf),
        torch_libraries=tuple(torch),
        created_dirs=dict(end.dirs),
        writes=tuple(image_writes(facts, stage, _context_lookup(ws, context))),
        assumed=end.assumption(),
    )


def _context_lookup(ws: "Workspace", context: str):
    """What the build context holds at a COPY source (a `.dockerignore` is not applied: listing
    more entries only makes the answer more cautious)."""
    from aicache_lint.dockerfile.image_writes import ContextEntry

    root = os.path.abspath(context)

    def look(source: str) -> "ContextEntry | None":
        path = os.path.normpath(os.path.join(root, source.lstrip("/")))  # sources are relative to the context
        if path != root and not path.startswith(root + os.sep):
            return None
        names = ws.listdir(path)
        if names is not None:
            return ContextEntry(True, tuple(names))
        return ContextEntry(False, ()) if ws.is_file(path) else None

    return look
