"""AIC116 js-package-cache-not-mounted."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile.facts import State
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.shell import subcommand
from aicache_lint.finding import Violation
from aicache_lint.knowledge.build_cache import (
    BuildTool,
    ToolDir,
    absolute,
    env_value,
    home_dir,
    option_present,
    program_span,
    tool_findings,
    tool_message,
)
from aicache_lint.knowledge.package_cache import option_value
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation

_NPM_INSTALLS = frozenset({"ci", "install", "i", "add", "clean-install", "install-clean", "ic", "update", "up"})
_PNPM_INSTALLS = frozenset({"install", "i", "add", "fetch", "update", "up"})


def _npm_downloads(inv: "Invocation") -> bool:
    sub = subcommand(inv, 1)
    return bool(sub) and sub[0] in _NPM_INSTALLS


def _yarn_downloads(inv: "Invocation") -> bool:
    sub = subcommand(inv, 2)
    if not sub:
        # A bare `yarn` (options only) installs -- unless it only prints something.
        return not any(w.value in ("--version", "-v", "--help", "-h") for w in inv.args)
    # `yarn build` runs a script.
    return sub[0] in ("install", "add") or sub[:2] == ["global", "add"]


def _pnpm_downloads(inv: "Invocation") -> bool:
    sub = subcommand(inv, 1)
    return bool(sub) and sub[0] in _PNPM_INSTALLS


def _unknown_home(inv: "Invocation", state: State) -> str:
    if state.user is None:
        return "the stage runs as its base image's user, whom the Dockerfile does not name"
    return "the RUN's HOME is not known"


def _npm_dirs(ctx: DockerfileContext, run: Instruction, inv: "Invocation", state: State) -> list[ToolDir]:
    if option_present(inv.args, "--cache"):
        return [ToolDir(None, "`--cache` moves it")]
    for name in ("npm_config_cache", "NPM_CONFIG_CACHE"):
        if env_value(inv, state, name)[0]:
            return [ToolDir(None, f"`{name}` moves it")]
    home = home_dir(inv, state)
    if home is None:
        return [ToolDir(None, _unknown_home(inv, state))]
    return [ToolDir(posixpath.join(home, ".npm"), "`~/.npm`")]


def _yarn_dirs(ctx: DockerfileContext, run: Instruction, inv: "Invocation", state: State) -> list[ToolDir]:
    if option_present(inv.args, "--cache-folder"):
        return [ToolDir(None, "`--cache-folder` moves it")]
    is_set, value = env_value(inv, state, "YARN_CACHE_FOLDER")
    if is_set:
        path = absolute(value, state)
        return [ToolDir(path, "`YARN_CACHE_FOLDER`")] if path else [ToolDir(None, "`YARN_CACHE_FOLDER` is not known")]
    return [ToolDir(None, "yarn's default cache dir differs between versions; set `YARN_CACHE_FOLDER`")]


def _pnpm_dirs(ctx: DockerfileContext, run: Instruction, inv: "Invocation", state: State) -> list[ToolDir]:
    if any(w.value == "--store-dir" or w.value.startswith("--store-dir=") for w in inv.args):
        value = option_value(inv.args, "--store-dir")
        path = absolute(value, state)
        return [ToolDir(path, "`--store-dir`")] if path else [ToolDir(None, "`--store-dir` is not known")]
    return [ToolDir(None, "the pnpm store location depends on the pnpm version and `PNPM_HOME`; "
                          "pass `--store-dir` or mount the dir `pnpm store path` prints")]


NPM = BuildTool("npm", ("npm",), _npm_downloads, _npm_dirs)
YARN = BuildTool(
    "yarn", ("yarn",), _yarn_downloads, _yarn_dirs,
    unsafe_reason=(
        "with Yarn 2+ in Plug'n'Play mode the installed packages are read from this cache at run time "
        "and would be missing from the image"
    ),
)
PNPM = BuildTool("pnpm", ("pnpm",), _pnpm_downloads, _pnpm_dirs)


class JsPackageCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that installs JavaScript packages -- `npm ci`, `npm install` (`i`, `add`,
    `update`), `yarn` / `yarn install` / `yarn add`, `pnpm install` (`i`, `add`, `fetch`,
    `update`) -- without a BuildKit cache mount at that tool's download cache:

    - npm: `~/.npm` of the `RUN`'s user (`/root/.npm` for root);
    - yarn (v1): `YARN_CACHE_FOLDER`;
    - pnpm: the store given by `--store-dir`.

    ## Why is this bad?
    Without a cache mount every rebuild of the layer downloads every package again. A cache mount
    keeps the tarballs between builds on the builder and out of the image; `npm ci` and
    `pnpm install` then copy from the cache instead of the network.

    ## Example
    ```dockerfile
    FROM node:22-slim
    RUN npm ci
    ```

    ## Use instead
    ```dockerfile
    FROM node:22-slim
    RUN --mount=type=cache,target=/root/.npm npm ci
    ```

    ## Fix safety
    The fix adds `--mount=type=cache,target=<dir>` (absolute, literal, `type=cache` first) after
    the `RUN`'s flags; options of another mount at the same dir in the stage are reused, and a
    non-root `USER` gets `uid=`/`gid=` (unsafe when they cannot be known or when BuildKit would
    create a missing parent owned by root -- see AIC101).

    - npm: safe. The cache only holds downloaded tarballs and metadata; `node_modules` is written
      outside it.
    - yarn: offered only when `YARN_CACHE_FOLDER` is set, and unsafe: with Yarn 2+ (Berry) in
      Plug'n'Play mode the cache *is* the installed packages, read at run time, so the image would
      ship without them. Without the variable, yarn's default cache dir (which differs between yarn
      versions and is not verified here) is not guessed: report only.
    - pnpm: safe with an explicit `--store-dir` (`node_modules` gets copies, since the store and
      the project are on different filesystems). Otherwise report only: the default store
      (`$PNPM_HOME/store`, `~/.local/share/pnpm/store`, `~/.pnpm-store`) depends on the pnpm
      version and is not verified here; mount what `pnpm store path` prints.
    - Report only when the cache dir cannot be known: `--cache`/`npm_config_cache` set, `HOME`
      unknown, or a non-cache mount over the dir.

    Dropping `npm cache clean --force` from a cached `RUN` is AIC113's job.

    ## Options
    None.

    ## References
    - [Docker: optimize builds with cache mounts (npm)](https://docs.docker.com/build/cache/optimize/#use-cache-mounts)
    - [npm `cache` config](https://docs.npmjs.com/cli/commands/npm-cache)
    - [pnpm: working with Docker](https://pnpm.io/docker)
    - [Yarn v1 `yarn cache`](https://classic.yarnpkg.com/en/docs/cli/cache)
    """

    code = "AIC116"
    name = "js-package-cache-not-mounted"
    summary = "npm, yarn or pnpm installs without a BuildKit cache mount at its cache"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        family = (NPM, YARN, PNPM)
        for tool in family:
            for found in tool_findings(ctx, tool, family):
                yield Violation(program_span(found.inv), tool_message(tool, found.missing), found.fix)
