"""What mutation testing (scripts/mutate.py, tests/test_mutation.py) found, each reduced to its cause:
a fix the lint offered that the fix loop then refused, a rule that crashed, a fix that broke the
file. Each input is valid for BuildKit or YAML; none may end in an internal error (AIC000)."""

from __future__ import annotations

import pytest
import yaml
from buildkit_oracle import assert_matches_buildkit, available

from aicache_lint.api import fix_text, lint_text
from aicache_lint.knowledge.package_cache import plain_path
from aicache_lint.rules import BY_CODE
from aicache_lint.settings import Settings

ALL = Settings(unsafe_fixes=True, select=tuple(BY_CODE))


def _findings(text: str, path: str = "Dockerfile") -> dict[str, bool]:
    """code -> whether it has a fix; no internal error, in lint or fix."""
    found = lint_text(text, path, ALL)
    assert [f.message for f in found if f.code == "AIC000"] == []
    result = fix_text(text, path, ALL)
    assert [f.message for f in result.findings if f.code == "AIC000"] == []
    if available() and path == "Dockerfile":
        assert_matches_buildkit(result.source.text)
    return {f.code: f.fix is not None for f in found}


@pytest.mark.parametrize(("text", "code"), [
    ("FROM python:3.12\nRUN pip install numpy \\\n    --no-cache-dir \\\n    --no-cache-dir\n", "AIC101"),
    ("FROM alpine:3.20\nRUN apk add curl \\\n    --no-cache \\\n    --no-cache\n", "AIC114"),
    ("FROM python:3.12\nRUN pip install torch \\\r    --no-cache-dir\nCMD [\"python\"]\n", "AIC101"),
])
def test_words_whose_removal_cannot_keep_the_layout_are_reported_without_a_fix(text, code):
    # Each word alone on the last lines of the RUN: removing the last one takes the marker of the
    # line before, which removing the other deletes whole (the rule crashed building the fix). An
    # escaped lone CR, once the word after it goes, would end the line: `\` + CRLF continues the RUN
    # into `CMD`.
    assert _findings(text)[code] is False


@pytest.mark.parametrize(("text", "code"), [
    ('FROM python:3.12\nENV XDG_CACHE_HOME="/my cache"\nRUN pip install torch\n', "AIC101"),
    ("FROM node:22-slim\nRUN pnpm install --frozen-lockfile --store-dir=/pnpm/store\x85\n", "AIC116"),
])
def test_a_cache_dir_a_mount_target_cannot_hold_gets_no_mount(text, code):
    # `target=/my cache` would end the flag at the blank; BuildKit splits flags at a NEL's byte.
    assert _findings(text)[code] is False


def test_what_a_mount_target_can_hold():
    assert plain_path("/root/.cache/pip") and plain_path("/home/app/.cache/pip@x+1")
    for bad in ("/my cache", "/a,b", '/a"b', "/a'b", "/$HOME/x", "/a\\b", "/store\x85", "/caché", "/a\u00a0b"):
        assert not plain_path(bad), bad


def test_no_fix_is_offered_on_a_file_that_does_not_parse():
    # A stray heredoc end (`END` alone): the suppression is stale, but the fix loop refuses any
    # fix while the file has a parse error, so removing it must not be offered either.
    text = "FROM python:3.12-slim\n# aicache-lint: ignore=AIC101\n\tEND\nRUN echo hi\n"
    assert _findings(text)["AIC002"] is False


def test_a_syntax_line_the_parser_reads_is_not_declared_twice():
    # After a no-break space the frontend selector skips `# syntax=`, the parser does not: a
    # second directive on line 1 would be a parse error.
    text = "\u00a0# syntax=docker/dockerfile:1\nFROM python:3.12-slim\nRUN --mount=type=cache,target=/x true\n"
    assert _findings(text)["AIC131"] is False


def test_a_new_top_level_section_lines_up_with_indented_top_level_keys():
    text = " services:\n   app:\n     image: app\n     environment:\n       HF_HUB_CACHE: /models\n"
    fixed = fix_text(text, "compose.yaml", Settings(unsafe_fixes=True)).source.text
    assert fixed.endswith("\n volumes:\n   hf-cache:\n")
    assert yaml.safe_load(fixed)["volumes"] == {"hf-cache": None}


def test_deleting_the_last_compose_line_keeps_the_final_line_break():
    # The file ends with PS, a YAML line break: deleting the last line takes it with the line.
    text = "services:\n  app:\n    image: app\n    environment:\n      HF_HUB_CACHE: /models\n" \
        "      TRANSFORMERS_CACHE: /models\u2029"
    fixed = fix_text(text, "compose.yaml", ALL).source.text
    assert "TRANSFORMERS_CACHE" not in fixed
    assert fixed.endswith("\n")


def test_a_mount_is_not_retargeted_to_a_dir_it_cannot_hold():
    # An unbalanced quote in ENV runs the value over the continuation lines, blanks included.
    text = (
        "FROM python:3.12\nRUN useradd -m -u 1001 render\nUSER render\n"
        "ENV PIP_CACHE_DIR=/home/ren'der/.cache/pip \\\n    PATH=/home/render/.local/bin:$PATH\n"
        "RUN --mount=type=cache,target=/home/render/.cache/pip,uid=1001 pip install --user torch\n"
    )
    assert _findings(text)["AIC120"] is False


def test_no_env_line_holds_a_dir_it_cannot_hold_as_is():
    # useradd's `--home-dir` word ends with LS (the shell does not split there); as an ENV value
    # BuildKit splits it at the blank and the ENV line no longer parses.
    text = ("FROM python:3.12-slim\nRUN useradd --create-home --home-dir /srv/ml\u2028 --uid 2000 ml \\\n"
            "    && pip install transformers\nUSER ml\n")
    assert _findings(text)["AIC201"] is False


def test_a_service_that_mounts_the_shared_volume_already_is_not_given_it_twice():
    text = (
        "services:\n  a:\n    image: a\n    environment: [HF_HOME=/hf]\n    volumes: [hf-cache:/hf]\n"
        "  b:\n    image: b\n    environment: [HF_HOME=/hf]\n    volumes:\n      - hf-cache:/hf\n      - b-hf:/hf\n"
        "volumes:\n  hf-cache:\n  b-hf:\n"
    )
    assert _findings(text, "compose.yaml")["AIC405"] is False
