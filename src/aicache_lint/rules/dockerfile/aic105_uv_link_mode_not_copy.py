"""AIC105 uv-link-mode-not-copy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, NamedTuple

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.facts import Stage, State
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.shell import subcommand
from aicache_lint.dockerfile.words import key_values
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.package_cache import (
    UV,
    cache_mount_targets,
    covers,
    program_span,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.source import Span

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation, Word

VAR = "UV_LINK_MODE"


class _Mode(NamedTuple):
    value: str | None  # None: unset (uv's default)
    source: str  # "flag", "prefix", "stage" (ENV of this stage), "parent" (ENV of a parent stage), "arg", "image"
    word: "Word | None" = None  # the flag value / prefix value word
    setter: Instruction | None = None  # the ENV that sets it


class UvLinkModeNotCopy(Rule):
    """
    ## What it does
    Flags a uv command that installs packages (`uv sync`, `uv pip install`, `uv pip sync`,
    `uv run`, `uv add`, `uv tool install` ...) in a `RUN` that has its cache on a cache mount,
    while uv's link mode is not `copy`: `UV_LINK_MODE` unset (uv's default, `clone` or
    `hardlink`), set to another value by `ENV` (in this stage or a parent stage) or by a command
    prefix, or `--link-mode` on the command line.

    ## Why is this bad?
    uv links installed files from its cache. A cache mount is another filesystem, so hard links
    and clones fail: uv prints a warning for every build ("Failed to hardlink files; falling back
    to full copy") and copies anyway. With `symlink` it is worse: the installed files are
    symlinks into the cache mount, which is not part of the image, so the image ships dangling
    links. uv's Docker guide sets `ENV UV_LINK_MODE=copy` with the cache mount.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    ENV UV_LINK_MODE=copy
    RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked
    ```

    ## Fix safety
    - `--link-mode <mode>` / `--link-mode=<mode>` on the command, or a `UV_LINK_MODE=<mode>`
      prefix: the value becomes `copy`. uv already falls back to copying across the mount
      (and `symlink` gives a broken image), so this is safe. Not in an exec-form `RUN`
      (no fix there: the JSON string would need rewriting).
    - `UV_LINK_MODE` unset: the fix inserts `ENV UV_LINK_MODE=copy` (in the file's keyword case)
      on its own line right after the stage's `FROM`, so it is in force for every `RUN` of the
      stage -- also one that gets its cache mount from another fix later. The installed files
      are the same as uv's fallback copy; this is uv's documented recipe: safe. (The variable is
      then also in the image's environment, where it only changes how uv links.)
    - `ENV UV_LINK_MODE=<mode>` earlier in the same stage: the fix changes that value to `copy`.
      That `ENV` also applies to the stage's other `RUN`s and to the image at run time, and its
      value was chosen on purpose: unsafe.
    - `ENV UV_LINK_MODE=<mode>` in a parent stage: the fix inserts `ENV UV_LINK_MODE=copy` after
      this stage's `FROM`, overriding the inherited choice for the stage: unsafe.
    - No fix -- a report only -- when the value comes from a build argument (a `--build-arg`
      may change it) or from the base image, or for an `ONBUILD RUN`.
    A link mode that cannot be known (an `ARG` without a default, a variable in the flag) is
    not reported. A uv command with its cache disabled (`--no-cache`, `UV_NO_CACHE`) is left to
    AIC102.

    ## Options
    None.

    ## References
    - [uv: Using uv in Docker, caching](https://docs.astral.sh/uv/guides/integration/docker/#caching)
    - [uv settings: `link-mode`](https://docs.astral.sh/uv/reference/settings/#link-mode)
    - [uv environment variables: `UV_LINK_MODE`](https://docs.astral.sh/uv/reference/environment/#uv_link_mode)
    """

    code = "AIC105"
    name = "uv-link-mode-not-copy"
    summary = "uv installs with its cache on a mount while UV_LINK_MODE is not copy"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        insert_at: dict[tuple[int, str], Edit] = {}  # (stage, source) -> the ENV line insertion
        for run in facts.runs():
            state = facts.state(run)
            stage = facts.stage_of(run)
            env_reported = False
            for inv in facts.invocations(run):
                if not _installs(inv) or not _cache_mounted(run, state, inv):
                    continue
                mode = _mode(ctx, run, state, inv, stage)
                if mode is None or mode.value == "copy":
                    continue
                if mode.source in ("stage", "parent", "arg", "image", "default"):
                    if env_reported:
                        continue
                    env_reported = True
                yield self._finding(ctx, run, inv, mode, stage, insert_at)

    def _finding(self, ctx, run: Instruction, inv: "Invocation", mode: _Mode, stage: Stage | None, insert_at) -> Violation:
        shown = f"`{mode.value}`" if mode.value is not None else "unset (uv's default: `clone` or `hardlink`)"
        if mode.value == "symlink":
            why = "the installed files would be symlinks into the cache mount, which is not in the image"
        else:
            why = "uv cannot link across the mount, warns on every build and copies anyway"
        where = {
            "flag": "`--link-mode`", "prefix": f"`{VAR}`", "stage": f"`{VAR}`", "default": f"`{VAR}`",
            "parent": f"`{VAR}` (from a parent stage)", "arg": f"`{VAR}` (a build argument)",
            "image": f"`{VAR}` (from the base image)",
        }[mode.source]
        message = f"`uv` installs with its cache on a mount while {where} is {shown}: {why}; use `copy`"
        span = program_span(ctx, run, inv)
        fix = None
        script = inv.command.script
        if mode.source in ("flag", "prefix") and mode.word is not None:
            span = script.file_span(mode.word.start, mode.word.end)
            if not script.exec_form:
                fix = Fix.safe("Set the uv link mode to `copy`", Edit(span.start, span.end, "copy"))
        elif mode.source == "stage" and mode.setter is not None:
            fix = _change_env(ctx, mode.setter)
        elif mode.source in ("default", "parent") and run.inner is None and stage is not None:
            key = (stage.index, mode.source)
            if key not in insert_at:
                insert_at[key] = _env_line(ctx, stage)
            title = f"Add `ENV {VAR}=copy` after the stage's `FROM`"
            if mode.source == "default":
                fix = Fix.safe(title, insert_at[key])
            else:
                fix = Fix.unsafe(f"{title} (overrides `{VAR}={mode.value}` inherited from a parent stage)", insert_at[key])
        return Violation(span, message, fix)


def _installs(inv: "Invocation") -> bool:
    """A uv command that installs from the cache (resolving alone, `uv lock`, links nothing)."""
    if not UV.downloading(inv) or inv.program != "uv":
        return False
    words = subcommand(inv, 2)
    return words[:1] != ["lock"] and words[:2] != ["tool", "run"]


def _cache_mounted(run: Instruction, state: State, inv: "Invocation") -> bool:
    if UV.disabling_flags(inv) or UV.no_cache_env in inv.env or UV.disables(state.run_env.get(UV.no_cache_env, "")):
        return False  # the cache is off: AIC102's business
    directory = UV.cache_dir(inv, state)
    return directory is not None and any(t is not None and covers(t, directory) for _, t in cache_mount_targets(run, state))


def _mode(ctx, run: Instruction, state: State, inv: "Invocation", stage: Stage | None) -> _Mode | None:
    """The link mode in force and where it comes from; None when it cannot be known."""
    flag_word = None
    for i, w in enumerate(inv.args):
        if w.value == "--link-mode" and i + 1 < len(inv.args):
            flag_word = inv.args[i + 1]
        elif w.value.startswith("--link-mode="):
            flag_word = _value_part(w, len("--link-mode="))
    if flag_word is not None:
        return None if flag_word.has_expansion else _Mode(flag_word.value, "flag", flag_word)
    if VAR in inv.env:
        word = inv.env[VAR]
        return None if word.has_expansion else _Mode(word.value, "prefix", word)
    scope = state.run_env
    if VAR not in scope:
        return _Mode(None, "default")
    value = scope[VAR]
    if value is None:
        return None
    if VAR not in state.env:
        return _Mode(value, "arg")
    setter = _env_setter(run, stage, ctx.doc.escape)
    if setter is not None:
        return _Mode(value, "stage", setter=setter)
    if stage is not None and any(VAR in _env_keys(i, ctx) for s in stage.chain()[1:] for i in s.instructions):
        return _Mode(value, "parent")
    return _Mode(value, "image")


def _value_part(word: "Word", n: int) -> "Word":
    """The part of ``--opt=value`` after ``=`` as a word (the option name is unquoted)."""
    return word._replace(raw=word.raw[n:], value=word.value[n:], start=word.start + n, value_index=word.value_index[n:])


def _env_keys(instr: Instruction, ctx) -> list[str]:
    if instr.keyword != "ENV":
        return []
    return [kv.key for kv in key_values(instr.args, "ENV", ctx.doc.escape)]


def _env_setter(run: Instruction, stage: Stage | None, escape: str) -> Instruction | None:
    """The last ENV of the run's own stage, before it, that sets the variable."""
    if stage is None:
        return None
    found = None
    for instr in stage.instructions:
        if instr.span.start >= run.span.start:
            break
        if instr.keyword == "ENV" and any(VAR == kv.key for kv in key_values(instr.args, "ENV", escape)):
            found = instr
    return found


def _change_env(ctx: DockerfileContext, setter: Instruction) -> Fix | None:
    pairs = key_values(setter.args, "ENV", ctx.doc.escape)
    pair = next((p for p in reversed(pairs) if p.key == VAR), None)
    if pair is None:
        return None
    span: Span = setter.args.file_span(pair.start, pair.end)
    if ctx.source.line_of(span.start) != ctx.source.line_of(span.end):
        return None  # the pair runs over a continuation: not rewritten
    return Fix.unsafe(
        f"Set `{VAR}=copy` in the `ENV` on line {setter.start_line} (changes the stage's and the image's environment)",
        Edit(span.start, span.end, f"{VAR}=copy"),
    )


def _env_line(ctx: DockerfileContext, stage: Stage) -> Edit:
    """An ``ENV UV_LINK_MODE=copy`` line right after the stage's ``FROM``: in force for every RUN
    of the stage, so a RUN that gets its cache mount in a later fix pass needs no second line."""
    line = f"{edits.keyword(stage.from_instruction, ctx.source, 'ENV')} {VAR}=copy"
    return edits.insert_line_after(stage.from_instruction, line)
