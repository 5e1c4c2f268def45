"""A local bare Git repository for tests of `git ls-remote` lookups (no network).

``make_remote(tmp_path)`` builds ``<tmp_path>/remote.git`` with:

* ``main`` (the default branch, HEAD): two commits, ``first`` and ``second``;
* ``dev``: one more commit on top of ``first``;
* ``v1.0``: a lightweight tag on ``first``;
* ``v2.0``: an annotated tag on ``second`` (``ls-remote`` lists the tag object and the peeled
  ``refs/tags/v2.0^{}`` commit);
* ``both``: a branch (at ``dev``) and a tag (at ``first``) of the same name.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import NamedTuple

# A local identity and no user/system configuration: commits work on a clean CI machine.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}


class Remote(NamedTuple):
    url: str  # file:///.../remote.git
    path: Path
    first: str  # main~1, v1.0, the `both` tag
    second: str  # main (HEAD), the commit v2.0 points to
    dev: str  # dev and the `both` branch
    v2_tag_object: str  # the annotated tag object itself (not a commit)


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_remote(base: Path) -> Remote:
    work = base / "work"
    work.mkdir()
    git("init", "-q", cwd=work)
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=work)  # whatever init.defaultBranch says

    def commit(message: str) -> str:
        (work / "file.txt").write_text(message + "\n")
        git("add", "file.txt", cwd=work)
        git("commit", "-q", "-m", message, cwd=work)
        return git("rev-parse", "HEAD", cwd=work)

    first = commit("first")
    second = commit("second")
    git("checkout", "-q", "-b", "dev", first, cwd=work)
    dev = commit("on dev")
    git("checkout", "-q", "main", cwd=work)
    git("tag", "v1.0", first, cwd=work)
    git("tag", "-a", "-m", "release 2.0", "v2.0", second, cwd=work)
    git("branch", "both", dev, cwd=work)
    git("tag", "both", first, cwd=work)
    v2_object = git("rev-parse", "refs/tags/v2.0", cwd=work)

    bare = base / "remote.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=base)
    # A bare clone copies the branches (and HEAD -> main) and the tags.
    return Remote(bare.as_uri(), bare, first, second, dev, v2_object)
