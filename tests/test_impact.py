"""The rebuild model (impact/rebuild.py) on hand-checked fixtures: `fixtures/_impact/<name>/` holds
a build, the sizes it is priced with (`sizes.tsv`, round numbers) and, in `expected.txt`, the bytes
each event costs, worked out by hand in its comments."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from aicache_lint.impact.rebuild import EVENTS, rebuild
from aicache_lint.workspace.index import Workspace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "_impact"


class _Size(NamedTuple):
    bytes: int
    source: str


class TableSizes:
    """The fixture's own size table (kind, name, bytes)."""

    def __init__(self, path: Path) -> None:
        rows = csv.DictReader((line for line in path.read_text().splitlines() if not line.startswith("#")),
                              delimiter="\t")
        self.rows = {(r["kind"], r["name"]): _Size(int(r["bytes"]), str(path)) for r in rows}

    def package(self, name: str, spec: str = "") -> _Size | None:
        return self.rows.get(("package", name))

    def apt(self, name: str, with_deps: bool = False, release: str | None = None) -> _Size | None:
        return self.rows.get(("apt+deps" if with_deps else "apt", name)) or self.rows.get(("apt", name))

    def image(self, reference: str) -> _Size | None:
        return self.rows.get(("image", reference))

    def model(self, repo_id: str, whole: bool = False) -> _Size | None:
        return self.rows.get(("model", repo_id))


def _rebuilt(dockerfile: Path, event: str, sizes):
    """What ``event`` costs the image of ``dockerfile``'s final stage."""
    path = str(dockerfile)
    ws = Workspace([path])
    facts = ws.linted_dockerfile(path)[1]
    return rebuild(ws, path, facts, facts.final_stage, event, sizes)


def _expected(path: Path) -> dict[str, tuple[int, int, int, int]]:
    """event -> (bytes, unknown, after the fixes: bytes, unknown)."""
    rows = csv.DictReader((line for line in path.read_text().splitlines() if not line.startswith("#")), delimiter="\t")
    return {r["event"]: (int(r["bytes"]), int(r["unknown"]), int(r["fixed_bytes"]), int(r["fixed_unknown"]))
            for r in rows}


def _image(tmp_path: Path, name: str):
    project = tmp_path / name
    shutil.copytree(FIXTURES / name, project)
    (project / ".git").mkdir()
    dockerfile = str(project / "Dockerfile")
    ws = Workspace([dockerfile])
    _, facts = ws.linted_dockerfile(dockerfile)
    return ws, dockerfile, facts, TableSizes(project / "sizes.tsv"), _expected(project / "expected.txt")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if (p / "Dockerfile").is_file()))
