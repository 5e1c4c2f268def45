"""Text edits for Compose files: new keys in the style of their siblings, nothing re-serialised.

Every byte outside an edit stays as it is (comments, quoting, flow lists, CRLF); inserted lines
take the indentation of the keys next to them.
"""

from __future__ import annotations

import bisect
import json
import re

from aicache_lint.compose.model import (
    BLOCK,
    DOUBLE,
    FLOW,
    PLAIN,
    SINGLE,
    Alias,
    ComposeDoc,
    Mapping,
    Node,
    Scalar,
    Sequence,
)
from aicache_lint.fix import Edit
from aicache_lint.source import YAML_BREAK, SourceText

DEFAULT_INDENT = 2


def child_indent(doc: ComposeDoc) -> int:
    """How far the file indents the keys under a top-level key (from `services:`), relative to it."""
    root = doc.root
    services = root.get("services") if root is not None else None
    if isinstance(services, Mapping) and services.style == BLOCK and services.indent:
        step = services.indent - (root.indent or 0)
        if step > 0:
            return step
    return DEFAULT_INDENT


def declare_top_level_key(doc: ComposeDoc, source: SourceText, section: str, key: str) -> Edit | None:
    """Add ``key:`` (an empty entry) under the top-level ``section:`` mapping, creating the section
    at the end of the file when there is none. None when the section is not a block mapping we
    can extend (a flow mapping, an alias, a tag)."""
    root = doc.root
    if root is None or root.style != BLOCK:
        return None
    key = plain_key(key)
    pair = root.own(section)
    column = root.indent or 0  # the top-level keys may be indented too (` services:`)
    indent = column + child_indent(doc)
    if pair is None:
        return _append_section(source, f"{' ' * column}{section}", key, indent)
    value = pair.value
    if not isinstance(value, Mapping) or value.style != BLOCK or value.tag or value.anchor or not value.pairs:
        return None
    last = value.pairs[-1]
    end = max(last.key.span.end, last.value.span.end)
    return Edit.insert(source.line_end(source.line_of(end)), f"\n{' ' * (value.indent or indent)}{key}:")


def plain_key(name: str) -> str:
    """``name`` as a YAML mapping key that reads back as that string: quoted when a plain scalar
    would resolve to something else (`8000` an int, `no` a bool, `null`, `1e3`), for a volume named
    `8000` must stay a name."""
    import yaml

    try:
        plain = yaml.safe_load(f"{name}: x")
    except yaml.YAMLError:
        plain = None
    if isinstance(plain, dict) and list(plain) == [name]:
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _append_section(source: SourceText, section: str, key: str, indent: int) -> Edit:
    text = source.text
    block = f"{section}:\n{' ' * indent}{key}:"
    if not text:
        return Edit.insert(0, block + "\n")
    if source.final_newline:  # any YAML line break: a lone CR must not turn into CRLF
        return Edit.insert(len(text), block + "\n")
    return Edit.insert(len(text), "\n" + block)  # keep the file's missing final newline


# -- service keys -------------------------------------------------------------------------------
#
# ``add_service_volume`` and ``add_service_env`` add one item to a service written in ``doc``.
# They return the edits, or None when the right edit cannot be known: a service written in
# another file or shared through an alias, a flow-style service, a tagged (`!reset`/`!override`)
# or aliased value, or a value inherited through `<<` that cannot be copied (an own key would
# REPLACE the inherited one, YAML merge keys never combine lists or maps).


def add_service_volume(doc: ComposeDoc, source: SourceText, service: Mapping, item: str) -> list[Edit] | None:
    """Add the short-syntax ``item`` (`hf-cache:/data/.huggingface`) to the service's `volumes:`."""
    return _add_item(doc, source, service, "volumes", item, None)


def add_service_env(doc: ComposeDoc, source: SourceText, service: Mapping, name: str,
                    value: str) -> list[Edit] | None:
    """Add ``name=value`` to the service's `environment:` in its own form (list or map); create a
    map-form `environment:` when there is none."""
    return _add_item(doc, source, service, "environment", f"{name}={value}", (name, value))


def service_mapping(doc: ComposeDoc, name: str) -> Mapping | None:
    """The mapping that defines service ``name`` in ``doc`` (written there, not aliased), or None.

    Rules pass this one to the helpers above: a ``Project`` parses its files again, so the
    mappings in ``Service.definitions`` are other objects than the nodes of ``ComposeContext.doc``."""
    services = doc.root.get("services") if doc.root is not None else None
    if not isinstance(services, Mapping):
        return None
    entry = services.entry(name)  # a dict lookup: rules ask for every service
    if entry is None or entry.inherited or not isinstance(entry.pair.value, Mapping):
        return None
    return entry.pair.value


