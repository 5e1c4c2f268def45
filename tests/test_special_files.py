"""Bad input on the file system: FIFOs, sockets and devices are reported and never read; symbolic
links neither lead discovery out of the tree nor round in loops.

Each test runs the command line as a subprocess with a timeout: a FIFO that is opened blocks
until a writer comes, `/dev/zero` never ends and a followed link loop walks for a long time, so a
regression fails here instead of hanging the suite.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from aicache_lint.discovery import discover
from aicache_lint.files import read_bytes, write_atomic

SRC = str(Path(__file__).resolve().parent.parent / "src")
TIMEOUT = 60  # seconds; a run takes well under one

BAD = "FROM python:3.12\nRUN pip install numpy>=1.24\n"
FIXED = 'FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install "numpy>=1.24"\n'

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and symbolic links")


def lint(cwd: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """`aicache-lint --isolated --output-format concise ARGS` in ``cwd``."""
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "aicache_lint", "--isolated", "--output-format", "concise", *args],
        cwd=cwd, env=env, input=input if input is not None else "", capture_output=True, text=True, timeout=TIMEOUT,
    )


def lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The findings, one `path:row:col: CODE` head per line (the summary left out)."""
    return [line for line in done.stdout.splitlines() if ": AIC" in line]


def not_regular(path: str, kind: str) -> str:
    return f"{path}:1:1: AIC003 cannot read file: not a regular file ({kind})"


@pytest.fixture
def unix_socket(tmp_path: Path):
    sockets = []

    def make(path: Path) -> Path:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sockets.append(sock)
        return path

    yield make
    for sock in sockets:
        sock.close()


# -- special files ------------------------------------------------------------------------------


def test_fifo_found_while_walking_is_reported_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "Dockerfile.x")
    (tmp_path / "Dockerfile").write_text(BAD)
    done = lint(tmp_path, ".")
    assert done.returncode == 1, done.stderr
    assert not_regular("Dockerfile.x", "a FIFO") in lines(done)
    assert any(line.startswith("Dockerfile:2:5: AIC101") for line in lines(done))  # the others are linted


def test_fifo_named_on_the_command_line_and_fix_leaves_it_alone(tmp_path: Path) -> None:
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    # (--diff exits 1 only when there is something to fix)
    for args, code in ((["Dockerfile"], 1), (["--fix", "Dockerfile"], 1), (["--fix", "."], 1), (["--diff", "."], 0)):
        done = lint(tmp_path, *args)
        assert done.returncode == code, (args, done.stderr)
        assert not_regular("Dockerfile", "a FIFO") in done.stdout + done.stderr, args
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode), args
    lint(tmp_path, "--add-ignore", ".")  # it writes files too; it must not wait on the FIFO either
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]  # no temporary file left


