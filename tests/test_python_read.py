"""python/read.py: imports, environment reads and writes, and model loads of a Python text, with
character offsets into it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aicache_lint.python.read import FUNCTION, MAIN, MODULE, read


def _text(text: str, span) -> str:
    return text[span.start : span.end]


def test_syntax_error_is_none_not_an_exception():
    assert read("def (:\n") is None
    assert read("import os\n  x = 1\n") is None  # IndentationError
    assert read("x = '\0'") is None  # null byte: SyntaxError or ValueError depending on the version


def test_imports_with_scope_and_relative():
    text = (
        "import os, torch.hub as th\n"
        "from .models import net\n"
        "from .. import util\n"
        "def main():\n"
        "    import transformers\n"
        "class Holder:\n"
        "    from diffusers import DiffusionPipeline\n"
        "if __name__ == '__main__':\n"
        "    import whisper\n"
    )
    facts = read(text)
    got = [(i.module, i.level, i.relative, i.names, i.line, i.scope) for i in facts.imports]
    assert got == [
        ("os", 0, False, (), 1, MODULE),
        ("torch.hub", 0, False, (), 1, MODULE),
        ("models", 1, True, ("net",), 2, MODULE),
        ("", 2, True, ("util",), 3, MODULE),
        ("transformers", 0, False, (), 5, FUNCTION),
        ("diffusers", 0, False, ("DiffusionPipeline",), 7, "class"),
        ("whisper", 0, False, (), 9, MAIN),
    ]
    assert _text(text, facts.imports[2].span) == "from .models import net"


def test_importlib_literal_is_a_dynamic_import():
    facts = read("import importlib\nm = importlib.import_module('sentence_transformers')\nimportlib.import_module(name)\n")
    dynamic = [i for i in facts.imports if i.dynamic]
    assert [(i.module, i.line) for i in dynamic] == [("sentence_transformers", 2)]


def test_main_guard_either_way_round_and_its_else_branch():
    text = "if '__main__' == __name__:\n    import a\nelse:\n    import b\nif __name__ != '__main__':\n    import c\n"
    assert [(i.module, i.scope) for i in read(text).imports] == [("a", MAIN), ("b", MODULE), ("c", MODULE)]


def test_environment_writes():
    text = (
        "import os\n"
        "from os import environ\n"
        "os.environ['HF_HOME'] = '/cache/hf'\n"
        "os.environ.setdefault('TORCH_HOME', '/cache/torch')\n"
        "environ.update({'A': '1', key: 'x'}, B='2')\n"
        "os.putenv('C', value)\n"
        "def f():\n"
        "    os.environ['HF_HUB_OFFLINE'] = '1'\n"
    )
    facts = read(text)
    got = [(w.name, w.value, w.how, w.line, w.scope) for w in facts.env_writes]
    assert got == [
        ("HF_HOME", "/cache/hf", "assign", 3, MODULE),
        ("TORCH_HOME", "/cache/torch", "setdefault", 4, MODULE),
        ("A", "1", "update", 5, MODULE),
        (None, "x", "update", 5, MODULE),
        ("B", "2", "update", 5, MODULE),
        ("C", None, "putenv", 6, MODULE),
        ("HF_HUB_OFFLINE", "1", "assign", 8, FUNCTION),
    ]
    assert _text(text, facts.env_writes[1].span) == "os.environ.setdefault('TORCH_HOME', '/cache/torch')"


def test_environment_reads():
    text = "import os\na = os.environ['A']\nb = os.environ.get('B', 'dflt')\nc = os.getenv('C')\n"
    facts = read(text)
    assert [(r.name, r.default, r.how) for r in facts.env_reads] == [
        ("A", None, "subscript"), ("B", "dflt", "get"), ("C", None, "getenv")
    ]


@pytest.mark.parametrize(
    ("code", "library", "call", "model"),
    [
        ("from huggingface_hub import snapshot_download\nsnapshot_download(repo_id='org/m')",
         "huggingface_hub", "huggingface_hub.snapshot_download", "org/m"),
        ("import huggingface_hub as hh\nhh.hf_hub_download('org/m', 'f.bin')",
         "huggingface_hub", "huggingface_hub.hf_hub_download", "org/m"),
        ("from transformers import AutoModel as M\nM.from_pretrained('bert-base-uncased')",
         "transformers", "transformers.AutoModel.from_pretrained", "bert-base-uncased"),
        ("import diffusers\ndiffusers.StableDiffusionPipeline.from_pretrained('org/sd')",
         "diffusers", "diffusers.StableDiffusionPipeline.from_pretrained", "org/sd"),
        ("from peft import PeftModel\nPeftModel.from_pretrained(base, 'org/lora')",
         "peft", "peft.PeftModel.from_pretrained", "org/lora"),
        ("from transformers import pipeline\npipeline('asr', model='openai/whisper-small')",
         "transformers", "transformers.pipeline", "openai/whisper-small"),
        ("from sentence_transformers import SentenceTransformer\nSentenceTransformer('all-MiniLM-L6-v2')",
         "sentence_transformers", "sentence_transformers.SentenceTransformer", "all-MiniLM-L6-v2"),
        ("from sentence_transformers import CrossEncoder\nCrossEncoder('cross-encoder/ms-marco-MiniLM-L-6-v2')",
         "sentence_transformers", "sentence_transformers.CrossEncoder", "cross-encoder/ms-marco-MiniLM-L-6-v2"),
        ("import whisper as w\nw.load_model('base')", "whisper", "whisper.load_model", "base"),
        ("from faster_whisper import WhisperModel\nWhisperModel('large-v3', device='cuda')",
         "faster_whisper", "faster_whisper.WhisperModel", "large-v3"),
        ("import torch\ntorch.hub.load('snakers4/silero-vad', 'silero_vad')", "torch", "torch.hub.load",
         "snakers4/silero-vad"),
        ("from torch.hub import load_state_dict_from_url as get\nget('https://e.org/w.pth')", "torch",
         "torch.hub.load_state_dict_from_url", "https://e.org/w.pth"),
        ("import timm\ntimm.create_model('resnet50', pretrained=True)", "timm", "timm.create_model", "resnet50"),
        ("from torchvision import models\nmodels.resnet50(weights='IMAGENET1K_V2')", "torchvision",
         "torchvision.models.resnet50", "resnet50"),
        ("import torchvision\ntorchvision.models.vgg16(pretrained=True)", "torchvision", "torchvision.models.vgg16",
         "vgg16"),
        ("import open_clip\nopen_clip.create_model_and_transforms('ViT-B-32', pretrained='laion2b_s34b_b79k')",
         "open_clip", "open_clip.create_model_and_transforms", "ViT-B-32"),
    ],
)
def test_model_loaders(code, library, call, model):
    (load,) = read(code).loads
    assert (load.library, load.call, load.model, load.remote) == (library, call, model, True)
    assert _text(code, load.span) == code.split("\n")[1]


@pytest.mark.parametrize(
    "code",
    [
        "import timm\ntimm.create_model('resnet50')",  # no pretrained weights
        "import timm\ntimm.create_model('resnet50', pretrained=False)",
        "from torchvision import models\nmodels.resnet50(weights=None)",
        "import open_clip\nopen_clip.create_model_and_transforms('ViT-B-32')",
        "import whisper\nwhisper.transcribe('a.wav')",  # not a loader
        "from transformers import AutoTokenizer\nAutoTokenizer.register(x)",
    ],
)
def test_calls_that_download_nothing_are_not_loads(code):
    assert read(code).loads == []


def test_local_paths_and_offline_loads_are_not_remote():
    code = (
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('/models/bert')\n"
        "AutoModel.from_pretrained('./bert')\n"
        "AutoModel.from_pretrained('org/bert', local_files_only=True)\n"
    )
    assert [(m.model, m.remote) for m in read(code).loads] == [
        ("/models/bert", False), ("./bert", False), ("org/bert", False)
    ]


def test_model_id_from_a_variable_or_the_environment():
    code = (
        "import os\n"
        "from transformers import pipeline\n"
        "from sentence_transformers import SentenceTransformer\n"
        "MODEL_ID = os.environ['MODEL_ID']\n"
        "SentenceTransformer(MODEL_ID, cache_folder='/cache/st')\n"
        "pipeline('asr', model=os.getenv('ASR_MODEL', 'openai/whisper-small'))\n"
        "pipeline('text-classification')\n"
    )
    loads = read(code).loads
    got = [(m.model, m.expr, m.variable, m.default, m.cache_dir, m.remote) for m in loads]
    assert got == [
        # read through the module constant: the variable is known, the value could be a path
        (None, "MODEL_ID", "MODEL_ID", None, "/cache/st", False),
        (None, "os.getenv('ASR_MODEL', 'openai/whisper-small')", "ASR_MODEL", "openai/whisper-small", None, True),
        (None, None, None, None, None, True),  # the task's default model
    ]


def test_unknown_class_from_pretrained_has_no_library():
    (load,) = read("model_cls.from_pretrained('org/m', cache_dir='/c')").loads
    assert (load.library, load.model, load.cache_dir, load.remote) == (None, "org/m", "/c", True)


def test_a_computed_cache_argument_is_kept_as_not_known():
    # ragflow deepdoc/vision/ocr.py: the directory is computed, and it is still not the default cache
    code = (
        "import os\n"
        "from huggingface_hub import hf_hub_download, snapshot_download\n"
        "snapshot_download('InfiniFlow/deepdoc', local_dir=os.path.join(base(), 'rag/res/deepdoc'))\n"
        "hf_hub_download('org/m', 'w.onnx', local_dir=target_dir)\n"
        "hf_hub_download('org/m', 'w.onnx', cache_dir='/c')\n"
        "hf_hub_download('org/m', 'w.onnx', cache_dir=None)\n"  # the default cache, as without it
    )
    got = [(m.cache_keyword, m.cache_dir, _text(code, m.cache_span) if m.cache_span else None)
           for m in read(code).loads]
    assert got == [
        ("local_dir", None, "os.path.join(base(), 'rag/res/deepdoc')"),
        ("local_dir", None, "target_dir"),
        ("cache_dir", "/c", "'/c'"),
        (None, None, None),
    ]


def test_repo_type_literal_computed_or_absent():
    code = (
        "from huggingface_hub import snapshot_download\n"
        "snapshot_download(repo_id='lerobot/libero-assets', repo_type='dataset', local_dir='/assets')\n"
        "snapshot_download('org/space', repo_type=kind)\n"
        "snapshot_download('org/m', repo_type=None)\n"
        "snapshot_download('org/m')\n"
    )
    assert [m.repo_type for m in read(code).loads] == ["dataset", "", None, None]


def test_offsets_are_characters_after_non_ascii_text():
    code = "# modèle: 🤗 çà\nimport whisper  # ünïcode\nx = 'é'; whisper.load_model('base')\r\nπ = 1; import os\n"
    facts = read(code)
    (load,) = facts.loads
    assert _text(code, load.span) == "whisper.load_model('base')"
    assert load.line == 3
    assert _text(code, facts.imports[1].span) == "import os"


def test_multi_line_call_span():
    code = "from transformers import AutoModel\nm = AutoModel.from_pretrained(\n    'org/ü',\n)\n"
    (load,) = read(code).loads
    assert _text(code, load.span) == "AutoModel.from_pretrained(\n    'org/ü',\n)"


def test_reading_imports_no_third_party_module_and_ast_only_when_read():
    probe = (
        "import sys\n"
        "import aicache_lint.python.read as r\n"
        "before = 'ast' in sys.modules\n"
        "r.read('import transformers')\n"
        "print(before, sorted(m for m in ('ast', 'libcst', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False ['ast']"


def test_a_file_that_loads_and_sets_nothing_is_read_for_its_imports_only():
    """The fast path (no loader name, no environment access in the text) finds the same imports,
    in the same order and scopes, as the full walk."""
    import ast
    from pathlib import Path

    from aicache_lint.python.read import MODULE, _aliases, _Reader

    root = Path(__file__).resolve().parent.parent
    texts = [p.read_text() for p in [*root.glob("src/aicache_lint/**/*.py"), *root.glob("examples/**/*.py")]]
    texts.append("import os, sys\nfrom . import util\ntry:\n    import numpy\nexcept ImportError:\n    pass\n"
                 "class A:\n    import json\n    def f(self):\n        from .x import y\n"
                 "if __name__ == '__main__':\n    import argparse\nmatch sys.argv:\n    case [a]:\n        import glob\n")
    for text in texts:
        tree = ast.parse(text)
        full, fast = _Reader(text, _aliases(tree)), _Reader(text, {})
        full.block(tree.body, MODULE)
        fast.imports_in(tree.body, MODULE)
        assert fast.imports == full.imports
    assert read("import os\nimport transformers\n").imports == read("import os\nimport transformers\n"
                                                                     "x = os.environ.get('A')\n").imports
