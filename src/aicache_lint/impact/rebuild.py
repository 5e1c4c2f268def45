"""The rebuild model: after a change, which steps of an image's build run again, and what they
download.

BuildKit reuses a step while its instruction and its inputs are unchanged. A RUN's cache key is its
command line and the layer it runs on; a COPY's or ADD's also holds the content of the files it
copies. Once one step runs again, every later step of its stage does, and so do the stages built
FROM it and the steps that COPY --from it ("Docker build cache", docs.docker.com/build/cache/).
Three events are modelled:

- ``source``: a source file of the build context changes (not a dependency manifest). The first
  COPY/ADD of each stage that takes such a file runs again: `COPY . .`, `COPY src/ src/`.
- ``manifest``: a dependency manifest changes (`requirements.txt`, `pyproject.toml`, a lock file).
  The first COPY/ADD of each stage that takes it runs again: `COPY requirements.txt .` and `COPY . .`.
- ``base``: the base image moves (a new digest behind the tag). Every stage starts over, and the
  base is pulled again; a base that a build of this project makes (``workspace/images.py``) is
  built again first, from its own base's pull: the whole FROM chain in the repository.

A step that runs again downloads what its commands fetch, unless a cache mount keeps it: pip, uv
and poetry packages (named on the command line or in the build-context files they read), apt
packages (the one that pulls most with its dependencies, the others alone), models fetched with
`hf download`. What cannot be sized is counted as unknown, never as zero: other fetches (curl or
wget of a URL, git clone, conda, npm, apk, dnf, go, cargo, an ADD of a URL) and packages the
linter cannot see. A size comes from ``sizes`` (``knowledge/sizes.py``, or
a table a test gives).
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Facts, Stage, State
    from aicache_lint.dockerfile.model import Instruction
    from aicache_lint.dockerfile.shell import Invocation
    from aicache_lint.workspace.index import Workspace

EVENTS = ("source", "manifest", "base")

# Files that declare dependencies: a change to one is a `manifest` event, to any other file a `source` one.
MANIFESTS = (
    "requirements*.txt", "requirements*.in", "constraints*.txt", "pyproject.toml", "setup.py", "setup.cfg",
    "poetry.lock", "uv.lock", "pdm.lock", "pipfile", "pipfile.lock", "environment*.yml", "environment*.yaml",
    "conda-lock.yml", "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "go.mod", "go.sum",
    "cargo.toml", "cargo.lock",
)


class Size(Protocol):
    bytes: int
    source: str


class Sizes(Protocol):
    """Where sizes come from: ``knowledge/sizes.py``, or a table a test gives."""

    def package(self, name: str, spec: str = "") -> Size | None: ...

    def apt(self, name: str, with_deps: bool = False, release: str | None = None) -> Size | None:
        """The .deb, or with ``with_deps`` also the packages it depends on that a slim image lacks;
        ``release``: the Debian or Ubuntu codename of the base image, None when not known."""
        ...

    def image(self, reference: str) -> Size | None: ...

    def model(self, repo_id: str, whole: bool = False) -> Size | None:
        """The weights a library load takes, or with ``whole`` the whole repository."""
        ...


class Download(NamedTuple):
    what: str  # "pip: torch", "apt: ffmpeg", "image: nvidia/cuda:12.4.1-runtime-ubuntu22.04", "model: org/m"
    bytes: int | None  # None: the size is not known
    source: str | None  # where the size comes from
    cached: bool  # a cache mount (or a volume) keeps it from one build (or container) to the next
    where: str | None = None  # `path:line` that causes it, when no build step says it

    @property
    def fetched(self) -> int | None:
        """What a build fetches for it: 0 when a cache mount keeps it, None when not known."""
        return 0 if self.cached else self.bytes


def sized(what: str, size: Size | None, cached: bool, where: str | None = None) -> Download:
    """A download of ``size`` (None: not known)."""
    return Download(what, size.bytes if size else None, size.source if size else None, cached, where)


class Step(NamedTuple):
    stage: "Stage"
    instruction: "Instruction"
    downloads: tuple[Download, ...]
    dockerfile: str | None = None  # the Dockerfile of a base image built here; None: the image's own


class Rebuild(NamedTuple):
    """What one event costs an image: the steps that run again, in build order."""

    steps: tuple[Step, ...]

    @property
    def downloads(self) -> list[Download]:
        return [d for step in self.steps for d in step.downloads]

    @property
    def fetched(self) -> int:
        return fetched(self.downloads)

    @property
    def unknown(self) -> list[Download]:
        return unknown(self.downloads)

    def apart_from(self, dockerfiles: set[str]) -> "Rebuild":
        """Without the steps of base images built from ``dockerfiles`` (real paths): a total over
        several images counts each image's own steps once."""
        own = [s for s in self.steps if s.dockerfile is None or os.path.realpath(s.dockerfile) not in dockerfiles]
        return self._replace(steps=tuple(own))


