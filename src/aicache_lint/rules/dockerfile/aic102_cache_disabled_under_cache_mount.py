"""AIC102 cache-disabled-under-cache-mount."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.facts import State
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.words import key_values
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.package_cache import (
    PIP,
    UV,
    CacheTool,
    cache_mount_targets,
    covers,
    program_span,
    remove_word,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation, Word


class CacheDisabledUnderCacheMount(Rule):
    """
    ## What it does
    Flags a `RUN` that mounts the pip or uv cache and then turns that cache off: pip's
    `--no-cache-dir`, uv's `--no-cache` (or `-n`, `--no-cache-dir`), a `PIP_NO_CACHE_DIR=…` or
    `UV_NO_CACHE=…` prefix on the command, or an `ENV PIP_NO_CACHE_DIR` / `ENV UV_NO_CACHE` in force
    in the stage.

    ## Why is this bad?
    The cache mount is there to keep downloads between builds; with the cache disabled pip or uv
    never reads or writes it, so every build downloads everything again and the mount is dead
    weight. pip treats *any* non-empty `PIP_NO_CACHE_DIR` as "disable", even `0` or `false`;
    only an empty value leaves the cache on. uv reads `UV_NO_CACHE` as a boolean.

    ## Example
    ```dockerfile
    RUN --mount=type=cache,target=/root/.cache/pip \
        pip install --no-cache-dir -r requirements.txt
    ```

    ## Use instead
    ```dockerfile
    RUN --mount=type=cache,target=/root/.cache/pip \
        pip install -r requirements.txt
    ```

    ## Fix safety
    Removing the flag or the command prefix only affects that `RUN`, whose cache is a mount
    outside the image: safe. Removing an inherited `ENV` changes the image's environment and
    every later `RUN` of the stage (those without a mount would then keep pip's cache in their
    layer), so that fix is unsafe. A value set by `ARG` or by the base image is reported without
    a fix.

    ## Options
    None.

    ## References
    - [pip: disabling caching](https://pip.pypa.io/en/stable/topics/caching/#disabling-caching)
    - [uv cache](https://docs.astral.sh/uv/concepts/cache/)
    """

    code = "AIC102"
    name = "cache-disabled-under-cache-mount"
    summary = "A RUN mounts the pip/uv cache but disables the cache"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            state = facts.state(run)
            inherited_reported: set[str] = set()
            for inv in facts.invocations(run):
                for tool in (PIP, UV):
                    if not tool.downloading(inv):
                        continue
                    directory = tool.cache_dir(inv, state)
                    if directory is None or not _mounted(run, state, directory):
                        continue
                    yield from self._flags(ctx, run, inv, tool, directory)
                    yield from self._prefix(ctx, run, inv, tool, directory)
                    if (
                        tool.no_cache_env not in inv.env
                        and tool.no_cache_env not in inherited_reported
                        and not _unsets(inv, tool.no_cache_env)
                    ):
                        found = self._inherited(ctx, run, inv, tool, state, directory)
                        if found is not None:
                            inherited_reported.add(tool.no_cache_env)
                            yield found

    def _flags(self, ctx, run, inv: "Invocation", tool: CacheTool, directory: str) -> Iterator[Violation]:
        script = inv.command.script  # nested for `sh -c` / heredoc bodies: maps to the file
        for word in tool.disabling_flags(inv):
            span = script.file_span(word.start, word.end)
            edit = remove_word(ctx, inv, word)
            fix = Fix.safe(f"Remove `{word.raw}`", *edit) if edit and "=" not in word.value else None
            yield Violation(
                span,
                f"`{word.raw}` disables the {tool.label} cache that this RUN mounts at `{directory}`",
                fix,
            )

    def _prefix(self, ctx, run, inv: "Invocation", tool: CacheTool, directory: str) -> Iterator[Violation]:
        value = inv.env.get(tool.no_cache_env)
        if value is None or not tool.disables(None if value.has_expansion else value.value):
            return
        word = _assignment_word(inv, tool.no_cache_env)
        if word is None:
            return
        span = inv.command.script.file_span(word.start, word.end)
        edit = remove_word(ctx, inv, word)
        yield Violation(
            span,
            f"`{word.raw}` disables the {tool.label} cache that this RUN mounts at `{directory}`",
            Fix.safe(f"Remove `{word.raw}`", *edit) if edit else None,
        )

    def _inherited(self, ctx, run, inv, tool: CacheTool, state: State, directory: str) -> Violation | None:
        name = tool.no_cache_env
        if name not in state.run_env or not tool.disables(state.run_env[name]):
            return None
        if name not in state.env and state.args.get(name) is None:
            return None  # `ARG NAME` without a default: unset unless a --build-arg passes one
        setter = _last_setter(ctx, run, name)
        where = f"line {setter[0].start_line}" if setter else "a build argument"
        fix = None
        if setter is not None and setter[0].keyword == "ENV" and setter[1] is not None:
            fix = Fix.unsafe(f"Remove `{name}` from the `ENV` on line {setter[0].start_line}", *setter[1])
        kind = "ENV" if setter is not None and setter[0].keyword == "ENV" else "ARG"
        return Violation(
            program_span(ctx, run, inv),
            f"`{kind} {name}` ({where}) disables the {tool.label} cache that this RUN mounts at `{directory}`",
            fix,
        )


def _mounted(run: Instruction, state: State, directory: str) -> bool:
    return any(t is not None and covers(t, directory) for _, t in cache_mount_targets(run, state))


def _unsets(inv: "Invocation", name: str) -> bool:
    """Whether an `env` wrapper before the program drops ``name`` from the inherited environment:
    `env -u NAME`, `env -uNAME`, `env --unset=NAME`, or `env -i` / `env -` (DOMAIN §2.1: the
    per-RUN way to re-enable pip's cache under an image-level `PIP_NO_CACHE_DIR`)."""
    first = inv.program_words[0] if inv.program_words else None
    before: list[str] = []
    for word in inv.command.words:
        if word is first:
            break
        before.append(word.value)
    in_env = False
    for i, value in enumerate(before):
        if value.rsplit("/", 1)[-1] == "env":
            in_env = True
            continue
        if not in_env:
            continue
        nxt = before[i + 1] if i + 1 < len(before) else None
        if value in ("-i", "--ignore-environment", "-"):
            return True
        if value in ("-u", "--unset") and nxt == name:
            return True
        if value in (f"-u{name}", f"--unset={name}"):
            return True
    return False


def _assignment_word(inv: "Invocation", name: str) -> "Word | None":
    for word in [*inv.command.assignments, *inv.command.words]:
        if word.value.startswith(name + "="):
            return word
    return None


def _last_setter(
    ctx: DockerfileContext, run: Instruction, name: str
) -> tuple[Instruction, tuple[Edit, ...] | None] | None:
    """The ENV/ARG instruction of the run's stage chain that last set ``name``, and the edit that
    removes the setting (the whole line when it is the instruction's only pair)."""
    stage = ctx.facts.stage_of(run)
    if stage is None:
        return None
    for s in stage.chain():
        candidates = [i for i in s.instructions if i.keyword in ("ENV", "ARG")]
        if s is stage:
            candidates = [i for i in candidates if i.span.start < run.span.start]
        for instr in reversed(candidates):
            pairs = key_values(instr.args, instr.keyword, ctx.doc.escape)
            for pair in pairs:
                if pair.key != name:
                    continue
                if len(pairs) == 1:
                    return instr, (_delete_instruction(ctx, instr),)
                span = instr.args.file_span(pair.start, pair.end)
                return instr, edits.delete_word(ctx.source, span, ctx.doc.escape)
    return None


def _delete_instruction(ctx: DockerfileContext, instr: Instruction) -> Edit:
    source = ctx.source
    start = source.line_start(instr.start_line)
    end = source.line_start(instr.end_line + 1) if instr.end_line < source.line_count else len(source.text)
    if end == len(source.text) and not source.text.endswith("\n") and start > 0:
        start -= 1 if source.text[start - 1 : start] == "\n" else 0
        if start > 0 and source.text[start - 1] == "\r":
            start -= 1
    return Edit.delete(start, end)
