"""Where an image loads weights through torch.hub, into the cache `TORCH_HOME` places (DOMAIN §3.2).

Installing torch downloads nothing; its hub cache (`$TORCH_HOME/hub`, default `~/.cache/torch/hub`)
fills when code calls `torch.hub.load`, `torch.hub.load_state_dict_from_url` (alias
`torch.utils.model_zoo.load_url`), a torchvision model builder with `weights=`/`pretrained=`, or a
torchaudio pipeline's `get_model()`. An image uses it when

(a) the code it runs (``Workspace.image_code``: its command, the files it starts, their local imports)
    makes such a call;
(b) a RUN's Python makes one at build time: `python -c`, a heredoc, or a script the RUN runs;
(c) it installs a library that makes one by default when used (``HUB_LIBRARIES``).

timm is not among them: its `create_model(..., pretrained=True)` takes weights from the Hugging Face
Hub whenever the model's pretrained config names an `hf_hub_id` (all of timm's own weights since 0.9)
and falls back to `load_state_dict_from_url` only for URL-only configs
(https://github.com/huggingface/pytorch-image-models/blob/main/timm/models/_builder.py,
`_resolve_pretrained_source`): its cache is the Hugging Face one (AIC201).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.knowledge.libraries import TORCH_LIBRARIES
from aicache_lint.knowledge.model_cache import copies_context, image_stages

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Facts, Stage
    from aicache_lint.python.read import ModelLoad
    from aicache_lint.source import Span
    from aicache_lint.workspace.index import Workspace

# Libraries that, used as documented, load weights with torch.hub into $TORCH_HOME/hub/checkpoints
# (PEP 503 names), each with what does it -- verified in their sources:
# - lpips: `LPIPS(net="alex")` builds `pretrained_networks.alexnet(pretrained=not pnet_rand)`, i.e.
#   torchvision's `tv.alexnet(pretrained=True)` (its own linear layers ship in the package)
#   https://github.com/richzhang/PerceptualSimilarity/blob/master/lpips/lpips.py
# - pytorch-fid: `InceptionV3()` defaults to `fid_inception_v3()`, which calls
#   `load_state_dict_from_url(FID_WEIGHTS_URL)` (torch.utils.model_zoo.load_url)
#   https://github.com/mseitzer/pytorch-fid/blob/master/src/pytorch_fid/inception.py
# - demucs: `pretrained.get_model(name)` downloads through `RemoteRepo.get_model`, which calls
#   `torch.hub.load_state_dict_from_url(url, check_hash=True)`
#   https://github.com/facebookresearch/demucs/blob/main/demucs/repo.py
# - whisperx: `load_align_model` takes English, French, German, Spanish and Italian alignment models
#   from `torchaudio.pipelines` (`bundle.get_model(dl_kwargs={"model_dir": model_dir})`, model_dir
#   None by default), which load with torch.hub's `load_state_dict_from_url`
#   https://github.com/m-bain/whisperX/blob/main/whisperx/alignment.py,
#   https://github.com/pytorch/audio/blob/main/src/torchaudio/_internal/__init__.py
# Not here, checked: openai-whisper (`~/.cache/whisper`), easyocr (`~/.EasyOCR`), ultralytics (its own
# weights directory), gfpgan and facexlib (`load_file_from_url` into a directory inside the package),
# silero-vad from PyPI (the model ships in the package), timm (the Hugging Face Hub, above).
HUB_LIBRARIES = {
    "lpips": "builds torchvision's pretrained AlexNet/VGG trunk",
    "pytorch-fid": "loads its FID Inception weights with `load_state_dict_from_url`",
    "demucs": "fetches its pretrained models with `torch.hub.load_state_dict_from_url`",
    "whisperx": "loads its English, French, German, Spanish and Italian alignment models from torchaudio "
                "pipelines",
}
# The calls of ``python/read.py`` that fill the torch hub cache (`timm.create_model`: see above).
_HUB_CALLS = frozenset({"torch.hub.load", "torch.hub.load_state_dict_from_url", "torch.utils.model_zoo.load_url"})
_HUB_LIBRARIES_OF_CALLS = frozenset({"torchvision", "torchaudio"})


class TorchHubUse(NamedTuple):
    """The first place an image loads torch hub weights."""

    stage: "Stage"  # the stage the span is in
    span: "Span"  # in the Dockerfile: the install, the RUN's load or command, or the CMD/ENTRYPOINT
    what: str  # the subject of a sentence: "`torch.hub.load` of `x` at `app/vad.py:7`, which the image runs,"


def fills_torch_hub(load: "ModelLoad") -> bool:
    """Whether ``load`` downloads into the torch hub cache (not a local path, no directory of its own,
    computed or not)."""
    if not load.remote or load.cache_keyword:
        return False
    return load.call in _HUB_CALLS or load.library in _HUB_LIBRARIES_OF_CALLS


def torch_hub_use(ws: "Workspace", dockerfile: str, facts: "Facts", stage: "Stage | None" = None) -> TorchHubUse | None:
    """Where the image of ``stage`` (default: the final stage) first uses the torch hub cache: the
    code it runs, then its RUNs (a load, or an install of ``HUB_LIBRARIES``) in file order."""
    stage = stage or facts.final_stage
    if stage is None:
        return None
    stages = sorted(image_stages(stage), key=lambda s: s.index)
    return _run_time(ws, dockerfile, facts, stage, stages) or _build_time(ws, dockerfile, facts, stages)


def _shown(path: str, dockerfile: str) -> str:
    return os.path.relpath(path, os.path.dirname(dockerfile) or ".").replace(os.sep, "/")


def described(load: "ModelLoad") -> str:
    model = load.model or load.default or load.expr
    return f"`{load.call}`" + (f" of `{model}`" if model and model not in load.call else "")


def _run_time(ws, dockerfile: str, facts: "Facts", stage: "Stage", stages: list) -> TorchHubUse | None:
    """(a): a load in the code the image runs, shown at the install of torch (else at the command).
    The code is read only for an image that runs a command on files of the build context and may
    hold torch: a one-file run on anything else reads no other file (no build files, no code)."""
    from aicache_lint.knowledge.requirements import unseen_requirements

    if stage is not facts.final_stage and not stage.name:
        return None  # not an image anything can run
    command = next((i for i in reversed(facts.command(stage)) if i is not None), None)
    if command is None or facts.stage_of(command) is None:
        return None
    if not copies_context(stages):
        return None  # no file of the build context in the image
    install = None
    unseen = False
    for s in stages:
        for instr in s.instructions:
            if install is not None or (instr.inner or instr).keyword != "RUN":
                continue
            for inv in facts.invocations(instr):
                unseen = unseen or unseen_requirements(inv)
                req = next((r for r in ws.requested_packages(dockerfile, facts, instr, inv)
                            if r.name in TORCH_LIBRARIES), None)
                if req is not None:
                    install = (s, req.span(inv))
                    break
    if install is None and not unseen:
        return None  # torch is not installed as far as the file shows
    code = ws.image_code(dockerfile, None if stage is facts.final_stage else stage.name)
    hit = next(((f, load) for f, load in code.loads() if fills_torch_hub(load)), None)
    if hit is None:
        return None
    file, load = hit
    what = f"{described(load)} at `{_shown(file.path, dockerfile)}:{load.line}`, which the image runs,"
    where, span = install or (facts.stage_of(command), command.keyword_span)
    return TorchHubUse(where, span, what)


def _build_time(ws, dockerfile: str, facts: "Facts", stages: list) -> TorchHubUse | None:
    """(b) and (c): a RUN whose Python loads torch hub weights, or that installs ``HUB_LIBRARIES``."""
    from aicache_lint.dockerfile.hub_downloads import python_downloads, script_loads

    for s in stages:
        for instr in s.instructions:
            if (instr.inner or instr).keyword != "RUN":
                continue
            state = facts.state(instr)
            for download in python_downloads(instr, facts.script(instr), state):
                if fills_torch_hub(download.load):
                    return TorchHubUse(s, download.span, f"{described(download.load)} in this RUN")
            for script in script_loads(ws, dockerfile, facts, instr):
                hub = [(f, load) for f, load in script.loads if fills_torch_hub(load)]
                if hub:
                    f, load = hub[0]
                    what = (f"{described(load)} at `{_shown(f.path, dockerfile)}:{load.line}`, which this RUN "
                            "runs,")
                    return TorchHubUse(s, script.span, what)
            for inv in facts.invocations(instr):
                for req in ws.requested_packages(dockerfile, facts, instr, inv):
                    if req.name in HUB_LIBRARIES:
                        return TorchHubUse(s, req.span(inv), f"{req.named}, which {HUB_LIBRARIES[req.name]},")
    return None
