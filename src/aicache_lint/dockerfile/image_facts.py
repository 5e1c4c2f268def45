"""What a stage inherits from its base image: user, home, environment, directories, packages.

The workspace gives these for an image built in the repository (the end state of its stage), the
known-image table for popular bases, and the registry's image config with `--resolve-images`.
``Facts`` starts a stage from them; with none, the base is unknown (see ``State.assumption``)."""

from __future__ import annotations

from typing import NamedTuple


class ImageFacts(NamedTuple):
    user: str | None  # "" or "root" for root, else the USER as the image config or Dockerfile says it; None: not known
    uid: int | None = None
    gid: int | None = None
    home: str | None = None  # the user's HOME (None: not known)
    env: tuple[tuple[str, str | None], ...] = ()  # (name, value); None: set, value not known
    dirs: tuple[tuple[str, str], ...] = ()  # directories the image made, with their owner's name
    packages: tuple[str, ...] = ()  # Python packages its installs requested (normalised names)
    origin: str = ""  # where these facts come from, for messages and `aicache-lint graph`
    # An image built here from an unknown base carries that base's assumption along (``State.assumption``).
    assumed_base: str | None = None
