"""Loading of `fixtures/<CODE>/` cases: `cases.yaml` entries and annotated Dockerfile pairs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
_EXPECT = re.compile(r"^\s*#\s*expect:\s*(AIC\d{3})(?::(\d+))?\s*$")


@dataclass
class Case:
    rule: str
    name: str
    text: str
    passes: bool
    findings: list[tuple[int, int | None]] = field(default_factory=list)  # (line, column or None)
    fixed: str | None = None
    unsafe: bool = False
    config: dict = field(default_factory=dict)
    kind: str = "dockerfile"  # what the case's text is: linted under ``FILE_NAMES[kind]``
    # Other files of the case's project (`files:`), by path relative to the linted file: a Compose
    # file that builds the Dockerfile, a requirements file it copies...
    files: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.name}"

    @property
    def compose(self) -> bool:
        return self.kind == "compose"

    @property
    def file_name(self) -> str:
        return FILE_NAMES[self.kind]


# `kind:` at the top of a cases.yaml -> the name its cases are linted under (in a project of their
# own: see ``case_source``).
FILE_NAMES = {
    "dockerfile": "Dockerfile", "compose": "compose.yaml", "workflow": ".github/workflows/build.yml",
    "action": ".github/actions/build/action.yml", "gitlab": ".gitlab-ci.yml", "bake": "docker-bake.hcl",
    "bake-json": "docker-bake.json", "daemon": "daemon.json", "buildkitd": "buildkitd.toml",
    "shell": "scripts/setup-docker.sh", "python": "app.py",
}


def _load_yaml(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rule = data["rule"]
    kind = data.get("kind", "dockerfile")  # a case may have its own `kind:`
    kinds = {kind, *(spec.get("kind", kind) for spec in data["cases"].values())}
    if kinds - set(FILE_NAMES):
        raise ValueError(f"{path}: unknown kind {kinds - set(FILE_NAMES)}")
    if rule != path.parent.name:
        raise ValueError(f"{path}: rule {rule} is not the folder's {path.parent.name}")
    cases = []
    for name, spec in data["cases"].items():
        unknown = set(spec) - {"fail", "pass", "fixed", "findings", "unsafe", "config", "files", "kind"}
        if unknown or ("fail" in spec) == ("pass" in spec):
            raise ValueError(f"{path}: case {name}: needs exactly one of fail/pass, unknown keys {unknown}")
        findings = [(f["line"], f.get("column")) for f in spec.get("findings", [])]
        if "fail" in spec and not findings:
            raise ValueError(f"{path}: failing case {name} lists no findings")
        cases.append(
            Case(
                rule, name, spec.get("fail", spec.get("pass")), "pass" in spec, findings,
                spec.get("fixed"), bool(spec.get("unsafe")), spec.get("config") or {}, spec.get("kind", kind),
                spec.get("files") or {},
            )
        )
    return cases


def _load_pair(path: Path) -> Case:
    """`name.Dockerfile` (+ `name.fixed.Dockerfile`), or `name.compose.yaml` (+
    `name.compose.fixed.yaml`); `# expect: CODE[:col]` marks the next line."""
    data = path.read_bytes()
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    rule = path.parent.name
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        m = _EXPECT.match(line)
        if m and m.group(1) == rule:
            findings.append((number + 1, int(m.group(2)) if m.group(2) else None))
    suffix = ".compose.yaml" if path.name.endswith(".compose.yaml") else ".Dockerfile"
    name = path.name.removesuffix(suffix)
    fixed_path = path.with_name(name + (".compose.fixed.yaml" if suffix == ".compose.yaml" else ".fixed.Dockerfile"))
    fixed = None
    if fixed_path.exists():
        fixed = fixed_path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    return Case(rule, name, text, not findings, findings, fixed, name.endswith("unsafe"),
                kind="compose" if suffix == ".compose.yaml" else "dockerfile")


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("AIC")):
        yaml_file = folder / "cases.yaml"
        if yaml_file.exists():
            cases.extend(_load_yaml(yaml_file))
        for path in sorted(folder.glob("*.Dockerfile")):
            if not path.name.endswith(".fixed.Dockerfile"):
                cases.append(_load_pair(path))
        cases.extend(_load_pair(path) for path in sorted(folder.glob("*.compose.yaml")))
    return cases


def case_source(case: Case, directory: Path | None = None):
    """The case's text as the file it is linted as. A case with other files lives in a project
    of its own (a fresh directory marked as a repository root), so nothing around it counts."""
    import tempfile

    from aicache_lint.source import SourceText

    name = case.file_name
    if case.files or directory is not None or case.kind not in ("dockerfile", "compose"):
        directory = directory or Path(tempfile.mkdtemp(prefix="aicache-case-"))
        (directory / ".git").mkdir(exist_ok=True)
        for relative, text in case.files.items():
            (directory / relative).parent.mkdir(parents=True, exist_ok=True)
            (directory / relative).write_text(text, encoding="utf-8")
        if case.kind not in ("dockerfile", "compose"):  # CI and Bake files are found on disk, as build files
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text(case.text, encoding="utf-8")
        name = str(directory / name)
    raw = raw_bytes_of(case)
    return SourceText.decode(raw, name) if raw is not None else SourceText(case.text, name)


def raw_bytes_of(case: Case) -> bytes | None:
    """The file bytes of a pair case (BOM and CRLF as stored), None for YAML cases."""
    path = FIXTURES / case.rule / f"{case.name}{'.compose.yaml' if case.compose else '.Dockerfile'}"
    return path.read_bytes() if path.exists() else None


class Interaction:
    """`fixtures/_interactions/<name>.Dockerfile` (+ `.fixed.Dockerfile`): every rule at once, unsafe
    fixes on. `# expect: CODE` comments mark the line below with a finding of that code."""

    def __init__(self, path: Path) -> None:
        self.name = path.name.removesuffix(".Dockerfile")
        self.data = path.read_bytes()
        fixed = path.with_name(f"{self.name}.fixed.Dockerfile")
        self.fixed = fixed.read_bytes() if fixed.exists() else None
        text = self.data.decode("utf-8").removeprefix("\ufeff")
        self.expected: list[tuple[int, str]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            m = _EXPECT.match(line)
            if m:
                self.expected.append((number + 1, m.group(1)))


def interaction_cases() -> list[Interaction]:
    folder = FIXTURES / "_interactions"
    if not folder.is_dir():
        return []
    return [Interaction(p) for p in sorted(folder.glob("*.Dockerfile")) if not p.name.endswith(".fixed.Dockerfile")]
