"""Small, layout-preserving edit builders for Dockerfile fixes."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.dockerfile.model import Instruction
from aicache_lint.fix import Edit
from aicache_lint.source import SourceText, Span

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Command


def keyword(instruction: Instruction, source: SourceText, word: str) -> str:
    """``word`` in the case style of ``instruction``'s keyword (``from`` -> ``env``)."""
    written = source.text[instruction.keyword_span.start : instruction.keyword_span.end]
    return word.lower() if written.islower() else word.upper()


def add_flag(instruction: Instruction, flag: str) -> Edit:
    """Insert ``flag`` after the instruction's last flag (or its keyword), on the same line."""
    target = instruction.inner or instruction
    at = target.flags[-1].span.end if target.flags else target.keyword_span.end
    return Edit.insert(at, " " + flag)


def add_flag_after(source: SourceText, after: Span, flag: str, escape: str) -> Edit:
    """Insert ``flag`` right after the flag at ``after``, in its layout: on a continuation line of
    its own when that flag ends its line (before the line continuation), indented like it -- or,
    when it follows the keyword, like the next content line; else on the same line."""
    line = source.line_of(after.end)
    if line >= source.line_count or source.text[after.end : source.line_end(line)].strip() != escape:
        return Edit.insert(after.end, " " + flag)
    model = source.text[source.line_start(line) : after.start]
    if model.strip():
        following = (source.line_text(n) for n in range(line + 1, source.line_count + 1))
        model = next((t for t in following if t.strip() and not t.lstrip().startswith("#")), "")
    indent = model[: len(model) - len(model.lstrip(" \t"))]
    return Edit.insert(after.end, f" {escape}\n{indent}{flag}")


def insert_line_above(source: SourceText, instruction: Instruction, line: str) -> Edit:
    """A new line above ``instruction`` and the comment lines directly above it (a suppression
    comment must stay above its instruction), indented like it. A comment line right above an
    instruction is never part of another one: a continuation would have run into this line."""
    number = instruction.start_line
    while number > 1 and source.line_text(number - 1).lstrip().startswith("#"):
        number -= 1
    first = source.line_text(instruction.start_line)
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    return Edit.insert(source.line_start(number), f"{indent}{line}\n")


def insert_line_after(instruction: Instruction, line: str) -> Edit:
    """A new line right after ``instruction`` (its newline comes from the file's style)."""
    return Edit.insert(instruction.span.end, "\n" + line)


def replace_span(span: Span, text: str) -> Edit:
    return Edit(span.start, span.end, text)


def delete_word(source: SourceText, span: Span, escape: str) -> tuple[Edit, ...] | None:
    """Delete one shell word with the whitespace that separated it, keeping continuations intact.

    Returns None when no deletion can be proven to keep the instruction's layout valid.
    """
    return _keeping_lone_crs(source, _delete_word(source, span, escape))


def _keeping_lone_crs(source: SourceText, edits: tuple[Edit, ...] | None) -> tuple[Edit, ...] | None:
    """``edits``, or None when one would join a lone CR to the LF after the deleted text: BuildKit
    drops a CR that ends a line, so `\\` + CR (an escaped CR) would become a continuation."""
    text = source.text
    if edits is not None and any(text[e.start - 1 : e.start] == "\r" and text[e.end : e.end + 1] == "\n"
                                 for e in edits if e.start < e.end):
        return None
    return edits


def _delete_word(source: SourceText, span: Span, escape: str) -> tuple[Edit, ...] | None:
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


# --------------------------------------------------------------------------------------------
# Deleting one simple command of a shell script, with one of its joining operators

# Operators that may be removed with a command: `a && b && c` minus b is `a && c`, `a; b; c`
# minus b is `a; c`, a newline-separated line of a heredoc script goes with its line. `||`,
# pipes and `&` change what runs when a neighbour goes: never edited.
_JOINS = frozenset({"&&", ";", "\n"})


def delete_command(source: SourceText, command: "Command", escape: str) -> tuple[Edit, ...] | None:
    """Edits deleting ``command`` with exactly one joining operator, keeping the layout valid.

    ``a && b && c`` minus ``b`` gives ``a && c``; the first command loses the operator after it,
    the last one the operator before it. A line left with nothing but a continuation marker is
    dropped whole, and when the deleted command ended the instruction (or a line of a heredoc
    script), the line that now ends it loses its continuation marker, so it can never continue
    into the next instruction. Comment lines between continuation lines are kept.

    Returns None -- the caller reports without a fix -- when the command is conditional (inside
    ``if``/loops, after ``||``, guarded by a test), part of a pipeline or a compound command, in
    an exec-form RUN or an untokenizable script, alone in its script, when it reads a heredoc (the
    body would stay behind as Dockerfile or script lines), or when the edit cannot be shown to
    keep the layout valid.
    """
    return delete_commands(source, [command], escape)


