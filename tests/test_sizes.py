"""The size table (knowledge/sizes.py, data/sizes*.tsv) and the script that builds it
(scripts/refresh_sizes.py), the latter on answers recorded from PyPI and Debian (no network)."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aicache_lint.knowledge import sizes
from import_cost import SRC, imports_of

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "sizes"


def _script():
    spec = importlib.util.spec_from_file_location("refresh_sizes", ROOT / "scripts" / "refresh_sizes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


refresh = _script()


def _rows(kind=None):
    return [r for k, rows in sizes.table().items() if kind in (None, k) for r in rows]


def _wheel(filename):
    (row,) = [r for r in _rows("wheel") + _rows("sdist") if r.detail == filename]
    return row


# -- the shipped table ----------------------------------------------------------------------------

def test_the_shipped_table_has_every_kind():
    assert {"wheel", "wheels", "deb", "deb+deps", "image", "model"} <= set(sizes.table())


def test_every_row_has_a_positive_size_an_https_source_and_a_date():
    for row in _rows():
        assert row.bytes > 0, row
        assert row.source.startswith("https://"), row
        assert datetime.date.fromisoformat(row.date) <= datetime.date(2100, 1, 1), row


def test_a_row_with_a_missing_column_is_refused():
    with pytest.raises(ValueError, match="columns"):
        sizes.parse_table("kind\tname\nwheel\ttorch\t2.9.1\n")


def test_every_torch_total_is_the_sum_of_its_wheel_rows():
    totals = _rows("wheels")
    assert {r.name for r in totals} == {"torch"} and len(totals) >= 50
    for total in totals:
        parts = [_wheel(f) for f in total.detail.split()]
        assert parts[0].name == "torch" and parts[0].version == total.version
        assert all(p.platform in (total.platform, "any") for p in parts), total
        assert total.bytes == sum(p.bytes for p in parts), total


def test_a_cuda_torch_wheel_on_linux_amd64_pulls_the_nvidia_wheels():
    total = sizes.package("torch", "2.9.1", with_deps=True)
    alone = sizes.package("torch", "2.9.1")
    assert total.exact and total.bytes > 3 * alone.bytes
    assert "nvidia_cublas_cu12-12.8.4.1-" in total.what and "triton-3.5.1-" in total.what


# -- lookups --------------------------------------------------------------------------------------

def test_a_pinned_version_answers_its_own_wheel():
    size = sizes.package("torch", "2.9.1")
    assert size == sizes.package("Torch", "==2.9.1")
    assert size.exact and size.what == "torch-2.9.1-cp312-cp312-manylinux_2_28_x86_64.whl"
    assert size.bytes == _wheel(size.what).bytes and size.source == "https://pypi.org/simple/torch/"
    arm = sizes.package("torch", "2.9.1", platform="linux/arm64", python="cp311")
    assert arm.what == "torch-2.9.1-cp311-cp311-manylinux_2_28_aarch64.whl"


def test_without_a_version_the_newest_row_is_an_estimate():
    newest = max((r for r in _rows("wheel") if r.name == "torch"), key=lambda r: sizes._version_key(r.version))
    size = sizes.package("torch")
    assert not size.exact and f"torch {newest.version} " in size.what


def test_a_version_not_in_the_table_is_estimated_from_its_minor_release():
    size = sizes.package("torch", "2.9.0")
    assert size is not None and not size.exact and "torch 2.9.1 cp312" in size.what
    assert size.bytes == sizes.package("torch", "2.9.1").bytes


def test_a_pure_python_wheel_serves_every_platform():
    amd, arm = sizes.package("transformers"), sizes.package("transformers", platform="linux/arm64")
    assert amd == arm and "py3-none-any.whl" in amd.what


@pytest.mark.parametrize("args", [
    ("torch", "2.5.1+cu121"),  # a download.pytorch.org build: no sourced row
    ("torch", "2.5.1+cpu"),
    ("no-such-project", None),
])
def test_unknown_packages_answer_none(args):
    assert sizes.package(*args) is None


def test_only_torch_has_a_total_with_its_cuda_wheels():
    assert sizes.package("numpy", with_deps=True) is None
    assert sizes.package("numpy") is not None


def test_apt_sizes_by_release():
    bookworm = sizes.apt("ffmpeg", "bookworm")
    assert bookworm.exact and "(bookworm)" in bookworm.what
    assert sizes.apt("ffmpeg", "bookworm", with_deps=True).bytes > 20 * bookworm.bytes
    newest = sizes.apt("ffmpeg")
    assert not newest.exact and "(trixie)" in newest.what
    assert sizes.apt("ffmpeg", "focal") == newest  # a release without rows: the newest Debian's, an estimate
    assert sizes.apt("ffmpeg", "jammy", platform="linux/arm64") == sizes.apt("ffmpeg", platform="linux/arm64")
    assert sizes.apt("no-such-package") is None


@pytest.mark.parametrize("release, version", [("jammy", "22.04"), ("noble", "24.04")])
@pytest.mark.parametrize("name", ["ffmpeg", "git", "libgl1", "python3", "build-essential"])
def test_ubuntu_packages_have_their_own_rows(name, release, version):
    alone = sizes.apt(name, release)
    closure = sizes.apt(name, release, with_deps=True)
    assert alone.exact and closure.exact and f"({release})" in alone.what
    assert alone.source.startswith(f"https://archive.ubuntu.com/ubuntu/dists/{release}")
    assert alone.source.endswith("/binary-amd64/Packages.xz")
    assert closure.bytes >= alone.bytes and alone != sizes.apt(name, "trixie")
    (row,) = [r for r in _rows("deb+deps") if (r.name, r.variant) == (name, release)]
    assert row.detail.endswith(f"not in ubuntu:{version} (Depends, Pre-Depends; no Recommends)")


def test_ffmpeg_on_ubuntu_pulls_its_libraries_from_universe():
    for release in ("jammy", "noble"):
        ffmpeg = sizes.apt("ffmpeg", release, with_deps=True)
        assert "/universe/" in ffmpeg.source and ffmpeg.bytes > 50 * sizes.apt("ffmpeg", release).bytes


@pytest.mark.parametrize("reference, release", [
    ("nvidia/cuda:12.4.1-runtime-ubuntu22.04", "jammy"),
    ("nvcr.io/nvidia/cuda:12.8.1-cudnn-devel-ubuntu24.04@sha256:" + "0" * 64, "noble"),
    ("nvidia/cuda:11.8.0-devel-ubuntu20.04", "focal"),
    ("ubuntu:22.04", "jammy"), ("ubuntu:jammy", "jammy"), ("ubuntu:jammy-20240416", "jammy"),
    ("docker.io/library/ubuntu:24.04", "noble"), ("ubuntu:noble", "noble"),
    ("debian:bookworm-slim", "bookworm"), ("debian:bookworm", "bookworm"), ("debian:12-slim", "bookworm"),
    ("python:3.12-slim-bookworm", "bookworm"), ("python:3.11-trixie", "trixie"), ("golang:1.23-bookworm", "bookworm"),
    ("python:3.12-slim", None), ("python:3.12", None), ("ubuntu", None), ("ubuntu:latest", None),
    ("pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", None), ("node:22-alpine", None),
    ("nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04", None),  # not expanded: not known
    ("myorg/ubuntu:22.04", None),  # not the official image: its tag need not be a release
    ("scratch", None), (None, None),
])
def test_the_release_an_image_reference_names(reference, release):
    assert sizes.apt_release(reference) == release


def test_image_sizes_exact_estimated_or_unknown():
    exact = sizes.image("docker.io/nvidia/cuda:11.8.0-devel-ubuntu20.04")
    assert exact.exact and exact.bytes == 2_920_000_000
    other_patch = sizes.image("nvidia/cuda:11.8.1-devel-ubuntu22.04@sha256:" + "0" * 64)
    assert not other_patch.exact and other_patch.bytes == exact.bytes
    assert sizes.image("nvidia/cuda:11.8.0-runtime-ubuntu20.04") is None  # another flavor
    assert sizes.image("nvidia/cuda:11.8.0-cudnn8-devel-ubuntu20.04") is None
    assert sizes.image("nvidia/cuda:12.4.1-devel-ubuntu22.04") is None
    assert sizes.image("python:3.12-slim") is None


def test_an_image_other_than_nvidia_cuda_is_known_by_its_exact_tag_only():
    slim = sizes.image("node:22.23.4-slim")
    assert slim.exact and slim.bytes == 76_150_000 and slim.source.startswith("https://hub.docker.com/_/node/tags")
    arm = sizes.image("node:22.23.4-slim", platform="linux/arm64")
    assert arm.exact and arm.bytes == 76_180_000
    assert sizes.image("node:22-slim") is None  # the tag that moves: another digest by now
    assert sizes.image("node:22.23.4-alpine") is None  # not on the page read
    for spelled in ("docker.io/library/node:22.23.4-slim", "library/node:22.23.4-slim", "docker.io/node:22.23.4-slim"):
        assert sizes.image(spelled).bytes == slim.bytes, spelled  # Docker Hub's names for the same image


def test_image_rows_are_compressed_sizes_from_a_page_that_shows_them():
    for row in _rows("image"):
        assert row.variant == "compressed" and "compressed" in row.detail, row
        assert row.platform in ("linux/amd64", "linux/arm64"), row


def test_model_sizes():
    size = sizes.model("OpenAI/Whisper-Large-V3")
    assert size.exact and size.source.startswith("https://huggingface.co/openai/whisper-large-v3/")
    assert sizes.model("meta-llama/Meta-Llama-3-8B") is None
    ctranslate2 = sizes.model("Systran/faster-whisper-large-v3")
    assert ctranslate2.exact and ctranslate2.bytes == 3_090_000_000 and "(model.bin)" in ctranslate2.what


def test_every_model_row_names_the_files_it_counts_and_a_hub_page():
    for row in _rows("model"):
        assert row.variant.endswith((".safetensors", ".bin")), row
        assert row.source.startswith(f"https://huggingface.co/{row.name}/") or "Duplicate from" in row.detail, row


# -- start-up cost --------------------------------------------------------------------------------

def test_importing_the_module_is_cheap():
    found = imports_of("import aicache_lint.knowledge.sizes")
    found.assert_cheap()
    assert found.ours <= {"aicache_lint", "aicache_lint.knowledge", "aicache_lint.knowledge.sizes"}


def test_the_table_is_read_on_the_first_lookup_only():
    script = (
        "import builtins\n"
        "opened = []\n"
        "real = builtins.open\n"
        "def spy(path, *a, **k):\n"
        "    opened.append(str(path))\n"
        "    return real(path, *a, **k)\n"
        "builtins.open = spy\n"
        "from aicache_lint.knowledge import sizes\n"
        "print(sum('sizes' in p for p in opened))\n"
        "sizes.package('torch', '2.9.1'); sizes.apt('git'); sizes.model('x/y')\n"
        "print(sum('sizes' in p for p in opened))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": SRC},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "2"]  # nothing on import; both files once, for three lookups


# -- the refresh script, on recorded answers --------------------------------------------------------

def test_releases_and_the_wheel_pip_picks():
    files = refresh.releases(json.loads((DATA / "simple-torch.json").read_text()))
    assert sorted(files) == ["2.8.0", "2.9.0", "2.9.1"]
    assert refresh.pick_versions(list(files), 1) == ["2.9.1"]
    assert refresh.pick_versions(list(files), 2, ("2.9.0",)) == ["2.9.1", "2.8.0", "2.9.0"]
    assert refresh.pick_versions(["0.0.33.post1", "0.0.33", "0.0.34", "0.1.0"], 3) == ["0.1.0", "0.0.34", "0.0.33.post1"]
    amd = refresh.best_file(files["2.9.1"], "cp312", "x86_64")
    assert amd["filename"] == "torch-2.9.1-cp312-cp312-manylinux_2_28_x86_64.whl" and amd["size"] == 899742281
    assert refresh.best_file(files["2.9.1"], "cp312", "aarch64")["filename"].endswith("cp312-manylinux_2_28_aarch64.whl")
    assert refresh.best_file(files["2.9.1"], "cp310", "x86_64") is None  # no wheel, and no sdist to build


@pytest.mark.parametrize("filename, python, machine, ranked", [
    ("nvidia_nvtx-13.2.86-py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.whl", "cp312", "x86_64", True),
    ("triton-3.9.0-cp312-abi3-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "cp313", "x86_64", True),
    ("triton-3.9.0-cp312-abi3-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "cp311", "x86_64", False),
    ("cuda_toolkit-13.2.2-py2.py3-none-any.whl", "cp311", "aarch64", True),
    ("xformers-0.0.35-py39-none-manylinux_2_28_x86_64.whl", "cp312", "x86_64", True),
    ("xformers-0.0.35-py313-none-manylinux_2_28_x86_64.whl", "cp312", "x86_64", False),
    ("torch-2.9.1-cp312-cp312-win_amd64.whl", "cp312", "x86_64", False),
    ("numpy-2.3.0-cp312-cp312-musllinux_1_2_x86_64.whl", "cp312", "x86_64", False),
    ("flash_attn-2.8.3.tar.gz", "cp312", "x86_64", True),
])
def test_file_rank(filename, python, machine, ranked):
    assert (refresh.file_rank(filename, python, machine) is not None) == ranked


def test_a_specific_wheel_ranks_before_abi3_and_pure_python():
    ranks = [refresh.file_rank(f, "cp312", "x86_64") for f in (
        "x-1-cp312-cp312-manylinux_2_28_x86_64.whl", "x-1-cp312-cp312-manylinux_2_17_x86_64.whl",
        "x-1-cp39-abi3-manylinux_2_28_x86_64.whl", "x-1-py3-none-any.whl", "x-1.tar.gz")]
    assert ranks == sorted(ranks)


def test_torch_metadata_pins_the_cuda_wheels_on_linux_x86_64_only():
    reqs = [refresh.parse_requirement(r) for r in refresh.requires_dist((DATA / "torch-2.9.1.METADATA").read_text())]

    def pinned(machine):
        env = refresh.environment(machine, "cp312")
        return {name: spec for name, _, spec, marker in reqs if refresh.STACK.match(name)
                and refresh.marker_holds(marker, env)}

    amd = pinned("x86_64")
    assert amd["nvidia-cublas-cu12"] == "==12.8.4.1" and amd["triton"] == "==3.5.1" and len(amd) == 16
    assert pinned("aarch64") == {}
    extras = {name for name, _, _, marker in reqs if refresh.marker_holds(marker, refresh.environment("x86_64", "cp312", "optree"))}
    assert "optree" in extras and "optree" not in {n for n, _, _, m in reqs if refresh.marker_holds(m, refresh.environment("x86_64", "cp312"))}


@pytest.mark.parametrize("version, spec, ok", [
    ("13.4.1.3.1", "==13.4.1.3.*", True), ("13.4.2", "==13.4.1.3.*", False),
    ("3.9.2", "~=3.9.0", True), ("3.10.0", "~=3.9.0", False),
    ("2.1", "==2.1.0", True), ("12.9.86", ">=12.1,<13", True), ("1.0.0rc1", ">=0.9", False),
    ("3.12", ">=3.9", True), ("3.12", "<3.10", False),
])
def test_spec_matches(version, spec, ok):
    assert refresh.spec_matches(version, spec) is ok


@pytest.mark.parametrize("marker, machine, extra, holds", [
    ('platform_system == "Linux" and platform_machine == "x86_64"', "x86_64", "", True),
    ('platform_system == "Linux" and platform_machine == "x86_64"', "aarch64", "", False),
    ("(sys_platform == 'linux' and platform_machine == 'aarch64' or sys_platform == 'win32') and extra == 'all'",
     "aarch64", "all", True),
    ("(sys_platform == 'linux' and platform_machine == 'aarch64' or sys_platform == 'win32') and extra == 'all'",
     "aarch64", "", False),
    ('python_version < "3.15" and platform_system == "Linux"', "x86_64", "", True),
    ("'linux' in sys_platform", "x86_64", "", True),
    ('extra == "Opt_Einsum"', "x86_64", "opt-einsum", True),
])
def test_marker_holds(marker, machine, extra, holds):
    assert refresh.marker_holds(marker, refresh.environment(machine, "cp312", extra)) is holds


class _RecordedPyPI:
    """PyPI as the recorded answers show it: torch 2.9.1's metadata and two of its CUDA wheels."""

    def __init__(self):
        self.files = {"nvidia-cublas-cu12": {"12.8.4.1": [{"filename": "nvidia_cublas_cu12-12.8.4.1-py3-none-manylinux_2_27_x86_64.whl", "size": 594346921, "url": "u1"}]},
                      "triton": {"3.5.1": [{"filename": "triton-3.5.1-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "size": 170470207, "url": "u2"}],
                                 "3.5.0": [{"filename": "triton-3.5.0-cp312-cp312-manylinux_2_27_x86_64.whl", "size": 1, "url": "u3"}]}}

    def project(self, name):
        return self.files.get(name, {})

    def metadata(self, f):
        return (DATA / "torch-2.9.1.METADATA").read_text() if f["filename"].startswith("torch-") else ""


def test_the_closure_takes_the_pinned_release_and_reports_a_missing_one():
    pypi = _RecordedPyPI()
    root = {"filename": "torch-2.9.1-cp312-cp312-manylinux_2_28_x86_64.whl", "url": "u0"}
    with pytest.raises(LookupError, match="nvidia-cuda-nvrtc-cu12==12.8.93"):
        refresh.stack_closure(pypi, root, "cp312", "x86_64")
    assert refresh.stack_closure(pypi, root, "cp312", "aarch64") == []
    reqs = [r for r in refresh.requires_dist(pypi.metadata(root)) if r.startswith(("nvidia-cublas", "triton"))]
    pypi.metadata = lambda f: "\n".join(f"Requires-Dist: {r}" for r in reqs) if f is root else ""
    found = refresh.stack_closure(pypi, root, "cp312", "x86_64")
    assert [(n, v, f["size"]) for n, v, f in found] == [("nvidia-cublas-cu12", "12.8.4.1", 594346921),
                                                        ("triton", "3.5.1", 170470207)]


def test_debian_closure_leaves_out_what_the_base_has():
    index = refresh.parse_packages((DATA / "Packages-bookworm-amd64").read_text())
    assert index["libsm6"]["Size"] == "35108" and index["libgcc-s1"]["Provides"].startswith("libgcc1")
    needs = refresh.deb_closure(["libsm6"], index)
    assert needs == {"libsm6", "libice6", "x11-common", "lsb-base", "libuuid1", "libc6", "libgcc-s1",
                     "gcc-12-base", "libbsd0", "libmd0"}
    base = refresh.deb_closure(["libc6"], index)
    assert needs - base == {"libsm6", "libice6", "x11-common", "lsb-base", "libuuid1", "libbsd0", "libmd0"}


def test_debian_closure_takes_the_first_installable_alternative_or_a_provider():
    index = refresh.parse_packages(
        "Package: a\nDepends: missing | b, virtual (>= 1)\nSize: 1\n\n"
        "Package: b\nSize: 2\n\nPackage: c\nProvides: virtual (= 2)\nSize: 3\n\nPackage: d\nSize: 4\n")
    assert refresh.deb_closure(["a"], index) == {"a", "b", "c"}


def test_the_table_round_trips_and_changes_are_listed():
    rows = [("wheel", "torch", "2.9.1", "linux/amd64", "cp312", "5", "https://pypi.org/simple/torch/", "2026-12-06", "f"),
            ("deb", "git", "1", "linux/amd64", "trixie", "7", "https://deb.debian.org/x", "2026-12-06", "d")]
    text = refresh.dump(rows)
    assert sorted(refresh.load(text)) == sorted(rows)
    assert [r.bytes for r in sizes.parse_table(text)] == [7, 5]
    changed = [rows[0][:5] + ("6",) + rows[0][6:], rows[1]]
    assert refresh.changes(rows, changed) == ["~ wheel torch 2.9.1 linux/amd64 cp312 5 -> 6"]


def test_a_dependency_the_image_already_meets_is_not_pulled_again():
    """`awk` is met by the base's mawk (Priority: required), not by gawk, the first provider listed."""
    index = refresh.parse_packages(
        "Package: gawk\nProvides: awk\nSize: 5\n\nPackage: mawk\nPriority: required\nProvides: awk\nSize: 1\n\n"
        "Package: tool\nDepends: awk, gawk | mawk\nSize: 2\n")
    assert refresh.deb_closure(["tool"], index) == {"tool", "gawk"}
    assert refresh.deb_closure(["tool"], index, frozenset({"mawk"})) == {"tool", "mawk"}


class _RecordedUbuntu:
    """archive.ubuntu.com as a few recorded stanzas: jammy, its -security and -updates pockets."""

    STANZAS = {
        "jammy/main": "Package: libc6\nPriority: required\nVersion: 2.35-0ubuntu3\nSize: 3000\n\n"
                      "Package: mawk\nPriority: required\nProvides: awk\nVersion: 1.3.4\nSize: 100\n\n"
                      "Package: apt\nVersion: 2.4.5\nDepends: libc6\nSize: 1300\n\n"
                      "Package: git\nVersion: 1:2.34.1-1ubuntu1\nDepends: libc6, git-man, awk\nSize: 3100\n\n"
                      "Package: git-man\nVersion: 1:2.34.1-1ubuntu1\nSize: 950\n",
        "jammy/universe": "Package: gawk\nProvides: awk\nVersion: 1:5.1.0\nSize: 450\n\n"
                          "Package: ffmpeg\nVersion: 7:4.4.1-3ubuntu5\nDepends: libc6, libavcodec58\nSize: 1700\n\n"
                          "Package: libavcodec58\nVersion: 7:4.4.1-3ubuntu5\nSize: 5000\n",
        "jammy-security/main": "Package: git\nVersion: 1:2.34.1-1ubuntu1.10\nDepends: libc6, git-man, awk\nSize: 3150\n",
        "jammy-updates/main": "Package: git\nVersion: 1:2.34.1-1ubuntu1.11\nDepends: libc6, git-man, awk\nSize: 3176\n",
        "jammy-security/universe": "", "jammy-updates/universe": "",
    }

    def get(self, url):
        import lzma

        dist = url.split("/dists/")[1].rsplit("/binary-", 1)[0]
        return lzma.compress(self.STANZAS[dist].encode())


def test_ubuntu_rows_take_the_newest_pocket_and_leave_out_what_ubuntu_holds(monkeypatch):
    monkeypatch.setattr(refresh, "UBUNTU", {"jammy": "22.04"})
    rows = {(r[0], r[1]): r for r in refresh.ubuntu_rows(_RecordedUbuntu(), "2026-12-06", lambda _: None)}
    assert {name for _, name in rows} == {"git", "ffmpeg"}  # the packages of APT that the index holds
    kind, name, version, platform, release, size, source, date, detail = rows[("deb", "git")]
    assert (version, platform, release, size) == ("1:2.34.1-1ubuntu1.11", "linux/amd64", "jammy", "3176")
    assert source == "https://archive.ubuntu.com/ubuntu/dists/jammy-updates/main/binary-amd64/Packages.xz"
    # git + git-man; libc6 and awk (mawk) are in ubuntu:22.04
    assert rows[("deb+deps", "git")][5] == str(3176 + 950) and rows[("deb+deps", "git")][8].startswith("2 packages not in ubuntu:22.04")
    ffmpeg = rows[("deb+deps", "ffmpeg")]
    assert ffmpeg[5] == str(1700 + 5000) and "/jammy/universe/" in ffmpeg[6]
