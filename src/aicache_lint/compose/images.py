"""Where well-known AI serving images keep the models they download.

A Compose service that runs one of these images re-downloads its models on every fresh container
unless ``model_dir`` (or a parent of it) is on a volume. Each entry records only what its sources
state; a field that no source confirms is None and its comment says so (DOMAIN: an UNVERIFIED fact
must not drive an autofix). Unknown images are left alone: ``lookup`` never guesses from a prefix
(``myorg/ollama-fork`` is unknown).

Stdlib only and cheap to import; callers import it lazily.
"""

from __future__ import annotations

from typing import NamedTuple

# Variables that move a Hugging Face cache: HF_HOME holds the hub cache in `<dir>/hub`;
# HF_HUB_CACHE / HUGGINGFACE_HUB_CACHE (legacy alias) point at the hub cache itself (DOMAIN §3.1).
HF_HOME_VARS = frozenset({"HF_HOME"})
HF_HUB_CACHE_VARS = frozenset({"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"})

# Registry hosts that all mean Docker Hub; a reference on any of them is written without the host.
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})


class ImageInfo(NamedTuple):
    name: str  # human-readable name for messages
    repositories: tuple[str, ...]  # normalised names without tag: Docker Hub ones without host/`library/`
    model_dir: str  # absolute path in the container where downloaded models land by default
    env_var: str | None  # the variable that moves model_dir (None: none documented)
    hub_layout: bool  # model_dir is (or holds, for HF_HOME) a Hugging Face hub cache (`models--org--name`)
    user: str | None  # the image's default user; None: not confirmed by a source
    uid: int | None
    docs_volume: str | None  # the mount its docs recommend, as they write it (SOURCE:TARGET)
    source: str  # where the facts come from (URL or repo/path@commit), see the comment above each entry
    extra_dirs: tuple[str, ...] = ()  # other documented download/cache dirs worth a volume
    tag_dependent: bool = False  # True: model_dir is known to differ between tags -- don't autofix

    @property
    def hub_cache(self) -> str | None:
        """The hub cache directory (``…/models--org--name`` live here) or None if not hub layout."""
        if not self.hub_layout:
            return None
        if self.env_var in HF_HOME_VARS:
            return self.model_dir.rstrip("/") + "/hub"
        return self.model_dir

    @property
    def docs_target(self) -> str | None:
        """The container side of ``docs_volume``."""
        if not self.docs_volume:
            return None
        return self.docs_volume.rsplit(":", 1)[1] if ":" in self.docs_volume else None


