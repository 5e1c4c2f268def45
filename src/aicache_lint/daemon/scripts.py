"""The Docker daemon configuration that scripts write: a workflow's `run:` steps (and a composite
action's), a GitLab job's `before_script:`/`script:`, a shell script of the repository.

A script writes the daemon's configuration when it writes a file at one of the paths dockerd reads
(https://docs.docker.com/engine/daemon/#configuration-file): `/etc/docker/daemon.json`, and for a
rootless daemon `~/.config/docker/daemon.json` or `$XDG_CONFIG_HOME/docker/daemon.json` (any path
ending so). The project's shell tokenizer finds the writes:
- `tee PATH <<EOF`, `cat > PATH <<EOF`, `cat <<'EOF' | sudo tee PATH`, `echo '{...}' | sudo tee
  PATH`, `printf '%s\\n' '{...}' > PATH`, `sudo sh -c 'echo ... > PATH'`: the heredoc body or the
  echoed text is the whole file;
- `cp`/`mv`/`install SRC PATH` (or into `/etc/docker/`) after such a write to SRC in the same job
  (a file in a temporary folder moved into place; SRC as written, `$TMP/daemon.json` included);
- `jq FILTER PATH > tmp && sudo mv tmp PATH`, `... | sudo tee PATH`: an edit; the keys the filter
  names literally become unknown values (it sets or replaces them); a filter that deletes or
  rebuilds entries, or that the shell expands, makes the whole file unknown.
Anything else that names the file and is no reader (`tee -a`, `>>`, `sed -i`, `cp` from a file not
written here, `envsubst > PATH`) makes it unknown: no finding depends on it. The job's scripts are
read in order, and only the configuration the path holds at the end counts (the last write wins,
`if` branches included).

Shell expansions in an unquoted heredoc or a double-quoted word (`$MIRROR`, `${MIRROR}`, `$(...)`)
and GitHub `${{ }}` expressions (substituted before the shell runs, quotes or not) are unknown parts:
an expansion inside a JSON string makes that value unknown, one in a key makes its object unknown,
one elsewhere makes the JSON unreadable, hence unknown. A script that does not contain
`daemon.json` is not tokenized.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from aicache_lint.daemon.config import UNKNOWN, DaemonConfig
from aicache_lint.source import MappedText, Span

if TYPE_CHECKING:
    from aicache_lint.buildfiles import BuildFile
    from aicache_lint.dockerfile.shell import Command, Word

_DAEMON_PATHS = ("/etc/docker/daemon.json", "/.config/docker/daemon.json", "XDG_CONFIG_HOME}/docker/daemon.json",
                 "$XDG_CONFIG_HOME/docker/daemon.json")
# GitHub `${{ }}`, `$NAME`, `${...}`, `$(...)`, `$((...))`, backticks (ci/commands.py reads the same forms).
_EXPANSION = re.compile(r"\$\{\{.*?\}\}|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9@*#?$!-]|\$\(\(?.*?\)\)?|`[^`]*`")
_GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
_HOLE = "\ue000"  # stands for an unknown part inside the JSON text (a private-use character)
# Commands that read a file named in their words, or only change its metadata.
_READERS = frozenset({"cat", "jq", "grep", "egrep", "fgrep", "test", "[", "[[", "ls", "stat", "echo", "printf",
                      "head", "tail", "less", "more", "diff", "file", "chmod", "chown", "wc", "md5sum",
                      "sha256sum", "readlink", "realpath", "dirname", "basename", "touch"})
# `install -m 0644 SRC DST`: its options with a value in the next word (cp and mv have none we follow).
_COPY_VALUES = frozenset({"-m", "--mode", "-o", "--owner", "-g", "--group", "-S", "--suffix"})
_TEE_SWITCHES = frozenset({"-i", "-p", "--ignore-interrupts", "-", "--"})
# jq options that take values (https://jqlang.org/manual/#invoking-jq).
_JQ_VALUES = {"--arg": 2, "--argjson": 2, "--slurpfile": 2, "--rawfile": 2, "--indent": 1, "-L": 1}
_JQ_REBUILDS = ("del(", "delpaths", "to_entries", "with_entries", "from_entries", "walk(", "map_values", "reduce",
                "input", "$__loc__", "env.", "$ENV", "splits", "keys")
_JQ_NAMES = re.compile(r'"((?:[^"\\]|\\.)*)"|\.([A-Za-z_][A-Za-z0-9_-]*)')


class _Content(NamedTuple):
    """What a command writes: the JSON value (UNKNOWN when not known) and where its text is."""

    data: Any
    span: Span | None


_NOTHING_KNOWN = _Content(UNKNOWN, None)


class _Script(NamedTuple):
    job: str
    text: MappedText
    mapped: bool  # offsets of ``text`` are file offsets
    span: Span  # the whole script in the file
    throwaway: bool = False  # it runs on a GitHub-hosted runner: its daemon lives for one job


def written_configs(file: "BuildFile") -> list[DaemonConfig]:
    """The daemon configurations the file's scripts leave, one per job and daemon path, in file
    order; only those whose JSON was read (not UNKNOWN as a whole)."""
    if "daemon.json" not in file.source.text:
        return []
    jobs: dict[str, list[_Script]] = {}
    for script in _scripts(file):
        jobs.setdefault(script.job, []).append(script)
    out = []
    for scripts in jobs.values():
        if not any("daemon.json" in s.text.text for s in scripts):
            continue
        files: dict[str, _Content] = {}
        for script in scripts:
            _Walk(script, files).run()
        for path, content in files.items():
            if _is_daemon_path(path) and content.span is not None and isinstance(content.data, dict):
                out.append(DaemonConfig(content.data, content.span, path=path,
                                        throwaway=any(s.throwaway for s in scripts)))
    return sorted(out, key=lambda c: c.span)


def _scripts(file: "BuildFile") -> list[_Script]:
    if file.kind == "shell":
        text = file.source.text
        return [_Script("", MappedText.contiguous(text, 0), True, Span(0, len(text)))]
    from aicache_lint.ci.scripts import gitlab_scripts, workflow_scripts

    from aicache_lint.ci.steps import github_hosted

    found = gitlab_scripts(file) if file.kind == "gitlab" else workflow_scripts(file) if file.yaml else []
    return [_Script(s.job, s.text, s.mapped, s.node.span, s.step is not None and _hosted_only(s.step, github_hosted))
            for s in found]


def _hosted_only(step, github_hosted) -> bool:
    """The step runs only on a GitHub-hosted runner: its job's `runs-on` says so, or (in an action)
    its `if:` asks for `runner.environment == 'github-hosted'`."""
    condition = step.node.get("if")
    text = getattr(condition.target, "value", "") if condition is not None else ""
    return github_hosted(step) is True or "github-hosted" in (text or "")


def _is_daemon_path(path: str) -> bool:
    return path.endswith(_DAEMON_PATHS)


class _Walk:
    """Follows one script's commands, updating what each file holds (``files``, by path as written)."""

    def __init__(self, script: _Script, files: dict[str, _Content]) -> None:
        self.script = script
        self.files = files
        self.piped: dict[tuple[int, int], _Content] = {}  # (script, `|` offset) -> what goes through it

    def run(self) -> None:
        from aicache_lint.dockerfile.shell import normalize, parse_script, shell_c_argument

        for command in parse_script(self.script.text).commands:
            inv = normalize(command)
            if shell_c_argument(inv) is not None:
                continue  # `sh -c '...'`: the commands inside follow
            stdin = self._stdin(command)
            program = inv.program if inv is not None else ""
            args = inv.args if inv is not None else []
            out = _NOTHING_KNOWN
            if program == "cat" and all(a.value == "-" for a in args):
                out = stdin
            elif program == "cat" and len(args) == 1:
                out = self.files.get(args[0].value, _NOTHING_KNOWN)
            elif program == "echo":
                out = self._echo(command, args)
            elif program == "printf":
                out = self._printf(command, args)
            elif program == "jq":
                out = self._jq(args, stdin)
            elif program in ("tee", "sponge"):
                out = stdin
                self._tee(args, stdin, program == "sponge")
            elif program in ("cp", "mv", "install"):
                self._copy(args, program == "mv")
            elif program not in _READERS:
                for word in command.words:  # anything else naming a file may change it
                    self._forget(word.value)
            self._redirects(command, out)
            if command.op_after is not None and command.op_after.text in ("|", "|&"):
                self.piped[(id(command.script), command.op_after.start)] = out

    # -- what a command reads and writes ---------------------------------------------------------

    def _stdin(self, command: "Command") -> _Content:
        docs = [r.heredoc for r in command.redirects if r.heredoc is not None and r.fd in (None, "0")]
        if docs:
            return self._heredoc(command, docs[-1])
        before = command.op_before
        if before is not None and before.text in ("|", "|&"):
            return self.piped.get((id(command.script), before.start), _NOTHING_KNOWN)
        return _NOTHING_KNOWN

    def _heredoc(self, command: "Command", doc) -> _Content:
        text = command.script.source.text[doc.body_start : doc.body_end]
        if doc.strip_tabs:
            text = re.sub(r"(?m)^\t+", "", text)
        if not doc.quoted:  # the shell expands it: `\$`, `\``, `\\` and `\<newline>` are its escapes
            text = re.sub(r"\\([$`\\\n])|(" + _EXPANSION.pattern + ")",
                          lambda m: "" if m.group(1) == "\n" else m.group(1) or _HOLE, text)
        return _Content(_json(text), self._span(command, doc.body_start, doc.body_end))

    def _echo(self, command: "Command", args: list["Word"]) -> _Content:
        if args and args[0].value.startswith("-") and set(args[0].value[1:]) <= set("neE"):
            if "e" in args[0].value:
                return _NOTHING_KNOWN
            args = args[1:]
        if not args:
            return _NOTHING_KNOWN
        text = " ".join(_value(w) for w in args)
        if "\\" in text:  # echo's handling of backslashes depends on the shell (POSIX leaves it open)
            return _NOTHING_KNOWN
        return _Content(_json(text), self._span(command, args[0].start, args[-1].end))

    def _printf(self, command: "Command", args: list["Word"]) -> _Content:
        if len(args) == 2 and args[0].value in ("%s", "%s\\n") and not args[0].has_expansion:
            return _Content(_json(_value(args[1])), self._span(command, args[1].start, args[1].end))
        if len(args) == 1:  # the format is the text: only `\n` and `%%` are read here
            raw = _value(args[0])
            if not re.search(r"\\|%", re.sub(r"\\n|%%", "", raw)):
                text = re.sub(r"\\n|%%", lambda m: "\n" if m.group(0) == "\\n" else "%", raw)
                return _Content(_json(text), self._span(command, args[0].start, args[0].end))
        return _NOTHING_KNOWN

    def _jq(self, args: list["Word"], stdin: _Content) -> _Content:
        words = iter(args)
        filter_word, inputs = None, []
        for word in words:
            v = word.value
            if v in _JQ_VALUES:
                for _ in range(_JQ_VALUES[v]):
                    next(words, None)
            elif v in ("--null-input", "--from-file", "--slurp", "--stream", "--seq") or (
                    re.fullmatch(r"-[a-zA-Z]+", v) and set(v) & set("nfs")):
                return _NOTHING_KNOWN  # the input or the filter comes from elsewhere
            elif v.startswith("-") and v != "-":
                continue
            elif filter_word is None:
                filter_word = word
            else:
                inputs.append(word.value)
        base = stdin if not inputs or inputs == ["-"] else self.files.get(inputs[0], _NOTHING_KNOWN)
        if len(inputs) > 1 or filter_word is None or filter_word.has_expansion or not isinstance(base.data, dict):
            return _NOTHING_KNOWN
        program = filter_word.value
        if any(word in program for word in _JQ_REBUILDS):
            return _NOTHING_KNOWN
        data = dict(base.data)
        for m in _JQ_NAMES.finditer(program):
            data[m.group(1) if m.group(1) is not None else m.group(2)] = UNKNOWN
        return _Content(data, base.span)

    def _tee(self, args: list["Word"], stdin: _Content, sponge: bool) -> None:
        append = False
        for word in args:
            v = word.value
            if v in ("-a", "--append") or (not sponge and re.fullmatch(r"-[aip]+", v) and "a" in v):
                append = True
            elif v in _TEE_SWITCHES or v.startswith("--output-error") or re.fullmatch(r"-[ip]+", v):
                continue
            else:
                self._write(v, _NOTHING_KNOWN if append else stdin)

    def _copy(self, args: list["Word"], move: bool) -> None:
        paths: list[str] = []
        words = iter(args)
        into_folder = False
        for word in words:
            v = word.value
            if v in _COPY_VALUES:
                next(words, None)
            elif v.startswith(("-t", "--target-directory")):
                into_folder = True
            elif not v.startswith("-") or v == "-":
                paths.append(v)
        if len(paths) != 2 or into_folder:
            for path in paths:
                self._forget(path)
            return
        source, target = paths
        if target.rstrip("/").endswith(("/etc/docker", "/.config/docker")) and source.endswith("/daemon.json"):
            target = target.rstrip("/") + "/daemon.json"
        self._write(target, self.files.get(source, _NOTHING_KNOWN))
        if move:
            self.files.pop(source, None)

    def _redirects(self, command: "Command", out: _Content) -> None:
        for redirect in command.redirects:
            if redirect.target is None or redirect.fd not in (None, "1"):
                continue
            if redirect.op in (">", ">|", "&>"):
                self._write(redirect.target.value, out)
            elif redirect.op in (">>", "&>>"):
                self._write(redirect.target.value, _NOTHING_KNOWN)

    def _write(self, path: str, content: _Content) -> None:
        self.files[path] = content

    def _forget(self, path: str) -> None:
        if path in self.files or _is_daemon_path(path):
            self.files[path] = _NOTHING_KNOWN

    # -- where ------------------------------------------------------------------------------------

    def _span(self, command: "Command", start: int, end: int) -> Span:
        if not self.script.mapped:
            return self.script.span
        text = command.script.source.text
        while end > start and text[end - 1] in "\r\n":
            end -= 1
        return command.script.file_span(start, end)


def _value(word: "Word") -> str:
    """A word's shell value, each expansion replaced by the unknown-part mark."""
    value = _GITHUB_EXPRESSION.sub(_HOLE, word.value)
    return _EXPANSION.sub(_HOLE, value) if word.has_expansion else value


def _json(text: str) -> Any:
    """The JSON text's value, unknown parts marked UNKNOWN; UNKNOWN when it does not read as an object."""
    text = _GITHUB_EXPRESSION.sub(_HOLE, text)
    try:
        data = json.loads(text)
    except ValueError:
        return UNKNOWN
    return _unknown_parts(data) if isinstance(data, dict) else UNKNOWN


def _unknown_parts(value: Any) -> Any:
    if isinstance(value, str):
        return UNKNOWN if _HOLE in value else value
    if isinstance(value, list):
        return [_unknown_parts(v) for v in value]
    if isinstance(value, dict):
        if any(_HOLE in k for k in value):
            return UNKNOWN  # a computed key could be any key
        return {k: _unknown_parts(v) for k, v in value.items()}
    return value
