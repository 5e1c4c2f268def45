"""Shared logic of the build-family rules (AIC116, AIC117, AIC130, AIC131).

Two parts:

* the ``# syntax=`` directive as BuildKit's frontend selector sees it (DOMAIN §1.1): which line
  is in force, which ``# syntax=`` comments are ignored and why, where a directive can be
  inserted, and line-level edits that keep BOM, CRLF and final-newline state;
* cache-mount findings for tools whose cache dir is not ``~/.cache/<tool>`` (npm, yarn, pnpm, go,
  cargo): ``package_cache.CacheTool`` assumes the XDG layout, so the lookup lives here and the
  mount text, coverage test and uid/gid safety come from ``package_cache``.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.facts import State
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.fix import Edit, Fix, overlapping
from aicache_lint.knowledge import base_images
from aicache_lint.knowledge.package_cache import (
    cache_mount_targets,
    combine_plans,
    covers,
    mount_flag,
    remove_word,
    runs_under_sudo,
)
from aicache_lint.source import SourceText, Span

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation, Word
    from aicache_lint.rules.base import DockerfileContext

# -- the syntax directive ------------------------------------------------------------------------

# BuildKit's directive regexp after the comment marker (BK-dir); Go's `\s` is [\t\n\f\r ].
_WS = "[\t\n\f\r ]"
_DIRECTIVE_LINE = re.compile(rf"#{_WS}*([a-zA-Z][a-zA-Z0-9]*){_WS}*={_WS}*(.+?){_WS}*$")
_KNOWN = ("syntax", "escape", "check")
DEFAULT_SYNTAX = "docker/dockerfile:1"


class SyntaxLine(NamedTuple):
    line: int  # 1-based
    span: Span  # the comment, from `#` to the end of the line's content
    value: str
    value_span: Span


class BlockEnd(NamedTuple):
    """The line that ended the directive block and what it is."""

    line: int
    kind: str  # "blank line", "comment", "instruction", "unknown directive", "repeated directive"


def _line_directive(source: SourceText, line: int) -> tuple[str, str, Span] | None:
    """(lower-case key, value, value span) of a ``# key=value`` line (leading blanks allowed)."""
    text = source.line_text(line)
    lead = len(text) - len(text.lstrip(" \t\v\f\r"))
    m = _DIRECTIVE_LINE.match(text, lead)
    if m is None:
        return None
    start = source.line_start(line)
    return m.group(1).lower(), m.group(2), Span(start + m.start(2), start + m.end(2))


def has_shebang(source: SourceText) -> bool:
    """A first line starting with ``#!``: the frontend selector skips it (BK-dir ``discardShebang``)."""
    return source.text.startswith("#!")


def _content_lines(source: SourceText) -> int:
    """Number of lines with content (a final newline does not open a new line)."""
    count = source.line_count
    if count > 1 and source.line_start(count) == len(source.text):
        count -= 1
    return count


def directive_block(source: SourceText) -> tuple[list[tuple[int, str, str, Span]], BlockEnd | None]:
    """The directive block as BuildKit's frontend selector reads it (``DetectSyntax``): after an
    optional BOM (never in ``source.text``) and a ``#!`` first line, the unbroken run of
    ``# syntax|escape|check=`` lines; and the line that ended it (None at end of file)."""
    block: list[tuple[int, str, str, Span]] = []
    seen: set[str] = set()
    first = 2 if has_shebang(source) else 1
    for line in range(first, _content_lines(source) + 1):
        text = source.line_text(line).strip(" \t\v\f\r")
        found = _line_directive(source, line)
        if found is None or found[0] not in _KNOWN:
            if not text:
                kind = "blank line"
            elif text.startswith("#"):
                kind = "unknown directive" if found is not None else "comment"
            else:
                kind = "instruction"
            return block, BlockEnd(line, kind)
        if found[0] in seen:
            return block, BlockEnd(line, "repeated directive")
        seen.add(found[0])
        block.append((line, *found))
    return block, None


def syntax_in_force(source: SourceText) -> SyntaxLine | None:
    """The ``# syntax=`` line the frontend selector uses, if any."""
    block, _ = directive_block(source)
    for line, key, value, value_span in block:
        if key == "syntax":
            return SyntaxLine(line, _comment_span(source, line), value, value_span)
    return None


def syntax_comments(ctx: "DockerfileContext") -> list[SyntaxLine]:
    """Every comment line of the file that reads ``# syntax=<value>``, in file order."""
    source = ctx.source
    out = []
    for span in ctx.doc.comments:
        line = source.line_of(span.start)
        found = _line_directive(source, line)
        if found is not None and found[0] == "syntax":
            out.append(SyntaxLine(line, _comment_span(source, line), found[1], found[2]))
    # A `# syntax=` line of the block is recorded as a directive, not a comment: add it.
    for d in ctx.doc.directives:
        if d.name == "syntax":
            line = source.line_of(d.span.start)
            found = _line_directive(source, line)
            if found is not None and all(s.line != line for s in out):
                out.append(SyntaxLine(line, _comment_span(source, line), found[1], found[2]))
    return sorted(out)


