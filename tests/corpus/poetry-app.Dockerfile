# syntax=docker/dockerfile:1
# Summarisation API managed with Poetry. House style: lower-case keywords.
from python:3.11-slim-bookworm as base

env PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    POETRY_VERSION=1.8.5 \
    POETRY_VIRTUALENVS_IN_PROJECT=true \
    POETRY_NO_INTERACTION=1

run pip install --no-cache-dir "poetry==$POETRY_VERSION"
workdir /app
copy pyproject.toml poetry.lock ./
run --mount=type=cache,target=/root/.cache/pypoetry \
    poetry install --only main --no-root

# Poetry cannot pick the CPU wheel of torch: install it into the venv by hand
run .venv/bin/pip install torch==2.5.1 --index-url https://download.pytorch.org/whl/cpu
run .venv/bin/python -m pip install sentence-transformers==3.3.1

copy src/ ./src/
run poetry install --only main

from python:3.11-slim-bookworm
run useradd -m -u 1000 app
workdir /app
copy --from=base --chown=app:app /app /app
env PATH="/app/.venv/bin:$PATH"
user app
expose 8000
cmd ["uvicorn", "summarizer.api:app", "--host", "0.0.0.0", "--port", "8000"]
