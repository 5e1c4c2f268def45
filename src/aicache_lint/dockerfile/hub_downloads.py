"""Model downloads from the Hugging Face Hub in a RUN, and the hub cache they fill (DOMAIN §3.1)."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from aicache_lint.dockerfile.shell import subcommand

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import State
    from aicache_lint.dockerfile.model import Instruction
    from aicache_lint.dockerfile.shell import Invocation
    from aicache_lint.source import Span

PYTHON = re.compile(r"python\d*(?:\.\d+)*")
# Python calls that download from the Hub: snapshot_download / hf_hub_download always;
# from_pretrained when its first argument is a string that is not a local path.
PY_DOWNLOAD = re.compile(
    r"\b(?:snapshot_download|hf_hub_download)\s*\(|\.from_pretrained\s*\(\s*[rbuf]?['\"](?![/.~])[^'\"]+['\"]"
)


def is_hub_download(inv: "Invocation") -> bool:
    """`hf download …` or `huggingface-cli download …`."""
    return inv.program in ("hf", "huggingface-cli") and subcommand(inv, 1) == ["download"]


def hub_cache(state: "State", prefix: dict) -> str | None:
    """The hub cache dir: $HF_HUB_CACHE, else $HF_HOME/hub, else <XDG or ~/.cache>/huggingface/hub."""
    scope = {**state.run_env, **prefix}
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if var in scope:
            value = scope[var]
            return posixpath.normpath(posixpath.join(state.workdir, value)) if value else None
    home = state.cache_dir("huggingface", "HF_HOME", prefix)
    return posixpath.join(home, "hub") if home else None


def python_download_span(run: "Instruction", invs: list["Invocation"]) -> "Span | None":
    """Where a `python -c` or a heredoc of the RUN calls a Hub download (None: it does not)."""
    for inv in invs:
        if not PYTHON.fullmatch(inv.program):
            continue
        for i, w in enumerate(inv.args[:-1]):
            if w.value == "-c" and PY_DOWNLOAD.search(inv.args[i + 1].value):
                code = inv.args[i + 1]
                return inv.command.script.file_span(code.start, code.end)
    target = run.inner or run
    for heredoc in target.heredocs:
        if PY_DOWNLOAD.search(heredoc.content):
            return target.keyword_span
    return None
