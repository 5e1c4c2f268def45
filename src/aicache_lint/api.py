"""Pure entry points used by the CLI and the tests: lint or fix text, lint or fix paths."""

from __future__ import annotations

import os
from typing import NamedTuple

from aicache_lint.engine import FixResult, check_source, fix_source, io_error
from aicache_lint.files import read_bytes, write_atomic
from aicache_lint.finding import Finding
from aicache_lint.fix import Fix
from aicache_lint.settings import Settings
from aicache_lint.source import SourceError, SourceText

PARALLEL_THRESHOLD = 16  # below this, process start-up costs more than it saves


def lint_text(text: str, path: str = "Dockerfile", settings: Settings | None = None) -> list[Finding]:
    return check_source(SourceText(text, path=path), settings or Settings())


def fix_text(text: str, path: str = "Dockerfile", settings: Settings | None = None) -> FixResult:
    return fix_source(SourceText(text, path=path), settings or Settings())


class FileResult:
    def __init__(
        self,
        path: str,
        findings: list[Finding],
        original: str | None = None,  # decoded text, None when unreadable
        fixed: str | None = None,  # new text when fixes changed it
        applied: list[tuple[str, Fix]] | None = None,
    ) -> None:
        self.path = path
        self.findings = findings
        self.original = original
        self.fixed = fixed
        self.applied = applied or []
        self.written = False
        self.suppressions_added = 0  # --add-ignore: codes added to suppressions
        self.suppressions_removed = 0  # --add-ignore: stale codes and comments removed
        self.notices: list[str] = []  # network lookups that failed (--resolve-images)

    def __repr__(self) -> str:
        return f"FileResult({self.path!r}, {len(self.findings)} findings)"


class Task(NamedTuple):
    """What to do with one file."""

    path: str
    settings: Settings
    fix: bool = False  # compute fixes (--fix, --diff)
    write: bool = False  # write the new text back (--fix, --add-ignore without --diff)
    add_ignore: str | None = None  # --add-ignore: insert suppressions with this reason


def process_file(task: Task) -> FileResult:
    try:
        data = read_bytes(task.path)
    except OSError as exc:
        return FileResult(task.path, [io_error(task.path, f"cannot read file: {exc.strerror or exc}")])
    return process_bytes(data, *task)


def _network_module():
    """The resolver module when a lookup loaded it, else None (then nothing was ever asked)."""
    import sys

    return sys.modules.get("aicache_lint.registry.resolver")


def forget_network_answers() -> None:
    """Start a run afresh: hosts that failed in an earlier run (in this process) are asked again."""
    module = _network_module()
    if module:
        module.reset()


def network_notices() -> list[str]:
    """What went wrong asking registries and Git remotes since the last call (each once)."""
    module = _network_module()
    return module.take_notices() if module else []


def process_bytes(
    data: bytes, path: str, settings: Settings, fix: bool = False, write: bool = False, add_ignore: str | None = None
) -> FileResult:
    try:
        source = SourceText.decode(data, path=path)
    except SourceError as exc:
        return FileResult(path, [io_error(path, f"cannot read file: {exc}")])
    if add_ignore is not None:
        return _add_ignores(source, settings, add_ignore, write)
    if not fix:
        return FileResult(path, check_source(source, settings), source.text)
    result: FixResult = fix_source(source, settings)
    out = FileResult(path, result.findings, source.text, applied=result.applied)
    if result.changed:
        out.fixed = result.source.text
        if write:
            _write(out, result.source)
    return out


def _add_ignores(source: SourceText, settings: Settings, reason: str, write: bool) -> FileResult:
    from aicache_lint.add_ignore import add_ignores

    outcome = add_ignores(source, settings, reason)
    out = FileResult(source.path, outcome.findings, source.text)
    if outcome.changed:
        out.fixed = outcome.source.text
        out.suppressions_added = outcome.added
        out.suppressions_removed = outcome.removed
        if write:
            _write(out, outcome.source)
    return out


def _write(out: FileResult, source: SourceText) -> None:
    try:
        write_atomic(out.path, source.encode())
        out.written = True
    except OSError as exc:
        out.findings.append(io_error(out.path, f"cannot write fixed file: {exc.strerror or exc}"))


def process_paths(tasks: list[Task], jobs: int | None = None) -> list[FileResult]:
    """Results in task order; many files run in parallel processes with the same output.

    When fixes are written, Compose files run after the Dockerfiles: they read the Dockerfiles
    their services build, and must see them fixed (AIC201 may have set `HF_HOME`)."""
    from aicache_lint.discovery import file_kind

    if any(t.write for t in tasks):
        compose = [i for i, t in enumerate(tasks) if file_kind(t.path) == "compose"]
        if compose and len(compose) < len(tasks):
            later = set(compose)
            first = [i for i in range(len(tasks)) if i not in later]
            results = dict(zip(first, _process_all([tasks[i] for i in first], jobs)))
            results.update(zip(compose, _process_all([tasks[i] for i in compose], jobs)))
            return [results[i] for i in range(len(tasks))]
    return _process_all(tasks, jobs)


def _process_all(tasks: list[Task], jobs: int | None) -> list[FileResult]:
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(tasks) < PARALLEL_THRESHOLD:
        return [process_file(t) for t in tasks]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_process_file_with_notices, tasks, chunksize=max(1, len(tasks) // (jobs * 4))))


def _process_file_with_notices(task: Task) -> FileResult:
    """In a worker process: the notices travel back with the file's result."""
    result = process_file(task)
    result.notices = network_notices()
    return result
