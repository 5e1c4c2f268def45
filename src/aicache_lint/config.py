"""Configuration files: finding them, reading them strictly, and merging the command line on top.

A project configures aicache-lint in ``.aicache-lint.toml`` or ``aicache-lint.toml`` (top-level
keys) or in ``pyproject.toml`` under ``[tool.aicache-lint]``; the nearest one from a linted path
upwards (up to the repository root) applies. Every key is checked: an unknown key, a wrong type or an unknown rule code is an
error naming the file, the key and what was expected.
"""

from __future__ import annotations

import os
from typing import Any, Callable, NamedTuple

from aicache_lint.files import read_bytes
from aicache_lint.settings import (
    DEFAULT_EXCLUDE,
    Selection,
    Settings,
    SettingsError,
    check_selector,
)

CONFIG_NAMES = (".aicache-lint.toml", "aicache-lint.toml", "pyproject.toml")
SEVERITIES = ("error", "warning", "info")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and the key."""


class CliOverrides(NamedTuple):
    """What the command line says; None / empty means "as the configuration says"."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None
    resolve_images: bool | None = None
    output_format: str | None = None
    config: str | None = None  # --config PATH
    isolated: bool = False  # --isolated: no configuration file at all
    cache_dir: str | None = None  # --cache-dir PATH


def find_config(start: str, memo: dict[str, str | None] | None = None) -> str | None:
    """The nearest configuration file from ``start`` (a file or directory) upwards, stopping at
    the repository root (a directory with `.git`): a stray file above a checkout must not
    change how its files are linted. ``memo``: answers per directory, filled on the way (a run
    over 400 files in one tree then looks at each directory once)."""
    directory = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(os.path.abspath(start)))
    walked = []
    while memo is None or directory not in memo:
        walked.append(directory)
        found = next((c for c in (os.path.join(directory, n) for n in CONFIG_NAMES)
                      if os.path.isfile(c) and (not c.endswith("pyproject.toml") or _has_tool_table(c))), None)
        parent = os.path.dirname(directory)
        if found is not None or parent == directory or os.path.exists(os.path.join(directory, ".git")):
            break
        directory = parent
    else:
        found = memo[directory]
    if memo is not None:
        memo.update(dict.fromkeys(walked, found))
    return found


def _has_tool_table(path: str) -> bool:
    try:
        return b"[tool.aicache-lint" in read_bytes(path)
    except OSError:
        return False


