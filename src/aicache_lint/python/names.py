"""Names and string literals in Python syntax trees: what a statement binds and uses, where a
string appears."""

from __future__ import annotations

from aicache_lint.source import Span


def bound_names(node) -> set[str]:
    """Names a statement binds, nested bindings included (when in doubt, bound)."""
    import ast

    out: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".", 1)[0] for a in n.names)
        elif isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
    return out


def used_names(node) -> set[str]:
    """Names an expression or statement reads."""
    import ast

    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def string_literals(text: str, value: str) -> list[tuple[int, Span]]:
    """(line, span) of every string literal of ``text`` whose value is ``value`` (none when ``text``
    is not valid Python)."""
    import ast

    from aicache_lint.python.read import Positions, syntax_tree

    tree = syntax_tree(text)
    if tree is None:
        return []
    positions = Positions(text)
    return [(n.lineno, positions.span(n)) for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value == value]
