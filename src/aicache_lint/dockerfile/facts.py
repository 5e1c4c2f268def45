"""Facts computed once per Dockerfile and shared by every rule.

For each instruction: its stage, the ENV/ARG values in scope before it (with expansion), the
effective USER, HOME and numeric ids, and -- for shell-form RUN -- the tokenized script. Values
that cannot be known statically are ``None``; rules then report without a fix.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.dockerfile.model import Dockerfile, Flag, Instruction
from aicache_lint.dockerfile.words import expand, key_values
from aicache_lint.knowledge import base_images
from aicache_lint.source import MappedText

if TYPE_CHECKING:
    from collections.abc import Callable

    from aicache_lint.dockerfile.shell import Invocation, Script
    from aicache_lint.knowledge.base_images import ImageFacts

ROOT_NAMES = ("", "root", "0")
# Directories in every Linux image (FHS); a mount below them creates nothing above its target.
ALWAYS_PRESENT = frozenset({"/", "/tmp", "/var/tmp", "/root", "/home", "/opt", "/usr", "/usr/local", "/var",
                            "/var/cache", "/var/lib", "/etc", "/srv", "/mnt", "/run"})


def covers_path(parent: str, path: str) -> bool:
    """Whether ``path`` is ``parent`` or lies below it."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


class UserInfo(NamedTuple):
    name: str
    uid: int | None = None
    gid: int | None = None
    home: str | None = None
    home_created: bool = False  # the home directory exists, owned by the user (useradd -m, adduser)


class State(NamedTuple):
    """What is in force just before an instruction runs (a new State after each change)."""

    env: dict[str, str | None]  # ENV of the stage (inherited through FROM <stage>)
    args: dict[str, str | None]  # ARGs declared in the stage
    user: str | None  # as written in USER (expanded); "" when never set; None when unknown
    group: str | None
    workdir: str
    users: dict[str, UserInfo]  # created by earlier RUNs (key `group:<name>` for groups)
    # Directories earlier instructions created or chowned, with their owner's name ("root", a
    # user name, or "?" when not known). What the base image holds is not in here.
    dirs: dict[str, str] = {}
    # The base image whose USER, HOME and cache variables are assumed (root, none set) because
    # neither this file nor the known-image table tells them; None when they are known.
    assumed_base: str | None = None
    # Where the base image's facts come from when this file does not show them (an image built in
    # the repository, the known-image table, the registry); None for a stage of this file or scratch.
    base_origin: str | None = None

    @property
    def run_env(self) -> dict[str, str | None]:
        """The environment a RUN sees: build args, overridden by ENV."""
        return {**self.args, **self.env}

    @property
    def is_root(self) -> bool:
        return self.user in ROOT_NAMES

    @property
    def user_info(self) -> UserInfo:
        if self.user is None:
            return UserInfo("?")  # the base image's user, which the Dockerfile does not show
        if self.is_root:
            return UserInfo("root", 0, 0, "/root", home_created=True)
        info = self.users.get(self.user)
        if info is None and self.user.isdigit():
            uid = int(self.user)
            info = next((u for u in self.users.values() if u.uid == uid), UserInfo(self.user, uid))
        if info is None:
            info = UserInfo(self.user, home=f"/home/{self.user}")
        if self.group is not None:
            gid = int(self.group) if self.group.isdigit() else _group_gid(self.group, self.users)
            info = info._replace(gid=gid)
        return info

    def assumption(self, directory: str | None = None) -> str | None:
        """What a fix resting on this state's USER, HOME or cache variables takes for granted
        about an unknown base image (for its title); None when nothing is assumed. With
        ``directory``, a path this file sets needs no assumption about HOME or cache variables --
        only about the user, when no USER line names one."""
        if self.assumed_base is None:
            return None
        base = f"the base image `{self.assumed_base}`"
        if self.user == "":
            return f"assumes {base} runs as root and sets no cache variable"
        if directory is not None and self._set_here(directory):
            return None
        return f"assumes {base} sets no HOME or cache variable"

    def _set_here(self, directory: str) -> bool:
        """Whether ``directory`` comes from a path this file sets (``ENV PIP_CACHE_DIR=/x``) or
        lies outside the home, rather than from HOME or a cache variable the base may set."""
        home = self.home
        if not (home and covers_path(home, directory)):
            return True
        return any(v and v.startswith("/") and covers_path(v, directory)
                   for k, v in self.run_env.items() if k != "PATH")

    def dir_exists(self, path: str) -> bool:
        """Whether ``path`` is known to exist: a directory every image has, the user's created
        home, or one an earlier instruction made."""
        if path in ALWAYS_PRESENT or path in self.dirs:
            return True
        info = self.user_info
        return bool(info.home_created and info.home and posixpath.normpath(info.home) == path) or any(
            u.home_created and u.home and posixpath.normpath(u.home) == path for u in self.users.values()
        )

    @property
    def home(self) -> str | None:
        if "HOME" in self.env:
            return self.env["HOME"]
        return self.user_info.home

    @property
    def home_known(self) -> bool:
        """Whether ``home`` comes from the Dockerfile (root, ``ENV HOME``, a user created by an
        earlier RUN) rather than the ``/home/<name>`` guess for a user of the base image (which
        may be wrong: ``nobody`` lives in ``/nonexistent``)."""
        return self.is_root or "HOME" in self.env or self.user_info.name in self.users

    def cache_dir(self, tool: str, override_var: str, env: dict[str, str | None] | None = None) -> str | None:
        """``$override_var``, else ``$XDG_CACHE_HOME/<tool>``, else ``$HOME/.cache/<tool>``."""
        scope = {**self.run_env, **(env or {})}
        if override_var in scope:
            return _absolute(scope[override_var], self.workdir)
        if "XDG_CACHE_HOME" in scope:
            xdg = scope["XDG_CACHE_HOME"]
            return posixpath.join(xdg, tool) if xdg and xdg.startswith("/") else None
        home = self.home
        return posixpath.join(home, ".cache", tool) if home and home.startswith("/") else None


