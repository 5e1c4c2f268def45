"""The workspace layer on small repositories: which builds a Dockerfile has and the build args they
agree on, how an image name built here links to its Dockerfile (real paths, `:latest`, Docker Hub
spellings), what cannot be trusted (a cycle, a missing target) and that a one-file run reads no
more than its rules ask for."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_runner import invoke

from aicache_lint.workspace.images import image_key
from aicache_lint.workspace.index import BUILDS, LISTED, PROBED, Workspace


def _repo(root: Path, files: dict[str, str]) -> Path:
    """A repository at ``root`` (with `.git`) holding ``files``."""
    (root / ".git").mkdir(parents=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _ws(root: Path, *names: str) -> Workspace:
    return Workspace([str(root / n) for n in names])


BASE_APP = """FROM python:3.12-slim
RUN useradd --create-home --uid 1000 app
USER app
ENV HF_HOME=/home/app/.cache/huggingface
"""


# -- build args ---------------------------------------------------------------------------------

def test_build_args_are_those_all_builds_agree_on(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": """services:
  cu124:
    build:
      context: .
      args:
        CUDA: 12.4.1
        PYTHON: "3.11"
  cu124-py312:
    build:
      context: .
      args:
        CUDA: 12.4.1
        PYTHON: "3.12"
""",
        "Dockerfile": "ARG CUDA=12.1.0\nARG PYTHON=3.10\nFROM nvidia/cuda:${CUDA}-runtime-ubuntu22.04\n",
    })
    ws = _ws(root, "Dockerfile")
    assert len(ws.invocations_of(str(root / "Dockerfile"))) == 2
    # PYTHON differs between the builds: the file is linted with its own default.
    assert ws.build_args(str(root / "Dockerfile")) == {"CUDA": "12.4.1"}


def test_build_args_of_a_workflow_and_a_compose_build_that_agree(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build:\n      context: .\n      args:\n        BASE: nvidia/cuda:12.4.1-base-ubuntu22.04\n",
        ".github/workflows/ci.yml": """on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: docker build --build-arg BASE=nvidia/cuda:12.4.1-base-ubuntu22.04 --build-arg EXTRA=1 -t app .