KNOWN: tuple[ImageInfo, ...] = (
    # Ollama. Models in $OLLAMA_MODELS, else ~/.ollama/models (envconfig/config.go Models()); the image
    # has no USER (runs as root; Dockerfile@86ee22036e9ed298290696a407cbfa4e295ebb07, final stage sets
    # only OLLAMA_HOST=0.0.0.0:11434); docs/docker.mdx: `docker run -d -v ollama:/root/.ollama ...`.
    # Not a Hugging Face cache (Ollama's own blobs/manifests layout). DOMAIN §3.4.
    ImageInfo(
        name="Ollama",
        repositories=("ollama/ollama",),
        model_dir="/root/.ollama/models",
        env_var="OLLAMA_MODELS",
        hub_layout=False,
        user="root",
        uid=0,
        docs_volume="ollama:/root/.ollama",
        source="ollama/ollama docs/docker.mdx; envconfig/config.go Models(); "
        "Dockerfile@86ee22036e9ed298290696a407cbfa4e295ebb07",
    ),
    # vLLM OpenAI server. The image sets no HF_* variable, so models go to the default Hugging Face
    # cache of root: docs mount `-v ~/.cache/huggingface:/root/.cache/huggingface` and a named volume
    # `vllm-cache:/root/.cache/vllm` for torch.compile artifacts (VLLM_CACHE_ROOT, default
    # ~/.cache/vllm). Runs as root by default; optional user `vllm` UID 2000 GID 0 with HOME
    # /home/vllm (then mount under /home/vllm/.cache/...). Source: vllm-project/vllm
    # docs/deployment/docker.md@02319794a1415e663baaf6de2f8197f795bd8c03; DOMAIN §2.6, §3.3, §3.4.
    # Other spellings (ROCm / ECR mirrors) not verified, so not listed.
    ImageInfo(
        name="vLLM",
        repositories=("vllm/vllm-openai",),
        model_dir="/root/.cache/huggingface",
        env_var="HF_HOME",
        hub_layout=True,
        user="root",
        uid=0,
        docs_volume="~/.cache/huggingface:/root/.cache/huggingface",
        source="vllm-project/vllm docs/deployment/docker.md@02319794a1415e663baaf6de2f8197f795bd8c03",
        extra_dirs=("/root/.cache/vllm",),
    ),
    # text-generation-inference. Dockerfile sets `ENV HF_HOME=/data` since v2.3.0 (PR #2288; models in
    # /data/hub/models--...) and `ENV HUGGINGFACE_HUB_CACHE=/data` before (models directly in
    # /data/models--...; seen at Dockerfile@c66648d9200f5260a460b0bb91189609ccdeea77 and
    # @008733313cec1a5e2a38788207cd6ee1d1812a14). Either way the documented mount is `-v $volume:/data`
    # with volume=$PWD/data. Both layouts are hub caches, but at different depths: a volume shared
    # with other services is only compatible with >= 2.3.0 tags. DOMAIN §3.4 (@db931fc Dockerfile,
    # launcher/src/main.rs). Container user: the old Dockerfiles read have no USER, the current one
    # was not re-read -- UNVERIFIED, left None.
    ImageInfo(
        name="text-generation-inference",
        repositories=("ghcr.io/huggingface/text-generation-inference",),
        model_dir="/data",
        env_var="HF_HOME",
        hub_layout=True,
        user=None,
        uid=None,
        docs_volume="$PWD/data:/data",
        source="huggingface/text-generation-inference Dockerfile@db931fc, launcher/src/main.rs, "
        "commit 952b450a (DOMAIN §3.4: docs mount -v $volume:/data)",
    ),
    # text-embeddings-inference. Dockerfile (CPU) and Dockerfile-cuda set `ENV HUGGINGFACE_HUB_CACHE=/data`
    # and no USER (Dockerfile@a28ad28f39e0633749a21b74af23617fa86a0d0c,
    # Dockerfile-cuda@f82a1a414d545fd793f52f80cf8fea619cf6747c); the router's `--huggingface-hub-cache`
    # (env HUGGINGFACE_HUB_CACHE) is "the location of the huggingface hub cache"
    # (router/src/main.rs@0236f18754b72c2fe8324611cd2b9282398b65d7) and downloads go through the
    # hf_hub crate (core/src/download.rs). So /data IS the hub cache (models--... directly inside).
    # Quick tour: `volume=$PWD/data; docker run ... -v $volume:/data ...`
    # (https://huggingface.co/docs/text-embeddings-inference/quick_tour).
    ImageInfo(
        name="text-embeddings-inference",
        repositories=("ghcr.io/huggingface/text-embeddings-inference",),
        model_dir="/data",
        env_var="HUGGINGFACE_HUB_CACHE",
        hub_layout=True,
        user="root",
        uid=0,
        docs_volume="$PWD/data:/data",
        source="huggingface/text-embeddings-inference Dockerfile@a28ad28f39e0633749a21b74af23617fa86a0d0c; "
        "Dockerfile-cuda@f82a1a414d545fd793f52f80cf8fea619cf6747c; "
        "https://huggingface.co/docs/text-embeddings-inference/quick_tour",
    ),
    # LocalAI. Published as localai/localai (Docker Hub) and quay.io/go-skynet/local-ai (both named in
    # the repo's docker-compose.yaml and https://localai.io/docs/installation/containers/). Final
    # Dockerfile stage: WORKDIR /, `RUN mkdir -p /models /backends`, `VOLUME /models /backends
    # /configuration`, no USER (Dockerfile@00c6d825030b4547fe60b04ac72a9c8e0ade99a5). Models path flag:
    # env LOCALAI_MODELS_PATH (alias MODELS_PATH), default `${basepath}/models`
    # (core/cli/run.go@00c224320178a86f74e8856d0d8b3adf1221c954). Docs mount `-v $PWD/models:/models`
    # (docs/content/docs/getting-started/manual.md; compose: `./models:/models:cached` with
    # MODELS_PATH=/models). Own file layout (GGUF files, YAML configs), not a hub cache. Older images
    # built in /build (entrypoint `cd /build`); the models dir of those tags is UNVERIFIED.
    # Note: VOLUME /models means an anonymous volume exists even without a mount.
    ImageInfo(
        name="LocalAI",
        repositories=("localai/localai", "quay.io/go-skynet/local-ai"),
        model_dir="/models",
        env_var="LOCALAI_MODELS_PATH",
        hub_layout=False,
        user="root",
        uid=0,
        docs_volume="./models:/models",
        source="mudler/LocalAI Dockerfile@00c6d825030b4547fe60b04ac72a9c8e0ade99a5; "
        "core/cli/run.go@00c224320178a86f74e8856d0d8b3adf1221c954; docker-compose.yaml",
        extra_dirs=("/backends",),
    ),
    # Open WebUI. Dockerfile: `ENV HF_HOME="/app/backend/data/cache/embedding/models"` (and
    # SENTENCE_TRANSFORMERS_HOME the same), `WHISPER_MODEL_DIR="/app/backend/data/cache/whisper/models"`,
    # `ARG UID=0`/`GID=0` then `USER $UID:$GID` -> root by default
    # (Dockerfile@00a89829a0f3b7c184ff7df2eca16f4252a07c54). Docs/compose mount the whole data dir:
    # `open-webui:/app/backend/data` (docker-compose.yaml@f741adc6c952fc5db1ff62c6af770d77c82a0aba),
    # which covers both model caches. HF_HOME -> hub cache at .../models/hub.
    ImageInfo(
        name="Open WebUI",
        repositories=("ghcr.io/open-webui/open-webui",),
        model_dir="/app/backend/data/cache/embedding/models",
        env_var="HF_HOME",
        hub_layout=True,
        user="root",
        uid=0,
        docs_volume="open-webui:/app/backend/data",
        source="open-webui/open-webui Dockerfile@00a89829a0f3b7c184ff7df2eca16f4252a07c54; "
        "docker-compose.yaml@f741adc6c952fc5db1ff62c6af770d77c82a0aba",
        extra_dirs=("/app/backend/data/cache/whisper/models",),
    ),
    # Whisper ASR webservice (ahmetoner/whisper-asr-webservice, Docker Hub
    # onerahmet/openai-whisper-asr-webservice). MODEL_PATH = $ASR_MODEL_PATH or ~/.cache/whisper
    # (app/config.py@15f4a5715fa4341586bbca1fce3cc6cc40403b31); the image has no USER
    # (Dockerfile@04c932f52ce8d1ad5d5c29d8acdeb858f6a66915) and docs/run.md
    # (@0fedf7ddf313290f94fb73ce83b75242a295126f) persist the cache with `-v $PWD/cache:/root/.cache`
    # (or ASR_MODEL_PATH=/data/whisper with `-v $PWD/cache:/data/whisper`). Not a shareable hub cache:
    # the default openai_whisper engine writes flat .pt files there (faster_whisper uses it as its
    # hub cache_dir).
    ImageInfo(
        name="Whisper ASR webservice",
        repositories=("onerahmet/openai-whisper-asr-webservice",),
        model_dir="/root/.cache/whisper",
        env_var="ASR_MODEL_PATH",
        hub_layout=False,
        user="root",
        uid=0,
        docs_volume="$PWD/cache:/root/.cache",
        source="ahmetoner/whisper-asr-webservice app/config.py@15f4a5715fa4341586bbca1fce3cc6cc40403b31; "
        "docs/run.md@0fedf7ddf313290f94fb73ce83b75242a295126f",
    ),
    # Xinference (Docker Hub xprobe/xinference; doc/source/getting_started/using_docker_image.rst).
    # XINFERENCE_HOME default ~/.xinference; setting it also moves HUGGINGFACE_HUB_CACHE to
    # $XINFERENCE_HOME/huggingface and MODELSCOPE_CACHE to $XINFERENCE_HOME/modelscope
    # (xinference/constants.py@01239da34976ab756397034a3c11a7db3b4184d8). Without it, weights land in the
    # default HF / ModelScope caches and ~/.xinference/cache holds symlinks to them, so the docs mount
    # all three: `</your/home/path>/.xinference:/root/.xinference`, `.../.cache/huggingface:/root/.cache/
    # huggingface`, `.../.cache/modelscope:/root/.cache/modelscope` (paths under /root imply root; the
    # Dockerfile read, @03376780880d73424040cccd2f6f1e270d5dce1a, has no USER).
    ImageInfo(
        name="Xinference",
        repositories=("xprobe/xinference",),
        model_dir="/root/.xinference",
        env_var="XINFERENCE_HOME",
        hub_layout=False,
        user="root",
        uid=0,
        docs_volume="</your/home/path>/.xinference:/root/.xinference",
        source="xorbitsai/inference doc/source/getting_started/using_docker_image.rst; "
        "xinference/constants.py@01239da34976ab756397034a3c11a7db3b4184d8",
        extra_dirs=("/root/.cache/huggingface", "/root/.cache/modelscope"),
    ),
    # ComfyUI by YanWenKun (Docker Hub yanwk/comfyui-boot). Current README
    # (README.adoc@4baf45a4079eccf209881c0af2382d547f6053f2) runs ComfyUI in /root and mounts
    # `./storage-models/models:/root/ComfyUI/models`, plus `.../hf-hub:/root/.cache/huggingface/hub` and
    # `.../torch-hub:/root/.cache/torch/hub`; ComfyUI's models live in <base>/models (DOMAIN §3.4).
    # No variable moves it (ComfyUI uses --base-directory / extra_model_paths.yaml, CLI flags).
    # TAG-DEPENDENT: older tags (`cu121`, `latest` in README.adoc@0116433b2dfb5812cd7e71075f95187382a1ace6)
    # used a low-privilege user with storage at /home/runner; the current README says the megapak
    # tags use root, per-tag users of the slim tags UNVERIFIED -> user left None.
    ImageInfo(
        name="ComfyUI (yanwk/comfyui-boot)",
        repositories=("yanwk/comfyui-boot",),
        model_dir="/root/ComfyUI/models",
        env_var=None,
        hub_layout=False,
        user=None,
        uid=None,
        docs_volume="./storage-models/models:/root/ComfyUI/models",
        source="YanWenKun/ComfyUI-Docker README.adoc@4baf45a4079eccf209881c0af2382d547f6053f2",
        extra_dirs=("/root/.cache/huggingface/hub", "/root/.cache/torch/hub"),
        tag_dependent=True,
    ),
)

