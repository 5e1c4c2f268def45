"""AIC205 model-download-without-cache."""

from __future__ import annotations

import os
import posixpath
import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.facts import State
from aicache_lint.dockerfile.hub_downloads import (
    PythonDownload,
    ScriptLoads,
    hub_cache,
    is_hub_download,
    load_cache,
    python_downloads,
    script_loads,
)
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.shell import Invocation
from aicache_lint.finding import Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.libraries import HF_DOWNLOAD_OPTIONS
from aicache_lint.knowledge.model_cache import cli_option_names
from aicache_lint.knowledge.package_cache import (
    cache_mount_targets,
    covers,
    mount_covering,
    mount_flag,
    option_value,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.python.read import ModelLoad

_MODEL_FILE = re.compile(r"\.(?:safetensors|gguf|ckpt|pt|pth|bin|onnx)(?:[?#]|$)", re.IGNORECASE)
_MODEL_HOSTS = re.compile(
    r"^https?://(?:[a-z0-9-]+\.)*(?:huggingface\.co|hf\.co|hf-mirror\.com|civitai\.com|modelscope\.cn|modelscope\.ai)(?::\d+)?/",
    re.IGNORECASE,
)
_OK_BEFORE = (None, "&&", ";", "\n")


class ModelDownloadWithoutCache(Rule):
    """
    ## What it does
    Flags a model download at build time in a `RUN` that has no cache mount on the cache it fills:
    `hf download` / `huggingface-cli download`; in the Python of `python -c`, a heredoc read by
    `python` / `python -` or a heredoc with a python shebang, `snapshot_download`, `hf_hub_download`,
    `.from_pretrained("org/name")`, `pipeline(task, model=…)`, `SentenceTransformer(…)`,
    `CrossEncoder(…)`, `faster_whisper.WhisperModel(…)`, `timm.create_model(…, pretrained=True)`,
    `open_clip.create_model_and_transforms(…, pretrained=…)` (all in the Hugging Face hub cache;
    sentence-transformers in `$SENTENCE_TRANSFORMERS_HOME` when it is set), `whisper.load_model(…)`
    (`~/.cache/whisper`), `torch.hub.load(…)`, torchvision weights and torchaudio pipelines
    (`$TORCH_HOME/hub`) -- a literal local path or `local_files_only=True` downloads nothing, and
    code that is not valid Python runs nothing. A cache argument (`cache_dir=`, `cache_folder=`,
    `download_root=`, `model_dir=`, `local_dir=`) is the directory the load fills instead: a mount
    of the default cache does not cover it (`local_dir=` only reads the Hugging Face cache, as
    `--local-dir` does), and when the code computes it any cache mount on the RUN counts. The same
    calls in a script the RUN runs (`python download.py`, `python -m pkg.download`, found in the
    build context through the stage's `COPY`, `WORKDIR` and bind mounts, with the local modules it
    imports), reported once at the command with each model and the file and line that loads it (a
    script the context does not hold is not guessed at); and `wget`/`curl` of a `.safetensors`,
    `.gguf`, `.ckpt`, `.pt`, `.pth`, `.bin` or `.onnx` file from a model hub (huggingface.co,
    hf.co, hf-mirror.com, civitai.com, modelscope). It also flags `hf download … --local-dir D`
    under a mount of the hub cache that nothing fills: a lone `--local-dir` download reads the
    cache but never writes it, so the mount stays empty.

    ## Why is this bad?
    The download is part of the layer: any change to an instruction above it -- a new pip
    package, an edited `COPY` -- runs it again and fetches gigabytes of weights from the
    network. With the hub cache on a BuildKit cache mount the files come from the builder's disk.

    ## Example
    ```dockerfile
    RUN hf download Qwen/Qwen2.5-0.5B-Instruct --revision 7ae5… --local-dir /models/qwen
    ```

    ## Use instead
    ```dockerfile
    RUN --mount=type=cache,target=/root/.cache/huggingface/hub \
        hf download Qwen/Qwen2.5-0.5B-Instruct --revision 7ae5… && \
        hf download Qwen/Qwen2.5-0.5B-Instruct --revision 7ae5… --local-dir /models/qwen
    ```
    The first call fills the cache mount; the second copies from it into `/models/qwen`, which
    stays in the image.

    ## Fix safety
    Only `hf download REPO … --local-dir D` gets a fix: it mounts the hub cache
    (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` of the `RUN`'s user --
    the hub directory only, so a token saved in `$HF_HOME/token` stays visible) and inserts the
    same download without `--local-dir` before it, joined with `&&`. The files in `D` -- and so
    the image -- are the same. Safe as root; for a non-root user the mount gets `uid=`/`gid=`, and
    the fix is unsafe when those ids or the existence of the mount's parent directory cannot be
    known (as for AIC101). No fix when `D` and the hub cache overlap (a cache mount over a path
    the app reads at run time would ship the image without the weights), when the command has
    options other than those of `hf download` or has `--force-download` (every build would download
    again anyway), `--cache-dir`, an environment prefix or wrapper, sits after `||` or in a
    pipeline, or when the hub cache directory cannot be known.
    Report only: `hf download REPO` without `--local-dir` stores the model *in* the hub cache,
    which is then part of the image; a cache mount there would remove the weights from the image.
    Download into the mounted cache and copy to a `--local-dir` instead, or download at run time
    into a volume. Python and `wget`/`curl` downloads are reported without a fix.

    ## Options
    None.

    ## References
    - [huggingface_hub: download files to a local folder](https://huggingface.co/docs/huggingface_hub/guides/download#download-files-to-a-local-folder)
    - [huggingface_hub CLI: `hf download`](https://huggingface.co/docs/huggingface_hub/guides/cli#hf-download)
    - [BuildKit `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    - [openai-whisper `load_model` (`download_root`, `$XDG_CACHE_HOME/whisper`)](https://github.com/openai/whisper/blob/main/whisper/__init__.py)
    - [torch.hub: where weights are saved (`$TORCH_HOME/hub`)](https://pytorch.org/docs/stable/hub.html#where-are-my-downloaded-models-saved)
    """

    code = "AIC205"
    name = "model-download-without-cache"
    summary = "A model is downloaded at build time without a cache mount on the cache it fills"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            state = facts.state(run)
            invs = facts.invocations(run)
            hub_invs = [inv for inv in invs if is_hub_download(inv)]
            for inv in hub_invs:
                found = self._cli(ctx, run, state, inv, hub_invs)
                if found is not None:
                    yield found
            for download in python_downloads(run, facts.script(run), state):
                found = self._python(run, state, download)
                if found is not None:
                    yield found
            for script in script_loads(ctx.workspace, ctx.path, facts, run):
                found = self._script(ctx, run, state, script)
                if found is not None:
                    yield found
            if not cache_mount_targets(run, state):
                for inv in invs:
                    if inv.program in ("wget", "curl") and any(_model_url(w.value) for w in inv.args):
                        words = inv.program_words
                        yield Violation(
                            inv.command.script.file_span(words[0].start, words[-1].end),
                            f"`{inv.program}` downloads a model file at build time: any change above this RUN "
                            "downloads it again",
                        )

    def _python(self, run: Instruction, state: State, download: PythonDownload) -> Violation | None:
        cache = download.cache
        if _covered(run, state, cache):
            return None
        load = download.load
        return Violation(
            download.span,
            f"`{load.call}` downloads {_model(load)} at build time with no cache mount on {_where(load, cache)}: any "
            "change above this RUN downloads it again",
        )

    def _script(self, ctx, run: Instruction, state: State, script: ScriptLoads) -> Violation | None:
        """One finding for the command that runs the scripts, naming each uncovered download."""
        here = posixpath.dirname(ctx.path) or "."
        named: list[str] = []
        caches: list[str] = []
        for file, load in script.loads:
            cache = load_cache(load, state) if load.remote else None
            if not load.remote or _covered(run, state, cache):
                continue
            shown = os.path.relpath(file.path, here).replace(os.sep, "/")
            named.append(f"{_model(load)} (`{load.call}`, `{shown}:{load.line}`)")
            caches.append(_where(load, cache))
        if not named:
            return None
        where = " or ".join(dict.fromkeys(caches))
        models = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        command = " ".join(w.value for w in [*script.inv.program_words, *script.inv.args])
        return Violation(
            script.span,
            f"`{command if len(command) <= 60 else command[:59] + '…'}` downloads {models} at build time with no "
            f"cache mount on {where}: any change above this RUN downloads {'it' if len(named) == 1 else 'them'} "
            "again",
        )

    def _cli(self, ctx, run: Instruction, state: State, inv: Invocation, hub_invs: list[Invocation]) -> Violation | None:
        local = option_value(inv.args, "--local-dir")
        prefix = {k: (w.value if not w.has_expansion else None) for k, w in inv.env.items()}
        hub = option_value(inv.args, "--cache-dir") or hub_cache(state, prefix)
        if hub is not None and not hub.startswith("/"):
            hub = posixpath.normpath(posixpath.join(state.workdir, hub))
        covered = mount_covering(run, state, hub)[0] if hub is not None else bool(cache_mount_targets(run, state))
        words = inv.program_words + inv.args[:1]
        span = inv.command.script.file_span(words[0].start, words[-1].end)
        what = f"`{inv.program} download`"
        if local is None:
            if covered:
                return None
            where = f"`{hub}`" if hub else "the Hugging Face cache"
            return Violation(
                span,
                f"{what} stores the model in {where}, inside this layer: any change above this RUN downloads it "
                "again. A cache mount there would drop the weights from the image; download into a mounted cache "
                "and copy out with `--local-dir` instead",
            )
        if covered and _filled(inv, hub_invs):
            return None
        if covered:
            message = (
                f"{what} with `--local-dir` never writes the Hugging Face cache, so the cache mount on this RUN "
                "stays empty and every build downloads the model again"
            )
        else:
            message = (
                f"{what} fetches a model with no cache mount on the Hugging Face cache: any change above this RUN "
                "downloads it again"
            )
        return Violation(span, message, self._fix(ctx, run, state, inv, hub, local, covered))

    def _fix(self, ctx, run: Instruction, state: State, inv: Invocation, hub: str | None, local: str, covered: bool) -> Fix | None:
        cmd = inv.command
        script = cmd.script
        if inv.program != "hf" or script.exec_form or hub is None or not local:
            return None
        options = cli_option_names(inv)
        if any(o not in HF_DOWNLOAD_OPTIONS for o in options) or "--cache-dir" in options or "--force-download" in options:
            return None
        if options.count("--local-dir") != 1 or cmd.assignments or cmd.words[0] is not inv.program_words[0]:
            return None
        if cmd.conditional or (cmd.op_before.text if cmd.op_before else None) not in _OK_BEFORE:
            return None
        if cmd.op_after is not None and cmd.op_after.text in ("|", "|&", "&"):
            return None
        if any(w.has_expansion for w in inv.args if w.value.startswith("--local-dir")):
            return None
        target = posixpath.normpath(posixpath.join(state.workdir, local))
        if covers(hub, target) or covers(target, hub):
            return None  # DOMAIN trap 5: the mount would hide the weights the image must ship
        kept = _without_local_dir(inv)
        if kept is None:
            return None
        if cmd.parent is not None and any(c in w for w in kept for c in "'\"\\"):
            return None  # inside `sh -c '…'` or a heredoc: copying quotes could break the outer quoting
        start = script.file_span(cmd.start, cmd.start).start
        fill = " ".join([w.raw for w in inv.program_words] + kept)
        edit_list = [Edit.insert(start, f"{fill} && ")]
        title = f"Fill the Hugging Face cache at {hub} before the `--local-dir` download"
        if covered:
            return Fix.safe(title, *edit_list)
        plan = mount_flag(ctx, run, hub, state)
        if plan.flag is None:
            return None
        edit_list.append(edits.add_flag(run, plan.flag))
        title = f"Mount the Hugging Face cache at {hub} and fill it before the `--local-dir` download"
        return plan.fix(title, *edit_list)


def _covered(run: Instruction, state: State, cache: str | None) -> bool:
    """A cache mount on ``cache``; for a cache not known, any cache mount on the RUN."""
    return bool(mount_covering(run, state, cache)[0] if cache else cache_mount_targets(run, state))


def _where(load: ModelLoad, cache: str | None) -> str:
    """The directory a load fills, for a message: its own (`local_dir=` never fills the Hugging Face
    cache, DOMAIN §2.7), a computed one, or its library's cache."""
    if load.cache_keyword == "local_dir":
        return f"`{cache}` (its `local_dir=`: the Hugging Face cache is read, never written)" if cache else \
            "the directory its `local_dir=` computes"
    if cache:
        return f"`{cache}`"
    return f"the directory its `{load.cache_keyword}=` computes" if load.cache_keyword else "its cache"


def _model(load: ModelLoad) -> str:
    if load.model is not None:
        return f"`{load.model}`"
    if load.default is not None:
        return f"`{load.default}` (unless `{load.variable}` is set)"
    if load.expr is not None:
        return f"the model `{load.expr}` names"
    return "a model"


def _filled(inv: Invocation, hub_invs: list[Invocation]) -> bool:
    """Whether an earlier download of the same repo in the RUN writes the cache."""
    repo = _repo(inv)
    for other in hub_invs:
        if other is inv:
            return False
        if option_value(other.args, "--local-dir") is None and repo is not None and _repo(other) == repo:
            return True
    return False


def _repo(inv: Invocation) -> str | None:
    """The repo id of `hf download [options] REPO …`."""
    positional = []
    skip = False
    for w in inv.args:
        if skip:
            skip = False
        elif w.value.startswith("-"):
            skip = "=" not in w.value and w.value != "--force-download"
        else:
            positional.append(w.value)
    return positional[1] if len(positional) > 1 else None


def _without_local_dir(inv: Invocation) -> list[str] | None:
    out: list[str] = []
    skip = False
    for w in inv.args:
        if skip:
            skip = False
            continue
        if w.value == "--local-dir":
            skip = True
            continue
        if w.value.startswith("--local-dir="):
            continue
        out.append(w.raw)
    return out


def _model_url(value: str) -> bool:
    return bool(_MODEL_HOSTS.match(value)) and bool(_MODEL_FILE.search(value.split("?", 1)[0] + "?"))
