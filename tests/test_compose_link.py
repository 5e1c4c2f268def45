"""Compose services linked to the Dockerfiles they build (workspace/runtime.py, compose/caches.py), and
AIC401 on projects that need files next to the Compose file: Dockerfiles, override files, includes."""

from __future__ import annotations

from pathlib import Path

from cli_runner import invoke

from aicache_lint.compose.caches import model_caches, runtime
from aicache_lint.source import SourceText
from aicache_lint.workspace.index import Workspace


def load_project(paths: list[str]):
    """The project as a run loads it: through a workspace, which links services to their images."""
    return Workspace(paths).compose_project(tuple(paths))


def link(service):
    return service.linked

ROOT_HF = """\
FROM python:3.12-slim
RUN pip install transformers torch lpips
CMD ["python", "serve.py"]
"""


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "compose.yaml"


def _lint(path: Path, *options: str) -> list[str]:
    result = invoke(["--select", "AIC401", "--output-format", "concise", *options, str(path)])
    return [line for line in result.output.splitlines() if ": AIC401" in line]


# -- link ---------------------------------------------------------------------------------------

def test_link_reads_final_stage_env_user_and_libraries(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: ./app\n",
        "app/Dockerfile": (
            "FROM python:3.12-slim AS base\n"
            "RUN pip install diffusers\n"
            "FROM base\n"
            "RUN useradd -m -u 1000 app\n"
            "USER app\n"
            "ENV TORCH_HOME=/home/app/torch\n"
        ),
    })
    linked = link(load_project([str(compose)]).services["app"])
    assert linked is not None
    assert linked.user == "app" and linked.uid == 1000 and not linked.is_root
    assert linked.home == "/home/app" and linked.home_known
    assert linked.env["TORCH_HOME"] == "/home/app/torch"
    assert linked.hf_libraries == ("diffusers",) and linked.torch_libraries == ()


def test_link_applies_build_args_and_target(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": (
            "services:\n  app:\n    build:\n      context: .\n      dockerfile: docker/serve.Dockerfile\n"
            "      target: serve\n      args:\n        CACHE: /cache\n"
        ),
        "docker/serve.Dockerfile": (
            "ARG CACHE=/default\n"
            "FROM python:3.12-slim AS serve\n"
            "ARG CACHE\n"
            "ENV HF_HOME=${CACHE}/hf\n"
            "RUN pip install sentence-transformers\n"
            "FROM serve AS test\n"
            "USER nobody\n"
        ),
    })
    service = load_project([str(compose)]).services["app"]
    linked = link(service)
    assert linked is not None and linked.stage == "serve" and linked.is_root
    assert linked.env["HF_HOME"] == "/cache/hf"
    [cache] = model_caches(service)
    assert (cache.kind, cache.directory, cache.root) == ("hf", "/cache/hf/hub", "/cache/hf")


def test_link_without_a_readable_dockerfile_guesses_nothing(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": (
            "services:\n  missing:\n    build: ./nowhere\n"
            "  remote:\n    build: https://github.com/example/app.git\n"
            "  inline:\n    build:\n      dockerfile_inline: |\n        FROM python\n"
        ),
    })
    project = load_project([str(compose)])
    assert all(link(s) is None for s in project.services.values())
    assert all(model_caches(s) == [] for s in project.services.values())


def test_link_is_computed_once_and_sees_the_fix_plans_texts(tmp_path: Path) -> None:
    compose = _project(tmp_path, {"compose.yaml": "services:\n  app:\n    build: .\n", "Dockerfile": ROOT_HF})
    ws = Workspace([str(compose)])
    service = ws.compose_project((str(compose),)).services["app"]
    assert ws.dockerfile(str(tmp_path / "Dockerfile")) is ws.dockerfile(str(tmp_path / "Dockerfile"))
    assert "HF_HOME" not in link(service).env
    dockerfile = str(tmp_path / "Dockerfile")
    ws.update(dockerfile, SourceText(ROOT_HF + "ENV HF_HOME=/srv/hf\n", path=dockerfile))  # not on disk
    service = ws.compose_project((str(compose),)).services["app"]
    assert link(service).env["HF_HOME"] == "/srv/hf"