""",
        "Dockerfile": "ARG BASE=ubuntu:22.04\nFROM ${BASE}\n",
    })
    ws = _ws(root, "Dockerfile")
    assert {inv.origin.kind for inv in ws.invocations_of(str(root / "Dockerfile"))} == {"compose", "workflow"}
    assert ws.build_args(str(root / "Dockerfile")) == {"BASE": "nvidia/cuda:12.4.1-base-ubuntu22.04"}


def test_a_dockerfile_built_by_no_one_has_no_build_args(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  web:\n    build:\n      context: ./web\n      args:\n        X: '1'\n",
        "web/Dockerfile": "ARG X=0\nFROM python:3.12\n",
        "tools/Dockerfile": "ARG X=0\nFROM python:3.12\n",
    })
    ws = _ws(root, "tools/Dockerfile", "web/Dockerfile")
    assert ws.invocations_of(str(root / "tools/Dockerfile")) == []
    assert ws.build_args(str(root / "tools/Dockerfile")) == {}
    assert ws.build_args(str(root / "web/Dockerfile")) == {"X": "1"}


# -- Dockerfiles and images ----------------------------------------------------------------------

def test_invocations_of_compares_real_paths(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  gpu:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile.gpu\n",
        "docker/Dockerfile.gpu": "FROM python:3.12\n",
    })
    os.symlink("docker/Dockerfile.gpu", root / "Dockerfile")
    ws = _ws(root, "Dockerfile")
    (inv,) = ws.invocations_of(str(root / "Dockerfile"))
    assert inv.origin.name == "gpu"
    assert ws.invocations_of(str(root / "docker" / "Dockerfile.gpu")) == [inv]


def test_a_workflow_given_to_the_run_declares_builds_below_the_root(tmp_path: Path) -> None:
    """`aicache-lint examples/` lints examples/.github/workflows/*.yml: their builds count, although
    the repository root's .github is elsewhere."""
    workflow = ("jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n"
                "        with: {context: ., tags: acme/app:1}\n")
    root = _repo(tmp_path, {"sub/.github/workflows/ci.yml": workflow, "sub/Dockerfile": "FROM python:3.12\n"})
    assert _ws(root, "sub/Dockerfile").invocations() == []  # not at the root, not given
    ws = _ws(root, "sub/Dockerfile", "sub/.github/workflows/ci.yml")
    (inv,) = ws.invocations_of(str(root / "sub" / "Dockerfile"))
    assert inv.tags == ("acme/app:1",)


def test_compose_builds_carry_their_cache_lists(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build:\n      context: .\n      cache_from:\n"
                        "        - type=registry,ref=acme/app:cache\n      cache_to: [type=inline]\n"
                        "  short:\n    build: .\n",
        "Dockerfile": "FROM python:3.12\n",
    })
    app, short = _ws(root, "Dockerfile").invocations()
    assert (app.cache_from, app.cache_to) == (("type=registry,ref=acme/app:cache",), ("type=inline",))
    assert (short.cache_from, short.cache_to) == ((), ())


@pytest.mark.parametrize(("reference", "same"), [
    ("acme/base", "acme/base:latest"),
    ("docker.io/acme/base:1", "acme/base:1"),
    ("docker.io/library/python:3.12", "python:3.12"),
    ("index.docker.io/library/python:3.12", "python:3.12"),
    ("ACME/Base", "acme/base:latest"),
    ("localhost:5000/x", "localhost:5000/x:latest"),  # a registry port is no tag
])
def test_image_names_compare_as_docker_does(reference: str, same: str) -> None:
    assert image_key(reference) == image_key(same) is not None


def test_image_names_that_differ() -> None:
    assert image_key("acme/base:1") != image_key("acme/base:2")
    assert image_key("ghcr.io/acme/base") != image_key("acme/base")
    assert image_key("acme/base@sha256:" + "a" * 64) is None  # a digest alone names no build here


@pytest.mark.parametrize(("tagged", "used"), [
    ("acme/base", "acme/base:latest"),
    ("acme/base:latest", "acme/base"),
    ("docker.io/acme/base", "acme/base"),
    ("acme/base", "docker.io/acme/base:latest"),
])
def test_a_from_inherits_the_stage_built_under_its_name(tmp_path: Path, tagged: str, used: str) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": f"services:\n  base:\n    build: ./base\n    image: {tagged}\n",
        "base/Dockerfile": BASE_APP,
        "app/Dockerfile": f"FROM {used}\n",
    })
    facts = _ws(root, "app/Dockerfile").base_facts(used)
    assert facts is not None
    assert (facts.user, facts.uid, facts.home) == ("app", 1000, "/home/app")
    assert dict(facts.env)["HF_HOME"] == "/home/app/.cache/huggingface"
    assert "base/Dockerfile" in facts.origin


def test_build_args_resolve_the_base_of_an_image_built_here(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "docker-bake.hcl": """variable "UID" {
  default = "2000"
}
target "base" {
  context = "base"
  args = { UID = "${UID}" }
  tags = ["acme/base:dev"]
}
""",
        "base/Dockerfile": "FROM python:3.12-slim\nARG UID=1000\nRUN useradd --create-home --uid ${UID} app\nUSER app\n",
        "app/Dockerfile": "FROM acme/base:dev\n",
    })
    facts = _ws(root, "app/Dockerfile").base_facts("acme/base:dev")
    assert facts is not None and (facts.user, facts.uid) == ("app", 2000)


CYCLE = {
    "compose.yaml": """services:
  a:
    build: ./a
    image: acme/a
  b:
    build: ./b
    image: acme/b
""",
    "a/Dockerfile": "FROM acme/b\nENV HF_HOME=/data/hf\n",
    "b/Dockerfile": "FROM acme/a\nENV FROM_B=1\n",
    "c/Dockerfile": "FROM acme/a\n",
}


def test_a_cycle_of_images_built_here_is_said_once(tmp_path: Path) -> None:
    ws = _ws(_repo(tmp_path, CYCLE), "c/Dockerfile")
    ws.base_facts("acme/a")
    ws.base_facts("acme/b")
    assert ws.notices == ["image `acme/a` is built FROM itself through other images built here: its facts are not used"]


@pytest.mark.parametrize("first", ["acme/a", "acme/b"])
def test_no_image_on_a_cycle_gives_facts(tmp_path: Path, first: str) -> None:
    ws = _ws(_repo(tmp_path, CYCLE), "c/Dockerfile")
    ws.base_facts(first)
    assert ws.base_facts("acme/a") is None
    assert ws.base_facts("acme/b") is None


def test_a_build_target_that_is_missing_is_said_and_not_used(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  base:\n    build:\n      context: ./base\n      target: prod\n    image: acme/base\n",
        "base/Dockerfile": "FROM python:3.12-slim AS dev\nUSER nobody\n",
        "app/Dockerfile": "FROM acme/base\n",
    })
    ws = _ws(root, "app/Dockerfile")
    assert ws.base_facts("acme/base") is None
    (notice,) = ws.notices
    assert "builds target `prod`" in notice and "does not have" in notice


def test_a_build_target_picks_its_stage(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  base:\n    build:\n      context: ./base\n      target: runtime\n    image: acme/base\n",
        "base/Dockerfile": "FROM python:3.12-slim AS runtime\nRUN useradd -m -u 1001 svc\nUSER svc\n"
                           "FROM runtime AS dev\nUSER root\n",
        "app/Dockerfile": "FROM acme/base\n",
    })
    facts = _ws(root, "app/Dockerfile").base_facts("acme/base")
    assert facts is not None and (facts.user, facts.uid) == ("svc", 1001)


def test_two_builds_of_one_name_are_said_once_and_not_used(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  base:\n    build: ./base\n    image: acme/base\n",
        ".github/workflows/ci.yml": """on: push
jobs:
  base:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          file: docker/base.Dockerfile
          tags: acme/base:latest
""",
        "base/Dockerfile": BASE_APP,
        "docker/base.Dockerfile": "FROM python:3.12-slim\n",
        "app/Dockerfile": "FROM acme/base\n",
    })
    ws = _ws(root, "app/Dockerfile")
    assert ws.base_facts("acme/base") is None
    assert ws.base_facts("acme/base:latest") is None
    assert len([n for n in ws.notices if "more than one build" in n]) == 1


# -- what a run reads ----------------------------------------------------------------------------

def _checked_reads(ws: Workspace, path: str) -> set[str]:
    from aicache_lint.engine import check_source
    from aicache_lint.settings import Settings
    from aicache_lint.source import SourceText

    source = SourceText.decode(Path(path).read_bytes(), path=path)
    ws.remember(path, source)
    with ws.recording() as reads:
        check_source(source, Settings(), ws)
    return reads


def _with_build_files(root: Path, dockerfile: str) -> Path:
    return _repo(root, {
        "app/Dockerfile": dockerfile,
        "services/compose.yaml": "services:\n  web:\n    build: .\n",
        "services/Dockerfile": "FROM python:3.12\n",
        ".github/workflows/ci.yml": "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: docker build -t acme/base .\n",
        "docker-bake.hcl": 'target "x" {\n  tags = ["acme/x"]\n}\n',
    })


def test_a_one_file_run_on_a_known_base_reads_that_file_only(tmp_path: Path) -> None:
    root = _with_build_files(tmp_path, "FROM python:3.12\nRUN pip install flask\n")
    path = str(root / "app" / "Dockerfile")
    reads = _checked_reads(_ws(root, "app/Dockerfile"), path)
    assert {r for r in reads if not r.startswith((LISTED, PROBED))} == {path}
    # besides, only the directories from the file up to the root are listed (for Compose files)
    assert {r for r in reads if r.startswith((LISTED, PROBED))} <= {LISTED + str(root / "app"), LISTED + str(root)}


def test_a_one_file_run_on_an_unknown_base_reads_the_build_files(tmp_path: Path) -> None:
    root = _with_build_files(tmp_path, "FROM acme/base\nRUN pip install flask\n")
    path = str(root / "app" / "Dockerfile")
    ws = _ws(root, "app/Dockerfile")
    reads = _checked_reads(ws, path)
    # The check rests on the project's builds (the workflow declares them), not on the workflow's text.
    assert BUILDS in reads and str(root / ".github" / "workflows" / "ci.yml") not in reads
    assert str(root / ".github" / "workflows" / "ci.yml") in ws.build_files()
    assert str(root / "services" / "compose.yaml") not in reads  # not above the Dockerfile


def test_a_fix_that_changes_no_build_does_not_concern_the_dockerfiles_that_read_the_builds(tmp_path: Path) -> None:
    """A Compose fix that adds a volume leaves the builds as they were: nothing that rests only
    on them is checked again; a change of a build arg is a change."""
    from aicache_lint.source import SourceText

    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build:\n      context: ./app\n      args:\n        V: '1'\n",
        "app/Dockerfile": "ARG V=0\nFROM python:3.12\n",
    })
    compose = str(root / "compose.yaml")
    ws = _ws(root, "app/Dockerfile", "compose.yaml")
    assert ws.build_args(str(root / "app/Dockerfile")) == {"V": "1"}
    ws.take_changes()
    text = ws.text(compose)
    ws.update(compose, SourceText(text + "    volumes: [data:/data]\nvolumes:\n  data:\n", path=compose))
    assert ws.take_changes() == set()
    ws.update(compose, SourceText(text.replace("'1'", "'2'"), path=compose))
    assert ws.take_changes() == {BUILDS}
    assert ws.build_args(str(root / "app/Dockerfile")) == {"V": "2"}


# -- what the rules make of it -------------------------------------------------------------------

def test_a_service_on_an_unknown_base_gets_an_unsafe_titled_model_cache_fix(tmp_path: Path) -> None:
    root = _repo(tmp_path, {
        "compose.yaml": "services:\n  worker:\n    build: ./worker\n",
        "worker/Dockerfile": "FROM myorg/base:1\nRUN pip install sentence-transformers==3.3.1\n",
    })
    result = invoke(["--isolated", "--select", "AIC401", "--unsafe-fixes", "--output-format", "json", str(root)])
    (finding,) = json.loads(result.stdout)
    assert finding["fix"]["applicability"] == "unsafe"
    assert "myorg/base:1" in finding["fix"]["message"]


# -- builds the workspace cannot fully see ---------------------------------------------------------

PLATFORM_DOCKERFILE = ("ARG PLATFORM=cpu\nFROM python:3.12-slim AS cpu\nRUN pip install torchvision\n"
                       "FROM ubuntu:22.04 AS hpu\nFROM ${PLATFORM}\n")


def test_a_build_whose_dockerfile_is_unknown_keeps_the_arg_defaults(tmp_path: Path) -> None:
    """text-embeddings-inference: a matrix names the Dockerfile, so any Dockerfile of its context
    may be built with other args: the one build seen (PLATFORM=hpu) is not "every build"."""
    root = _repo(tmp_path, {
        "Dockerfile": PLATFORM_DOCKERFILE,
        ".github/workflows/test.yml": "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n"
                                      "      - run: docker build . -f Dockerfile --build-arg PLATFORM=hpu -t x\n",
        ".github/workflows/build.yml": "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n"
                                       "      - uses: docker/build-push-action@v6\n"
                                       "        with:\n          file: ${{ matrix.dockerfile }}\n",
    })
    assert _ws(root, "Dockerfile").build_args(str(root / "Dockerfile")) == {}
    (root / ".github/workflows/build.yml").unlink()
    assert _ws(root, "Dockerfile").build_args(str(root / "Dockerfile")) == {"PLATFORM": "hpu"}


@pytest.mark.parametrize("where, dockerfile", [
    ("docker/docker-bake.hcl", "docker/Dockerfile"),  # vllm: `docker buildx bake -f docker/docker-bake.hcl`
    ("docker/docker-bake.hcl", "Dockerfile"),  # run in its own directory
])
def test_a_bake_file_below_the_root_is_read(tmp_path: Path, where: str, dockerfile: str) -> None:
    root = _repo(tmp_path, {
        where: f'target "openai" {{\n  dockerfile = "{dockerfile}"\n  context = "."\n  tags = ["acme/openai:dev"]\n}}\n',
        "docker/Dockerfile": "FROM python:3.12-slim\n",
    })
    ws = _ws(root, "docker/Dockerfile")
    [build] = ws.invocations_of(str(root / "docker/Dockerfile"))
    assert build.origin.kind == "bake" and build.tags == ("acme/openai:dev",)


def test_a_context_file_that_cannot_be_read_is_said_once_and_the_rest_goes_on(tmp_path: Path) -> None:
    """Bad input: a binary requirements file and a directory where a file was expected are
    named with the problem (once), and the Dockerfile is still linted."""
    from cli_runner import invoke

    root = _repo(tmp_path, {
        "app/Dockerfile": "FROM python:3.12\nCOPY requirements.txt .\nCOPY reqdir/ /r/\n"
                          "RUN pip install -r requirements.txt -r /r/req.txt\n",
        "app/compose.yaml": "services:\n  app:\n    build: .\n",
    })
    (root / "app/requirements.txt").write_bytes(b"\x00\xff binary")
    (root / "app/reqdir/req.txt").mkdir(parents=True)
    result = invoke(["--isolated", "--output-format", "concise", str(root)])
    assert result.exit_code == 1 and ": AIC101 " in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "cannot be read" in line]
    assert sorted(warnings) == [
        f"aicache-lint: warning: {root / 'app/reqdir/req.txt'}: cannot be read: not a regular file (a directory)",
        f"aicache-lint: warning: {root / 'app/requirements.txt'}: cannot be read: file is binary (contains NUL bytes)",
    ]


def test_a_lint_run_lets_go_of_dockerfiles_no_build_names(tmp_path: Path, monkeypatch) -> None:
    """Once checked, a Dockerfile that no build of the project names is dropped from the workspace
    (memory stays flat over many files); a base built here is kept for the images that start from
    it; the findings are those of a run that keeps everything."""
    from aicache_lint import api
    from aicache_lint.dockerfile.facts import Facts
    from aicache_lint.settings import Settings

    files = {
        "compose.yaml": "services:\n  base:\n    build: ./base\n    image: acme/base:1\n",
        "base/Dockerfile": BASE_APP,
        **{f"app{i}/Dockerfile": f"ARG V={i}\nFROM acme/base:1\nRUN pip install torch==${{V}}\n" for i in range(6)},
    }
    root = _repo(tmp_path, files)
    tasks = [api.Task(str(root / n), Settings()) for n in sorted(files)]

    def lint() -> tuple[Workspace, list]:
        ws = Workspace([t.path for t in tasks])
        return ws, [(r.path, r.findings) for r in (api.process_file(t, ws) for t in tasks)]

    ws, released = lint()
    kept = {os.path.relpath(p, root) for p in ws._disk}
    assert "base/Dockerfile" in kept and not any(k.startswith("app") for k in kept)
    held = [key for keys in ws._dependents.values() for key in keys] + list(ws._derived)
    named = {os.path.relpath(part, root) for key in held for part in key if isinstance(part, str) and part.startswith(str(root))}
    assert not any(n.startswith("app") and n.endswith("Dockerfile") for n in named)  # directories' listings stay
    assert not any(isinstance(part, Facts) for key in held for part in key)  # nothing keeps an image's facts
    monkeypatch.setattr(Workspace, "release", lambda self, path: None)
    assert lint()[1] == released
    assert any(f.code == "AIC101" for _, findings in released for f in findings)
