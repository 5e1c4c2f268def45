"""The result cache (result_cache.py): a warm run gives exactly what a run without the cache gives,
whatever changed since the entries were written; a corrupt cache is ignored with a warning; the
cache stays out of fix runs and out of the way of parallel workers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cli_runner import invoke

from aicache_lint import api
from aicache_lint.config import CliOverrides, Resolver

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = sorted(p / "input" for p in (ROOT / "fixtures" / "_projects").iterdir() if (p / "input").is_dir())
TREES = [*PROJECTS, ROOT / "examples"]


@pytest.fixture(autouse=True)
def _cache_on(monkeypatch):
    monkeypatch.delenv("AICACHE_LINT_NO_CACHE", raising=False)


def _tree(tmp_path: Path, source: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(source, project)
    (project / ".git").mkdir()  # the workspace's root, as in test_projects
    return project


def _lint(project: Path, cache: Path | None, *more: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(project)
    try:
        flags = ["--cache-dir", str(cache)] if cache is not None else ["--no-cache"]
        result = invoke(["--select", "ALL", "--output-format", "json", "--jobs", "1", *flags, *more, "."])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*/*.json"))


def _files(project: Path) -> list[Path]:
    return sorted(p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts)


@pytest.mark.parametrize("source", TREES, ids=[p.parent.name if p.name == "input" else p.name for p in TREES])
def test_warm_runs_equal_uncached_runs_after_every_change(tmp_path, source):
    """Each file of each project is in turn emptied, then deleted, with a warm cache: the cached
    run must say exactly what an uncached run says (findings, fixes, warnings, exit code)."""
    project, cache = _tree(tmp_path, source), tmp_path / "cache"
    cold = _lint(project, cache)
    assert _entries(cache), "a lint run fills the cache"
    assert _lint(project, cache) == cold == _lint(project, None)
    for path in _files(project):
        original = path.read_bytes()
        for change in ("empty", "delete"):
            if change == "empty":
                path.write_bytes(b"")
            else:
                path.unlink()
            assert _lint(project, cache) == _lint(project, None), f"{change} {path.relative_to(project)}"
            path.write_bytes(original)
        assert _lint(project, cache) == cold, f"restored {path.relative_to(project)}"


def test_a_new_compose_file_is_seen(tmp_path):
    """A Compose file added next to a Dockerfile gives its build args (a CUDA devel base here):
    the directory listing is part of what the Dockerfile's entry rests on."""
    project = tmp_path / "p"
    project.mkdir()
    (project / ".git").mkdir()
    (project / "Dockerfile").write_text("ARG BASE=python:3.11-slim\nFROM ${BASE}\nRUN pip install torch\n")
    cache = tmp_path / "cache"
    before = _lint(project, cache)
    (project / "compose.yaml").write_text(
        "services:\n  app:\n    build:\n      context: .\n      args:\n"
        "        BASE: nvidia/cuda:12.1.0-devel-ubuntu22.04\n")
    after = _lint(project, cache)
    assert after == _lint(project, None)
    assert "AIC304" in after[1] and "AIC304" not in before[1]


def test_configuration_change_is_seen(tmp_path):
    project = _tree(tmp_path, PROJECTS[0])
    cache = tmp_path / "cache"
    first = _lint(project, cache)
    code = min(f["code"] for f in json.loads(first[1]) if f["severity"] != "info")
    (project / ".aicache-lint.toml").write_text(f'[severity]\n{code} = "info"\n')
    second = _lint(project, cache)
    assert second == _lint(project, None)
    assert {f["severity"] for f in json.loads(second[1]) if f["code"] == code} == {"info"}


def test_corrupt_entries_are_ignored_with_a_warning_and_rewritten(tmp_path):
    project, cache = _tree(tmp_path, PROJECTS[0]), tmp_path / "cache"
    cold = _lint(project, cache)
    entries = _entries(cache)
    entries[0].write_bytes(b'{"source": "truncat')
    entries[1].write_text('{"source": 1, "deps": [], "findings": [["x"]]}')
    code, out, err = _lint(project, cache)
    assert (code, out) == cold[:2]
    assert err.count("ignoring a corrupt result-cache entry") >= 1 and str(entries[0]) in err
    assert _lint(project, cache) == cold, "the entries were written again"


def test_fix_runs_and_no_cache_write_nothing(tmp_path):
    project, cache = _tree(tmp_path, PROJECTS[0]), tmp_path / "cache"
    _lint(project, None)
    invoke(["--diff", "--cache-dir", str(cache), str(project)])
    invoke(["--fix", "--cache-dir", str(cache), str(project)])
    assert not cache.exists()


