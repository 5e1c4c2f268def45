"""`docker build` command lines in shell scripts -> build invocations.

A script is a workflow `run:` body, a GitLab `script:` line or a Makefile-like recipe. The
project's shell tokenizer splits it into simple commands (line continuations, `&&`/`;` chains,
`sudo` and `VAR=x` prefixes, quotes); each `docker build`, `docker buildx build`,
`docker image build`, `podman build` or `buildah bud` becomes one invocation. Flags follow
`docker buildx build --help` (https://docs.docker.com/reference/cli/docker/buildx/build/):
`-f/--file` is relative to the working directory and defaults to `<context>/Dockerfile`, the one
positional argument is the context (`-` reads a Dockerfile from stdin and sends no context).

Variables: `NAME=value` and `export NAME=value` lines, `cd DIR` and the given environment are
followed in order; a value that uses a variable not known here is left out of the record and
named in its `unresolved` phrases, as is a `${{ ... }}` expression the caller could not expand.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from aicache_lint.workspace.invocations import Invocation, Origin

# Subcommand words after the program that mean "build an image".
_BUILD_WORDS = {
    "docker": (("build",), ("buildx", "build"), ("buildx", "b"), ("image", "build"), ("builder", "build")),
    "podman": (("build",), ("image", "build"), ("buildx", "build")),
    "buildah": (("bud",), ("build",), ("build-using-dockerfile",)),
}

# Options that take a value in the next word (docker buildx build, podman build, buildah bud);
# everything else starting with `-` is a switch. `-f`, `-t`, `--build-arg` and `--target` are
# read; the rest only need skipping so their value is not taken for the context.
_VALUE_OPTIONS = frozenset({
    "-f", "--file", "-t", "--tag", "--build-arg", "--target",
    "--add-host", "--allow", "--annotation", "--attest", "--build-context", "--builder", "--cache-from",
    "--cache-to", "--call", "--cgroup-parent", "--iidfile", "--label", "--metadata-file", "--network",
    "-o", "--output", "--platform", "--progress", "--secret", "--shm-size", "--ssh", "--ulimit",
    "-m", "--memory", "--memory-swap", "--cpu-shares", "--cpu-period", "--cpu-quota", "--cpuset-cpus",
    "--cpuset-mems", "--isolation", "--security-opt", "--build-arg-file", "--arch", "--os", "--variant",
    "--authfile", "--cert-dir", "--creds", "--format", "--jobs", "--layers", "--runtime", "--sign-by",
    "-v", "--volume", "--env", "--from", "--timestamp", "--userns", "--device", "--dns", "--cache-ttl",
    "--hooks-dir", "--logfile", "--manifest", "--retry", "--retry-delay", "--unsetenv", "--decryption-key",
})
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# `$NAME`, `${NAME}`, `${NAME:-default}` and friends, `$(...)`/backticks, GitHub `${{ ... }}`.
_EXPANSION = re.compile(
    r"\$\{\{.*?\}\}|\$\{(" + _NAME + r")(?:[:]?[-=+?][^}]*)?\}|\$(" + _NAME + r")|\$\(.*?\)|`[^`]*`|\$\{[^}]*\}"
)
_ASSIGN = re.compile(r"(" + _NAME + r")=(.*)", re.DOTALL)
# A context that is no local directory: a URL or a Git remote.
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/)", re.IGNORECASE)


class UnknownValue(Exception):
    """A value names something not known here; the message is the phrase for `unresolved`."""


def expand(value: str, env: Mapping[str, str]) -> str:
    """``value`` with its shell variables replaced from ``env``; raises UnknownValue naming the first
    expansion that cannot be known (an unset variable, a command substitution, `${{ }}`)."""

    def one(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name and name in env and m.group(0) in (f"${name}", f"${{{name}}}"):
            return env[name]
        raise UnknownValue(f"`{m.group(0)}` is not known here")

    return _EXPANSION.sub(one, value)


class _Text(NamedTuple):
    """An option value or positional argument: its shell value, whether it expands, its raw text."""

    value: str
    expands: bool
    raw: str


def image_build_args(inv) -> list | None:
    """The words after the build subcommand, or None when the command is no image build."""
    words = [w.value for w in inv.args]
    for sub in _BUILD_WORDS.get(inv.program, ()):
        if tuple(words[: len(sub)]) == sub:
            return inv.args[len(sub):]
    return None


def options(args: list) -> tuple[list[tuple[str, _Text]], list[_Text]]:
    """(option name, value) pairs and the positional arguments."""
    opts: list[tuple[str, _Text]] = []
    positional: list[_Text] = []
    i = 0
    while i < len(args):
        word = args[i]
        v = word.value
        i += 1
        if v == "--":
            positional.extend(_Text(w.value, w.has_expansion, w.raw) for w in args[i:])
            break
        if v.startswith("--") and "=" in v:
            name, _, glued = v.partition("=")
            opts.append((name, _Text(glued, word.has_expansion, glued)))
        elif v in _VALUE_OPTIONS:
            if i < len(args):
                opts.append((v, _Text(args[i].value, args[i].has_expansion, args[i].raw)))
            i += 1
        elif v[:2] in ("-f", "-t") and len(v) > 2:  # a glued short value: -tname:tag
            opts.append((v[:2], _Text(v[2:], word.has_expansion, v[2:])))
        elif not v.startswith("-") or v == "-":
            positional.append(_Text(v, word.has_expansion, word.raw))
    return opts, positional


class _Builder:
    """Collects one invocation's fields and the phrases for what stays unknown."""

    def __init__(self, env: Mapping[str, str], cwd: str | None) -> None:
        self.env = env
        self.cwd = cwd
        self.unresolved: list[str] = []

    def value(self, what: str, text: _Text) -> str | None:
        try:
            return expand(text.value, self.env) if text.expands else text.value
        except UnknownValue as exc:
            self.unresolved.append(f"{what} `{text.raw}`: {exc}")
            return None

    def path(self, what: str, text: str) -> str | None:
        if self.cwd is None:
            self.unresolved.append(f"{what} `{text}`: the working directory is not known")
            return None
        return os.path.normpath(os.path.join(self.cwd, text))


