"""Compose interpolation (CS `12-interpolation.md`) and the `.env` file it reads.

Differs from the Dockerfile ``expand``: no quote removal, `$$` is a literal `$`, `${VAR:?err}` and
`${VAR?err}` exist, and a `$` followed by anything else is an error in Compose. A linter does not
know the shell's environment, so a variable missing from ``env`` is *unknown*: a default applies
when one is written, else the result is None, which rules must tell apart from "" (set but empty).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", "-", ":?", "?", ":+", "+")


class Interpolation(NamedTuple):
    value: str | None  # None when the result depends on a variable we cannot know
    variables: tuple[str, ...]  # every name referenced, in order
    unknown: tuple[str, ...]  # names that made the value unknown
    error: str | None  # an invalid template, or `${VAR:?message}` with VAR known to be unset/empty


def interpolate(raw: str, env: Mapping[str, str | None]) -> Interpolation:
    """Interpolate ``raw`` with ``env`` (a None value: set, but to a value we cannot know)."""
    state = _State(env)
    value = state.run(raw)
    return Interpolation(value, tuple(state.variables), tuple(state.unknown), state.error)


def substitute(raw: str, env: Mapping[str, str | None]) -> str | None:
    """Just the value of ``interpolate`` (None when unknown or invalid)."""
    result = interpolate(raw, env)
    return None if result.error else result.value


def has_variables(raw: str) -> bool:
    return "$" in raw


class _State:
    def __init__(self, env: Mapping[str, str | None]) -> None:
        self.env = env
        self.variables: list[str] = []
        self.unknown: list[str] = []
        self.error: str | None = None

    def run(self, raw: str) -> str | None:
        out: list[str] = []
        known = True
        i, n = 0, len(raw)
        while i < n:
            j = raw.find("$", i)
            if j == -1:
                out.append(raw[i:])
                break
            out.append(raw[i:j])
            if j + 1 < n and raw[j + 1] == "$":
                out.append("$")
                i = j + 2
                continue
            value, i = self._variable(raw, j + 1)
            if value is None:
                known = False
            else:
                out.append(value)
        if self.error:
            return None
        return "".join(out) if known else None

    def _variable(self, raw: str, i: int) -> tuple[str | None, int]:
        if i < len(raw) and raw[i] == "{":
            close = _matching_brace(raw, i)
            if close == -1:
                self._fail(f"invalid interpolation format: unclosed '${{' in {raw!r}")
                return None, len(raw)
            inner = raw[i + 1 : close]
            m = _NAME.match(inner)
            if not m:
                self._fail(f"invalid interpolation format: '${{{inner}}}'")
                return None, close + 1
            return self._braced(m.group(), inner[m.end():]), close + 1
        m = _NAME.match(raw, i)
        if not m:
            self._fail(f"invalid interpolation format: a lone '$' in {raw!r} (write '$$' for a literal '$')")
            return None, i
        return self._lookup(m.group()), m.end()

    def _lookup(self, name: str) -> str | None:
        self.variables.append(name)
        if name not in self.env or self.env[name] is None:
            self.unknown.append(name)
            return None
        return self.env[name]

    def _braced(self, name: str, op: str) -> str | None:
        if not op:
            return self._lookup(name)
        prefix = next((p for p in _OPERATORS if op.startswith(p)), None)
        if prefix is None:
            self._fail(f"invalid interpolation format: '${{{name}{op}}}'")
            return None
        word = op[len(prefix):]
        self.variables.append(name)
        present = name in self.env
        value = self.env.get(name)
        if present and value is None:  # set to something we cannot know
            self.unknown.append(name)
            return None
        is_set = present and (value != "" or ":" not in prefix)
        if prefix.endswith("-"):
            return value if is_set else self.run(word)
        if prefix.endswith("+"):
            return self.run(word) if is_set else ""
        # `?`: required. Absent from env means "maybe set in the shell": unknown, not an error.
        if is_set:
            return value
        if present:
            self._fail(f"required variable {name} is empty: {word or 'no message'}")
        else:
            self.unknown.append(name)
        return None

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message


def _matching_brace(raw: str, i: int) -> int:
    depth = 0
    for j in range(i, len(raw)):
        ch = raw[j]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


def parse_dotenv(text: str, env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Variables of a `.env` file (CS env_file syntax): `KEY=VAL`, `export KEY=VAL`, comments,
    single quotes literal, double quotes with `\\n` escapes, unquoted values end at ` #`.
    Later lines may use earlier ones (and ``env``) in `${VAR}` references."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            continue
        value = value.strip()
        scope = {**(env or {}), **found}
        if value[:1] == "'" and value.find("'", 1) != -1:
            value = value[1 : value.find("'", 1)]
        elif value[:1] == '"' and value.find('"', 1) != -1:
            inner = value[1 : value.rfind('"')]
            inner = inner.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
            value = substitute(inner, scope) or inner
        else:
            hash_at = value.find(" #")
            value = value[:hash_at].rstrip() if hash_at != -1 else value
            value = substitute(value, scope) or value
        found[key] = value
    return found
