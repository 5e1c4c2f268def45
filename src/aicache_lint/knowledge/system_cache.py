"""Shared logic of the system package-manager cache rules (apt, apk, dnf/yum/zypper) and of the
clean-up check: which RUNs install with a system tool, which cache mounts cover its cache, the
clean-ups that empty a mounted cache, and the stage-level steps a cache needs (apt's
``docker-clean`` removal, apk's ``/etc/apk/cache`` link) -- one helper, shared by every rule that
inserts them, so that their fixes carry identical edits and converge."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Iterable, NamedTuple

from aicache_lint.dockerfile import edits
from aicache_lint.dockerfile.facts import Stage, State
from aicache_lint.dockerfile.model import Flag, Instruction
from aicache_lint.dockerfile.words import expand
from aicache_lint.fix import Edit
from aicache_lint.knowledge.package_cache import (
    PIP,
    UV,
    cache_mount_targets,
    covers,
    remove_word,
)

if TYPE_CHECKING:
    from aicache_lint.dockerfile.facts import Facts
    from aicache_lint.dockerfile.shell import Invocation, Word
    from aicache_lint.rules.base import DockerfileContext

APT_CACHE = "/var/cache/apt"
APT_ARCHIVES = "/var/cache/apt/archives"
APT_LISTS_ROOT = "/var/lib/apt"
APT_LISTS = "/var/lib/apt/lists"
# What apt downloads: (the directory the recipe mounts, where the downloads land, what they are).
APT_DOWNLOADS = (
    (APT_CACHE, APT_ARCHIVES, "packages"),
    (APT_LISTS_ROOT, APT_LISTS, "package lists"),
)
APT_PROGRAMS = frozenset({"apt-get", "apt"})
APT_INSTALLS = frozenset({"install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "reinstall", "source"})
DOCKER_CLEAN = "/etc/apt/apt.conf.d/docker-clean"
KEEP_CACHE_LINE = (
    "rm -f /etc/apt/apt.conf.d/docker-clean; "
    "echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache"
)

APK_CACHE = "/var/cache/apk"
APK_LINK = "/etc/apk/cache"
APK_LINK_COMMAND = f"ln -sf {APK_CACHE} {APK_LINK} && "


# -- RUNs, commands and mounts ------------------------------------------------------------------


def stage_runs(stage: Stage) -> list[Instruction]:
    """The stage's own RUNs (ONBUILD RUNs run in other builds and are left alone)."""
    return [i for i in stage.instructions if i.keyword == "RUN"]


def descendants(ctx: "DockerfileContext", stage: Stage) -> list[Stage]:
    """Stages built FROM ``stage``, directly or not."""
    return [s for s in ctx.facts.stages if s is not stage and stage in s.chain()]


def subcommand_of(inv: "Invocation") -> str | None:
    from aicache_lint.dockerfile.shell import subcommand

    words = subcommand(inv, 1)
    return words[0] if words else None


def apt_invocations(facts: "Facts", run: Instruction) -> list["Invocation"]:
    return [inv for inv in facts.invocations(run) if inv.program in APT_PROGRAMS]


def apt_installs(facts: "Facts", run: Instruction) -> list["Invocation"]:
    return [inv for inv in apt_invocations(facts, run) if subcommand_of(inv) in APT_INSTALLS]


def apt_updates_itself(facts: "Facts", run: Instruction) -> bool:
    """Whether the RUN refreshes the package lists before its first install."""
    installs = apt_installs(facts, run)
    first = installs[0].command.start if installs else None
    for inv in apt_invocations(facts, run):
        if subcommand_of(inv) == "update":
            return first is None or inv.command.script is not installs[0].command.script or inv.command.start < first
    return False


def mount_targets(run: Instruction, state: State) -> list[str | None]:
    return [t for _, t in cache_mount_targets(run, state)]


def covered(run: Instruction, state: State, directory: str) -> bool:
    """A cache mount covers ``directory`` (or its target cannot be known: assume it does)."""
    return any(t is None or covers(t, directory) for t in mount_targets(run, state))


def apt_mount(directory: str) -> str:
    """The recipe's cache mount at one of apt's directories (locked: apt takes a lock on them)."""
    return f"--mount=type=cache,target={directory},sharing=locked"


