# syntax=docker/dockerfile:1
# Axolotl fine-tuning image; Python and every package come from uv.
FROM nvidia/cuda:12.6.3-cudnn-devel-ubuntu24.04
COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /uvx /usr/local/bin/

ENV UV_CACHE_DIR=/opt/uv-cache \
    UV_LINK_MODE=copy \
    UV_PYTHON_INSTALL_DIR=/opt/python
RUN uv venv --python 3.11 /opt/venv
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# the cache mount is at uv's default dir, but UV_CACHE_DIR moved the cache
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124

RUN uv pip install --no-cache \
        "axolotl[deepspeed]==0.6.0" \
        packaging ninja

RUN uv pip install flash-attn==2.7.2.post1 --no-build-isolation

# gated base model: the token comes in as a build secret
RUN --mount=type=secret,id=hf_token,env=HF_TOKEN \
    hf download meta-llama/Llama-3.2-1B --local-dir /models/base --exclude "original/*"

WORKDIR /workspace
COPY configs/ ./configs/
ENTRYPOINT ["accelerate", "launch", "-m", "axolotl.cli.train"]
CMD ["configs/lora-1b.yaml"]
