"""Parse a Compose file into the position tree of ``model.py``; never raises.

We read PyYAML's *event* stream rather than its composed nodes: events carry anchors, alias
positions and tags that ``yaml.compose()`` drops or folds away, and the C parser (libyaml) emits them
fast. Unknown tags (`!reset`, `!override`, anything else) are fine at that level: nothing is
constructed. Marks are character offsets into the ``str`` we pass (checked for non-ASCII and CRLF
with both parsers). PyYAML is imported here only, so linting Dockerfiles never loads it.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter

from aicache_lint.compose.model import (
    BLOCK,
    DOUBLE,
    FLOW,
    FOLDED,
    LITERAL,
    PLAIN,
    SINGLE,
    Alias,
    ComposeDoc,
    ComposeError,
    Mapping,
    Node,
    Pair,
    Scalar,
    Sequence,
)
from aicache_lint.source import YAML_BREAK, YAML_BREAK_CHARS, SourceText, Span

_STYLES = {None: PLAIN, "": PLAIN, "'": SINGLE, '"': DOUBLE, "|": LITERAL, ">": FOLDED}
# Plain-scalar types as Compose's go-yaml v3 (YAML 1.2 core schema) reads them: `yes`/`on` stay strings.
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?(?:[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_CORE_TAGS = {f"tag:yaml.org,2002:{k}": k for k in ("str", "int", "float", "bool", "null", "binary", "timestamp")}
_PROPERTY_END = re.compile(r"[\s,\[\]{}]")
_BLANK = " \t" + YAML_BREAK_CHARS
# A `#` at a line start or after a blank, to the next YAML line break (CR, LF, NEL, LS, PS).
_COMMENT = re.compile(f"(?:^|(?<=[{_BLANK}]))#[^{YAML_BREAK_CHARS}]*")


def parse(source: SourceText, what: str = "Compose file", expected: str = "a mapping with `services:`") -> ComposeDoc:
    """The tree of ``source``; YAML problems become ``errors`` (the root is None then). ``what``
    names the file in messages (the tree serves CI files and JSON documents too), ``expected``
    what an empty one should hold."""
    import yaml  # lazily: only YAML files need it

    text = source.text
    events, error = _events(yaml, text)
    if error is not None:
        return ComposeDoc(source, None, [error], {}, _comments(text, []))
    builder = _Builder(source, yaml, what)
    node = builder.build(events)
    errors = builder.errors
    root = None
    if node is None:
        if not errors:
            errors.append(ComposeError(f"empty {what}: expected {expected}", Span(0, 0)))
    elif not isinstance(node.target, Mapping):
        errors.insert(0, ComposeError(
            f"a {what} must be a mapping at the top level, not a {_kind_name(node.target)}",
            node.full_span))
    else:
        root = node.target
    doc = ComposeDoc(source, root, errors, builder.anchors, _comments(text, builder.scalar_spans))
    return doc._replace(list_offset=_list_offset(doc)) if root is not None else doc


def _events(yaml, text: str) -> tuple[list, ComposeError | None]:
    loader_class = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    events: list = []
    loader = None
    try:
        loader = loader_class(text)
        while loader.check_event():
            events.append(loader.get_event())
    except yaml.reader.ReaderError as exc:
        # libyaml reports a byte position; find the character ourselves.
        m = yaml.reader.Reader.NON_PRINTABLE.search(text)
        at = m.start() if m else min(getattr(exc, "position", 0), len(text))
        return events, ComposeError(f"invalid YAML: unacceptable character #x{ord(text[at]) if m else 0:04x}",
                                    Span(at, at))
    except yaml.MarkedYAMLError as exc:
        return events, _marked_error(exc, len(text.rstrip()))
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML parse error is marked or a ReaderError
        return events, ComposeError(f"invalid YAML: {exc}", Span(0, 0))
    finally:
        if loader is not None:
            loader.dispose()
    return events, None


def _marked_error(exc, length: int) -> ComposeError:
    """``length``: the text's length without trailing blanks, to spot errors at the end of stream."""
    problem = (exc.problem or "syntax error").replace("\t", "\\t")
    mark = exc.problem_mark or exc.context_mark
    message = f"invalid YAML: {problem}"
    if exc.context:
        message = f"invalid YAML: {exc.context}: {problem}"
        # An error at the end of the stream (an unclosed quote or bracket) is best shown where
        # the quote or bracket opens.
        if exc.context_mark is not None and mark is not None and mark.index >= length:
            mark = exc.context_mark
    at = mark.index if mark is not None else 0
    return ComposeError(message, Span(at, at))


