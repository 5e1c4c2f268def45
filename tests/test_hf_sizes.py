"""Model sizes from the Hugging Face Hub's model API (registry/hf.py, RegistryClient.model_info,
Resolver.model_size, BundledSizes.model), asked only with --resolve-images; a fake Hub on
127.0.0.1 answers (huggingface.co is never asked)."""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from cli_runner import base_update
from registry_server import mirrored_project, serving

from aicache_lint.impact.sizes import BundledSizes
from aicache_lint.registry import resolver as resolver_module
from aicache_lint.registry.cache import DiskCache
from aicache_lint.registry.client import HF, NotFound, RegistryClient, RegistryError
from aicache_lint.registry.hf import load_size, snapshot_size
from aicache_lint.registry.resolver import Resolver

OFFLINE = "; continuing with what aicache-lint knows offline"


def _info(repo: str, files: dict[str, int], lfs_only: tuple[str, ...] = ()) -> dict:
    """A model API answer as `?blobs=true` gives it: LFS files carry `lfs.size` as well."""
    siblings = []
    for name, size in files.items():
        entry: dict = {"rfilename": name, "blobId": "0" * 40}
        if size > 10_000_000:
            entry["lfs"] = {"sha256": "a" * 64, "size": size, "pointerSize": 135}
        if name not in lfs_only:
            entry["size"] = size
        siblings.append(entry)
    return {"_id": "x", "id": repo, "modelId": repo, "sha": "b" * 40, "private": False, "gated": False,
            "siblings": siblings}


# a Llama-style repository: sharded safetensors with their index, the same weights as .bin shards,
# an ONNX export, a Flax copy and an fp16 variant nobody loads by default
SHARDED = _info("org/sharded", {
    ".gitattributes": 1519, "README.md": 5000, "config.json": 700, "tokenizer.json": 9_000_000,
    "model-00001-of-00002.safetensors": 4_976_698_672, "model-00002-of-00002.safetensors": 2_669_578_440,
    "model.safetensors.index.json": 23_950,
    "pytorch_model-00001-of-00002.bin": 4_976_718_466, "pytorch_model-00002-of-00002.bin": 2_669_586_008,
    "pytorch_model.bin.index.json": 23_950,
    "onnx/model.onnx": 1_200_000, "onnx/model.onnx_data": 7_600_000_000,
    "flax_model.msgpack": 7_646_000_000, "model.fp16.safetensors": 3_823_000_000,
}, lfs_only=("model-00002-of-00002.safetensors",))
SHARDED_WEIGHTS = 4_976_698_672 + 2_669_578_440 + 23_950

BIN_ONLY = _info("org/old-bert", {
    "config.json": 570, "vocab.txt": 231_508, "pytorch_model.bin": 440_473_133, "tf_model.h5": 536_063_208,
    "rust_model.ot": 534_240_408,
})

DIFFUSERS = _info("org/pipe", {
    "model_index.json": 541, "v1-5-pruned.ckpt": 7_703_807_346,
    "unet/config.json": 743, "unet/diffusion_pytorch_model.safetensors": 3_438_167_536,
    "unet/diffusion_pytorch_model.bin": 3_438_375_973, "unet/diffusion_pytorch_model.fp16.safetensors": 1_719_125_304,
    "vae/config.json": 547, "vae/diffusion_pytorch_model.safetensors": 334_643_268,
    "text_encoder/config.json": 617, "text_encoder/model.safetensors": 492_265_168,
    "tokenizer/vocab.json": 1_059_962,
})


def test_a_library_load_takes_the_safetensors_shards_and_their_index():
    assert load_size(SHARDED) == (SHARDED_WEIGHTS, "2 weight files (model-00001-of-00002.safetensors ...)")
    assert snapshot_size(SHARDED) == (sum(s.get("size") or s["lfs"]["size"] for s in SHARDED["siblings"]),
                                      "all 14 files")


def test_the_pytorch_weights_when_there_are_no_safetensors():
    assert load_size(BIN_ONLY) == (440_473_133, "pytorch_model.bin")  # not the TF or rust copies


