"""Package data: offline tables shipped with aicache-lint (sources in ``SOURCES.md``)."""

from __future__ import annotations

import os


def read_text(name: str) -> str:
    """A data file's text, read next to the package's files as every install but a zipped one has
    them (importing importlib.resources costs a one-file run ~15 ms); a zip falls back to it."""
    try:
        with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as fh:
            return fh.read()
    except OSError:  # in a zip archive
        from importlib.resources import files

        return files(__name__).joinpath(name).read_text(encoding="utf-8")
