"""AIC131 buildkit-syntax-not-declared."""

from __future__ import annotations

import re
from typing import Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.build_cache import (
    DEFAULT_SYNTAX,
    insert_top_line,
    syntax_comments,
    syntax_in_force,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.source import Span

_IMAGE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")


class BuildkitSyntaxNotDeclared(Rule):
    """
    ## What it does
    Flags a Dockerfile that uses `RUN --mount=...` or a heredoc (`RUN <<EOF`, `COPY <<EOF ...`)
    but has no `# syntax=` parser directive. One finding per file, at the first such use.

    Not in the default selection: select `AIC131` to enable it.

    ## Why is this bad?
    Without the directive the build uses the builder's built-in Dockerfile frontend. Cache,
    secret and ssh mounts need frontend 1.2 and heredocs 1.4; Docker Engine 23 and later embed a
    frontend that has both, but older engines, the legacy (non-BuildKit) builder and some hosted
    builders reject `--mount` ("the --mount option requires BuildKit") or misread heredocs.
    `# syntax=docker/dockerfile:1` makes the build fetch a current 1.x frontend wherever it runs.

    It is opt-in because on Docker Engine 23+ the directive is not needed for these features,
    and it has a cost: every build resolves the frontend image from Docker Hub, which offline or
    air-gapped builders cannot do.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    RUN --mount=type=cache,target=/root/.cache/pip pip install torch
    ```

    ## Use instead
    ```dockerfile
    # syntax=docker/dockerfile:1
    FROM python:3.12-slim
    RUN --mount=type=cache,target=/root/.cache/pip pip install torch
    ```

    ## Fix safety
    The fix inserts `# syntax=docker/dockerfile:1` (or the `syntax` option) as the file's first
    line: after a UTF-8 BOM, which stays first; in front of an existing `# escape=` or `# check=`
    directive (the block stays unbroken); above a first-line comment such as a license header
    (a directive below a comment would be ignored); below a `#!` first line, which BuildKit's
    frontend selector skips. Safe: the rule is opt-in, so selecting it is the choice to pin the
    frontend, and every 1.x frontend from 1.4 on accepts the mounts and heredocs the file uses.
    No fix -- nor a finding -- when a `# syntax=` line exists anywhere in the file: one that
    BuildKit ignores is AIC130's to move, and a second one would be a parse error.

    ## Options
    - `syntax` (string, default `"docker/dockerfile:1"`): the frontend image the fix declares,
      e.g. `"docker/dockerfile:1.7"` to stay on 1.7.x.

    ## References
    - [Dockerfile reference: syntax directive](https://docs.docker.com/reference/dockerfile/#syntax)
    - [Custom Dockerfile syntax](https://docs.docker.com/build/buildkit/frontend/)
    - [Dockerfile release notes (1.2.0 mounts, 1.4.0 heredocs)](https://docs.docker.com/build/buildkit/dockerfile-release-notes/)
    - [BuildKit is the default builder since Docker Engine 23.0](https://docs.docker.com/build/buildkit/)
    """

    code = "AIC131"
    name = "buildkit-syntax-not-declared"
    summary = "RUN --mount or heredocs without a `# syntax=` directive"
    fix_availability = FixAvailability.SOMETIMES
    default_enabled = False
    default_options = {"syntax": DEFAULT_SYNTAX}

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        source = ctx.source
        if syntax_in_force(source) is not None or syntax_comments(ctx):
            return
        use = self._first_use(ctx)
        if use is None:
            return
        span, feature = use
        syntax = str({**self.default_options, **ctx.options}["syntax"]).strip()
        message = (
            f"{feature} with no `# syntax=` directive: the build depends on the builder's built-in frontend, "
            "which before Docker Engine 23 may not support it"
        )
        fix = None
        # A `# syntax=` line the frontend selector skips may still be one the parser reads (after a
        # no-break space): a second directive would then be a parse error.
        if _IMAGE_REF.fullmatch(syntax) and not any(d.name == "syntax" for d in ctx.doc.directives):
            fix = Fix.safe(f"Declare `# syntax={syntax}` on line 1", insert_top_line(source, f"# syntax={syntax}"))
        yield Violation(span, message, fix)

    @staticmethod
    def _first_use(ctx: DockerfileContext) -> tuple[Span, str] | None:
        for instruction in ctx.doc.instructions:
            target = instruction.inner or instruction
            if target.keyword == "RUN" and target.mounts:
                return target.mounts[0].span, "`RUN --mount` needs Dockerfile frontend 1.2+"
            if target.heredocs:
                return target.keyword_span, f"a heredoc in `{target.keyword}` needs Dockerfile frontend 1.4+"
        return None