def mount_target(flag: Flag, state: State) -> str | None:
    """The absolute target of a ``--mount`` (None when it cannot be known): expanded with the
    stage's ENV/ARGs and joined to the WORKDIR, as BuildKit does (DOMAIN §1.4)."""
    raw = flag.mount_target
    value = expand(raw, state.run_env) if raw else None
    return posixpath.normpath(posixpath.join(state.workdir, value)) if value else None


def _group_gid(group: str, users: dict[str, UserInfo]) -> int | None:
    info = users.get(f"group:{group}")
    return info.gid if info else None


def _absolute(path: str | None, workdir: str) -> str | None:
    if not path:
        return None
    return posixpath.normpath(posixpath.join(workdir, path))


class Stage:
    def __init__(
        self,
        index: int,
        name: str | None,  # the AS alias, lower-cased (stage names are case-insensitive)
        from_instruction: Instruction,
        base: str | None,  # the expanded image reference
        parent: "Stage | None",  # when FROM names an earlier stage
    ) -> None:
        self.index = index
        self.name = name
        self.from_instruction = from_instruction
        self.base = base
        self.parent = parent
        self.instructions: list[Instruction] = []
        self.in_final_image = False
        self.copies_from: list[Stage] = []

    def __repr__(self) -> str:
        return f"Stage({self.index}, {self.name!r}, base={self.base!r})"

    def chain(self) -> list["Stage"]:
        """This stage and the stages it is built FROM, nearest first."""
        out, stage = [], self
        while stage is not None:
            out.append(stage)
            stage = stage.parent
        return out