def test_the_cost_of_each_event_is_what_the_fixture_worked_out(tmp_path, name):
    """Before and after `--fix --unsafe-fixes` with every rule, as the fixture's comments work it out."""
    from aicache_lint.impact.estimate import fixed_texts, image_costs, with_texts
    from aicache_lint.settings import Settings

    ws, dockerfile, facts, sizes, expected = _image(tmp_path, name)
    source = ws.source(dockerfile)
    fixed = fixed_texts([source], Settings(select=("ALL",), unsafe_fixes=True), with_texts([dockerfile], {}))
    (after,) = image_costs(with_texts([dockerfile], fixed), [dockerfile], sizes)
    got = {}
    for event in EVENTS:
        result = rebuild(ws, dockerfile, facts, facts.final_stage, event, sizes)
        got[event] = (result.fetched, len(result.unknown), after.fetched(event), after.unknown(event))
    assert got == expected


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if (p / "compose.yaml").is_file()))
def test_each_service_costs_what_the_fixture_worked_out(tmp_path, monkeypatch, name):
    """A Compose project: its image per build event and each service per new container, before and
    after `--fix --unsafe-fixes` with every rule, as the fixture's comments work it out."""
    from aicache_lint.discovery import discover
    from aicache_lint.impact.estimate import project_impact, with_texts
    from aicache_lint.settings import Settings

    project = tmp_path / name
    shutil.copytree(FIXTURES / name, project)
    (project / ".git").mkdir()
    monkeypatch.chdir(project)
    files = discover(["."], lambda p: False)[0]
    rows = csv.DictReader((line for line in (project / "expected.txt").read_text().splitlines()
                           if not line.startswith("#")), delimiter="\t")
    expected = {(r["unit"], r["event"]): tuple(int(r[k]) for k in ("bytes", "unknown", "fixed_bytes", "fixed_unknown"))
                for r in rows}
    impact = project_impact(with_texts(files, {}), files, Settings(select=("ALL",), unsafe_fixes=True),
                            TableSizes(project / "sizes.tsv"))
    got = {}
    for now, after in zip(impact.now.images, impact.fixed.images):
        for event in EVENTS:
            got[("image", event)] = (now.fetched(event), now.unknown(event), after.fetched(event), after.unknown(event))
    for now, after in zip(impact.now.services, impact.fixed.services):
        got[(now.name, "recreate")] = (now.fetched("recreate"), now.unknown("recreate"),
                                       after.fetched("recreate"), after.unknown("recreate"))
    assert got == expected
    saved = {(s.finding.code, e, b) for s in impact.findings for e, b in s.saved.items()}
    assert ("AIC401", "recreate", 400_000_000) in saved
    costs = {(s.finding.code, e, b) for s in impact.unfixed for e, b in s.saved.items()}
    assert costs == {("AIC602", "recreate", 100_000_000)}  # the cross-encoder in /tmp: no fix


def test_steps_and_what_stays_cached(tmp_path):
    ws, dockerfile, facts, sizes, _ = _image(tmp_path, "cuda-three-stage")
    manifest = rebuild(ws, dockerfile, facts, facts.final_stage, "manifest", sizes)
    lines = [(s.stage.name, s.instruction.start_line) for s in manifest.steps]
    assert ("runtime", 13) in lines and ("runtime", 11) not in lines  # from `COPY requirements.txt .` on
    cached = [d for d in manifest.downloads if d.cached]
    assert [d.what for d in cached] == ["pip: torch", "pip: transformers"]  # the runtime stage's cache mount
    assert {d.what for d in manifest.unknown} == {"pip: packages the linter cannot see"}
    source = rebuild(ws, dockerfile, facts, facts.final_stage, "source", sizes)
    assert not any(s.stage.name == "runtime" for s in source.steps)


def test_an_unknown_event_is_refused(tmp_path):
    ws, dockerfile, facts, sizes, _ = _image(tmp_path, "cuda-three-stage")
    with pytest.raises(ValueError, match="unknown event"):
        rebuild(ws, dockerfile, facts, facts.final_stage, "weather", sizes)


def test_after_the_fixes_a_source_edit_reinstalls_nothing(tmp_path):
    """AIC301's fix copies requirements.txt before the install and the rest after it; AIC101's
    mounts the pip cache: after `--fix --unsafe-fixes`, a source edit re-runs no install and a
    manifest edit fetches nothing the cache keeps."""
    from aicache_lint.impact.estimate import Costs, fixed_texts, image_costs, savings, with_texts
    from aicache_lint.settings import Settings
    from aicache_lint.source import SourceText

    project = tmp_path / "p"
    project.mkdir()
    (project / ".git").mkdir()
    (project / "requirements.txt").write_text("torch==2.5.1\ntransformers\n")
    (project / "serve.py").write_text("print(1)\n")
    (project / "Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"serve.py\"]\n")
    shutil.copy(FIXTURES / "copy-before-install" / "sizes.tsv", project / "sizes.tsv")
    sizes = TableSizes(project / "sizes.tsv")
    path = str(project / "Dockerfile")
    ws = with_texts([path], {})
    before = image_costs(ws, [path], sizes)
    source = SourceText((project / "Dockerfile").read_text(), path=path)
    fixed = fixed_texts([source], Settings(select=("AIC101", "AIC301"), unsafe_fixes=True), with_texts([path], {}))
    assert path in fixed and "COPY requirements.txt" in fixed[path].text
    after = image_costs(with_texts([path], fixed), [path], sizes)
    assert before[0].fetched("source") == 2_510_000_000
    assert after[0].fetched("source") == 0  # the install comes before `COPY . .` now
    assert after[0].fetched("manifest") == 0  # under the pip cache mount
    assert after[0].fetched("base") == 50_000_000  # the base is pulled, the packages come from the cache
    saved = savings(Costs(before, []), Costs(after, []))
    assert saved == {"source": 2_510_000_000, "manifest": 2_510_000_000, "base": 2_510_000_000}


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "p"
    (project / "svc").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "svc" / "requirements.txt").write_text("torch==2.5.1\n")
    (project / "svc" / "serve.py").write_text("print(1)\n")
    (project / "svc" / "Dockerfile").write_text(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"serve.py\"]\n")
    return project


