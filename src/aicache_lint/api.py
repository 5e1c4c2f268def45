"""Pure entry points used by the CLI and the tests: lint or fix text, lint or fix paths."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.discovery import file_kind
from aicache_lint.engine import FixResult, check_source, fix_source, io_error
from aicache_lint.files import read_bytes, write_atomic
from aicache_lint.finding import Finding
from aicache_lint.fix import Fix
from aicache_lint.settings import Settings
from aicache_lint.source import SourceError, SourceText

if TYPE_CHECKING:
    from collections.abc import Callable

    from aicache_lint.result_cache import ResultCache
    from aicache_lint.workspace.index import Workspace

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
        self.reached: list[str] = []  # in a worker: the Python files this file's images and services run
        self.estimates: dict = {}  # finding -> impact.estimate.Estimate (--estimate, --sort impact)

    def __repr__(self) -> str:
        return f"FileResult({self.path!r}, {len(self.findings)} findings)"


class Task(NamedTuple):
    """What to do with one file."""

    path: str
    settings: Settings
    fix: bool = False  # compute fixes (--fix, --diff)
    write: bool = False  # write the new text back (--fix, --add-ignore without --diff)
    add_ignore: str | None = None  # --add-ignore: insert suppressions with this reason
    cache: str | None = None  # the result cache's directory (plain lint runs), None: no cache


def process_file(task: Task, workspace: "Workspace | None" = None, reach: bool = False,
                 cache: "ResultCache | None" = None) -> FileResult:
    """Lint one file (fixes are planned over all files together: see ``process_paths``).
    ``reach``: also say which Python files its images and services run (``FileResult.reached``);
    ``cache``: the run's result cache (lint only), consulted before checking and filled after."""
    read = _load(task.path)
    if isinstance(read, FileResult):
        return read
    if workspace is None:
        return FileResult(task.path, check_source(read[1], task.settings), read[1].text)
    hit = _hit(task, read, workspace, reach, cache) if cache is not None else None
    return hit or _checked(task, read, workspace, reach, cache)


def _check_file(task: Task, ws: "Workspace", reach: bool, cache: "ResultCache | None") -> FileResult:
    """A file the cache was asked about already (it does not hold it), or no cache: read and checked."""
    read = _load(task.path)
    return read if isinstance(read, FileResult) else _checked(task, read, ws, reach, cache)


def _load(path: str) -> "tuple[bytes, SourceText] | FileResult":
    """The file's bytes and text, or its result when it needs no check: one that cannot be read,
    or a shell script that neither writes a daemon.json nor holds a suppression comment, which
    no rule can find anything in (a repository's multi-megabyte install scripts are then not
    kept for the whole run)."""
    data = _read_bytes(path)
    if isinstance(data, FileResult):
        return data
    if file_kind(path) == "shell" and b"daemon.json" not in data and b"aicache-lint" not in data:
        return FileResult(path, [])
    source = _decode(path, data)
    return source if isinstance(source, FileResult) else (data, source)


def _hit(task: Task, read: tuple[bytes, SourceText], ws: "Workspace", reach: bool,
         cache: "ResultCache") -> FileResult | None:
    """The result the cache holds for the file (None: it must be checked)."""
    data, source = read
    hit = cache.lookup(task.path, data, task.settings, ws, reach)
    if hit is None:
        return None
    for notice in hit.notices:
        ws.notice(notice)
    result = FileResult(task.path, hit.findings, source.text)
    result.reached = hit.reached or []
    return result


def _checked(task: Task, read: tuple[bytes, SourceText], ws: "Workspace", reach: bool,
             cache: "ResultCache | None") -> FileResult:
    data, source = read
    ws.remember(task.path, source)
    said = set(ws.notices)
    with ws.recording() as reads:
        result = FileResult(task.path, check_source(source, task.settings, ws), source.text)
        if reach:
            result.reached = _reached(ws, [task.path])
    if cache is not None:
        cache.store(task.path, data, task.settings, ws, reads, result.findings,
                    [n for n in ws.notices if n not in said], result.reached if reach else None)
    if file_kind(task.path) == "dockerfile":
        ws.release(task.path)
    return result


def _read(path: str) -> "SourceText | FileResult":
    """The decoded text of ``path``, or the result that says why it cannot be read."""
    read = _load(path)
    return read if isinstance(read, FileResult) else read[1]


