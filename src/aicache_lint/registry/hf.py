"""What downloading a Hugging Face model repository fetches, read from the Hub's model API
(``GET /api/models/<repo>?blobs=true``, or ``/revision/<rev>``: huggingface_hub's
``HfApi.model_info(files_metadata=True)``). Its ``siblings`` list every file as ``rfilename`` with
``size`` (``lfs.size`` for files kept in LFS).

Two answers:

- ``snapshot_size``: the whole repository, every sibling. ``hf download REPO`` with no file names
  or patterns, like ``snapshot_download``, fetches them all (huggingface.co/docs/huggingface_hub/
  guides/download, "Download an entire repository").
- ``load_size``: the weights a library load takes. transformers' ``from_pretrained`` asks for
  ``model.safetensors``, then ``model.safetensors.index.json`` (and the shards it names), then
  ``pytorch_model.bin``, then ``pytorch_model.bin.index.json``; TensorFlow, Flax, ONNX, OpenVINO,
  rust (``*.ot``) copies and ``model.fp16.safetensors``-style variants are never taken without
  options asking for them (transformers ``modeling_utils._get_resolved_checkpoint_files``;
  ``utils/constants``: ``SAFE_WEIGHTS_NAME``, ``WEIGHTS_NAME``...). A diffusers repository (a
  ``model_index.json`` at its root) is loaded from its component folders, each with
  ``diffusion_pytorch_model.safetensors`` (or a transformers component's names), safetensors before
  ``.bin`` the same way (huggingface.co/docs/diffusers/using-diffusers/loading).

Approximations, said here once: the shards counted are the siblings named like
``model-00001-of-00004.safetensors`` (the index's ``weight_map`` names the same files on every
repository seen, but it is not read); config, tokenizer and other small files are not counted (kB to
tens of MB beside gigabytes of weights); diffusers' component list is every first-level folder
holding weights (``model_index.json`` itself is not read). A repository whose weights are in none
of these names (GGUF, ``*.pt`` checkpoints of other libraries) has no ``load_size``.
"""

from __future__ import annotations

import posixpath
import re

_SHARD = r"(?:-\d{5}-of-\d{5})?"
# Per folder, in transformers' order of preference: safetensors (one file or shards with their
# index), else the pickled PyTorch weights the same way.
_WEIGHTS = (
    re.compile(rf"^(?:model|diffusion_pytorch_model){_SHARD}\.safetensors(?:\.index\.json)?$"),
    re.compile(rf"^(?:pytorch_model|diffusion_pytorch_model){_SHARD}\.bin(?:\.index\.json)?$"),
)
_INDEXES = (".safetensors.index.json", ".bin.index.json")
_SHARDED = re.compile(r"-\d{5}-of-\d{5}\.")


def _file_sizes(info: dict) -> dict[str, int] | None:
    """``rfilename`` -> bytes of every sibling; None when one has no size (the answer was asked
    without ``blobs=true``) or the JSON has no list of files."""
    siblings = info.get("siblings")
    if not isinstance(siblings, list):
        return None
    out: dict[str, int] = {}
    for entry in siblings:
        if not isinstance(entry, dict) or not isinstance(entry.get("rfilename"), str):
            return None
        lfs = entry.get("lfs")
        size = entry.get("size")
        if not isinstance(size, int) and isinstance(lfs, dict):
            size = lfs.get("size")
        if not isinstance(size, int) or size < 0:
            return None
        out[entry["rfilename"]] = size
    return out


def snapshot_size(info: dict) -> tuple[int, str] | None:
    """(bytes, what) of every file of the repository (``hf download REPO``, ``snapshot_download``)."""
    files = _file_sizes(info)
    if not files:
        return None
    return sum(files.values()), f"all {len(files)} files"


def load_size(info: dict) -> tuple[int, str] | None:
    """(bytes, what) of the weights a transformers or diffusers ``from_pretrained`` with default
    options downloads; None when the repository has none of the weight names it asks for."""
    files = _file_sizes(info)
    if files is None:
        return None
    folders = [""]
    if "model_index.json" in files:  # diffusers: one folder per component
        folders = sorted({name.split("/", 1)[0] for name in files if name.count("/") == 1})
    chosen: list[str] = []
    for folder in folders:
        for pattern in _WEIGHTS:
            names = [n for n in files if posixpath.dirname(n) == folder and pattern.match(posixpath.basename(n))]
            single = [n for n in names if not _SHARDED.search(n) and not n.endswith(_INDEXES)]
            if single or any(not n.endswith(_INDEXES) for n in names):
                chosen += single or names  # the one file is asked for before the index of shards
                break
    if not chosen:
        return None
    weights = sorted(n for n in chosen if not n.endswith(_INDEXES))
    what = weights[0] if len(weights) == 1 else f"{len(weights)} weight files ({weights[0]} ...)"
    return sum(files[n] for n in chosen), what
