# syntax=docker/dockerfile:1
# Reranker API. Weights are fetched once on the build host's platform (they are the
# same bytes for every architecture); the venv is built with uv and copied out.

FROM --platform=$BUILDPLATFORM python:3.12-slim-bookworm AS weights
RUN pip install "huggingface_hub[cli]==0.35.3"
ARG RERANKER=BAAI/bge-reranker-v2-m3
RUN hf download ${RERANKER} --local-dir /weights/reranker

FROM ghcr.io/astral-sh/uv:0.5.11-python3.12-bookworm-slim AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# dependencies only: this layer survives code edits
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-install-project --no-dev
COPY . /app
RUN uv sync --frozen --no-dev

FROM python:3.12-slim-bookworm
RUN groupadd --gid 1000 app && useradd --uid 1000 --gid app -m app
COPY --from=build --chown=app:app /app /app
COPY --from=weights --chown=app:app /weights /weights
ENV PATH="/app/.venv/bin:$PATH" \
    RERANKER_PATH=/weights/reranker
USER app
WORKDIR /app
EXPOSE 8080
ENTRYPOINT ["uvicorn", "reranker.api:app"]
CMD ["--host", "0.0.0.0", "--port", "8080"]
