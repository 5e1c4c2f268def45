"""`aicache-lint server`: a real client talks JSON-RPC to the server process over pipes.

Every read has a deadline and the process is killed in a ``finally``: a broken server fails a test,
it never hangs the suite."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from aicache_lint.rules import rule_class
from aicache_lint.server.positions import Lines, changes, utf16_length
from aicache_lint.server.session import Document
from cli_runner import invoke

pytest.importorskip("pygls")

SRC = str(Path(__file__).resolve().parents[1] / "src")
DEADLINE = 10.0  # seconds any one message may take

DOCKERFILE = "FROM python:3.12-slim\nRUN pip install torch\n"
FIXED = "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install torch\n"
# A Compose service and the Dockerfile it builds: AIC401's message names the image's HF_HOME.
COMPOSE = "services:\n  asr:\n    build: ./asr\n"
ASR = ("FROM python:3.12-slim\nENV HF_HOME=/data\n"
       "RUN --mount=type=cache,target=/root/.cache/pip pip install transformers\nCMD [\"python\", \"app.py\"]\n")


class Client:
    """A language client: Content-Length framed JSON-RPC over the server's pipes."""

    def __init__(self, root: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": SRC}
        self.proc = subprocess.Popen([sys.executable, "-m", "aicache_lint", "server", *args], cwd=root, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.inbox: queue.Queue = queue.Queue()
        self.next_id = 0
        self.seen: list[dict] = []  # messages read while waiting for another
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.inbox.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None
            self.inbox.put(json.loads(stream.read(length)))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict | None) -> object:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        reply = self.wait(lambda m: m.get("id") == ident and "method" not in m)
        assert "error" not in reply, reply
        return reply["result"]

    def wait(self, match, deadline: float = DEADLINE) -> dict:
        """The first message (already seen or coming) that ``match`` accepts."""
        for i, message in enumerate(self.seen):
            if match(message):
                return self.seen.pop(i)
        end = time.monotonic() + deadline
        while True:
            try:
                message = self.inbox.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no matching message within {deadline} s; seen: {self.seen}") from None
            if message is None:
                raise AssertionError(f"the server exited: {self.stderr()}")
            if match(message):
                return message
            self.seen.append(message)

    def diagnostics(self, uri: str, version: int | None = None) -> list[dict]:
        """The next diagnostics published for ``uri`` (for ``version`` if given)."""
        message = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                            and m["params"]["uri"] == uri
                            and (version is None or m["params"].get("version") == version))
        return message["params"]["diagnostics"]

    def drop_diagnostics(self) -> None:
        self.seen = [m for m in self.seen if m.get("method") != "textDocument/publishDiagnostics"]

    def open(self, path: Path, text: str | None = None, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "dockerfile", "version": version,
            "text": path.read_text(encoding="utf-8") if text is None else text}})
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [{"text": text}]})

    def stderr(self) -> str:
        self.proc.kill()
        return self.proc.stderr.read().decode() if self.proc.stderr else ""

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the repository root: no configuration above it applies
    return tmp_path


@pytest.fixture
def client(project: Path):
    c = Client(project)
    try:
        result = c.request("initialize", {"processId": os.getpid(), "rootUri": project.as_uri(), "capabilities": {
            "workspace": {"applyEdit": True, "didChangeWatchedFiles": {"dynamicRegistration": True}}}})
        assert result["serverInfo"]["name"] == "aicache-lint"
        assert result["capabilities"]["textDocumentSync"]["change"] == 1  # whole texts
        assert "aicache-lint.applyFixAll" in result["capabilities"]["executeCommandProvider"]["commands"]
        c.notify("initialized", {})
        registration = c.wait(lambda m: m.get("method") == "client/registerCapability")
        c.send({"id": registration["id"], "result": None})
        watchers = registration["params"]["registrations"][0]["registerOptions"]["watchers"]
        assert {"globPattern": "**/pyproject.toml"} in watchers
        yield c
    finally:
        c.close()


