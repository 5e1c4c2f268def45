"""AIC501 ci-build-cache-not-exported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, NamedTuple

from aicache_lint.finding import Violation
from aicache_lint.fix import Fix
from aicache_lint.knowledge.build_cache_export import step_input as _input
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.ci.steps import Step
    from aicache_lint.knowledge.build_cache_export import StepBuild

_NO_BUILDER = "assumes a buildx builder: add docker/setup-buildx-action before this step"
_NO_CACHE_SERVICE = "assumes the runner can reach GitHub's cache service"


class CiBuildCacheNotExported(Rule):
    """
    ## What it does
    Flags a `docker/build-push-action` step of a GitHub workflow or composite action with neither
    `cache-from` nor `cache-to`. A `docker/bake-action` step is flagged too when none of the Bake
    targets it builds can be read in the repository and its `set:` gives them no
    `cache-from`/`cache-to` (targets that can be read are checked on their own, by AIC506).
    The message names the image (its first tag, or the Dockerfile when it has none) and the
    Dockerfile.

    ## Why is this bad?
    A GitHub-hosted runner starts empty for every job: with no cache import and export, every
    run rebuilds every layer of the image -- for a CUDA or PyTorch image, gigabytes downloaded and
    installed again on each push or nightly build. BuildKit can export its layer cache to
    GitHub's cache service (`type=gha`) or to a registry (`type=registry`) and import it on the
    next run, so unchanged layers are reused. A step that already sets one of the two inputs has
    made a choice and is left alone, as is one with `no-cache: true` (a build meant to start cold)
    and one whose job sets up a builder that keeps its cache between runs (Blacksmith's
    `useblacksmith/setup-docker-builder`, or `docker/setup-buildx-action` with `driver: remote`,
    an `endpoint`, or `driver: kubernetes`).

    ## Example
    ```yaml
    jobs:
      gpu:
        runs-on: ubuntu-latest
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: docker/build-push-action@v6
            with:
              file: docker/gpu/Dockerfile
              tags: ghcr.io/acme/app:${{ github.sha }}
    ```

    ## Use instead
    ```yaml
          - uses: docker/build-push-action@v6
            with:
              file: docker/gpu/Dockerfile
              tags: ghcr.io/acme/app:${{ github.sha }}
              cache-from: type=gha,scope=app
              cache-to: type=gha,mode=max,scope=app
    ```

    ## Fix safety
    The fix adds `cache-from` and `cache-to` to the step's `with:` (in the style of its entries;
    a `with:` is created when the step has none). The scope is a short name of the image's
    repository path (`ghcr.io/acme/app:…` -> `app`; more of the path when two images of the
    repository would get the same name, the Dockerfile's folder when the step has no tag, and
    the target when one Dockerfile builds several), and keeps the `${{ matrix.x }}` (in an
    action, `${{ inputs.x }}`) of any input that changes the image (tags, target, build args,
    platforms, context, file) so each entry of a matrix has its own cache. An image named in the
    workflow's `env:` is read from there. A step that pushes (`push: true`) to a repository
    written out in its first tag gets a registry cache next to it instead
    (`type=registry,ref=<repository>:buildcache`, `mode=max`; on Amazon ECR also
    `image-manifest=true,oci-mediatypes=true`, the only form ECR stores): images of several GB
    quickly fill GitHub's cache quota (10 GB per repository), which then evicts them. The cache
    tag tells apart the builds that push one repository: the matrix values of the step's inputs
    (`buildcache-${{ matrix.device }}-${{ matrix.os }}`; a value that cannot be part of a tag,
    such as an image reference, is replaced by the fewest matrix keys that tell the same entries
    apart, and with none there is no fix), or the image's own tag when another step pushes
    another tag of the repository (`buildcache-latest-deps`). A registry cache is always unsafe: it pushes a `buildcache` tag next to the image on every build, which
    a repository with immutable tags refuses, and the title says so.

    The fix is safe when the job sets up a buildx builder before the step
    (`docker/setup-buildx-action`: the default `docker` driver cannot export a cache without the
    containerd image store) and, for `type=gha`, runs on a GitHub-hosted runner. Otherwise it is
    unsafe and its title says what it assumed: a self-hosted runner (`runs-on: [self-hosted,
    gpu]`), a runner group or an expression may not reach GitHub's cache service, and a
    composite action runs wherever its caller does. A scope taken from an expression that may
    hold the whole reference (`tags: ${{ inputs.image }}`) is unsafe too: a tag that changes
    every run would start a new, empty cache every run.
    Reported without a fix: a step whose `with:` is empty or an alias, a flow-style step, and
    `docker/bake-action` (its cache settings belong in the Bake file or in `set:`).

    ## Options
    None.

    ## References
    - [Docker: Cache management with GitHub Actions](https://docs.docker.com/build/ci/github-actions/cache/)
    - [Docker: GitHub Actions cache backend](https://docs.docker.com/build/cache/backends/gha/)
    - [Docker: Registry cache backend](https://docs.docker.com/build/cache/backends/registry/)
    - [Docker: Cache storage backends](https://docs.docker.com/build/cache/backends/): the
      `docker` driver exports cache only with the containerd image store
    - [GitHub: cache usage limits and eviction policy](https://docs.github.com/en/actions/reference/workflows-and-actions/dependency-caching#usage-limits-and-eviction-policy)
    - [docker/build-push-action inputs](https://github.com/docker/build-push-action#inputs)
    """

    code = "AIC501"
    name = "ci-build-cache-not-exported"
    summary = "A CI image build imports and exports no build cache"
    fix_availability = FixAvailability.SOMETIMES
    targets = ("workflow", "action")

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.ci.steps import BAKE, BUILD_PUSH, persistent_builder, steps
        from aicache_lint.knowledge.build_cache_export import step_builds, step_scope_names

        all_steps = steps(ctx.file)
        names = None
        for step in all_steps:
            if persistent_builder(all_steps, step) is not None:
                continue  # its builder keeps its cache from one run to the next
            if (step.uses == BUILD_PUSH and _input(step, "cache-from") is None and _input(step, "cache-to") is None
                    and (_input(step, "no-cache") or "").strip().lower() != "true"):  # a build meant to start cold
                builds = step_builds(ctx.workspace, ctx.path)
                names = names or step_scope_names(ctx.workspace, ctx.path)
                build = next(b for b in builds if b.path == _abs(ctx.path) and b.step.line == step.line)
                plan = _plan(ctx, all_steps, step, build, names[(build.path, step.line)])
                yield Violation(_uses_span(step), _message(build, plan), _fix(ctx, all_steps, step, plan))
            elif step.uses == BAKE and _bake_without_cache(ctx, step):
                yield Violation(_uses_span(step), _bake_message(step), None)


class _Plan(NamedTuple):
    """What the fix adds and what it takes for granted."""

    backend: str  # gha | registry
    values: list[tuple[str, str]]  # the inputs to add
    assumptions: list[str]  # what makes the fix unsafe
    why_not: str | None = None  # why no fix is offered


def _plan(ctx: BuildFileContext, all_steps: list["Step"], step: "Step", build: "StepBuild", scope: str) -> _Plan:
    from aicache_lint.ci.steps import github_hosted
    from aicache_lint.knowledge.build_cache_export import gha_inputs, registry_assumption, registry_inputs

    assumptions = [] if _has_builder(all_steps, step) else [_NO_BUILDER]
    ref = build.reference
    push = (_input(step, "push") or "").strip().lower() == "true"
    if push and ref is not None and "${{" not in ref.repository and "/" in ref.repository:
        tag = _cache_tag(ctx, build)
        if tag is None:
            return _Plan("registry", list(zip(("cache-from", "cache-to"), registry_inputs(ref.repository))), [],
                         "the matrix entries push one repository and no matrix value that tells them apart "
                         "fits in a tag: give each entry its own `buildcache-<entry>` tag")
        assumptions.append(f"assumes {registry_assumption(ref.repository, tag)}")
        return _Plan("registry", list(zip(("cache-from", "cache-to"), registry_inputs(ref.repository, tag))),
                     assumptions)
    if ctx.file.kind == "action" or github_hosted(step) is not True:
        assumptions.append(_NO_CACHE_SERVICE)
    if ref is not None and ref.tag_in_expression and ref.repository.rsplit("/", 1)[-1] in scope:
        assumptions.append(f"assumes `{ref.repository.rsplit('/', 1)[-1]}` names the image without a tag that "
                           "changes every run")
    return _Plan("gha", list(zip(("cache-from", "cache-to"), gha_inputs(scope))), assumptions)


def _cache_tag(ctx: BuildFileContext, build: "StepBuild") -> str | None:
    """The tag of a registry cache: `buildcache`, plus what tells this build apart from other
    builds pushing to the same repository -- the matrix values of its inputs (one cache per
    entry), or its own tag when another step pushes another tag of the repository (lerobot's
    `:latest` and `:latest-deps`, built from different lock files). None when the matrix entries
    cannot be told apart by values that fit in a tag."""
    from aicache_lint.knowledge.build_cache_export import repository_tags, tag_slug, tag_variants

    parts = tag_variants(ctx.source.text, build.step.job,
                         tuple(v for v in build.variants if v not in build.reference.repository))
    if parts is None:
        return None
    others = repository_tags(ctx.workspace, ctx.path).get(build.reference.repository, set())
    if others - {build.reference.tag} and build.reference.tag and "${{" not in build.reference.tag:
        parts.insert(0, tag_slug(build.reference.tag))
    return "-".join(["buildcache", *parts])


def _has_builder(all_steps: list["Step"], step: "Step") -> bool:
    """A docker/setup-buildx-action step runs before ``step`` in its job (or action), with a
    driver that can export a cache (not `driver: docker`)."""
    from aicache_lint.ci.steps import SETUP_BUILDX, earlier_steps

    return any(s.uses == SETUP_BUILDX and (_input(s, "driver") or "").strip() != "docker"
               for s in earlier_steps(all_steps, step))


def _message(build: "StepBuild", plan: _Plan) -> str:
    built_from = f" (built from `{build.dockerfile}`)" if build.tag else ""
    text = (f"{build.image}{built_from} is built with no `cache-from`/`cache-to`: a fresh runner rebuilds every "
            "layer on every run")
    if plan.backend == "registry":
        return (text + f"; the step pushes to `{build.reference.repository}`, so keep the cache next to it "
                f"(`{plan.values[1][1]}`): images of several GB exceed GitHub's cache quota (10 GB per repository)"
                + (f" (no fix: {plan.why_not})" if plan.why_not else ""))
    return text + f"; export it to GitHub's cache with a scope of its own (`{plan.values[1][1]}`)"


def _fix(ctx: BuildFileContext, all_steps: list["Step"], step: "Step", plan: _Plan) -> Fix | None:
    from aicache_lint.knowledge.build_cache_export import add_inputs

    edits = add_inputs(ctx.source, all_steps, step, plan.values) if plan.why_not is None else None
    if edits is None:
        return None
    title = f"Add `cache-from`/`cache-to` ({plan.backend} cache)"
    if plan.assumptions:
        return Fix.unsafe(f"{title}; {'; '.join(plan.assumptions)}", *edits)
    return Fix.safe(title, *edits)


def _bake_without_cache(ctx: BuildFileContext, step: "Step") -> bool:
    """A bake-action step whose targets cannot be read, with no cache import or export anywhere we
    can see (readable targets are AIC506's; a `set:` written as one expression may set the cache)."""
    from aicache_lint.ci.steps import invocations_of

    overrides = _input(step, "set")
    if overrides is not None and (any(k in overrides for k in (".cache-from=", ".cache-to="))
                                  or overrides.strip().startswith("${{")):  # set: from an expression
        return False
    builds = invocations_of(ctx.workspace, ctx.path, step)
    if any(inv.cache_from or inv.cache_to for inv in builds):
        return False
    return all(inv.dockerfile is None for inv in builds)  # readable targets are AIC506's


def _bake_message(step: "Step") -> str:
    targets = " ".join((_input(step, "targets") or "default").split())
    return (f"`docker/bake-action` builds `{targets}` with no cache import or export we can see (its Bake targets "
            "are not in the repository, or `set:` overrides them): a fresh runner rebuilds every layer on every run. "
            "Add `*.cache-from=type=gha,scope=<image>` and `*.cache-to=type=gha,mode=max,scope=<image>` to `set:` "
            "(or `cache-from`/`cache-to` to each target)")


def _uses_span(step: "Step"):
    return step.node.get("uses").span


def _abs(path: str) -> str:
    import os

    return os.path.abspath(path)
