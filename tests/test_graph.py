"""Tests for `aicache-lint graph` (aicache_lint.graph and aicache_lint.report.graph)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from textwrap import dedent

import pytest
from cli_runner import invoke
from import_cost import imports_of

from aicache_lint.knowledge.base_images import known_image
from aicache_lint.report.graph import label

CUDA = "nvidia/cuda:12.4.1-runtime-ubuntu22.04"
PYTHON = "python:3.12-slim"

# A repository laid out like huggingface/lerobot's: a workflow builds the base image with
# docker/build-push-action, two Dockerfiles start FROM it (one through a Bake build arg), a
# Compose project builds and runs services, one Dockerfile names a base nobody knows, and two
# builds claim the same tag.
PROJECT = {
    ".github/workflows/images.yml": '''\
        name: images
        on: push
        jobs:
          images:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - name: Build base
                uses: docker/build-push-action@v6
                with:
                  context: .
                  file: docker/base.Dockerfile
                  tags: ghcr.io/acme/ml-base:cu124
              - name: Build tools
                uses: docker/build-push-action@v6
                with:
                  context: tools-b
                  tags: ghcr.io/acme/tools:1
                  cache-from: type=gha,scope=tools
                  cache-to: type=gha,mode=max,scope=tools
                  build-args: |
                    HF_TOKEN=${{ secrets.HF_TOKEN }}
        ''',
    "docker/base.Dockerfile": f'''\
        FROM {CUDA} AS runtime
        RUN useradd -m -u 1000 app
        ENV HF_HOME=/home/app/.cache/huggingface \\
            PIP_NO_CACHE_DIR=1
        USER app
        ''',
    "app/Dockerfile": '''\
        FROM ghcr.io/acme/ml-base:cu124
        RUN pip install transformers
        ENV TORCH_HOME=/models/torch
        ''',
    "worker/Dockerfile": f'''\
        ARG BASE={PYTHON}
        FROM ${{BASE}} AS deps
        FROM deps
        ''',
    "docker-bake.hcl": '''\
        target "worker" {
          context = "worker"
          args = { BASE = "ghcr.io/acme/ml-base:cu124" }
          tags = ["ghcr.io/acme/worker:dev"]
        }
        ''',
    "tools-a/Dockerfile": f"FROM {PYTHON}\n",
    "tools-b/Dockerfile": f"FROM {PYTHON}\nUSER nobody\n",
    "legacy/Dockerfile": "FROM registry.example.com/team/legacy:2\n",
    "compose.yaml": '''\
        name: acme
        services:
          api:
            build: ./app
            environment:
              HF_HOME: /models/hf
            volumes:
              - models:/models
              - ./config:/etc/app:ro
          tools:
            build: ./tools-a
            image: ghcr.io/acme/tools:1
          llm:
            image: "ollama/ollama:0.5.7"
            volumes:
              - type: volume
                target: /root/.ollama
        volumes:
          models: {}
        ''',
}


def write(root: Path, files: dict[str, str]) -> None:
    (root / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    write(tmp_path, PROJECT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def graph(*args: str):
    """The graph's output; no configuration file unless ``args`` name one."""
    result = invoke(["graph", *(args if "--config" in args else ("--isolated", *args))])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def known(reference: str) -> str:
    return known_image(reference).origin


BASE_BUILT = ("built here from docker/base.Dockerfile (stage `runtime`) by workflow step `images / Build base` "
              "(.github/workflows/images.yml:8)")