def _comment_span(source: SourceText, line: int) -> Span:
    text = source.line_text(line)
    start = source.line_start(line) + len(text) - len(text.lstrip(" \t\v\f\r"))
    return Span(start, source.line_end(line))


def top_offset(source: SourceText) -> int:
    """Where a new directive line goes: line 1, or line 2 below a ``#!`` first line. (The BOM is
    not part of ``source.text``, so offset 0 is already after it.)"""
    if not has_shebang(source):
        return 0
    return source.line_start(2) if source.line_count > 1 else len(source.text)


def insert_top_line(source: SourceText, line_text: str) -> Edit:
    """An edit adding ``line_text`` as the first directive line (newline style from the file)."""
    at = top_offset(source)
    if at == len(source.text) and at > 0 and not source.text.endswith("\n"):
        return Edit.insert(at, "\n" + line_text)  # a file that is only a shebang without newline
    return Edit.insert(at, line_text + "\n")


def delete_line(source: SourceText, line: int) -> Edit:
    """Delete ``line`` with its newline; a last line without a final newline takes the previous
    line's newline instead, so the final-newline state survives."""
    start = source.line_start(line)
    if line < source.line_count and source.line_start(line + 1) <= len(source.text):
        nxt = source.line_start(line + 1)
        if nxt > start and source.text[nxt - 1] == "\n":
            return Edit.delete(start, nxt)
    if line > 1:
        return Edit.delete(source.line_end(line - 1), len(source.text))
    return Edit.delete(start, len(source.text))


# `docker/dockerfile:experimental`, also spelled with Docker Hub's registry host.
_EXPERIMENTAL = re.compile(r"(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?docker/dockerfile:(experimental)")


def experimental_tag(value: str, value_span: Span) -> tuple[Span | None, bool] | None:
    """For a ``docker/dockerfile:experimental`` value: (span of the `experimental` tag, whether it
    can be rewritten -- not when pinned by digest); None for any other value."""
    ref = value.split(" ", 1)[0]
    m = _EXPERIMENTAL.fullmatch(ref.split("@", 1)[0])
    if m is None:
        return None
    if "@" in ref:
        return None, False
    return Span(value_span.start + m.start(1), value_span.start + m.end(1)), True


# -- cache mounts for tools with their own cache layout ----------------------------------------


class ToolDir(NamedTuple):
    """One cache directory a tool uses, with how it was found."""

    path: str | None  # absolute; None when it cannot be known
    why: str  # for messages: "`GOMODCACHE`", "`$GOPATH/pkg/mod`", ...
    fixable: bool = True  # False when the path rests on an UNVERIFIED default


class BuildTool(NamedTuple):
    label: str  # how messages name it
    programs: tuple[str, ...]  # canonical program names (shell.normalize)
    downloads: Callable[["Invocation"], bool]
    cache_dirs: Callable[["DockerfileContext", Instruction, "Invocation", State], list[ToolDir]]
    no_cache_flags: tuple[str, ...] = ()  # flags that bypass the cache; dropped by the fix
    effect: str = "every rebuild re-downloads them"
    unsafe_reason: str = ""  # when every fix for this tool may change the image


def env_value(inv: "Invocation", state: State, name: str) -> tuple[bool, str | None]:
    """(set?, value) of ``name`` for this command: command prefix, then the stage's ENV/ARG.
    The value is None when it is set to something that cannot be known."""
    word = inv.env.get(name)
    if word is not None:
        return True, (word.value if not word.has_expansion else None)
    scope = state.run_env
    if name in scope:
        return True, scope[name]
    return False, None


def absolute(value: str | None, state: State) -> str | None:
    if not value:
        return None
    return posixpath.normpath(posixpath.join(state.workdir, value))


def home_dir(inv: "Invocation", state: State) -> str | None:
    """The RUN's HOME as an absolute path, None when it cannot be known."""
    if state.user is None or (not state.is_root and runs_under_sudo(inv)):
        return None
    is_set, value = env_value(inv, state, "HOME")
    if is_set:
        return value if value and value.startswith("/") else None
    if not state.home_known:
        return None
    home = state.home
    return home if home and home.startswith("/") else None


def missing_dirs(run: Instruction, state: State, dirs: list[ToolDir], claimed: set[str] = frozenset()) -> list[ToolDir] | None:
    """The dirs of ``dirs`` that no cache mount covers; None when a mount's target cannot be
    known (no report is better than a wrong one). A dir that cannot be known counts as covered
    by any cache mount of the RUN, except one at a dir ``claimed`` by another tool of the RUN."""
    targets = cache_mount_targets(run, state)
    if any(t is None for _, t in targets):
        return None
    out = []
    for d in dirs:
        if d.path is None:
            if not any(t is not None and not any(covers(t, c) for c in claimed) for _, t in targets):
                out.append(d)
            continue
        if not any(covers(t, d.path) for _, t in targets if t is not None):
            out.append(d)
    return out


