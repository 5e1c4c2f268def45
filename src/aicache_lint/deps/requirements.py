"""pip requirements and constraints files, with their `-r`/`-c` includes.

Read as pip reads them (pip's "Requirements File Format" reference,
https://pip.pypa.io/en/stable/reference/requirements-file-format/, and pip's
`req_file.py`): a line ending in `\\` continues on the next one; `#` at the start of a line or
after whitespace starts a comment (removed after joining); a line is a requirement followed by
options, or options only. `-r`/`--requirement` and `-c`/`--constraint` paths are relative to the
including file; inside a constraints file every include is a constraint too. Options such as
`--index-url`, `--hash` or `--find-links` change where packages come from, not which ones.
Environment markers are kept in the spec and not evaluated: a package behind a marker may be
installed.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable

from aicache_lint.deps import DepFile, Read, Requirement
from aicache_lint.knowledge.requirements import normalize

# PEP 508 names: letters and digits, with `-_.` inside.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".zip")
_INCLUDES = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}
_EDITABLE = ("-e", "--editable")


def requirement_name(spec: str) -> str | None:
    """The project name a requirement installs (not normalised): the PEP 508 name (`pkg[x]>=1`,
    `pkg @ url`), a VCS or archive URL's `#egg=` name, or a wheel's file name; None for a local
    project directory, an sdist URL without `#egg=`, or anything else whose name only a build
    would tell."""
    spec = spec.strip()
    egg = _EGG.search(spec)
    if egg:
        return egg.group(1)
    m = _NAME.match(spec)
    rest = spec[m.end():].lstrip() if m else ""
    if m and rest.startswith("@"):
        return m.group()  # `name @ url`
    if _is_url(spec) or _is_local(spec):
        base = posixpath.basename(spec.split("#", 1)[0].split("?", 1)[0].split(";", 1)[0].strip())
        return base.split("-", 1)[0] if base.endswith(".whl") else None  # PEP 427: name-version-...whl
    return m.group() if m and (not rest or rest[0] in "[(;<>=!~,") else None


def _is_url(spec: str) -> bool:
    return bool(_URL.match(spec)) or spec.startswith(("git+", "hg+", "svn+", "bzr+"))


def _is_local(spec: str) -> bool:
    path = spec.split(";", 1)[0].split("[", 1)[0].strip()
    return path in (".", "..") or path.startswith(("./", "../", "/", "~")) or (
        "/" in path and "@" not in path) or path.endswith(_ARCHIVES)


def read_requirements(path: str, read: Read, *, constraint: bool = False) -> DepFile:
    """The packages a requirements file asks for (``constraint``: the file is given with `-c`, so
    its entries only constrain), with every file it includes."""
    reader = _Reader(read)
    reader.file(path, constraint, None)
    return reader.result()


def read_requirement_lines(lines: Iterable[tuple[int, str]], path: str, read: Read) -> DepFile:
    """Requirement lines that live inside another file (the `pip:` list of a conda environment
    file), as (1-based line, text) pairs; `-r` includes are relative to ``path``'s directory."""
    reader = _Reader(read)
    reader.stack.append(path)
    for number, text in lines:
        reader.line(path, number, text, False)
    return reader.result()


class _Reader:
    def __init__(self, read: Read) -> None:
        self.read = read
        self.packages: list[Requirement] = []
        self.constraints: list[Requirement] = []
        self.files: list[str] = []
        self.problems: list[str] = []
        self.stack: list[str] = []  # the files being read, outermost first (to find cycles)
        self.done: set[tuple[str, bool]] = set()

    def result(self) -> DepFile:
        return DepFile(tuple(self.packages), tuple(self.files), tuple(self.problems), tuple(self.constraints))

    def file(self, path: str, constraint: bool, origin: str | None) -> None:
        """``origin``: where the include is written (`base.txt:3: -r x.txt`), None at the top."""
        if path in self.stack:
            cycle = " -> ".join([*self.stack[self.stack.index(path):], path])
            self.problems.append(f"{origin}: include cycle {cycle}")
            return
        if (path, constraint) in self.done:
            return  # included twice (not a cycle): its packages are already counted
        text = self.read(path)
        if text is None:
            self.problems.append(f"{origin}: {path} not found" if origin else f"{path} not found")
            return
        self.done.add((path, constraint))
        if path not in self.files:
            self.files.append(path)
        self.stack.append(path)
        for number, line in _logical_lines(text):
            self.line(path, number, line, constraint)
        self.stack.pop()

    def line(self, path: str, number: int, text: str, constraint: bool) -> None:
        text = _COMMENT.sub("", text).strip()
        if not text:
            return
        where = f"{path}:{number}"
        words = text.split()
        args = []
        for word in words:
            if word.startswith("-"):
                break
            args.append(word)
        if args:  # a requirement, then its per-requirement options (`--hash=...`)
            self.requirement(" ".join(args), path, number, constraint)
            return
        try:
            options = shlex.split(text)
        except ValueError:
            options = words
        i = 0
        while i < len(options):
            option, eq, value = options[i].partition("=")
            i += 1
            if option not in _INCLUDES and option not in _EDITABLE:
                short = option[:2]
                if option.startswith("--") or short not in ("-r", "-c", "-e") or eq:
                    continue  # an option that changes where packages come from, not which ones
                option, value, eq = short, option[2:], "="  # `-rbase.txt`
            if not eq:
                if i >= len(options):
                    self.problems.append(f"{where}: `{option}` without a value")
                    return
                value, i = options[i], i + 1
            if option in _EDITABLE:
                self.requirement(value, path, number, constraint, editable=True)
            else:
                self.include(value, path, where, constraint or _INCLUDES[option], option)

    def include(self, value: str, path: str, where: str, constraint: bool, option: str) -> None:
        origin = f"{where}: `{option} {value}`"
        if "${" in value:
            self.problems.append(f"{origin}: the path depends on an environment variable")
        elif _URL.match(value):
            self.problems.append(f"{origin}: a remote file is not read")
        else:
            self.file(posixpath.normpath(posixpath.join(posixpath.dirname(path), value)), constraint, origin)

    def requirement(self, spec: str, path: str, number: int, constraint: bool, editable: bool = False) -> None:
        name = requirement_name(spec) if "${" not in spec else None
        if name is None:
            what = "a local project" if _is_local(spec) and not _is_url(spec) else "a package whose name is not known"
            self.problems.append(f"{path}:{number}: `{'-e ' if editable else ''}{spec}` installs {what}; "
                                 "its packages are not read")
            return
        found = Requirement(normalize(name), spec, path, number)
        (self.constraints if constraint else self.packages).append(found)


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """(first line number, text) of each line with its `\\` continuations joined; a comment line
    never continues (pip's `join_lines`)."""
    parts: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), 1):
        comment = _COMMENT.match(line) is not None
        if line.endswith("\\") and not comment:
            if not parts:
                first = number
            parts.append(line[:-1])
            continue
        if parts:
            parts.append(" " + line if comment else line)
            yield first, "".join(parts)
            parts = []
        else:
            yield number, line
    if parts:
        yield first, "".join(parts)