def test_environment_variable_turns_it_off(tmp_path, monkeypatch):
    project, cache = _tree(tmp_path, PROJECTS[0]), tmp_path / "cache"
    monkeypatch.setenv("AICACHE_LINT_NO_CACHE", "1")
    _lint(project, cache)
    assert not cache.exists()


def test_default_location_is_the_user_cache_and_the_project_stays_untouched(tmp_path, monkeypatch):
    """A lint run writes nothing into the project: a cache directory there would change the build
    context of every `COPY . .` (and `--diff` would no longer show all a run leaves behind)."""
    monkeypatch.setenv("AICACHE_LINT_CACHE_DIR", str(tmp_path / "user-cache"))
    project = _tree(tmp_path, PROJECTS[0])
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    cwd = os.getcwd()
    os.chdir(project)
    try:
        invoke(["."])
    finally:
        os.chdir(cwd)
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    directory = tmp_path / "user-cache" / "results"
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (directory / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert _entries(directory)


def test_config_cache_dir_is_relative_to_the_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AICACHE_LINT_CACHE_DIR", str(tmp_path / "user-cache"))
    project = _tree(tmp_path, PROJECTS[0])
    (project / "aicache-lint.toml").write_text('cache-dir = "build/lint-cache"\n')
    invoke([str(project)])
    assert _entries(project / "build" / "lint-cache")
    assert not (tmp_path / "user-cache").exists()


def test_unwritable_cache_directory_is_a_warning(tmp_path):
    project = _tree(tmp_path, PROJECTS[0])
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = _lint(project, blocker / "cache")
    assert (code, out) == _lint(project, None)[:2]
    assert "cannot write the result cache" in err


def test_parallel_and_serial_runs_share_entries(tmp_path):
    """Workers write entries that a serial run then uses, with the result of a run without cache."""
    project = tmp_path / "p"
    project.mkdir()
    (project / ".git").mkdir()
    for i in range(20):
        folder = project / f"svc{i}"
        folder.mkdir()
        (folder / "Dockerfile").write_text(f"FROM python:3.11\nCOPY . .\nRUN pip install torch=={i}.0\n")
    cache = tmp_path / "cache"
    settings = Resolver(CliOverrides(select=("ALL",))).for_path(str(project))
    tasks = [api.Task(str(p), settings, cache=str(cache)) for p in sorted(project.rglob("Dockerfile"))]
    parallel = api.process_paths(tasks, jobs=2)
    written = {p: p.stat().st_mtime_ns for p in _entries(cache)}
    serial = api.process_paths(tasks, jobs=1)
    plain = api.process_paths([t._replace(cache=None) for t in tasks], jobs=1)
    assert [(r.path, r.findings) for r in parallel] == [(r.path, r.findings) for r in serial] \
        == [(r.path, r.findings) for r in plain]
    assert all(r.findings for r in plain)
    assert len(written) == 20 and {p: p.stat().st_mtime_ns for p in _entries(cache)} == written


def test_a_warm_run_starts_no_workers(tmp_path, monkeypatch):
    """Hits are looked up before workers start; a few misses are checked in this process."""
    import concurrent.futures

    project = tmp_path / "p"
    project.mkdir()
    (project / ".git").mkdir()
    for i in range(20):
        (project / f"svc{i}").mkdir()
        (project / f"svc{i}" / "Dockerfile").write_text(f"FROM python:3.11\nRUN pip install torch=={i}.0\n")
    cache = tmp_path / "cache"
    settings = Resolver(CliOverrides()).for_path(str(project))
    tasks = [api.Task(str(p), settings, cache=str(cache)) for p in sorted(project.rglob("Dockerfile"))]
    cold = api.process_paths(tasks, jobs=2)

    class NoWorkers:
        def __init__(self, *args, **kwargs):
            raise AssertionError("workers started")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", NoWorkers)
    (project / "svc3" / "Dockerfile").write_text("FROM python:3.11\nRUN pip install --no-cache-dir torch\n")
    warm = api.process_paths(tasks, jobs=2)
    plain = api.process_paths([t._replace(cache=None) for t in tasks], jobs=1)
    assert [(r.path, r.findings) for r in warm] == [(r.path, r.findings) for r in plain]
    assert [r.findings for r in warm] != [r.findings for r in cold]  # svc3 was checked again