def _add_item(doc: ComposeDoc, source: SourceText, service: Mapping, key: str, item: str,
              env: tuple[str, str] | None) -> list[Edit] | None:
    if not _editable_service(doc, service):
        return None
    own = service.own(key)
    if own is not None:
        value = own.value
        if isinstance(value, Alias) or value.tag or _shared(doc, value):
            return None
        if isinstance(value, Sequence):
            return _append_to_sequence(source, value, item)
        if isinstance(value, Mapping) and env is not None:
            return append_to_mapping(source, value, *env)
        if isinstance(value, Scalar) and value.is_null and value.span.start == value.span.end:
            # `volumes:` with nothing after it (a comment at most): give it a first item.
            indent = _child_column(doc, service, key)
            at = source.line_end(source.line_of(own.key.span.end))
            return [Edit.insert(at, "\n" + _first_item(indent, item, env, key))]
        return None
    entry = service.entry(key)
    inherited: list[str] = []
    if entry is not None:
        if not entry.inherited:  # pragma: no cover - an own key is found above
            return None
        inherited_lines = _copy_inherited(source, entry.value, env is not None)
        if inherited_lines is None:
            return None
        inherited = inherited_lines
    last = service.pairs[-1]
    at = source.line_end(source.line_of(max(last.key.span.end, last.value.span.end)))
    indent = service.indent or 0
    child = _child_column(doc, service, key)
    body = [" " * child + line for line in inherited]
    if entry is not None and isinstance(entry.value, Sequence):
        # the copied items are `- …` list items: the new one follows their form and column
        child = _child_column(doc, service, "volumes")
        body = [" " * child + line for line in inherited]
        body.append(f"{' ' * child}- {scalar(item, _sibling_style(entry.value.items))}")
    else:
        body.append(_first_item(child, item, env, key))
    return [Edit.insert(at, f"\n{' ' * indent}{key}:\n" + "\n".join(body))]


def _editable_service(doc: ComposeDoc, service: Mapping) -> bool:
    """``service`` is a block mapping written under `services:` in ``doc`` and no alias shares it."""
    root = doc.root
    if root is None or service.style != BLOCK or not service.pairs or service.indent is None:
        return False
    services = root.get("services")
    if not isinstance(services, Mapping):
        return False
    # The pair written just before the service's content (pairs are in file order; scanning them
    # all for every fix made fixing quadratic in the number of services).
    i = bisect.bisect_right(services.pairs, service.span.start, key=lambda p: p.key.span.start) - 1
    if i < 0 or services.pairs[i].value is not service or services.pairs[i].is_merge:
        return False
    return not _shared(doc, service)


def _shared(doc: ComposeDoc, node: Node) -> bool:
    """An anchored node that some alias (or `<<`) refers to: editing it would edit them too."""
    if node.anchor is None:
        return False
    return any(isinstance(n, Alias) and n.anchored is node for n in doc.walk())


def _child_column(doc: ComposeDoc, service: Mapping, key: str) -> int:
    """Column of the items of a new block list (`volumes`) or map (`environment`) under ``service``."""
    base = service.indent or 0
    if key == "environment":
        return base + _mapping_step(doc, service)
    step = _mapping_step(doc, service)
    return base + (step if doc.list_offset is None else doc.list_offset)


def _mapping_step(doc: ComposeDoc, service: Mapping) -> int:
    services = doc.root.get("services") if doc.root is not None else None
    if isinstance(services, Mapping) and services.indent is not None and service.indent is not None:
        step = service.indent - services.indent
        if step > 0:
            return step
    return DEFAULT_INDENT


def _first_item(column: int, item: str, env: tuple[str, str] | None, key: str) -> str:
    if key == "environment" and env is not None:
        name, value = env
        return f"{' ' * column}{scalar(name)}: {scalar(value)}"
    return f"{' ' * column}- {scalar(item)}"


def _append_to_sequence(source: SourceText, seq: Sequence, item: str) -> list[Edit] | None:
    style = _sibling_style(seq.items)
    text = scalar(item, style)
    if seq.style == FLOW:
        if not seq.items:
            close = seq.span.end - 1
            if source.text[close] != "]":  # pragma: no cover - a flow sequence ends with `]`
                return None
            return [Edit.insert(close, text)]
        return [Edit.insert(seq.items[-1].span.end, f", {text}")]
    if seq.indent is None or not seq.items:
        return None
    at = source.line_end(source.line_of(seq.span.end))
    return [Edit.insert(at, f"\n{' ' * seq.indent}- {text}")]


