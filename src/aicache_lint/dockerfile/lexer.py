"""A Dockerfile lexer that follows BuildKit's parser (frontend/dockerfile/parser/parser.go).

It keeps exact offsets: each instruction's joined argument text carries a map back to the file, so
a rule can point at, and edit, any byte. Behaviour copied from BuildKit on purpose:

* parser directives (`syntax`, `escape`, `check`) only in the unbroken block at the top; a blank
  line, a non-directive comment or an instruction ends the block; a repeated directive is an error;
* a line continues when it ends with the escape character (optionally followed by spaces or tabs)
  that is not itself escaped; comment lines and blank lines inside a continuation are dropped;
* leading whitespace is stripped from an instruction's first line only;
* heredocs (RUN/COPY/ADD, shell form) are found among the words of the joined line; their bodies
  are the raw lines up to the terminator and are never read as instructions; a line that BuildKit's
  shell lexer cannot split (unterminated quote, malformed `${...}`) has no heredocs;
* the errors BuildKit's parser raises are errors here too: JSON arrays of non-strings, ENV/LABEL
  without a value or `=`, unterminated heredocs, lines of 64 KiB or more, bad directives.

Where BuildKit versions differ we follow current BuildKit (v0.15+): `check` is a directive, a JSON
array followed by more text is shell form, and `${a/b/c}`, `${a%b}`, `${a#b}` lex fine.
"""

from __future__ import annotations

import re

from aicache_lint.dockerfile.model import (
    HEREDOC_CAPABLE,
    INSTRUCTIONS,
    JSON_CAPABLE,
    Directive,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    MountOption,
    ParseError,
)
from aicache_lint.dockerfile.words import GO_SPACE, split_words
from aicache_lint.source import MappedText, SourceText, Span

# Go's RE2 `\s` is [\t\n\f\r ] only (Python's would also take \v and Unicode spaces).
_DIRECTIVE = re.compile(r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$")
_KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)([^<]*)$")
_KEYWORD_END = re.compile(r"[\t\v\f\r ]")
_ASCII_SPACE = "\t\n\v\f\r "
# bufio.Scanner's default token limit: BuildKit refuses a line of this many bytes or more.
_MAX_LINE_BYTES = 64 * 1024


def _lstrip_len(s: str) -> int:
    return len(s) - len(s.lstrip(GO_SPACE))