def _other_mount_over(run: Instruction, state: State, directory: str) -> bool:
    """A non-cache mount (a bind, e.g. `--mount=target=...` missing `type=cache`) at or above
    ``directory``: what the tool would see is unknowable, so no fix."""
    from aicache_lint.dockerfile.words import expand

    for flag in (run.inner or run).mounts:
        if flag.mount_type == "cache" or not flag.mount_target:
            continue
        value = expand(flag.mount_target, state.run_env)
        target = absolute(value, state) if value else None
        if target is None or covers(target, directory) or covers(directory, target):
            return True
    return False


class ToolFinding(NamedTuple):
    run: Instruction
    inv: "Invocation"
    missing: list[ToolDir]
    fix: Fix | None


def tool_findings(ctx: "DockerfileContext", tool: BuildTool, family: tuple[BuildTool, ...] = ()) -> Iterator[ToolFinding]:
    """For each RUN that downloads with ``tool`` without cache mounts at its cache dirs: the first
    such command, the missing dirs, and a fix when every missing dir is known and fixable.
    ``family``: the other tools whose known cache dirs do not count as a mount for ``tool``."""
    facts = ctx.facts
    for run in facts.runs():
        state = facts.state(run)
        claimed = {
            d.path
            for other in family
            if other is not tool
            for inv in facts.invocations(run)
            if inv.program in other.programs and other.downloads(inv)
            for d in other.cache_dirs(ctx, run, inv, state)
            if d.path
        }
        first: "Invocation | None" = None
        missing: list[ToolDir] = []
        invs: list["Invocation"] = []
        for inv in facts.invocations(run):
            if inv.program not in tool.programs or not tool.downloads(inv):
                continue
            found = missing_dirs(run, state, tool.cache_dirs(ctx, run, inv, state), claimed)
            if not found:
                continue
            first = first or inv
            invs.append(inv)
            for d in found:
                if d not in missing:
                    missing.append(d)
        if first is None:
            continue
        yield ToolFinding(run, first, missing, _fix(ctx, run, state, tool, missing, invs))


def _fix(
    ctx: "DockerfileContext", run: Instruction, state: State, tool: BuildTool, missing: list[ToolDir],
    invs: list["Invocation"],
) -> Fix | None:
    if not missing or any(d.path is None or not d.fixable for d in missing):
        return None
    paths = list(dict.fromkeys(d.path for d in missing if d.path))
    if any(_other_mount_over(run, state, p) for p in paths):
        return None
    plan = combine_plans([mount_flag(ctx, run, path, state) for path in paths])
    if plan.flag is None:
        return None
    edit_list: list[Edit] = [edits.add_flag(run, plan.flag)]
    for inv in invs:
        for word in inv.args:
            if word.value in tool.no_cache_flags:
                removed = remove_word(ctx, inv, word)
                if removed is None:
                    return None
                edit_list.extend(removed)
    if overlapping(edit_list):
        return None
    if tool.unsafe_reason:
        plan = plan._replace(unsafe="; ".join(filter(None, (tool.unsafe_reason, plan.unsafe))))
    return plan.fix(f"Mount a {tool.label} cache at {', '.join(paths)}", *edit_list)


def program_span(inv: "Invocation") -> Span:
    """The span naming the command, e.g. ``npm ci``."""
    words = inv.program_words + inv.args[:1]
    return inv.command.script.file_span(words[0].start, words[-1].end)


def option_present(args: list["Word"], *names: str) -> bool:
    return any(w.value in names or any(w.value.startswith(n + "=") for n in names if n.startswith("--")) for w in args)


def tool_message(tool: BuildTool, missing: list[ToolDir]) -> str:
    known = [d.path for d in missing if d.path]
    unknown = list(dict.fromkeys(d.why for d in missing if not d.path))
    if known:
        where = ", ".join(f"`{p}`" for p in known)
        message = f"`{tool.label}` runs with no cache mount at {where}: {tool.effect}"
        if unknown:
            message += f"; another cache dir cannot be known ({'; '.join(unknown)})"
        return message
    return f"`{tool.label}` runs with no cache mount; its cache dir cannot be known ({'; '.join(unknown)})"


def base_repository(ctx: "DockerfileContext", run: Instruction) -> str | None:
    """The repository the RUN's stage is ultimately built from (``golang``, ``rust``)."""
    stage = ctx.facts.stage_of(run)
    return base_images.repository(stage.chain()[-1].base) if stage is not None else None


