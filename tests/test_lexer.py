"""The Dockerfile lexer: exact values for each BuildKit quirk, checked against BuildKit itself.

Every example is also run through ``assert_matches_buildkit`` (BuildKit's real parser, via the
``dockerfile`` package); that part skips where the package is not installed.
"""

from __future__ import annotations

import pytest
from buildkit_oracle import assert_matches_buildkit, available, buildkit_instructions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aicache_lint.dockerfile.lexer import parse
from aicache_lint.dockerfile.model import Dockerfile, Instruction
from aicache_lint.source import SourceText, Span

needs_oracle = pytest.mark.skipif(not available(), reason="the `dockerfile` package is not installed")


def lex(text: str) -> Dockerfile:
    """Parse ``text`` (BOM included, as the file would be decoded) and cross-check with BuildKit."""
    doc = parse(SourceText.decode(text.encode("utf-8")))
    assert_matches_buildkit(text, doc)
    return doc


def at(doc: Dockerfile, span: Span) -> str:
    return doc.source.text[span.start : span.end]


def kinds(doc: Dockerfile) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.start_line, i.end_line) for i in doc.instructions]


def assert_args_mapped(doc: Dockerfile, ins: Instruction) -> None:
    text = doc.source.text
    for i, ch in enumerate(ins.args.text):
        assert text[ins.args.offsets[i]] == ch


# -- encoding and newlines ---------------------------------------------------------------------


def test_bom_is_not_in_offsets_and_is_restored():
    data = "\ufeffFROM python:3.11\nRUN pip install torch\n".encode()
    source = SourceText.decode(data)
    doc = parse(source)
    assert_matches_buildkit(data.decode("utf-8"), doc)
    assert source.bom and source.text.startswith("FROM")
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 2, 2)]
    from_ = doc.instructions[0]
    assert from_.keyword_span == Span(0, 4)
    assert from_.span == Span(0, 16)
    assert at(doc, from_.args.file_span(0, len(from_.args.text))) == "python:3.11"
    assert source.encode() == data
    assert source.encode(source.text.replace("3.11", "3.12")) == data.replace(b"3.11", b"3.12")


def test_bom_then_escape_directive():
    doc = lex("\ufeff# escape=`\nFROM a\nRUN echo `\n  done\n")
    assert doc.escape == "`"
    assert [(d.name, d.value) for d in doc.directives] == [("escape", "`")]
    assert kinds(doc) == [("FROM", 2, 2), ("RUN", 3, 4)]
    assert doc.instructions[1].args.text == "echo   done"


def test_crlf_continuation_has_no_cr_and_exact_spans():
    text = "FROM ubuntu\r\nRUN apt-get update \\\r\n    && apt-get install -y curl\r\nUSER app\r\n"
    doc = lex(text)
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 2, 3), ("USER", 4, 4)]
    run = doc.instructions[1]
    assert run.args.text == "apt-get update     && apt-get install -y curl"
    assert "\r" not in run.args.text
    assert_args_mapped(doc, run)
    assert at(doc, run.span) == "RUN apt-get update \\\r\n    && apt-get install -y curl"
    i = run.args.text.index("curl")
    assert at(doc, run.args.file_span(i, i + 4)) == "curl"
    assert doc.source.position(run.args.file_offset(i)) == (3, 27)
    assert at(doc, doc.instructions[2].span) == "USER app"


# -- escape character and continuations --------------------------------------------------------


def test_backtick_escape_directive():
    text = (
        "# escape=`\n"
        "FROM mcr.microsoft.com/windows/servercore\n"
        "RUN dir c:\\ `\n"
        "    && echo done\n"
        "COPY a\\ c:\\dest\\\n"
    )
    doc = lex(text)
    assert doc.escape == "`"
    assert kinds(doc) == [("FROM", 2, 2), ("RUN", 3, 4), ("COPY", 5, 5)]
    run = doc.instructions[1]
    assert run.args.text == "dir c:\\     && echo done"  # the backslash is literal
    assert_args_mapped(doc, run)
    copy = doc.instructions[2]
    assert copy.args.text == "a\\ c:\\dest\\"  # a trailing backslash does not continue
    assert at(doc, copy.span) == "COPY a\\ c:\\dest\\"


def test_syntax_and_check_directives():
    text = "# syntax=docker/dockerfile:1.7\n# check=skip=JSONArgsRecommended\nFROM a\n"
    doc = lex(text)
    assert [(d.name, d.value) for d in doc.directives] == [
        ("syntax", "docker/dockerfile:1.7"),
        ("check", "skip=JSONArgsRecommended"),
    ]
    syntax = doc.directive("syntax")
    assert syntax is not None and at(doc, syntax.span) == "# syntax=docker/dockerfile:1.7"
    assert doc.directive("escape") is None
    assert doc.errors == []
    assert kinds(doc) == [("FROM", 3, 3)]


def test_directive_spacing_and_case():
    doc = lex("#  Syntax =  docker/dockerfile:1  \n#escape=`\nFROM a\n")
    assert [(d.name, d.value) for d in doc.directives] == [
        ("syntax", "docker/dockerfile:1"),
        ("escape", "`"),
    ]
    assert doc.escape == "`"


