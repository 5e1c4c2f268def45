"""Suppression comments in Dockerfiles, Compose files, the CI, Bake and BuildKit files, shell scripts
and Python sources.

``# aicache-lint: ignore=AIC101,AIC203 optional reason`` on the comment line(s) directly above an
instruction silences those codes for that instruction (heredoc bodies included);
``# aicache-lint: ignore-file=AIC101`` (or ``ignore-file`` alone, for every code) anywhere in the
comment block above the first instruction silences them for the whole file. A `#` after an
instruction is part of its arguments, so there are no trailing pragmas. YAML, HCL and TOML files take
the same comments above a key, list item, block, attribute or table; shell scripts above a command;
Python sources above a statement (a compound statement's header covers its whole block).
"""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.source import SourceText, Span

if TYPE_CHECKING:
    from aicache_lint.buildfiles import BuildFile
    from aicache_lint.compose.model import ComposeDoc
    from aicache_lint.dockerfile.model import Dockerfile, Instruction
    from aicache_lint.finding import Finding

_DIRECTIVE = re.compile(
    r"#\s*aicache-lint\s*:\s*(?P<kind>ignore-file|ignore)(?![\w-])(?:\s*=\s*(?P<codes>[^\s]*))?(?P<reason>.*)$"
)


class Code(NamedTuple):
    code: str  # as written
    span: Span  # the code itself
    delete: Span  # the code with one separating comma


class Suppression(NamedTuple):
    file_wide: bool
    codes: tuple[Code, ...]  # empty: every code
    line_span: Span  # what deleting the comment line removes (see ``line_span``)
    comment: Span  # the comment text
    codes_end: int  # offset just after the code list (where --add-ignore appends)
    instruction: "Instruction | None"  # the instruction it sits above (None: file-wide, YAML, misplaced)
    region: Span | None = None  # what it covers: the instruction, or the YAML key / list item below it

    def covers(self, code: str) -> bool:
        return not self.codes or any(c.code.upper() == code for c in self.codes)


def parse(source: SourceText, doc: "Dockerfile") -> list[Suppression]:
    first_instruction = doc.instructions[0].start_line if doc.instructions else source.line_count + 1
    comment_lines = {source.line_of(span.start): span for span in doc.comments}
    starts = {i.start_line: i for i in doc.instructions}
    out = []
    for line, span in sorted(comment_lines.items()):
        m = _DIRECTIVE.match(source.text, span.start, span.end)
        if m is None:
            continue
        file_wide = m.group("kind") == "ignore-file"
        instruction = None
        if file_wide:
            if line >= first_instruction:
                continue  # only in the top comment block
        else:
            # None when no instruction follows the comment block: reported as misplaced.
            instruction = _instruction_below(line, comment_lines, starts)
        codes = _codes(m, span.start) if m.group("codes") else ()
        end = m.end("codes") if m.group("codes") is not None else m.end("kind")
        region = instruction.span if instruction is not None else None  # heredoc bodies included
        out.append(Suppression(file_wide, codes, line_span(source, line), span, end, instruction, region))
    return out


def parse_yaml(source: SourceText, doc: "ComposeDoc") -> list[Suppression]:
    """The same comments in a Compose file: above a key or a list item (the region is that key's
    or item's text), or -- `ignore-file` -- in the comment block before the first key."""
    return _parse_regions(source, doc.comments, yaml_regions(source, doc))


def parse_build_file(source: SourceText, parsed: "BuildFile") -> list[Suppression]:
    """Suppression comments of a CI, Bake or BuildKit file: YAML as in Compose files; HCL above a
    block or an attribute; TOML above a table header or a key. JSON has no comments (per-file
    ignores serve it)."""
    if "aicache-lint" not in source.text:
        return []  # no directive: the regions are not worked out
    return _parse_regions(source, *build_file_regions(source, parsed))


def build_file_regions(source: SourceText, parsed: "BuildFile") -> tuple[list[Span], dict[int, Span]]:
    """(comments, the region a suppression above each line covers)."""
    if parsed.yaml is not None and parsed.syntax == "yaml":
        return parsed.yaml.comments, yaml_regions(source, parsed.yaml)
    if parsed.hcl is not None:
        regions: dict[int, Span] = {}
        for block in parsed.hcl.blocks:
            regions.setdefault(source.line_of(block.span.start), block.span)
            for attr in block.attributes.values():
                regions.setdefault(source.line_of(attr.span.start), attr.span)
        return parsed.hcl.comments, regions
    if parsed.syntax == "toml":
        return _toml_regions(source)
    if parsed.syntax == "shell":
        return _shell_regions(source)
    if parsed.syntax == "python":
        return _python_regions(source)
    return [], {}


