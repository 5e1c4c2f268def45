"""The layout DESIGN §6 and §11 promise, checked on the source: `rules/` holds rules only, nothing
outside it imports a rule, rules never touch the disk (the workspace reads files), and the modules'
imports form no cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "aicache_lint"
RULE_MODULE = re.compile(r"aic\d{3}_[a-z0-9_]+\.py")
# What a rule may not call: the disk is the workspace's.
DISK = {"open", "listdir", "scandir", "walk", "isfile", "isdir", "exists", "stat", "read_bytes", "read_text",
        "getmtime", "realpath"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(tree: ast.AST, module: str, top_level_only: bool) -> set[str]:
    nodes = tree.body if top_level_only else list(ast.walk(tree))  # type: ignore[attr-defined]
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module if node.level == 0 else ".".join(module.split(".")[: -node.level] + [node.module])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("aicache_lint")}


def test_rules_folder_holds_rules_only() -> None:
    allowed = {"__init__.py", "base.py", "docs.py"}
    strays = [
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / "rules").rglob("*.py")
        if path.name not in allowed and not RULE_MODULE.fullmatch(path.name)
    ]
    assert strays == []


def test_nothing_outside_a_rule_module_imports_one() -> None:
    offenders = []
    for name, path in _modules().items():
        if RULE_MODULE.fullmatch(path.name) or name in ("aicache_lint.rules", "aicache_lint.rules.docs"):
            continue  # the registry lists the rules; the docs generator reads them
        for imported in _imports(ast.parse(path.read_text()), name, top_level_only=False):
            if RULE_MODULE.fullmatch(imported.rsplit(".", 1)[-1] + ".py"):
                offenders.append(f"{name} imports {imported}")
    assert offenders == []


def test_rules_do_not_read_the_disk() -> None:
    offenders = []
    for path in (PACKAGE / "rules").rglob("aic*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called in DISK:
                    offenders.append(f"{path.name}:{node.lineno} calls {called}")
    assert offenders == []


def test_module_imports_form_no_cycle() -> None:
    """Top-level imports only: a lazy import inside a function breaks no cycle at import time,
    but a cycle at the top makes the import order matter."""
    modules = _modules()
    graph = {
        name: {i for i in _imports(ast.parse(path.read_text()), name, top_level_only=True) if i in modules and i != name}
        for name, path in modules.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    # A package's __init__ importing its own submodule is not a cycle in practice.
    cycles = [c for c in cycles if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert cycles == []