def _apply(text: str, edits: list[dict]) -> str:
    """Apply LSP TextEdits the way an editor does (positions in UTF-16 units, applied back to front)."""
    lines = Lines(text)
    spans = [(lines.offset(e["range"]["start"]["line"], e["range"]["start"]["character"]),
              lines.offset(e["range"]["end"]["line"], e["range"]["end"]["character"]), e["newText"]) for e in edits]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _edits(action: dict, uri: str) -> list[dict]:
    (change,) = action["edit"]["documentChanges"]
    assert change["textDocument"]["uri"] == uri
    return change["edits"]


def _cli_fix(path: Path) -> str:
    result = invoke(["--fix", str(path)])
    assert result.exit_code in (0, 1), result.output
    return path.read_bytes().decode("utf-8")  # as written: CRLF and a BOM kept


def test_diagnostics_quickfix_fix_all_suppression_and_hover(client: Client, project: Path) -> None:
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    uri = client.open(dockerfile)
    (diagnostic,) = client.diagnostics(uri, 1)
    assert diagnostic["code"] == "AIC101"
    assert diagnostic["source"] == "aicache-lint"
    assert diagnostic["severity"] == {"error": 1, "warning": 2, "info": 3}[rule_class("AIC101").severity.value]
    assert diagnostic["codeDescription"]["href"].endswith("/rules/AIC101.md")
    assert diagnostic["range"] == {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 15}}  # `pip install`

    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}})
    by_title = {a["title"]: a for a in actions}
    quick = by_title["AIC101: Add a pip cache mount"] if "AIC101: Add a pip cache mount" in by_title else next(
        a for a in actions if a["kind"] == "quickfix" and a["title"].startswith("AIC101:"))
    assert quick["isPreferred"] is True and quick["diagnostics"][0]["code"] == "AIC101"
    fix_all = by_title["Fix all safe fixes in this file"]
    assert fix_all["kind"] == "source.fixAll.aicache-lint"
    suppress = by_title["Add suppression comment for AIC101"]
    assert _edits(quick, uri) == [{"range": {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 4}},
                                   "newText": "--mount=type=cache,target=/root/.cache/pip "}]  # minimal
    cli_fixed = _cli_fix(dockerfile)
    assert cli_fixed == FIXED
    assert _apply(DOCKERFILE, _edits(quick, uri)) == cli_fixed
    assert _apply(DOCKERFILE, _edits(fix_all, uri)) == cli_fixed
    dockerfile.write_text(DOCKERFILE)
    invoke(["--add-ignore", str(dockerfile)])
    assert _apply(DOCKERFILE, _edits(suppress, uri)) == dockerfile.read_text()
    assert "# aicache-lint: ignore=AIC101" in dockerfile.read_text()

    only = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": [], "only": ["source.fixAll"]}})
    assert [a["kind"] for a in only] == ["source.fixAll.aicache-lint"]

    page = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 8}})
    assert page["contents"]["kind"] == "markdown"
    assert page["contents"]["value"] == invoke(["rule", "AIC101"]).stdout.rstrip()
    assert client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 0, "character": 2}}) is None

    # The command makes the server ask the client to apply the edit (workspace/applyEdit).
    client.send({"id": 99, "method": "workspace/executeCommand",
                 "params": {"command": "aicache-lint.applyFixAll", "arguments": [uri]}})
    ask = client.wait(lambda m: m.get("method") == "workspace/applyEdit")
    assert _apply(DOCKERFILE, ask["params"]["edit"]["documentChanges"][0]["edits"]) == FIXED
    client.send({"id": ask["id"], "result": {"applied": True}})
    assert client.wait(lambda m: m.get("id") == 99)["result"] == {"applied": True}

    # The editor applies it: the next change has no finding left.
    client.change(uri, FIXED, 2)
    assert client.diagnostics(uri, 2) == []

    client.request("shutdown", None)
    client.notify("exit", None)
    assert client.proc.wait(DEADLINE) == 0


