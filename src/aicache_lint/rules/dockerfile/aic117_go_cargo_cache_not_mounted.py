"""AIC117 go-cargo-cache-not-mounted."""

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
    base_repository,
    env_value,
    home_dir,
    program_span,
    tool_findings,
    tool_message,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation

_GO_COMPILES = frozenset({"build", "install", "test", "run"})
_GO_FETCHES = (("mod", "download"), ("get",))
_CARGO_DOWNLOADS = frozenset({"build", "install", "fetch"})
# What the official images set (DOMAIN §2 table): `golang` GOPATH=/go, `rust` CARGO_HOME=/usr/local/cargo.
_IMAGE_DEFAULTS = {"golang": ("GOPATH", "/go"), "rust": ("CARGO_HOME", "/usr/local/cargo")}


def _go_downloads(inv: "Invocation") -> bool:
    sub = subcommand(inv, 2)
    return bool(sub) and (sub[0] in _GO_COMPILES or any(tuple(sub[: len(f)]) == f for f in _GO_FETCHES))


def _cargo_downloads(inv: "Invocation") -> bool:
    sub = subcommand(inv, 1)
    return bool(sub) and sub[0] in _CARGO_DOWNLOADS


def _variable(ctx: DockerfileContext, run: Instruction, inv: "Invocation", state: State, name: str) -> tuple[bool, str | None]:
    """(set?, value) of ``name`` for the command, with the official image's value as a fallback."""
    is_set, value = env_value(inv, state, name)
    if is_set:
        return is_set, value
    default = _IMAGE_DEFAULTS.get(base_repository(ctx, run) or "")
    if default is not None and default[0] == name:
        return True, default[1]
    return False, None


def _go_dirs(ctx: DockerfileContext, run: Instruction, inv: "Invocation", state: State) -> list[ToolDir]:
    out = []
    is_set, value = env_value(inv, state, "GOMODCACHE")
    if is_set:
        path = absolute(value, state) if value and value.startswith("/") else None
        out.append(ToolDir(path, "`GOMODCACHE` is not known"))
    else:
        is_set, value = _variable(ctx, run, inv, state, "GOPATH")
        first = (value or "").split(":", 1)[0]
        if is_set and first.startswith("/"):
            out.append(ToolDir(posixpath.join(posixpath.normpath(first), "pkg", "mod"), "`$GOPATH/pkg/mod`"))
        elif is_set:
            out.append(ToolDir(None, "`GOPATH` is not known"))
        else:
            out.append(ToolDir(None, "`GOPATH` is not set and its default is not relied on; set `GOMODCACHE`"))
    if subcommand(inv, 1)[:1] == ["mod"] or subcommand(inv, 1)[:1] == ["get"]:
        return out  # fetching only: no compiling, no build cache
    is_set, value = env_value(inv, state, "GOCACHE")
    if is_set:
        path = absolute(value, state) if value and value.startswith("/") else None
        out.append(ToolDir(path, "`GOCACHE` is not known"))
    elif env_value(inv, state, "XDG_CACHE_HOME")[0]:
        out.append(ToolDir(None, "`XDG_CACHE_HOME` moves the build cache; set `GOCACHE`"))
    else:
        home = home_dir(inv, state)
        if home is None:
            out.append(ToolDir(None, "the RUN's HOME is not known; set `GOCACHE`"))
        else:
            out.append(ToolDir(posixpath.join(home, ".cache", "go-build"), "`~/.cache/go-build`"))
    return out


def _cargo_dirs(ctx: DockerfileContext, run: Instruction, inv: "Invocation", state: State) -> list[ToolDir]:
    is_set, value = _variable(ctx, run, inv, state, "CARGO_HOME")
    if is_set and value and value.startswith("/"):
        home = posixpath.normpath(value)
        return [ToolDir(posixpath.join(home, "registry"), "`$CARGO_HOME/registry`"),
                ToolDir(posixpath.join(home, "git", "db"), "`$CARGO_HOME/git/db`")]
    if is_set:
        return [ToolDir(None, "`CARGO_HOME` is not known")]
    return [ToolDir(None, "`CARGO_HOME` is not set and its default is not relied on; set `CARGO_HOME`")]


GO = BuildTool("go", ("go",), _go_downloads, _go_dirs, effect="every rebuild starts from empty module and build caches")
CARGO = BuildTool("cargo", ("cargo",), _cargo_downloads, _cargo_dirs, effect="every rebuild re-downloads crates")


class GoCargoCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that runs `go build`, `go install`, `go test`, `go run`, `go get` or
    `go mod download`, or `cargo build`, `cargo install` or `cargo fetch`, without BuildKit cache
    mounts at the tool's caches:

    - Go: the module cache `GOMODCACHE` (default `$GOPATH/pkg/mod`; the `golang` image sets
      `GOPATH=/go`) and, for commands that compile, the build cache `GOCACHE` (default
      `~/.cache/go-build` of the `RUN`'s user);
    - Cargo: `$CARGO_HOME/registry` and `$CARGO_HOME/git/db` (the `rust` image sets
      `CARGO_HOME=/usr/local/cargo`).

    ## Why is this bad?
    Without the mounts every rebuild of the layer downloads every module or crate again and,
    for Go, recompiles every package from scratch.

    ## Example
    ```dockerfile
    FROM golang:1.23
    RUN go build -o /out/app ./cmd/app
    ```

    ## Use instead
    ```dockerfile
    FROM golang:1.23
    RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
        go build -o /out/app ./cmd/app
    ```

    ## Fix safety
    The fix adds `--mount=type=cache,target=<dir>` flags (absolute, literal, `type=cache` first)
    after the `RUN`'s flags. Both tools only download and compile into these dirs; the built
    binaries go elsewhere (`-o`, `GOBIN`/`$GOPATH/bin`, `$CARGO_HOME/bin`), so for root the fix is
    safe. Options of another mount at the same dir in the stage are reused; a non-root `USER` gets
    `uid=`/`gid=`, and the fix is unsafe when those cannot be known or when BuildKit would create a
    missing parent owned by root (see AIC101).

    The fix never mounts Cargo's `target/` dir (nor `$CARGO_HOME` as a whole): the built binary
    would then live only in the cache mount and be missing from the image. A `target/` mount that
    is already there is left alone.

    Report only -- no fix -- when a dir rests on a default the Dockerfile does not show:
    `GOPATH`/`CARGO_HOME` unset outside the `golang`/`rust` images (the tools' home-dir defaults
    are not relied on), `XDG_CACHE_HOME` set (it moves `GOCACHE`), an unknown `HOME`, a variable
    whose value cannot be known, or a non-cache mount over the dir.

    ## Options
    None.

    ## References
    - [Docker: optimize builds with cache mounts (Go, Rust)](https://docs.docker.com/build/cache/optimize/#use-cache-mounts)
    - [Dockerfile reference: `RUN --mount=type=cache` Go example](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    - [Go: `GOMODCACHE` and `GOCACHE`](https://pkg.go.dev/cmd/go#hdr-Environment_variables)
    - [Cargo home](https://doc.rust-lang.org/cargo/guide/cargo-home.html)
    """

    code = "AIC117"
    name = "go-cargo-cache-not-mounted"
    summary = "go or cargo builds without BuildKit cache mounts at its caches"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        family = (GO, CARGO)
        for tool in family:
            for found in tool_findings(ctx, tool, family):
                yield Violation(program_span(found.inv), tool_message(tool, found.missing), found.fix)
