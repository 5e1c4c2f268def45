"""Bake files (HCL and JSON) -> build invocations, one per target.

What Bake does, from its reference (https://docs.docker.com/build/bake/reference/):
- Without `--file`, Bake loads from the working directory, in this order, and merges them:
  `docker-bake.json`, `docker-bake.hcl`, `docker-bake.override.json`, `docker-bake.override.hcl`
  (`DEFAULT_FILES`; the Compose files it also reads come first and are left to the Compose parser).
- Merging and `inherits`: `dockerfile`, `dockerfile-inline`, `tags`, `target` (and other lists
  and scalars) are overridden by the last definition; maps such as `args` merge key by key.
- `context` is relative to the directory Bake runs in, not to the file (docker/buildx#1028);
  `dockerfile` is relative to the context (docker/docs#22199). Defaults: `.` and `Dockerfile`.
- `variable "X" { default = ... }` is overridden by the environment variable `X`; strings
  interpolate `${X}`.

Only literal values, variables and `${VAR}` interpolation are evaluated: a function call, a
conditional or any other expression leaves its attribute out of the record, with an
`unresolved` phrase; `cache-from`/`cache-to` entries it decides are kept as written, since the
build does set them. HCL is read by ``ci/hcl.py`` (tree-sitter-hcl, imported only when an HCL
file is read).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from aicache_lint.ci.commands import REMOTE
from aicache_lint.ci.hcl import string, unescape
from aicache_lint.workspace.invocations import Invocation, Origin

DEFAULT_FILES = ("docker-bake.json", "docker-bake.hcl", "docker-bake.override.json", "docker-bake.override.hcl")
_MAX_DEPTH = 32  # variable defaults referring to variables, inherits chains
_NO_DEFAULT = object()  # `variable "X" {}`: meant to be set from the environment


class _Var(NamedTuple):
    name: str


class _Complex(NamedTuple):
    text: str  # the expression's source, for the unresolved phrase


class _Tpl(NamedTuple):
    """A string template: literal text, variables and expressions not evaluated here."""

    parts: tuple


class _Block(NamedTuple):
    kind: str  # target | group | variable
    name: str
    attrs: dict
    path: str
    line: int


class _Unknown(Exception):
    pass


class BakeFiles:
    """The merged definitions of one or more Bake files, in load order."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self.problems: list[str] = []

    def load(self, path: str, text: str) -> None:
        blocks = _parse_json(path, text, self.problems) if path.endswith(".json") else _parse_hcl(
            path, text, self.problems)
        self.blocks.extend(blocks)

    def invocations(self, cwd: str, env: Mapping[str, str], targets: Sequence[str] | None = None) -> list[Invocation]:
        """One invocation per target built. ``targets`` are the names asked for (groups
        expanded); None: every target a group lists or no target inherits (what the files
        declare as builds, not the common parents)."""
        return _Evaluation(self, cwd, env).run(targets)


def file_invocations(path: str, text: str, read: Callable[[str], str | None],
                     env: Mapping[str, str] | None = None, workdir: str | None = None) -> tuple[list[Invocation], list[str]]:
    """The builds of the Bake files in ``path``'s directory, merged as Bake would. Only the first
    default file present reports them, so a directory's targets are listed once. ``workdir``:
    where Bake runs (contexts are relative to it); by default the files' own directory."""
    folder, name = os.path.split(path)
    files = BakeFiles()
    if name in DEFAULT_FILES:
        for other in DEFAULT_FILES:
            if other == name:
                files.load(path, text)
                continue
            other_path = os.path.join(folder, other)
            other_text = read(other_path)
            if other_text is None:
                continue
            if DEFAULT_FILES.index(other) < DEFAULT_FILES.index(name):
                return [], []  # reported with that earlier file
            files.load(other_path, other_text)
    else:
        files.load(path, text)
    return files.invocations(workdir or folder or ".", env or {}), files.problems


# --------------------------------------------------------------------------------------------
# Evaluation


