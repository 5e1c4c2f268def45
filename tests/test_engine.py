"""Fix application and the fix loop's guards."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aicache_lint.rules as registry
from aicache_lint.engine import MAX_PASSES, check_source, fix_source
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix, apply_edits, apply_fixes, select_fixes
from aicache_lint.rules.base import FixAvailability, Rule
from aicache_lint.settings import Settings, SettingsError
from aicache_lint.source import SourceText, Span


def test_apply_edits_keeps_untouched_text_and_converts_newlines() -> None:
    text = "FROM a\r\nRUN b\r\n"
    out = apply_edits(text, [Edit.insert(6, "\nENV X=1")], "\r\n")
    assert out == "FROM a\r\nENV X=1\r\nRUN b\r\n"


def test_fix_rejects_overlapping_edits() -> None:
    with pytest.raises(ValueError):
        Fix.safe("bad", Edit(0, 5, "x"), Edit(3, 8, "y"))


def test_select_fixes_skips_overlaps_and_dedupes_identical_edits() -> None:
    a = Fix.safe("a", Edit(0, 3, "A"))
    b = Fix.safe("b", Edit(2, 5, "B"))  # overlaps a: waits for the next pass
    c = Fix.safe("c", Edit(0, 3, "A"), Edit(6, 6, "!"))  # same edit as a plus one more
    chosen = select_fixes([b, a, c])
    assert chosen == [a, c]
    text, applied = apply_fixes("abcdefgh", [a, b, c])
    assert text == "Adef!gh"
    assert applied == [a, c]


def test_two_inserts_at_one_point_conflict() -> None:
    a = Fix.safe("a", Edit.insert(3, "x"))
    b = Fix.safe("b", Edit.insert(3, "y"))
    assert len(select_fixes([a, b])) == 1


def test_insert_at_a_deletion_boundary_does_not_conflict() -> None:
    a = Fix.safe("a", Edit.insert(3, "x"))
    b = Fix.safe("b", Edit.delete(3, 5))
    assert len(select_fixes([a, b])) == 2
    assert apply_fixes("abcdefg", [a, b])[0] == "abcxfg"


class _FakeRule(Rule):
    """
    ## What it does
    Test rule.
    ## Why is this bad?
    -
    ## Example
    -
    ## Use instead
    -
    ## Fix safety
    -
    ## Options
    -
    ## References
    -
    """

    code = "AIC999"
    name = "fake-rule"
    summary = "fake"
    fix_availability = FixAvailability.ALWAYS
    make_fix = staticmethod(lambda text: None)

    def check(self, ctx):
        fix = self.make_fix(ctx.source.text) if not hasattr(self, "make_fix_in") else self.make_fix_in(ctx)
        if fix is not None:
            yield Violation(Span(0, 1), "fake", fix)


@pytest.fixture
def fake_rule(monkeypatch):
    monkeypatch.setattr(registry, "RULES", (*registry.RULES, registry.RuleEntry("AIC999", "fake-rule", __name__, "_FakeRule")))
    return _FakeRule


def _settings() -> Settings:
    return Settings(select=("AIC999",))


def test_cycle_keeps_original(fake_rule, monkeypatch) -> None:
    def flip(text):
        return Fix.safe("flip", Edit(0, 1, "f" if text[0] == "F" else "F"))

    monkeypatch.setattr(fake_rule, "make_fix", staticmethod(flip))
    result = fix_source(SourceText("FROM a\n"), _settings())
    assert result.source.text == "FROM a\n"
    assert not result.changed
    assert any(f.code == "AIC000" and "do not converge" in f.message and "AIC999" in f.message for f in result.findings)


def test_pass_limit_keeps_original(fake_rule, monkeypatch) -> None:
    monkeypatch.setattr(fake_rule, "make_fix", staticmethod(lambda text: Fix.safe("grow", Edit.insert(len(text), "#\n"))))
    result = fix_source(SourceText("FROM a\n"), _settings())
    assert result.source.text == "FROM a\n"
    assert any(f.code == "AIC000" and f"within {MAX_PASSES} passes" in f.message for f in result.findings)


def _plan(tmp_path, texts: dict[str, str]) -> dict[str, "object"]:
    """Fix ``texts`` (name -> Dockerfile text) as one project; results by name."""
    from aicache_lint.plan import fix_files
    from aicache_lint.workspace.index import Workspace

    paths = {name: str(tmp_path / name) for name in texts}
    ws = Workspace(list(paths.values()), root=str(tmp_path))
    results = fix_files([(SourceText(text, path=paths[name]), _settings()) for name, text in texts.items()], ws)
    return dict(zip(texts, results))


def test_a_file_sees_the_text_another_file_gets_in_the_same_plan(fake_rule, monkeypatch, tmp_path) -> None:
    """`b` mirrors how many lines `a` has; `a` grows to three lines: `b` ends up saying 3, in one run."""
    other = str(tmp_path / "a")

    def fix_in(ctx):
        if ctx.path == other:
            lines = ctx.source.text.count("\n")
            return Fix.safe("grow", Edit.insert(len(ctx.source.text), "#\n")) if lines < 3 else None
        want = f"# a has {ctx.workspace.text(other).count(chr(10))}\n"
        line = ctx.source.text.split("\n", 1)[1]
        return None if line == want else Fix.safe("mirror", Edit(ctx.source.text.index("\n") + 1, len(ctx.source.text), want))

    monkeypatch.setattr(fake_rule, "make_fix_in", staticmethod(fix_in), raising=False)
    results = _plan(tmp_path, {"a": "FROM a\n", "b": "FROM b\n# a has 1\n"})
    assert results["a"].source.text == "FROM a\n#\n#\n"
    assert results["b"].source.text == "FROM b\n# a has 3\n"
    assert not any(f.code == "AIC000" for r in results.values() for f in r.findings)


def test_a_file_that_never_settles_goes_back_and_only_it_is_an_error(fake_rule, monkeypatch, tmp_path) -> None:
    """`a` grows for ever; `b` reads `a` but is itself stable: `b` is no internal error, and it is
    checked again against `a`'s original text."""
    other = str(tmp_path / "a")
    seen = []

    def fix_in(ctx):
        if ctx.path == other:
            return Fix.safe("grow", Edit.insert(len(ctx.source.text), "#\n"))
        seen.append(ctx.workspace.text(other))
        return None

    monkeypatch.setattr(fake_rule, "make_fix_in", staticmethod(fix_in), raising=False)
    results = _plan(tmp_path, {"a": "FROM a\n", "b": "FROM b\n"})
    assert results["a"].source.text == "FROM a\n" and not results["a"].changed
    assert any(f.code == "AIC000" and f"within {MAX_PASSES} passes" in f.message for f in results["a"].findings)
    assert not any(f.code == "AIC000" for f in results["b"].findings)
    assert seen[-1] == "FROM a\n"  # b's last check saw a as it stays


