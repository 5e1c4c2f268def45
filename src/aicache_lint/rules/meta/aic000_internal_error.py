"""AIC000 internal-error, AIC001 parse-error, AIC002 unused-suppression, AIC003 io-error: findings
the engine itself emits."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class InternalError(Rule):
    """
    ## What it does
    Reports that aicache-lint itself failed on a file: a rule raised an exception, or a fix loop
    did not converge (a cycle, the pass limit) or produced a file that no longer parses.

    ## Why is this bad?
    The file was not fully checked, or its fixes were not applied. The original text is kept
    untouched. Please report it with the file that triggers it.

    ## Example
    ```text
    Dockerfile:1:1: AIC000 rule AIC101 failed: IndexError: list index out of range
    ```

    ## Use instead
    Nothing to change in the file; the finding names the rule involved.

    ## Fix safety
    No fix.

    ## Options
    None.

    ## References
    - The project's issue tracker.
    """

    code = "AIC000"
    name = "internal-error"
    summary = "aicache-lint failed on this file"
    severity = Severity.ERROR
    targets = ()


class ParseError(Rule):
    """
    ## What it does
    Reports a Dockerfile that BuildKit would refuse to parse: an unknown instruction, an
    unterminated heredoc, a repeated or invalid parser directive.

    ## Why is this bad?
    The build fails before it starts. Fixes are not applied to a file that does not parse,
    because their effect on it cannot be known.

    ## Example
    ```dockerfile
    FROM python:3.12
    RUNN pip install torch
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12
    RUN pip install torch
    ```

    ## Fix safety
    No fix.

    ## Options
    None.

    ## References
    - [Dockerfile reference](https://docs.docker.com/reference/dockerfile/)
    """

    code = "AIC001"
    name = "parse-error"
    summary = "The file does not parse"
    severity = Severity.ERROR

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        for error in ctx.doc.errors:
            yield Violation(error.span, error.message)


class IoError(Rule):
    """
    ## What it does
    Reports a file that could not be read as text: unreadable, not UTF-8, binary, too large to be a
    real Dockerfile, or not a regular file at all (a FIFO, socket or device, which is never opened:
    reading one would wait for a writer or never end).

    ## Why is this bad?
    It was not checked. Other files are still checked.

    ## Example
    ```text
    Dockerfile.gpu:1:1: AIC003 cannot read file: file is not valid UTF-8 (byte 12: invalid start byte)
    ```

    ## Use instead
    Save the file as UTF-8, or exclude it. Pipe text that does not sit in a file to `-`
    (`cat Dockerfile | aicache-lint - --stdin-filename Dockerfile`).

    ## Fix safety
    No fix.

    ## Options
    None.

    ## References
    - [Dockerfile reference](https://docs.docker.com/reference/dockerfile/)
    """

    code = "AIC003"
    name = "io-error"
    summary = "The file cannot be read as text"
    severity = Severity.ERROR
    targets = ()


class UnusedSuppression(Rule):
    """
    ## What it does
    Reports a suppression comment (`# aicache-lint: ignore=...` above an instruction, or
    `# aicache-lint: ignore-file=...` in the top comment block) whose code suppressed nothing on
    this run, and codes that name no rule. Codes of rules that are not selected are not judged.

    ## Why is this bad?
    A stale suppression hides the next real problem of that kind at that place, and tells readers
    something that is no longer true.

    ## Example
    ```dockerfile
    # aicache-lint: ignore=AIC101 fixed long ago
    RUN --mount=type=cache,target=/root/.cache/pip pip install torch
    ```

    ## Use instead
    ```dockerfile
    RUN --mount=type=cache,target=/root/.cache/pip pip install torch
    ```

    ## Fix safety
    The fix removes the stale code from the list, or the whole comment line when no code is left.
    It only touches a comment, so it is safe. No fix for a comment that is not directly above an
    instruction or key (what it was meant for is unclear), and none that would delete a comment
    line ending the parser-directive block when `# syntax=` / `# escape=` / `# check=` lines follow:
    those would become directives and change the build.

    ## Options
    None.

    ## References
    - The README's "Suppressions" section.
    """

    code = "AIC002"
    name = "unused-suppression"
    summary = "A suppression comment suppresses nothing"
    fix_availability = FixAvailability.SOMETIMES
    targets = ()
