"""Writing files so that a reader never sees half of one: a temporary file in the same
directory, then ``os.replace``. Used for fixed Dockerfiles and Compose files, the network cache and
the tag table."""

from __future__ import annotations

import os


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory. An existing file
    keeps its mode; a new one is private to the user (``mkstemp``'s 0600)."""
    import tempfile  # only when writing: keeps it off the lint path

    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode: int | None = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".aicache-lint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
