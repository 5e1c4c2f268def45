"""Resolved settings: which rules run, which fixes apply, severities, per-file ignores, excludes,
and per-rule options. Built by ``config`` from a configuration file and the command line."""

from __future__ import annotations

import fnmatch
import os
import sys
from typing import Any, NamedTuple


def user_cache_dir() -> str:
    """``$AICACHE_LINT_CACHE_DIR``, else the platform's user cache directory + ``aicache-lint``:
    where the result cache and the registry answers are kept."""
    explicit = os.environ.get("AICACHE_LINT_CACHE_DIR")
    if explicit:
        return explicit
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
        return os.path.join(base, "aicache-lint", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/aicache-lint")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "aicache-lint")


class SettingsError(ValueError):
    """A bad selection or option; the CLI turns it into exit code 2."""


class Selection(NamedTuple):
    """One layer of rule selection (the config file's, then the command line's).

    ``select`` replaces what earlier layers chose (None: keep it); ``extend_select`` adds;
    ``ignore`` removes. Within a layer the longest matching prefix wins; a prefix shorter than a
    code only selects rules that are on by default, the full code selects any rule.
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


# `vendor` holds dependencies fetched into the repository (Go modules, Composer, Bundler): their
# Dockerfiles and Bake files are not this repository's to lint or to fix.
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".venv", "venv", ".eggs", "vendor",
)


class Settings:
    def __init__(
        self,
        *,
        select: tuple[str, ...] = (),  # empty: the default selection
        extend_select: tuple[str, ...] = (),
        ignore: tuple[str, ...] = (),
        unsafe_fixes: bool = False,
        rule_options: dict[str, dict[str, Any]] | None = None,
        selections: tuple[Selection, ...] = (),  # more layers, applied after the one above
        fixable: tuple[str, ...] = ("AIC",),
        unfixable: tuple[str, ...] = (),
        per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = (),
        severity: dict[str, str] | None = None,
        exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
        extend_exclude: tuple[str, ...] = (),
        output_format: str = "text",
        resolve_images: bool = False,  # ask registries and Git remotes (opt-in: the network)
        registry_mirrors: dict[str, str] | None = None,  # registry host -> base URL to ask instead
        resolve_timeout: float = 5.0,  # seconds per request
        root: str | None = None,  # the directory per-file-ignores and excludes are relative to
        config_file: str | None = None,
        cache_dir: str | None = None,  # the result cache's directory (None: see ``result_cache``)
    ) -> None:
        layers = (Selection(select or None, extend_select, ignore), *selections)
        for layer in layers:
            for prefix in (*(layer.select or ()), *layer.extend_select, *layer.ignore):
                check_selector(prefix)
        for prefix in (*fixable, *unfixable, *(c for _, codes in per_file_ignores for c in codes)):
            check_selector(prefix)
        self.selections = layers
        self.unsafe_fixes = unsafe_fixes
        self.rule_options = rule_options or {}
        self.fixable = fixable
        self.unfixable = unfixable
        self.per_file_ignores = per_file_ignores
        self.severity = severity or {}
        self.exclude = exclude
        self.extend_exclude = extend_exclude
        self.output_format = output_format
        self.resolve_images = resolve_images
        self.registry_mirrors = registry_mirrors or {}
        self.resolve_timeout = resolve_timeout
        self.root = os.path.abspath(root or os.getcwd())
        self.config_file = config_file
        self.cache_dir = os.path.abspath(cache_dir) if cache_dir else None
        self.enabled_codes = self._enabled_codes()
        self.fixable_codes = _matching(self.fixable, self.unfixable)

    def _enabled_codes(self) -> frozenset[str]:
        from aicache_lint.rules import RULES

        enabled = {rule.code for rule in RULES if rule.default_enabled}
        for layer in self.selections:
            if layer.select is not None:
                base = set()
                chosen = [(p, True) for p in (*layer.select, *layer.extend_select)]
            else:
                base = set(enabled)
                chosen = [(p, True) for p in layer.extend_select]
            chosen += [(p, False) for p in layer.ignore]
            for rule in RULES:
                best: tuple[int, bool] | None = None
                for prefix, on in chosen:
                    prefix = prefix.upper()
                    if prefix == "ALL":  # every rule, off by default or not; any other selector is more specific
                        if best is None:
                            best = (0, on)
                    elif rule.code.startswith(prefix) and (best is None or len(prefix) >= best[0]):
                        best = (len(prefix), on and (prefix == rule.code or rule.default_enabled))
                if best is not None:
                    (base.add if best[1] else base.discard)(rule.code)
            enabled = base
        return frozenset(enabled)

    @property
    def result_cache(self) -> str:
        """The result cache's directory: the ``cache-dir`` setting, else ``results`` in the user's
        cache directory -- not in the project, whose `COPY . .` layers a changing cache directory
        would invalidate (and whose files a lint run must leave as they are)."""
        return self.cache_dir or os.path.join(user_cache_dir(), "results")

    def fingerprint(self) -> str:
        """Everything findings depend on, as text (the result cache's key); not how they are shown."""
        return repr((sorted(self.enabled_codes), sorted(self.fixable_codes), self.unsafe_fixes,
                     sorted((c, sorted(o.items())) for c, o in self.rule_options.items()),
                     self.per_file_ignores, sorted(self.severity.items()), self.root, self.resolve_images,
                     sorted(self.registry_mirrors.items())))

    def options_for(self, code: str) -> dict[str, Any]:
        return self.rule_options.get(code, {})

    def severity_for(self, code: str, default: Any) -> Any:
        from aicache_lint.finding import Severity

        value = self.severity.get(code)
        return Severity(value) if value else default

    def ignored_for(self, path: str) -> frozenset[str]:
        """Codes that per-file-ignores switch off for ``path``."""
        rel = self.relative(path)
        codes: set[str] = set()
        for pattern, prefixes in self.per_file_ignores:
            if _glob_match(rel, pattern):
                codes.update(_matching(prefixes, ()))
        return frozenset(codes)

    def is_excluded(self, path: str) -> bool:
        rel = self.relative(path)
        return any(_glob_match(rel, pattern) for pattern in (*self.exclude, *self.extend_exclude))

    def relative(self, path: str) -> str:
        absolute = os.path.abspath(path)
        try:
            rel = os.path.relpath(absolute, self.root)
        except ValueError:  # another drive on Windows
            return absolute.replace(os.sep, "/")
        return rel.replace(os.sep, "/")

    def describe(self) -> list[tuple[str, Any]]:
        """(key, value) pairs for --show-settings, in the configuration file's vocabulary."""
        return [
            ("config-file", self.config_file or "(none)"),
            ("root", self.root),
            ("enabled", sorted(self.enabled_codes)),
            ("fixable", sorted(self.fixable_codes)),
            ("unsafe-fixes", self.unsafe_fixes),
            ("per-file-ignores", {p: list(c) for p, c in self.per_file_ignores}),
            ("severity", dict(self.severity)),
            ("exclude", list(self.exclude)),
            ("extend-exclude", list(self.extend_exclude)),
            ("output-format", self.output_format),
            ("cache-dir", self.cache_dir or "(default)"),
            ("resolve-images", self.resolve_images),
            ("registry-mirrors", dict(self.registry_mirrors)),
            ("resolve-timeout", self.resolve_timeout),
            ("rules", {code: {**_rule_defaults(code), **opts} for code, opts in self.rule_options.items()}),
        ]


def _rule_defaults(code: str) -> dict[str, Any]:
    from aicache_lint.rules import lookup

    entry = lookup(code)
    return dict(entry.load().default_options) if entry else {}


def check_selector(prefix: str) -> None:
    from aicache_lint.rules import RULES

    if prefix.upper() == "ALL":
        return
    if not any(rule.code.startswith(prefix.upper()) for rule in RULES):
        raise SettingsError(f"unknown rule selector `{prefix}`")


def _matching(include: tuple[str, ...], exclude: tuple[str, ...]) -> frozenset[str]:
    """Codes whose longest matching prefix is in ``include`` rather than ``exclude``."""
    from aicache_lint.rules import RULES

    out = set()
    for code in (rule.code for rule in RULES):
        best: tuple[int, bool] | None = None
        for prefix, on in [(p, True) for p in include] + [(p, False) for p in exclude]:
            p = "AIC" if prefix.upper() == "ALL" else prefix.upper()
            if code.startswith(p) and (best is None or len(p) >= best[0]):
                best = (len(p), on)
        if best and best[1]:
            out.add(code)
    return frozenset(out)


def _glob_match(rel: str, pattern: str) -> bool:
    """A pattern with a `/` matches the path relative to the root; one without matches any path
    component, like a .gitignore entry (`node_modules`, `Dockerfile.*`)."""
    pattern = pattern.rstrip("/").removeprefix("./")
    if "/" in pattern:
        return fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(rel, pattern + "/*")
    return any(fnmatch.fnmatchcase(part, pattern) for part in rel.split("/"))
