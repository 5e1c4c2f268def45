"""What popular base images set that a Dockerfile cannot show: their USER (with uid, gid and
home), the users they define, and their cache-relevant environment.

Every entry was read from the image's own Dockerfile (or, for Ubuntu, from reports of the image's
`/etc/passwd`) and names its source and the date it was checked; see ``data/SOURCES.md``. Facts
that differ between tags are told apart by the tag; a tag the table cannot place (a commit tag, a
hardware variant) gets no entry, so the image is unknown like any image not listed here: facts
then assume root and no cache variables, and a fix resting on that says so (``State.assumption``).

The environment lists only what moves, disables or names a cache, a package prefix or the image's
user (``HOME``, ``XDG_CACHE_HOME``, ``PIP_*``, ``UV_*``, ``CONDA_*``, ``MAMBA_*``, ``HF_HOME``,
``HF_HUB_CACHE``, ``HUGGINGFACE_HUB_CACHE``, ``TRANSFORMERS_CACHE``, ``TORCH_HOME``,
``VIRTUAL_ENV``; see ``is_cache_variable``). ``PATH`` is left out: no cache follows it, and a
Dockerfile's ``ENV PATH=/x:$PATH`` keeps its value unknown as before. Settings that change no
cache location (``UV_HTTP_TIMEOUT``, ``HF_HUB_ENABLE_HF_TRANSFER``) are left out too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable

# What a stage inherits from its base image: user, home, environment, directories, packages. The
# workspace gives these for an image built in the repository (the end state of its stage), this
# table for popular bases, and the registry's image config with `--resolve-images`. ``Facts``
# starts a stage from them; with none, the base is unknown (see ``State.assumption``).
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


_CACHE_PREFIXES = ("PIP_", "UV_", "CONDA_", "MAMBA_")
_CACHE_NAMES = frozenset({"HOME", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE",
                          "TRANSFORMERS_CACHE", "TORCH_HOME", "VIRTUAL_ENV"})


def is_cache_variable(name: str) -> bool:
    """Whether the table keeps ``name`` (see the module docstring)."""
    return name in _CACHE_NAMES or name.startswith(_CACHE_PREFIXES)


class User(NamedTuple):
    name: str
    uid: int
    gid: int
    home: str


class KnownImage(NamedTuple):
    repositories: tuple[str, ...]  # as ``repository()`` gives them
    source: str  # where the facts were read
    checked: str  # YYYY-MM-DD
    user: str = ""  # the image's USER; "" for root
    env: tuple[tuple[str, str | None], ...] = ()  # (name, value); None: set, value not known
    users: tuple[User, ...] = ()  # non-root users the image defines, its USER among them
    # Which tags the entry holds for, given the tag as ``_tag`` reads it; None: every tag.
    tags: Callable[[str | None], bool] | None = None


def _release(tag: str | None) -> tuple[int, ...] | None:
    """The version a tag starts with (``2.3.0``, ``v3.1``, ``25.3.0-1``), else None."""
    match = re.match(r"v?(\d+(?:\.\d+)*)", tag or "")
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def _floating(tag: str | None) -> bool:
    return tag in (None, "latest")


def _versions(low: tuple[int, ...] = (), high: tuple[int, ...] | None = None, *, plain: bool = False,
              floating: bool = True) -> Callable[[str | None], bool]:
    """Tags of versions in [low, high); ``plain``: only bare versions (``2.3.0``, not ``2.3.0-rocm``);
    ``floating``: ``latest`` and no tag (the newest release) match too."""

    def matches(tag: str | None) -> bool:
        if _floating(tag):
            return floating
        if plain and not re.fullmatch(r"v?\d+(\.\d+)*", tag or ""):
            return False
        version = _release(tag)
        return version is not None and version >= low and (high is None or version < high)

    return matches


UBUNTU_CODENAMES = {
    "trusty": (14, 4), "xenial": (16, 4), "bionic": (18, 4), "focal": (20, 4), "jammy": (22, 4),
    "kinetic": (22, 10), "lunar": (23, 4), "mantic": (23, 10), "noble": (24, 4), "oracular": (24, 10),
    "plucky": (25, 4), "questing": (25, 10),
}


def _ubuntu_release(tag: str | None) -> tuple[int, ...] | None:
    """``ubuntu`` tags: ``24.04``, ``noble``, ``noble-20240530``; ``latest``, ``rolling``, ``devel``
    and no tag are the newest releases."""
    if _floating(tag) or tag in ("rolling", "devel"):
        return (99,)
    assert tag is not None
    return UBUNTU_CODENAMES.get(tag.split("-")[0]) or _release(tag)


def _ubuntu_with_user(tag: str | None) -> bool:
    release = _ubuntu_release(tag)
    return release is not None and release >= UBUNTU_USER_SINCE


def _micromamba_uid_57439(tag: str | None) -> bool:
    version = _release(tag)
    return tag != "" and (version is None or version >= (1, 5, 0))


def _cuda_on_ubuntu_with_user(tag: str | None) -> bool:
    """``nvidia/cuda`` tags end in their OS: ``12.4.1-runtime-ubuntu24.04``."""
    match = re.search(r"-ubuntu(\d+)\.(\d+)$", tag or "")
    return match is not None and (int(match.group(1)), int(match.group(2))) >= UBUNTU_USER_SINCE


# Ubuntu 23.04 and later images define `ubuntu` (uid/gid 1000, home /home/ubuntu) and still run as root.
UBUNTU_USER_SINCE = (23, 4)
UBUNTU = User("ubuntu", 1000, 1000, "/home/ubuntu")
_UBUNTU_SOURCE = ("`ubuntu:24.04` /etc/passwd as reported in jupyterhub/repo2docker#1346; 23.04 and later: "
                  "kubeflow/kubeflow#7728, micromamba-docker CHANGELOG 2023-07-17 (ubuntu:lunar)")
_CUDA_SOURCE = ("gitlab.com/nvidia/container-images/cuda `dist/*/*/{base,runtime,devel}/Dockerfile` "
                "(mirror pranavmishra90/nvidia-container-images-cuda @60a1c89): FROM ubuntu:<release>, no USER, "
                "no cache variable")
_MICROMAMBA_SOURCE = ("mamba-org/micromamba-docker @a815800 `debian.Dockerfile`, `alpine.Dockerfile`, "
                      "`fedora.Dockerfile`")
_TGI_SOURCE = "huggingface/text-generation-inference `Dockerfile` (final stage)"
_MINIFORGE_SOURCE = "conda-forge/miniforge-images @841e405 `ubuntu/Dockerfile`"

KNOWN: tuple[KnownImage, ...] = (
    KnownImage(("ubuntu",), _UBUNTU_SOURCE, "2026-12-06", users=(UBUNTU,), tags=_ubuntu_with_user),
    # Before 23.04, and tags the table cannot place: root, no user (none that is known).
    KnownImage(("ubuntu",), "the `ubuntu` image runs as root and sets no cache variable (DOMAIN §11.2)", "2026-12-06"),
    KnownImage(("nvidia/cuda", "nvcr.io/nvidia/cuda"), _CUDA_SOURCE, "2026-12-06", users=(UBUNTU,),
               tags=_cuda_on_ubuntu_with_user),
    KnownImage(("nvidia/cuda", "nvcr.io/nvidia/cuda"), _CUDA_SOURCE, "2026-12-06"),
    KnownImage(("python",), "docker-library/python @4f07059 `Dockerfile-linux.template`: no USER; ENV PATH, LANG, "
               "GPG_KEY, PYTHON_VERSION, PYTHON_SHA256 only", "2026-12-06"),
    # The `official` stage: FROM ubuntu:22.04 (before 2.x releases 18.04/20.04), ENV PATH, NVIDIA_*,
    # LD_LIBRARY_PATH, PYTORCH_VERSION; conda in /opt/conda.
    KnownImage(("pytorch/pytorch",), "pytorch/pytorch @01343dc `Dockerfile`, stage `official`", "2026-12-06"),
    # vllm-base: FROM nvidia/cuda:<v>-devel-ubuntu22.04, no USER; UV_HTTP_TIMEOUT and UV_INDEX_STRATEGY
    # (no cache location) in recent releases. The docs' non-root user `vllm` (uid 2000) is made by the
    # user's own Dockerfile, not by this image.
    KnownImage(("vllm/vllm-openai",), "vllm-project/vllm @0000977 `docker/Dockerfile`, stage `vllm-openai`",
               "2026-12-06"),
    KnownImage(("ghcr.io/huggingface/text-generation-inference",), f"{_TGI_SOURCE} @db931fc (v3.1.1: "
               "VIRTUAL_ENV, commit d6881c3)", "2026-12-06",
               env=(("HF_HOME", "/data"), ("VIRTUAL_ENV", "/usr/src/.venv/")), tags=_versions((3, 1, 1), plain=True)),
    KnownImage(("ghcr.io/huggingface/text-generation-inference",), f"{_TGI_SOURCE}: HF_HOME=/data since v2.3.0 "
               "(commit 952b450, PR #2288)", "2026-12-06",
               env=(("HF_HOME", "/data"),), tags=_versions((2, 3, 0), plain=True, floating=False)),
    KnownImage(("ghcr.io/huggingface/text-generation-inference",), f"{_TGI_SOURCE} @v2.2.0 and @0087333",
               "2026-12-06", env=(("HUGGINGFACE_HUB_CACHE", "/data"),),
               tags=_versions(high=(2, 3, 0), plain=True, floating=False)),
    # Other TGI tags (`sha-…`, `-rocm`, `-intel-cpu`, `-neuron`, `-trtllm`) come from other Dockerfiles
    # that set HF_HOME or HUGGINGFACE_HUB_CACHE (to /data or /tmp): not listed, so unknown.
    # TEI: every Dockerfile (cpu, cuda, cuda-all, arm64, intel) sets HUGGINGFACE_HUB_CACHE=/data, no USER.
    # Its newer CUDA variants are built on ubuntu24.04 (so define `ubuntu`); their tags are not told apart here.
    KnownImage(("ghcr.io/huggingface/text-embeddings-inference",), "huggingface/text-embeddings-inference "
               "@0d124dc `Dockerfile*` and @01de287 `Dockerfile`", "2026-12-06",
               env=(("HUGGINGFACE_HUB_CACHE", "/data"),)),
    # FROM nvidia/cuda:*-ubuntu22.04, no USER, no ENV. The deepspeed images start FROM
    # nvcr.io/nvidia/pytorch (see below) and are not listed.
    KnownImage(("huggingface/transformers-pytorch-gpu", "huggingface/transformers-all-latest-gpu"),
               "huggingface/transformers `docker/transformers-pytorch-gpu/Dockerfile` @032b32a, "
               "`docker/transformers-all-latest-gpu/Dockerfile` @00fc79e", "2026-12-06"),
    KnownImage(("continuumio/miniconda3", "continuumio/anaconda3"), "ContinuumIO/docker-images @dc64b23 "
               "`miniconda3/debian/Dockerfile`, `anaconda3/debian/Dockerfile`: FROM debian, ENV LANG, LC_ALL, PATH "
               "only", "2026-12-06"),
    # On ubuntu:noble since commit 5b1bd2f (2025-03-18; first new release 25.3.0-1), before on focal.
    KnownImage(("condaforge/miniforge3",), _MINIFORGE_SOURCE, "2026-12-06", env=(("CONDA_DIR", "/opt/conda"),),
               users=(UBUNTU,), tags=_versions((25,))),
    KnownImage(("condaforge/miniforge3",), _MINIFORGE_SOURCE, "2026-12-06", env=(("CONDA_DIR", "/opt/conda"),)),
    # mambauser's uid/gid moved from 1000 to 57439 in 1.5.0 (CHANGELOG 2023-08-24), when MAMBA_USER_ID
    # and MAMBA_USER_GID became ENV; tags without a version (`latest`, `jammy`, `bookworm-slim`) follow
    # the newest release.
    KnownImage(("mambaorg/micromamba",), _MICROMAMBA_SOURCE, "2026-12-06", user="mambauser",
               env=(("MAMBA_USER", "mambauser"), ("MAMBA_USER_ID", "57439"), ("MAMBA_USER_GID", "57439"),
                    ("MAMBA_ROOT_PREFIX", "/opt/conda"), ("MAMBA_EXE", "/bin/micromamba")),
               users=(User("mambauser", 57439, 57439, "/home/mambauser"),),
               tags=_micromamba_uid_57439),
    KnownImage(("mambaorg/micromamba",), "mamba-org/micromamba-docker @v1.4.9 `Dockerfile`", "2026-12-06",
               user="mambauser",
               env=(("MAMBA_USER", "mambauser"), ("MAMBA_ROOT_PREFIX", "/opt/conda"), ("MAMBA_EXE", "/bin/micromamba")),
               users=(User("mambauser", 1000, 1000, "/home/mambauser"),),
               tags=_versions(high=(1, 5, 0), floating=False)),
    # `node` also defines the user `node` (uid/gid 1000, /home/node: nodejs/docker-node @f27d936
    # `Dockerfile-*.template`, checked 2026-12-06); that user is not in `users` yet, as AIC116's
    # fixture `npm-base-image-user-report-only` still takes it for unknown.
    # Official images that run as root and set no cache variable: no USER line and no such ENV in
    # docker-library/<name>. `golang` (GOPATH) and `rust` (CARGO_HOME) are read by the Go/cargo rule
    # itself.
    KnownImage(("debian", "alpine", "node", "busybox", "fedora", "centos", "rockylinux", "almalinux",
                "amazonlinux", "buildpack-deps", "golang", "rust", "condaforge/mambaforge"),
               "docker-library/<name> Dockerfiles; conda-forge/miniforge-images for mambaforge", "2026-12-06"),
    # Not listed: nvcr.io/nvidia/pytorch and the other NGC framework images publish no Dockerfile
    # (`--resolve-images` reads their config from the registry).
)


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


def _tag(reference: str) -> str | None:
    """The tag; None for none (Docker pulls `latest`); "" for a reference pinned by digest only,
    whose tag is not known."""
    name, at, _ = reference.partition("@")
    _, colon, tag = name[name.rfind("/") + 1 :].partition(":")
    if colon and tag:
        return tag
    return "" if at else None


def _entry(reference: str | None) -> KnownImage | None:
    name = repository(reference)
    if name is None or reference is None:
        return None
    tag = _tag(reference)
    return next((k for k in KNOWN if name in k.repositories and (k.tags is None or k.tags(tag))), None)


def known_image(reference: str | None) -> ImageFacts | None:
    """What the table knows of the image ``reference`` names (its tag decides where facts differ
    between tags); None when it is not listed."""
    entry = _entry(reference)
    if entry is None:
        return None
    own = next((u for u in entry.users if u.name == entry.user), None)
    return ImageFacts(
        entry.user,
        own.uid if own else (0 if not entry.user else None),
        own.gid if own else (0 if not entry.user else None),
        own.home if own else ("/root" if not entry.user else None),
        entry.env,
        origin=f"known-image table: {entry.source}, checked {entry.checked}",
    )


lookup = known_image  # the name AIC203 calls it by


def image_users(reference: str | None) -> dict[str, tuple[int, int, str]]:
    """The non-root users the image defines, ``{name: (uid, gid, home)}``: ``ubuntu`` in
    ``ubuntu:24.04``, so that a later ``USER ubuntu`` has a known uid and home."""
    entry = _entry(reference)
    return {u.name: (u.uid, u.gid, u.home) for u in entry.users} if entry else {}
