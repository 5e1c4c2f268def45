"""Installable as the README says, by someone with the source and no published package.

The README's Install commands run as written in a copy of this checkout with a fresh virtualenv:
`pip install .`, then `python -m build` (sdist, and the wheel built from it), then the wheel. The
sdist and the wheel must hold every module, the package data and the entry point. The wheel then
goes into another fresh virtualenv, where the README's code-scanning workflow steps and its local
pre-commit hook run as written.

Slow: two virtualenvs, a build in an isolated environment, and pip fetching the dependencies and
setuptools from PyPI (needs the network; about a minute). Deselect with `-m "not slow"`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from sandbox import (
    CHECKOUT,
    TIMEOUT,
    Virtualenv,
    clean_env,
    commit_all,
    init_repo,
    pre_commit_command,
    readme_snippets,
    snapshot_checkout,
)

from aicache_lint import __version__

pytestmark = pytest.mark.slow

WHEEL = f"aicache_lint-{__version__}-py3-none-any.whl"
SDIST = f"aicache_lint-{__version__}.tar.gz"

BAD = "FROM python:3.12-slim\nRUN pip install numpy>=1.24\n"
FIXED = 'FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install "numpy>=1.24"\n'
# Its fix title quotes the date of the tag table shipped as package data.
CUDA = "FROM nvidia/cuda:12.4.1-runtime\nRUN echo hi\n"


class Built(NamedTuple):
    install: subprocess.CompletedProcess[str]  # the README's Install commands
    dist: Path
    env: dict[str, str]
    tmp: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if shutil.which("git") is None or shutil.which("bash") is None:
        pytest.skip("needs git and bash")
    tmp = tmp_path_factory.mktemp("install")
    env = clean_env(tmp)
    source = snapshot_checkout(tmp / "aicache-lint", env)
    (commands,) = readme_snippets("Install", "console")
    done = Virtualenv(tmp / "venv-source", env).run(commands.code, cwd=source)
    return Built(done, source / "dist", env, tmp)


def test_readme_install_commands_work_as_written(built: Built) -> None:
    assert built.install.returncode == 0, built.install.stdout + built.install.stderr
    assert built.install.stdout.splitlines()[-1] == f"aicache-lint {__version__}"
    assert sorted(p.name for p in built.dist.iterdir()) == [WHEEL, SDIST]


def _expected_files() -> list[str]:
    """What the package consists of, relative to `src/`: every module and the package data
    (`[tool.setuptools.package-data]`: data/*.tsv, data/*.md)."""
    src = CHECKOUT / "src"
    package = src / "aicache_lint"
    files = [*package.rglob("*.py"), *(package / "data").glob("*.tsv"), *(package / "data").glob("*.md")]
    return sorted(p.relative_to(src).as_posix() for p in files)


def test_wheel_holds_the_package_data_and_the_entry_point(built: Built) -> None:
    expected = _expected_files()
    assert "aicache_lint/data/nvidia-cuda-tags.tsv" in expected and "aicache_lint/data/SOURCES.md" in expected
    with zipfile.ZipFile(built.dist / WHEEL) as wheel:
        names = set(wheel.namelist())
        info = f"aicache_lint-{__version__}.dist-info"
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
        metadata = wheel.read(f"{info}/METADATA").decode()
    assert [f for f in expected if f not in names] == []
    assert "[console_scripts]\naicache-lint = aicache_lint.cli:main" in entry_points
    assert "License-Expression: MIT" in metadata and f"{info}/licenses/LICENSE" in names
    assert {line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line} == {
        "Requires-Dist: PyYAML>=6.0",
        "Requires-Dist: sarif-om>=1.0.4",
        "Requires-Dist: tree-sitter>=0.22",
        "Requires-Dist: tree-sitter-hcl>=1.1",
        'Requires-Dist: tomli>=1.1; python_version < "3.11"',
    }


def test_sdist_holds_the_sources_and_the_package_data(built: Built) -> None:
    top = f"aicache_lint-{__version__}"
    with tarfile.open(built.dist / SDIST) as sdist:
        names = set(sdist.getnames())
    expected = [f"{top}/src/{f}" for f in _expected_files()]
    expected += [f"{top}/{f}" for f in ("pyproject.toml", "README.md", "LICENSE")]
    assert [f for f in expected if f not in names] == []


def test_wheel_in_a_fresh_virtualenv(built: Built) -> None:
    """The README's code-scanning steps and its local pre-commit hook, with the wheel installed
    where nothing else of this project is."""
    if built.install.returncode != 0:
        pytest.skip("the build failed (see test_readme_install_commands_work_as_written)")
    project = built.tmp / "project"
    init_repo(project, built.env)
    (project / "Dockerfile").write_text(BAD)
    (project / "Dockerfile.cuda").write_text(CUDA)
    (project / "README.md").write_text("# demo\n")
    (project / "tools").mkdir()
    shutil.copy2(built.dist / WHEEL, project / "tools" / WHEEL)
    venv = Virtualenv(built.tmp / "venv-wheel", built.env)

    # The workflow's `run:` steps, in order, as written.
    (workflow,) = readme_snippets("GitHub code scanning", "yaml")
    steps = [step["run"] for step in yaml.safe_load(workflow.code)["jobs"]["lint"]["steps"] if "run" in step]
    assert steps[0] == f"pip install tools/{WHEEL}"
    for step in steps:
        done = venv.run(step, cwd=project)
        assert done.returncode == 0, f"{step}\n{done.stdout}{done.stderr}"
    sarif = json.loads((project / "aicache-lint.sarif").read_text())
    results = [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in sarif["runs"][0]["results"]]
    assert sarif["version"] == "2.1.0"
    assert ("AIC101", "Dockerfile") in results and ("AIC303", "Dockerfile.cuda") in results
    assert "AIC000" not in {code for code, _ in results}

    # The pull-request comment workflow's `run:` steps but the one that posts it (gh, a token).
    (workflow,) = readme_snippets("Rebuild cost as a pull-request comment", "yaml")
    steps = [step["run"] for step in yaml.safe_load(workflow.code)["jobs"]["impact"]["steps"] if "run" in step]
    assert steps[0] == f"pip install tools/{WHEEL}" and steps[-1].startswith("gh pr comment ")
    for step in steps[:-1]:
        done = venv.run(step, cwd=project)
        assert done.returncode == 0, f"{step}\n{done.stdout}{done.stderr}"
    comment = (project / "impact.md").read_text()
    assert comment.startswith("### aicache-lint: estimated downloads per rebuild") and "```mermaid" in comment
    (project / "impact.md").unlink()

    where = venv.run("python -c 'import aicache_lint; print(aicache_lint.__file__)'", cwd=project).stdout.strip()
    assert Path(where).is_relative_to(venv.path), where
    done = venv.run("aicache-lint --version && python -m aicache_lint --version && aicache-lint rules", cwd=project)
    assert done.stdout.startswith(f"aicache-lint {__version__}\naicache-lint {__version__}\ncode "), done.stderr
    assert "AIC101  pip-cache-not-mounted" in done.stdout
    done = venv.run("aicache-lint Dockerfile.cuda", cwd=project)
    assert "nvidia/cuda tag table of 20" in done.stdout, done.stdout + done.stderr  # package data was read

    # The README's local pre-commit hook, with the installed aicache-lint on PATH.
    pre_commit = pre_commit_command()
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    (local,) = [s for s in readme_snippets("pre-commit", "yaml") if "repo: local" in s.code]
    (project / ".pre-commit-config.yaml").write_text(local.code)
    (project / "aicache-lint.sarif").unlink()
    commit_all(project, built.env)

    def run_hooks() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*pre_commit, "run", "--all-files", "--color", "never"], cwd=project, env=venv.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT,
        )

    first = run_hooks()
    assert first.returncode == 1 and "files were modified by this hook" in first.stdout, first.stdout
    assert (project / "Dockerfile").read_text() == FIXED
    assert (project / "README.md").read_text() == "# demo\n"
    second = run_hooks()
    assert second.returncode == 1 and "Dockerfile.cuda:1:6: AIC303" in second.stdout, second.stdout
    assert (project / "Dockerfile").read_text() == FIXED
