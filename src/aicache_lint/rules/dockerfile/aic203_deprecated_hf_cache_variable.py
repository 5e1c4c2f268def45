"""AIC203 deprecated-hf-cache-variable."""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

from aicache_lint.dockerfile import base_images
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.words import key_values
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule
from aicache_lint.rules.dockerfile.model_cache import file_pins
from aicache_lint.source import Span

# Deprecated name -> its replacement (DOMAIN §3.1, §3.2).
TRANSFORMERS_VARS = ("TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE", "PYTORCH_PRETRAINED_BERT_CACHE")
RENAMES = {
    **{name: "HF_HUB_CACHE" for name in TRANSFORMERS_VARS},
    "HUGGINGFACE_HUB_CACHE": "HF_HUB_CACHE",
    "HUGGING_FACE_HUB_TOKEN": "HF_TOKEN",
}
_DECLARERS = frozenset({"export", "declare", "typeset", "readonly", "local"})
_IDENT = re.compile(r"[A-Za-z0-9_]")


class Setting(NamedTuple):
    name: str
    key: Span  # the name token in the file
    value: str | None  # raw value text; None when it cannot be read (ARG without default, `export NAME`)
    instruction: Instruction
    editable: bool  # False for the JSON strings of an exec-form RUN


class DeprecatedHfCacheVariable(Rule):
    """
    ## What it does
    Flags the deprecated Hugging Face variables `TRANSFORMERS_CACHE`,
    `PYTORCH_TRANSFORMERS_CACHE`, `PYTORCH_PRETRAINED_BERT_CACHE`, `HUGGINGFACE_HUB_CACHE` and
    `HUGGING_FACE_HUB_TOKEN` where the Dockerfile sets them: in `ENV` and `ARG` (both the
    `NAME=value` and the legacy `ENV NAME value` form), and in `RUN` as `export NAME=…` or as a
    `NAME=… command` prefix (also inside `sh -c` and shell heredocs).

    ## Why is this bad?
    transformers 5 removed `TRANSFORMERS_CACHE`, `PYTORCH_TRANSFORMERS_CACHE` and
    `PYTORCH_PRETRAINED_BERT_CACHE`: after an upgrade they are silently ignored and models go to
    `~/.cache/huggingface/hub` -- outside the volume that was meant to keep them -- and are
    downloaded again by every container. transformers 4.x already warns about them.
    `HUGGINGFACE_HUB_CACHE` and `HUGGING_FACE_HUB_TOKEN` are the deprecated spellings of
    `HF_HUB_CACHE` and `HF_TOKEN` in huggingface_hub.

    The transformers variables name the *hub cache* directory (the one holding
    `models--org--name`), so their replacement is `HF_HUB_CACHE` with the same value -- not
    `HF_HOME`: `HF_HOME=/x` puts the hub cache in `/x/hub`, where none of the cached models are,
    so everything would be downloaded again.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    ENV TRANSFORMERS_CACHE=/models
    RUN pip install transformers && mkdir -p $TRANSFORMERS_CACHE
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    ENV HF_HUB_CACHE=/models
    RUN pip install transformers && mkdir -p $HF_HUB_CACHE
    ```

    ## Fix safety
    The fix renames only the variable's name token -- in every place the file sets it and in every
    `$NAME` / `${NAME…}` reference -- and keeps the value, quoting and layout. It is safe: the
    libraries read the new name for the same directory or token.
    It is unsafe when an `ARG` is renamed (build scripts passing `--build-arg NAME=…` would no
    longer reach the build), when the file pins `huggingface_hub` below 0.19 (older hubs do not
    know `HF_HUB_CACHE`/`HF_TOKEN`), or, for the transformers variables, when it pins
    transformers below 4.22 (which used its own cache layout and does not read `HF_HUB_CACHE`).
    There is no fix -- a report only -- when the name also appears in a way that cannot be renamed
    with certainty (a Python heredoc reading `os.environ["TRANSFORMERS_CACHE"]`, an escaped
    `\\$NAME`, an exec-form `RUN`), when the replacement is already set to another value (or to a
    value the file does not show), when several deprecated cache variables are set to different
    values (transformers 4.x ranks them, a rename would not), and for `HUGGINGFACE_HUB_CACHE` on a
    text-generation-inference base, whose launcher reads that exact name.
    Scripts and application code outside the Dockerfile that read the old name are not seen.

    ## Options
    None.

    ## References
    - [huggingface_hub environment variables (deprecated ones)](https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#deprecated-environment-variables)
    - [transformers v5 migration guide: environment variables](https://github.com/huggingface/transformers/blob/main/MIGRATION_GUIDE_V5.md)
    - [transformers 4.x cache setup](https://huggingface.co/docs/transformers/installation#cache-setup)
    """

    code = "AIC203"
    name = "deprecated-hf-cache-variable"
    summary = "A deprecated Hugging Face cache or token variable is set"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        settings = _settings(ctx, set(RENAMES) | set(RENAMES.values()))
        fixes: dict[str, Fix | None] = {}
        for setting in settings:
            if setting.name not in RENAMES:
                continue
            name = setting.name
            new = RENAMES[name]
            if name not in fixes:
                fixes[name] = self._fix(ctx, name, settings)
            yield Violation(setting.key, _message(name, new), fixes[name])

    def _fix(self, ctx: DockerfileContext, name: str, settings: list[Setting]) -> Fix | None:
        new = RENAMES[name]
        own = [s for s in settings if s.name == name]
        if not all(s.editable for s in own):
            return None
        values = {s.value for s in own}
        # Other deprecated names, and the new name itself, that land on the same variable.
        rivals = [s for s in settings if s.name != name and (RENAMES.get(s.name) == new or s.name == new)]
        if any(s.value is None or s.value not in values for s in rivals) or (rivals and None in values):
            return None
        if any(base_images.lookup(s.base) is not None and _base_sets(s.base, new) for s in ctx.facts.stages):
            return None
        if name == "HUGGINGFACE_HUB_CACHE" and any(
            (s.base or "").split("@")[0].split(":")[0].endswith("text-generation-inference") for s in ctx.facts.stages
        ):
            return None
        edit_list = _reference_edits(ctx, name, new, own)
        if edit_list is None:
            return None
        edit_list.extend(Edit(s.key.start, s.key.end, new) for s in own)
        title = f"Rename `{name}` to `{new}`"
        reason = self._unsafe_reason(ctx, name, own)
        if reason:
            return Fix.unsafe(f"{title} ({reason})", *edit_list)
        return Fix.safe(title, *edit_list)

    def _unsafe_reason(self, ctx: DockerfileContext, name: str, own: list[Setting]) -> str | None:
        if any(s.instruction.keyword == "ARG" for s in own):
            return f"a `--build-arg {name}=…` passed by build scripts would no longer reach the build"
        pins = file_pins(ctx)
        hub = pins.get("huggingface-hub")
        if hub is not None and hub.below("0.19"):
            return f"the pinned huggingface_hub is older than 0.19 and does not read `{RENAMES[name]}`"
        tf = pins.get("transformers")
        if name in TRANSFORMERS_VARS and tf is not None and tf.below("4.22"):
            return "the pinned transformers is older than 4.22 and does not read `HF_HUB_CACHE`"
        return None