def append_to_mapping(source: SourceText, mapping: Mapping, name: str,
                      value: str, plain_in_block: bool = False) -> list[Edit] | None:
    """Add ``name: value`` after the last entry of ``mapping``, in its style (block or flow) and
    its siblings' quoting; None when it cannot be done as a plain insertion. With
    ``plain_in_block``, a value a block mapping reads back unquoted (`type=gha,mode=max`: commas
    and braces end a plain scalar only in flow style) is written so."""
    if any(p.is_merge for p in mapping.pairs):
        return None  # `<<` inside environment: keep it simple, report only
    style = _sibling_style([p.value for p in mapping.pairs])
    written = block_value(value) if plain_in_block and mapping.style != FLOW and style == PLAIN \
        else scalar(value, style)
    entry = f"{scalar(name)}: {written}"
    if mapping.style == FLOW:
        if not mapping.pairs:
            close = mapping.span.end - 1
            if source.text[close] != "}":  # pragma: no cover
                return None
            return [Edit.insert(close, entry)]
        last = mapping.pairs[-1]
        return [Edit.insert(max(last.key.span.end, last.value.span.end), f", {entry}")]
    if mapping.indent is None or not mapping.pairs:
        return None
    last = mapping.pairs[-1]
    at = source.line_end(source.line_of(max(last.key.span.end, last.value.span.end)))
    return [Edit.insert(at, f"\n{' ' * mapping.indent}{entry}")]


def _copy_inherited(source: SourceText, node: Node, is_env: bool) -> list[str] | None:
    """Lines (without indentation) that repeat an inherited list or env map in an own block value;
    None when an item cannot be copied as one line (a block mapping, a multi-line scalar)."""
    text = source.text
    lines: list[str] = []
    if node.tag:
        return None
    if isinstance(node, Sequence):
        for item in node.items:
            span = item.full_span
            piece = text[span.start:span.end]
            if isinstance(item.target, Mapping) and item.target.style == BLOCK or YAML_BREAK.search(piece):
                return None
            lines.append(f"- {piece}")
        return lines
    if isinstance(node, Mapping) and is_env:
        for pair in node.pairs:
            if pair.is_merge:
                return None
            span = pair.span
            piece = text[span.start:span.end]
            if YAML_BREAK.search(piece) or isinstance(pair.value.target, (Mapping, Sequence)):
                return None
            lines.append(piece)
        return lines
    return None


def _sibling_style(nodes: list[Node]) -> str:
    """SINGLE or DOUBLE when every sibling scalar is written so; else PLAIN."""
    styles = {n.style for n in nodes if isinstance(n, Scalar) and not n.is_null}
    if len(styles) == 1 and next(iter(styles)) in (SINGLE, DOUBLE):
        return next(iter(styles))
    return PLAIN


_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./~$][A-Za-z0-9_./~$:=@%+\-]*")
_NOT_STRINGS = re.compile(
    r"~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[-+]?[0-9][0-9_:.eE+\-]*|[-+]?\.[0-9].*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|0[xob].*"
)


def scalar(text: str, style: str = PLAIN) -> str:
    """``text`` written as a YAML string scalar: plain when YAML (1.1 or 1.2) reads it back as that
    same string, else quoted (in ``style`` when the siblings are quoted, double quotes otherwise)."""
    if style == SINGLE and not YAML_BREAK.search(text):
        return "'" + text.replace("'", "''") + "'"
    if style == DOUBLE:
        return _double_quoted(text)
    if text and _PLAIN_SAFE.fullmatch(text) and not _NOT_STRINGS.fullmatch(text) \
            and not text.endswith(":"):
        return text
    return _double_quoted(text)


def block_value(text: str) -> str:
    """``text`` as the value of a block mapping's key: unquoted when it reads back as itself
    there (commas and braces end a plain scalar only in flow style), else as ``scalar`` writes it."""
    import yaml

    if text and text == text.strip() and not YAML_BREAK.search(text) and text[0] not in "[]{},#&*!|>'\"%@`":
        try:
            if yaml.safe_load(f"k: {text}\n") == {"k": text}:
                return text
        except yaml.YAMLError:
            pass
    return scalar(text)


# YAML folds NEL, LS and PS written raw in a quoted scalar like any line break; its escapes keep them.
_BREAK_ESCAPES = str.maketrans({"\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"})


def _double_quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).translate(_BREAK_ESCAPES)


def merge_inserts(edits: list[Edit]) -> list[Edit]:
    """Join insertions at one offset into one edit, in the order given (a `Fix` refuses two
    insertions at the same point: a new service key and a new top-level section both land at
    the end of a file without a final newline)."""
    out: list[Edit] = []
    for e in edits:
        same = next((i for i, o in enumerate(out) if o.start == o.end == e.start == e.end), None)
        if same is None:
            out.append(e)
        else:
            out[same] = Edit.insert(e.start, out[same].content + e.content)
    return out
