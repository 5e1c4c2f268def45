"""The environment variables Python libraries read, and when: the deprecated Hugging Face cache
variables and their replacement (DOMAIN §3.1, §3.2), and the cache variables a library reads once,
when it is imported (setting them later changes nothing for it).

Sources (read from the libraries' own code):
- huggingface_hub ``constants.py`` (v0.x to 2.4.0) computes ``HF_HOME`` (from ``XDG_CACHE_HOME``
  when unset), ``HF_HUB_CACHE`` / ``HUGGINGFACE_HUB_CACHE``, ``HF_ASSETS_CACHE``, ``HF_XET_CACHE``,
  ``HF_TOKEN_PATH``, ``ENDPOINT`` (``HF_ENDPOINT``) and ``HF_HUB_OFFLINE`` (or
  ``TRANSFORMERS_OFFLINE``) at module level. Its ``__init__.py`` loads submodules lazily
  (``_attach`` / ``__getattr__``): a bare ``import huggingface_hub`` reads nothing; ``from
  huggingface_hub import x`` loads the submodule defining ``x``, which imports ``constants``.
- transformers ``__init__.py`` imports ``.utils``, whose ``__init__`` imports ``.hub``:
  ``utils/hub.py`` reads ``huggingface_hub.constants`` and (4.x) ``TRANSFORMERS_CACHE``,
  ``PYTORCH_TRANSFORMERS_CACHE``, ``PYTORCH_PRETRAINED_BERT_CACHE`` and ``HF_MODULES_CACHE``.
- diffusers ``utils/constants.py`` (imported by ``diffusers/__init__`` through ``.utils``) imports
  ``huggingface_hub.constants`` and reads ``HF_MODULES_CACHE``.
- datasets ``__init__`` imports ``arrow_dataset``, which imports ``huggingface_hub`` and
  ``datasets.config``; ``config.py`` reads ``HF_HOME``, ``XDG_CACHE_HOME``, ``HF_DATASETS_CACHE``,
  ``HF_DATASETS_OFFLINE`` and ``HF_MODULES_CACHE``.
- sentence-transformers (``base/model.py``, imported by its ``__init__``) and peft (``auto.py``)
  import transformers. sentence-transformers reads ``SENTENCE_TRANSFORMERS_HOME`` only when a model
  is created (``base/model.py``, ``os.getenv`` in ``__init__``), so it may be set after the import.
- torch reads ``TORCH_HOME`` only when a hub function runs (``torch/hub.py`` ``_get_torch_home``
  called by ``get_dir``): never at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aicache_lint.python.read import Import

# Deprecated name -> its replacement. The transformers variables name the hub cache directory
# (the one holding `models--org--name`), so their equivalent is `HF_HUB_CACHE`, not `HF_HOME`.
TRANSFORMERS_CACHE_VARIABLES = ("TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE", "PYTORCH_PRETRAINED_BERT_CACHE")
DEPRECATED_CACHE_VARIABLES = {
    **{name: "HF_HUB_CACHE" for name in TRANSFORMERS_CACHE_VARIABLES},
    "HUGGINGFACE_HUB_CACHE": "HF_HUB_CACHE",
}

_HUB = frozenset({
    "HF_HOME", "XDG_CACHE_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ASSETS_CACHE", "HF_XET_CACHE",
    "HF_TOKEN_PATH", "HF_ENDPOINT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
})
_TRANSFORMERS = _HUB | {"HF_MODULES_CACHE", *TRANSFORMERS_CACHE_VARIABLES}
# Library (top-level package) -> the cache variables importing it reads.
READ_AT_IMPORT: dict[str, frozenset[str]] = {
    "huggingface_hub": _HUB,
    "transformers": _TRANSFORMERS,
    "sentence_transformers": _TRANSFORMERS,
    "peft": _TRANSFORMERS,
    "diffusers": _HUB | {"HF_MODULES_CACHE"},
    "datasets": _HUB | {"HF_DATASETS_CACHE", "HF_DATASETS_OFFLINE", "HF_MODULES_CACHE"},
}
# Packages whose bare `import pkg` loads no submodule (huggingface_hub's lazy `__init__`).
_LAZY = frozenset({"huggingface_hub"})


def libraries_reading(variable: str) -> frozenset[str]:
    """The libraries that read ``variable`` when they are imported."""
    return frozenset(lib for lib, names in READ_AT_IMPORT.items() if variable in names)


def loaded_libraries(imp: "Import") -> tuple[str, ...]:
    """The libraries of ``READ_AT_IMPORT`` an import statement makes Python run: its own top-level
    package (an absolute import), unless that package loads nothing until an attribute is used."""
    if imp.relative or not imp.module:
        return ()
    top = imp.module.split(".", 1)[0]
    if top not in READ_AT_IMPORT:
        return ()
    if top in _LAZY and imp.module == top and not imp.names:
        return ()  # `import huggingface_hub`: its constants load with the first attribute used
    return (top,)