_TOML_COMMENT = re.compile(r"^[ \t]*(#.*)$", re.MULTILINE)
_TOML_ITEM = re.compile(r"^[ \t]*([\[A-Za-z0-9_\"'-])", re.MULTILINE)


def _toml_regions(source: SourceText) -> tuple[list[Span], dict[int, Span]]:
    """Comment lines, and each line that starts a key or a table header (to its line's end: a
    multi-line value is covered by its first line, where findings are reported)."""
    comments = [Span(m.start(1), m.end(1)) for m in _TOML_COMMENT.finditer(source.text)]
    regions = {}
    for m in _TOML_ITEM.finditer(source.text):
        line = source.line_of(m.start(1))
        regions[line] = Span(m.start(1), source.line_end(line))
    return comments, regions


def _shell_regions(source: SourceText) -> tuple[list[Span], dict[int, Span]]:
    """Comment lines outside heredoc bodies, and each line that starts a command: its region runs
    to the end of the last command starting on that line, heredoc bodies included (where the
    daemon rules report). Only a script that can hold a finding or a directive is tokenized."""
    text = source.text
    if "daemon.json" not in text and "aicache-lint" not in text:
        return [], {}
    from aicache_lint.dockerfile.shell import parse_script
    from aicache_lint.source import MappedText

    bodies: list[tuple[int, int]] = []
    regions: dict[int, Span] = {}
    for command in parse_script(MappedText.contiguous(text, 0)).commands:
        if command.parent is not None:
            continue  # inside `sh -c '...'` or `$(...)`: covered by the command holding it
        docs = [(r.heredoc.body_start, r.heredoc.body_end) for r in command.redirects if r.heredoc is not None]
        bodies.extend(docs)
        line = source.line_of(command.start)
        end = max([command.end, *(e for _, e in docs)])
        known = regions.get(line)
        regions[line] = Span(min(known.start, command.start), max(known.end, end)) if known else Span(command.start, end)
    comments = [Span(m.start(1), m.end(1)) for m in _TOML_COMMENT.finditer(text)
                if not any(lo <= m.start(1) < hi for lo, hi in bodies)]
    return comments, regions


def _python_regions(source: SourceText) -> tuple[list[Span], dict[int, Span]]:
    """Comments (as Python's tokenizer finds them: never inside a string), and each line that
    starts a statement: its region runs from the first to the end of the last statement starting
    on that line (`a = 1; b = 2`), a compound statement's block included."""
    import io
    import tokenize

    from aicache_lint.python.read import statements

    regions: dict[int, Span] = {}
    for span in statements(source.text) or ():
        line = source.line_of(span.start)
        known = regions.get(line)
        regions[line] = Span(min(known.start, span.start), max(known.end, span.end)) if known else span
    comments = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source.text).readline):
            if token.type == tokenize.COMMENT:
                start = source.line_start(token.start[0]) + token.start[1]
                comments.append(Span(start, start + len(token.string)))
    except (tokenize.TokenError, SyntaxError):
        pass  # not valid Python: such a file is AIC001 alone
    return comments, regions


def _parse_regions(source: SourceText, comments: list[Span], regions: dict[int, Span]) -> list[Suppression]:
    comment_lines = {source.line_of(span.start): span for span in comments}
    first_content = min(regions, default=source.line_count + 1)
    out = []
    for line, span in sorted(comment_lines.items()):
        m = _DIRECTIVE.match(source.text, span.start, span.end)
        if m is None or source.text[source.line_start(line) : span.start].strip():
            continue  # not a directive, or a trailing comment after a value
        file_wide = m.group("kind") == "ignore-file"
        if file_wide and line >= first_content:
            continue
        region = None
        if not file_wide:
            below = line + 1
            while below in comment_lines and not source.text[source.line_start(below) : comment_lines[below].start].strip():
                below += 1
            region = regions.get(below)
        codes = _codes(m, span.start) if m.group("codes") else ()
        end = m.end("codes") if m.group("codes") is not None else m.end("kind")
        out.append(Suppression(file_wide, codes, line_span(source, line), span, end, None, region))
    return out


