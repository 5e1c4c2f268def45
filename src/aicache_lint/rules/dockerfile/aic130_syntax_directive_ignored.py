"""AIC130 syntax-directive-ignored."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.build_cache import (
    SyntaxLine,
    delete_line,
    directive_block,
    experimental_tag,
    insert_top_line,
    syntax_comments,
    syntax_in_force,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule


class SyntaxDirectiveIgnored(Rule):
    """
    ## What it does
    Flags a `# syntax=` line that BuildKit does not use:

    - one below the directive block at the top of the file -- after a blank line, an ordinary
      comment (a license header, say), an unknown `# key=value` line or an instruction. BuildKit
      reads parser directives only in the unbroken run of `# syntax=`/`# escape=`/`# check=` lines
      that opens the file (after an optional BOM and, for the frontend choice, a `#!` first line);
      anywhere else the line is a plain comment and is silently ignored;
    - a second `# syntax=` line below the block while another one is in force (ignored as well);
    - `# syntax=docker/dockerfile:experimental`, the obsolete experimental channel.

    A repeated `# syntax=` *inside* the directive block is a parse error ("only one syntax parser
    directive can be used"): it is reported as AIC001 and not again here, since this rule would
    add nothing to that message and cannot know which of the two lines was meant.

    ## Why is this bad?
    An ignored directive does nothing: the build uses the builder's built-in frontend, not the one
    the line names. Features newer than that frontend fail, and the author believes the file is
    pinned to a frontend when it is not. The `experimental` channel predates the stable 1.x
    frontend: everything it introduced (`RUN --mount=type=cache|secret|ssh`) is stable since
    `docker/dockerfile:1.2`, and newer features such as heredocs are not in it.

    ## Example
    ```dockerfile
    # Copyright 2024 Example Corp.
    # syntax=docker/dockerfile:1
    FROM python:3.12-slim
    ```

    ## Use instead
    ```dockerfile
    # syntax=docker/dockerfile:1
    # Copyright 2024 Example Corp.
    FROM python:3.12-slim
    ```

    ## Fix safety
    - An ignored `# syntax=` line with no directive in force is moved to line 1, kept as written
      (a BOM stays before it; below a `#!` first line it goes on line 2, where BuildKit's
      frontend selector looks; existing `# escape=`/`# check=` directives stay in the block, below
      it). The fix is safe when the line sits above the first instruction: the line has no other
      meaning, so the author's intent is unambiguous. It is unsafe when the line sits below an
      instruction -- it may come from another Dockerfile pasted in -- because activating it
      switches the frontend of the whole file and makes every build resolve that image.
    - A second `# syntax=` line below the block with the same value as the one in force is
      deleted (safe: it is a dead comment). With a different value: report only -- which
      frontend was meant cannot be known.
    - `docker/dockerfile:experimental` becomes `docker/dockerfile:1` (only the tag is rewritten;
      a `docker.io/` prefix is kept). Safe: the experimental channel's features are stable since
      1.2 and the 1.x stable channel keeps backward compatibility, so every Dockerfile the
      experimental frontend accepted keeps its meaning; a moved line is rewritten the same way.
      Pinned by digest (`@sha256:`): report only, the digest was chosen on purpose.
    - No fix when the value holds a space (frontend arguments, or prose that only looks like a
      directive) or when the file has a parse error.

    ## Options
    None.

    ## References
    - [Dockerfile reference: parser directives](https://docs.docker.com/reference/dockerfile/#parser-directives)
    - [Dockerfile reference: syntax](https://docs.docker.com/reference/dockerfile/#syntax)
    - [Custom Dockerfile syntax (frontend channels)](https://docs.docker.com/build/buildkit/frontend/)
    - [BuildKit `parser/directives.go` (`DetectSyntax`)](https://github.com/moby/buildkit/blob/master/frontend/dockerfile/parser/directives.go)
    """

    code = "AIC130"
    name = "syntax-directive-ignored"
    summary = "A `# syntax=` line BuildKit ignores, or the obsolete experimental frontend"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        source = ctx.source
        in_force = syntax_in_force(source)
        _, block_end = directive_block(source)
        error_lines = {source.line_of(e.span.start) for e in ctx.doc.errors}
        instructions = ctx.doc.instructions
        first_instruction = instructions[0].start_line if instructions else source.line_count + 1
        reference = in_force
        for line in syntax_comments(ctx):
            if in_force is not None and line.line == in_force.line:
                yield from self._experimental(line)
                continue
            if line.line in error_lines:
                continue  # a repeat inside the block: AIC001 reports BuildKit's own error
            if reference is None:
                reference = line
                yield self._move(ctx, line, block_end, first_instruction)
            elif line.value == reference.value:
                yield Violation(
                    line.span,
                    f"this `# syntax=` line repeats the one on line {reference.line} below the directive block: "
                    "it is ignored",
                    Fix.safe("Delete the ignored duplicate `# syntax=` line", delete_line(source, line.line)),
                )
            else:
                which = "the frontend in force is" if reference is in_force else "the first such line names"
                yield Violation(
                    line.span,
                    f"this `# syntax=` line is ignored: {which} `{reference.value}` "
                    f"(line {reference.line}); keep the one you mean on line 1 and delete the other",
                )

    def _experimental(self, line: SyntaxLine) -> Iterator[Violation]:
        found = experimental_tag(line.value, line.value_span)
        if found is None:
            return
        tag, rewritable = found
        message = (
            "`docker/dockerfile:experimental` is the obsolete experimental frontend channel: its features "
            "are stable since `docker/dockerfile:1.2`; use `docker/dockerfile:1`"
        )
        fix = None
        if rewritable and tag is not None:
            fix = Fix.safe("Use the stable `docker/dockerfile:1` frontend", Edit(tag.start, tag.end, "1"))
        yield Violation(line.value_span, message, fix)

    def _move(self, ctx: DockerfileContext, line: SyntaxLine, block_end, first_instruction: int) -> Violation:
        source = ctx.source
        where = f" by the {block_end.kind} on line {block_end.line}" if block_end is not None else ""
        message = (
            f"this `# syntax=` line is ignored: parser directives must open the file, and the directive "
            f"block was ended{where}; the build uses the builder's built-in frontend"
        )
        text = source.text[line.span.start : line.span.end]
        if any(ch in line.value for ch in " \t"):
            return Violation(line.span, message)  # frontend arguments or prose: do not activate it
        experimental = experimental_tag(line.value, line.value_span)
        if experimental is not None:
            tag, rewritable = experimental
            if not rewritable or tag is None:
                return Violation(line.span, message)
            message += "; `docker/dockerfile:experimental` is obsolete, the moved line uses `docker/dockerfile:1`"
            offset = line.span.start
            text = text[: tag.start - offset] + "1" + text[tag.end - offset :]
        title = "Move the `# syntax=` line to the top of the file"
        edits = (insert_top_line(source, text), delete_line(source, line.line))
        if line.line < first_instruction:
            return Violation(line.span, message, Fix.safe(title, *edits))
        reason = (
            "it sits below an instruction and may belong to another Dockerfile; moving it switches the "
            "frontend of the whole file"
        )
        return Violation(line.span, message, Fix.unsafe(f"{title} ({reason})", *edits))
