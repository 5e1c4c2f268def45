# syntax=docker/dockerfile:1
# Build flash-attn once in a devel image; install only the wheel in the runtime image.
FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04 AS builder
RUN apt-get update && apt-get install -y --no-install-recommends python3-dev python3-pip git ninja-build \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=cache,target=/root/.cache/pip \
    pip3 install torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124 \
    && pip3 install packaging psutil wheel setuptools
ENV TORCH_CUDA_ARCH_LIST="8.0;8.6;8.9;9.0" \
    MAX_JOBS=4
# nvcc needs ~4 GB RAM per job; MAX_JOBS keeps CI runners alive
RUN --mount=type=cache,target=/root/.cache/pip \
    pip3 wheel --no-build-isolation --no-deps -w /wheels flash-attn==2.7.2.post1

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=bind,from=builder,source=/wheels,target=/tmp/wheels \
    pip3 install torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124 \
    && pip3 install /tmp/wheels/*.whl
COPY --from=builder /wheels/ /opt/wheels/
RUN pip3 install --no-cache-dir transformers==4.47.1 accelerate sentencepiece
ENV HF_HOME=/data/hf
WORKDIR /app
COPY serve.py .
EXPOSE 8000
CMD python3 serve.py --attn-implementation flash_attention_2 --port 8000
