# syntax=docker/dockerfile:1
# vLLM OpenAI-compatible server with the served model baked into the image.
#   docker build -f vllm-serve.Dockerfile --build-arg MODEL_ID=Qwen/Qwen2.5-7B-Instruct .
ARG CUDA_VERSION=12.8.2
ARG PYTHON_VERSION=3.12

FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS base
ARG PYTHON_VERSION
ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8

RUN apt-get update -y \
    && apt-get install -y --no-install-recommends \
        ccache software-properties-common git curl sudo \
    && add-apt-repository ppa:deadsnakes/ppa \
    && apt-get update -y \
    && apt-get install -y python${PYTHON_VERSION} python${PYTHON_VERSION}-dev python${PYTHON_VERSION}-venv \
    && update-alternatives --install /usr/bin/python3 python3 /usr/bin/python${PYTHON_VERSION} 1 \
    && curl -sS https://bootstrap.pypa.io/get-pip.py | python${PYTHON_VERSION} \
    && rm -rf /var/lib/apt/lists/*

# uv is much faster than pip for the large wheels below
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -m pip install uv==0.5.11

ENV UV_LINK_MODE=copy
WORKDIR /workspace

# vLLM pins torch 2.5.1+cu124 and pulls the nvidia-* runtime wheels
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --system vllm==0.6.6.post1 "flashinfer-python==0.2.0.post1" \
        --extra-index-url https://flashinfer.ai/whl/cu124/torch2.5/

# faster downloads at build time and the `hf` CLI (huggingface_hub >= 0.34)
RUN uv pip install --system hf_transfer huggingface_hub[cli]>=0.34.0

FROM base AS model
ARG MODEL_ID=Qwen/Qwen2.5-1.5B-Instruct
ARG MODEL_REVISION=main
ENV HF_HUB_ENABLE_HF_TRANSFER=1
RUN hf download ${MODEL_ID} --revision ${MODEL_REVISION} --local-dir /models/served \
        --exclude "*.pth" "original/*"

FROM base AS runtime
COPY --from=model /models/served /models/served
# vLLM compiles CUDA graphs and kernels into this directory on first start
ENV VLLM_CACHE_ROOT=/root/.cache/vllm
EXPOSE 8000
ENTRYPOINT ["python3", "-m", "vllm.entrypoints.openai.api_server"]
CMD ["--model", "/models/served", "--served-model-name", "default", "--port", "8000"]
