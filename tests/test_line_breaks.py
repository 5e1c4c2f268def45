"""Line breaks other than LF, as mutation testing met them: positions and edits follow the parser's
idea of a line (YAML also breaks lines at a lone CR, NEL, LS and PS; BuildKit at LF only), a lone
CR stays a lone CR after an edit, and `--fix` never ends in an internal error on valid input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from buildkit_oracle import assert_matches_buildkit, available
from cli_runner import invoke

from aicache_lint.api import fix_text, lint_text
from aicache_lint.dockerfile.lexer import parse
from aicache_lint.fix import Edit, apply_edits
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText

SCHEMA = json.loads((Path(__file__).parent / "data" / "schemas" / "compose-spec.json").read_text())
UNSAFE = Settings(unsafe_fixes=True)


def _fix_compose(tmp_path: Path, text: str) -> tuple[int, str]:
    """`aicache-lint --fix --unsafe-fixes` on ``text`` as compose.yaml: (exit code, fixed text)."""
    (tmp_path / "compose.yaml").write_bytes(text.encode())
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = invoke(["--isolated", "--fix", "--unsafe-fixes", "--exit-zero", "compose.yaml"])
    finally:
        os.chdir(old)
    assert "AIC000" not in result.output, result.output
    return result.exit_code, (tmp_path / "compose.yaml").read_bytes().decode()


@pytest.mark.parametrize("brk", ["\r", "\x85", "\u2028"])
def test_an_item_appended_after_a_key_that_ends_in_another_line_break(tmp_path, brk):
    # `volumes:` ends with CR/NEL/LS: the list's `-` is in column 7 of YAML's line, not of the
    # LF-delimited one; an item indented from the wrong column continued `./x:/other` (a plain
    # scalar) instead, and the fix never settled.
    text = ("services:\n  a:\n    image: x\n    environment:\n      - HF_HOME=/data/hf\n"
            f"    volumes:{brk}      - ./x:/other\n")
    code, fixed = _fix_compose(tmp_path, text)
    assert code == 0
    assert fixed == text + "      - hf-cache:/data/hf\nvolumes:\n  hf-cache:\n"
    data = yaml.safe_load(fixed)
    jsonschema.Draft7Validator(SCHEMA).validate(data)
    assert data["services"]["a"]["volumes"] == ["./x:/other", "hf-cache:/data/hf"]
    assert fix_text(fixed, "compose.yaml", UNSAFE).applied == []


def test_a_key_added_to_a_service_whose_keys_follow_a_lone_cr(tmp_path):
    text = "services:\n  a:\r    image: x\n    environment:\n      HF_HOME: /data/hf\n"
    code, fixed = _fix_compose(tmp_path, text)
    assert code == 0
    assert fixed == text + "    volumes:\n      - hf-cache:/data/hf\nvolumes:\n  hf-cache:\n"
    jsonschema.Draft7Validator(SCHEMA).validate(yaml.safe_load(fixed))


def test_findings_in_a_compose_file_are_on_yamls_lines():
    text = "services:\n  a:\r    image: x\n    environment:\n      HF_HOME: /data/hf\n"
    (finding,) = [f for f in lint_text(text, "compose.yaml") if f.code == "AIC402"]
    assert (finding.start.row, finding.start.column) == (5, 7)


@pytest.mark.parametrize("end", ["\r", "\r\r"])
def test_a_lone_cr_at_the_end_stays_lone_when_a_section_is_appended(tmp_path, end):
    text = f"services:\n  a:\n    image: x\n    environment:\n      HF_HOME: /data/hf{end}"
    code, fixed = _fix_compose(tmp_path, text)
    assert code == 0
    assert "\r\n" not in fixed
    added = "\n    volumes:\n      - hf-cache:/data/hf"
    assert fixed == text.removesuffix(end) + added + end + "volumes:\n  hf-cache:\n"


def test_comments_end_at_any_yaml_line_break():
    # The `#` after a lone CR starts a line, so it is a comment (a suppression may live there).
    from aicache_lint.compose.parse import parse as parse_compose

    source = SourceText("services:\r# note\r  a:\r    image: x # tail\x85", path="compose.yaml")
    doc = parse_compose(source)
    assert [source.text[c.start : c.end] for c in doc.comments] == ["# note", "# tail"]


def test_inserted_text_goes_before_the_lone_crs_it_follows():
    assert apply_edits("a\r", [Edit.insert(2, "\nb")]) == "a\nb\r"
    assert apply_edits("a\r\rc", [Edit.insert(3, "\nb")]) == "a\nb\r\rc"
    assert apply_edits("a\rc", [Edit(2, 3, "\nb")]) == "a\nb\r"
    assert apply_edits("a\r", [Edit.insert(2, "b\n")]) == "a\rb\n"  # nothing to join: kept in place
    assert apply_edits("a\r", [Edit.insert(2, "\nb")], "\r\n") == "a\r\r\nb"  # a CRLF file: no join either


def test_a_fix_the_lint_offers_parses_once_applied():
    # `<<B` makes `B` a heredoc body; deleting the `rm` with its redirection left `B` behind as an
    # instruction, the fix loop refused it (AIC000) while the lint still offered it.
    text = "FROM python\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/* <<B\nB\n"
    for finding in lint_text(text, "Dockerfile", UNSAFE):
        if finding.fix is not None:
            fixed = apply_edits(text, list(finding.fix.edits))
            assert not parse(SourceText(fixed)).errors, (finding.code, fixed)
    result = fix_text(text, "Dockerfile", UNSAFE)
    assert [f.message for f in result.findings if f.code == "AIC000"] == []
    # The clean-up that reads the heredoc cannot be removed, so no lists mount is offered (it would
    # only leave AIC113): the file stays as it was, and says why.
    assert result.source.text.endswith("rm -rf /var/lib/apt/lists/* <<B\nB\n")
    assert any(f.code == "AIC110" and "cannot be removed" in f.message for f in result.findings)
    if available():
        assert_matches_buildkit(result.source.text)


@pytest.mark.parametrize("style", ["plain", "single", "double"])
@pytest.mark.parametrize("value", ["a\x85b", "a\u2028b", "a\u2029b", "a\rb"])
def test_a_written_scalar_keeps_line_break_characters(style, value):
    # Raw in a quoted scalar, YAML folds NEL/LS/PS like any line break; `\N`, `\L`, `\P` keep them.
    from aicache_lint.compose.edits import scalar

    written = scalar(value, style)
    assert yaml.safe_load(f"k: {written}\n") == {"k": value}
    assert not any(c in written for c in "\r\n\x85\u2028\u2029")
