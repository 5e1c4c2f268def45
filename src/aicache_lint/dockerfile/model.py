"""The lossless Dockerfile model: every node keeps the file span it came from."""

from __future__ import annotations

from typing import NamedTuple

from aicache_lint.source import MappedText, SourceText, Span

INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL "
    "STOPSIGNAL USER VOLUME WORKDIR".split()
)
# Instructions whose arguments may be a JSON array (BuildKit's parseMaybeJSON*).
JSON_CAPABLE = frozenset("ADD CMD COPY ENTRYPOINT RUN SHELL VOLUME".split())
HEREDOC_CAPABLE = frozenset("ADD COPY RUN".split())


class Directive(NamedTuple):
    name: str  # lower-case: syntax, escape, check
    value: str
    span: Span  # the whole directive line (without its newline)


class MountOption(NamedTuple):
    key: str  # lower-cased, as BuildKit matches keys
    value: str | None  # None for bare keys such as `ro`
    span: Span  # `key=value` in the file
    key_span: Span
    value_span: Span | None


class Flag(NamedTuple):
    name: str  # as written, without the leading `--`
    value: str | None  # quote-free value after `=`, None for a bare `--link`
    span: Span  # the whole flag word in the file
    value_span: Span | None  # the raw value text after `=` in the file
    options: tuple[MountOption, ...] = ()  # `--mount` only

    @property
    def key(self) -> str:
        return self.name.lower()

    def option(self, *keys: str) -> MountOption | None:
        """The last option with one of ``keys`` (BuildKit lets a later key win)."""
        found = None
        for opt in self.options:
            if opt.key in keys:
                found = opt
        return found

    @property
    def mount_type(self) -> str:
        opt = self.option("type")
        return (opt.value or "").lower() if opt else "bind"

    @property
    def mount_target(self) -> str | None:
        opt = self.option("target", "dst", "destination")
        return opt.value if opt else None


class Heredoc(NamedTuple):
    name: str  # the delimiter, quotes removed
    strip_tabs: bool  # `<<-`
    quoted: bool  # `<<'EOF'` / `<<"EOF"`: no build-time expansion
    fd: int
    body_span: Span  # the body lines, including the newline before the terminator
    span: Span  # body and terminator line
    content: str


class Instruction:
    """One instruction. Mutable while the lexer completes it (heredocs extend its end)."""

    __slots__ = ("keyword", "keyword_span", "span", "start_line", "end_line", "flags", "args", "json_args",
                 "heredocs", "inner")

    def __init__(
        self,
        keyword: str,  # upper-case
        keyword_span: Span,
        span: Span,  # first line's text (the keyword unless it is a bare escape) to the end of the last line
        start_line: int,
        end_line: int,
        flags: list[Flag],
        args: MappedText,  # text after the flags, continuations joined and comment lines dropped
        json_args: list[str] | None,
        heredocs: list[Heredoc],
        inner: "Instruction | None" = None,  # the instruction ONBUILD wraps
    ) -> None:
        self.keyword = keyword
        self.keyword_span = keyword_span
        self.span = span
        self.start_line = start_line
        self.end_line = end_line
        self.flags = flags
        self.args = args
        self.json_args = json_args
        self.heredocs = heredocs
        self.inner = inner

    def __repr__(self) -> str:
        return f"Instruction({self.keyword} lines {self.start_line}-{self.end_line})"

    @property
    def is_json(self) -> bool:
        return self.json_args is not None

    @property
    def is_shell_form(self) -> bool:
        return self.json_args is None

    def flags_named(self, name: str) -> list[Flag]:
        return [f for f in self.flags if f.key == name]

    @property
    def mounts(self) -> list[Flag]:
        return self.flags_named("mount")

    @property
    def words(self) -> list[str]:
        """Whitespace-split arguments (enough for FROM, USER, WORKDIR)."""
        return self.args.text.split()


class ParseError(NamedTuple):
    message: str
    span: Span


class Dockerfile(NamedTuple):
    source: SourceText
    escape: str
    directives: list[Directive]
    instructions: list[Instruction]
    comments: list[Span]  # every comment line, including those inside continuations
    errors: list[ParseError]

    def directive(self, name: str) -> Directive | None:
        for d in self.directives:
            if d.name == name:
                return d
        return None
