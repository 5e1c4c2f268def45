"""The rule registry: one explicit table of every rule, grouped by family, listed by code."""

from __future__ import annotations

from aicache_lint.rules.base import Rule

# -- meta ----------------------------------------------------------------------------------------
from aicache_lint.rules.meta.aic000_internal_error import InternalError, IoError, ParseError, UnusedSuppression

# -- Python package caches (pip, uv, poetry, conda) and cache-mount correctness --------------------
from aicache_lint.rules.dockerfile.aic101_pip_cache_not_mounted import PipCacheNotMounted
from aicache_lint.rules.dockerfile.aic102_cache_disabled_under_cache_mount import CacheDisabledUnderCacheMount
from aicache_lint.rules.dockerfile.aic104_uv_cache_not_mounted import UvCacheNotMounted
# (python-family imports end)

# -- system package managers (apt, apk, dnf/yum/zypper) and clean-ups -----------------------------
# (system-family imports end)

# -- JS, Go, Cargo caches and BuildKit syntax ------------------------------------------------------
# (build-family imports end)

# -- model and runtime caches ----------------------------------------------------------------------
from aicache_lint.rules.dockerfile.aic201_hf_home_not_set import HfHomeNotSet
# (model-family imports end)

# -- layer order, reproducibility, images ---------------------------------------------------------
from aicache_lint.rules.dockerfile.aic302_unquoted_version_specifier import UnquotedVersionSpecifier
# (image-family imports end)

_RULES: tuple[type[Rule], ...] = (
    # meta
    InternalError,
    ParseError,
    UnusedSuppression,
    IoError,
    # python family
    PipCacheNotMounted,
    CacheDisabledUnderCacheMount,
    UvCacheNotMounted,
    # (python-family rules end)
    # system family
    # (system-family rules end)
    # build family
    # (build-family rules end)
    # model family
    HfHomeNotSet,
    # (model-family rules end)
    # image family
    UnquotedVersionSpecifier,
    # (image-family rules end)
)
ALL_RULES: tuple[type[Rule], ...] = tuple(sorted(_RULES, key=lambda r: r.code))
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
