"""AIC504 cache-mounts-cold-in-ci."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Iterator, NamedTuple

from aicache_lint.finding import Violation
from aicache_lint.rules.base import BuildFileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.invocations import Invocation

CACHE_DANCE = "reproducible-containers/buildkit-cache-dance"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class CacheMountsColdInCi(Rule):
    """
    ## What it does
    Flags a GitHub Actions step that builds a Dockerfile with `RUN --mount=type=cache` -- a
    `docker/build-push-action` or `docker/bake-action` step (the Dockerfiles of every target it
    builds), or a `docker buildx build` command in a `run:` step -- on a
    GitHub-hosted runner (`runs-on: ubuntu-*`, `windows-*`, `macos-*`), in a job with no
    `reproducible-containers/buildkit-cache-dance` step. Only the stages the build runs count
    (the target stage, what it is built `FROM` and what it copies from).

    The message gives the action's `cache-map` input, computed from the Dockerfile's cache
    mounts: one entry per cache (mounts with the same target and `id` once), a directory named
    after the target (`root-cache-pip` for `/root/.cache/pip`) mapped to the target, or to
    `{"target": ..., "id": ...}` when the mount has an `id`; it says which Dockerfile lines the
    map comes from.

    Downloads that have no cache mount yet count too (pip, uv, poetry and apt with their cache
    directories in the map; apk, npm, yarn, pnpm, go, cargo, dnf, yum, zypper and conda named in the
    message): they are repeated in every CI build as well, and once the 1xx rules' fixes mount
    them, those mounts start empty the same way -- so the finding is there before those fixes
    and after, never made by them.

    ## Why is this bad?
    A cache mount lives in the builder's local state. A GitHub-hosted runner is a new machine
    for every job, so every CI build starts with empty cache mounts: pip, uv, apt and conda
    download everything again. `cache-to: type=gha` or `type=registry` does not help: cache
    export holds layers, not the contents of cache mounts. Docker's documentation points to
    `buildkit-cache-dance`, which restores the mounts' contents from a directory that
    `actions/cache` keeps and extracts them after the build.

    No finding on a self-hosted runner or a builder that outlives the job (Blacksmith's sticky
    builder, a `remote` or `kubernetes` Buildx driver: a persistent builder keeps its cache mounts), when the
    runner comes from an expression, in a composite action (it runs wherever its caller does),
    or when the Dockerfile cannot be known (a path from an unknown expression).

    ## Example
    ```yaml
    jobs:
      image:
        runs-on: ubuntu-latest
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: docker/build-push-action@v6
            with:
              tags: ghcr.io/acme/trainer:latest
              cache-from: type=gha
              cache-to: type=gha,mode=max
    ```
    with a Dockerfile that runs `RUN --mount=type=cache,target=/root/.cache/pip pip install ...`.

    ## Use instead
    ```yaml
    jobs:
      image:
        runs-on: ubuntu-latest
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: actions/cache@v4
            with:
              path: root-cache-pip
              key: cache-mounts-${{ hashFiles('Dockerfile') }}
          - uses: reproducible-containers/buildkit-cache-dance@v3
            with:
              cache-map: '{"root-cache-pip": "/root/.cache/pip"}'
          - uses: docker/build-push-action@v6
            with:
              tags: ghcr.io/acme/trainer:latest
              cache-from: type=gha
              cache-to: type=gha,mode=max
    ```

    ## Fix safety
    No fix: the steps to add need a cache key and a place in the job that only the workflow's
    author can choose (the cache competes with the repository's other GitHub Actions caches).

    ## Options
    None.

    ## References
    - [Cache management with GitHub Actions: cache mounts](https://docs.docker.com/build/ci/github-actions/cache/#cache-mounts)
    - [Cache storage backends](https://docs.docker.com/build/cache/backends/)
    - [Optimize cache usage: use cache mounts](https://docs.docker.com/build/cache/optimize/#use-cache-mounts)
    - [reproducible-containers/buildkit-cache-dance README](https://github.com/reproducible-containers/buildkit-cache-dance):
      the `cache-map` input
    - [GitHub Actions: dependency caching](https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/caching-dependencies-to-speed-up-workflows)
    - [docker/build-push-action#716](https://github.com/docker/build-push-action/issues/716):
      cache mounts work locally, not in Actions
    """

    code = "AIC504"
    name = "cache-mounts-cold-in-ci"
    summary = "A Dockerfile's cache mounts start empty in every build on a GitHub-hosted runner"
    fix_availability = FixAvailability.NONE
    targets = ("workflow", "action")

    def check(self, ctx: BuildFileContext) -> Iterator[Violation]:
        from aicache_lint.ci.scripts import build_commands, workflow_scripts
        from aicache_lint.ci.steps import BAKE, BUILD_PUSH, github_hosted, invocations_of, persistent_builder, steps

        all_steps = steps(ctx.file)
        danced = {id(s.job_node) for s in all_steps if s.uses is not None and s.uses.startswith(CACHE_DANCE)}
        scripts = {id(s.step.node): s for s in workflow_scripts(ctx.file) if s.step is not None}
        for step in all_steps:
            if github_hosted(step) is not True or id(step.job_node) in danced or persistent_builder(all_steps, step):
                continue
            builds = invocations_of(ctx.workspace, ctx.path, step)
            if step.uses in (BUILD_PUSH, BAKE):  # a bake step: the Dockerfiles of every target it builds
                found = [(step.node.get("uses").span, builds)]
            elif id(step.node) in scripts:
                found = []
                for cmd in build_commands(scripts[id(step.node)]):
                    if [w.value for w in cmd.words[-2:]] != ["buildx", "build"]:
                        continue
                    line = ctx.source.line_of(cmd.span.start)
                    found.append((cmd.span, [b for b in builds if b.origin.line == line]
                                  if cmd.script.mapped else builds))
            else:
                continue
            for span, invs in found:
                mounts = _cache_mounts(ctx.workspace, invs)
                if mounts:
                    yield Violation(span, _message(ctx, invs, mounts))


class _Mount(NamedTuple):
    dockerfile: str
    line: int  # the RUN's first line
    target: str  # "" for a download whose cache dir is not worked out here (``tool`` names it)
    id: str | None
    mounted: bool = True  # False: a download cache the RUN does not mount yet (the 1xx rules' finding)
    tool: str = ""


# Package managers the 1xx rules give cache mounts besides pip/uv/poetry and apt (whose cache dirs
# are worked out above), with the subcommands that download; a RUN that mounts no cache and runs
# one of them downloads into a cache the map cannot name yet.
_OTHER_DOWNLOADS = {
    "apk": {"add"}, "npm": {"ci", "install", "i", "add"}, "yarn": {"", "install", "add"},
    "pnpm": {"install", "i", "add"}, "go": {"build", "install", "get", "mod", "test", "run", "generate"},
    "cargo": {"build", "install", "fetch", "test", "run"}, "dnf": {"install", "upgrade", "update"},
    "yum": {"install", "upgrade", "update"}, "microdnf": {"install", "upgrade", "update"},
    "zypper": {"install", "in", "update", "up"}, "conda": {"install", "create", "update", "env"},
    "mamba": {"install", "create", "update", "env"}, "micromamba": {"install", "create", "update", "env"},
}


def _cache_mounts(ws: "Workspace", builds: list["Invocation"]) -> list[_Mount]:
    """The download caches of the stages the builds run, in Dockerfile and line order: their cache
    mounts, and the pip/uv/poetry/apt caches a RUN downloads into with no mount yet. The second kind
    counts too: those downloads are repeated in CI as well, and a fix that mounts them (AIC101,
    AIC110 ...) must not be what makes this finding appear."""
    from aicache_lint.knowledge.model_cache import image_stages
    from aicache_lint.knowledge.package_cache import run_cache_dirs
    from aicache_lint.knowledge.system_cache import APT_DOWNLOADS, apt_installs, covered

    found: list[_Mount] = []
    for inv in builds:
        loaded = ws.dockerfile(inv.dockerfile, inv.args) if inv.dockerfile else None
        if loaded is None:
            continue
        _, facts = loaded
        stage = next((s for s in facts.stages if inv.target and s.name == inv.target.lower()), facts.final_stage)
        for built in image_stages(stage) if stage is not None else ():
            for target, uses in facts.cache_mounts(built).items():
                for run, flag in uses:
                    option = flag.option("id")
                    found.append(_Mount(inv.dockerfile, run.start_line, target, option.value if option else None))
            for run in built.instructions:
                if (run.inner or run).keyword != "RUN":
                    continue
                state = facts.state(run)
                wanted = list(run_cache_dirs(facts, run))
                if apt_installs(facts, run):
                    wanted += [root for root, _, _ in APT_DOWNLOADS]
                found += [_Mount(inv.dockerfile, run.start_line, d, None, False) for d in wanted
                          if not covered(run, state, d)]
                if not any(f.mount_type == "cache" for f in (run.inner or run).mounts):
                    found += [_Mount(inv.dockerfile, run.start_line, "", None, False, call.program)
                              for call in facts.invocations(run) if _downloads(call)]
    return sorted(dict.fromkeys(found), key=lambda m: (m.dockerfile, m.line))


def _downloads(call) -> bool:
    """A call of one of ``_OTHER_DOWNLOADS`` with a subcommand that downloads."""
    from aicache_lint.dockerfile.shell import subcommand

    wanted = _OTHER_DOWNLOADS.get(call.program)
    if wanted is None:
        return False
    words = subcommand(call, 1)
    return (words[0] if words else "") in wanted


def _message(ctx: BuildFileContext, builds: list["Invocation"], mounts: list[_Mount]) -> str:
    from aicache_lint.ci import shown_path

    by_file: dict[str, list[int]] = {}
    for m in mounts:
        lines = by_file.setdefault(shown_path(m.dockerfile, ctx.path, ctx.workspace.root), [])
        if m.line not in lines:
            lines.append(m.line)
    where = " and ".join(f"{path}:{','.join(map(str, lines))}" for path, lines in by_file.items())
    files = ", ".join(f"`{path}`" for path in by_file)
    tags = sorted({t for b in builds for t in b.tags})
    image = f" (`{tags[0]}`)" if len(tags) == 1 else ""
    unmounted = sorted({m.target or f"the {m.tool} cache" for m in mounts if not m.mounted})
    if all(not m.mounted for m in mounts):
        what = f"The package downloads of {files}{image} start from empty caches"
    else:
        what = f"The cache mounts (`RUN --mount=type=cache`) of {files}{image} start empty"
    also = (f"; mount {', '.join(f'`{t}`' if t.startswith('/') else t for t in unmounted)} as cache first "
            "(the 1xx rules' fixes)" + (" and add their targets to the map" if any(not m.target for m in mounts) else "")
            if unmounted else "")
    return (f"{what} in every build on a GitHub-hosted runner: `cache-to` (gha or registry) exports layers, not "
            f"cache mounts. Keep them with `actions/cache` and a `{CACHE_DANCE}` step before this one, with "
            f"{_map_text(mounts)} (from {where}){also}.")


def _map_text(mounts: list[_Mount]) -> str:
    cache_map = _cache_map(mounts)
    return f"`cache-map: {json.dumps(cache_map)}`" if cache_map else "a `cache-map` of their mounts' targets"


def _cache_map(mounts: list[_Mount]) -> dict:
    """`{"<dir>": "<target>"}`, or `{"<dir>": {"target": ..., "id": ...}}` for a mount with an id;
    one entry per cache, directories named after the target (`root-cache-pip`)."""
    out: dict = {}
    seen: set[tuple[str, str]] = set()
    for m in mounts:
        if not m.target:
            continue  # a cache dir not worked out here: the message asks to add it
        key = (m.target, m.id or m.target)
        if key in seen:
            continue
        seen.add(key)
        base = "-".join(part.lstrip(".") for part in m.target.split("/") if part.strip(".")) or "cache"
        name = base
        if name in out and m.id:
            name = f"{base}-{_UNSAFE_NAME.sub('-', m.id).strip('-')}"
        n = 2
        while name in out:
            name, n = f"{base}-{n}", n + 1
        out[name] = {"target": m.target, "id": m.id} if m.id else m.target
    return out
