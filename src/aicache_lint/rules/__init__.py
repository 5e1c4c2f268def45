"""The rule registry: one explicit, ordered table of every rule."""

from __future__ import annotations

from aicache_lint.rules.base import Rule
from aicache_lint.rules.dockerfile.aic101_pip_cache_not_mounted import PipCacheNotMounted
from aicache_lint.rules.dockerfile.aic102_cache_disabled_under_cache_mount import CacheDisabledUnderCacheMount
from aicache_lint.rules.dockerfile.aic104_uv_cache_not_mounted import UvCacheNotMounted
from aicache_lint.rules.dockerfile.aic201_hf_home_not_set import HfHomeNotSet
from aicache_lint.rules.dockerfile.aic302_unquoted_version_specifier import UnquotedVersionSpecifier
from aicache_lint.rules.meta.aic000_internal_error import InternalError, IoError, ParseError, UnusedSuppression

ALL_RULES: tuple[type[Rule], ...] = (
    InternalError,
    ParseError,
    UnusedSuppression,
    IoError,
    PipCacheNotMounted,
    CacheDisabledUnderCacheMount,
    UvCacheNotMounted,
    HfHomeNotSet,
    UnquotedVersionSpecifier,
)
BY_CODE: dict[str, type[Rule]] = {}
for _rule in ALL_RULES:
    _rule.validate()
    if _rule.code in BY_CODE or any(r.name == _rule.name for r in BY_CODE.values()):
        raise TypeError(f"duplicate rule code or name: {_rule.code} {_rule.name}")
    BY_CODE[_rule.code] = _rule


def lookup(code_or_name: str) -> type[Rule] | None:
    key = code_or_name.strip()
    rule = BY_CODE.get(key.upper())
    if rule is None:
        rule = next((r for r in ALL_RULES if r.name == key.lower()), None)
    return rule