@pytest.mark.parametrize("breaker", ["", "   ", "# a plain comment"])
def test_blank_line_or_comment_ends_the_directive_block(breaker):
    text = f"# syntax=docker/dockerfile:1\n{breaker}\n# escape=`\nFROM a\nRUN echo `\nRUN b\n"
    doc = lex(text)
    assert [d.name for d in doc.directives] == ["syntax"]
    assert doc.escape == "\\"
    assert kinds(doc) == [("FROM", 4, 4), ("RUN", 5, 5), ("RUN", 6, 6)]
    assert doc.instructions[1].args.text == "echo `"
    # the late `# escape=` is an ordinary comment
    assert "# escape=`" in [at(doc, c) for c in doc.comments]


def test_instruction_ends_the_directive_block():
    doc = lex("FROM a\n# escape=`\nRUN echo `\nRUN b\n")
    assert doc.directives == [] and doc.escape == "\\"
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 3, 3), ("RUN", 4, 4)]


def test_unknown_directive_ends_the_block():
    doc = lex("# foo=bar\n# escape=`\nFROM a\n")
    assert doc.directives == [] and doc.escape == "\\"


def test_duplicate_directive_is_an_error():
    doc = lex("# syntax=docker/dockerfile:1\n# syntax=docker/dockerfile:1.7\nFROM a\n")
    assert [e.message for e in doc.errors] == ["only one syntax parser directive can be used"]
    assert doc.source.position(doc.errors[0].span.start) == (2, 1)


def test_duplicate_check_directive_is_an_error():
    # Current BuildKit (v0.14+) knows `check`; the oracle's v0.12.5 does not, so no oracle here.
    doc = parse(SourceText("# check=skip=all\n# check=error=true\nFROM a\n"))
    assert [e.message for e in doc.errors] == ["only one check parser directive can be used"]


def test_invalid_escape_directive_is_an_error():
    doc = lex("# escape=x\nFROM a\n")
    assert len(doc.errors) == 1 and "invalid escape token" in doc.errors[0].message
    assert doc.escape == "\\"


def test_comments_and_blank_lines_inside_a_continuation():
    text = (
        "RUN apt-get update \\\n"
        "    # install curl\n"
        "\n"
        "   \n"
        "# another\n"
        "    && apt-get install -y curl\n"
    )
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 6)]
    run = doc.instructions[0]
    assert run.args.text == "apt-get update     && apt-get install -y curl"
    assert "#" not in run.args.text
    assert_args_mapped(doc, run)
    assert [at(doc, c) for c in doc.comments] == ["# install curl", "# another"]
    assert [doc.source.line_of(c.start) for c in doc.comments] == [2, 5]
    assert doc.comments[0] == Span(text.index("# install"), text.index("# install") + 14)


def test_whitespace_after_the_escape_still_continues():
    doc = lex("RUN echo a \\  \t\n  b\nUSER x\n")
    assert kinds(doc) == [("RUN", 1, 2), ("USER", 3, 3)]
    assert doc.instructions[0].args.text == "echo a   b"


def test_escaped_escape_at_line_end_does_not_continue():
    text = "RUN echo \\\\\nFROM x\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 1), ("FROM", 2, 2)]
    assert doc.instructions[0].args.text == "echo \\\\"


def test_escape_alone_on_a_line():
    doc = lex("RUN a \\\n\\\n b\n")
    assert kinds(doc) == [("RUN", 1, 3)]
    assert doc.instructions[0].args.text == "a  b"


def test_bare_escape_before_the_keyword():
    # BuildKit trims the joined line, so the keyword may start on the next physical line.
    text = "\\\n   RUN echo hi\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 2)]
    run = doc.instructions[0]
    assert at(doc, run.keyword_span) == "RUN"
    assert doc.source.position(run.keyword_span.start) == (2, 4)
    assert run.args.text == "echo hi"
    assert doc.errors == []


def test_no_final_newline():
    text = "FROM a\nRUN echo hi"
    doc = lex(text)
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 2, 2)]
    assert doc.instructions[1].span == Span(7, len(text))
    assert doc.instructions[1].args.text == "echo hi"


@pytest.mark.parametrize("ending", ["", "\n", "  ", " \t\n"])
def test_trailing_escape_on_the_last_line(ending):
    text = "FROM a\nRUN echo hi \\" + ending
    doc = lex(text)
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 2, 2)]
    run = doc.instructions[0 + 1]
    assert run.args.text == "echo hi "
    assert at(doc, run.span) == "RUN echo hi \\" + ending.rstrip("\n")


def test_continuation_into_a_blank_last_line():
    doc = lex("FROM a\nRUN echo \\\n\n")
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 2, 3)]
    assert doc.instructions[1].args.text == "echo "


def test_leading_whitespace_is_stripped_from_the_first_line_only():
    doc = lex("  \tFROM a\nRUN x \\\n    y\n")
    assert doc.instructions[0].keyword_span == Span(3, 7)
    assert doc.instructions[1].args.text == "x     y"


# -- heredocs ----------------------------------------------------------------------------------


