"""SourceText (decoding, newline facts, offsets <-> line/column) and MappedText."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aicache_lint.source import (
    MAX_FILE_BYTES,
    MappedText,
    SourceError,
    SourceText,
    Span,
)

# -- decoding ----------------------------------------------------------------------------------


def test_decode_plain_lf():
    source = SourceText.decode(b"FROM a\nRUN b\n", path="Dockerfile")
    assert source.text == "FROM a\nRUN b\n"
    assert source.path == "Dockerfile"
    assert not source.bom
    assert source.newline == "\n"
    assert source.final_newline
    assert source.encode() == b"FROM a\nRUN b\n"


def test_decode_bom_is_kept_out_of_the_text_and_restored():
    data = b"\xef\xbb\xbfFROM a\n"
    source = SourceText.decode(data)
    assert source.bom
    assert source.text == "FROM a\n"
    assert source.position(0) == (1, 1)
    assert source.encode() == data
    assert source.encode("FROM b\n") == b"\xef\xbb\xbfFROM b\n"


def test_decode_bom_only():
    source = SourceText.decode(b"\xef\xbb\xbf")
    assert source.bom and source.text == "" and source.encode() == b"\xef\xbb\xbf"


def test_decode_crlf():
    source = SourceText.decode(b"FROM a\r\nRUN b\r\n")
    assert source.text == "FROM a\r\nRUN b\r\n"  # kept as is: offsets are into the real text
    assert source.newline == "\r\n"
    assert source.final_newline
    assert source.line_text(1) == "FROM a"
    assert source.line_end(1) == 6
    assert source.encode() == b"FROM a\r\nRUN b\r\n"


@pytest.mark.parametrize(
    ("text", "newline"),
    [
        ("a\r\nb\r\nc\n", "\r\n"),  # mostly CRLF
        ("a\r\nb\n", "\r\n"),  # a tie goes to CRLF
        ("a\r\nb\nc\n", "\n"),
        ("a\r\nb\nc\nd\n", "\n"),
        ("no newline at all", "\n"),
        ("", "\n"),
    ],
)
def test_newline_style(text, newline):
    assert SourceText(text).newline == newline


def test_no_final_newline():
    source = SourceText.decode(b"FROM a\nRUN b")
    assert not source.final_newline
    assert source.line_count == 2
    assert source.line_text(2) == "RUN b"
    assert source.line_end(2) == len(source.text)
    assert source.encode() == b"FROM a\nRUN b"


def test_empty_file():
    source = SourceText.decode(b"")
    assert source.text == "" and source.line_count == 1
    assert not source.final_newline
    assert source.position(0) == (1, 1)
    assert source.line_text(1) == ""


def test_binary_is_refused_with_a_clear_message():
    with pytest.raises(SourceError, match="binary"):
        SourceText.decode(b"FROM a\x00\x01\x02")


def test_utf16_is_refused():
    with pytest.raises(SourceError):
        SourceText.decode("FROM a\n".encode("utf-16"))


def test_invalid_utf8_is_refused_with_the_byte_position():
    with pytest.raises(SourceError) as info:
        SourceText.decode(b"FROM a\nRUN echo \xff\n")
    message = str(info.value)
    assert "not valid UTF-8" in message
    assert "byte 16" in message


def test_truncated_utf8_is_refused():
    with pytest.raises(SourceError, match="UTF-8"):
        SourceText.decode("RUN echo é".encode()[:-1])


def test_oversize_is_refused_with_the_limit():
    with pytest.raises(SourceError) as info:
        SourceText.decode(b"#" * (MAX_FILE_BYTES + 1))
    assert "too large" in str(info.value)
    assert str(MAX_FILE_BYTES) in str(info.value)


def test_exactly_the_limit_is_accepted():
    source = SourceText.decode(b"#" * MAX_FILE_BYTES)
    assert len(source.text) == MAX_FILE_BYTES


# -- positions ---------------------------------------------------------------------------------


def test_position_line_and_character_columns():
    source = SourceText("FROM a\nRUN é ü x\n\nUSER z")
    assert source.position(0) == (1, 1)
    assert source.position(5) == (1, 6)
    assert source.position(6) == (1, 7)  # the newline itself
    assert source.position(7) == (2, 1)
    x = source.text.index("x")
    assert source.position(x) == (2, 9)  # columns count characters, not bytes
    assert source.position(source.text.index("USER")) == (4, 1)
    assert source.position(len(source.text)) == (4, 7)


def test_position_at_the_end_after_a_final_newline():
    source = SourceText("a\nb\n")
    assert source.line_count == 3
    assert source.position(4) == (3, 1)


def test_line_of_and_line_start():
    source = SourceText("ab\ncd\r\nef")
    assert [source.line_of(i) for i in range(len(source.text) + 1)] == [1, 1, 1, 2, 2, 2, 2, 3, 3, 3]
    assert [source.line_start(n) for n in (1, 2, 3)] == [0, 3, 7]


def test_line_end_and_line_text():
    source = SourceText("FROM a\r\nRUN b\n\r\n  \nlast")
    assert [source.line_end(n) for n in range(1, 6)] == [6, 13, 14, 18, 23]
    assert [source.line_text(n) for n in range(1, 6)] == ["FROM a", "RUN b", "", "  ", "last"]


def test_line_end_of_the_empty_line_after_a_final_newline():
    source = SourceText("a\r\n")
    assert source.line_count == 2
    assert source.line_end(1) == 1
    assert source.line_end(2) == 3
    assert source.line_text(2) == ""


def test_lone_cr_is_not_a_line_break():
    source = SourceText("a\rb\nc")
    assert source.line_count == 2
    assert source.line_text(1) == "a\rb"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab é\r\n\t")), max_size=40))
def test_position_roundtrip(text):
    source = SourceText(text)
    for offset in range(len(text) + 1):
        line, column = source.position(offset)
        assert source.line_start(line) + column - 1 == offset
        assert source.line_start(line) <= source.line_end(line) <= len(text)
    assert "\n".join(source.line_text(n) for n in range(1, source.line_count + 1)).replace(
        "\r", ""
    ) == text.replace("\r", "")


def test_span_must_not_be_reversed():
    assert Span(3, 3).start == 3
    with pytest.raises(ValueError):
        Span(4, 3)


# -- MappedText --------------------------------------------------------------------------------


def test_contiguous():
    m = MappedText.contiguous("abc", 10)
    assert m.text == "abc"
    assert m.offsets == [10, 11, 12, 13]
    assert m.file_offset(1) == 11
    assert m.file_span(0, 3) == Span(10, 13)
    assert m.is_contiguous(0, 3)


def test_contiguous_empty():
    m = MappedText.contiguous("", 7)
    assert m.offsets == [7]
    assert m.file_span(0, 0) == Span(7, 7)


def test_join_keeps_each_characters_file_offset():
    # "RUN a \\\n  b" -> pieces "RUN a " (0..6) and "  b" (8..11)
    file = "RUN a \\\n  b"
    m = MappedText.join([MappedText.contiguous(file[:6], 0), MappedText.contiguous(file[8:], 8)])
    assert m.text == "RUN a   b"
    assert m.offsets == [0, 1, 2, 3, 4, 5, 8, 9, 10, 11]
    for i, ch in enumerate(m.text):
        assert file[m.offsets[i]] == ch
    assert m.file_span(0, len(m.text)) == Span(0, 11)
    assert file[m.file_span(4, 9).start : m.file_span(4, 9).end] == "a \\\n  b"
    assert not m.is_contiguous(0, len(m.text))
    assert m.is_contiguous(0, 6) and m.is_contiguous(6, 9)


def test_join_nothing():
    m = MappedText.join([])
    assert m.text == "" and m.offsets == [0]


def test_slice():
    file = "xxRUN a \\\n  bc"
    m = MappedText.join([MappedText.contiguous(file[2:8], 2), MappedText.contiguous(file[10:], 10)])
    s = m.slice(4, 8)
    assert s.text == "a   "[:4]
    assert s.text == m.text[4:8]
    assert s.offsets[:-1] == m.offsets[4:8]
    assert s.offsets[-1] == m.offsets[7] + 1
    tail = m.slice(6, len(m.text))
    assert tail.text == "  bc"
    assert file[tail.offsets[0] : tail.offsets[-1]] == "  bc"
    empty = m.slice(3, 3)
    assert empty.text == "" and empty.offsets == [m.offsets[3]]


def test_file_span_of_an_empty_range_is_zero_width():
    m = MappedText.join([MappedText.contiguous("ab", 0), MappedText.contiguous("cd", 5)])
    assert m.file_span(2, 2) == Span(5, 5)
    assert m.file_span(4, 4) == Span(7, 7)
    assert m.file_span(1, 3) == Span(1, 6)  # "b" .. "c" across the gap


def test_utf16_is_named() -> None:
    import pytest

    from aicache_lint.source import SourceError, SourceText

    with pytest.raises(SourceError, match="UTF-16"):
        SourceText.decode("FROM a\n".encode("utf-16"))


def test_line_end_trims_every_carriage_return() -> None:
    from aicache_lint.source import SourceText

    source = SourceText("a\r\r\nb\n")
    assert source.line_text(1) == "a"


# -- YAML's line breaks -------------------------------------------------------------------------


@pytest.mark.parametrize("brk", ["\r", "\x85", "\u2028", "\u2029", "\r\n", "\n"])
def test_a_compose_file_breaks_lines_where_yaml_does(brk):
    # PyYAML and go-yaml (Compose) end a line at CR, LF, CRLF, NEL, LS and PS alike.
    text = f"a: 1{brk}b: 2{brk}"
    source = SourceText(text, path="compose.yaml")
    assert source.yaml
    assert source.line_count == 3
    assert source.line_text(1) == "a: 1" and source.line_text(2) == "b: 2"
    assert source.line_end(1) == 4
    assert source.position(text.index("b")) == (2, 1)
    assert source.final_newline


@pytest.mark.parametrize("brk", ["\r", "\x85", "\u2028", "\u2029"])
def test_a_dockerfile_breaks_lines_at_lf_only(brk):
    # BuildKit splits at LF; a lone CR, NEL, LS or PS is part of the line.
    source = SourceText(f"FROM a{brk}RUN b\n", path="Dockerfile")
    assert not source.yaml
    assert source.line_count == 2
    assert source.line_text(1) == f"FROM a{brk}RUN b"
    assert not SourceText(f"FROM a{brk}", path="Dockerfile").final_newline


def test_yaml_lines_can_be_asked_for_whatever_the_path():
    assert SourceText("a: 1\rb: 2", yaml=True).line_count == 2
    assert SourceText("a: 1\rb: 2", path="compose.yaml", yaml=False).line_count == 1


def test_yaml_line_end_of_crlf_and_of_a_cr_before_it():
    source = SourceText("a\r\rb\r\nc", path="compose.yaml")
    assert [source.line_text(n) for n in (1, 2, 3, 4)] == ["a", "", "b", "c"]
    assert source.line_end(3) == 4


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab é\r\n\t\x85\u2028\u2029")), max_size=40))
def test_yaml_position_roundtrip(text):
    import re

    source = SourceText(text, path="compose.yaml")
    for offset in range(len(text) + 1):
        line, column = source.position(offset)
        assert source.line_start(line) + column - 1 == offset
        assert source.line_start(line) <= source.line_end(line) <= len(text)
    lines = [source.line_text(n) for n in range(1, source.line_count + 1)]
    assert lines == re.split("\r\n|[\r\n\x85\u2028\u2029]", text)


def test_the_last_line_of_a_dockerfile_ends_before_its_carriage_returns() -> None:
    source = SourceText("FROM a\nRUN b\r\r", path="Dockerfile")
    assert source.line_text(2) == "RUN b"
    assert SourceText("a: 1\r", path="compose.yaml").line_text(2) == ""
