"""The pre-commit hooks: their `files` pattern agrees with discovery, and they work under pre-commit.

The last test runs the real `pre-commit try-repo` against a snapshot of this checkout: pre-commit
builds a virtualenv and pip-installs the project into it (from PyPI: needs the network, ~10-30 s).
Deselect it with `-m "not slow"`.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox import (
    CHECKOUT,
    TIMEOUT,
    clean_env,
    commit_all,
    init_repo,
    pre_commit_command,
    readme_snippets,
    snapshot_checkout,
)

from aicache_lint import __version__
from aicache_lint.discovery import file_kind, is_compose_name, is_walked

HOOKS_FILE = CHECKOUT / ".pre-commit-hooks.yaml"
HOOK_IDS = ("aicache-lint", "aicache-lint-fix")


@functools.lru_cache(maxsize=None)
def _hooks() -> dict[str, dict]:
    hooks = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    return {hook["id"]: hook for hook in hooks}


def _pattern(hook_id: str) -> re.Pattern[str]:
    return re.compile(_hooks()[hook_id]["files"])


def _selected(pattern: re.Pattern[str], path: str) -> bool:
    return pattern.search(path) is not None  # what pre-commit does with `files`


def _linted(path: str) -> bool:
    """Whether directory discovery lints ``path``."""
    return is_walked(path)


# Names: Dockerfile variants, docs/scripts/templates that carry the word, lookalikes, case and
# separator edge cases, and the Unicode characters whose case rules differ between `re` and
# `str.lower()` (KELVIN SIGN, LONG S, dotted/dotless I).
NAMES = [
    # discovery accepts
    "Dockerfile", "dockerfile", "DOCKERFILE", "DockerFile", "Containerfile", "containerfile",
    "CONTAINERFILE", "Dockerfile.gpu", "Dockerfile.GPU", "Dockerfile-cuda", "Dockerfile_dev",
    "Dockerfile.cuda12.4", "Dockerfile.prod.gpu", "Dockerfile..gpu", "Dockerfile.-x", "Dockerfile.d",
    "app.Dockerfile", "base.dockerfile", "Qwen2VL_Dockerfile", "cuda-12.Dockerfile",
    "my-app.dockerfile", "a.b.c.Dockerfile", "x_Dockerfile", "..Dockerfile", "-.Dockerfile",
    "Containerfile.arm64", "build.containerfile", "Dockerfile.markdown", "Dockerfile.mdx",
    "Dockerfile.jinja3", "Dockerfile.py3", "Dockerfile.shell", "Dockerfile.yamlx", "Dockerfile.ini2",
    "Dockerfile.md.gpu", "Dockerfile.txt-cuda", "Dockerfile.build.sh.bak2", "Dockerfile.dockerfile",
    "Dockerfile.Dockerfile.md.Dockerfile", "Dockerfile.ba\u212a2", "Dockerfile.\u017fh",
    "Dockerfile.j\u017fon", "Dockerfile.\u0130ni", "Dockerfile.\u0131ni", "Docker\u212aerfile",
    "Dockerfile with space", "Dockerfile.\u00e9t\u00e9", "Dockerfile.\r",
    # discovery rejects: docs, scripts and templates that merely carry the word
    "Dockerfile.md", "Dockerfile.MD", "dockerfile.txt", "Dockerfile.TXT", "build_dockerfile.py",
    "Dockerfile.j2", "Dockerfile.J2", "Dockerfile.jinja", "Dockerfile.jinja2", "Dockerfile.template",
    "Dockerfile.tmpl", "Dockerfile.in", "Dockerfile.IN", "Dockerfile.rst", "Dockerfile.html",
    "Dockerfile.toml", "Dockerfile.cfg", "Dockerfile.ini", "Dockerfile.bak", "Dockerfile.orig",
    "Dockerfile.swp", ".Dockerfile.swp", "Dockerfile.ps1", "Dockerfile.bat", "Dockerfile.go",
    "Dockerfile.rs", "Dockerfile.js", "Dockerfile.ts", "Dockerfile.json",
    "Dockerfile.yml", "Dockerfile.yaml", "Dockerfile.YAML", "dockerfile.dockerignore",
    "Dockerfile.gpu.md", "app.Dockerfile.j2", "Dockerfile.ba\u212a", "Dockerfile.BA\u212a",
    "dockerfile_test.py", "Containerfile.in",
    # discovery lints these as shell scripts (file kind `shell`), not as Dockerfiles
    "Dockerfile.sh", "render-dockerfile.sh", "Dockerfile.bash", "Dockerfile.SH", "Dockerfile.\u017fh",
    # discovery rejects: not the word, or not separated from it
    ".dockerignore", "dockerignore", "Dockerfilex", "xDockerfile", "mydockerfiles", "Dockerfiles",
    "Docker", "docker-file", "Docker_file", "Containerfiles", "notes.json", "README.md", "Makefile",
    "compose.yaml", "docker-compose.yml", "docker-bake.hcl", "Dockerfile.", "Dockerfile-", ".Dockerfile",
    "_Dockerfile", "-Dockerfile", ".dockerfile", ".containerfile", "Dockerfile\n", "Dockerfile.gpu\n",
    "app\n.Dockerfile", "Docker\u017file", "",
]
DIRS = ["", "svc/", "deep/nested/dir/", "docker/", "Dockerfile.d/", "Dockerfile/", "docs/", "x.md/",
        ".github/", "mydockerfiles/", "Dockerfile.md/", "\u00e9/"]

# What the brief for the hooks demands, independent of discovery.
MUST_MATCH = ["Dockerfile", "Dockerfile.gpu", "svc/Dockerfile.gpu", "base.dockerfile",
              "docker/base.dockerfile", "Dockerfile-cuda", "Dockerfile_dev", "app.Dockerfile",
              "Qwen2VL_Dockerfile", "Containerfile", "ci/Containerfile.arm64", "DOCKERFILE"]
MUST_NOT_MATCH = ["Dockerfile.md", "docs/dockerfile.txt", "build_dockerfile.py", "Dockerfile.j2",
                  ".dockerignore", "mydockerfiles/notes.md", "README.md", "Dockerfile/config"]

# The Compose branch of the hooks' `files` pattern.
COMPOSE_BRANCH = r"|(?:docker-)?compose(?:[._-][^/\n]*)?\.ya?ml"
COMPOSE_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml",
                 "compose.override.yaml", "compose.override.yml", "docker-compose.override.yml",
                 "docker-compose.override.yaml", "compose-gpu.yaml", "compose.prod.yml",
                 "docker-compose.dev.yaml", "docker-compose_ci.yml", "deploy/compose.yaml",
                 "Docker-Compose.YML"]
NOT_COMPOSE = ["composer.yml", "compose.json", "compose.yaml.bak", "my-compose.yaml", "compose",
               "docker-compose.yml.j2", "compose.yaml/README.md"]


def test_hook_definitions() -> None:
    hooks = _hooks()
    assert tuple(hooks) == HOOK_IDS
    for hook in hooks.values():
        assert hook["entry"] == "aicache-lint"
        assert hook["language"] == "python"
        assert hook["require_serial"] is False
        assert hook["types"] == ["text"]
        assert hook["description"]
    assert "args" not in hooks["aicache-lint"]
    assert hooks["aicache-lint-fix"]["args"] == ["--fix"]
    assert hooks["aicache-lint"]["files"] == hooks["aicache-lint-fix"]["files"]


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_files_pattern_selects_what_discovery_lints(hook_id: str) -> None:
    pattern = _pattern(hook_id)
    expected = {directory + name: _linted(directory + name) for directory in DIRS for name in NAMES}
    assert any(expected.values()) and not all(expected.values())
    wrong = [(path, accepted) for path, accepted in expected.items() if _selected(pattern, path) != accepted]
    assert wrong == [], "(path, discovery's answer) where the hook's `files` disagrees"


# The build-infrastructure branch: paths, since a workflow is a workflow by its folder.
BUILD_FILES = [
    (".github/workflows/ci.yml", True), ("repo/.github/workflows/nightly.yaml", True),
    (".github/workflows/sub/ci.yml", False), (".github/workflows/README.md", False),
    (".github/actions/build/action.yml", True), (".github/actions/a/b/action.yaml", True),
    (".github/actions/build/other.yml", False), ("actions/build/action.yml", False),
    (".gitlab-ci.yml", True), ("sub/.gitlab-ci.yml", True), (".GITLAB-CI.YML", False), (".gitlab-ci.yaml", False),
    ("docker-bake.hcl", True), ("docker/docker-bake.override.json", True), ("docker-bake.ci.hcl", False),
    ("Docker-Bake.hcl", False), ("daemon.json", True), ("etc/docker/daemon.json", True), ("Daemon.json", False),
    ("scripts/setup-docker.sh", True), ("install.bash", True), (".sh", True), ("ci/setup.SH", False),
    ("setup.sh.bak", False), ("setup.zsh", False), ("scripts/setup.sh/notes.md", False),
    ("buildkitd.toml", True), ("buildkitd.toml.bak", False), (".github/workflows/ci.yml.bak", False),
    ("app/main.py", False), ("download_models.py", False),  # Python: read only where an image or service runs it
]


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_files_pattern_selects_the_build_files_discovery_lints(hook_id: str) -> None:
    pattern = _pattern(hook_id)
    assert all((is_walked(path) and file_kind(path) not in ("dockerfile", "compose")) == want
               for path, want in BUILD_FILES)
    assert [path for path, want in BUILD_FILES if _selected(pattern, path) != want] == []


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_files_pattern_required_names(hook_id: str) -> None:
    pattern = _pattern(hook_id)
    assert [p for p in MUST_MATCH if not _selected(pattern, p)] == []
    assert [p for p in MUST_NOT_MATCH if _selected(pattern, p)] == []


_PIECES = st.sampled_from(
    ["dockerfile", "Dockerfile", "DOCKERFILE", "containerfile", "Containerfile", ".", "-", "_", "/",
     "md", "MD", "txt", "py", "sh", "json", "yml", "yaml", "j2", "jinja", "jinja2", "template", "in",
     "ini", "bak", "ba", "dockerignore", "gpu", "cuda", "x", "2", " ", "\n", "\u212a", "\u017f",
     "\u0130", "\u0131", "\u00e9", "compose"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=8).map("".join))
def test_files_pattern_agrees_with_discovery_on_generated_paths(path: str) -> None:
    assert _selected(_pattern("aicache-lint"), path) == _linted(path)


def test_compose_names_are_selected() -> None:
    """The Compose branch selects exactly the Compose names discovery lints."""
    text = HOOKS_FILE.read_text(encoding="utf-8")
    assert COMPOSE_BRANCH in text, "the YAML comment should show the Compose branch tested here"
    current = re.compile(_hooks()["aicache-lint"]["files"])
    assert [n for n in COMPOSE_NAMES if not _selected(current, n)] == []
    assert [n for n in NOT_COMPOSE if _selected(current, n)] == []
    assert all(is_compose_name(n.rsplit("/", 1)[-1]) for n in COMPOSE_NAMES)
    assert not any(is_compose_name(n.rsplit("/", 1)[-1]) for n in NOT_COMPOSE)


def test_manifest_is_valid_for_pre_commit() -> None:
    pre_commit = pre_commit_command()
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    proc = subprocess.run(
        [*pre_commit, "validate-manifest", str(HOOKS_FILE)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ----------------------------------------------------------------------------------------------
# The README's snippets (tests/test_install.py runs the local hook with an installed wheel).


def _readme_config(kind: str) -> tuple[str, dict]:
    """(the paragraph before, the parsed repo entry) of the README's `repo: <kind>` snippet."""
    (snippet,) = [s for s in readme_snippets("pre-commit", "yaml") if f"repo: {kind}" in s.code]
    (repo,) = yaml.safe_load(snippet.code)["repos"]
    return snippet.lead, repo