class _Span(NamedTuple):
    """Consecutive commands of one list, seen as one: what ``delete_commands`` removes."""

    start: int
    end: int
    op_before: object
    op_after: object
    script: object
    parent: object
    conditional: bool


def delete_commands(source: SourceText, commands: "list[Command]", escape: str) -> tuple[Edit, ...] | None:
    """Like ``delete_command`` for consecutive commands of one list (``a && b && c && d`` minus
    ``b`` and ``c`` gives ``a && d``): the operators between them go, and one outer operator."""
    if not commands:
        return None
    for left, right in zip(commands, commands[1:]):
        if (
            left.script is not right.script
            or left.op_after is None
            or right.op_before is None
            or left.op_after.start != right.op_before.start
            or left.op_after.text not in _JOINS
            or not _blank(left.script.source.text[left.end : left.op_after.start])
            or not _blank(left.script.source.text[left.op_after.end : right.start])
        ):
            return None
    first, last = commands[0], commands[-1]
    if any(c.conditional or any(r.op in ("<<", "<<-") for r in c.redirects) for c in commands):
        return None
    command = _Span(first.start, last.end, first.op_before, last.op_after, first.script, first.parent, False)
    script = command.script
    if script.exec_form or script.opaque or command.conditional:
        return None
    mode_escape = _mode_escape(source, command, escape)
    if mode_escape is None:
        return None
    raw, esc = mode_escape
    text = script.source.text
    before, after = command.op_before, command.op_after
    if not raw and after is not None and after.text == "\n":
        after = None  # the newline that joins a RUN's arguments to its heredoc bodies
    if (before is not None and before.text not in _JOINS) or (after is not None and after.text not in _JOINS):
        return None
    if before is None and after is None:
        return None
    if not _top_level(first, text):
        return None
    if before is not None and not _blank(text[before.end : command.start]):
        return None
    if after is not None and not _blank(text[command.end : after.start]):
        return None
    b = before.text if before is not None else None
    a = after.text if after is not None else None
    candidates: list[tuple[int, int, str, bool]] = []  # (start, end, extend, at_end) in script offsets
    if a in ("&&", ";") and (a == "&&" or b != "&&"):
        candidates.append((command.start, after.end, "forward", False))
    if b in ("&&", ";") and (b == "&&" or a != "&&"):
        candidates.append((before.start, command.end, "backward", a in (None, "\n")))
    if not candidates and b in (None, "\n") and a in (None, "\n"):
        candidates.append((command.start, command.end, "backward", False))
    best: tuple[Edit, ...] | None = None
    best_key = None
    for start, end, extend, at_end in candidates:
        if not script.source.is_contiguous(start, end) and raw:
            continue
        fs, fe = script.file_span(start, end)
        planned = _plan_deletion(source, fs, fe, extend, at_end, esc, raw, script.source.offsets[0])
        if planned is None:
            continue
        # Prefer the edit that leaves fewest lines half-cut, then one within a line.
        partial = sum(1 for e in planned if not _whole_lines(source, e))
        key = (partial, source.line_of(fs) != source.line_of(fe), extend != "forward")
        if best_key is None or key < best_key:
            best, best_key = planned, key
    return best


def _whole_lines(source: SourceText, edit: Edit) -> bool:
    """Whether the edit removes whole lines (and their newlines)."""
    text = source.text
    starts_line = edit.start == 0 or text[edit.start - 1] == "\n" or text[edit.start] in "\r\n"
    ends_line = edit.end == len(text) or text[edit.end - 1] == "\n"
    return starts_line and ends_line


def _mode_escape(source: SourceText, command: "Command", escape: str) -> tuple[bool, str] | None:
    """(raw, continuation marker): a RUN's own arguments follow the Dockerfile's layout (its
    escape character, comment lines dropped); a heredoc script or an ``sh -c`` string is shell
    text as written in the file (a backslash continues a line). A nested script whose text is not
    one unbroken run of the file (escapes, Dockerfile continuations inside quotes) is not edited."""
    if command.parent is None:
        return False, escape
    mapped = command.script.source
    if not mapped.text or not mapped.is_contiguous(0, len(mapped.text)):
        return None
    start = mapped.offsets[0]
    if source.text[start : start + len(mapped.text)] != mapped.text:
        return None
    return True, "\\"


def _top_level(command: "Command", text: str) -> bool:
    """Whether the command is an element of the script's top-level list: reached from the
    script's start through simple commands joined by operators (not inside a group, loop,
    subshell or substitution)."""
    commands = [c for c in command.script.commands if c.script is command.script]
    current = command
    for _ in range(len(commands) + 1):
        op = current.op_before
        if op is None:
            return _blank(text[: current.start])
        previous = next((c for c in commands if c.op_after is not None and c.op_after.start == op.start), None)
        if previous is None or not _blank(text[previous.end : op.start]):
            return False
        current = previous
    return False