def test_heredoc_basic():
    text = "FROM a\nRUN <<EOF\nset -eux\npip install torch\nEOF\nUSER x\n"
    doc = lex(text)
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 2, 5), ("USER", 6, 6)]
    run = doc.instructions[1]
    assert run.args.text == "<<EOF"
    [h] = run.heredocs
    assert (h.name, h.strip_tabs, h.quoted, h.fd) == ("EOF", False, False, 0)
    assert h.content == "set -eux\npip install torch\n"
    assert at(doc, h.body_span) == h.content
    assert at(doc, h.span) == "set -eux\npip install torch\nEOF"
    assert at(doc, run.span) == "RUN <<EOF\nset -eux\npip install torch\nEOF"


def test_heredoc_strip_tabs_terminator():
    text = "RUN <<-EOF\n\techo a\n\t\tEOF\nUSER x\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 3), ("USER", 4, 4)]
    [h] = doc.instructions[0].heredocs
    assert h.strip_tabs and h.name == "EOF"
    assert h.content == "\techo a\n"
    assert at(doc, h.span) == "\techo a\n\t\tEOF"


def test_heredoc_without_dash_needs_an_exact_terminator():
    text = "RUN <<EOF\n\tEOF\n EOF\nEOF \nEOF\nUSER x\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 5), ("USER", 6, 6)]
    assert doc.instructions[0].heredocs[0].content == "\tEOF\n EOF\nEOF \n"


@pytest.mark.parametrize("word", ["'EOF'", '"EOF"', "E'O'F", "\\EOF"])
def test_quoted_heredoc(word):
    doc = lex(f"RUN <<{word}\necho $HOME\nEOF\n")
    [h] = doc.instructions[0].heredocs
    assert h.name == "EOF" and h.content == "echo $HOME\n"
    assert h.quoted == ("'" in word or '"' in word)


def test_quoted_heredoc_with_command_after():
    text = 'RUN <<"EOF" bash -ex\necho "$HOME"\nEOF\n'
    doc = lex(text)
    run = doc.instructions[0]
    assert run.args.text == '<<"EOF" bash -ex'
    [h] = run.heredocs
    assert (h.name, h.quoted) == ("EOF", True)
    assert h.content == 'echo "$HOME"\n'


def test_two_heredocs_on_one_line():
    text = "RUN cat <<A > /a && cat <<B > /b\nalpha\nA\nbeta\nB\nUSER x\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 5), ("USER", 6, 6)]
    a, b = doc.instructions[0].heredocs
    assert (a.name, a.content, b.name, b.content) == ("A", "alpha\n", "B", "beta\n")
    assert at(doc, a.span) == "alpha\nA" and at(doc, b.span) == "beta\nB"
    assert a.span.end < b.body_span.start


def test_heredoc_with_file_descriptor():
    doc = lex("RUN 3<<EOF cat /dev/fd/3\nx\nEOF\n")
    assert doc.instructions[0].heredocs[0].fd == 3


def test_flags_before_a_heredoc():
    text = "RUN --mount=type=cache,target=/root/.cache/pip <<EOF\npip install torch\nEOF\n"
    doc = lex(text)
    run = doc.instructions[0]
    assert run.args.text == "<<EOF"
    [mount] = run.mounts
    assert (mount.mount_type, mount.mount_target) == ("cache", "/root/.cache/pip")
    assert at(doc, mount.span) == "--mount=type=cache,target=/root/.cache/pip"
    assert run.heredocs[0].content == "pip install torch\n"


def test_escape_lines_inside_a_heredoc_are_not_continuations():
    text = "RUN <<EOF\necho a \\\nEOF\nRUN b\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 3), ("RUN", 4, 4)]
    assert doc.instructions[0].heredocs[0].content == "echo a \\\n"


def test_instruction_lines_inside_a_heredoc_are_not_instructions():
    text = "FROM a\nRUN <<EOF\nFROM evil\nRUN inner\n# comment\n\nEOF\n"
    doc = lex(text)
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 2, 7)]
    assert doc.comments == []  # a `#` line in a heredoc body is body text
    assert doc.instructions[1].heredocs[0].content == "FROM evil\nRUN inner\n# comment\n\n"


def test_copy_heredoc():
    doc = lex("COPY <<EOF /app/config.txt\nkey=value\nEOF\n")
    copy = doc.instructions[0]
    assert copy.args.text == "<<EOF /app/config.txt"
    assert copy.heredocs[0].content == "key=value\n"


def test_heredoc_crlf():
    text = "RUN <<EOF\r\necho a\r\nEOF\r\nUSER x\r\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 3), ("USER", 4, 4)]
    [h] = doc.instructions[0].heredocs
    assert h.content == "echo a\r\n"
    assert at(doc, h.span) == "echo a\r\nEOF"


def test_heredoc_terminator_is_the_last_line_without_newline():
    text = "RUN <<EOF\necho a\nEOF"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 3)]
    assert doc.instructions[0].span.end == len(text)


