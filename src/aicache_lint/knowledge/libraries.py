"""Which Python libraries download models, and the variables that place their caches (DOMAIN §3).

Shared by the Dockerfile rules (AIC201/202/204/205), the Compose rules (AIC401/402) and the
workspace layer that tells which libraries an image installs.
"""

from __future__ import annotations

# Libraries that download from the Hugging Face Hub into HF_HOME (DOMAIN §3.1).
HF_LIBRARIES = frozenset(
    "transformers diffusers sentence-transformers huggingface-hub datasets peft optimum timm "
    "open-clip-torch faster-whisper whisperx vllm".split()
)
# Python modules whose loads (python/read.py ModelLoad.library) fill the Hugging Face hub cache.
HUB_CACHE_MODULES = frozenset(
    "transformers diffusers sentence_transformers huggingface_hub peft timm open_clip faster_whisper".split()
)
HF_CACHE_VARS = ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
# transformers 4.x's hub-cache variables (DOMAIN §3.2, trap 9): they name the HUB dir, not HF_HOME.
TRANSFORMERS_CACHE_VARS = ("TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE", "PYTORCH_PRETRAINED_BERT_CACHE")

# Libraries that download weights through torch.hub into TORCH_HOME.
TORCH_LIBRARIES = frozenset({"torch", "pytorch", "torchvision", "torchaudio", "timm"})
# Variables that make the torch cache location explicit: TORCH_HOME, or XDG_CACHE_HOME (torch
# then uses $XDG_CACHE_HOME/torch).
TORCH_CACHE_VARS = ("TORCH_HOME", "XDG_CACHE_HOME")

# Runtime model-cache variables a Compose service may set, each kept on its own volume (AIC401/402).
RUNTIME_CACHE_VARS = ("HF_HOME", "HF_HUB_CACHE", "SENTENCE_TRANSFORMERS_HOME", "TORCH_HOME", "OLLAMA_MODELS",
                      "VLLM_CACHE_ROOT", "XDG_CACHE_HOME")

# `huggingface-cli download` options that `hf download` accepts unchanged (AIC204, AIC205).
HF_DOWNLOAD_OPTIONS = frozenset(
    "--repo-type --revision --include --exclude --cache-dir --local-dir --force-download --token --max-workers".split()
)
