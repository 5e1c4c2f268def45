"""Which build-context files an install reads (workspace/build_context.py): each case is a
Dockerfile, the build context as a dict, and what the last install of the file reads. Situations
come from AI repositories' Dockerfiles (`COPY requirements.txt .`, a requirements/ folder, `pip
install -e .[train]`, `uv sync --frozen`, micromamba images, bind-mounted requirements)."""

from __future__ import annotations

import posixpath
import textwrap

import pytest

from aicache_lint.dockerfile.facts import Facts
from aicache_lint.dockerfile.lexer import parse
from aicache_lint.source import SourceText
from aicache_lint.workspace.build_context import context_installs

PYPROJECT = """\
[project]
name = "trainer"
dependencies = ["torch>=2.3", "transformers"]

[project.optional-dependencies]
train = ["accelerate", "wandb"]

[dependency-groups]
dev = ["pytest"]
"""

CONTEXT = {
    "requirements.txt": "-r requirements/base.txt\ndiffusers\n",
    "requirements/base.txt": "torch\n",
    "requirements/dev.txt": "-r base.txt\npytest\n",
    "requirements-gpu.txt": "xformers\n",
    "docker/requirements-app.txt": "vllm\n",
    "constraints.txt": "numpy<2\n",
    "pyproject.toml": PYPROJECT,
    "uv.lock": '[[package]]\nname = "torch"\nversion = "2.3.1"\n',
    "poetry.lock": '[[package]]\nname = "sentence-transformers"\nversion = "3.0.1"\n',
    "environment.yml": "dependencies:\n  - python=3.11\n  - pip:\n    - -r requirements.txt\n",
    "services/api/requirements.txt": "fastapi\n",
}


def listing(files: dict[str, str]):
    """A listdir callback over the directories that ``files`` implies."""
    dirs: dict[str, set[str]] = {}
    for path in files:
        parent, name = posixpath.split(path)
        dirs.setdefault(parent or ".", set()).add(name)
        while parent:
            up, name = posixpath.split(parent)
            dirs.setdefault(up or ".", set()).add(name)
            parent = up
    return lambda p: sorted(dirs[posixpath.normpath(p)]) if posixpath.normpath(p) in dirs else None


def installs(dockerfile: str, files: dict[str, str] = CONTEXT, context: str = "", listdir=None):
    """(kind, image path, context path, package names, problems) of what the last RUN's installs read."""
    facts = Facts(parse(SourceText(textwrap.dedent(dockerfile))))
    run = facts.runs()[-1]
    found = []
    for inv in facts.invocations(run):
        for item in context_installs(facts, run, inv, context, files.get, listdir or listing(files)):
            found.append((item.kind, item.image_path, item.context_path,
                          [r.name for r in item.depfile.packages], item.depfile.problems))
    return found


REQS = ("requirements", "/app/requirements.txt", "requirements.txt", ["torch", "diffusers"], ())


