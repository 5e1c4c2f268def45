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
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.discovery import stage
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


def fix_files(files: list[tuple[SourceText, "Settings"]], ws: "Workspace", jobs: int = 1) -> list[FixResult]:
    """The fixed text, remaining findings and applied fixes of each file, in the given order.
    ``jobs`` > 1: Dockerfiles are checked ahead in worker processes (see ``_Ahead``); the result is
    the same as with one."""
    with _Ahead(ws, jobs, files[0][1] if files else None) as ahead:
        return _fix_files(files, ws, ahead)


def _fix_files(files: list[tuple[SourceText, "Settings"]], ws: "Workspace", ahead: "_Ahead") -> list[FixResult]:
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
    order = _order(originals, ws)
    touched: set[str] = set()  # files the plan has given another text (maybe their original again)
    dirty = list(order)
    for _ in range(MAX_PASSES):
        first = min((stage(p) for p in dirty), default=0)  # Compose files wait for Dockerfiles, CI files for both
        batch = [p for p in dirty if stage(p) == first]
        dockerfiles = batch if first == 0 else []
        early = ahead.check(dockerfiles, settings, {p: current[p] for p in touched}) if dockerfiles else {}
        changed: set[str] = set()
        for path in batch:
            hit = early.get(path)
            done = None
            if hit is not None and not hit[1] & changed:  # it read nothing this pass has changed yet
                findings[path], reads[path], done = hit
            else:
                with ws.recording() as read:
                    findings[path] = check_source(current[path], settings[path], ws)
                reads[path] = read
            if path in failed:
                continue
            before = current[path]
            problem = _step(path, current, findings[path], settings[path], seen, applied, done)
            if problem is not None:
                failed[path] = problem
                current[path] = originals[path]
                applied[path] = []
            if current[path] is not before:
                ws.update(path, current[path])
                touched.add(path)
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
    for path in originals:  # held back to the end (Compose files while Dockerfiles kept changing)
        if path not in findings:
            findings[path] = check_source(current[path], settings[path], ws)
    out = []
    for path, original in originals.items():
        found = findings[path]
        if path in failed:
            found = sorted([*found, internal_error(original, failed[path])], key=lambda f: f.sort_key)
        out.append(FixResult(current[path], found, applied[path]))
    return out


def _order(originals: dict[str, SourceText], ws: "Workspace") -> list[str]:
    """Dockerfiles first, an image built here before the Dockerfiles `FROM` it (so a child sees
    its base as fixed, not a pass late), then Compose files, then CI, Bake and daemon files; else
    in the given order."""
    later = sorted((p for p in originals if stage(p) > 0), key=stage)
    dockerfiles = [p for p in originals if stage(p) == 0]
    named = {os.path.realpath(p): p for p in dockerfiles}
    bases = {p: [named[b] for b in _bases_built_here(originals[p], ws) if b in named] for p in dockerfiles}
    ordered: list[str] = []
    placed: set[str] = set()

    def place(path: str, trail: tuple[str, ...]) -> None:
        if path in placed or path in trail:  # a cycle: the graph says it, and the order stays
            return
        for base in bases.get(path, ()):
            place(base, (*trail, path))
        placed.add(path)
        ordered.append(path)

    for path in dockerfiles:
        place(path, ())
    return ordered + later


def _bases_built_here(source: SourceText, ws: "Workspace") -> list[str]:
    """The Dockerfiles of the run that build what ``source`` is `FROM` (read off its FROM lines:
    a reference with a variable is left out, the order is only a preference)."""
    found = []
    for line in source.text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "FROM":
            ref = next((w for w in words[1:] if not w.startswith("--")), "")
            if ref and "$" not in ref:
                found += [os.path.realpath(inv.dockerfile) for inv in ws.graph.builds_of(ref) if inv.dockerfile]
    return [p for p in found if p != os.path.realpath(source.path)]


