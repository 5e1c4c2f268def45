"""The generated `rules/` folder matches the code, and every rule is documented fully."""

from __future__ import annotations

from pathlib import Path

from aicache_lint.rules import ALL_RULES
from aicache_lint.rules.base import DOC_SECTIONS
from aicache_lint.rules.docs import expected_files, fix_label

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def test_rules_folder_is_up_to_date() -> None:
    expected = expected_files()
    present = {p.name for p in RULES_DIR.glob("*.md")}
    assert present == set(expected), "run: python -m aicache_lint.rules.docs rules"
    for name, content in expected.items():
        assert (RULES_DIR / name).read_text(encoding="utf-8") == content, (
            f"rules/{name} is stale; run: python -m aicache_lint.rules.docs rules"
        )


def test_every_rule_documents_every_section() -> None:
    for rule in ALL_RULES:
        sections = rule.doc_sections()
        for heading in DOC_SECTIONS:
            assert sections.get(heading), f"{rule.code}: empty section {heading!r}"


def test_readme_lists_every_rule() -> None:
    """The README's rule table says what the code says: name, opt-in, summary and fix (the fix cell
    may add when the fix needs `--resolve-images`)."""
    rows = {}
    for line in (RULES_DIR.parent / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("[AIC"):
            rows[cells[0]] = cells[1:]
    for rule in ALL_RULES:
        name, summary, fix = rows[f"[{rule.code}](rules/{rule.code}.md)"]
        assert name == f"`{rule.name}`" + ("" if rule.default_enabled else " (opt-in)"), rule.code
        assert summary == rule.summary, rule.code
        label = fix_label(rule)
        assert fix == label or fix.startswith(label.removesuffix(")") + ", "), (rule.code, fix, label)
