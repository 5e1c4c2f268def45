"""AIC404 named-volume-not-declared."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Fix
from aicache_lint.rules.base import ComposeContext, FixAvailability, Rule


class NamedVolumeNotDeclared(Rule):
    """
    ## What it does
    Flags a named volume that a service mounts (`hf-cache:/data/hf`, or the long form with
    `type: volume` and `source: hf-cache`) but that no file of the Compose project declares under
    the top-level `volumes:` key. The project is the file together with the base or override file
    Compose loads with it, and the files it `include:`s.

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
    ```

    ## Use instead
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        volumes:
          - hf-cache:/data/.huggingface
    volumes:
      hf-cache:
    ```

    ## Fix safety
    The fix adds an empty `name:` entry under the top-level `volumes:` of the file where the
    service mounts the volume, with the indentation of its siblings (or a new `volumes:` section at
    the end of the file, keeping a missing final newline). It only lets Compose create the volume
    it already refers to, so it is safe. No fix when the top-level `volumes:` is a flow mapping, an
    alias or tagged (`!reset`), or when the volume name depends on a variable that cannot be known.

    ## Options
    None.

    ## References
    - [Compose file reference: volumes](https://docs.docker.com/reference/compose-file/volumes/)
    - [Compose file reference: services.volumes](https://docs.docker.com/reference/compose-file/services/#volumes)
    """

    code = "AIC404"
    name = "named-volume-not-declared"
    summary = "A named volume used by a service is not declared under top-level volumes"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    targets = ("compose",)

    def check(self, ctx: ComposeContext) -> Iterator[Violation]:
        from aicache_lint.compose.edits import declare_top_level_key

        declared = set(ctx.project.volumes)
        fixes: dict[str, Fix | None] = {}  # one declaration per volume name in this file
        for service in ctx.project.services.values():
            for volume in service.volumes:
                if not volume.is_named or not volume.known or volume.source in declared:
                    continue
                fix = None
                if volume.file == ctx.source.path:
                    if volume.source not in fixes:
                        edit = declare_top_level_key(ctx.doc, ctx.source, "volumes", volume.source)
                        title = f"Declare volume `{volume.source}` under top-level `volumes:`"
                        fixes[volume.source] = Fix.safe(title, edit) if edit else None
                    fix = fixes[volume.source]
                yield Violation(
                    volume.node.span,
                    f"named volume `{volume.source}` (service `{service.name}`) is not declared under top-level "
                    "`volumes:`: Compose refuses to start the project",
                    fix,
                    volume.file,
                )
