"""Package sizes from the package index (registry/pypi.py, Resolver.package_size), asked only with
--resolve-images and only for packages the bundled table lacks; a fake index serves the pages."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from cli_runner import base_update
from registry_server import mirrored_project, serving

from aicache_lint.registry.pypi import wheel_size

PAGE = {
    "versions": ["1.0.0", "1.1.0", "2.0.0rc1"],
    "files": [
        {"filename": "fastish-1.0.0-py3-none-any.whl", "size": 1000},
        {"filename": "fastish-1.1.0.tar.gz", "size": 5000},
        {"filename": "fastish-1.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "size": 3000},
        {"filename": "fastish-1.1.0-cp312-cp312-manylinux_2_17_aarch64.whl", "size": 9000},
        {"filename": "fastish-1.1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "size": 7000},
        {"filename": "fastish-2.0.0rc1-py3-none-any.whl", "size": 8000},
        {"filename": "fastish-0.9.0-py3-none-any.whl", "size": 500, "yanked": True},
    ],
}


def test_the_wheel_pip_would_take_for_linux_x86_64_cpython_312():
    assert wheel_size(PAGE, "1.1.0") == (3000, "fastish-1.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                                         "1.1.0")
    assert wheel_size(PAGE, None)[2] == "1.1.0"  # the newest final release, not the release candidate
    assert wheel_size(PAGE, "1.0.0") == (1000, "fastish-1.0.0-py3-none-any.whl", "1.0.0")
    assert wheel_size(PAGE, "1.1.0", python="cp310")[0] == 5000  # no wheel fits: the source archive
    assert wheel_size(PAGE, "0.9.0") is None  # yanked
    assert wheel_size({"files": [], "versions": []}, None) is None


class _Index(BaseHTTPRequestHandler):
    pages: dict[str, dict] = {}
    asked: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.asked.append(self.path)
        project = self.path.strip("/").split("/")[-1]
        page = self.pages.get(project)
        body = json.dumps(page).encode() if page else b""
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def index(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("AICACHE_LINT_CACHE_DIR", str(tmp_path / "cache"))
    from aicache_lint.registry import resolver

    resolver.reset()
    _Index.pages, _Index.asked = {"fastish": PAGE}, []
    with serving(_Index) as url:
        yield url
    resolver.reset()


def _project(tmp_path: Path, url: str) -> Path:
    # docker.io too: the base's size is asked of it, and this index knows no image (404, at once)
    return mirrored_project(tmp_path, {"pypi.org": url, "docker.io": url},
                            "FROM python:3.12-slim\nRUN pip install fastish==1.1.0 torch==2.5.1\n")


def test_impact_sizes_a_package_the_table_lacks_from_the_index(tmp_path, index):
    project = _project(tmp_path, index)
    before, after = base_update(project), base_update(project, "--resolve-images")
    assert after["bytes"] == before["bytes"] + 3000 and after["unknown"] == before["unknown"] - 1
    assert [p for p in _Index.asked if p.startswith("/simple/")] == ["/simple/fastish/"]  # torch is in the table


def test_the_index_page_is_cached_and_a_failing_index_leaves_the_table(tmp_path, index):
    from aicache_lint.registry import resolver

    project = _project(tmp_path, index)
    base_update(project, "--resolve-images")
    resolver.reset()
    base_update(project, "--resolve-images")
    assert [p for p in _Index.asked if p.startswith("/simple/")] == ["/simple/fastish/"]  # the second: the disk cache
    _Index.pages = {}
    (project / "Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install nothere==1.0\n")
    assert base_update(project, "--resolve-images")["unknown"] >= 1  # exit code 0 too
