"""AIC302 unquoted-version-specifier."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.source import Span

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Command, Redirect, Script, Word

PACKAGE_PROGRAMS = frozenset("pip uv pipx conda mamba micromamba poetry".split())
_PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]*\])?")
# A version after `>`/`<`; `>=$VER` too (the `=` makes it a specifier, not a log file `>$LOG`).
_VERSIONISH = re.compile(r"=?[0-9*]|=\$")


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
    The fix wraps the whole requirement in quotes, so `numpy>=1.24,<2` stays one word and `$VAR`
    inside it still expands: double quotes normally, single quotes inside a double-quoted
    `sh -c "..."` script (and double inside a single-quoted one), so the outer quoting stays intact.
    It restores what the line plainly meant, so it is safe. No fix when the requirement is split by
    spaces (`numpy >=1.24`), spans a line continuation, already contains quotes (`"torch"<2.0` is
    reported), or sits in an unquoted or escaped nested script: the intended word cannot be known.
    Exec-form `RUN`, requirement files and quoted words are not affected and not reported.

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
        # Match the unquoted value: `"torch"<2.0` is as broken (reported, not fixed: it has quotes).
        if not _PACKAGE.fullmatch(word.value):
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
        quote = _quote_char(command, span) if fixable else None
        fix = Fix.safe(f"Quote `{quote}{requirement}{quote}`", Edit(span.start, span.end, f"{quote}{requirement}{quote}")) if quote else None
        yield Violation(
            span,
            f"`{requirement}` is not quoted: the shell reads `{redirect.op}` as a redirect and the "
            "version constraint is lost",
            fix,
        )


def _quote_char(command: "Command", span: Span) -> str | None:
    """The quote that keeps ``span`` one word at every level of shell that reads it, or None.

    A command inside `sh -c "..."` sits in the outer shell's quotes: a `"` written there would
    end the outer string and expose `>` to the outer shell, so inside double quotes the
    requirement gets single quotes, inside single quotes double ones; unquoted or mixed: no fix.
    """
    from aicache_lint.dockerfile.shell import normalize, shell_c_argument

    allowed = {'"', "'"}
    cmd = command
    while cmd.parent is not None:
        parent = cmd.parent
        if parent.script is not cmd.script:
            word = shell_c_argument(normalize(parent))
            if word is not None:  # None: a heredoc body, which no outer quoting wraps
                state = _quote_state(parent.script, word, span)
                allowed &= {"'": {'"'}, '"': {"'"}}.get(state or "", set())
        cmd = parent
    return '"' if '"' in allowed else ("'" if "'" in allowed else None)


def _quote_state(script: "Script", word: "Word", span: Span) -> str | None:
    """How the characters of ``span`` (file offsets) are quoted in ``word``'s raw text: `'`, `"`,
    or `""` (unquoted); None when mixed, escaped or not found."""
    raw, offsets = word.raw, script.source.offsets
    states: dict[int, str] = {}  # file offset of a raw character -> its quoting ("?": a quote/escape)
    quote, i = "", 0
    while i < len(raw):
        ch, at = raw[i], offsets[word.start + i]
        if quote and ch == quote:
            states[at], quote = "?", ""
        elif quote == "'":
            states[at] = "'"
        elif ch == "\\" or ch == "`":
            states[at] = "?"
            if ch == "\\" and i + 1 < len(raw):
                states[offsets[word.start + i + 1]] = "?"
                i += 1
        elif quote == '"':
            states[at] = '"'
        elif ch in "'\"":
            states[at], quote = "?", ch
        else:
            states[at] = ""
        i += 1
    found = {states.get(k) for k in range(span.start, span.end)}
    return found.pop() if len(found) == 1 and None not in found and "?" not in found else None


def _specifier_redirect(redirect: "Redirect") -> bool:
    return (
        redirect.op in (">", "<")
        and redirect.fd is None
        and redirect.heredoc is None
        and redirect.target is not None
        and redirect.target.start == redirect.start + len(redirect.op)  # `>=1.2`, not `> log`
        and bool(_VERSIONISH.match(redirect.target.value))
    )
