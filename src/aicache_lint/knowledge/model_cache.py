"""Shared logic of the model-cache rules (AIC2xx): which stages end up in the final image, the
`ENV <CACHE_VAR>=<path>` fix for the final user, and what the file pins for a package."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.facts import Stage, State
from aicache_lint.dockerfile.model import Instruction
from aicache_lint.fix import Fix
from aicache_lint.knowledge.requirements import (
    requested_requirements,
    unseen_requirements,
)

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation
    from aicache_lint.rules.base import DockerfileContext


def image_stages(final: Stage) -> list[Stage]:
    """Stages whose files end up in the final image: its FROM chain and what they copy from."""
    seen: list[Stage] = []
    todo = list(final.chain())
    while todo:
        stage = todo.pop()
        if stage in seen:
            continue
        seen.append(stage)
        todo.extend(stage.chain())
        todo.extend(stage.copies_from)
    return seen


def first_use_in_image(ctx: "DockerfileContext", cache_vars: Iterable[str], find):
    """(anchor stage, final state, what ``find(ctx, stage)`` returned) for the first stage of the
    final image (in file order) where ``find`` sees a use, when the final image sets none of
    ``cache_vars``; None otherwise. The anchor is where a fix puts its ENV line: that stage when it
    is in the final stage's FROM chain, else (files copied in from a builder) the final stage."""
    facts = ctx.facts
    final = facts.final_stage
    if final is None:
        return None
    end = facts.end_state(final)
    if any(var in end.env for var in cache_vars):
        return None
    chain = final.chain()
    for stage in sorted(image_stages(final), key=lambda s: s.index):
        hit = find(ctx, stage)
        if hit is not None:
            return (stage if stage in chain else final), end, hit
    return None


def copies_context(stages: Iterable[Stage]) -> bool:
    """Whether one of ``stages`` copies files of the build context (where the code an image runs, or
    the script its command starts, comes from): a `COPY`/`ADD` without `--from`."""
    return any(i.keyword in ("COPY", "ADD") and not i.flags_named("from") for s in stages for i in s.instructions)


_SHELL_SCRIPT = re.compile(r"\.sh\b|\b(?:ba|da|z)?sh\b")


def set_at_start(ctx: "DockerfileContext", cache_vars: Iterable[str]) -> bool:
    """Whether the scripts the image's command runs set one of ``cache_vars`` before its code starts
    (`export HF_HOME=${HF_HOME:-/invokeai/.cache/huggingface}` in an entrypoint before `exec "$@"`):
    the image does set it, only not with ENV. Read only for an image with a command of its own that
    copies files of the build context (where such a script comes from)."""
    facts = ctx.facts
    final = facts.final_stage
    if final is None:
        return False
    entrypoint, cmd = facts.command(final)
    words = " ".join(" ".join(i.json_args) if i.json_args is not None else i.args.text for i in (entrypoint, cmd) if i)
    if entrypoint is None and not _SHELL_SCRIPT.search(words):
        return False  # no script runs before the command: `CMD ["uvicorn", "app:app"]` sets nothing
    if not copies_context(final.chain()):
        return False
    env = ctx.workspace.image_code(ctx.path).env
    return any(env.get(var) for var in cache_vars)


class CacheTarget(NamedTuple):
    """Where a fix puts a model cache, and what the message says of the unset variable."""

    path: str | None  # None: no fix (the final user's home is not known)
    consequence: str  # what happens to the downloads, subject-less: "land in an unmounted ..."
    title_note: str = ""
    assumed: str | None = None  # what the fix takes for granted about an unknown base image


def cache_target(ctx: "DockerfileContext", end: State, root_path: str, tool_dir: str, kind: str) -> CacheTarget:
    """``root_path`` for an image that runs as root, ``<home>/.cache/<tool_dir>`` for a non-root
    final user whose home the Dockerfile shows (DOMAIN trap 16: a non-root user cannot create
    `/data`) -- unless a Compose service that builds this Dockerfile keeps the default directory on
    a volume: then that directory, made explicit, so the fix does not move the cache off the volume."""
    unmounted = f"land in an unmounted `~/.cache/{tool_dir}` and are fetched again by every new container"
    mount = _compose_mount(ctx, kind)
    if mount is not None:
        return CacheTarget(
            mount.directory,
            f"land in the default `{mount.directory}`, which only `{mount.compose_file}` keeps (service "
            f"`{mount.service}`, {mount.mount}); anything else that runs the image fetches them again",
            f" (where `{mount.compose_file}` mounts {mount.mount})",
        )
    assumed = end.assumption()
    if end.is_root:
        return CacheTarget(root_path, unmounted, assumed=assumed)
    home = end.home
    # A home guessed from the user name is not known (`nobody` lives in /nonexistent).
    if not end.home_known or not home or not home.startswith("/"):
        return CacheTarget(None, unmounted)
    path = posixpath.join(home, ".cache", tool_dir)
    owner = _nearest_owner(end, path)
    if owner == "root":
        # An earlier cache mount left `~/.cache` root-owned (AIC123): the user cannot write there.
        return CacheTarget(None, unmounted + f" (no fix: a directory above `{path}` is owned by root)")
    return CacheTarget(path, unmounted, assumed=assumed)