def _kind_name(node: Node) -> str:
    if isinstance(node, Sequence):
        return "list"
    return "null value" if isinstance(node, Scalar) and node.is_null else "scalar"


def _list_offset(doc: ComposeDoc) -> int | None:
    """``ComposeDoc.list_offset``."""
    counts: Counter[int] = Counter()
    source = doc.source
    for node in doc.walk():
        if not isinstance(node, Mapping) or node.style != BLOCK or node.indent is None:
            continue
        for pair in node.pairs:
            v = pair.value
            if isinstance(v, Sequence) and v.style == BLOCK and v.indent is not None and v.dashes \
                    and source.line_of(v.dashes[0]) != source.line_of(pair.key.span.start):
                counts[v.indent - node.indent] += 1
    if not counts:
        return None
    return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _comments(text: str, scalar_spans: list[Span]) -> list[Span]:
    """`#` comments: a `#` at a line start or after a blank, outside every scalar."""
    if "#" not in text:
        return []
    starts = [s.start for s in scalar_spans]
    found = []
    for m in _COMMENT.finditer(text):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i >= 0 and scalar_spans[i].start <= m.start() < scalar_spans[i].end:
            continue
        end = m.end()
        while end > m.start() and text[end - 1] in " \t":
            end -= 1
        found.append(Span(m.start(), end))
    return found


