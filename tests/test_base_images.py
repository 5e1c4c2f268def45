"""The known-image table (``knowledge/base_images.py``): lookups by reference and tag, the users an
image defines, every entry sourced and dated, and what a FROM of a listed image gives ``Facts``."""

from __future__ import annotations

import re

import pytest

from aicache_lint.dockerfile.facts import Facts
from aicache_lint.dockerfile.lexer import parse
from aicache_lint.knowledge.base_images import (
    KNOWN,
    ImageFacts,
    image_users,
    is_cache_variable,
    known_image,
    repository,
)
from aicache_lint.source import SourceText

TGI = "ghcr.io/huggingface/text-generation-inference"
DIGEST = "sha256:" + "0" * 64
UBUNTU_USER = {"ubuntu": (1000, 1000, "/home/ubuntu")}


ORIGINS = {f"known-image table: {e.source}, checked {e.checked}" for e in KNOWN}


def env(reference: str) -> dict[str, str | None]:
    facts = known_image(reference)
    assert facts is not None, reference
    assert facts.origin in ORIGINS
    return dict(facts.env)


def test_every_entry_names_its_source_and_the_date_it_was_checked() -> None:
    for entry in KNOWN:
        assert len(entry.source) > 20, entry.repositories
        assert re.fullmatch(r"20\d\d-[01]\d-[0-3]\d", entry.checked), entry.repositories


def test_every_entry_lists_only_cache_relevant_variables_and_names_users_it_defines() -> None:
    for entry in KNOWN:
        assert all(is_cache_variable(name) for name, _ in entry.env), entry.env
        assert entry.repositories == tuple(repository(r) for r in entry.repositories)
        if entry.user:
            assert entry.user in {u.name for u in entry.users}, entry.repositories


@pytest.mark.parametrize(
    ("reference", "users"),
    [
        ("ubuntu:24.04", UBUNTU_USER),
        ("ubuntu:noble-20240530", UBUNTU_USER),
        ("ubuntu:23.04", UBUNTU_USER),
        ("ubuntu", UBUNTU_USER),  # latest
        ("docker.io/library/ubuntu:latest", UBUNTU_USER),
        ("index.docker.io/library/ubuntu:rolling", UBUNTU_USER),
        ("ubuntu:22.04", {}),
        ("ubuntu:jammy", {}),
        ("ubuntu:20.04", {}),
        ("ubuntu@" + DIGEST, {}),  # pinned by digest alone: which release is not known
        ("ubuntu:24.04@" + DIGEST, UBUNTU_USER),
        ("nvidia/cuda:12.6.0-cudnn-runtime-ubuntu24.04", UBUNTU_USER),
        ("nvcr.io/nvidia/cuda:12.8.1-devel-ubuntu24.04", UBUNTU_USER),
        ("nvidia/cuda:12.4.1-runtime-ubuntu22.04", {}),
        ("nvidia/cuda:12.4.1-runtime-ubi9", {}),
        ("condaforge/miniforge3:25.3.0-1", UBUNTU_USER),
        ("condaforge/miniforge3:latest", UBUNTU_USER),
        ("condaforge/miniforge3:24.11.3-2", {}),  # published on focal, then rebuilt on noble
        ("python:3.12-slim", {}),
    ],
)
def test_users_the_image_defines(reference: str, users: dict) -> None:
    assert image_users(reference) == users
    facts = known_image(reference)
    assert facts is not None and facts.user == "" and facts.uid == 0 and facts.home == "/root"


def test_ubuntu_runs_as_root_with_its_user_present() -> None:
    assert known_image("ubuntu:24.04") == ImageFacts(
        "", 0, 0, "/root", (), origin=known_image("ubuntu:24.04").origin
    )
    assert "repo2docker#1346" in known_image("ubuntu:24.04").origin
    assert known_image("ubuntu:22.04").origin != known_image("ubuntu:24.04").origin


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1.4", {"HUGGINGFACE_HUB_CACHE": "/data"}),
        ("2.2.0", {"HUGGINGFACE_HUB_CACHE": "/data"}),
        ("2.3.0", {"HF_HOME": "/data"}),
        ("3.0.2", {"HF_HOME": "/data"}),
        ("3.1.1", {"HF_HOME": "/data", "VIRTUAL_ENV": "/usr/src/.venv/"}),
        ("3.3.6", {"HF_HOME": "/data", "VIRTUAL_ENV": "/usr/src/.venv/"}),
        ("latest", {"HF_HOME": "/data", "VIRTUAL_ENV": "/usr/src/.venv/"}),
        (None, {"HF_HOME": "/data", "VIRTUAL_ENV": "/usr/src/.venv/"}),
    ],
)
def test_tgi_cache_variable_by_version(tag: str | None, expected: dict) -> None:
    reference = TGI if tag is None else f"{TGI}:{tag}"
    assert env(reference) == expected
    assert known_image(reference).user == ""


