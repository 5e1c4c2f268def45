"""AIC203 deprecated-hf-cache-variable."""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.words import key_values
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge import base_images
from aicache_lint.knowledge.model_cache import file_pins
from aicache_lint.rules.base import (
    ComposeContext,
    DockerfileContext,
    FixAvailability,
    Rule,
)
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

    In a Compose file, the same variables in a service's `environment` (list form `- NAME=value`
    and `- NAME`, map form `NAME: value` and `NAME:`, block or flow style), also when the service
    inherits them through a `<<` merge key. Top-level `x-` extension blocks are not services.

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
    values (transformers 4.x ranks them, a rename would not), and for `HUGGINGFACE_HUB_CACHE` in a
    text-generation-inference image -- built on its image, or one of its own Dockerfiles that copy in
    or start `text-generation-launcher` / `text-generation-router` --, which read that exact name.
    Scripts and application code outside the Dockerfile that read the old name are not seen.

    In Compose, the fix renames the name token of each entry (keeping the value and its quoting)
    and every `$${NAME}` / `$$NAME` (the container's variable) and `${NAME…}` / `$NAME`
    (interpolation) in the file. When the same environment already sets the replacement to the
    same value, the deprecated entry's line is deleted instead (no duplicate key). It is unsafe
    when the value comes from the shell (`- NAME`, `NAME:`) or when an interpolation is renamed:
    Compose then reads the shell's (or `.env`'s) new name. No fix -- a report only -- when the
    service's replacement is set to another value or one the file does not show (its Dockerfile,
    an `env_file`, the shell), when the entry comes from an anchor that other services share,
    when the name appears anywhere else (a `build.args` key, a script reading
    `os.environ["NAME"]`), when `.env` sets a renamed interpolation, and for
    `HUGGINGFACE_HUB_CACHE` in a text-generation-inference service.

    ## Options
    None.

    ## References
    - [Compose file reference: environment](https://docs.docker.com/reference/compose-file/services/#environment)
    - [huggingface_hub environment variables (deprecated ones)](https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#deprecated-environment-variables)
    - [transformers v5 migration guide: environment variables](https://github.com/huggingface/transformers/blob/main/MIGRATION_GUIDE_V5.md)
    - [transformers 4.x cache setup](https://huggingface.co/docs/transformers/installation#cache-setup)
    """

    code = "AIC203"
    name = "deprecated-hf-cache-variable"
    summary = "A deprecated Hugging Face cache or token variable is set"
    fix_availability = FixAvailability.SOMETIMES
    targets = ("dockerfile", "compose")

    def check(self, ctx: DockerfileContext | ComposeContext) -> Iterator[Violation]:
        if isinstance(ctx, ComposeContext):
            yield from _check_compose(ctx)
            return
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
        if name == "HUGGINGFACE_HUB_CACHE" and _is_tgi(ctx):
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


# -- Compose -------------------------------------------------------------------------------------
#
# The same variables in a service's `environment` (list `- NAME=value` / `- NAME`, map `NAME: value`
# / `NAME:`, block or flow). Only ``ctx.doc`` is edited; the merged project (base + override, the
# linked Dockerfile, env files) tells what else sets the replacement for the same service.

_TGI = "text-generation-inference"
# TGI's own binaries: text-generation-launcher and -router read `HUGGINGFACE_HUB_CACHE` by that name
# (huggingface/text-generation-inference `launcher/src/main.rs`, `router/src/server.rs`).
_TGI_BINARIES = ("text-generation-launcher", "text-generation-router")


def _is_tgi(ctx: DockerfileContext) -> bool:
    """The image is text-generation-inference: built on its image, or (its own Dockerfiles)
    copying in or starting its launcher or router."""
    if any((s.base or "").split("@")[0].split(":")[0].endswith(_TGI) for s in ctx.facts.stages):
        return True
    return any(
        (i.inner or i).keyword in ("COPY", "ADD", "ENTRYPOINT", "CMD") and any(b in (i.inner or i).args.text for b in _TGI_BINARIES)
        for i in ctx.doc.instructions
    )


class _EnvSetting(NamedTuple):
    name: str
    key: Span  # the name token
    editable: bool  # a plain or simply quoted scalar whose text holds the name as written
    node: object  # the list item or the map pair's key (compose model node)
    env: object  # the environment node (Mapping or Sequence) that holds it
    form: str  # "list" or "map"
    services: tuple[str, ...]  # services of ``ctx.doc`` that see this entry (more: a shared anchor)


def _check_compose(ctx: ComposeContext) -> Iterator[Violation]:
    settings = _compose_settings(ctx)
    fixes: dict[str, Fix | None] = {}
    for setting in settings:
        if setting.name not in RENAMES:
            continue
        name, new = setting.name, RENAMES[setting.name]
        if name not in fixes:
            fixes[name] = _compose_fix(ctx, name, settings)
        message = _message(name, new)
        if len(setting.services) > 1:
            message += f" (shared by services {', '.join(f'`{s}`' for s in setting.services)})"
        yield Violation(setting.key, message, fixes[name], ctx.source.path)


def _compose_settings(ctx: ComposeContext) -> list[_EnvSetting]:
    """Every entry of a deprecated or replacement name in the environments of the services written
    in ``ctx.doc`` (own or inherited through `<<` / aliases), once per written token, in file order."""
    from aicache_lint.compose.model import Mapping, Scalar, Sequence

    names = set(RENAMES) | set(RENAMES.values())
    root = ctx.doc.root
    services = root.get("services") if root is not None else None
    if not isinstance(services, Mapping):
        return []
    found: dict[int, list] = {}
    for pair in services.pairs:
        if pair.is_merge or pair.name.startswith("x-"):
            continue
        service = pair.value.target
        if not isinstance(service, Mapping):
            continue
        env = service.get("environment")
        if isinstance(env, Mapping):
            for name, entry in env.entries().items():
                key = entry.pair.key
                if name in names and isinstance(key, Scalar):
                    _record(ctx, found, name, key, env, "map", pair.name)
        elif isinstance(env, Sequence):
            for item in env.items:
                node = item.target
                if isinstance(node, Scalar) and not node.is_null:
                    name = node.value.partition("=")[0]
                    if name in names:
                        _record(ctx, found, name, node, env, "list", pair.name)
    out = []
    for start in sorted(found):
        name, span, editable, node, env, form, users = found[start]
        out.append(_EnvSetting(name, span, editable, node, env, form, tuple(dict.fromkeys(users))))
    return out


def _record(ctx: ComposeContext, found: dict, name: str, node, env, form: str, service: str) -> None:
    from aicache_lint.compose.model import DOUBLE, PLAIN, SINGLE

    start = node.span.start + (0 if node.style == PLAIN else 1)
    editable = node.style in (PLAIN, SINGLE, DOUBLE) and ctx.source.text[start:start + len(name)] == name
    if node.style == DOUBLE and "\\" in ctx.source.text[node.span.start:node.span.end]:
        editable = False
    if start in found:
        found[start][6].append(service)
        return
    found[start] = [name, Span(start, start + len(name)), editable, node, env, form, [service]]


def _compose_fix(ctx: ComposeContext, name: str, settings: list[_EnvSetting]) -> Fix | None:
    from aicache_lint.compose.caches import runtime

    new = RENAMES[name]
    own = [s for s in settings if s.name == name]
    if not all(s.editable and len(s.services) == 1 for s in own):
        return None  # escapes, or an anchor other services share: the rename would reach them too
    edits: list[Edit] = []
    unsafe: str | None = None
    for setting in own:
        service = ctx.project.services.get(setting.services[0])
        if service is None:
            return None
        rt = runtime(service)
        if name == "HUGGINGFACE_HUB_CACHE" and _runs_tgi(service, rt):
            return None  # its launcher reads this exact name (DOMAIN §3.4)
        if not rt.has(name):
            return None  # overridden away (`!reset`): what the service runs is not this entry
        value = rt.get(name)  # None: taken from the shell
        for other in _same_target(new, name):
            if rt.has(other) and (value is None or rt.get(other) != value):
                return None  # the replacement (or another alias of it) is set to something else
        var = service.environment.get(name)
        if var is not None and var.raw is None:
            unsafe = (f"the value comes from the shell's `{name}` when Compose runs; after the rename it "
                      f"comes from `{new}`")
        keeper = _keeper(settings, setting.env, new)
        if keeper is setting:
            edits.append(Edit(setting.key.start, setting.key.end, new))
        elif keeper is None or keeper.name != new:
            return None  # another alias is renamed first; this one is deleted once that is done
        else:
            delete = _delete_line(ctx, setting)
            if delete is None:
                return None
            edits.append(delete)
    refs = _compose_references(ctx, name, new, {s.key.start for s in own})
    if refs is None:
        return None
    ref_edits, host = refs
    if host:
        if any(name in f.env for f in ctx.project.files):
            return None  # `.env` sets it: renaming the reference would lose that value
        unsafe = unsafe or f"`${{{name}}}` is read from the shell or `.env` when Compose runs; it becomes `${{{new}}}`"
    edits.extend(ref_edits)
    title = f"Rename `{name}` to `{new}`"
    if unsafe:
        return Fix.unsafe(f"{title} ({unsafe})", *edits)
    return Fix.safe(title, *edits)


def _same_target(new: str, name: str) -> list[str]:
    """The replacement and the other deprecated names that set it."""
    return [new] + [n for n, r in RENAMES.items() if r == new and n != name]


def _runs_tgi(service, rt) -> bool:
    from aicache_lint.compose.images import repository

    if rt.image is not None and rt.image.name == _TGI:
        return True
    repo = repository(service.image) or ""
    return repo.rsplit("/", 1)[-1] == _TGI


def _keeper(settings: list[_EnvSetting], env, new: str) -> _EnvSetting | None:
    """In one environment node, the entry that carries ``new`` after the fix: the one already named
    so, else the first deprecated alias of it; the others are deleted (no duplicate keys)."""
    same = [s for s in settings if s.env is env and (s.name == new or RENAMES.get(s.name) == new)]
    return next((s for s in same if s.name == new), same[0] if same else None)


def _delete_line(ctx: ComposeContext, setting: _EnvSetting) -> Edit | None:
    """Delete the line of a block-style entry that stands alone on it (a trailing comment goes too)."""
    from aicache_lint.compose.model import BLOCK

    env = setting.env
    if getattr(env, "style", None) != BLOCK:
        return None
    source = ctx.source
    text = source.text
    if setting.form == "map":
        pair = next((p for p in env.pairs if p.key is setting.node), None)
        if pair is None or pair.key.anchor or pair.value.anchor or pair.value.tag:
            return None
        start, end = pair.span.start, pair.span.end
        lead = ""
    else:
        node = setting.node
        if node.anchor or node.tag:
            return None
        start, end = node.full_span.start, node.span.end
        lead = "-"
    line = source.line_of(start)
    if source.line_of(end) != line:
        return None
    before = text[source.line_start(line):start].strip()
    after = text[end:source.line_end(line)].strip()
    if before != lead or (after and not after.startswith("#")):
        return None
    stop = source.line_start(line + 1) if line < source.line_count else len(text)
    begin = source.line_start(line)
    if stop == len(text) and not source.final_newline:
        begin = source.line_end(line - 1) if line > 1 else begin  # keep the missing final newline
    return Edit.delete(begin, stop)


def _compose_references(ctx: ComposeContext, name: str, new: str,
                        keys: set[int]) -> tuple[list[Edit], bool] | None:
    """Edits renaming each `${NAME…}` / `$NAME` (host interpolation) and `$${NAME}` / `$$NAME`
    (the container's own variable) in the file, and whether a host interpolation was among them;
    None when the name appears anywhere else outside comments (a key of `args:`, a script reading
    `os.environ["NAME"]`): the rename could not follow it."""
    text = ctx.source.text
    comments = ctx.doc.comments
    out: list[Edit] = []
    host = False
    for m in re.finditer(re.escape(name), text):
        start, end = m.span()
        if (start and _IDENT.match(text[start - 1])) or (end < len(text) and _IDENT.match(text[end])):
            continue
        if start in keys or any(c.start <= start < c.end for c in comments):
            continue
        i = start - 1 if start and text[start - 1] == "{" else start
        dollars = 0
        while i - dollars - 1 >= 0 and text[i - dollars - 1] == "$":
            dollars += 1
        if dollars == 0:
            return None
        host = host or dollars % 2 == 1
        out.append(Edit(start, end, new))
    return out, host
