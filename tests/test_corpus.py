"""The realistic corpus (``tests/corpus/*.Dockerfile``) and the example stack (``examples/``).

Every file is read as bytes and decoded with ``SourceText.decode``, then:

* our lexer agrees with BuildKit's own parser (skipped when the ``dockerfile`` package is missing)
  and reports no parse error;
* all ``AIC`` rules with unsafe fixes converge: no internal error, the result parses (for BuildKit
  too), a second fix changes nothing, BOM / final newline / CRLF are kept, and the instruction
  list only gains inserted ``ENV`` lines;
* the fixes touch only what their edits name: every changed line lies in a ``RUN`` that had a
  finding (or next to an inserted ``ENV`` line), every other instruction and every comment line is
  byte-identical. One documented exception: AIC102's unsafe fix removes an inherited
  ``PIP_NO_CACHE_DIR`` / ``UV_NO_CACHE`` from its ``ENV`` (exactly that pair, nothing else);
* the findings of the default selection on the corpus match ``tests/corpus/expected-findings.txt``.

Regenerate the snapshot after reviewing every new finding by hand (``aicache-lint rule CODE``)::

    PYTHONPATH=src:tests python tests/test_corpus.py

``# KNOWN-BUG: <file>:<line>:<col>: <CODE> -- why`` lines in the snapshot's header name findings
that are wrong; they are left out of the comparison and kept when regenerating.
"""

from __future__ import annotations

import difflib
import re
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from buildkit_oracle import assert_matches_buildkit, available

from aicache_lint.dockerfile.lexer import parse
from aicache_lint.dockerfile.model import Dockerfile, Instruction
from aicache_lint.dockerfile.words import key_values
from aicache_lint.engine import check_source, fix_source
from aicache_lint.finding import Finding
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CORPUS = TESTS / "corpus"
EXAMPLES = ROOT / "examples"
SNAPSHOT = CORPUS / "expected-findings.txt"

ALL_AIC_UNSAFE = Settings(unsafe_fixes=True, select=("AIC",))
# Rules whose fixes add, move or rename whole instructions or comment lines (a docker-clean RUN,
# a manifest COPY and a moved RUN, a syntax directive, a renamed ENV key, another base tag, a
# removed suppression): the round trip covers them; the instruction-by-instruction checks below
# use the rules that only edit inside RUN instructions or add/remove single ENV pairs.
RESHAPING = ("AIC002", "AIC110", "AIC112", "AIC130", "AIC131", "AIC203", "AIC301", "AIC304")
IN_PLACE_UNSAFE = Settings(unsafe_fixes=True, select=("AIC",), ignore=RESHAPING)
NO_CACHE_VARS = ("PIP_NO_CACHE_DIR", "UV_NO_CACHE")  # what AIC102 may remove from an ENV
INSERTED_ENV = re.compile(r"(?i:env)[ \t]+[A-Za-z_][A-Za-z0-9_]*=\S*")  # one `ENV KEY=value` line
# A directory a non-root user's cache mount needs, created as that user first (DOMAIN §11.1).
INSERTED_MKDIR = re.compile(r"[ \t]*(?i:run)[ \t]+mkdir -p /\S+")


def _mkdirs(doc, source: SourceText) -> int:
    return sum(1 for i in doc.instructions if INSERTED_MKDIR.fullmatch(instruction_text(source, i)))


def _kept(doc, source: SourceText) -> list[Instruction]:
    """The instructions a fix may not add or remove: all but ENV and inserted `RUN mkdir -p` lines."""
    return [i for i in doc.instructions if i.keyword != "ENV" and not INSERTED_MKDIR.fullmatch(instruction_text(source, i))]

needs_oracle = pytest.mark.skipif(not available(), reason="the `dockerfile` package (BuildKit's parser) is not installed")


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.Dockerfile"))


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("**/Dockerfile*") if p.is_file())


FILES = corpus_files() + example_files()
IDS = [str(p.relative_to(ROOT if p.is_relative_to(EXAMPLES) else TESTS)) for p in FILES]


def load(path: Path) -> SourceText:
    return SourceText.decode(path.read_bytes(), path.name)


def as_read(source: SourceText) -> str:
    """The decoded file as BuildKit reads it: BOM included."""
    return ("\ufeff" if source.bom else "") + source.text


