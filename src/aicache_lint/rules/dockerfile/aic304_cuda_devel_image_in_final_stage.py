"""AIC304 cuda-devel-image-in-final-stage."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile.words import key_values
from aicache_lint.finding import Violation
from aicache_lint.fix import Applicability, Edit, Fix
from aicache_lint.knowledge import cuda_images
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Stage
    from aicache_lint.dockerfile.shell import Invocation
    from aicache_lint.knowledge.runtime_compilers import RuntimeCompiler

# Programs that compile, or drive a compiler (they need the devel image's headers and nvcc).
_COMPILERS = frozenset(
    "nvcc make gmake cmake ninja gcc g++ cc c++ clang clang++ meson bazel bazelisk scons configure "
    "colcon catkin_make".split()
)
# Python packages commonly built from source against the CUDA toolkit.
_SOURCE_BUILDS = re.compile(r"(?i)(^|[^a-z0-9])(flash[-_]?attn|apex|xformers|deepspeed|causal[-_]conv1d|mamba[-_]ssm|"
                            r"auto[-_]gptq|tensorrt[-_]llm)([^a-z0-9]|$)")
# ENV/ARG names that only matter when compiling CUDA code.
_BUILD_VARS = frozenset({"TORCH_CUDA_ARCH_LIST", "CUDA_ARCHITECTURES", "CMAKE_CUDA_ARCHITECTURES", "MAX_JOBS",
                         "FLASH_ATTENTION_FORCE_BUILD", "TCNN_CUDA_ARCHITECTURES"})
_DEVEL = re.compile(r"(?<=-)devel(?=-)")
# A requirement's name and extras: `accelerate[testing,deepspeed]>=1.0`, `deepspeed @ git+https://...`.
_REQUIREMENT = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://|git@")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


class CudaDevelImageInFinalStage(Rule):
    """
    ## What it does
    Flags a final stage whose image is an `nvidia/cuda` `devel` image (`X.Y.Z-devel-<os>`,
    `X.Y.Z-cudnn-devel-<os>`, `cudnn8-devel`, `cudnn9-devel`), directly or through `FROM <stage>`
    of a stage that is. `ARG` defaults are resolved first; a reference that depends on a build
    argument without a default is not reported. Nor is an image that installs a library which
    compiles CUDA code when it runs and so needs the toolkit (`nvcc`, headers): DeepSpeed (unless
    `DS_BUILD_OPS=1` pre-built its ops at install: then the finding stays and says so), FlashInfer
    (`flashinfer-python`), gsplat from PyPI, CuPy. Such a library counts when the final stage, a
    stage it is built `FROM` or a stage it copies from installs it with pip, uv, conda or poetry
    -- by name, through an extra named after it (`accelerate[deepspeed]`), from its Git repository
    (a VCS requirement, its `#egg=` name, a `git clone`). A requirements file is not read, nor is
    the image's own code: one that calls `torch.utils.cpp_extension.load()` needs a suppression.

    ## Why is this bad?
    `devel` adds the CUDA headers, `nvcc`, the toolchain and static libraries to `runtime`: several
    GB more to push, pull and store on every node, and none of it is used to run a model. PyTorch
    wheels bring their own CUDA libraries; only building CUDA extensions needs `devel`, and that
    belongs in a builder stage whose output is copied into a `runtime` final stage.

    ## Example
    ```dockerfile
    FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04
    RUN pip install torch
    CMD ["python", "serve.py"]
    ```

    ## Use instead
    ```dockerfile
    FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
    RUN pip install torch
    CMD ["python", "serve.py"]
    ```

    When the image compiles something, build in a `devel` stage and copy the result:
    ```dockerfile
    FROM nvidia/cuda:12.4.1-devel-ubuntu22.04 AS build
    RUN pip wheel --no-deps -w /wheels flash-attn
    FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
    COPY --from=build /wheels /wheels
    RUN pip install /wheels/*.whl
    ```

    ## Fix safety
    The fix replaces just the `devel` word in the `FROM`'s image reference with `runtime`, keeping
    the CUDA version, `cudnn` and the OS, so `12.4.1-cudnn-devel-ubuntu22.04` becomes
    `12.4.1-cudnn-runtime-ubuntu22.04`. It is unsafe: anything the image uses at run time that
    only `devel` has (headers, `nvcc` for JIT compilation, static libraries) goes away.
    It is offered only when the final stage (and every stage it is built `FROM`) compiles nothing
    that can be seen: no `nvcc`, `make`, `cmake`, `ninja`, `gcc`, `setup.py build`, `pip wheel`, no
    local or VCS package install, no source build of packages such as `flash-attn`, `apex`,
    `xformers`, `deepspeed`, no `--no-build-isolation`/`--no-binary`, and no `TORCH_CUDA_ARCH_LIST`.
    The fix is also withheld -- a report only -- when the new tag is not in the nvidia/cuda tag
    table shipped with aicache-lint (see AIC303) (never a guessed tag); when `devel` is not literal in the `FROM`
    (it comes from an `ARG`); when the reference carries a `@sha256:` digest (which pins the
    `devel` image); or when the `devel` `FROM` belongs to an earlier stage that another stage also
    uses (`FROM`, `COPY --from`, `RUN --mount=from=`).

    ## Options
    None.

    ## References
    - [NVIDIA CUDA images: flavors and supported tags](https://gitlab.com/nvidia/container-images/cuda/-/blob/master/doc/supported-tags.md)
    - [Docker: multi-stage builds](https://docs.docker.com/build/building/multi-stage/)
    - [PyTorch: get started locally (wheels bundle CUDA)](https://pytorch.org/get-started/locally/)
    - [DeepSpeed: installation details, JIT ops and `DS_BUILD_OPS`](https://www.deepspeed.ai/tutorials/advanced-install/)
    - [FlashInfer: installation, kernels compiled on first use](https://docs.flashinfer.ai/installation.html)
    - [gsplat: installation, CUDA code built on the first run](https://github.com/nerfstudio-project/gsplat#installation)
    - [CuPy: installation, NVRTC needs the CUDA headers](https://docs.cupy.dev/en/stable/install.html#cupy-always-raises-nvrtc-error-compilation-6)
    - Sources, and why Triton, flash-attn, numba and others are not listed: `aicache_lint/knowledge/runtime_compilers.py`
    """

    code = "AIC304"
    name = "cuda-devel-image-in-final-stage"
    summary = "The final stage runs on a CUDA devel image"
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = Applicability.UNSAFE

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        final = facts.final_stage
        if final is None:
            return
        chain = final.chain()
        root = chain[-1]
        ref = cuda_images.parse(root.base)
        if ref is None or ref.tag is None:
            return
        full = ref.full
        if full is None or "devel" not in full.group("flavor"):
            return
        libraries = _runtime_compilers(ctx, final)
        if any(not prebuilt for _, prebuilt in libraries):
            return  # a library in the image compiles CUDA code when it runs: `devel` is there on purpose
        word = cuda_images.reference_word(final.from_instruction, ctx.doc.escape)
        span = word.span if word else final.from_instruction.keyword_span
        via = "" if root is final else f" (through `FROM {final.base}`)"
        message = f"the final stage runs on the CUDA devel image `{root.base}`{via}, several GB larger than `runtime`"
        for lib in dict.fromkeys(lib for lib, _ in libraries):
            message += f" (`{lib.prebuild}` built {lib.name}'s {lib.what} at install: running them needs no toolkit)"
        compiled = _compiles(ctx, chain)
        if compiled:
            yield Violation(span, f"{message}; it compiles ({compiled}): build in a `devel` stage and copy the "
                                  "result into a `runtime` final stage")
            return
        new_tag = "{}-{}-{}".format(full.group("version"), full.group("flavor").replace("devel", "runtime"), full.group("os"))
        fix, reason = _switch(ctx, root, chain, ref, new_tag)
        if new_tag in cuda_images.published_tags():
            text = f"{message}: use `{new_tag}`"
        else:
            text = f"{message}: use a `runtime` tag"
        if reason:
            text += f" (no automatic fix: {reason})"
        yield Violation(span, text, fix)


def _switch(ctx: DockerfileContext, root: "Stage", chain: list["Stage"], ref: cuda_images.CudaRef,
            new_tag: str) -> tuple[Fix | None, str | None]:
    if ref.digest:
        return None, "the `@sha256:` digest pins the devel image"
    if new_tag not in cuda_images.published_tags():
        return None, f"`{new_tag}` is not in the nvidia/cuda tag table shipped with aicache-lint"
    others = _users_outside(ctx, chain)
    if others:
        return None, f"stage `{others}` uses the same devel stage"
    word = cuda_images.reference_word(root.from_instruction, ctx.doc.escape)
    if word is None or not word.contiguous:
        return None, "the image reference cannot be edited in place"
    colon = word.raw.rfind(":")
    variables = [m.span() for m in _VARIABLE.finditer(word.raw)]
    literal = [m for m in _DEVEL.finditer(word.raw, max(colon, 0))
               if not any(a <= m.start() < b for a, b in variables)]
    if len(literal) != 1:
        return None, "`devel` is not written literally in the `FROM` line"
    m = literal[0]
    at = word.span.start + m.start()
    title = f"Use the `runtime` image `{new_tag}`"
    return Fix.unsafe(title, Edit(at, at + len("devel"), "runtime")), None


def _users_outside(ctx: DockerfileContext, chain: list["Stage"]) -> str | None:
    """A stage outside ``chain`` that uses one of the chain's earlier stages, by name or index."""
    members = {id(s) for s in chain}
    keys: dict[str, "Stage"] = {}
    for s in chain[1:]:
        keys[str(s.index)] = s
        if s.name:
            keys[s.name] = s
    if not keys:
        return None
    for stage in ctx.facts.stages:
        if id(stage) in members:
            continue
        if stage.parent is not None and id(stage.parent) in members and stage.parent is not chain[0]:
            return stage.name or str(stage.index)
        for instr in stage.instructions:
            target = instr.inner or instr
            refs = [f.value for f in target.flags_named("from")]
            refs += [(m.option("from").value if m.option("from") else None) for m in target.mounts]
            if any(r is not None and r.lower() in keys for r in refs):
                return stage.name or str(stage.index)
    return None


def _runtime_compilers(ctx: DockerfileContext, final: "Stage") -> list[tuple["RuntimeCompiler", bool]]:
    """The libraries in the final image (its FROM chain and what it copies from) that compile CUDA
    code when they run, each with whether its install pre-built all of that code."""
    from aicache_lint.knowledge.model_cache import image_stages
    from aicache_lint.knowledge.runtime_compilers import prebuilt

    facts = ctx.facts
    found = []
    for stage in image_stages(final):
        for instr in stage.instructions:
            if instr.keyword != "RUN":
                continue  # an ONBUILD RUN runs in another build
            env = facts.state(instr).run_env
            for inv in facts.invocations(instr):
                scope = {**env, **{name: word.value for name, word in inv.env.items()}}
                found += [(lib, prebuilt(lib, scope)) for lib in _installed_libraries(inv)]
    return found


def _installed_libraries(inv: "Invocation") -> list["RuntimeCompiler"]:
    """The runtime-compiling libraries an install command names -- by name, by an extra named
    after one, by its source repository (a VCS URL and its `#egg=` name) -- or `git clone`s."""
    from aicache_lint.dockerfile.shell import subcommand
    from aicache_lint.knowledge.requirements import normalize, requested_values
    from aicache_lint.knowledge.runtime_compilers import by_package, by_url

    if inv.program == "git" and subcommand(inv, 1) == ["clone"]:
        return [lib for a in inv.args if (lib := by_url(a.value)) is not None]
    found = []
    for value, _ in requested_values(inv):
        requirement = value.rsplit("::", 1)[-1]  # conda `channel::package`
        if _URL.match(value):
            found.append(by_url(value))
            requirement = value.partition("#egg=")[2]
        m = _REQUIREMENT.match(requirement)
        if m is not None:
            names = [m.group("name"), *(m.group("extras") or "").split(",")]
            found += [by_package(normalize(n.strip())) for n in names if n.strip()]
    return [lib for lib in found if lib is not None]


def _compiles(ctx: DockerfileContext, chain: list["Stage"]) -> str | None:
    """What in these stages compiles code, or None."""
    facts = ctx.facts
    for stage in reversed(chain):
        for instr in stage.instructions:
            target = instr.inner or instr
            if target.keyword in ("ENV", "ARG"):
                for kv in key_values(target.args, target.keyword, ctx.doc.escape):
                    if kv.key in _BUILD_VARS:
                        return f"`{kv.key}`"
            if target.keyword != "RUN":
                continue
            for inv in facts.invocations(instr):
                found = _compile_command(inv)
                if found:
                    return found
    return None


def _compile_command(inv: "Invocation") -> str | None:
    from aicache_lint.dockerfile.shell import subcommand

    program = inv.program
    if program in _COMPILERS:
        return f"`{program}`"
    if any(name in _BUILD_VARS for name in inv.env):
        return "`TORCH_CUDA_ARCH_LIST`"
    values = [a.value for a in inv.args]
    if re.fullmatch(r"python[0-9.]*", program):
        if values[:1] and values[0].endswith("setup.py"):
            return "`setup.py`"
        if values[:2] == ["-m", "build"]:
            return "`python -m build`"
    if program in ("pip", "uv"):
        sub = subcommand(inv, 2)
        if program == "pip" and sub[:1] == ["wheel"]:
            return "`pip wheel`"
        if (program == "pip" and sub[:1] == ["install"]) or (program == "uv" and sub == ["pip", "install"]):
            for v in values:
                if v in ("--no-build-isolation", "--no-binary") or v.startswith("--no-binary="):
                    return f"`{v}`"
                if v.startswith(("git+", "./", "../", "/")) or v in (".", "..") or "@ git+" in v:
                    return f"`pip install {v}`"
                if _SOURCE_BUILDS.search(v) and not v.startswith("-"):
                    return f"`pip install {v}`"
    return None
