"""The `docker/bake-action` steps of the project's workflows, joined to the Bake files they load and
the targets they build: what the Bake rules need to know whether a target is built in GitHub
Actions, on which runner, with which builder, and whether the step sets its cache itself.

bake-action inputs (https://github.com/docker/bake-action#inputs): `workdir` (default `.`),
`files` (default: Bake's default files in `workdir`), `targets` (default the `default` group), and
`set` lines `<target pattern>.<attribute>=<value>` that override the files (`*.cache-to=...`)."""

from __future__ import annotations

import fnmatch
import os
from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.ci.steps import BAKE, SETUP_BUILDX, Step, earlier_steps, github_hosted, invocations_of, steps

if TYPE_CHECKING:
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.invocations import Invocation

_TARGET_SUFFIX = ": bake target "  # how ci/workflows.py names the build of one target of a step


class BakeStep(NamedTuple):
    workflow: str  # the workflow's path
    step: Step
    files: tuple[str, ...] | None  # absolute paths of the Bake files it loads; None: an expression decides
    builds: dict[str, "Invocation"]  # target name -> its build as this step runs it
    sets: tuple[str, ...]  # the `set` override lines
    buildx: bool  # a docker/setup-buildx-action step runs before it in its job
    hosted: bool | None  # on a GitHub-hosted runner (None: the labels do not say)
    targets_known: bool  # False: an expression picks the targets and it cannot be expanded here

    def may_build(self, target: str, matrix: bool) -> bool:
        """Whether the step may build ``target`` although it names it nowhere we can read: its
        targets are not known, or it builds a name no Bake file defines, which a ``matrix`` target
        of the files may generate (`name = "base-${cuda}"`)."""
        if target in self.builds:
            return True
        undefined = any(f"target `{name}` is not defined" in inv.unresolved for name, inv in self.builds.items())
        return not self.targets_known or (matrix and undefined)

    def loads(self, path: str) -> bool:
        return self.files is not None and os.path.abspath(path) in self.files

    def sets_cache(self, target: str) -> bool:
        """Whether a `set` line gives ``target`` a `cache-from` or `cache-to`."""
        for line in self.sets:
            key = line.partition("=")[0].strip()
            pattern, _, attribute = key.rpartition(".")
            if attribute in ("cache-from", "cache-to") and fnmatch.fnmatchcase(target, pattern):
                return True
        return False


def target_name(inv: "Invocation") -> str | None:
    """The Bake target a bake-action step's build record is of (None for other builds)."""
    _, sep, target = inv.origin.name.rpartition(_TARGET_SUFFIX)
    return target if sep else None


def reusable_workflow_words(ws: "Workspace") -> frozenset[str]:
    """The words of the `with:` values of jobs that call a reusable workflow (`jobs.<id>.uses:`,
    e.g. docker/github-builder's bake.yml): a Bake target they name is built, and its cache set,
    by a workflow this repository does not hold."""
    return ws.cached(("reusable-workflow-words",), lambda: frozenset(_reusable_words(ws)))


def _reusable_words(ws: "Workspace") -> set[str]:
    import re

    from aicache_lint.compose.model import Mapping, Scalar

    words: set[str] = set()
    for path in ws.build_files_of("workflow"):
        parsed = ws.build_file(path)
        jobs = parsed.yaml.root.get("jobs") if parsed is not None and parsed.yaml is not None else None
        for pair in jobs.target.pairs if jobs is not None and isinstance(jobs.target, Mapping) else ():
            job = pair.value.target
            inputs = job.get("with") if isinstance(job, Mapping) and job.get("uses") is not None else None
            for item in inputs.target.pairs if inputs is not None and isinstance(inputs.target, Mapping) else ():
                value = item.value.target
                if isinstance(value, Scalar) and value.value:
                    words.update(re.findall(r"[\w.-]+", value.value))
    return words


def bake_steps(ws: "Workspace") -> list[BakeStep]:
    """Every docker/bake-action step of the project's workflows, in file order."""
    return ws.cached(("bake-steps",), lambda: _find(ws))


def _find(ws: "Workspace") -> list[BakeStep]:
    found = []
    for path in ws.build_files_of("workflow"):
        parsed = ws.build_file(path)
        if parsed is None or parsed.yaml is None:
            continue
        every = steps(parsed)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(path))))  # above .github/workflows
        for step in every:
            if step.uses != BAKE:
                continue
            builds = {}
            for inv in invocations_of(ws, path, step):
                target = target_name(inv)
                if target is not None:
                    builds.setdefault(target, inv)
            buildx = any(s.uses == SETUP_BUILDX for s in earlier_steps(every, step))
            unknown = any(p.startswith("bake target `") for inv in invocations_of(ws, path, step) for p in inv.unresolved)
            found.append(BakeStep(path, step, _files(step, root), builds, _lines(step, "set"), buildx,
                                  github_hosted(step), not unknown))
    return found


def _lines(step: Step, name: str) -> tuple[str, ...]:
    """An input's items (one a line, or a YAML list), `#` comments and blank lines dropped."""
    from aicache_lint.compose.model import Scalar, Sequence

    node = step.inputs.get(name) if step.inputs is not None else None
    node = node.target if node is not None else None
    if isinstance(node, Scalar) and node.value is not None:
        raw = node.value.splitlines()
    elif isinstance(node, Sequence):
        raw = [i.target.value for i in node.items if isinstance(i.target, Scalar) and i.target.value is not None]
    else:
        return ()
    return tuple(line.strip() for line in raw if line.strip() and not line.strip().startswith("#"))


def _files(step: Step, root: str) -> tuple[str, ...] | None:
    from aicache_lint.ci.bake import DEFAULT_FILES

    workdir = _lines(step, "workdir")
    named = [f for line in _lines(step, "files") for f in line.split(",") if f.strip()]
    if any("${{" in value for value in (*workdir, *named)):
        return None
    base = os.path.join(root, workdir[0] if workdir else ".")
    return tuple(os.path.normpath(os.path.join(base, f.strip())) for f in (named or DEFAULT_FILES))
