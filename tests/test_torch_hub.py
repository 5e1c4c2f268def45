"""Where an image fills the torch hub cache (knowledge/torch_hub.py), and the messages of the rules
that use it and the scripts a RUN runs (AIC202, AIC205)."""

from __future__ import annotations

import pytest

from aicache_lint.engine import check_source
from aicache_lint.knowledge.torch_hub import torch_hub_use
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText
from aicache_lint.workspace.index import Workspace

VAD = 'import torch\n\nmodel, utils = torch.hub.load("snakers4/silero-vad", "silero_vad")\n'


def _project(root, files: dict[str, str]) -> None:
    (root / ".git").mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _use(dockerfile: str = "Dockerfile"):
    ws = Workspace([dockerfile])
    _, facts = ws.dockerfile(dockerfile)
    return ws, facts, torch_hub_use(ws, dockerfile, facts)


def _at(text: str, use) -> str:
    return text[use.span.start:use.span.end]


def test_run_time_code_comes_first_and_is_shown_at_the_install(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = ('FROM python:3.12-slim\nRUN pip install lpips\nRUN pip install torch\nCOPY app.py /app/app.py\n'
            'CMD ["python", "/app/app.py"]\n')
    _project(tmp_path, {"Dockerfile": text, "app.py": VAD})
    _, facts, use = _use()
    assert _at(text, use) == "torch"  # the install of torch, not the earlier lpips: the code's load comes first
    assert use.what == "`torch.hub.load` of `snakers4/silero-vad` at `app.py:3`, which the image runs,"
    assert use.stage is facts.final_stage


def test_build_time_in_file_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = ("FROM python:3.12-slim AS base\nRUN pip install torchvision demucs\n"
            "FROM base\nRUN python -c \"import torchvision; torchvision.models.vgg16(pretrained=True)\"\n")
    _project(tmp_path, {"Dockerfile": text})
    _, facts, use = _use()
    assert _at(text, use) == "demucs"
    assert use.stage is facts.stages[0]
    assert use.what.startswith("`demucs`, which fetches its pretrained models")


def test_a_script_a_run_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY prefetch.py .\nRUN python prefetch.py --all\n"
    _project(tmp_path, {"Dockerfile": text, "prefetch.py":
                        "from torchvision.models import get_model\nimport torchaudio\n\n"
                        "torchaudio.pipelines.HUBERT_BASE.get_model()\n"})
    _, _, use = _use()
    assert _at(text, use) == "python prefetch.py --all"
    assert use.what == ("`torchaudio.pipelines.HUBERT_BASE.get_model` at `prefetch.py:4`, which this RUN runs,")


@pytest.mark.parametrize("code", [
    'import timm\nm = timm.create_model("vit_base_patch16_224.augreg_in21k", pretrained=True)\n',
    'import torch\nsd = torch.hub.load_state_dict_from_url("https://x/y.pth", model_dir="/weights")\n',
    'import torch\nm = torch.hub.load("third_party/yolov5", "custom", path="best.pt", source="local")\n',
    'from torchvision import models\nm = models.resnet18(pretrained=False)\n',
])
def test_no_torch_hub_use(tmp_path, monkeypatch, code):
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, {"Dockerfile": 'FROM python:3.12-slim\nRUN pip install torch torchvision timm\n'
                                      'COPY app.py /app/app.py\nCMD ["python", "/app/app.py"]\n', "app.py": code})
    assert _use()[2] is None


def test_aic205_names_the_script_and_its_models(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY dl.py .\nRUN python dl.py\n"
    _project(tmp_path, {"Dockerfile": text, "dl.py":
                        "import whisper\nfrom huggingface_hub import snapshot_download\n\n"
                        'snapshot_download("Qwen/Qwen2.5-0.5B-Instruct")\nwhisper.load_model("base")\n'})
    source = SourceText(text, str(tmp_path / "Dockerfile"))
    [finding] = check_source(source, Settings(select=("AIC205",)))
    assert finding.message == (
        "`python dl.py` downloads `Qwen/Qwen2.5-0.5B-Instruct` (`huggingface_hub.snapshot_download`, `dl.py:4`) and "
        "`base` (`whisper.load_model`, `dl.py:5`) at build time with no cache mount on "
        "`/root/.cache/huggingface/hub` or `/root/.cache/whisper`: any change above this RUN downloads them again")


def test_aic205_names_the_directory_of_a_cache_argument(tmp_path, monkeypatch):
    # `local_dir=` is where the files go, never the hub cache the RUN mounts; a computed one is not known
    monkeypatch.chdir(tmp_path)
    text = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY dl.py .\n"
            "RUN --mount=type=cache,target=/root/.cache/huggingface/hub python dl.py\n"
            "RUN python -c \"import os, huggingface_hub as h; h.hf_hub_download('org/m', 'w.onnx', "
            "local_dir=os.environ['DIR'])\"\n")
    _project(tmp_path, {"Dockerfile": text, "dl.py":
                        'from huggingface_hub import snapshot_download\nsnapshot_download("org/a", local_dir="/a")\n'})
    source = SourceText(text, str(tmp_path / "Dockerfile"))
    script, python_c = check_source(source, Settings(select=("AIC205",)))
    assert script.message == (
        "`python dl.py` downloads `org/a` (`huggingface_hub.snapshot_download`, `dl.py:2`) at build time with no "
        "cache mount on `/a` (its `local_dir=`: the Hugging Face cache is read, never written): any change above "
        "this RUN downloads it again")
    assert python_c.message == (
        "`huggingface_hub.hf_hub_download` downloads `org/m` at build time with no cache mount on the directory its "
        "`local_dir=` computes: any change above this RUN downloads it again")


def test_a_computed_model_dir_is_not_the_torch_hub_cache():
    from aicache_lint.knowledge.torch_hub import fills_torch_hub
    from aicache_lint.python.read import read

    code = ("import os, torch\ntorch.hub.load_state_dict_from_url('https://example.com/w.pt', model_dir=os.environ['W'])\n"
            "torch.hub.load_state_dict_from_url('https://example.com/w.pt', model_dir=None)\n")
    assert [fills_torch_hub(load) for load in read(code).loads] == [False, True]