def _impact(project: Path, *args: str):
    import os

    from cli_runner import invoke

    cwd = os.getcwd()
    os.chdir(project)
    try:
        return invoke(["impact", "--isolated", *args])
    finally:
        os.chdir(cwd)


def test_impact_command_text(tmp_path):
    result = _impact(_project(tmp_path))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("Estimated downloads per rebuild (estimates), now -> after --fix:")
    row = next(line for line in out.splitlines() if line.startswith("svc/Dockerfile"))
    assert "GB -> 0" in row  # a source edit re-installs torch now, nothing after AIC301's fix
    assert "svc/Dockerfile:4:5 AIC101 saves ~" in out and "Assumptions:" in out
    assert "pypi.org" in out  # where the sizes come from


def test_impact_command_json_and_markdown(tmp_path):
    import json

    project = _project(tmp_path)
    data = json.loads(_impact(project, "--output-format", "json").stdout)
    assert data["estimate"] is True and data["assumptions"]
    (image,) = data["images"]
    assert image["dockerfile"] == "svc/Dockerfile"
    assert image["now"]["source"]["bytes"] > 1_000_000_000 and image["after_fix"]["source"]["bytes"] == 0
    assert {f["code"] for f in data["findings"]} == {"AIC101"}  # AIC301's fix is unsafe
    unsafe = json.loads(_impact(project, "--output-format", "json", "--unsafe-fixes").stdout)
    assert {f["code"] for f in unsafe["findings"]} == {"AIC101", "AIC301"}
    markdown = _impact(project, "--output-format", "markdown").stdout
    assert markdown.startswith("### aicache-lint: estimated downloads per rebuild\n")
    chart = markdown[markdown.index("```mermaid"):]
    assert "xychart-beta" in chart and "    bar [" in chart and "    line [" in chart
    assert "| `svc/Dockerfile` |" in markdown and "→" in markdown


def test_the_readme_example_is_what_the_command_prints_on_examples():
    """The README shows `aicache-lint impact` on examples/: its first lines, as printed today."""
    readme = (FIXTURES.parent.parent / "README.md").read_text()
    section = readme[readme.index("### `aicache-lint impact`"):]
    block = section[section.index("```text\n") + 8:section.index("\n...\n```")]
    out = _impact(FIXTURES.parent.parent / "examples").stdout
    assert out.startswith(block + "\n")


def _lint(project: Path, *args: str):
    import os

    from cli_runner import invoke

    cwd = os.getcwd()
    os.chdir(project)
    try:
        return invoke(["--isolated", *args, "."])
    finally:
        os.chdir(cwd)


