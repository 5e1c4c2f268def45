"""AIC506 bake-target-without-cache."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Applicability, Fix
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule
from aicache_lint.source import Span

if TYPE_CHECKING:
    from aicache_lint.ci.bake_steps import BakeStep
    from aicache_lint.workspace.invocations import Invocation


class BakeTargetWithoutCache(Rule):
    """
    ## What it does
    Flags a Bake target that is built -- named by a group (the `default` group included), built
    by a workflow's `docker/bake-action` step, or inherited by no other target -- and that has no
    `cache-from` and no `cache-to`, neither its own nor through `inherits` (every level counts)
    nor from another Bake file of its directory (`docker-bake.override.hcl`). A target that only
    serves as a parent (`_common`) is not reported: each target built from it is, on its own
    block, because the cache belongs to each image (its own `scope`), not to the parent they share.
    HCL and JSON Bake files are read; variables and `${}` interpolation are followed as far as
    their defaults go. A `cache-from`/`cache-to` a variable or an expression decides
    (`cache-to = ["${CACHE_TO}"]`), or a bake-action `set: *.cache-to=...`, counts as set (also
    from a step whose targets an input or an undefined matrix name picks, for the targets it may
    build); a target with its own `no-cache = true` is built without cache on purpose, and one a
    reusable workflow the repository does not hold is given (`jobs.<id>.uses:` with the target in
    its `with:`, e.g. docker/github-builder's bake workflow) keeps the cache that workflow sets:
    neither is reported.

    ## Why is this bad?
    A build without cache import starts from nothing on every fresh builder, and CI runners are
    fresh: each run rebuilds every layer of the image, re-downloading CUDA bases, wheels and
    models. With `cache-to`/`cache-from` the next build reuses the layers that did not change.

    ## Example
    ```hcl
    group "default" {
      targets = ["app"]
    }

    target "app" {
      dockerfile = "Dockerfile"
      tags       = ["ghcr.io/acme/app:latest"]
    }
    ```

    ## Use instead
    ```hcl
    group "default" {
      targets = ["app"]
    }

    target "app" {
      dockerfile = "Dockerfile"
      tags       = ["ghcr.io/acme/app:latest"]
      cache-from = ["type=gha,scope=app"]
      cache-to   = ["type=gha,mode=max,scope=app"]
    }
    ```

    ## Fix safety
    The fix adds the two attributes at the end of the target's block (HCL: new lines in the
    block's indentation and the file's `=` alignment and newlines; a one-line block is opened
    onto lines) or after the last key of its JSON object, and changes nothing else.
    - When a workflow builds the target with `docker/bake-action` after
      `docker/setup-buildx-action` on a GitHub-hosted runner, it adds the GitHub Actions cache
      (`type=gha`, `mode=max`, one `scope` per target so images do not overwrite each other's
      cache). Safe.
    - When a workflow builds it but without `docker/setup-buildx-action` (the default `docker`
      driver cannot export this cache without the containerd image store) or on a runner that
      may be self-hosted, the same edit is unsafe, and its title says what it assumes.
    - When no workflow builds it and its own `tags` name the image, it adds a registry cache next
      to the image (`type=registry,ref=<repository>:buildcache`, the repository spelt as the tag
      spells it, variables included; `buildcache-<target>` when the tags of several targets name
      the same repository, so they do not overwrite each other's cache). Unsafe: it assumes the
      build pushes to that repository with a builder that can export cache.
    - Otherwise, and for a matrix target (its expanded targets need a scope each), it is
      reported without a fix.

    ## Options
    None.

    ## References
    - [Bake file reference](https://docs.docker.com/build/bake/reference/)
    - [Cache storage backends](https://docs.docker.com/build/cache/backends/)
    - [GitHub Actions cache backend](https://docs.docker.com/build/cache/backends/gha/)
    - [Registry cache backend](https://docs.docker.com/build/cache/backends/registry/)
    - [Cache management with GitHub Actions](https://docs.docker.com/build/ci/github-actions/cache/)
    - [docker/bake-action inputs](https://github.com/docker/bake-action#inputs)
    """

    code = "AIC506"
    name = "bake-target-without-cache"
    summary = "A built Bake target has no cache-from or cache-to"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = Applicability.SAFE
    targets = ("bake",)

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.ci.bake import tag_repository
        from aicache_lint.ci.bake_steps import bake_steps, reusable_workflow_words

        declared = _declared_targets(ctx)
        if not declared:
            return
        here = os.path.abspath(ctx.path)
        ws = ctx.workspace
        builds: dict[str, Invocation] = {}
        for inv in ws.invocations():
            if inv.origin.kind == "bake" and os.path.abspath(inv.origin.path) == here:
                builds.setdefault(inv.origin.name, inv)
        # A step whose Bake files an expression names (`${{ steps.meta.outputs.bake-file }}`) may load
        # this one: its targets count as built by it.
        steps = [s for s in bake_steps(ws) if s.loads(ctx.path) or s.files is None]
        repositories = [tag_repository(t.tags) for t in declared.values()]
        shared = {r for r in repositories if r is not None and repositories.count(r) > 1}
        for name, where in declared.items():
            if where.no_cache:
                continue
            builders = [s for s in steps if name in s.builds]
            runs = ([builds[name]] if name in builds else []) + [s.builds[name] for s in builders]
            if not runs or any(r.cache_from or r.cache_to for r in runs) or any(s.sets_cache(name) for s in builders):
                continue  # only a parent, declared first in another file, or cached
            if any(s.sets_cache(name) and s.may_build(name, where.matrix) for s in steps):
                continue  # a step that may build it (its targets not all known) sets its cache
            if name in reusable_workflow_words(ws):
                continue  # a reusable workflow the repository does not hold builds it, with its own cache

            fix, why_not = _fix(ctx, name, where, builders, shared)
            yield Violation(where.span, _message(ctx, name, runs[0], why_not), fix)


class _Target:
    """A target as this file writes it: where to report (its header or key), what to edit."""

    def __init__(self, span: Span, node, matrix: bool, tags, no_cache: bool) -> None:
        self.span = span
        self.node = node  # the HCL block or the JSON object
        self.matrix = matrix
        self.tags = tags  # its own `tags`, unevaluated (``ci.bake`` values), or None
        self.no_cache = no_cache  # `no-cache = true`: built without cache on purpose


def _declared_targets(ctx: BuildFileContext) -> dict[str, _Target]:
    from aicache_lint.ci.bake import hcl_value, json_value, written
    from aicache_lint.compose.model import Mapping

    found: dict[str, _Target] = {}
    if ctx.file.hcl is not None:
        for block in ctx.file.hcl.blocks:
            if block.kind == "target" and len(block.labels) == 1 and block.name not in found:
                tags, no_cache = block.attributes.get("tags"), block.attributes.get("no-cache")
                found[block.name] = _Target(Span(block.span.start, block.open_brace.end), block,
                                            "matrix" in block.attributes, hcl_value(tags.node) if tags else None,
                                            no_cache is not None and written(hcl_value(no_cache.node)) == "true")
        return found
    root = ctx.file.yaml.root if ctx.file.yaml is not None else None
    section = root.get("target") if isinstance(root, Mapping) else None
    section = section.target if section is not None else None
    for pair in section.pairs if isinstance(section, Mapping) else ():
        obj = pair.value.target if pair.value is not None else None
        if isinstance(obj, Mapping) and pair.name not in found:
            tags, no_cache = obj.get("tags"), obj.get("no-cache")
            found[pair.name] = _Target(pair.key.span, obj, obj.get("matrix") is not None,
                                       json_value(_plain(tags.target)) if tags is not None else None,
                                       no_cache is not None and _plain(no_cache.target) in (True, "true"))
    return found


def _plain(node):
    """A JSON node of the position tree as the value ``json.loads`` gives (strings and lists)."""
    from aicache_lint.compose.model import Scalar, Sequence

    if isinstance(node, Sequence):
        return [_plain(i.target) for i in node.items]
    return node.value if isinstance(node, Scalar) else None


def _message(ctx: BuildFileContext, name: str, inv: "Invocation", why_not: str | None) -> str:
    if inv.tags:
        image = "image " + ", ".join(f"`{t}`" for t in inv.tags)
    else:  # a function call or a matrix the evaluation does not follow is not the same as no tag
        image = "tags not evaluated" if any(u.startswith("tag") for u in inv.unresolved) else "no tag"
    if inv.dockerfile:
        from aicache_lint.ci import shown_path

        dockerfile = f"Dockerfile `{shown_path(inv.dockerfile, ctx.path, ctx.workspace.root)}`"
    else:
        dockerfile = "Dockerfile unknown"
    text = (f"bake target `{name}` ({image}, {dockerfile}) has no `cache-from` or `cache-to`, not even "
            f"through `inherits`: every build on a fresh builder, as in CI, rebuilds all its layers")
    return f"{text} (no automatic fix: {why_not})" if why_not else text


def _fix(ctx: BuildFileContext, name: str, where: _Target, builders: list["BakeStep"],
         shared: set[str]) -> tuple[Fix | None, str | None]:
    """The edit and its safety, or None and why not. ``shared``: repositories the tags of several
    targets of the file name (`acme/app:cpu`, `acme/app:gpu`): their caches get a tag each."""
    from aicache_lint.ci.bake import tag_repository

    if where.matrix:
        return None, "a matrix target: each target it expands to needs a cache scope of its own"
    if builders:
        entries = [("cache-from", [f"type=gha,scope={name}"]), ("cache-to", [f"type=gha,mode=max,scope={name}"])]
        title = f"Add a GitHub Actions cache (scope `{name}`) to bake target `{name}`"
        assumed = []
        if not all(s.buildx for s in builders):
            assumed.append("a buildx builder that exports cache: add docker/setup-buildx-action before docker/bake-action")
        if not all(s.hosted for s in builders):
            assumed.append("that the runner reaches GitHub's cache service (it may be self-hosted)")
        if assumed:
            title += f" (assumes {'; '.join(assumed)})"
        return _edit(ctx, where, entries, title, safe=not assumed)
    from aicache_lint.knowledge.build_cache_export import registry_assumption, registry_inputs

    repository = tag_repository(where.tags)
    if repository is None:
        why = "no workflow builds it and its own `tags` name no repository to keep a registry cache in"
        return None, why
    tag = f"buildcache-{name}" if repository in shared else "buildcache"
    cache_from, cache_to = registry_inputs(repository, tag)
    entries = [("cache-from", [cache_from]), ("cache-to", [cache_to])]
    title = (f"Cache bake target `{name}` in the registry at `{repository}:{tag}` (assumes the build pushes to "
             f"`{repository}` with a builder that exports cache, and {registry_assumption(repository, tag)}; "
             "no workflow builds it)")
    return _edit(ctx, where, entries, title, safe=False)


def _edit(ctx: BuildFileContext, where: _Target, entries: list[tuple[str, list[str]]], title: str,
          safe: bool) -> tuple[Fix | None, str | None]:
    from aicache_lint.ci.bake_edits import add_hcl_attributes, string_list
    from aicache_lint.json_edits import add_members

    rendered = [(key, string_list(values)) for key, values in entries]
    if ctx.file.hcl is not None:
        edits, why = add_hcl_attributes(ctx.file.hcl, where.node, rendered), "its one-line block holds a comment"
    else:
        edit = add_members(ctx.source, where.node, rendered)
        edits, why = [edit] if edit is not None else None, "its target is not a plain JSON object"
    if edits is None:
        return None, why
    return (Fix.safe(title, *edits) if safe else Fix.unsafe(title, *edits)), None
