"""CI workflows, GitLab CI and Bake files: the builds they declare (``invocations``, the records the
workspace joins to Dockerfiles) and their positions for the 5xx rules (``steps``, ``scripts``,
``hcl``, ``bake_steps``, ``bake_edits``).

``kind_of`` names the files this package reads; ``invocations`` turns one of them into
``workspace.invocations.Invocation`` records plus problem messages (``path:line: what went wrong``).
Parsers never open files: they read other files (composite actions, the other Bake files of a
directory) through the caller's ``read(path) -> str | None``. Importing this package loads nothing
else; each parser and its libraries (PyYAML, tree-sitter-hcl) load when a file of its kind is read.
"""

from __future__ import annotations

import os
from collections.abc import Callable

BAKE_NAMES = frozenset({"docker-bake.json", "docker-bake.hcl", "docker-bake.override.json",
                        "docker-bake.override.hcl"})  # what Bake loads by default (see ci/bake.py)

Read = Callable[[str], "str | None"]


def kind_of(path: str) -> str | None:
    """"workflow", "action", "gitlab", "bake" or None, by the file's name and place.

    Workflows are the files directly in `.github/workflows` (GitHub reads no subfolder); actions
    are local composite actions under `.github/actions`; other Bake file names are read only
    through `--file`, so only the default names count here."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    if name in BAKE_NAMES:
        return "bake"
    if name == ".gitlab-ci.yml":
        return "gitlab"
    if not name.endswith((".yml", ".yaml")):
        return None
    if parts[-3:-1] == [".github", "workflows"]:
        return "workflow"
    if name in ("action.yml", "action.yaml") and any(parts[i:i + 2] == [".github", "actions"]
                                                     for i in range(len(parts) - 2)):
        return "action"
    return None


def invocations(path: str, text: str, read: Read, root: str = ".") -> tuple[list, list[str]]:
    """The builds ``path`` declares and the problems met reading it; never raises.

    ``root`` is the repository root, used when the path does not show it (a workflow's root is
    the folder holding `.github`). A composite action on its own yields nothing: its builds are
    read with the inputs of the workflow steps that use it."""
    kind = kind_of(path)
    try:
        if kind == "workflow":
            from aicache_lint.ci.workflows import workflow_invocations

            return workflow_invocations(path, text, read, _repo_root(path, root))
        if kind == "gitlab":
            from aicache_lint.ci.gitlab import gitlab_invocations

            return gitlab_invocations(path, text, read)
        if kind == "bake":
            return _bake_invocations(path, text, read, root)
        if kind == "action":
            from aicache_lint.ci.workflows import check_action

            return [], check_action(path, text)
    except RecursionError:  # a pathological nesting the parsers did not bound
        return [], [f"{path}:1: too deeply nested to read"]
    return [], []


def _bake_invocations(path: str, text: str, read: Read, root: str) -> tuple[list, list[str]]:
    """A Bake file in its own directory runs there (`docker buildx bake`); one deeper in the
    repository is often run from the root (`docker buildx bake -f docker/docker-bake.hcl`, as
    vllm does). Of the two readings, the one whose Dockerfiles exist wins."""
    import os

    from aicache_lint.ci.bake import file_invocations

    here = file_invocations(path, text, read)
    folder = os.path.dirname(path) or "."
    if os.path.normpath(os.path.abspath(folder)) == os.path.normpath(os.path.abspath(root)):
        return here
    from_root = file_invocations(path, text, read, workdir=root)

    def existing(found: tuple[list, list[str]]) -> int:
        return sum(1 for inv in found[0] if inv.dockerfile and read(inv.dockerfile) is not None)

    return from_root if existing(from_root) > existing(here) else here


def _repo_root(path: str, root: str) -> str:
    parts = path.replace("\\", "/").split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == ".github":
            return "/".join(parts[:i]) or "."
    return root


def base_dir(path: str) -> str:
    """The folder a CI file's relative paths start from (absolute): above `.github` for a workflow
    or an action, the file's own folder for `.gitlab-ci.yml` or a Bake file."""
    here = os.path.abspath(path)
    return _repo_root(here, os.path.dirname(here))


def shown_path(path: str, declared_in: str, root: str | None) -> str:
    """How a message names a file that a CI or Bake file refers to (a Dockerfile, a Compose file):
    relative to the repository ``root`` (the `.git` folder's), else to the folder holding
    `.github`, else to the declaring file's folder; with `/`. The same wherever the run starts."""
    base = root or base_dir(declared_in)
    shown = os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")
    # a file outside the repository (`-f /tmp/Dockerfile.modelcar`) keeps its absolute path
    return path if os.path.isabs(path) and shown.startswith("../") else shown


def load_yaml(path: str, text: str) -> tuple[object, str | None]:
    """A YAML document whose mappings and strings know their line (``.line``, 1-based; a block
    scalar's line is its first content line), or None and a problem message."""
    import yaml  # lazily: only YAML CI files need it

    try:
        return yaml.load(text, Loader=_loader(yaml)), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return None, f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})"


class LineDict(dict):
    line = 0


class LineStr(str):
    line = 0


_LOADER = None


def _loader(yaml):
    """PyYAML's safe loader (the C one when built) whose mappings and strings carry lines."""
    global _LOADER
    if _LOADER is None:
        base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

        class Loader(base):
            pass

        def mapping(loader, node):
            data = LineDict()
            data.line = node.start_mark.line + 1
            yield data
            data.update(loader.construct_mapping(node))

        def string(loader, node):
            data = LineStr(loader.construct_scalar(node))
            data.line = node.start_mark.line + 1 + (node.style in ("|", ">"))
            return data

        def other(loader, suffix, node):
            # GitLab's `!reference [.job, script]` and any other local tag: read as the plain node
            # it tags (a list or mapping whose contents are not followed), so the file still loads.
            if isinstance(node, yaml.SequenceNode):
                return loader.construct_sequence(node)
            if isinstance(node, yaml.MappingNode):
                return mapping(loader, node)
            return string(loader, node)

        Loader.add_constructor("tag:yaml.org,2002:map", mapping)
        Loader.add_constructor("tag:yaml.org,2002:str", string)
        Loader.add_multi_constructor("!", other)
        _LOADER = Loader
    return _LOADER


def join(base: str, rel: str) -> str:
    """``rel`` joined to ``base`` and normalised: the style of every path in a record."""
    return os.path.normpath(os.path.join(base, rel))
