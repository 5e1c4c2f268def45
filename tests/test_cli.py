"""The command line: output formats, exit codes, fixing, stdin, bad input -- in-process and as a
real subprocess."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import invoke
from import_cost import imports_of

BAD = "FROM python:3.12\nRUN pip install numpy>=1.24\n"
FIXED = 'FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install "numpy>=1.24"\n'
CLEAN = "FROM python:3.12\nRUN echo hello\n"


def run(args, input=None):
    return invoke(args, input=input)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile.gpu").write_text(CLEAN)
    (tmp_path / "README.md").write_text("RUN pip install numpy>=1\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "Dockerfile").write_text(BAD)
    return tmp_path


def test_concise_output_and_exit_code(repo: Path) -> None:
    result = run(["--output-format", "concise", str(repo)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    path = os.path.join(str(repo), "Dockerfile")
    assert lines[0] == f"{path}:2:5: AIC101 [*] `pip` downloads packages with no cache mount at `/root/.cache/pip`: every rebuild re-downloads them"
    assert lines[1].startswith(f"{path}:2:17: AIC302 [*] `numpy>=1.24` is not quoted")
    assert lines[2] == "Found 2 errors."
    assert lines[3] == "[*] 2 fixable with the `--fix` option."
    assert "node_modules" not in result.output


def test_clean_file_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN)
    result = run([str(tmp_path)])
    assert result.exit_code == 0
    assert result.output == "All checks passed!\n"


def test_fix_writes_atomically_and_keeps_mode(repo: Path) -> None:
    target = repo / "Dockerfile"
    target.chmod(0o640)
    result = run(["--fix", str(repo)])
    assert result.exit_code == 0
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "Found 2 errors (2 fixed, 0 remaining)." in result.output
    assert not [p for p in repo.iterdir() if p.name.startswith(".aicache-lint-")]
    assert run(["--fix", str(repo)]).output == "All checks passed!\n"


def test_diff_writes_nothing(repo: Path) -> None:
    result = run(["--diff", str(repo)])
    assert result.exit_code == 1
    assert '+RUN --mount=type=cache,target=/root/.cache/pip pip install "numpy>=1.24"' in result.output
    assert (repo / "Dockerfile").read_text() == BAD


def test_diff_marks_a_last_line_without_newline(tmp_path: Path) -> None:
    """As `diff` does, so `patch` applies the output and the next line does not run into it."""
    (tmp_path / "Dockerfile").write_text(BAD.rstrip("\n"))
    result = run(["--diff", str(tmp_path / "Dockerfile")])
    assert result.stdout.endswith(
        '+RUN --mount=type=cache,target=/root/.cache/pip pip install "numpy>=1.24"\n\\ No newline at end of file\n'
    ), result.stdout
    assert "-RUN pip install numpy>=1.24\n\\ No newline at end of file\n" in result.stdout


def test_a_subcommand_after_an_option_is_a_usage_error(repo: Path, monkeypatch) -> None:
    monkeypatch.chdir(repo)
    result = run(["--isolated", "graph", "."])
    assert result.exit_code == 2
    assert "`graph` is a subcommand and comes first: `aicache-lint graph [OPTIONS] ...`" in result.output
    (repo / "rules").write_text("FROM python:3.12\n")  # a file of that name is linted as usual
    assert run(["--isolated", "--output-format", "concise", "rules"]).exit_code == 0


def test_select_and_ignore(repo: Path) -> None:
    assert "AIC101" not in run(["--select", "AIC3", str(repo)]).output
    out = run(["--ignore", "AIC3", str(repo)]).output
    assert "AIC101" in out and "AIC302" not in out
    assert run(["--select", "AIC1", "--ignore", "AIC101", str(repo)]).exit_code == 0


def test_unknown_selector_is_a_usage_error(repo: Path) -> None:
    result = run(["--select", "XYZ", str(repo)])
    assert result.exit_code == 2
    assert "unknown rule selector `XYZ`" in result.output


def test_exit_zero(repo: Path) -> None:
    assert run(["--exit-zero", str(repo)]).exit_code == 0


def test_json_output_has_every_field(repo: Path) -> None:
    result = run(["--output-format", "json", str(repo / "Dockerfile")])
    items = json.loads(result.output)
    assert [i["code"] for i in items] == ["AIC101", "AIC302"]
    quote = items[1]
    assert set(quote) == {"cell", "code", "name", "severity", "message", "filename", "location",
                          "end_location", "fix", "noqa_row", "url"}
    assert quote["location"] == {"row": 2, "column": 17}
    assert quote["end_location"] == {"row": 2, "column": 28}
    assert quote["severity"] == "error" and quote["name"] == "unquoted-version-specifier"
    assert quote["fix"] == {
        "applicability": "safe",
        "message": 'Quote `"numpy>=1.24"`',
        "edits": [{"content": '"numpy>=1.24"', "location": {"row": 2, "column": 17}, "end_location": {"row": 2, "column": 28}}],
    }
    assert quote["url"].endswith("/rules/AIC302.md")


def test_unsafe_fix_is_hidden_until_asked(tmp_path: Path) -> None:
    # The base image is not a known one: mounting at /root/.cache/pip assumes it runs as root.
    (tmp_path / "Dockerfile").write_text("FROM someorg/base:1\nRUN pip install numpy\n")
    result = run(["--output-format", "concise", str(tmp_path)])
    assert "AIC101 `pip`" in result.output  # no [*]: the fix is unsafe
    assert "(1 hidden fix can be enabled with the `--unsafe-fixes` option.)" in result.output
    assert "AIC101 [*]" in run(["--output-format", "concise", "--unsafe-fixes", str(tmp_path)]).output


def test_stdin(tmp_path: Path) -> None:
    result = run(["-", "--stdin-filename", "svc/Dockerfile", "--output-format", "concise"], input=BAD)
    assert result.exit_code == 1
    assert result.output.startswith("svc/Dockerfile:2:5: AIC101")


def test_stdin_fix_prints_fixed_text() -> None:
    result = run(["--fix", "-"], input=BAD)
    assert result.stdout == FIXED
    assert result.exit_code == 0


def test_bad_files_are_reported_and_the_rest_is_linted(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"FROM a\nRUN echo \xff\xfe\n")
    (tmp_path / "Dockerfile.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "Dockerfile.ok").write_text(BAD)
    result = run(["--output-format", "concise", str(tmp_path), str(tmp_path / "missing")])
    assert result.exit_code == 1
    out = result.output
    assert f"{tmp_path / 'Dockerfile'}:1:1: AIC003 cannot read file: file is not valid UTF-8" in out
    assert f"{tmp_path / 'Dockerfile.bin'}:1:1: AIC003 cannot read file: file is binary" in out
    assert f"{tmp_path / 'missing'}:1:1: AIC003 cannot read path: no such file or directory" in out
    assert f"{tmp_path / 'Dockerfile.ok'}:2:5: AIC101" in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    path = tmp_path / "Dockerfile"
    path.write_text(BAD)
    path.chmod(0)
    assert "AIC003 cannot read file" in run([str(tmp_path)]).output


def test_parse_error_blocks_fixes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nRUNN x\nRUN pip install torch\n")
    result = run(["--fix", str(tmp_path)])
    assert "AIC001 unknown instruction: RUNN" in result.output
    assert (tmp_path / "Dockerfile").read_text() == "FROM a\nRUNN x\nRUN pip install torch\n"
    assert result.exit_code == 1


def test_rule_command() -> None:
    result = run(["rule", "AIC101"])
    assert result.exit_code == 0
    assert result.output.startswith("# AIC101 `pip-cache-not-mounted`")
    assert "## Fix safety" in result.output
    assert run(["rule", "hf-home-not-set"]).output.startswith("# AIC201")
    bad = run(["rule", "AIC999"])
    assert bad.exit_code == 2 and "unknown rule `AIC999`" in bad.output


def test_rules_table() -> None:
    out = run(["rules"]).output.splitlines()
    assert out[0].split() == ["code", "name", "severity", "default", "fix"]
    assert any(line.startswith("AIC302  unquoted-version-specifier") for line in out)


def _subprocess(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    import aicache_lint

    env = {**os.environ, "PYTHONPATH": str(Path(aicache_lint.__file__).parent.parent)}
    return subprocess.run(
        [sys.executable, "-c", "from aicache_lint.cli import main; main()", *args],
        cwd=cwd, input=input, capture_output=True, text=True, timeout=120, env=env,
    )


def test_real_subprocess(repo: Path) -> None:
    done = _subprocess(".", "--output-format", "concise", cwd=repo)
    assert done.returncode == 1
    assert done.stdout.startswith("Dockerfile:2:5: AIC101")
    done = _subprocess("rule", "AIC302", cwd=repo)
    assert done.returncode == 0 and "unquoted-version-specifier" in done.stdout
    done = _subprocess("--output-format", "yaml", cwd=repo)
    assert done.returncode == 2 and "argument --output-format: invalid choice: 'yaml'" in done.stderr
    done = _subprocess("--version", cwd=repo)
    assert done.returncode == 0 and done.stdout.startswith("aicache-lint ")


def test_many_files_in_parallel_match_serial(tmp_path: Path) -> None:
    for i in range(24):
        (tmp_path / f"svc{i:02d}.Dockerfile").write_text(BAD if i % 2 else CLEAN)
    serial = run(["--jobs", "1", str(tmp_path)]).output
    parallel = run(["--jobs", "2", str(tmp_path)]).output
    assert serial == parallel
    assert "Found 24 errors." in serial


def test_usage_errors_exit_2(repo: Path) -> None:
    result = run(["-", str(repo)])
    assert result.exit_code == 2
    assert "usage error: aicache-lint: `-` (standard input) cannot be combined with other paths" in result.stderr
    result = run(["rule"])
    assert result.exit_code == 2 and "name a rule code" in result.stderr
    assert run(["--jobs", "0", str(repo)]).exit_code == 2
    assert run(["--no-such-flag"]).exit_code == 2


def test_help_exits_zero(capsys) -> None:
    assert run(["--help"]).exit_code == 0
    assert "--unsafe-fixes" in capsys.readouterr().out


def test_every_output_format_through_the_cli(repo: Path) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json").read_text())
    dockerfile = str(repo / "Dockerfile")
    sarif = json.loads(run(["--output-format", "sarif", dockerfile]).stdout)
    jsonschema.Draft7Validator(schema).validate(sarif)
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    for result in sarif["runs"][0]["results"]:
        assert rules[result["ruleId"]]["help"]["markdown"]
    lines = run(["--output-format", "json-lines", dockerfile]).stdout.splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["AIC101", "AIC302"]
    github = run(["--output-format", "github", dockerfile]).stdout.splitlines()
    assert github[0].startswith("::warning file=") and ",line=2,col=5," in github[0]
    gitlab = json.loads(run(["--output-format", "gitlab", dockerfile]).stdout)
    assert [g["check_name"] for g in gitlab] == ["AIC101", "AIC302"]
    text = run([dockerfile]).stdout
    assert "2 | RUN pip install numpy>=1.24" in text and "= help: Mount a pip cache at /root/.cache/pip" in text


def test_output_file(repo: Path, tmp_path_factory) -> None:
    target = tmp_path_factory.mktemp("out") / "report.sarif"
    result = run(["--output-format", "sarif", "--output-file", str(target), str(repo)])
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"


def test_statistics(repo: Path) -> None:
    result = run(["--statistics", str(repo)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "count  code    fixable  name",
        "    1  AIC101        1  pip-cache-not-mounted",
        "    1  AIC302        1  unquoted-version-specifier",
    ]


def test_show_fixes(repo: Path) -> None:
    result = run(["--fix", "--show-fixes", "--output-format", "concise", str(repo)])
    assert result.exit_code == 0
    path = os.path.join(str(repo), "Dockerfile")
    assert result.stdout.splitlines()[:4] == [
        "Fixed 2 errors:",
        f"- {path}:",
        "    1 × AIC101 (pip-cache-not-mounted)",
        "    1 × AIC302 (unquoted-version-specifier)",
    ]


def test_rule_all_and_sarif_in_a_real_subprocess(repo: Path) -> None:
    done = _subprocess("rule", "--all", cwd=repo)
    assert done.returncode == 0 and done.stdout.count("## What it does") >= 6
    done = _subprocess("--output-format", "sarif", ".", cwd=repo)
    assert done.returncode == 1
    run_ = json.loads(done.stdout)["runs"][0]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run_["results"]} == {"Dockerfile"}


def test_compose_files_are_discovered_and_broken_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    image: 'python:3.12\n")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "docker-compose.override.yml").write_text("services:\n  app:\n    image: python:3.12\n")
    (tmp_path / "composer.yml").write_text("not: [a compose file\n")
    result = run(["--output-format", "concise", str(tmp_path)])
    assert result.exit_code == 1
    out = result.stdout
    assert f"{tmp_path / 'compose.yaml'}:3:12: AIC001" in out
    assert f"{tmp_path / 'Dockerfile'}:2:5: AIC101" in out
    assert "docker-compose.override.yml" not in out and "composer.yml" not in out
    assert run(["--output-format", "concise", str(tmp_path / "deploy")]).stdout == "All checks passed!\n"


def test_yaml_is_not_imported_for_dockerfiles(repo: Path) -> None:
    """Linting a Dockerfile loads no Compose, network or other report code, and neither yaml nor
    sarif_om (--isolated: a configuration file above tmp_path would load a TOML reader)."""
    loaded = imports_of(
        "import io; from aicache_lint.cli import run; run(['--isolated', 'Dockerfile'], stdout=io.StringIO())", cwd=repo
    )
    loaded.assert_cheap()
    assert "aicache_lint.rules.dockerfile.aic101_pip_cache_not_mounted" in loaded.ours  # the lint did run
    text_report = {"aicache_lint.report._common", "aicache_lint.report.concise", "aicache_lint.report.text"}
    unneeded = ("aicache_lint.compose", "aicache_lint.registry", "aicache_lint.report.", "aicache_lint.impact",
                "aicache_lint.knowledge.sizes")
    assert sorted(m for m in loaded.ours - text_report if m.startswith(unneeded)) == []
    # Only the rules that run on a Dockerfile by default (with AIC001, which reports its parse errors),
    # and of those only the ones whose words the file holds (RuleEntry.words).
    assert _rule_modules(loaded.ours) == _rule_modules_for("dockerfile", (repo / "Dockerfile").read_text())
    assert not any(m.startswith("aicache_lint.rules.compose.") for m in loaded.ours)


def test_compose_lint_imports_only_compose_rules(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    image: ollama/ollama\n")
    loaded = imports_of(
        "import io; from aicache_lint.cli import run; run(['--isolated', 'compose.yaml'], stdout=io.StringIO())", cwd=tmp_path
    )
    assert "aicache_lint.rules.compose.aic401_model_cache_not_persisted" in loaded.ours  # the lint did run
    # The Compose rules and AIC203 (it checks both kinds of file); no Dockerfile-only rule.
    assert _rule_modules(loaded.ours) == _rule_modules_for("compose")
    assert _rule_modules(loaded.ours) & _rule_modules_for("dockerfile") == {
        "aicache_lint.rules.dockerfile.aic203_deprecated_hf_cache_variable"}


def _rule_modules(modules) -> set[str]:
    return {m for m in modules if m.startswith("aicache_lint.rules.") and m.count(".") == 3}


def _rule_modules_for(target: str, text: str | None = None) -> set[str]:
    """The modules of the rules enabled by default for ``target`` (that can report on ``text``)."""
    from importlib.util import resolve_name

    from aicache_lint.rules import RULES

    return {resolve_name(e.module, "aicache_lint.rules") for e in RULES
            if e.default_enabled and target in e.targets
            and (text is None or not e.words or any(w in text.lower() for w in e.words))}


def test_a_cuda_dockerfile_loads_nothing_heavy(tmp_path: Path) -> None:
    """AIC303/AIC304 read the bundled CUDA tag table: from the package's directory, not through
    importlib.resources (15 ms of the run)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\nRUN pip install torch\n")
    loaded = imports_of(
        "import io; from aicache_lint.cli import run; run(['--isolated', 'Dockerfile'], stdout=io.StringIO())",
        cwd=tmp_path)
    assert "aicache_lint.images.cuda" in loaded.ours  # the table was read
    loaded.assert_cheap()