def test_run_right_after_a_heredoc():
    doc = lex("RUN <<EOF\necho a\nEOF\nRUN echo b\n")
    assert kinds(doc) == [("RUN", 1, 3), ("RUN", 4, 4)]
    assert doc.instructions[1].args.text == "echo b"
    assert doc.instructions[1].heredocs == []


def test_heredoc_found_after_a_continuation():
    text = "RUN \\\n  <<EOF bash\necho a\nEOF\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 4)]
    assert doc.instructions[0].heredocs[0].content == "echo a\n"


@pytest.mark.parametrize(
    "line",
    [
        "RUN echo '<<EOF'",
        'RUN echo "a <<EOF"',
        "RUN echo \\<<EOF",
        "RUN cat<<EOF",
        "CMD <<EOF",
        'RUN ["cat", "<<EOF"]',
        "RUN <<''",
    ],
)
def test_not_heredocs(line):
    doc = lex(f"{line}\nUSER x\n")
    assert kinds(doc)[-1] == ("USER", 2, 2)
    assert doc.instructions[0].heredocs == []


@pytest.mark.parametrize(
    "line",
    [
        'RUN <<"EOF',  # unterminated quote: BuildKit's word splitter fails, no heredoc at all
        "RUN echo 'a <<EOF",
        "RUN echo ${FOO bar} <<EOF",
        "RUN echo ${#FOO} <<EOF",
        "RUN echo ${} <<EOF",
    ],
)
def test_no_heredoc_when_the_shell_lexer_fails(line):
    doc = lex(f"{line}\nUSER x\n")
    assert kinds(doc) == [("RUN", 1, 1), ("USER", 2, 2)]
    assert doc.instructions[0].heredocs == []


@pytest.mark.parametrize("expansion", ["${FOO}", "${FOO:-a b}", "$FOO", "${FOO:0:2}", "$(date)"])
def test_heredoc_after_valid_expansions(expansion):
    doc = lex(f"RUN echo {expansion} <<EOF\nx\nEOF\n")
    assert kinds(doc) == [("RUN", 1, 3)]


@pytest.mark.parametrize("expansion", ["${FOO/a/b}", "${FOO%%.*}", "${FOO##*/}"])
def test_heredoc_after_pattern_expansions(expansion):
    # Current BuildKit lexes these; v0.12.5 (the oracle) did not, so there is no oracle check here.
    doc = parse(SourceText(f"RUN echo {expansion} <<EOF\nx\nEOF\n"))
    assert kinds(doc) == [("RUN", 1, 3)]


def test_heredoc_name_with_a_quoted_space():
    doc = lex('RUN <<"A B"\nx\nA B\n')
    assert doc.instructions[0].heredocs[0].name == "A B"


@pytest.mark.parametrize("text", ["RUN <<EOF\necho a\n", "RUN <<EOF", "RUN <<EOF\nEOFX\n"])
def test_unterminated_heredoc_is_an_error(text):
    doc = lex(text)
    assert len(doc.errors) == 1 and "unterminated heredoc" in doc.errors[0].message
    [run] = doc.instructions
    assert run.span.end == len(text.rstrip("\n"))
    assert doc.instructions[0].heredocs[0].body_span.end == len(text)


def test_unterminated_first_of_two_heredocs():
    doc = lex("RUN <<A <<B\nx\nB\n")
    assert any("unterminated" in e.message for e in doc.errors)


# -- forms -------------------------------------------------------------------------------------


def test_json_form():
    text = 'CMD ["python", "-m", "app", "--port=8000"]\n'
    doc = lex(text)
    cmd = doc.instructions[0]
    assert cmd.is_json and cmd.json_args == ["python", "-m", "app", "--port=8000"]
    assert cmd.flags == []  # `--port` inside the array is not a flag


def test_json_form_with_flags_and_escapes():
    doc = lex('COPY --chown=1000 ["a b", "c\\"d", "/x/"]\n')
    copy = doc.instructions[0]
    assert copy.json_args == ["a b", 'c"d', "/x/"]
    assert [f.key for f in copy.flags] == ["chown"]


@pytest.mark.parametrize(
    "line",
    ['RUN [ "$X" = "1" ] && echo yes', "RUN ['a']", 'CMD ["a", NaN]', 'RUN ["a"', "RUN [ -f x ]"],
)
def test_invalid_json_is_shell_form(line):
    doc = lex(line + "\n")
    ins = doc.instructions[0]
    assert ins.is_shell_form and ins.json_args is None
    assert ins.args.text == line.split(" ", 1)[1]
    assert doc.errors == []


@pytest.mark.parametrize("line", ['CMD ["a", 1]', "RUN [1]", "COPY [null]", "HEALTHCHECK CMD [true]"])
def test_json_array_of_non_strings_is_an_error(line):
    doc = lex(line + "\n")
    assert [e.message for e in doc.errors] == [
        "when using JSON array syntax, arrays must be comprised of strings only"
    ]


@pytest.mark.parametrize("line", ['RUN ["ls"] -la', "COPY [1] /x", 'ENTRYPOINT []<-x'])
def test_json_array_with_trailing_text_is_shell_form(line):
    # Current BuildKit (v0.15+, json.Unmarshal) reads these as shell form. The oracle's v0.12.5
    # used json.Decoder, which ignored what followed the array, so there is no oracle check here.
    doc = parse(SourceText(line + "\n"))
    assert doc.instructions[0].json_args is None and doc.errors == []