class Facts:
    """``args``: build args given by whoever builds the file (they replace ARG defaults);
    ``bases``: what an external base image gives a stage (the workspace's image graph), or None."""

    def __init__(self, doc: Dockerfile, args: dict[str, str] | None = None,
                 bases: "Callable[[str], ImageFacts | None] | None" = None) -> None:
        self.doc = doc
        self.args = args or {}
        self.bases = bases
        self.stages: list[Stage] = []
        self._state: dict[int, State] = {}
        self._stage_of: dict[int, Stage] = {}
        self._end_state: dict[int, State] = {}
        self._scripts: dict[int, "Script | None"] = {}
        self._invocations: dict[int, list["Invocation"]] = {}
        self._block_starts: dict[tuple[int, str], dict[int, Instruction]] = {}
        self._cache_mounts: dict[int, dict[str, list[tuple[Instruction, Flag]]]] = {}
        self._build()

    # -- queries ------------------------------------------------------------------------------

    def state(self, instruction: Instruction) -> State:
        return self._state[id(instruction)]

    def stage_of(self, instruction: Instruction) -> Stage | None:
        return self._stage_of.get(id(instruction))

    def end_state(self, stage: Stage) -> State:
        """The state after the stage's last instruction."""
        return self._end_state[stage.index]

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def runs(self) -> list[Instruction]:
        """Every RUN, including ONBUILD RUN, in file order."""
        return [i for i in self.doc.instructions if (i.inner or i).keyword == "RUN"]

    def target_stage(self, target: str | None) -> Stage | None:
        """The stage a build with ``target`` makes: that stage (names are case-insensitive), else
        the final one when no target is given; None for a target the file does not have."""
        if not target:
            return self.final_stage
        return next((s for s in self.stages if s.name == target.lower()), None)

    def command(self, stage: Stage) -> tuple[Instruction | None, Instruction | None]:
        """The ENTRYPOINT and CMD in force at the end of ``stage`` (None: not set in this file). As in
        Docker, an ENTRYPOINT set after the CMD's stage resets a CMD inherited from a base stage."""
        entrypoint = cmd = None
        cmd_stage = None
        for s in reversed(stage.chain()):
            for instr in s.instructions:
                if instr.keyword == "CMD":
                    cmd, cmd_stage = instr, s
                elif instr.keyword == "ENTRYPOINT":
                    entrypoint = instr
                    if cmd_stage is not None and cmd_stage is not s:
                        cmd = None
        return entrypoint, cmd

    def script(self, instruction: Instruction) -> "Script | None":
        """The tokenized script of a RUN; for exec form, its JSON strings as one command."""
        key = id(instruction)
        if key not in self._scripts:
            self._scripts[key] = _parse_run(instruction, self.doc.source.text)
        return self._scripts[key]

    def cache_mounts(self, stage: Stage) -> dict[str, list[tuple[Instruction, Flag]]]:
        """The cache mounts of the stage's RUNs by absolute target (when it can be known), in file
        order. Built once per stage: rules that ask for every RUN must not rescan the stage each
        time (that made linting quadratic in the number of RUNs)."""
        found = self._cache_mounts.get(stage.index)
        if found is None:
            found = {}
            for run in stage.instructions:
                target = run.inner or run
                if target.keyword != "RUN":
                    continue
                for flag in target.mounts:
                    if flag.mount_type == "cache":
                        path = mount_target(flag, self.state(run))
                        if path is not None:
                            found.setdefault(path, []).append((run, flag))
            self._cache_mounts[stage.index] = found
        return found

    def block_start(self, run: Instruction, directory: str) -> Instruction:
        """The first plain RUN of the unbroken run of instructions before ``run`` in its stage
        that run as ``run``'s user, with that user's home made and ``directory`` missing (``run``
        itself when there is none): where one `RUN mkdir -p directory` as that user serves every
        RUN of the block. One pass per stage and directory, so asking for every RUN stays linear."""
        stage = self.stage_of(run)
        if stage is None:
            return run
        key = (stage.index, directory)
        if key not in self._block_starts:
            starts: dict[int, Instruction] = {}
            anchor: Instruction | None = None
            user: str | None = None
            for instr in stage.instructions:
                state = self.state(instr)
                starts[id(instr)] = anchor if anchor is not None and state.user == user else instr
                usable = state.dir_exists(state.home or "") and not state.dir_exists(directory)
                if not usable or state.user != user:
                    anchor, user = None, state.user
                if usable and anchor is None and instr.inner is None and instr.keyword == "RUN":
                    anchor = instr
            self._block_starts[key] = starts
        return self._block_starts[key].get(id(run), run)

    def invocations(self, instruction: Instruction) -> list["Invocation"]:
        """The commands of a RUN, read once per instruction (rules ask for every RUN again and
        again: this was a tenth of a 400-file run); callers must not change the list."""
        key = id(instruction)
        found = self._invocations.get(key)
        if found is None:
            from aicache_lint.dockerfile.shell import invocations

            script = self.script(instruction)
            found = self._invocations[key] = invocations(script) if script is not None else []
        return found

    # -- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        global_args: dict[str, str | None] = {}
        state: State | None = None
        stage: Stage | None = None
        by_name: dict[str, Stage] = {}
        escape = self.doc.escape
        for instr in self.doc.instructions:
            kw = instr.keyword
            if kw == "FROM":
                if stage is not None and state is not None:
                    self._end_state[stage.index] = state
                stage, state = self._new_stage(instr, global_args, by_name)
                self._state[id(instr)] = state
                self._stage_of[id(instr)] = stage
                continue
            if state is None or stage is None:
                self._state[id(instr)] = State({}, dict(global_args), "", None, "/", {})
                if kw == "ARG":
                    for kv in key_values(instr.args, "ARG", escape):
                        given = self.args.get(kv.key)
                        global_args[kv.key] = given if given is not None else _value(kv.raw_value, global_args, escape)
                continue
            self._state[id(instr)] = state
            self._stage_of[id(instr)] = stage
            stage.instructions.append(instr)
            state = self._apply(instr, state, global_args, by_name, stage)
        if stage is not None and state is not None:
            self._end_state[stage.index] = state
        self._mark_final()

    def _new_stage(
        self, instr: Instruction, global_args: dict[str, str | None], by_name: dict[str, Stage]
    ) -> tuple[Stage, State]:
        words = instr.words
        base = expand(words[0], global_args, self.doc.escape) if words else None
        name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
        parent = by_name.get(base.lower()) if base else None
        stage = Stage(len(self.stages), name, instr, base, parent)
        self.stages.append(stage)
        if name:
            by_name[name] = stage
        if parent is not None:
            inherited = self._end_state[parent.index]
            return stage, inherited._replace(args={})
        inherited = self._inherited(base)
        if inherited is not None:
            return stage, inherited
        # A stage that needs `sudo` before any USER line runs as a non-root user of its base image.
        user = None if self._sudo_before_user(instr) else ""
        known = base_images.known_image(base)
        if known is not None:
            users = {name: UserInfo(name, uid, gid, home, home_created=True)
                     for name, (uid, gid, home) in base_images.image_users(base).items()}
            return stage, State(dict(known.env), {}, known.user or user, None, "/", users, base_origin=known.origin)
        if base is not None and base.lower() == "scratch":
            return stage, State({}, {}, "", None, "/", {}, base_origin="the empty image")  # root, nothing set
        return stage, State({}, {}, user, None, "/", {}, assumed_base=base or words[0] if words else "?")

    def _inherited(self, base: str | None) -> State | None:
        """The state a stage starts from when the workspace knows its base image's facts."""
        facts = self.bases(base) if self.bases is not None and base else None
        if facts is None:
            return None
        users = {}
        if facts.user is not None and facts.user not in ROOT_NAMES:
            users[facts.user] = UserInfo(facts.user, facts.uid, facts.gid, facts.home, home_created=facts.home is not None)
        return State(dict(facts.env), {}, facts.user, None, "/", users, dict(facts.dirs),
                     assumed_base=facts.assumed_base, base_origin=facts.origin)

    def _sudo_before_user(self, from_instruction: Instruction) -> bool:
        instructions = self.doc.instructions
        for instr in instructions[instructions.index(from_instruction) + 1 :]:
            if instr.keyword in ("FROM", "USER"):
                return False
            script = self.script(instr) if (instr.inner or instr).keyword == "RUN" else None
            if script is not None and any(
                c.words and c.words[0].value.rsplit("/", 1)[-1] == "sudo" for c in script.commands
            ):
                return True
        return False

    def _apply(
        self,
        instr: Instruction,
        state: State,
        global_args: dict[str, str | None],
        by_name: dict[str, Stage],
        stage: Stage,
    ) -> State:
        kw, escape = instr.keyword, self.doc.escape
        if kw == "ENV":
            env = dict(state.env)
            for kv in key_values(instr.args, "ENV", escape):
                env[kv.key] = _value(kv.raw_value, state.run_env, escape)
            return state._replace(env=env)
        if kw == "ARG":
            args = dict(state.args)
            for kv in key_values(instr.args, "ARG", escape):
                if kv.key in self.args:
                    args[kv.key] = self.args[kv.key]
                elif kv.raw_value is None:
                    args[kv.key] = global_args.get(kv.key)
                else:
                    args[kv.key] = _value(kv.raw_value, state.run_env, escape)
            return state._replace(args=args)
        if kw == "USER":
            raw = instr.args.text.strip()
            value = expand(raw, state.run_env, escape) if raw else ""
            if value is None:
                value = raw  # keep the text; ids and HOME stay unknown
            user, _, group = value.partition(":")
            return state._replace(user=user, group=group or None)
        if kw == "WORKDIR":
            value = expand(instr.args.text.strip(), state.run_env, escape)
            workdir = _absolute(value, state.workdir) if value else None
            if workdir and not state.dir_exists(workdir):
                # Created with its parents if missing; by whom depends on the builder: owner unknown.
                made, path = {}, workdir
                while not state.dir_exists(path):
                    made[path] = "?"
                    path = posixpath.dirname(path)
                state = state._replace(dirs={**state.dirs, **made})
            return state._replace(workdir=workdir or state.workdir)
        if kw == "RUN":
            invs = self.invocations(instr)
            users = _created_users(invs, state)
            if users:
                state = state._replace(users={**state.users, **users})
            made = _made_dirs(instr, invs, state)
            if made:
                state = state._replace(dirs={**state.dirs, **made})
            return state
        if kw in ("COPY", "ADD"):
            for flag in instr.flags_named("from"):
                source = by_name.get((flag.value or "").lower())
                if source is not None:
                    stage.copies_from.append(source)
        return state

    def _mark_final(self) -> None:
        final = self.final_stage
        if final is None:
            return
        for s in final.chain():
            s.in_final_image = True


