"""Reading and writing the files the tool works on.

Reading opens regular files only: a FIFO blocks until something writes to it, a device such as
`/dev/zero` never ends, and opening a terminal or a tape drive has side effects, so none of them is
ever opened. Writing goes through a temporary file in the same directory and ``os.replace``, so
that a reader never sees half a file. Used for linted files, the files they refer to (Compose
includes, `.env` files, the Dockerfiles services build, configuration), fixed files, the network
cache and the tag table.
"""

from __future__ import annotations

import os
import stat

# Should the file be swapped for a FIFO between the check and the open, open() still returns
# at once (a FIFO opened for reading with O_NONBLOCK does not wait for a writer), and the check
# after the open refuses it. O_NOCTTY: a terminal never becomes the controlling one.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


class NotRegularFile(OSError):
    """The path names a FIFO, socket, device or directory, which is never read."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"not a regular file ({kind})")


def _kind(mode: int) -> str | None:
    """What a non-regular file is, from its ``st_mode``; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


def read_bytes(path: str) -> bytes:
    """The contents of the regular file at ``path`` (symbolic links followed). Raises OSError,
    ``NotRegularFile`` for anything that is not a regular file, without opening it."""
    kind = _kind(os.stat(path).st_mode)
    if kind:
        raise NotRegularFile(kind)
    fd = os.open(path, _OPEN_FLAGS)
    with open(fd, "rb") as fh:
        kind = _kind(os.fstat(fd).st_mode)
        if kind:
            raise NotRegularFile(kind)
        return fh.read()


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory. An existing file
    keeps its mode; a new one is private to the user (``mkstemp``'s 0600). A symbolic link is
    written through: its target is replaced and the link stays a link. The file at ``path`` is
    never opened (``os.replace`` swaps the directory entry), so a FIFO put there cannot block."""
    import tempfile  # only when writing: keeps it off the lint path

    path = os.path.realpath(path)
    directory = os.path.dirname(path)
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