@pytest.mark.parametrize("tag", ["sha-5e0cd1a", "2.4.1-rocm", "3.3.4-intel-cpu", "latest-neuron", "", None])
def test_tgi_variants_built_from_other_dockerfiles_are_unknown(tag: str | None) -> None:
    reference = f"{TGI}@{DIGEST}" if tag is None else f"{TGI}:{tag}" if tag else f"{TGI}:2.0@{DIGEST}"
    if tag == "":  # a tag and a digest: the tag decides
        assert env(reference) == {"HUGGINGFACE_HUB_CACHE": "/data"}
    else:
        assert known_image(reference) is None


def test_micromamba_user_by_version() -> None:
    new = known_image("mambaorg/micromamba:2.0.5-debian12-slim")
    assert (new.user, new.uid, new.gid, new.home) == ("mambauser", 57439, 57439, "/home/mambauser")
    assert dict(new.env)["MAMBA_ROOT_PREFIX"] == "/opt/conda" and dict(new.env)["MAMBA_USER_ID"] == "57439"
    assert known_image("mambaorg/micromamba:jammy").uid == 57439  # follows the newest release
    assert known_image("docker.io/mambaorg/micromamba").uid == 57439
    old = known_image("mambaorg/micromamba:1.4.9")
    assert (old.user, old.uid) == ("mambauser", 1000) and "MAMBA_USER_ID" not in dict(old.env)
    assert image_users("mambaorg/micromamba:1.4.9") == {"mambauser": (1000, 1000, "/home/mambauser")}
    assert known_image("mambaorg/micromamba@" + DIGEST) is None


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("ghcr.io/huggingface/text-embeddings-inference:cpu-1.5", {"HUGGINGFACE_HUB_CACHE": "/data"}),
        ("ghcr.io/huggingface/text-embeddings-inference:89-1.8", {"HUGGINGFACE_HUB_CACHE": "/data"}),
        ("condaforge/miniforge3:24.3.0-0", {"CONDA_DIR": "/opt/conda"}),
        ("vllm/vllm-openai:v0.9.1", {}),
        ("pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", {}),
        ("continuumio/miniconda3:24.5.0-0", {}),
        ("huggingface/transformers-pytorch-gpu:latest", {}),
        ("docker.io/library/python:3.12-slim@" + DIGEST, {}),
        ("nvcr.io/nvidia/cuda:12.4.1-runtime-ubuntu22.04", {}),
    ],
)
def test_cache_variables_of_other_images(reference: str, expected: dict) -> None:
    assert env(reference) == expected


@pytest.mark.parametrize(
    "reference",
    ["nvcr.io/nvidia/pytorch:24.05-py3", "huggingface/lerobot-gpu:latest", "ghcr.io/org/base:1.0", "python3:3.12", None],
)
def test_unlisted_images_are_unknown(reference: str | None) -> None:
    assert known_image(reference) is None
    assert image_users(reference) == {}


def test_repository_names() -> None:
    assert repository("docker.io/library/rust:1.80") == "rust"
    assert repository("nvcr.io/nvidia/cuda:12.4.1-runtime@" + DIGEST) == "nvcr.io/nvidia/cuda"
    assert repository("localhost:5000/team/app:1") == "localhost:5000/team/app"
    assert repository("") is None


def stage_state(text: str):
    doc = parse(SourceText(text, "Dockerfile"))
    facts = Facts(doc)
    return facts.state(doc.instructions[-1])


def test_user_ubuntu_after_from_ubuntu_24_04_has_its_home_and_ids() -> None:
    state = stage_state("FROM ubuntu:24.04\nUSER ubuntu\nRUN pip install torch\n")
    info = state.user_info
    assert (info.name, info.uid, info.gid, info.home) == ("ubuntu", 1000, 1000, "/home/ubuntu")
    assert state.home == "/home/ubuntu" and state.home_known and state.assumed_base is None
    # 22.04 has no such user: its home is the /home/<name> guess, not known.
    older = stage_state("FROM ubuntu:22.04\nUSER ubuntu\nRUN pip install torch\n")
    assert older.user_info.uid is None and not older.home_known


def test_a_listed_image_seeds_the_stage_with_its_user_and_cache_variables() -> None:
    state = stage_state("FROM mambaorg/micromamba:2.0.5\nRUN micromamba install -y numpy\n")
    assert state.user == "mambauser" and state.user_info.uid == 57439 and state.home == "/home/mambauser"
    assert state.env["MAMBA_ROOT_PREFIX"] == "/opt/conda" and state.assumption() is None
    tgi = stage_state(f"FROM {TGI}:2.2.0\nRUN pip install x\n")
    assert tgi.env == {"HUGGINGFACE_HUB_CACHE": "/data"} and tgi.is_root and tgi.assumption() is None


def test_an_unlisted_or_unplaced_image_is_an_assumption() -> None:
    state = stage_state(f"FROM {TGI}:sha-5e0cd1a\nRUN pip install x\n")
    assert state.env == {} and state.assumed_base == f"{TGI}:sha-5e0cd1a"
    assert "assumes the base image" in state.assumption()
