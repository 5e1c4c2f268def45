# syntax=docker/dockerfile:1
ARG BASE_IMAGE=nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04
FROM ${BASE_IMAGE}

ARG INSTALL_DEEPSPEED=1
ARG INSTALL_APEX=0
ENV DEBIAN_FRONTEND=noninteractive \
    TORCH_CUDA_ARCH_LIST="8.0 8.6 9.0+PTX" \
    PIP_NO_CACHE_DIR=1

RUN apt-get update \
    # build tools for the CUDA extensions below
    && apt-get install -y --no-install-recommends build-essential ninja-build git \
    # python 3.11 from deadsnakes
    && apt-get install -y --no-install-recommends software-properties-common \
    && add-apt-repository -y ppa:deadsnakes/ppa \
    && apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-dev python3.11-venv \
    && python3.11 -m ensurepip --upgrade \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /workspace
COPY requirements-train.txt .

# torch 2.6 flipped the default of torch.load(weights_only=...); stay below it for now
RUN python3.11 -m pip install \
        torch<2.6 \
        torchvision \
        --index-url https://download.pytorch.org/whl/cu124 \
    && python3.11 -m pip install -r requirements-train.txt \
    # experiment tracking
    && python3.11 -m pip install wandb==0.19.1 tensorboard \
    && python3.11 -m pip install numpy>=1.24 transformers==4.46.3 peft==0.13.2

RUN [ "$INSTALL_DEEPSPEED" = "1" ] && DS_BUILD_OPS=0 python3.11 -m pip install deepspeed==0.16.2 || true

RUN <<'EOF' bash -ex
if [ "${INSTALL_APEX}" = "1" ]; then
  git clone https://github.com/NVIDIA/apex /tmp/apex
  cd /tmp/apex
  python3.11 -m pip install -v --disable-pip-version-check --no-build-isolation \
    --config-settings "--build-option=--cpp_ext" --config-settings "--build-option=--cuda_ext" .
  rm -rf /tmp/apex
fi
EOF

COPY . .
ENTRYPOINT ["python3.11", "-m", "torch.distributed.run"]
CMD ["--nproc_per_node=8", "train.py", "--config", "configs/llama3-8b-lora.yaml"]
