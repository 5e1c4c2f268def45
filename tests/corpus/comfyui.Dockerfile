# syntax=docker/dockerfile:1
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update && apt-get install -y --no-install-recommends \
        python3 python3-venv python3-dev \
        git wget \
        # OpenCV-based custom nodes
        libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

# ubuntu 24.04 images ship a `ubuntu` user with uid 1000: take the uid over
RUN userdel -r ubuntu && useradd -m -u 1000 -s /bin/bash comfy \
    && mkdir -p /opt/venv /opt/ComfyUI \
    && chown -R comfy:comfy /opt/venv /opt/ComfyUI
USER comfy
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_CACHE_DIR=/home/comfy/.cache/pip-comfy
RUN python3 -m venv /opt/venv

WORKDIR /opt/ComfyUI
ARG COMFYUI_REF=v0.3.10
RUN git clone https://github.com/comfyanonymous/ComfyUI.git . && git checkout ${COMFYUI_REF}

# torch first: the largest download, and it changes least often
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install torch==2.5.1 torchvision==0.20.1 torchaudio==2.5.1 \
        --index-url https://download.pytorch.org/whl/cu124

RUN <<EOF
set -eux
pip install -r requirements.txt
# ComfyUI-Manager and the nodes our workflows use
git clone --depth 1 https://github.com/ltdrdata/ComfyUI-Manager.git custom_nodes/ComfyUI-Manager
pip install -r custom_nodes/ComfyUI-Manager/requirements.txt
pip install opencv-python-headless==4.10.0.84 diffusers transformers
EOF

EXPOSE 8188
VOLUME ["/opt/ComfyUI/models", "/opt/ComfyUI/output"]
CMD python3 main.py --listen 0.0.0.0 --port 8188
