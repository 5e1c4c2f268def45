"""What the language server knows and answers, without the protocol: the open documents, their
findings, fixes, suppressions and rule pages.

Open documents are overlays over the disk: every check builds a fresh ``Workspace`` (so a file
changed on disk, or by another program, is read again) and gives it the editor's texts, as the
fix plan gives it its in-memory texts (``plan.py``). Every check covers every open document, so
editing a Dockerfile re-checks the Compose file that builds it. The fix for one finding, fixing a
whole file (the fix plan of ``aicache-lint --fix FILE``) and a suppression comment (the one
``--add-ignore`` writes) are returned as new texts; the protocol turns them into edits.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.config import CONFIG_NAMES, CliOverrides, ConfigError, Resolver
from aicache_lint.discovery import file_kind, is_walked
from aicache_lint.engine import applicable, check_source, io_error, run_workspace
from aicache_lint.fix import apply_edits
from aicache_lint.server.positions import Lines, TextChange, changes
from aicache_lint.settings import SettingsError
from aicache_lint.source import BOM, SourceError, SourceText

if TYPE_CHECKING:
    from aicache_lint.finding import Finding
    from aicache_lint.settings import Settings
    from aicache_lint.workspace.index import Workspace


class Document:
    """One open document: the editor's text (a BOM it keeps included) and the linter's view of it."""

    def __init__(self, path: str, text: str, version: int | None) -> None:
        self.path = path
        self.text = text
        self.version = version
        self.lines = Lines(text)
        self.shift = 1 if text.startswith(BOM) else 0  # the linter's offsets do not count the BOM
        try:
            self.source: SourceText | None = SourceText.decode(text.encode("utf-8", "surrogatepass"), path=path)
            self.problem = None
        except SourceError as exc:
            self.source, self.problem = None, str(exc)

    def range(self, start: int, end: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """The LSP range of the linter's offsets ``start``..``end``."""
        return self.lines.position(start + self.shift), self.lines.position(end + self.shift)

    def offset(self, line: int, character: int) -> int:
        """The linter's offset of an LSP position."""
        return max(0, self.lines.offset(line, character) - self.shift)

    def changes_to(self, new_text: str) -> list[TextChange]:
        """The edits (in the editor's offsets) that give the linter's text ``new_text``."""
        return changes(self.text, (BOM if self.shift else "") + new_text)


class Action(NamedTuple):
    """A code action: its title, kind (`quickfix`, `source.fixAll...`), the new text of the
    document, whether it is the preferred one, and the finding it addresses (if one)."""

    title: str
    kind: str
    changes: list[TextChange]
    preferred: bool = False
    finding: "Finding | None" = None


QUICKFIX = "quickfix"
FIX_ALL = "source.fixAll.aicache-lint"


