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


def base_update(project, *args: str) -> dict:
    """What `aicache-lint impact --output-format json PROJECT` (with ``args``) says a base update
    costs the first image now: {"bytes": ..., "unknown": ...}."""
    import json

    result = invoke(["impact", *args, "--output-format", "json", str(project)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["images"][0]["now"]["base"]
