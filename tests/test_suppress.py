"""Suppression comments, AIC002 unused-suppression, and --add-ignore, as a user runs them."""

from __future__ import annotations

from pathlib import Path

from cli_runner import invoke


def lint(path: Path, *args: str):
    return invoke(["--output-format", "concise", *args, str(path)])


def found(path: Path, *args: str) -> list[tuple[int, str]]:
    out = lint(path, *args).stdout
    return [(int(line.split(":")[1]), line.split()[1]) for line in out.splitlines() if ": AIC" in line]


def write(tmp_path: Path, text: str, newline: str = "\n") -> Path:
    path = tmp_path / "Dockerfile"
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def test_ignore_above_an_instruction(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "FROM python:3.12\n"
        "# aicache-lint: ignore=AIC101 installs from a local wheelhouse\n"
        "RUN pip install numpy>=1.24\n"
        "RUN pip install requests\n"
    ))
    assert found(path) == [(3, "AIC302"), (4, "AIC101")]


def test_comment_block_several_codes_and_heredoc_body(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "FROM python:3.12\n"
        "# Why: the wheelhouse is baked in.\n"
        "# aicache-lint: ignore=AIC101,AIC302\n"
        "RUN <<EOF\n"
        "pip install numpy>=1.24\n"
        "EOF\n"
    ))
    assert found(path) == []


def test_blank_line_detaches_the_comment(tmp_path: Path) -> None:
    path = write(tmp_path, "FROM python:3.12\n# aicache-lint: ignore=AIC101\n\nRUN pip install requests\n")
    out = lint(path).stdout
    assert f"{path}:2:1: AIC002 suppression is not directly above an instruction or key" in out
    assert f"{path}:4:5: AIC101" in out


def test_ignore_file_in_the_top_block_only(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "# syntax=docker/dockerfile:1\n"
        "# Team base image.\n"
        "# aicache-lint: ignore-file=AIC101\n"
        "FROM python:3.12\n"
        "# aicache-lint: ignore-file=AIC302\n"
        "RUN pip install numpy>=1.24\n"
    ))
    assert found(path) == [(6, "AIC302")]
    bare = write(tmp_path, "# aicache-lint: ignore-file\nFROM python:3.12\nRUN pip install numpy>=1.24\n")
    assert found(bare) == []


def test_unused_and_unknown_codes_are_reported_and_fixed(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "FROM python:3.12\n"
        "# aicache-lint: ignore=AIC101,AIC302,AIC777 old\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install numpy>=1.24\n"
        "# aicache-lint: ignore=AIC101\n"
        "RUN echo hello\n"
    ))
    out = lint(path).stdout
    assert f"{path}:2:24: AIC002 [*] unused suppression of `AIC101`: nothing here triggers it" in out
    assert f"{path}:2:38: AIC002 [*] unknown rule code `AIC777` in suppression" in out
    assert f"{path}:4:24: AIC002 [*] unused suppression of `AIC101`" in out
    assert "AIC302" not in out.replace("ignore=AIC101,AIC302", "")
    assert invoke(["--fix", str(path)]).exit_code == 0
    assert path.read_text() == (
        "FROM python:3.12\n"
        "# aicache-lint: ignore=AIC302 old\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install numpy>=1.24\n"
        "RUN echo hello\n"
    )


def test_removing_an_unused_last_line_keeps_the_missing_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"# base image notes\r\n# aicache-lint: ignore-file=AIC101")
    assert invoke(["--fix", str(path)]).exit_code == 0
    assert path.read_bytes() == b"# base image notes"


def test_codes_of_unselected_rules_are_not_judged(tmp_path: Path) -> None:
    path = write(tmp_path, "FROM python:3.12\n# aicache-lint: ignore=AIC101\nRUN echo hi\n")
    assert found(path, "--select", "AIC002,AIC3") == []
    assert found(path) == [(2, "AIC002")]


