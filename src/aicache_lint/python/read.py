"""The facts of one Python text, read with the standard library's ``ast`` (never executed).

Reading only needs a syntax tree, and ``ast`` is the cheapest one. Measured (CPython 3.11, best of
5): ``ast.parse`` takes 2.6 / 10.4 / 12.6 / 14.6 ms on 373 / 1184 / 2630 / 3519-line files where
``libcst.parse_module`` takes 28.8 / 94.6 / 113.5 / 133.4 ms, and importing ``ast`` costs 6 ms
against 148 ms for libcst. libcst stays for lossless edits, where it is needed.

Positions are character offsets into the given text (``ast`` counts columns in UTF-8 bytes), so
they map back to a file through the ``MappedText`` the text came from.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator, NamedTuple

from aicache_lint.source import Span

if TYPE_CHECKING:
    import ast

# Where a statement runs: at import, under `if __name__ == "__main__":`, or when called.
MODULE, MAIN, FUNCTION, CLASS = "module", "main", "function", "class"


class Import(NamedTuple):
    module: str  # as written, without leading dots ("" for `from . import x`)
    level: int  # leading dots: 0 for an absolute import
    names: tuple[str, ...]  # `from m import a, b`; empty for `import m`
    line: int
    span: Span
    scope: str
    dynamic: bool = False  # `importlib.import_module("m")`

    @property
    def relative(self) -> bool:
        return self.level > 0


class EnvWrite(NamedTuple):
    name: str | None  # None: not a literal (`os.environ[key] = …`, `update(**d)`)
    value: str | None  # the literal value, when there is one
    how: str  # "assign", "setdefault", "update", "putenv"
    line: int
    span: Span
    scope: str
    key: Span | None = None  # the name as written: its string literal (quotes included), or `update`'s keyword


class EnvRead(NamedTuple):
    name: str | None
    default: str | None
    how: str  # "subscript", "get", "getenv"
    line: int
    span: Span
    scope: str
    key: Span | None = None  # the name's string literal, quotes included


class ModelLoad(NamedTuple):
    library: str | None  # None: `.from_pretrained` on a class the imports do not name
    call: str  # the called name with aliases resolved, e.g. "whisper.load_model"
    model: str | None  # the model id when it is a literal string
    expr: str | None  # else the text of the expression that gives it (None: not given)
    variable: str | None  # the environment variable of `os.getenv("X", d)` / `os.environ["X"]`
    default: str | None  # its literal default
    cache_dir: str | None  # the literal value of the cache argument (``cache_keyword``); None: not a literal
    remote: bool  # fetches from the network when run (a literal local path, local_files_only=True: no)
    line: int
    span: Span
    scope: str
    # Which of CACHE_KEYWORDS the call gives (not None): the load fills that directory, not the
    # library's default cache. With ``cache_dir`` None the directory is computed: not known.
    cache_keyword: str | None = None
    cache_span: Span | None = None  # the argument's value, quotes included
    revision: str | None = None  # a literal `revision=` (branch, tag or commit)
    repo_type: str | None = None  # a `repo_type=` ("model", "dataset", "space"); "": not a literal; None: not given


class PythonFacts(NamedTuple):
    imports: list[Import]
    env_writes: list[EnvWrite]
    env_reads: list[EnvRead]
    loads: list[ModelLoad]


class Loader(NamedTuple):
    """How a library's call names its model and when it downloads weights."""

    library: str
    position: int | None  # the model id's positional index (None: the function's name is the id)
    keywords: tuple[str, ...] = ()  # ... or its keyword
    needs: tuple[str, ...] = ()  # weights download only when one of these is given, not None/False
    needs_position: int | None = None
    always: bool = False  # the id is a name on a hub, never a local path
    default_model: bool = False  # without an id the library picks (and downloads) one


