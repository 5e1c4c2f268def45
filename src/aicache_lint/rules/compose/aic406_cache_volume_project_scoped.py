"""AIC406 cache-volume-project-scoped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Applicability, Edit, Fix
from aicache_lint.rules.base import ComposeContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.compose.model import Mapping, Pair

# What Docker accepts as a volume name.
_VOLUME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]+")


class CacheVolumeProjectScoped(Rule):
    """
    ## What it does
    Flags a top-level volume that holds a model cache -- a services mounts it at its `HF_HOME`,
    its hub cache, its `TORCH_HOME`, or the model directory of a known serving image (Ollama,
    ...) -- declared without `name:` and not `external`.

    ## Why is this bad?
    Compose creates such a volume as `<project>_<volume>` (the project name is the directory name
    or `name:`), so another Compose project that mounts `hf-cache` gets its own, empty
    `otherproject_hf-cache` and downloads the same gigabytes of models again. Renaming the folder
    or setting another project name also starts from an empty cache. With `name: hf-cache`, every
    project that declares it uses the one volume.

    Not every stack wants to share its cache across projects, so the rule is not in the default
    selection: enable it with `--extend-select AIC406`.

    ## Example
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        environment: [HF_HOME=/data/hf]
        volumes: [hf-cache:/data/hf]
    volumes:
      hf-cache:
    ```

    ## Use instead
    ```yaml
    services:
      whisperx:
        image: whisperx-api
        environment: [HF_HOME=/data/hf]
        volumes: [hf-cache:/data/hf]
    volumes:
      hf-cache:
        name: hf-cache
    ```

    ## Fix safety
    The fix adds `name: <volume>` under the declaration: on an empty entry as a new line indented
    one step of the file deeper, in a block mapping with the indentation of its keys, in a flow
    mapping as one more `name: …` entry. It is unsafe: the project then uses the volume
    `<volume>` instead of `<project>_<volume>`, so the models already downloaded are no longer
    seen (copy them over, or keep the old name with `name: <project>_<volume>`), and a volume of
    that name that another project already uses is shared from then on. Reported without a fix:
    an anchored, aliased or tagged declaration, an explicit `~`/`null`, and a name Docker would
    not accept.

    ## Options
    None.

    ## References
    - [Compose file reference: volumes, `name`](https://docs.docker.com/reference/compose-file/volumes/#name)
    - [Compose: specify a project name](https://docs.docker.com/compose/how-tos/project-name/)
    """

    code = "AIC406"
    name = "cache-volume-project-scoped"
    summary = "A model cache volume is scoped to the project (no `name:`)"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = Applicability.UNSAFE
    targets = ("compose",)
    default_enabled = False

    def check(self, ctx: ComposeContext) -> Iterator[Violation]:
        from aicache_lint.compose.model import Mapping

        root = ctx.doc.root
        section = root.own("volumes") if root is not None else None
        volumes = section.value if section is not None else None
        if not isinstance(volumes, Mapping) or volumes.tag or volumes.anchor:
            return
        caches = None
        for pair in volumes.pairs:
            if pair.is_merge:
                continue
            name = pair.name
            declared = ctx.project.volumes.get(name)
            if declared is None or declared.external or declared.explicit_name is not None:
                continue
            value = pair.value.target
            if isinstance(value, Mapping) and (value.get("name") is not None or value.get("external") is not None):
                continue  # `name: ${VOLUME}`: set, just not known here
            if caches is None:
                caches = _cache_volumes(ctx.project)
            if name not in caches:
                continue
            yield Violation(
                pair.key.span,
                f"model cache volume `{name}` has no `name:`: Compose creates it as `<project>_{name}`, "
                "so other projects cannot share its models and download them again",
                _fix(ctx, volumes, pair, name),
                ctx.source.path,
            )


def _cache_volumes(project) -> set[str]:
    """Named volumes that hold a model cache: mounted at a service's cache root (what AIC405 reads,
    ``volume_layouts``), or over the directory a service downloads its models to (Ollama's
    `/root/.ollama` holds its `models/`)."""
    from aicache_lint.compose.caches import covers, model_caches, volume_layouts

    found = {name for name, layouts in volume_layouts(project).items() if layouts - {"other"}}
    for service in project.services.values():
        named = [v for v in service.volumes if v.is_named and v.known and v.target and v.source not in found]
        if not named:
            continue
        directories = [c.directory for c in model_caches(service) if c.directory]
        for volume in named:
            if any(covers(volume, d) for d in directories):
                found.add(volume.source)
    return found


def _fix(ctx: ComposeContext, volumes: "Mapping", pair: "Pair", name: str) -> Fix | None:
    from aicache_lint.compose.edits import scalar
    from aicache_lint.compose.model import BLOCK, FLOW, Alias, Mapping, Scalar

    if not _VOLUME_NAME.fullmatch(name) or volumes.style != BLOCK or volumes.indent is None:
        return None
    value = pair.value
    if isinstance(value, Alias) or value.tag or value.anchor or pair.key.anchor or pair.key.tag:
        return None
    source = ctx.source
    entry = f"name: {scalar(name)}"
    title = f"Add `name: {name}` so every project shares the volume"
    if isinstance(value, Scalar):
        if not value.is_null or value.span.start != value.span.end:
            return None  # `~`, `null`, or not a mapping at all
        at = source.line_end(source.line_of(pair.key.span.end))
        indent = volumes.indent + _step(ctx, volumes)
        return Fix.unsafe(title, Edit.insert(at, f"\n{' ' * indent}{entry}"))
    if not isinstance(value, Mapping) or any(p.is_merge for p in value.pairs):
        return None
    if value.style == FLOW:
        if not value.pairs:
            close = value.span.end - 1
            if source.text[close] != "}":
                return None
            return Fix.unsafe(title, Edit.insert(close, entry))
        last = value.pairs[-1]
        return Fix.unsafe(title, Edit.insert(max(last.key.span.end, last.value.span.end), f", {entry}"))
    if value.indent is None or not value.pairs:
        return None
    last = value.pairs[-1]
    at = source.line_end(source.line_of(max(last.key.span.end, last.value.span.end)))
    return Fix.unsafe(title, Edit.insert(at, f"\n{' ' * value.indent}{entry}"))


def _step(ctx: ComposeContext, volumes: "Mapping") -> int:
    """How far the file indents a volume's keys under its name: as another declaration does, else
    as the top-level sections indent their keys."""
    from aicache_lint.compose.edits import child_indent
    from aicache_lint.compose.model import BLOCK, Mapping

    for pair in volumes.pairs:
        value = pair.value
        if isinstance(value, Mapping) and value.style == BLOCK and value.indent is not None \
                and value.indent > volumes.indent:
            return value.indent - volumes.indent
    root = ctx.doc.root
    step = volumes.indent - (root.indent or 0) if root is not None and root.indent is not None else 0
    return step if step > 0 else child_indent(ctx.doc)
