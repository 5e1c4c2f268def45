"""Configuration files and the command line on top, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import invoke

BAD = "FROM python:3.12\nRUN pip install numpy>=1.24 transformers\n"


def codes(result) -> list[str]:
    return [line.split()[1] for line in result.stdout.splitlines() if ": AIC" in line]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(BAD)
    return tmp_path


def lint(project: Path, *args: str):
    return invoke(["--output-format", "concise", *args, str(project)])


def test_no_config_uses_defaults(project: Path) -> None:
    assert sorted(set(codes(lint(project)))) == ["AIC101", "AIC201", "AIC302"]


def test_pyproject_table(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.aicache-lint]\nselect = ["AIC3"]\n')
    assert set(codes(lint(project))) == {"AIC302"}


def test_pyproject_without_table_is_skipped(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (project.parent / ".aicache-lint.toml").write_text('select = ["AIC1"]\n')
    try:
        assert set(codes(lint(project))) == {"AIC101"}
    finally:
        (project.parent / ".aicache-lint.toml").unlink()


def test_dot_file_wins_over_pyproject_and_nearest_applies(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.aicache-lint]\nselect = ["AIC3"]\n')
    (project / ".aicache-lint.toml").write_text('select = ["AIC2"]\n')
    (project / "svc" / "aicache-lint.toml").write_text('select = ["AIC101"]\n')
    out = lint(project).stdout
    assert f"{project / 'Dockerfile'}:2:29: AIC201" in out
    assert f"{project / 'svc' / 'Dockerfile'}:2:5: AIC101" in out
    assert "AIC302" not in out


def test_config_flag_and_isolated(project: Path, tmp_path_factory) -> None:
    (project / ".aicache-lint.toml").write_text('select = ["AIC2"]\n')
    other = tmp_path_factory.mktemp("cfg") / "team.toml"
    other.write_text('select = ["AIC3"]\n')
    assert set(codes(lint(project, "--config", str(other)))) == {"AIC302"}
    assert set(codes(lint(project, "--isolated"))) == {"AIC101", "AIC201", "AIC302"}
    missing = lint(project, "--config", str(project / "nope.toml"))
    assert missing.exit_code == 2 and "nope.toml: no such configuration file" in missing.stderr


def test_cli_overrides_the_file(project: Path) -> None:
    (project / ".aicache-lint.toml").write_text('select = ["AIC3"]\nignore = ["AIC201"]\n')
    # A command-line --select starts over, as in ruff: the file's select and ignore no longer apply.
    assert set(codes(lint(project, "--select", "AIC1,AIC2"))) == {"AIC101", "AIC201"}
    assert set(codes(lint(project, "--extend-select", "AIC101"))) == {"AIC101", "AIC302"}
    assert set(codes(lint(project, "--ignore", "AIC302"))) == set()


@pytest.mark.parametrize(
    "content, message",
    [
        ('selct = ["AIC1"]\n', "unknown key `selct`"),
        ('select = "AIC1"\n', "`select`: expected a list of rule codes or prefixes (strings), got 'AIC1'"),
        ('select = ["AIC9"]\n', "`select`: unknown rule code or prefix `AIC9`"),
        ("unsafe-fixes = 1\n", "`unsafe-fixes`: expected true or false, got 1"),
        ('output-format = "xml"\n', "`output-format`: expected one of text, concise, json"),
        ('[severity]\nAIC101 = "fatal"\n', "`severity.AIC101`: expected one of error, warning, info, got 'fatal'"),
        ('[severity]\nAIC777 = "error"\n', "`severity.AIC777`: unknown rule code"),
        ('[per-file-ignores]\n"legacy/*" = "AIC1"\n', "`per-file-ignores.legacy/*`: expected a list of rule codes"),
        ('[rules.AIC201]\nhf-home = 3\n', "`rules.AIC201.hf-home`: expected a str, got 3"),
        ('[rules.AIC201]\nhf_home = "/x"\n', "`rules.AIC201.hf_home`: unknown option (options of AIC201: hf-home)"),
        ('[rules.AIC999]\nx = 1\n', "`rules.AIC999`: unknown rule code"),
        ("select = [\n", "invalid TOML"),
    ],
)
def test_bad_configuration_is_a_clear_error(project: Path, content: str, message: str) -> None:
    config = project / ".aicache-lint.toml"
    config.write_text(content)
    result = lint(project)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{config}: " in result.stderr and message in result.stderr


def test_per_file_ignores(project: Path) -> None:
    (project / ".aicache-lint.toml").write_text('[per-file-ignores]\n"svc/*" = ["AIC1", "AIC201"]\n')
    out = lint(project).stdout
    assert f"{project / 'svc' / 'Dockerfile'}:2:5: AIC101" not in out
    assert f"{project / 'svc' / 'Dockerfile'}:2:17: AIC302" in out
    assert f"{project / 'Dockerfile'}:2:5: AIC101" in out


def test_unfixable_and_fixable(project: Path) -> None:
    (project / ".aicache-lint.toml").write_text('unfixable = ["AIC302"]\n')
    out = lint(project).stdout
    assert "AIC302 `numpy" in out and "AIC101 [*]" in out
    invoke(["--fix", str(project / "Dockerfile")])
    fixed = (project / "Dockerfile").read_text()
    assert "numpy>=1.24" in fixed and '"numpy>=1.24"' not in fixed and "--mount=type=cache" in fixed
    (project / ".aicache-lint.toml").write_text('fixable = ["AIC302"]\n')
    invoke(["--fix", str(project / "svc" / "Dockerfile")])
    assert (project / "svc" / "Dockerfile").read_text() == 'FROM python:3.12\nRUN pip install "numpy>=1.24" transformers\n'


def test_unsafe_fixes_from_config_and_cli_override(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM someorg/base:1\nRUN pip install numpy\n")  # unsafe: assumes root
    (tmp_path / ".aicache-lint.toml").write_text("unsafe-fixes = true\n")
    assert "AIC101 [*]" in lint(tmp_path).stdout
    assert "AIC101 [*]" not in lint(tmp_path, "--no-unsafe-fixes").stdout


def test_exclude_and_extend_exclude(project: Path) -> None:
    (project / ".aicache-lint.toml").write_text('extend-exclude = ["svc"]\n')
    assert str(project / "svc") not in lint(project).stdout
    (project / "node_modules").mkdir()
    (project / "node_modules" / "Dockerfile").write_text(BAD)
    (project / ".aicache-lint.toml").write_text('exclude = ["svc"]\n')  # replaces the defaults
    out = lint(project).stdout
    assert str(project / "svc") not in out and str(project / "node_modules") in out


def test_output_format_and_severity_from_config(project: Path) -> None:
    (project / ".aicache-lint.toml").write_text('output-format = "json"\n[severity]\nAIC101 = "error"\n')
    result = invoke([str(project / "Dockerfile")], )
    items = json.loads(result.stdout)
    assert {i["code"]: i["severity"] for i in items} == {"AIC101": "error", "AIC201": "warning", "AIC302": "error"}


def test_rule_options(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN pip install --no-cache-dir transformers\n")
    (tmp_path / "pyproject.toml").write_text('[tool.aicache-lint.rules.AIC201]\nhf-home = "/models/hf"\n')
    invoke(["--fix", str(tmp_path)])
    assert "ENV HF_HOME=/models/hf\n" in (tmp_path / "Dockerfile").read_text()


def test_show_settings(project: Path) -> None:
    (project / ".aicache-lint.toml").write_text('select = ["AIC1"]\nunsafe-fixes = true\n[rules.AIC201]\nhf-home = "/m"\n')
    result = invoke(["--show-settings", str(project / "Dockerfile")])
    assert result.exit_code == 0
    lines = dict(line.split(" = ", 1) for line in result.stdout.splitlines()[1:])
    assert json.loads(lines["config-file"]) == str(project / ".aicache-lint.toml")
    from aicache_lint.rules import ALL_RULES

    expected = [r.code for r in ALL_RULES if r.code.startswith("AIC1") and r.default_enabled]
    assert "AIC101" in expected and json.loads(lines["enabled"]) == expected
    assert json.loads(lines["unsafe-fixes"]) is True
    assert json.loads(lines["rules"]) == {"AIC201": {"hf-home": "/m"}}


def test_config_errors_in_a_real_subprocess(project: Path) -> None:
    import os
    import subprocess
    import sys

    import aicache_lint

    (project / "pyproject.toml").write_text("[tool.aicache-lint]\nignore = [1]\n")
    env = {**os.environ, "PYTHONPATH": str(Path(aicache_lint.__file__).parent.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "aicache_lint.cli", "."], cwd=project, capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2
    assert "pyproject.toml: `ignore`: expected a list of rule codes or prefixes (strings), got [1]" in done.stderr


def test_search_stops_at_the_repository_root(project: Path) -> None:
    (project.parent / ".aicache-lint.toml").write_text('select = ["AIC3"]\n')
    try:
        assert set(codes(lint(project))) == {"AIC302"}  # no repository: the search goes up
        (project / ".git").mkdir()
        assert set(codes(lint(project))) == {"AIC101", "AIC201", "AIC302"}
    finally:
        (project.parent / ".aicache-lint.toml").unlink()