_FROM_PRETRAINED = Loader("", 0, ("pretrained_model_name_or_path",))
# Sources: each library's API reference (huggingface_hub file_download/_snapshot_download,
# transformers pipeline, sentence-transformers SentenceTransformer/CrossEncoder, openai-whisper
# load_model, faster-whisper WhisperModel, torch.hub, timm create_model, open_clip factory).
LOADERS: dict[str, Loader] = {
    "huggingface_hub.snapshot_download": Loader("huggingface_hub", 0, ("repo_id",), always=True),
    "huggingface_hub.hf_hub_download": Loader("huggingface_hub", 0, ("repo_id",), always=True),
    "transformers.pipeline": Loader("transformers", 1, ("model",), default_model=True),
    "sentence_transformers.SentenceTransformer": Loader("sentence_transformers", 0, ("model_name_or_path",)),
    "sentence_transformers.CrossEncoder": Loader("sentence_transformers", 0, ("model_name_or_path", "model_name")),
    "whisper.load_model": Loader("whisper", 0, ("name",)),
    "faster_whisper.WhisperModel": Loader("faster_whisper", 0, ("model_size_or_path",)),
    "torch.hub.load": Loader("torch", 0, ("repo_or_dir",)),
    "torch.hub.load_state_dict_from_url": Loader("torch", 0, ("url",), always=True),
    "torch.utils.model_zoo.load_url": Loader("torch", 0, ("url",), always=True),  # the same function
    "timm.create_model": Loader("timm", 0, ("model_name",), needs=("pretrained",), always=True),
    "open_clip.create_model_and_transforms": Loader(
        "open_clip", 0, ("model_name",), needs=("pretrained",), needs_position=1, always=True
    ),
    "open_clip.create_model": Loader("open_clip", 0, ("model_name",), needs=("pretrained",), needs_position=1,
                                     always=True),
    "peft.PeftModel.from_pretrained": Loader("peft", 1, ("model_id",)),
}
# `X.from_pretrained(id)` of a class from these libraries downloads `id` from the Hub.
FROM_PRETRAINED_LIBRARIES = frozenset({"transformers", "diffusers", "sentence_transformers", "peft"})
# `torchvision.models[.detection|.segmentation|…].<name>(weights=…)` (or the older `pretrained=True`)
# downloads <name>'s weights.
_TORCHVISION = Loader("torchvision", None, (), needs=("weights", "pretrained"), always=True)
# `torchaudio.pipelines.<BUNDLE>.get_model()` downloads the bundle's weights with torch.hub's
# `load_state_dict_from_url` (https://pytorch.org/audio/stable/pipelines.html,
# https://github.com/pytorch/audio/blob/main/src/torchaudio/_internal/__init__.py).
_TORCHAUDIO = Loader("torchaudio", None, (), always=True)
CACHE_KEYWORDS = ("cache_dir", "cache_folder", "local_dir", "download_root", "model_dir")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Words one of which a text holds when it loads a model (each loader's name, or the import that binds
# an alias to it) or reads or sets a variable: without any, only its imports are read.
_MAY_LOAD_OR_SET = re.compile(
    r"environ|getenv|putenv|import_module|from_pretrained|download|pipeline|SentenceTransformer|CrossEncoder|"
    r"load_model|WhisperModel|hub|load_url|create_model|weights|pretrained|PeftModel")


def read(text: str) -> PythonFacts | None:
    """The facts of ``text``; None when it is not valid Python (it would not run either)."""
    tree = syntax_tree(text)
    if tree is None:
        return None
    if not _MAY_LOAD_OR_SET.search(text):
        # Most files of a service load no model and touch no variable: their imports are all that
        # is needed, and those sit in statements only (a walk of every expression costs 3-5x more).
        reader = _Reader(text, {})
        reader.imports_in(tree.body, MODULE)
        return PythonFacts(reader.imports, [], [], [])
    reader = _Reader(text, _aliases(tree), _constants(tree))
    try:
        reader.block(tree.body, MODULE)
    except RecursionError:
        return None
    return PythonFacts(reader.imports, reader.env_writes, reader.env_reads, reader.loads)


def syntax_tree(text: str) -> "ast.Module | None":
    """The syntax tree of ``text``; None when it is not valid Python (or too deeply nested to read)."""
    import ast

    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def syntax_error(text: str) -> tuple[str, int] | None:
    """Why ``text`` is not valid Python and the character offset where (None: it is)."""
    import ast

    try:
        ast.parse(text)
    except SyntaxError as exc:
        at = 0
        if exc.lineno:
            positions = Positions(text)
            line = min(exc.lineno, len(positions.starts))
            end = positions.line_end(line)
            at = min(positions.starts[line - 1] + max((exc.offset or 1) - 1, 0), end)  # SyntaxError counts characters
        return f"invalid Python: {exc.msg}", at
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"invalid Python: {exc or type(exc).__name__}", 0
    return None


def statements(text: str) -> list[Span] | None:
    """The span of every statement, nested ones included, in file order; None when ``text`` is not
    valid Python."""
    import ast

    tree = syntax_tree(text)
    if tree is None:
        return None
    positions = Positions(text)
    return sorted(positions.span(n) for n in ast.walk(tree) if isinstance(n, ast.stmt))


class Positions:
    """Character offsets of ``ast`` positions (lines split as Python does; columns in UTF-8 bytes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def offset(self, line: int, byte_col: int) -> int:
        start = self.starts[line - 1]
        if not byte_col:
            return start
        chunk = self.text[start : self.line_end(line)]
        if chunk.isascii():
            return start + byte_col
        return start + len(chunk.encode("utf-8")[:byte_col].decode("utf-8", "ignore"))

    def line_end(self, line: int) -> int:
        """Where ``line`` ends, its line break included."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def span(self, node) -> Span:
        return Span(self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset))

    def source(self, node) -> str:
        s = self.span(node)
        return self.text[s.start : s.end]


