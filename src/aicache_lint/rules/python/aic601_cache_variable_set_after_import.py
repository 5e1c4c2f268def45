"""AIC601 cache-variable-set-after-import."""

from __future__ import annotations

import builtins
import re
from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.python_env import libraries_reading, loaded_libraries
from aicache_lint.python.imports import first_import_of
from aicache_lint.python.names import bound_names, used_names
from aicache_lint.python.read import CLASS, FUNCTION, MAIN, MODULE, EnvWrite, Import
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule
from aicache_lint.source import Span

# Pure functions of their arguments: a value built from literals with them is known before any import.
_PURE_CALLS = frozenset({"os.path.expanduser", "os.path.expandvars", "os.path.join", "os.path.abspath",
                         "os.path.normpath", "os.fspath", "str"})
# A module that starts other programs may set variables in a function for them to inherit.
_STARTS_PROCESSES = re.compile(r"\bsubprocess\b|\bos\.(?:exec|spawn|system|popen)|\bPopen\b|\bexecv")
_ENV_CALLS = frozenset({"os.environ.setdefault", "os.environ.update", "os.putenv"})
_BLOCKS = {"Try": "a `try:` block", "If": "an `if` block", "With": "a `with` block", "For": "a loop",
           "While": "a loop"}


class CacheVariableSetAfterImport(Rule):
    """
    ## What it does
    Flags a Hugging Face cache variable (`HF_HOME`, `HF_HUB_CACHE`, `HF_DATASETS_CACHE`,
    `HF_HUB_OFFLINE`, `XDG_CACHE_HOME`, the deprecated `TRANSFORMERS_CACHE` ...) that Python code
    sets -- `os.environ["X"] = …`, `os.environ.setdefault`, `os.environ.update`, `os.putenv` --
    after it imported a library that reads that variable when it is imported: huggingface_hub
    (`from huggingface_hub import …`), transformers, diffusers, datasets, sentence-transformers,
    peft -- directly, or through a module of the project that imports it. The import counts when
    it runs as the module loads: at module level (also in a `try:`),
    under `if __name__ == "__main__":`, or `importlib.import_module("transformers")`; a setting
    under the main guard after a module-level import is just as late.

    Not flagged: an import inside a function (it runs when called, possibly after the setting),
    a bare `import huggingface_hub` (it loads nothing until an attribute is used), `TORCH_HOME`
    (torch reads it when a hub function runs, not at import), `SENTENCE_TRANSFORMERS_HOME`
    (read when a model is created), and a setting inside a function of a module that starts other
    programs (`subprocess`, `os.exec*`, `os.system`): it is there for the child to inherit
    (`os.environ["HF_HUB_OFFLINE"] = "1"` before `subprocess.Popen(["vllm", "serve", ...])`).

    ## Why is this bad?
    `huggingface_hub.constants` computes the cache paths, the endpoint and the offline switch once,
    when it is first imported, and every Hugging Face library imports it as it loads. A variable
    set afterwards is ignored: models are downloaded to `~/.cache/huggingface` instead of the
    volume meant to keep them (and again in every new container), or a service meant to be
    offline goes to the network.

    ## Example
    ```python
    import os
    from transformers import AutoModel

    os.environ["HF_HOME"] = "/models"  # too late: transformers already read HF_HOME
    model = AutoModel.from_pretrained("bert-base-uncased")
    ```

    ## Use instead
    ```python
    import os
    os.environ["HF_HOME"] = "/models"
    from transformers import AutoModel

    model = AutoModel.from_pretrained("bert-base-uncased")
    ```

    ## Fix safety
    The fix moves the setting's whole line(s) -- its trailing comment too -- to just above the
    first import that reads the variable; CRLF and every other line stay as they were. It is
    offered only when the move cannot change anything else: the setting is a module-level statement
    of its own, its value is built from literals and names (`"/models"`,
    `os.path.expanduser("~/models")`, `CACHE_DIR`), every name it uses (`os`, `CACHE_DIR`) is bound
    above that import and not rebound below it, and the statements in between only import
    modules, assign such values or set other variables. Otherwise
    it is reported without a fix, and the message says why (under the main guard, moving it to
    module level would also set it for every importer of the module).

    An import of the project's own module counts with what that module imports while it loads
    (transitively): `from .models import embedder`, where `models.py` imports sentence-transformers
    at module level, reads the variables as surely as the library's own import. The project's
    modules are those the image that runs the file resolves its imports to (through its `COPY`
    and `WORKDIR`: see the README, "Python sources"); for a file no image or service of the run
    starts, only its own imports count.

    ## Options
    None.

    ## References
    - [huggingface_hub environment variables](https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables)
    - [huggingface_hub `constants.py` (read at import)](https://github.com/huggingface/huggingface_hub/blob/main/src/huggingface_hub/constants.py)
    - [huggingface_hub lazy `__init__.py`](https://github.com/huggingface/huggingface_hub/blob/main/src/huggingface_hub/__init__.py)
    - [transformers `utils/hub.py`](https://github.com/huggingface/transformers/blob/main/src/transformers/utils/hub.py)
    - [datasets `config.py`](https://github.com/huggingface/datasets/blob/main/src/datasets/config.py)
    - [sentence-transformers `base/model.py` (`SENTENCE_TRANSFORMERS_HOME` read per model)](https://github.com/huggingface/sentence-transformers/blob/main/sentence_transformers/base/model.py)
    - [torch `hub.py` (`TORCH_HOME` read per call)](https://github.com/pytorch/pytorch/blob/main/torch/hub.py)
    """

    code = "AIC601"
    name = "cache-variable-set-after-import"
    summary = "A cache variable is set after the library that reads it was imported"
    fix_availability = FixAvailability.SOMETIMES
    targets = ("python",)

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.workspace.python_code import import_time_libraries

        facts = ctx.file.data
        late = []
        starts_processes = bool(_STARTS_PROCESSES.search(ctx.source.text))
        loads = None
        for write in facts.env_writes:
            libraries = libraries_reading(write.name) if write.name else frozenset()
            if libraries and loads is None:
                # An import of the project's own module counts with what that module imports.
                loads = import_time_libraries(ctx.workspace, ctx.path, loaded_libraries)
            imp = first_import_of(facts, libraries, loads) if libraries else None
            if imp is None or imp.span.start > write.span.start or (imp.scope == MAIN and write.scope != MAIN):
                continue
            if write.scope in (FUNCTION, CLASS) and starts_processes:
                continue  # set for a child process it starts (`vllm serve` inherits os.environ): not late
            library = next(lib for lib in loads(imp) if lib in libraries)
            through = "" if library in loaded_libraries(imp) else f", through `{'.' * imp.level}{imp.module}`"
            late.append((write, imp, library, through, *_move(ctx.source.text, write, imp)))
        # The settings moving above the same import move together, in file order: one fix for all.
        targets: dict[int, dict[Span, None]] = {}
        for *_, move, _ in late:
            if move is not None:
                targets.setdefault(move[0], {})[move[1]] = None
        fixes = {at: list(blocks) for at, blocks in targets.items()}
        for write, imp, library, through, move, why in late:
            message = (f"`{write.name}` is set after {library} was imported (line {imp.line}{through}); {library} "
                       f"reads it when imported, so this setting does not reach it")
            fix = None
            if move is not None:
                from aicache_lint.python.edits import move_lines

                title = f"Move the setting of `{write.name}` above the import of {library} (line {imp.line})"
                fix = Fix.safe(title, *move_lines(ctx.source.text, sorted(fixes[move[0]]), move[0]))
            yield Violation(write.key or write.span, message + (f"; not moved: {why}" if why else ""), fix)


