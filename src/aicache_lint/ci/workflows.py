"""GitHub Actions workflows -> build invocations.

Three kinds of step build images:
- `docker/build-push-action`: inputs `context` (default: the Git context, i.e. the repository
  root), `file` (default `<context>/Dockerfile`), `tags` (newline or comma separated), `build-args`
  (one `K=V` a line), `target` (https://github.com/docker/build-push-action#inputs).
- `docker/bake-action`: `files` (default: Bake's default files), `targets` (default `default`),
  `workdir`; the step's environment sets Bake variables. The Bake files are read through
  ``read`` and evaluated by ``ci/bake.py``; `set` overrides are not applied (named as unresolved).
- `run:` scripts, through ``ci/commands.py``, in the step's `working-directory`.
A local composite action (`uses: ./path`) is read and its steps scanned the same way, with
`${{ inputs.x }}` from the caller's `with:` or the input's default.

Paths are relative to the repository root, where the workflow runs. `${{ ... }}` expressions are
expanded when they are `env.X`, `matrix.x` (a literal matrix of at most 16 combinations),
`inputs.x` (in composite actions) or `github.workspace`; anything else stays unknown and whatever
depends on it is left out of the record with an `unresolved` phrase.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Mapping

from aicache_lint.ci import join, load_yaml
from aicache_lint.ci.commands import REMOTE, build_invocations
from aicache_lint.workspace.invocations import Invocation, Origin

MAX_MATRIX = 16  # combinations expanded; a larger matrix stays unknown
_MAX_ACTION_DEPTH = 8  # composite actions calling composite actions
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_PATH = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*")
_COMMA = re.compile(r",(?![^{]*\}\})")  # a comma outside `${{ }}`
_BUILD_PUSH = "docker/build-push-action"
_BAKE = "docker/bake-action"


class _Ctx:
    """What `${{ }}` can see in one step: env, matrix, inputs; unknown names stay unexpanded."""

    def __init__(self, env: Mapping[str, str], matrix: Mapping | None, inputs: Mapping[str, str] | None,
                 workspace: str) -> None:
        self.env = dict(env)
        self.matrix = matrix
        self.inputs = inputs
        self.workspace = workspace  # the repository root, relative to the step's directory

    def lookup(self, expr: str) -> str | None:
        if not _PATH.fullmatch(expr):
            return None  # functions, operators, literals
        head, *rest = expr.split(".")
        if head == "github" and rest == ["workspace"]:
            return self.workspace
        scope = {"env": self.env, "matrix": self.matrix, "inputs": self.inputs}.get(head)
        for key in rest:
            scope = scope.get(key) if isinstance(scope, Mapping) else None
        if isinstance(scope, bool):
            return str(scope).lower()
        return str(scope) if isinstance(scope, (str, int, float)) else None

    def expand(self, text: str) -> str:
        """``text`` with the expressions known here replaced; unknown ones stay as they are."""
        return _EXPR.sub(lambda m: self.lookup(m.group(1)) if self.lookup(m.group(1)) is not None else m.group(0),
                         text)

    def with_env(self, env) -> _Ctx:
        """This context plus an `env:` block, whose values may use what is known so far."""
        out = _Ctx(self.env, self.matrix, self.inputs, self.workspace)
        for key, value in (env.items() if isinstance(env, Mapping) else ()):
            text = out.expand(_scalar(value))
            if _EXPR.search(text):
                out.env.pop(str(key), None)
            else:
                out.env[str(key)] = text
        return out


def _scalar(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def workflow_invocations(path: str, text: str, read: Callable[[str], str | None],
                         root: str) -> tuple[list[Invocation], list[str]]:
    doc, problem = load_yaml(path, text)
    if problem:
        return [], [problem]
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
        return [], []
    scanner = _Scanner(read, root)
    top = _Ctx({}, None, None, ".").with_env(doc.get("env"))
    for job_id, job in doc["jobs"].items():
        if not isinstance(job, dict) or not isinstance(job.get("steps"), list):
            continue
        workdir = _workdir(job) or _workdir(doc)
        combos = expand_matrix(job)
        for combo in combos:
            ctx = _Ctx(top.env, combo, None, ".").with_env(job.get("env"))
            scanner.steps(path, str(job_id), job["steps"], ctx, workdir, depth=0)
    return list(dict.fromkeys(scanner.out)), list(dict.fromkeys(scanner.problems))


def check_action(path: str, text: str) -> list[str]:
    """Problems of a composite action read on its own: only whether it parses."""
    return [p for p in [load_yaml(path, text)[1]] if p]


def _workdir(owner) -> str | None:
    defaults = owner.get("defaults") if isinstance(owner, dict) else None
    run = defaults.get("run") if isinstance(defaults, dict) else None
    wd = run.get("working-directory") if isinstance(run, dict) else None
    return str(wd) if isinstance(wd, str) else None


def expand_matrix(job) -> list[dict | None]:
    """The matrix combinations of a job, or [None] when it has none or it is too large or
    computed (matrix references then stay unknown)."""
    strategy = job.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if not isinstance(matrix, dict):
        return [None]
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    if any(not isinstance(v, list) for v in axes.values()):
        return [None]
    combos = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] if axes else []
    if len(combos) > 4 * MAX_MATRIX:
        return [None]
    for ex in matrix.get("exclude") or []:
        if isinstance(ex, dict):
            combos = [c for c in combos if any(c.get(k) != v for k, v in ex.items())]
    # include: extend every combination of the axes whose original values it matches, else add it
    # as a combination of its own -- never merged into another include's (an include-only matrix
    # is one job per entry)
    # (https://docs.github.com/en/actions/using-jobs/using-a-matrix-for-your-jobs#expanding-or-adding-matrix-configurations)
    original = list(combos)
    for inc in matrix.get("include") or []:
        if not isinstance(inc, dict):
            return [None]
        matched = False
        for c in original:
            if all(c.get(k) == v for k, v in inc.items() if k in axes):
                c.update({k: v for k, v in inc.items() if k not in axes})
                matched = True
        if not matched:
            combos.append(dict(inc))
    if not combos or len(combos) > MAX_MATRIX:
        return [None]
    return combos


class _Scanner:
    def __init__(self, read: Callable[[str], str | None], root: str) -> None:
        self.read = read
        self.root = root
        self.out: list[Invocation] = []
        self.problems: list[str] = []

    def steps(self, path: str, prefix: str, steps: list, ctx: _Ctx, workdir: str | None, depth: int,
              action_stack: tuple[str, ...] = ()) -> None:
        for index, step in enumerate(steps, 1):
            if not isinstance(step, dict):
                continue
            line = getattr(step, "line", 1)
            step_ctx = ctx.with_env(step.get("env"))
            label = step.get("name") or step.get("uses") or str(index)
            name = f"{prefix} / {step_ctx.expand(str(label))}"
            uses = step.get("uses")
            inputs = step.get("with") if isinstance(step.get("with"), dict) else {}
            if isinstance(uses, str):
                action = uses.partition("@")[0]
                if action == _BUILD_PUSH:
                    self.out.append(self.build_push(Origin("workflow", path, line, name), inputs, step_ctx))
                elif action == _BAKE:
                    self.bake(Origin("workflow", path, line, name), inputs, step_ctx)
                elif uses.startswith("./"):
                    self.local_action(path, line, name, uses, inputs, step_ctx, depth, action_stack)
            elif isinstance(step.get("run"), str):
                run = step["run"]
                wd = step.get("working-directory") or workdir
                cwd = join(self.root, step_ctx.expand(str(wd))) if wd else self.root
                if wd and _EXPR.search(step_ctx.expand(str(wd))):
                    cwd = None  # a computed directory: paths stay unknown
                rel_root = os.path.relpath(self.root, cwd) if cwd is not None else self.root
                ctx_here = _Ctx(step_ctx.env, step_ctx.matrix, step_ctx.inputs, rel_root)
                env = {**ctx_here.env, "GITHUB_WORKSPACE": rel_root}
                script = ctx_here.expand(run)
                origin = Origin("workflow", path, getattr(run, "line", line), name)
                self.out.extend(build_invocations(script, origin, cwd, env))

    def value(self, text, ctx: _Ctx, what: str, unresolved: list[str]) -> str | None:
        expanded = ctx.expand(_scalar(text))
        unknown = _EXPR.search(expanded)
        if unknown:
            unresolved.append(f"{what} `{_scalar(text).strip()}`: `{unknown.group(0)}` is not known here")
            return None
        return expanded

    def build_push(self, origin: Origin, inputs: Mapping, ctx: _Ctx) -> Invocation:
        unresolved: list[str] = []
        context = dockerfile = None
        where = self.value(inputs.get("context", ""), ctx, "context", unresolved)
        if where is not None:
            where = where.strip()
            if where.startswith("{{defaultContext}}"):  # the Git context, optionally `:subdir`
                where = where.removeprefix("{{defaultContext}}").lstrip(":") or "."
            if REMOTE.match(where):
                unresolved.append(f"context `{where}` is remote")
            else:
                context = join(self.root, where or ".")
        if "file" in inputs:
            file = self.value(inputs["file"], ctx, "Dockerfile", unresolved)
            if file is not None and context is not None:
                dockerfile = join(self.root, file.strip())
        elif context is not None:
            dockerfile = join(context, "Dockerfile")
        tags = []
        for item in list_input(inputs.get("tags")):
            tag = self.value(item, ctx, "tag", unresolved)
            if tag:
                tags.append(tag)
        args = {}
        for item in list_input(inputs.get("build-args"), commas=False):
            arg = self.value(item, ctx, "build arg", unresolved)
            if arg is not None:
                key, _, val = arg.partition("=")
                args[key.strip()] = val
        target = self.value(inputs["target"], ctx, "target", unresolved) if "target" in inputs else None
        # Cache entries are one a line (a comma belongs to the entry: `type=gha,mode=max`).
        cache_from, cache_to = ([ctx.expand(item) for item in list_input(inputs.get(key), commas=False)]
                                for key in ("cache-from", "cache-to"))
        return Invocation(origin, dockerfile, context, (target or "").strip() or None, tuple(sorted(args.items())),
                          tuple(tags), tuple(unresolved), tuple(cache_from), tuple(cache_to))

    def bake(self, origin: Origin, inputs: Mapping, ctx: _Ctx) -> None:
        from aicache_lint.ci.bake import DEFAULT_FILES, BakeFiles

        unresolved: list[str] = []
        workdir = self.value(inputs.get("workdir", "."), ctx, "workdir", unresolved)
        if workdir is None:
            self.out.append(Invocation(origin, None, None, unresolved=tuple(unresolved)))
            return
        cwd = join(self.root, workdir.strip() or ".")
        named = [self.value(f, ctx, "bake file", unresolved) for f in list_input(inputs.get("files"))]
        targets = [t for t in (self.value(t, ctx, "bake target", unresolved)
                               for t in list_input(inputs.get("targets"))) if t] or ["default"]
        overrides = list_input(inputs.get("set"), commas=False)
        cache_sets = [line for line in overrides if line.partition("=")[0].rpartition(".")[2] in _CACHE_KEYS]
        if len(cache_sets) < len(overrides):
            unresolved.append("bake-action `set` overrides other than cache-from/cache-to are not applied")
        files = BakeFiles()
        paths = [join(cwd, f) for f in named if f] if inputs.get("files") else [join(cwd, f) for f in DEFAULT_FILES]
        for file in paths:
            text = self.read(file)
            if text is not None:
                files.load(file, text)
            elif inputs.get("files"):
                self.problems.append(f"{origin.path}:{origin.line}: bake file `{file}` not found")
        self.problems.extend(files.problems)
        if not files.blocks:
            self.out.append(Invocation(origin, None, None, unresolved=(*unresolved, "no Bake file found")))
            return
        for inv in files.invocations(cwd, ctx.env, targets):
            where = origin._replace(name=f"{origin.name}: bake target {inv.origin.name}")
            inv = _with_cache_sets(inv, cache_sets, ctx)
            self.out.append(inv._replace(origin=where, unresolved=(*unresolved, *inv.unresolved)))

    def local_action(self, path: str, line: int, name: str, uses: str, inputs: Mapping, ctx: _Ctx, depth: int,
                     stack: tuple[str, ...]) -> None:
        folder = join(self.root, uses)
        found = None
        for candidate in ("action.yml", "action.yaml"):
            text = self.read(os.path.join(folder, candidate))
            if text is not None:
                found = (os.path.join(folder, candidate), text)
                break
        if found is None:
            self.problems.append(f"{path}:{line}: local action `{uses}` not found (no {uses}/action.yml)")
            return
        action_path, text = found
        if action_path in stack or depth >= _MAX_ACTION_DEPTH:
            self.problems.append(f"{path}:{line}: local action `{uses}` calls itself")
            return
        doc, problem = load_yaml(action_path, text)
        if problem:
            self.problems.append(problem)
            return
        runs = doc.get("runs") if isinstance(doc, dict) else None
        if not isinstance(runs, dict) or runs.get("using") != "composite" or not isinstance(runs.get("steps"), list):
            return  # a JavaScript or Docker action builds nothing we can see
        declared = doc.get("inputs") if isinstance(doc.get("inputs"), dict) else {}
        values: dict[str, str] = {}
        for key in inputs:
            if key not in declared:
                self.problems.append(f"{path}:{line}: `{uses}` has no input `{key}`")
        for key, spec in declared.items():
            raw = inputs.get(key, spec.get("default") if isinstance(spec, dict) else None)
            if raw is None:
                continue
            value = ctx.expand(_scalar(raw))
            if not _EXPR.search(value):
                values[str(key)] = value
        # Inside an action the caller's env is seen; its matrix is not (only `inputs` carry it).
        inner = _Ctx(ctx.env, None, values, ".")
        self.steps(action_path, name, runs["steps"], inner, None, depth + 1, (*stack, action_path))


_CACHE_KEYS = ("cache-from", "cache-to")


def _with_cache_sets(inv: Invocation, lines: list[str], ctx: _Ctx) -> Invocation:
    """The build with the step's `set: <pattern>.cache-from=...` lines applied: a `set` value
    replaces the target's attribute (https://docs.docker.com/build/bake/overrides/)."""
    import fnmatch

    values: dict[str, list[str]] = {}
    for line in lines:
        key, _, value = line.partition("=")
        pattern, _, attribute = key.strip().rpartition(".")
        if fnmatch.fnmatchcase(inv.origin.name, pattern):
            values.setdefault(attribute, []).append(ctx.expand(value.strip()))
    return inv._replace(cache_from=tuple(values.get("cache-from", inv.cache_from)),
                        cache_to=tuple(values.get("cache-to", inv.cache_to)))


def list_input(value, commas: bool = True) -> list[str]:
    """An action's list input: one item a line, or comma separated (docker/actions-toolkit
    `getInputList`), empty items and `#` comments dropped. A YAML list is taken as it is."""
    if value is None:
        return []
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    items = []
    for raw_line in _scalar(value).splitlines():
        for item in _COMMA.split(raw_line) if commas else [raw_line]:
            item = item.strip()
            if item and not item.startswith("#"):
                items.append(item)
    return items
