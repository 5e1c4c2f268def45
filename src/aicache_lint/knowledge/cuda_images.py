"""`nvidia/cuda` image references in FROM lines.

Tag scheme (DOMAIN §4.1): ``<major>.<minor>.<patch>-<flavor>-<os>`` with flavor ``base``,
``runtime``, ``devel``, or ``cudnn[8|9]-runtime`` / ``cudnn[8|9]-devel``. Docker Hub
(``nvidia/cuda``) and NGC (``nvcr.io/nvidia/cuda``) publish the same tags; there is no ``latest``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.words import split_words
from aicache_lint.source import Span

REPOSITORIES = frozenset({
    "nvidia/cuda",
    "docker.io/nvidia/cuda",
    "index.docker.io/nvidia/cuda",
    "registry-1.docker.io/nvidia/cuda",
    "nvcr.io/nvidia/cuda",
})
FULL_TAG = re.compile(
    r"(?P<version>\d+\.\d+\.\d+)-(?P<flavor>base|runtime|devel|cudnn\d*-runtime|cudnn\d*-devel)-(?P<os>[a-z]+[0-9.]*)"
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class CudaRef(NamedTuple):
    repository: str  # lower-cased, as written (with registry)
    tag: str | None
    digest: str | None

    @property
    def full(self) -> re.Match[str] | None:
        return FULL_TAG.fullmatch(self.tag) if self.tag else None


def parse(reference: str | None) -> CudaRef | None:
    """The parts of an `nvidia/cuda` reference; None for any other image (or an unknown one)."""
    if not reference:
        return None
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    tag = None
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    if name.lower() not in REPOSITORIES:
        return None
    return CudaRef(name.lower(), tag, digest or None)


@lru_cache(maxsize=1)
def published_tags() -> frozenset[str]:
    """Tags the bundled table lists as published (supported, or unsupported but not deleted);
    one set per process, so that look-ups keyed by it (``images.cuda.candidates``) hit their cache."""
    from aicache_lint.images.cuda import bundled_table

    return bundled_table().published


class ReferenceWord(NamedTuple):
    raw: str  # the image reference as written in the FROM line
    span: Span  # its span in the file (None-free: FROM words are on joined lines)
    contiguous: bool  # the word is one unbroken run of the file (no continuation inside)


def reference_word(instruction: Instruction, escape: str) -> ReferenceWord | None:
    """The image reference word of a FROM (flags such as ``--platform`` are not words)."""
    args = instruction.args
    words = split_words(args.text, escape)
    if not words:
        return None
    w = words[0]
    return ReferenceWord(w.raw, args.file_span(w.start, w.end), args.is_contiguous(w.start, w.end))