def _load_toml(path: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(read_bytes(path).decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if os.path.basename(path) == "pyproject.toml":
        table = data.get("tool", {}).get("aicache-lint", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.aicache-lint] must be a table")
        return table
    return data


class Resolver:
    """Settings per linted path: the nearest configuration file, then the command line."""

    def __init__(self, overrides: CliOverrides) -> None:
        self.overrides = overrides
        self._by_file: dict[str | None, Settings] = {}
        self._config_in: dict[str, str | None] = {}  # directory -> its nearest configuration file
        if overrides.config is not None and not os.path.isfile(overrides.config):
            raise ConfigError(f"{overrides.config}: no such configuration file")

    def for_path(self, path: str) -> Settings:
        if self.overrides.isolated:
            config = None
        elif self.overrides.config is not None:
            config = os.path.abspath(self.overrides.config)
        else:
            config = find_config(path, self._config_in)
        if config not in self._by_file:
            self._by_file[config] = build_settings(config, self.overrides)
        return self._by_file[config]


def build_settings(config: str | None, cli: CliOverrides) -> Settings:
    """Settings from one configuration file (or none) with the command line on top."""
    values = _validate(_load_toml(config), config) if config else {"selection": Selection()}
    file_layer = values.pop("selection")
    unsafe_fixes = values.pop("unsafe_fixes", False)
    resolve_images = values.pop("resolve_images", False)
    output_format = values.pop("output_format", "text")
    root = os.path.dirname(config) if config else os.getcwd()
    in_file = values.pop("cache_dir", None)
    cache_dir = cli.cache_dir or (os.path.join(root, in_file) if in_file else None)  # the file's: from the file
    return Settings(
        selections=(file_layer, Selection(cli.select, cli.extend_select, cli.ignore)),
        unsafe_fixes=unsafe_fixes if cli.unsafe_fixes is None else cli.unsafe_fixes,
        resolve_images=resolve_images if cli.resolve_images is None else cli.resolve_images,
        output_format=cli.output_format or output_format,
        root=root,
        config_file=config,
        cache_dir=cache_dir,
        **values,
    )


# -- validation -------------------------------------------------------------------------------


def _validate(table: dict[str, Any], path: str) -> dict[str, Any]:
    from aicache_lint.report import FORMATS

    out: dict[str, Any] = {}
    for key in table:
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"{path}: unknown key `{key}` (known keys: {known})")
    for key, (target, check) in _KEYS.items():
        if key in table:
            out[target] = check(table[key], path, key)
    if "output_format" in out and out["output_format"] not in FORMATS:
        raise ConfigError(f"{path}: `output-format`: expected one of {', '.join(FORMATS)}, got {out['output_format']!r}")
    out["selection"] = Selection(out.pop("select", None), out.pop("extend_select", ()), out.pop("ignore", ()))
    if "extend_exclude" in out and "exclude" not in out:
        out["exclude"] = DEFAULT_EXCLUDE
    return out


def _codes(value: Any, path: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: `{key}`: expected a list of rule codes or prefixes (strings), got {value!r}")
    for code in value:
        try:
            check_selector(code)
        except SettingsError:
            raise ConfigError(f"{path}: `{key}`: unknown rule code or prefix `{code}`") from None
    return tuple(value)


def _strings(value: Any, path: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: `{key}`: expected a list of glob patterns (strings), got {value!r}")
    return tuple(value)


def _bool(value: Any, path: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: `{key}`: expected true or false, got {value!r}")
    return value


def _string(value: Any, path: str, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path}: `{key}`: expected a string, got {value!r}")
    return value


def _timeout(value: Any, path: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 300:
        raise ConfigError(f"{path}: `{key}`: expected a number of seconds between 0 and 300, got {value!r}")
    return float(value)


def _mirrors(value: Any, path: str, key: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: `{key}`: expected a table of registry host = \"URL\", got {value!r}")
    for host, url in value.items():
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ConfigError(f"{path}: `{key}.{host}`: expected an http:// or https:// URL, got {url!r}")
    return {host.lower(): url for host, url in value.items()}


def _per_file_ignores(value: Any, path: str, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: `{key}`: expected a table of glob = [rule codes], got {value!r}")
    return tuple((pattern, _codes(codes, path, f"{key}.{pattern}")) for pattern, codes in value.items())


def _severity(value: Any, path: str, key: str) -> dict[str, str]:
    from aicache_lint.rules import lookup

    if not isinstance(value, dict):
        raise ConfigError(f"{path}: `{key}`: expected a table of rule code = severity, got {value!r}")
    out = {}
    for code, level in value.items():
        rule = lookup(code)
        if rule is None:
            raise ConfigError(f"{path}: `{key}.{code}`: unknown rule code")
        if level not in SEVERITIES:
            raise ConfigError(f"{path}: `{key}.{code}`: expected one of {', '.join(SEVERITIES)}, got {level!r}")
        out[rule.code] = level
    return out


def _rule_options(value: Any, path: str, key: str) -> dict[str, dict[str, Any]]:
    from aicache_lint.rules import lookup

    if not isinstance(value, dict):
        raise ConfigError(f"{path}: `{key}`: expected a table of rule code = {{ options }}, got {value!r}")
    out: dict[str, dict[str, Any]] = {}
    for code, options in value.items():
        entry = lookup(code)
        if entry is None:
            raise ConfigError(f"{path}: `{key}.{code}`: unknown rule code")
        if not isinstance(options, dict):
            raise ConfigError(f"{path}: `{key}.{code}`: expected a table of options, got {options!r}")
        rule = entry.load()  # its options and their checks
        for name, option in options.items():
            if name not in rule.default_options:
                known = ", ".join(sorted(rule.default_options)) or "none"
                raise ConfigError(f"{path}: `{key}.{code}.{name}`: unknown option (options of {rule.code}: {known})")
            default = rule.default_options[name]
            if type(option) is not type(default):
                raise ConfigError(
                    f"{path}: `{key}.{code}.{name}`: expected a {type(default).__name__}, got {option!r}"
                )
            problem = rule.check_option(name, option)
            if problem:
                raise ConfigError(
                    f"{path}: `{key}.{code}.{name}`: {problem}, got {option!r}"
                )
        out[rule.code] = dict(options)
    return out


_KEYS: dict[str, tuple[str, Callable[[Any, str, str], Any]]] = {
    "select": ("select", _codes),
    "extend-select": ("extend_select", _codes),
    "ignore": ("ignore", _codes),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "fixable": ("fixable", _codes),
    "unfixable": ("unfixable", _codes),
    "unsafe-fixes": ("unsafe_fixes", _bool),
    "resolve-images": ("resolve_images", _bool),
    "registry-mirrors": ("registry_mirrors", _mirrors),
    "resolve-timeout": ("resolve_timeout", _timeout),
    "exclude": ("exclude", _strings),
    "extend-exclude": ("extend_exclude", _strings),
    "output-format": ("output_format", _string),
    "cache-dir": ("cache_dir", _string),
    "severity": ("severity", _severity),
    "rules": ("rule_options", _rule_options),
}
