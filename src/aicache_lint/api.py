"""Pure entry points used by the CLI and the tests: lint or fix text, lint or fix paths."""

from __future__ import annotations

import os
from aicache_lint.engine import FixResult, check_source, fix_source, io_error
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

    def __repr__(self) -> str:
        return f"FileResult({self.path!r}, {len(self.findings)} findings)"


def process_file(path: str, settings: Settings, fix: bool = False, write: bool = False) -> FileResult:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return FileResult(path, [io_error(path, f"cannot read file: {exc.strerror or exc}")])
    return process_bytes(data, path, settings, fix=fix, write=write)


def process_bytes(data: bytes, path: str, settings: Settings, fix: bool = False, write: bool = False) -> FileResult:
    try:
        source = SourceText.decode(data, path=path)
    except SourceError as exc:
        return FileResult(path, [io_error(path, f"cannot read file: {exc}")])
    if not fix:
        return FileResult(path, check_source(source, settings), source.text)
    result: FixResult = fix_source(source, settings)
    out = FileResult(path, result.findings, source.text, applied=result.applied)
    if result.changed:
        out.fixed = result.source.text
        if write:
            try:
                write_atomic(path, result.source.encode())
                out.written = True
            except OSError as exc:
                out.findings.append(io_error(path, f"cannot write fixed file: {exc.strerror or exc}"))
    return out


def write_atomic(path: str, data: bytes) -> None:
    """Write through a temporary file in the same directory, keeping the file's mode."""
    import tempfile  # only when writing: keeps it off the lint path

    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".aicache-lint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _worker(args: tuple[str, Settings, bool, bool]) -> FileResult:
    return process_file(*args)


def process_paths(files: list[str], settings: Settings, fix: bool = False, write: bool = False, jobs: int | None = None) -> list[FileResult]:
    """Results in path order; many files run in parallel processes with the same output."""
    jobs = jobs or os.cpu_count() or 1
    work = [(path, settings, fix, write) for path in files]
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        return [_worker(w) for w in work]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_worker, work, chunksize=max(1, len(work) // (jobs * 4))))
