"""The image graph: an image name built here -> the build that makes it -> its Dockerfile stage.

A `FROM` such an image inherits that stage's facts (USER with uid and home, ENV, the directories it
made, the packages it installs). A name two different builds claim, a cycle of images built FROM
each other, or a tag only a variable gives cannot be trusted: each is said once and nothing is used
(the base then stays unknown, and fixes resting on it are unsafe).

Names are compared as Docker does: `docker.io/library/` dropped, no tag means `latest`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.knowledge.base_images import ImageFacts

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Facts, Stage
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.invocations import Invocation


def image_key(reference: str) -> tuple[str, str] | None:
    """(repository, tag) of an image reference; None for a digest-only or empty reference."""
    from aicache_lint.knowledge.base_images import repository

    name = reference.split("@", 1)[0]
    if "@" in reference and ":" not in name[name.rfind("/") + 1:]:
        return None  # pinned by digest alone: not a name a build here produces
    repo = repository(name)
    if not repo:
        return None
    last = name[name.rfind("/") + 1:]
    tag = last.rsplit(":", 1)[1] if ":" in last else "latest"
    return repo, tag


class Built(NamedTuple):
    """An image built here: the build and the stage it ends at."""

    invocation: "Invocation"
    facts: "Facts"
    stage: "Stage"


class ImageGraph:
    def __init__(self, ws: "Workspace") -> None:
        self.ws = ws
        self._resolving: list[tuple[str, str]] = []  # images being resolved, outermost first
        self._cyclic: set[tuple[str, str]] = set()

    def forget(self) -> None:
        """A file changed: cycles are found again (the values themselves live in the workspace's
        cache, which drops those built from that file)."""
        self._cyclic.clear()

    @property
    def by_name(self) -> dict[tuple[str, str], list["Invocation"]]:
        def build() -> dict[tuple[str, str], list[Invocation]]:
            found: dict[tuple[str, str], list[Invocation]] = {}
            for inv in self.ws.invocations():
                for tag in inv.tags:
                    key = image_key(tag)
                    if key is not None:
                        found.setdefault(key, []).append(inv)
            return found

        return self.ws.cached(("images-by-name",), build)

    def builds_of(self, reference: str) -> list["Invocation"]:
        key = image_key(reference)
        return self.by_name.get(key, []) if key else []

    def built(self, reference: str) -> Built | None:
        """The build that makes ``reference`` here, with the facts of its stage; None when no
        single build does (each reason said once)."""
        key = image_key(reference)
        if key is None or not self.ws.build_files():
            return None
        invocations = self.by_name.get(key)
        if not invocations:
            self._variable_tag(reference, key)
            return None
        builds = {(os.path.realpath(i.dockerfile) if i.dockerfile else None, i.target) for i in invocations}
        if len(builds) > 1:
            where = "; ".join(i.origin.describe() for i in invocations)
            self.ws.notice(f"image `{reference}` is built by more than one build ({where}): its facts are not used")
            return None
        inv = invocations[0]
        if inv.dockerfile is None:
            return None
        if key in self._resolving:
            self.ws.notice(f"image `{reference}` is built FROM itself through other images built here: its facts are not used")
            self._cyclic.update(self._resolving[self._resolving.index(key):])  # every image on the cycle
            return None
        self._resolving.append(key)
        try:
            parsed = self.ws.dockerfile(inv.dockerfile, inv.args)
        finally:
            self._resolving.pop()
        if key in self._cyclic:
            return None
        if parsed is None:
            return None
        _, facts = parsed
        stage = facts.final_stage if not inv.target else next(
            (s for s in facts.stages if s.name == inv.target.lower()), None)
        if stage is None:
            self.ws.notice(f"{inv.origin.describe()} builds target `{inv.target}`, which {inv.dockerfile} does not have")
            return None
        return Built(inv, facts, stage)

    def _variable_tag(self, reference: str, key: tuple[str, str]) -> None:
        repo = key[0]
        for inv in self.ws.invocations():
            for phrase in inv.unresolved:
                if repo in phrase.lower():
                    self.ws.notice(f"image `{reference}` may be built by {inv.origin.describe()}, but its tag "
                                   f"is not known ({phrase}): its facts are not used")
                    return

    def base_facts(self, reference: str) -> ImageFacts | None:
        """What `FROM reference` inherits from an image built here (None: not built here, or not
        by exactly one build)."""
        key = image_key(reference)
        if key is None:
            return None
        def build() -> ImageFacts | None:
            built = self.built(reference)
            if key in self._cyclic:
                return None
            return _inherited(self.ws, built) if built is not None else self._from_registry(reference)

        return self.ws.cached(("base-facts", key), build)

    def _from_registry(self, reference: str) -> ImageFacts | None:
        resolver = self.ws.resolver
        look = getattr(resolver, "image_facts", None) if resolver is not None else None
        return look(reference) if look is not None else None


def _inherited(ws: "Workspace", built: Built) -> ImageFacts:
    """The facts of a built stage's end as its children see them."""
    facts, stage = built.facts, built.stage
    end = facts.end_state(stage)
    info = end.user_info
    packages: list[str] = []
    for s in reversed(stage.chain()):
        for instr in s.instructions:
            if (instr.inner or instr).keyword == "RUN":
                for inv in facts.invocations(instr):
                    for req in ws.requested_packages(built.invocation.dockerfile, facts, instr, inv):
                        if req.name not in packages:
                            packages.append(req.name)
    where = f"{built.invocation.dockerfile}" + (f" (stage `{stage.name}`)" if stage.name else "")
    return ImageFacts(
        user="" if end.is_root else end.user,
        uid=0 if end.is_root else info.uid,
        gid=0 if end.is_root else info.gid,
        home=end.home if end.home_known else None,
        env=tuple(end.env.items()),
        dirs=tuple(end.dirs.items()),
        packages=tuple(packages),
        origin=f"built here from {where} by {built.invocation.origin.describe()}",
        assumed_base=end.assumed_base,
    )