def apt_unmounted(run: Instruction, state: State) -> list[str]:
    """The recipe's directories (`/var/cache/apt`, `/var/lib/apt`) whose downloads no cache mount
    of the RUN keeps: a mount at the directory or at the download directory inside it
    (`/var/cache/apt/archives`, `/var/lib/apt/lists`) keeps them."""
    return [root for root, downloads, _ in APT_DOWNLOADS if not covered(run, state, downloads)]


def non_cache_mount_over(run: Instruction, state: State, directories: Iterable[str]) -> bool:
    """A bind/tmpfs/secret mount at or above one of ``directories`` (or with an unknown target)."""
    dirs = list(directories)
    for flag in (run.inner or run).mounts:
        if flag.mount_type == "cache":
            continue
        raw = flag.mount_target
        value = expand(raw, state.run_env) if raw else None
        target = posixpath.normpath(posixpath.join(state.workdir, value)) if value else None
        if target is None or any(covers(target, d) or covers(d, target) for d in dirs):
            return True
    return False


def apt_cache_mounts(run: Instruction, state: State) -> list[tuple[Flag, str]]:
    """Cache mounts at apt's own directories (or inside them)."""
    return [
        (flag, target)
        for flag, target in cache_mount_targets(run, state)
        if target is not None and (covers(APT_CACHE, target) or covers(APT_LISTS_ROOT, target))
    ]


def line_ref(instruction: Instruction) -> str:
    return f"line {instruction.start_line}"


# -- clean-ups that empty a cache ---------------------------------------------------------------


class Cleanup(NamedTuple):
    inv: "Invocation"
    directory: str  # the mounted cache it empties
    words: tuple["Word", ...]  # the words to drop; empty: the whole command
    label: str  # how the message names it
    unsafe: str | None = None  # why dropping it may change the image


_GLOB = frozenset("*?[")


def _path_of(word: "Word", state: State) -> str | None:
    """The absolute path an `rm` argument names, up to its first glob character's directory;
    None when it cannot be known (a variable, a relative path)."""
    value = word.value
    home = state.home if state.home_known else None
    if not word.quoted and value.startswith("~/") and home:
        value = home + value[1:]
    elif word.has_expansion:
        for prefix in ("$HOME/", "${HOME}/"):
            if value.startswith(prefix) and home and "$" not in value[len(prefix) :]:
                value = home + "/" + value[len(prefix) :]
                break
        else:
            return None
    if not value.startswith("/"):
        return None
    glob = next((i for i, c in enumerate(value) if c in _GLOB), None)
    if glob is not None:
        value = value[:glob]
        value = value[: value.rfind("/")] if "/" in value else ""
        if not value:
            return None
    return posixpath.normpath(value)


def _rm_paths(inv: "Invocation") -> list["Word"]:
    """The operands of `rm` (what follows its options)."""
    operands: list["Word"] = []
    options_done = False
    for word in inv.args:
        v = word.value
        if not options_done and v == "--":
            options_done = True
        elif not options_done and v.startswith("-") and len(v) > 1:
            continue
        else:
            operands.append(word)
    return operands


def _short_flags(inv: "Invocation") -> set[str]:
    found: set[str] = set()
    for w in inv.args:
        v = w.value
        if v.startswith("--"):
            found.add(v)
        elif v.startswith("-") and len(v) > 1:
            found.update("-" + c for c in v[1:])
    return found


