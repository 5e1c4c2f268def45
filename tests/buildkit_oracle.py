"""BuildKit's own Dockerfile parser as a test oracle.

The PyPI package ``dockerfile`` wraps BuildKit's Go parser (``frontend/dockerfile/parser``; v3.4 pins
BuildKit v0.12.5). It only ships wheels for Linux x86_64, so every helper here returns ``None`` when it
cannot be imported and callers ``pytest.skip``.

What is compared (see ``assert_matches_buildkit``):

* instruction keywords (upper-cased; for ONBUILD the outer keyword and the wrapped one) and 1-based
  line spans, which include heredoc bodies;
* heredoc names, file descriptors and contents (the wrapper reports none for ONBUILD);
* flags as BuildKit lists them (``--mount=type=cache,target=/x``: quotes removed, escapes applied);
* JSON (exec) form and its values, and the argument text of the one-string and word-list forms;
* errors: when BuildKit raises, our parse must have at least one error ("file with no instructions"
  excepted: an empty or comment-only file is valid input for a linter); when BuildKit accepts, our
  only errors may be unknown instructions (BuildKit's parser leaves those to a later stage).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aicache_lint.dockerfile.lexer import parse
from aicache_lint.dockerfile.model import INSTRUCTIONS, Dockerfile, Instruction
from aicache_lint.source import SourceText

try:  # pragma: no cover - depends on the platform
    import dockerfile as _bk
except ImportError:  # pragma: no cover
    _bk = None

NO_INSTRUCTIONS = "file with no instructions"
MAX_LINE_BYTES = 65535  # bufio.Scanner's default limit, less the newline

# How BuildKit's dispatch table shapes ``Command.value`` (parser/line_parsers.go).
_ONE_STRING = frozenset("RUN CMD ENTRYPOINT SHELL MAINTAINER STOPSIGNAL USER WORKDIR".split())
_WORD_LIST = frozenset("FROM EXPOSE ADD COPY VOLUME".split())  # split on [\t\v\f\r ]+
_JSON_CAPABLE = frozenset("RUN CMD ENTRYPOINT SHELL ADD COPY VOLUME".split())
_WS = re.compile(r"[\t\v\f\r ]+")
# Go's unicode.IsSpace, which strings.TrimSpace uses (Python's strip also takes \x1c-\x1f).
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)


class BuildKitError(Exception):
    """BuildKit refused the file; the message is BuildKit's."""


def available() -> bool:
    return _bk is not None


def buildkit_commands(text: str) -> tuple[Any, ...] | None:
    """BuildKit's raw ``Command`` tuples; ``()`` for a file with no instructions.

    Raises ``BuildKitError`` on any other parse error; ``None`` when the oracle is not installed.
    """
    if _bk is None:
        return None
    try:
        return tuple(_bk.parse_string(text))
    except _bk.GoParseError as exc:
        if NO_INSTRUCTIONS in str(exc):
            # BuildKit's line scanner stops silently on a line of 64 KiB or more and then reports
            # "no instructions"; that is really its "line greater than max allowed size" error.
            if any(len(line.encode("utf-8")) > MAX_LINE_BYTES for line in text.split("\n")):
                raise BuildKitError(f"a line is longer than {MAX_LINE_BYTES} bytes") from None
            return ()
        raise BuildKitError(str(exc)) from None


def buildkit_instructions(text: str) -> list[tuple[str, int, int]] | None:
    """``[(KEYWORD, start_line, end_line)]`` as BuildKit sees ``text`` (None: oracle missing)."""
    commands = buildkit_commands(text)
    if commands is None:
        return None
    return [((c.cmd or "").upper(), c.start_line, c.end_line) for c in commands]


def _parse(text: str) -> Dockerfile:
    return parse(SourceText.decode(text.encode("utf-8")))


def _flag_word(flag) -> str:
    return "--" + flag.name + ("" if flag.value is None else "=" + flag.value)


def _expected_value(ins: Instruction) -> tuple[str, ...] | None:
    """What BuildKit's ``Command.value`` should be for ``ins``, or None where not compared."""
    if ins.json_args is not None:
        return tuple(ins.json_args)
    rest = ins.args.text.strip(_GO_SPACE)
    if ins.keyword in _ONE_STRING:
        return (rest,) if rest else ()
    if ins.keyword in _WORD_LIST:
        return tuple(_WS.split(rest)) if rest else ()
    return None  # ENV/LABEL/ARG/HEALTHCHECK have their own shapes


