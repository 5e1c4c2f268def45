"""aicache-lint: lint and fix the caches of AI/CUDA Dockerfiles."""

__version__ = "0.1.0"
