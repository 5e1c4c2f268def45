"""Resolved settings: which rules run, which fixes apply, and per-rule options."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


class SettingsError(ValueError):
    """A bad selection or option; the CLI turns it into exit code 2."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()  # empty: the default selection
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from aicache_lint.rules import BY_CODE

        for prefix in (*self.select, *self.extend_select, *self.ignore):
            if not any(code.startswith(prefix.upper()) for code in BY_CODE):
                raise SettingsError(f"unknown rule selector `{prefix}`")

    @cached_property
    def enabled_codes(self) -> frozenset[str]:
        """Longest matching prefix wins between select and ignore; a prefix shorter than a code
        only selects rules that are on by default, the full code selects any rule."""
        from aicache_lint.rules import ALL_RULES

        enabled = set()
        selectors = [(p.upper(), True) for p in (*self.select, *self.extend_select)]
        ignores = [(p.upper(), False) for p in self.ignore]
        for rule in ALL_RULES:
            best: tuple[int, bool] | None = None
            if not self.select:
                best = (0, rule.default_enabled)
            for prefix, on in selectors + ignores:
                if rule.code.startswith(prefix) and (best is None or len(prefix) >= best[0]):
                    explicit = prefix == rule.code
                    best = (len(prefix), on and (explicit or rule.default_enabled))
            if best and best[1]:
                enabled.add(rule.code)
        return frozenset(enabled)

    def options_for(self, code: str) -> dict[str, Any]:
        return self.rule_options.get(code, {})