def _message(name: str, new: str) -> str:
    if name in TRANSFORMERS_VARS:
        return (
            f"`{name}` is deprecated and ignored by transformers 5: models would go back to "
            f"`~/.cache/huggingface/hub`; it names the hub cache, so use `{new}` with the same value (not `HF_HOME`)"
        )
    return f"`{name}` is a deprecated alias of `{new}`"


def _base_sets(base: str | None, var: str) -> bool:
    known = base_images.lookup(base)
    return known is not None and any(k == var for k, _ in known.env)


def _settings(ctx: DockerfileContext, names: set[str]) -> list[Setting]:
    """Every place the file sets one of ``names``, in file order."""
    out: list[Setting] = []
    escape = ctx.doc.escape
    facts = ctx.facts
    for instr in ctx.doc.instructions:
        if instr.keyword in ("ENV", "ARG"):
            args = instr.args
            for pair in key_values(args, instr.keyword, escape):
                if pair.key in names:
                    end = pair.start + len(pair.key)
                    out.append(
                        Setting(pair.key, args.file_span(pair.start, end), pair.raw_value, instr,
                                args.is_contiguous(pair.start, end))
                    )
        elif (instr.inner or instr).keyword == "RUN":
            script = facts.script(instr)
            if script is None:
                continue
            for command in script.commands:
                sub = command.script
                for word, value in _assignments(command, sub.exec_form):
                    name = _text(word, sub.exec_form).split("=", 1)[0]
                    if name not in names:
                        continue
                    start = word.start + (1 if sub.exec_form else 0)  # a JSON string's opening quote
                    span = sub.file_span(start, start + len(name))
                    contiguous = sub.source.is_contiguous(start, start + len(name))
                    out.append(Setting(name, span, value, instr, contiguous and not sub.exec_form))
    return out


def _text(word, exec_form: bool) -> str:
    return word.value if exec_form else word.raw


def _assignments(command, exec_form: bool = False) -> list[tuple[object, str | None]]:
    """(word, raw value) of each variable a simple command sets: `NAME=v cmd` prefixes and bare
    assignments, `export/declare … NAME=v` (value None for a bare `export NAME`), and the
    `NAME=v` operands of an `env` wrapper."""
    out = [(w, w.raw.split("=", 1)[1]) for w in command.assignments]
    words = command.words
    if words and words[0].value in _DECLARERS:
        for w in words[1:]:
            raw = _text(w, exec_form)
            if raw.startswith("-"):
                continue
            out.append((w, raw.split("=", 1)[1] if "=" in raw else None))
    elif words and words[0].value.rsplit("/", 1)[-1] == "env":
        for w in words[1:]:
            raw = _text(w, exec_form)
            if re.match(r"[A-Za-z_][A-Za-z0-9_]*=", raw):
                out.append((w, raw.split("=", 1)[1]))
            elif not raw.startswith("-"):
                break
    return out


def _reference_edits(ctx: DockerfileContext, name: str, new: str, own: list[Setting]) -> list[Edit] | None:
    """Edits renaming every `$NAME` / `${NAME…}` reference; None when the name appears anywhere
    else outside comments (it may be read by code the rename cannot follow)."""
    text = ctx.source.text
    keys = {s.key.start for s in own}
    comments = ctx.doc.comments
    out: list[Edit] = []
    for m in re.finditer(re.escape(name), text):
        start, end = m.span()
        if (start and _IDENT.match(text[start - 1])) or (end < len(text) and _IDENT.match(text[end])):
            continue  # part of a longer name
        if start in keys:
            continue
        if any(c.start <= start < c.end for c in comments):
            continue
        before = text[max(0, start - 3) : start]
        if before.endswith("${") and not before.endswith("\\${"):
            out.append(Edit(start, end, new))
        elif before.endswith("$") and not before.endswith("\\$"):
            out.append(Edit(start, end, new))
        else:
            return None
    return out