def test_unparsable_result_keeps_original(fake_rule, monkeypatch) -> None:
    def breaks(text):
        return Fix.safe("break", Edit.insert(len(text), "BOGUS x\n")) if "BOGUS" not in text else None

    monkeypatch.setattr(fake_rule, "make_fix", staticmethod(breaks))
    result = fix_source(SourceText("FROM a\n"), _settings())
    assert result.source.text == "FROM a\n"
    assert any(f.code == "AIC000" and "unparsable" in f.message for f in result.findings)


def test_crashing_rule_becomes_internal_error(fake_rule, monkeypatch) -> None:
    def crash(text):
        raise RuntimeError("boom")

    monkeypatch.setattr(fake_rule, "make_fix", staticmethod(crash))
    findings = check_source(SourceText("FROM a\n"), _settings())
    assert [(f.code, f.message) for f in findings] == [("AIC000", "rule AIC999 failed: RuntimeError: boom")]


def test_selection_longest_prefix_wins() -> None:
    assert Settings(select=("AIC1",), ignore=("AIC10",), extend_select=("AIC101",)).enabled_codes >= {"AIC101"}
    assert "AIC102" not in Settings(select=("AIC1",), ignore=("AIC10",)).enabled_codes
    assert "AIC302" in Settings().enabled_codes
    with pytest.raises(SettingsError):
        Settings(ignore=("AIC9",))


def test_select_all_enables_every_rule_and_narrower_selectors_still_win() -> None:
    from aicache_lint.rules import RULES

    every = {rule.code for rule in RULES}
    assert any(not rule.default_enabled for rule in RULES)
    assert Settings(select=("ALL",)).enabled_codes == every
    assert Settings(select=("all",), ignore=("AIC1",)).enabled_codes == {c for c in every if not c.startswith("AIC1")}
    assert Settings(ignore=("ALL",), extend_select=("AIC101",)).enabled_codes == {"AIC101"}


