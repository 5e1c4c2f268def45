"""The rule table (aicache_lint.rules.RULES) says what the rule classes say, lists every rule, and
imports a rule's module only when its class is asked for."""

from __future__ import annotations

import importlib
import pkgutil
from importlib.util import resolve_name

import pytest

import aicache_lint.rules as registry
from aicache_lint.rules import RULES, RuleEntry, all_rules, lookup, rule_class
from aicache_lint.rules.base import Rule
from import_cost import imports_of


def _module(entry: RuleEntry) -> str:
    return resolve_name(entry.module, registry.__name__)


def test_table_agrees_with_every_class() -> None:
    for entry, rule in zip(RULES, all_rules(), strict=True):
        assert rule.__name__ == entry.class_name and rule.__module__ == _module(entry)
        assert (rule.code, rule.name, rule.targets, rule.default_enabled) == (
            entry.code, entry.name, entry.targets, entry.default_enabled,
        ), entry.code


def test_table_is_listed_by_code_with_unique_codes_and_names() -> None:
    codes = [entry.code for entry in RULES]
    assert codes == sorted(set(codes))
    assert len({entry.name for entry in RULES}) == len(RULES)


def test_every_rule_class_in_the_rules_packages_is_listed() -> None:
    listed = {(_module(entry), entry.class_name) for entry in RULES}
    found = set()
    for package in ("ci", "compose", "dockerfile", "meta", "python"):
        pkg = importlib.import_module(f"{registry.__name__}.{package}")
        for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
            module = importlib.import_module(info.name)
            rules = {(info.name, name) for name, obj in vars(module).items()
                     if isinstance(obj, type) and issubclass(obj, Rule) and obj.__module__ == info.name}
            assert rules, f"{info.name} defines no rule (rules/ holds rules only)"
            found |= rules
    assert found == listed


def test_loading_validates_the_class_and_checks_it_against_its_entry() -> None:
    wrong_name = RULES[0]._replace(name="another-name")
    with pytest.raises(TypeError, match="disagrees with its registry entry"):
        wrong_name.load()
    wrong_targets = lookup("AIC401")._replace(targets=("dockerfile",))
    with pytest.raises(TypeError, match="disagrees with its registry entry"):
        wrong_targets.load()
    undocumented = RuleEntry("AIC998", "undocumented", __name__, "_Undocumented")
    with pytest.raises(TypeError, match="no docstring"):
        undocumented.load()


class _Undocumented(Rule):
    code = "AIC998"
    name = "undocumented"
    summary = "no docstring"


def test_lookup_and_rule_class() -> None:
    assert lookup(" aic101 ").code == "AIC101"
    assert lookup("Pip-Cache-Not-Mounted").code == "AIC101"
    assert lookup("AIC999") is None
    assert rule_class("AIC401").name == "model-cache-not-persisted"
    with pytest.raises(KeyError):
        rule_class("pip-cache-not-mounted")  # a code, not a name
    assert registry.BY_CODE["AIC101"] is rule_class("AIC101")
    assert [r.code for r in registry.ALL_RULES] == [entry.code for entry in RULES]


def test_a_rule_module_is_imported_only_when_its_class_is_asked_for() -> None:
    loaded = imports_of("from aicache_lint.rules import lookup; lookup('AIC401'); lookup('AIC101').load()")
    assert {m for m in loaded.ours if m.startswith("aicache_lint.rules.") and m != "aicache_lint.rules.base"} == {
        "aicache_lint.rules.dockerfile", "aicache_lint.rules.dockerfile.aic101_pip_cache_not_mounted",
    }
