"""The fix plan: one in-memory loop over every file of the project (DESIGN §2 step 7).

Each pass checks the files that may have changed (their own text, or a file their last check
read), applies each one's non-overlapping fixes, and hands the new text to the workspace at once;
Compose files wait until the Dockerfiles have settled, so a Compose fix sees the images as their
fixes leave them. (Checking every file against the previous pass's texts instead would let a pass
run in parallel, but was measured to make fixes less minimal: a Compose file then sets the
`HF_HOME` its Dockerfile gets in the same pass.) The loop stops when no file changes. A file whose
fixes cycle, exceed the pass limit or break parsing goes back to its original text (and the files
that read it are checked again); an internal error says which rules were involved. Nothing is
written here: ``--fix`` writes what this returns, ``--diff`` prints it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from aicache_lint.discovery import file_kind
from aicache_lint.engine import (
    MAX_PASSES,
    FixResult,
    applicable,
    check_source,
    internal_error,
    parse_errors,
)
from aicache_lint.fix import Fix, apply_fixes
from aicache_lint.source import SourceText

if TYPE_CHECKING:
    from aicache_lint.finding import Finding
    from aicache_lint.settings import Settings
    from aicache_lint.workspace.index import Workspace


def fix_files(files: list[tuple[SourceText, "Settings"]], ws: "Workspace") -> list[FixResult]:
    """The fixed text, remaining findings and applied fixes of each file, in the given order."""
    originals = {src.path: src for src, _ in files}
    settings = {src.path: s for src, s in files}
    current = dict(originals)
    seen = {path: {src.text} for path, src in originals.items()}
    applied: dict[str, list[tuple[str, Fix]]] = {path: [] for path in originals}
    findings: dict[str, list[Finding]] = {}
    reads: dict[str, set[str]] = {}
    failed: dict[str, str] = {}
    for src, _ in files:
        ws.remember(src.path, src)
    # Compose files wait until the Dockerfiles settle: what a Compose fix writes depends on the
    # image (its `HF_HOME`, its user), so it must see the image as its own fixes leave it -- else it
    # sets in `environment:` what the Dockerfile is given a pass later.
    order = sorted(originals, key=lambda p: file_kind(p) == "compose")
    dirty = list(order)
    for _ in range(MAX_PASSES):
        batch = [p for p in dirty if file_kind(p) != "compose"] or dirty
        changed: set[str] = set()
        for path in batch:
            with ws.recording() as read:
                findings[path] = check_source(current[path], settings[path], ws)
            reads[path] = read
            if path in failed:
                continue
            before = current[path]
            problem = _step(path, current, findings[path], settings[path], seen, applied)
            if problem is not None:
                failed[path] = problem
                current[path] = originals[path]
                applied[path] = []
            if current[path] is not before:
                ws.update(path, current[path])
                changed.add(os.path.abspath(path))
        changed |= ws.take_changes()  # the project's builds, when a fix changed them
        held = [p for p in dirty if p not in batch]
        if not changed and not held:
            break
        dirty = [p for p in order if p in held or os.path.abspath(p) in changed or reads.get(p, set()) & changed]
    else:
        moving = [p for p in originals if os.path.abspath(p) in changed]  # still changing after the last pass
        for path in moving:
            failed.setdefault(path, f"fixes did not settle within {MAX_PASSES} passes; nothing was changed")
        reverted = _revert(moving, current, originals, applied, ws)
        for path in _dependents(reverted, originals, reads):
            findings[path] = check_source(current[path], settings[path], ws)
    out = []
    for path, original in originals.items():
        found = findings[path]
        if path in failed:
            found = sorted([*found, internal_error(original, failed[path])], key=lambda f: f.sort_key)
        out.append(FixResult(current[path], found, applied[path]))
    return out


def _step(path: str, current: dict[str, SourceText], findings: list["Finding"], settings: "Settings",
          seen: dict[str, set[str]], applied: dict[str, list[tuple[str, Fix]]]) -> str | None:
    """Apply one pass of fixes to ``path`` (updating ``current``); the reason to give up, if any."""
    fixable = [f for f in findings if applicable(f, settings)]
    if not fixable:
        return None
    source = current[path]
    code_of = {id(f.fix): f.code for f in fixable}
    text, chosen = apply_fixes(source.text, [f.fix for f in fixable], source.newline)  # type: ignore[misc]
    rules = ", ".join(sorted({code_of[id(fix)] for fix in chosen}))
    candidate = SourceText(text, path=source.path, bom=source.bom)
    if parse_errors(candidate):
        return f"fixes by {rules} made the file unparsable; nothing was changed"
    if text in seen[path]:
        return f"fixes by {rules} do not converge (cycle); nothing was changed"
    seen[path].add(text)
    applied[path].extend((code_of[id(fix)], fix) for fix in chosen)
    current[path] = candidate
    return None


def _revert(paths: list[str], current, originals, applied, ws: "Workspace") -> list[str]:
    """Put ``paths`` back to their original text; the ones that had changed."""
    reverted = []
    for path in paths:
        if current[path] is not originals[path]:
            current[path] = originals[path]
            applied[path] = []
            ws.update(path, current[path])
            reverted.append(path)
    return reverted


def _dependents(paths: list[str], originals, reads: dict[str, set[str]]) -> list[str]:
    gone = {os.path.abspath(p) for p in paths}
    return [p for p in originals if os.path.abspath(p) in gone or reads.get(p, set()) & gone]