class _Lines:
    """The file's lines as (start, content_end, next_start); content excludes trailing CR/LF."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.bounds: list[tuple[int, int, int]] = []
        pos, n = 0, len(text)
        while pos < n:
            nl = text.find("\n", pos)
            nxt = n if nl == -1 else nl + 1
            end = n if nl == -1 else nl
            while end > pos and text[end - 1] == "\r":
                end -= 1
            self.bounds.append((pos, end, nxt))
            pos = nxt

    def __len__(self) -> int:
        return len(self.bounds)

    def content(self, i: int) -> str:
        start, end, _ = self.bounds[i]
        return self.text[start:end]


def _continuation_cut(line: str, escape: str) -> int | None:
    """Where the continuation marker starts, or None when ``line`` does not continue.

    BuildKit: ``([^E])E[ \\t]*$|^E[ \\t]*$`` -- an escaped escape character does not continue.
    """
    stripped = line.rstrip(" \t")
    if not stripped.endswith(escape):
        return None
    cut = len(stripped) - 1
    if cut > 0 and line[cut - 1] == escape:
        return None
    return cut


def parse(source: SourceText) -> Dockerfile:
    return _Lexer(source).run()


class _Lexer:
    def __init__(self, source: SourceText) -> None:
        self.source = source
        self.lines = _Lines(source.text)
        self.escape = "\\"
        self.directives: list[Directive] = []
        self.instructions: list[Instruction] = []
        self.comments: list[Span] = []
        self.errors: list[ParseError] = []
        self._directives_done = False

    def run(self) -> Dockerfile:
        self._check_line_lengths()
        i, n = 0, len(self.lines)
        while i < n:
            start, end, _ = self.lines.bounds[i]
            raw = self.lines.content(i)
            lead = _lstrip_len(raw)
            stripped = raw[lead:]
            self._maybe_directive(stripped, Span(start, end))
            if stripped.startswith("#"):
                self.comments.append(Span(start + lead, end))
                i += 1
                continue
            if not stripped:
                i += 1
                continue
            i = self._instruction(i, start + lead, stripped)
        return Dockerfile(
            self.source, self.escape, self.directives, self.instructions, self.comments, self.errors
        )

    def _check_line_lengths(self) -> None:
        """BuildKit's line scanner fails on a line of 64 KiB or more (its CR included, LF not)."""
        text = self.source.text
        for index, (start, _, nxt) in enumerate(self.lines.bounds):
            stop = nxt - 1 if text.endswith("\n", 0, nxt) else nxt
            if (stop - start) * 4 < _MAX_LINE_BYTES - 3:
                continue  # cannot reach the limit even at 4 UTF-8 bytes a character
            size = len(text[start:stop].encode("utf-8")) + (3 if index == 0 and self.source.bom else 0)
            if size >= _MAX_LINE_BYTES:
                self.errors.append(
                    ParseError(
                        f"dockerfile line greater than max allowed size of {_MAX_LINE_BYTES - 1}",
                        Span(start, stop),
                    )
                )

    # -- directives ---------------------------------------------------------------------------

    def _maybe_directive(self, stripped: str, span: Span) -> None:
        if self._directives_done:
            return
        m = _DIRECTIVE.match(stripped)
        name = m.group(1).lower() if m else ""
        if name not in _KNOWN_DIRECTIVES:
            self._directives_done = True
            return
        value = m.group(2)  # type: ignore[union-attr]
        if any(d.name == name for d in self.directives):
            self.errors.append(ParseError(f"only one {name} parser directive can be used", span))
            return
        self.directives.append(Directive(name, value, span))
        if name == "escape":
            if value in ("\\", "`"):
                self.escape = value
            else:
                self.errors.append(
                    ParseError(f"invalid escape token '{value}' does not match ` or \\", span)
                )

    # -- instructions -------------------------------------------------------------------------

    def _instruction(self, first: int, start: int, stripped: str) -> int:
        """Lex the instruction starting on line ``first``; return the index of the next line."""
        self._directives_done = True
        pieces: list[MappedText] = []
        cut = _continuation_cut(stripped, self.escape)
        pieces.append(MappedText.contiguous(stripped if cut is None else stripped[:cut], start))
        last = first
        continues = cut is not None
        while continues and last + 1 < len(self.lines):
            last += 1
            line_start, line_end, _ = self.lines.bounds[last]
            raw = self.lines.content(last)
            lead = _lstrip_len(raw)
            if raw[lead:].startswith("#"):
                self.comments.append(Span(line_start + lead, line_end))
                continue
            if lead == len(raw):
                continue  # an empty continuation line (BuildKit warns, keeps going)
            cut = _continuation_cut(raw, self.escape)
            continues = cut is not None
            pieces.append(MappedText.contiguous(raw if cut is None else raw[:cut], line_start))
        joined = MappedText.join(pieces)
        instruction = self._build(joined, first, last)
        if instruction.keyword in HEREDOC_CAPABLE or (
            instruction.inner is not None and instruction.inner.keyword in HEREDOC_CAPABLE
        ):
            target = instruction.inner or instruction
            if target.is_shell_form and "<<" in joined.text:
                last = self._heredocs(target, joined.text, last)
                if target is not instruction:
                    instruction.heredocs = target.heredocs
        instruction.end_line = last + 1
        # From the first line's content, which is before the keyword when that line is a bare
        # escape character (BuildKit counts the instruction from there too).
        instruction.span = Span(start, self.lines.bounds[last][1])
        if instruction.inner is not None:
            instruction.inner.end_line = instruction.end_line
            instruction.inner.span = Span(instruction.inner.span.start, instruction.span.end)
        self.instructions.append(instruction)
        return last + 1

    def _build(self, joined: MappedText, first: int, last: int) -> Instruction:
        text = joined.text
        # BuildKit trims the joined line first: it starts with whitespace when the first line was a
        # bare escape character, e.g. "\\\n   RUN x" is a RUN.
        kw_start = _lstrip_len(text)
        trimmed_end = len(text.rstrip(GO_SPACE))  # `RUN\u00a0` is RUN: Go's TrimSpace is Unicode
        m = _KEYWORD_END.search(text, kw_start, trimmed_end)
        kw_end = m.start() if m else max(kw_start, trimmed_end)
        keyword = text[kw_start:kw_end].upper()
        kw_span = joined.file_span(kw_start, kw_end)
        # Only ASCII whitespace before the flags: BuildKit scans them byte by byte.
        rest_at = kw_end + len(text[kw_end:]) - len(text[kw_end:].lstrip(_ASCII_SPACE))
        instruction = Instruction(
            keyword=keyword,
            keyword_span=kw_span,
            span=Span(kw_span.start, kw_span.end),
            start_line=first + 1,
            end_line=last + 1,
            flags=[],
            args=joined.slice(rest_at, len(text)),
            json_args=None,
            heredocs=[],
        )
        if keyword not in INSTRUCTIONS:
            word = text[kw_start:kw_end]
            self.errors.append(ParseError(f"unknown instruction: {word}", kw_span))
            return instruction
        rest = joined.slice(rest_at, len(text))
        if keyword == "ONBUILD":
            instruction.args = rest
            if rest.text.strip():
                instruction.inner = self._build(rest, first, last)
            return instruction
        flags, args_at = _extract_flags(rest)
        instruction.flags = flags
        args = rest.slice(args_at, len(rest.text))
        instruction.args = args
        # Errors that BuildKit's line parsers raise (parser/line_parsers.go).
        try:
            if keyword in JSON_CAPABLE:
                instruction.json_args = _json_array(args.text)
            elif keyword == "HEALTHCHECK":  # `HEALTHCHECK CMD [...]`: the part after the type
                parts = args.text.strip(GO_SPACE).split(None, 1)
                if len(parts) == 2:
                    _json_array(parts[1])
        except _NotStringArray:
            self.errors.append(
                ParseError(
                    "when using JSON array syntax, arrays must be comprised of strings only",
                    joined.file_span(rest_at, len(text)),
                )
            )
        if keyword in ("ENV", "LABEL"):
            message = _name_val_error(args.text.strip(GO_SPACE), keyword, self.escape)
            if message:
                self.errors.append(ParseError(message, joined.file_span(rest_at, len(text))))
        return instruction

    def _heredocs(self, instruction: Instruction, line: str, last: int) -> int:
        for fd, strip_tabs, name, quoted in _find_heredocs(line):
            body_first = last + 1
            terminated = False
            while last + 1 < len(self.lines):
                last += 1
                candidate = self.lines.content(last)
                if strip_tabs:
                    candidate = candidate.lstrip("\t")
                if candidate == name:
                    terminated = True
                    break
            bounds = self.lines.bounds
            body_start = bounds[body_first][0] if body_first < len(bounds) else len(self.source.text)
            if terminated:
                body_end = bounds[last][0]
                span_end = bounds[last][1]
            else:
                body_end = span_end = len(self.source.text)
                self.errors.append(
                    ParseError(f"unterminated heredoc {name!r}", instruction.keyword_span)
                )
            instruction.heredocs.append(
                Heredoc(
                    name=name,
                    strip_tabs=strip_tabs,
                    quoted=quoted,
                    fd=int(fd) if fd else 0,
                    body_span=Span(body_start, body_end),
                    span=Span(body_start, span_end),
                    content=self.source.text[body_start:body_end],
                )
            )
            if not terminated:
                return max(last, body_first - 1)
        return last


