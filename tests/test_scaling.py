"""Linting and fixing grow linearly with the size of a file.

Work is counted, not timed: the number of Python function calls (cProfile's count, the same on
every machine) to lint or fix a file of N blocks must about double for 2N blocks. Each block holds
what once made a rule rescan the file per instruction or per service: AIC101's search for a mount
to share, AIC204's reading of earlier installs, AIC107's search for a conda installer, a stage-wide
AIC110 fix attached to every finding, AIC402's volume layouts, and new Compose lists that asked
the whole document how it indents.
"""

from __future__ import annotations

import cProfile
import pstats

import pytest

from aicache_lint.api import fix_text, lint_text
from aicache_lint.settings import Settings

# Every rule, AIC401 included: which services share a cache volume, and as which user, is read once
# per project (compose/cache_plan.py), not per finding.
SETTINGS = Settings(unsafe_fixes=True)

DOCKERFILE_BLOCK = """\
RUN pip install torch
RUN huggingface-cli download gpt2
RUN conda install -y numpy
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
"""

COMPOSE_BLOCK = """\
  s{i}:
    image: vllm/vllm-openai:v0.6.3
    environment:
      HF_HOME: /data/hf{i}
    volumes:
      - ./x{i}:/other
  t{i}:
    image: ollama/ollama
    environment:
      - HF_HOME=/data/hf
"""


def _dockerfile(n: int) -> tuple[str, str]:
    return "FROM python:3.12\nRUN curl -o m.sh https://x/Miniconda3.sh && sh m.sh -b -p /opt/conda\n" \
        + DOCKERFILE_BLOCK * n, "Dockerfile"


def _non_root(n: int) -> tuple[str, str]:
    # Each cache-mount fix under a non-root user looks for the first RUN of its USER block (where
    # the `RUN mkdir -p` goes): once per stage, not once per RUN.
    return "FROM python:3.12\nRUN useradd -m -u 1000 app\nUSER app\n" + "RUN pip install --user torch\n" * n, \
        "Dockerfile"


def _compose(n: int) -> tuple[str, str]:
    return "x-list:\n  - a\nservices:\n" + "".join(COMPOSE_BLOCK.format(i=i) for i in range(n)), \
        "/nonexistent/compose.yaml"


def _calls(action, text: str, path: str) -> int:
    profile = cProfile.Profile()
    profile.enable()
    action(text, path, SETTINGS)
    profile.disable()
    return pstats.Stats(profile).total_calls


@pytest.mark.parametrize("action", [lint_text, fix_text], ids=["lint", "fix"])
@pytest.mark.parametrize("make", [_dockerfile, _non_root, _compose], ids=["dockerfile", "non-root", "compose"])
def test_work_grows_linearly(make, action):
    action(*make(2), SETTINGS)  # import what the run needs first: imports are not the file's work
    small, large = _calls(action, *make(60)), _calls(action, *make(120))
    assert large / small < 2.15, f"{small} calls for 60 blocks, {large} for 120"