class _Evaluation:
    def __init__(self, files: BakeFiles, cwd: str, env: Mapping[str, str]) -> None:
        self.cwd = cwd
        self.env = env
        self.variables: dict[str, object] = {}
        self.groups: dict[str, list] = {}
        self.targets: dict[str, list[_Block]] = {}
        for block in files.blocks:
            if block.kind == "variable":
                self.variables[block.name] = block.attrs.get("default", _NO_DEFAULT)
            elif block.kind == "group":
                self.groups.setdefault(block.name, []).extend(_as_list(block.attrs.get("targets")))
            elif block.kind == "target":
                self.targets.setdefault(block.name, []).append(block)

    # values

    def value(self, v, depth: int = 0):
        """A Python value: str, list, dict or None; raises _Unknown."""
        if depth > _MAX_DEPTH:
            raise _Unknown("variables refer to one another too deeply")
        if isinstance(v, _Tpl):
            if len(v.parts) == 1 and not isinstance(v.parts[0], str):  # `X` or "${X}": keeps a list a list
                return self.part(v.parts[0], depth)
            out = []
            for p in v.parts:
                p = p if isinstance(p, str) else self.part(p, depth)
                if not isinstance(p, str):
                    raise _Unknown("a list or map inside a string")
                out.append(p)
            return "".join(out)
        if isinstance(v, list):
            return [self.value(x, depth) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x, depth) for k, x in v.items()}
        if isinstance(v, _Complex):
            raise _Unknown(f"`{v.text}` is not evaluated here")
        return v

    def part(self, p, depth: int):
        if isinstance(p, _Complex):
            raise _Unknown(f"`{p.text}` is not evaluated here")
        if p.name in self.env:
            return self.env[p.name]
        if p.name not in self.variables:
            raise _Unknown(f"`{p.name}` is no variable of the Bake file")
        default = self.variables[p.name]
        if default is _NO_DEFAULT:
            raise _Unknown(f"variable `{p.name}` has no default (set from the environment)")
        return self.value(default, depth + 1)

    # targets

    def expand(self, names: Sequence[str], seen: set[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            if name in self.groups and name not in seen:
                seen.add(name)
                try:
                    members = [str(x) for x in self.value(self.groups[name])]
                except _Unknown:
                    members = []
                out += self.expand(members, seen)
            elif name not in out:
                out.append(name)
        return out

    def run(self, asked: Sequence[str] | None) -> list[Invocation]:
        if asked is None:
            parents = {p for blocks in self.targets.values() for b in blocks
                       for p in _literal_names(b.attrs.get("inherits"))}
            grouped = set(self.expand(list(self.groups), set()))
            names = [n for n in self.targets if n in grouped or n not in parents]
        else:
            names = self.expand(list(asked), set())
        return [self.invocation(name) for name in dict.fromkeys(names)]

    def merged(self, name: str, chain: tuple[str, ...], unresolved: list[str]) -> dict:
        attrs: dict = {}
        own: dict = {}
        for block in self.targets.get(name, []):
            _merge(own, block.attrs)
        try:
            parents = [str(p) for p in _as_list(self.value(own.pop("inherits", [])))]
        except _Unknown as exc:
            unresolved.append(f"inherits of `{name}`: {exc}")
            parents = []
        for parent in parents:
            if parent in chain or len(chain) > _MAX_DEPTH:
                unresolved.append(f"inherits cycle {' → '.join((*chain, parent))}")
            elif parent not in self.targets:
                unresolved.append(f"`{name}` inherits `{parent}`, which no Bake file defines")
            else:
                _merge(attrs, self.merged(parent, (*chain, parent), unresolved))
        _merge(attrs, own)
        return attrs

    def invocation(self, name: str) -> Invocation:
        blocks = self.targets.get(name)
        origin = Origin("bake", blocks[0].path, blocks[0].line, name) if blocks else Origin("bake", "", 0, name)
        unresolved: list[str] = []
        if not blocks:
            return Invocation(origin, None, None, unresolved=(f"target `{name}` is not defined",))
        attrs = self.merged(name, (name,), unresolved)

        def get(key: str, default=None):
            try:
                return self.value(attrs[key]) if key in attrs else default
            except _Unknown as exc:
                unresolved.append(f"{key} of `{name}`: {exc}")
                return None

        if "matrix" in attrs:
            unresolved.append(f"`{name}` is a matrix target; its expansion is not followed")
        context = dockerfile = None
        where = get("context", ".")
        if isinstance(where, str) and REMOTE.match(where):
            unresolved.append(f"context `{where}` is remote")
        elif isinstance(where, str):
            context = os.path.normpath(os.path.join(self.cwd, where.removeprefix("cwd://")))
        if "dockerfile-inline" in attrs:
            unresolved.append(f"`{name}` has an inline Dockerfile")
        elif context is not None:
            file = get("dockerfile", "Dockerfile")
            if isinstance(file, str):
                base = self.cwd if file.startswith("cwd://") else context
                dockerfile = os.path.normpath(os.path.join(base, file.removeprefix("cwd://")))
        tags = []
        for item in _as_list(attrs.get("tags")):
            try:
                tag = self.value(item)
            except _Unknown as exc:
                unresolved.append(f"tag of `{name}`: {exc}")
                continue
            if isinstance(tag, str) and tag:
                tags.append(tag)
        args = {}
        raw_args = attrs.get("args", {})
        for key, item in (raw_args.items() if isinstance(raw_args, dict) else ()):
            try:
                val = self.value(item)
            except _Unknown as exc:
                unresolved.append(f"build arg `{key}` of `{name}`: {exc}")
                continue
            if val is not None:  # null: not passed
                args[key] = str(val)
        if not isinstance(raw_args, dict):
            unresolved.append(f"args of `{name}`: `{getattr(raw_args, 'text', raw_args)}` is not evaluated here")
        target = get("target")
        return Invocation(origin, dockerfile, context, target if isinstance(target, str) else None,
                          tuple(sorted(args.items())), tuple(tags), tuple(unresolved),
                          self.cache(attrs.get("cache-from")), self.cache(attrs.get("cache-to")))

    def cache(self, raw) -> tuple[str, ...]:
        """`cache-from`/`cache-to` entries as Bake passes them on: a string as it is, an object
        (`{type = "gha", scope = "app"}`, newer Bake) as `type=gha,scope=app`. An entry a variable
        or an expression decides stays as written (`${CACHE_TO}`), also when its default is empty:
        the environment sets it where it matters, so the attribute counts as set."""
        if raw is None:
            return ()
        if not isinstance(raw, list):  # `cache-to = CACHE_TO`, `cache-to = X ? [...] : []`
            try:
                value = self.value(raw)
            except _Unknown:
                return (written(raw),)
            items = [(item, raw) for item in _as_list(value)]
        else:
            items = []
            for item in raw:
                try:
                    items.append((self.value(item), item))
                except _Unknown:
                    items.append((written(item), item))
        out = []
        for value, source in items:
            if isinstance(value, dict):
                value = ",".join(f"{k}={'' if v is None else v}" for k, v in value.items())
            if isinstance(value, str) and value.strip():
                out.append(value.strip())
            elif _has_variable(source):
                out.append(written(source))
        return tuple(out)


def _merge(into: dict, attrs: dict) -> None:
    for key, value in attrs.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key] = {**into[key], **value}
        else:
            into[key] = value


def written(v) -> str:
    """A value as a Bake string would spell it: variables as `${NAME}`, a literal `${` as `$${`,
    an expression as its source, an object as `key=value,...`."""
    if isinstance(v, _Tpl):
        return "".join(p.replace("${", "$${") if isinstance(p, str) else f"${{{p.name}}}" if isinstance(p, _Var)
                       else p.text for p in v.parts)
    if isinstance(v, _Complex):
        return v.text
    if isinstance(v, dict):
        return ",".join(f"{k}={written(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "[" + ", ".join(written(x) for x in v) + "]"
    return ""


def hcl_value(node):
    """An HCL attribute node (``ci.hcl.Attribute.node``) as an unevaluated Bake value."""
    return _expression(node)


def json_value(value):
    """A value loaded from a JSON Bake file as an unevaluated Bake value."""
    return _from_json(value)


def tag_repository(tags) -> str | None:
    """The repository of the first tag that can be split into name and tag, spelt as Bake spells
    it (`${REGISTRY}/app` for `"${REGISTRY}/app:${TAG}"`): where a registry cache can live next
    to the image. None when no tag is a plain string template (an expression), names a digest,
    or ends its name with a variable (`app-${TAG}`)."""
    for tag in _as_list(tags):
        if not isinstance(tag, _Tpl) or any(isinstance(p, _Complex) or (isinstance(p, str) and "@" in p)
                                            for p in tag.parts):
            continue
        parts = list(tag.parts)
        for i in range(len(parts) - 1, -1, -1):
            part = parts[i]
            if not isinstance(part, str):
                continue
            colon, slash = part.rfind(":"), part.rfind("/")
            if colon > slash:  # the tag's colon (one before a `/` is a registry port)
                name = _Tpl((*parts[:i], part[:colon]))
                return written(name) if any(name.parts) else None
            if slash >= 0:
                break
        if all(isinstance(p, str) for p in parts) and "".join(parts):
            return written(tag)
    return None


def _has_variable(v) -> bool:
    if isinstance(v, _Tpl):
        return any(not isinstance(p, str) for p in v.parts)
    if isinstance(v, (list, dict)):
        return any(_has_variable(x) for x in (v.values() if isinstance(v, dict) else v))
    return isinstance(v, _Complex)


def _as_list(v) -> list:
    return v if isinstance(v, list) else [] if v is None else [v]


def _literal_names(v) -> list[str]:
    return [x.parts[0] for x in _as_list(v) if isinstance(x, _Tpl) and len(x.parts) == 1
            and isinstance(x.parts[0], str)]


# --------------------------------------------------------------------------------------------
# JSON

_INTERPOLATION = re.compile(r"\$\$\{|\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}|\$\{[^}]*\}")


def _template(text: str) -> _Tpl:
    """`${NAME}` interpolation in a JSON Bake string; `$${` is a literal `${`."""
    parts: list = []
    pos = 0
    for m in _INTERPOLATION.finditer(text):
        parts.append(text[pos:m.start()])
        if m.group(0) == "$${":
            parts.append("${")
        else:
            parts.append(_Var(m.group(1)) if m.group(1) else _Complex(m.group(0)))
        pos = m.end()
    parts.append(text[pos:])
    return _Tpl(tuple(p for p in parts if p != ""))


def _from_json(v):
    if isinstance(v, str):
        return _template(v)
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _from_json(x) for k, x in v.items()}
    if v is None:
        return None
    return _Tpl((str(v).lower() if isinstance(v, bool) else str(v),))


def _parse_json(path: str, text: str, problems: list[str]) -> list[_Block]:
    import json  # lazily: only JSON Bake files need it

    try:
        data = json.loads(text)
    except ValueError as exc:
        problems.append(f"{path}:{getattr(exc, 'lineno', 1)}: not valid JSON ({getattr(exc, 'msg', exc)})")
        return []
    blocks = []
    for kind in ("variable", "group", "target"):
        section = data.get(kind) if isinstance(data, dict) else None
        for name, attrs in (section.items() if isinstance(section, dict) else ()):
            if isinstance(attrs, dict):
                m = re.search(r'"' + re.escape(name) + r'"\s*:\s*\{', text)
                line = text.count("\n", 0, m.start()) + 1 if m else 1
                blocks.append(_Block(kind, name, {k: _from_json(v) for k, v in attrs.items()}, path, line))
    return blocks


# --------------------------------------------------------------------------------------------
# HCL (read by ``ci/hcl.py``, the one HCL reader; its attribute nodes are evaluated here)


def _parse_hcl(path: str, text: str, problems: list[str]) -> list[_Block]:
    from aicache_lint.ci.hcl import parse
    from aicache_lint.source import SourceText

    doc = parse(SourceText(text, path))
    for message, where in doc.errors:
        problems.append(f"{path}:{doc.source.line_of(where.start)}: {message}; targets around it are skipped")
    return [_Block(block.kind, block.labels[0], {name: _expression(attr.node) for name, attr in block.attributes.items()},
                   path, doc.source.line_of(block.span.start))
            for block in doc.blocks if block.kind in ("target", "group", "variable") and len(block.labels) == 1]


def _expression(node):
    """An HCL expression node as a value: _Tpl, list, dict, None or _Complex."""
    while node.type == "expression" and node.named_child_count == 1:
        node = node.named_children[0]
    kind = node.type
    if kind == "literal_value":
        lit = node.named_children[0]
        if lit.type == "string_lit":
            return _Tpl((string(lit),))
        if lit.type == "null_lit":
            return None
        return _Tpl((lit.text.decode(),))
    if kind == "template_expr":
        return _template_parts(node.named_children[0])
    if kind == "variable_expr":
        return _Tpl((_Var(node.text.decode()),))
    if kind == "collection_value":
        coll = node.named_children[0]
        if coll.type == "tuple":
            return [_expression(c) for c in coll.named_children if c.type == "expression"]
        if coll.type == "object":
            out = {}
            for elem in coll.named_children:
                if elem.type != "object_elem":
                    continue
                key = elem.child_by_field_name("key")
                val = elem.child_by_field_name("val")
                k = _expression(key)
                name = (k.parts[0] if isinstance(k, _Tpl) and len(k.parts) == 1 else None)
                name = name.name if isinstance(name, _Var) else name  # bare keys are names, not variables
                if not isinstance(name, str):
                    return _Complex(node.text.decode())
                out[name] = _expression(val)
            return out
    return _Complex(node.text.decode())


def _template_parts(node) -> _Tpl | _Complex:
    parts: list = []
    for c in node.children:
        if c.type == "template_literal":
            parts.append(unescape(c.text.decode()) if node.type == "quoted_template" else c.text.decode())
        elif c.type == "template_interpolation":
            inner = _expression(next(x for x in c.named_children if x.type == "expression"))
            simple = isinstance(inner, _Tpl) and len(inner.parts) == 1 and isinstance(inner.parts[0], _Var)
            parts.append(inner.parts[0] if simple else _Complex(c.text.decode()))
        elif c.type == "template_directive":
            return _Complex(node.text.decode())
    return _Tpl(tuple(parts))