def _shell_words(line: str) -> list[str]:
    """Split like BuildKit's shell lexer with raw quotes and raw escapes (quotes stay in words)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    i, n = 0, len(line)
    in_word = False
    while i < n:
        ch = line[i]
        if quote:
            word.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < n:
                word.append(line[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in GO_SPACE:  # unicode.IsSpace, as BuildKit's shell lexer splits
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
        else:
            in_word = True
            word.append(ch)
            if ch in "'\"":
                quote = ch
            elif ch == "\\" and i + 1 < n:
                word.append(line[i + 1])
                i += 1
        i += 1
    if in_word:
        words.append("".join(word))
    return words


def _unquote(word: str) -> str:
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(word):
        ch = word[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(word) and word[i + 1] in '"\\$':
                i += 1  # BuildKit's lexer escapes only " $ and \ inside double quotes
                out.append(word[i])
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == "\\":
            if i + 1 < len(word):  # a lone escape at the end is dropped, as BuildKit does
                i += 1
                out.append(word[i])
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _find_heredocs(line: str) -> list[tuple[str, bool, str, bool]]:
    """(fd, strip_tabs, name, quoted) for each heredoc word of the joined line, in order."""
    found: list[tuple[str, bool, str, bool]] = []
    if _shell_lex_fails(line):
        return found  # BuildKit ignores the error and finds no words, hence no heredocs
    for word in _shell_words(line):
        m = _HEREDOC_WORD.match(word)
        if not m or not m.group(3):
            continue
        rest = m.group(3)
        name = _unquote(rest)
        if not name:  # `<<''`: BuildKit wants exactly one word; a quoted `<<"A B"` is one
            continue
        found.append((m.group(1), m.group(2) == "-", name, "'" in rest or '"' in rest))
    return found


def _shell_lex_fails(line: str) -> bool:
    """True when BuildKit's shell lexer (shell/lex.go ``ProcessWords``) fails on ``line``.

    BuildKit looks for heredocs among the words of the whole joined line and silently finds none
    when lexing fails: an unterminated quote, or a malformed ``${...}`` such as ``${FOO bar}``,
    ``${#FOO}``, ``${}``. Follows current BuildKit, which accepts ``${a/b/c}``, ``${a%b}``, ``${a#b}``.
    """
    n = len(line)

    def stop_on(i: int, stop: str | None) -> int:
        while i < n:
            ch = line[i]
            if stop is not None and ch == stop:
                return i + 1
            if ch == "$":
                i = dollar(i + 1)
            elif ch == "'":
                end = line.find("'", i + 1)
                if end == -1:
                    raise ValueError("unterminated single quote")
                i = end + 1
            elif ch == '"':
                i = double(i + 1)
            elif ch == "\\":
                if i + 1 >= n:
                    break
                i += 2
            else:
                i += 1
        if stop is not None:
            raise ValueError(f"missing {stop}")
        return i

    def double(i: int) -> int:
        while True:
            if i >= n:
                raise ValueError("unterminated double quote")
            ch = line[i]
            if ch == '"':
                return i + 1
            if ch == "$":
                i = dollar(i + 1)
                continue
            i += 1
            if ch == "\\" and i < n and line[i] in '"$\\':
                i += 1

    def name(i: int) -> int:
        if i < n and line[i].isdecimal():
            while i < n and line[i].isdecimal():
                i += 1
            return i
        if i < n and line[i] in "@*#?-$!0":
            return i + 1
        while i < n and (line[i].isalpha() or line[i].isdecimal() or line[i] == "_"):
            i += 1
        return i

    def dollar(i: int) -> int:  # ``i`` is just after the ``$``
        if i >= n or line[i] != "{":
            return name(i)
        i += 1
        if i >= n or line[i] in "{}:":
            raise ValueError("bad substitution")
        i = name(i)
        ch = line[i] if i < n else ""
        i += 1
        if ch == "}":
            return i
        if ch == ":":  # Go falls through with whatever character follows
            return stop_on(i + 1, "}")
        if ch and ch in "+-?#%":
            return stop_on(i, "}")
        if ch == "/":
            if i < n and line[i] == "/":
                i += 1
            return stop_on(stop_on(i, "/"), "}")
        raise ValueError("unsupported modifier")

    try:
        stop_on(0, None)
    except ValueError:
        return True
    return False


def _extract_flags(rest: MappedText) -> tuple[list[Flag], int]:
    """Leading `--name[=value]` words (BuildKit's extractBuilderFlags); returns the args offset."""
    text = rest.text
    flags: list[Flag] = []
    # BuildKit parses the trimmed line: trailing whitespace is not part of the last flag.
    i, n = 0, len(text.rstrip(GO_SPACE))
    while True:
        while i < n and text[i] in _ASCII_SPACE:
            i += 1
        if not text.startswith("--", i):
            return flags, i + _lstrip_len(text[i:])  # the arguments are trimmed
        start = i
        value_chars: list[str] = []
        value_index: list[int] = []
        quote = ""
        while i < n and (quote or text[i] not in GO_SPACE):
            ch = text[i]
            if quote:
                if ch == quote:
                    quote = ""
                    i += 1
                    continue
            elif ch in "'\"":
                quote = ch
                i += 1
                continue
            if ch == "\\":
                if i + 1 == n:  # BuildKit skips an escape at the very end of the line
                    i += 1
                    continue
                i += 1
                ch = text[i]
            value_chars.append(ch)
            value_index.append(i)
            i += 1
        word = "".join(value_chars)
        if word == "--":  # BuildKit trims the arguments that follow
            while i < n and text[i] in GO_SPACE:
                i += 1
            return flags, i
        flags.append(_make_flag(rest, word, value_index, start, i))


def _make_flag(rest: MappedText, word: str, index: list[int], start: int, end: int) -> Flag:
    body = word[2:]
    eq = body.find("=")
    if eq == -1:
        return Flag(body, None, rest.file_span(start, end), None)
    name, value = body[:eq], body[eq + 1 :]
    value_at = 2 + eq + 1  # position of the value's first char within ``word``
    # The raw value starts right after the `=` (so `--mount="a=b"` keeps both of its quotes).
    raw_value_start = index[value_at - 1] + 1
    value_span = rest.file_span(raw_value_start, end)
    options: tuple[MountOption, ...] = ()
    if name.lower() == "mount":
        offsets = [rest.offsets[j] for j in index[value_at:]]
        options = tuple(_mount_options(value, offsets, value_span.end))
    return Flag(name, value, rest.file_span(start, end), value_span, options)


def _mount_options(value: str, offsets: list[int], end_offset: int) -> list[MountOption]:
    """Split a --mount value as CSV fields (double quotes group), with file spans."""
    options: list[MountOption] = []
    fields: list[tuple[int, int]] = []
    quote = False
    field_start = 0
    for i, ch in enumerate(value):
        if ch == '"':
            quote = not quote
        elif ch == "," and not quote:
            fields.append((field_start, i))
            field_start = i + 1
    fields.append((field_start, len(value)))

    def span(a: int, b: int) -> Span:
        start = offsets[a] if a < len(offsets) else end_offset
        stop = offsets[b - 1] + 1 if b > a else start
        return Span(start, stop)

    for a, b in fields:
        # encoding/csv: a field may be wrapped in double quotes (`"target=/a,b"`), in which `""`
        # stands for one quote; the key then starts after the opening quote.
        ca, cb = a, b
        quoted = a < b and value[a] == '"'
        if quoted:
            ca += 1
            if cb > ca and value[cb - 1] == '"':
                cb -= 1
        text = value[ca:cb]
        if not text:
            continue
        eq = text.find("=")
        if eq == -1:
            key = text.replace('""', '"') if quoted else text
            options.append(MountOption(key.lower(), None, span(a, b), span(ca, cb), None))
        else:
            key, val = text[:eq], text[eq + 1 :]
            options.append(
                MountOption(
                    (key.replace('""', '"') if quoted else key).lower(),
                    val.replace('""', '"') if quoted else val.replace('"', ""),
                    span(a, b),
                    span(ca, ca + eq),
                    span(ca + eq + 1, cb),
                )
            )
    return options


class _NotStringArray(Exception):
    """Valid JSON array with a non-string item: BuildKit's parseJSON refuses it."""


def _reject_constant(name: str) -> None:
    raise ValueError(name)  # NaN and Infinity are not JSON for Go's encoding/json


# A JSON array of strings without escapes, the usual exec form (`["python", "app.py"]`): read without
# importing json (2-3 ms of a lint's start-up). JSON whitespace is space, tab, CR and LF; a string
# holds no quote, backslash or control character.
_PLAIN_STRING = r'"[^"\\\x00-\x1f]*"'
_PLAIN_ARRAY = re.compile(rf"\[[ \t\r\n]*(?:{_PLAIN_STRING}(?:[ \t\r\n]*,[ \t\r\n]*{_PLAIN_STRING})*)?[ \t\r\n]*\]")
_PLAIN_ITEM = re.compile(_PLAIN_STRING)


def _json_array(text: str) -> list[str] | None:
    stripped = text.strip(GO_SPACE)
    if not stripped.startswith("["):
        return None
    if _PLAIN_ARRAY.fullmatch(stripped):
        return [m.group()[1:-1] for m in _PLAIN_ITEM.finditer(stripped)]
    import json

    try:
        value = json.loads(stripped, parse_constant=_reject_constant)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise _NotStringArray()
    return value


def _name_val_error(rest: str, keyword: str, escape: str) -> str | None:
    """The error BuildKit's parseNameVal raises for ENV/LABEL arguments, if any."""
    words = [w.raw for w in split_words(rest, escape)]
    if not words:
        return None
    if "=" not in words[0]:  # old `KEY name value` form
        if len(re.split(r"[\t\v\f\r ]+", rest, maxsplit=1)) < 2:
            return f"{keyword} must have two arguments"
        return None
    for word in words:
        if "=" not in word:
            return f"Syntax error - can't find = in \"{word}\". Must be of the form: name=value"
    return None
