"""The steps of a GitHub workflow or composite action as positions in its YAML tree, for the rules
that report on a step and edit it. ``ci/workflows.py`` reads the same steps as build records
(``Invocation``); ``invocations_of`` joins the two by file and line."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.compose.model import Mapping, Scalar, Sequence

if TYPE_CHECKING:
    from aicache_lint.buildfiles import BuildFile
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.invocations import Invocation

SETUP_BUILDX = "docker/setup-buildx-action"
BUILD_PUSH = "docker/build-push-action"
BAKE = "docker/bake-action"
# `runs-on` labels of GitHub-hosted runners (https://docs.github.com/en/actions/using-github-hosted-runners);
# larger runners take custom labels, so anything else is taken as possibly self-hosted.
_HOSTED_PREFIXES = ("ubuntu-", "windows-", "macos-")


class Step(NamedTuple):
    job: str  # the job id ("" in a composite action)
    job_node: Mapping | None  # the job's mapping (None in an action)
    node: Mapping  # the step's mapping
    index: int  # 0-based position in the job's steps
    line: int  # the line its build records name (``Origin.line``)

    @property
    def uses(self) -> str | None:
        """The action without its `@ref` (`docker/build-push-action`), or None."""
        value = self.node.get("uses")
        value = value.target if value is not None else None
        return value.value.partition("@")[0].strip() if isinstance(value, Scalar) and value.value else None

    @property
    def inputs(self) -> Mapping | None:
        """The `with:` mapping, when the step has one."""
        node = self.node.get("with")
        node = node.target if node is not None else None
        return node if isinstance(node, Mapping) else None

    @property
    def run(self) -> Scalar | None:
        node = self.node.get("run")
        node = node.target if node is not None else None
        return node if isinstance(node, Scalar) else None


def steps(file: "BuildFile") -> list[Step]:
    """Every step of a workflow (job by job) or of a composite action, in file order."""
    root = file.yaml.root if file.yaml is not None else None
    if root is None:
        return []
    source = file.source
    out: list[Step] = []
    if file.kind == "action":
        runs = _mapping(root.get("runs"))
        return _steps(source, "", None, runs.get("steps") if runs is not None else None)
    jobs = _mapping(root.get("jobs"))
    for pair in jobs.pairs if jobs is not None else ():
        job = _mapping(pair.value)
        if job is not None:
            out += _steps(source, pair.name, job, job.get("steps"))
    return out


def _steps(source, job_id: str, job: Mapping | None, node) -> list[Step]:
    node = node.target if node is not None else None
    if not isinstance(node, Sequence):
        return []
    found = []
    for index, item in enumerate(node.items):
        step = _mapping(item)
        if step is not None:
            found.append(Step(job_id, job, step, index, source.line_of(step.span.start)))
    return found


def _mapping(node) -> Mapping | None:
    node = node.target if node is not None else None
    return node if isinstance(node, Mapping) else None


def earlier_steps(all_steps: list[Step], step: Step) -> list[Step]:
    """The steps of ``step``'s job that run before it."""
    return [s for s in all_steps if s.job == step.job and s.job_node is step.job_node and s.index < step.index]


# Steps that give the job a builder whose cache outlives the job: a Blacksmith sticky builder, or a
# Buildx builder on a BuildKit daemon elsewhere (`driver: remote` with an `endpoint`, `kubernetes`).
_STICKY_BUILDERS = ("useblacksmith/setup-docker-builder",)
_PERSISTENT_DRIVERS = ("remote", "kubernetes")


def persistent_builder(all_steps: list[Step], step: Step) -> str | None:
    """The earlier step of ``step``'s job that sets up a builder whose cache survives the job
    (named for messages), or None: then layers and cache mounts start from nothing on a fresh runner."""
    for earlier in earlier_steps(all_steps, step):
        if earlier.uses in _STICKY_BUILDERS:
            return f"`{earlier.uses}`"
        if earlier.uses == SETUP_BUILDX and earlier.inputs is not None:
            driver = earlier.inputs.get("driver")
            value = getattr(driver.target, "value", None) if driver is not None else None
            if value in _PERSISTENT_DRIVERS or earlier.inputs.get("endpoint") is not None:
                return f"`{SETUP_BUILDX}` with driver `{value or 'remote'}`"
    return None


def runs_on(step: Step) -> list[str] | None:
    """The job's `runs-on` labels when they are literal; None when an expression or a runner group
    decides (or in a composite action, which runs wherever its caller does)."""
    node = step.job_node.get("runs-on") if step.job_node is not None else None
    node = node.target if node is not None else None
    if isinstance(node, Scalar) and node.value and "${{" not in node.value:
        return [node.value]
    if isinstance(node, Sequence):
        labels = [i.target.value for i in node.items if isinstance(i.target, Scalar) and i.target.value]
        if len(labels) == len(node.items) and not any("${{" in label for label in labels):
            return labels
    return None


def github_hosted(step: Step) -> bool | None:
    """True on a GitHub-hosted runner (a fresh machine for every job: nothing local survives),
    False on a self-hosted one, None when the labels do not say."""
    labels = runs_on(step)
    if labels is None:
        return None
    if "self-hosted" in labels:
        return False
    if len(labels) == 1 and labels[0].startswith(_HOSTED_PREFIXES):
        return True
    return None


def invocations_of(ws: "Workspace", path: str, step: Step) -> list["Invocation"]:
    """The builds ``step`` declares (several for a matrix job; a `run:` script's commands by the
    lines inside the step)."""
    import os

    from aicache_lint.discovery import file_kind
    from aicache_lint.workspace.invocations import declared_in

    source = ws.source(path)
    last = source.line_of(step.node.span.end) if source is not None else step.line
    if file_kind(path) == "workflow":
        here = declared_in(ws, path)  # this workflow's own builds: no other file is read
    else:  # an action's steps are read with the inputs of the workflows that use it
        here = ws.cached(("invocations-by-file",), lambda: _by_file(ws)).get(os.path.abspath(path), [])
    return [inv for inv in here if step.line <= inv.origin.line <= last]


def _by_file(ws: "Workspace") -> dict[str, list["Invocation"]]:
    """The project's builds by the file that declares them (one pass, not one per step)."""
    import os

    found: dict[str, list[Invocation]] = {}
    for inv in ws.invocations():
        found.setdefault(os.path.abspath(inv.origin.path), []).append(inv)
    return found