def test_the_one_file_before_shards_and_diffusers_components():
    one = _info("org/m", {"model.safetensors": 500_000_000, "model-00001-of-00002.safetensors": 300_000_000,
                          "model-00002-of-00002.safetensors": 200_000_000, "model.safetensors.index.json": 900})
    assert load_size(one) == (500_000_000, "model.safetensors")
    # each component's safetensors (not the .bin copy, the fp16 variant or the root's single checkpoint)
    assert load_size(DIFFUSERS)[0] == 3_438_167_536 + 334_643_268 + 492_265_168


def test_no_answer_when_the_weights_or_the_sizes_are_not_known():
    gguf = _info("org/m-GGUF", {"README.md": 100, "m.Q4_K_M.gguf": 4_920_000_000})
    assert load_size(gguf) is None
    assert snapshot_size(gguf) == (4_920_000_100, "all 2 files")
    without_blobs = {"siblings": [{"rfilename": "model.safetensors"}]}  # asked without ?blobs=true
    assert load_size(without_blobs) is None and snapshot_size(without_blobs) is None
    assert snapshot_size({"siblings": []}) is None and snapshot_size({}) is None


# -- a fake Hub ---------------------------------------------------------------------------------


class _Hub(BaseHTTPRequestHandler):
    models: dict[str, dict] = {}
    asked: list[str] = []
    status = 0  # answer every question with this status (0: answer normally)

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.asked.append(self.path)
        prefix = "/api/models/"
        path, _, query = self.path.partition("?")
        repo = path[len(prefix):].split("/revision/")[0] if path.startswith(prefix) else None
        info = self.models.get(repo) if repo and query == "blobs=true" else None
        status = self.status or (200 if info else 401 if repo else 404)  # the Hub: 401 for a missing repo
        body = json.dumps(info).encode() if status == 200 else b'{"error": "Repository not found"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("AICACHE_LINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    resolver_module.reset()
    _Hub.models, _Hub.asked, _Hub.status = {"org/sharded": SHARDED, "org/old-bert": BIN_ONLY}, [], 0
    with serving(_Hub) as url:
        yield url
    resolver_module.reset()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_client_asks_the_model_api_with_blobs(hub):
    client = RegistryClient(timeout=2, mirrors={HF: hub + "/"})
    assert client.model_info("org/sharded") == SHARDED
    assert client.model_info("org/sharded", "v1.0/x") == SHARDED
    assert _Hub.asked == ["/api/models/org/sharded?blobs=true", "/api/models/org/sharded/revision/v1.0%2Fx?blobs=true"]
    with pytest.raises(NotFound, match=r"shows no model org/gated \(HTTP 401"):
        client.model_info("org/gated")
    _Hub.status = 503
    with pytest.raises(RegistryError, match="answered HTTP 503 for org/sharded") as failed:
        client.model_info("org/sharded")
    assert not isinstance(failed.value, NotFound)


def test_the_hub_endpoint_variable_and_a_mirror_entry(monkeypatch):
    assert RegistryClient().model_api("a/b") == "https://huggingface.co/api/models/a/b"
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example/")
    assert RegistryClient().model_api("a/b", "main") == "https://hf-mirror.example/api/models/a/b/revision/main"
    assert RegistryClient(mirrors={HF: "http://own"}).model_api("a/b") == "http://own/api/models/a/b"  # the entry wins


