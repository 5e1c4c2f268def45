"""AIC402 with a variable set by the Dockerfile the service builds (needs files on disk)."""

from __future__ import annotations

from aicache_lint.engine import check_source
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText


def _findings(tmp_path, dockerfile: str, compose: str):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(dockerfile)
    path = tmp_path / "compose.yaml"
    path.write_text(compose)
    settings = Settings(select=("AIC402",))
    return [f for f in check_source(SourceText(compose, path=str(path)), settings) if f.code == "AIC402"]


COMPOSE = "services:\n  app:\n    build: ./app\n"


def test_dockerfile_env_reported_at_build(tmp_path):
    found = _findings(tmp_path, "FROM python:3.12-slim\nENV HF_HOME=/data/hf\n", COMPOSE)
    assert len(found) == 1
    assert "set by `Dockerfile`" in found[0].message
    assert found[0].start.row == 3
    assert found[0].fix is not None and found[0].fix.is_safe  # the image runs as root


def test_non_root_image_that_creates_the_dir_is_safe(tmp_path):
    dockerfile = ("FROM python:3.12-slim\nRUN useradd -m app && mkdir -p /data/hf && chown -R app /data/hf\n"
                  "ENV HF_HOME=/data/hf\nUSER app\n")
    found = _findings(tmp_path, dockerfile, COMPOSE)
    assert len(found) == 1 and found[0].fix is not None and found[0].fix.is_safe


def test_non_root_image_without_the_dir_is_unsafe(tmp_path):
    dockerfile = "FROM python:3.12-slim\nRUN useradd -m app\nENV HF_HOME=/data/hf\nUSER app\n"
    found = _findings(tmp_path, dockerfile, COMPOSE)
    assert len(found) == 1 and found[0].fix is not None and not found[0].fix.is_safe


def test_service_environment_wins_over_the_dockerfile(tmp_path):
    compose = COMPOSE + "    environment:\n      HF_HOME: /cache/hf\n    volumes:\n      - ./hf:/cache/hf\n"
    assert _findings(tmp_path, "FROM python:3.12-slim\nENV HF_HOME=/data/hf\n", compose) == []
