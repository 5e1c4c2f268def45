"""AIC302 unquoted-version-specifier."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Command, Redirect, Script

PACKAGE_PROGRAMS = frozenset("pip uv pipx conda mamba micromamba poetry".split())
_PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]*\])?")
_VERSIONISH = re.compile(r"=?[0-9*]")


class UnquotedVersionSpecifier(Rule):
    """
    ## What it does
    Flags a requirement with `<` or `>` that is not quoted in a shell-form `RUN`, as an argument
    of pip, uv, pipx, conda, mamba, micromamba or poetry: `pip install numpy>=1.24.0`,
    `pip install torch<2.0`, `uv pip install numpy>=1.24,<2`.

    ## Why is this bad?
    The shell reads `>` and `<` as redirections. `pip install numpy>=1.24.0` runs
    `pip install numpy` and writes pip's output to a file named `=1.24.0` in the image: the pin is
    silently lost and the build still passes. `torch<2.0` makes the shell read a file `2.0` and the
    build fails with "No such file".

    ## Example
    ```dockerfile
    RUN pip install numpy>=1.24.0 torch<2.6
    ```

    ## Use instead
    ```dockerfile
    RUN pip install "numpy>=1.24.0" "torch<2.6"
    ```

    ## Fix safety
    The fix wraps the whole requirement in double quotes, so `numpy>=1.24,<2` stays one word and
    `$VAR` inside it still expands. It restores what the line plainly meant, so it is safe. No fix
    when the requirement is split by spaces (`numpy >=1.24`), spans a line continuation, or
    already contains quotes: the intended word cannot be known. Exec-form `RUN`, requirement files
    and quoted words are not affected and not reported.

    ## Options
    None.

    ## References
    - [pip user guide: quoting requirement specifiers](https://pip.pypa.io/en/stable/user_guide/)
    - [POSIX shell: redirection](https://pubs.opengroup.org/onlinepubs/9799919799/utilities/V3_chap02.html#tag_19_07)
    """

    code = "AIC302"
    name = "unquoted-version-specifier"
    summary = "An unquoted `<`/`>` version specifier is a shell redirect"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            script = facts.script(run)
            if script is None:
                continue
            for inv in facts.invocations(run):
                if inv.program in PACKAGE_PROGRAMS:
                    # The command's own script: nested for `sh -c` / heredoc bodies, whose
                    # offsets do not index the RUN's script text.
                    yield from _check_command(ctx, inv.command.script, inv.command)


def _check_command(ctx: DockerfileContext, script: "Script", command: "Command") -> Iterator[Violation]:
    text = script.source.text
    redirects = sorted(command.redirects, key=lambda r: r.start)
    used: set[int] = set()
    for i, redirect in enumerate(redirects):
        if i in used or not _specifier_redirect(redirect):
            continue
        word = next((w for w in command.words if w.end == redirect.start), None)
        if word is None:
            target = redirect.target
            if target is not None and _VERSIONISH.match(target.value) and text[redirect.start - 1 : redirect.start].isspace():
                yield Violation(
                    script.file_span(redirect.start, redirect.end),
                    f"`{text[redirect.start:redirect.end]}` is a shell redirect, not a version "
                    "specifier: quote the whole requirement without spaces",
                )
            continue
        if not _PACKAGE.fullmatch(word.raw):
            continue
        end = redirect.end
        used.add(i)
        for j in range(i + 1, len(redirects)):
            nxt = redirects[j]
            if nxt.start != end or not _specifier_redirect(nxt):
                break
            used.add(j)
            end = nxt.end
        requirement = text[word.start:end]
        span = script.file_span(word.start, end)
        fixable = script.source.is_contiguous(word.start, end) and not any(q in requirement for q in "\"'\\`")
        fix = Fix.safe(f'Quote `"{requirement}"`', Edit(span.start, span.end, f'"{requirement}"')) if fixable else None
        yield Violation(
            span,
            f"`{requirement}` is not quoted: the shell reads `{redirect.op}` as a redirect and the "
            "version constraint is lost",
            fix,
        )


def _specifier_redirect(redirect: "Redirect") -> bool:
    return (
        redirect.op in (">", "<")
        and redirect.fd is None
        and redirect.heredoc is None
        and redirect.target is not None
        and redirect.target.start == redirect.start + len(redirect.op)  # `>=1.2`, not `> log`
        and bool(_VERSIONISH.match(redirect.target.value))
    )