def _blank(s: str) -> bool:
    """Only whitespace, line continuations and comments."""
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c in " \t\r\n":
            i += 1
        elif c == "\\" and s.startswith("\n", i + 1):
            i += 2
        elif c == "\\" and s.startswith("\r\n", i + 1):
            i += 3
        elif c == "#":
            k = s.find("\n", i)
            i = n if k < 0 else k
        else:
            return False
    return True


def _is_filler(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _continuation_at(line: str, escape: str) -> int | None:
    """Index of the trailing continuation marker of ``line`` (trailing blanks allowed)."""
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape) and not stripped.endswith(escape * 2):
        return len(stripped) - 1
    return None


def _plan_deletion(
    source: SourceText, fs: int, fe: int, extend: str, at_end: bool, escape: str, raw: bool, first: int
) -> tuple[Edit, ...] | None:
    """Edits deleting file range ``[fs, fe)`` (an operator, a command and what lies between) line
    by line: lines between that are blank or comments stay; a line left with only a continuation
    marker goes; at the end of an instruction/line the new last line loses its marker."""
    text = source.text
    if extend == "forward":
        while fe < len(text) and text[fe] in " \t":
            fe += 1
    else:
        while fs > 0 and text[fs - 1] in " \t":
            fs -= 1
    l1, l2 = source.line_of(fs), source.line_of(fe)
    if fe == source.line_start(l2) and l2 > l1:
        return None  # the range ends with a newline: not a shape this helper produces
    first_line = source.line_of(first)
    cuts: dict[int, tuple[int, int]] = {}  # line -> the part of it that goes
    extra: list[tuple[int, int]] = []
    deleted_lines: set[int] = set()
    for line in range(l1, l2 + 1):
        ls, le = source.line_start(line), source.line_end(line)
        content = text[ls:le]
        if l1 < line < l2 and _is_filler(content):
            continue  # a comment or blank line inside the continuation: kept as it is
        indent = len(content) - len(content.lstrip(" \t"))
        s = max(fs if line == l1 else ls + indent, ls)
        e = min(fe, le)
        if line < l2:
            marker = _continuation_at(content, escape)
            if marker is not None:
                e = min(e, ls + marker)
                while e > s and text[e - 1] in " \t":
                    e -= 1  # keep the blank before the marker ...
                while s > ls and text[s - 1] in " \t" and e < ls + marker:
                    s -= 1  # ... and only that one
            elif not raw:
                return None  # a Dockerfile line inside an instruction always continues
        remaining = text[ls:s] + text[max(e, s) : le]
        marker = _continuation_at(remaining, escape)
        core = remaining[:marker] if marker is not None else remaining
        if not core.strip():  # never the keyword's line: it keeps its keyword
            deleted_lines.add(line)
        elif s < e:
            cuts[line] = (s, e)
    if at_end:
        line = l2
        while line >= first_line:
            if line in deleted_lines:
                line -= 1
                continue
            ls, le = source.line_start(line), source.line_end(line)
            cut = cuts.get(line)
            content = text[ls : cut[0]] + text[cut[1] : le] if cut else text[ls:le]
            if _is_filler(content):
                if raw:
                    break
                line -= 1
                continue
            marker = _continuation_at(content, escape)
            if marker is None:
                break
            kept = len(content[:marker].rstrip(" \t"))  # characters of the new line that stay
            if cut is None:
                cuts[line] = (ls + kept, le)
            elif kept <= cut[0] - ls:
                cuts[line] = (ls + kept, le)
            else:  # content stays after the cut: drop just the marker, in old-line offsets
                extra.append((cut[1] + kept - (cut[0] - ls), le))
            break
    return _edits(source, [*cuts.values(), *extra], deleted_lines)


def _edits(source: SourceText, cuts: list[tuple[int, int]], deleted_lines: set[int]) -> tuple[Edit, ...] | None:
    """Merge per-line cuts and whole-line deletions into sorted, non-overlapping edits."""
    text = source.text
    spans = list(cuts)
    for line in deleted_lines:
        if line < source.line_count:
            spans.append((source.line_start(line), source.line_start(line + 1)))
        elif line > 1:
            # The file's last line, with no newline after it: take the newline before it instead.
            start = source.line_start(line) - 1
            if start > 0 and text[start - 1] == "\r":
                start -= 1
            spans.append((start, len(text)))
        else:
            return None
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    if not merged:
        return None
    return _keeping_lone_crs(source, tuple(Edit.delete(s, e) for s, e in merged))