def _read_bytes(path: str) -> "bytes | FileResult":
    try:
        return read_bytes(path)
    except OSError as exc:
        return FileResult(path, [io_error(path, f"cannot read file: {exc.strerror or exc}")])


def _decode(path: str, data: bytes) -> "SourceText | FileResult":
    try:
        return SourceText.decode(data, path=path)
    except SourceError as exc:
        if file_kind(path) == "shell":  # read only for a daemon.json it may write: a huge or binary one is not such a script
            return FileResult(path, [])
        return FileResult(path, [io_error(path, f"cannot read file: {exc}")])


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
    """One text with no files around it but what lies on disk (standard input, tests)."""
    try:
        source = SourceText.decode(data, path=path)
    except SourceError as exc:
        return FileResult(path, [io_error(path, f"cannot read file: {exc}")])
    from aicache_lint.engine import standalone_workspace

    ws = standalone_workspace(source, settings)
    if add_ignore is not None:
        return _add_ignores(source, settings, add_ignore, write, ws)
    if not fix:
        return FileResult(path, check_source(source, settings, ws), source.text)
    return _fixed(source, fix_source(source, settings, ws), write)


def _fixed(source: SourceText, result: FixResult, write: bool) -> FileResult:
    out = FileResult(source.path, result.findings, source.text, applied=result.applied)
    if result.changed:
        out.fixed = result.source.text
        if write:
            _write(out, result.source)
    return out


def _add_ignores(source: SourceText, settings: Settings, reason: str, write: bool, ws: "Workspace") -> FileResult:
    from aicache_lint.add_ignore import add_ignores

    outcome = add_ignores(source, settings, reason, ws)
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


def process_paths(tasks: list[Task], jobs: int | None = None,
                  more: "Callable[[list[str]], list[Task]] | None" = None) -> list[FileResult]:
    """Results in task order. All files form one workspace: fixes (``--fix``, ``--diff``) are
    planned over every file together and written at the end, each atomically; linting alone runs
    many files in parallel processes with the same output. ``more(paths)``: the tasks for the
    Python files that the images and services of ``tasks`` run (``workspace/python_code.py``),
    linted with them; None: ``tasks`` alone."""
    if not tasks:
        return []
    jobs = jobs or os.cpu_count() or 1
    if any(t.fix or t.add_ignore is not None for t in tasks):
        return _plan(tasks, jobs, more)
    ws, caches, reach = _workspace(tasks), _Caches(), more is not None
    with contextlib.ExitStack() as stack:
        pool = _Pool(stack, tasks, jobs, reach)
        results = _lint(tasks, ws, caches, reach, pool)
        if more is not None:
            results += _lint(more(list(dict.fromkeys(p for r in results for p in r.reached))), ws, caches, reach, pool)
    _add_notices(results, ws)
    return results


def _lint(tasks: list[Task], ws: "Workspace", caches: "_Caches", reach: bool, pool: "_Pool") -> list[FileResult]:
    """Results in task order: what the cache holds first, then the rest -- shared between this
    process and worker processes when there are enough of them to pay for starting workers."""
    results: list[FileResult | None] = []
    todo: list[tuple[int, Task]] = []
    missed: dict[int, tuple[bytes, SourceText]] = {}  # id(task) -> what was read to ask the cache
    for task in tasks:
        found, cache = None, caches.of(task)
        if cache is not None:
            read = _load(task.path)
            found = read if isinstance(read, FileResult) else _hit(task, read, ws, reach, cache)
            if found is None:
                missed[id(task)] = read
        if found is None:
            todo.append((len(results), task))
        results.append(found)

    def here(task: Task) -> FileResult:  # neither read nor looked up a second time
        read = missed.pop(id(task), None)
        if read is None:
            return _check_file(task, ws, reach, caches.of(task))
        return _checked(task, read, ws, reach, caches.of(task))

    checked = pool.share(todo, here) if pool.pays_for(len(todo)) else [here(task) for _, task in todo]
    for (index, _), result in zip(todo, checked):
        results[index] = result
    return results  # type: ignore[return-value]  # every None was replaced


