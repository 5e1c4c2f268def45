"""The fixture harness (DESIGN §12): every case of every rule, with all its assertions, plus the
all-rules round trip over every fixture."""

from __future__ import annotations

import pytest
from buildkit_oracle import assert_matches_buildkit, available
from fixture_cases import Case, Interaction, all_cases, case_source, interaction_cases
from validity import assert_valid

from aicache_lint.engine import applicable, check_source, fix_source
from aicache_lint.rules import ALL_RULES
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText

CASES = all_cases()


def _source(case: Case) -> SourceText:
    return case_source(case)


def _settings(case: Case, unsafe: bool | None = None) -> Settings:
    return Settings(
        select=(case.rule,),
        unsafe_fixes=case.unsafe if unsafe is None else unsafe,
        rule_options={case.rule: case.config},
    )


def _assert_same_layout(before: SourceText, after: SourceText) -> None:
    assert after.bom == before.bom
    assert after.final_newline == before.final_newline
    if "\r\n" in before.text and before.text.count("\r\n") == before.text.count("\n"):
        assert after.text.count("\r\n") == after.text.count("\n"), "a fix broke the CRLF style"
    if "\r" not in before.text:
        assert "\r" not in after.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    source = _source(case)
    settings = _settings(case)
    # 1. The input parses, for us and for BuildKit (or the Compose schema).
    assert_valid(source, case.kind)
    # 2. The rule alone fires, with exactly the expected findings.
    findings = check_source(source, settings)
    assert {f.code for f in findings} <= {case.rule}, [f.message for f in findings]
    got = [(f.start.row, f.start.column) for f in findings]
    want = [(line, col if col is not None else got_col) for (line, col), (_, got_col) in zip(case.findings, got)]
    assert len(got) == len(case.findings), f"findings {got}, expected {case.findings}"
    assert got == want
    if case.passes:
        return
    result = fix_source(source, settings)
    if case.fixed is None:
        # Report-only case: nothing is offered under these settings, nothing changes.
        assert not any(applicable(f, settings) for f in findings)
        assert not result.changed
        return
    # 3. Fixing gives exactly the expected text.
    assert result.source.text == case.fixed.removeprefix("\ufeff")
    # 4. Re-linting is clean of every finding that had a fix.
    unfixable = sum(1 for f in findings if not applicable(f, settings))
    remaining = check_source(result.source, settings)
    assert len(remaining) == unfixable, [f.message for f in remaining]
    # 5. Fixing again changes nothing.
    assert not fix_source(result.source, settings).changed
    # 6. Nothing outside the edits changed: BOM, newline style, final newline.
    _assert_same_layout(source, result.source)
    # 7. The fixed file still parses, for BuildKit too (or validates against the Compose schema).
    assert_valid(result.source, case.kind)
    # Unsafe fixes stay unapplied without --unsafe-fixes.
    if case.unsafe:
        assert not fix_source(source, _settings(case, unsafe=False)).changed


def test_every_rule_has_pass_and_fail_cases() -> None:
    by_rule: dict[str, set[bool]] = {}
    for case in CASES:
        by_rule.setdefault(case.rule, set()).add(case.passes)
    for rule in ALL_RULES:
        if not rule.targets or rule.code.startswith("AIC0"):
            continue  # meta rules (parse errors) are covered by the lexer and CLI tests
        assert by_rule.get(rule.code) == {True, False}, f"{rule.code} needs pass and fail cases"


@pytest.mark.parametrize("case", [c for c in CASES if not c.passes], ids=lambda c: c.id)
def test_all_rules_round_trip(case: Case) -> None:
    """Every rule at once, unsafe fixes on: converges, re-parses, is idempotent."""
    source = _source(case)
    settings = Settings(unsafe_fixes=True, select=("AIC",))
    result = fix_source(source, settings)
    assert not any(f.code == "AIC000" for f in result.findings), [f.message for f in result.findings]
    assert_valid(result.source, case.kind)
    assert not fix_source(result.source, settings).changed
    _assert_same_layout(source, result.source)


@pytest.mark.parametrize("case", interaction_cases(), ids=lambda c: c.name)
def test_interactions(case: Interaction) -> None:
    """Several rules fixing the same lines: the expected findings, then one converged result."""
    source = SourceText.decode(case.data, "Dockerfile")
    settings = Settings(unsafe_fixes=True, select=("AIC",))
    findings = check_source(source, settings)
    assert sorted({(f.start.row, f.code) for f in findings}) == sorted(set(case.expected))
    result = fix_source(source, settings)
    assert not any(f.code == "AIC000" for f in result.findings), [f.message for f in result.findings]
    assert case.fixed is not None, "an interaction case needs its .fixed.Dockerfile"
    assert result.source.encode() == case.fixed
    assert not fix_source(result.source, settings).changed
    _assert_same_layout(source, result.source)
    if available():
        assert_matches_buildkit(result.source.text)