def base_may_set(end: State) -> str:
    """A note for a message that says "the image sets no X" when the base image is not known."""
    if end.assumed_base is None:
        return ""
    return f" (as far as this file shows: its base image `{end.assumed_base}` is not known here and may set it)"


def _nearest_owner(state: State, path: str) -> str | None:
    """The owner of the nearest directory at or above ``path`` that the file made, if any."""
    while path not in ("/", ""):
        if path in state.dirs:
            return state.dirs[path]
        path = posixpath.dirname(path)
    return None


def _compose_mount(ctx: "DockerfileContext", kind: str):
    services = ctx.workspace.services_building(ctx.path)
    if not services:
        return None
    from aicache_lint.compose.builders import default_cache_mount

    return default_cache_mount(services, ctx.path, kind)


def cache_env_fix(ctx: "DockerfileContext", stage: Stage, var: str, target: CacheTarget) -> Fix | None:
    """`ENV <var>=<path>` right after ``stage``'s FROM; None when there is no path, or none that
    can be written as is."""
    from aicache_lint.knowledge.package_cache import plain_path

    if target.path is None or not plain_path(target.path):
        return None
    line = f"{edits.keyword(stage.from_instruction, ctx.source, 'ENV')} {var}={target.path}"
    title = f"Set `{var}={target.path}` after the stage's `FROM`{target.title_note}"
    edit = edits.insert_line_after(stage.from_instruction, line)
    if target.assumed:
        return Fix.unsafe(f"{title} ({target.assumed})", edit)
    return Fix.safe(title, edit)


# -- versions -------------------------------------------------------------------------------------

_RELEASE = re.compile(r"\d+(?:\.\d+)*")
_SPEC = re.compile(r"\s*(===|==|~=|!=|<=|>=|<|>|=)\s*([^\s,;]*)")


def parse_version(text: str) -> tuple[int, ...] | None:
    m = _RELEASE.match(text.strip().lstrip("v"))
    return tuple(int(p) for p in m.group().split(".")) if m else None


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = max(len(a), len(b))
    a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a > b) - (a < b)


class Bounds(NamedTuple):
    """What a version specifier allows, as far as release numbers tell: (version, inclusive)."""

    lower: tuple[tuple[int, ...], bool] | None = None
    upper: tuple[tuple[int, ...], bool] | None = None
    known: bool = True  # False when the specifier could not be read

    def below(self, version: str) -> bool:
        """Every allowed version is < ``version``."""
        v = parse_version(version)
        if not self.known or self.upper is None or v is None:
            return False
        c = _cmp(self.upper[0], v)
        return c < 0 or (c == 0 and not self.upper[1])

    def at_least(self, version: str) -> bool:
        """Every allowed version is >= ``version``."""
        v = parse_version(version)
        if not self.known or self.lower is None or v is None:
            return False
        return _cmp(self.lower[0], v) >= 0

    @property
    def unpinned(self) -> bool:
        return self.known and self.lower is None and self.upper is None


def bounds(spec: str) -> Bounds:
    """Bounds of a PEP 440 specifier set (`>=0.20,<1`, `==0.18.*`, `~=4.40.0`) or a conda `=4.40`."""
    spec = spec.split(";", 1)[0].strip()
    if not spec:
        return Bounds()
    lower: tuple[tuple[int, ...], bool] | None = None
    upper: tuple[tuple[int, ...], bool] | None = None
    for part in spec.split(","):
        if not part.strip():
            continue
        m = _SPEC.fullmatch(part)
        if not m:
            return Bounds(known=False)
        op, text = m.groups()
        v = parse_version(text)
        if v is None:
            return Bounds(known=False)
        lo: tuple[tuple[int, ...], bool] | None = None
        hi: tuple[tuple[int, ...], bool] | None = None
        if op in ("==", "===", "=") and (text.endswith(".*") or op == "="):
            lo, hi = (v, True), (v[:-1] + (v[-1] + 1,), False)
        elif op in ("==", "==="):
            lo, hi = (v, True), (v, True)
        elif op == ">=":
            lo = (v, True)
        elif op == ">":
            lo = (v, False)
        elif op == "<=":
            hi = (v, True)
        elif op == "<":
            hi = (v, False)
        elif op == "~=":
            if len(v) < 2:
                return Bounds(known=False)
            lo, hi = (v, True), (v[:-2] + (v[-2] + 1,), False)
        if lo is not None and (lower is None or _cmp(lo[0], lower[0]) > 0):
            lower = lo
        if hi is not None and (upper is None or _cmp(hi[0], upper[0]) < 0):
            upper = hi
    return Bounds(lower, upper)