def fetched(downloads: list[Download]) -> int:
    """Bytes fetched, counting what is known."""
    return sum(d.fetched or 0 for d in downloads)


def unknown(downloads: list[Download]) -> list[Download]:
    """Downloads of unknown size that are fetched (the total is at least ``fetched``)."""
    return [d for d in downloads if d.fetched is None]


def rebuild(ws: "Workspace", dockerfile: str, facts: "Facts", final: "Stage", event: str, sizes: Sizes,
            depth: int = 0) -> Rebuild:
    """The steps of the image that ``final`` makes that run again after ``event``, and their downloads."""
    from aicache_lint.knowledge.model_cache import image_stages

    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r} (one of {', '.join(EVENTS)})")
    stages = sorted(image_stages(final), key=lambda s: s.index)
    first: dict[int, int] = {}  # stage index -> index of its first step that runs again
    steps: list[Step] = []
    for stage in stages:
        start = _first_rerun(facts, stage, event, first)
        if start is None:
            continue
        first[stage.index] = start
        if start == 0 and stage.parent is None and event == "base" and stage.base:
            steps += _base_steps(ws, stage, sizes, depth)
        for instr in stage.instructions[start:]:
            steps.append(Step(stage, instr, tuple(_downloads(ws, dockerfile, facts, instr, sizes))))
    return Rebuild(tuple(steps))


_MAX_CHAIN = 8  # images built FROM images built here, followed for a base update


def _base_steps(ws: "Workspace", stage: "Stage", sizes: Sizes, depth: int) -> list[Step]:
    """What a base update costs before ``stage``'s own steps: the pull of its base, or, when a
    build of this project makes that base (``workspace/images.py``), that image's own base update
    -- its pull and every step, each download saying where it is."""
    built = ws.graph.built(stage.base) if depth < _MAX_CHAIN else None
    if built is None or built.invocation.dockerfile is None:
        pull = sized(f"image: {stage.base}", sizes.image(stage.base), False)
        return [Step(stage, stage.from_instruction, (pull,))]
    path = built.invocation.dockerfile
    upstream = rebuild(ws, path, built.facts, built.stage, "base", sizes, depth + 1)
    out = []
    for step in upstream.steps:
        where = f"{os.path.relpath(path)}:{step.instruction.start_line}"
        downloads = tuple(d if d.where else d._replace(where=where) for d in step.downloads)
        out.append(step._replace(dockerfile=step.dockerfile or path, downloads=downloads))
    return out


