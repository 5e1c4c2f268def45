"""For the tests that install and run this project the way a user does (pip, a virtualenv,
pre-commit, the README's snippets): a copy of the checkout, Git repositories, a clean environment,
a virtualenv to run commands in, and the README's code blocks.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

CHECKOUT = Path(__file__).resolve().parents[1]
README = CHECKOUT / "README.md"
TIMEOUT = 300  # seconds for one command (pip install, a build, a pre-commit run)

# pre-commit strips these itself before running git; anything else GIT_* (GIT_DIR, GIT_INDEX_FILE
# when pytest runs inside a git hook, ...) would point our git commands at the wrong repository.
_GIT_ENV_KEPT = {"GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_NO_VERIFY",
                 "GIT_HTTP_PROXY_AUTHMETHOD", "GIT_ALLOW_PROTOCOL", "GIT_ASKPASS"}
# PYTHONPATH (e.g. `PYTHONPATH=src`) would let a command import the source tree instead of the
# package that was installed; SKIP would skip hooks; PRE_COMMIT_* could change the run.
_DROPPED = {"PYTHONPATH", "SKIP", "VIRTUAL_ENV", "PRE_COMMIT", "PRE_COMMIT_COLOR",
            "PRE_COMMIT_ALLOW_NO_CONFIG", "PRE_COMMIT_NO_CONCURRENCY"}


def pre_commit_command() -> list[str] | None:
    """The command that runs pre-commit, None when it is not installed."""
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    exe = shutil.which("pre-commit")
    return [exe] if exe else None


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment without what would change the commands' behaviour, and with every cache
    and temporary directory inside ``tmp_path``."""
    env = {
        k: v for k, v in os.environ.items()
        if k not in _DROPPED and (not k.startswith("GIT_") or k in _GIT_ENV_KEPT)
    }
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    # try-repo keeps its clone and virtualenv in a fresh temporary directory (not PRE_COMMIT_HOME),
    # one per run: keep that inside tmp_path too.
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env["TMPDIR"] = env["TEMP"] = env["TMP"] = str(tmp_path / "tmp")
    env["VIRTUALENV_OVERRIDE_APP_DATA"] = str(tmp_path / "virtualenv-app-data")
    env["PIP_CACHE_DIR"] = str(tmp_path / "pip-cache")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["NO_COLOR"] = "1"
    return env


def git(repo: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def init_repo(repo: Path, env: dict[str, str]) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, env, "init", "-q")
    git(repo, env, "config", "user.name", "aicache-lint tests")
    git(repo, env, "config", "user.email", "tests@aicache-lint.invalid")
    git(repo, env, "config", "commit.gpgsign", "false")
    git(repo, env, "config", "core.autocrlf", "false")


def commit_all(repo: Path, env: dict[str, str]) -> None:
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-q", "--no-verify", "-m", "snapshot")


_UNTRACKED_JUNK = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".venv", "venv", ".tox", ".nox",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".benchmarks",
)


def snapshot_checkout(dest: Path, env: dict[str, str]) -> Path:
    """This checkout's working tree, as a one-commit git repository.

    `try-repo <path>` clones the path's HEAD and carries over only *tracked* changes: a new
    untracked file (a new module, or `.pre-commit-hooks.yaml` itself before its first commit)
    would be missing, and a checkout that is not a git repository (an sdist) cannot be used at
    all. A build in the checkout itself would leave `build/` and `*.egg-info` behind. The snapshot
    holds what `git add -A` would commit: tracked and untracked files, minus ignored ones (or,
    outside git, minus build output and caches).
    """
    inside = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=CHECKOUT, env=env, capture_output=True, text=True,
    )
    if inside.returncode == 0 and Path(inside.stdout.strip()).resolve() == CHECKOUT:
        listed = git(CHECKOUT, env, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        for rel in filter(None, listed.split("\0")):
            source = CHECKOUT / rel
            if source.is_file() or source.is_symlink():  # a deleted tracked file is skipped
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target, follow_symlinks=False)
    else:
        shutil.copytree(CHECKOUT, dest, ignore=_UNTRACKED_JUNK, symlinks=True)
    assert (dest / ".pre-commit-hooks.yaml").is_file()
    init_repo(dest, env)
    commit_all(dest, env)
    return dest


class Virtualenv:
    """A fresh virtualenv; ``run`` executes a shell script with it first on PATH, as an activated
    one would be."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(path)], env=env, check=True, timeout=TIMEOUT)
        self.path = path
        self.bin = path / ("Scripts" if os.name == "nt" else "bin")
        self.env = {**env, "VIRTUAL_ENV": str(path), "PATH": f"{self.bin}{os.pathsep}{env.get('PATH', '')}"}

    def run(self, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", script], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=TIMEOUT
        )


class Snippet(NamedTuple):
    lead: str  # the paragraph just before the block
    code: str


def readme_snippets(section: str, lang: str) -> list[Snippet]:
    """The ```lang code blocks under the README's `## section` heading, in order."""
    text = README.read_text(encoding="utf-8")
    body = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert body, f"no `## {section}` in the README"
    found = []
    for block in re.finditer(rf"^```{lang}\n(.*?)^```$", body.group(1), re.MULTILINE | re.DOTALL):
        before = body.group(1)[: block.start()].rstrip().rsplit("\n\n", 1)[-1]
        found.append(Snippet(before, block.group(1)))
    return found