def cleanups(
    ctx: "DockerfileContext", run: Instruction, state: State, targets: list[str | None] | None = None
) -> list[Cleanup]:
    """Unconditional commands of ``run`` that empty a cache mounted at one of ``targets`` (the
    RUN's own cache mounts by default). Conditional ones (`if [ -n "$CI" ]; then ...`, after `||`)
    are deliberate and left out."""
    mounts = [t for t in (mount_targets(run, state) if targets is None else targets) if t is not None]
    if not mounts:
        return []

    def under(directory: str | None) -> str | None:
        if directory is None:
            return None
        return next((t for t in mounts if covers(t, directory)), None)

    found: list[Cleanup] = []
    for inv in ctx.facts.invocations(run):
        if inv.command.conditional:
            continue
        program, sub = inv.program, subcommand_of(inv)
        if program == "rm":
            operands = _rm_paths(inv)
            hits = [(w, under(_path_of(w, state))) for w in operands]
            matched = [(w, t) for w, t in hits if t is not None]
            if matched:
                whole = len(matched) == len(operands)
                options = [w.raw for w in inv.args if w not in operands]
                label = " ".join([*(w.raw for w in inv.program_words), *options, *(w.raw for w, _ in matched)])
                found.append(Cleanup(inv, matched[0][1], () if whole else tuple(w for w, _ in matched), label))
        elif program in APT_PROGRAMS and sub in ("clean", "autoclean"):
            target = under(APT_CACHE)
            if target is not None:
                found.append(Cleanup(inv, target, (), f"{program} {sub}"))
        elif program == "pip" and sub == "cache" and _second(inv) == "purge":
            target = under(PIP.cache_dir(inv, state))
            if target is not None:
                found.append(Cleanup(inv, target, (), "pip cache purge"))
        elif program == "uv" and sub == "cache" and _second(inv) == "clean":
            target = under(UV.cache_dir(inv, state))
            if target is not None:
                found.append(Cleanup(inv, target, (), "uv cache clean"))
        elif program in ("conda", "mamba", "micromamba") and sub == "clean":
            target = _conda_pkgs_mount(mounts, state)
            if target is not None:
                flags = _short_flags(inv)
                unsafe = None
                if flags & {"-f", "--force-pkgs-dirs"}:
                    unsafe = "`-f` also empties writable package caches outside the mount, which would then stay in the layer"
                found.append(Cleanup(inv, target, (), f"{program} clean", unsafe))
        elif program == "npm" and sub == "cache" and _second(inv) == "clean":
            env = {**state.run_env, **{k: w.value for k, w in inv.env.items()}}
            if any(k.lower() == "npm_config_cache" for k in env) or any(w.value.startswith("--cache") for w in inv.args):
                continue
            home = state.home if state.home_known else None
            target = under(posixpath.join(home, ".npm")) if home else None
            if target is not None:
                found.append(Cleanup(inv, target, (), "npm cache clean"))
        elif program in ("dnf5", "dnf", "yum") and sub == "clean" and _second(inv) != "expire-cache":
            tool = next(t for t in (DNF5, DNF, YUM) if program in t.programs)
            target = next((t for t in map(under, tool.cache_dirs) if t is not None), None)
            if target is not None:
                found.append(Cleanup(inv, target, (), f"{program} clean"))
    return found


def _second(inv: "Invocation") -> str | None:
    from aicache_lint.dockerfile.shell import subcommand

    words = subcommand(inv, 2)
    return words[1] if len(words) > 1 else None


def _conda_pkgs_mount(mounts: list[str], state: State) -> str | None:
    pkgs = state.run_env.get("CONDA_PKGS_DIRS")
    if pkgs:
        first = pkgs.split(",")[0].strip()
        return next((t for t in mounts if covers(t, first)), None)
    return next((t for t in mounts if posixpath.basename(t.rstrip("/")) == "pkgs"), None)


def cleanup_edits(ctx: "DockerfileContext", cleanup: Cleanup) -> tuple[Edit, ...] | None:
    """The edits dropping a clean-up: the whole command with one joining operator, or just the
    operands that name the cache. None when no layout-safe edit exists."""
    if cleanup.words:
        out: list[Edit] = []
        for word in cleanup.words:
            edit = remove_word(ctx, cleanup.inv, word)
            if edit is None:
                return None
            out.extend(edit)
        return tuple(out)
    if cleanup.inv.command.script.exec_form:
        return None
    return edits.delete_command(ctx.source, cleanup.inv.command, ctx.doc.escape)


def cleanup_span(cleanup: Cleanup):
    command = cleanup.inv.command
    if cleanup.words:
        return command.script.file_span(cleanup.words[0].start, cleanup.words[-1].end)
    words = command.words
    return command.script.file_span(words[0].start, words[-1].end)


# -- apt's docker-clean -------------------------------------------------------------------------


