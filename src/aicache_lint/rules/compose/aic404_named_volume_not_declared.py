"""AIC404 named-volume-not-declared."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.rules.base import ComposeContext, FixAvailability, Rule


class NamedVolumeNotDeclared(Rule):
    """
    ## What it does
    Flags a named volume that a service mounts (`hf-cache:/data/hf`, or the long form with
    `type: volume` and `source: hf-cache`) but that no file of the Compose project declares under
    the top-level `volumes:` key. The project is the file together with the base or override file
    Compose loads with it, and the files it `include:`s. A short-syntax source that does not start
    with `.`, `/`, `~` (or a drive letter) is a volume name to Compose, so a relative host path
    written without `./` (`tools/asr/models:/models`) is flagged too: a volume name holds only
    letters, digits, `.`, `_` and `-`, so that volume can never be declared.

    ## Why is this bad?
    Compose refuses to start the project ("service … refers to undefined volume"), so the model
    cache the volume was meant to keep never exists. A bind mount (`./models:/models`, `/srv:/x`)
    is not a named volume and needs no declaration.

    ## Example
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        volumes:
          - hf-cache:/data/.huggingface
          - tools/asr/models:/workspace/models/asr_models
    ```

    ## Use instead
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        volumes:
          - hf-cache:/data/.huggingface
          - ./tools/asr/models:/workspace/models/asr_models
    volumes:
      hf-cache:
    ```

    ## Fix safety
    For a valid name, the fix adds an empty `name:` entry under the top-level `volumes:` of the
    file where the service mounts the volume, with the indentation of its siblings (or a new
    `volumes:` section at the end of the file, keeping a missing final newline). It only lets
    Compose create the volume it already refers to, so it is safe.
    For a short-syntax source with a `/`, the fix writes `./` before it, which makes it a bind
    mount of that directory next to the Compose file (created when missing). It is unsafe: it
    assumes a host directory was meant.
    Reported without a fix: a source that comes from a variable (`${MODELS}:/models` -- the
    declaration would depend on the variable's value; an unknown variable is not reported at
    all), a long-syntax `type: volume` whose `source:` has a `/` (the type says a volume was
    meant), any other name that is not valid (`hf cache`, `models@v1`), a top-level `volumes:`
    that is a flow mapping, an alias or tagged (`!reset`).

    ## Options
    None.

    ## References
    - [Compose file reference: volumes](https://docs.docker.com/reference/compose-file/volumes/)
    - [Compose file reference: services.volumes](https://docs.docker.com/reference/compose-file/services/#volumes)
    - [compose-go `format/volume.go`](https://github.com/compose-spec/compose-go/blob/main/format/volume.go):
      a short-syntax source is a path only when it starts with `.`, `/`, `~`, `\\\\` or a drive letter
    - [Compose schema](https://github.com/compose-spec/compose-spec/blob/main/schema/compose-spec.json):
      top-level volume names match `^[a-zA-Z0-9._-]+$`
    """

    code = "AIC404"
    name = "named-volume-not-declared"
    summary = "A named volume used by a service is not declared under top-level volumes"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    targets = ("compose",)

    def check(self, ctx: ComposeContext) -> Iterator[Violation]:
        from aicache_lint.compose.edits import declare_top_level_key
        from aicache_lint.compose.project import is_volume_name

        declared = set(ctx.project.volumes)
        fixes: dict[str, Fix | None] = {}  # one declaration per volume name in this file
        for service in ctx.project.services.values():
            for volume in service.volumes:
                if not volume.is_named or not volume.known or volume.source in declared:
                    continue
                here = volume.file == ctx.source.path
                name, who = volume.source, f"(service `{service.name}`)"
                if volume.interpolated:
                    yield Violation(volume.node.span, _from_variable(name, who), None, volume.file)
                elif "/" in name:
                    fix = _bind_fix(ctx, volume) if here else None
                    yield Violation(volume.node.span, _path_message(name, who, volume.syntax), fix, volume.file)
                elif not is_volume_name(name):
                    yield Violation(
                        volume.node.span,
                        f"`{name}` {who} is read as a named volume, but a volume name holds only letters, digits, "
                        "`.`, `_` and `-`: Compose refuses the project. Rename it, or write a host path that starts "
                        "with `./` or `/`",
                        None,
                        volume.file,
                    )
                else:
                    fix = None
                    if here:
                        if name not in fixes:
                            edit = declare_top_level_key(ctx.doc, ctx.source, "volumes", name)
                            title = f"Declare volume `{name}` under top-level `volumes:`"
                            fixes[name] = Fix.safe(title, edit) if edit else None
                        fix = fixes[name]
                    yield Violation(
                        volume.node.span,
                        f"named volume `{name}` {who} is not declared under top-level `volumes:`: Compose refuses "
                        "to start the project",
                        fix,
                        volume.file,
                    )


def _from_variable(name: str, who: str) -> str:
    from aicache_lint.compose.project import is_volume_name

    if is_volume_name(name):
        what = f"the named volume `{name}`, which is not declared under top-level `volumes:`"
    else:
        what = f"`{name}`, which is not a path (`./`, `/`, `~`) and so a volume name that cannot be declared"
    return (f"the volume source {who} comes from a variable and gives {what}: Compose refuses the project. "
            "No fix: the declaration would depend on the variable's value")


def _path_message(name: str, who: str, syntax: str) -> str:
    head = (f"`{name}` {who} is read as a named volume, not as a path (a relative host path starts with `./`), and "
            "a volume name cannot contain `/`: Compose refuses the project")
    if syntax == "long":
        return head + ". For a bind mount, write `type: bind` and a `source:` starting with `./`"
    return head


def _bind_fix(ctx: ComposeContext, volume) -> Fix | None:
    """Insert `./` before the short syntax's source, where it is written as is (no escapes)."""
    from aicache_lint.compose.model import DOUBLE, PLAIN, SINGLE, Scalar

    node = volume.node
    if volume.syntax != "short" or not isinstance(node, Scalar) or node.style not in (PLAIN, SINGLE, DOUBLE):
        return None
    start = node.span.start + (0 if node.style == PLAIN else 1)
    if ctx.source.text[start:start + len(volume.source) + 1] != volume.source + ":":
        return None
    return Fix.unsafe(
        f"Bind-mount `./{volume.source}` from the host (assumes a directory next to the Compose file was meant)",
        Edit.insert(start, "./"),
    )
