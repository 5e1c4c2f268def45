"""The image-reference and CUDA tag models, the tag table format, and FROM/ARG tracing."""

from __future__ import annotations

import pytest

from aicache_lint.dockerfile.lexer import parse
from aicache_lint.dockerfile.references import trace_from
from aicache_lint.fix import Edit
from aicache_lint.images.cuda import TagTable, dump_table, load_table_text, parse_tag
from aicache_lint.images.reference import parse_reference
from aicache_lint.knowledge.cuda_tag_fix import (
    FileContext,
    TagSource,
    choose,
    tag_changes,
)
from aicache_lint.source import SourceText

# -- image references ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference, registry, repository, tag, digest",
    [
        ("python", "docker.io", "library/python", None, None),
        ("python:3.12-slim", "docker.io", "library/python", "3.12-slim", None),
        ("docker.io/library/python:3.12", "docker.io", "library/python", "3.12", None),
        ("index.docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04", "docker.io", "nvidia/cuda", "12.4.1-base-ubuntu22.04", None),
        ("nvcr.io/nvidia/cuda:12.4.1-base-ubi9", "nvcr.io", "nvidia/cuda", "12.4.1-base-ubi9", None),
        ("localhost/app", "localhost", "app", None, None),
        ("registry.example.com:5000/team/base:1.0", "registry.example.com:5000", "team/base", "1.0", None),
        ("ghcr.io/org/app@sha256:" + "a" * 64, "ghcr.io", "org/app", None, "sha256:" + "a" * 64),
    ],
)
def test_parse_reference(reference, registry, repository, tag, digest) -> None:
    image = parse_reference(reference)
    assert (image.registry, image.repository, image.tag, image.digest) == (registry, repository, tag, digest)
    assert image.pinned == (digest is not None)


@pytest.mark.parametrize("reference", ["scratch", "Python:3", "python:", "app@", "a//b", "python:bad tag"])
def test_parse_reference_rejects(reference) -> None:
    assert parse_reference(reference) is None


# -- CUDA tags ----------------------------------------------------------------------------------


def test_parse_tag_parts_and_spans() -> None:
    tag = parse_tag("12.4.1-cudnn-runtime-ubuntu22.04")
    assert (tag.version, tag.cudnn, tag.flavor, tag.os, tag.is_full, tag.variant) == (
        (12, 4, 1), "cudnn", "runtime", "ubuntu22.04", True, "cudnn-runtime")
    assert tag.spans == {"version": (0, 6), "cudnn": (7, 12), "flavor": (13, 20), "os": (21, 32)}
    short = parse_tag("11.0-base")
    assert (short.version, short.flavor, short.os, short.is_full) == ((11, 0), "base", None, False)
    assert parse_tag("runtime") is None and parse_tag("12") is None and parse_tag("13.0.0-tensorrt-devel-ubuntu24.04") is None


SOURCE = TagSource(
    frozenset({"12.4.1-runtime-ubuntu22.04", "12.4.1-runtime-ubi9", "12.4.0-runtime-ubuntu22.04",
               "12.4.1-cudnn-runtime-ubuntu22.04", "12.6.3-runtime-ubuntu24.04", "12.6.3-runtime-ubuntu22.04",
               "12.2.2-cudnn8-devel-ubuntu22.04"}),
    frozenset({"12.4.0-runtime-ubuntu20.04"}), "test table", False,
)
NONE = FileContext(None, None)


@pytest.mark.parametrize(
    "tag, context, defaults, expected",
    [
        (None, NONE, FileContext("runtime", "ubuntu24.04"), "12.6.3-runtime-ubuntu24.04"),
        (None, FileContext("runtime", "ubi9"), FileContext("runtime", "ubuntu24.04"), "12.4.1-runtime-ubi9"),
        ("12.4-runtime", NONE, FileContext("runtime", "ubuntu24.04"), "12.4.1-runtime-ubuntu22.04"),
        ("12.4.0-runtime", NONE, FileContext("runtime", "ubuntu24.04"), "12.4.0-runtime-ubuntu22.04"),
        ("12.4.0-runtime-ubuntu20.04", NONE, NONE, None),  # no 12.4 image for that OS is published
        ("12.4.1", FileContext("cudnn-runtime", None), FileContext("runtime", "ubuntu24.04"), "12.4.1-cudnn-runtime-ubuntu22.04"),
        ("12.2-cudnn-devel", NONE, FileContext("runtime", "ubuntu24.04"), "12.2.2-cudnn8-devel-ubuntu22.04"),
        ("12.9-runtime", NONE, FileContext("runtime", "ubuntu24.04"), None),
    ],
)
def test_choose(tag, context, defaults, expected) -> None:
    parsed = parse_tag(tag) if tag else None
    found = choose(parsed, SOURCE, context, defaults)
    assert (found.text if found else None) == expected


