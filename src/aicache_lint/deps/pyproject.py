"""The dependencies a local project asks for: `pyproject.toml` and `setup.cfg`.

What an install takes from them depends on the tool:
- pip (`pip install .[gpu]`) installs the project's metadata: `[project] dependencies` and the
  selected `[project.optional-dependencies]` (PEP 621), or what setuptools reads for dynamic
  dependencies (`[tool.setuptools.dynamic] dependencies = {file = [...]}`), or Poetry's main
  dependencies when only `[tool.poetry]` describes the project, or `setup.cfg`'s
  `[options] install_requires` and `extras_require`. `pip install --group` adds PEP 735 groups.
- `uv sync` adds `[dependency-groups]` (PEP 735, `include-group` followed): the default groups
  (`[tool.uv] default-groups`, else `dev`, which also holds the legacy `[tool.uv] dev-dependencies`)
  plus `--group`, less `--no-group`/`--no-dev` (uv "Locking and syncing", "Managing dependencies").
- `poetry install` installs `[tool.poetry.dependencies]` (less `python` and optional entries
  that no selected extra names) and every non-optional `[tool.poetry.group.<name>]` (with the legacy
  `dev-dependencies`), adjusted by `--with`/`--without`/`--only` (Poetry "Managing dependencies").
An extra that names the project itself (`all = ["myproj[train,eval]"]`) stands for those extras.
Line numbers come from finding each entry's text after its table header (tomllib keeps no
positions); an entry written in a form that search misses gets its table's line.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from aicache_lint.deps import DepFile, Read, Requirement, Selection
from aicache_lint.deps.requirements import read_requirements, requirement_name
from aicache_lint.knowledge.requirements import normalize


def read_project(directory: str, read: Read, tool: str = "pip", selection: Selection | None = None) -> DepFile:
    """What installing the project in ``directory`` asks for: its `pyproject.toml`, or its
    `setup.cfg` when the pyproject does not declare dependencies (or is missing). ``tool``: "pip",
    "uv" or "poetry"."""
    selection = selection or Selection()
    pyproject, setup_cfg, setup_py = (posixpath.normpath(posixpath.join(directory, name))
                                      for name in ("pyproject.toml", "setup.cfg", "setup.py"))
    text = read(pyproject)
    if text is not None:
        found = _Pyproject(pyproject, text, read, tool, selection).result()
        if found is not None:
            return found
    cfg = read_setup_cfg(setup_cfg, read, selection)
    if cfg.files:
        files = (pyproject, *cfg.files) if text is not None else cfg.files
        return cfg._replace(files=files)
    files = (pyproject,) if text is not None else ()
    why = (f"{setup_py} is code: the dependencies it declares are not read" if read(setup_py) is not None
           else f"{directory} holds no pyproject.toml or setup.cfg that declares dependencies")
    return DepFile((), files, (why,))


def read_pyproject(path: str, read: Read, tool: str = "pip", selection: Selection | None = None) -> DepFile:
    """What installing with ``tool`` from the `pyproject.toml` at ``path`` asks for."""
    selection = selection or Selection()
    text = read(path)
    if text is None:
        return DepFile((), (), (f"{path} not found",))
    found = _Pyproject(path, text, read, tool, selection).result()
    return found if found is not None else DepFile((), (path,), (f"{path} declares no dependencies",))


def read_setup_cfg(path: str, read: Read, selection: Selection | None = None) -> DepFile:
    """`[options] install_requires` and the selected `[options.extras_require]` of a setup.cfg."""
    import configparser

    selection = selection or Selection()
    text = read(path)
    if text is None:
        return DepFile((), (), (f"{path} not found",))
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"), inline_comment_prefixes=None)
    try:
        parser.read_string(text, path)
    except configparser.Error as exc:
        return DepFile((), (path,), (f"{path}: invalid setup.cfg: {str(exc).splitlines()[0]}",))
    locate = _Locator(text)
    packages: list[Requirement] = []
    problems: list[str] = []
    entries = [("options", "install_requires")]
    if parser.has_section("options.extras_require"):
        entries += [("options.extras_require", k) for k in parser.options("options.extras_require")
                    if selection.all_extras or k in selection.extras]
    for section, key in entries:
        value = parser.get(section, key, fallback="")
        if value.strip().startswith("file:"):
            problems.append(f"{path}: `{key} = {value.strip()}` is not followed")
            continue
        for spec in (s.split("#", 1)[0].strip() for s in value.splitlines()):
            if spec:
                _add(packages, problems, spec, path, locate.line(spec, f"[{section}]"))
    return DepFile(tuple(packages), (path,), tuple(problems))


class _Pyproject:
    def __init__(self, path: str, text: str, read: Read, tool: str, selection: Selection) -> None:
        self.path, self.text, self.read, self.tool, self.selection = path, text, read, tool, selection
        self.locate = _Locator(text)
        self.packages: list[Requirement] = []
        self.problems: list[str] = []
        self.files: list[str] = [path]

    def result(self) -> DepFile | None:
        """None when the file declares no dependencies at all (a build-system table only)."""
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            return DepFile((), (self.path,), (f"{self.path}: invalid TOML: {exc}",))
        project = _table(data.get("project"))
        poetry = _table(_table(data.get("tool")).get("poetry"))
        uv = _table(_table(data.get("tool")).get("uv"))
        declared = "dependencies" in project or "dependencies" in _list(project.get("dynamic")) or (
            "dependencies" in poetry or "dependency-groups" in data or "dev-dependencies" in uv)
        if not declared:
            return None
        only = self.selection.only
        if only is None or "main" in only:
            self.project_dependencies(project, poetry, data)
        self.groups(data, poetry, uv)
        return DepFile(tuple(self.packages), tuple(self.files), tuple(self.problems))

    # -- the project's own dependencies and extras -----------------------------------------

    def project_dependencies(self, project: dict, poetry: dict, data: dict) -> None:
        name = normalize(str(project.get("name") or poetry.get("name") or ""))
        dynamic = _list(project.get("dynamic"))
        if "dependencies" in project:
            self.specs(_list(project["dependencies"]), "[project]")
        elif "dependencies" in dynamic:
            self.dynamic(data, "dependencies", None)
        optional = _table(project.get("optional-dependencies"))
        extras = list(optional) if self.selection.all_extras else list(self.selection.extras)
        seen: set[str] = set()
        while extras:
            extra = normalize(extras.pop(0))
            if extra in seen:
                continue
            seen.add(extra)
            key = next((k for k in optional if normalize(k) == extra), None)
            if key is None and "optional-dependencies" in dynamic:
                self.dynamic(data, "optional-dependencies", extra)
            for spec in _list(optional.get(key)) if key is not None else ():
                own = _self_extras(spec, name)
                if own is not None:
                    extras.extend(own)  # `all = ["myproj[train]"]`
                else:
                    self.spec(spec, "[project.optional-dependencies]")
        if poetry and (self.tool == "poetry" or "dependencies" not in project and "dependencies" not in dynamic):
            self.poetry_table(poetry.get("dependencies"), "[tool.poetry.dependencies]",
                              _poetry_extras(poetry, self.selection))

    def dynamic(self, data: dict, field: str, extra: str | None) -> None:
        """setuptools' `[tool.setuptools.dynamic]` `{file = [...]}`: requirements files beside the pyproject."""
        entry = _table(_table(_table(data.get("tool")).get("setuptools")).get("dynamic")).get(field)
        if extra is not None:
            entry = next((v for k, v in _table(entry).items() if normalize(k) == extra), None)
        files = _table(entry).get("file")
        if not files:
            self.problems.append(f"{self.path}: `{field}` is dynamic and its source is not read")
            return
        for name in [files] if isinstance(files, str) else _list(files):
            found = read_requirements(posixpath.join(posixpath.dirname(self.path), str(name)), self.read)
            self.packages.extend(found.packages)
            self.files.extend(f for f in found.files if f not in self.files)
            self.problems.extend(found.problems)

    # -- groups ------------------------------------------------------------------------------

    def groups(self, data: dict, poetry: dict, uv: dict) -> None:
        selection = self.selection
        if self.tool == "poetry":
            declared = {k: _table(v) for k, v in _table(poetry.get("group")).items()}
            if "dev-dependencies" in poetry:
                declared.setdefault("dev", {"dependencies": poetry["dev-dependencies"]})
            for name, group in declared.items():
                if selection.only is not None:
                    wanted = name in selection.only
                else:
                    wanted = (not group.get("optional") or name in selection.groups) and name not in selection.without
                if wanted:
                    header = f"[tool.poetry.group.{name}.dependencies]" if name in _table(poetry.get("group")) \
                        else "[tool.poetry.dev-dependencies]"
                    self.poetry_table(group.get("dependencies"), header, set())
            return
        groups = {normalize(k): v for k, v in _table(data.get("dependency-groups")).items()}
        if self.tool == "uv" and "dev-dependencies" in uv:
            groups["dev"] = [*_list(groups.get("dev")), *_list(uv["dev-dependencies"])]
        if selection.only is not None:
            wanted = [normalize(g) for g in selection.only if g != "main"]
        elif selection.all_groups:
            wanted = list(groups)
        else:
            wanted = [normalize(g) for g in selection.groups]
            if self.tool == "uv" and selection.default_groups:
                default = uv.get("default-groups", ["dev"])
                wanted += list(groups) if default == "all" else [normalize(g) for g in _list(default)]
            wanted = [g for g in wanted if g not in {normalize(w) for w in selection.without}]
        done: set[str] = set()
        for group in dict.fromkeys(wanted):
            self.group(groups, group, [], done)

    def group(self, groups: dict, name: str, stack: list[str], done: set[str]) -> None:
        """PEP 735: a group's strings are requirements, `{include-group = "x"}` includes another."""
        if name in stack:
            self.problems.append(f"{self.path}: dependency group cycle {' -> '.join([*stack, name])}")
            return
        if name in done:
            return
        if name not in groups:
            if not stack and name != "dev":
                self.problems.append(f"{self.path}: no dependency group `{name}`")
            return
        done.add(name)
        for entry in _list(groups[name]):
            if isinstance(entry, dict) and "include-group" in entry:
                self.group(groups, normalize(str(entry["include-group"])), [*stack, name], done)
            elif isinstance(entry, str):
                self.spec(entry, "[dependency-groups]")

    # -- entries -----------------------------------------------------------------------------

    def poetry_table(self, table: Any, header: str, extras_packages: set[str]) -> None:
        for key, value in _table(table).items():
            name = normalize(key)
            if name == "python":
                continue
            if isinstance(value, dict) and value.get("optional") and name not in extras_packages:
                continue
            line = self.locate.key_line(key, header)
            self.packages.append(Requirement(name, self.locate.text_of(line), self.path, line))

    def specs(self, specs: list, header: str) -> None:
        for spec in specs:
            self.spec(spec, header)

    def spec(self, spec: Any, header: str) -> None:
        if isinstance(spec, str):
            _add(self.packages, self.problems, spec, self.path, self.locate.line(spec, header))


