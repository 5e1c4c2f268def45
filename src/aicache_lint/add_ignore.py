"""``--add-ignore``: the suppression comments that make a file lint clean, as text edits.

1. Stale suppressions go first -- what AIC002 reports: unused or unknown codes (its own fix), and
   comments that are not above an instruction or key and so apply to nothing (the line goes) -- so
   that no code is merged into a comment that already fails.
2. Each finding gets ``# aicache-lint: ignore=CODES REASON`` on a new line directly above the
   instruction (Dockerfile) or the innermost key or list item (Compose) that holds it, indented like
   it; when a suppression with codes is already there, the missing codes are appended to it.
3. A finding no instruction or key holds (a misplaced ``# syntax=`` comment, the start of the file),
   or one that the comment line inserted above its instruction would leave outside it, is silenced
   for the whole file: ``# aicache-lint: ignore-file=CODES REASON`` directly above the first
   instruction or key -- so below the parser directives, which BuildKit reads only in the unbroken
   block at the top (a comment line ends that block) -- or merged into an ``ignore-file`` already
   there. Whether a finding stays covered is checked by linting the result, not predicted.

Internal, parse and read errors are never suppressed; a file that does not parse is left as it is,
since where its instructions or keys are cannot be known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from aicache_lint import suppress
from aicache_lint.engine import check_source, internal_error, parse_file
from aicache_lint.fix import Edit, Fix, apply_edits, apply_fixes
from aicache_lint.source import SourceText, Span

if TYPE_CHECKING:
    from aicache_lint.finding import Finding
    from aicache_lint.settings import Settings
    from aicache_lint.workspace.index import Workspace

# Findings that say the file was not (fully) checked: hiding them would hide that.
# Internal, parse and I/O errors (AIC000/001/003) are never hidden; AIC002 is a stale suppression.
NOT_SUPPRESSIBLE = frozenset({"AIC000", "AIC001", "AIC003"})
STALE = "AIC002"
MAX_PASSES = 10


class Outcome(NamedTuple):
    source: SourceText  # the new text; the original when nothing changed
    findings: list["Finding"]  # what a plain run still reports (none but NOT_SUPPRESSIBLE, normally)
    added: int  # codes added to suppressions
    removed: int  # stale codes and comment lines removed

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def add_ignores(original: SourceText, settings: "Settings", reason: str, ws: "Workspace | None" = None) -> Outcome:
    parsed = parse_file(original)
    if parsed.errors or getattr(parsed, "syntax", None) == "json":  # JSON has no comments: per-file ignores
        return Outcome(original, check_source(original, settings, ws), 0, 0)
    source, findings, removed = _drop_stale(original, settings, ws)
    findings = [f for f in findings if f.code not in NOT_SUPPRESSIBLE and f.code != STALE]
    file_wide: set[str] = set()  # codes to silence for the whole file
    for _ in range(MAX_PASSES):
        edits, added = _edits(source, findings, file_wide, reason)
        result = _edited(source, edits)
        remaining = check_source(result, settings, ws)
        missed = _codes_left(result, remaining) - file_wide
        if not missed:
            break
        file_wide |= missed  # again from the cleaned text, with those codes file-wide
    if parse_file(result).errors:  # comment lines never break a parse; guarded like every fix
        message = "suppressions added by --add-ignore made the file unparsable; nothing was changed"
        return Outcome(original, [*check_source(original, settings, ws), internal_error(original, message)], 0, 0)
    return Outcome(result, remaining, added, removed)


def suppress_finding(source: SourceText, finding: "Finding", settings: "Settings",
                     ws: "Workspace | None" = None, reason: str = "") -> SourceText | None:
    """The text with the comment ``add_ignores`` would write for ``finding`` alone (its code above
    the instruction or key that holds it, else for the whole file), or None when it cannot be
    suppressed: internal, parse and read errors, stale suppressions (AIC002 has its own fix), a
    file that does not parse, JSON. As there, whether the finding is covered is checked by linting
    the result; nothing else in the file changes."""
    if finding.code in NOT_SUPPRESSIBLE or finding.code == STALE:
        return None
    parsed = parse_file(source)
    if parsed.errors or getattr(parsed, "syntax", None) == "json":
        return None
    before = sum(f.code == finding.code for f in check_source(source, settings, ws))
    file_wide: set[str] = set()
    for _ in range(2):  # above its instruction or key; else for the whole file
        result = _edited(source, _edits(source, [finding], file_wide, reason)[0])
        if result is not source and not parse_file(result).errors:
            if sum(f.code == finding.code for f in check_source(result, settings, ws)) < before:
                return result
        file_wide = {finding.code}
    return None


def _edited(source: SourceText, edits: list[Edit]) -> SourceText:
    if not edits:
        return source
    return SourceText(apply_edits(source.text, edits, source.newline), path=source.path, bom=source.bom)


def _drop_stale(source: SourceText, settings: "Settings", ws: "Workspace | None") -> tuple[SourceText, list["Finding"], int]:
    """Apply what AIC002 asks for, pass by pass (a deleted line may leave another one stale):
    the text, its findings, and how many stale codes and comments went."""
    removed = 0
    findings = check_source(source, settings, ws)
    for _ in range(MAX_PASSES):
        stale = [f for f in findings if f.code == STALE]
        if not stale:
            break
        fixes = [f.fix or _delete_comment_line(source, f.span) for f in stale]
        text, chosen = apply_fixes(source.text, fixes, source.newline)
        removed += len(chosen)
        source = SourceText(text, path=source.path, bom=source.bom)
        findings = check_source(source, settings, ws)
    return source, findings, removed


def _delete_comment_line(source: SourceText, comment: Span) -> Fix:
    """A suppression that applies to nothing (AIC002 gives it no fix, since where it belongs is
    unknown): the finding below it gets its own suppression, so the comment line goes."""
    line = suppress.line_span(source, source.line_of(comment.start))
    return Fix.safe("Remove the misplaced suppression", Edit.delete(*line))


def _codes_left(result: SourceText, remaining: list["Finding"]) -> set[str]:
    """The codes still reported, and those of suppressions that went unused (the finding they were
    written for moved out from under them: a file-wide one covers it wherever it is)."""
    from aicache_lint.rules import RULES

    codes = set()
    for f in remaining:
        if f.code == STALE:
            codes.add(result.text[f.span.start : f.span.end].upper())
        elif f.code not in NOT_SUPPRESSIBLE:
            codes.add(f.code)
    return codes & {rule.code for rule in RULES}


class _Place(NamedTuple):
    """Where a suppression goes: above the line starting at ``line_start``, or into ``existing``."""

    line_start: int
    indent: str
    existing: suppress.Suppression | None


def _edits(source: SourceText, findings: list["Finding"], file_wide: set[str], reason: str) -> tuple[list[Edit], int]:
    """(edits, codes added) suppressing ``findings``: ``file_wide`` codes (and those of findings
    no instruction or key holds, which are added to it) in one ``ignore-file``, the rest above the
    instruction or key that holds each finding."""
    from aicache_lint.discovery import file_kind

    doc = parse_file(source)
    kind = file_kind(source.path)
    if kind == "compose":
        place_of, file_place = _region_places(source, suppress.parse_yaml(source, doc),
                                              suppress.yaml_regions(source, doc))
    elif kind == "dockerfile":
        place_of, file_place = _dockerfile_places(source, doc)
    else:
        place_of, file_place = _region_places(source, suppress.parse_build_file(source, doc),
                                              suppress.build_file_regions(source, doc)[1])
    per_place: dict[int, tuple[_Place, set[str]]] = {}
    for finding in findings:
        if finding.code in file_wide:
            continue
        place = place_of(finding.span.start)
        if place is None:
            file_wide.add(finding.code)
        else:
            per_place.setdefault(place.line_start, (place, set()))[1].add(finding.code)
    note = f" {reason}" if reason else ""
    inserts: dict[int, list[str]] = {}
    edits: list[Edit] = []
    added = 0
    wanted = [(file_place, file_wide, "ignore-file")] if file_wide else []
    wanted += [(place, codes, "ignore") for place, codes in per_place.values()]
    for place, codes, kind in wanted:
        existing = place.existing
        missing = sorted(c for c in codes if existing is None or not existing.covers(c))
        if not missing:
            continue
        added += len(missing)
        if existing is not None:
            comma = "" if source.text[existing.codes_end - 1] == "," else ","
            edits.append(Edit.insert(existing.codes_end, comma + ",".join(missing)))
        else:
            line = f"{place.indent}# aicache-lint: {kind}={','.join(missing)}{note}"
            inserts.setdefault(place.line_start, []).append(line)
    for at, lines in inserts.items():
        if at == len(source.text) and source.text and not source.text.endswith("\n"):
            edits.append(Edit.insert(at, "".join("\n" + line for line in lines)))  # keeps no final newline
        else:
            edits.append(Edit.insert(at, "".join(line + "\n" for line in lines)))
    return edits, added


def _dockerfile_places(source: SourceText, doc):
    """(the place for each offset, the place of ``ignore-file``): instructions, heredocs included."""
    sups = suppress.parse(source, doc)
    existing = {id(s.instruction): s for s in sups if s.instruction is not None and s.codes}
    file_sup = next((s for s in sups if s.file_wide), None)

    def place_of(offset: int) -> _Place | None:
        instruction = suppress.containing_instruction(doc, offset)
        if instruction is None:
            return None
        start = source.line_start(instruction.start_line)
        return _Place(start, source.text[start : instruction.span.start], existing.get(id(instruction)))

    first = doc.instructions[0].start_line if doc.instructions else None
    return place_of, _Place(source.line_start(first) if first else len(source.text), "", file_sup)


def _region_places(source: SourceText, sups: list, regions: dict):
    """(the place for each offset, the place of ``ignore-file``) in a YAML, HCL or TOML file: the
    keys, list items, blocks and attributes that a suppression above them covers
    (``suppress.yaml_regions``, ``suppress.build_file_regions``) and that begin their line -- when
    something comes before them on it (the end of a multi-line quoted string, an earlier flow
    item), a comment line above could land inside a value. The innermost one holding an offset."""
    existing = {s.region: s for s in sups if s.region is not None and s.codes}
    file_sup = next((s for s in sups if s.file_wide), None)
    usable = []
    for line, region in regions.items():
        start = source.line_start(line)
        indent = source.text[start : region.start]
        if not indent.strip():
            usable.append((region, _Place(start, indent, existing.get(region))))

    def place_of(offset: int) -> _Place | None:
        holding = [(r.end - r.start, place) for r, place in usable if r.start <= offset <= r.end]
        return min(holding, key=lambda pair: pair[0])[1] if holding else None

    first = min(regions, default=None)
    return place_of, _Place(source.line_start(first) if first else len(source.text), "", file_sup)
