"""Run the command line in-process with captured streams."""

from __future__ import annotations

import io
from dataclasses import dataclass

from aicache_lint import cli


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(args: list[str], input: str | None = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(list(args), io.BytesIO((input or "").encode("utf-8")), out, err)
    return Result(code, out.getvalue(), err.getvalue())
