"""The lossless-position YAML tree of one Compose file.

We never re-dump YAML (DESIGN §5): fixes are text edits computed from these spans. So every node
keeps where its content is written (``span``, tag and anchor excluded), where its properties are
(``tag_span``, ``anchor_span``), its style, and for block collections the indentation of their
keys or ``-`` items, so an inserted sibling can copy it. Aliases stay visible as ``Alias`` nodes
(a fix must not edit an anchored fragment that other services share by accident), and ``<<`` merge
keys are kept as written while ``Mapping.entries()`` gives the effective mapping Compose sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from aicache_lint.source import SourceText, Span

# Scalar styles as written.
PLAIN, SINGLE, DOUBLE, LITERAL, FOLDED = "plain", "single", "double", "literal", "folded"
# Collection styles.
BLOCK, FLOW = "block", "flow"

RESET_TAG = "!reset"
OVERRIDE_TAG = "!override"


class Node:
    """Base of every node; ``span`` covers the content only (no tag, no anchor)."""

    __slots__ = ("anchor", "anchor_span", "span", "style", "tag", "tag_span")

    def __init__(self, span: Span, style: str, tag: str | None = None, tag_span: Span | None = None,
                 anchor: str | None = None, anchor_span: Span | None = None) -> None:
        self.span = span
        self.style = style
        self.tag = tag  # explicit tag: `!reset`, `!override`, `tag:yaml.org,2002:str` for `!!str`; None if untagged
        self.tag_span = tag_span
        self.anchor = anchor
        self.anchor_span = anchor_span

    @property
    def full_span(self) -> Span:
        """Properties (anchor, tag) and content: what to replace to swap the whole value."""
        starts = [s.start for s in (self.tag_span, self.anchor_span) if s is not None]
        return Span(min([self.span.start, *starts]), self.span.end)

    @property
    def target(self) -> Node:
        """The node itself; an alias's anchored node (see ``Alias``)."""
        return self

    @property
    def is_reset(self) -> bool:
        return self.tag == RESET_TAG

    @property
    def is_override(self) -> bool:
        return self.tag == OVERRIDE_TAG


class Scalar(Node):
    __slots__ = ("kind", "value")

    def __init__(self, value: str, kind: str, span: Span, style: str, **props) -> None:
        super().__init__(span, style, **props)
        self.value = value  # the scalar's text after YAML unescaping/folding
        self.kind = kind  # resolved core type: str, int, float, bool, null, merge, timestamp…

    def __repr__(self) -> str:
        return f"Scalar({self.value!r}, {self.kind}, {self.span.start}-{self.span.end})"

    @property
    def is_null(self) -> bool:
        return self.kind == "null"

    @property
    def text(self) -> str | None:
        """The value as Compose reads a string field: None for null, else the YAML text.

        Compose turns `true`/`1` into the strings "true"/"1"; YAML 1.1 spellings such as `yes`
        are booleans to PyYAML but stay the string "yes" here, as go-yaml v3 (YAML 1.2) keeps them.
        """
        return None if self.kind == "null" else self.value


class Alias(Node):
    """``*name``: ``span`` is where the alias is written; ``anchored`` the node it names."""

    __slots__ = ("anchored", "name")

    def __init__(self, name: str, anchored: Node, span: Span) -> None:
        super().__init__(span, PLAIN)
        self.name = name
        self.anchored = anchored

    def __repr__(self) -> str:
        return f"Alias(*{self.name}, {self.span.start}-{self.span.end})"

    @property
    def target(self) -> Node:
        return self.anchored.target


class Pair(NamedTuple):
    key: Node  # a Scalar in every sane Compose file
    value: Node  # may be an Alias; use ``.value.target`` for the content

    @property
    def name(self) -> str:
        k = self.key.target
        return k.value if isinstance(k, Scalar) else repr(k)

    @property
    def is_merge(self) -> bool:
        k = self.key
        return isinstance(k, Scalar) and k.kind == "merge"

    @property
    def span(self) -> Span:
        """From the key to the end of the value."""
        return Span(self.key.full_span.start, max(self.key.span.end, self.value.span.end))