class _Builder:
    """Turns the event list into nodes; records anchors, duplicate keys and extra documents."""

    def __init__(self, source: SourceText, yaml, what: str) -> None:
        self.source = source
        self.what = what
        self.text = source.text
        self.yaml = yaml
        self.errors: list[ComposeError] = []
        self.anchors: dict[str, Node] = {}
        self.scalar_spans: list[Span] = []

    def build(self, events: list) -> Node | None:
        ev = self.yaml.events
        self.events = events
        self.i = 0
        root = None
        documents = 0
        while self.i < len(events):
            e = events[self.i]
            if isinstance(e, ev.DocumentStartEvent):
                documents += 1
                if documents == 2:
                    at = e.start_mark.index
                    self.errors.append(ComposeError(
                        f"several YAML documents in one {self.what}; only the first is read", Span(at, at)))
                self.i += 1
                node = self._node()
                if documents == 1:
                    root = node
            else:
                self.i += 1
        self.scalar_spans.sort()
        return root

    # -- nodes --------------------------------------------------------------------------------

    def _node(self) -> Node:
        ev = self.yaml.events
        e = self.events[self.i]
        self.i += 1
        if isinstance(e, ev.AliasEvent):
            span = Span(e.start_mark.index, e.end_mark.index)
            anchored = self.anchors.get(e.anchor)
            if anchored is None:
                self.errors.append(ComposeError(f"unknown alias *{e.anchor}", span))
                anchored = Scalar("", "null", span, PLAIN)
            return Alias(e.anchor, anchored, span)
        props, start = self._properties(e.start_mark.index, e.end_mark.index, e)
        if isinstance(e, ev.ScalarEvent):
            end = e.end_mark.index
            style = _STYLES.get(e.style, PLAIN)
            if style in (LITERAL, FOLDED):
                end = self._trim_end(start, end)
            start = min(start, end)
            span = Span(start, end)
            node: Node = Scalar(e.value, self._kind(e), span, style, **props)
            self.scalar_spans.append(span)
        elif isinstance(e, ev.MappingStartEvent):
            node = self._mapping(e, start, props)
        else:
            node = self._sequence(e, start, props)
        if e.anchor is not None:
            self.anchors[e.anchor] = node  # after the node is complete: no alias cycles
        return node

    def _mapping(self, e, start: int, props: dict) -> Mapping:
        ev = self.yaml.events
        pairs: list[Pair] = []
        seen: dict[str, Node] = {}
        while not isinstance(self.events[self.i], ev.MappingEndEvent):
            key = self._node()
            value = self._node()
            pair = Pair(key, value)
            pairs.append(pair)
            if not pair.is_merge:
                first = seen.get(pair.name)
                if first is not None:
                    line = self.source.line_of(first.span.start)
                    self.errors.append(ComposeError(
                        f"duplicate key '{pair.name}' (first defined on line {line})", key.span))
                else:
                    seen[pair.name] = key
        end_event = self.events[self.i]
        self.i += 1
        if e.flow_style:
            return Mapping(pairs, Span(start, end_event.end_mark.index), FLOW, None, **props)
        end = max(pairs[-1].key.span.end, pairs[-1].value.span.end) if pairs else start
        indent = self._column(pairs[0].key.full_span.start) if pairs else None
        return Mapping(pairs, Span(start, end), BLOCK, indent, **props)

    def _sequence(self, e, start: int, props: dict) -> Sequence:
        ev = self.yaml.events
        items: list[Node] = []
        while not isinstance(self.events[self.i], ev.SequenceEndEvent):
            items.append(self._node())
        end_event = self.events[self.i]
        self.i += 1
        if e.flow_style:
            return Sequence(items, Span(start, end_event.end_mark.index), FLOW, [], None, **props)
        dashes = []
        at = start
        for item in items:
            dash = self._skip_blank(at)
            dashes.append(dash)
            at = max(item.span.end, dash + 1)
        end = items[-1].span.end if items else start
        end = max(end, dashes[-1] + 1) if dashes else end
        indent = self._column(dashes[0]) if dashes else None
        return Sequence(items, Span(dashes[0] if dashes else start, end), BLOCK, dashes, indent, **props)

    # -- helpers ------------------------------------------------------------------------------

    def _properties(self, start: int, end: int, e) -> tuple[dict, int]:
        """Spans of the `&anchor` and `!tag` written before a node; the content's start."""
        props: dict = {}
        text = self.text
        anchor, tag = getattr(e, "anchor", None), getattr(e, "tag", None)
        if anchor is None and tag is None:
            return props, start
        at = start
        while at < end and text[at] in "&!":
            m = _PROPERTY_END.search(text, at)
            stop = m.start() if m else len(text)
            if text[at] == "&":
                props["anchor"], props["anchor_span"] = anchor, Span(at, stop)
            else:
                props["tag"], props["tag_span"] = tag, Span(at, stop)
            at = self._skip_blank(stop)
        return props, at

    def _skip_blank(self, at: int) -> int:
        """The next offset that is not a blank, a line break or inside a comment."""
        text, n = self.text, len(self.text)
        while at < n:
            ch = text[at]
            if ch in _BLANK:
                at += 1
            elif ch == "#":
                m = YAML_BREAK.search(text, at)
                at = n if m is None else m.end()
            else:
                break
        return at

    def _trim_end(self, start: int, end: int) -> int:
        """A block scalar's end mark runs to the next token; stop after its last non-blank line."""
        while end > start and self.text[end - 1] in _BLANK:
            end -= 1
        return end

    def _column(self, offset: int) -> int:
        return self.source.position(offset)[1] - 1

    def _kind(self, e) -> str:
        if e.tag is not None and e.tag != "!":
            core = _CORE_TAGS.get(e.tag)
            if core is not None:
                return core
        if e.style not in (None, ""):
            return "str"
        v = e.value
        if v == "<<":
            return "merge"
        if _NULL.fullmatch(v):
            return "null"
        if _BOOL.fullmatch(v):
            return "bool"
        if _INT.fullmatch(v):
            return "int"
        if _FLOAT.fullmatch(v) and any(c.isdigit() or c in "iInN" for c in v):
            return "float"
        return "str"
