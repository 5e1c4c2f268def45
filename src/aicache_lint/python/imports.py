"""When a Python file's imports run: the first import that brings in one of a set of libraries
while the module loads."""

from __future__ import annotations

from typing import Callable, Iterable

from aicache_lint.python.read import MAIN, MODULE, Import, PythonFacts

Loads = Callable[[Import], Iterable[str]]


def first_import_of(facts: PythonFacts, libraries: Iterable[str], loads: Loads) -> Import | None:
    """The first import (in file order) that runs while the module loads -- at module level, in a
    `try:` or `if` there, or under `if __name__ == "__main__":` -- and brings in one of
    ``libraries``; imports in a function or class body run later, when called. ``loads(imp)``
    names the libraries an import brings in: the imported package itself
    (``knowledge.python_env.loaded_libraries``), or, given the project's own modules, also the
    libraries a local module imports in turn."""
    wanted = set(libraries)
    for imp in sorted(facts.imports, key=lambda i: i.span.start):
        if imp.scope in (MODULE, MAIN) and wanted.intersection(loads(imp)):
            return imp
    return None
