"""Exec-form RUN (`RUN ["pip", "install", "torch"]`) as a Script, so rules see its command.

Each JSON string becomes a Word whose span covers the literal with its quotes. Such words are not
shell words: rules must not delete or quote them (``Script.exec_form``). A `["sh", "-c", "..."]`
whose script string has no JSON escapes is tokenized as a real shell script, mapped into the file.
"""

from __future__ import annotations

import json
import re

from aicache_lint.dockerfile.shell import (
    Command,
    Script,
    Word,
    normalize,
    parse_script,
    shell_c_argument,
)
from aicache_lint.source import MappedText

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def exec_script(args: MappedText) -> Script | None:
    words = []
    for m in _STRING.finditer(args.text):
        try:
            value = json.loads(m.group())
        except ValueError:
            return None
        content = range(m.start() + 1, m.end() - 1)
        index = tuple(content) if len(content) == len(value) else tuple(content)[: len(value)]
        words.append(Word(m.group(), value, m.start(), m.end(), True, False, index))
    if not words:
        return None
    script = Script(args, [], [], exec_form=True)
    command = Command([], words, [], words[0].start, words[-1].end, None, None, False, script)
    script.commands.append(command)
    inner = shell_c_argument(normalize(command))
    if inner is not None and len(inner.value_index) == len(inner.value) == inner.end - inner.start - 2:
        # A plain JSON string maps char for char: a real shell script, editable like any other.
        nested = parse_script(args.slice(inner.start + 1, inner.end - 1))
        for cmd in nested.commands:
            cmd.parent = cmd.parent or command
        script.commands.extend(nested.commands)
    return script