@pytest.mark.parametrize("dockerfile, expected", [
    pytest.param("""\
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        COPY requirements/ ./requirements/
        RUN pip install --no-cache-dir -r requirements.txt
        """, [REQS], id="copy-into-workdir-with-nested-include"),
    pytest.param("""\
        FROM python:3.11-slim
        WORKDIR /app
        COPY . .
        RUN --mount=type=cache,target=/root/.cache/pip python -m pip install --requirement=requirements.txt
        """, [REQS], id="copy-whole-context"),
    pytest.param("""\
        FROM nvcr.io/nvidia/pytorch:23.05-py3
        COPY ./docker/requirements-app.txt /usr/src/docker/requirements.txt
        RUN apt-get update && pip install -r "/usr/src/docker/requirements.txt"
        """, [("requirements", "/usr/src/docker/requirements.txt", "docker/requirements-app.txt", ["vllm"], ())],
        id="single-file-renamed"),
    pytest.param("""\
        FROM python:3.11
        COPY requirements-gpu.txt constraints.txt /deps/
        RUN pip install -r /deps/requirements-gpu.txt -c /deps/constraints.txt
        """, [("requirements", "/deps/requirements-gpu.txt", "requirements-gpu.txt", ["xformers"], ()),
              ("constraints", "/deps/constraints.txt", "constraints.txt", [], ())], id="two-sources-and-a-constraint"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /srv
        COPY --chown=app:app --link requirements/ deps/
        RUN pip install -r deps/dev.txt
        """, [("requirements", "/srv/deps/dev.txt", "requirements/dev.txt", ["torch", "pytest"], ())],
        id="workdir-relative-directory-destination"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY requirements*.txt ./
        RUN pip install -r requirements-gpu.txt
        """, [("requirements", "/app/requirements-gpu.txt", "requirements-gpu.txt", ["xformers"], ())],
        id="wildcard-source"),
    pytest.param("""\
        FROM nvcr.io/nvidia/pytorch:24.10-py3 as base
        ARG REQUIREMENTS=requirements-gpu.txt
        COPY ${REQUIREMENTS} .
        RUN --mount=type=cache,target=/root/.cache pip install -r ${REQUIREMENTS}
        """, [("requirements", "/requirements-gpu.txt", "requirements-gpu.txt", ["xformers"], ())],
        id="build-arg-names-the-file"),
    pytest.param("""\
        FROM python:3.11 AS deps
        WORKDIR /app
        COPY requirements.txt requirements/ ./
        FROM deps AS app
        RUN pip install -r requirements.txt
        """, [("requirements", "/app/requirements.txt", "requirements.txt", ["diffusers"],
               ("/app/requirements.txt:1: `-r requirements/base.txt`: /app/requirements/base.txt not found",))],
        id="parent-stage-copy-and-an-include-not-in-the-image"),
    pytest.param("""\
        FROM python:3.11
        RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \\
            --mount=type=bind,source=requirements,target=/tmp/requirements \\
            pip install -r /tmp/requirements.txt
        """, [("requirements", "/tmp/requirements.txt", "requirements.txt", ["torch", "diffusers"], ())],
        id="bind-mounts"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /src
        RUN --mount=type=bind,target=. pip install -r requirements.txt
        """, [("requirements", "/src/requirements.txt", "requirements.txt", ["torch", "diffusers"], ())],
        id="bind-mount-of-the-context-root"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY requirements.txt .
        COPY requirements requirements
        RUN <<EOF
        set -e
        pip install -r requirements.txt
        EOF
        """, [REQS], id="heredoc-run"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY . /app
        RUN pip install --no-cache-dir -e ".[train]"
        """, [("project", "/app", ".", ["torch", "transformers", "accelerate", "wandb"], ())],
        id="editable-project-with-extras"),
    pytest.param("""\
        FROM python:3.11
        COPY pyproject.toml /opt/trainer/
        RUN pip install /opt/trainer
        """, [("project", "/opt/trainer", ".", ["torch", "transformers"], ())], id="project-by-absolute-path"),
    pytest.param("""\
        FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim
        WORKDIR /app
        COPY pyproject.toml uv.lock ./
        RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-install-project
        """, [("project", "/app", ".", ["torch", "transformers", "pytest"], ()),
              ("uv.lock", "/app/uv.lock", "uv.lock", ["torch"], ())], id="uv-sync"),
    pytest.param("""\
        FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim
        COPY . /workspace/trainer
        RUN uv sync --locked --no-dev --extra train --project /workspace/trainer
        """, [("project", "/workspace/trainer", ".", ["torch", "transformers", "accelerate", "wandb"], ()),
              ("uv.lock", "/workspace/trainer/uv.lock", "uv.lock", ["torch"], ())], id="uv-sync-project-option"),
    pytest.param("""\
        FROM python:3.12
        WORKDIR /app
        COPY requirements.txt requirements ./
        RUN uv pip install --system -r requirements.txt
        """, [("requirements", "/app/requirements.txt", "requirements.txt", ["diffusers"],
               ("/app/requirements.txt:1: `-r requirements/base.txt`: /app/requirements/base.txt not found",))],
        id="uv-pip-install-directory-contents-flattened"),
    pytest.param("""\
        FROM python:3.12
        COPY requirements-gpu.txt /tmp/
        RUN uv pip sync --python 3.12 /tmp/requirements-gpu.txt
        """, [("requirements", "/tmp/requirements-gpu.txt", "requirements-gpu.txt", ["xformers"], ())],
        id="uv-pip-sync"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /code
        COPY pyproject.toml poetry.lock ./
        RUN poetry install --no-root --no-interaction
        """, [("project", "/code", ".", ["torch", "transformers"], ()),
              ("poetry.lock", "/code/poetry.lock", "poetry.lock", ["sentence-transformers"], ())], id="poetry"),
    pytest.param("""\
        FROM continuumio/miniconda3
        COPY environment.yml requirements.txt /tmp/
        COPY requirements/ /tmp/requirements/
        RUN conda env create -f /tmp/environment.yml
        """, [("environment", "/tmp/environment.yml", "environment.yml", ["python", "torch", "diffusers"], ())],
        id="conda-env-create-with-pip-include"),
    pytest.param("""\
        FROM continuumio/miniconda3
        WORKDIR /env
        COPY environment.yml .
        RUN conda env update -n base
        """, [("environment", "/env/environment.yml", "environment.yml", ["python"],
               ("/env/environment.yml:4: `-r requirements.txt`: /env/requirements.txt not found",))],
        id="conda-env-update-default-file"),
    pytest.param("""\
        FROM mambaorg/micromamba:1.5.8
        COPY --chown=$MAMBA_USER:$MAMBA_USER environment.yml /tmp/env.yaml
        RUN micromamba install -y -n base -f /tmp/env.yaml && micromamba clean --all --yes
        """, [("environment", "/tmp/env.yaml", "environment.yml", ["python"],
               ("/tmp/env.yaml:4: `-r requirements.txt`: /tmp/requirements.txt not found",))],
        id="micromamba-install"),
])
def test_install_reads(dockerfile, expected):
    assert installs(dockerfile) == expected