def test_json_form_over_continuations():
    doc = lex('ENTRYPOINT ["python", \\\n  "-m", \\\n  "app"]\n')
    assert doc.instructions[0].json_args == ["python", "-m", "app"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ENV FOO", "ENV must have two arguments"),
        ("LABEL a", "LABEL must have two arguments"),
        ("ENV a=1 b", "Syntax error - can't find = in \"b\". Must be of the form: name=value"),
    ],
)
def test_env_and_label_errors(line, message):
    doc = lex(line + "\n")
    assert [e.message for e in doc.errors] == [message]


@pytest.mark.parametrize("line", ["ENV", "ENV A b c", 'ENV "a b"', 'LABEL a="x y" b=1', "ENV a\\ b"])
def test_env_and_label_without_errors(line):
    assert lex(line + "\n").errors == []


# -- ONBUILD, keywords -------------------------------------------------------------------------


def test_onbuild_wraps_an_instruction():
    text = "ONBUILD RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
    doc = lex(text)
    onbuild = doc.instructions[0]
    assert onbuild.keyword == "ONBUILD" and onbuild.flags == []
    inner = onbuild.inner
    assert inner is not None and inner.keyword == "RUN"
    assert at(doc, inner.keyword_span) == "RUN"
    assert inner.args.text == "pip install -r requirements.txt"
    [mount] = inner.mounts
    assert mount.mount_target == "/root/.cache/pip"
    assert at(doc, mount.span) == "--mount=type=cache,target=/root/.cache/pip"
    assert (inner.start_line, inner.end_line) == (1, 1)


def test_onbuild_heredoc():
    text = "ONBUILD RUN <<EOF\necho hi\nEOF\nUSER x\n"
    doc = lex(text)
    assert kinds(doc) == [("ONBUILD", 1, 3), ("USER", 4, 4)]
    onbuild = doc.instructions[0]
    assert onbuild.inner is not None and onbuild.inner.end_line == 3
    assert [h.content for h in onbuild.heredocs] == ["echo hi\n"]
    assert onbuild.inner.heredocs == onbuild.heredocs
    assert onbuild.inner.span == Span(8, len("ONBUILD RUN <<EOF\necho hi\nEOF"))


def test_onbuild_json_and_empty():
    doc = lex('ONBUILD CMD ["a"]\nONBUILD\n')
    assert doc.instructions[0].inner.json_args == ["a"]
    assert doc.instructions[1].inner is None


def test_lowercase_and_mixed_case_keywords():
    doc = lex("from python:3.11 as build\nRun echo hi\nWorkDir /app\n")
    assert kinds(doc) == [("FROM", 1, 1), ("RUN", 2, 2), ("WORKDIR", 3, 3)]
    assert at(doc, doc.instructions[0].keyword_span) == "from"
    assert doc.instructions[0].words == ["python:3.11", "as", "build"]


def test_from_with_platform_flag():
    text = "FROM --platform=$BUILDPLATFORM python:3.11-slim AS builder\n"
    doc = lex(text)
    ins = doc.instructions[0]
    [flag] = ins.flags
    assert (flag.name, flag.key, flag.value) == ("platform", "platform", "$BUILDPLATFORM")
    assert at(doc, flag.span) == "--platform=$BUILDPLATFORM"
    assert flag.value_span is not None and at(doc, flag.value_span) == "$BUILDPLATFORM"
    assert flag.span == Span(5, 30)
    assert ins.words == ["python:3.11-slim", "AS", "builder"]
    assert at(doc, ins.args.file_span(0, len(ins.args.text))) == "python:3.11-slim AS builder"


def test_arg_before_from():
    doc = lex("ARG CUDA=12.1.0\nFROM nvidia/cuda:${CUDA}-runtime-ubuntu22.04\nARG CUDA\n")
    assert kinds(doc) == [("ARG", 1, 1), ("FROM", 2, 2), ("ARG", 3, 3)]
    assert doc.instructions[0].args.text == "CUDA=12.1.0"


def test_python_from_import_on_a_continuation_line():
    text = (
        'RUN python -c "\\\n'
        "from transformers import AutoModel; \\\n"
        "AutoModel.from_pretrained('x')\"\n"
        "USER a\n"
    )
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 3), ("USER", 4, 4)]
    assert "from transformers import AutoModel" in doc.instructions[0].args.text


def test_python_from_import_inside_a_heredoc():
    text = "RUN <<EOF python\nfrom x import y\nimport torch\nEOF\n"
    doc = lex(text)
    assert kinds(doc) == [("RUN", 1, 4)]
    assert doc.instructions[0].heredocs[0].content == "from x import y\nimport torch\n"


@pytest.mark.parametrize("text", ["", "\n\n", "   \n", "\ufeff"])
def test_empty_file(text):
    doc = lex(text)
    assert doc.instructions == [] and doc.errors == [] and doc.comments == []


