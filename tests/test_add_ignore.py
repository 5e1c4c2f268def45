"""--add-ignore: after it, a plain run is clean (but for what can never be suppressed), on
Dockerfiles and Compose files alike; running it again changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from buildkit_oracle import assert_matches_buildkit, available
from cli_runner import invoke
from fixture_cases import Case, all_cases, case_source
from validity import assert_compose_schema, assert_valid

from aicache_lint.add_ignore import add_ignores
from aicache_lint.discovery import file_kind
from aicache_lint.engine import check_source
from aicache_lint.finding import Violation
from aicache_lint.rules import BY_CODE
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText, Span

ROOT = Path(__file__).resolve().parent.parent
EVERY_RULE = ",".join(sorted(BY_CODE))  # opt-in rules too


def _adopt(tmp_path: Path, *args: str):
    """--add-ignore over ``tmp_path``, then a plain run: both results."""
    first = invoke(["--add-ignore=adopt", *args, str(tmp_path)])
    second = invoke(["--output-format", "concise", *args, str(tmp_path)])
    return first, second


def test_issue_reproduction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\n# aicache-lint: ignore=AIC302 old\nRUN pip install --no-cache-dir flask\n"
    )
    (tmp_path / "compose.yaml").write_text("services:\n  llm:\n    image: vllm/vllm-openai:v0.6.3\n")
    monkeypatch.chdir(tmp_path)
    first = invoke(["--add-ignore=adopt", "."])
    assert first.exit_code == 0, first.output
    assert "Added 2 suppressions to 2 files; removed 1 stale suppression." in first.stderr
    second = invoke(["."])
    assert second.exit_code == 0, second.output
    # The stale AIC302 went with its comment (all of it was stale); AIC101 got its own line.
    assert (tmp_path / "Dockerfile").read_text() == (
        "FROM python:3.12-slim\n# aicache-lint: ignore=AIC101 adopt\nRUN pip install --no-cache-dir flask\n"
    )
    assert (tmp_path / "compose.yaml").read_text() == (
        "services:\n  # aicache-lint: ignore=AIC401 adopt\n  llm:\n    image: vllm/vllm-openai:v0.6.3\n"
    )
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    again = invoke(["--add-ignore=adopt", "."])
    assert again.exit_code == 0 and "Added 0 suppressions to 0 files." in again.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ------------------------------------------------------------------ (a) stale suppressions


def test_merges_only_into_what_still_suppresses_something(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM python:3.12\n"
        "# aicache-lint: ignore=AIC302,AIC777 pinned by the wheelhouse\n"
        "RUN pip install numpy>=1.24\n"
        "# aicache-lint: ignore=AIC101 no longer installs anything\n"
        "RUN echo hi\n"
    )
    first, second = _adopt(tmp_path)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert path.read_text() == (
        "FROM python:3.12\n"
        "# aicache-lint: ignore=AIC302,AIC101 pinned by the wheelhouse\n"
        "RUN pip install numpy>=1.24\n"
        "RUN echo hi\n"
    )
    assert "Added 1 suppression to 1 file; removed 2 stale suppressions." in first.stderr


def test_a_suppression_that_applies_to_nothing_goes(tmp_path: Path) -> None:
    """Detached by a blank line, or at the end of the file (whose missing final newline stays
    missing): AIC002 has no fix for it, since where it belonged is unknown; the finding under it
    gets its own suppression."""
    path = tmp_path / "Dockerfile"
    path.write_bytes(
        b"FROM python:3.12\r\n# aicache-lint: ignore=AIC101 wheelhouse\r\n\r\nRUN pip install flask\r\n"
        b"# aicache-lint: ignore=AIC101"
    )
    first, second = _adopt(tmp_path)
    assert second.exit_code == 0, second.output
    assert path.read_bytes() == (
        b"FROM python:3.12\r\n\r\n# aicache-lint: ignore=AIC101 adopt\r\nRUN pip install flask"
    )
    assert "removed 2 stale suppressions" in first.stderr


# ------------------------------------------------------------------ (b) Compose files

COMPOSE = """\
services:
  llm: {
    image: "vllm/vllm-openai:v0.6.3",
    volumes: [models:/models]
  }
  web:
    image: nginx
    environment:
      - HF_HOME=/data/hf
      - "TRANSFORMERS_CACHE=/data/hf/
        hub"
    volumes:
      - type: volume
        source: cache
        target: /cache
  api:
    image: nginx
    environment: {A: "x
      y", HF_HOME: /data/hf}
"""


def test_compose_suppressions_go_above_the_innermost_key_or_item(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(COMPOSE)
    first, second = _adopt(tmp_path)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert path.read_text() == (
        "services:\n"
        "  # aicache-lint: ignore=AIC401 adopt\n"  # the service key (the finding's own line)
        "  llm: {\n"
        '    image: "vllm/vllm-openai:v0.6.3",\n'
        "    # aicache-lint: ignore=AIC404 adopt\n"  # a key inside a flow mapping
        "    volumes: [models:/models]\n"
        "  }\n"
        "  web:\n"
        "    image: nginx\n"
        "    environment:\n"
        "      # aicache-lint: ignore=AIC402 adopt\n"  # a list item
        "      - HF_HOME=/data/hf\n"
        "      # aicache-lint: ignore=AIC203 adopt\n"  # a list item holding a multi-line scalar
        '      - "TRANSFORMERS_CACHE=/data/hf/\n'
        '        hub"\n'
        "    volumes:\n"
        "      # aicache-lint: ignore=AIC404 adopt\n"  # an item that is a mapping
        "      - type: volume\n"
        "        source: cache\n"
        "        target: /cache\n"
        "  api:\n"
        "    image: nginx\n"
        # `HF_HOME` starts a line inside the quoted scalar: a comment above it would change the value.
        "    # aicache-lint: ignore=AIC402 adopt\n"
        '    environment: {A: "x\n'
        '      y", HF_HOME: /data/hf}\n'
    )
    assert_compose_schema(path.read_text())


def test_compose_keeps_crlf_bom_indent_and_merges(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_bytes(
        b"\xef\xbb\xbfservices:\r\n"
        b"    # aicache-lint: ignore=AIC404,AIC999 legacy service\r\n"
        b"    llm:\r\n"
        b"        image: vllm/vllm-openai:v0.6.3\r\n"
        b"        volumes:\r\n"
        b"        - models:/models\r\n"
        b"    web:\r\n"
        b"        image: nginx\r\n"
        b"        volumes:\r\n"
        b"        - other:/other"
    )
    first, second = _adopt(tmp_path)
    assert second.exit_code == 0, second.output
    assert path.read_bytes() == (
        b"\xef\xbb\xbfservices:\r\n"
        b"    # aicache-lint: ignore=AIC404,AIC401 legacy service\r\n"
        b"    llm:\r\n"
        b"        image: vllm/vllm-openai:v0.6.3\r\n"
        b"        volumes:\r\n"
        b"        - models:/models\r\n"
        b"    web:\r\n"
        b"        image: nginx\r\n"
        b"        volumes:\r\n"
        b"        # aicache-lint: ignore=AIC404 adopt\r\n"
        b"        - other:/other"
    )


def test_compose_project_findings_go_into_the_file_they_lie_in(tmp_path: Path) -> None:
    """compose.yaml and compose.override.yaml are one project: each finding is written where it lies."""
    base, override = tmp_path / "compose.yaml", tmp_path / "compose.override.yaml"
    base.write_text("services:\n  llm:\n    image: vllm/vllm-openai:v0.6.3\n    volumes:\n      - models:/models\n")
    override.write_text(
        "services:\n  llm:\n    environment:\n      HF_HOME: /data/hf\n    volumes:\n      - other:/other\n"
    )
    first, second = _adopt(tmp_path)
    assert second.exit_code == 0, second.output
    assert base.read_text() == (
        "services:\n  llm:\n    image: vllm/vllm-openai:v0.6.3\n    volumes:\n"
        "      # aicache-lint: ignore=AIC404 adopt\n      - models:/models\n"
    )
    assert override.read_text() == (
        "services:\n  llm:\n    environment:\n      # aicache-lint: ignore=AIC402 adopt\n      HF_HOME: /data/hf\n"
        "    volumes:\n      # aicache-lint: ignore=AIC404 adopt\n      - other:/other\n"
    )


# ------------------------------------------------------------------ (c) findings no instruction holds


def test_misplaced_syntax_line_is_silenced_for_the_file_below_the_directives(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "#!/usr/bin/env -S docker build . --file\n"
        "# syntax=docker/dockerfile:experimental\n"
        "# escape=\\\n"
        "# Team base image.\n"
        "# syntax=docker/dockerfile:1\n"
        "    FROM python:3.12-slim\n"
        "# syntax=docker/dockerfile:1.7\n"
        "RUN pip install flask\n"
    )
    first, second = _adopt(tmp_path)
    assert second.exit_code == 0, second.output
    assert path.read_text() == (
        "#!/usr/bin/env -S docker build . --file\n"
        "# syntax=docker/dockerfile:experimental\n"
        "# escape=\\\n"
        "# Team base image.\n"
        "# syntax=docker/dockerfile:1\n"
        "# aicache-lint: ignore-file=AIC130 adopt\n"
        "    FROM python:3.12-slim\n"
        "# syntax=docker/dockerfile:1.7\n"
        "# aicache-lint: ignore=AIC101 adopt\n"
        "RUN pip install flask\n"
    )
    if available():
        assert_matches_buildkit(path.read_text())


def test_directive_block_stays_whole_and_ignore_file_merges(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "# syntax=docker/dockerfile:experimental\n"
        "# aicache-lint: ignore-file=AIC302 numpy pins come from the lock file\n"
        "FROM python:3.12-slim\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install numpy>=1.24\n"
    )
    first, second = _adopt(tmp_path)
    assert second.exit_code == 0, second.output
    assert path.read_text().splitlines()[:3] == [
        "# syntax=docker/dockerfile:experimental",
        "# aicache-lint: ignore-file=AIC302,AIC130 numpy pins come from the lock file",
        "FROM python:3.12-slim",
    ]
    if available():
        assert_matches_buildkit(path.read_text())


def _report_at_file_start(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Make rule ``code`` also report the whole file, at offset 0 (as a file-level rule would)."""
    rule = BY_CODE[code]
    check = rule.check

    def check_and_report_file(self, ctx):
        yield from check(self, ctx)
        yield Violation(Span(0, 0), "the whole file")

    monkeypatch.setattr(rule, "check", check_and_report_file)


def test_finding_at_the_start_of_the_file_is_silenced_for_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offset 0 lies in the first instruction -- until a comment line goes above it. A result that
    would leave it uncovered (or its suppression unused) puts the code in `ignore-file` instead."""
    _report_at_file_start(monkeypatch, "AIC302")
    _report_at_file_start(monkeypatch, "AIC404")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN pip install numpy>=1.24\n")
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    image: app\n    volumes: [models:/models]\n")
    first, second = _adopt(tmp_path)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert (tmp_path / "Dockerfile").read_text() == (
        "# aicache-lint: ignore-file=AIC302 adopt\n"
        "FROM python:3.12\n"
        "# aicache-lint: ignore=AIC101 adopt\n"
        "RUN pip install numpy>=1.24\n"
    )
    assert (tmp_path / "compose.yaml").read_text() == (
        "# aicache-lint: ignore-file=AIC404 adopt\n"
        "services:\n  app:\n    image: app\n    volumes: [models:/models]\n"
    )


# ------------------------------------------------------------------ what cannot be suppressed


def test_parse_read_and_internal_errors_are_reported_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM python:3.12\nRUNN pip install flask\nRUN pip install flask\n")
    (tmp_path / "compose.yaml").write_text("services: [\n")
    (tmp_path / "Dockerfile.latin1").write_bytes(b"FROM python:3.12\n# caf\xe9\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    first = invoke(["--add-ignore=adopt", str(tmp_path)])
    assert first.exit_code == 1, first.output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing it could not parse was edited
    assert f"{broken}:2:1: AIC001 " in first.stderr
    assert f"{broken}:3:5: AIC101 " in first.stderr  # left: its file does not parse
    assert f"{tmp_path / 'compose.yaml'}:2:1: AIC001 " in first.stderr
    assert f"{tmp_path / 'Dockerfile.latin1'}:1:1: AIC003 cannot read file" in first.stderr
    assert (
        "4 findings were not suppressed: internal (AIC000), parse (AIC001) and read (AIC003) errors never are"
    ) in first.stderr

    # A rule that fails: the others' findings are still suppressed; the failure is shown, exit 2.
    for path in list(tmp_path.iterdir()):
        path.unlink()
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN pip install numpy>=1.24\n")

    def fail(self, ctx):
        raise RuntimeError("boom")
        yield

    monkeypatch.setattr(BY_CODE["AIC302"], "check", fail)
    first, second = _adopt(tmp_path)
    assert first.exit_code == 2 and second.exit_code == 2
    assert "AIC000 rule AIC302 failed: RuntimeError: boom" in first.stderr
    assert "1 finding was not suppressed" in first.stderr
    assert [line.split()[1] for line in second.stdout.splitlines() if ": AIC" in line] == ["AIC000"]


# ------------------------------------------------------------------ command line


def test_diff_shows_what_would_be_added_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM python:3.12\nRUN pip install flask\n")
    result = invoke(["--add-ignore=adopt", "--diff", str(tmp_path)])
    assert result.exit_code == 1, result.output  # like --diff: 1 when something would change
    assert result.stdout == (
        f"--- {path}\n+++ {path}\n@@ -1,2 +1,3 @@\n FROM python:3.12\n"
        "+# aicache-lint: ignore=AIC101 adopt\n RUN pip install flask\n"
    )
    assert "Would add 1 suppression to 1 file." in result.stderr
    assert path.read_text() == "FROM python:3.12\nRUN pip install flask\n"
    assert invoke(["--add-ignore", str(tmp_path)]).exit_code == 0
    again = invoke(["--add-ignore", "--diff", str(tmp_path)])
    assert again.exit_code == 0 and again.stdout == "" and "Would add 0 suppressions to 0 files." in again.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--add-ignore", "--fix"], "--add-ignore cannot be combined with --fix: run `--fix` first"),
        (["--add-ignore", "--statistics"], "--add-ignore cannot be combined with --statistics"),
        (["--add-ignore=one\ntwo"], "the --add-ignore reason must be a single line"),
        (["--add-ignore=one\u2028two"], "the --add-ignore reason must be a single line"),
    ],
)
def test_add_ignore_refuses_what_it_cannot_do(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN pip install flask\n")
    result = invoke([*args, str(tmp_path)])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert (tmp_path / "Dockerfile").read_text() == "FROM python:3.12\nRUN pip install flask\n"


# ------------------------------------------------------------------ every fixture, example and corpus file

# JSON files take no comments: per-file ignores serve them.
FAIL_CASES = [c for c in all_cases() if not c.passes and c.kind not in ("daemon", "bake-json")]


def _layout(source: SourceText) -> tuple:
    return source.bom, source.final_newline, "\r\n" in source.text, source.text.count("\r") - source.text.count("\r\n")


@pytest.mark.parametrize("case", FAIL_CASES, ids=lambda c: c.id)
def test_every_fixture_case_is_clean_after_add_ignore(case: Case, tmp_path: Path) -> None:
    """Every rule on (opt-in ones too): the result lints clean, keeps its layout, still parses
    (BuildKit) or validates (Compose schema), and a second --add-ignore changes nothing."""
    source = case_source(case, tmp_path)
    settings = Settings(select=tuple(BY_CODE), rule_options={case.rule: case.config})
    outcome = add_ignores(source, settings, "adopt")
    assert outcome.changed
    assert check_source(outcome.source, settings) == outcome.findings == []
    assert _layout(outcome.source) == _layout(source)
    assert not add_ignores(outcome.source, settings, "adopt").changed
    assert_valid(outcome.source, case.kind)


def test_examples_and_corpus_are_clean_after_add_ignore(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "tests" / "corpus", tmp_path / "corpus")
    select = ["--select", EVERY_RULE]
    first, second = _adopt(tmp_path, *select)
    # daemon.json is JSON: no comment can hold a suppression, so its findings stay and say where to go.
    daemon = "examples/registry-cache/daemon.json"
    assert first.exit_code == 1, first.output
    assert "3 findings were not suppressed" in first.stderr and "`per-file-ignores`" in first.stderr
    left = {line.split(":")[0] for line in second.stdout.splitlines() if ": AIC" in line}
    assert left == {str(tmp_path / daemon)}, second.output
    (tmp_path / "aicache-lint.toml").write_text(f'[per-file-ignores]\n"{daemon}" = ["AIC5"]\n')
    assert invoke(["--output-format", "concise", *select, str(tmp_path)]).exit_code == 0
    again = invoke(["--add-ignore=adopt", *select, str(tmp_path)])
    assert "Added 0 suppressions to 0 files." in again.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "aicache-lint.toml"]
    changed = [p for p in files if p.read_bytes() != (ROOT / _origin(p, tmp_path)).read_bytes()]
    assert len(changed) >= 25, changed  # every example and corpus file with findings
    for path in changed:
        assert_valid(SourceText.decode(path.read_bytes(), str(path)), file_kind(str(path)))


def _origin(copy: Path, tmp_path: Path) -> Path:
    relative = copy.relative_to(tmp_path)
    return Path("tests", *relative.parts) if relative.parts[0] == "corpus" else relative
