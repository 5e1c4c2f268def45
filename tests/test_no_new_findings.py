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
from fixture_cases import Case, all_cases, case_source
from unified_diff import apply_unified_diff

from aicache_lint.engine import check_source, fix_source
from aicache_lint.rules import ALL_RULES
from aicache_lint.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EVERY_RULE = ",".join(r.code for r in ALL_RULES)
SETTINGS = Settings(select=tuple(r.code for r in ALL_RULES), unsafe_fixes=True)
CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixing_a_fixture_creates_no_finding(case: Case) -> None:
    source = case_source(case)
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


@pytest.mark.parametrize("tree", ["examples", "tests/corpus"])
def test_diff_shows_exactly_what_fix_writes(tree: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--diff` and `--fix` run the same plan over every file: applying the printed diff to one
    copy gives, byte for byte, the tree `--fix` writes in another."""
    shown, written = tmp_path / "diff", tmp_path / "fix"
    shutil.copytree(ROOT / tree, shown)
    shutil.copytree(ROOT / tree, written)
    options = ["--isolated", "--select", EVERY_RULE, "--unsafe-fixes", "--exit-zero"]
    monkeypatch.chdir(shown)
    diff = invoke([*options, "--diff", "."]).stdout
    monkeypatch.chdir(written)
    invoke([*options, "--fix", "."])
    assert diff, "nothing to fix: the test would prove nothing"
    fixed = {p.relative_to(written).as_posix(): p.read_bytes() for p in sorted(written.rglob("*")) if p.is_file()}
    assert apply_unified_diff(shown, diff) == fixed
