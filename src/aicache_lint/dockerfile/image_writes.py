"""Where a Dockerfile's build may put files in its image: COPY/ADD destinations and what RUNs write.

A volume mounted over such a directory hides those files from the container: a new named volume
is filled from the image once, but one that already exists (shared with another service, or
created before the image changed) never is (Docker volumes docs, "populate a volume using a
container"; DOMAIN §6). So a fix must not mount a cache volume there. The answer errs towards
"may put files there":

- COPY/ADD put files at the destination (ARG/ENV expanded, against the WORKDIR; one that cannot
  be known could be anywhere). A source the build context shows as a file lands at
  `<dest>/<name>` (or is `<dest>` itself); a directory puts each of its entries below `<dest>`;
  any other source (`--from`, a glob, a URL, a heredoc, a missing path, `--parents`) may put
  anything below `<dest>`.
- A RUN may fill every path it names (arguments, `--option=path`, redirections, absolute paths
  inside code such as `python -c "...model.save('/tmp-data')"`; relative ones against its
  WORKDIR), and anything below it; `hf download` without `--local-dir` and a Python
  Hub download fill the hub cache; a program other than a package installer may write anything
  below an explicit WORKDIR. Commands that only make, own or remove directories (`mkdir`,
  `chown`, `rm`, ...) put no files. Paths below the RUN's own `--mount` targets stay out of the
  image. Words with a variable that cannot be known are skipped, as are the files of a base
  image that is not built here.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.dockerfile.facts import covers_path
from aicache_lint.dockerfile.words import expand

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Facts, Stage, State
    from aicache_lint.dockerfile.model import Instruction
    from aicache_lint.dockerfile.shell import Invocation

# Commands that create, own, remove or inspect paths but put no file content in them.
_NO_FILES = frozenset({
    "mkdir", "chown", "chmod", "chgrp", "rm", "rmdir", "ls", "test", "[", "[[", "true", "false", "export",
    "set", "unset", "echo", "printf", "id", "whoami", "which", "command", "type", "sleep", "useradd",
    "adduser", "groupadd", "addgroup", "usermod", "groupmod", "userdel", "ldconfig", "nvidia-smi", "nproc",
})
# Package installers: they write into system and site-packages directories, not their working directory.
_INSTALLERS = frozenset({
    "pip", "uv", "apt-get", "apt", "apk", "dnf", "yum", "microdnf", "zypper", "conda", "mamba", "micromamba",
})
_ABSOLUTE_IN_TEXT = re.compile(r"(?<![\w$.-])/[\w.@%+,/-]*")
# An absolute path inside code passed as one word (`python -c "...model.save('/tmp-data')"`): at
# least one character after the slash, so a division sign is not the root.
_PATH_IN_CODE = re.compile(r"(?<![\w$.-])/[\w.@%+,-][\w.@%+,/-]*")


class ImageWrite(NamedTuple):
    path: str | None  # absolute and normalised; None: a destination that cannot be known
    below: bool  # True: anything below ``path`` may be written too (a directory copy, a script)
    line: int  # where the instruction starts
    what: str  # `COPY`, `ADD`, `RUN`

    def fills(self, directory: str) -> bool:
        """Whether this write may put files in ``directory`` or below it."""
        if self.path is None:
            return True
        return covers_path(directory, self.path) or (self.below and covers_path(self.path, directory))


class ContextEntry(NamedTuple):
    """What the build context holds at a COPY source path."""

    is_dir: bool
    names: tuple[str, ...]  # a directory's entries


ContextLookup = Callable[[str], "ContextEntry | None"]  # a source relative to the context -> entry or None


def image_writes(facts: "Facts", stage: "Stage", context: ContextLookup) -> list[ImageWrite]:
    """What the stage and the stages it is built FROM write into the image, in build order."""
    found: list[ImageWrite] = []
    for s in sorted(stage.chain(), key=lambda s: s.index):
        for instr in s.instructions:
            state = facts.state(instr)
            if instr.keyword in ("COPY", "ADD"):
                found.extend(_copy(facts, instr, state, context))
            elif instr.keyword == "RUN":
                found.extend(_run(facts, instr, state))
    return found


def first_filler(writes: list[ImageWrite], directory: str) -> ImageWrite | None:
    return next((w for w in writes if w.fills(directory)), None)


def _absolute(path: str, workdir: str) -> str:
    return posixpath.normpath(posixpath.join(workdir, path))


def _copy(facts: "Facts", instr: "Instruction", state: "State", context: ContextLookup) -> list[ImageWrite]:
    words = instr.json_args if instr.json_args is not None else instr.words
    if len(words) < 2:
        return []
    line, what = instr.start_line, instr.keyword
    raw_dest = expand(words[-1], state.run_env, facts.doc.escape)
    if raw_dest is None:
        return [ImageWrite(None, True, line, what)]
    dest = _absolute(raw_dest, state.workdir)
    whole = bool(instr.flags_named("from")) or bool(instr.flags_named("parents")) or bool(instr.heredocs)
    out: list[ImageWrite] = []
    for raw in words[:-1]:
        source = expand(raw, state.run_env, facts.doc.escape)
        entry = None
        if not whole and source and not _remote(source) and not any(c in source for c in "*?["):
            entry = context(source)
        if entry is None:
            out.append(ImageWrite(dest, True, line, what))
        elif entry.is_dir:
            out.extend(ImageWrite(posixpath.join(dest, name), True, line, what) for name in entry.names)
        elif what == "ADD":
            out.append(ImageWrite(dest, True, line, what))  # ADD unpacks a local archive into the destination
        else:
            name = posixpath.basename(posixpath.normpath(source))
            out.extend([ImageWrite(dest, False, line, what), ImageWrite(posixpath.join(dest, name), False, line, what)])
    return out


def _remote(source: str) -> bool:
    return "://" in source or source.startswith("git@")


def _run(facts: "Facts", instr: "Instruction", state: "State") -> list[ImageWrite]:
    from aicache_lint.dockerfile.hub_downloads import (
        hub_cache,
        is_hub_download,
        python_downloads,
    )

    line = instr.start_line
    mounted = _mount_targets(instr, state)
    paths: list[str] = []
    script = facts.script(instr)
    invs = facts.invocations(instr)
    explicit_workdir = state.workdir != "/"
    if script is None or script.opaque:
        text = instr.args.text + "".join(h.content for h in (instr.inner or instr).heredocs)
        paths.extend(m.group(0) for m in _ABSOLUTE_IN_TEXT.finditer(text))
        if explicit_workdir:
            paths.append(state.workdir)
    for inv in invs:
        paths.extend(_named_paths(inv, state, facts.doc.escape))
        if inv.program in _NO_FILES:
            continue
        if is_hub_download(inv) and not any(w.value.startswith("--local-dir") for w in inv.args):
            paths.append(hub_cache(state, {}) or "")
        elif inv.program not in _INSTALLERS and explicit_workdir:
            paths.append(state.workdir)
    paths.extend(d.cache or "" for d in python_downloads(instr, script, state))
    out: list[ImageWrite] = []
    for path in paths:
        if not path:
            continue
        path = _absolute(path, state.workdir)
        if not any(covers_path(m, path) for m in mounted):
            out.append(ImageWrite(path, True, line, "RUN"))
    return out


def _named_paths(inv: "Invocation", state: "State", escape: str) -> list[str]:
    """The paths an invocation may write: its words (the value of `--opt=value`) unless the program
    puts no files, and its output redirections."""
    words = list(inv.args) if inv.program not in _NO_FILES else []
    words += [r.target for r in inv.command.redirects if r.target is not None and r.op not in ("<", "<<", "<<<")
              and not (r.op.endswith("&") and r.target.value.isdigit())]
    found = []
    for w in words:
        value = expand(w.value, state.run_env, escape) if w.has_expansion else w.value
        if value is None:
            continue
        if value.startswith("-"):
            _, eq, value = value.partition("=")
            if not eq:
                continue
        if not value or _remote(value):
            continue
        if any(c.isspace() for c in value):  # a script or code: the absolute paths it names
            found.extend(m.group(0) for m in _PATH_IN_CODE.finditer(value))
        else:
            found.append(value)
    return found


def _mount_targets(instr: "Instruction", state: "State") -> list[str]:
    """Absolute targets of the RUN's `--mount`s (what is written there stays out of the image)."""
    targets = []
    for flag in (instr.inner or instr).mounts:
        raw = flag.mount_target
        value = expand(raw, state.run_env) if raw else None
        if value:
            targets.append(_absolute(value, state.workdir))
    return targets
