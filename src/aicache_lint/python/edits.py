"""Line edits of Python sources at ``ast`` positions.

A statement that stands alone on its lines is moved as those whole lines (its trailing comment and
line break too), so every byte outside them stays as it was: ``ast`` gives each statement's exact
first and last line, which is all a move needs. libcst would give the same edit for 150 ms of
import and about ten times ``ast``'s parse time (measured in ``python/read.py``), so it is not used.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from aicache_lint.fix import Edit
from aicache_lint.python.read import Positions, syntax_tree
from aicache_lint.source import Span

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Statement(NamedTuple):
    node: object  # the ``ast`` statement
    span: Span
    lines: Span | None  # its whole lines, line break included; None when it shares a line with code


def module_statements(text: str) -> list[Statement] | None:
    """The top-level statements of ``text`` in order (None: not valid Python)."""
    tree = syntax_tree(text)
    if tree is None:
        return None
    positions = Positions(text)
    return [Statement(node, positions.span(node), _own_lines(positions, node)) for node in tree.body]


def _own_lines(positions: Positions, node) -> Span | None:
    text = positions.text
    span = positions.span(node)
    start = positions.starts[node.lineno - 1]
    end = positions.line_end(node.end_lineno)
    rest = _LINE_BREAK.sub("", text[span.end:end]).strip()
    if text[start:span.start].strip() or (rest and not rest.startswith("#")):
        return None
    return Span(start, end)


def move_lines(text: str, blocks: list[Span], before: int) -> list[Edit]:
    """Edits moving whole-line ``blocks`` (in file order) to the line starting at ``before``, an
    earlier one. A last line without a line break takes the file's, and the break before it goes
    with it (the file keeps ending without one)."""
    moved, edits = [], []
    for lines in blocks:
        block = text[lines.start:lines.end]
        start = lines.start
        if not block.endswith(("\n", "\r")):
            m = _LINE_BREAK.search(text)
            block += m.group() if m else "\n"
            head = text[:start]
            start -= 2 if head.endswith("\r\n") else 1 if head.endswith(("\n", "\r")) else 0
        moved.append(block)
        edits.append(Edit.delete(start, lines.end))
    return [Edit.insert(before, "".join(moved)), *edits]
