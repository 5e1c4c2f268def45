"""Small, layout-preserving edit builders for Dockerfile fixes."""

from __future__ import annotations

from aicache_lint.dockerfile.model import Instruction
from aicache_lint.fix import Edit
from aicache_lint.source import SourceText, Span


def keyword(instruction: Instruction, source: SourceText, word: str) -> str:
    """``word`` in the case style of ``instruction``'s keyword (``from`` -> ``env``)."""
    written = source.text[instruction.keyword_span.start : instruction.keyword_span.end]
    return word.lower() if written.islower() else word.upper()


def add_flag(instruction: Instruction, flag: str) -> Edit:
    """Insert ``flag`` after the instruction's last flag (or its keyword), on the same line."""
    target = instruction.inner or instruction
    at = target.flags[-1].span.end if target.flags else target.keyword_span.end
    return Edit.insert(at, " " + flag)


def insert_line_after(instruction: Instruction, line: str) -> Edit:
    """A new line right after ``instruction`` (its newline comes from the file's style)."""
    return Edit.insert(instruction.span.end, "\n" + line)


def replace_span(span: Span, text: str) -> Edit:
    return Edit(span.start, span.end, text)


def delete_word(source: SourceText, span: Span, escape: str) -> tuple[Edit, ...] | None:
    """Delete one shell word with the whitespace that separated it, keeping continuations intact.

    Returns None when no deletion can be proven to keep the instruction's layout valid.
    """
    text = source.text
    line = source.line_of(span.start)
    if source.line_of(span.end) != line:
        return None
    line_start, line_end = source.line_start(line), source.line_end(line)
    before, after = text[line_start : span.start], text[span.end : line_end]
    after_rest = after.strip()
    if not before.strip() and after_rest in ("", escape):
        if after_rest == escape:
            # The word fills a continuation line: drop the whole line.
            next_start = source.line_start(line + 1) if line < source.line_count else len(text)
            return (Edit.delete(line_start, next_start),)
        return _delete_last_line(source, line, span, escape)
    if after[:1] in (" ", "\t") and after_rest not in ("", escape):
        end = span.end + len(after) - len(after.lstrip(" \t"))
        return (Edit.delete(span.start, end),)
    if before[-1:] in (" ", "\t"):
        start = span.start - (len(before) - len(before.rstrip(" \t")))
        return (Edit.delete(start, span.end),)
    return (Edit.delete(span.start, span.end),)


def _delete_last_line(source: SourceText, line: int, span: Span, escape: str) -> tuple[Edit, ...] | None:
    """The word alone on an instruction's last line: end the instruction on the previous content
    line instead (drop its continuation marker), and drop the word's line. Comment and blank
    lines in between stay, now after the instruction."""
    content = line - 1
    while content >= 1 and (not source.line_text(content).strip() or source.line_text(content).lstrip().startswith("#")):
        content -= 1
    if content < 1:
        return None
    prev = source.line_text(content).rstrip(" \t")
    if not prev.endswith(escape) or prev.endswith(escape * 2) or not prev[:-1].strip():
        return None
    marker = source.line_start(content) + len(prev[:-1].rstrip(" \t"))
    word_line_start = source.line_start(line)
    previous_newline = word_line_start - (2 if source.text[word_line_start - 2 : word_line_start] == "\r\n" else 1)
    if content == line - 1:
        return (Edit.delete(marker, span.end),)
    return Edit.delete(marker, source.line_end(content)), Edit.delete(previous_newline, span.end)
