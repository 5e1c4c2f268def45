"""The shell scripts written in CI YAML files, with the file offset of every character, and the
image builds they run.

A script is a GitHub step's `run:` or a GitLab job's `script:`/`before_script:` item. Its text
(the YAML value) maps back to the file for a literal block (`|`, `|-`, `|+`), a plain scalar on
one line and a quoted scalar on one line without escapes; any other style (folded `>`, plain or
quoted scalars over several lines, escapes) is read but not mapped, so a finding covers the whole
scalar and no edit goes inside it. The mapping is checked against the value the YAML parser read:
a mismatch leaves the scalar unmapped rather than placing an edit wrongly.

``build_commands`` finds the image builds of a script with the project's shell tokenizer (line
continuations, `&&` chains, `if` bodies, `sudo`, `$(...)`): what ``ci/commands.py`` reads as a
build (`docker build`, `docker buildx build`, `podman build`, `buildah bud`), and `docker compose
build` / `docker-compose build`, which builds the services of Compose files.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.compose.model import BLOCK, DOUBLE, LITERAL, PLAIN, SINGLE, Mapping, Scalar, Sequence
from aicache_lint.source import YAML_BREAK, MappedText, Span

if TYPE_CHECKING:
    from aicache_lint.buildfiles import BuildFile
    from aicache_lint.ci.steps import Step
    from aicache_lint.dockerfile.shell import Command, Word

# `docker compose` options before the subcommand that take a value in the next word
# (https://docs.docker.com/reference/cli/docker/compose/#options).
_COMPOSE_VALUE_OPTIONS = frozenset({"-f", "--file", "-p", "--project-name", "--profile", "--env-file",
                                    "--project-directory", "--ansi", "--progress", "--parallel"})
# Top-level keys of a `.gitlab-ci.yml` that are no job (https://docs.gitlab.com/ci/yaml/).
_GITLAB_GLOBAL_KEYS = frozenset({"default", "include", "stages", "variables", "workflow", "image", "services",
                                 "before_script", "after_script", "cache", "spec"})
_HEADER = re.compile(r"\|([1-9]?)[-+]?([1-9]?)")
_MAX_EXTENDS = 11  # GitLab's own limit on `extends` depth


class ScriptText(NamedTuple):
    """One script scalar of a CI file."""

    node: Scalar
    text: MappedText  # the script; its offsets are file offsets when ``mapped``
    mapped: bool
    block: bool  # the scalar sits in block context (a plain scalar there may take `,` and `=`)
    job: str  # the workflow job or GitLab job running it ("" in a composite action)
    step: "Step | None"  # the workflow step (None in GitLab)

    def file_span(self, start: int, end: int) -> Span:
        """File span of ``text[start:end]``; the whole scalar when the text is not mapped."""
        return self.text.file_span(start, end) if self.mapped else self.node.span


def scalar_text(text: str, node: Scalar) -> MappedText | None:
    """The scalar's value with the file offset of each character, or None (see the module doc)."""
    raw = text[node.span.start : node.span.end]
    if node.style == LITERAL:
        mapped = _literal(text, node)
    elif YAML_BREAK.search(raw):
        return None
    elif node.style == PLAIN:
        mapped = MappedText.contiguous(raw, node.span.start)
    elif node.style == DOUBLE and "\\" not in raw:
        mapped = MappedText.contiguous(raw[1:-1], node.span.start + 1)
    elif node.style == SINGLE:
        chars, offsets = [], []
        i = 1
        while i < len(raw) - 1:
            chars.append(raw[i])
            offsets.append(node.span.start + i)
            i += 2 if raw[i : i + 2] == "''" else 1
        mapped = MappedText("".join(chars), [*offsets, node.span.end - 1])
    else:
        return None
    value = node.value.rstrip("\n")
    if mapped is None or mapped.text.rstrip("\n") != value:
        return None
    return mapped.slice(0, len(value))


def _literal(text: str, node: Scalar) -> MappedText | None:
    """A literal block's content lines without their indentation, joined by `\\n` (each break
    mapped to the file's line break, CRLF or LF)."""
    header = _HEADER.match(text, node.span.start)
    if header is None or header.group(1) or header.group(2):
        return None  # an explicit indentation indicator: rare, not mapped
    first = YAML_BREAK.search(text, header.end(), node.span.end)
    if first is None:
        return None
    lines: list[tuple[int, int, int]] = []  # (start, end, break start) of each content line
    at = first.end()
    while at < node.span.end:
        brk = YAML_BREAK.search(text, at, node.span.end)
        end = brk.start() if brk else node.span.end
        lines.append((at, end, end))
        at = brk.end() if brk else node.span.end
    indents = [len(text[s:e]) - len(text[s:e].lstrip(" ")) for s, e, _ in lines if text[s:e].strip(" ")]
    if not indents:
        return None
    indent = indents[0]
    pieces = []
    for start, end, brk in lines:
        cut = min(start + indent, end)
        pieces.append(MappedText.contiguous(text[cut:end], cut))
        pieces.append(MappedText("\n", [brk, brk + 1]))
    return MappedText.join(pieces)


def _script(text: str, node, job: str, step: "Step | None", parent) -> ScriptText | None:
    node = node.target if node is not None else None
    if not isinstance(node, Scalar) or node.is_null:
        return None
    mapped = scalar_text(text, node)
    script = mapped if mapped is not None else MappedText.contiguous(node.value, 0)
    return ScriptText(node, script, mapped is not None, getattr(parent, "style", BLOCK) == BLOCK, job, step)