def _mentions(ctx: "DockerfileContext", run: Instruction, needle: str) -> bool:
    return any(_invocation_mentions(inv, needle) for inv in ctx.facts.invocations(run))


def _invocation_mentions(inv: "Invocation", needle: str) -> bool:
    words = [*inv.args, *(r.target for r in inv.command.redirects if r.target is not None)]
    return any(needle in w.value for w in words)


def docker_clean_handled(ctx: "DockerfileContext", run: Instruction) -> bool:
    """Whether `docker-clean` is dealt with (removed, moved or rewritten) before ``run``'s apt
    commands: by an earlier RUN of its stage (or of a stage it is built FROM), or by a command of
    ``run`` itself that comes before its first apt command (`rm -f .../docker-clean && apt-get ...`)."""
    stage = ctx.facts.stage_of(run)
    if stage is None:
        return False
    for inv in ctx.facts.invocations(run):
        if inv.program in ("apt-get", "apt"):
            break
        if _invocation_mentions(inv, "docker-clean"):
            return True
    for s in stage.chain():
        for other in stage_runs(s):
            if s is stage and other.span.start >= run.span.start:
                break
            if _mentions(ctx, other, "docker-clean"):
                return True
    return False


def first_apt_run(ctx: "DockerfileContext", stage: Stage) -> Instruction | None:
    return next((r for r in stage_runs(stage) if apt_invocations(ctx.facts, r)), None)


class StageStep(NamedTuple):
    edit: Edit | None  # None: nothing to insert
    problem: str | None  # why no fix can be offered
    anchor: Instruction | None  # the RUN the step goes before


def docker_clean_step(ctx: "DockerfileContext", run: Instruction) -> StageStep:
    """The `docker-clean` removal that a cached apt RUN needs earlier in its stage: a new RUN
    line before the stage's first apt RUN (above its comment block, so a suppression comment
    keeps its instruction), unless the stage or a stage it is built FROM already deals with it."""
    stage = ctx.facts.stage_of(run)
    if stage is None:
        return StageStep(None, "the RUN is not in a stage", None)
    anchor = first_apt_run(ctx, stage) or run
    if docker_clean_handled(ctx, run) or docker_clean_handled(ctx, anchor):
        return StageStep(None, None, None)
    state = ctx.facts.state(anchor)
    if not state.is_root:
        who = f"`{state.user}`" if state.user else "the base image's user"
        return StageStep(
            None,
            f"the stage runs as {who} at {line_ref(anchor)}, so `{DOCKER_CLEAN}` cannot be removed there",
            anchor,
        )
    line = f"{edits.keyword(anchor, ctx.source, 'RUN')} {KEEP_CACHE_LINE}"
    return StageStep(edits.insert_line_above(ctx.source, anchor, line), None, anchor)


def apt_layer_risks(
    ctx: "DockerfileContext", stage: Stage, anchor: Instruction, mounted_by_fix: set[int]
) -> list[str]:
    """Why removing `docker-clean` before ``anchor`` may grow the image: later apt RUNs of the
    stage (or of stages built FROM it) without a cache mount at /var/cache/apt would keep their
    downloaded packages and package caches in their layers."""
    risks = []
    for s in [stage, *descendants(ctx, stage)]:
        for other in stage_runs(s):
            if s is stage and other.span.start < anchor.span.start:
                continue
            if id(other) in mounted_by_fix or not apt_invocations(ctx.facts, other):
                continue
            if covered(other, ctx.facts.state(other), APT_CACHE):
                continue
            risks.append(
                f"the apt RUN on {line_ref(other)} has no cache mount at `{APT_CACHE}`, so with "
                "`docker-clean` gone its downloaded packages would stay in its layer"
            )
    return risks


# -- apk's cache link ---------------------------------------------------------------------------


def apk_link_handled(ctx: "DockerfileContext", run: Instruction) -> bool:
    """Whether `/etc/apk/cache` is linked by ``run`` or by an earlier RUN of its stage chain."""
    stage = ctx.facts.stage_of(run)
    if stage is None:
        return False
    for s in stage.chain():
        for other in stage_runs(s):
            if s is stage and other.span.start > run.span.start:
                break
            for inv in ctx.facts.invocations(other):
                if inv.program == "ln" and inv.args and inv.args[-1].value.rstrip("/") == APK_LINK:
                    return True
    return False