def _aliases(tree: "ast.Module") -> dict[str, str]:
    """Each name an absolute import binds, to the dotted name it stands for (a later import of a
    name wins, in file order)."""
    import ast

    out: dict[str, str] = {}
    for node, _ in import_statements(tree.body, MODULE):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    top = a.name.split(".", 1)[0]
                    out[top] = top
        elif not node.level and node.module:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def import_statements(body: list, scope: str) -> Iterator[tuple["ast.stmt", str]]:
    """Every import statement of ``body`` and of the statements nested in it, in file order, with
    the scope it runs in (imports are statements: no expression is visited)."""
    import ast

    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, scope
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from import_statements(node.body, FUNCTION)
        elif isinstance(node, ast.ClassDef):
            yield from import_statements(node.body, CLASS)
        elif isinstance(node, ast.If) and scope == MODULE and _is_main_guard(node.test):
            yield from import_statements(node.body, MAIN)
            yield from import_statements(node.orelse, MODULE)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                nested = getattr(node, field, None)
                if isinstance(nested, list):
                    yield from import_statements(nested, scope)


def _constants(tree: "ast.Module") -> dict[str, "ast.expr"]:
    """Module-level names bound once, by a plain `NAME = value` (`MODEL = os.getenv("MODEL", "org/m")`):
    a load that names one is read through it. A name bound twice is not followed."""
    import ast

    out: dict[str, ast.expr] = {}
    seen: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        for t in targets:
            if isinstance(t, ast.Name):
                if t.id in seen:
                    out.pop(t.id, None)
                elif isinstance(node, ast.Assign) and len(node.targets) == 1 and node.value is not None:
                    out[t.id] = node.value
                seen.add(t.id)
    return out


