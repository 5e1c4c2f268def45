"""What running a piece of code costs at start-up: the modules it adds to ``sys.modules``.

Measured in a fresh interpreter and judged only by what this project decides: which
``aicache_lint`` modules load, that no third-party package loads, and that none of the standard
modules known to be slow to import (or to pull in many others) loads. What the standard library
imports for itself (``typing`` pulls in ``re``, ``enum``, ``collections.abc``... on some versions
and not on others) is not ours to check, so these tests hold on every supported Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

SRC = str(Path(__file__).resolve().parent.parent / "src")

# Standard modules the lint path has no use for unless a feature asks (a report format, a
# network lookup, a fix being written, parallel workers): each costs milliseconds or drags in a
# tree of others. A name stands for the module and its submodules.
HEAVY_STDLIB = (
    "json", "hashlib", "tempfile", "subprocess", "urllib", "http", "socket", "ssl", "email",
    "difflib", "shutil", "concurrent", "multiprocessing", "inspect", "dataclasses",
    "zipfile", "importlib.resources", "xml", "logging", "asyncio", "threading", "uuid", "random",
)


class Imports(NamedTuple):
    modules: frozenset[str]  # every module the code added to sys.modules

    @property
    def ours(self) -> set[str]:
        return {m for m in self.modules if m == "aicache_lint" or m.startswith("aicache_lint.")}

    @property
    def third_party(self) -> list[str]:
        """Top-level packages that are neither the standard library's nor this project's."""
        tops = {m.partition(".")[0] for m in self.modules}
        return sorted(t for t in tops if t not in sys.stdlib_module_names and t != "aicache_lint")

    @property
    def heavy(self) -> list[str]:
        return sorted(m for m in self.modules if any(m == h or m.startswith(h + ".") for h in HEAVY_STDLIB))

    def assert_cheap(self) -> None:
        # (this module is not a test file: pytest does not rewrite its asserts, so say what failed)
        assert not self.third_party, f"third-party packages imported: {self.third_party}"
        assert not self.heavy, f"heavy standard modules imported: {self.heavy}"


def imports_of(code: str, setup: str = "", cwd: str | Path | None = None) -> Imports:
    """The modules that running ``code`` adds, in a fresh interpreter that imports this
    checkout's ``src`` and has already run ``setup`` (what the caller does not want counted)."""
    script = (
        "import sys\n"
        f"{setup}\n"
        "before = set(sys.modules)\n"
        f"{code}\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return Imports(frozenset(done.stdout.split()))