def _json_with_trailing_text(args: str) -> bool:
    """A JSON array followed by more text: shell form for current BuildKit (json.Unmarshal, v0.15+),
    JSON for the oracle's v0.12.5, whose json.Decoder ignored what followed the array."""
    s = args.strip()
    if not s.startswith("["):
        return False
    try:
        value, end = json.JSONDecoder().raw_decode(s)
    except ValueError:
        return False
    return isinstance(value, list) and bool(s[end:].strip())


def _version_skew(doc: Dockerfile) -> bool:
    """True when ``doc`` holds a JSON array with trailing text (see above): not compared."""
    for ins in doc.instructions:
        for each in (ins, ins.inner):
            if each is None:
                continue
            args = each.args.text
            if each.keyword == "HEALTHCHECK":  # `HEALTHCHECK CMD [...]`
                args = (args.split(None, 1) + ["", ""])[1]
            if _json_with_trailing_text(args):
                return True
    return False


def _describe(text: str, doc: Dockerfile) -> str:
    ours = [(i.keyword, i.start_line, i.end_line) for i in doc.instructions]
    return f"\ntext={text!r}\nours={ours}\nerrors={[e.message for e in doc.errors]}"


def assert_matches_buildkit(text: str, doc: Dockerfile | None = None) -> Dockerfile | None:
    """Assert that our lexer agrees with BuildKit on ``text``; returns our parse (None: no oracle).

    ``text`` is the file as decoded, BOM included, so both parsers see the same bytes.
    """
    if _bk is None:
        return None
    if doc is None:
        doc = _parse(text)
    try:
        commands = buildkit_commands(text)
    except BuildKitError as exc:
        if _version_skew(doc):
            return doc
        assert doc.errors, f"BuildKit raised {exc!s} but we report no error" + _describe(text, doc)
        return doc
    assert commands is not None
    if _version_skew(doc):
        return doc
    ctx = _describe(text, doc)
    theirs = [((c.cmd or "").upper(), c.start_line, c.end_line) for c in commands]
    ours = [(i.keyword, i.start_line, i.end_line) for i in doc.instructions]
    assert ours == theirs, f"instructions differ: buildkit={theirs}" + ctx
    for ins, cmd in zip(doc.instructions, commands):
        where = f"\nline {ins.start_line}: {cmd!r}" + ctx
        target = ins
        if ins.keyword == "ONBUILD":
            if cmd.flags or ins.args.text.startswith("--"):
                # BuildKit's parser takes `ONBUILD --x RUN y` flags for ONBUILD (and its next stage
                # rejects them); we read `--x` as the wrapped keyword, an unknown instruction.
                assert any(e.message.startswith("unknown instruction") for e in doc.errors)
                continue
            inner = ins.inner.keyword if ins.inner else ""
            assert inner == (cmd.sub_cmd or "").upper(), "ONBUILD's inner keyword differs" + where
            if ins.inner is None:
                continue
            target = ins.inner
        else:
            # The wrapper reports flags of the outer node and no heredocs for ONBUILD. BuildKit
            # reads flags byte by byte, so it mangles non-ASCII ones (and splits them at a UTF-8
            # byte 0x85 or 0xA0): not compared. We read no flags of unknown instructions.
            if ins.keyword in INSTRUCTIONS and "".join(cmd.flags).isascii():
                assert [_flag_word(f) for f in ins.flags] == list(cmd.flags), "flags differ" + where
            assert [(h.name, h.fd, h.content) for h in ins.heredocs] == [
                (h.name, h.file_descriptor, h.content) for h in cmd.heredocs
            ], "heredocs differ" + where
        if target.keyword in _JSON_CAPABLE:
            assert target.is_json == bool(cmd.json), "JSON form differs" + where
        expected = _expected_value(target)
        if expected is not None:
            assert expected == tuple(cmd.value), "arguments differ" + where
    unexplained = [e.message for e in doc.errors if not e.message.startswith("unknown instruction")]
    assert not unexplained, "we report errors that BuildKit does not" + ctx
    return doc
