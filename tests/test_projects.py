"""Multi-file workspaces (DESIGN §12): `fixtures/_projects/<name>/`, where one file decides another's
finding or fix (a Compose service and the Dockerfile it builds, services sharing a volume).

Each project holds:
- `input/`: the tree as a user has it;
- `fixed/`: every file that `aicache-lint --fix --unsafe-fixes` (all rules) changes, as it must end
  up; all other files must stay byte-identical;
- `expected.txt`: leading `#` lines say what the project rebuilds; then the findings on `input/`
  under `[findings]` and those left after the fix under `[after fix]`, one
  `path:row:col: CODE message` line each, followed by `    fix (safe|unsafe): title` when it has a fix;
  and, when the run warns (a link it cannot resolve), the warnings under `[notices]`, paths relative
  to the project.

The test lints a copy of `input/` with every rule, unsafe fixes on, compares with `expected.txt`,
fixes it, compares the tree with `fixed/`, and checks the invariants of DESIGN §7: fixing again
changes nothing, no (code, file) finding appears that was not there before, every Compose file
validates against the Compose schema and every Dockerfile still parses (BuildKit's parser too,
where installed). `--diff` must show the same plan: its unified diff, applied to another copy of
`input/`, gives the `--fix` tree byte for byte, and on the fixed tree it shows nothing.

The copy is a repository: it gets a `.git` directory (git keeps none in a fixture), so the
workspace finds its root there, and with it `.github/workflows` and the Bake files. Run with `AICACHE_LINT_UPDATE_PROJECTS=1` to rewrite `fixed/` and
`expected.txt` from the current behaviour, then read the diff.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cli_runner import invoke
from unified_diff import apply_unified_diff
from validity import assert_valid

from aicache_lint.rules import ALL_RULES

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "_projects"
UPDATE = os.environ.get("AICACHE_LINT_UPDATE_PROJECTS") == "1"
ALL = ["--isolated", "--select", ",".join(rule.code for rule in ALL_RULES), "--unsafe-fixes"]
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "data" / "schemas" / "compose-spec.json"


# Projects whose expected output is right and the linter's is not yet: name -> the bug.
KNOWN_BUGS: dict[str, str] = {}


def _projects() -> list[Path]:
    return sorted(p for p in PROJECTS.iterdir() if (p / "input").is_dir()) if PROJECTS.is_dir() else []


def _params() -> list:
    return [pytest.param(p, id=p.name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[p.name])]
                         if p.name in KNOWN_BUGS else []) for p in _projects()]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _report(root: Path) -> tuple[list[dict], list[str]]:
    """The findings of a run on ``root`` and its warnings (paths relative to ``root``)."""
    result = invoke([*ALL, "--output-format", "json", str(root)])
    assert result.exit_code in (0, 1), result.output
    warnings = [line.replace(f"{root}{os.sep}", "") for line in result.stderr.splitlines()]
    return json.loads(result.stdout), warnings


def _lines(root: Path, items: list[dict]) -> list[str]:
    lines = []
    for item in items:
        path = Path(item["filename"]).relative_to(root).as_posix()
        lines.append(f"{path}:{item['location']['row']}:{item['location']['column']}: {item['code']} {item['message']}")
        if item["fix"] is not None:
            lines.append(f"    fix ({item['fix']['applicability']}): {item['fix']['message']}")
    return lines


def _expected(project: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """(comment lines, findings, findings after the fix, notices) of `expected.txt`."""
    comments: list[str] = []
    sections: dict[str, list[str]] = {"[findings]": [], "[after fix]": [], "[notices]": []}
    current = None
    for line in (project / "expected.txt").read_text(encoding="utf-8").splitlines():
        if line in sections:
            current = sections[line]
        elif current is None:
            comments.append(line)
        elif line:
            current.append(line)
    return comments, sections["[findings]"], sections["[after fix]"], sections["[notices]"]


def _update(project: Path, comments: list[str], before: list[str], after: list[str], notices: list[str],
            changed: dict[str, bytes]) -> None:
    lines = [*comments, "[findings]", *before, "", "[after fix]", *after]
    text = "\n".join(lines + (["", "[notices]", *notices] if notices else [])) + "\n"
    (project / "expected.txt").write_text(text, encoding="utf-8")
    shutil.rmtree(project / "fixed", ignore_errors=True)
    for name, data in changed.items():
        path = project / "fixed" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _copy(project: Path, dest: Path) -> Path:
    shutil.copytree(project / "input", dest)
    (dest / ".git").mkdir()
    return dest




def _assert_valid(root: Path) -> None:
    """Every file discovery lints is valid as its kind (tests/validity.py)."""
    from aicache_lint.discovery import discover, file_kind
    from aicache_lint.source import SourceText

    files, _ = discover([str(root)], lambda path: False)
    for name in files:
        assert_valid(SourceText.decode(Path(name).read_bytes(), name), file_kind(name))


@pytest.mark.parametrize("project", _params())
def test_project(project: Path, tmp_path: Path) -> None:
    work = _copy(project, tmp_path / project.name)
    _assert_valid(work)
    original = _files(work)
    before, notices = _report(work)

    result = invoke([*ALL, "--fix", str(work)])
    assert result.exit_code in (0, 1), result.output
    warned = result.stderr.splitlines()
    assert len(warned) == len(set(warned)), f"a warning is said more than once: {warned}"
    after, _ = _report(work)
    fixed = _files(work)
    assert fixed.keys() == original.keys(), "a fix created or removed a file"
    changed = {name: data for name, data in fixed.items() if data != original[name]}

    exists = (project / "expected.txt").exists()
    comments, want_before, want_after, want_notices = _expected(project) if exists else ([], [], [], [])
    if UPDATE and project.name not in KNOWN_BUGS:
        _update(project, comments, _lines(work, before), _lines(work, after), notices, changed)
        return
    assert _lines(work, before) == want_before
    assert _lines(work, after) == want_after
    assert notices == want_notices
    assert changed == _files(project / "fixed") if (project / "fixed").is_dir() else not changed

    again = invoke([*ALL, "--fix", str(work)])
    assert again.exit_code in (0, 1), again.output
    assert _files(work) == fixed, "fixing twice changed the files again"
    pairs = {(item["filename"], item["code"]) for item in before}
    new = sorted({(item["filename"], item["code"]) for item in after} - pairs)
    assert not new, f"the fix left findings that were not there before: {new}"
    assert not any(item["code"] == "AIC000" for item in after)
    _assert_valid(work)
    assert invoke([*ALL, "--diff", str(work)]).stdout == "", "--diff shows changes on the fixed tree"

    shown = _copy(project, tmp_path / "diff" / project.name)
    diff = invoke([*ALL, "--diff", str(shown)])
    assert diff.exit_code in (0, 1), diff.output
    assert apply_unified_diff(shown, diff.stdout) == fixed, "--diff does not show what --fix writes"
    assert _files(shown) == original, "--diff wrote files"


def test_projects_exist() -> None:
    assert _projects(), f"no project under {PROJECTS}"
    assert set(KNOWN_BUGS) <= {p.name for p in _projects()}
