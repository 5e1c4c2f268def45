"""AIC107 conda-cache-not-mounted."""

from __future__ import annotations

import bisect
import posixpath
import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.dockerfile.facts import State
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.dockerfile.words import expand
from aicache_lint.finding import Violation
from aicache_lint.knowledge import base_images
from aicache_lint.knowledge.package_cache import (
    CacheTool,
    missing_mount_findings,
    option_value,
    program_span,
    runs_under_sudo,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation

_PROGRAMS = ("conda", "mamba", "micromamba")
_DOWNLOADS = (("install",), ("create",), ("update",), ("env", "create"), ("env", "update"))
# Images whose conda root prefix is /opt/conda, owned by root (DOMAIN §2 table).
_CONDA_IMAGES = frozenset({
    "continuumio/miniconda3", "continuumio/anaconda3", "condaforge/miniforge3", "condaforge/mambaforge",
    "condaforge/miniforge-pypy3",
})
_MICROMAMBA_IMAGE = "mambaorg/micromamba"
_INSTALLER = re.compile(r"(?i)(miniconda|miniforge|mambaforge|anaconda)[\w.-]*\.sh")


class _CondaTool(CacheTool):
    __slots__ = ()

    def downloading(self, inv: "Invocation") -> bool:
        from aicache_lint.dockerfile.shell import subcommand

        if inv.program not in _PROGRAMS:
            return False
        words = subcommand(inv, 2)
        return any(tuple(words[: len(d)]) == d for d in self.downloads)


CONDA = _CondaTool(
    program="conda",
    label="conda",
    cache_var="CONDA_PKGS_DIRS",
    xdg_name="pkgs",
    no_cache_flags=(),
    no_cache_env="",
    any_value_disables=False,
    downloads=_DOWNLOADS,
)


class CondaCacheNotMounted(Rule):
    """
    ## What it does
    Flags a `RUN` that runs `conda`, `mamba` or `micromamba` `install`, `create`, `update`,
    `env create` or `env update` without a BuildKit cache mount at the package cache (the
    "pkgs dir"): the first entry of `CONDA_PKGS_DIRS`, else `<root prefix>/pkgs`. The root
    prefix is `/opt/conda` in the `continuumio/miniconda3`, `continuumio/anaconda3` and
    `condaforge/miniforge3`/`mambaforge` images, the `-p` of a Miniconda/Miniforge installer run
    earlier in the stage (`bash Miniconda3-latest-Linux-x86_64.sh -b -p /opt/conda`), the
    directory of a `<prefix>/bin/conda` called by its path, and for micromamba
    `--root-prefix`/`MAMBA_ROOT_PREFIX` (`/opt/conda` in `mambaorg/micromamba`, which runs as
    `mambauser`, uid/gid 57439).

    ## Why is this bad?
    conda packages are large (a CUDA-enabled PyTorch environment is several gigabytes). Without
    a cache mount every rebuild of the layer downloads them all again.

    ## Example
    ```dockerfile
    FROM continuumio/miniconda3:24.7.1-0
    RUN conda install -y -c conda-forge numpy
    ```

    ## Use instead
    ```dockerfile
    FROM continuumio/miniconda3:24.7.1-0
    RUN --mount=type=cache,target=/opt/conda/pkgs conda install -y -c conda-forge numpy
    ```

    ## Fix safety
    The fix adds `--mount=type=cache,target=<pkgs dir>` after the `RUN`'s flags. The pkgs dir
    only holds downloaded and extracted packages that environments are linked from; the mount is
    not part of the image: safe for root. In `mambaorg/micromamba` (user `mambauser`, owner of
    `/opt/conda`) the mount gets `uid=57439,gid=57439`; for another non-root user with a known
    uid it gets that uid, and the fix is unsafe when BuildKit would have to create a missing
    parent owned by root (AIC101 explains why), or when the uid is not known.
    No fix -- a report only -- when the root prefix is unknown (conda installed some other way,
    micromamba without `MAMBA_ROOT_PREFIX`/`--root-prefix`, whose default changed between
    versions), when a non-root user runs conda from a root-owned prefix (conda then falls back to
    `~/.conda/pkgs`), under `sudo`, or when a non-cache mount sits over the pkgs dir.
    A cache mount whose target ends in `pkgs` is taken as meant for conda and left alone.
    A `conda clean` in the same `RUN` is the cache-cleaned-under-mount check's business.

    ## Options
    None.

    ## References
    - [conda configuration: `pkgs_dirs`](https://docs.conda.io/projects/conda/en/latest/user-guide/configuration/settings.html#pkgs-dirs)
    - [micromamba installation: root prefix](https://mamba.readthedocs.io/en/latest/installation/micromamba-installation.html)
    - [micromamba-docker](https://micromamba-docker.readthedocs.io/en/latest/)
    - [Dockerfile reference: `RUN --mount=type=cache`](https://docs.docker.com/reference/dockerfile/#run---mounttypecache)
    """

    code = "AIC107"
    name = "conda-cache-not-mounted"
    summary = "conda/mamba/micromamba installs without a BuildKit cache mount at its pkgs dir"
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        roots: dict[int, tuple[str, ...]] = {}
        installers = _installers(ctx)

        def dir_of(run: Instruction, inv: "Invocation", state: State) -> str | None:
            directory, root = _pkgs_dir(ctx, installers, run, inv, state)
            roots[id(run)] = (root,) if root else ()
            return directory

        existing = lambda run: roots.get(id(run), ())  # noqa: E731 -- known once dir_of ran
        for run, inv, directory, fix, why_not in missing_mount_findings(ctx, CONDA, dir_of=dir_of, existing=existing):
            label = inv.program
            if directory is not None:
                message = f"`{label}` downloads packages with no cache mount at `{directory}`: every rebuild re-downloads them"
                if why_not:
                    message += f" (no fix: {why_not})"
            else:
                message = (
                    f"`{label}` downloads packages with no cache mount; its pkgs dir cannot be known "
                    f"({_unknown_reason(ctx, installers, run, inv)})"
                )
            yield Violation(program_span(ctx, run, inv), message, fix)


def _scope(inv: "Invocation", state: State) -> dict[str, str | None]:
    return {**state.run_env, **{k: (w.value if not w.has_expansion else None) for k, w in inv.env.items()}}


def _pkgs_dir(ctx: DockerfileContext, installers: _Installers, run: Instruction, inv: "Invocation",
              state: State) -> tuple[str | None, str | None]:
    """(pkgs dir, root prefix known to exist) for ``inv``; None where it cannot be known."""
    if runs_under_sudo(inv) or state.user is None:
        return None, None
    scope = _scope(inv, state)
    if "CONDA_PKGS_DIRS" in scope:
        value = scope["CONDA_PKGS_DIRS"]
        first = (value or "").split(",")[0].strip()
        if not first.startswith("/") or "$" in first or "~" in first:
            return None, None
        return posixpath.normpath(first), None
    root, owner = _root_prefix(ctx, installers, run, inv, state, scope)
    if root is None:
        return None, None
    if not state.is_root and owner != (state.user_info.name if state.user else None):
        return None, None  # a root-owned prefix: conda falls back to ~/.conda/pkgs
    return posixpath.join(root, "pkgs"), root


def _root_prefix(
    ctx: DockerfileContext, installers: _Installers, run: Instruction, inv: "Invocation", state: State,
    scope: dict[str, str | None],
) -> tuple[str | None, str | None]:
    """(root prefix, the user who owns it) or (None, None)."""
    base = _base_image(ctx, run)
    if inv.program == "micromamba":
        flag = option_value(inv.args, "--root-prefix") or option_value(inv.args, "-r")
        value = flag if flag else scope.get("MAMBA_ROOT_PREFIX")
        if not value or not value.startswith("/"):
            return None, None
        value = posixpath.normpath(value)
        if base == _MICROMAMBA_IMAGE and value == "/opt/conda":
            return value, "mambauser"
        return value, "root"
    program = inv.program_words[0].value
    if program.startswith("/") and posixpath.basename(posixpath.dirname(program)) in ("bin", "condabin"):
        found = _installer_prefix(ctx, installers, run)
        return posixpath.dirname(posixpath.dirname(program)), found[1] if found else "root"
    installed = _installer_prefix(ctx, installers, run)
    if installed is not None:
        return installed
    if base in _CONDA_IMAGES:
        return "/opt/conda", "root"
    return None, None


# Per stage index: (offset of the RUN, prefix, user) of each `Miniconda…sh -b -p PREFIX`, in file order.
_Installers = dict[int, list[tuple[int, str, str]]]


def _installers(ctx: DockerfileContext) -> _Installers:
    """The conda installer runs of the file, read once (reading the earlier RUNs again for every
    conda RUN made linting quadratic in the number of RUNs)."""
    facts = ctx.facts
    found: _Installers = {}
    for run in facts.runs():
        stage = facts.stage_of(run)
        if run.inner is not None or stage is None:
            continue
        state = facts.state(run)
        for call in facts.invocations(run):
            words = call.program_words + call.args
            if not any(_INSTALLER.search(w.value) for w in words):
                continue
            for i, w in enumerate(call.args[:-1]):
                if w.value == "-p":
                    nxt = call.args[i + 1]
                    value = expand(nxt.raw, state.run_env) if nxt.has_expansion else nxt.value
                    if value and value.startswith("/"):
                        user = state.user_info.name if state.user is not None else "?"
                        found.setdefault(stage.index, []).append((run.span.start, posixpath.normpath(value), user))
    return found


def _installer_prefix(ctx: DockerfileContext, installers: _Installers, run: Instruction) -> tuple[str, str] | None:
    """(prefix, user) of the last `Miniconda…sh -b -p PREFIX` run before ``run`` in its stage chain."""
    stage = ctx.facts.stage_of(run)
    if stage is None:
        return None
    found = None
    for s in reversed(stage.chain()):
        runs = installers.get(s.index, [])
        if s is stage:
            runs = runs[: bisect.bisect_left(runs, (run.span.start,))]
        if runs:
            found = runs[-1][1:]
    return found


def _base_image(ctx: DockerfileContext, run: Instruction) -> str | None:
    stage = ctx.facts.stage_of(run)
    return base_images.repository(stage.chain()[-1].base) if stage is not None else None


def _unknown_reason(ctx: DockerfileContext, installers: _Installers, run: Instruction, inv: "Invocation") -> str:
    state = ctx.facts.state(run)
    if runs_under_sudo(inv):
        return "it runs under `sudo`"
    if state.user is None:
        return "the stage runs as its base image's user, whom the Dockerfile does not name"
    scope = _scope(inv, state)
    if "CONDA_PKGS_DIRS" in scope:
        return "`CONDA_PKGS_DIRS` is not a known absolute path"
    root, _ = _root_prefix(ctx, installers, run, inv, state, scope)
    if root is None:
        if inv.program == "micromamba":
            return "no `MAMBA_ROOT_PREFIX` or `--root-prefix`, and micromamba's default changed between versions"
        return "the conda root prefix is not known from the base image or an installer in the Dockerfile"
    return f"user `{state.user_info.name}` cannot write to `{root}/pkgs`, so conda falls back to a dir under its HOME"
