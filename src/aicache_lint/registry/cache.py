"""Answers from registries and Git remotes, kept on disk for a while so that repeated runs (and
parallel workers) ask once. One JSON file per question, written atomically; a file that cannot be
read as an entry is ignored (and reported), never trusted."""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

DEFAULT_TTL = 24 * 3600  # seconds: tags and branches move, but rarely within a day


class DiskCache:
    def __init__(self, directory: str, ttl: float = DEFAULT_TTL, now=time.time) -> None:
        self.directory = directory
        self.ttl = ttl
        self.now = now
        self.problems: list[str] = []  # what went wrong reading or writing entries

    def path(self, key: str) -> str:
        return os.path.join(self.directory, hashlib.sha256(key.encode()).hexdigest()[:40] + ".json")

    def get(self, key: str) -> Any | None:
        """The value stored for ``key`` when it is younger than the TTL, else None."""
        path = self.path(key)
        try:
            with open(path, "rb") as fh:
                entry = json.loads(fh.read().decode("utf-8"))
        except (FileNotFoundError, NotADirectoryError):  # no entry; `put` reports an unusable directory
            return None
        except (OSError, ValueError) as exc:
            self.problems.append(f"ignoring the unreadable cache file {path} ({_why(exc)})")
            return None
        if not (isinstance(entry, dict) and entry.get("key") == key and isinstance(entry.get("stored"), (int, float))
                and "value" in entry):
            self.problems.append(f"ignoring the corrupt cache file {path} (not an aicache-lint cache entry for {key})")
            return None
        if not 0 <= self.now() - entry["stored"] < self.ttl:
            return None
        return entry["value"]

    def put(self, key: str, value: Any) -> None:
        from aicache_lint.files import write_atomic

        data = json.dumps({"key": key, "stored": self.now(), "value": value}).encode("utf-8")
        try:
            os.makedirs(self.directory, exist_ok=True)
            write_atomic(self.path(key), data)
        except OSError as exc:
            self.problems.append(f"cannot write the cache directory {self.directory} ({_why(exc)})")


def _why(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"invalid JSON: {exc}" if isinstance(exc, ValueError) else str(exc)
