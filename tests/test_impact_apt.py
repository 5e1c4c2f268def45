"""apt packages in the rebuild model (impact/rebuild.py) are priced in the release of the image
their stage starts FROM: Ubuntu's rows for an Ubuntu base, the newest Debian's (an estimate) when
the base names no release."""

from __future__ import annotations

from pathlib import Path

from aicache_lint.impact.rebuild import rebuild
from aicache_lint.impact.sizes import BundledSizes
from aicache_lint.knowledge import sizes
from aicache_lint.workspace.index import Workspace

# the apt step of CUDA inference images (whisperx, ComfyUI and the like): ffmpeg and OpenCV's libgl1
APT = ("RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libgl1 \\\n"
       "    && rm -rf /var/lib/apt/lists/*\n")


def _apt_downloads(tmp_path: Path, dockerfile_text: str) -> dict[str, tuple[int | None, str | None]]:
    """what -> (bytes, source) of the apt downloads a base update makes the build fetch again."""
    (tmp_path / ".git").mkdir()
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(dockerfile_text)
    ws = Workspace([str(dockerfile)])
    _, facts = ws.linted_dockerfile(str(dockerfile))
    result = rebuild(ws, str(dockerfile), facts, facts.final_stage, "base", BundledSizes())
    return {d.what: (d.bytes, d.source) for d in result.downloads if d.what.startswith("apt: ")}


def test_a_cuda_ubuntu_image_is_priced_with_the_jammy_rows(tmp_path):
    found = _apt_downloads(tmp_path, "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n" + APT)
    ffmpeg = sizes.apt("ffmpeg", "jammy", with_deps=True)
    libgl1 = sizes.apt("libgl1", "jammy")
    assert found == {"apt: ffmpeg (with its dependencies)": (ffmpeg.bytes, ffmpeg.source),
                     "apt: libgl1": (libgl1.bytes, libgl1.source)}
    assert ffmpeg.exact and "archive.ubuntu.com/ubuntu/dists/jammy" in ffmpeg.source
    assert ffmpeg.bytes != sizes.apt("ffmpeg", with_deps=True).bytes  # not the Debian row any more


def test_a_later_stage_takes_the_release_of_the_image_its_first_stage_starts_from(tmp_path):
    found = _apt_downloads(tmp_path, (
        "ARG CUDA_VERSION=12.8.1\n"
        "FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-ubuntu24.04 AS base\n"
        "FROM base AS app\n" + APT))
    ffmpeg = sizes.apt("ffmpeg", "noble", with_deps=True)
    assert found["apt: ffmpeg (with its dependencies)"] == (ffmpeg.bytes, ffmpeg.source)
    assert "/dists/noble" in ffmpeg.source


def test_python_slim_keeps_the_newest_debian_row(tmp_path):
    found = _apt_downloads(tmp_path, "FROM python:3.12-slim\n" + APT)
    ffmpeg = sizes.apt("ffmpeg", with_deps=True)
    assert not ffmpeg.exact and ffmpeg.source.startswith("https://deb.debian.org/debian/dists/trixie/")
    assert found["apt: ffmpeg (with its dependencies)"] == (ffmpeg.bytes, ffmpeg.source)


def test_a_slim_image_that_names_its_debian_release_is_priced_with_it(tmp_path):
    found = _apt_downloads(tmp_path, "FROM python:3.12-slim-bookworm\n" + APT)
    ffmpeg = sizes.apt("ffmpeg", "bookworm", with_deps=True)
    assert ffmpeg.exact and found["apt: ffmpeg (with its dependencies)"] == (ffmpeg.bytes, ffmpeg.source)
