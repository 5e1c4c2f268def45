"""The table of well-known AI images and their model directories (compose/images.py)."""

from __future__ import annotations

import posixpath
import re

import pytest
from import_cost import imports_of

from aicache_lint.compose import images
from aicache_lint.compose.images import KNOWN, ImageInfo, lookup, repository

ALL_REPOSITORIES = [(info.name, repo) for info in KNOWN for repo in info.repositories]
DOCKER_HUB = [(name, repo) for name, repo in ALL_REPOSITORIES if "." not in repo.split("/", 1)[0]]


def by_name(name: str) -> ImageInfo:
    return next(info for info in KNOWN if info.name == name)


@pytest.mark.parametrize(("name", "repo"), ALL_REPOSITORIES)
def test_every_spelling_is_found(name, repo):
    assert lookup(repo) is by_name(name)


@pytest.mark.parametrize(("name", "repo"), ALL_REPOSITORIES)
@pytest.mark.parametrize(
    "suffix",
    [
        ":latest",
        ":0.5.7",
        ":v2.3.0-rocm",
        ":latest-gpu-nvidia-cuda-12",
        "@sha256:" + "a" * 64,
        ":1.8@sha256:" + "0123456789abcdef" * 4,
        ":${TAG:-latest}",
        ":${TAG}",
        ":$TAG",
        ":0.6-${FLAVOR-cuda}",
        "@${DIGEST}",
    ],
)
def test_tags_digests_and_variables_are_ignored(name, repo, suffix):
    assert lookup(repo + suffix) is by_name(name)


@pytest.mark.parametrize(("name", "repo"), ALL_REPOSITORIES)
def test_case_and_whitespace(name, repo):
    assert lookup(repo.upper() + ":Latest") is by_name(name)
    assert lookup(f"  {repo}:latest \n") is by_name(name)


@pytest.mark.parametrize(("name", "repo"), DOCKER_HUB)
@pytest.mark.parametrize("host", ["docker.io", "index.docker.io", "registry-1.docker.io", "DOCKER.IO"])
def test_docker_hub_hosts(name, repo, host):
    assert lookup(f"{host}/{repo}:latest") is by_name(name)


def test_library_prefix_is_docker_hub_noise():
    assert repository("docker.io/library/ubuntu:24.04") == "ubuntu"
    assert repository("library/ubuntu") == "ubuntu"
    assert repository("ghcr.io/library/ubuntu") == "ghcr.io/library/ubuntu"


def test_repository_normalisation():
    assert repository("ollama/ollama:${TAG:-latest}") == "ollama/ollama"
    assert repository("GHCR.IO/HuggingFace/Text-Generation-Inference:2.4.1") == (
        "ghcr.io/huggingface/text-generation-inference"
    )
    assert repository("localhost:5000/ollama/ollama:1") == "localhost:5000/ollama/ollama"
    assert repository("quay.io/go-skynet/local-ai@sha256:" + "b" * 64) == "quay.io/go-skynet/local-ai"
    assert repository("") is None
    assert repository(None) is None


@pytest.mark.parametrize(
    "image",
    [
        "",
        None,
        "ubuntu:24.04",
        "python",
        "nvidia/cuda:12.4.1-runtime-ubuntu22.04",
        # look-alikes: no prefix/suffix guessing
        "myorg/ollama-fork",
        "myorg/ollama",
        "ollama",
        "ollama/ollama-rocm",
        "ollama/ollama/extra",
        "vllm/vllm-openai-nightly",
        "vllm-openai",
        "huggingface/text-generation-inference",  # Docker Hub, not ghcr.io
        "ghcr.io/huggingface/text-generation-inference-fork",
        "ghcr.io/huggingface/text-embeddings-inference2",
        "ghcr.io/myorg/open-webui",
        "open-webui/open-webui",  # not the ghcr.io name
        "go-skynet/local-ai",  # Docker Hub, not quay.io
        "quay.io/localai/localai",
        "xinference",
        "xprobe/xinference-custom",
        "yanwk/comfyui-boot-fork",
        "onerahmet/openai-whisper-asr-webservice2",
        # another registry's copy is not the documented image
        "ghcr.io/ollama/ollama",
        "localhost:5000/ollama/ollama",
        "registry.example.com/vllm/vllm-openai:latest",
        # a variable in the name: cannot know what it resolves to
        "${REGISTRY}/ollama/ollama",
        "$REGISTRY/ollama/ollama:latest",
        "ollama/${IMAGE}",
        "${IMAGE:-ollama/ollama}",
    ],
)
def test_unknown_images(image):
    assert lookup(image) is None


