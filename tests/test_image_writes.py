"""Where a build puts files in its image (dockerfile/image_writes.py): a Compose fix must not mount a
volume over them. Each case: a Dockerfile, what its build context holds, and directories that the
image may fill (True) or surely does not (False)."""

from __future__ import annotations

import pytest

from aicache_lint.dockerfile.facts import Facts
from aicache_lint.dockerfile.image_writes import (
    ContextEntry,
    first_filler,
    image_writes,
)
from aicache_lint.dockerfile.lexer import parse
from aicache_lint.source import SourceText

CONTEXT = {
    ".": ContextEntry(True, ("app.py", "models", "requirements.txt")),
    "models": ContextEntry(True, ("README.txt",)),
    "requirements.txt": ContextEntry(False, ()),
    "weights.tar.gz": ContextEntry(False, ()),
}

CASES = {
    "copy-context-into-workdir": (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
        {"/app/models": True, "/app/models/hf": True, "/app/.cache/huggingface": False, "/data": False},
    ),
    "python-code-saves-into-a-directory": (
        # NVIDIA GenerativeAIExamples chain_server (rebuilt): the model is saved into HF_HOME at build time.
        "FROM python:3.12-slim\nENV HF_HOME=/tmp-data\nRUN python3 -c \"from sentence_transformers import "
        "SentenceTransformer; m = SentenceTransformer('all-MiniLM-L6-v2'); m.save('/opt/embedder')\"\n",
        {"/opt/embedder": True, "/opt": True, "/data": False},
    ),
    "copy-a-file-to-the-root": (
        "FROM python:3.12-slim\nCOPY requirements.txt .\n",
        {"/data": False, "/root/.cache/huggingface": False, "/requirements.txt": True},
    ),
    "copy-a-directory": (
        "FROM python:3.12-slim\nCOPY models/ /models/\n",
        {"/models": True, "/srv": False},
    ),
    "copy-from-a-stage-may-hold-anything": (
        "FROM python:3.12-slim AS build\nRUN echo\nFROM python:3.12-slim\nCOPY --from=build /out /srv\n",
        {"/srv/models": True, "/srv": True, "/data": False},
    ),
    "add-unpacks-a-local-archive": (
        "FROM python:3.12-slim\nADD weights.tar.gz /opt/\n",
        {"/opt/models": True, "/data": False},
    ),
    "copy-to-an-unknown-destination": (
        "FROM python:3.12-slim\nCOPY . ${APP_HOME}\n",
        {"/data": True},
    ),
    "copy-of-a-missing-source": (
        "FROM python:3.12-slim\nCOPY dist /srv/\n",
        {"/srv/anything": True, "/data": False},
    ),
    "directories-made-and-owned-hold-no-files": (
        "FROM python:3.12-slim\nRUN useradd -m app && mkdir -p /models /data/hf && chown -R app /models /data\n",
        {"/models": False, "/data/hf": False, "/home/app/.cache": False},
    ),
    "download-after-cd": (
        "FROM python:3.12-slim\nRUN mkdir -p /models && cd /models && wget -q https://example.com/m.bin\n",
        {"/models": True, "/data": False},
    ),
    "download-into-a-directory-below": (
        "FROM python:3.12-slim\nENV M=/models\nRUN wget -P ${M}/asr https://example.com/m.bin\n",
        {"/models": True, "/models/asr": True, "/mnt": False},
    ),
    "cli-download-to-a-local-dir": (
        "FROM python:3.12-slim\nRUN huggingface-cli download org/m --local-dir=/models/m\n",
        {"/models": True, "/root/.cache/huggingface": False},
    ),
    "cli-download-fills-the-hub-cache": (
        "FROM python:3.12-slim\nENV HF_HOME=/data/hf\nRUN hf download org/m\n",
        {"/data/hf": True, "/data/hf/hub": True, "/data/other": False},
    ),
    "cli-download-under-a-cache-mount-stays-out": (
        "FROM python:3.12-slim\nENV HF_HOME=/data/hf\nRUN --mount=type=cache,target=/data/hf hf download org/m\n",
        {"/data/hf": False},
    ),
    "python-hub-download-fills-the-hub-cache": (
        "FROM python:3.12-slim\nRUN python -c \"from huggingface_hub import snapshot_download; "
        "snapshot_download('BAAI/bge-small-en-v1.5')\"\n",
        {"/root/.cache/huggingface": True, "/data": False},
    ),
    "redirection-of-a-command-that-writes-nothing-else": (
        "FROM python:3.12-slim\nRUN echo ready > /models/READY\n",
        {"/models": True, "/data": False},
    ),
    "script-in-a-workdir-may-write-below-it": (
        "FROM python:3.12-slim\nWORKDIR /app\nRUN python fetch_models.py\n",
        {"/app/models": True, "/data": False},
    ),
    "script-without-a-workdir": (
        "FROM python:3.12-slim\nRUN python -c 'import torch'\n",
        {"/data": False, "/models": False},
    ),
    "installer-in-a-workdir-writes-elsewhere": (
        "FROM python:3.12-slim\nWORKDIR /app\nRUN pip install -r requirements.txt && apt-get install -y curl\n",
        {"/app/models": False},
    ),
    "stage-built-from-another-inherits-its-files": (
        "FROM python:3.12-slim AS base\nCOPY models/ /models/\nFROM base\nRUN echo\n",
        {"/models": True},
    ),
    "a-stage-not-in-the-image-does-not-count": (
        "FROM python:3.12-slim AS fetch\nRUN wget -P /models https://example.com/m.bin\n"
        "FROM python:3.12-slim\nRUN echo\n",
        {"/models": False},
    ),
    "unknown-variable-in-a-word-is-skipped": (
        "FROM python:3.12-slim\nRUN wget -P ${MODEL_DIR} https://example.com/m.bin\n",
        {"/models": False},
    ),
    "untokenizable-script-may-write-any-path-it-names": (
        "FROM python:3.12-slim\nRUN cat <<EOF > /models/a (\nEOF\n",
        {"/models": True},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_image_writes(name: str) -> None:
    text, expected = CASES[name]
    doc = parse(SourceText(text, "Dockerfile"))
    assert not doc.errors
    facts = Facts(doc)
    writes = image_writes(facts, facts.final_stage, CONTEXT.get)
    got = {directory: first_filler(writes, directory) is not None for directory in expected}
    assert got == expected, writes
