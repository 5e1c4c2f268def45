"""AIC505 weak-cache-mode."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.ci.steps import Step
    from aicache_lint.knowledge.build_cache_export import CacheEntry
    from aicache_lint.source import Span
    from aicache_lint.workspace.invocations import Invocation


class WeakCacheMode(Rule):
    """
    ## What it does
    Flags a build cache export of a GitHub workflow or composite action that keeps less than it
    could, in a `docker/build-push-action` step's `cache-to`, a `docker/bake-action` step's
    `set: <targets>.cache-to=...` line, or a `--cache-to` of a `docker buildx build` in a `run:`
    script:
    - `type=inline`, or `type=registry` / `type=gha` without `mode=max`, when the image is built
      from stages that do not end up in it (a builder stage it copies from): the default mode
      (`min`) exports only the layers of the final image. Not when the build also imports a cache
      this export does not write (another reference or scope, or one an expression picks): the
      builder stages may come from there (a job that exports them with `mode=max`);
    - `type=local` with `dest=`, unless the job moves the new cache over the old one afterwards
      (the usual `mv /tmp/.buildx-cache-new /tmp/.buildx-cache` step).

    ## Why is this bad?
    With `mode=min` (and inline cache, which knows no other mode) the builder stages of a
    multi-stage build -- where CUDA extensions and wheels are compiled -- are never cached: each
    run compiles them again, even when the final image's layers are found. A local cache
    directory keeps every blob ever exported: restored and saved again by `actions/cache`, it
    grows until it fills the cache quota or the disk.

    ## Example
    ```yaml
          - uses: docker/build-push-action@v6
            with:
              tags: ghcr.io/acme/app:latest
              cache-from: type=gha,scope=app
              cache-to: type=gha,scope=app
    ```

    ## Use instead
    ```yaml
              cache-to: type=gha,scope=app,mode=max
    ```

    ## Fix safety
    For a `gha` or `registry` export the fix adds `,mode=max` (or turns `mode=min` into
    `mode=max`): the cache then holds more layers, the build does the same. It is safe. The
    Dockerfile must be one the repository holds: when it cannot be read, or the stage built is
    unknown, nothing is reported. Reported without a fix: `type=inline` (moving to another
    backend needs a reference or a scope to choose), `type=local` (rotating the directory or moving
    to `type=gha` changes the workflow's steps), and an entry not written verbatim.

    ## Options
    None.

    ## References
    - [Docker: Cache storage backends, cache mode](https://docs.docker.com/build/cache/backends/#cache-mode)
    - [Docker: Inline cache](https://docs.docker.com/build/cache/backends/inline/): only `min` mode
    - [Docker: Local cache](https://docs.docker.com/build/cache/backends/local/): old cache entries are not deleted
    - [docker/build-push-action: local cache](https://github.com/docker/build-push-action/blob/v5/docs/advanced/cache.md#local-cache):
      the move step that keeps the directory from growing
    """

    code = "AIC505"
    name = "weak-cache-mode"
    summary = "A CI build exports a cache that drops builder stages or grows without bound"
    fix_availability = FixAvailability.SOMETIMES
    targets = ("workflow", "action")

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.ci.steps import BAKE, BUILD_PUSH, invocations_of, steps
        from aicache_lint.compose.model import Scalar
        from aicache_lint.knowledge.build_cache_export import entries, entry_spans, parse_entry

        all_steps = steps(ctx.file)
        for step in all_steps:
            builds = invocations_of(ctx.workspace, ctx.path, step)
            if step.uses == BUILD_PUSH:
                node = step.inputs.get("cache-to") if step.inputs is not None else None
                node = node.target if node is not None else None
                if not isinstance(node, Scalar):
                    continue
                spans = entry_spans(ctx.source, node)
                found = spans if spans is not None else [(entry, None) for entry in entries(node.value or "")]
                for entry, span in found:
                    yield from _check(ctx, all_steps, step, builds, entry, span or node.span, span is not None)
            elif step.uses == BAKE:
                for entry, span, targets in _bake_sets(ctx, step, builds):
                    yield from _check(ctx, all_steps, step, targets, entry, span, True)
            elif step.run is not None:
                seen = set()  # a matrix job runs the script once per entry
                for inv in builds:
                    for text in inv.cache_to:
                        span = _flag_span(ctx, step, text)
                        if span is not None and span not in seen:
                            seen.add(span)
                            yield from _check(ctx, all_steps, step, [inv], parse_entry(text), span, True)


def _check(ctx: BuildFileContext, all_steps: list["Step"], step: "Step", builds: list["Invocation"],
           entry: "CacheEntry", span: "Span", verbatim: bool) -> Iterator[Violation]:
    from aicache_lint.knowledge.build_cache_export import set_attribute

    if entry.type == "local" and "dest" in entry.attrs:
        if not _rotated(ctx, all_steps, step, entry.attrs["dest"]):
            yield Violation(span, f"`{entry.text}` keeps every blob ever exported: the directory grows without bound "
                            "while nothing replaces it. Export to a new directory and move it over the old one after "
                            "the build, or use `type=gha`", None)
        return
    if entry.type not in ("inline", "registry", "gha") or entry.mode == "max":
        return
    if _imports_elsewhere(builds, entry):
        return  # the stages may come from a cache another build exports (ollama's release jobs)
    dropped = _dropped_stages(ctx, builds)
    if not dropped:
        return
    stages = ", ".join(f"`{s}" for s in dropped[:3]) + (f" and {len(dropped) - 3} more" if len(dropped) > 3 else "")
    if entry.type == "inline":
        yield Violation(span, f"`{entry.text}` caches only the final image's layers: the stages it copies from "
                        f"({stages}) are rebuilt on every run. Inline cache has no `mode=max`: export to a registry "
                        "reference or to GitHub's cache with `mode=max` instead", None)
        return
    fix = Fix.safe("Export every stage (`mode=max`)", set_attribute(entry, span, "mode", "max")) if verbatim else None
    yield Violation(span, f"`{entry.text}` exports in `mode=min`, only the final image's layers: the stages it copies "
                    f"from ({stages}) are rebuilt on every run. Add `mode=max`", fix)


def _bake_sets(ctx: BuildFileContext, step: "Step", builds: list["Invocation"]):
    """(entry, where its value is written, the targets it applies to) for each
    `<pattern>.cache-to=<value>` line of a bake-action step's `set:` written verbatim."""
    import fnmatch

    from aicache_lint.ci.bake_steps import target_name
    from aicache_lint.ci.workflows import list_input
    from aicache_lint.compose.model import Scalar
    from aicache_lint.knowledge.build_cache_export import parse_entry
    from aicache_lint.source import Span

    node = step.inputs.get("set") if step.inputs is not None else None
    node = node.target if node is not None else None
    if not isinstance(node, Scalar) or not node.value:
        return
    raw = ctx.source.text[node.span.start:node.span.end]
    pos = 0
    for line in list_input(node.value, commas=False):  # stripped, comments dropped
        key, eq, value = line.partition("=")
        pattern, _, attribute = key.strip().rpartition(".")
        at = raw.find(line, pos)
        if attribute != "cache-to" or not eq or at < 0:
            continue
        pos = at + len(line)
        start = node.span.start + at + line.index(value.strip(), len(key))
        targets = [inv for inv in builds if fnmatch.fnmatchcase(target_name(inv) or "", pattern)]
        yield parse_entry(value), Span(start, start + len(value.strip())), targets


def _imports_elsewhere(builds: list["Invocation"], exported: "CacheEntry") -> bool:
    """A build also imports a cache this export does not write -- another reference or scope, or
    one an expression picks (`cache-from: ${{ matrix.cache-from }}`) -- which may hold the stages
    `mode=min` leaves out. Importing the image itself (what an inline cache is read from) is not
    such a cache."""
    from aicache_lint.knowledge.build_cache_export import parse_entry

    def source(entry: "CacheEntry") -> tuple:
        return entry.type, entry.attrs.get("ref"), entry.attrs.get("scope")

    for inv in builds:
        itself = {("registry", tag, None) for tag in inv.tags}
        for text in inv.cache_from:
            entry = parse_entry(text)
            if source(entry) not in {source(exported), *itself}:  # as written, expressions included
                return True
    return False


def _dropped_stages(ctx: BuildFileContext, builds: list["Invocation"]) -> list[str]:
    """The stages the builds need that their images do not contain (what `mode=min` leaves out),
    over every build whose Dockerfile and stage are known (each entry of a matrix); [] when none."""
    from aicache_lint.knowledge.model_cache import image_stages

    dropped: list[str] = []
    for inv in builds:
        loaded = ctx.workspace.dockerfile(inv.dockerfile, inv.args) if inv.dockerfile else None
        if loaded is None:
            continue
        facts = loaded[1]
        built = facts.final_stage
        if inv.target:
            built = next((s for s in facts.stages if s.name == inv.target.lower()), None)
        if built is None:
            continue
        chain = built.chain()
        label = f" of `{inv.tags[0]}`" if len(builds) > 1 and inv.tags else ""
        dropped += [f"{s.name or s.index}`{label}" for s in image_stages(built) if s not in chain]
    return list(dict.fromkeys(dropped))


def _rotated(ctx: BuildFileContext, all_steps: list["Step"], step: "Step", dest: str) -> bool:
    """A later step of the job moves ``dest`` (`mv /tmp/.buildx-cache-new /tmp/.buildx-cache`)."""
    from aicache_lint.ci.steps import earlier_steps

    before = {s.index for s in earlier_steps(all_steps, step)} | {step.index}
    move = re.compile(rf"\bmv\b[^\n;&|]*?(?<![\w./-]){re.escape(dest.rstrip('/'))}/?(?![\w./-])")
    return any(s.job_node is step.job_node and s.index not in before and s.run is not None and move.search(s.run.value)
               for s in all_steps)


def _flag_span(ctx: BuildFileContext, step: "Step", text: str):
    """Where a `--cache-to` value ``text`` is written in the step's `run:` script."""
    from aicache_lint.source import Span

    node = step.run
    raw = ctx.source.text[node.span.start:node.span.end]
    m = re.search(rf"--cache-to(?:=|\s+)['\"]?({re.escape(text)})", raw)
    return Span(node.span.start + m.start(1), node.span.start + m.end(1)) if m else None
