"""What a rule reports, and the severities it may carry."""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from aicache_lint.fix import Fix
from aicache_lint.source import SourceText, Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Violation(NamedTuple):
    """A rule's raw report: where, what, and how to fix it (if it can be fixed)."""

    span: Span
    message: str
    fix: Fix | None = None
    path: str | None = None  # Compose rules see a whole project: the file the span is in


class Location(NamedTuple):
    row: int
    column: int


class Finding(NamedTuple):
    code: str
    name: str
    message: str
    severity: Severity
    path: str
    span: Span
    start: Location
    end: Location
    fix: Fix | None = None

    @classmethod
    def at(
        cls,
        source: SourceText,
        code: str,
        name: str,
        severity: Severity,
        span: Span,
        message: str,
        fix: Fix | None = None,
    ) -> "Finding":
        return cls(
            code, name, message, severity, source.path, span,
            Location(*source.position(span.start)), Location(*source.position(span.end)), fix,
        )

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.start.row, self.start.column, self.code, self.message)