def _invocation(args: list, env: Mapping[str, str], cwd: str | None, origin: Origin) -> Invocation:
    b = _Builder(env, cwd)
    opts, positional = options(args)
    tags: list[str] = []
    build_args: dict[str, str] = {}
    file: _Text | None = None
    target = None
    cache: dict[str, list[str]] = {"--cache-from": [], "--cache-to": []}
    for name, text in opts:
        if name in cache:
            cache[name].append(b.value("cache", text) or text.raw)
        elif name in ("-t", "--tag"):
            tag = b.value("tag", text)
            if tag:
                tags.append(tag)
        elif name in ("-f", "--file"):
            file = text
        elif name == "--target":
            target = b.value("target", text)
        elif name == "--build-arg":
            arg = b.value("build arg", text)
            if arg is None:
                continue
            key, eq, val = arg.partition("=")
            if eq:
                build_args[key] = val
            elif key in env:  # `--build-arg NAME` passes the variable from the environment
                build_args[key] = env[key]
            else:
                b.unresolved.append(f"build arg `{key}` comes from the environment")
    context = dockerfile = None
    where = b.value("context", positional[-1]) if positional else None
    remote = where is not None and bool(REMOTE.match(where))
    if not positional:
        b.unresolved.append("no build context on the command line")
    elif where == "-":
        b.unresolved.append("the Dockerfile comes from standard input, with no context")
    elif remote:
        b.unresolved.append(f"context `{where}` is remote")
    elif where is not None:
        context = b.path("context", where)
    if file is not None:
        name = b.value("Dockerfile", file)
        if name == "-":
            b.unresolved.append("the Dockerfile comes from standard input")
        elif name is not None and not remote:
            dockerfile = b.path("Dockerfile", name)
    elif context is not None:
        dockerfile = os.path.normpath(os.path.join(context, "Dockerfile"))
    return Invocation(origin, dockerfile, context, target, tuple(sorted(build_args.items())), tuple(tags),
                      tuple(b.unresolved), tuple(cache["--cache-from"]), tuple(cache["--cache-to"]))


def build_invocations(script: str, origin: Origin, cwd: str | None, env: Mapping[str, str] | None = None) -> list[Invocation]:
    """The image builds a shell script runs. ``origin.line`` is the line of the script's first
    line; each invocation's origin moves down to the line its command starts on. Relative paths
    are joined to ``cwd`` (None: not known). Never raises."""
    if not any(p in script for p in _BUILD_WORDS):
        return []
    from aicache_lint.dockerfile.shell import normalize, parse_script
    from aicache_lint.source import MappedText

    env = dict(env or {})
    out: list[Invocation] = []
    for command in parse_script(MappedText.contiguous(script, 0)).commands:
        inv = normalize(command)
        if inv is None:
            _assignments(command.assignments, env)  # `NAME=value` alone sets a shell variable
            continue
        if inv.program == "export":
            _assignments(inv.args, env)
        elif inv.program == "cd" and inv.args:
            cwd = _cd(cwd, inv.args[-1], env)
        else:
            args = image_build_args(inv)
            if args is None:
                continue
            local = dict(env)
            for name, word in inv.env.items():  # `VAR=x docker build ...`
                _set(local, name, lambda word=word: _word(word, env))
            line = origin.line + script.count("\n", 0, command.start)
            out.append(_invocation(args, local, cwd, origin._replace(line=line)))
    return out


def _word(word, env: Mapping[str, str]) -> str:
    """A word's shell value with its variables expanded; single-quoted text stays literal."""
    return expand(word.value, env) if word.has_expansion else word.value


def _assignments(words: list, env: dict[str, str]) -> None:
    """Apply `NAME=value` words; a value that cannot be known makes the name unknown."""
    for word in words:
        m = _ASSIGN.fullmatch(word.value)
        if m:
            name, value = m.groups()
            _set(env, name, lambda: expand(value, env) if word.has_expansion else value)  # noqa: B023 (called at once)


def _set(env: dict[str, str], name: str, compute) -> None:
    try:
        value = compute()
    except UnknownValue:
        env.pop(name, None)
    else:
        env[name] = value


def _cd(cwd: str | None, word, env: Mapping[str, str]) -> str | None:
    """The directory after `cd WORD`; None when it cannot be known."""
    try:
        target = _word(word, env)
    except UnknownValue:
        return None
    return None if cwd is None else os.path.normpath(os.path.join(cwd, target))