def test_editing_a_dockerfile_republishes_the_compose_file_that_builds_it(client: Client, project: Path) -> None:
    (project / "asr").mkdir()
    (project / "asr" / "Dockerfile").write_text(ASR)
    (project / "asr" / "app.py").write_text("print('asr')\n")
    (project / "compose.yaml").write_text(COMPOSE)
    compose = client.open(project / "compose.yaml")
    (finding,) = [d for d in client.diagnostics(compose, 1) if d["code"] == "AIC401"]
    assert "`/data/hub`" in finding["message"]
    assert finding["range"]["start"] == {"line": 1, "character": 2}
    dockerfile = client.open(project / "asr" / "Dockerfile")
    client.diagnostics(dockerfile, 1)
    client.drop_diagnostics()

    started = time.monotonic()
    client.change(dockerfile, ASR.replace("HF_HOME=/data", "HF_HOME=/cache"), 2)  # not saved: the editor's text
    (finding,) = [d for d in client.diagnostics(compose, 1) if d["code"] == "AIC401"]
    assert time.monotonic() - started < 5
    assert "`/cache/hub`" in finding["message"]
    client.drop_diagnostics()
    client.change(dockerfile, ASR.replace("transformers", "flask"), 3)  # no model download left
    assert [d for d in client.diagnostics(compose, 1) if d["code"] == "AIC401"] == []
    # Closing the Dockerfile: the Compose file sees the disk's text again.
    client.drop_diagnostics()
    client.notify("textDocument/didClose", {"textDocument": {"uri": dockerfile}})
    assert client.diagnostics(dockerfile) == []
    assert any("`/data/hub`" in d["message"] for d in client.diagnostics(compose, 1))


def test_configuration_change_is_read_again(client: Client, project: Path) -> None:
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    uri = client.open(dockerfile)
    assert [d["code"] for d in client.diagnostics(uri, 1)] == ["AIC101"]
    config = project / "pyproject.toml"
    config.write_text('[tool.aicache-lint]\nignore = ["AIC101"]\n')
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 1}]})
    assert client.diagnostics(uri, 1) == []
    config.write_text('[tool.aicache-lint]\nignore = ["AIC999"]\n')  # not a rule: the CLI's error, shown
    client.notify("textDocument/didSave", {"textDocument": {"uri": config.as_uri()}})
    shown = client.wait(lambda m: m.get("method") == "window/showMessage")
    assert shown["params"]["type"] == 1 and "AIC999" in shown["params"]["message"]
    assert "AIC999" in invoke(["--fix", str(dockerfile)]).output
    assert client.diagnostics(uri, 1) == []  # nothing is checked until the configuration is fixed
    config.write_text("")
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 2}]})
    assert [d["code"] for d in client.diagnostics(uri, 1) if d["code"] == "AIC101"] == ["AIC101"]


def test_positions_with_crlf_bom_and_characters_beyond_the_bmp(client: Client, project: Path) -> None:
    """The editor counts UTF-16 units and keeps the BOM; the linter counts code points without it."""
    text = "\ufeff# 🤗 modèle\r\nFROM python:3.12-slim\r\nRUN echo 🤗🤗 && pip install torch\r\n"
    dockerfile = project / "Dockerfile"
    dockerfile.write_bytes(text.encode("utf-8"))
    uri = client.open(dockerfile, text)
    (diagnostic,) = client.diagnostics(uri, 1)
    line = "RUN echo 🤗🤗 && pip install torch"
    start = utf16_length(line[:line.index("pip")])
    assert diagnostic["range"]["start"] == {"line": 2, "character": start}
    assert diagnostic["range"]["end"] == {"line": 2, "character": start + len("pip install")}
    (fix_all,) = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostic["range"], "context": {"diagnostics": [], "only": ["source"]}})
    expected = _cli_fix(dockerfile)
    assert expected.startswith("\ufeff# 🤗") and "\r\nRUN --mount=type=cache" in expected
    assert _apply(text, _edits(fix_all, uri)) == expected


