"""Tests for the RUN shell tokenizer (aicache_lint.dockerfile.shell)."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_cost import imports_of

from aicache_lint.dockerfile.shell import (
    Command,
    Operator,
    Script,
    Word,
    invocations,
    normalize,
    parse_script,
    subcommand,
)
from aicache_lint.source import MappedText, Span


def parse(text: str, start: int = 0) -> Script:
    return parse_script(MappedText.contiguous(text, start))


def argv(cmd: Command) -> list[str]:
    return [w.value for w in cmd.words]


def all_argv(text: str) -> list[list[str]]:
    return [argv(c) for c in parse(text).commands]


def only(text: str) -> Command:
    commands = parse(text).commands
    assert len(commands) == 1, [argv(c) for c in commands]
    return commands[0]


def find(script: Script, name: str) -> Command:
    matches = [c for c in script.commands if c.words and c.words[0].value == name]
    assert len(matches) == 1, [argv(c) for c in script.commands]
    return matches[0]


def word_at(cmd: Command, value: str) -> Word:
    return next(w for w in cmd.words if w.value == value)


# --------------------------------------------------------------------------------------------
# Words


def test_simple_words_values_and_spans():
    cmd = only("echo  hello world")
    assert [(w.raw, w.value, w.start, w.end) for w in cmd.words] == [
        ("echo", "echo", 0, 4),
        ("hello", "hello", 6, 11),
        ("world", "world", 12, 17),
    ]
    assert not any(w.quoted or w.has_expansion for w in cmd.words)
    assert cmd.words[1].value_index == (6, 7, 8, 9, 10)
    assert (cmd.start, cmd.end) == (0, 17)
    assert cmd.assignments == [] and cmd.redirects == []


def test_quoted_words():
    text = """echo 'a b' "c d" e\\ f a'b'"c"d ''"""
    cmd = only(text)
    assert argv(cmd) == ["echo", "a b", "c d", "e f", "abcd", ""]
    assert [w.raw for w in cmd.words[1:]] == ["'a b'", '"c d"', "e\\ f", "a'b'\"c\"d", "''"]
    assert all(w.quoted for w in cmd.words[1:])
    mixed = cmd.words[4]
    assert [text[k] for k in mixed.value_index] == list("abcd")
    assert (mixed.start, mixed.end) == (text.index("a'b'"), text.index("a'b'") + 8)


def test_double_quote_escapes():
    cmd = only(r'echo "a\"b\\c\$d\`e\x"')
    assert cmd.words[1].value == 'a"b\\c$d`e\\x'
    assert not cmd.words[1].has_expansion


def test_single_quotes_keep_everything_literal():
    cmd = only(r"echo 'a\"$HOME`x`\'")
    assert cmd.words[1].value == 'a\\"$HOME`x`\\'
    assert not cmd.words[1].has_expansion


def test_ansi_c_quotes():
    cmd = only(r"echo $'a\nb\t\x41\u00e9\'q\101\z' $'\cA'")
    assert cmd.words[1].value == "a\nb\tAé'qA\\z"
    assert cmd.words[1].quoted
    assert cmd.words[2].value == "\x01"
    # Each produced character maps to the start of its escape.
    assert len(cmd.words[1].value_index) == len(cmd.words[1].value)


def test_locale_string():
    assert argv(only('echo $"hi there"')) == ["echo", "hi there"]


def test_backslash_escapes_outside_quotes():
    cmd = only(r"echo \$HOME \"x\" a\\b")
    assert argv(cmd)[1:] == ["$HOME", '"x"', "a\\b"]
    assert not cmd.words[1].has_expansion


def test_line_continuation_removed_inside_and_between_words():
    text = "ec\\\nho a\\\n  b\\\nc"
    cmd = only(text)
    assert argv(cmd) == ["echo", "a", "bc"]
    assert cmd.words[0].raw == "ec\\\nho"
    assert cmd.words[0].value_index == (0, 1, 4, 5)
    assert not cmd.words[0].quoted


def test_trailing_backslash_at_end_of_text():
    script = parse("echo a\\")
    assert [argv(c) for c in script.commands] == [["echo", "a\\"]]
    assert script.opaque == []


def test_comments():
    assert all_argv("echo a # comment && rm x\nls # another") == [["echo", "a"], ["ls"]]
    assert all_argv("echo a#b '#' \\#c") == [["echo", "a#b", "#", "#c"]]
    assert all_argv("# only a comment") == []


def test_expansions_kept_literally():
    text = "echo $HOME ${X:-a b} $(id -u) `date` $((1 + 2)) pre${X}post '$NO' $ \"$@\""
    cmd = find(parse(text), "echo")
    assert argv(cmd)[1:] == ["$HOME", "${X:-a b}", "$(id -u)", "`date`", "$((1 + 2))", "pre${X}post", "$NO", "$", "$@"]
    assert [w.has_expansion for w in cmd.words[1:]] == [True, True, True, True, True, True, False, False, True]


def test_nested_braces_and_quotes_in_parameter_expansion():
    cmd = only('echo ${A:-${B:-"x y"}} z')
    assert argv(cmd) == ["echo", '${A:-${B:-"x y"}}', "z"]


def test_carriage_returns_are_whitespace():
    assert all_argv("echo a\r\nls -l\r\n") == [["echo", "a"], ["ls", "-l"]]


def test_assignments_and_arrays():
    cmd = only('A=1 B="x y" C+=z arr=(1 "2 3" $(x)) D[0]=q env')
    assert [w.value for w in cmd.assignments] == ["A=1", "B=x y", "C+=z", 'arr=(1 "2 3" $(x))', "D[0]=q"]
    assert argv(cmd) == ["env"]
    bare = only("X=1")
    assert bare.words == [] and [w.value for w in bare.assignments] == ["X=1"]
    # After the command name, NAME=value is an ordinary argument.
    assert argv(only("make CC=gcc")) == ["make", "CC=gcc"]


# --------------------------------------------------------------------------------------------
# Operators


@pytest.mark.parametrize("op", ["&&", "||", ";", "|", "&", "|&", "\n"])
def test_control_operators(op):
    text = f"a x {op} b y"
    a, b = parse(text).commands
    assert argv(a) == ["a", "x"] and argv(b) == ["b", "y"]
    start = text.index(op, 3)
    assert a.op_after == Operator(op, start, start + len(op))
    assert b.op_before is a.op_after
    assert a.op_before is None and b.op_after is None


@pytest.mark.parametrize("op", ["&&", "||", ";", "|", "&", "|&"])
def test_operators_need_no_spaces(op):
    assert all_argv(f"a{op}b") == [["a"], ["b"]]


def test_extra_newlines_are_filler():
    text = "a &&\n\n  # note\n  b\n\n\nc"
    a, b, c = parse(text).commands
    assert b.op_before.text == "&&" and b.op_before.start == 2
    assert b.op_after.text == "\n" and c.op_before is b.op_after


def test_operator_after_compound_joins_next_command():
    script = parse("(cd x && make) && rm -rf x")
    cd, make, rm = script.commands
    assert make.op_after is None  # end of the subshell's list
    assert rm.op_before.text == "&&"


def test_case_terminators_are_operators():
    script = parse("case $x in a) one;& b) two;;& c) three;; esac")
    assert [c.op_after.text for c in script.commands] == [";&", ";;&", ";;"]


# --------------------------------------------------------------------------------------------
# Redirections


def test_unquoted_version_specifier_is_a_redirect():
    text = "pip install numpy>=1.24.0 torch<2.0"
    cmd = only(text)
    assert argv(cmd) == ["pip", "install", "numpy", "torch"]
    gt, lt = cmd.redirects
    assert (gt.op, gt.fd, gt.target.value, gt.start, gt.end) == (">", None, "=1.24.0", 17, 25)
    assert (lt.op, lt.fd, lt.target.value) == ("<", None, "2.0")
    assert text[lt.start : lt.end] == "<2.0"
    assert cmd.end == len(text)


def test_quoted_version_specifier_is_one_word():
    cmd = only("pip install \"numpy>=1.2\" 'torch<2' x\\>1")
    assert argv(cmd) == ["pip", "install", "numpy>=1.2", "torch<2", "x>1"]
    assert cmd.redirects == []


@pytest.mark.parametrize(
    "text, op, fd, target",
    [
        ("cmd 2>&1", ">&", "2", "1"),
        ("cmd 2>/dev/null", ">", "2", "/dev/null"),
        ("cmd &>/dev/null", "&>", None, "/dev/null"),
        ("cmd &>> log", "&>>", None, "log"),
        ("cmd >> log", ">>", None, "log"),
        ("cmd >| f", ">|", None, "f"),
        ("cmd <> f", "<>", None, "f"),
        ("cmd <&3", "<&", None, "3"),
        ("cmd 3<&-", "<&", "3", "-"),
        ("cmd <<< \"a b\"", "<<<", None, "a b"),
        ("cmd 10>f", ">", "10", "f"),
    ],
)
def test_redirect_forms(text, op, fd, target):
    cmd = only(text)
    assert argv(cmd) == ["cmd"]
    (redirect,) = cmd.redirects
    assert (redirect.op, redirect.fd, redirect.target.value) == (op, fd, target)
    assert (redirect.start, redirect.end) == (4, len(text))
    assert redirect.heredoc is None


def test_redirects_anywhere_in_command():
    cmd = only(">out A=1 echo hi 2>&1 there")
    assert [w.value for w in cmd.assignments] == ["A=1"]
    assert argv(cmd) == ["echo", "hi", "there"]
    assert [r.op for r in cmd.redirects] == [">", ">&"]
    assert (cmd.start, cmd.end) == (0, len(">out A=1 echo hi 2>&1 there"))


def test_digits_inside_a_word_are_not_an_io_number():
    cmd = only("echo a2>f 2 >g")
    assert argv(cmd) == ["echo", "a2", "2"]
    assert [(r.fd, r.target.value) for r in cmd.redirects] == [(None, "f"), (None, "g")]


# --------------------------------------------------------------------------------------------
# Compound commands and keywords


def test_if_elif_else():
    script = parse("if [ -f x ]; then pip install a; elif test -d y; then b; else c; fi && d")
    assert [argv(c) for c in script.commands] == [
        ["[", "-f", "x", "]"], ["pip", "install", "a"], ["test", "-d", "y"], ["b"], ["c"], ["d"],
    ]
    assert [c.conditional for c in script.commands] == [True] * 5 + [False]
    assert script.opaque == []


def test_multiline_if():
    text = "if true\nthen\n  echo yes\nfi\necho after\n"
    assert all_argv(text) == [["true"], ["echo", "yes"], ["echo", "after"]]


def test_for_loop():
    script = parse("for x in a $(ls -1) c; do echo $x; done; after")
    assert [argv(c) for c in script.commands] == [["ls", "-1"], ["echo", "$x"], ["after"]]
    ls, echo, after = script.commands
    assert not echo.conditional and ls.parent is None
    assert all_argv("for x\ndo\n  y\ndone") == [["y"]]
    assert all_argv("for ((i=0; i<3; i++)); do z; done") == [["z"]]
    assert all_argv("select x in a b; do w; done") == [["w"]]


def test_while_and_until():
    script = parse("while read -r line; do echo $line; done < list.txt\nuntil false; do x; done")
    assert [argv(c) for c in script.commands] == [["read", "-r", "line"], ["echo", "$line"], ["false"], ["x"]]
    assert all(c.conditional for c in script.commands)


def test_case_patterns_are_not_commands():
    text = 'case "$(uname -m)" in\n  x86_64|amd64) arch=amd64 ;;\n  (aarch64) echo arm;;\n  *) exit 1 ;;\nesac\nnext'
    script = parse(text)
    assert [argv(c) for c in script.commands] == [["uname", "-m"], [], ["echo", "arm"], ["exit", "1"], ["next"]]
    uname, assign, echo, exit_, nxt = script.commands
    assert [w.value for w in assign.assignments] == ["arch=amd64"]
    assert assign.conditional and echo.conditional and exit_.conditional
    assert not nxt.conditional and not uname.conditional


def test_double_brackets_are_one_command():
    text = "[[ -n $a && $b > 3 || ( x < y ) ]] && rm -rf x"
    test_cmd, rm = parse(text).commands
    assert argv(test_cmd) == ["[[", "-n", "$a", "&&", "$b", ">", "3", "||", "(", "x", "<", "y", ")", "]]"]
    assert test_cmd.redirects == []
    assert (test_cmd.start, test_cmd.end) == (0, text.index("]]") + 2)
    assert rm.conditional and normalize(test_cmd) is None


def test_subshell_and_group():
    script = parse("(cd /src && make) | tee log; { a; b; } > out 2>&1")
    assert [argv(c) for c in script.commands] == [["cd", "/src"], ["make"], ["tee", "log"], ["a"], ["b"]]
    tee = script.commands[2]
    assert tee.op_before.text == "|" and tee.redirects == []


def test_function_definitions():
    text = "f() { pip install x; }\nfunction g { y; }\nfunction h() (z)\nf"
    assert all_argv(text) == [["pip", "install", "x"], ["y"], ["z"], ["f"]]


def test_bang_and_arithmetic():
    assert all_argv("! grep -q x f && echo no") == [["grep", "-q", "x", "f"], ["echo", "no"]]
    script = parse("(( i++ )); (( $# > 0 )) && rm y")
    (rm,) = script.commands
    assert argv(rm) == ["rm", "y"] and rm.conditional


def test_nested_subshell_is_not_arithmetic():
    assert all_argv("((cd /x) && ls)") == [["cd", "/x"], ["ls"]]


def test_keywords_as_arguments_are_words():
    assert all_argv("echo if then fi { } done esac") == [["echo", "if", "then", "fi", "{", "}", "done", "esac"]]
    assert all_argv('"if" x') == [["if", "x"]]


def test_time_is_kept_as_a_word():
    cmd = only("time -p pip install x")
    assert argv(cmd)[:2] == ["time", "-p"]
    assert normalize(cmd).program == "pip"


# --------------------------------------------------------------------------------------------
# Command substitution, backticks, process substitution


def test_command_substitution_nesting_with_quotes():
    text = 'echo "$(dirname "$(command -v pip)")" done'
    script = parse(text)
    assert [argv(c) for c in script.commands] == [
        ["echo", '$(dirname "$(command -v pip)")', "done"],
        ["dirname", "$(command -v pip)"],
        ["command", "-v", "pip"],
    ]
    echo, dirname, command = script.commands
    assert dirname.parent is echo and command.parent is dirname
    assert dirname.script is script  # same text: spans index the outer script
    assert text[command.start : command.end] == "command -v pip"


def test_parenthesis_inside_quotes_in_substitution():
    script = parse('x=$(echo ")" \'(\') && y')
    assert [argv(c) for c in script.commands] == [[], ["echo", ")", "("], ["y"]]


def test_case_inside_substitution():
    script = parse("v=$(case $a in x) echo one;; esac); next")
    assert [argv(c) for c in script.commands] == [[], ["echo", "one"], ["next"]]


def test_backticks():
    text = "echo `uname -m` done"
    echo, uname = parse(text).commands
    assert argv(uname) == ["uname", "-m"] and uname.parent is echo
    assert text[uname.start : uname.end] == "uname -m"


def test_arithmetic_expansion_has_no_commands():
    assert all_argv("echo $((1 + (2 * 3)))") == [["echo", "$((1 + (2 * 3)))"]]


def test_process_substitution():
    script = parse("diff <(ls a) <(ls b) && cat < <(echo x)")
    assert [argv(c) for c in script.commands] == [
        ["diff", "<(ls a)", "<(ls b)"], ["ls", "a"], ["ls", "b"], ["cat"], ["echo", "x"],
    ]


def test_substitution_in_conditional_command_is_conditional():
    script = parse("[ -f x ] || pip install $(cat reqs)")
    assert find(script, "cat").conditional


# --------------------------------------------------------------------------------------------
# sh -c / bash -c


def test_sh_c_maps_to_file_offsets():
    text = "sh -c 'pip install numpy && rm -rf /tmp/x'"
    script = parse(text, 100)
    sh, pip, rm = script.commands
    assert argv(pip) == ["pip", "install", "numpy"] and argv(rm) == ["rm", "-rf", "/tmp/x"]
    assert pip.parent is sh and rm.parent is sh
    assert pip.script is not script and pip.script is rm.script
    assert pip.script.source.text == "pip install numpy && rm -rf /tmp/x"
    numpy = word_at(pip, "numpy")
    assert pip.script.file_span(numpy.start, numpy.end) == Span(100 + text.index("numpy"), 100 + text.index("numpy") + 5)
    op = rm.op_before
    assert pip.script.file_span(op.start, op.end) == Span(100 + text.index("&&"), 100 + text.index("&&") + 2)


def test_bash_c_with_escaped_quotes_maps_each_character():
    text = 'bash -c "uv pip install \\"torch>=2\\" $X"'
    script = parse(text, 100)
    bash, uv = script.commands
    assert argv(uv) == ["uv", "pip", "install", "torch>=2", "$X"]
    assert uv.redirects == [] and uv.parent is bash
    torch = uv.words[3]
    assert torch.raw == '"torch>=2"'
    # The inner word starts at the escaped quote (after its backslash) and ends after the closing one.
    first = text.index('"torch') + 100
    assert uv.script.file_span(torch.start, torch.end) == Span(first, first + 11)
    assert not uv.script.source.is_contiguous(torch.start, torch.end)


@pytest.mark.parametrize(
    "text",
    [
        "sh -c 'pip install x'",
        "bash -c 'pip install x'",
        "bash -ex -c 'pip install x'",
        "sh -exc 'pip install x'",
        "bash -lc 'pip install x'",
        "/bin/sh -c 'pip install x'",
        "dash -c 'pip install x'",
        "zsh -c 'pip install x'",
        "bash -o pipefail -c 'pip install x'",
        "bash -c -e 'pip install x'",
        "sudo -E sh -c 'pip install x'",
        "exec /bin/bash -c 'pip install x'",
    ],
)
def test_shell_c_spellings(text):
    script = parse(text)
    shell, pip = script.commands
    assert argv(pip) == ["pip", "install", "x"] and pip.parent is shell
    assert [inv.program for inv in invocations(script)][1] == "pip"


def test_shell_without_c_runs_a_file():
    assert len(parse("bash setup.sh 'pip install x'").commands) == 1


def test_sh_c_argument_with_expansion_is_still_tokenized():
    sh, inner = parse('sh -c "$CMD --flag"').commands
    assert argv(inner) == ["$CMD", "--flag"] and normalize(inner) is None


def test_nested_sh_c():
    text = "sh -c \"bash -c 'pip install y'\""
    sh, bash, pip = parse(text, 10).commands
    assert bash.parent is sh and pip.parent is bash
    y = pip.words[2]
    assert pip.script.file_span(y.start, y.end) == Span(10 + text.index("y'"), 10 + text.index("y'") + 1)


def test_joined_mapped_text():
    source = MappedText.join([MappedText.contiguous("pip install ", 10), MappedText.contiguous("numpy", 50)])
    script = parse_script(source)
    cmd = script.commands[0]
    numpy = cmd.words[2]
    assert (numpy.start, numpy.end) == (12, 17)
    assert script.file_span(numpy.start, numpy.end) == Span(50, 55)
    assert script.file_span(cmd.start, cmd.end) == Span(10, 55)


def test_joined_mapped_text_through_sh_c():
    source = MappedText.join([MappedText.contiguous("sh -c 'pip ", 10), MappedText.contiguous("install x'", 50)])
    script = parse_script(source)
    pip = script.commands[1]
    spans = [pip.script.file_span(w.start, w.end) for w in pip.words]
    assert spans == [Span(17, 20), Span(50, 57), Span(58, 59)]


# --------------------------------------------------------------------------------------------
# Heredocs


def test_heredoc_body_is_skipped_and_recorded():
    text = "cat <<EOF > /etc/conf\nline $(rm -rf /)\nEOF\necho done"
    script = parse(text)
    assert [argv(c) for c in script.commands] == [["cat"], ["echo", "done"]]
    cat = script.commands[0]
    doc_redirect, out = cat.redirects
    doc = doc_redirect.heredoc
    assert (doc.delimiter, doc.strip_tabs, doc.quoted) == ("EOF", False, False)
    assert text[doc.body_start : doc.body_end] == "line $(rm -rf /)\n"
    assert (out.op, out.target.value) == (">", "/etc/conf")
    assert cat.end == text.index("\n")  # the body is not part of the command


@pytest.mark.parametrize("delim", ["'EOF'", '"EOF"', "\\EOF", "E'O'F"])
def test_quoted_heredoc_delimiters(delim):
    text = f"cat <<{delim}\n$HOME don't\nEOF\nls"
    script = parse(text)
    assert [argv(c) for c in script.commands] == [["cat"], ["ls"]]
    doc = script.commands[0].redirects[0].heredoc
    assert (doc.delimiter, doc.quoted) == ("EOF", True)
    assert text[doc.body_start : doc.body_end] == "$HOME don't\n"


def test_heredoc_strip_tabs():
    text = "cat <<-EOF\n\tindented\n\tEOF\nls"
    script = parse(text)
    doc = script.commands[0].redirects[0].heredoc
    assert doc.strip_tabs and text[doc.body_start : doc.body_end] == "\tindented\n"
    assert argv(script.commands[1]) == ["ls"]


def test_two_heredocs_on_one_line():
    text = "paste <<A <<B && wc\nfirst\nA\nsecond\nB\nls"
    script = parse(text)
    assert [argv(c) for c in script.commands] == [["paste"], ["wc"], ["ls"]]
    a, b = (r.heredoc for r in script.commands[0].redirects)
    assert text[a.body_start : a.body_end] == "first\n"
    assert text[b.body_start : b.body_end] == "second\n"


def test_heredoc_without_delimiter_line_runs_to_the_end():
    text = "cat <<EOF\nno end"
    script = parse(text)
    doc = script.commands[0].redirects[0].heredoc
    assert (doc.body_start, doc.body_end) == (10, len(text)) and script.opaque == []


def test_heredoc_with_crlf_delimiter_line():
    text = "cat <<EOF\r\nx\r\nEOF\r\nls\r\n"
    assert all_argv(text) == [["cat"], ["ls"]]


def test_heredoc_fed_to_bash_is_a_script():
    text = "bash <<'EOF'\nset -e\npip install -r req.txt\nEOF\n"
    script = parse(text, 100)
    bash, set_, pip = script.commands
    assert argv(pip) == ["pip", "install", "-r", "req.txt"] and pip.parent is bash
    word = pip.words[3]
    assert pip.script.file_span(word.start, word.end) == Span(100 + text.index("req.txt"), 100 + text.index("req.txt") + 7)
    assert subcommand(normalize(pip), 2) == ["install"]


def test_heredoc_fed_to_python_is_data():
    assert all_argv("python3 <<EOF\nimport os; os.system('pip install x')\nEOF\n") == [["python3"]]
    assert all_argv("tee /f <<EOF\npip install x\nEOF\n") == [["tee", "/f"]]
    assert all_argv("bash script.sh <<EOF\npip install x\nEOF\n") == [["bash", "script.sh"]]


def test_bare_heredoc_is_a_script():
    text = "<<EOF\napt-get update\napt-get install -y curl\nEOF\n"
    script = parse(text)
    bare, update, install = script.commands
    assert bare.words == [] and normalize(bare) is None
    assert update.parent is bare and install.op_before.text == "\n"
    assert [inv.program for inv in invocations(script)] == ["apt-get", "apt-get"]


@pytest.mark.parametrize(
    "shebang, is_script",
    [
        ("#!/usr/bin/env python3", False),
        ("#!/usr/bin/python", False),
        ("#!/usr/bin/env -S node", False),
        ("#!/bin/bash", True),
        ("#!/usr/bin/env sh", True),
    ],
)
def test_heredoc_shebang(shebang, is_script):
    script = parse(f"<<EOF\n{shebang}\npip install x\nEOF\n")
    assert (len(script.commands) == 2) is is_script


def test_opaque_body_of_shell_heredoc_is_mapped_to_outer_script():
    script = parse("bash <<EOF\necho 'unclosed\nEOF\nls")
    assert [argv(c) for c in script.commands] == [["bash"], ["ls"]]
    # The inner script's opaque region is also opaque in the outer script.
    assert script.opaque == [(16, 26)]


# --------------------------------------------------------------------------------------------
# Normalisation


@pytest.mark.parametrize(
    "text, program, args, program_words",
    [
        ("pip install x", "pip", ["install", "x"], ["pip"]),
        ("pip3 install x", "pip", ["install", "x"], ["pip3"]),
        ("pip3.11 install x", "pip", ["install", "x"], ["pip3.11"]),
        ("/usr/bin/pip3 install x", "pip", ["install", "x"], ["/usr/bin/pip3"]),
        ("python -m pip install x", "pip", ["install", "x"], ["python", "-m", "pip"]),
        ("python3 -m pip install x", "pip", ["install", "x"], ["python3", "-m", "pip"]),
        ("python3.11 -m pip install x", "pip", ["install", "x"], ["python3.11", "-m", "pip"]),
        ("/opt/conda/bin/python -m pip install x", "pip", ["install", "x"], ["/opt/conda/bin/python", "-m", "pip"]),
        ("py -m pip install x", "pip", ["install", "x"], ["py", "-m", "pip"]),
        ("python3 -u -m pip install x", "pip", ["install", "x"], ["python3", "-u", "-m", "pip"]),
        ("python -W ignore -m pip list", "pip", ["list"], ["python", "-W", "ignore", "-m", "pip"]),
        ("python -mpip install x", "pip", ["install", "x"], ["python", "-mpip"]),
        ("uv pip install x", "uv", ["pip", "install", "x"], ["uv"]),
        ("/root/.local/bin/uv sync", "uv", ["sync"], ["/root/.local/bin/uv"]),
        ("python -m uv pip install x", "uv", ["pip", "install", "x"], ["python", "-m", "uv"]),
        ("python3 -m venv /opt/venv", "python3", ["-m", "venv", "/opt/venv"], ["python3"]),
        ("python -c 'import pip'", "python", ["-c", "import pip"], ["python"]),
        ("python setup.py -m pip", "python", ["setup.py", "-m", "pip"], ["python"]),
        ("$VENV/bin/pip install x", "pip", ["install", "x"], ["$VENV/bin/pip"]),
        ("/usr/local/bin/tool --x", "tool", ["--x"], ["/usr/local/bin/tool"]),
        ("xargs pip install", "xargs", ["pip", "install"], ["xargs"]),
        ("command -v pip", "command", ["-v", "pip"], ["command"]),
        ("sudo", "sudo", [], ["sudo"]),
        ("env", "env", [], ["env"]),
    ],
)
def test_normalize_programs(text, program, args, program_words):
    inv = normalize(only(text))
    assert inv.program == program
    assert [w.value for w in inv.args] == args
    assert [w.value for w in inv.program_words] == program_words


@pytest.mark.parametrize(
    "name",
    ["pipx", "conda", "mamba", "micromamba", "poetry", "apt-get", "apt", "apk", "dnf", "yum", "microdnf",
     "zypper", "npm", "yarn", "pnpm", "go", "cargo", "hf", "huggingface-cli", "rm", "git", "curl", "wget"],
)
def test_normalize_tool_names(name):
    inv = normalize(only(f"/usr/bin/{name} sub arg"))
    assert inv.program == name and [w.value for w in inv.args] == ["sub", "arg"]


@pytest.mark.parametrize(
    "text, env",
    [
        ("PIP_NO_CACHE_DIR=1 pip install x", {"PIP_NO_CACHE_DIR": "1"}),
        ("A=1 B='x y' pip install x", {"A": "1", "B": "x y"}),
        ("env A=1 pip install x", {"A": "1"}),
        ("env -i A=1 pip install x", {"A": "1"}),
        ("env -u X A=1 pip install x", {"A": "1"}),
        ("env --unset=X -- pip install x", {}),
        ("sudo -E -u x pip install x", {}),
        ("sudo -E A=1 pip install x", {"A": "1"}),
        ("sudo --preserve-env=PATH -H -- pip install x", {}),
        ("sudo -g grp -uroot pip install x", {}),
        ("exec pip install x", {}),
        ("time pip install x", {}),
        ("time -p pip install x", {}),
        ("nohup pip install x", {}),
        ("command pip install x", {}),
        ("command -p pip install x", {}),
        ("builtin pip install x", {}),
        ("nice -n 5 pip install x", {}),
        ("nice -10 pip install x", {}),
        ("stdbuf -oL -e L pip install x", {}),
        ("timeout 600 pip install x", {}),
        ("timeout -s KILL --kill-after=5 10m pip install x", {}),
        ("X=0 sudo -E env A=1 time -p nice -n 5 python3 -m pip install x", {"X": "0", "A": "1"}),
    ],
)
def test_normalize_sees_through_wrappers(text, env):
    inv = normalize(only(text))
    assert inv.program == "pip"
    assert [w.value for w in inv.args] == ["install", "x"]
    assert {k: v.value for k, v in inv.env.items()} == env


def test_env_value_word_spans():
    text = 'A="1 2" env B=$HOME pip'
    inv = normalize(only(text))
    a, b = inv.env["A"], inv.env["B"]
    assert (a.raw, a.value, a.start, a.end, a.quoted) == ('"1 2"', "1 2", 2, 7, True)
    assert (b.raw, b.value, b.has_expansion) == ("$HOME", "$HOME", True)
    assert text[b.start : b.end] == "$HOME" and a.value_index == (3, 4, 5)


@pytest.mark.parametrize("text", ["$PIP install x", '"${PIP}" install x', "$(which pip) install", "X=1", "<<EOF\nEOF"])
def test_normalize_none(text):
    assert normalize(parse(text).commands[0]) is None


def test_invocations_skips_none_and_keeps_order():
    script = parse("X=1; pip install a && $TOOL b && sh -c 'uv sync'")
    assert [inv.program for inv in invocations(script)] == ["pip", "sh", "uv"]


# --------------------------------------------------------------------------------------------
# subcommand


@pytest.mark.parametrize(
    "text, depth, expected",
    [
        ("uv --no-cache pip install x", 2, ["pip", "install"]),
        ("uv --cache-dir /c pip install x", 2, ["pip", "install"]),
        ("pip --cache-dir /tmp/c install x", 1, ["install"]),
        ("pip install -r req.txt x", 2, ["install", "x"]),
        ("apt-get -o Dpkg::Use-Pty=0 -y install curl", 2, ["install", "curl"]),
        ("apt-get -qq update", 1, ["update"]),
        ("git -C /src clone url", 1, ["clone"]),
        ("conda -n base install x", 1, ["install"]),
        ("pip install -- -weird", 2, ["install", "-weird"]),
        ("pip", 1, []),
        ("pip install", 3, ["install"]),
        ("python3 -m pip --retries 3 download x", 2, ["download", "x"]),
    ],
)
def test_subcommand(text, depth, expected):
    assert subcommand(normalize(only(text)), depth) == expected


def test_subcommand_default_depth():
    assert subcommand(normalize(only("uv -q pip install x"))) == ["pip"]


# --------------------------------------------------------------------------------------------
# conditional


@pytest.mark.parametrize(
    "text, flags",
    [
        ("a && b", [False, False]),
        ("a; b", [False, False]),
        ("a | b", [False, False]),
        ("a & b", [False, False]),
        ("a || b", [False, True]),
        ('[ -n "$CI" ] && rm -rf x', [False, True]),
        ("test -f x && a && b", [False, True, True]),
        ("[[ -f x ]] && a", [False, True]),
        ("a || b && c", [False, True, True]),
        ("[ x ] && a | b", [False, True, True]),
        ("a || b; c", [False, True, False]),
        ("a && (b; c)", [False, False, False]),
        ("a || (b; c)", [False, True, True]),
        ("for x in 1; do a; done", [False]),
        ("while a; do b; done; c", [True, True, False]),
        ("case x in y) a;; esac", [True]),
        ("if a; then sh -c 'b'; fi", [True, True, True]),
    ],
)
def test_conditional(text, flags):
    assert [c.conditional for c in parse(text).commands] == flags


# --------------------------------------------------------------------------------------------
# Opaque regions


@pytest.mark.parametrize(
    "text, kept, opaque_from",
    [
        ('echo "abc', [], '"abc'),
        ("apt-get update && echo 'x", [["apt-get", "update"]], "'x"),
        ("a; echo $(ls", [["a"]], "$(ls"),
        ("a; echo `ls", [["a"]], "`ls"),
        ("a; echo ${x", [["a"]], "${x"),
        ("a; echo $'x", [["a"]], "$'x"),
        ('a; echo pre"$(ls \'x)"', [["a"]], '"$(ls'),
        ("a; if b; then c", [["a"]], "if b"),
        ("a; { b; ", [["a"]], "{ b"),
        ("a; fi; b", [["a"]], "fi; b"),
        ("a; ) b", [["a"]], ") b"),
        ("a;; b", [["a"]], ";; b"),
        ("a; [[ -f x", [["a"]], "[[ -f x"),
        ("a; echo (x)", [["a"]], "(x)"),
    ],
)
def test_opaque_regions(text, kept, opaque_from):
    script = parse(text)
    assert [argv(c) for c in script.commands] == kept
    assert script.opaque == [(text.index(opaque_from), len(text))]


def test_opaque_inside_sh_c_is_mapped_to_outer_script():
    text = "sh -c 'echo \"x' && ls"
    script = parse(text)
    assert [argv(c) for c in script.commands] == [["sh", "-c", 'echo "x'], ["ls"]]
    inner = text.index('"x')
    assert script.opaque == [(inner, inner + 2)]


def test_opaque_inside_substitution_stays_inside_it():
    script = parse("echo $(if x; then y) && z")
    assert [argv(c) for c in script.commands] == [["echo", "$(if x; then y)"], ["z"]]
    assert script.opaque == [(7, 19)]


def test_deep_nesting_degrades_to_opaque():
    text = "echo " + "$(" * 200 + "x" + ")" * 200
    script = parse(text)
    assert script.commands[0].words[0].value == "echo"
    assert script.opaque
    deep = "( " * 300 + "x" + " )" * 300
    assert parse(deep).opaque == [(deep.index("( ", 2 * 64), len(deep))]


# --------------------------------------------------------------------------------------------
# Properties

SHELLISH = st.lists(
    st.sampled_from(
        list(" \t\n\r\\'\"$(){}`;&|<>#=-abcEOF[]!*0123")
        + ["if ", "then ", "fi", "do ", "done", "case ", "esac", " in ", "for ", "while ", "[[ ", "]]",
           "sh -c ", "bash ", "<<EOF\n", "\nEOF\n", "$(", "$'", "((", "))", "function ", "{ ", " }",
           "python -m pip ", "sudo ", "env ", "<(", ";;", "\\\n", "<<-X", "\tX\n"]
    ),
    max_size=40,
).map("".join)


def check_invariants(script: Script) -> None:
    n = len(script.source.text)
    for a, b in script.opaque:
        assert 0 <= a <= b <= n
    for cmd in script.commands:
        text = cmd.script.source.text
        assert 0 <= cmd.start <= cmd.end <= len(text)
        for word in [*cmd.assignments, *cmd.words, *(r.target for r in cmd.redirects if r.target)]:
            assert cmd.start <= word.start <= word.end <= cmd.end
            assert text[word.start : word.end] == word.raw
            assert len(word.value) == len(word.value_index)
            assert all(word.start <= k < word.end for k in word.value_index)
        for r in cmd.redirects:
            assert cmd.start <= r.start <= r.end <= cmd.end
            if r.heredoc:
                assert 0 <= r.heredoc.body_start <= r.heredoc.body_end <= len(text)
        for op in (cmd.op_before, cmd.op_after):
            if op:
                assert 0 <= op.start < op.end <= len(text) and text[op.start : op.end] == op.text
        span = cmd.script.file_span(cmd.start, cmd.end)
        assert 0 <= span.start <= span.end
    for inv in invocations(script):
        subcommand(inv, 3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), SHELLISH), st.integers(0, 1000))
def test_parse_never_raises_and_spans_are_in_range(text, start):
    script = parse(text, start)
    check_invariants(script)
    assert script.source.text == text


KEYWORDS = {"if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until", "case",
            "esac", "select", "function", "time"}
PLAIN = st.from_regex(r"[A-Za-z0-9_./,:+@%-]+", fullmatch=True).filter(lambda w: w not in KEYWORDS)


@settings(max_examples=200, deadline=None)
@given(st.lists(PLAIN, min_size=1, max_size=12), st.sampled_from([" ", "  ", "\t", " \\\n "]))
def test_plain_words_round_trip(words, sep):
    text = sep.join(words)
    cmd = only(text)
    assert argv(cmd) == words
    assert [text[w.start : w.end] for w in cmd.words] == words
    assert all(not w.quoted and not w.has_expansion for w in cmd.words)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=8))
def test_shlex_quoted_words_round_trip(values):
    text = " ".join(["printf", *map(shlex.quote, values)])
    cmd = only(text)
    assert argv(cmd) == ["printf", *values]
    for word in cmd.words:
        assert [text[k] for k in word.value_index] == list(word.value)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1), min_size=1, max_size=5), st.integers(0, 500))
def test_sh_c_inner_words_map_to_file_offsets(values, start):
    inner = " ".join(["printf", *map(shlex.quote, values)])
    text = "sh -c " + shlex.quote(inner)
    script = parse(text, start)
    printf = script.commands[1]
    assert argv(printf) == ["printf", *values]
    source = printf.script.source
    for word in printf.words:
        for k, ch in zip(word.value_index, word.value):
            assert text[source.file_offset(k) - start] == ch


# --------------------------------------------------------------------------------------------
# Start-up


def test_imports_only_the_standard_library():
    loaded = imports_of("import aicache_lint.dockerfile.shell", setup="import aicache_lint.source")
    assert loaded.ours == {"aicache_lint.dockerfile", "aicache_lint.dockerfile.shell"}
    loaded.assert_cheap()
