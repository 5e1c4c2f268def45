"""Tests for `aicache-lint models` (aicache_lint.models, report/models.py, report/prefetch.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from textwrap import dedent

import pytest
from cli_runner import invoke
from import_cost import imports_of

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "_projects" / "model-inventory" / "input"

EXPECTED_TEXT = """\
Images
  api/Dockerfile
    - Qwen/Qwen2.5-0.5B-Instruct @ main
      build time, RUN hf download: hf download at api/Dockerfile:6
      cache: /models/qwen (`--local-dir`); in the image layer of the RUN at line 6
    - google-bert/bert-base-uncased
      build time, RUN python -c / heredoc: transformers.AutoTokenizer.from_pretrained at api/Dockerfile:7
      cache: /models/hf/hub (the library's cache in the RUN's environment); in the image layer of the RUN at line 7
    - sentence-transformers/all-MiniLM-L6-v2
      run time, code: sentence_transformers.SentenceTransformer at api/server/embeddings.py:6
      cache: /models/hf/hub (`HF_HOME`); depends on the volumes the container runs with
    - BAAI/bge-reranker-base (the default of `RERANK_MODEL`, unless it is set)
      run time, code: transformers.AutoModelForSequenceClassification.from_pretrained at api/server/embeddings.py:7
      cache: /models/hf/hub (`HF_HOME`); depends on the volumes the container runs with
Services
  api (compose.yaml): build api/Dockerfile
    - sentence-transformers/all-MiniLM-L6-v2
      run time, code: sentence_transformers.SentenceTransformer at api/server/embeddings.py:6
      cache: /models/hf/hub (`HF_HOME`); on volume `hf-cache` at `/models/hf`
    - BAAI/bge-reranker-v2-m3 (`RERANK_MODEL` from its `environment:`, default `BAAI/bge-reranker-base`)
      run time, code: transformers.AutoModelForSequenceClassification.from_pretrained at api/server/embeddings.py:7
      cache: /models/hf/hub (`HF_HOME`); on volume `hf-cache` at `/models/hf`
  llm (compose.yaml): image registry.example.com/acme/llm-server:1.4
    - Qwen/Qwen2.5-1.5B-Instruct (`MODEL_ID` from its `environment:`, no default)
      run time, environment: `MODEL_ID` in environment at compose.yaml:11
      cache: /cache/hf/hub (`HF_HOME`); not kept (container layer): downloaded again whenever the container is recreated
