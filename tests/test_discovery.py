"""Which files discovery picks up."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicache_lint.discovery import discover as _discover
from aicache_lint.discovery import is_dockerfile_name
from aicache_lint.settings import Settings


def discover(paths: list[str], settings: Settings | None = None):
    settings = settings or Settings(root=paths[0])
    return _discover(paths, settings.is_excluded)


@pytest.mark.parametrize(
    "name",
    ["Dockerfile", "dockerfile", "DOCKERFILE", "Dockerfile.gpu", "Dockerfile-cuda", "Dockerfile_dev",
     "app.Dockerfile", "Qwen2VL_Dockerfile", "base.dockerfile", "Containerfile", "Containerfile.arm64",
     "cuda-12.Dockerfile"],
)
def test_dockerfile_names(name: str) -> None:
    assert is_dockerfile_name(name)


@pytest.mark.parametrize(
    "name",
    ["Dockerfile.md", "dockerfile.txt", "build_dockerfile.py", "Dockerfile.j2", "Dockerfile.jinja",
     "Dockerfile.template", "Dockerfile.tmpl", "Dockerfile.in", ".dockerignore", "Dockerfile.dockerignore",
     "compose.yaml", "mydockerfiles", "Dockerfilex", "notes.json", "Dockerfile.sh"],
)
def test_not_dockerfile_names(name: str) -> None:
    assert not is_dockerfile_name(name)


def test_walk_skips_vcs_venvs_and_node_modules(tmp_path: Path) -> None:
    for rel in ["Dockerfile", "a/Dockerfile.gpu", ".git/Dockerfile", "node_modules/x/Dockerfile",
                "env/Dockerfile", ".venv/Dockerfile", "a/README.md"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("FROM a\n")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    files, problems = discover([str(tmp_path)])
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == ["Dockerfile", "a/Dockerfile.gpu"]
    assert problems == []


def test_named_files_are_always_linted_and_missing_paths_reported(tmp_path: Path) -> None:
    odd = tmp_path / "build.txt"
    odd.write_text("FROM a\n")
    files, problems = discover([str(odd), str(tmp_path / "nope")])
    assert files == [str(odd)]
    assert problems == [(str(tmp_path / "nope"), "no such file or directory")]


def test_exclude_patterns(tmp_path: Path) -> None:
    for rel in ["Dockerfile", "legacy/Dockerfile", "svc/Dockerfile.old", "svc/Dockerfile"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("FROM a\n")
    settings = Settings(root=str(tmp_path), extend_exclude=("legacy", "*.old"))
    files, _ = discover([str(tmp_path)], settings)
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == ["Dockerfile", "svc/Dockerfile"]
    # Named on the command line: linted all the same.
    files, _ = discover([str(tmp_path / "legacy" / "Dockerfile")], settings)
    assert files == [str(tmp_path / "legacy" / "Dockerfile")]


def test_vendored_dependencies_are_not_walked(tmp_path: Path) -> None:
    """buildx vendors Go modules whose own Bake files and Dockerfiles are not the repository's."""
    for rel in ["docker-bake.hcl", "vendor/github.com/docker/cli-docs-tool/docker-bake.hcl",
                "vendor/github.com/x/Dockerfile"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text('target "a" {}\n')
    files, _ = discover([str(tmp_path)])
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == ["docker-bake.hcl"]