def _first_rerun(facts: "Facts", stage: "Stage", event: str, first: dict[int, int]) -> int | None:
    """The index of the stage's first step that runs again, None when none does."""
    from aicache_lint.workspace.build_context import copy_sources

    if stage.parent is not None:
        if stage.parent.index in first:
            return 0
    elif event == "base":
        return 0
    for i, instr in enumerate(stage.instructions):
        if instr.keyword not in ("COPY", "ADD"):
            continue
        copied = copy_sources(facts, instr)
        if copied is None:
            continue
        if copied.stage is not None:
            if copied.stage.index in first:
                return i
        elif instr.flags_named("from"):
            continue  # another image: its own base event, not modelled here
        elif copied.unknown or any(event in _kinds(source) for source in copied.sources):
            return i
    return None


def _kinds(source: str) -> tuple[str, ...]:
    """Which events a COPY source takes part in: a manifest, another file, or a directory or
    pattern that may hold both."""
    if source.startswith(("http://", "https://", "git@")):
        return ()  # ADD of a URL: fetched again only when its content changes
    name = posixpath.basename(source.rstrip("/")).lower()
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in MANIFESTS):
        return ("manifest",)
    if source in (".", "./") or source.endswith("/") or "." not in name or any(c in name for c in "*?["):
        return ("source", "manifest")  # a directory (or a pattern): it may hold manifests too
    return ("source",)


# Commands that fetch over the network but are not sized here (the subcommands that fetch; None:
# any call with a URL): a step that runs one again counts an unknown download, never nothing.
_FETCHES: dict[str, tuple[str, ...] | None] = {
    "curl": None, "wget": None,
    "git": ("clone", "fetch", "pull", "submodule"),
    "conda": ("install", "create", "update", "env"), "mamba": ("install", "create", "update", "env"),
    "micromamba": ("install", "create", "update", "env"),
    "npm": ("install", "i", "ci"), "yarn": ("install", "add"), "pnpm": ("install", "i", "add"),
    "apk": ("add",), "dnf": ("install",), "yum": ("install",), "microdnf": ("install",), "zypper": ("install", "in"),
    "go": ("get", "install", "build", "mod"), "cargo": ("build", "install", "fetch"),
}


def _downloads(ws: "Workspace", dockerfile: str, facts: "Facts", instr: "Instruction", sizes: Sizes) -> list[Download]:
    keyword = (instr.inner or instr).keyword
    if keyword == "ADD":
        urls = [s for s in _add_sources(facts, instr) if s.startswith(("http://", "https://", "git@"))]
        return [Download(f"ADD {url}", None, None, False) for url in urls]
    if keyword != "RUN":
        return []
    state = facts.state(instr)
    out: list[Download] = []
    for inv in facts.invocations(instr):
        found = (_python_packages(ws, dockerfile, facts, instr, inv, state, sizes)
                 + _apt_packages(facts, instr, inv, state, sizes)
                 + _models(instr, inv, state, sizes))
        out += found or _unsized(inv)
    return out


def _add_sources(facts: "Facts", instr: "Instruction") -> list[str]:
    from aicache_lint.workspace.build_context import copy_sources

    copied = copy_sources(facts, instr)
    return copied.sources if copied is not None else []


def _unsized(inv: "Invocation") -> list[Download]:
    """A fetch this model does not size (curl, git clone, conda, npm...): unknown."""
    from aicache_lint.dockerfile.shell import subcommand

    if inv.program not in _FETCHES:
        return []
    fetching = _FETCHES[inv.program]
    if fetching is None:
        if not any("://" in w.value for w in inv.args):
            return []
    elif not set(subcommand(inv, 1)) & set(fetching):
        return []
    return [Download(f"{inv.program}: a download the model does not size", None, None, False)]


