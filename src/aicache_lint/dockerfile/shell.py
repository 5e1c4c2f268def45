"""A shell tokenizer for the text of RUN instructions, with exact offsets.

This is not a shell parser. It splits a script into simple commands (words, assignments,
redirections) joined by control operators, walks through compound commands (if, for, while,
case, subshells, groups, functions, ``[[ ]]``) to find the simple commands inside, and tokenizes
again what a shell would run as code: ``$(...)`` and backticks, ``sh -c '...'`` arguments and
heredocs fed to a shell. Every span is an offset into the script's ``MappedText.text``; nested
scripts get their own ``MappedText`` that maps back to the file.

It never raises: what it cannot tokenize (an unclosed quote, a missing ``fi``) becomes an
*opaque* region running to the end of the script, which rules may report on but never edit.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from aicache_lint.source import MappedText, Span

# --------------------------------------------------------------------------------------------
# Public model


class Word(NamedTuple):
    raw: str
    value: str
    start: int
    end: int
    quoted: bool
    has_expansion: bool
    value_index: tuple[int, ...]


class Operator(NamedTuple):
    text: str
    start: int
    end: int


class ShellHeredoc(NamedTuple):
    delimiter: str
    strip_tabs: bool
    quoted: bool
    body_start: int
    body_end: int


class Redirect:
    __slots__ = ("op", "fd", "target", "start", "end", "heredoc")

    def __init__(
        self, op: str, fd: str | None, target: Word | None, start: int, end: int, heredoc: ShellHeredoc | None = None
    ) -> None:
        self.op = op
        self.fd = fd
        self.target = target
        self.start = start
        self.end = end
        self.heredoc = heredoc  # set once the body is found

    def __repr__(self) -> str:
        return f"Redirect({self.fd or ''}{self.op} {self.target.raw if self.target else ''!s})"


# Commands and scripts point at each other: identity equality (the default) and a short repr
# keep comparisons and printing from walking the whole graph.
class Command:
    __slots__ = ("assignments", "words", "redirects", "start", "end", "op_before", "op_after", "conditional",
                 "script", "parent")

    def __init__(
        self,
        assignments: list[Word],
        words: list[Word],
        redirects: list[Redirect],
        start: int,
        end: int,
        op_before: Operator | None,
        op_after: Operator | None,
        conditional: bool,
        script: Script,
        parent: Command | None = None,
    ) -> None:
        self.assignments = assignments
        self.words = words
        self.redirects = redirects
        self.start = start
        self.end = end
        self.op_before = op_before
        self.op_after = op_after
        self.conditional = conditional
        self.script = script
        self.parent = parent

    def __repr__(self) -> str:
        return f"Command({' '.join(w.raw for w in self.words)!r})"


class Script:
    __slots__ = ("source", "commands", "opaque", "exec_form")

    def __init__(
        self,
        source: MappedText,
        commands: list[Command],
        opaque: list[tuple[int, int]],
        exec_form: bool = False,  # words are JSON string literals of an exec-form RUN: never edit them
    ) -> None:
        self.source = source
        self.commands = commands
        self.opaque = opaque
        self.exec_form = exec_form

    def __repr__(self) -> str:
        return f"Script({len(self.commands)} commands, {len(self.opaque)} opaque)"

    def file_span(self, start: int, end: int) -> Span:
        return self.source.file_span(start, end)


class Invocation(NamedTuple):
    program: str
    args: list[Word]
    env: dict[str, Word]
    command: Command
    program_words: list[Word]


def parse_script(source: MappedText) -> Script:
    """Tokenize a shell script; never raises."""
    return _Parser(source, parent=None, conditional=False, depth=0).run()


# --------------------------------------------------------------------------------------------
# Lexical tables

_WORD_END = frozenset(" \t\r\n;&|()<>")
_VAR_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@*#?$!-")
_CASE_ENDS = frozenset({";;", ";&", ";;&"})
# Reserved words that end a list; met where no list expects them they are a syntax error.
_CLOSERS = frozenset({"then", "elif", "else", "fi", "do", "done", "esac", "}"})
# Not programs (`time` is absent on purpose: normalize sees through it like a wrapper).
_KEYWORDS = _CLOSERS | {"if", "for", "in", "while", "until", "case", "{", "!", "[[", "]]", "select", "function"}
_TESTS = frozenset({"[", "[[", "test"})
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash", "ksh"})
_ANSI_C = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
           "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_HEX = frozenset("0123456789abcdefABCDEF")

_OP_RE = re.compile(r";;&|;;|;&|;|&&|\|\||\|&|&|\|")
# `&>` must be tried before the `&` control operator, so redirections are matched first.
_REDIR_RE = re.compile(r"(\d*)(<<<|<<-|<<|<&|<>|<|>>|>&|>\||>|&>>|&>)")
# A run of characters that mean nothing to the word reader or to _scan, consumed in one step.
_PLAIN_RE = re.compile(r"[^ \t\r\n;&|()<>\\'\"`${}#]+")
_ASSIGN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")

# Nesting limits keep recursion far from Python's stack limit; deeper input becomes opaque.
_MAX_NEST = 64  # compound commands inside each other
_MAX_DEPTH = 24  # $(...), sh -c and heredoc scripts inside each other


class _Opaque(Exception):
    """Raised where tokenizing stops; the rest of the region is opaque."""

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


_CLOSER = {"(": ")", "{": "}", '"': '"', "`": "`"}


def _scan(s: str, i: int, hi: int) -> int:
    """Index just past the construct opening at ``s[i]``: ``$(``, ``${``, ``(``, ``"``, ``'`` or a backtick.

    Constructs nest in any order; an explicit stack keeps deep nesting off the Python stack.
    Raises _Opaque(i) when the construct is not closed before ``hi``.
    """
    origin = i
    if s[i] == "$":
        i += 1
    if s[i] == "'":
        k = s.find("'", i + 1, hi)
        if k < 0:
            raise _Opaque(origin)
        return k + 1
    stack = [[s[i], 0, i + 1]]  # [opener, open `case` count, index after the opener]
    j = i + 1
    while j < hi:
        frame = stack[-1]
        kind, c = frame[0], s[j]
        if c == "\\":
            j += 2
            continue
        if kind == "(" and (j == frame[2] or s[j - 1] in _WORD_END):
            k = _skip_code_word(s, j, hi, frame)
            if k != j:
                j = k
                continue
        plain = _PLAIN_RE.match(s, j, hi)
        if plain:
            j = plain.end()
            continue
        if c == _CLOSER[kind] and not (kind == "(" and frame[1]):  # in a case, `)` ends a pattern
            stack.pop()
            if not stack:
                return j + 1
            j += 1
        elif kind == "`":  # backticks hold no other construct
            j += 1
        elif c == "$" and j + 1 < hi and s[j + 1] in "({":
            stack.append([s[j + 1], 0, j + 2])
            j += 2
        elif c in "`\"" or c == kind:
            stack.append([c, 0, j + 1])
            j += 1
        elif c == "'" and kind != '"':
            k = s.find("'", j + 1, hi)
            if k < 0:
                break
            j = k + 1
        else:
            j += 1
    raise _Opaque(origin)


def _skip_code_word(s: str, j: int, hi: int, frame: list) -> int:
    """At a word start inside ``(...)``: skip a comment, or count a ``case``/``esac`` word."""
    if s[j] == "#":
        k = s.find("\n", j, hi)
        return hi if k < 0 else k
    for word, step in (("case", 1), ("esac", -1)):
        after = j + 4
        if s.startswith(word, j) and (after >= hi or s[after] in _WORD_END) and _command_position(s, j, frame[2]):
            frame[1] = max(0, frame[1] + step)
            return after
    return j


def _command_position(s: str, j: int, lo: int) -> bool:
    """Rough test that the word at ``j`` starts a command: after an operator or at the start."""
    k = j - 1
    while k >= lo and s[k] in " \t\r":
        k -= 1
    return k < lo or s[k] in ";&|(\n"


def _ansi_escape(s: str, k: int, hi: int) -> tuple[str, int] | None:
    """The character for the ``$'...'`` escape whose letter is at ``s[k]``, and the index after it."""
    c = s[k]
    if c in _ANSI_C:
        return _ANSI_C[c], k + 1
    if c in "xuU":
        digits = {"x": 2, "u": 4, "U": 8}[c]
        end = k + 1
        while end < hi and end - k - 1 < digits and s[end] in _HEX:
            end += 1
        if end == k + 1:
            return None
        code = int(s[k + 1 : end], 16)
        return (chr(code) if code <= 0x10FFFF else "\ufffd"), end
    if c in "01234567":
        end = k + 1
        while end < hi and end - k < 3 and s[end] in "01234567":
            end += 1
        return chr(int(s[k:end], 8) & 0xFF), end
    if c == "c" and k + 1 < hi:
        return chr(ord(s[k + 1]) & 0x1F), k + 2
    return None


# --------------------------------------------------------------------------------------------
# Lexer


class _Tok:
    """kind: 'word', 'op', 'redir', '(', ')' or 'eof'."""

    __slots__ = ("kind", "start", "end", "text", "word", "fd")

    def __init__(self, kind: str, start: int, end: int, text: str = "", word: Word | None = None, fd: str | None = None):
        self.kind, self.start, self.end, self.text, self.word, self.fd = kind, start, end, text, word, fd


class _WordBuf:
    __slots__ = ("chars", "index", "quoted", "expansion", "substs")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.index: list[int] = []
        self.quoted = self.expansion = False
        self.substs: list[tuple[int, int]] = []

    def add(self, ch: str, pos: int) -> None:
        self.chars.append(ch)
        self.index.append(pos)

    def add_raw(self, s: str, lo: int, hi: int) -> None:
        self.chars.append(s[lo:hi])
        self.index.extend(range(lo, hi))


class _Lexer:
    """Pull lexer over ``text[lo:hi]`` with one token of look-ahead.

    Heredoc bodies are skipped when the newline after their redirection is lexed; the parser
    registers each heredoc redirection in ``pending`` as soon as it has read the delimiter.
    """

    def __init__(self, parser: _Parser, lo: int, hi: int) -> None:
        self.text = parser.text
        self.substs = parser.substs
        self.pos, self.hi = lo, hi
        self.dbracket = False  # inside [[ ]]: && || < > ( ) are plain words
        self._construct = lo  # start of the word part being read, for opaque regions
        self.pending: list[Redirect] = []
        self._peeked: _Tok | None = None

    def peek(self) -> _Tok:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def next(self) -> _Tok:
        tok = self.peek()
        self._peeked = None
        return tok

    def reset(self, pos: int) -> None:
        self.pos, self._peeked = pos, None

    def _lex(self) -> _Tok:
        s, hi = self.text, self.hi
        i = self._skip_blanks(self.pos)
        if i >= hi:
            self.pos = hi
            self._read_heredocs()
            return _Tok("eof", hi, hi)
        c = s[i]
        if c == "\n":
            self.pos = i + 1
            self._read_heredocs()
            return _Tok("op", i, i + 1, "\n")
        if self.dbracket and c in "&|<>()":
            n = 2 if c in "&|" and s.startswith(c * 2, i) else 1
            self.pos = i + n
            text = s[i : i + n]
            return _Tok("word", i, i + n, word=Word(text, text, i, i + n, False, False, tuple(range(i, i + n))))
        m = _REDIR_RE.match(s, i, hi)
        if m and not (m.group(2) in ("<", ">") and not m.group(1) and s.startswith("(", m.end())):
            self.pos = m.end()
            return _Tok("redir", i, m.end(), m.group(2), fd=m.group(1) or None)
        m = _OP_RE.match(s, i, hi)
        if m:
            self.pos = m.end()
            return _Tok("op", i, m.end(), m.group())
        if c in "()":
            self.pos = i + 1
            return _Tok(c, i, i + 1, c)
        word = self._read_word(i)
        self.pos = word.end
        return _Tok("word", i, word.end, word=word)

    def _skip_blanks(self, i: int) -> int:
        s, hi = self.text, self.hi
        while i < hi:
            c = s[i]
            if c in " \t\r" or (c == "\n" and self.dbracket):
                i += 1
            elif c == "\\" and s.startswith("\n", i + 1):
                i += 2
            elif c == "\\" and s.startswith("\r\n", i + 1):
                i += 3
            elif c == "#":
                k = s.find("\n", i, hi)
                i = hi if k < 0 else k
            else:
                break
        return i

    def _read_heredocs(self) -> None:
        s, hi, pos = self.text, self.hi, self.pos
        for redirect in self.pending:
            target = redirect.target
            strip = redirect.op == "<<-"
            body_start, body_end = pos, hi
            while pos < hi:
                nl = s.find("\n", pos, hi)
                line_end, nxt = (hi, hi) if nl < 0 else (nl, nl + 1)
                line = s[pos:line_end].removesuffix("\r")
                if (line.lstrip("\t") if strip else line) == target.value:
                    body_end, pos = pos, nxt
                    break
                pos = nxt
            redirect.heredoc = ShellHeredoc(target.value, strip, target.quoted, body_start, body_end)
        self.pending.clear()
        self.pos = pos

    # -- words ---------------------------------------------------------------------------------

    def _read_word(self, i: int) -> Word:
        s = self.text
        start, b = i, _WordBuf()
        try:
            i = self._word_parts(i, b)
        except _Opaque:  # report the outermost unclosed construct, not an inner one
            raise _Opaque(self._construct) from None
        if b.substs:
            self.substs[(start, i)] = b.substs
        return Word(s[start:i], "".join(b.chars), start, i, b.quoted, b.expansion, tuple(b.index))

    def _word_parts(self, i: int, b: _WordBuf) -> int:
        s, hi = self.text, self.hi
        start = i
        while i < hi:
            c = s[i]
            self._construct = i
            if c in _WORD_END:
                if c in "<>" and i == start:  # process substitution <(...) >(...)
                    i = self._substitution(i, i + 2, b)
                elif c == "(" and _ASSIGN_RE.fullmatch(s, start, i):  # array a=(1 2 3)
                    end = _scan(s, i, hi)
                    b.add_raw(s, i, end)
                    i = end
                else:
                    break
            elif c == "\\":
                i = self._escape(i, b)
            elif c == "'":
                end = _scan(s, i, hi)
                b.add_raw(s, i + 1, end - 1)
                b.quoted = True
                i = end
            elif c == '"':
                i = self._double(i, b)
            elif c == "$" and s.startswith("'", i + 1):
                i = self._ansi_c(i, b)
            elif c == "$" and s.startswith('"', i + 1):  # $"..." locale string
                i = self._double(i + 1, b)
            elif c in "$`":
                i = self._dollar(i, b)
            else:
                end = _PLAIN_RE.match(s, i, hi)
                end = end.end() if end else i + 1
                b.add_raw(s, i, end)
                i = end
        return i

    def _escape(self, i: int, b: _WordBuf) -> int:
        s, hi = self.text, self.hi
        if i + 1 >= hi:  # a trailing backslash stays literal
            b.add("\\", i)
            return i + 1
        if s[i + 1] == "\n":
            return i + 2
        if s.startswith("\r\n", i + 1):
            return i + 3
        b.quoted = True
        b.add(s[i + 1], i + 1)
        return i + 2

    def _double(self, i: int, b: _WordBuf) -> int:
        s, hi = self.text, self.hi
        b.quoted = True
        j = i + 1
        while j < hi:
            c = s[j]
            if c == '"':
                return j + 1
            if c == "\\" and j + 1 < hi and s[j + 1] in '\\"$`\n':
                if s[j + 1] != "\n":
                    b.add(s[j + 1], j + 1)
                j += 2
            elif c in "$`":
                j = self._dollar(j, b)
            else:
                b.add(c, j)
                j += 1
        raise _Opaque(i)

    def _ansi_c(self, i: int, b: _WordBuf) -> int:
        s, hi = self.text, self.hi
        b.quoted = True
        j = i + 2
        while j < hi:
            c = s[j]
            if c == "'":
                return j + 1
            escape = _ansi_escape(s, j + 1, hi) if c == "\\" and j + 1 < hi else None
            if escape:
                b.add(escape[0], j)
                j = escape[1]
            else:
                b.add(c, j)
                j += 1
        raise _Opaque(i)

    def _dollar(self, i: int, b: _WordBuf) -> int:
        """``$...`` or a backtick at ``i``: substitutions are kept whole in the value."""
        s, hi = self.text, self.hi
        nxt = s[i + 1] if i + 1 < hi else ""
        if s[i] == "`":
            return self._substitution(i, i + 1, b)
        if nxt == "(" and s.startswith("((", i + 1):  # arithmetic: no commands inside
            return self._substitution(i, -1, b)
        if nxt == "(":
            return self._substitution(i, i + 2, b)
        if nxt == "{":
            return self._substitution(i, -1, b)
        if nxt in _VAR_START:
            b.expansion = True
        b.add("$", i)
        return i + 1

    def _substitution(self, i: int, body: int, b: _WordBuf) -> int:
        """Keep the construct at ``i`` whole; its contents from ``body`` are code unless body is -1."""
        opener = i + 1 if self.text[i] in "<>" else i  # <(...) is scanned from its parenthesis
        end = _scan(self.text, opener, self.hi)
        if body >= 0:
            b.substs.append((body, end - 1))
        b.add_raw(self.text, i, end)
        b.expansion = True
        return end


# --------------------------------------------------------------------------------------------
# Grammar: finds the simple commands of one region of a script


class _Region:
    def __init__(self, parser: _Parser, lo: int, hi: int) -> None:
        self.p = parser
        self.lx = _Lexer(parser, lo, hi)
        # Simple commands in source order, and words outside them whose $(...) holds code
        # (for lists, case subjects, redirections of compound commands) with their conditional flag.
        self.items: list[Command | tuple[Word, bool]] = []
        self.nest = 0

    def parse(self, cond: bool) -> list[Command | tuple[Word, bool]]:
        try:
            self._list(frozenset(), cond)
        except _Opaque as err:
            self.p.script.opaque.append((err.pos, self.lx.hi))
            self.items = [it for it in self.items if _item_start(it) < err.pos]
        return self.items

    def _list(self, stops: frozenset[str], cond: bool) -> _Tok:
        """Parse commands up to EOF or a token in ``stops``; return that token, not consumed."""
        lx = self.lx
        prev: Command | None = None  # previous element, when it was a simple command
        prev_test = prev_cond = after_element = False
        op: Operator | None = None  # the operator after the previous element
        while True:
            tok = lx.peek()
            kind = tok.kind
            if kind == "eof":
                return tok
            if kind == "op" and tok.text not in _CASE_ENDS:
                lx.next()
                # The first separator after an element joins it to the next one; later ones
                # (blank lines, the newline after `&&`) are filler.
                if after_element:
                    op = Operator(tok.text, tok.start, tok.end)
                    if prev is not None:
                        prev.op_after = op
                    after_element = False
                continue
            stop = _stop_name(tok)
            if stop is not None:
                if stop not in stops:
                    raise _Opaque(tok.start)
                if stop == ";;" and after_element and prev is not None:
                    prev.op_after = Operator(tok.text, tok.start, tok.end)
                return tok
            elem_cond = _chain_conditional(op, prev_test, prev_cond)
            prev, prev_test = self._element(cond or elem_cond)
            if prev is not None:
                prev.op_before = op
            prev_cond, after_element, op = elem_cond, True, None

    def _element(self, cond: bool) -> tuple[Command | None, bool]:
        """One pipeline element; returns its simple command (None for compounds) and whether it is a test."""
        tok = self.lx.peek()
        if self.nest >= _MAX_NEST or tok.kind not in ("word", "redir", "("):
            raise _Opaque(tok.start)
        self.nest += 1
        try:
            if tok.kind == "(":
                return self._paren(tok, cond)
            handler = _KEYWORD_HANDLERS.get(tok.word.raw) if tok.kind == "word" else None
            if handler is not None:
                return handler(self, tok, cond)
            return self._simple(cond)
        finally:
            self.nest -= 1

    def _simple(self, cond: bool) -> tuple[Command | None, bool]:
        lx = self.lx
        assignments: list[Word] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            tok = lx.peek()
            if tok.kind == "word":
                lx.next()
                is_assignment = not words and _ASSIGN_RE.match(tok.word.raw)
                (assignments if is_assignment else words).append(tok.word)
            elif tok.kind == "redir":
                redirects.append(self._redirect())
            else:
                break
        if tok.kind == "(":
            if len(words) == 1 and not assignments and not redirects:  # f() { ...; }
                lx.next()
                self._expect_kind(")", tok)
                return self._function_body(cond)
            raise _Opaque(tok.start)
        parts = [*assignments, *words, *redirects]
        start = min(p.start for p in parts)
        end = max(p.end for p in parts)
        cmd = Command(assignments, words, redirects, start, end, None, None, cond, self.p.script)
        self.items.append(cmd)
        return cmd, bool(words) and words[0].value in _TESTS

    def _redirect(self) -> Redirect:
        tok = self.lx.next()
        target = self.lx.next().word if self.lx.peek().kind == "word" else None
        redirect = Redirect(tok.text, tok.fd, target, tok.start, target.end if target else tok.end)
        if target is not None and tok.text in ("<<", "<<-"):
            self.lx.pending.append(redirect)
        return redirect

    def _trailing_redirects(self, cond: bool) -> None:
        """Redirections after a compound command: kept only for the code in their targets."""
        while self.lx.peek().kind == "redir":
            target = self._redirect().target
            if target is not None:
                self.items.append((target, cond))

    def _expect(self, keywords: tuple[str, ...], opener: _Tok) -> str:
        tok = self.lx.next()
        if tok.kind != "word" or tok.word.raw not in keywords:
            raise _Opaque(opener.start)
        return tok.word.raw

    def _expect_kind(self, kind: str, opener: _Tok) -> None:
        if self.lx.next().kind != kind:
            raise _Opaque(opener.start)

    def _skip_newlines(self) -> None:
        while self.lx.peek().kind == "op" and self.lx.peek().text == "\n":
            self.lx.next()

    # -- compound commands ---------------------------------------------------------------------

    def _paren(self, tok: _Tok, cond: bool) -> tuple[None, bool]:
        if self._is_arithmetic(tok.start):  # (( expr )): a test with no commands inside
            self.lx.reset(_scan(self.p.text, tok.start, self.lx.hi))
            self._trailing_redirects(cond)
            return None, True
        self.lx.next()
        self._list(frozenset({")"}), cond)
        self._expect_kind(")", tok)
        self._trailing_redirects(cond)
        return None, False

    def _is_arithmetic(self, i: int) -> bool:
        s, hi = self.p.text, self.lx.hi
        if not s.startswith("((", i):
            return False
        end = _scan(s, i, hi)
        return _scan(s, i + 1, hi) == end - 1

    def _group(self, tok: _Tok, cond: bool) -> tuple[None, bool]:
        self.lx.next()
        self._list(frozenset({"}"}), cond)
        self._expect(("}",), tok)
        self._trailing_redirects(cond)
        return None, False

    def _if(self, tok: _Tok, cond: bool) -> tuple[None, bool]:
        self.lx.next()
        while True:
            self._list(frozenset({"then"}), True)
            self._expect(("then",), tok)
            self._list(frozenset({"elif", "else", "fi"}), True)
            ended = self._expect(("elif", "else", "fi"), tok)
            if ended == "else":
                self._list(frozenset({"fi"}), True)
                self._expect(("fi",), tok)
            if ended != "elif":
                break
        self._trailing_redirects(cond)
        return None, False

    def _while(self, tok: _Tok, cond: bool) -> tuple[None, bool]:
        self.lx.next()
        self._list(frozenset({"do"}), True)
        self._expect(("do",), tok)
        self._list(frozenset({"done"}), True)
        self._expect(("done",), tok)
        self._trailing_redirects(cond)
        return None, False

    def _for(self, tok: _Tok, cond: bool) -> tuple[None, bool]:
        lx = self.lx
        lx.next()
        head = lx.peek()
        if head.kind == "(":  # for (( i = 0; i < n; i++ ))
            lx.reset(_scan(self.p.text, head.start, lx.hi))
        elif head.kind == "word":
            lx.next()
        else:
            raise _Opaque(tok.start)
        self._skip_newlines()
        if lx.peek().kind == "word" and lx.peek().word.raw == "in":
            lx.next()
            while lx.peek().kind == "word":
                self.items.append((lx.next().word, cond))
        while lx.peek().kind == "op" and lx.peek().text in (";", "\n"):
            lx.next()
        self._expect(("do",), tok)
        self._list(frozenset({"done"}), cond)
        self._expect(("done",), tok)
        self._trailing_redirects(cond)
        return None, False

    def _case(self, tok: _Tok, cond: bool) -> tuple[None, bool]:
        lx = self.lx
        lx.next()
        subject = lx.next()
        if subject.kind != "word":
            raise _Opaque(tok.start)
        self.items.append((subject.word, cond))
        self._skip_newlines()
        self._expect(("in",), tok)
        while True:
            self._skip_newlines()
            nxt = lx.peek()
            if nxt.kind == "word" and nxt.word.raw == "esac":
                lx.next()
                break
            self._pattern(tok)
            end = self._list(frozenset({";;", "esac"}), True)
            if end.kind != "op":
                self._expect(("esac",), tok)
                break
            lx.next()
        self._trailing_redirects(cond)
        return None, False

    def _pattern(self, case: _Tok) -> None:
        """Skip a case pattern list ``(a|b)``; patterns are not commands."""
        if self.lx.peek().kind == "(":
            self.lx.next()
        while True:
            tok = self.lx.next()
            if tok.kind == ")":
                return
            if tok.kind != "word" and tok.text != "|":
                raise _Opaque(case.start)

    def _dbracket(self, tok: _Tok, cond: bool) -> tuple[Command, bool]:
        lx = self.lx
        words = [lx.next().word]
        lx.dbracket = True
        while words[-1].raw != "]]":
            nxt = lx.next()
            if nxt.kind != "word":
                raise _Opaque(tok.start)
            words.append(nxt.word)
        lx.dbracket = False
        redirects = []
        while lx.peek().kind == "redir":
            redirects.append(self._redirect())
        end = max([words[-1].end, *(r.end for r in redirects)])
        cmd = Command([], words, redirects, tok.start, end, None, None, cond, self.p.script)
        self.items.append(cmd)
        return cmd, True

    def _function(self, tok: _Tok, cond: bool) -> tuple[None, bool]:
        lx = self.lx
        lx.next()
        if lx.next().kind != "word":
            raise _Opaque(tok.start)
        if lx.peek().kind == "(":
            lx.next()
            self._expect_kind(")", tok)
        return self._function_body(cond)

    def _function_body(self, cond: bool) -> tuple[None, bool]:
        self._skip_newlines()
        self._element(cond)
        return None, False

    def _bang(self, tok: _Tok, cond: bool) -> tuple[Command | None, bool]:
        self.lx.next()
        return self._element(cond)


_KEYWORD_HANDLERS = {
    "if": _Region._if,
    "while": _Region._while,
    "until": _Region._while,
    "for": _Region._for,
    "select": _Region._for,
    "case": _Region._case,
    "{": _Region._group,
    "[[": _Region._dbracket,
    "function": _Region._function,
    "!": _Region._bang,
}


def _stop_name(tok: _Tok) -> str | None:
    """What ends a list here: ``;;`` for any case-arm terminator, ``)``, or a closing keyword."""
    if tok.kind == "op":
        return ";;" if tok.text in _CASE_ENDS else None
    if tok.kind == ")":
        return ")"
    if tok.kind == "word" and tok.word.raw in _CLOSERS:
        return tok.word.raw
    return None


def _item_start(item: Command | tuple[Word, bool]) -> int:
    return item.start if isinstance(item, Command) else item[0].start


def _chain_conditional(op: Operator | None, prev_test: bool, prev_cond: bool) -> bool:
    """Whether an and-or list element after ``op`` may be skipped.

    After `||` it runs only on failure; after `&&` or `|` it shares the fate of the left side,
    which may itself be conditional or a test (`[ -n "$CI" ] && rm -rf x`).
    """
    if op is None:
        return False
    if op.text == "||":
        return True
    if op.text == "&&":
        return prev_cond or prev_test
    if op.text in ("|", "|&"):
        return prev_cond
    return False


# --------------------------------------------------------------------------------------------
# Scripts and the code nested in them


class _Parser:
    def __init__(self, source: MappedText, parent: Command | None, conditional: bool, depth: int) -> None:
        self.text = source.text
        self.script = Script(source, [], [])
        self.parent = parent
        self.conditional = conditional
        self.depth = depth
        # (start, end) of a word -> regions of its $(...), `...` and <(...) contents
        self.substs: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def run(self) -> Script:
        items = _Region(self, 0, len(self.text)).parse(self.conditional)
        self.script.commands = self._expand(items, self.parent, self.depth)
        return self.script

    def _expand(self, items: list[Command | tuple[Word, bool]], parent: Command | None, depth: int) -> list[Command]:
        """Each command followed by the commands nested in it, recursively."""
        out: list[Command] = []
        for item in items:
            if isinstance(item, Command):
                item.parent = parent
                out.append(item)
                out.extend(self._nested(item, depth))
            else:
                out.extend(self._substitutions(item[0], parent, item[1], depth))
        return out

    def _nested(self, cmd: Command, depth: int) -> list[Command]:
        out: list[Command] = []
        targets = [r.target for r in cmd.redirects if r.target is not None]
        for word in (*cmd.assignments, *cmd.words, *targets):
            out.extend(self._substitutions(word, cmd, cmd.conditional, depth))
        inv = normalize(cmd)
        script_word = shell_c_argument(inv)
        if script_word is not None:
            out.extend(self._inner(word_text(self.script.source, script_word), cmd, depth, _word_mapper(script_word)))
        heredoc = _stdin_script(cmd, inv, self.text)
        if heredoc is not None:
            body = self.script.source.slice(heredoc.body_start, heredoc.body_end)
            shift = heredoc.body_start
            out.extend(self._inner(body, cmd, depth, lambda a, b: (a + shift, b + shift)))
        return out

    def _substitutions(self, word: Word, parent: Command | None, cond: bool, depth: int) -> list[Command]:
        out: list[Command] = []
        for lo, hi in self.substs.get((word.start, word.end), ()):
            if depth >= _MAX_DEPTH:
                self.script.opaque.append((lo, hi))
                continue
            items = _Region(self, lo, hi).parse(cond)
            out.extend(self._expand(items, parent, depth + 1))
        return out

    def _inner(self, source: MappedText, cmd: Command, depth: int, to_outer) -> list[Command]:
        """Tokenize a script run by ``cmd``; its opaque regions are also opaque here."""
        if depth >= _MAX_DEPTH:
            self.script.opaque.append(to_outer(0, len(source.text)))
            return []
        inner = _Parser(source, cmd, cmd.conditional, depth + 1).run()
        self.script.opaque.extend(to_outer(a, b) for a, b in inner.opaque if a < b)
        return inner.commands


def word_text(source: MappedText, word: Word) -> MappedText:
    """The value of ``word`` (of a script read from ``source``) as a text whose offsets are file offsets."""
    offsets = source.offsets
    mapped = [offsets[k] for k in word.value_index]
    end = offsets[word.value_index[-1]] + 1 if word.value_index else offsets[word.start]
    return MappedText(word.value, mapped + [end])


def _word_mapper(word: Word):
    index = word.value_index

    def to_outer(a: int, b: int) -> tuple[int, int]:
        if a >= len(index):
            return word.end, word.end
        return index[a], index[b - 1] + 1

    return to_outer


def shell_c_argument(inv: Invocation | None) -> Word | None:
    """The script word of ``sh -c SCRIPT`` (options may come before and between)."""
    if inv is None or inv.program not in _SHELLS:
        return None
    has_c, operand = _shell_options(inv.args)
    return operand if has_c else None


def _shell_options(args: list[Word]) -> tuple[bool, Word | None]:
    """Whether a shell's options include -c, and its first operand."""
    has_c = False
    i = 0
    while i < len(args):
        v = args[i].value
        i += 1
        if v == "--":
            break
        if v[:1] not in ("-", "+") or len(v) < 2:
            return has_c, args[i - 1]
        if v.startswith("--"):
            continue
        has_c = has_c or (v[0] == "-" and "c" in v)
        if v[-1] in "oO":  # -o pipefail, -euo pipefail
            i += 1
    return has_c, args[i] if i < len(args) else None


def _stdin_script(cmd: Command, inv: Invocation | None, text: str) -> ShellHeredoc | None:
    """The heredoc that is a shell script: stdin of a bare redirection or of a shell reading stdin."""
    docs = [r.heredoc for r in cmd.redirects if r.heredoc is not None and r.fd in (None, "0")]
    if not docs:
        return None
    if cmd.words:
        if inv is None or inv.program not in _SHELLS:
            return None
        has_c, operand = _shell_options(inv.args)
        reads_stdin = any(a.value[:1] == "-" and a.value[1:2] != "-" and "s" in a.value for a in inv.args)
        if has_c or (operand is not None and not reads_stdin):
            return None
    doc = docs[-1]
    return None if _foreign_shebang(text[doc.body_start : doc.body_end]) else doc


def _foreign_shebang(body: str) -> bool:
    """Whether the body starts with a shebang naming something other than a shell."""
    program = shebang_program(body.lstrip("\t"))
    return program is not None and program not in _SHELLS


def shebang_program(text: str) -> str | None:
    """The program a text's `#!` line runs (seen through `env`), "" for a bare `#!`, None when the
    text has no shebang."""
    first = text.split("\n", 1)[0]
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if parts and parts[0].rsplit("/", 1)[-1] == "env":
        parts = [p for p in parts[1:] if not p.startswith("-") and "=" not in p]
    return parts[0].rsplit("/", 1)[-1] if parts else ""


# --------------------------------------------------------------------------------------------
# Normalisation for rules

_PIP_RE = re.compile(r"pip\d*(?:\.\d+)*")
# A Python interpreter's program name (`python`, `python3`, `python3.11`): what runs a script or `-c` code.
PYTHON = re.compile(r"python\d*(?:\.\d+)*")
_PYTHON_RE = re.compile(rf"{PYTHON.pattern}|py|pypy\d*(?:\.\d+)*")  # and the launcher, and PyPy
_PLAIN_NAME_RE = re.compile(r"[\w.+-]+")


def _option_skipper(short_value: str = "", long_value: frozenset[str] = frozenset(), assignments: bool = False,
                    operands: int = 0):
    """A wrapper's option parser: returns the index of the wrapped command word."""

    def skip(words: list[Word], i: int, env: dict[str, Word]) -> int | None:
        while i < len(words):
            v = words[i].value
            if v == "--":
                i += 1
                break
            if assignments and _ASSIGN_RE.match(words[i].raw):
                _put_env(env, words[i])
            elif v.startswith("--"):
                if "=" not in v and v in long_value:
                    i += 1
            elif v.startswith("-") and len(v) > 1:
                for k, ch in enumerate(v[1:], start=2):
                    if ch in short_value:
                        i += k == len(v)  # the value is the next word unless glued (-uroot)
                        break
            else:
                break
            i += 1
        return i + operands

    return skip


def _skip_command_builtin(words: list[Word], i: int, env: dict[str, Word]) -> int | None:
    """`command [-p] cmd` runs cmd; `command -v cmd` only looks it up."""
    while i < len(words) and words[i].value.startswith("-") and len(words[i].value) > 1:
        v = words[i].value
        if v == "--":
            return i + 1
        if "v" in v or "V" in v:
            return None
        i += 1
    return i


_WRAPPERS = {
    "sudo": _option_skipper("ugUCprtTDR", frozenset({"--user", "--group", "--other-user", "--close-from", "--prompt",
                                                     "--role", "--type", "--command-timeout", "--chdir", "--chroot",
                                                     "--host"}), assignments=True),
    "env": _option_skipper("uCS", frozenset({"--unset", "--chdir", "--split-string"}), assignments=True),
    "exec": _option_skipper("a"),
    "time": _option_skipper("fo", frozenset({"--format", "--output"})),
    "nohup": _option_skipper(),
    "builtin": _option_skipper(),
    "command": _skip_command_builtin,
    "nice": _option_skipper("n", frozenset({"--adjustment"})),
    "stdbuf": _option_skipper("ioe", frozenset({"--input", "--output", "--error"})),
    "timeout": _option_skipper("sk", frozenset({"--signal", "--kill-after"}), operands=1),
}


def _put_env(env: dict[str, Word], word: Word) -> None:
    """Record ``NAME=value`` with a Word for the value part."""
    n = _ASSIGN_RE.match(word.raw).end()  # the name is unquoted, so raw and value agree up to here
    raw = word.raw[n:]
    env[word.raw[: n - 1].removesuffix("+")] = Word(
        raw, word.value[n:], word.start + n, word.end, any(q in raw for q in "'\"\\"), word.has_expansion,
        word.value_index[n:],
    )


def _command_name(word: Word) -> str | None:
    """Basename of a command word; None for keywords and computed names (``$PIP``)."""
    base = word.value.rsplit("/", 1)[-1]
    if not base or (not word.quoted and word.raw in _KEYWORDS):
        return None
    if word.has_expansion and not _PLAIN_NAME_RE.fullmatch(base):
        return None
    return base


def _python_module(words: list[Word], j: int) -> tuple[str | None, int]:
    """The module of ``python [options] -m MODULE`` (options start at ``j``) and the index after it."""
    while j < len(words):
        v = words[j].value
        j += 1
        if v == "--" or not v.startswith("-") or v == "-":
            return None, j
        if v.startswith("--"):
            continue
        flags = v[1:]
        for k, ch in enumerate(flags):
            rest = flags[k + 1 :]
            if ch == "c":
                return None, j
            if ch == "m":
                if rest:
                    return rest, j
                return (words[j].value, j + 1) if j < len(words) else (None, j)
            if ch in "WX":  # options with a value
                j += not rest
                break
    return None, j


def _identify(words: list[Word], i: int, name: str) -> tuple[str, int]:
    """Canonical program name of the command at ``words[i]`` and how many words name it."""
    if _PIP_RE.fullmatch(name):
        return "pip", 1
    if _PYTHON_RE.fullmatch(name):
        module, end = _python_module(words, i + 1)
        if module in ("pip", "uv"):
            return module, end - i
    return name, 1


def normalize(command: Command) -> Invocation | None:
    """The program a simple command runs, seeing through env prefixes and wrappers like sudo."""
    env: dict[str, Word] = {}
    for word in command.assignments:
        _put_env(env, word)
    words = command.words
    i = 0
    while i < len(words):
        name = _command_name(words[i])
        if name is None:
            return None
        skip = _WRAPPERS.get(name)
        after = skip(words, i + 1, env) if skip else None
        if after is None or after >= len(words):
            program, n = _identify(words, i, name)
            return Invocation(program, list(words[i + n :]), env, command, list(words[i : i + n]))
        i = after
    return None


def invocations(script: Script) -> list[Invocation]:
    return [inv for inv in map(normalize, script.commands) if inv is not None]


_CONDA_VALUES = frozenset({"-n", "--name", "-p", "--prefix", "-c", "--channel", "-r", "--root-prefix"})
_DNF_VALUES = frozenset({"-c", "--config", "--installroot", "--releasever", "--setopt", "--enablerepo",
                         "--disablerepo", "-x", "--exclude", "--repo", "--repofrompath"})
_APT_VALUES = frozenset({"-o", "--option", "-c", "--config-file", "-t", "--target-release"})
# Options taking a value in the next word, per program, so their value is not taken for a subcommand.
_VALUE_OPTIONS = {
    "pip": frozenset({"--cache-dir", "--log", "--proxy", "--retries", "--timeout", "--exists-action",
                      "--trusted-host", "--cert", "--client-cert", "--python", "--src", "-r", "--requirement",
                      "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links",
                      "-t", "--target", "--prefix", "--root", "--platform", "--python-version",
                      "--upgrade-strategy", "--progress-bar", "--only-binary", "--no-binary"}),
    "uv": frozenset({"--cache-dir", "--directory", "--project", "--config-file", "--color", "--python", "-p",
                     "--index", "--index-url", "--extra-index-url", "-f", "--find-links", "-r", "--requirement",
                     "-c", "--constraint", "--target", "--prefix", "--allow-insecure-host"}),
    "apt-get": _APT_VALUES,
    "apt": _APT_VALUES,
    "apk": frozenset({"-X", "--repository", "--root", "-p", "--repositories-file", "--cache-dir", "--keys-dir",
                      "--arch"}),
    "conda": _CONDA_VALUES,
    "mamba": _CONDA_VALUES,
    "micromamba": _CONDA_VALUES,
    "dnf": _DNF_VALUES,
    "yum": _DNF_VALUES,
    "microdnf": _DNF_VALUES,
    "zypper": frozenset({"-R", "--root", "-D", "--reposd-dir", "-C", "--cache-dir", "-c", "--config"}),
    "npm": frozenset({"--prefix", "-C", "--cache", "--registry", "--userconfig", "--loglevel", "-w", "--workspace"}),
    "yarn": frozenset({"--cwd", "--cache-folder", "--modules-folder", "--network-timeout", "--mutex", "--registry",
                       "--global-folder"}),
    "pnpm": frozenset({"-C", "--dir", "--filter", "-F", "--store-dir", "--reporter", "--loglevel"}),
    "go": frozenset({"-C"}),
    "cargo": frozenset({"--config", "-C", "-Z", "--manifest-path", "--color"}),
    "git": frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"}),
    "poetry": frozenset({"-C", "--directory", "-P", "--project"}),
}


def subcommand(inv: Invocation, depth: int = 1) -> list[str]:
    """The first ``depth`` non-option arguments: ``uv --no-cache pip install x`` -> ['pip', 'install']."""
    takes_value = _VALUE_OPTIONS.get(inv.program, frozenset())
    out: list[str] = []
    args = inv.args
    i = 0
    while i < len(args) and len(out) < depth:
        v = args[i].value
        i += 1
        if v == "--":
            out.extend(a.value for a in args[i : i + depth - len(out)])
            break
        if v.startswith("-") and len(v) > 1:
            i += v in takes_value
        elif inv.program == "cargo" and v.startswith("+"):
            continue  # a toolchain: `cargo +nightly build`
        else:
            out.append(v)
    return out
