# syntax=docker/dockerfile:1
# Text-embeddings API (sentence-transformers). Saved by an editor that writes a UTF-8 BOM.
FROM nvidia/cuda:12.8.2-runtime-ubuntu24.04

ENV PIP_NO_CACHE_DIR=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1 \
    HF_HOME=/srv/hf \
    SENTENCE_TRANSFORMERS_HOME=/srv/hf/st
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip \
    && rm -rf /var/lib/apt/lists/*

RUN --mount=type=cache,target=/root/.cache/pip \
    pip3 install torch==2.6.0 --index-url https://download.pytorch.org/whl/cu126

RUN --mount=type=cache,target=/root/.cache/pip \
    pip3 install sentence-transformers==3.3.1 fastapi "uvicorn[standard]" \
    "huggingface_hub[cli]>=0.34"

# bake the default model into the image (pinned revision)
ARG EMBED_MODEL=BAAI/bge-small-en-v1.5
RUN hf download ${EMBED_MODEL} --revision 5c38ec7c405ec4b44b94cc5a9bb96e735b38267a

COPY app /srv/app
WORKDIR /srv/app
EXPOSE 8080
CMD exec uvicorn main:app --host 0.0.0.0 --port 8080 --workers ${WORKERS:-1}