def yaml_regions(source: SourceText, doc: "ComposeDoc") -> dict[int, Span]:
    """For each line where a mapping key or a block list item starts: the span of that entry."""
    from aicache_lint.compose.model import Mapping, Sequence

    regions: dict[int, Span] = {}
    for node in doc.walk():
        if isinstance(node, Mapping):
            for pair in node.pairs:
                end = max(pair.key.span.end, pair.value.span.end)
                regions.setdefault(source.line_of(pair.key.span.start), Span(pair.key.span.start, end))
        elif isinstance(node, Sequence):
            for dash, item in zip(node.dashes, node.items):
                regions.setdefault(source.line_of(dash), Span(dash, max(dash, item.span.end)))
    return regions


def _instruction_below(line: int, comment_lines: dict[int, Span], starts: dict[int, "Instruction"]):
    """The instruction right under a block of comment lines that includes ``line``."""
    below = line + 1
    while below in comment_lines:
        below += 1
    return starts.get(below)


def _codes(m: re.Match, offset: int) -> tuple[Code, ...]:
    text, base = m.group("codes"), m.start("codes")
    codes = []
    pos = 0
    parts = text.split(",")
    for i, part in enumerate(parts):
        start, end = base + pos, base + pos + len(part)
        if part:
            if len(parts) == 1:
                delete = Span(start, end)
            elif i < len(parts) - 1:
                delete = Span(start, end + 1)  # with the comma after it
            else:
                delete = Span(start - 1, end)  # the last one: with the comma before it
            codes.append(Code(part, Span(start, end), delete))
        pos += len(part) + 1
    return tuple(codes)


_PARSER_DIRECTIVE = re.compile(r"[ \t]*#[ \t]*(syntax|escape|check)[ \t]*=", re.IGNORECASE)


def wakes_directives(source: SourceText, deleted: Span) -> bool:
    """Whether deleting ``deleted`` (a Dockerfile comment line) would turn the comment lines after
    it into parser directives: BuildKit reads `# syntax=`/`# escape=`/`# check=` only in the unbroken
    block at the top, which a comment line ends (DOMAIN §1.1). Removing that line would change the
    frontend or the escape character, not just drop a comment."""
    if source.yaml:
        return False
    before = source.text[: deleted.start]
    if any(line.strip() and not _PARSER_DIRECTIVE.match(line) for line in before.splitlines()):
        return False
    return bool(_PARSER_DIRECTIVE.match(source.text[deleted.end :]))


def line_span(source: SourceText, line: int) -> Span:
    """What deleting ``line`` removes: the line and its newline -- or, for a last line with no
    newline after it, the newline before it, so that the file's final-newline state survives."""
    start = source.line_start(line)
    if line < source.line_count:
        return Span(start, source.line_start(line + 1))
    if line > 1:
        return Span(source.line_end(line - 1), len(source.text))
    return Span(start, len(source.text))


def containing_instruction(doc: "Dockerfile", offset: int) -> "Instruction | None":
    """The instruction whose text (heredoc bodies included) holds ``offset``."""
    starts = [i.span.start for i in doc.instructions]
    at = bisect.bisect_right(starts, offset) - 1
    if at < 0:
        return None
    instruction = doc.instructions[at]
    return instruction if offset <= instruction.span.end else None


def apply(findings: list["Finding"], suppressions: list[Suppression]) -> tuple[list["Finding"], set[tuple[int, int]]]:
    """The findings no suppression covers, and which (suppression, code index) pairs were used
    (code index -1: a blanket suppression)."""
    used: set[tuple[int, int]] = set()
    kept = []
    for finding in findings:
        at = finding.span.start
        hit = False
        for n, sup in enumerate(suppressions):
            if not sup.file_wide and (sup.region is None or not sup.region.start <= at <= sup.region.end):
                continue
            if sup.covers(finding.code):
                hit = True
                used.add((n, _code_index(sup, finding.code)))
        if not hit:
            kept.append(finding)
    return kept, used


def _code_index(sup: Suppression, code: str) -> int:
    for i, c in enumerate(sup.codes):
        if c.code.upper() == code:
            return i
    return -1
