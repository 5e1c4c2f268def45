"""The build-infrastructure files as lint targets: which files they are, AIC001 with line and
column when one does not parse (and nothing else stops), suppressions in YAML, HCL and TOML,
per-file ignores for JSON, and the fix plan's order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import invoke

from aicache_lint import buildfiles
from aicache_lint.discovery import discover, file_kind, stage
from aicache_lint.engine import check_source
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText


@pytest.mark.parametrize(("path", "kind"), [
    (".github/workflows/build.yml", "workflow"),
    ("repo/.github/workflows/nightly.yaml", "workflow"),
    (".github/workflows/sub/x.yml", "dockerfile"),  # GitHub reads no subfolder: not a workflow
    (".github/actions/build/action.yml", "action"),
    (".gitlab-ci.yml", "gitlab"),
    ("docker-bake.hcl", "bake"),
    ("docker/docker-bake.override.json", "bake"),
    ("etc/docker/daemon.json", "daemon"),
    ("buildkitd.toml", "buildkitd"),
    ("scripts/setup-docker.sh", "shell"),
    ("ci/install.bash", "shell"),
    ("Dockerfile.sh", "shell"),
    ("compose.yaml", "compose"),
    ("Dockerfile.gpu", "dockerfile"),
    ("app/main.py", "python"),
    ("Dockerfile.py", "python"),  # a script that writes Dockerfiles, not one
])
def test_file_kinds(path: str, kind: str) -> None:
    assert file_kind(path) == kind


def test_discovery_finds_every_kind_and_nothing_else(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM a\n", ".github/workflows/ci.yml": "on: push\n", ".github/workflows/notes.md": "x",
        ".github/actions/build/action.yml": "runs: {using: composite, steps: []}\n",
        ".gitlab-ci.yml": "job: {script: [true]}\n", "docker-bake.hcl": 'target "a" {}\n',
        "daemon.json": "{}\n", "buildkitd.toml": "debug = true\n", "package.json": "{}\n",
        "config.toml": "a = 1\n", "ci/other.yml": "a: 1\n", "scripts/setup.sh": "true\n", "setup.zsh": "true\n",
        "app/main.py": "import os\n",  # Python: only what an image or service runs, never a whole tree
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found, problems = discover([str(tmp_path)], Settings(root=str(tmp_path)).is_excluded)
    assert sorted(Path(f).relative_to(tmp_path).as_posix() for f in found) == [
        ".github/actions/build/action.yml", ".github/workflows/ci.yml", ".gitlab-ci.yml", "Dockerfile",
        "buildkitd.toml", "daemon.json", "docker-bake.hcl", "scripts/setup.sh"]
    assert problems == []


def test_a_python_file_named_explicitly_is_linted(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import os\n")
    found, problems = discover([str(tmp_path / "app.py"), str(tmp_path)], Settings(root=str(tmp_path)).is_excluded)
    assert found == [str(tmp_path / "app.py")] and problems == []


def test_stages_order_dockerfiles_compose_then_the_rest() -> None:
    assert [stage(p) for p in ("Dockerfile", "compose.yaml", ".gitlab-ci.yml", "daemon.json", "app.py")] == [0, 1, 2, 2, 2]


@pytest.mark.parametrize(("name", "text", "line", "column", "message"), [
    (".github/workflows/ci.yml", "on: push\njobs:\n  build: [\n", 4, 1, "invalid YAML"),
    (".github/workflows/ci.yml", "- a\n- b\n", 1, 1, "a workflow must be a mapping at the top level"),
    (".gitlab-ci.yml", "", 1, 1, "empty GitLab CI file"),
    ("docker-bake.hcl", 'target "app" {\n  context = \n}\n', 2, 3, "HCL syntax error"),
    ("docker-bake.json", '{\n  "target": {\n    "app": {,}\n  }\n}\n', 3, 13, "invalid JSON"),
    ("daemon.json", '{\n\t"registry-mirrors": ["x" "y"]\n}\n', 2, 27, "invalid JSON"),
    ("daemon.json", "[]\n", 1, 1, "a daemon.json must be a JSON object"),
    ("buildkitd.toml", '[registry."docker.io"]\nmirrors = [\n', 3, 1, "invalid TOML"),
    ("buildkitd.toml", "a = 1\nb = = 2\n", 2, 5, "invalid TOML: Invalid value"),
    ("app.py", "import os\nmodel = load(\n", 2, 13, "invalid Python: '(' was never closed"),
    ("app.py", "# café\nx = 'é' +\n", 2, 10, "invalid Python: invalid syntax"),
    ("app.py", "import os\r\n  x = 1\r\n", 2, 2, "invalid Python: unexpected indent"),  # where Python puts it
])
def test_a_file_that_does_not_parse_is_aic001_with_line_and_column(name, text, line, column, message) -> None:
    findings = check_source(SourceText(text, name), Settings())
    assert [(f.code, f.start.row, f.start.column) for f in findings] == [("AIC001", line, column)]
    assert findings[0].message.startswith(message), findings[0].message


def test_a_broken_file_stops_nothing_else(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "daemon.json").write_text("{oops}\n")
    (tmp_path / "docker-bake.hcl").write_text('target "a" {\n')
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN pip install torch\n")
    done = invoke(["--isolated", "--output-format", "concise", str(tmp_path)])
    assert done.exit_code == 1
    assert f"{tmp_path / 'daemon.json'}:1:2: AIC001" in done.stdout
    assert f"{tmp_path / 'docker-bake.hcl'}:2:1: AIC001" in done.stdout
    assert f"{tmp_path / 'Dockerfile'}:2:5: AIC101" in done.stdout


def test_json_tabs_keep_their_offsets() -> None:
    text = '{\n\t"features": {\n\t\t"buildkit": true\n\t}\n}\n'
    parsed = buildfiles.parse(SourceText(text, "daemon.json"), "daemon")
    assert not parsed.errors
    node = parsed.yaml.root.get("features").get("buildkit")
    assert text[node.span.start:node.span.end] == "true"


def test_non_ascii_hcl_offsets_are_characters() -> None:
    text = '# café ☕\ntarget "app" {\n  tags = ["x"]\n}\n'
    parsed = buildfiles.parse(SourceText(text, "docker-bake.hcl"), "bake")
    block = parsed.hcl.blocks[0]
    assert (block.kind, block.name) == ("target", "app")
    attr = block.attributes["tags"]
    assert text[attr.span.start:attr.span.end] == 'tags = ["x"]'
    assert text[block.close_brace.start] == "}"
    assert [text[c.start:c.end] for c in parsed.hcl.comments] == ["# café ☕"]


def test_crlf_yaml_and_bom_parse() -> None:
    source = SourceText.decode(b"\xef\xbb\xbfon: push\r\njobs:\r\n  a:\r\n    runs-on: ubuntu-latest\r\n", ".github/workflows/a.yml")
    assert not buildfiles.parse(source, "workflow").errors


def test_suppressions_in_each_commented_syntax() -> None:
    """A finding these files can give today (AIC001 aside) comes from the rules of the 5xx family;
    the comments themselves are read the same way for YAML, HCL and TOML: an unknown code is AIC002."""
    texts = {
        ".github/workflows/ci.yml": "jobs:\n  # aicache-lint: ignore=AIC999\n  build:\n    runs-on: x\n",
        "docker-bake.hcl": 'target "a" {\n  # aicache-lint: ignore=AIC999\n  context = "."\n}\n',
        "buildkitd.toml": '# aicache-lint: ignore=AIC999\n[registry."docker.io"]\nmirrors = []\n',
        "app.py": 'import os\n# aicache-lint: ignore=AIC999\nos.environ["HF_HOME"] = "/m"\n',
    }
    for name, text in texts.items():
        findings = check_source(SourceText(text, name), Settings(select=("AIC002",)))
        line = 1 if name == "buildkitd.toml" else 2
        assert [(f.code, f.start.row) for f in findings] == [("AIC002", line)], name
        assert "unknown rule code `AIC999`" in findings[0].message


def test_json_takes_per_file_ignores(tmp_path: Path) -> None:
    (tmp_path / "daemon.json").write_text("{oops}\n")
    config = tmp_path / "aicache-lint.toml"
    config.write_text('[per-file-ignores]\n"daemon.json" = ["AIC001"]\n')
    done = invoke(["--config", str(config), "--output-format", "concise", str(tmp_path / "daemon.json")])
    assert done.exit_code == 0, done.output


def test_add_ignore_leaves_json_alone(tmp_path: Path) -> None:
    (tmp_path / "daemon.json").write_text("{}\n")  # AIC509: no GC limits
    done = invoke(["--isolated", "--add-ignore", str(tmp_path / "daemon.json")])
    assert done.exit_code == 1, done.output
    assert "Added 0 suppressions to 0 files." in done.stderr and "AIC509" in done.stderr
    assert (tmp_path / "daemon.json").read_text() == "{}\n"


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "gitlab"])
def test_output_formats_take_the_new_kinds(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "daemon.json").write_text("{oops}\n")
    done = invoke(["--isolated", "--output-format", fmt, str(tmp_path / "daemon.json")])
    assert done.exit_code == 1
    if fmt in ("json", "sarif", "gitlab"):
        data = json.loads(done.stdout)
        assert "daemon.json" in json.dumps(data)
    else:
        assert "daemon.json,line=1,col=2" in done.stdout


def test_a_shell_script_that_is_no_text_is_skipped(tmp_path: Path) -> None:
    """Shell scripts are read only for the daemon.json they write: a generated 3 MB installer or a
    binary named `.sh` is not one, and is no error (a Dockerfile that large still is)."""
    (tmp_path / "install.sh").write_bytes(b"echo x\n" * 400_000)
    (tmp_path / "blob.sh").write_bytes(b"\x00\x01\x02" * 10)
    (tmp_path / "Dockerfile").write_bytes(b"FROM python:3.12\n" + b"# x\n" * 600_000)
    done = invoke(["--isolated", "--output-format", "concise", str(tmp_path)])
    assert "install.sh" not in done.output and "blob.sh" not in done.output
    assert f"{tmp_path / 'Dockerfile'}:1:1: AIC003" in done.stdout