def test_readme_published_hooks() -> None:
    """The `repo:` URL names these hooks at this version's tag, and the README says it works
    only once the project is published."""
    lead, repo = _readme_config("https://")
    assert "published" in lead and "exists yet" in lead
    assert repo["rev"] == f"v{__version__}"
    assert {hook["id"] for hook in repo["hooks"]} <= set(HOOK_IDS)
    assert f"repo: {repo['repo']}" in HOOKS_FILE.read_text(encoding="utf-8")  # the manifest's own example


def test_readme_local_hook_is_the_published_one(tmp_path: Path) -> None:
    _, repo = _readme_config("local")
    (hook,) = repo["hooks"]
    published = _hooks()[hook["id"]]
    assert [k for k in ("name", "entry", "args", "types", "files") if hook.get(k) != published.get(k)] == []
    assert hook["language"] == "system"
    pre_commit = pre_commit_command()
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(yaml.safe_dump({"repos": [repo]}), encoding="utf-8")
    proc = subprocess.run([*pre_commit, "validate-config", str(config)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ----------------------------------------------------------------------------------------------
# The real thing: pre-commit installs the hooks from this checkout and runs them in a git repo.

BAD = b"FROM python:3.12-slim\nRUN pip install numpy>=1.24\n"
FIXED = b'FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install "numpy>=1.24"\n'
CLEAN_GPU = (b"FROM python:3.12-slim\n"
             b'RUN --mount=type=cache,target=/root/.cache/pip pip install "requests==2.32.3"\n')
# Not a Dockerfile: linted as one it would be a parse error, so the hook must not be given it.
README = b"# demo\n\nThis repository builds two images.\n"


@pytest.mark.slow
def test_hooks_under_pre_commit_try_repo(tmp_path: Path) -> None:
    pre_commit = pre_commit_command()
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = clean_env(tmp_path)
    hooks_repo = snapshot_checkout(tmp_path / "hooks-repo", env)

    # Configuration is looked up from each linted file upwards, past the repository root: an
    # empty one right above the repository keeps a stray /tmp/pyproject.toml or
    # /tmp/.aicache-lint.toml from changing what this test sees. It is not part of the repository.
    (tmp_path / ".aicache-lint.toml").write_bytes(b"")
    project = tmp_path / "project"
    init_repo(project, env)
    (project / "Dockerfile").write_bytes(BAD)
    (project / "svc").mkdir()
    (project / "svc" / "Dockerfile.gpu").write_bytes(CLEAN_GPU)
    (project / "README.md").write_bytes(README)
    commit_all(project, env)

    def try_repo(hook_id: str | None) -> tuple[int, str]:
        hook = [hook_id] if hook_id else []
        proc = subprocess.run(
            [*pre_commit, "try-repo", str(hooks_repo), *hook, "--all-files", "--color", "never"],
            cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=TIMEOUT,
        )
        return proc.returncode, proc.stdout

    code, out = try_repo("aicache-lint")
    assert code == 1, out
    assert re.search(r"^Dockerfile:2:\d+: AIC101\b", out, re.MULTILINE), out
    assert re.search(r"^Dockerfile:2:\d+: AIC302\b", out, re.MULTILINE), out
    assert "svc/Dockerfile.gpu" not in out and "README.md" not in out, out
    assert (project / "Dockerfile").read_bytes() == BAD

    code, out = try_repo("aicache-lint-fix")
    assert code == 1, out
    assert "files were modified by this hook" in out, out
    assert (project / "Dockerfile").read_bytes() == FIXED
    assert (project / "svc" / "Dockerfile.gpu").read_bytes() == CLEAN_GPU
    assert (project / "README.md").read_bytes() == README

    # Both hooks in one run (try-repo with no hook id runs every hook in the manifest): each
    # try-repo builds its own virtualenv, so this saves an install.
    code, out = try_repo(None)
    assert code == 0, out
    assert re.search(r"^aicache-lint\.+Passed$", out, re.MULTILINE), out
    assert re.search(r"^aicache-lint \(fix\)\.+Passed$", out, re.MULTILINE), out
    assert (project / "Dockerfile").read_bytes() == FIXED