def cleanup_edit_sets(ctx: "DockerfileContext", found: list[Cleanup]) -> list[tuple[Edit, ...] | None]:
    """For each clean-up, the edits that drop it (None when it cannot be dropped safely).
    Consecutive whole commands go together, with one joining operator for the group, so each of
    them carries the group's edits; operands of a wider `rm` go one by one."""
    result: list[tuple[Edit, ...] | None] = [None] * len(found)
    order = sorted(
        (i for i, c in enumerate(found) if not c.words),
        key=lambda i: (id(found[i].inv.command.script), found[i].inv.command.start),
    )
    groups: list[list[int]] = []
    for i in order:
        command = found[i].inv.command
        if groups:
            previous = found[groups[-1][-1]].inv.command
            if (
                previous.script is command.script
                and previous.op_after is not None
                and command.op_before is not None
                and previous.op_after.start == command.op_before.start
            ):
                groups[-1].append(i)
                continue
        groups.append([i])
    for group in groups:
        commands = [found[i].inv.command for i in group]
        dropped = None if commands[0].script.exec_form else edits.delete_commands(ctx.source, commands, ctx.doc.escape)
        for i in group:
            result[i] = dropped
    for i, cleanup in enumerate(found):
        if cleanup.words:
            result[i] = cleanup_edits(ctx, cleanup)
    return result


def drop_cleanups(ctx: "DockerfileContext", found: list[Cleanup]) -> list[Edit]:
    """The edits dropping every clean-up of ``found`` that can be dropped, without overlaps."""
    out: list[Edit] = []
    for dropped in cleanup_edit_sets(ctx, found):
        if dropped is None or all(e in out for e in dropped):
            continue
        if any(a.start < b.end and b.start < a.end for a in dropped for b in out):
            continue
        out.extend(dropped)
    return out


# -- apk, dnf, yum, zypper ----------------------------------------------------------------------


class SystemTool(NamedTuple):
    programs: frozenset[str]
    installs: frozenset[str]  # subcommands that download packages
    cache_dirs: tuple[str, ...]  # a cache mount at any of these counts as a cache for the tool
    recipe: str | None  # the mount target of a verified recipe; None: report only
    keep: str | None = None  # the setting without which downloaded packages are deleted after install
    manual: str = ""  # for a report-only tool: what a fix would need


APK = SystemTool(frozenset({"apk"}), frozenset({"add", "upgrade"}), (APK_CACHE, APK_LINK), APK_CACHE)
_DNF_INSTALLS = frozenset(
    {"install", "upgrade", "update", "reinstall", "groupinstall", "distro-sync", "builddep", "downgrade", "group"}
)
# dnf4 and dnf5 delete the packages they download after a successful transaction unless
# `keepcache` is on (default False: dnf `doc/conf_ref.rst`, dnf5 `doc/dnf5.conf.5.rst` and
# dnf5-caching(7)); `--setopt=keepcache=1` turns it on for one command, in dnf4, dnf5 and yum 3
# (whose upstream default is 1, but CentOS 7's /etc/yum.conf sets keepcache=0).
KEEPCACHE_OPTION = "--setopt=keepcache=1"
_DNF_FIX = f"mount the one it uses and add `{KEEPCACHE_OPTION}`"
DNF5 = SystemTool(frozenset({"dnf5"}), _DNF_INSTALLS, ("/var/cache/libdnf5",), "/var/cache/libdnf5", "keepcache")
# `dnf` is dnf5 on Fedora 41+ and dnf4 elsewhere (system cache dir `/var/cache/dnf`, dnf
# `dnf/const.py.in` SYSTEM_CACHEDIR); `yum` is yum 3 (`/var/cache/yum`, yum `yum/config.py`) or,
# on RHEL 8+, dnf4: a mount at any of their cache dirs counts, and which one to add is not known.
DNF = SystemTool(
    frozenset({"dnf"}), _DNF_INSTALLS, ("/var/cache/dnf", "/var/cache/libdnf5"), None, "keepcache",
    "`dnf` is dnf4 with its cache in `/var/cache/dnf` or dnf5 with `/var/cache/libdnf5`, depending on the "
    f"image: {_DNF_FIX}",
)
YUM = SystemTool(
    frozenset({"yum"}), _DNF_INSTALLS, ("/var/cache/yum", "/var/cache/dnf"), None, "keepcache",
    "`yum` is yum 3 with its cache in `/var/cache/yum` or dnf4 with `/var/cache/dnf`, depending on the "
    f"image: {_DNF_FIX}",
)
MICRODNF = SystemTool(
    frozenset({"microdnf"}), _DNF_INSTALLS, ("/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"), None,
    manual="microdnf's cache dir and package keeping are not documented",
)
# zypper keeps the RPMs it downloads (in /var/cache/zypp/packages) only for repositories with
# `keeppackages` on, which `zypper modifyrepo --keep-packages` sets (zypper(8): FILES, modifyrepo).
ZYPPER = SystemTool(
    frozenset({"zypper"}),
    frozenset({"install", "in", "update", "up", "dist-upgrade", "dup", "patch", "source-install", "si"}),
    ("/var/cache/zypp",),
    None,
    "keeppackages",
    "zypper keeps downloaded packages only for repositories with `keeppackages` on, which "
    "`zypper modifyrepo --keep-packages --all` sets in the image's repository files, a change left to you",
)
_ZYPPER_REPO_COMMANDS = frozenset({"modifyrepo", "mr", "addrepo", "ar"})


