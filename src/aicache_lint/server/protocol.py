"""The LSP glue on pygls: requests and notifications in, ``Session`` answers out.

Diagnostics are published for every open document after an open, a save, a closed document, a
configuration or watched-file change, and (debounced) after edits; the editor syncs whole texts.
"""

from __future__ import annotations

import asyncio
import os

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from aicache_lint import __version__
from aicache_lint.config import CONFIG_NAMES, CliOverrides
from aicache_lint.finding import Severity
from aicache_lint.rules.base import rule_url
from aicache_lint.server.positions import TextChange
from aicache_lint.server.session import FIX_ALL, Document, Session

NAME = "aicache-lint"
FIX_ALL_COMMAND = "aicache-lint.applyFixAll"  # arguments: [uri]; the server sends workspace/applyEdit
DEBOUNCE = 0.3  # seconds after the last keystroke before the project is checked again
SEVERITIES = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
}
# Configuration files: a change re-reads them and re-checks the open documents.
WATCHED = tuple(f"**/{name}" for name in CONFIG_NAMES)


class Server(LanguageServer):
    def __init__(self, overrides: CliOverrides) -> None:
        super().__init__(NAME, __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.session = Session(overrides)
        self.pending: asyncio.TimerHandle | None = None
        self.shown_error: str | None = None

    def publish(self) -> None:
        """Check every open document and publish the diagnostics of each."""
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        found = self.session.check()
        error = self.session.config_error
        if error is not None and error != self.shown_error:
            self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, f"{NAME}: {error}"))
        self.shown_error = error
        for path, findings in found.items():
            doc = self.session.docs[path]
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=from_fs_path(path) or path, version=doc.version,
                diagnostics=[_diagnostic(doc, f) for f in findings]))

    def publish_soon(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
        self.pending = asyncio.get_running_loop().call_later(DEBOUNCE, self.publish)


def _diagnostic(doc: Document, f) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=_range(doc, f.span.start, f.span.end), message=f.message, severity=SEVERITIES[f.severity],
        code=f.code, code_description=lsp.CodeDescription(href=rule_url(f.code)), source=NAME)


def _range(doc: Document, start: int, end: int) -> lsp.Range:
    a, b = doc.range(start, end)
    return lsp.Range(lsp.Position(*a), lsp.Position(*b))


def _edit(doc: Document, uri: str, changes: list[TextChange]) -> lsp.WorkspaceEdit:
    """Edits against the document's version, so an editor refuses them on a changed text."""
    edits = []
    for c in changes:
        a, b = doc.lines.position(c.start), doc.lines.position(c.end)
        edits.append(lsp.TextEdit(lsp.Range(lsp.Position(*a), lsp.Position(*b)), c.new))
    return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
        lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version), edits)])


def _path(uri: str) -> str | None:
    return os.path.abspath(path) if uri.startswith("file:") and (path := to_fs_path(uri)) else None


def build(overrides: CliOverrides) -> Server:
    server = Server(overrides)

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: Server, params: lsp.InitializedParams) -> None:
        watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
        if watched and watched.dynamic_registration:
            ls.client_register_capability(lsp.RegistrationParams([lsp.Registration(
                id="aicache-lint-config", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=lsp.DidChangeWatchedFilesRegistrationOptions(
                    [lsp.FileSystemWatcher(glob_pattern=g) for g in WATCHED]))]))

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Server, params: lsp.DidOpenTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        if path is not None:
            ls.session.open(path, params.text_document.text, params.text_document.version)
            ls.publish()

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Server, params: lsp.DidChangeTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        doc = ls.session.docs.get(path or "")
        if doc is None:
            return
        text = doc.text
        for change in params.content_changes:  # whole texts (the sync kind asked); ranges applied too
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                lines = Document(doc.path, text, None).lines
                start = lines.offset(change.range.start.line, change.range.start.character)
                end = lines.offset(change.range.end.line, change.range.end.character)
                text = text[:start] + change.text + text[end:]
            else:
                text = change.text
        ls.session.change(doc.path, text, params.text_document.version)
        ls.publish_soon()

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: Server, params: lsp.DidSaveTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        if path is not None and Session.is_config(path):
            ls.session.reload()
        ls.publish()

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Server, params: lsp.DidCloseTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        if path is not None and path in ls.session.docs:
            ls.session.close(path)
            ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(params.text_document.uri, []))
            ls.publish()  # the others now read its text from disk

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: Server, params: lsp.DidChangeWatchedFilesParams) -> None:
        if any(Session.is_config(_path(c.uri) or "") for c in params.changes):
            ls.session.reload()
        ls.publish()

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.SourceFixAll, FIX_ALL]))
    def code_action(ls: Server, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        path = _path(uri)
        doc = ls.session.docs.get(path or "")
        if doc is None:
            return []
        r = params.range
        start, end = doc.offset(r.start.line, r.start.character), doc.offset(r.end.line, r.end.character)
        if path is not None and ls.session.checked.get(path, -1) != doc.version:
            ls.publish()  # an edit is still waiting for its debounced check
        out = []
        for action in ls.session.actions(doc.path, start, end, params.context.only):
            f = action.finding
            out.append(lsp.CodeAction(
                title=action.title, kind=action.kind, edit=_edit(doc, uri, action.changes),
                is_preferred=action.preferred or None,
                diagnostics=[_diagnostic(doc, f)] if f is not None else None))
        return out

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: Server, params: lsp.HoverParams) -> lsp.Hover | None:
        path = _path(params.text_document.uri)
        doc = ls.session.docs.get(path or "")
        if doc is None:
            return None
        page = ls.session.hover(doc.path, doc.offset(params.position.line, params.position.character))
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, page)) if page else None

    @server.command(FIX_ALL_COMMAND)
    async def apply_fix_all(ls: Server, uri: str) -> lsp.ApplyWorkspaceEditResult | None:
        path = _path(uri)
        doc = ls.session.docs.get(path or "")
        text = ls.session.fixed(doc.path) if doc is not None else None
        if doc is None or text is None:
            return None
        return await ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(
            _edit(doc, uri, doc.changes_to(text)), label="aicache-lint: fix all"))

    return server


def serve(overrides: CliOverrides) -> int:
    """Run until the client says `exit` (the exit code says whether it asked to `shutdown` first)."""
    build(overrides).start_io()
    return 0