def test_compose_environment_and_user_win_over_the_dockerfile(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": (
            "services:\n  app:\n    build: .\n    user: '1000'\n"
            "    environment:\n      XDG_CACHE_HOME: /xdg\n"
        ),
        "Dockerfile": ROOT_HF,
    })
    service = load_project([str(compose)]).services["app"]
    rt = runtime(service)
    assert rt.is_root is False and rt.home is None
    assert {c.kind: c.directory for c in model_caches(service, rt)} == {"hf": "/xdg/huggingface/hub",
                                                                        "torch": "/xdg/torch/hub"}


# -- AIC401 with a Dockerfile -----------------------------------------------------------------

def test_root_image_gets_volume_and_hf_home(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n    ports:\n      - \"8000:8000\"\n",
        "Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers\n",
    })
    [finding] = _lint(compose)
    assert ":2:3: AIC401" in finding and "/root/.cache/huggingface/hub" in finding
    result = invoke(["--select", "AIC401", "--fix", str(compose)])
    assert result.exit_code == 0, result.output
    assert compose.read_text() == (
        "services:\n  app:\n    build: .\n    ports:\n      - \"8000:8000\"\n"
        "    volumes:\n      - hf-cache:/data/.huggingface\n"
        "    environment:\n      HF_HOME: /data/.huggingface\n"
        "volumes:\n  hf-cache:\n"
    )
    assert _lint(compose) == []


def test_root_image_torch_cache_too(tmp_path: Path) -> None:
    compose = _project(tmp_path, {"compose.yaml": "services:\n  app:\n    build: .\n", "Dockerfile": ROOT_HF})
    assert len(_lint(compose)) == 2
    result = invoke(["--select", "AIC401", "--fix", str(compose)])
    assert result.exit_code == 0, result.output
    text = compose.read_text()
    assert "- hf-cache:/data/.huggingface" in text and "- torch-cache:/data/.torch" in text
    assert "HF_HOME: /data/.huggingface" in text and "TORCH_HOME: /data/.torch" in text
    assert text.endswith("volumes:\n  hf-cache:\n  torch-cache:\n")


def test_hf_home_set_by_the_dockerfile_stays_aic401(tmp_path: Path) -> None:
    # The image's own cache dir is AIC401's whoever set it: fixing the Dockerfile alone (AIC201 adds
    # HF_HOME) never turns the Compose finding into another rule's.
    compose = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n    environment:\n      - LOG_LEVEL=info\n",
        "Dockerfile": "FROM python:3.12-slim\nENV HF_HOME=/models\nRUN pip install transformers\n",
    })
    assert "/models/hub` (`HF_HOME`)" in _lint(compose)[0]
    result = invoke(["--select", "AIC402", "--output-format", "concise", str(compose)])
    assert "AIC402" not in result.output


def test_non_root_user_home_is_an_unsafe_fix(tmp_path: Path) -> None:
    # A new volume at /home/app/.cache/huggingface starts root-owned (DOMAIN trap 17).
    compose = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n",
        "Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers && useradd -m app\nUSER app\n",
    })
    result = invoke(["--select", "AIC401", "--fix", str(compose)])
    assert result.exit_code == 1 and compose.read_text() == "services:\n  app:\n    build: .\n"
    assert "/home/app/.cache/huggingface/hub" in _lint(compose)[0]
    result = invoke(["--select", "AIC401", "--fix", "--unsafe-fixes", str(compose)])
    assert result.exit_code == 0, result.output
    assert "- hf-cache:/home/app/.cache/huggingface" in compose.read_text()
    assert "HF_HOME: /home/app/.cache/huggingface" in compose.read_text()