EXPECTED_TEXT = f"""\
Images
  app/Dockerfile
    built by service `api` (compose.yaml:4): tags acme-api
    linted with its own ARG defaults
    stage 0: FROM ghcr.io/acme/ml-base:cu124
      base: {BASE_BUILT}
      user: app (uid 1000, home /home/app)
      env: HF_HOME=/home/app/.cache/huggingface, PIP_NO_CACHE_DIR=1, TORCH_HOME=/models/torch
  docker/base.Dockerfile
    built by workflow step `images / Build base` (.github/workflows/images.yml:8): tags ghcr.io/acme/ml-base:cu124; no cache import or export
    linted with its own ARG defaults
    stage 0 `runtime`: FROM {CUDA}
      base: {known(CUDA)}
      user: app (uid 1000, home /home/app)
      env: HF_HOME=/home/app/.cache/huggingface, PIP_NO_CACHE_DIR=1
  legacy/Dockerfile
    no build declared: linted with its own ARG defaults
    stage 0: FROM registry.example.com/team/legacy:2
      base: unknown: fixes that depend on it are unsafe
      user: root (uid 0, home /root)
      assumes the base image `registry.example.com/team/legacy:2` runs as root and sets no cache variable
  tools-a/Dockerfile
    built by service `tools` (compose.yaml:11): tags ghcr.io/acme/tools:1
    linted with its own ARG defaults
    stage 0: FROM {PYTHON}
      base: {known(PYTHON)}
      user: root (uid 0, home /root)
  tools-b/Dockerfile
    built by workflow step `images / Build tools` (.github/workflows/images.yml:14): tags ghcr.io/acme/tools:1; cache from type=gha,scope=tools; cache to type=gha,mode=max,scope=tools
    linted with its own ARG defaults
    stage 0: FROM {PYTHON}
      base: {known(PYTHON)}
      user: nobody (uid ?, home /home/nobody (guessed))
  worker/Dockerfile
    built by bake target `worker` (docker-bake.hcl:1): args BASE=ghcr.io/acme/ml-base:cu124; tags ghcr.io/acme/worker:dev; no cache import or export
    linted with the build args every build gives: BASE=ghcr.io/acme/ml-base:cu124
    stage 0 `deps`: FROM ghcr.io/acme/ml-base:cu124
      base: {BASE_BUILT}
      user: app (uid 1000, home /home/app)
      env: HF_HOME=/home/app/.cache/huggingface, PIP_NO_CACHE_DIR=1
    stage 1: FROM deps
      base: stage 0 `deps` of this file
      user: app (uid 1000, home /home/app)
      env: HF_HOME=/home/app/.cache/huggingface, PIP_NO_CACHE_DIR=1
Services
  api (compose.yaml)
    build: app/Dockerfile (context app) -> image acme-api
    user: app (uid 1000, home /home/app)
    model cache: hf in /models/hf/hub (`HF_HOME`; its Dockerfile installs `transformers`)
    volume: named volume models -> /models
    volume: bind ./config -> /etc/app (read-only)
  llm (compose.yaml)
    image: ollama/ollama:0.5.7 (known image table: @OLLAMA@)
    user: root (uid 0, home /root)
    model cache: ollama in /root/.ollama/models (Ollama's model dir; Ollama downloads models)
    volume: anonymous volume -> /root/.ollama
  tools (compose.yaml)
    build: tools-a/Dockerfile (context tools-a) -> image ghcr.io/acme/tools:1
    user: root (uid 0, home /root)
Unresolved
  - @CONFLICT@
  - workflow step `images / Build tools` (.github/workflows/images.yml:14): build arg `HF_TOKEN=${{{{ secrets.HF_TOKEN }}}}`: `${{{{ secrets.HF_TOKEN }}}}` is not known here
  - legacy/Dockerfile: stage 0 FROM `registry.example.com/team/legacy:2`: not a stage of this file, not built here, not in the known-image table: fixes that depend on its USER or ENV are unsafe
"""

CONFLICT = re.compile(r"image `ghcr\.io/acme/tools:1` is built by more than one build \((.*)\): its facts are not used")


def test_text_shows_every_image_service_and_unresolved_link(project) -> None:
    from aicache_lint.compose.images import lookup

    out = graph()
    lines = out.splitlines()
    conflict = next(i for i, line in enumerate(lines) if line.startswith("  - image `ghcr.io/acme/tools:1`"))
    claimants = CONFLICT.fullmatch(lines[conflict][4:]).group(1)
    # Both builds that claim the tag are named (the workspace words the notice itself).
    assert "service `tools` (" in claimants and "workflow step `images / Build tools` (" in claimants
    info = lookup("ollama/ollama")
    expected = EXPECTED_TEXT.replace("@OLLAMA@", f"{info.name} ({info.source})").replace("@CONFLICT@", lines[conflict][4:])
    assert out == expected


def test_output_is_the_same_from_any_spelling_of_the_paths(project) -> None:
    assert graph(str(project)) == graph() == graph(".")
    assert graph("--output-format", "json", str(project)) == graph("--output-format", "json")


def test_a_dockerfile_named_alone_shows_the_builds_it_is_part_of(project) -> None:
    out = graph("app/Dockerfile")
    assert out.startswith("Images\n  app/Dockerfile\n    built by service `api` (compose.yaml:4): tags acme-api\n")
    assert "  docker/base.Dockerfile\n    built by workflow step `images / Build base`" in out  # the base it is FROM


