"""An HCL file as positions: its blocks, their attributes and its comments, in character offsets
of the ``SourceText`` (tree-sitter counts UTF-8 bytes). The one HCL reader: rules and fixes of Bake
files read this, and ``ci/bake.py`` evaluates the attribute nodes it keeps. tree-sitter-hcl is
imported only when an HCL file is read (DESIGN §9)."""

from __future__ import annotations

import bisect
import re
from typing import Any, NamedTuple

from aicache_lint.source import SourceText, Span


class Attribute(NamedTuple):
    name: str
    span: Span  # `name = value`
    value: Span
    node: Any  # the tree-sitter expression node (for ``ci.bake`` to evaluate)


class Block(NamedTuple):
    kind: str  # target | group | variable | function | ...
    labels: tuple[str, ...]
    span: Span  # from the identifier to the closing brace
    open_brace: Span  # `{`
    close_brace: Span  # `}`
    attributes: dict[str, Attribute]  # the last one of each name
    node: Any

    @property
    def name(self) -> str:
        return self.labels[0] if self.labels else ""


class HclDoc(NamedTuple):
    source: SourceText
    blocks: list[Block]  # top-level blocks, in file order (blocks with syntax errors left out)
    comments: list[Span]  # `#`, `//` and `/* */` comments
    errors: list[tuple[str, Span]]  # (message, where)


_PARSER = None
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_LITERAL = re.compile(r"\\(.)|\$\$\{|%%\{")


def _parser():
    global _PARSER
    if _PARSER is None:
        import tree_sitter
        import tree_sitter_hcl

        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
    return _PARSER


def unescape(text: str) -> str:
    """A quoted string's literal text: escapes resolved, `$${` and `%%{` made `${` and `%{`."""
    return _LITERAL.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)) if m.group(1) else m.group(0)[1:], text)


def string(node) -> str:
    """The literal text of a `string_lit` node (a block label)."""
    return "".join(unescape(c.text.decode()) for c in node.children if c.type == "template_literal")


def _first_error(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            return n
        stack.extend(reversed([c for c in n.children if c.has_error or c.type == "ERROR" or c.is_missing]))
    return node


def parse(source: SourceText) -> HclDoc:
    try:
        parser = _parser()
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        return HclDoc(source, [], [], [(f"HCL files need tree-sitter-hcl ({exc})", Span(0, 0))])
    data = source.text.encode("utf-8")
    at = _offsets(source.text, data)
    root = parser.parse(data).root_node
    errors = []
    if root.has_error:
        bad = _first_error(root)
        errors.append(("HCL syntax error", Span(at(bad.start_byte), at(bad.start_byte))))
    comments = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            comments.append(Span(at(node.start_byte), at(node.end_byte)))
        stack.extend(node.children)
    comments.sort()
    body = next((c for c in root.children if c.type == "body"), None)
    blocks = []
    for node in body.children if body is not None else ():
        if node.type != "block" or node.has_error:
            continue
        # Labels are quoted strings or bare identifiers (`group default {`), after the block type.
        labels = tuple(string(c) if c.type == "string_lit" else c.text.decode()
                       for c in node.children[1:] if c.type in ("string_lit", "identifier"))
        start = next(c for c in node.children if c.type == "block_start")
        end = next(c for c in node.children if c.type == "block_end")
        inner = next((c for c in node.children if c.type == "body"), None)
        attrs = {}
        for attr in inner.children if inner is not None else ():
            if attr.type == "attribute":
                value = attr.child_by_field_name("val") or attr.children[-1]
                attrs[attr.child(0).text.decode()] = Attribute(
                    attr.child(0).text.decode(), Span(at(attr.start_byte), at(attr.end_byte)),
                    Span(at(value.start_byte), at(value.end_byte)), value)
        blocks.append(Block(node.child(0).text.decode(), labels, Span(at(node.start_byte), at(node.end_byte)),
                            Span(at(start.start_byte), at(start.end_byte)), Span(at(end.start_byte), at(end.end_byte)),
                            attrs, node))
    return HclDoc(source, blocks, comments, errors)


def _offsets(text: str, data: bytes):
    """Byte offset -> character offset (the identity for ASCII text)."""
    if len(data) == len(text):
        return lambda b: b
    starts = []  # byte offset of each character
    b = 0
    for ch in text:
        starts.append(b)
        b += len(ch.encode("utf-8"))
    starts.append(b)
    return lambda byte: bisect.bisect_left(starts, byte)
