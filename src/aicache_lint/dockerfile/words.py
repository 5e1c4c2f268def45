"""Dockerfile-level words (ENV, ARG, USER, FROM arguments) and BuildKit-style variable expansion.

Values come back as ``None`` when they depend on a variable whose value cannot be known here (a
build argument without a default, or ``$HOME`` when only the runtime sets it). Fixes never guess.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from aicache_lint.source import MappedText

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DWord(NamedTuple):
    raw: str
    start: int  # index into the MappedText the word came from
    end: int


# Go's unicode.IsSpace, which BuildKit splits and trims with (str.isspace also takes \x1c-\x1f).
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def split_words(text: str, escape: str = "\\") -> list[DWord]:
    """BuildKit's parseWords, with offsets: whitespace-separated words whose quotes and escapes
    stay in ``raw``; a quoted empty word counts; a lone escape at the very end is dropped."""
    words: list[DWord] = []
    start: int | None = None
    quote = ""
    blank_ok = False
    i, n = 0, len(text)
    stop = n
    while i < n:
        ch = text[i]
        if start is None:
            if ch in GO_SPACE:
                i += 1
                continue
            start = i
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                if i + 1 == n:
                    stop = i
                    break
                i += 1
            i += 1
            continue
        if ch in GO_SPACE:
            if blank_ok or i > start:
                words.append(DWord(text[start:i], start, i))
            start, blank_ok = None, False
            i += 1
            continue
        if ch in "'\"":
            quote, blank_ok = ch, True
        elif ch == escape:
            if i + 1 == n:
                stop = i
                break
            i += 1
        i += 1
    if start is not None and (blank_ok or stop > start):
        words.append(DWord(text[start:stop], start, stop))
    return words


def expand(raw: str, env: dict[str, str | None], escape: str = "\\") -> str | None:
    """Remove quotes and expand ``$VAR``/``${VAR}``/``${VAR:-d}``/``${VAR-d}``/``${VAR:+x}``.

    Returns None when the result depends on an unknown variable.
    """
    out: list[str] = []
    i, n = 0, len(raw)
    quote = ""
    while i < n:
        ch = raw[i]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
            i += 1
            continue
        if ch == '"':
            quote = "" if quote == '"' else '"'
            i += 1
            continue
        if ch == "'" and not quote:
            quote = "'"
            i += 1
            continue
        if ch == escape and i + 1 < n:
            out.append(raw[i + 1])
            i += 2
            continue
        if ch == "$" and i + 1 < n:
            value, i = _expand_var(raw, i + 1, env, escape)
            if value is None:
                return None
            out.append(value)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _expand_var(raw: str, i: int, env: dict[str, str | None], escape: str) -> tuple[str | None, int]:
    if raw[i] == "{":
        close = _matching_brace(raw, i)
        if close == -1:
            return None, len(raw)
        inner = raw[i + 1 : close]
        m = _NAME.match(inner)
        if not m:
            return None, close + 1
        name, op = m.group(), inner[m.end() :]
        value = env.get(name)
        if name in env and value is None:
            return None, close + 1  # set to a value that cannot be known here
        if not op:
            # Unset here may still be set by the base image: unknown, not empty.
            return value, close + 1
        for prefix in (":-", "-", ":+", "+"):
            if op.startswith(prefix):
                word = op[len(prefix) :]
                is_set = value is not None and (value != "" or ":" not in prefix)
                if prefix.endswith("-"):
                    return (value if is_set else expand(word, env, escape)), close + 1
                return (expand(word, env, escape) if is_set else ""), close + 1
        return None, close + 1
    m = _NAME.match(raw, i)
    if not m:
        return "$", i
    name = m.group()
    return (env.get(name) if name in env else None), m.end()


def _matching_brace(raw: str, i: int) -> int:
    depth = 0
    for j in range(i, len(raw)):
        if raw[j] == "{":
            depth += 1
        elif raw[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


class KeyValue(NamedTuple):
    key: str
    raw_value: str | None  # None for `ARG NAME` with no default
    start: int  # index range of the whole pair in the instruction's args MappedText
    end: int


def key_values(args: MappedText, keyword: str, escape: str = "\\") -> list[KeyValue]:
    """ENV/ARG/LABEL pairs. ``ENV key value with spaces`` (legacy form) is one pair."""
    words = split_words(args.text, escape)
    if not words:
        return []
    first = words[0]
    if keyword == "ENV" and "=" not in first.raw:
        value_start = words[1].start if len(words) > 1 else first.end
        value = args.text[value_start:].rstrip()
        return [KeyValue(first.raw, value, first.start, value_start + len(value))]
    pairs = []
    for w in words:
        key, eq, value = w.raw.partition("=")
        pairs.append(KeyValue(key, value if eq else None, w.start, w.end))
    return pairs
