"""The commit a Git ref names, from ``git ls-remote`` (no clone, no credentials prompt)."""

from __future__ import annotations

import os
import subprocess


class GitError(Exception):
    """``git ls-remote`` did not answer; the message says why, for the user."""


def ls_remote(url: str, timeout: float) -> dict[str, str]:
    """``{ref: sha}`` of every ref the remote advertises (peeled tags as ``refs/tags/X^{}``)."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", SSH_ASKPASS="true",
               GIT_SSH_COMMAND="ssh -o BatchMode=yes -o ConnectTimeout=5")
    try:
        done = subprocess.run(["git", "ls-remote", "--", url], capture_output=True, text=True,
                              timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("`git` is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"`git ls-remote {url}` did not answer within {timeout:g} s") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no error message"]
        # git states the problem on a `fatal:` line, then may add advice ("...and the repository exists.")
        why = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[-1])
        raise GitError(f"`git ls-remote {url}` failed: {why}")
    refs = {}
    for line in done.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        if ref:
            refs[ref] = sha
    return refs


def commit_for(refs: dict[str, str], ref: str | None) -> str | None:
    """The commit ``ref`` names the way Git resolves a name: no ref is the remote's HEAD; a tag's
    peeled commit; None when the name is unknown or both a branch and a tag."""
    if ref is None:
        return refs.get("HEAD")
    if ref.startswith("refs/"):
        return refs.get(ref + "^{}") or refs.get(ref)
    branch = refs.get(f"refs/heads/{ref}")
    tag = refs.get(f"refs/tags/{ref}^{{}}") or refs.get(f"refs/tags/{ref}")
    if branch and tag and branch != tag:
        return None
    return tag or branch