def _python_packages(ws: "Workspace", dockerfile: str, facts: "Facts", instr: "Instruction", inv: "Invocation",
                     state: "State", sizes: Sizes) -> list[Download]:
    from aicache_lint.knowledge.package_cache import PYTHON_TOOLS, mount_covering

    tool = next((t for t in PYTHON_TOOLS if t.downloading(inv)), None)
    if tool is None:
        return []
    cached = mount_covering(instr, state, tool.cache_dir(inv, state))[0]
    wanted = {r.name: r.spec for r in ws.requested_packages(dockerfile, facts, instr, inv)}  # one row per package
    out = []
    for name, spec in wanted.items():
        size = sizes.package(name, spec)
        out.append(sized(f"{tool.label}: {name}", size, cached))
    if not wanted:  # a local project, a wheel file, a lock file it cannot read: counted as unknown
        out.append(Download(f"{tool.label}: packages the linter cannot see", None, None, cached))
    return out


def _apt_packages(facts: "Facts", instr: "Instruction", inv: "Invocation", state: "State",
                  sizes: Sizes) -> list[Download]:
    from aicache_lint.knowledge.sizes import apt_release
    from aicache_lint.knowledge.system_cache import APT_ARCHIVES, APT_PROGRAMS, covered, subcommand_of

    if inv.program not in APT_PROGRAMS or subcommand_of(inv) != "install":
        return []
    cached = covered(instr, state, APT_ARCHIVES)
    words = [w.value for w in inv.args]
    names = [v for v in words[words.index("install") + 1:] if not v.startswith("-")] if "install" in words else []
    names = list(dict.fromkeys(name.split("=", 1)[0] for name in names))
    # The packages share most dependencies (ffmpeg's 201 and libgl1's overlap): the one that pulls
    # most counts with its dependencies, the others alone -- neither the sum of the closures, which
    # counts shared packages again, nor the .debs alone, which forget the dependencies. They are
    # priced in the release of the image the stage starts FROM (an image built here: not known).
    stage = facts.stage_of(instr)
    release = apt_release(stage.chain()[-1].base) if stage is not None else None
    closures = {name: sizes.apt(name, with_deps=True, release=release) for name in names}
    largest = max((n for n in names if closures[n]), key=lambda n: closures[n].bytes, default=None)
    out = []
    for name in names:
        if name == largest:
            out.append(sized(f"apt: {name} (with its dependencies)", closures[name], cached))
        else:
            out.append(sized(f"apt: {name}", sizes.apt(name, release=release), cached))
    return out


# `hf download` options that take a value (huggingface_hub's CLI reference, "hf download").
_VALUED = {"--repo-type", "--revision", "--include", "--exclude", "--cache-dir", "--local-dir", "--token",
           "--max-workers", "--local-dir-use-symlinks"}


def _download_words(words: list) -> tuple[list[str], bool]:
    """The positional words of `hf download` (the repository, then file names) and whether it
    takes --include/--exclude patterns."""
    positional: list[str] = []
    patterns = skip = False
    for value in (w.value for w in words):
        flag = value.split("=", 1)[0]
        if skip:
            skip = False
        elif value.startswith("-"):
            patterns = patterns or flag in ("--include", "--exclude")
            skip = flag in _VALUED and "=" not in value
        else:
            positional.append(value)
    return positional, patterns


def _models(instr: "Instruction", inv: "Invocation", state: "State", sizes: Sizes) -> list[Download]:
    from aicache_lint.dockerfile.hub_downloads import hub_cache, is_hub_download
    from aicache_lint.dockerfile.shell import subcommand
    from aicache_lint.knowledge.system_cache import covered

    if not is_hub_download(inv):
        return []
    after = inv.args[len(subcommand(inv, 1)):]
    positional, patterns = _download_words(after)
    if not positional:
        return []
    repo = positional[0]
    directory = hub_cache(state, {k: w.value for k, w in inv.env.items()})
    local_dir = any(w.value.split("=", 1)[0] == "--local-dir" for w in after)
    cached = directory is not None and not local_dir and covered(instr, state, directory)
    # file names or patterns: only part of the repository, of a size not known here
    partial = len(positional) > 1 or patterns
    size = None if partial else sizes.model(repo, whole=True)
    return [sized(f"model: {repo}" + (" (some of its files)" if partial else ""), size, cached)]
