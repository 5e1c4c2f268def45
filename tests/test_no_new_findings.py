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


def _chain_project(root: Path, base: str = "a-base") -> None:
    """A base built here whose fix gives it `HF_HOME` (in the first pass, before its children are
    checked in the same pass), and 18 images FROM it that install a Hugging Face library: each
    child must see the fixed base and get no `HF_HOME` of its own. A child checked ahead in a
    worker saw the base before its fix, and that result must not be used."""
    (root / ".git").mkdir(parents=True)
    (root / base).mkdir()
    (root / base / "Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install transformers\n")
    services = [f"services:\n  base:\n    build: ./{base}\n    image: acme/base:1\n"]
    for i in range(18):
        (root / f"child{i:02}").mkdir()
        (root / f"child{i:02}" / "Dockerfile").write_text("FROM acme/base:1\nRUN pip install diffusers\n")
        services.append(f"  child{i:02}:\n    build: ./child{i:02}\n")
    (root / "compose.yaml").write_text("".join(services))


@pytest.mark.parametrize("tree", ["tests/corpus", "chain", "chain-base-last", "chain-warning"])
def test_the_plan_is_the_same_in_one_process_or_several(tree: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files checked ahead in worker processes give the plan one process makes, byte for byte."""
    root = tmp_path / "w"
    if tree.startswith("chain"):
        # "chain-base-last": the base's folder sorts after its children's; the plan still fixes it first.
        _chain_project(root, "z-base" if tree == "chain-base-last" else "a-base")
        if tree == "chain-warning":  # a warning met while checking a file that reads no other: in a worker
            (root / "lone").mkdir()
            (root / "lone" / "requirements.txt").write_bytes(b"\x00 binary")
            (root / "lone" / "Dockerfile").write_text(
                "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    else:
        shutil.copytree(ROOT / tree, root)
    monkeypatch.chdir(root)
    options = ["--isolated", "--select", EVERY_RULE, "--unsafe-fixes", "--exit-zero", "--diff", "."]
    serial, parallel = invoke([*options, "-j", "1"]), invoke([*options, "-j", "2"])
    assert serial.stdout and serial.stdout == parallel.stdout
    assert serial.stderr == parallel.stderr
    assert ("lone/requirements.txt: cannot be read" in serial.stderr) == (tree == "chain-warning")
    if tree.startswith("chain"):
        children = serial.stdout.split("--- child00/Dockerfile")[1].split("--- compose.yaml")[0]
        assert "+ENV HF_HOME" in serial.stdout and "HF_HOME" not in children  # the base's, not theirs
