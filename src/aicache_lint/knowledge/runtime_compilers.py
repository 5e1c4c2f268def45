"""Python libraries that compile GPU code when the program runs, so the image that runs them needs
the CUDA toolkit of an `nvidia/cuda` `devel` image (`nvcc`, headers), unless the kernels were built
when the library was installed.

Listed only with a source (checked 2026-12):

- DeepSpeed builds its C++/CUDA ops just-in-time with torch's extension loader (ninja, `nvcc`)
  unless `DS_BUILD_OPS=1` is set when `pip install deepspeed` or `install.sh` runs; per-op
  `DS_BUILD_<OP>=1` pre-builds only that op. On Linux `DS_BUILD_OPS` defaults to 0.
  https://www.deepspeed.ai/tutorials/advanced-install/ ; `setup.py` of deepspeedai/DeepSpeed
  (`BUILD_OP_PLATFORM = 1 if sys.platform == "win32" else 0`).
- FlashInfer (`flashinfer-python`) compiles or downloads its kernels on first use; the optional
  `flashinfer-cubin` and `flashinfer-jit-cache` packages pre-compile "most" of them, and vLLM keeps
  a `devel` final image even with FlashInfer's ahead-of-time build ("there's still some issues
  w.r.t. JIT compilation", vllm-project/vllm `docker/Dockerfile`).
  https://docs.flashinfer.ai/installation.html
- gsplat installed from PyPI builds its CUDA code on the first run (installed from its Git
  repository it builds at install instead). https://github.com/nerfstudio-project/gsplat#installation
- CuPy compiles its kernels with NVRTC at run time and, from CUDA 12.2 on, needs the toolkit's
  headers for that. https://docs.cupy.dev/en/stable/install.html (FAQ "CuPy always raises
  NVRTC_ERROR_COMPILATION (6)"); cupy/cupy#9295.

Code of the image's own that calls `torch.utils.cpp_extension.load()` or `load_inline()` compiles
at run time too (it needs `nvcc` for CUDA sources: https://pytorch.org/docs/stable/cpp_extension.html),
as the libraries above do; a Dockerfile does not show it.

Not listed, and why:

- Triton (and `torch.compile`, which uses it) bundles `ptxas` and the CUDA headers it needs and
  only wants a host C compiler at run time: a `runtime` image plus `gcc` (triton-lang/triton#1100,
  pytorch/pytorch#170235).
- flash-attn, xformers, apex, causal-conv1d, mamba-ssm compile when installed from source (or come
  as pre-built wheels), not when they run: `devel` belongs in a builder stage.
- numba's CUDA target needs NVVM from the toolkit, but most images install numba for the CPU
  (librosa depends on it): installing it says nothing about the GPU.
- bitsandbytes, JAX, TensorRT-LLM: no source found that they need the system toolkit at run time.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class RuntimeCompiler(NamedTuple):
    name: str  # as its documentation writes it
    packages: re.Pattern[str]  # the distribution names that install it, PEP 503-normalised
    repositories: frozenset[str]  # `host/owner/repo`, lower case: a source install of it
    prebuild: str | None = None  # set to a non-zero integer at install, it pre-builds every kernel
    what: str = "kernels"  # what it compiles


RUNTIME_COMPILERS = (
    RuntimeCompiler("DeepSpeed", re.compile(r"deepspeed"),
                    frozenset({"github.com/microsoft/deepspeed", "github.com/deepspeedai/deepspeed"}),
                    prebuild="DS_BUILD_OPS", what="ops"),
    RuntimeCompiler("FlashInfer", re.compile(r"flashinfer-python"), frozenset({"github.com/flashinfer-ai/flashinfer"})),
    RuntimeCompiler("gsplat", re.compile(r"gsplat"), frozenset()),
    RuntimeCompiler("CuPy", re.compile(r"cupy(-cuda\d+x?)?"), frozenset({"github.com/cupy/cupy"})),
)

# `git+https://github.com/o/r.git@rev#egg=...`, `https://github.com/o/r`, `git@github.com:o/r.git`
_REPOSITORY = re.compile(r"(?:[a-z+]+://(?:[^@/]+@)?|git@)(?P<host>[^/:]+)[/:](?P<owner>[^/]+)/(?P<repo>[^/@#?]+)")


def by_package(name: str) -> RuntimeCompiler | None:
    """The library a distribution installs; ``name`` is PEP 503-normalised (`cupy-cuda12x`).

    An extra named after a library installs it too (`accelerate[deepspeed]`,
    `transformers[deepspeed]`: their `setup.py` maps the extra to the package), so callers ask
    about extras as well."""
    return next((lib for lib in RUNTIME_COMPILERS if lib.packages.fullmatch(name)), None)


def by_url(url: str) -> RuntimeCompiler | None:
    """The library whose source repository ``url`` names (a VCS requirement, `git clone`)."""
    m = _REPOSITORY.match(url.removeprefix("git+"))
    if m is None:
        return None
    repo = m.group("repo").lower().removesuffix(".git")
    key = f"{m.group('host').lower()}/{m.group('owner').lower()}/{repo}"
    return next((lib for lib in RUNTIME_COMPILERS if key in lib.repositories), None)


def prebuilt(library: RuntimeCompiler, env: dict[str, str | None]) -> bool:
    """Whether the install that ran with ``env`` built every kernel of ``library`` then."""
    value = env.get(library.prebuild) if library.prebuild else None
    try:
        return value is not None and int(value) != 0
    except ValueError:
        return False