def test_expected_images_are_covered():
    repos = {repo for _, repo in ALL_REPOSITORIES}
    for repo in (
        "ollama/ollama",
        "vllm/vllm-openai",
        "ghcr.io/huggingface/text-generation-inference",
        "ghcr.io/huggingface/text-embeddings-inference",
        "localai/localai",
        "quay.io/go-skynet/local-ai",
        "ghcr.io/open-webui/open-webui",
        "onerahmet/openai-whisper-asr-webservice",
        "xprobe/xinference",
        "yanwk/comfyui-boot",
    ):
        assert repo in repos


def test_repositories_are_unique_and_normalised():
    seen = [repo for _, repo in ALL_REPOSITORIES]
    assert len(seen) == len(set(seen))
    for repo in seen:
        assert repository(repo) == repo, repo


@pytest.mark.parametrize("info", KNOWN, ids=lambda info: info.name)
def test_entry_sanity(info):
    assert isinstance(info, ImageInfo)
    assert info.name and info.repositories
    assert posixpath.isabs(info.model_dir) and posixpath.normpath(info.model_dir) == info.model_dir
    for extra in info.extra_dirs:
        assert posixpath.isabs(extra) and posixpath.normpath(extra) == extra
    assert info.source.strip()
    # every commit cited is a full or the short form used by DOMAIN; no stray text as a hash
    for commit in re.findall(r"@([0-9a-f]+)", info.source):
        assert len(commit) in (7, 40), commit
    # user and uid agree: root is uid 0, and unknown means both unknown
    assert (info.user is None) == (info.uid is None)
    if info.user == "root":
        assert info.uid == 0
    if info.uid == 0:
        assert info.user == "root"
    # a root image keeps home-relative defaults under /root, never /home/<user>
    if info.user == "root":
        assert not info.model_dir.startswith("/home/")
    # the documented mount's target covers the model dir (is it, or a parent of it)
    if info.docs_volume is not None:
        target = info.docs_target
        assert target is not None and posixpath.isabs(target)
        assert info.model_dir == target or info.model_dir.startswith(target.rstrip("/") + "/"), info.name


@pytest.mark.parametrize("info", [i for i in KNOWN if i.env_var is not None], ids=lambda i: i.name)
def test_env_var_is_consistent(info):
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", info.env_var)
    hf_vars = images.HF_HOME_VARS | images.HF_HUB_CACHE_VARS
    if info.hub_layout:
        # a Hugging Face hub cache is moved by a Hugging Face variable
        assert info.env_var in hf_vars
    else:
        assert info.env_var not in hf_vars
    if info.env_var in images.HF_HOME_VARS:
        assert info.hub_cache == info.model_dir + "/hub"
    elif info.env_var in images.HF_HUB_CACHE_VARS:
        assert info.hub_cache == info.model_dir


def test_hub_cache_property():
    assert by_name("vLLM").hub_cache == "/root/.cache/huggingface/hub"
    assert by_name("text-embeddings-inference").hub_cache == "/data"
    assert by_name("text-generation-inference").hub_cache == "/data/hub"
    assert by_name("Ollama").hub_cache is None


def test_verified_values():
    # facts restated from DOMAIN §2.6/§3.4 and the sources in images.py
    ollama = lookup("ollama/ollama:latest")
    assert (ollama.model_dir, ollama.env_var, ollama.docs_volume) == (
        "/root/.ollama/models",
        "OLLAMA_MODELS",
        "ollama:/root/.ollama",
    )
    vllm = lookup("vllm/vllm-openai:v0.9.0")
    assert vllm.model_dir == "/root/.cache/huggingface" and vllm.hub_layout and vllm.uid == 0
    assert "/root/.cache/vllm" in vllm.extra_dirs
    tgi = lookup("ghcr.io/huggingface/text-generation-inference:3.0")
    assert (tgi.model_dir, tgi.env_var, tgi.user) == ("/data", "HF_HOME", None)
    assert lookup("localai/localai:latest-gpu-nvidia-cuda-12") is lookup("quay.io/go-skynet/local-ai:master")
    comfy = lookup("yanwk/comfyui-boot:cu128-slim")
    assert comfy.tag_dependent and comfy.env_var is None and comfy.user is None


def test_table_is_immutable():
    assert isinstance(KNOWN, tuple)
    with pytest.raises(AttributeError):
        KNOWN[0].model_dir = "/elsewhere"  # type: ignore[misc]


def test_module_is_cheap_to_import():
    """Rules import the table lazily; loading it loads no other module of ours and nothing heavy."""
    loaded = imports_of("import aicache_lint.compose.images")
    assert loaded.ours == {"aicache_lint", "aicache_lint.compose", "aicache_lint.compose.images"}
    loaded.assert_cheap()