def test_findings_are_sorted_and_positions_count_characters() -> None:
    text = "FROM a\nRUN echo é && pip install numpy>=1 torch<2\n"
    findings = check_source(SourceText(text), Settings(select=("AIC302",)))
    assert [(f.start.row, f.start.column, f.end.column) for f in findings] == [(2, 27, 35), (2, 36, 43)]


def _select_one_by_one(fixes: list[Fix]) -> list[Fix]:
    """select_fixes as its docstring says, comparing every edit with every edit taken."""
    from aicache_lint.fix import _overlap

    taken: list[Fix] = []
    for fix in sorted(fixes, key=lambda f: (f.edits[0] if f.edits else Edit(0, 0), f.title)):
        if fix.edits and not any(_overlap(e, t) for e in fix.edits for f in taken for t in f.edits):
            taken.append(fix)
    return taken


_edits = st.builds(lambda start, length, text: Edit(start, start + length, text),
                   st.integers(0, 30), st.integers(0, 3), st.sampled_from(["", "x", "y"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_edits, min_size=1, max_size=3), max_size=8), st.data())
def test_select_fixes_takes_what_comparing_every_pair_takes(edit_lists, data):
    fixes = []
    for n, edits in enumerate(edit_lists):
        try:
            fixes.append(Fix.safe(f"f{n}", *edits))
        except ValueError:  # overlapping edits within one fix
            continue
    fixes += data.draw(st.lists(st.sampled_from(fixes), max_size=3)) if fixes else []  # shared fix objects
    assert select_fixes(fixes) == _select_one_by_one(fixes)


def test_select_fixes_work_grows_linearly(monkeypatch) -> None:
    # A stage-wide fix (one object with an edit per RUN) is attached to each RUN's finding; every
    # edit was compared with every edit taken before.
    import aicache_lint.fix as fix_module

    calls = 0
    real = fix_module._overlap

    def counting(a: Edit, b: Edit) -> bool:
        nonlocal calls
        calls += 1
        return real(a, b)

    monkeypatch.setattr(fix_module, "_overlap", counting)

    def count(n: int) -> int:
        nonlocal calls
        calls = 0
        stage_wide = Fix.safe("stage", *(Edit.insert(10 * i, "x") for i in range(n)))
        own = [Fix.safe(f"f{i}", Edit(10 * i + 1, 10 * i + 3, "y")) for i in range(n)]
        assert len(select_fixes(own + [stage_wide] * n)) == 2 * n
        return calls

    assert count(400) <= 2.2 * count(200)


def test_a_compose_file_held_back_by_a_dockerfile_that_never_settles_is_still_checked(fake_rule, monkeypatch, tmp_path) -> None:
    """Compose files wait for the Dockerfiles; when one never settles, the Compose file still gets
    its findings (and the Dockerfile its internal error)."""
    from aicache_lint.plan import fix_files
    from aicache_lint.workspace.index import Workspace

    dockerfile, compose = str(tmp_path / "Dockerfile"), str(tmp_path / "compose.yaml")

    def fix_in(ctx):
        if ctx.path == dockerfile:
            return Fix.safe("grow", Edit.insert(len(ctx.source.text), "#\n"))
        return Fix.unsafe("not applied", Edit.insert(0, "# x\n"))  # a finding that stays

    monkeypatch.setattr(fake_rule, "make_fix_in", staticmethod(fix_in), raising=False)
    monkeypatch.setattr(fake_rule, "targets", ("dockerfile", "compose"))
    entry = registry.RuleEntry("AIC999", "fake-rule", __name__, "_FakeRule", ("dockerfile", "compose"))
    monkeypatch.setattr(registry, "RULES", (*[e for e in registry.RULES if e.code != "AIC999"], entry))
    ws = Workspace([dockerfile, compose], root=str(tmp_path))
    sources = [SourceText("FROM a\n", path=dockerfile), SourceText("services: {}\n", path=compose)]
    results = fix_files([(s, _settings()) for s in sources], ws)
    assert any(f.code == "AIC000" and "passes" in f.message for f in results[0].findings)
    assert [f.code for f in results[1].findings] == ["AIC999"]