def test_a_warm_run_parses_nothing(tmp_path: Path) -> None:
    """A second run over an unchanged file answers from the result cache: no parser, no rule."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . .\nRUN pip install torch\n")
    code = ("import io, os; os.environ.pop('AICACHE_LINT_NO_CACHE', None); "
            f"os.environ['AICACHE_LINT_CACHE_DIR'] = {str(tmp_path / 'user-cache')!r}; "
            "from aicache_lint.cli import run; run(['--isolated', 'Dockerfile'], stdout=io.StringIO())")
    cold = imports_of(code, cwd=tmp_path)
    warm = imports_of(code, cwd=tmp_path)
    assert (tmp_path / "user-cache" / "results").is_dir()
    assert "aicache_lint.dockerfile.lexer" in cold.ours
    assert not {m for m in warm.ours if m.startswith(("aicache_lint.dockerfile.", "aicache_lint.rules.dockerfile"))}
    assert "aicache_lint.result_cache" in warm.ours


def test_a_reader_that_goes_away_gets_no_traceback(repo: Path, monkeypatch) -> None:
    """`aicache-lint . | head`: standard output is a pipe whose reader has gone (every write fails
    with EPIPE); the run ends with exit code 1 and no BrokenPipeError."""
    from aicache_lint import cli as cli_module

    read_end, write_end = os.pipe()
    os.close(read_end)
    closed = open(write_end, "w", encoding="utf-8", buffering=1)
    monkeypatch.setattr(sys, "stdout", closed)
    monkeypatch.chdir(repo)
    with pytest.raises(SystemExit) as exit_:
        cli_module.main(["--isolated", "--no-cache", "Dockerfile"])
    assert exit_.value.code == 1
