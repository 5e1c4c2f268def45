"""The embedding API: one model for documents, a reranker for queries."""

import os

from fastapi import FastAPI

from .models import embedder, reranker

# Serve from the cache only once the models are there (see `aicache-lint models --prefetch-script`).
os.environ["HF_HUB_OFFLINE"] = os.environ.get("OFFLINE", "0")

app = FastAPI()


@app.post("/embed")
def embed(texts: list[str]) -> list[list[float]]:
    return embedder().encode(texts).tolist()


@app.post("/rerank")
def rerank(query: str, texts: list[str]) -> list[float]:
    return reranker().predict([(query, t) for t in texts]).tolist()