class _Reader(Positions):
    def __init__(self, text: str, aliases: dict[str, str], constants: dict[str, "ast.expr"] | None = None) -> None:
        import ast

        super().__init__(text)
        self.ast = ast
        self.aliases = aliases
        self.constants = constants or {}
        self.imports: list[Import] = []
        self.env_writes: list[EnvWrite] = []
        self.env_reads: list[EnvRead] = []
        self.loads: list[ModelLoad] = []

    def import_statement(self, node, scope: str) -> None:
        if isinstance(node, self.ast.Import):
            for a in node.names:
                self.imports.append(Import(a.name, 0, (), node.lineno, self.span(node), scope))
        else:
            names = tuple(a.name for a in node.names)
            self.imports.append(Import(node.module or "", node.level, names, node.lineno, self.span(node), scope))

    def imports_in(self, body: list, scope: str) -> None:
        """The imports of ``body`` and of the statements nested in it (no expression is visited)."""
        for node, where in import_statements(body, scope):
            self.import_statement(node, where)

    def key(self, node) -> Span | None:
        """The span of a literal variable name (None for anything else)."""
        return self.span(node) if _str(node) is not None else None

    # -- walking --------------------------------------------------------------------------------

    def block(self, body: list, scope: str) -> None:
        for node in body:
            self.node(node, scope)

    def node(self, node, scope: str) -> None:
        ast = self.ast
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.visit_all([*node.decorator_list, *node.args.defaults, *node.args.kw_defaults], scope)
            self.block(node.body, FUNCTION)
            return
        if isinstance(node, ast.Lambda):
            self.visit_all([*node.args.defaults, *node.args.kw_defaults], scope)
            self.node(node.body, FUNCTION)
            return
        if isinstance(node, ast.ClassDef):
            self.visit_all([*node.decorator_list, *node.bases, *node.keywords], scope)
            self.block(node.body, CLASS)
            return
        if isinstance(node, ast.If) and scope == MODULE and _is_main_guard(node.test):
            self.block(node.body, MAIN)
            self.block(node.orelse, MODULE)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.import_statement(node, scope)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            self.assignment(node, scope)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if self.qualname(node.value) == "os.environ":
                self.env_reads.append(EnvRead(_str(node.slice), None, "subscript", node.lineno, self.span(node), scope,
                                              self.key(node.slice)))
        elif isinstance(node, ast.Call):
            self.call(node, scope)
        for child in ast.iter_child_nodes(node):
            self.node(child, scope)

    def visit_all(self, nodes: list, scope: str) -> None:
        for n in nodes:
            if n is not None:
                self.node(n, scope)

    def qualname(self, node) -> str | None:
        """``a.b.c`` with the imports' aliases resolved; None for anything but names and attributes."""
        ast = self.ast
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    # -- environment ----------------------------------------------------------------------------

    def assignment(self, node, scope: str) -> None:
        targets = node.targets if isinstance(node, self.ast.Assign) else [node.target]
        value = _str(node.value) if node.value is not None else None
        for t in targets:
            if isinstance(t, self.ast.Subscript) and self.qualname(t.value) == "os.environ":
                self.env_writes.append(EnvWrite(_str(t.slice), value, "assign", node.lineno, self.span(node), scope,
                                                self.key(t.slice)))

    def call(self, node, scope: str) -> None:
        name = self.qualname(node.func)
        if name is None:
            return
        line, span = node.lineno, self.span(node)
        args = node.args
        if name in ("os.environ.setdefault", "os.putenv"):
            how = "setdefault" if name.endswith("setdefault") else "putenv"
            value = _str(args[1]) if len(args) > 1 else None
            first = args[0] if args else None
            self.env_writes.append(EnvWrite(_str(first), value, how, line, span, scope, self.key(first)))
        elif name == "os.environ.update":
            for key, value, at in self.update_pairs(node):
                self.env_writes.append(EnvWrite(key, value, "update", line, span, scope, at))
        elif name in ("os.environ.get", "os.getenv"):
            how = "get" if name.endswith("get") else "getenv"
            default = _str(args[1]) if len(args) > 1 else _str(_keyword(node, "default"))
            first = args[0] if args else None
            self.env_reads.append(EnvRead(_str(first), default, how, line, span, scope, self.key(first)))
        elif name == "importlib.import_module" and args and _str(args[0]) is not None:
            self.imports.append(Import(_str(args[0]), 0, (), line, span, scope, dynamic=True))
        else:
            self.model_load(node, name, scope)

    def update_pairs(self, node) -> list[tuple[str | None, str | None, Span | None]]:
        """(name, literal value, the name's span) of each variable `os.environ.update(…)` sets."""
        ast = self.ast
        out: list[tuple[str | None, str | None, Span | None]] = []
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                out.extend((_str(k), _str(v), self.key(k)) for k, v in zip(arg.keys, arg.values))
            else:
                out.append((None, None, None))
        for k in node.keywords:
            at = None
            if k.arg is not None:  # `NAME=value`: the name starts the keyword
                start = self.offset(k.lineno, k.col_offset)
                at = Span(start, start + len(k.arg))
            out.append((k.arg, _str(k.value), at))
        return out

    # -- models ---------------------------------------------------------------------------------

    def model_load(self, node, name: str, scope: str) -> None:
        name = self.bundle(node, name)
        loader = self.loader(node, name)
        if loader is None:
            return
        if loader.needs and not _given(node, loader.needs, loader.needs_position):
            return
        if loader.position is None:
            id_node = None
            model = name.removesuffix(".get_model").rsplit(".", 1)[-1]  # the builder, or the bundle
        else:
            id_node = node.args[loader.position] if len(node.args) > loader.position else None
            for kw in loader.keywords:
                id_node = id_node or _keyword(node, kw)
            model = _str(id_node) if id_node is not None else None
        expr = variable = default = None
        if id_node is not None and model is None:
            expr = self.source(id_node)
            value = self.constants.get(id_node.id) if isinstance(id_node, self.ast.Name) else None
            if value is not None:  # `MODEL = "org/name"` ... `load(MODEL)`
                model = _str(value)
                expr = None if model is not None else expr
                id_node = value if model is None else id_node
            variable, default = self.env_reference(id_node)
        # `cache_dir=None` is the library's default; any other value is the load's own directory,
        # known only when it is a literal
        keyword = next((k for k in CACHE_KEYWORDS if _given_value(_keyword(node, k))), None)
        cache_node = _keyword(node, keyword) if keyword else None
        if _constant(_keyword(node, "local_files_only")) is True or _str(_keyword(node, "source")) == "local":
            remote = False  # `torch.hub.load(dir, model, source="local")` reads a directory
        elif model is not None or default is not None:  # `os.getenv("MODEL", "org/name")`: judged by its default
            remote = loader.always or not (model or default).startswith(("/", ".", "~"))  # else a local path
        else:
            remote = loader.always or (id_node is None and loader.default_model)
        self.loads.append(ModelLoad(loader.library or None, name, model, expr, variable, default, _str(cache_node),
                                    remote, node.lineno, self.span(node), scope, keyword,
                                    self.span(cache_node) if keyword else None, _str(_keyword(node, "revision")),
                                    _repo_type(_keyword(node, "repo_type"))))

    def loader(self, node, name: str) -> Loader | None:
        if name in LOADERS:
            return LOADERS[name]
        owner, _, method = name.rpartition(".")
        if method == "from_pretrained" and owner:
            top = owner.split(".", 1)[0]  # aliases resolved: `M` of `from transformers import AutoModel as M`
            return _FROM_PRETRAINED._replace(library=top if top in FROM_PRETRAINED_LIBRARIES else "")
        if owner == "torchvision.models" or owner.startswith("torchvision.models."):
            return _TORCHVISION
        if method == "get_model" and owner.startswith("torchaudio.pipelines."):
            return _TORCHAUDIO
        return None

    def bundle(self, node, name: str) -> str:
        """`bundle.get_model()` after a module-level `bundle = torchaudio.pipelines.X`: the
        bundle's full name."""
        owner, _, method = name.rpartition(".")
        value = self.constants.get(owner) if method == "get_model" and owner.isidentifier() else None
        target = self.qualname(value) if value is not None else None
        return f"{target}.get_model" if target and target.startswith("torchaudio.pipelines.") else name

    def env_reference(self, node) -> tuple[str | None, str | None]:
        """The variable and default of `os.getenv("X", d)`, `os.environ.get(…)`, `os.environ["X"]`."""
        ast = self.ast
        if isinstance(node, ast.Call) and self.qualname(node.func) in ("os.getenv", "os.environ.get") and node.args:
            default = _str(node.args[1]) if len(node.args) > 1 else _str(_keyword(node, "default"))
            return _str(node.args[0]), default
        if isinstance(node, ast.Subscript) and self.qualname(node.value) == "os.environ":
            return _str(node.slice), None
        return None, None