def test_unix_socket_is_reported(tmp_path: Path, unix_socket) -> None:
    unix_socket(tmp_path / "Dockerfile.sock")
    unix_socket(tmp_path / "compose.yaml")
    done = lint(tmp_path, ".")
    assert lines(done) == [not_regular("Dockerfile.sock", "a socket"), not_regular("compose.yaml", "a socket")]
    assert lint(tmp_path, "compose.yaml").stdout.startswith(not_regular("compose.yaml", "a socket"))


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_device_named_on_the_command_line(tmp_path: Path, device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    done = lint(tmp_path, device)
    assert lines(done) == [not_regular(device, "a device")]
    assert done.returncode == 1


def test_standard_input_still_works(tmp_path: Path) -> None:
    done = lint(tmp_path, "-", "--stdin-filename", "Dockerfile", input=BAD)
    assert [line.split(" ")[1] for line in lines(done)] == ["AIC101", "AIC302"]
    fixed = lint(tmp_path, "--fix", "-", "--stdin-filename", "Dockerfile", input=BAD)
    assert fixed.stdout == FIXED and fixed.returncode == 0


def test_files_a_compose_file_refers_to_may_be_fifos(tmp_path: Path) -> None:
    """`.env`, `env_file:`, `include:` and the Dockerfile a service builds are read while a Compose
    file is linted; a FIFO in their place is never opened."""
    (tmp_path / "compose.yaml").write_text(
        "include:\n  - extra.yaml\n"
        "services:\n  llm:\n    build: .\n    env_file: llm.env\n    environment:\n      HF_HOME: /data/hf\n"
    )
    for name in (".env", "llm.env", "extra.yaml", "Dockerfile"):
        os.mkfifo(tmp_path / name)
    done = lint(tmp_path, "compose.yaml")
    assert done.returncode == 1, done.stderr
    assert "AIC000" not in done.stdout and "Traceback" not in done.stderr
    assert any(": AIC402 " in line for line in lines(done))  # the service was linted all the same


def test_a_fifo_compose_file_next_to_a_dockerfile(tmp_path: Path) -> None:
    """The model cache rules look for the Compose files that build a Dockerfile."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN pip install transformers\n")
    os.mkfifo(tmp_path / "docker-compose.gpu.yml")
    os.mkfifo(tmp_path / "compose.yaml")
    done = lint(tmp_path, "Dockerfile")
    assert [line.split(" ")[1] for line in lines(done)] == ["AIC101", "AIC201"]


def test_read_bytes_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    for path, kind in ((tmp_path / "fifo", "a FIFO"), (tmp_path / "dir", "a directory")):
        with pytest.raises(OSError, match=rf"^not a regular file \({kind}\)$"):
            read_bytes(str(path))
    (tmp_path / "file").write_bytes(b"FROM a\r\n")
    os.symlink("file", tmp_path / "link")
    assert read_bytes(str(tmp_path / "link")) == b"FROM a\r\n"


# -- symbolic links -------------------------------------------------------------------------------


def relative(files: list[str], root: Path) -> list[str]:
    return [Path(f).relative_to(root).as_posix() for f in files]


def test_directory_link_loops_end(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "Dockerfile").write_text(BAD)
    os.symlink("..", tmp_path / "a" / "b" / "up")  # b/up -> a, which holds b
    os.symlink(".", tmp_path / "a" / "self")
    os.symlink(str(tmp_path), tmp_path / "a" / "root")
    done = lint(tmp_path, ".")
    assert done.returncode == 1, done.stderr
    assert [line.split(":")[0] for line in lines(done)] == ["a/b/Dockerfile", "a/b/Dockerfile"]  # AIC101, AIC302
    files, problems = discover([str(tmp_path)], lambda p: False)
    assert relative(files, tmp_path) == ["a/b/Dockerfile"] and problems == []


def test_a_linked_file_inside_the_tree_is_linted_once(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "Dockerfile").write_text(BAD)
    os.symlink("../Dockerfile", tmp_path / "docker" / "Dockerfile.gpu")  # the same file again
    (tmp_path / "docker" / "base.txt").write_text(BAD)  # a name discovery does not pick up...
    os.symlink("docker/base.txt", tmp_path / "Dockerfile.base")  # ... but the link's name it does
    files, _ = discover([str(tmp_path)], lambda p: False)
    assert relative(files, tmp_path) == ["Dockerfile", "Dockerfile.base"]


def test_fix_writes_through_a_link_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "base.txt").write_text(BAD)
    os.symlink("docker/base.txt", tmp_path / "Dockerfile")
    done = lint(tmp_path, "--fix", ".")
    assert done.returncode == 0, done.stdout + done.stderr
    assert os.readlink(tmp_path / "Dockerfile") == "docker/base.txt"
    assert (tmp_path / "docker" / "base.txt").read_text() == FIXED


def test_links_out_of_the_tree_are_skipped_unless_named(tmp_path: Path) -> None:
    outside, tree = tmp_path / "outside", tmp_path / "tree"
    (outside / "deps").mkdir(parents=True)
    tree.mkdir()
    (outside / "Dockerfile").write_text(BAD)
    (outside / "deps" / "Dockerfile").write_text(BAD)
    os.symlink("../outside/Dockerfile", tree / "Dockerfile")
    os.symlink(str(outside / "deps"), tree / "deps")
    (tree / "app.Dockerfile").write_text(FIXED)

    done = lint(tree, "--fix", ".")
    assert (done.returncode, lines(done)) == (0, []), done.stdout + done.stderr
    assert (outside / "Dockerfile").read_text() == BAD and (outside / "deps" / "Dockerfile").read_text() == BAD

    # Named on the command line, a link and a linked directory are linted like any path.
    done = lint(tree, "Dockerfile", "deps")
    assert sorted({line.split(":")[0] for line in lines(done)}) == ["Dockerfile", "deps/Dockerfile"]


def test_broken_and_looping_file_links_inside_the_tree_are_reported(tmp_path: Path) -> None:
    os.symlink("missing", tmp_path / "Dockerfile")
    os.symlink("Dockerfile.loop", tmp_path / "Dockerfile.loop")
    done = lint(tmp_path, ".")
    assert done.returncode == 1
    assert [line.split(" ")[:2] for line in lines(done)] == [["Dockerfile:1:1:", "AIC003"], ["Dockerfile.loop:1:1:", "AIC003"]]
    assert "No such file or directory" in done.stdout


def test_write_atomic_replaces_a_fifo_without_opening_it(tmp_path: Path) -> None:
    """A file swapped for a FIFO between reading and writing: the write does not block."""
    os.mkfifo(tmp_path / "Dockerfile")
    write_atomic(str(tmp_path / "Dockerfile"), FIXED.encode())
    assert (tmp_path / "Dockerfile").read_text() == FIXED