def test_without_pygls_the_subcommand_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    monkeypatch.delitem(sys.modules, "aicache_lint.server.protocol", raising=False)
    result = invoke(["server"])
    assert result.exit_code == 2
    assert "install aicache-lint[server]" in result.stderr


def test_linting_never_imports_the_server(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    code = ("import sys; from aicache_lint import cli; cli.run(['--fix', '--isolated', sys.argv[1]]);"
            "print(sorted(m for m in sys.modules if m.startswith(('pygls', 'lsprotocol', 'aicache_lint.server'))))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env={**os.environ, "PYTHONPATH": SRC},
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines()[-1] == "[]", out.stderr


def test_help_names_every_subcommand(capsys) -> None:
    from aicache_lint.cli import SUBCOMMANDS

    assert invoke(["--help"]).exit_code == 0
    text = capsys.readouterr().out  # argparse prints help to sys.stdout
    assert all(f"aicache-lint {name}" in " ".join(text.split()) for name in SUBCOMMANDS)


# -- positions, without a server ---------------------------------------------------------------------


def test_lsp_lines_break_at_lf_crlf_and_cr_and_count_utf16_units() -> None:
    lines = Lines("a🤗b\r\nc\rd\n")
    assert lines.position(0) == (0, 0)
    assert lines.position(2) == (0, 3)  # the emoji is two units
    assert lines.position(3) == (0, 4)  # the end of the line, before CRLF
    assert lines.position(5) == (1, 0)
    assert lines.position(7) == (2, 0)  # a lone CR ends a line too
    assert lines.position(9) == (3, 0)
    assert lines.offset(0, 3) == 2 and lines.offset(0, 2) == 2  # inside the pair: past it
    assert lines.offset(0, 99) == 3  # clamped to the line, not into its break
    assert lines.offset(9, 0) == 9


def test_a_bom_kept_by_the_editor_is_one_unit_before_the_linters_offsets() -> None:
    doc = Document("/x/Dockerfile", "\ufeffFROM é\r\n", 1)
    assert doc.source is not None and doc.source.bom and doc.source.text == "FROM é\r\n"
    assert doc.range(5, 6) == ((0, 6), (0, 7))
    assert doc.offset(0, 6) == 5
    assert _apply(doc.text, [{"range": {"start": {"line": 0, "character": 6}, "end": {"line": 0, "character": 7}},
                              "newText": "e"}]) == "\ufeffFROM e\r\n"


def test_changes_are_small_and_reproduce_the_new_text() -> None:
    old = "a\r\nb 🤗 c\r\nd\r\n"
    new = "a\r\nb 🤗 X c\r\nd\r\ne\r\n"
    found = changes(old, new)
    assert [(c.start, c.end, c.new) for c in found] == [(7, 7, "X "), (13, 13, "e\r\n")]
    out = old
    for c in reversed(found):
        out = out[:c.start] + c.new + out[c.end:]
    assert out == new
    assert changes(old, old) == []


def test_the_readme_setups_start_this_server() -> None:
    """The VS Code and Helix snippets parse, and name the command and languages the server serves."""
    import re

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Language server\n", 1)[1].split("\n## ", 1)[0]
    blocks = dict(re.findall(r"```(json|toml)\n(.*?)```", section, re.S))
    vscode = json.loads(blocks["json"])
    assert [vscode["glspc.server.command"], *vscode["glspc.server.commandArguments"]] == ["aicache-lint", "server"]
    assert "source.fixAll.aicache-lint" in vscode["editor.codeActionsOnSave"]
    helix = tomllib.loads(blocks["toml"])
    server = helix["language-server"]["aicache-lint"]
    assert [server["command"], *server["args"]] == ["aicache-lint", "server"]
    assert {lang["name"] for lang in helix["language"] if "aicache-lint" in lang["language-servers"]} == {
        "dockerfile", "docker-compose"}
    assert section.count('cmd = { "aicache-lint", "server" }') == 2  # both Neovim setups