def _is_main_guard(test) -> bool:
    import ast

    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    return names == ["__name__"] and "__main__" in [_str(s) for s in sides]


def _constant(node):
    import ast

    return node.value if isinstance(node, ast.Constant) else None


def _str(node) -> str | None:
    value = _constant(node) if node is not None else None
    return value if isinstance(value, str) else None


def _keyword(node, name: str):
    return next((k.value for k in node.keywords if k.arg == name), None)


def _given(node, keywords: tuple[str, ...], position: int | None) -> bool:
    """Whether one of ``keywords`` (or the argument at ``position``) is given and not None/False."""
    values = [v for v in (_keyword(node, k) for k in keywords) if v is not None]
    if position is not None and len(node.args) > position:
        values.append(node.args[position])
    return any(not _is_constant(v) or v.value not in (None, False, "") for v in values)


def _given_value(node) -> bool:
    """An argument given with a value other than a literal None."""
    return node is not None and not (_is_constant(node) and node.value is None)


def _repo_type(node) -> str | None:
    """A `repo_type=` as ``ModelLoad.repo_type`` keeps it: the literal, "" when it is computed."""
    if not _given_value(node):
        return None
    value = _str(node)
    return value if value is not None else ""


def _is_constant(node) -> bool:
    import ast

    return isinstance(node, ast.Constant)
