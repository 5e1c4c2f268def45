"""Build-family rules (AIC116, AIC117, AIC130, AIC131): cases the fixture harness cannot hold
(inputs with parse errors, the default selection, the shared directive helpers)."""

from __future__ import annotations

from aicache_lint.engine import check_source
from aicache_lint.knowledge.build_cache import (
    directive_block,
    syntax_in_force,
    top_offset,
)
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText


def _codes(text: str, *select: str) -> list[tuple[int, str]]:
    findings = check_source(SourceText(text, "Dockerfile"), Settings(select=select or ("AIC",)))
    return [(f.start.row, f.code) for f in findings]


def test_repeated_directive_in_block_is_left_to_aic001() -> None:
    text = "# syntax=docker/dockerfile:1\n# syntax=docker/dockerfile:1.7\nFROM python:3.12-slim\n"
    codes = _codes(text, "AIC001", "AIC130")
    assert (2, "AIC001") in codes
    assert not any(code == "AIC130" for _, code in codes)


def test_aic131_is_opt_in() -> None:
    text = "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install torch\n"
    assert not any(code == "AIC131" for _, code in _codes(text))
    assert (2, "AIC131") in _codes(text, "AIC131")


def test_syntax_in_force_follows_detect_syntax() -> None:
    assert syntax_in_force(SourceText("# escape=`\n# syntax=a\nFROM x\n")).value == "a"
    assert syntax_in_force(SourceText("#!/bin/x\n# syntax=a\nFROM x\n")).value == "a"
    assert syntax_in_force(SourceText("\n# syntax=a\nFROM x\n")) is None
    assert syntax_in_force(SourceText("# hello\n# syntax=a\nFROM x\n")) is None
    assert syntax_in_force(SourceText("# syntax=a\r\nFROM x\r\n")).value == "a"
    _, end = directive_block(SourceText("# escape=`\n\n# syntax=a\n"))
    assert end is not None and (end.line, end.kind) == (2, "blank line")


def test_top_offset() -> None:
    assert top_offset(SourceText("FROM x\n", bom=True)) == 0
    assert top_offset(SourceText("#!/bin/x\nFROM x\n")) == len("#!/bin/x\n")