def test_add_ignore_is_idempotent_and_keeps_layout(tmp_path: Path) -> None:
    text = (
        "FROM python:3.12 AS build\n"
        "    RUN pip install numpy>=1.24 \\\n"
        "        transformers\n"
        "# aicache-lint: ignore=AIC302\n"
        "RUN pip install numpy<2\n"
    )
    path = write(tmp_path, text, newline="\r\n")
    result = invoke(["--add-ignore=legacy image, see #12", str(tmp_path)])
    assert result.exit_code == 0
    assert "Added 4 suppressions to 1 file." in result.stderr
    assert path.read_bytes().decode() == (
        "FROM python:3.12 AS build\r\n"
        "    # aicache-lint: ignore=AIC101,AIC201,AIC302 legacy image, see #12\r\n"
        "    RUN pip install numpy>=1.24 \\\r\n"
        "        transformers\r\n"
        "# aicache-lint: ignore=AIC302,AIC101\r\n"
        "RUN pip install numpy<2\r\n"
    )
    assert found(path) == []
    again = invoke(["--add-ignore", str(tmp_path)])
    assert "Added 0 suppressions to 0 files." in again.stderr
    assert path.read_bytes().decode().count("aicache-lint: ignore") == 2


def test_add_ignore_refuses_stdin() -> None:
    result = invoke(["--add-ignore", "-"], input="FROM a\n")
    assert result.exit_code == 2 and "cannot read standard input" in result.stderr


def test_yaml_suppressions_above_a_key_or_item_and_file_wide(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n"
        "  app:\n"
        "    image: app\n"
        "    volumes:\n"
        "      # aicache-lint: ignore=AIC404 created by the infra repo\n"
        "      - models:/models\n"
        "      - other:/other\n"
    )
    out = lint(compose).stdout
    assert f"{compose}:7:9: AIC404" in out and ":6:" not in out
    compose.write_text(
        "# aicache-lint: ignore-file=AIC404\n"
        "services:\n"
        "  app:\n"
        "    image: app\n"
        "    volumes: [models:/models]\n"
    )
    assert found(compose) == []


def test_yaml_suppression_of_a_whole_service_and_unused_ones(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n"
        "  # aicache-lint: ignore=AIC404,AIC405 legacy service\n"
        "  app:\n"
        "    image: app\n"
        "    volumes: [models:/models]\n"
        "  # aicache-lint: ignore=AIC404\n"
        "  web:\n"
        "    image: nginx\n"
    )
    out = lint(compose).stdout
    assert "AIC404 named volume" not in out
    assert f"{compose}:2:33: AIC002 [*] unused suppression of `AIC405`" in out
    assert f"{compose}:6:26: AIC002 [*] unused suppression of `AIC404`" in out
    invoke(["--fix", str(compose)])
    assert compose.read_text() == (
        "services:\n"
        "  # aicache-lint: ignore=AIC404 legacy service\n"
        "  app:\n"
        "    image: app\n"
        "    volumes: [models:/models]\n"
        "  web:\n"
        "    image: nginx\n"
    )


def test_removing_a_stale_suppression_never_wakes_parser_directives() -> None:
    # The comment ends the directive block: deleting it would make `# syntax=` below a directive
    # (another frontend) -- found by mutation testing with `# escape=` below, which broke parsing.
    from aicache_lint.api import fix_text, lint_text

    text = "# aicache-lint: ignore=AIC101\n# syntax=docker/dockerfile:1.4\nFROM python:3.12-slim\nRUN echo hi\n"
    stale = [f for f in lint_text(text) if f.code == "AIC002"]
    assert len(stale) == 1 and stale[0].fix is None and "parser directives" in stale[0].message
    from aicache_lint.settings import Settings

    assert fix_text(text, settings=Settings(select=("AIC002",))).source.text == text
    # Below an instruction the line goes as before.
    lower = "FROM python:3.12-slim\n# aicache-lint: ignore=AIC101\n# syntax=x\nRUN echo hi\n"
    assert [f.fix is not None for f in lint_text(lower) if f.code == "AIC002"] == [True]