class _Ahead:
    """Checks a pass's files in worker processes against the texts the pass starts from. The
    loop takes such a result for a file only when the check read no file the pass has changed
    before it: then it is the check the loop itself would make, so the plan is the same whatever
    the number of processes. Each worker keeps its own workspace and is sent the texts changed
    since the run started."""

    def __init__(self, ws: "Workspace", jobs: int, settings: "Settings | None") -> None:
        self.ws, self.jobs, self.settings, self.pool = ws, jobs, settings, None

    def __enter__(self) -> "_Ahead":
        if self.jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_start_worker,
                                            initargs=(self.ws.paths, self.settings))
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def check(self, paths: list[str], settings: dict[str, "Settings"],
              touched: dict[str, SourceText]) -> dict[str, tuple[list["Finding"], set[str], "_Applied | None"]]:
        """Findings, files read and fixes applied for ``paths``; ``touched``: the texts the plan
        has changed."""
        if self.pool is None:
            return {}
        texts = {p: (s.text, s.bom) for p, s in touched.items()}
        size = max(1, -(-len(paths) // (self.jobs * 2)))
        chunks = [[(p, settings[p]) for p in paths[i:i + size]] for i in range(0, len(paths), size)]
        found: dict[str, tuple[list[Finding], set[str], _Applied | None]] = {}
        for part, notices in self.pool.map(_check_in_worker, chunks, [texts] * len(chunks)):
            found.update(part)
            for notice in notices:
                self.ws.notice(notice)
        return found


_WORKER: "Workspace | None" = None  # a worker process's own view of the project
_SENT: dict[str, str] = {}  # the texts it was sent, by path


def _start_worker(paths: list[str], settings: "Settings") -> None:
    from aicache_lint.engine import run_workspace

    global _WORKER
    _WORKER = run_workspace(paths, settings)


def _check_in_worker(items: list, texts: dict[str, tuple[str, bool]]) -> tuple[dict, list[str]]:
    """The checks of ``items`` (see ``_Ahead.check``), and the warnings the worker has met: the
    loop may use a result without checking the file itself, so the warnings must travel too."""
    ws = _WORKER
    assert ws is not None
    for path, (text, bom) in texts.items():
        if _SENT.get(path) != text:
            ws.update(path, SourceText(text, path=path, bom=bom))
            _SENT[path] = text
    out = {}
    for path, settings in items:
        source = ws.source(path)
        with ws.recording() as read:
            found = check_source(source, settings, ws)
        out[path] = (found, read, _apply(source, found, settings))
    from aicache_lint.api import network_notices

    return out, ws.notices + network_notices()


class _Applied(NamedTuple):
    """One pass of fixes applied to a text: the new text, which findings' fixes it took (by index,
    in the order applied), and whether it still parses."""

    text: str
    chosen: list[int]
    parses: bool


def _apply(source: SourceText, findings: list["Finding"], settings: "Settings") -> _Applied | None:
    """The file's applicable fixes applied (None: there are none)."""
    fixable = [i for i, f in enumerate(findings) if applicable(f, settings)]
    if not fixable:
        return None
    index_of = {id(findings[i].fix): i for i in fixable}
    text, chosen = apply_fixes(source.text, [findings[i].fix for i in fixable], source.newline)  # type: ignore[misc]
    candidate = SourceText(text, path=source.path, bom=source.bom)
    return _Applied(text, [index_of[id(fix)] for fix in chosen], not parse_errors(candidate))


def _step(path: str, current: dict[str, SourceText], findings: list["Finding"], settings: "Settings",
          seen: dict[str, set[str]], applied: dict[str, list[tuple[str, Fix]]],
          done: _Applied | None = None) -> str | None:
    """Apply one pass of fixes to ``path`` (updating ``current``); the reason to give up, if any.
    ``done``: the same work, done ahead in a worker."""
    source = current[path]
    done = done or _apply(source, findings, settings)
    if done is None:
        return None
    rules = ", ".join(sorted({findings[i].code for i in done.chosen}))
    if not done.parses:
        return f"fixes by {rules} made the file unparsable; nothing was changed"
    if done.text in seen[path]:
        return f"fixes by {rules} do not converge (cycle); nothing was changed"
    seen[path].add(done.text)
    applied[path].extend((findings[i].code, findings[i].fix) for i in done.chosen)  # type: ignore[misc]
    current[path] = SourceText(done.text, path=source.path, bom=source.bom)
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
