"""AIC502 gha-cache-scope-shared."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterator, NamedTuple

from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.knowledge.build_cache_export import StepBuild
    from aicache_lint.workspace.invocations import Invocation


class GhaCacheScopeShared(Rule):
    """
    ## What it does
    Flags a `cache-to` of a `docker/build-push-action` step that exports to GitHub's cache
    (`type=gha`) under a scope that a build of another image also exports to: no `scope=` at all
    (the default scope, `buildkit`) or the same one. The builds compared are every build of the
    repository (steps, jobs, the entries of a matrix, other workflows, Compose and Bake files); a
    matrix step whose tag, target, Dockerfile, context, build args or `platforms` change with the
    matrix builds one image per entry, unless the scope's own matrix values already tell them
    apart (`scope=chart-${{ matrix.image }}` where each image has its own Dockerfile). One
    Dockerfile built the same way is one image, whichever registries it is pushed to. The message
    names the other builds.

    ## Why is this bad?
    Each export replaces the cache of its scope. Two images sharing one scope overwrite each
    other's cache on every run, so each build mostly finds the other image's layers and rebuilds
    its own.

    ## Example
    ```yaml
    jobs:
      build:
        strategy:
          matrix:
            cuda: ["12.1", "12.4"]
        runs-on: ubuntu-latest
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: docker/build-push-action@v6
            with:
              tags: ghcr.io/acme/app:cu${{ matrix.cuda }}
              cache-from: type=gha
              cache-to: type=gha,mode=max
    ```

    ## Use instead
    ```yaml
              cache-from: type=gha,scope=app-${{ matrix.cuda }}
              cache-to: type=gha,mode=max,scope=app-${{ matrix.cuda }}
    ```

    ## Fix safety
    The fix gives the step's `type=gha` entries of `cache-to` and `cache-from` the same scope of
    their own, adding `,scope=` or changing the shared value: a matrix step keeps the scope its
    author wrote and gets the matrix values it left out appended (`${{ matrix.arch }}` ->
    `${{ matrix.arch }}-${{ matrix.dockerfile }}`); otherwise a short name of the image's
    repository path, with the matrix expressions that tell the entries apart. The scope only
    chooses where this image's cache is kept, so the fix is safe; the first run after it starts
    from an empty cache. Reported without a fix: an entry not written verbatim (escapes, folded
    lines), and builds declared elsewhere than a build-push-action step (Bake targets, `run:`
    scripts, a local action's steps as seen from the workflow that calls it).

    ## Options
    None.

    ## References
    - [Docker: GitHub Actions cache backend, scope](https://docs.docker.com/build/cache/backends/gha/#scope)
    - [Docker: Cache management with GitHub Actions](https://docs.docker.com/build/ci/github-actions/cache/)
    """

    code = "AIC502"
    name = "gha-cache-scope-shared"
    summary = "Builds of different images export to the same GitHub Actions cache scope"
    fix_availability = FixAvailability.SOMETIMES
    targets = ("workflow", "action")

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.knowledge.build_cache_export import per_project, step_builds, step_scope_names

        builds = step_builds(ctx.workspace, ctx.path)
        here = os.path.abspath(ctx.path)
        if not any(b.path == here for b in builds):
            return
        exports = per_project(ctx.workspace, ctx.path, "aic502-gha-exports", lambda found: _gha_exports(ctx, found))
        shared = {scope: found for scope, found in exports.items() if len({e.image for e in found}) > 1}
        names = None
        for build in builds:
            if build.path != here:
                continue
            mine = [e for found in shared.values() for e in found if e.build is build]
            others = [e for e in shared[mine[0].scope] if e.image not in {m.image for m in mine}] if mine else []
            matrix_scope = _matrix_shared(ctx, build)
            if not mine and matrix_scope is None:
                continue
            named = _describe(build, others)
            if not named or matrix_scope is not None and not any(e.build is build for e in others):
                named.insert(0, "the other entries of its matrix")  # all of them come from this step
            scope = mine[0].scope if mine else matrix_scope
            names = names or step_scope_names(ctx.workspace, ctx.path)
            node = build.step.inputs.get("cache-to")
            new = _scope_with_variants(build, matrix_scope) if matrix_scope is not None else None
            fix = _fix(ctx, build, new or names[(build.path, build.step.line)])
            yield Violation(node.span, _message(build, scope, named), fix)


class _Export(NamedTuple):
    scope: str
    image: tuple  # what tells images apart: repository, Dockerfile, target, matrix entry
    inv: "Invocation"
    build: "StepBuild | None"  # the build-push-action step that declares it


def _gha_exports(ctx: BuildFileContext, builds: list["StepBuild"]) -> dict[str, list[_Export]]:
    """The builds of the repository that export to a known gha scope, by scope."""
    from aicache_lint.knowledge.build_cache_export import build_of, parse_entry, split_reference, step_input

    found: dict[str, list[_Export]] = {}
    entry_of: dict[int, int] = {}  # a step's build records so far: the matrix entry of the next one
    for inv in ctx.workspace.invocations():
        build = build_of(builds, inv)
        index = entry_of[id(build)] = entry_of.get(id(build), -1) + 1
        for entry in map(parse_entry, inv.cache_to):
            if entry.type != "gha" or "${{" in entry.scope:
                continue  # a scope only known at run time
            if build is not None:
                repository = build.reference.repository if build.reference else None
            else:
                repository = split_reference(inv.tags[0]).repository if inv.tags else None
            if repository is None and inv.dockerfile is None:
                continue  # an image we cannot tell apart from others
            variant = index if build is not None and build.variants else None
            # One Dockerfile built the same way is one image, whichever registries it is pushed to
            # (aibrix's Docker Hub and GHCR jobs share their cache rightly).
            if inv.dockerfile:
                image = (os.path.abspath(inv.dockerfile), inv.context, inv.target, inv.args, variant)
            elif build is not None and build.dockerfile:  # as the step writes it: `${{ matrix.component.file }}`
                image = (build.dockerfile, step_input(build.step, "context"), build.target, inv.args, variant)
            else:
                image = (repository, None, inv.target, inv.args, variant)
            found.setdefault(entry.scope, []).append(_Export(entry.scope, image, inv, build))
    return found


def _matrix_shared(ctx: BuildFileContext, build: "StepBuild") -> str | None:
    """The gha scope different images of a matrix step share: a `cache-to` scope as written whose
    matrix values do not differ wherever the step's inputs make another image (a matrix whose
    entries differ only in `platforms` gives one build record, so this reads the step itself).
    A scope that holds a variant, or whose values tell every image apart (`chart-${{ matrix.image
    }}` where the image and its Dockerfile vary together), is its own; with a matrix that cannot be
    read, a scope holding any of the step's matrix values is taken as its own."""
    from aicache_lint.knowledge.build_cache_export import entries, matrix_keys, step_input, tells_apart

    for entry in entries(step_input(build.step, "cache-to") or ""):
        if entry.type != "gha" or all(v in entry.scope for v in build.variants):
            continue
        apart = tells_apart(ctx.source.text, build.step.job, entry.scope, build.variants) \
            if build.step.job_node is not None else None
        if apart is False or apart is None and not matrix_keys(entry.scope):
            return entry.scope
    return None


def _describe(build: "StepBuild", others: list[_Export]) -> list[str]:
    named: list[str] = []
    for other in others:
        if other.build is build:
            what = f"matrix entry `{other.inv.tags[0]}`" if other.inv.tags else "another entry of its matrix"
        else:
            what = other.inv.origin.describe()
        if what not in named:
            named.append(what)
    return named


def _message(build: "StepBuild", scope: str, named: list[str]) -> str:
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    default = " (the default)" if scope == "buildkit" else ""
    return (f"{build.image} exports to GitHub's cache under scope `{scope}`{default}, as do builds of other images "
            f"({', '.join(named[:3])}{more}): each export replaces the others' cache. Give each image its own `scope=`")


def _scope_with_variants(build: "StepBuild", written: str) -> str | None:
    """The author's scope with the matrix values it leaves out appended (`${{ matrix.arch }}` ->
    `${{ matrix.arch }}-${{ matrix.dockerfile }}`): what they wrote stays, each image gets its own."""
    missing = [v for v in build.variants if v not in written]
    return "-".join([written, *missing]) if missing and written != "buildkit" else None


def _fix(ctx: BuildFileContext, build: "StepBuild", scope: str) -> Fix | None:
    from aicache_lint.compose.model import Scalar
    from aicache_lint.knowledge.build_cache_export import entry_spans, set_attribute

    edits = []
    for key in ("cache-to", "cache-from"):
        node = build.step.inputs.get(key)
        node = node.target if node is not None else None
        if node is None:
            continue
        spans = entry_spans(ctx.source, node) if isinstance(node, Scalar) else None
        if spans is None:
            return None
        for entry, span in spans:
            if entry.type == "gha":
                if entry.attrs.get("scope") == scope:
                    return None  # the name it would get is the shared one
                edits.append(set_attribute(entry, span, "scope", scope))
    return Fix.safe(f"Give the gha cache its own scope `{scope}`", *edits) if edits else None