"""


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "model-inventory"
    shutil.copytree(FIXTURE, root)
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def write(root: Path, files: dict[str, str]) -> None:
    (root / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))


def models(*args: str) -> str:
    result = invoke(["models", "--isolated", *args])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def check_sh(script: str, tmp_path: Path) -> None:
    path = tmp_path / "prefetch.sh"
    path.write_text(script)
    done = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_text_lists_each_image_and_service(project) -> None:
    assert models() == EXPECTED_TEXT
    assert models(str(project)) == models(".") == EXPECTED_TEXT  # paths are named relative to here


MODEL_KEYS = {"model", "variable", "default", "value_from", "expression", "revision", "library", "call", "path", "line",
              "when", "how", "hub", "cache", "cache_from", "kept", "repo_type", "own_cache"}


def test_json_shape_and_content(project) -> None:
    data = json.loads(models("--output-format", "json"))
    assert set(data) == {"version", "images", "services"} and data["version"] == 1
    [image] = data["images"]
    assert set(image) == {"dockerfile", "target", "models", "unresolved"}
    assert all(set(s) == {"files", "name", "runs", "hf_home", "models", "unresolved"} for s in data["services"])
    every = [m for entry in (*data["images"], *data["services"]) for m in entry["models"]]
    assert all(set(m) == MODEL_KEYS and set(m["kept"]) == {"kind", "detail"} for m in every)
    assert [(m["model"], m["when"], m["how"], m["kept"]["kind"]) for m in image["models"]] == [
        ("Qwen/Qwen2.5-0.5B-Instruct", "build", "RUN hf download", "image"),
        ("google-bert/bert-base-uncased", "build", "RUN python -c / heredoc", "image"),
        ("sentence-transformers/all-MiniLM-L6-v2", "run", "code", "unknown"),
        ("BAAI/bge-reranker-base", "run", "code", "unknown"),
    ]
    api, llm = data["services"]
    assert api["models"][1] == {
        "model": "BAAI/bge-reranker-v2-m3", "variable": "RERANK_MODEL", "default": "BAAI/bge-reranker-base",
        "value_from": "environment", "expression": None, "revision": None, "library": "transformers",
        "call": "transformers.AutoModelForSequenceClassification.from_pretrained",
        "path": "api/server/embeddings.py", "line": 7, "when": "run", "how": "code", "hub": True,
        "cache": "/models/hf/hub", "cache_from": "`HF_HOME`",
        "kept": {"kind": "volume", "detail": "on volume `hf-cache` at `/models/hf`"}, "repo_type": None,
        "own_cache": False}
    assert (api["hf_home"], llm["hf_home"]) == ("/models/hf", "/cache/hf")
    assert [(m["model"], m["variable"], m["kept"]["kind"]) for m in llm["models"]] == [
        ("Qwen/Qwen2.5-1.5B-Instruct", "MODEL_ID", "container")]


def test_output_file(project) -> None:
    assert models("-o", "out.json", "--output-format", "json") == ""
    assert json.loads((project / "out.json").read_text())["version"] == 1


def test_prefetch_script(project, tmp_path) -> None:
    script = models("--prefetch-script")
    check_sh(script, tmp_path)
    lines = script.splitlines()
    assert lines[0] == "#!/bin/sh" and "set -eu" in lines
    # Two services set an HF_HOME, once each: the one a volume keeps wins the tie.
    assert "# HF_HOME: set by 1 of the 2 services that set one (api)" in lines
    assert "export HF_HOME=/models/hf" in lines
    assert [line for line in lines if line.startswith("hf ")] == [
        "hf download BAAI/bge-reranker-v2-m3",  # the value the service gives; its image's default is not fetched
        "hf download Qwen/Qwen2.5-1.5B-Instruct",  # (0.5B goes to its own --local-dir: named, not fetched)
        "hf download google-bert/bert-base-uncased",
        "hf download sentence-transformers/all-MiniLM-L6-v2",
    ]
    assert '#   environment: {HF_HOME: /models/hf, HF_HUB_OFFLINE: "1"}' in lines
    assert "# These services keep their downloads in no volume today: llm." in lines
    given = models("--prefetch-script", "--hf-home", "/srv/hf cache")
    check_sh(given, tmp_path)
    assert "export HF_HOME='/srv/hf cache'" in given and "# HF_HOME: given with --hf-home" in given


def test_prefetch_variables_and_what_hf_download_cannot_fetch(tmp_path, monkeypatch) -> None:
    write(tmp_path, {
        "Dockerfile": """\
            FROM python:3.12-slim
            WORKDIR /srv
            COPY . .
            CMD ["python", "serve.py"]
            """,
        "serve.py": """\
            import os
            import timm
            import whisper
            from transformers import AutoModel, pipeline
            asr = whisper.load_model("base")
            net = timm.create_model("resnet50", pretrained=True)
            llm = AutoModel.from_pretrained(os.getenv("LLM", "Qwen/Qwen2.5-7B-Instruct"), revision="v1.0")
            odd = AutoModel.from_pretrained(os.getenv("ODD", "org/x$(reboot)"))
            local = AutoModel.from_pretrained(os.environ["MODEL_PATH"])
            clf = pipeline("text-classification", model=CONFIG.name)
            """,
    })
    monkeypatch.chdir(tmp_path)
    script = models("--prefetch-script")
    check_sh(script, tmp_path)
    assert "# HF_HOME: no service sets an absolute HF_HOME: this script's default" in script
    assert "export HF_HOME=/data/.huggingface" in script
    lines = script.splitlines()
    assert [line for line in lines if line.startswith("hf ")] == [
        'hf download "${LLM:-Qwen/Qwen2.5-7B-Instruct}" --revision v1.0']
    notes = "\n".join(line for line in lines if line.startswith("# - "))
    assert "# - whisper.load_model `base`: fetched by openai-whisper's own download URLs, not the Hub (serve.py:5)" in notes
    assert "# - timm.create_model `resnet50`: not an `org/name` repository id; timm resolves it (serve.py:6)" in notes
    # a default that would need shell quoting is not written into the script
    assert "`$ODD`" not in notes and "org/x$(reboot) (the default of `ODD`, unless it is set): set `ODD`" in notes
    assert "# - `$MODEL_PATH` (no default): set `MODEL_PATH` where it runs (serve.py:9)" in notes
    assert "# - a model `CONFIG.name` names: not known here (serve.py:10)" in notes


def test_build_time_cache_mount_script_and_copied_stage(tmp_path, monkeypatch) -> None:
    write(tmp_path, {
        "Dockerfile": """\
            FROM python:3.12-slim AS weights
            RUN --mount=type=cache,target=/root/.cache/huggingface hf download org/tokenizer
            RUN hf download org/model --local-dir /weights
            ARG REPO=org/from-arg
            ARG NOT_GIVEN
            RUN hf download ${REPO} && hf download "$NOT_GIVEN" --local-dir /weights/other
            FROM python:3.12-slim
            WORKDIR /app
            COPY fetch.py .
            RUN python3 -u fetch.py
            COPY --from=weights /weights /weights
            """,
        "fetch.py": 'from huggingface_hub import snapshot_download\nsnapshot_download("org/aux", cache_dir="/opt/hf")\n',
    })
    monkeypatch.chdir(tmp_path)
    [image] = json.loads(models("--output-format", "json"))["images"]
    assert [(m["model"], m["how"], m["path"], m["line"], m["cache"], m["kept"]["kind"]) for m in image["models"]] == [
        ("org/tokenizer", "RUN hf download", "Dockerfile", 2, "/root/.cache/huggingface/hub", "cache-mount"),
        ("org/model", "RUN hf download", "Dockerfile", 3, "/weights", "stage"),
        (None, "RUN hf download", "Dockerfile", 6, "/weights/other", "stage"),
        ("org/from-arg", "RUN hf download", "Dockerfile", 6, "/root/.cache/huggingface/hub", "stage"),
        ("org/aux", "RUN python3 fetch.py", "fetch.py", 2, "/opt/hf", "image"),  # the program as written
    ]
    assert [(m["variable"], m["value_from"], m["expression"]) for m in image["models"][2:4]] == [
        ("NOT_GIVEN", None, "$NOT_GIVEN"), ("REPO", "build", None)]
    text = models()
    assert "    - org/from-arg (`REPO` from the Dockerfile's ARG/ENV)\n" in text
    assert "    - `$NOT_GIVEN` (no default)\n" in text
    assert image["unresolved"] == ["Dockerfile sets no CMD or ENTRYPOINT: the base image's command is not known"]


def test_cache_arguments_and_repository_types(tmp_path, monkeypatch) -> None:
    # lerobot: a dataset fetched at build time into a literal `local_dir=`; ragflow: a computed `local_dir=`
    write(tmp_path, {
        "Dockerfile": """\
            FROM python:3.12-slim
            RUN python -c "from huggingface_hub import snapshot_download; snapshot_download(repo_id='lerobot/libero-assets', repo_type='dataset', local_dir='/assets')"
            RUN hf download --repo-type space org/demo --local-dir /demo
            RUN hf download --repo-type dataset org/plain-ds
            WORKDIR /srv
            COPY ocr.py .
            CMD ["python3", "ocr.py"]
            """,
        "ocr.py": """\
            import os
            from huggingface_hub import hf_hub_download, snapshot_download
            snapshot_download("InfiniFlow/deepdoc", local_dir=os.path.join(os.path.dirname(__file__), "res"))
            hf_hub_download("org/kind", "w.onnx", repo_type=KIND)
            """,
    })
    monkeypatch.chdir(tmp_path)
    [image] = json.loads(models("--output-format", "json"))["images"]
    assert [(m["model"], m["repo_type"], m["cache"], m["cache_from"]) for m in image["models"]] == [
        ("lerobot/libero-assets", "dataset", "/assets", "its `local_dir=`"),
        ("org/demo", "space", "/demo", "`--local-dir`"),
        ("org/plain-ds", "dataset", "/root/.cache/huggingface/hub", "the Hugging Face cache of the RUN"),
        ("InfiniFlow/deepdoc", None, None, "a computed `local_dir=`"),
        ("org/kind", "", "/root/.cache/huggingface/hub", "the default `~/.cache/huggingface` of root"),
    ]
    text = models()
    assert "    - lerobot/libero-assets (dataset repository)\n" in text
    assert "      cache: not known (a computed `local_dir=`); depends on the volumes the container runs with\n" in text
    script = models("--prefetch-script")
    check_sh(script, tmp_path)
    # A model loaded from a directory of its own would not use the warm HF_HOME: it is named, not fetched.
    assert [line for line in script.splitlines() if line.startswith("hf ")] == [
        "hf download org/plain-ds --repo-type dataset"]
    assert ("# - lerobot/libero-assets (dataset repository): loaded from its own directory (/assets, its "
            "`local_dir=`), not from HF_HOME: drop that argument to share this cache (Dockerfile:2)") in script
    assert "# - InfiniFlow/deepdoc: loaded from its own directory (not known, a computed `local_dir=`)" in script
    assert "# - org/kind (repository type computed): its repository type is computed; not known here (ocr.py:4)" \
        in script


def test_a_named_file_lists_its_own_images(tmp_path, monkeypatch) -> None:
    # kserve: `models python/storage-initializer.Dockerfile` listed every image the workflows build
    write(tmp_path, {
        ".github/workflows/images.yml": """\
            name: images
            on: push
            jobs:
              images:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: docker/build-push-action@v6
                    with:
                      context: python
                      file: python/kserve.Dockerfile
                  - uses: docker/build-push-action@v6
                    with:
                      context: python
                      file: python/storage-initializer.Dockerfile
                      target: prod
            """,
        "python/kserve.Dockerfile": "FROM python:3.12-slim\nRUN hf download org/kserve-model\n",
        "python/storage-initializer.Dockerfile": """\
            FROM python:3.12-slim AS prod
            RUN hf download org/storage-model
            """,
        "python/compose.yaml": """\
            services:
              storage:
                build: {context: ., dockerfile: storage-initializer.Dockerfile, target: prod}
              kserve:
                build: {context: ., dockerfile: kserve.Dockerfile}
            """,
    })
    monkeypatch.chdir(tmp_path)
    named = json.loads(models("--output-format", "json", "python/storage-initializer.Dockerfile"))
    # its image, with the target its builds name, and the service that builds it
    assert [(i["dockerfile"], i["target"]) for i in named["images"]] == [("python/storage-initializer.Dockerfile", "prod")]
    assert [s["name"] for s in named["services"]] == ["storage"]
    compose = json.loads(models("--output-format", "json", "python/compose.yaml"))
    assert [i["dockerfile"] for i in compose["images"]] == ["python/kserve.Dockerfile",
                                                            "python/storage-initializer.Dockerfile"]
    assert [s["name"] for s in compose["services"]] == ["kserve", "storage"]
    whole = json.loads(models("--output-format", "json", "."))
    assert [(i["dockerfile"], i["target"]) for i in whole["images"]] == [
        ("python/kserve.Dockerfile", None), ("python/storage-initializer.Dockerfile", "prod")]
    assert len(whole["services"]) == 2


def test_targets_and_unresolved_code(tmp_path, monkeypatch) -> None:
    write(tmp_path, {
        "Dockerfile": """\
            FROM python:3.12-slim AS base
            FROM base AS dev
            COPY --from=ghcr.io/acme/tools:1 /src /app
            CMD ["python", "/app/main.py"]
            FROM base AS prod
            """,
        "compose.yaml": """\
            services:
              dev:
                build: {context: ., target: dev}
            """,
    })
    monkeypatch.chdir(tmp_path)
    out = models()
    assert out == dedent("""\
        Images
          Dockerfile (target dev)
            no model download found
            unresolved: `/app/main.py` is not a file the image is known to hold
        Services
          dev (compose.yaml): build Dockerfile
            no model download found
            unresolved: `/app/main.py` is not a file the image is known to hold
        """)


def test_empty_project(tmp_path, monkeypatch) -> None:
    (tmp_path / "README.md").write_text("nothing to build\n")
    monkeypatch.chdir(tmp_path)
    assert models() == "Images: no Dockerfile found\nServices: no Compose service found\n"
    assert json.loads(models("--output-format", "json")) == {"version": 1, "images": [], "services": []}
    script = models("--prefetch-script")
    check_sh(script, tmp_path)
    assert "# No model from the Hugging Face Hub was found." in script


@pytest.mark.parametrize("args, message", [
    (["no-such-dir"], "usage error: aicache-lint models: no-such-dir: no such file or directory"),
    (["-"], "`models` reads files, not standard input"),
    (["--hf-home", "/x"], "--hf-home goes with --prefetch-script"),
    (["--prefetch-script", "--hf-home", "rel/dir"], "--hf-home must be an absolute path, not `rel/dir`"),
    (["--prefetch-script", "--output-format", "json"], "--prefetch-script prints a script: it takes no --output-format"),
])
def test_errors(tmp_path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(["models", "--isolated", *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr


def test_models_is_not_on_the_lint_path(project) -> None:
    ours = {"aicache_lint.models", "aicache_lint.report.models", "aicache_lint.report.prefetch"}
    assert not ours & imports_of("import aicache_lint.cli").ours
    lint = imports_of(f"from aicache_lint import cli; cli.run(['--isolated', {str(project)!r}])")
    assert not ours & lint.ours


def test_readme_shows_the_fixture_output(project) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"$ aicache-lint models\n{EXPECTED_TEXT}```" in readme
    assert f"$ aicache-lint models --prefetch-script\n{models('--prefetch-script')}```" in readme
