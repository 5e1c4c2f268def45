"""A fix never leaves a finding that was not there before.

Every rule (opt-in ones too) with unsafe fixes, over every fixture case, the bundled examples and
the test corpus: after fixing, each (code, file) pair found was already found before. Either a fix
set also fixes what it causes, or the first fix is not offered. The examples and the corpus are
fixed as workspaces (Compose files see the Dockerfiles they build), the way `--fix .` runs.

With AIC123 among the rules, this also checks that no fix leaves a directory in a non-root user's
home owned by root (BuildKit creates a cache mount's missing parents that way).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_runner import invoke
from fixture_cases import Case, all_cases

from aicache_lint.engine import check_source, fix_source
from aicache_lint.rules import ALL_RULES
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText

ROOT = Path(__file__).resolve().parent.parent
EVERY_RULE = ",".join(r.code for r in ALL_RULES)
SETTINGS = Settings(select=tuple(r.code for r in ALL_RULES), unsafe_fixes=True)
CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixing_a_fixture_creates_no_finding(case: Case) -> None:
    source = SourceText(case.text, path="compose.yaml" if case.compose else "Dockerfile")
    before = {f.code for f in check_source(source, SETTINGS)}
    after = {f.code for f in fix_source(source, SETTINGS).findings}
    assert after <= before, f"new after fixing: {sorted(after - before)}"


def _pairs(root: Path) -> set[tuple[str, str]]:
    result = invoke(["--isolated", "--select", EVERY_RULE, "--output-format", "json", "--exit-zero", str(root)])
    return {(item["code"], Path(item["filename"]).relative_to(root).as_posix()) for item in json.loads(result.stdout)}


@pytest.mark.parametrize("tree", ["examples", "tests/corpus"])
def test_fixing_a_workspace_creates_no_finding(tree: str, tmp_path: Path) -> None:
    copy = tmp_path / "w"
    shutil.copytree(ROOT / tree, copy)
    before = _pairs(copy)
    fixed = invoke(["--isolated", "--select", EVERY_RULE, "--fix", "--unsafe-fixes", "--exit-zero", str(copy)])
    assert "AIC000" not in fixed.output, fixed.output
    assert _pairs(copy) - before == set()