def test_context_directory_prefixes_the_paths_read():
    found = installs("FROM python:3.11\nCOPY requirements.txt /app/\nRUN pip install -r /app/requirements.txt\n",
                     context="services/api")
    assert found == [("requirements", "/app/requirements.txt", "services/api/requirements.txt", ["fastapi"], ())]


# -- traps: what cannot be known gives nothing ---------------------------------------------------


@pytest.mark.parametrize("dockerfile", [
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        RUN pip install -r requirements.txt
        COPY requirements.txt .
        """, id="copy-after-the-run"),
    pytest.param("""\
        FROM python:3.11 AS builder
        WORKDIR /app
        COPY requirements.txt .
        RUN pip-compile --generate-hashes
        FROM python:3.11
        WORKDIR /app
        COPY --from=builder /app/requirements.txt .
        RUN pip install -r requirements.txt
        """, id="copy-from-another-stage"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY requirements.txt .
        COPY --from=ghcr.io/org/pins:latest /requirements.txt /app/requirements.txt
        RUN pip install -r requirements.txt
        """, id="later-copy-from-an-image-overrides"),
    pytest.param("""\
        FROM python:3.11 AS deps
        WORKDIR /app
        COPY requirements.txt .
        FROM python:3.11
        WORKDIR /app
        RUN pip install -r requirements.txt
        """, id="copy-in-an-unrelated-stage"),
    pytest.param("""\
        FROM python:3.11
        COPY <<EOF /app/requirements.txt
        torch
        EOF
        RUN pip install -r /app/requirements.txt
        """, id="heredoc-copy"),
    pytest.param("""\
        FROM python:3.11
        ARG REQS
        COPY ${REQS} /app/
        RUN pip install -r /app/requirements.txt
        """, id="source-variable-without-value"),
    pytest.param("""\
        FROM python:3.11
        ARG DEST
        COPY requirements.txt $DEST
        RUN pip install -r /app/requirements.txt
        """, id="destination-variable-without-value"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY requirements.txt .
        RUN sed -i '/torch/d' requirements.txt
        RUN pip install -r requirements.txt
        """, id="rewritten-by-an-earlier-run"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY requirements.txt .
        RUN echo "flash-attn" >> requirements.txt && pip install -r requirements.txt
        """, id="appended-to-in-the-same-run"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY pyproject.toml requirements.txt ./
        RUN uv pip compile pyproject.toml -o requirements.txt && uv pip install -r requirements.txt
        """, id="generated-in-the-same-run"),
    pytest.param("""\
        FROM python:3.11
        COPY requirements.txt /app/
        ADD deps.tar.gz /app/
        RUN pip install -r /app/requirements.txt
        """, id="add-unpacks-an-archive-over-a-copy"),
    pytest.param("""\
        FROM python:3.11
        ADD https://example.com/requirements.txt /app/
        RUN pip install -r /app/requirements.txt
        """, id="add-url"),
    pytest.param("""\
        FROM python:3.11
        RUN --mount=type=bind,from=builder,source=/out,target=/deps pip install -r /deps/requirements.txt
        """, id="bind-mount-from-a-stage"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY . .
        RUN --mount=type=cache,target=/app pip install -r requirements.txt
        """, id="cache-mount-hides-the-file"),
    pytest.param("""\
        FROM myorg/base-with-requirements:1
        RUN pip install -r /opt/requirements.txt
        """, id="file-from-the-base-image"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY --exclude=*.txt . .
        RUN pip install -r requirements.txt
        """, id="excluded-from-the-copy"),
    pytest.param("""\
        FROM python:3.11
        COPY --parents requirements/base.txt /app/
        RUN pip install -r /app/requirements/base.txt
        """, id="copy-parents"),
    pytest.param("""\
        FROM python:3.11
        ONBUILD COPY requirements.txt /app/
        RUN pip install -r /app/requirements.txt
        """, id="onbuild-copy"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY . .
        RUN uv sync --package worker
        """, id="uv-workspace-member"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY . .
        RUN pip install ~/src/pkg torch
        """, id="home-path-and-a-package-name"),
    pytest.param("""\
        FROM python:3.11
        WORKDIR /app
        COPY . .
        RUN pip install --no-deps -e .
        """, id="project-without-its-dependencies"),
])
def test_unknown_files_give_nothing(dockerfile):
    assert installs(dockerfile) == []


def test_the_last_copy_wins():
    dockerfile = """\
        FROM python:3.11
        COPY requirements.txt /app/requirements.txt
        COPY requirements-gpu.txt /app/requirements.txt
        RUN pip install -r /app/requirements.txt
        """
    assert installs(dockerfile) == [("requirements", "/app/requirements.txt", "requirements-gpu.txt", ["xformers"], ())]


def test_a_directory_copy_lacking_the_file_says_nothing():
    # The file may come from the base image or an earlier layer: unknown, not missing.
    dockerfile = "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    assert installs(dockerfile, files={"app.py": "print()\n"}) == []


def test_wildcard_that_cannot_be_listed_gives_nothing():
    dockerfile = "FROM python:3.11\nWORKDIR /app\nCOPY requirements*.txt ./\nRUN pip install -r requirements-gpu.txt\n"
    assert installs(dockerfile, listdir=lambda path: None) == []


def test_missing_context_file_is_a_problem_not_a_guess():
    found = installs("FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
                     files={})
    assert found == [("requirements", "/app/requirements.txt", "requirements.txt", [],
                      ("/app/requirements.txt not found",))]


def test_a_file_read_only_by_an_earlier_run_stays_known():
    dockerfile = """\
        FROM python:3.11
        WORKDIR /app
        COPY requirements.txt requirements ./
        COPY requirements/ requirements/
        RUN cat requirements.txt && grep -q torch requirements.txt
        RUN python -m venv /opt/venv
        RUN /opt/venv/bin/pip install -r requirements.txt
        """
    assert installs(dockerfile) == [REQS]


def test_requirement_paths_name_context_files():
    facts = Facts(parse(SourceText("FROM python:3.11\nCOPY . /app\nRUN pip install -r /app/requirements/dev.txt\n")))
    run = facts.runs()[-1]
    (found,) = context_installs(facts, run, facts.invocations(run)[0], "", CONTEXT.get, listing(CONTEXT))
    assert [(r.name, r.path, r.line) for r in found.depfile.packages] == [
        ("torch", "requirements/base.txt", 1), ("pytest", "requirements/dev.txt", 2)]
    assert found.depfile.files == ("requirements/dev.txt", "requirements/base.txt")