def test_tag_changes_are_minimal() -> None:
    def changes(old: str, new: str):
        return tag_changes(parse_tag(old), parse_tag(new))

    assert changes("12.4-runtime", "12.4.1-runtime-ubuntu22.04") == [(4, 4, ".1"), (12, 12, "-ubuntu22.04")]
    assert changes("12.4.0-runtime-ubuntu20.04", "12.4.1-runtime-ubuntu20.04") == [(5, 6, "1")]
    assert changes("12.4.1-cudnn8-runtime-ubuntu22.04", "12.4.1-cudnn-runtime-ubuntu22.04") == [(12, 13, "")]
    assert changes("12.4.1", "12.4.1-runtime-ubuntu22.04") == [(6, 6, "-runtime-ubuntu22.04")]


# -- the table format ---------------------------------------------------------------------------


def test_table_round_trip() -> None:
    table = TagTable("2026-11-28", "here", frozenset({"12.4.1-base-ubi9"}), frozenset({"12.4.0-base-ubi9"}),
                     frozenset({"11.7.0-base-ubi8"}))
    text = dump_table(table)
    assert text.splitlines()[-3:] == ["12.4.1-base-ubi9\tsupported", "12.4.0-base-ubi9\tunsupported",
                                      "11.7.0-base-ubi8\tremoved"]
    assert load_table_text(text) == table
    assert table.description == "aicache-lint's nvidia/cuda tag table of 2026-11-28"


def test_table_rejects_bad_rows() -> None:
    with pytest.raises(ValueError, match="line 3"):
        load_table_text("# date: x\ntag\tstatus\n12.4.1-base-ubi9\tmaybe\n")
    with pytest.raises(ValueError, match="header"):
        load_table_text("12.4.1-base-ubi9\tsupported\n")


# -- FROM / ARG tracing -------------------------------------------------------------------------


def _trace(text: str, index: int = 0):
    doc = parse(SourceText(text))
    froms = [i for i in doc.instructions if i.keyword == "FROM"]
    return trace_from(doc, froms[index])


def test_trace_maps_arg_defaults_and_literals() -> None:
    text = "ARG CUDA=12.4\nARG OS=ubuntu22.04\nFROM nvidia/cuda:${CUDA}-runtime-$OS AS run\n"
    trace = _trace(text)
    assert trace.text == "nvidia/cuda:12.4-runtime-ubuntu22.04"
    assert [(p.text, p.arg) for p in trace.pieces] == [
        ("nvidia/cuda:", None), ("12.4", "CUDA"), ("-runtime-", None), ("ubuntu22.04", "OS")]
    assert trace.args == {"CUDA", "OS"}
    # An insertion after the version extends the ARG default; one at the end extends the OS default.
    edits = trace.edits([(16, 16, ".1")])
    assert edits == [Edit(text.index("12.4") + 4, text.index("12.4") + 4, ".1")]
    end = len(trace.text)
    assert trace.edits([(end, end, "@sha256:x")]) == [Edit(text.index("ubuntu22.04") + 11, text.index("ubuntu22.04") + 11, "@sha256:x")]
    # A change that crosses from the ARG into the FROM line cannot be written.
    assert trace.edits([(14, 18, "x")]) is None


@pytest.mark.parametrize(
    "text",
    [
        'ARG CUDA="12.4"\nFROM nvidia/cuda:${CUDA}-runtime\n',  # quoted default
        "FROM nvidia/cuda:${CUDA:-12.4}-runtime\n",  # a default inside the FROM
        "ARG CUDA\nFROM nvidia/cuda:${CUDA}-runtime\n",  # no default
        "ARG A=1\nARG CUDA=$A\nFROM nvidia/cuda:${CUDA}\n",  # built from another variable
        "FROM nvidia/cuda:${CUDA}\nARG CUDA=12.4\n",  # a stage ARG, not a global one
    ],
)
def test_trace_refuses_what_is_not_verbatim(text) -> None:
    assert _trace(text) is None