def _value(raw: str | None, env: dict[str, str | None], escape: str) -> str | None:
    return None if raw is None else expand(raw, env, escape)


def run_script_text(instruction: Instruction, text: str) -> MappedText:
    """The shell text of a RUN: its joined arguments, then any heredoc lines (as the shell sees them)."""
    target = instruction.inner or instruction
    if not target.heredocs:
        return target.args
    first, last = target.heredocs[0], target.heredocs[-1]
    newline = MappedText("\n", [first.span.start - 1, first.span.start])
    body = MappedText.contiguous(text[first.span.start : last.span.end], first.span.start)
    return MappedText.join([target.args, newline, body])


def _parse_run(instruction: Instruction, text: str) -> "Script | None":
    target = instruction.inner or instruction
    if target.keyword != "RUN":
        return None
    if target.is_json:
        from aicache_lint.dockerfile.exec_form import exec_script

        return exec_script(target.args)
    from aicache_lint.dockerfile.shell import parse_script

    return parse_script(run_script_text(instruction, text))


# -- directories made by RUN: mount points, mkdir, install -d, chown ----------------------------


def _made_dirs(run: Instruction, invs: list["Invocation"], state: State) -> dict[str, str]:
    """The directories a RUN leaves behind, with their owner's name. BuildKit creates a mount's
    target and its missing parents owned by root, and they stay in the image (DOMAIN §11.1)."""
    made: dict[str, str] = {}

    def exists(path: str) -> bool:
        return path in made or state.dir_exists(path)

    def make(path: str, owner: str, parents: bool) -> None:
        missing = []
        while not exists(path):
            missing.append(path)
            if not parents or path == "/":
                break
            path = posixpath.dirname(path)
        for p in missing:
            made[p] = owner

    for flag in (run.inner or run).mounts:
        target = mount_target(flag, state)
        if target:
            make(target, "root", parents=True)
    user = state.user_info.name if not state.is_root else "root"
    for inv in invs:
        if inv.command.conditional:
            continue  # may not run
        owner = "root" if runs_under_sudo(inv) else user
        if inv.program == "mkdir":
            for path in _path_args(inv, state, ("-m", "--mode", "-Z", "--context")):
                make(path, owner, parents=any(w.value in ("-p", "--parents") or _short(w.value, "p") for w in inv.args))
        elif inv.program == "install" and any(w.value in ("-d", "--directory") or _short(w.value, "d")
                                              for w in inv.args):
            named = _option(inv, ("-o", "--owner"))
            for path in _path_args(inv, state, ("-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "-S")):
                make(path, named or owner, parents=True)
        elif inv.program == "chown":
            words = [w for w in inv.args if not w.value.startswith("-")]
            if len(words) < 2:
                continue
            spec = expand(words[0].raw, state.run_env) if words[0].has_expansion else words[0].value
            if not spec:
                continue
            name = _user_name(spec.split(":", 1)[0].split(".", 1)[0], state)
            recursive = any(w.value in ("-R", "--recursive") or _short(w.value, "R") for w in inv.args)
            for path in _path_args(inv, state, (), words[1:]):
                made[path] = name
                if recursive:
                    for d in [*state.dirs, *made]:
                        if covers_path(path, d):
                            made[d] = name
    return made


def _short(arg: str, letter: str) -> bool:
    """A cluster of short options containing ``letter`` (`-pv`)."""
    return arg.startswith("-") and not arg.startswith("--") and arg[1:].isalpha() and letter in arg[1:]


def _option(inv: "Invocation", names: tuple[str, ...]) -> str | None:
    args = inv.args
    for i, w in enumerate(args):
        if w.value in names and i + 1 < len(args):
            return args[i + 1].value
        for n in names:
            if n.startswith("--") and w.value.startswith(n + "="):
                return w.value[len(n) + 1 :]
    return None


def _path_args(inv: "Invocation", state: State, valued: tuple[str, ...], words=None) -> list[str]:
    """The absolute paths among the command's operands (options and their values skipped);
    `~` and `$HOME` stand for the user's home when it is known."""
    out, skip = [], False
    for w in inv.args if words is None else words:
        if skip:
            skip = False
            continue
        if w.value.startswith("-") and words is None:
            skip = w.value in valued
            continue
        raw = w.raw
        home = state.home
        for prefix in ("~/", "$HOME/", "${HOME}/"):
            if raw.startswith(prefix) and home:
                raw = home.rstrip("/") + "/" + raw[len(prefix):]
        value = expand(raw, state.run_env) if (w.has_expansion or raw != w.raw) else w.value
        if value and "*" not in value and "?" not in value:
            out.append(posixpath.normpath(posixpath.join(state.workdir, value)))
    return out


def _user_name(owner: str, state: State) -> str:
    """The name of a `chown` owner given by name or by uid."""
    if owner in ROOT_NAMES:
        return "root"
    if owner.isdigit():
        users = (u for k, u in state.users.items() if not k.startswith("group:"))
        return next((u.name for u in users if u.uid == int(owner)), owner)
    return owner


def runs_under_sudo(inv: "Invocation") -> bool:
    """Whether a `sudo` wrapper precedes the program's own words in the command."""
    first = inv.program_words[0]
    for word in inv.command.words:
        if word is first:
            return False
        if word.value.rsplit("/", 1)[-1] == "sudo":
            return True
    return False


# -- users created by RUN useradd/adduser/groupadd ----------------------------------------------

_USERADD_VALUE_OPTS = {
    "useradd": {"-u": "uid", "--uid": "uid", "-g": "gid", "--gid": "gid", "-d": "home", "--home-dir": "home",
                "-s": None, "--shell": None, "-c": None, "--comment": None, "-G": None, "--groups": None,
                "-k": None, "--skel": None, "-e": None, "-f": None, "-K": None, "-p": None, "-b": None,
                "--base-dir": None},
    # Debian's adduser takes long options; BusyBox's adduser takes -u/-G/-h/-s/-g(gecos).
    "adduser": {"--uid": "uid", "-u": "uid", "--gid": "gid", "--home": "home", "-h": "home",
                "--shell": None, "-s": None, "--gecos": None, "-g": None, "--ingroup": "group",
                "-G": "group", "--firstuid": None, "--lastuid": None, "-k": None},
    "groupadd": {"-g": "gid", "--gid": "gid", "-K": None, "-p": None},
    "addgroup": {"--gid": "gid", "-g": "gid"},
}


def _created_users(invs: list["Invocation"], state: State) -> dict[str, UserInfo]:
    created: dict[str, UserInfo] = {}
    known = {**state.users}
    for inv in invs:
        options = _USERADD_VALUE_OPTS.get(inv.program)
        if options is None or inv.command.conditional:
            continue  # in an `if` branch or after `||`: the user may not be made (fish-speech reuses uid 1000)
        values: dict[str, str] = {}
        positional: list[str] = []
        # `useradd -u ${NB_UID}` with `ARG NB_UID=1000` in scope: the shell sees the build arg.
        args = [(expand(w.raw, state.run_env) or "") if w.has_expansion else w.value for w in inv.args]
        i = 0
        while i < len(args):
            arg = args[i]
            opt, eq, inline = arg.partition("=")
            if opt in options:
                if eq:
                    value = inline
                else:
                    i += 1
                    value = args[i] if i < len(args) else ""
                if options[opt]:
                    values[options[opt]] = value
            elif not arg.startswith("-"):
                positional.append(arg)
            i += 1
        if not positional:
            continue
        if inv.program in ("groupadd", "addgroup") or (inv.program == "adduser" and "--group" in args):
            gid = values.get("gid", "")
            entry = UserInfo(positional[-1], gid=int(gid) if gid.isdigit() else None)
            created[f"group:{positional[-1]}"] = known[f"group:{positional[-1]}"] = entry
            continue
        name = positional[0] if inv.program == "adduser" else positional[-1]
        uid = values.get("uid", "")
        gid_text = values.get("gid") or values.get("group") or ""
        if gid_text.isdigit():
            gid: int | None = int(gid_text)
        elif gid_text:
            gid = _group_gid(gid_text, known)
        else:
            gid = None
        home = values.get("home") or f"/home/{name}"
        created[name] = known[name] = UserInfo(
            name, int(uid) if uid.isdigit() else None, gid, home, _creates_home(inv.program, args)
        )
    return created


def _creates_home(program: str, args: list[str]) -> bool:
    """useradd creates the home only with -m (alone or combined, e.g. `-rm`); adduser (Debian
    and BusyBox) creates it unless told not to."""
    if program == "adduser":
        return "--no-create-home" not in args and "-H" not in args
    return any(
        a == "--create-home" or (a.startswith("-") and not a.startswith("--") and a[1:].isalpha() and "m" in a[1:])
        for a in args
    )