class Session:
    def __init__(self, overrides: CliOverrides = CliOverrides()) -> None:
        self.overrides = overrides
        self.docs: dict[str, Document] = {}  # absolute path -> document
        self.findings: dict[str, list["Finding"]] = {}  # path -> findings of its last check
        self.checked: dict[str, int | None] = {}  # path -> the version its findings belong to
        self.config_error: str | None = None
        self.resolver: Resolver | None = None
        self.reload()

    # -- documents and configuration ----------------------------------------------------------------

    def open(self, path: str, text: str, version: int | None = None) -> None:
        self.docs[os.path.abspath(path)] = Document(os.path.abspath(path), text, version)

    change = open  # full-document sync: a change is the new text

    def close(self, path: str) -> None:
        path = os.path.abspath(path)
        self.docs.pop(path, None)
        self.findings.pop(path, None)
        self.checked.pop(path, None)

    def reload(self) -> None:
        """Read the configuration again (the files may have changed); its error, if any, is kept
        to be shown, and nothing is checked until it is fixed."""
        try:
            self.resolver, self.config_error = Resolver(self.overrides), None
        except ConfigError as exc:
            self.resolver, self.config_error = None, str(exc)

    @staticmethod
    def is_config(path: str) -> bool:
        return os.path.basename(path) in CONFIG_NAMES

    def settings(self, path: str) -> "Settings | None":
        if self.resolver is None:
            return None
        try:
            return self.resolver.for_path(path)
        except (ConfigError, SettingsError) as exc:
            self.config_error = str(exc)
            return None

    # -- checking -----------------------------------------------------------------------------------

    def check(self) -> dict[str, list["Finding"]]:
        """Check every open document in one workspace; the findings of each (empty for a document
        the linter does not read: an unknown file, an excluded one, Python no image runs)."""
        self.config_error = None if self.resolver is not None else self.config_error
        out: dict[str, list[Finding]] = {path: [] for path in self.docs}
        linted = [d for d in self.docs.values() if self._lints(d)]
        if linted and self.config_error is None:
            ws = self._workspace([d.path for d in linted if is_walked(d.path)] or [linted[0].path])
            builds = [d for d in linted if file_kind(d.path) != "python"]
            python = [d for d in linted if file_kind(d.path) == "python"]
            if python:
                from aicache_lint.workspace.python_code import reached_files

                reached = {os.path.abspath(p) for p in reached_files(ws, [d.path for d in builds])}
                builds += [d for d in python if d.path in reached]
            for doc in builds:
                settings = self.settings(doc.path)
                if settings is None:
                    break
                if doc.source is None:
                    out[doc.path] = [io_error(doc.path, f"cannot read file: {doc.problem}")]
                else:
                    out[doc.path] = check_source(doc.source, settings, ws)
        if self.config_error is not None:
            out = {path: [] for path in self.docs}
        self.findings = out
        self.checked = {path: doc.version for path, doc in self.docs.items()}
        return out

    def current(self, path: str) -> list["Finding"]:
        """The findings of ``path`` for its present text (checked again if it changed since)."""
        path = os.path.abspath(path)
        if path in self.docs and self.checked.get(path, -1) != self.docs[path].version:
            self.check()
        return self.findings.get(path, [])

    def _lints(self, doc: Document) -> bool:
        settings = self.settings(doc.path)
        if settings is None or settings.is_excluded(doc.path):
            return False
        return is_walked(doc.path) or file_kind(doc.path) == "python"

    def _workspace(self, paths: list[str]) -> "Workspace":
        """A workspace over ``paths`` that sees every open document as the editor has it."""
        ws = run_workspace(paths, self.settings(paths[0]) or _no_settings())
        for doc in self.docs.values():
            if doc.source is not None:
                ws.update(doc.path, doc.source)
        return ws

    # -- answers ------------------------------------------------------------------------------------

    def at(self, path: str, start: int, end: int) -> list["Finding"]:
        """The findings of ``path`` whose span touches ``start``..``end`` (offsets)."""
        return [f for f in self.current(path) if f.span.start <= end and start <= f.span.end]

    def actions(self, path: str, start: int, end: int, kinds: list[str] | None = None) -> list[Action]:
        """Code actions for the findings in ``start``..``end``: each fix (quickfix), a suppression
        comment for each code, and fixing the whole file; ``kinds`` filters them by kind prefix."""

        def wanted(kind: str) -> bool:
            return kinds is None or any(kind == k or kind.startswith(k + ".") for k in kinds)

        path = os.path.abspath(path)
        doc = self.docs.get(path)
        settings = self.settings(path)
        if doc is None or doc.source is None or settings is None:
            return []
        out: list[Action] = []
        here = self.at(path, start, end) if wanted(QUICKFIX) else []
        for f in here:
            if f.fix is not None and f.code in settings.fixable_codes:
                text = apply_edits(doc.source.text, list(f.fix.edits), doc.source.newline)
                title = f"{f.code}: {f.fix.title}" + ("" if f.fix.is_safe else " (unsafe)")
                out.append(Action(title, QUICKFIX, doc.changes_to(text), f.fix.is_safe, f))
        for code in dict.fromkeys(f.code for f in here):
            finding = next(f for f in here if f.code == code)
            text = self.suppressed(path, finding)
            if text is not None:
                out.append(Action(f"Add suppression comment for {code}", QUICKFIX, doc.changes_to(text), False, finding))
        if wanted(FIX_ALL) and any(applicable(f, settings) for f in self.current(path)):
            text = self.fixed(path)
            if text is not None:
                out.append(Action("Fix all safe fixes in this file" if not settings.unsafe_fixes
                                  else "Fix all fixes in this file", FIX_ALL, doc.changes_to(text)))
        return out

    def fixed(self, path: str) -> str | None:
        """The text ``aicache-lint --fix`` writes for ``path`` (the same fix plan, with the open
        documents as the editor has them); None when nothing changes."""
        from aicache_lint.plan import fix_files

        path = os.path.abspath(path)
        doc, settings = self.docs.get(path), self.settings(path)
        if doc is None or doc.source is None or settings is None:
            return None
        result = fix_files([(doc.source, settings)], self._workspace([path]))[0]
        return result.source.text if result.changed else None

    def suppressed(self, path: str, finding: "Finding") -> str | None:
        """The text with the suppression comment ``--add-ignore`` writes for ``finding``."""
        from aicache_lint.add_ignore import suppress_finding

        doc, settings = self.docs.get(path), self.settings(path)
        if doc is None or doc.source is None or settings is None:
            return None
        result = suppress_finding(doc.source, finding, settings, self._workspace([path]))
        return result.text if result is not None else None

    def hover(self, path: str, offset: int) -> str | None:
        """The rule pages (markdown, as `aicache-lint rule CODE` prints them) of the findings at ``offset``."""
        from aicache_lint.rules import lookup
        from aicache_lint.rules.docs import rule_page

        codes = dict.fromkeys(f.code for f in self.at(path, offset, offset))
        pages = [rule_page(lookup(code).load()).rstrip() for code in codes if lookup(code) is not None]
        return "\n\n---\n\n".join(pages) or None


def _no_settings() -> "Settings":
    from aicache_lint.settings import Settings

    return Settings()
