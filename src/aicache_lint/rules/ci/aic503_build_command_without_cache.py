"""AIC503 build-command-without-cache."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Violation
from aicache_lint.fix import Applicability, Edit, Fix
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.ci.scripts import BuildCommand

_RUNTIME_ACTION = "crazy-max/ghaction-github-runtime"
_COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
# `docker compose build` options that take a value (the rest of its words are services).
_COMPOSE_BUILD_VALUES = frozenset({"--build-arg", "--builder", "-m", "--memory", "--progress", "--ssh"})


class BuildCommandWithoutCache(Rule):
    """
    ## What it does
    Flags an image build run from a CI script -- a GitHub Actions `run:` step (in a workflow or a
    composite action) or a GitLab job's `script:`/`before_script:` -- that neither imports nor
    exports a build cache: `docker buildx build`, `docker build`, `podman build` or `buildah bud`
    with no `--cache-from` and no `--cache-to`, and `docker compose build` of services whose
    Compose `build:` sets no `cache_from`/`cache_to`. Commands are found inside multi-line
    scripts, after `&&`, behind `sudo`, in `if` bodies and on continued lines. Left alone: a
    build with `--no-cache` (it asks for no cache) and a GitHub job on a runner not known to be
    GitHub-hosted (`self-hosted`, a runner group, an expression), whose daemon may keep its local
    cache from one job to the next. An image with a local name only (`-t tei_hpu`) gets
    `<image>` in the suggested flags: a registry cache needs a repository the runner may push to.

    ## Why is this bad?
    CI runners start from an empty builder: GitHub-hosted runners and GitLab's shared runners
    are new machines for every job. Without a cache exported to a registry (or the GitHub
    Actions cache) and imported on the next run, every pipeline rebuilds every layer -- for a
    CUDA image, gigabytes of base layers, `apt-get` and `pip install torch`, on every push.

    The message gives the flags to add: `--cache-from type=registry,ref=<image>:buildcache
    --cache-to type=registry,ref=<image>:buildcache,mode=max` (the image from the command's
    `-t`), or `type=gha,scope=<image>` in a GitHub job that sets up a Buildx builder. A `run:`
    step reaches the GitHub cache service only when an earlier `crazy-max/ghaction-github-runtime`
    step exposes its token; the message says so when the job has none. For `docker build` it
    says to build with `docker buildx build` on a builder that can export cache: the default
    `docker` driver cannot (without the containerd image store). For `docker compose build` it
    names the Compose file to give `cache_from`/`cache_to` under each service's `build:`.

    ## Example
    ```yaml
    jobs:
      image:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - run: docker buildx build -t ghcr.io/acme/trainer:latest --push .
    ```

    ## Use instead
    ```yaml
    jobs:
      image:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - uses: docker/setup-buildx-action@v3
          - run: docker buildx build --cache-from type=registry,ref=ghcr.io/acme/trainer:buildcache --cache-to type=registry,ref=ghcr.io/acme/trainer:buildcache,mode=max -t ghcr.io/acme/trainer:latest --push .
    ```

    ## Fix safety
    Only the plain one-line form is fixed: `docker buildx build` written on one line of a plain
    or literal (`|`) scalar in block style, with a literal `-t` tag. The fix inserts the flags
    after `build`. It is unsafe: it assumes a builder that can export cache (a `docker-container`
    builder, as `docker/setup-buildx-action` creates, or the containerd image store -- the
    default `docker` driver fails the export) and, for registry cache, that the runner may push
    to the image's repository. `type=gha` is inserted only when the job sets up Buildx and
    exposes the runtime token before the step. Reported without a fix: `docker build`, `podman
    build`, `docker compose build`, a command over several lines or in a folded or quoted
    scalar, and a tag that comes from a variable or a `${{ }}` expression (matrix builds); the
    message still names the flags, with the tag's repository as written.

    ## Options
    None.

    ## References
    - [Cache storage backends](https://docs.docker.com/build/cache/backends/): the default
      `docker` driver exports no cache without the containerd image store
    - [Registry cache](https://docs.docker.com/build/cache/backends/registry/)
    - [GitHub Actions cache backend](https://docs.docker.com/build/cache/backends/gha/): scope,
      and the token a `run:` step must be given
    - [Cache management with GitHub Actions](https://docs.docker.com/build/ci/github-actions/cache/)
    - [Compose Build Specification: cache_from, cache_to](https://docs.docker.com/reference/compose-file/build/#cache_from)
    - [podman build: --cache-from, --cache-to](https://docs.podman.io/en/latest/markdown/podman-build.1.html)
    """

    code = "AIC503"
    name = "build-command-without-cache"
    summary = "An image build in a CI script neither imports nor exports a build cache"
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = Applicability.UNSAFE  # every fix assumes a builder that exports cache
    targets = ("workflow", "action", "gitlab")

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.ci.scripts import build_commands, gitlab_scripts, workflow_scripts

        github = ctx.file.kind != "gitlab"
        scripts = workflow_scripts(ctx.file) if github else gitlab_scripts(ctx.file)
        all_steps = None
        for script in scripts:
            commands = build_commands(script)
            if not commands:
                continue
            uses: set[str] = set()
            if github and script.step is not None:
                from aicache_lint.ci.steps import earlier_steps, github_hosted, steps

                if ctx.file.kind == "workflow" and github_hosted(script.step) is not True:
                    continue  # a self-hosted runner (a runner group, too) may keep its daemon's cache
                all_steps = all_steps if all_steps is not None else steps(ctx.file)
                uses = {s.uses for s in earlier_steps(all_steps, script.step) if s.uses}
            for cmd in commands:
                found = self._compose(ctx, cmd) if cmd.compose else self._image(ctx, cmd, github, uses)
                if found is not None:
                    yield found

    def _image(self, ctx: BuildFileContext, cmd: "BuildCommand", github: bool, uses: set[str]) -> Violation | None:
        from aicache_lint.ci.commands import options
        from aicache_lint.ci.steps import SETUP_BUILDX

        opts, _ = options(cmd.args)
        names = {name for name, _ in opts} | {w.value for w in cmd.args}
        if names & {"--cache-from", "--cache-to", "--no-cache"}:
            return None
        tags = [text for name, text in opts if name in ("-t", "--tag")]
        image = _repository(tags[0].raw) if tags else None
        what = f"`{cmd.program}`" + _of(ctx, cmd)
        if cmd.words[0].value.rsplit("/", 1)[-1] in ("podman", "buildah"):
            repo = f"{image or '<image>'}-buildcache"
            return Violation(cmd.span, f"{what} neither imports nor exports a build cache, so every CI run rebuilds "
                             f"every layer: add `--layers --cache-from {repo} --cache-to {repo}` (a repository the "
                             "runner may push cache images to).")
        buildx = [w.value for w in cmd.words[-2:]] == ["buildx", "build"]
        gha = github and SETUP_BUILDX in uses
        if not gha and image is not None and "/" not in image and "$" not in image:
            image = None  # a local name (`tei_hpu`), which no registry holds: the message says `<image>`
        flags = _flags("gha" if gha else "registry", image)
        message = f"{what} neither imports nor exports a build cache, so every CI run rebuilds every layer: "
        if not buildx:
            message += (f"build with `docker buildx build` on a builder that can export cache (a `docker-container` "
                        f"builder, as `docker/setup-buildx-action` creates; the default `docker` driver cannot "
                        f"without the containerd image store) and add `{flags}`.")
        else:
            message += f"add `{flags}`."
        runtime = _RUNTIME_ACTION in uses
        if gha and not runtime:
            message += (f" A `run:` step reaches the GitHub Actions cache only when an earlier "
                        f"`{_RUNTIME_ACTION}` step exposes its token: add one (or use "
                        f"`{_flags('registry', image)}`).")
        fix = None
        if buildx and image is not None and "$" not in tags[0].raw and (runtime or not gha):
            fix = _insert(cmd, flags, gha)
        return Violation(cmd.span, message, fix)

    def _compose(self, ctx: BuildFileContext, cmd: "BuildCommand") -> Violation | None:
        files = cmd.compose_files()
        found = _compose_files(ctx, cmd, files) if files is not None else []
        if files and not found:
            return None  # it names Compose files the repository does not hold (kserve's `if [ -f ... ]`)
        services = _services(cmd.args)
        if found:
            builds = [inv for inv in ctx.workspace.invocations()
                      if inv.origin.kind == "compose" and os.path.abspath(inv.origin.path) in found
                      and (not services or inv.origin.name in services)]
            if builds and all(inv.cache_from and inv.cache_to for inv in builds):
                return None
            where = " in " + ", ".join(f"`{_relative(ctx, f)}`" for f in found)
        else:
            where = ""
        return Violation(cmd.span, f"`{cmd.program}` neither imports nor exports a build cache, "
                         "so every CI run rebuilds every layer: set `cache_from` and `cache_to` under each built "
                         f"service's `build:`{where} (e.g. `type=registry,ref=<image>:buildcache` and "
                         "`type=registry,ref=<image>:buildcache,mode=max`), on a builder that can export cache.")


def _flags(kind: str, image: str | None) -> str:
    if kind == "gha":
        from aicache_lint.knowledge.build_cache_export import short_scope

        scope = short_scope(image) if image else "<image>"
        return f"--cache-from type=gha,scope={scope} --cache-to type=gha,mode=max,scope={scope}"
    image = image or "<image>"
    ref = f"type=registry,ref={image}:buildcache"
    return f"--cache-from {ref} --cache-to {ref},mode=max"


def _insert(cmd: "BuildCommand", flags: str, gha: bool) -> Fix | None:
    """The flags inserted after `build`, for the plain one-line form only."""
    from aicache_lint.compose.model import LITERAL, PLAIN

    if not cmd.one_line or cmd.script.node.style not in (PLAIN, LITERAL) or not cmd.script.block:
        return None
    last = cmd.words[-1]
    at = cmd.command.script.file_span(last.start, last.end).end
    if gha:
        title = (f"Add `{flags}` (unsafe: assumes the job's Buildx builder exports cache and the step's "
                 "GitHub Actions cache token is exposed)")
    else:
        title = (f"Add `{flags}` (unsafe: assumes a builder that can export cache -- a docker-container builder or "
                 "the containerd image store, not the default docker driver -- and that the runner may push to "
                 "the registry)")
    return Fix.unsafe(title, Edit.insert(at, " " + flags))


def _repository(tag: str) -> str:
    """`ghcr.io/acme/app` of `ghcr.io/acme/app:1.0` (or `@sha256:...`), kept as written."""
    tag = tag.strip("'\"").partition("@")[0]
    name, colon, version = tag.rpartition(":")
    return name if colon and "/" not in version else tag


def _of(ctx: BuildFileContext, cmd: "BuildCommand") -> str:
    """` of `docker/Dockerfile.gpu`` from the build records of the command's line (several for a
    matrix job); "" when a record's Dockerfile is not known. A script that is not mapped has
    its records anywhere in the scalar's lines."""
    first, last = ctx.source.line_of(cmd.span.start), ctx.source.line_of(cmd.span.end)
    if cmd.script.mapped:
        last = first
    here = os.path.abspath(ctx.path)
    dockerfiles = {inv.dockerfile for inv in ctx.workspace.invocations()
                   if first <= inv.origin.line <= last and os.path.abspath(inv.origin.path) == here}
    if not dockerfiles or None in dockerfiles:
        return ""
    return " of " + ", ".join(f"`{_relative(ctx, d)}`" for d in sorted(dockerfiles))


def _relative(ctx: BuildFileContext, path: str) -> str:
    from aicache_lint.ci import shown_path

    return shown_path(path, ctx.path, ctx.workspace.root)


def _compose_files(ctx: BuildFileContext, cmd: "BuildCommand", files: list[str]) -> list[str]:
    """The Compose files `docker compose build` reads, when they exist: its `-f` files, else the
    default name in the step's working directory (the repository root when not set)."""
    from aicache_lint.ci import base_dir

    folder = base_dir(ctx.path)
    step = cmd.script.step
    workdir = step.node.get("working-directory") if step is not None else None
    if workdir is not None:
        value = getattr(workdir, "value", None)
        if not isinstance(value, str) or "$" in value:
            return []
        folder = os.path.join(folder, value)
    if files:
        return [p for p in (os.path.normpath(os.path.join(folder, f)) for f in files) if ctx.workspace.is_file(p)]
    return [p for p in (os.path.join(folder, name) for name in _COMPOSE_NAMES) if ctx.workspace.is_file(p)][:1]


def _services(args: list) -> set[str]:
    """The services `docker compose build` names (none: all of them)."""
    out, skip = set(), False
    for word in args:
        if skip:
            skip = False
        elif word.value.startswith("-"):
            skip = word.value in _COMPOSE_BUILD_VALUES
        else:
            out.add(word.value)
    return out
