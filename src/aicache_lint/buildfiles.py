"""The build-infrastructure files rules read besides Dockerfiles and Compose files: GitHub workflows
and local actions, GitLab CI, Bake files (HCL or JSON), the Docker daemon's `daemon.json`,
BuildKit's `buildkitd.toml`, shell scripts (read for the daemon configuration they write) and Python
sources. ``parse`` gives each a position tree and the problems that stop it from being read; never raises.

YAML and JSON files share the YAML position tree of ``compose/model.py`` (JSON is YAML's flow
style; a JSON text is first checked by ``json`` so its errors read as JSON errors, and its tabs,
which JSON allows between tokens and YAML does not, are read as spaces: offsets stay the same).
HCL is parsed by tree-sitter (``ci/hcl.py``), TOML by ``tomllib``. Each parser loads only when a
file of its kind is read. A shell script is its text: rules tokenize the few scripts they need
(``daemon/scripts.py``), so a script is never refused as unreadable. A Python source is read with
``ast`` into the facts of ``python/read.py``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from aicache_lint.source import SourceText, Span

if TYPE_CHECKING:
    from aicache_lint.compose.model import ComposeDoc

# What each kind of file is written in (Bake: by its extension).
SYNTAX = {"workflow": "yaml", "action": "yaml", "gitlab": "yaml", "daemon": "json", "buildkitd": "toml",
          "shell": "shell", "python": "python"}
_NAMES = {"workflow": "workflow", "action": "action", "gitlab": "GitLab CI file", "bake": "Bake file",
          "daemon": "daemon.json", "buildkitd": "buildkitd.toml", "shell": "shell script",
          "python": "Python source"}
_TOML_AT = re.compile(r"\(at (?:line (\d+), column (\d+)|end of document)\)")


class Problem(NamedTuple):
    message: str
    span: Span


class BuildFile(NamedTuple):
    source: SourceText
    kind: str  # workflow | action | gitlab | bake | daemon | buildkitd | shell | python
    syntax: str  # yaml | json | hcl | toml | shell | python
    errors: list[Problem]  # what stops the file from being read (AIC001); the trees are None then
    yaml: "ComposeDoc | None" = None  # YAML and JSON files: the position tree
    hcl: Any = None  # HCL files: the ``ci.hcl.HclDoc``
    data: Any = None  # TOML files: the parsed table; Python: its ``python.read.PythonFacts``

    @property
    def path(self) -> str:
        return self.source.path


def syntax_of(path: str, kind: str) -> str:
    if kind == "bake":
        return "json" if path.endswith(".json") else "hcl"
    return SYNTAX[kind]


def parse(source: SourceText, kind: str) -> BuildFile:
    syntax = syntax_of(source.path, kind)
    if syntax == "yaml":
        return _yaml(source, kind, syntax, source.text)
    if syntax == "json":
        return _json(source, kind)
    if syntax == "hcl":
        from aicache_lint.ci.hcl import parse as parse_hcl

        doc = parse_hcl(source)
        return BuildFile(source, kind, syntax, [Problem(m, s) for m, s in doc.errors], hcl=doc)
    if syntax == "shell":
        return BuildFile(source, kind, syntax, [])
    if syntax == "python":
        return _python(source, kind)
    return _toml(source, kind)


def _python(source: SourceText, kind: str) -> BuildFile:
    from aicache_lint.python.read import read, syntax_error

    facts = read(source.text)
    if facts is not None:
        return BuildFile(source, kind, "python", [], data=facts)
    message, at = syntax_error(source.text) or ("invalid Python: too deeply nested to read", 0)
    return BuildFile(source, kind, "python", [Problem(message, Span(at, at))])


def _yaml(source: SourceText, kind: str, syntax: str, text: str) -> BuildFile:
    from aicache_lint.compose.parse import parse as parse_yaml

    seen = source if text is source.text else SourceText(text, path=source.path, bom=source.bom)
    doc = parse_yaml(seen, _NAMES[kind], "a mapping")
    if seen is not source:
        doc = doc._replace(source=source)
    errors = [Problem(e.message, e.span) for e in doc.errors]
    return BuildFile(source, kind, syntax, errors, yaml=None if errors else doc)


def _json(source: SourceText, kind: str) -> BuildFile:
    import json

    try:
        data = json.loads(source.text)
    except ValueError as exc:
        at = getattr(exc, "pos", 0)
        return BuildFile(source, kind, "json", [Problem(f"invalid JSON: {getattr(exc, 'msg', exc)}", Span(at, at))])
    if not isinstance(data, dict):
        return BuildFile(source, kind, "json", [Problem(f"a {_NAMES[kind]} must be a JSON object", Span(0, 0))])
    return _yaml(source, kind, "json", source.text.replace("\t", " "))


def _toml(source: SourceText, kind: str) -> BuildFile:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_AT.search(str(exc))
        if m is None or m.group(1) is None:
            at = len(source.text) if m else 0
        else:
            line = min(int(m.group(1)), source.line_count)
            at = min(source.line_start(line) + int(m.group(2)) - 1, len(source.text))
        message = _TOML_AT.sub("", str(exc)).strip()
        return BuildFile(source, kind, "toml", [Problem(f"invalid TOML: {message}", Span(at, at))])
    return BuildFile(source, kind, "toml", [], data=data)