def tool_installs(ctx: "DockerfileContext", run: Instruction, tool: SystemTool) -> list["Invocation"]:
    return [
        inv for inv in ctx.facts.invocations(run) if inv.program in tool.programs and subcommand_of(inv) in tool.installs
    ]


def tool_covered(run: Instruction, state: State, tool: SystemTool) -> bool:
    return any(covered(run, state, d) for d in tool.cache_dirs)


def packages_kept(ctx: "DockerfileContext", run: Instruction, inv: "Invocation", tool: SystemTool) -> bool:
    """Whether ``inv`` keeps the packages it downloads: the command, a command before it in its RUN,
    or a RUN before it in its stage (or a stage it is built FROM) mentions the tool's setting
    (`--setopt=keepcache=1`, `echo keepcache=1 >> /etc/dnf/dnf.conf`, `zypper mr -k -a`) -- any
    mention counts, a setting to keep them off is a choice too."""
    if tool.keep is None:
        return True
    stage = ctx.facts.stage_of(run)
    runs = [r for s in reversed(stage.chain()) for r in stage_runs(s)] if stage is not None else [run]
    for other in runs:
        for call in ctx.facts.invocations(other):
            if _invocation_mentions(call, tool.keep) or _keeps_zypper_packages(call):
                return True
            if call is inv:
                return False
        if other is run:
            return False
    return False


def _keeps_zypper_packages(inv: "Invocation") -> bool:
    return (
        inv.program == "zypper"
        and subcommand_of(inv) in _ZYPPER_REPO_COMMANDS
        and any(w.value in ("-k", "--keep-packages") for w in inv.args)
    )


def keep_option_edit(ctx: "DockerfileContext", inv: "Invocation") -> Edit | None:
    """`--setopt=keepcache=1` right after the program's name (dnf, dnf5 and yum take global
    options before the command); None in an exec-form RUN."""
    if inv.command.script.exec_form:
        return None
    name = inv.program_words[-1]
    return Edit.insert(inv.command.script.file_span(name.end, name.end).start, f" {KEEPCACHE_OPTION}")


def insert_before_command(ctx: "DockerfileContext", inv: "Invocation", text: str) -> Edit | None:
    """An insertion of ``text`` right before ``inv``'s command, when it starts a plain element of
    a list (not after `||` or a pipe, not conditional)."""
    command = inv.command
    if command.conditional or command.script.exec_form:
        return None
    if command.op_before is not None and command.op_before.text not in ("&&", ";", "\n"):
        return None
    at = command.script.file_span(command.start, command.start).start
    return Edit.insert(at, text)
