"""The models the API loads, each once."""

import functools
import os

from sentence_transformers import CrossEncoder, SentenceTransformer

os.environ.setdefault("TRANSFORMERS_CACHE", "/data/.huggingface/hub")

EMBEDDING_MODEL = os.getenv("EMBEDDING_MODEL", "BAAI/bge-small-en-v1.5")


@functools.cache
def embedder() -> SentenceTransformer:
    return SentenceTransformer(EMBEDDING_MODEL)


@functools.cache
def reranker() -> CrossEncoder:
    return CrossEncoder("cross-encoder/ms-marco-MiniLM-L6-v2", cache_folder="/tmp/rerankers")