class Pins(NamedTuple):
    """What the installs seen before a point say about packages: the last requirement named for
    each package, and whether some install reads requirements the linter cannot see."""

    specs: dict[str, Bounds]
    unseen: bool  # `-r requirements.txt`, `.`, `uv sync`, `poetry install` ...

    def get(self, name: str) -> Bounds | None:
        return self.specs.get(name)


def pins(ctx: "DockerfileContext", instructions: Iterable[Instruction], specs: dict[str, Bounds] | None = None,
         unseen: bool = False) -> Pins:
    """What the RUNs among ``instructions`` install, read in order on top of ``specs``/``unseen``
    (which it updates)."""
    specs = {} if specs is None else specs
    facts = ctx.facts
    for instr in instructions:
        if (instr.inner or instr).keyword != "RUN":
            continue
        for inv in facts.invocations(instr):
            unseen = unseen or unseen_requirements(inv)
            for name, spec, _ in requested_requirements(inv):
                specs[name] = bounds(spec)
    return Pins(specs, unseen)


def file_pins(ctx: "DockerfileContext") -> Pins:
    return pins(ctx, ctx.doc.instructions)


def pins_before_each(ctx: "DockerfileContext", runs: Iterable[Instruction]) -> Iterator[tuple[Instruction, Pins]]:
    """``(run, pins)`` for RUNs given in file order: the installs that can be in effect for each
    run -- earlier instructions (and the run itself) of the stages whose files its stage contains,
    which all come before it. Each instruction is read once per stage: reading them again for
    every RUN made linting quadratic in the number of RUNs."""
    facts = ctx.facts
    progress: dict[int, tuple[Pins, int]] = {}  # stage index -> (pins so far, instructions read)
    for run in runs:
        stage = facts.stage_of(run)
        if stage is None:
            yield run, Pins({}, False)
            continue
        if stage.index not in progress:
            others = sorted((s for s in image_stages(stage) if s is not stage), key=lambda s: s.index)
            progress[stage.index] = (pins(ctx, [i for s in others for i in s.instructions]), 0)
        so_far, read = progress[stage.index]
        upto = read
        while upto < len(stage.instructions) and stage.instructions[upto].span.start <= run.span.start:
            upto += 1
        so_far = pins(ctx, stage.instructions[read:upto], so_far.specs, so_far.unseen)
        progress[stage.index] = (so_far, upto)
        yield run, Pins(dict(so_far.specs), so_far.unseen)


def hf_hub_status(p: Pins) -> tuple[str, bool]:
    """What the installs say about huggingface_hub, and whether it is certainly >= 0.34 (has `hf`).

    `new`: >= 1.0 for certain (pinned so, or transformers >= 5, which requires it -- DOMAIN §2.7);
    `old`: < 1.0 for certain; `latest`: named with no upper bound below 1.0 (or only pulled in by a
    transformers without an upper bound), so the newest release at build time; `unknown` otherwise,
    including when some install reads requirements the linter cannot see."""
    hub = p.get("huggingface-hub")
    tf = p.get("transformers")
    if (hub is not None and hub.at_least("1.0")) or (tf is not None and tf.at_least("5")):
        return "new", True
    if hub is not None and hub.below("1.0"):
        return "old", False
    if p.unseen or (hub is not None and not hub.known) or (tf is not None and not _open_above(tf)):
        return "unknown", False
    if hub is not None and _open_above(hub):
        return "latest", hub.at_least("0.34")
    if hub is None and tf is not None:
        return "latest", False
    return "unknown", False


def _open_above(b: Bounds) -> bool:
    return b.known and b.upper is None


def cli_option_names(inv: "Invocation") -> list[str]:
    return [w.value.split("=", 1)[0] for w in inv.args if w.value.startswith("-")]
