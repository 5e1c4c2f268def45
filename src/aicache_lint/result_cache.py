"""The result cache: each file's findings kept on disk with everything they rest on, so that a run
over an unchanged project reads files and compares digests instead of checking them.

Where: ``results/`` in the user's cache directory (``$AICACHE_LINT_CACHE_DIR``, else
``~/.cache/aicache-lint``), or the ``cache-dir`` setting; never in the project by default, whose
`COPY . .` layers a changing directory would invalidate. ``--no-cache`` or ``AICACHE_LINT_NO_CACHE=1``
turns it off. It is used for plain lint runs only: ``--fix``, ``--diff``, ``--add-ignore``,
standard input and ``--resolve-images`` (answers that change with the registries) always check.

One entry per file and view of it, named by a digest of the tool's version, the Python version, the
file's absolute path, the settings' fingerprint, the working directory and how the run names paths
(other files named in messages are spelt from there). Editing a file overwrites its entry, so the
cache does not grow with edits. An entry holds

- the digest of the file's bytes;
- what its check read, as the workspace recorded it (``Workspace.recording``): each file with the
  digest of its bytes, each directory listed with the digest of its names, each path asked
  whether it is a file, and the list of the project's build files (it depends on the run's paths:
  `aicache-lint Dockerfile` and `aicache-lint .` may see different Compose files);
- the findings with their fixes, the notices the check gave and the Python files its images run.

An entry is used only when every one of these digests is what the disk says now, so an edit to a
Compose file, a requirements file, a base Dockerfile or the configuration (part of the settings)
is seen at once. Symbolic links are followed, not recorded: retargeting one without touching the
files is not seen.

Entries are written to a temporary name and renamed (parallel workers and runs never see half an
entry; the last writer wins, and any writer's entry is right). An entry that cannot be read is
ignored with a warning and written again. The directory holds a `.gitignore` of `*` (for a
`cache-dir` inside a repository) and a `CACHEDIR.TAG`, so neither Git nor backup tools pick it up.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from aicache_lint import __version__
from aicache_lint.files import read_bytes

try:  # blake2b without importing hashlib, which loads OpenSSL (~2 ms of every run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - Python builds without the module
    from hashlib import blake2b

if TYPE_CHECKING:
    from aicache_lint.finding import Finding
    from aicache_lint.settings import Settings
    from aicache_lint.workspace.index import Workspace

_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This directory is aicache-lint's result cache.\n"
_FORMAT = 1  # the entries' layout: a change starts a new directory, as a new version does
_MISSING = "-"  # the digest of what cannot be read


class Hit(NamedTuple):
    findings: list["Finding"]
    notices: list[str]
    reached: list[str] | None  # None: not asked when stored


def _digest(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


class ResultCache:
    """The cache of one run (one process of it): what the disk holds now is asked once per run."""

    def __init__(self, directory: str) -> None:
        self.directory = os.path.join(directory, f"{__version__}-{_FORMAT}")
        self.root = directory
        self._now: dict[str, str] = {}  # dependency -> its digest in this run
        self._writable: bool | None = None

    # -- reading ---------------------------------------------------------------------------------

    def lookup(self, path: str, data: bytes, settings: "Settings", ws: "Workspace", reach: bool) -> Hit | None:
        """The stored result for ``path`` (whose bytes are ``data``) when nothing it rests on
        changed; None otherwise."""
        entry_path = self._entry_path(path, settings, ws)
        try:
            with open(entry_path, "rb") as fh:
                raw = fh.read()
        except OSError:
            return None
        try:
            entry = _loads(raw)
            if entry["source"] != _digest(data):
                return None
            if any(self._current(key, ws) != digest for key, digest in entry["deps"]):
                return None
            if reach and entry["reached"] is None:
                return None
            return Hit([_finding(f) for f in entry["findings"]], list(entry["notices"]), entry["reached"])
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            ws.notice(f"{entry_path}: ignoring a corrupt result-cache entry ({type(exc).__name__}: {exc})")
            return None

    def _current(self, key: str, ws: "Workspace") -> str:
        digest = self._now.get(key)
        if digest is None:
            digest = self._now[key] = _state(key, ws)
        return digest

    # -- writing ---------------------------------------------------------------------------------

    def store(self, path: str, data: bytes, settings: "Settings", ws: "Workspace", reads: set[str],
              findings: list["Finding"], notices: list[str], reached: list[str] | None) -> None:
        """Keep the result of checking ``path``; a directory that cannot be written is said once."""
        if any(f.code == "AIC000" for f in findings) or not self._ready(ws):
            return  # an internal error is not a result
        deps = sorted((key, self._current(key, ws)) for key in ws.dependencies(reads))
        entry = {
            "source": _digest(data),
            "deps": deps,
            "findings": [_row(f) for f in findings],
            "notices": notices,
            "reached": reached,
        }
        import json  # only when writing: a warm run reads entries with json too, but stores none

        target = self._entry_path(path, settings, ws)
        tmp = f"{target}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(entry, fh, separators=(",", ":"))
            os.replace(tmp, target)
        except OSError as exc:
            _unlink(tmp)
            ws.notice(f"{self.root}: cannot write the result cache ({exc.strerror or exc})")

    def _ready(self, ws: "Workspace") -> bool:
        """Make the directory (with its .gitignore and CACHEDIR.TAG) once per run."""
        if self._writable is None:
            try:
                os.makedirs(self.directory, exist_ok=True)
                for name, text in ((".gitignore", "# Automatically created by aicache-lint.\n*\n"),
                                   ("CACHEDIR.TAG", _TAG)):
                    marker = os.path.join(self.root, name)
                    if not os.path.exists(marker):
                        with open(marker, "w", encoding="utf-8") as fh:
                            fh.write(text)
                self._writable = True
            except OSError as exc:
                ws.notice(f"{self.root}: cannot write the result cache ({exc.strerror or exc})")
                self._writable = False
        return self._writable

    def _entry_path(self, path: str, settings: "Settings", ws: "Workspace") -> str:
        relative, root = ws.spelling
        name = "\0".join((sys.version[:8], os.path.abspath(path), settings.fingerprint(), os.getcwd(),
                          str(relative), str(root)))
        return os.path.join(self.directory, _digest(name.encode("utf-8", "surrogateescape")) + ".json")


def _state(key: str, ws: "Workspace") -> str:
    """What ``key`` (a dependency a recording holds) is on disk now, as a digest."""
    from aicache_lint.workspace.index import BUILD_FILES, LISTED, PROBED

    if key == BUILD_FILES:
        return _digest("\0".join(sorted(os.path.abspath(p) for p in ws.build_files())).encode("utf-8", "surrogateescape"))
    if key.startswith(LISTED):
        try:
            names = sorted(os.listdir(key[len(LISTED):]))
        except OSError:
            return _MISSING
        return _digest("\0".join(names).encode("utf-8", "surrogateescape"))
    if key.startswith(PROBED):
        return "1" if os.path.isfile(key[len(PROBED):]) else "0"
    try:
        return _digest(read_bytes(key))
    except OSError:
        return _MISSING


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _loads(raw: bytes) -> dict[str, Any]:
    import json

    entry = json.loads(raw)
    if not isinstance(entry, dict):
        raise ValueError("not an entry")
    return entry


def _row(f: "Finding") -> list:
    fix = None if f.fix is None else [f.fix.title, f.fix.applicability.value, [list(e) for e in f.fix.edits]]
    return [f.code, f.name, f.message, f.severity.value, f.path, f.span.start, f.span.end,
            f.start.row, f.start.column, f.end.row, f.end.column, fix]


def _finding(row: list) -> "Finding":
    from aicache_lint.finding import Finding, Location, Severity
    from aicache_lint.fix import Applicability, Edit, Fix
    from aicache_lint.source import Span

    code, name, message, severity, path, start, end, row0, col0, row1, col1, fix = row
    made = None
    if fix is not None:
        title, applicability, edits = fix
        made = Fix(title, tuple(Edit(s, e, c) for s, e, c in edits), Applicability(applicability))
    return Finding(code, name, message, Severity(severity), path, Span(start, end),
                   Location(row0, col0), Location(row1, col1), made)