_BY_REPOSITORY: dict[str, ImageInfo] = {repo: info for info in KNOWN for repo in info.repositories}


def repository(image: str | None) -> str | None:
    """The normalised repository of an image reference: lower-cased, without tag or digest, Docker Hub
    references without their registry host and ``library/``. A variable in the tag or digest
    (``ollama/ollama:${TAG:-latest}``) is dropped with it; a variable anywhere in the name
    (``${REGISTRY}/ollama/ollama``) makes the repository unknown (None)."""
    if not image:
        return None
    name = image.strip()
    dollar = name.find("$")
    if dollar != -1:
        head = name[:dollar]
        slash = head.rfind("/")
        if "@" in head or ":" in head[slash + 1 :]:
            name = head
        else:
            return None
    name = name.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.find(":", slash + 1)
    if colon != -1:
        name = name[:colon]
    name = name.lower().strip("/")
    if not name or " " in name:
        return None
    first, sep, rest = name.partition("/")
    if sep and first in DOCKER_HUB_HOSTS:
        name = rest
    if name.startswith("library/") and name.count("/") == 1:
        name = name[len("library/") :]
    return name or None


def lookup(image: str | None) -> ImageInfo | None:
    """The entry for a Compose ``image:`` value, or None for an image not in the table."""
    repo = repository(image)
    if repo is None:
        return None
    return _BY_REPOSITORY.get(repo)
