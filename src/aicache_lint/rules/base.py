"""The Rule base class: metadata as class attributes, documentation in the docstring."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, NamedTuple

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Applicability

if TYPE_CHECKING:
    from aicache_lint.buildfiles import BuildFile
    from aicache_lint.compose.model import ComposeDoc
    from aicache_lint.compose.project import Project
    from aicache_lint.dockerfile.facts import Facts
    from aicache_lint.dockerfile.model import Dockerfile
    from aicache_lint.registry.resolver import Resolver
    from aicache_lint.source import SourceText
    from aicache_lint.workspace.index import Workspace

DOC_SECTIONS = (
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Fix safety",
    "Options",
    "References",
)
_CODE = re.compile(r"AIC\d{3}")
_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def _cleandoc(doc: str) -> str:
    """Like inspect.cleandoc (without importing inspect on the lint path): dedent the lines after
    the first by their common indent, drop leading and trailing blank lines."""
    lines = doc.expandtabs().split("\n")
    indent = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()), default=0)
    cleaned = [lines[0].strip()] + [line[indent:].rstrip() for line in lines[1:]]
    return "\n".join(cleaned).strip("\n")


class FixAvailability:
    ALWAYS = "always"  # every finding carries a fix
    SOMETIMES = "sometimes"  # a fix when the right one can be known
    NONE = "none"


class ComposeContext(NamedTuple):
    source: "SourceText"  # the file being linted
    doc: "ComposeDoc"
    project: "Project"  # this file merged with the files Compose loads with it (base, override)
    options: dict[str, Any]  # this rule's options
    resolver: "Resolver | None"  # registry and Git lookups, when the user opted in
    workspace: "Workspace"  # the project around the file: who builds what, which image runs where

    @property
    def path(self) -> str:
        return self.source.path


class DockerfileContext(NamedTuple):
    source: "SourceText"
    doc: "Dockerfile"
    facts: "Facts"
    options: dict[str, Any]  # this rule's options
    resolver: "Resolver | None"  # registry and Git lookups, when the user opted in
    workspace: "Workspace"  # the project around the file: who builds it, what its base image is

    @property
    def path(self) -> str:
        return self.source.path


class BuildFileContext(NamedTuple):
    source: "SourceText"
    file: "BuildFile"  # the parsed file: its kind and position tree
    options: dict[str, Any]  # this rule's options
    resolver: "Resolver | None"  # registry and Git lookups, when the user opted in
    workspace: "Workspace"  # the project: the Dockerfiles these files build, the services that run them

    @property
    def path(self) -> str:
        return self.source.path


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    fix_availability: ClassVar[str] = FixAvailability.NONE
    fix_safety: ClassVar[Applicability] = Applicability.SAFE  # the usual one; each finding decides its own
    targets: ClassVar[tuple[str, ...]] = ("dockerfile",)
    default_enabled: ClassVar[bool] = True
    default_options: ClassVar[dict[str, Any]] = {}

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        raise NotImplementedError

    @classmethod
    def check_option(cls, name: str, value: Any) -> str | None:
        """What is wrong with an option value of the right type (None: nothing); the
        configuration loader reports it with the file and key."""
        return None

    @classmethod
    def documentation(cls) -> str:
        return _cleandoc(cls.__doc__ or "")

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring's sections by heading (``## What it does`` ...)."""
        sections: dict[str, str] = {}
        current = None
        for line in cls.documentation().splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                sections[current] = ""
            elif current is not None:
                sections[current] += line + "\n"
        return {k: v.strip() for k, v in sections.items()}

    @classmethod
    def validate(cls) -> None:
        """Metadata checks, run when the registry is built: a bad rule fails loudly at import."""
        problems = []
        if not _CODE.fullmatch(getattr(cls, "code", "")):
            problems.append("code must be AIC + 3 digits")
        if not _NAME.fullmatch(getattr(cls, "name", "")):
            problems.append("name must be kebab-case")
        if not getattr(cls, "summary", ""):
            problems.append("summary is empty")
        if cls.fix_availability not in (FixAvailability.ALWAYS, FixAvailability.SOMETIMES, FixAvailability.NONE):
            problems.append("bad fix_availability")
        if not isinstance(cls.fix_safety, Applicability):
            problems.append("fix_safety must be an Applicability")
        # The docstring's sections are checked by tests/test_docs.py, not here: parsing 30
        # docstrings on every start-up would cost more than the rest of the registry.
        if not cls.__doc__:
            problems.append("no docstring")
        if problems:
            raise TypeError(f"rule {cls.__name__}: " + "; ".join(problems))


# The generated rule pages live in the repository's `rules/` folder.
DOCS_BASE_URL = "https://github.com/aicache-lint/aicache-lint/blob/main/rules/"


def rule_url(code: str) -> str:
    return f"{DOCS_BASE_URL}{code}.md"