def test_estimate_flag_in_text_json_sarif_and_statistics(tmp_path):
    """--estimate gives each Dockerfile finding what its fix alone saves (here AIC101: the pip
    cache mount keeps torch, the whole download), in every report that carries it; without the
    flag nothing changes."""
    import json

    from aicache_lint.impact.sizes import BundledSizes

    project = _project(tmp_path)
    torch = BundledSizes().package("torch", "==2.5.1").bytes
    text = _lint(project, "--estimate").stdout
    assert f"= estimate: ~{torch / 1e9:.1f} GB per rebuild after a source edit" in text
    assert "estimate" not in _lint(project).stdout

    plain = json.loads(_lint(project, "--output-format", "json").stdout)
    assert all("estimate" not in f for f in plain)
    found = {f["code"]: f["estimate"] for f in json.loads(_lint(project, "--estimate", "--output-format", "json").stdout)}
    assert found["AIC101"]["bytes"] == torch and found["AIC101"]["event"] == "source"
    assert found["AIC101"]["estimate"] is True and found["AIC101"]["source"][0].startswith("https://pypi.org/")
    assert found["AIC301"]["bytes"] == torch  # unsafe, but what it would save is still shown

    import jsonschema

    schema = json.loads((Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json").read_text())
    sarif = json.loads(_lint(project, "--estimate", "--output-format", "sarif").stdout)
    jsonschema.Draft7Validator(schema).validate(sarif)
    props = {r["ruleId"]: r.get("properties") for r in sarif["runs"][0]["results"]}
    assert props["AIC101"]["estimate"]["bytes"] == torch

    stats = _lint(project, "--estimate", "--statistics").stdout.splitlines()
    assert stats[0].split()[:4] == ["count", "code", "fixable", "GB"]
    assert any(line.split()[1] == "AIC101" and line.split()[3] == f"{torch / 1e9:.1f}" for line in stats[1:-1])


def test_sort_impact_puts_the_costliest_fix_first(tmp_path):
    import json

    project = _project(tmp_path)
    (project / "small").mkdir()
    (project / "small" / "Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install numpy==2.1.3\n")
    by_path = [(f["filename"], f["code"]) for f in json.loads(_lint(project, "--output-format", "json").stdout)]
    by_impact = json.loads(_lint(project, "--sort", "impact", "--output-format", "json").stdout)
    assert by_path[0][0].endswith("small/Dockerfile")  # by file name first
    assert by_impact[0]["filename"].endswith("svc/Dockerfile") and by_impact[0]["estimate"]["bytes"] > 1e9
    assert sorted((f["filename"], f["code"]) for f in by_impact) == sorted(by_path)  # the same findings


def test_sort_impact_orders_findings_across_files(tmp_path):
    """Not file by file: a small saving in one file comes after a larger one in another, whatever
    file they are in; every format that lists findings follows the order."""
    import json

    project = _project(tmp_path)
    (project / "svc" / "Dockerfile").write_text(
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt\nCMD [\"python\", \"serve.py\"]\n")
    (project / "small").mkdir()
    (project / "small" / "Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install numpy==2.1.3\n")
    found = json.loads(_lint(project, "--sort", "impact", "--output-format", "json").stdout)
    saved = [(f["estimate"] or {}).get("bytes", 0) for f in found]
    assert saved == sorted(saved, reverse=True) and saved[3] > 0
    files = [f["filename"].split("/")[-2] for f in found]
    assert files == ["svc", "svc", "small", "svc"]  # torch (AIC301, AIC101), numpy, then curl (AIC110)
    concise = _lint(project, "--sort", "impact", "--output-format", "concise").stdout.splitlines()
    assert [line.split(":")[0].split("/")[-2] for line in concise if ": AIC" in line] == files


def test_a_fix_is_priced_in_the_same_project_as_the_image(tmp_path):
    """A workflow builds docker/Dockerfile with the repository root as context, so `pip install -r
    requirements.txt` reads the root's file (torch). Pricing the apt fix must keep that context: a
    workspace without the workflow would lose torch and credit the apt fix with its gigabytes."""
    import json

    project = tmp_path / "p"  # not a repository (no .git, as in a downloaded snapshot): the workflow is
    (project / "docker").mkdir(parents=True)  # known because the run was given it, not found at a root
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "build.yml").write_text(
        "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          context: .\n"
        "          file: ./docker/Dockerfile\n")
    (project / "requirements.txt").write_text("torch==2.5.1\n")
    (project / "docker" / "Dockerfile").write_text(
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y git\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n")
    data = json.loads(_impact(project, "--output-format", "json", "--unsafe-fixes").stdout)
    assert data["images"][0]["now"]["base"]["bytes"] > 2_000_000_000  # torch, from the root's requirements
    apt = [f for f in data["findings"] if f["code"] == "AIC110"]
    assert apt and all(f["saves"]["base"]["bytes"] < 100_000_000 for f in apt)  # git's packages, not torch


def test_compose_and_code_findings_get_a_new_container_estimate(tmp_path):
    """AIC401's fix (a volume for the Hugging Face cache) saves what a new container of `api`
    downloads into it (BAAI/bge-base-en-v1.5 from the bundled table); the services are in the
    impact report, JSON included, and AIC602 (no fix) is priced by the model it reports when the
    table knows it."""
    import json

    from aicache_lint.impact.sizes import BundledSizes
    from aicache_lint.report._common import gigabytes

    project = tmp_path / "p"
    shutil.copytree(FIXTURES / "compose-model-cache", project)
    (project / ".git").mkdir()
    bge = BundledSizes().model("BAAI/bge-base-en-v1.5").bytes
    found = {f["code"]: f["estimate"] for f in json.loads(_lint(project, "--estimate", "--output-format", "json").stdout)}
    assert found["AIC401"] == {"bytes": bge, "event": "recreate", "estimate": True,
                               "source": [BundledSizes().model("BAAI/bge-base-en-v1.5").source]}
    assert "~" in _lint(project, "--estimate").stdout.split("AIC401", 1)[1].split("\n\n", 1)[0]
    rerank = BundledSizes().model("cross-encoder/ms-marco-MiniLM-L6-v2")
    assert (found["AIC602"] or {}).get("bytes") == (rerank.bytes if rerank else None)

    data = json.loads(_impact(project, "--output-format", "json", "--unsafe-fixes").stdout)
    services = {s["name"]: s for s in data["services"]}
    assert set(services) == {"api", "worker"} and services["api"]["dockerfile"] == os.path.join("api", "Dockerfile")
    api = services["api"]
    assert api["now"]["recreate"]["bytes"] - api["after_fix"]["recreate"]["bytes"] == bge
    assert services["worker"]["now"]["recreate"] == {"bytes": 0, "unknown": 0}  # its volume keeps the cache
    assert api["now"]["base"] == data["images"][0]["now"]["base"]  # a service's build is its image's
    assert {f["code"] for f in data["findings"]} >= {"AIC401"}
    text = _impact(project).stdout
    assert "per new container" in text and "\napi (compose.yaml)" in text
    together = api["now"]["recreate"]["bytes"] + services["worker"]["now"]["recreate"]["bytes"]
    assert f"All services, one new container each: {gigabytes(together)}" in text
    markdown = _impact(project, "--output-format", "markdown").stdout
    assert "| service |" in markdown and "new container |" in markdown


def test_a_pulled_image_service_has_no_build_events(tmp_path):
    import json

    project = tmp_path / "p"
    project.mkdir()
    (project / ".git").mkdir()
    (project / "compose.yaml").write_text("services:\n  cache:\n    image: redis:7\n")
    data = json.loads(_impact(project, "--output-format", "json").stdout)
    assert data["services"] == [{"name": "cache", "compose_files": ["compose.yaml"], "dockerfile": None,
                                 "now": {"recreate": {"bytes": 0, "unknown": 0}},
                                 "after_fix": {"recreate": {"bytes": 0, "unknown": 0}}}]
    text = _impact(project).stdout  # a row of dashes and zeros is left out of the table, and said so
    assert "Per service" not in text and "cache (compose.yaml)" not in text
    assert "1 service that pulls an image and downloads no model when it starts is not listed." in text


def test_hf_download_counts_the_whole_repository_or_an_unknown_part(tmp_path):
    """`hf download REPO` fetches the whole repository (the sizes are asked with ``whole``); file
    names or --include/--exclude patterns fetch part of it, whose size is not known here; options
    with a value (before or after the repository) are not taken for it."""
    asked = []

    class Sizes(TableSizes):
        def model(self, repo_id: str, whole: bool = False):
            asked.append((repo_id, whole))
            return _Size(1_000_000_000, "table") if repo_id == "org/m" else None

    (tmp_path / "sizes.tsv").write_text("kind\tname\tbytes\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\n"
        "RUN hf download org/m\n"
        "RUN hf download --repo-type model --revision v1 org/m\n"
        "RUN hf download org/m --local-dir /weights\n"
        "RUN hf download org/m config.json\n"
        "RUN hf download org/m --include '*.safetensors'\n"
        "RUN hf download --exclude=*.bin org/m\n")
    result = _rebuilt(tmp_path / "Dockerfile", "base", Sizes(tmp_path / "sizes.tsv"))
    models = [(d.what, d.bytes) for d in result.downloads if d.what.startswith("model:")]
    assert models == [("model: org/m", 1_000_000_000)] * 3 + [("model: org/m (some of its files)", None)] * 3
    assert asked == [("org/m", True)] * 3


def test_a_base_built_here_is_rebuilt_first_and_counted_once_in_the_total(tmp_path):
    """`FROM myorg/base:1`, which the Compose file builds from base/Dockerfile: a base update
    pulls python:3.11-slim and runs base/Dockerfile's install (torch) before app's own steps
    (transformers); the total counts base/Dockerfile's steps once, in its own row; a download of
    the chain says which file it is in."""
    from aicache_lint.impact.estimate import image_costs, with_texts
    from aicache_lint.report.impact import _total

    project = tmp_path / "p"
    for d in ("base", "app"):
        (project / d).mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "compose.yaml").write_text(
        "services:\n  base:\n    build: ./base\n    image: myorg/base:1\n  app:\n    build: ./app\n")
    (project / "base" / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install torch==2.5.1\n")
    (project / "app" / "Dockerfile").write_text("FROM myorg/base:1\nRUN pip install transformers\n")
    shutil.copy(FIXTURES / "copy-before-install" / "sizes.tsv", tmp_path / "sizes.tsv")
    sizes = TableSizes(tmp_path / "sizes.tsv")
    files = [str(project / "compose.yaml"), str(project / "base" / "Dockerfile"), str(project / "app" / "Dockerfile")]
    base, app = image_costs(with_texts(files, {}), files[1:], sizes)
    torch, transformers, python = (sizes.package("torch").bytes, sizes.package("transformers").bytes,
                                   sizes.image("python:3.11-slim").bytes)
    assert base.fetched("base") == python + torch
    assert app.fetched("base") == python + torch + transformers
    chained = [d for d in app.events["base"].downloads if d.where]
    assert {d.what for d in chained} == {"image: python:3.11-slim", "pip: torch"}
    assert all(d.where.startswith(os.path.relpath(files[1])) for d in chained)
    assert app.fetched("source") == 0 and app.fetched("manifest") == 0  # base/ is another build context
    from aicache_lint.report._common import gigabytes

    assert _total([base, app], "base") == gigabytes(python + torch + transformers)


def test_unknowns_are_listed_by_line_and_one_steps_packages_together(tmp_path):
    """A lock file's hundred packages are one line in text (the first few named), every one in
    JSON; lines sort as numbers (2 before 10)."""
    import json

    project = tmp_path / "p"
    project.mkdir()
    (project / ".git").mkdir()
    unknown = ["zz-one", "zz-two", "zz-three", "zz-four", "zz-five"]
    (project / "Dockerfile").write_text(
        "FROM python:3.12-slim\nRUN pip install zz-alone\n" + "RUN true\n" * 7 + f"RUN pip install {' '.join(unknown)}\n")
    text = _impact(project).stdout
    listed = text.split("Not counted (size unknown, `?` above):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert listed == ["  Dockerfile:1: image: python:3.12-slim", "  Dockerfile:2: pip: zz-alone",
                      "  Dockerfile:10: pip: zz-five, zz-four, zz-one and 2 more"]  # by name
    data = json.loads(_impact(project, "--output-format", "json").stdout)
    assert [u for u in data["unknown"] if u.startswith("Dockerfile:10:")] == [f"Dockerfile:10: pip: {n}" for n in
                                                                              sorted(unknown)]


def test_one_fix_for_several_findings_is_priced_and_counted_once(tmp_path):
    """AIC110's fix mounts the apt caches on every apt RUN of the stage, so each of its findings
    carries the same fix: the impact report lists it once (saying for how many findings) and the
    --statistics GB column adds its saving once."""
    import json

    project = tmp_path / "p"
    project.mkdir()
    (project / ".git").mkdir()
    (project / "Dockerfile").write_text(
        "# syntax=docker/dockerfile:1\nFROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y ffmpeg\nRUN apt-get update && apt-get install -y default-jdk-headless\n")
    data = json.loads(_impact(project, "--output-format", "json", "--unsafe-fixes").stdout)
    apt = [f for f in data["findings"] if f["code"] == "AIC110"]
    assert len(apt) == 1 and apt[0]["findings"] == 2
    assert "(one fix for 2 findings)" in _impact(project, "--unsafe-fixes").stdout
    found = json.loads(_lint(project, "--estimate", "--output-format", "json").stdout)
    each = [f["estimate"]["bytes"] for f in found if f["code"] == "AIC110"]
    assert len(each) == 2 and each[0] == each[1] > 0  # each finding says what its (shared) fix saves
    stats = _lint(project, "--estimate", "--statistics").stdout
    row = next(line.split() for line in stats.splitlines() if "AIC110" in line)
    assert each[0] > 0.25e9 and row[0] == "2" and float(row[3]) == round(each[0] / 1e9, 1)  # once, not twice


def test_apt_counts_the_largest_closure_and_the_other_packages_alone(tmp_path):
    """`apt-get install ffmpeg libgl1`: they share most dependencies, so ffmpeg counts with its
    dependencies and libgl1 alone -- not the two closures summed, nor the two .debs alone."""
    (tmp_path / "sizes.tsv").write_text(
        "kind\tname\tbytes\napt\tffmpeg\t2000000\napt+deps\tffmpeg\t130000000\napt\tlibgl1\t1000000\n"
        "apt+deps\tlibgl1\t50000000\napt\tcurl\t300000\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends libgl1 ffmpeg=7:5.1 curl\n")
    result = _rebuilt(tmp_path / "Dockerfile", "base", TableSizes(tmp_path / "sizes.tsv"))
    apt = [(d.what, d.bytes) for d in result.downloads if d.what.startswith("apt:")]
    assert apt == [("apt: libgl1", 1_000_000), ("apt: ffmpeg (with its dependencies)", 130_000_000),
                   ("apt: curl", 300_000)]


@pytest.mark.parametrize("name", ["examples"] + sorted(p.name for p in (FIXTURES.parent / "_projects").iterdir() if p.is_dir()))
def test_no_fix_makes_a_rebuild_or_a_container_download_more(tmp_path, name):
    """On every multi-file fixture and examples/: after `--fix --unsafe-fixes`, no image and no
    service fetches more for any event than before, no fix alone saves less than nothing, and
    everything the report counts is accounted for (a known number or `?`)."""
    import json

    source = FIXTURES.parent.parent / "examples" if name == "examples" else FIXTURES.parent / "_projects" / name / "input"
    project = tmp_path / name
    shutil.copytree(source, project)
    (project / ".git").mkdir()  # a repository: its root, with the workflows and Bake files, is found
    result = _impact(project, "--output-format", "json", "--unsafe-fixes")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["images"] or data["services"]
    for entry in data["images"] + data["services"]:
        for event, now in entry["now"].items():
            after = entry["after_fix"][event]
            assert after["bytes"] <= now["bytes"], (entry, event)
            assert min(now["bytes"], now["unknown"], after["unknown"]) >= 0
    for finding in data["findings"]:
        assert any(s["bytes"] > 0 for s in finding["saves"].values()) and finding["findings"] >= 1


def test_files_that_cannot_be_priced_are_named_and_the_rest_is_priced(tmp_path):
    """A UTF-16 Dockerfile and Compose files that do not parse: the report names each with its
    problem (text, Markdown, JSON `skipped`), prices the readable Dockerfile, and exits 0."""
    import json

    project = tmp_path / "p"
    for d in ("a", "b"):
        (project / d).mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "compose.yaml").write_text("services:\n  x: [\n")
    (project / "a" / "Dockerfile").write_bytes("FROM python:3.12-slim\n".encode("utf-16"))
    (project / "b" / "Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install torch\n")
    (project / "c").mkdir()
    (project / "c" / "Dockerfile").write_text("# nothing to build yet\n")
    result = _impact(project, "--output-format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [i["dockerfile"] for i in data["images"]] == [os.path.join("b", "Dockerfile")]
    skipped = data["skipped"]
    assert any(s.startswith(os.path.join("a", "Dockerfile") + ": cannot be read: file is UTF-16") for s in skipped)
    assert any(s.startswith("compose.yaml: invalid YAML") for s in skipped)
    assert os.path.join("c", "Dockerfile") + ": no image (no FROM, or it does not parse)" in skipped
    text = _impact(project).stdout
    assert "What could not be read or followed" in text and "compose.yaml: invalid YAML" in text
    assert "**What could not be read or followed:**" in _impact(project, "--output-format", "markdown").stdout


def test_no_fix_makes_a_generated_image_download_more(tmp_path):
    """The benchmark's generator (pip/uv/apt with and without cache mounts, CUDA wheel indexes,
    heredocs, non-root users): over 25 of its Dockerfiles, after `--fix --unsafe-fixes` no image
    fetches more for any event, and each fix listed saves something."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("bench_run", FIXTURES.parent.parent / "bench" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (tmp_path / ".git").mkdir()
    bench.generate(tmp_path / "all", 25, bench.DEFAULT_SEED)
    data = json.loads(_impact(tmp_path, "--output-format", "json", "--unsafe-fixes").stdout)
    assert len(data["images"]) == 25 and data["findings"]
    for image in data["images"]:
        for event, now in image["now"].items():
            assert image["after_fix"][event]["bytes"] <= now["bytes"], (image["dockerfile"], event)
    assert all(any(s["bytes"] > 0 for s in f["saves"].values()) for f in data["findings"])


def test_the_estimate_of_standard_input_prices_its_text_not_the_file_on_disk(tmp_path):
    """`aicache-lint --estimate --stdin-filename svc/Dockerfile -` (an editor's buffer): the image is
    priced as the text read, which installs numpy, not as the file on disk, which installs torch."""
    import json

    from cli_runner import invoke

    from aicache_lint.impact.sizes import BundledSizes

    project = _project(tmp_path)  # svc/Dockerfile on disk: pip install -r requirements.txt (torch)
    cwd = os.getcwd()
    os.chdir(project)
    try:
        result = invoke(["--isolated", "--estimate", "--output-format", "json", "--stdin-filename",
                         "svc/Dockerfile", "-"], input="FROM python:3.12-slim\nRUN pip install numpy==2.1.3\n")
    finally:
        os.chdir(cwd)
    (found,) = [f for f in json.loads(result.stdout) if f["code"] == "AIC101"]
    assert found["estimate"]["bytes"] == BundledSizes().package("numpy", "==2.1.3").bytes
