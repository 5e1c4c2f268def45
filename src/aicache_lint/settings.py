"""Resolved settings: which rules run, which fixes apply, and per-rule options."""

from __future__ import annotations

from typing import Any


class SettingsError(ValueError):
    """A bad selection or option; the CLI turns it into exit code 2."""


class Settings:
    def __init__(
        self,
        *,
        select: tuple[str, ...] = (),  # empty: the default selection
        extend_select: tuple[str, ...] = (),
        ignore: tuple[str, ...] = (),
        unsafe_fixes: bool = False,
        rule_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        from aicache_lint.rules import BY_CODE

        for prefix in (*select, *extend_select, *ignore):
            if not any(code.startswith(prefix.upper()) for code in BY_CODE):
                raise SettingsError(f"unknown rule selector `{prefix}`")
        self.select = select
        self.extend_select = extend_select
        self.ignore = ignore
        self.unsafe_fixes = unsafe_fixes
        self.rule_options = rule_options or {}
        self.enabled_codes = self._enabled_codes()

    def _enabled_codes(self) -> frozenset[str]:
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
