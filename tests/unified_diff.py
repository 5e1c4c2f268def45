"""Apply a unified diff the way `patch -p0` would, strictly: the tests' check that `--diff` shows
exactly what `--fix` writes (no `patch` binary needed on the machine)."""

from __future__ import annotations

import re
from pathlib import Path

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_unified_diff(root: Path, diff: str) -> dict[str, bytes]:
    """The files of ``root`` with the unified ``diff`` applied, read strictly: every context and
    removed line must match, and a line without its newline must be marked `\\ No newline at end
    of file` (else it runs into the next line and breaks the patch)."""
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        assert lines[i].startswith("--- ") and lines[i + 1].startswith("+++ "), lines[i : i + 2]
        name = lines[i][4:].rstrip("\r\n")
        assert lines[i + 1][4:].rstrip("\r\n") == name
        rel = (Path(name).relative_to(root) if Path(name).is_absolute() else Path(name)).as_posix()
        data = files[rel]
        bom = data.startswith(b"\xef\xbb\xbf")
        old = data.decode("utf-8-sig").splitlines(keepends=True)
        new: list[str] = []
        pos = 0
        i += 2
        while i < len(lines) and lines[i].startswith("@@ "):
            match = _HUNK.match(lines[i])
            assert match, lines[i]
            start, old_left = int(match[1]), int(match[2] if match[2] is not None else 1)
            new_left = int(match[4] if match[4] is not None else 1)
            begin = start - 1 if old_left else start
            assert begin >= pos, f"{rel}: hunks out of order"
            new += old[pos:begin]
            pos = begin
            i += 1
            while old_left or new_left:
                tag, body = lines[i][:1], lines[i][1:]
                assert tag in " -+", f"{rel}: not a hunk line: {lines[i]!r}"
                if i + 1 < len(lines) and lines[i + 1].startswith("\\"):  # `\ No newline at end of file`
                    assert body.endswith("\n"), f"{rel}: a line lacks its newline: {body!r}"
                    body = body[:-1]
                    i += 1
                if tag in " -":
                    assert pos < len(old) and old[pos] == body, f"{rel}: {body!r} is not line {pos + 1}"
                    pos += 1
                    old_left -= 1
                if tag in " +":
                    new.append(body)
                    new_left -= 1
                i += 1
        new += old[pos:]
        files[rel] = (("\ufeff" if bom else "") + "".join(new)).encode("utf-8")
    return files