def test_comment_only_file():
    doc = lex("# just a comment\n\n  # another\n")
    assert doc.instructions == [] and doc.errors == []
    assert [at(doc, c) for c in doc.comments] == ["# just a comment", "# another"]


def test_directive_only_file():
    doc = lex("# syntax=docker/dockerfile:1\n")
    assert doc.instructions == [] and doc.errors == []
    assert [d.name for d in doc.directives] == ["syntax"]


def test_unknown_instruction_is_an_error_with_position():
    text = "FROM a\n  FORM b\nRUN c\n"
    doc = lex(text)
    assert kinds(doc) == [("FROM", 1, 1), ("FORM", 2, 2), ("RUN", 3, 3)]
    [error] = doc.errors
    assert "FORM" in error.message
    assert at(doc, error.span) == "FORM"
    assert doc.source.position(error.span.start) == (2, 3)


def test_line_too_long_for_buildkit_is_an_error():
    doc = lex("FROM a\nRUN echo " + "x" * 70000 + "\n")
    assert any("max allowed size" in e.message for e in doc.errors)
    assert lex("RUN " + "x" * 65531).errors == []  # 65535 bytes: still fine


# -- flags and --mount -------------------------------------------------------------------------


def test_mount_options():
    text = "RUN --mount=Type=cache,TARGET=/root/.cache/pip,sharing=locked,ro pip install x\n"
    doc = lex(text)
    run = doc.instructions[0]
    [mount] = run.mounts
    assert [(o.key, o.value) for o in mount.options] == [
        ("type", "cache"),
        ("target", "/root/.cache/pip"),
        ("sharing", "locked"),
        ("ro", None),
    ]
    assert (mount.mount_type, mount.mount_target) == ("cache", "/root/.cache/pip")
    target = mount.option("target")
    assert target is not None and target.value_span is not None
    assert at(doc, target.span) == "TARGET=/root/.cache/pip"
    assert at(doc, target.key_span) == "TARGET"
    assert at(doc, target.value_span) == "/root/.cache/pip"
    ro = mount.option("ro")
    assert ro is not None and ro.value_span is None and at(doc, ro.key_span) == "ro"
    assert run.args.text == "pip install x"


def test_mount_defaults_and_later_key_wins():
    doc = lex("RUN --mount=target=/a,dst=/b echo\n")
    [mount] = doc.instructions[0].mounts
    assert mount.mount_type == "bind" and mount.mount_target == "/b"


def test_quoted_flag_spans():
    text = 'RUN --mount="type=cache,target=/x" echo hi\n'
    doc = lex(text)
    [mount] = doc.instructions[0].mounts
    assert mount.value == "type=cache,target=/x"
    assert at(doc, mount.span) == '--mount="type=cache,target=/x"'
    assert mount.value_span is not None and at(doc, mount.value_span) == '"type=cache,target=/x"'
    target = mount.option("target")
    assert target is not None and target.value_span is not None
    assert at(doc, target.value_span) == "/x" and at(doc, target.key_span) == "target"
    assert doc.instructions[0].args.text == "echo hi"


def test_quoted_csv_field_in_mount():
    text = "RUN --mount='type=bind,\"source=a,b\",target=/src' ls\n"
    doc = lex(text)
    [mount] = doc.instructions[0].mounts
    assert [(o.key, o.value) for o in mount.options] == [
        ("type", "bind"),
        ("source", "a,b"),
        ("target", "/src"),
    ]
    source = mount.option("source")
    assert source is not None and source.value_span is not None
    assert at(doc, source.span) == '"source=a,b"'
    assert at(doc, source.key_span) == "source"
    assert at(doc, source.value_span) == "a,b"


def test_flags_split_over_lines_and_bare_flags():
    text = "COPY --link \\\n     --from=build \\\n     --chmod=755 /src /dst\n"
    doc = lex(text)
    copy = doc.instructions[0]
    assert [(f.name, f.value) for f in copy.flags] == [("link", None), ("from", "build"), ("chmod", "755")]
    assert [at(doc, f.span) for f in copy.flags] == ["--link", "--from=build", "--chmod=755"]
    assert copy.args.text == "/src /dst"
    assert doc.source.position(copy.flags[1].span.start) == (2, 6)


def test_double_dash_ends_flags():
    doc = lex("RUN --network=none -- --not-a-flag\n")
    run = doc.instructions[0]
    assert [f.name for f in run.flags] == ["network"]
    assert run.args.text == "--not-a-flag"


def test_flag_value_with_escaped_space():
    doc = lex("RUN --mount=type=cache,target=/a\\ b echo\n")
    [mount] = doc.instructions[0].mounts
    assert mount.mount_target == "/a b"


# -- generated Dockerfiles ---------------------------------------------------------------------