def _add(packages: list[Requirement], problems: list[str], spec: str, path: str, line: int) -> None:
    name = requirement_name(spec)
    if name is None:
        problems.append(f"{path}:{line}: `{spec}`: the package name is not known")
    else:
        packages.append(Requirement(normalize(name), spec, path, line))


def _self_extras(spec: Any, project: str) -> list[str] | None:
    """The extras of a requirement on the project itself (`myproj[a,b]`), else None."""
    if not isinstance(spec, str) or not project:
        return None
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*\[([^\]]*)\]", spec)
    if not m or normalize(m.group(1)) != project:
        return None
    return [e.strip() for e in m.group(2).split(",") if e.strip()]


def _poetry_extras(poetry: dict, selection: Selection) -> set[str]:
    """The optional Poetry dependencies that the selected extras name."""
    extras = _table(poetry.get("extras"))
    names = extras if selection.all_extras else [e for e in extras if normalize(e) in
                                                 {normalize(x) for x in selection.extras}]
    return {normalize(str(p)) for e in names for p in _list(extras[e])}


def _table(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


class _Locator:
    """Lines of entries in a TOML or INI text, found after their table header."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()

    def _header(self, header: str) -> int:
        """Offset of the line holding ``header`` (`[project]`), or 0."""
        inner = re.escape(header[1:-1]).replace(r"\.", r"\s*\.\s*")
        m = re.search(rf"(?m)^[ \t]*\[[ \t]*{inner}[ \t]*\]", self.text)
        if m:
            return m.start()
        m = re.search(rf"(?m)^[ \t]*{re.escape(header[1:-1].rsplit('.', 1)[-1])}[ \t]*=", self.text)
        return m.start() if m else 0

    def line(self, needle: str, header: str) -> int:
        start = self._header(header)
        at = self.text.find(needle, start)
        if at < 0:
            at = self.text.find(needle)
        return self.text.count("\n", 0, at if at >= 0 else start) + 1

    def key_line(self, key: str, header: str) -> int:
        start = self._header(header)
        m = re.compile(rf"(?m)^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=").search(self.text, start)
        return self.text.count("\n", 0, m.start() if m else start) + 1

    def text_of(self, line: int) -> str:
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