class Entry(NamedTuple):
    """One key of a mapping's effective view (after ``<<`` merges)."""

    pair: Pair  # where the key and value are written
    owner: Mapping  # the mapping that holds ``pair`` (the anchored fragment when inherited)
    via: Node | None  # the ``<<`` item (alias or inline mapping) it was inherited through

    @property
    def name(self) -> str:
        return self.pair.name

    @property
    def value(self) -> Node:
        return self.pair.value.target

    @property
    def inherited(self) -> bool:
        return self.via is not None


class Mapping(Node):
    __slots__ = ("_entries", "indent", "pairs")

    def __init__(self, pairs: list[Pair], span: Span, style: str, indent: int | None, **props) -> None:
        super().__init__(span, style, **props)
        self.pairs = pairs  # as written, `<<` pairs included
        self.indent = indent  # characters before each key of a block mapping; None for flow
        self._entries: dict[str, Entry] | None = None

    def __repr__(self) -> str:
        return f"Mapping({[p.name for p in self.pairs]}, {self.style}, {self.span.start}-{self.span.end})"

    @property
    def merges(self) -> list[Node]:
        """The ``<<`` items in the order written (aliases or inline mappings)."""
        items: list[Node] = []
        for p in self.pairs:
            if p.is_merge:
                v = p.value.target
                items.extend(v.items if isinstance(v, Sequence) else [p.value])
        return items

    def entries(self) -> dict[str, Entry]:
        """Effective keys, as YAML merge keys define them: own keys win, then ``<<`` items in order
        (an earlier item wins over a later one), recursively."""
        if self._entries is None:
            found: dict[str, Entry] = {}
            for p in self.pairs:
                if not p.is_merge:
                    found[p.name] = Entry(p, self, None)  # a duplicate key: the last one wins
            for item in self.merges:
                source = item.target
                if isinstance(source, Mapping):
                    for name, entry in source.entries().items():
                        if name not in found:
                            found[name] = Entry(entry.pair, entry.owner, item)
            self._entries = found
        return self._entries

    def entry(self, key: str) -> Entry | None:
        return self.entries().get(key)

    def get(self, key: str) -> Node | None:
        """The effective value of ``key`` with aliases resolved, or None."""
        e = self.entries().get(key)
        return e.value if e else None

    def own(self, key: str) -> Pair | None:
        """The pair written in this mapping itself (not inherited)."""
        found = None
        for p in self.pairs:
            if not p.is_merge and p.name == key:
                found = p
        return found

    def keys(self) -> list[str]:
        return list(self.entries())


class Sequence(Node):
    __slots__ = ("dashes", "indent", "items")

    def __init__(self, items: list[Node], span: Span, style: str, dashes: list[int], indent: int | None,
                 **props) -> None:
        super().__init__(span, style, **props)
        self.items = items
        self.dashes = dashes  # offset of each item's `-` (block style; empty for flow)
        self.indent = indent  # characters before the `-` of a block sequence; None for flow

    def __repr__(self) -> str:
        return f"Sequence({len(self.items)} items, {self.style}, {self.span.start}-{self.span.end})"


AnyNode = Scalar | Mapping | Sequence | Alias


class ComposeError(NamedTuple):
    message: str
    span: Span


class ComposeDoc(NamedTuple):
    source: SourceText
    root: Mapping | None  # None when the file is broken, empty or not a mapping (see ``errors``)
    errors: list[ComposeError]
    anchors: dict[str, Node]  # the last node defined for each anchor name
    comments: list[Span]  # `# …` to the end of its line
    # How far the file indents a block list's `-` under its key (0 for `key:\n- a`), the most
    # common choice among its block lists; None when it has none. Read once, for new lists.
    list_offset: int | None = None

    @property
    def path(self) -> str:
        return self.source.path

    def walk(self) -> Iterator[Node]:
        """Every node once, depth first, aliases yielded but not followed."""
        stack: list[Node] = [self.root] if self.root is not None else []
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, Mapping):
                for p in reversed(node.pairs):
                    stack.extend((p.value, p.key))
            elif isinstance(node, Sequence):
                stack.extend(reversed(node.items))
