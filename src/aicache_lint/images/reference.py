"""Image references as Docker reads them: ``[registry/]repository[:tag][@digest]``.

Docker Hub names are normalised the way the Docker CLI does (distribution/reference): a first
component with a ``.`` or ``:``, or ``localhost``, is a registry host; anything else is on Docker
Hub, and a one-component name is an official image under ``library/``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


class ImageRef(NamedTuple):
    registry: str  # "docker.io" for Docker Hub, else host[:port]
    repository: str  # "library/python", "nvidia/cuda"
    tag: str | None
    digest: str | None
    name_end: int  # where the name ends in the reference text (a tag would be inserted there)

    @property
    def pinned(self) -> bool:
        return self.digest is not None and DIGEST.fullmatch(self.digest) is not None


def parse_reference(reference: str) -> ImageRef | None:
    """None for `scratch`, a reference with variables, or one Docker would reject."""
    name, at, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    name_end = len(name)
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        name_end = colon
        if not _TAG.fullmatch(tag):
            return None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first.lower(), rest
    else:
        registry, path = DOCKER_HUB, name
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    if not _NAME.fullmatch(path) or (at and not digest):
        return None
    if registry == DOCKER_HUB and "/" not in path:
        if path == "scratch":
            return None
        path = f"library/{path}"
    return ImageRef(registry, path, tag, digest or None, name_end)
