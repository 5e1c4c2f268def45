"""Compose files: the position tree (``parse``), interpolation and the merged project view.

Importing this package does not import PyYAML; ``parse`` does, when a YAML file is linted.
"""

from aicache_lint.compose.model import ComposeDoc, ComposeError
from aicache_lint.compose.parse import parse

__all__ = ["ComposeDoc", "ComposeError", "parse"]