_MOUNTS = [
    "--mount=type=cache,target=/root/.cache/pip",
    "--mount=type=cache,target=/var/cache/apt,sharing=locked",
    '--mount="type=secret,id=hf_token,target=/run/secrets/hf"',
    "--mount=type=bind,source=.,target=/src,ro",
    "--mount=type=cache,id=uv,target=/root/.cache/uv,uid=1000",
    "--network=host",
    "--security=insecure",
]
_SHELL_WORDS = [
    "apt-get update",
    "&& apt-get install -y --no-install-recommends curl",
    "&& rm -rf /var/lib/apt/lists/*",
    "pip install --no-cache-dir torch==2.3.0",
    "&& python -c 'from x import y'",
    "from x import y",
    "FROM ubuntu:22.04 AS evil",
    "RUN echo nested",
    "echo \"a  b\" 'c d'",
    "echo $HOME ${PATH} ${HF_HOME:-/cache}",
    "|| true",
    "; echo done",
    "echo a\\\\b",
    "echo `date`",
    "uv pip install -r requirements.txt",
    "[ -f /x ] && echo yes",
    "echo '#' not a comment",
]
_BODY = [
    "FROM python:3.11",
    "RUN echo inside",
    "from x import y",
    "echo \\",
    "set -eux",
    "# a comment in the body",
    "",
    "  indented",
    "pip install torch \\",
    "  EOF",
    "EOFX",
    "`",
]
_SIMPLE = [
    ["FROM", "--platform=$BUILDPLATFORM", "python:3.11-slim", "AS", "build"],
    ["FROM", "nvidia/cuda:12.1.0-runtime-ubuntu22.04"],
    ["ARG", "CUDA=12.1"],
    ["ARG", "TORCH_VERSION"],
    ["ENV", "PIP_NO_CACHE_DIR=1", "HF_HOME=/cache/hf"],
    ["ENV", "PATH", "/opt/venv/bin:$PATH"],
    ["WORKDIR", "/app"],
    ["USER", "1000:1000"],
    ["EXPOSE", "8000", "8001/udp"],
    ["LABEL", 'org.opencontainers.image.title="my model"'],
    ["COPY", "--from=build", "--chown=1000:1000", "/opt/venv", "/opt/venv"],
    ["COPY", "--link", ".", "."],
    ["ADD", "https://example.com/x.tar.gz", "/tmp/"],
    ["CMD", '["python",', '"-m",', '"app"]'],
    ["ENTRYPOINT", '["/bin/sh",', '"-c"]'],
    ["SHELL", '["/bin/bash",', '"-o",', '"pipefail",', '"-c"]'],
    ["VOLUME", '["/data"]'],
    ["VOLUME", "/data", "/cache"],
    ["HEALTHCHECK", "--interval=30s", "CMD", "curl", "-f", "http://localhost/", "||", "exit", "1"],
    ["HEALTHCHECK", "NONE"],
    ["STOPSIGNAL", "SIGTERM"],
    ["RUN", '["pip",', '"install",', '"x"]'],
    ["RUN", "[", '"$X"', "=", '"1"', "]", "&&", "echo", "yes"],
    ["CMD", "python", "app.py"],
    ["ONBUILD", "COPY", ".", "/app"],
    ["FORM", "typo"],
]


def _case(draw, word: str) -> str:
    return draw(st.sampled_from([word, word.lower(), word.capitalize()]))


@st.composite
def _instruction(draw, escape: str, last: bool) -> list[str]:
    """One instruction as physical lines: continuations, comments inside, heredoc bodies."""
    kind = draw(st.sampled_from(["simple", "run", "run", "heredoc", "onbuild"]))
    heredocs: list[tuple[str, bool]] = []
    if kind == "simple":
        tokens = list(draw(st.sampled_from(_SIMPLE)))
    else:
        tokens = ["RUN"] + draw(st.lists(st.sampled_from(_MOUNTS), max_size=2))
        if kind == "onbuild":
            tokens = ["ONBUILD"] + tokens
        if kind == "heredoc":
            form = draw(st.sampled_from(["<<EOF", "<<-EOF", "<<'EOF'", '<<"EOF"', "two", "cmd"]))
            if form == "two":
                tokens += ["cat", "<<A", ">", "/a", "&&", "cat", "<<-B", ">", "/b"]
                heredocs = [("A", False), ("B", True)]
            elif form == "cmd":
                tokens += ['<<"EOF"', "bash", "-ex"]
                heredocs = [("EOF", False)]
            else:
                tokens.append(form)
                heredocs = [("EOF", form == "<<-EOF")]
        else:
            for piece in draw(st.lists(st.sampled_from(_SHELL_WORDS), min_size=1, max_size=4)):
                tokens.extend(piece.split(" "))
    tokens[0] = _case(draw, tokens[0])
    if tokens[0].upper() == "ONBUILD":
        tokens[1] = _case(draw, tokens[1])
    # group the tokens into physical lines joined by the escape character
    breaks = sorted(draw(st.sets(st.integers(1, max(1, len(tokens) - 1)), max_size=3)))
    groups = [tokens[a:b] for a, b in zip([0] + breaks, breaks + [len(tokens)]) if a < b]
    lines: list[str] = []
    for index, group in enumerate(groups):
        indent = "" if index == 0 else draw(st.sampled_from(["", "  ", "    ", "\t"]))
        if index == 0 and draw(st.integers(0, 9)) == 0:
            indent = "  "
        line = indent + " ".join(group)
        if index < len(groups) - 1:
            line += draw(st.sampled_from([" ", " ", ""])) + escape
            line += draw(st.sampled_from(["", "", " ", "\t", "  "]))
            lines.append(line)
            lines.extend(
                draw(st.lists(st.sampled_from(["# inside", "    # indented", "", "   "]), max_size=2))
            )
        else:
            lines.append(line)
    if last and not heredocs and draw(st.integers(0, 4)) == 0:
        lines[-1] += " " + escape  # a trailing escape on the very last line
    for name, strip_tabs in heredocs:
        lines.extend(draw(st.lists(st.sampled_from(_BODY), max_size=4)))
        lines.append(("\t" * draw(st.integers(0, 2)) if strip_tabs else "") + name)
    return lines


