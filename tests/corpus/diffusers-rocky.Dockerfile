# syntax=docker/dockerfile:1
# Diffusers batch renderer on Rocky Linux 9. This file already follows the recipes:
# pip cache mounted where pip really caches for the non-root user, HF_HOME set.
FROM nvidia/cuda:12.9.1-cudnn-runtime-rockylinux9

RUN --mount=type=cache,target=/var/cache/dnf,sharing=locked \
    dnf install -y --setopt=keepcache=1 python3.11 python3.11-pip shadow-utils

RUN groupadd -g 1001 render && useradd -m -u 1001 -g 1001 render
USER render
ENV HOME=/home/render \
    PIP_CACHE_DIR=/home/render/.cache/pip \
    PATH=/home/render/.local/bin:$PATH \
    HF_HOME=/home/render/.cache/huggingface
WORKDIR /home/render/app

RUN --mount=type=cache,target=/home/render/.cache/pip,uid=1001,gid=1001 \
    python3.11 -m pip install --user \
        torch==2.7.1 --index-url https://download.pytorch.org/whl/cu128

RUN --mount=type=cache,target=/home/render/.cache/pip,uid=1001,gid=1001 \
    python3.11 -m pip install --user \
        "diffusers>=0.31,<0.33" "transformers<5" accelerate safetensors

COPY --chown=render:render render.py .
CMD ["python3.11", "render.py", "--batch", "/jobs"]
