"""The bundled examples show every rule, and --fix on a copy cleans them."""

from __future__ import annotations

import shutil
from pathlib import Path

from cli_runner import invoke

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPECTED = {
    ("cuda-base/Dockerfile.runtime", 27, "AIC101"), ("cuda-base/Dockerfile.runtime", 30, "AIC101"),
    ("cuda-base/Dockerfile.runtime", 37, "AIC101"), ("cuda-base/Dockerfile.runtime", 38, "AIC302"),
    ("cuda-base/Dockerfile.runtime", 39, "AIC302"), ("whisperx/Dockerfile", 21, "AIC201"),
    ("whisperx/Dockerfile", 25, "AIC101"), ("comfyui/Dockerfile", 15, "AIC102"),
    ("comfyui/Dockerfile", 19, "AIC104"), ("comfyui/Dockerfile", 21, "AIC302"),
    ("comfyui/Dockerfile", 30, "AIC104"), ("comfyui/Dockerfile", 50, "AIC102"),
    ("comfyui/Dockerfile", 55, "AIC101"), ("comfyui/Dockerfile", 55, "AIC201"),
}


def _findings(root: Path) -> set[tuple[str, int, str]]:
    result = invoke([str(root)])
    found = set()
    for line in result.output.splitlines():
        if line.startswith(str(root)) and ": AIC" in line:
            path, row, _col, rest = line.split(":", 3)
            found.add((Path(path).relative_to(root).as_posix(), int(row), rest.split()[0]))
    return found


def test_examples_show_every_rule() -> None:
    assert _findings(EXAMPLES) == EXPECTED
    assert {code for *_, code in EXPECTED} == {"AIC101", "AIC102", "AIC104", "AIC201", "AIC302"}


def test_fix_cleans_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    result = invoke(["--fix", str(copy)])
    assert result.exit_code == 0, result.output
    assert "(14 fixed, 0 remaining)" in result.output
    assert _findings(copy) == set()
    assert (EXAMPLES / "comfyui" / "Dockerfile").read_bytes() != (copy / "comfyui" / "Dockerfile").read_bytes()