def workflow_scripts(file: "BuildFile") -> list[ScriptText]:
    """The `run:` scripts of a workflow's or composite action's steps, in file order."""
    from aicache_lint.ci.steps import steps

    out = []
    for step in steps(file):
        script = _script(file.source.text, step.run, step.job, step, step.node)
        if script is not None:
            out.append(script)
    return out


def gitlab_scripts(file: "BuildFile") -> list[ScriptText]:
    """The `before_script:` and `script:` items every job of a `.gitlab-ci.yml` runs, each once
    (a template's script run by several jobs too), in file order. A job's keys come from its own
    mapping (`<<` merges included), then the templates it `extends` (later ones win, followed to
    GitLab's depth limit); `before_script` falls back to `default:` and the global one."""
    root = file.yaml.root if file.yaml is not None else None
    if root is None:
        return []
    text = file.source.text
    default = root.get("default")
    fallback = [default if isinstance(default, Mapping) else None, root]
    seen: set[Span] = set()
    out: list[ScriptText] = []
    for pair in root.pairs:
        job = pair.value.target
        if pair.name in _GITLAB_GLOBAL_KEYS or pair.name.startswith(".") or not isinstance(job, Mapping):
            continue
        for key in ("before_script", "script"):
            node = _job_key(root, job, key, 0)
            for owner in (fallback if node is None and key == "before_script" else ()):
                node = owner.get(key) if owner is not None else None
                if node is not None:
                    break
            for item, parent in _items(node, None):
                script = _script(text, item, pair.name, None, parent if parent is not None else job)
                if script is not None and script.node.span not in seen:
                    seen.add(script.node.span)
                    out.append(script)
    return sorted(out, key=lambda s: s.node.span)


def _job_key(root: Mapping, job: Mapping, key: str, depth: int):
    """``key`` of a job or template, its own or from what it `extends`."""
    own = job.get(key)
    if own is not None or depth >= _MAX_EXTENDS:
        return own
    parents = job.get("extends")
    names = [parents] if isinstance(parents, Scalar) else parents.items if isinstance(parents, Sequence) else []
    for name in reversed(names):  # a later template wins
        name = name.target
        template = root.get(name.value) if isinstance(name, Scalar) and name.value else None
        if isinstance(template, Mapping):
            found = _job_key(root, template, key, depth + 1)
            if found is not None:
                return found
    return None


def _items(node, parent):
    """A script's items with the collection holding each; nested lists (from anchors) flattened."""
    node = node.target if node is not None else None
    if isinstance(node, Sequence):
        for item in node.items:
            yield from _items(item, node)
    elif isinstance(node, Scalar):
        yield node, parent


class BuildCommand(NamedTuple):
    """An image build in a script: ``words`` name it (`docker buildx build`, `sudo` and `VAR=x`
    prefixes excluded), ``args`` follow it."""

    script: ScriptText
    command: "Command"
    words: list["Word"]
    args: list["Word"]
    compose: bool  # `docker compose build`: ``args`` are its options and services

    @property
    def program(self) -> str:
        return " ".join(w.value for w in self.words)

    @property
    def span(self) -> Span:
        return self.command.script.file_span(self.command.start, self.command.end) if self.script.mapped \
            else self.script.node.span

    @property
    def one_line(self) -> bool:
        """Whether the command is written on one line of the file, as one unbroken run of it."""
        c = self.command
        text = c.script.source
        return (self.script.mapped and c.parent is None and "\n" not in text.text[c.start : c.end]
                and text.is_contiguous(c.start, c.end))

    def compose_files(self) -> list[str] | None:
        """The `-f` files of `docker compose -f a.yml build` (as written), [] when none are
        given, None when one is computed."""
        files = []
        options = self.words[2:] if self.words[0].value == "docker" else self.words[1:]
        for option, value in zip(options, options[1:]):
            if option.value in ("-f", "--file"):
                if value.has_expansion:
                    return None
                files.append(value.value)
        return files


def build_commands(script: ScriptText) -> list[BuildCommand]:
    """The image builds a script runs, in order."""
    if not any(p in script.text.text for p in ("docker", "podman", "buildah")):
        return []
    from aicache_lint.ci.commands import image_build_args
    from aicache_lint.dockerfile.shell import normalize, parse_script

    out = []
    for command in parse_script(script.text).commands:
        inv = normalize(command)
        if inv is None:
            continue
        args = image_build_args(inv)
        if args is not None:
            named = inv.program_words + inv.args[: len(inv.args) - len(args)]
            out.append(BuildCommand(script, command, named, args, False))
            continue
        compose = _compose_build(inv)
        if compose is not None:
            out.append(BuildCommand(script, command, *compose, True))
    return out


def _compose_build(inv) -> tuple[list, list] | None:
    """(words naming it, arguments) of `docker compose [options] build ...` or
    `docker-compose [options] build ...`; None for anything else."""
    if inv.program == "docker" and inv.args and inv.args[0].value == "compose":
        i = 1
    elif inv.program == "docker-compose":
        i = 0
    else:
        return None
    args = inv.args
    while i < len(args) and args[i].value.startswith("-"):
        i += 1 + (args[i].value in _COMPOSE_VALUE_OPTIONS)
    if i < len(args) and args[i].value == "build":
        return inv.program_words + args[: i + 1], args[i + 1 :]
    return None