JSON_KEYS = {
    "image": {"dockerfile", "error", "linted_with", "args", "builds", "stages", "runs"},
    "build": {"origin", "target", "args", "tags", "unresolved", "cache_from", "cache_to"},
    "origin": {"kind", "path", "line", "name", "description"},
    "stage": {"index", "name", "parent", "base", "base_source", "user", "assumption", "env"},
    "user": {"name", "uid", "home", "home_known"},
    "service": {"files", "name", "image", "image_source", "build", "tags", "user", "model_caches", "volumes", "runs"},
    "unresolved": {"kind", "path", "message"},
}


def test_json_shape_and_content(project) -> None:
    data = json.loads(graph("--output-format", "json"))
    assert set(data) == {"version", "images", "services", "unresolved"} and data["version"] == 1
    for image in data["images"]:
        assert set(image) == JSON_KEYS["image"]
        for build in image["builds"]:
            assert set(build) == JSON_KEYS["build"] and set(build["origin"]) == JSON_KEYS["origin"]
        for stage in image["stages"]:
            assert set(stage) == JSON_KEYS["stage"] and set(stage["user"]) == JSON_KEYS["user"]
    assert all(set(s) == JSON_KEYS["service"] for s in data["services"])
    assert all(set(u) == JSON_KEYS["unresolved"] for u in data["unresolved"])

    assert [i["dockerfile"] for i in data["images"]] == [
        "app/Dockerfile", "docker/base.Dockerfile", "legacy/Dockerfile", "tools-a/Dockerfile",
        "tools-b/Dockerfile", "worker/Dockerfile"]
    worker = data["images"][-1]
    assert worker == {
        "dockerfile": "worker/Dockerfile",
        "error": None,
        "linted_with": "linted with the build args every build gives: BASE=ghcr.io/acme/ml-base:cu124",
        "args": {"BASE": "ghcr.io/acme/ml-base:cu124"},
        "builds": [{
            "origin": {"kind": "bake", "path": "docker-bake.hcl", "line": 1, "name": "worker",
                       "description": "bake target `worker` (docker-bake.hcl:1)"},
            "target": None,
            "args": {"BASE": "ghcr.io/acme/ml-base:cu124"},
            "tags": ["ghcr.io/acme/worker:dev"],
            "unresolved": [],
            "cache_from": [],
            "cache_to": [],
        }],
        "stages": [
            {"index": 0, "name": "deps", "parent": None, "base": "ghcr.io/acme/ml-base:cu124",
             "base_source": {"kind": "built", "detail": BASE_BUILT},
             "user": {"name": "app", "uid": 1000, "home": "/home/app", "home_known": True},
             "assumption": None,
             "env": {"HF_HOME": "/home/app/.cache/huggingface", "PIP_NO_CACHE_DIR": "1"}},
            {"index": 1, "name": None, "parent": 0, "base": "deps",
             "base_source": {"kind": "stage", "detail": "stage 0 `deps` of this file"},
             "user": {"name": "app", "uid": 1000, "home": "/home/app", "home_known": True},
             "assumption": None,
             "env": {"HF_HOME": "/home/app/.cache/huggingface", "PIP_NO_CACHE_DIR": "1"}},
        ],
        "runs": [],
    }
    kinds = {i["dockerfile"]: [s["base_source"]["kind"] for s in i["stages"]] for i in data["images"]}
    assert kinds == {"app/Dockerfile": ["built"], "docker/base.Dockerfile": ["known"], "legacy/Dockerfile": ["unknown"],
                     "tools-a/Dockerfile": ["known"], "tools-b/Dockerfile": ["known"],
                     "worker/Dockerfile": ["built", "stage"]}
    assert data["images"][2]["stages"][0]["assumption"] == (
        "assumes the base image `registry.example.com/team/legacy:2` runs as root and sets no cache variable")

    assert [s["name"] for s in data["services"]] == ["api", "llm", "tools"]
    assert data["services"][0] == {
        "files": ["compose.yaml"],
        "name": "api",
        "image": None,
        "image_source": None,
        "build": {"dockerfile": "app/Dockerfile", "context": "app", "target": None},
        "tags": ["acme-api"],
        "user": {"name": "app", "uid": 1000, "home": "/home/app", "home_known": True},
        "model_caches": [{"kind": "hf", "directory": "/models/hf/hub", "where": "`HF_HOME`",
                          "why": "its Dockerfile installs `transformers`"}],
        "volumes": [{"type": "volume", "source": "models", "target": "/models", "read_only": False},
                    {"type": "bind", "source": "./config", "target": "/etc/app", "read_only": True}],
        "runs": [],
    }
    assert [(u["kind"], u["path"]) for u in data["unresolved"]] == [
        ("link", None), ("build", ".github/workflows/images.yml"), ("base", "legacy/Dockerfile")]
    assert CONFLICT.fullmatch(data["unresolved"][0]["message"])


