"""Shared pytest setup: the src layout is importable without installing the package."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_SRC = str(Path(__file__).resolve().parent.parent / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)

# The result cache stays out of the repository's fixtures and examples (its own tests turn it on
# with --cache-dir in a temporary directory); subprocesses inherit the variable.
os.environ["AICACHE_LINT_NO_CACHE"] = "1"