def instruction_text(source: SourceText, ins: Instruction) -> str:
    return source.text[ins.span.start : ins.span.end]


def kind(ins: Instruction) -> tuple[str, str | None]:
    """The keyword, with the wrapped keyword for ONBUILD."""
    return ins.keyword, ins.inner.keyword if ins.inner is not None else None


def is_run(ins: Instruction) -> bool:
    return (ins.inner or ins).keyword == "RUN"


def lines_of(text: str) -> list[str]:
    """Lines with their line ends (split on LF only), so that a changed CR or LF is a changed line."""
    lines = re.split(r"(?<=\n)", text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def env_pairs(ins: Instruction, escape: str) -> list[tuple[str, str | None]]:
    return [(kv.key, kv.raw_value) for kv in key_values(ins.args, "ENV", escape)]


# -- parsing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_parses_without_errors(path: Path) -> None:
    source = load(path)
    doc = parse(source)
    assert not doc.errors, [e.message for e in doc.errors]
    assert doc.instructions


@needs_oracle
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_lexer_matches_buildkit(path: Path) -> None:
    assert_matches_buildkit(as_read(load(path)))


# -- fixing -----------------------------------------------------------------------------------------


@dataclass
class Fixed:
    source: SourceText
    doc: Dockerfile
    fixed: SourceText
    fixed_doc: Dockerfile
    findings: list[Finding]  # of the original, under ALL_AIC_UNSAFE
    applied_codes: list[str]


def fix(path: Path, settings: Settings = IN_PLACE_UNSAFE) -> Fixed:
    source = load(path)
    result = fix_source(source, settings)
    internal = [f.message for f in result.findings if f.code == "AIC000"]
    assert not internal, internal
    return Fixed(
        source,
        parse(source),
        result.source,
        parse(result.source),
        check_source(source, settings),
        [code for code, _ in result.applied],
    )


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_fix_converges_and_keeps_layout(path: Path) -> None:
    everything = fix(path, ALL_AIC_UNSAFE)
    # Every rule at once: the result parses, for us and for BuildKit, and is a fixed point.
    assert not everything.fixed_doc.errors, [e.message for e in everything.fixed_doc.errors]
    if available():
        assert_matches_buildkit(as_read(everything.fixed))
    again = fix_source(everything.fixed, ALL_AIC_UNSAFE)
    assert not again.changed, [f"{code}: {fx.title}" for code, fx in again.applied]
    for r in (everything, fix(path)):
        _assert_layout(r)
    r = fix(path)
    # Same instructions, in the same order, except for ENV lines inserted (or, by AIC102's unsafe
    # fix, an ENV that only set PIP_NO_CACHE_DIR / UV_NO_CACHE removed) and `RUN mkdir -p` lines.
    old = [kind(i) for i in _kept(r.doc, r.source)]
    new = [kind(i) for i in _kept(r.fixed_doc, r.fixed)]
    assert new == old, f"the instructions other than ENV changed:\nbefore {old}\nafter  {new}"
    envs = match_envs(r)
    assert not envs.unexplained, f"ENV instructions changed: {envs.unexplained}"
    removed = sum(1 for _, kept in envs.edited if kept is None)
    mkdirs = _mkdirs(r.fixed_doc, r.fixed) - _mkdirs(r.doc, r.source)
    assert len(r.fixed_doc.instructions) == len(r.doc.instructions) + len(envs.inserted) - removed + mkdirs


def _assert_layout(r: Fixed) -> None:
    """BOM, final newline and newline style survive every fix."""
    before, after = r.source, r.fixed
    assert after.bom == before.bom
    assert after.final_newline == before.final_newline
    assert after.newline == before.newline
    if "\r" not in before.text:
        assert "\r" not in after.text, "a fix wrote a CR into an LF file"
    if before.text.count("\r\n") == before.text.count("\n") > 0:
        assert after.text.count("\r\n") == after.text.count("\n"), "a fix wrote a bare LF into a CRLF file"


@dataclass
class EnvMatch:
    edited: list[tuple[Instruction, Instruction | None]]  # (original, what is left of it) by AIC102
    inserted: list[Instruction]  # new single-line `ENV KEY=value` instructions
    unexplained: list[str]  # anything else: a failure


def match_envs(r: Fixed) -> EnvMatch:
    """Pair the ENV instructions of the original and the fixed file. Each original ENV is still
    there byte-identical, or AIC102 removed exactly its PIP_NO_CACHE_DIR / UV_NO_CACHE pair (the
    whole ENV when nothing else is left); every other ENV of the fixed file is one inserted line."""
    escape = r.doc.escape
    leftover = [i for i in r.fixed_doc.instructions if i.keyword == "ENV"]
    changed: list[Instruction] = []
    for ins in (i for i in r.doc.instructions if i.keyword == "ENV"):
        text = instruction_text(r.source, ins)
        same = next((i for i in leftover if instruction_text(r.fixed, i) == text), None)
        if same is not None:
            leftover.remove(same)
        else:
            changed.append(ins)
    match = EnvMatch([], [], [])
    for ins in changed:
        text = instruction_text(r.source, ins)
        pairs = env_pairs(ins, escape)
        kept = [p for p in pairs if p[0] not in NO_CACHE_VARS]
        if "AIC102" not in r.applied_codes or len(kept) == len(pairs):
            match.unexplained.append(f"line {ins.start_line}: a fix changed an ENV: {text!r}")
            continue
        rest = next((i for i in leftover if env_pairs(i, escape) == kept), None) if kept else None
        if kept and rest is None:
            match.unexplained.append(f"line {ins.start_line}: the ENV lost more than its {NO_CACHE_VARS} pair: {text!r}")
            continue
        if rest is not None:
            leftover.remove(rest)
        match.edited.append((ins, rest))
    for ins in leftover:
        text = instruction_text(r.fixed, ins)
        if INSERTED_ENV.fullmatch(text):
            match.inserted.append(ins)
        else:
            match.unexplained.append(f"unexpected new ENV instruction: {text!r}")
    return match


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_fix_changes_only_flagged_runs(path: Path) -> None:
    r = fix(path)
    if r.fixed.text == r.source.text:
        assert not r.applied_codes
        return
    flagged_runs = {
        id(ins)
        for ins in r.doc.instructions
        if is_run(ins) and any(ins.start_line <= f.start.row <= ins.end_line for f in r.findings)
    }
    # The CUDA-base rules edit a flagged FROM, or the global ARG default its image comes from.
    flagged_froms = [ins for ins in r.doc.instructions
                     if ins.keyword == "FROM" and any(ins.start_line == f.start.row for f in r.findings)]
    variables = {m for ins in flagged_froms for m in re.findall(r"\$\{?(\w+)", instruction_text(r.source, ins))}
    first_from = next((i for i, ins in enumerate(r.doc.instructions) if ins.keyword == "FROM"), 0)
    global_args = [ins for ins in r.doc.instructions[:first_from]
                   if ins.keyword == "ARG" and any(re.match(rf"ARG\s+{v}\b", instruction_text(r.source, ins))
                                                   for v in variables)]
    flagged_runs |= {id(ins) for ins in flagged_froms + global_args}

    # 1. Instruction by instruction. Non-ENV instructions pair up in order (same keywords, asserted
    #    above); ENV instructions are matched separately.
    old = _kept(r.doc, r.source)
    new = _kept(r.fixed_doc, r.fixed)
    assert [kind(i) for i in new] == [kind(i) for i in old], "the instructions other than ENV changed"
    for a, b in zip(old, new):
        before, after = instruction_text(r.source, a), instruction_text(r.fixed, b)
        if before == after:
            continue
        assert id(a) in flagged_runs, (
            f"line {a.start_line}: a fix changed a {a.keyword} that had no finding:\n{before}\n---\n{after}")

    envs = match_envs(r)
    assert not envs.unexplained, envs.unexplained
    edited_env_lines: set[int] = set()  # 0-based original lines of the ENVs AIC102 edited
    for ins, _ in envs.edited:
        edited_env_lines.update(range(ins.start_line - 1, ins.end_line))

    # 2. Line by line: every changed original line is inside a flagged RUN (or an ENV AIC102
    #    edited), or next to an inserted ENV line; comment lines never change.
    allowed: set[int] = set(edited_env_lines)
    for ins in r.doc.instructions:
        if id(ins) in flagged_runs:
            allowed.update(range(ins.start_line - 1, ins.end_line))
    a, b = lines_of(r.source.text), lines_of(r.fixed.text)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    unchanged: set[int] = set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            unchanged.update(range(i1, i2))
            continue
        env_inserted = any(INSERTED_ENV.fullmatch(line.rstrip("\r\n")) or INSERTED_MKDIR.fullmatch(line.rstrip("\r\n"))
                           for line in b[j1:j2])
        for i in range(i1, i2):
            near_env = env_inserted and i in (i1, i2 - 1)
            assert i in allowed or near_env, (
                f"line {i + 1} changed outside any flagged RUN: {a[i]!r} -> {''.join(b[j1:j2])!r}"
            )
    source = r.source
    for span in r.doc.comments:
        line = source.line_of(span.start) - 1
        assert line in unchanged, f"comment line {line + 1} changed: {source.line_text(line + 1)!r}"
    assert Counter(source.text[s.start : s.end] for s in r.doc.comments) == Counter(
        r.fixed.text[s.start : s.end] for s in r.fixed_doc.comments
    ), "the comment lines differ"


# -- findings snapshot ------------------------------------------------------------------------------

HEADER = """\
# Findings of the default rule selection on every file of tests/corpus/, one per line:
# file:line:col: CODE. Each was reviewed by hand against DOMAIN.md and the rule's docs.
# Regenerate after reviewing new findings: PYTHONPATH=src:tests python tests/test_corpus.py
# A `# KNOWN-BUG: <entry> -- why` line names a wrong finding: it is left out below and kept
# when regenerating.
"""
KNOWN_BUG = re.compile(r"#\s*KNOWN-BUG:\s*(\S+:\d+:\d+: AIC\d{3})\b")


def snapshot_entries(path: Path) -> list[str]:
    source = load(path)
    return [f"{path.name}:{f.start.row}:{f.start.column}: {f.code}" for f in check_source(source, Settings())]


def _sort_key(entry: str) -> tuple:
    name, line, col, code = re.fullmatch(r"(.+):(\d+):(\d+): (\S+)", entry).groups()  # type: ignore[union-attr]
    return name, int(line), int(col), code


def actual_snapshot() -> list[str]:
    return sorted((e for p in corpus_files() for e in snapshot_entries(p)), key=_sort_key)


def read_snapshot(path: Path = SNAPSHOT) -> tuple[list[str], list[str], str]:
    """(entries, known-bug entries, the leading comment block verbatim)."""
    entries, known, header = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            m = KNOWN_BUG.match(line)
            if m:
                known.append(m.group(1))
            if not entries:
                header.append(line + "\n")
        elif line.strip():
            entries.append(line.strip())
    return entries, known, "".join(header)


def write_snapshot(path: Path = SNAPSHOT) -> list[str]:
    """Rewrite the entries; the header comment block (with its KNOWN-BUG notes) is kept as is."""
    known, header = ([], HEADER) if not path.exists() else read_snapshot(path)[1:]
    entries = [e for e in actual_snapshot() if e not in known]
    path.write_text((header or HEADER) + "".join(e + "\n" for e in entries), encoding="utf-8")
    return entries


def test_findings_snapshot() -> None:
    expected, known, _ = read_snapshot()
    actual = actual_snapshot()
    stale = [k for k in known if k not in actual]
    if stale:
        warnings.warn(f"KNOWN-BUG entries no longer reported (remove them from the header): {stale}", stacklevel=1)
    actual = [e for e in actual if e not in known]
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(expected, actual, "expected-findings.txt", "actual", lineterm=""))
        pytest.fail(
            "the findings on tests/corpus changed. Review each new line by hand (`aicache-lint rule CODE`), "
            "then regenerate with `PYTHONPATH=src:tests python tests/test_corpus.py`:\n" + diff,
            pytrace=False,
        )


def test_snapshot_is_sorted_and_unique() -> None:
    expected, known, _ = read_snapshot()
    assert expected == sorted(set(expected), key=_sort_key)
    assert not set(expected) & set(known)


if __name__ == "__main__":
    written = write_snapshot()
    print(f"wrote {len(written)} findings to {SNAPSHOT.relative_to(ROOT)}", file=sys.stderr)
