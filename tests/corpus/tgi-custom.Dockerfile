# syntax=docker/dockerfile:1
# Text Generation Inference with our LoRA adapters and a fused-RoPE CUDA kernel.
ARG TGI_VERSION=3.0.1
ARG CUDA_VERSION=12.4.1

FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS kernel-builder
RUN apt-get update && apt-get install -y --no-install-recommends python3-dev python3-pip ninja-build git \
    && rm -rf /var/lib/apt/lists/*
RUN pip3 install torch==2.4.0 --extra-index-url https://download.pytorch.org/whl/cu124 \
    && pip3 install --no-cache-dir \
        # build-time only
        packaging wheel setuptools
WORKDIR /src/fused-rope
COPY kernels/fused-rope/ .
ENV TORCH_CUDA_ARCH_LIST="8.0;8.6;8.9;9.0"
RUN --mount=type=cache,target=/root/.cache/pip \
    MAX_JOBS=8 pip3 wheel . --no-build-isolation --no-deps -w /wheels

FROM ghcr.io/huggingface/text-generation-inference:${TGI_VERSION}
COPY --from=kernel-builder /wheels /wheels
# The TGI image sets HF_HOME=/data; the model volume is mounted there.
RUN pip install --no-cache-dir /wheels/*.whl peft==0.14.0 \
    && rm -rf /wheels
COPY adapters/ /data/adapters/
ENV LORA_ADAPTERS=/data/adapters/support-bot,/data/adapters/sql-gen \
    MODEL_ID=meta-llama/Llama-3.1-8B-Instruct
# The launcher is the image's entrypoint; these are its arguments.
CMD ["--max-input-tokens", "4096", "--max-total-tokens", "8192"]
