"""The rebuild model (impact/rebuild.py) on hand-checked fixtures: `fixtures/_impact/<name>/` holds
a build, the sizes it is priced with (`sizes.tsv`, round numbers) and, in `expected.txt`, the bytes
each event costs, worked out by hand in its comments."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from aicache_lint.impact.rebuild import EVENTS, rebuild
from aicache_lint.workspace.index import Workspace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "_impact"


class _Size(NamedTuple):
    bytes: int
    source: str


class TableSizes:
    """The fixture's own size table (kind, name, bytes)."""

    def __init__(self, path: Path) -> None:
        rows = csv.DictReader((line for line in path.read_text().splitlines() if not line.startswith("#")),
                              delimiter="\t")
        self.rows = {(r["kind"], r["name"]): _Size(int(r["bytes"]), str(path)) for r in rows}

    def package(self, name: str, spec: str = "") -> _Size | None:
        return self.rows.get(("package", name))

    def apt(self, name: str) -> _Size | None:
        return self.rows.get(("apt", name))

    def image(self, reference: str) -> _Size | None:
        return self.rows.get(("image", reference))

    def model(self, repo_id: str) -> _Size | None:
        return self.rows.get(("model", repo_id))


def _expected(path: Path) -> dict[str, tuple[int, int]]:
    rows = csv.DictReader((line for line in path.read_text().splitlines() if not line.startswith("#")), delimiter="\t")
    return {r["event"]: (int(r["bytes"]), int(r["unknown"])) for r in rows}


def _image(tmp_path: Path, name: str):
    project = tmp_path / name
    shutil.copytree(FIXTURES / name, project)
    (project / ".git").mkdir()
    dockerfile = str(project / "Dockerfile")
    ws = Workspace([dockerfile])
    _, facts = ws.linted_dockerfile(dockerfile)
    return ws, dockerfile, facts, TableSizes(project / "sizes.tsv"), _expected(project / "expected.txt")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_the_cost_of_each_event_is_what_the_fixture_worked_out(tmp_path, name):
    ws, dockerfile, facts, sizes, expected = _image(tmp_path, name)
    got = {}
    for event in EVENTS:
        result = rebuild(ws, dockerfile, facts, facts.final_stage, event, sizes)
        got[event] = (result.fetched, len(result.unknown))
    assert got == expected


def test_steps_and_what_stays_cached(tmp_path):
    ws, dockerfile, facts, sizes, _ = _image(tmp_path, "cuda-three-stage")
    manifest = rebuild(ws, dockerfile, facts, facts.final_stage, "manifest", sizes)
    lines = [(s.stage.name, s.instruction.start_line) for s in manifest.steps]
    assert ("runtime", 13) in lines and ("runtime", 11) not in lines  # from `COPY requirements.txt .` on
    cached = [d for d in manifest.downloads if d.cached]
    assert [d.what for d in cached] == ["pip: torch", "pip: transformers"]  # the runtime stage's cache mount
    assert {d.what for d in manifest.unknown} == {"pip: packages the linter cannot see"}
    source = rebuild(ws, dockerfile, facts, facts.final_stage, "source", sizes)
    assert not any(s.stage.name == "runtime" for s in source.steps)


def test_an_unknown_event_is_refused(tmp_path):
    ws, dockerfile, facts, sizes, _ = _image(tmp_path, "cuda-three-stage")
    with pytest.raises(ValueError, match="unknown event"):
        rebuild(ws, dockerfile, facts, facts.final_stage, "weather", sizes)
