"""edits.delete_command: one simple command leaves with exactly one joining operator, and every
continuation layout stays valid (checked against BuildKit's parser where it is installed)."""

from __future__ import annotations

import pytest
from buildkit_oracle import assert_matches_buildkit, available

from aicache_lint.dockerfile.edits import delete_command
from aicache_lint.dockerfile.facts import Facts
from aicache_lint.dockerfile.lexer import parse
from aicache_lint.fix import apply_edits
from aicache_lint.source import SourceText


def _delete(text: str, program: str = "rm") -> str | None:
    source = SourceText(text)
    doc = parse(source)
    facts = Facts(doc)
    for run in facts.runs():
        for inv in facts.invocations(run):
            if inv.program == program:
                edits = delete_command(source, inv.command, doc.escape)
                return None if edits is None else apply_edits(text, list(edits))
    raise AssertionError("no such command")


CASES = [
    ('FROM d\nRUN a && rm -rf x && b\n',
     'FROM d\nRUN a && b\n'),
    ('FROM d\nRUN rm -rf x && b\n',
     'FROM d\nRUN b\n'),
    ('FROM d\nRUN a && rm -rf x\n',
     'FROM d\nRUN a\n'),
    ('FROM d\nRUN a \\\n    && rm -rf /var/lib/apt/lists/* \\\n    && b\n',
     'FROM d\nRUN a \\\n    && b\n'),
    ('FROM d\nRUN a \\\n    && b \\\n    && rm -rf /var/lib/apt/lists/*\nRUN c\n',
     'FROM d\nRUN a \\\n    && b\nRUN c\n'),
    ('FROM d\nRUN a && \\\n    rm -rf x && \\\n    b\n',
     'FROM d\nRUN a && \\\n    b\n'),
    ('FROM d\nRUN a && \\\n    b && \\\n    rm -rf x\nRUN c\n',
     'FROM d\nRUN a && \\\n    b\nRUN c\n'),
    ('FROM d\nRUN rm -rf x && \\\n    b\n',
     'FROM d\nRUN \\\n    b\n'),
    ('FROM d\nRUN --mount=type=cache,target=/x \\\n    rm -rf x && \\\n    b\n',
     'FROM d\nRUN --mount=type=cache,target=/x \\\n    b\n'),
    ('FROM d\nRUN rm -rf x \\\n    && b\n',
     'FROM d\nRUN \\\n    b\n'),
    ('FROM d\nRUN a \\\n    # clean up\n    && rm -rf x\nRUN c\n',
     'FROM d\nRUN a\n    # clean up\nRUN c\n'),
    ('FROM d\nRUN a && \\\n    # clean up\n    rm -rf x\nRUN c\n',
     'FROM d\nRUN a\n    # clean up\nRUN c\n'),
    ('FROM d\nRUN a && \\\n    # clean up\n    rm -rf x && \\\n    b\n',
     'FROM d\nRUN a && \\\n    # clean up\n    b\n'),
    ('FROM d\nRUN a; rm -rf x; b\n',
     'FROM d\nRUN a; b\n'),
    ('FROM d\nRUN a && rm -rf x; b\n',
     'FROM d\nRUN a; b\n'),
    ('FROM d\nRUN a; rm -rf x && b\n',
     'FROM d\nRUN a; b\n'),
    ('FROM d\nRUN a || rm -rf x\n',
     None),
    ('FROM d\nRUN a && rm -rf x || true\n',
     None),
    ('FROM d\nRUN rm -rf x | tee\n',
     None),
    ('FROM d\nRUN if [ -n "$CI" ]; then rm -rf x; fi\n',
     None),
    ('FROM d\nRUN for f in a; do rm -rf x; b; done\n',
     None),
    ('FROM d\nRUN { a; rm -rf x; }\n',
     None),
    ('FROM d\nRUN rm -rf x\n',
     None),
    ('FROM d\nRUN <<EOF\nset -e\napt-get update\nrm -rf x\necho done\nEOF\n',
     'FROM d\nRUN <<EOF\nset -e\napt-get update\necho done\nEOF\n'),
    ('FROM d\nRUN <<EOF\napt-get update && \\\n  rm -rf x\necho hi\nEOF\n',
     'FROM d\nRUN <<EOF\napt-get update\necho hi\nEOF\n'),
    ('FROM d\nRUN <<EOF\napt-get update \\\n  && rm -rf x\necho hi\nEOF\n',
     'FROM d\nRUN <<EOF\napt-get update\necho hi\nEOF\n'),
    ('FROM d\nRUN <<EOF\napt-get update && \\\n  rm -rf x && \\\n  echo hi\nEOF\n',
     'FROM d\nRUN <<EOF\napt-get update && \\\n  echo hi\nEOF\n'),
    ("FROM d\nRUN sh -c 'a && rm -rf x && b'\n",
     "FROM d\nRUN sh -c 'a && b'\n"),
    ('FROM d\nRUN a \\\n    && rm -rf x',
     'FROM d\nRUN a'),
    ('FROM d\r\nRUN a \\\r\n    && rm -rf x\r\nRUN b\r\n',
     'FROM d\r\nRUN a\r\nRUN b\r\n'),
    ('# escape=`\nFROM d\nRUN a `\n    && rm -rf x\n',
     '# escape=`\nFROM d\nRUN a\n'),
    ('FROM d\nRUN a \\\n    && rm -rf \\\n       /x \\\n    && b\n',
     'FROM d\nRUN a \\\n    && b\n'),
    ('FROM d\nRUN a \\\n    && rm -rf \\\n       /x\n',
     'FROM d\nRUN a\n'),
    ('FROM d\nRUN a && rm -rf x \\\n    && b\n',
     'FROM d\nRUN a \\\n    && b\n'),
    ('FROM d\nRUN cat <<EOF > /f && rm -rf x\nbody\nEOF\n',
     'FROM d\nRUN cat <<EOF > /f\nbody\nEOF\n'),
    ('FROM d\nRUN cat <<EOF > /f \\\n    && rm -rf x\nbody\nEOF\n',
     'FROM d\nRUN cat <<EOF > /f\nbody\nEOF\n'),
    ('FROM d\nRUN ! rm -rf x && b\n',
     None),
    ('FROM d\nRUN a && echo $(rm -rf x) && b\n',
     None),
    ('FROM d\nRUN a &&\\\n    rm -rf x\n',
     'FROM d\nRUN a\n'),
    ('FROM d\nRUN\\\n  a && rm -rf x\n',
     'FROM d\nRUN\\\n  a\n'),
    ('FROM d\nRUN a \\\n\n    && rm -rf x\nRUN b\n',
     'FROM d\nRUN a\n\nRUN b\n'),
    # A command that reads a heredoc: its body would stay behind as a Dockerfile line (`B`) ...
    ('FROM d\nRUN a && rm -rf /var/lib/apt/lists/* <<B\nB\n',
     None),
    # An escaped lone CR (not a line end for BuildKit) would end the line once the rest goes: the
    # `\` + CR + LF left behind would continue the RUN into the next instruction.
    ('FROM d\nRUN a \\\r    && rm -rf x\nRUN b\n',
     None),
    # ... or as lines of the script, then run as commands.
    ('FROM d\nRUN <<EOF\na\nrm -rf x <<-END\n\tb\n\tEND\nEOF\n',
     None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_delete_command(text: str, expected: str | None) -> None:
    got = _delete(text)
    assert got == expected
    if got is not None:
        assert not parse(SourceText(got)).errors
        if available():
            assert_matches_buildkit(got)

