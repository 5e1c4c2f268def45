"""What well-known base images set that a Dockerfile cannot show: their default USER and cache
variables. For any other image these are not known: facts then assume root and no such variables
(unless the Dockerfile itself suggests otherwise), and a fix resting on that says so (see
``State.assumption``)."""

from __future__ import annotations

from typing import NamedTuple


class BaseImage(NamedTuple):
    repository: str  # without registry-less `docker.io/library/` noise, without tag
    user: str | None = None  # the image's USER when not root
    uid: int | None = None
    gid: int | None = None
    home: str | None = None
    env: tuple[tuple[str, str | None], ...] = ()  # (name, value); None: set, value depends on the tag


KNOWN = (
    # mambaorg/micromamba runs as `mambauser` (MAMBA_USER_ID=57439) with MAMBA_ROOT_PREFIX=/opt/conda:
    # micromamba-docker Dockerfiles (DOMAIN §2 table).
    BaseImage("mambaorg/micromamba", "mambauser", 57439, 57439, "/home/mambauser", (("MAMBA_ROOT_PREFIX", "/opt/conda"),)),
    # text-generation-inference sets HF_HOME=/data since v2.3.0 and HUGGINGFACE_HUB_CACHE=/data
    # before it (huggingface/text-generation-inference Dockerfile; DOMAIN §3.4).
    BaseImage("ghcr.io/huggingface/text-generation-inference", env=(("HF_HOME", None),)),
)


# Images that run as root and set none of the variables that move a cache (HOME, XDG_CACHE_HOME,
# PIP_*/UV_*/POETRY_*/CONDA_* cache settings, HF_*/TORCH_HOME): their Dockerfiles have no USER line
# and no such ENV (docker-library/<name> for the official images; gitlab.com/nvidia/container-images/
# cuda; pytorch/pytorch `Dockerfile`; ContinuumIO/docker-images; conda-forge/miniforge-images).
# `golang` (GOPATH) and `rust` (CARGO_HOME) are read by the Go/cargo rule itself.
ROOT_IMAGES = frozenset({
    "python", "ubuntu", "debian", "alpine", "busybox", "fedora", "centos", "rockylinux", "almalinux",
    "amazonlinux", "buildpack-deps", "node", "golang", "rust", "scratch",
    "nvidia/cuda", "nvcr.io/nvidia/cuda", "pytorch/pytorch",
    "continuumio/miniconda3", "continuumio/anaconda3", "condaforge/miniforge3", "condaforge/mambaforge",
})


def repository(reference: str | None) -> str | None:
    """``nvcr.io/nvidia/cuda`` of ``nvcr.io/nvidia/cuda:12.4.1-runtime@sha256:...``; Docker Hub
    references lose their default registry host and ``library/`` (``docker.io/library/rust`` ->
    ``rust``). Lower-cased; None for no reference."""
    if not reference:
        return None
    name = reference.split("@", 1)[0]
    slash = name.rfind("/")
    if ":" in name[slash + 1 :]:
        name = name[: name.rfind(":")]
    name = name.lower()
    for host in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        name = name.removeprefix(host)
    return name.removeprefix("library/")


def lookup(reference: str | None) -> BaseImage | None:
    name = repository(reference)
    return next((b for b in KNOWN if b.repository == name), None)


def runs_as_root(reference: str | None) -> bool:
    """Whether the image is known to run as root with none of the cache variables set."""
    return repository(reference) in ROOT_IMAGES