def test_non_root_user_with_a_directory_the_image_creates_is_safe(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n",
        "Dockerfile": (
            "FROM python:3.12-slim\n"
            "RUN pip install transformers && useradd -m app \\\n"
            "    && mkdir -p /home/app/.cache/huggingface && chown -R app:app /home/app/.cache\n"
            "USER app\n"
        ),
    })
    result = invoke(["--select", "AIC401", "--fix", str(compose)])
    assert result.exit_code == 0, result.output
    assert compose.read_text() == (
        "services:\n  app:\n    build: .\n"
        "    volumes:\n      - hf-cache:/home/app/.cache/huggingface\n"
        "    environment:\n      HF_HOME: /home/app/.cache/huggingface\n"
        "volumes:\n  hf-cache:\n"
    )


def test_user_of_the_base_image_is_report_only(tmp_path: Path) -> None:
    # `USER app` without a useradd here: its home is a guess, so no path can be chosen.
    compose = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n",
        "Dockerfile": "FROM example/base\nUSER app\nRUN pip install --user transformers\n",
    })
    assert len(_lint(compose)) == 1
    result = invoke(["--select", "AIC401", "--fix", "--unsafe-fixes", str(compose)])
    assert result.exit_code == 1 and compose.read_text() == "services:\n  app:\n    build: .\n"


def test_volume_in_the_override_file_counts(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n",
        "compose.override.yaml": "services:\n  app:\n    volumes:\n      - ./hf:/root/.cache/huggingface\n",
        "Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers\n",
    })
    assert _lint(compose) == []
    assert _lint(tmp_path / "compose.override.yaml") == []


def test_missing_volume_is_reported_in_the_override_that_defines_the_service_last(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n",
        "compose.override.yaml": "services:\n  app:\n    environment:\n      DEBUG: '1'\n",
        "Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers\n",
    })
    assert _lint(compose) == []
    override = tmp_path / "compose.override.yaml"
    assert len(_lint(override)) == 1
    invoke(["--select", "AIC401", "--fix", str(override)])
    assert override.read_text() == (
        "services:\n  app:\n    environment:\n      DEBUG: '1'\n      HF_HOME: '/data/.huggingface'\n"
        "    volumes:\n      - hf-cache:/data/.huggingface\n"
        "volumes:\n  hf-cache:\n"
    )
    assert _lint(compose) == [] and _lint(override) == []


def test_included_service_is_fixed_in_its_own_file(tmp_path: Path) -> None:
    compose = _project(tmp_path, {
        "compose.yaml": "include:\n  - ml/compose.yaml\nservices:\n  web:\n    image: nginx\n",
        "ml/compose.yaml": "services:\n  app:\n    build: .\n",
        "ml/Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers\n",
    })
    assert _lint(compose) == []
    included = tmp_path / "ml" / "compose.yaml"
    assert len(_lint(included)) == 1
    invoke(["--select", "AIC401", "--fix", str(included)])
    assert "- hf-cache:/data/.huggingface" in included.read_text()
    assert compose.read_text() == "include:\n  - ml/compose.yaml\nservices:\n  web:\n    image: nginx\n"


def test_shared_volume_with_a_non_root_service_is_unsafe(tmp_path: Path) -> None:
    # Root would leave root-owned model dirs in a volume that `app` (uid 1000) writes too.
    compose = _project(tmp_path, {
        "compose.yaml": (
            "services:\n  a:\n    build: ./a\n    volumes:\n      - hf-cache:/home/app/.cache/huggingface\n"
            "  b:\n    build: ./b\nvolumes:\n  hf-cache:\n"
        ),
        "a/Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers && useradd -m app\nUSER app\n",
        "b/Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers\n",
    })
    [finding] = _lint(compose)
    assert ":6:3: AIC401" in finding
    result = invoke(["--select", "AIC401", "--fix", str(compose)])
    assert result.exit_code == 1
    invoke(["--select", "AIC401", "--fix", "--unsafe-fixes", str(compose)])
    assert "  b:\n    build: ./b\n    volumes:\n      - hf-cache:/data/.huggingface\n" in compose.read_text()