def _move(text: str, write: EnvWrite, imp: Import) -> tuple[tuple[int, Span] | None, str | None]:
    """(where the lines of ``write`` go, those lines) to move it above ``imp``, or why it cannot be
    moved with certainty."""
    from aicache_lint.python.edits import module_statements

    if imp.scope != MODULE:
        return None, 'the import is under `if __name__ == "__main__":` too: only module-level settings are moved'
    if write.scope == MAIN:
        return None, ('it is under `if __name__ == "__main__":`; at module level it would also be set for '
                      'every importer of this module')
    if write.scope != MODULE:
        return None, "it is inside a function or class body"
    statements = module_statements(text) or []
    at = _index(statements, imp.span.start)
    own = _index(statements, write.span.start)
    if at is None or own is None:
        return None, None
    node = statements[own].node
    if type(node).__name__ in _BLOCKS:
        return None, f"it is inside {_BLOCKS[type(node).__name__]}"
    env = _env_value(node)
    if env is None or not _pure(env):
        return None, "its value is not built from literals and names alone"
    target, lines = statements[at], statements[own].lines
    if lines is None or target.lines is None:
        return None, "it shares its line with other code"
    between = [s.node for s in statements[at:own]]
    if not all(_harmless(n, write.name) for n in between):
        return None, f"code between the import (line {imp.line}) and the setting may depend on the order"
    bound_between = set().union(*(bound_names(n) for n in between))
    bound_before = set().union(*(bound_names(s.node) for s in statements[:at]))
    for name in used_names(node):
        if name in bound_between or (name not in bound_before and not hasattr(builtins, name)):
            return None, f"`{name}` is not yet bound above the import (line {imp.line})"
    return (target.lines.start, lines), None