@st.composite
def dockerfiles(draw) -> str:
    """Realistic Dockerfile text: BOM or not, CRLF or LF, final newline or not."""
    escape = draw(st.sampled_from(["\\", "\\", "`"]))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("# syntax=docker/dockerfile:1")
    if escape == "`":
        lines.append(draw(st.sampled_from(["# escape=`", "#escape = `", "# Escape=`"])))
    elif draw(st.booleans()):
        lines.append("# escape=\\")
    if draw(st.integers(0, 3)) == 0:
        # The oracle's BuildKit v0.12.5 does not know `check` and ends the block there; current
        # BuildKit does not. A blank line after it ends the block for both.
        lines += ["# check=skip=all", ""]
    count = draw(st.integers(1, 6))
    for index in range(count):
        lines.extend(draw(st.lists(st.sampled_from(["", "# comment", "  # escape=`", "   "]), max_size=2)))
        lines.extend(draw(_instruction(escape, index == count - 1)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


def check_lossless(doc: Dockerfile) -> None:
    source = doc.source
    text = source.text
    previous_end = 0
    covered: set[int] = set()
    for ins in doc.instructions:
        assert 0 <= previous_end <= ins.span.start <= ins.keyword_span.start
        assert ins.keyword_span.end <= ins.span.end <= len(text)
        if "\n" not in at(doc, ins.keyword_span):  # else the keyword was joined over lines
            assert at(doc, ins.keyword_span).upper() == ins.keyword
        assert source.line_of(ins.span.start) == ins.start_line
        assert source.line_of(ins.span.end) == ins.end_line
        previous_end = ins.span.end
        for each in [ins] + ([ins.inner] if ins.inner else []):
            assert len(each.args.offsets) == len(each.args.text) + 1
            assert_args_mapped(doc, each)
            for flag in each.flags:
                assert ins.span.start <= flag.span.start <= flag.span.end <= ins.span.end
        for h in ins.heredocs:
            assert at(doc, h.body_span) == h.content
            assert ins.span.start <= h.span.start <= h.span.end <= len(text)
            # an unterminated body runs to the end of the file, its last newline included
            assert h.span.end <= ins.span.end or h.span.end == len(text) and doc.errors
        covered.update(range(ins.start_line, ins.end_line + 1))
    covered.update(source.line_of(c.start) for c in doc.comments)
    covered.update(source.line_of(d.span.start) for d in doc.directives)
    for line in range(1, source.line_count + 1):
        if line not in covered:
            assert source.line_text(line).strip() == "", f"line {line} is not accounted for"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_generated_dockerfiles_match_buildkit(text):
    doc = parse(SourceText.decode(text.encode("utf-8")))
    check_lossless(doc)
    assert SourceText.decode(text.encode("utf-8")).encode() == text.encode("utf-8")
    if available():
        assert_matches_buildkit(text, doc)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("RUNFROM ab\\`#\n\r\t<>'\"=-[]{}$,E:")), max_size=80))
def test_arbitrary_text_is_lossless(text):
    doc = parse(SourceText.decode(text.encode("utf-8")))
    check_lossless(doc)


@needs_oracle
def test_oracle_helper_shapes():
    assert buildkit_instructions("") == []
    assert buildkit_instructions("run a\nONBUILD RUN <<EOF\nx\nEOF\n") == [("RUN", 1, 1), ("ONBUILD", 2, 4)]


@pytest.mark.parametrize("text", [
    '["python", "app.py"]', '[ "a" ,"b"  ]', "[]", "[ ]", '["a\\"b"]', '["\\u0041"]', '["a",]', '["a" "b"]',
    '["tab\there"]', '[\n"a",\n"b"\n]', '["a", 1]', "['a']", '["é ü"]', '["a\\\\b"]', '["x"]  ', '["a","b"]]',
])
def test_plain_json_arrays_read_without_json_agree_with_json(text):
    """Exec-form arrays without escapes are read by a regular expression (no `import json` at
    start-up); everything it reads, json reads the same, and everything else still goes to json."""
    import json

    from aicache_lint.dockerfile.lexer import _json_array, _NotStringArray

    try:
        value = json.loads(text.strip())
        want = value if isinstance(value, list) and all(isinstance(v, str) for v in value) else (
            "not strings" if isinstance(value, list) else None)
    except ValueError:
        want = None
    try:
        got = _json_array(text)
    except _NotStringArray:
        got = "not strings"
    assert got == want