# -- mermaid ------------------------------------------------------------------------------------

_ID = r"[A-Za-z][A-Za-z0-9_]*"
_SHAPES = r'(\["(?P<a>[^"]*)"\]|\(\["(?P<b>[^"]*)"\]\)|\("(?P<c>[^"]*)"\)|\{\{"(?P<d>[^"]*)"\}\})'
_NODE = re.compile(rf"\s*(?P<sub>subgraph )?(?P<id>{_ID}){_SHAPES}")
_EDGE = re.compile(rf"\s*(?P<from>{_ID}) (-->|-\.->)(\|(?P<label>[A-Za-z ]+)\|)? (?P<to>{_ID})")
_LABEL_TEXT = re.compile(r'(?:[^"\[\]{}()<>|`#]|#(?:quot|lt|gt|\d+);|<br/>)*')


def parse_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """(node id -> label, [(from label, edge label, to label)]), failing on any line that is not
    a node, an edge, `end` or a class line; ids unique, every edge's nodes declared, subgraphs closed."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges = []
    depth = 0
    for line in lines[1:]:
        if line.strip() == "end":
            depth -= 1
            assert depth >= 0, line
        elif line.lstrip().startswith(("classDef ", "class ")):
            continue
        elif (node := _NODE.fullmatch(line)) is not None:
            text_ = next(node.group(k) for k in "abcd" if node.group(k) is not None)
            assert _LABEL_TEXT.fullmatch(text_), line
            assert node["id"] not in nodes, f"id declared twice: {line}"
            nodes[node["id"]] = text_
            depth += bool(node["sub"])
        elif (edge := _EDGE.fullmatch(line)) is not None:
            assert edge["from"] in nodes and edge["to"] in nodes, f"edge to an undeclared node: {line}"
            edges.append((nodes[edge["from"]], edge["label"] or "", nodes[edge["to"]]))
        else:
            raise AssertionError(f"not Mermaid this graph writes: {line!r}")
    assert depth == 0
    return nodes, edges


def test_mermaid_is_a_well_formed_flowchart_with_the_links(project) -> None:
    nodes, edges = parse_mermaid(graph("--output-format", "mermaid"))
    base, tools = "ghcr.io/acme/ml-base:cu124", "ghcr.io/acme/tools:1"
    for edge in [
        ("workflow images / Build base<br/>.github/workflows/images.yml:8", "builds with no cache export", base),
        ("stage 0 runtime<br/>user app", "", base),  # the stage that becomes the image
        (base, "FROM", "stage 0<br/>user app"),  # image -> child (app/Dockerfile)
        (base, "FROM", "stage 0 deps<br/>user app"),  # through the Bake build arg
        ("stage 0 deps<br/>user app", "FROM", "stage 1<br/>user app"),
        ("service api<br/>compose.yaml", "builds", "acme-api"),
        ("service llm<br/>compose.yaml", "runs", "ollama/ollama:0.5.7"),
        ("registry.example.com/team/legacy:2", "FROM", "stage 0<br/>user root"),
        ("service tools<br/>compose.yaml", "builds", tools),
        ("workflow images / Build tools<br/>.github/workflows/images.yml:14", "builds", tools),
    ]:
        assert edge in edges
    assert sorted(label for label in nodes.values() if "/Dockerfile" in label or label.endswith(".Dockerfile")) == [
        "app/Dockerfile", "docker/base.Dockerfile", "legacy/Dockerfile", "tools-a/Dockerfile",
        "tools-b/Dockerfile", "worker/Dockerfile"]


def test_mermaid_labels_and_ids_survive_awkward_names(tmp_path, monkeypatch) -> None:
    write(tmp_path, {
        'we"ird [x]/Dockerfile': "ARG BASE\nFROM ${BASE}\n",
        "we-ird-x/Dockerfile": "FROM scratch\n",
    })
    monkeypatch.chdir(tmp_path)
    out = graph("--output-format", "mermaid")
    _, edges = parse_mermaid(out)
    assert out.splitlines()[1:6] == [  # two paths that sanitize alike get two ids
        '  subgraph df_we_ird_x_Dockerfile["we#quot;ird #91;x#93;/Dockerfile"]',
        '    st_we_ird_x_Dockerfile_0["stage 0<br/>user root"]',
        "  end",
        '  subgraph df_we_ird_x_Dockerfile_2["we-ird-x/Dockerfile"]',
        '    st_we_ird_x_Dockerfile_0_2["stage 0<br/>user root"]',
    ]
    assert edges == [("$#123;BASE#125;", "FROM", "stage 0<br/>user root")]  # scratch is no image node
    assert "class img_BASE unknown" in out


def test_label_escapes_what_mermaid_reads_as_syntax() -> None:
    assert label('a "b" [c] {d} (e) <f> g|h `i` #j', "two") == (
        '"a #quot;b#quot; #91;c#93; #123;d#125; #40;e#41; #lt;f#gt; g#124;h #96;i#96; #35;j<br/>two"')


# -- what cannot be resolved --------------------------------------------------------------------


def test_unknown_variable_base_and_unreadable_dockerfile(tmp_path, monkeypatch) -> None:
    write(tmp_path, {
        "svc/Dockerfile": "ARG BASE\nFROM ${BASE} AS app\nFROM scratch\n",
        "docker-bake.json": '{"target": {"gone": {"context": "gone", "tags": ["acme/gone"]}}}',
    })
    monkeypatch.chdir(tmp_path)
    out = graph()
    assert out == dedent("""\
        Images
          gone/Dockerfile (cannot be read)
            built by bake target `gone` (docker-bake.json:1): tags acme/gone; no cache import or export
            linted with its own ARG defaults
          svc/Dockerfile
            no build declared: linted with its own ARG defaults
            stage 0 `app`: FROM ${BASE}
              base: `${BASE}` has no known value; unknown: fixes that depend on it are unsafe
              user: root (uid 0, home /root)
              assumes the base image `${BASE}` runs as root and sets no cache variable
            stage 1: FROM scratch
              base: the empty image: root, no environment
              user: root (uid 0, home /root)
        Services: no Compose service found
        Unresolved
          - bake target `gone` (docker-bake.json:1) builds gone/Dockerfile, which cannot be read
          - svc/Dockerfile: stage 0 `app` FROM `${BASE}`: not a stage of this file, not built here, not in the known-image table: fixes that depend on its USER or ENV are unsafe
        """)


# -- the command --------------------------------------------------------------------------------


def test_output_file(project) -> None:
    result = invoke(["graph", "--isolated", "--output-format", "json", "-o", "graph.json"])
    assert (result.exit_code, result.stdout) == (0, "")
    assert json.loads((project / "graph.json").read_text())["version"] == 1


@pytest.mark.parametrize("args", [["--output-format", "sarif"], ["missing/path"], ["-"], ["--config", "none.toml"]])
def test_usage_errors_exit_2(project, args) -> None:
    result = invoke(["graph", *args])
    assert result.exit_code == 2, result.output


def test_graph_is_not_on_the_lint_path() -> None:
    loaded = imports_of("import aicache_lint.cli")
    assert not {"aicache_lint.graph", "aicache_lint.report.graph", "aicache_lint.workspace.index"} & loaded.ours


def test_resolve_images_reads_an_unknown_base_from_the_registry(tmp_path, monkeypatch) -> None:
    from registry_server import FakeRegistry

    from aicache_lint.registry import resolver as resolver_module

    monkeypatch.setenv("AICACHE_LINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(resolver_module, "_RESOLVERS", {})
    write(tmp_path, {"Dockerfile": "FROM registry.test/team/app:1.0\n"})
    monkeypatch.chdir(tmp_path)
    config = {"User": "1000:1000", "Env": ["HOME=/home/app", "HF_HOME=/data/hf", "PATH=/usr/bin"]}
    with FakeRegistry({"team/app": {"1.0": "sha256:" + "1" * 64}}, configs={"team/app": {"1.0": config}}) as reg:
        (tmp_path / "graph.toml").write_text(f'[registry-mirrors]\n"registry.test" = "{reg.url}"\n')
        offline = graph("--config", "graph.toml")
        online = graph("--config", "graph.toml", "--resolve-images")
    assert "      base: unknown: fixes that depend on it are unsafe\n" in offline
    assert online == dedent("""\
        Images
          Dockerfile
            no build declared: linted with its own ARG defaults
            stage 0: FROM registry.test/team/app:1.0
              base: registry config of registry.test/team/app:1.0
              user: 1000 (uid 1000, home /home/app)
              env: HF_HOME=/data/hf, HOME=/home/app
        Services: no Compose service found
        Unresolved: none
        """)