def _index(statements: list, offset: int) -> int | None:
    return next((i for i, s in enumerate(statements) if s.span.start <= offset < max(s.span.end, s.span.start + 1)),
                None)


def _env_value(node):
    """The expressions a module-level environment write is made of (target key included), or None
    when the statement is not such a write alone."""
    import ast

    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
        return [node.targets[0].slice, node.value]
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _dotted(node.value.func) in _ENV_CALLS:
        return [*node.value.args, *(k.value for k in node.value.keywords if k.arg is not None)] or None
    return None


def _pure(nodes) -> bool:
    """Whether expressions are literals, names, and the pure calls and `+` of those (the names are
    checked apart: bound above the import, not rebound below it)."""
    import ast

    for node in nodes:
        if isinstance(node, (ast.Constant, ast.Name)):
            continue
        if isinstance(node, ast.Dict):
            if None in node.keys or not _pure([*node.keys, *node.values]):
                return False
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            if not _pure([node.left, node.right]):
                return False
        elif isinstance(node, ast.Call) and _dotted(node.func) in _PURE_CALLS and not node.keywords:
            if not _pure(node.args):
                return False
        else:
            return False
    return True


def _harmless(node, variable: str) -> bool:
    """A statement whose order against an environment write of ``variable`` does not matter:
    imports (`importlib.import_module` too), docstrings, assignments of literals and names, writes of other variables, `sys.path` changes, and
    `try:`/`if` blocks of those."""
    import ast

    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    if isinstance(node, ast.Assign) and _assigns_names(node) and _pure([node.value]):
        return True
    env = _env_value(node)
    if env is not None:
        keys = list(_env_keys(node))
        return _pure(env) and None not in keys and variable not in keys
    if isinstance(node, (ast.Assign, ast.Expr)) and isinstance(node.value, ast.Call):
        call = _dotted(node.value.func) or ""
        if call == "importlib.import_module":
            return _pure(node.value.args) and (isinstance(node, ast.Expr) or _assigns_names(node))
        return isinstance(node, ast.Expr) and call.startswith("sys.path.")
    if isinstance(node, ast.Try):
        return all(_harmless(n, variable) for n in [*node.body, *node.orelse, *node.finalbody,
                                                    *(s for h in node.handlers for s in h.body)])
    if isinstance(node, ast.If):
        return all(_harmless(n, variable) for n in [*node.body, *node.orelse])
    return False


def _assigns_names(node) -> bool:
    import ast

    return all(isinstance(t, ast.Name) for t in node.targets)


def _env_keys(node) -> list[str | None]:
    import ast

    def key(n):
        return n.value if isinstance(n, ast.Constant) and isinstance(n.value, str) else None

    if isinstance(node, ast.Assign):
        return [key(node.targets[0].slice)]
    call = node.value
    if _dotted(call.func) == "os.environ.update":
        keys = [key(k) if k is not None else None for a in call.args for k in getattr(a, "keys", [None])]
        return keys + [k.arg for k in call.keywords]
    return [key(call.args[0]) if call.args else None]


def _dotted(node) -> str | None:
    import ast

    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None