def test_trace_last_global_default_wins() -> None:
    trace = _trace("ARG CUDA=12.1\nARG CUDA=12.4\nFROM nvidia/cuda:${CUDA}\n")
    assert trace.text == "nvidia/cuda:12.4"


# -- every fix writes a published tag -----------------------------------------------------------


def _shortened(tag: str) -> list[str]:
    """Partial forms a Dockerfile may hold for ``tag``: no OS, no patch, neither."""
    parsed = parse_tag(tag)
    minor = ".".join(str(v) for v in parsed.minor)
    variant = f"{parsed.cudnn}-{parsed.flavor}" if parsed.cudnn else parsed.flavor
    return [f"{parsed.text.rsplit('-', 1)[0]}", f"{minor}-{variant}-{parsed.os}", f"{minor}-{variant}"]


def test_fixes_only_ever_write_published_tags() -> None:
    """A deterministic sample of the bundled table: shortened tags are completed to a published tag
    of the same minor version, cuDNN and flavor (and OS, when it was written)."""
    from aicache_lint.api import fix_text
    from aicache_lint.images.cuda import bundled_table
    from aicache_lint.settings import Settings

    table = bundled_table()
    settings = Settings(select=("AIC303",), unsafe_fixes=True)
    full = sorted(t for t in table.published if parse_tag(t) and parse_tag(t).is_full)
    for tag in full[:: max(1, len(full) // 300)]:
        for short in _shortened(tag):
            fixed = fix_text(f"FROM nvidia/cuda:{short}\n", settings=settings).source.text
            new = parse_tag(fixed.strip().removeprefix("FROM nvidia/cuda:"))
            assert new is not None and new.text in table.published, (short, fixed)
            old = parse_tag(short)
            assert (new.minor, bool(new.cudnn), new.flavor) == (old.minor, bool(old.cudnn), old.flavor), (short, fixed)
            assert old.os is None or new.os == old.os, (short, fixed)


# -- property: an edit through the trace changes exactly the expanded reference ----------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PLAIN = st.from_regex(r"[a-z0-9][a-z0-9._:/-]{0,5}", fullmatch=True)  # a `-` first would read as a flag


@st.composite
def _reference_and_change(draw):
    """A FROM reference of literal runs and ``${ARG}``s (each ARG at most once), its expansion, and
    one change (start, end, new text) to that expansion."""
    names = draw(st.lists(st.sampled_from(["A", "B", "CUDA", "OS"]), unique=True, max_size=3))
    values = {name: draw(_PLAIN) for name in names}
    order = draw(st.permutations(names)) if names else []
    used = order[: draw(st.integers(0, len(order)))]
    pieces = [("lit", draw(_PLAIN))] + [("arg", n) for n in used]
    pieces = draw(st.permutations(pieces))
    raw = "".join(f"${{{text}}}" if kind == "arg" else text for kind, text in pieces)
    expanded = "".join(values[text] if kind == "arg" else text for kind, text in pieces)
    start = draw(st.integers(0, len(expanded)))
    end = draw(st.integers(start, min(len(expanded), start + 3)))
    new = draw(st.text(alphabet="0123456789.-", max_size=3))
    result = expanded[:start] + new + expanded[end:]
    if not result or result.startswith("-"):
        new = "x" + new  # an empty reference, or one read as a `--flag`, is not a FROM any more
    header = "".join(f"ARG {name}={values[name]}\n" for name in names)
    return header + f"FROM {raw} AS s\n", expanded, (start, end, new)


@settings(max_examples=300, deadline=None)
@given(_reference_and_change())
def test_trace_edits_change_exactly_the_expanded_reference(case) -> None:
    from aicache_lint.dockerfile.facts import Facts
    from aicache_lint.fix import apply_edits

    text, expanded, (start, end, new) = case
    trace = _trace(text)
    assert trace is not None and trace.text == expanded
    edits = trace.edits([(start, end, new)])
    if edits is None:  # a change that spans two sources: refused, never half-applied
        return
    fixed = apply_edits(text, edits, "\n")
    doc = parse(SourceText(fixed))
    assert Facts(doc).stages[0].base == expanded[:start] + new + expanded[end:]
