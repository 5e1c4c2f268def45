"""AIC603 deprecated-hf-cache-variable-in-code."""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.python_env import DEPRECATED_CACHE_VARIABLES, TRANSFORMERS_CACHE_VARIABLES
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule
from aicache_lint.source import Span

# A plain string literal: optional r/u prefix, one quote character, no escapes in between.
_LITERAL = re.compile(r"""(?P<prefix>[rRuU]?)(?P<quote>['"])(?P<body>[A-Z_]+)(?P=quote)""")


class _Use(NamedTuple):
    name: str
    key: Span | None  # the name as written
    read: bool


class DeprecatedHfCacheVariableInCode(Rule):
    """
    ## What it does
    Flags the deprecated Hugging Face cache variables `TRANSFORMERS_CACHE`,
    `PYTORCH_TRANSFORMERS_CACHE`, `PYTORCH_PRETRAINED_BERT_CACHE` and `HUGGINGFACE_HUB_CACHE`
    where Python code sets or reads them: `os.environ["X"]` (assigned or read),
    `os.environ.get`, `os.environ.setdefault`, `os.environ.update` (dict or keyword form),
    `os.getenv` and `os.putenv`. The same variables in a Dockerfile or Compose file are AIC203.

    ## Why is this bad?
    transformers 5 removed `TRANSFORMERS_CACHE`, `PYTORCH_TRANSFORMERS_CACHE` and
    `PYTORCH_PRETRAINED_BERT_CACHE`: code that sets them no longer moves the cache, and models
    are downloaded into `~/.cache/huggingface/hub` -- outside the volume meant to keep them --
    in every new container; transformers 4.x already warns about them. `HUGGINGFACE_HUB_CACHE`
    is the old spelling of `HF_HUB_CACHE`: huggingface_hub still reads it, but only when
    `HF_HUB_CACHE` is unset.

    These variables name the *hub cache* directory (the one holding `models--org--name`), so
    the replacement is `HF_HUB_CACHE` with the same value -- not `HF_HOME`, which would put the
    cache in `<value>/hub`, where none of the cached models are.

    ## Example
    ```python
    import os
    os.environ["TRANSFORMERS_CACHE"] = "/models"
    ```

    ## Use instead
    ```python
    import os
    os.environ["HF_HUB_CACHE"] = "/models"
    ```

    ## Fix safety
    The fix renames the name inside each string literal (or `update()` keyword) that names the
    variable in the file, keeping the quotes, the prefix (`r"…"`) and everything else. It is safe
    when the file only sets the variable: the libraries read `HF_HUB_CACHE` for the same
    directory (huggingface_hub 0.19 and later, transformers 4.22 and later). It is unsafe when the
    file reads it: whatever sets the variable for this code (a Dockerfile, a Compose file, a
    shell) must then set `HF_HUB_CACHE` instead.

    There is no fix -- a report only -- when the file also sets or reads `HF_HUB_CACHE` or
    another deprecated name of it (code that falls back from one to the other would end up
    reading the same variable twice), when the name is written in a way a rename cannot follow
    (escapes, concatenated strings), or when the name appears as a string anywhere else in the
    file (it may reach the environment another way).

    ## Options
    None.

    ## References
    - [huggingface_hub environment variables (deprecated ones)](https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#deprecated-environment-variables)
    - [huggingface_hub `constants.py` (`HF_HUB_CACHE` falls back to `HUGGINGFACE_HUB_CACHE`)](https://github.com/huggingface/huggingface_hub/blob/main/src/huggingface_hub/constants.py)
    - [transformers v5 migration guide: environment variables](https://github.com/huggingface/transformers/blob/main/MIGRATION_GUIDE_V5.md)
    - [transformers 4.x cache setup](https://huggingface.co/docs/transformers/installation#cache-setup)
    """

    code = "AIC603"
    name = "deprecated-hf-cache-variable-in-code"
    summary = "Python code sets or reads a deprecated Hugging Face cache variable"
    fix_availability = FixAvailability.SOMETIMES
    targets = ("python",)

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        facts = ctx.file.data
        uses = sorted(
            [_Use(w.name, w.key, False) for w in facts.env_writes if w.name]
            + [_Use(r.name, r.key, True) for r in facts.env_reads if r.name],
            key=lambda u: u.key.start if u.key else 0,
        )
        fixes: dict[str, tuple[Fix | None, str | None]] = {}
        for use in uses:
            if use.name not in DEPRECATED_CACHE_VARIABLES or use.key is None:
                continue
            if use.name not in fixes:
                fixes[use.name] = _fix(ctx.source.text, use.name, uses)
            fix, why = fixes[use.name]
            yield Violation(use.key, _message(use.name) + (f"; not renamed: {why}" if why else ""), fix)


def _message(name: str) -> str:
    new = DEPRECATED_CACHE_VARIABLES[name]
    if name in TRANSFORMERS_CACHE_VARIABLES:
        return (f"`{name}` is deprecated and ignored by transformers 5: models would go back to "
                f"`~/.cache/huggingface/hub`; it names the hub cache, so use `{new}` with the same value (not `HF_HOME`)")
    return f"`{name}` is the deprecated spelling of `{new}` (huggingface_hub reads it only when `{new}` is unset)"


def _fix(text: str, name: str, uses: list[_Use]) -> tuple[Fix | None, str | None]:
    new = DEPRECATED_CACHE_VARIABLES[name]
    others = sorted({u.name for u in uses if u.name != name and DEPRECATED_CACHE_VARIABLES.get(u.name, u.name) == new})
    if others:
        return None, (f"the file also uses `{others[0]}`, which names the same directory: after the rename "
                      f"code falling back from one to the other would read `{new}` twice")
    own = [u for u in uses if u.name == name]
    edits = []
    for use in own:
        body = _body(text, use.key, name)
        if body is None:
            return None, f"`{name}` is written in a way the rename cannot follow"
        edits.append(Edit(body.start, body.end, new))
    elsewhere = _other_literals(text, name, {u.key.start for u in own})
    if elsewhere:
        return None, f"`{name}` also appears as a string on line {elsewhere}, which may reach the environment another way"
    title = f"Rename `{name}` to `{new}`"
    if any(u.read for u in own):
        return Fix.unsafe(f"{title} (the code reads it: whatever sets `{name}` for it -- a Dockerfile, a Compose "
                          f"file, a shell -- must set `{new}` instead)", *edits), None
    return Fix.safe(title, *edits), None


def _body(text: str, key: Span, name: str) -> Span | None:
    """Where the name's characters are in a plain literal or an `update()` keyword."""
    written = text[key.start:key.end]
    if written == name:
        return key
    m = _LITERAL.fullmatch(written)
    if m is None or m.group("body") != name:
        return None
    return Span(key.start + m.start("body"), key.start + m.end("body"))


def _other_literals(text: str, name: str, keys: set[int]) -> int | None:
    """The line of a string literal equal to ``name`` that is not one of the known uses."""
    from aicache_lint.python.names import string_literals

    if text.count(name) <= len(keys):
        return None
    return next((line for line, span in string_literals(text, name) if span.start not in keys), None)
