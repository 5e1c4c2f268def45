"""Conda environment files (`environment.yml`): the conda packages and the nested `pip:` list.

`dependencies` holds conda match specs (`python=3.10`, `pytorch::pytorch>=2.1`, `cudatoolkit
11.8.*`, `numpy=1.26=py310h_0`) and at most one mapping `pip:` whose items are requirement
lines, `-r file` included. conda writes them to a temporary requirements file next to the
environment file and runs pip on it, so `-r` paths are relative to the environment file's
directory (conda `env/installers/pip.py`; conda "Managing environments": "Creating an environment
from an environment.yml file").
"""

from __future__ import annotations

import re

from aicache_lint.deps import DepFile, Read, Requirement
from aicache_lint.deps.requirements import read_requirement_lines
from aicache_lint.knowledge.requirements import normalize

# A conda package name after an optional `channel::` (names allow `_`, `.`, `-`).
_CONDA_NAME = re.compile(r"(?:[^\s:]+::)?([A-Za-z0-9_][A-Za-z0-9_.-]*)")


def read_environment(path: str, read: Read) -> DepFile:
    """The packages a conda environment file asks for: conda packages (``installer="conda"``)
    and the requirements of its `pip:` list."""
    import yaml  # lazily: only environment files need it

    text = read(path)
    if text is None:
        return DepFile((), (), (f"{path} not found",))
    loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        return DepFile((), (path,), (f"{path}: invalid YAML: {str(exc).splitlines()[0]}",))
    dependencies = _value(root, "dependencies")
    if not isinstance(dependencies, yaml.SequenceNode):
        return DepFile((), (path,), (f"{path}: no `dependencies` list",))
    packages: list[Requirement] = []
    files = [path]
    problems: list[str] = []
    constraints: list[Requirement] = []
    for item in dependencies.value:
        line = item.start_mark.line + 1
        if isinstance(item, yaml.ScalarNode):
            m = _CONDA_NAME.match(item.value.strip())
            if m:
                packages.append(Requirement(normalize(m.group(1)), item.value.strip(), path, line, "conda"))
            else:
                problems.append(f"{path}:{line}: `{item.value}` is not a conda package")
            continue
        pip = _value(item, "pip")
        if not isinstance(pip, yaml.SequenceNode):
            problems.append(f"{path}:{line}: an entry other than a package or a `pip:` list")
            continue
        lines = [(n.start_mark.line + 1, n.value) for n in pip.value if isinstance(n, yaml.ScalarNode)]
        found = read_requirement_lines(lines, path, read)
        packages.extend(found.packages)
        files.extend(f for f in found.files if f not in files)
        problems.extend(found.problems)
        constraints.extend(found.constraints)
    return DepFile(tuple(packages), tuple(files), tuple(problems), tuple(constraints))


def _value(node, key: str):
    """The value node of ``key`` in a mapping node, else None."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