def test_the_client_is_down(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    client = RegistryClient(timeout=2, mirrors={HF: f"http://127.0.0.1:{_closed_port()}"})
    with pytest.raises(RegistryError, match=r"^cannot reach huggingface.co .* \(asked through the mirror"):
        client.model_info("org/sharded")


def _resolver(url: str, cache: Path) -> Resolver:
    return Resolver(RegistryClient(timeout=2, mirrors={HF: url}), DiskCache(str(cache)), git_timeout=10)


def test_the_resolver_caches_the_two_sizes(hub, tmp_path):
    resolver = _resolver(hub, tmp_path / "cache")
    assert resolver.model_size("org/sharded", whole=False) == (
        SHARDED_WEIGHTS, f"{hub}/api/models/org/sharded", "org/sharded: 2 weight files (model-00001-of-00002.safetensors ...)")
    assert resolver.model_size("org/sharded", whole=True)[0] == snapshot_size(SHARDED)[0]
    assert len(_Hub.asked) == 1  # one question gives both answers
    again = _resolver(hub, tmp_path / "cache")  # another run: the disk cache
    assert again.model_size("Org/Sharded", whole=False)[0] == SHARDED_WEIGHTS
    cached = json.loads(Path(again.cache.path("hf org/sharded")).read_text())
    assert "siblings" not in json.dumps(cached)  # the sizes, not the Hub's JSON
    assert resolver.model_size("org/gated", whole=True) is None  # a definite no, cached too
    assert _resolver(hub, tmp_path / "cache").model_size("org/gated", whole=True) is None
    assert resolver.model_size("${MODEL}", whole=True) is None  # not a repository id: not asked
    assert len(_Hub.asked) == 2
    assert resolver.take_notices() == []


def test_a_bad_cached_answer_is_asked_again(hub, tmp_path):
    resolver = _resolver(hub, tmp_path / "cache")
    resolver.cache.put("hf org/old-bert", {"whole": [-1, "all 1 files"], "load": None})
    assert resolver.model_size("org/old-bert", whole=False)[0] == 440_473_133
    [problem] = resolver.take_notices()
    assert problem.startswith("ignoring the corrupt cache file") and len(_Hub.asked) == 1


def test_the_resolver_offline_asks_once_and_says_so_once(tmp_path):
    resolver = _resolver(f"http://127.0.0.1:{_closed_port()}", tmp_path / "cache")
    assert resolver.model_size("org/sharded", whole=False) is None
    assert resolver.model_size("org/old-bert", whole=True) is None
    [notice] = resolver.take_notices()
    assert notice.startswith("cannot reach huggingface.co") and notice.endswith(OFFLINE)


def test_bundled_sizes_asks_the_hub_only_for_what_the_table_lacks(hub, tmp_path):
    sizes = BundledSizes(_resolver(hub, tmp_path / "cache"))
    table = BundledSizes().model("openai/whisper-small")
    assert sizes.model("openai/whisper-small") == table and _Hub.asked == []  # the table's own row
    found = sizes.model("org/old-bert")
    assert (found.bytes, found.exact, found.what) == (440_473_133, True, "org/old-bert: pytorch_model.bin")
    assert sizes.model("org/old-bert", whole=True).bytes == 440_473_133 + 536_063_208 + 534_240_408 + 570 + 231_508
    # the whole repository is not what the table's row counts: the Hub is asked, the row is the fallback
    _Hub.models["openai/whisper-small"] = _info("openai/whisper-small", {"model.safetensors": 967_000_000,
                                                                        "pytorch_model.bin": 967_100_000})
    assert sizes.model("openai/whisper-small", whole=True).bytes == 1_934_100_000
    offline = BundledSizes(_resolver(f"http://127.0.0.1:{_closed_port()}", tmp_path / "other"))
    assert offline.model("openai/whisper-small", whole=True) == table
    assert offline.model("org/unknown") is None


def _project(tmp_path: Path, url: str) -> Path:
    # docker.io too: the base's size is asked of it, and this server knows no image (404, at once)
    return mirrored_project(tmp_path, {"huggingface.co": url, "docker.io": url},
                            "FROM python:3.12-slim\nRUN hf download org/sharded --local-dir /models/m\n")


def test_impact_sizes_a_model_the_table_lacks_from_the_hub(tmp_path, hub):
    project = _project(tmp_path, hub)
    before, after = base_update(project), base_update(project, "--resolve-images")
    # `hf download org/sharded` with no file names fetches the whole repository
    assert after["bytes"] == before["bytes"] + snapshot_size(SHARDED)[0] and after["unknown"] == before["unknown"] - 1
    assert [p for p in _Hub.asked if p.startswith("/api/")] == ["/api/models/org/sharded?blobs=true"]
    _Hub.status = 500  # a second run reads the disk cache; the Hub is not asked again
    resolver_module.reset()
    assert base_update(project, "--resolve-images") == after
    assert len([p for p in _Hub.asked if p.startswith("/api/")]) == 1


def test_impact_with_the_hub_down_keeps_the_table(tmp_path, hub):
    project = _project(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    assert base_update(project, "--resolve-images") == base_update(project)  # exit code 0 too
