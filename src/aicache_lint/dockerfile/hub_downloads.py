"""Model downloads from the Hugging Face Hub in a RUN, and the hub cache they fill (DOMAIN §3.1)."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.dockerfile.shell import PYTHON, shebang_program, subcommand
from aicache_lint.source import MappedText

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Facts, State
    from aicache_lint.dockerfile.model import Instruction
    from aicache_lint.dockerfile.shell import Invocation, Script
    from aicache_lint.python.read import ModelLoad
    from aicache_lint.source import Span
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.python_code import CodeFile

# Where each library keeps what it downloads (DOMAIN §3.3): (tool directory, override variable,
# subdirectory); the libraries not named here download through the Hugging Face Hub cache.
LIBRARY_CACHE = {
    "whisper": ("whisper", "", ""),  # $XDG_CACHE_HOME/whisper, no variable of its own
    "torch": ("torch", "TORCH_HOME", "hub"),
    "torchvision": ("torch", "TORCH_HOME", "hub"),
    "torchaudio": ("torch", "TORCH_HOME", "hub"),
}
# A library's own variable that, when set, moves its downloads out of the hub cache (DOMAIN §3.3).
LIBRARY_HOME = {"sentence_transformers": "SENTENCE_TRANSFORMERS_HOME"}


class PythonDownload(NamedTuple):
    """A model a RUN's Python downloads: the load, where it is in the file, and the cache it fills
    (None: not known)."""

    load: "ModelLoad"
    span: "Span"
    cache: str | None


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


def python_downloads(run: "Instruction", script: "Script | None", state: "State") -> list[PythonDownload]:
    """The models the Python of a RUN downloads: `python -c CODE`, a heredoc read by `python`,
    `python -` or a bare `<<EOF` with a python shebang. Code that is not valid Python runs nothing."""
    bodies = _python_bodies(script)
    if not bodies:
        return []
    from aicache_lint.python.read import read

    out: list[PythonDownload] = []
    for body in bodies:
        facts = read(body.text)
        for load in facts.loads if facts is not None else ():
            if load.remote:
                out.append(PythonDownload(load, body.file_span(*load.span), load_cache(load, state)))
    return out


def _python_bodies(script: "Script | None") -> list["MappedText"]:
    from aicache_lint.dockerfile.shell import normalize, word_text

    out: list[MappedText] = []
    written: dict[str, MappedText] = {}  # `.py` files a heredoc writes in this RUN, by name
    for cmd in script.commands if script is not None else ():
        inv = normalize(cmd)
        if inv is not None and inv.program in ("cat", "tee"):
            _remember_script(cmd, inv, written)
        if inv is not None and PYTHON.fullmatch(inv.program):
            args = [w.value for w in inv.args]
            if "-c" in args[:-1]:
                out.append(word_text(cmd.script.source, inv.args[args.index("-c") + 1]))
                continue
            run = next((a for a in args if not a.startswith("-")), None)
            if run is not None:
                # `python dl.py` of a file this RUN wrote with a heredoc runs that code; any other
                # script or `-m module` is not read (its stdin is data, not code)
                if run in written and written[run] not in out:
                    out.append(written[run])
                continue
        elif inv is not None or cmd.words:
            continue
        for r in cmd.redirects:
            doc = r.heredoc
            if doc is None or r.fd not in (None, "0"):
                continue
            body = _heredoc_text(cmd.script.source, doc)
            if inv is not None or PYTHON.fullmatch(shebang_program(body.text) or ""):
                out.append(body)
    return out


def _remember_script(cmd, inv, written: dict[str, "MappedText"]) -> None:
    """`cat > dl.py <<EOF` / `tee dl.py <<EOF`: the heredoc is the file's code."""
    docs = [r.heredoc for r in cmd.redirects if r.heredoc is not None and r.fd in (None, "0")]
    if not docs:
        return
    names = [r.target.value for r in cmd.redirects if r.op in (">", ">|") and r.target is not None]
    names += [w.value for w in inv.args if inv.program == "tee" and not w.value.startswith("-")]
    for name in names:
        if name.endswith(".py"):
            written[name] = _heredoc_text(cmd.script.source, docs[0])


def _heredoc_text(source: "MappedText", doc) -> "MappedText":
    """The body as the program reads it: `<<-` strips leading tabs."""
    body = source.slice(doc.body_start, doc.body_end)
    if not doc.strip_tabs:
        return body
    keep = [i for i, c in enumerate(body.text) if not (c == "\t" and _at_line_start(body.text, i))]
    return MappedText("".join(body.text[i] for i in keep), [body.offsets[i] for i in keep] + body.offsets[-1:])


def _at_line_start(text: str, i: int) -> bool:
    j = text.rfind("\n", 0, i) + 1
    return text[j:i].strip("\t") == ""


def load_cache(load: "ModelLoad", state: "State") -> str | None:
    """The directory the load fills: its cache argument (None when computed: not known), else the
    library's cache. `local_dir=` of `snapshot_download`/`hf_hub_download` is where the files go:
    the Hugging Face cache is read but never written (DOMAIN §2.7)."""
    if load.cache_keyword:
        return posixpath.normpath(posixpath.join(state.workdir, load.cache_dir)) if load.cache_dir else None
    home_var = LIBRARY_HOME.get(load.library or "")
    if home_var and state.run_env.get(home_var):
        return posixpath.normpath(posixpath.join(state.workdir, state.run_env[home_var]))
    tool = LIBRARY_CACHE.get(load.library or "")
    if tool is None:
        return hub_cache(state, {})
    home = state.cache_dir(tool[0], tool[1])
    return posixpath.join(home, tool[2]) if home and tool[2] else home


class ScriptLoads(NamedTuple):
    """The model loads of the Python files one command of a RUN runs (`python download.py`,
    `python -m pkg.download`), resolved through the stage's COPY/WORKDIR and bind mounts."""

    inv: "Invocation"
    span: "Span"  # the command, in the Dockerfile
    loads: list[tuple["CodeFile", "ModelLoad"]]


def script_loads(ws: "Workspace", dockerfile: str, facts: "Facts", run: "Instruction") -> list[ScriptLoads]:
    """What the scripts the commands of ``run`` start load (commands with loads only). `python -c`
    and heredocs are ``python_downloads``'s: they have no file."""
    out: list[ScriptLoads] = []
    for inv in facts.invocations(run):
        words = [inv.program, *(w.value for w in inv.args)]
        if not any(PYTHON.fullmatch(posixpath.basename(w)) or w.endswith(".py") for w in words):
            continue  # nothing that starts Python: not worth resolving the stage's files
        from aicache_lint.workspace.python_code import run_code

        loads = run_code(ws, dockerfile, facts, run, inv).loads()
        if loads:
            last = (inv.args or inv.program_words)[-1]
            span = inv.command.script.file_span(inv.program_words[0].start, last.end)
            out.append(ScriptLoads(inv, span, loads))
    return out