class _Pool:
    """Worker processes besides this one (``jobs - 1``), started on first use; each builds its own
    view of the run's workspace."""

    def __init__(self, stack: contextlib.ExitStack, tasks: list[Task], jobs: int, reach: bool) -> None:
        self._stack, self._tasks, self._jobs, self._reach = stack, tasks, jobs, reach
        self._executor = None

    def pays_for(self, files: int) -> bool:
        return self._jobs > 1 and (self._executor is not None or files >= PARALLEL_THRESHOLD)

    def share(self, items: list[tuple[int, Task]], here: "Callable[[Task], FileResult]") -> list[FileResult]:
        """The results of ``items`` (index, task), in order: chunks go to the workers and to
        ``here`` (this process) from one queue, so whoever is free takes the next one."""
        from collections import deque
        from concurrent.futures import FIRST_COMPLETED, wait

        workers = self._jobs - 1
        if self._executor is None:
            from concurrent.futures import ProcessPoolExecutor

            self._executor = self._stack.enter_context(ProcessPoolExecutor(
                max_workers=workers, initializer=_start_worker, initargs=(self._tasks, self._reach)))
        size = max(1, len(items) // (self._jobs * 4))
        chunks = deque(items[i:i + size] for i in range(0, len(items), size))
        done: dict[int, FileResult] = {}
        pending: dict = {}  # future -> its chunk
        while chunks or pending:
            while chunks and len(pending) < 2 * workers:  # a chunk queued behind each running one
                chunk = chunks.popleft()
                pending[self._executor.submit(_lint_in_worker, [task for _, task in chunk])] = chunk
            for future in [f for f in pending if f.done()]:
                done.update(zip((index for index, _ in pending.pop(future)), future.result()))
            if chunks:
                done.update((index, here(task)) for index, task in chunks.popleft())
            elif pending:
                wait(pending, return_when=FIRST_COMPLETED)
        return [done[index] for index, _ in items]


def _reached(ws: "Workspace", paths: list[str]) -> list[str]:
    from aicache_lint.workspace.python_code import reached_files

    return reached_files(ws, paths)


def _workspace(tasks: list[Task]) -> "Workspace":
    from aicache_lint.engine import run_workspace

    return run_workspace([t.path for t in tasks], tasks[0].settings)


def _plan(tasks: list[Task], jobs: int, more: "Callable[[list[str]], list[Task]] | None") -> list[FileResult]:
    """--fix, --diff, --add-ignore: one in-memory plan over every readable file, then the writes."""
    from aicache_lint.plan import fix_files

    ws = _workspace(tasks)
    if more is not None:
        tasks = tasks + more(_reached(ws, [t.path for t in tasks]))
    read = [(t, _read(t.path)) for t in tasks]
    readable = [(t, s) for t, s in read if isinstance(s, SourceText)]
    for t, s in readable:
        ws.remember(t.path, s)
    done: dict[str, FileResult] = {}
    if any(t.add_ignore is not None for t in tasks):
        for t, s in readable:
            done[t.path] = _add_ignores(s, t.settings, t.add_ignore or "", t.write, ws)
    else:
        fixed = fix_files([(s, t.settings) for t, s in readable], ws, jobs if len(readable) >= PARALLEL_THRESHOLD else 1)
        for (t, s), result in zip(readable, fixed):
            done[t.path] = _fixed(s, result, t.write)
    results = [s if isinstance(s, FileResult) else done[t.path] for t, s in read]
    _add_notices(results, ws)
    return results


def _add_notices(results: list[FileResult], ws: "Workspace") -> None:
    """Links the workspace could not resolve travel with the first result (said once)."""
    if results:
        results[0].notices.extend(ws.notices)


class _Caches:
    """The result caches of one run (one per cache directory the tasks name)."""

    def __init__(self) -> None:
        self._by_directory: dict[str, ResultCache] = {}

    def of(self, task: Task) -> "ResultCache | None":
        if task.cache is None:
            return None
        cache = self._by_directory.get(task.cache)
        if cache is None:
            from aicache_lint.result_cache import ResultCache

            cache = self._by_directory[task.cache] = ResultCache(task.cache)
        return cache


_WORKER: "Workspace | None" = None  # this worker process's view of the run's workspace
_WORKER_CACHES = _Caches()
_REACH = False  # whether a worker says which Python files its files' images and services run


def _start_worker(tasks: list[Task], reach: bool) -> None:
    global _WORKER, _REACH
    _WORKER, _REACH = _workspace(tasks), reach


def _lint_in_worker(tasks: list[Task]) -> list[FileResult]:
    """In a worker process: the notices and the code it reached travel back with the results."""
    # the parent asked the cache about each task already: what comes here is checked
    results = [_check_file(task, _WORKER, _REACH, _WORKER_CACHES.of(task)) for task in tasks]
    if results:
        results[-1].notices = network_notices() + (_WORKER.notices if _WORKER is not None else [])
    return results
