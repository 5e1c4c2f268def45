"""Compose parsing: exact spans, anchors/merges, tags, errors, interpolation, project merging."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from import_cost import imports_of

from aicache_lint.compose.interpolate import interpolate, parse_dotenv, substitute
from aicache_lint.compose.model import Alias, Mapping, Sequence
from aicache_lint.compose.parse import parse
from aicache_lint.compose.project import (
    companion_files,
    is_compose_name,
    load_project,
    split_short_volume,
)
from aicache_lint.source import SourceText

SCHEMA = Path(__file__).parent / "data" / "schemas" / "compose-spec.json"
VALID: dict[str, str] = {}  # every sample that must validate against the Compose schema


def sample(name: str, text: str) -> str:
    VALID[name] = text
    return text


def doc_of(text: str):
    return parse(SourceText(text))


def at(text: str, span) -> str:
    return text[span.start : span.end]


def pos(doc, offset):
    return doc.source.position(offset)


# -- spans ------------------------------------------------------------------------------------

BLOCK = sample("block", """\
services:
  app:   # the app
    image: "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime"
    command: ['python', "serve.py"]
    environment: {HF_HOME: /cache/hf, MODE: 'fast'}
    labels:
      note: |
        first line
        second line

      # a comment after the block scalar
      folded: >-
        a
        b
    volumes:
      - ./models:/models   # models
      -   hf:/root/.cache/huggingface
volumes:
  hf: {}
""")


def test_block_and_flow_spans():
    d = doc_of(BLOCK)
    assert d.errors == []
    services = d.root.get("services")
    app = services.get("app")
    assert isinstance(app, Mapping) and app.indent == 4 and services.indent == 2 and d.root.indent == 0
    image = app.own("image")
    assert at(BLOCK, image.key.span) == "image"
    assert at(BLOCK, image.value.span) == '"pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime"'
    assert image.value.style == "double" and image.value.value.startswith("pytorch/")
    assert pos(d, image.key.span.start) == (3, 5)
    cmd = app.get("command")
    assert isinstance(cmd, Sequence) and cmd.style == "flow" and cmd.indent is None
    assert at(BLOCK, cmd.span) == "['python', \"serve.py\"]"
    assert [at(BLOCK, i.span) for i in cmd.items] == ["'python'", '"serve.py"']
    assert [i.style for i in cmd.items] == ["single", "double"]
    env = app.get("environment")
    assert env.style == "flow" and at(BLOCK, env.span) == "{HF_HOME: /cache/hf, MODE: 'fast'}"
    assert at(BLOCK, env.own("MODE").value.span) == "'fast'"
    labels = app.get("labels")
    note = labels.get("note")
    assert note.style == "literal" and note.value == "first line\nsecond line\n"
    assert at(BLOCK, note.span) == "|\n        first line\n        second line"
    folded = labels.get("folded")
    assert folded.style == "folded" and folded.value == "a b" and at(BLOCK, folded.span).endswith("b")
    vols = app.get("volumes")
    assert vols.style == "block" and vols.indent == 6
    assert [at(BLOCK, i.span) for i in vols.items] == ["./models:/models", "hf:/root/.cache/huggingface"]
    assert [BLOCK[i] for i in vols.dashes] == ["-", "-"]
    assert pos(d, vols.dashes[1]) == (17, 7)
    # comments are kept out of every span and listed
    assert "# the app" in [at(BLOCK, c) for c in d.comments]
    assert "# a comment after the block scalar" in [at(BLOCK, c) for c in d.comments]
    assert at(BLOCK, app.span).endswith("hf:/root/.cache/huggingface")
    hf = d.root.get("volumes").get("hf")
    assert isinstance(hf, Mapping) and hf.style == "flow" and hf.pairs == []


def test_scalar_kinds_and_null_values():
    text = "a: 1\nb: true\nc: yes\nd: ~\ne:\nf: '1'\ng: 1.5\nh: !!str 2\n"
    d = doc_of(text)
    kinds = {k: d.root.get(k).kind for k in "abcdefgh"}
    assert kinds == {"a": "int", "b": "bool", "c": "str", "d": "null", "e": "null", "f": "str",
                     "g": "float", "h": "str"}
    e = d.root.get("e")
    assert e.span.start == e.span.end == text.index("e:") + 2 and e.text is None


def test_crlf_offsets_and_columns():
    text = "services:\r\n  app:\r\n    image: \"é x\"\r\n    command: |\r\n      run\r\n    x: [1, 2]\r\n"
    d = doc_of(text)
    app = d.root.get("services").get("app")
    assert at(text, app.get("image").span) == '"é x"'
    assert pos(d, app.get("image").span.start) == (3, 12)
    assert at(text, app.get("command").span) == "|\r\n      run"
    assert at(text, app.get("x").span) == "[1, 2]"
    assert pos(d, app.own("x").key.span.start) == (6, 5)


def test_bom_is_not_in_offsets():
    data = "\ufeffservices:\n  app:\n    image: busybox\n".encode()
    source = SourceText.decode(data, "compose.yaml")
    d = parse(source)
    image = d.root.get("services").get("app").get("image")
    assert source.bom and at(source.text, image.span) == "busybox"
    assert source.position(image.span.start) == (3, 12)


def test_parse_does_not_need_yaml_at_import():
    """yaml loads when a file is parsed; importing the Compose model loads none of the Dockerfile side."""
    loaded = imports_of("import aicache_lint.compose.project")
    assert "yaml" not in loaded.third_party
    # source.py asks discovery whether a name is a Compose file (YAML has its own line breaks).
    assert {m for m in loaded.ours if not m.startswith("aicache_lint.compose")} == {
        "aicache_lint", "aicache_lint.source", "aicache_lint.discovery"}
    loaded.assert_cheap()


# -- anchors, merges, tags, extensions --------------------------------------------------------

ANCHORS = sample("anchors", """\
x-env: &env
  HF_HOME: /cache/hf
  MODE: base
x-gpu: &gpu
  MODE: gpu
  CUDA: "1"
x-vols: &vols
  - hf:/cache/hf
services:
  a:
    image: busybox
    environment:
      <<: *env
      MODE: own
    volumes: *vols
  b:
    image: busybox
    environment:
      <<: [*gpu, *env]
volumes:
  hf:
""")


def test_anchor_alias_and_merge_keys():
    d = doc_of(ANCHORS)
    assert d.errors == []
    assert set(d.anchors) == {"env", "gpu", "vols"}
    env_anchor = d.root.get("x-env")
    assert env_anchor.anchor == "env" and at(ANCHORS, env_anchor.anchor_span) == "&env"
    assert at(ANCHORS, env_anchor.span).startswith("HF_HOME")
    a = d.root.get("services").get("a")
    env = a.get("environment")
    merge = env.pairs[0]
    assert merge.is_merge and isinstance(merge.value, Alias)
    assert at(ANCHORS, merge.value.span) == "*env" and merge.value.target is env_anchor
    entries = env.entries()
    assert list(entries) == ["MODE", "HF_HOME"]
    assert not entries["MODE"].inherited and entries["MODE"].value.value == "own"
    assert entries["HF_HOME"].inherited and entries["HF_HOME"].owner is env_anchor
    assert at(ANCHORS, entries["HF_HOME"].pair.key.span) == "HF_HOME"
    # volumes written as an alias: the Alias stays visible, `get` resolves it
    vols_pair = a.own("volumes")
    assert isinstance(vols_pair.value, Alias) and at(ANCHORS, vols_pair.value.span) == "*vols"
    assert isinstance(a.get("volumes"), Sequence)
    # `<<: [*gpu, *env]`: the earlier item wins
    b_env = d.root.get("services").get("b").get("environment")
    assert [at(ANCHORS, m.span) for m in b_env.merges] == ["*gpu", "*env"]
    assert b_env.get("MODE").value == "gpu" and b_env.get("HF_HOME").value == "/cache/hf"
    assert b_env.entry("HF_HOME").via is b_env.merges[1]


TAGS = sample("tags", """\
x-note: ignored by Compose
services:
  app:
    image: busybox
    x-owner: team-a
    volumes: !reset []
    environment: !override
      A: "1"
    command: !reset null
""")


def test_reset_override_and_unknown_tags():
    d = doc_of(TAGS)
    assert d.errors == []
    app = d.root.get("services").get("app")
    assert app.get("volumes").is_reset and at(TAGS, app.get("volumes").tag_span) == "!reset"
    assert at(TAGS, app.get("volumes").span) == "[]"
    env = app.get("environment")
    assert env.is_override and env.style == "block" and at(TAGS, env.span) == 'A: "1"'
    assert app.get("command").is_reset and app.get("command").is_null
    assert d.root.get("x-note").value == "ignored by Compose"
    d2 = doc_of("a: !custom {b: 1}\nc: !!binary aGk=\n")
    assert d2.errors == [] and d2.root.get("a").tag == "!custom"


def test_anchor_and_tag_on_one_node_and_null_items():
    text = "a: &x !!str 1\nb: !reset\nc: *x\nf:\n- x\n-\n- &y\n  k: v\n"
    d = doc_of(text)
    a = d.root.get("a")
    assert (at(text, a.span), at(text, a.anchor_span), at(text, a.tag_span)) == ("1", "&x", "!!str")
    assert a.kind == "str" and at(text, a.full_span) == "&x !!str 1"
    b = d.root.get("b")
    assert b.is_reset and b.is_null and at(text, b.full_span) == "!reset"
    f = d.root.get("f")
    assert f.indent == 0 and [pos(d, x) for x in f.dashes] == [(5, 1), (6, 1), (7, 1)]
    assert f.items[1].is_null and isinstance(f.items[2], Mapping) and f.items[2].indent == 2


def test_parse_never_raises_on_mangled_samples():
    import random

    rnd = random.Random(7)
    pieces = list(" \n\t:-[]{}&*!#'\"|>,$<.~=\r\x07é") + ["<<: *env\n", "!reset ", "&x ", "*x", "- "]
    samples = list(VALID.values())
    for _ in range(400):
        chars = list(rnd.choice(samples))
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(chars) + 1)
            if rnd.random() < 0.4 and i < len(chars):
                del chars[i]
            else:
                chars.insert(i, rnd.choice(pieces))
        text = "".join(chars)
        d = doc_of(text)
        assert d.root is not None or d.errors
        for node in d.walk():
            assert 0 <= node.span.start <= node.span.end <= len(text)
        load_project([SourceText(text, "/nonexistent/compose.yaml")])


# -- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, column, words", [
    ("services:\n  app:\n    image: 'busybox\n", 3, 12, "quoted scalar"),  # unclosed quote: where it opens
    ("services:\n  app:\n    image: x\n   build: .\n", 4, 4, ""),  # bad indentation
    ("services:\n\tapp:\n    image: x\n", 2, 1, "cannot start any token"),  # a tab
    ("services:\n  app: [a, b\n", 2, 8, "flow sequence"),
    ("services:\n  app: *nope\n", 2, 8, "alias"),
    ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a'"),
    ("services: {}\n---\nservices: {}\n", 2, 1, "several YAML documents"),
    ("- a\n- b\n", 1, 1, "not a list"),
    ("just text\n", 1, 1, "not a scalar"),
    ("", 1, 1, "empty"),
    ("# only a comment\n", 1, 1, "empty"),
    ("a: b\x07\n", 1, 5, "unacceptable character"),
])
def test_errors_have_line_and_column(text, line, column, words):
    d = doc_of(text)
    assert len(d.errors) == 1, d.errors
    err = d.errors[0]
    assert d.source.position(err.span.start) == (line, column), err
    assert words in err.message


def test_broken_yaml_has_no_root_and_error_with_c_and_python_loader(monkeypatch):
    text = "services:\n  app:\n    image: 'busybox\n"
    first = doc_of(text).errors[0]
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    d = doc_of(text)
    assert d.root is None and d.errors[0].span == first.span


# -- interpolation ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [
    ("${MODEL}", "llama"),
    ("$MODEL/x", "llama/x"),
    ("${MISSING:-def}", "def"),
    ("${EMPTY:-def}", "def"),
    ("${EMPTY-def}", ""),
    ("${MISSING-./models}:/models", "./models:/models"),
    ("${MISSING:-${MODEL}-v2}", "llama-v2"),
    ("${MODEL:+set}", "set"),
    ("${MISSING:+set}", ""),
    ("${MODEL:?need a model}", "llama"),
    ("echo $$HOME $${X}", "echo $HOME ${X}"),
    ("${MISSING}", None),
    ("${MISSING:?need}", None),
    ("${SECRET:-x}", None),
])
def test_interpolation(raw, value):
    env = {"MODEL": "llama", "EMPTY": "", "SECRET": None}
    assert interpolate(raw, env).value == value


def test_interpolation_unknown_vs_empty_and_errors():
    env = {"EMPTY": ""}
    assert interpolate("${EMPTY}", env).value == ""
    assert interpolate("${NOPE}", env).unknown == ("NOPE",)
    assert interpolate("${EMPTY:?set it}", env).error == "required variable EMPTY is empty: set it"
    assert interpolate("cost $ 5", env).error.startswith("invalid interpolation format")
    assert substitute("${A", env) is None


def test_dotenv():
    text = "# c\nA=1\nexport B=\"x ${A}\\n\"\nC='$A'\nD=v # comment\nE=a#b\nnot a line\n"
    assert parse_dotenv(text) == {"A": "1", "B": "x 1\n", "C": "$A", "D": "v", "E": "a#b"}


# -- project: environment, volumes, build -----------------------------------------------------

PROJECT = sample("project", """\
name: demo
x-common: &common
  HF_HOME: /cache/hf
services:
  api:
    build:
      context: ./api
      dockerfile: gpu.Dockerfile
      args:
        - TORCH=${TORCH_VERSION:-2.3.0}
    environment:
      - HF_TOKEN
      - MODEL=${MODEL:-llama}
      - PRICE=$$5
    env_file:
      - .env.api
      - path: ./more.env
        required: false
    volumes:
      - ./models:/models:ro
      - models:/m
      - ~/x:/x
      - /abs:/abs
      - /anon
      - type: volume
        source: hf
        target: /cache/hf
        read_only: true
      - type: bind
        source: ../data
        target: /data
    command: ["python", "-m", "api"]
    profiles: [gpu]
  worker:
    image: ${REGISTRY:-docker.io}/org/worker
    environment:
      <<: *common
      HF_TOKEN:
      THREADS: 4
volumes:
  models:
  hf:
    name: hf-cache
  ext:
    external: true
""")


def write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())


def test_project_environment_forms(tmp_path):
    write(tmp_path, {"compose.yaml": PROJECT, ".env": "MODEL=mistral\n"})
    project = load_project([str(tmp_path / "compose.yaml")])
    assert project.errors == [] and project.name == "demo"
    api, worker = project.services["api"], project.services["worker"]
    env = api.environment
    assert env["HF_TOKEN"].form == "list" and env["HF_TOKEN"].raw is None and not env["HF_TOKEN"].has_value
    assert env["MODEL"].value == "mistral" and env["MODEL"].raw == "${MODEL:-llama}"
    assert env["PRICE"].value == "$5"
    assert at(PROJECT, env["MODEL"].node.span) == "MODEL=${MODEL:-llama}"
    wenv = worker.environment
    assert wenv["HF_TOKEN"].form == "map" and wenv["HF_TOKEN"].value is None and not wenv["HF_TOKEN"].has_value
    assert wenv["THREADS"].value == "4" and at(PROJECT, wenv["THREADS"].key_node.span) == "THREADS"
    assert wenv["HF_HOME"].inherited and not wenv["THREADS"].inherited
    assert worker.image == "docker.io/org/worker"
    assert [(e.raw, e.required) for e in api.env_file] == [(".env.api", True), ("./more.env", False)]
    assert api.env_file[1].path == str(tmp_path / "more.env")
    assert api.profiles == ["gpu"] and [i.value for i in api.command.items] == ["python", "-m", "api"]


def test_project_build(tmp_path):
    write(tmp_path, {"compose.yaml": PROJECT})
    api = load_project([str(tmp_path / "compose.yaml")]).services["api"]
    assert api.build.context == str(tmp_path / "api")
    assert api.build.dockerfile == str(tmp_path / "api" / "gpu.Dockerfile")
    assert api.build.args["TORCH"].value == "2.3.0"


def test_project_volumes(tmp_path):
    write(tmp_path, {"compose.yaml": PROJECT})
    project = load_project([str(tmp_path / "compose.yaml")])
    vols = {v.target: v for v in project.services["api"].volumes}
    assert (vols["/models"].type, vols["/models"].read_only, vols["/models"].mode) == ("bind", True, "ro")
    assert vols["/models"].host_path == str(tmp_path / "models")
    assert vols["/m"].is_named and vols["/m"].source == "models"
    assert vols["/x"].is_bind and vols["/x"].host_path == "~/x"
    assert vols["/abs"].is_bind and vols["/abs"].host_path == "/abs"
    assert vols["/anon"].type == "volume" and vols["/anon"].source is None and not vols["/anon"].is_named
    assert vols["/cache/hf"].syntax == "long" and vols["/cache/hf"].is_named and vols["/cache/hf"].read_only
    assert vols["/data"].is_bind and vols["/data"].host_path == str(tmp_path.parent / "data")
    assert at(PROJECT, vols["/m"].node.span) == "models:/m"
    top = project.volumes
    assert top["models"].explicit_name is None and not top["models"].external
    assert top["hf"].explicit_name == "hf-cache" and top["ext"].external
    assert at(PROJECT, top["hf"].key_node.span) == "hf"


def test_split_short_volume():
    assert split_short_volume("./m:/m:ro,z") == ("./m", "/m", "ro,z")
    assert split_short_volume("/anon") == (None, "/anon", None)
    assert split_short_volume("C:\\data:/data") == ("C:\\data", "/data", None)


# -- project: base + override ------------------------------------------------------------------

BASE = sample("base", """\
services:
  app:
    image: app:base
    command: python base.py
    environment:
      HF_HOME: /cache/hf
      MODE: base
    volumes:
      - ./models:/models
      - hf:/cache/hf
    labels: [a=1]
  gone:
    image: busybox
volumes:
  hf:
""")

OVERRIDE = sample("override", """\
services:
  app:
    command: ["python", "override.py"]
    environment:
      - MODE=dev
      - DEBUG=1
    volumes:
      - hf-dev:/models
      - ./logs:/logs
    labels:
      b: "2"
  gone: !reset {}
volumes:
  hf:
    external: true
  hf-dev: {}
""")


def test_base_and_override_merge(tmp_path):
    write(tmp_path, {"compose.yaml": BASE, "compose.override.yaml": OVERRIDE})
    base, override = str(tmp_path / "compose.yaml"), str(tmp_path / "compose.override.yaml")
    assert companion_files(base) == [base, override] == companion_files(override)
    project = load_project(companion_files(base))
    app = project.services["app"]
    assert [f.path for f, _ in app.definitions] == [base, override]
    assert app.image == "app:base"
    assert [i.value for i in app.command.items] == ["python", "override.py"]
    assert {k: (v.value, v.file) for k, v in app.environment.items()} == {
        "HF_HOME": ("/cache/hf", base), "MODE": ("dev", override), "DEBUG": ("1", override)}
    # same target: the override's volume replaces the base one, in place
    assert [(v.source, v.target, v.file) for v in app.volumes] == [
        ("hf-dev", "/models", override), ("hf", "/cache/hf", base), ("./logs", "/logs", override)]
    assert {k: v.value for k, v in app.labels.items()} == {"a": "1", "b": "2"}
    assert "gone" not in project.services
    assert project.volumes["hf"].external and project.volumes["hf"].file == override


def test_reset_and_override_tags_in_override_file(tmp_path):
    write(tmp_path, {"compose.yaml": BASE, "compose.override.yaml": TAGS})
    project = load_project(companion_files(str(tmp_path / "compose.yaml")))
    app = project.services["app"]
    assert app.volumes == [] and app.command is None
    assert {k: v.value for k, v in app.environment.items()} == {"A": "1"}
    assert app.image == "busybox"


def test_companion_files_spellings(tmp_path):
    write(tmp_path, {"docker-compose.yml": BASE, "docker-compose.override.yml": OVERRIDE,
                     "compose.gpu.yaml": BASE})
    base = str(tmp_path / "docker-compose.yml")
    assert companion_files(base) == [base, str(tmp_path / "docker-compose.override.yml")]
    assert companion_files(str(tmp_path / "compose.gpu.yaml")) == [str(tmp_path / "compose.gpu.yaml")]
    for name in ("compose.yaml", "compose.override.yml", "docker-compose.prod.yaml", "compose-dev.yml"):
        assert is_compose_name(name)
    for name in ("compose.json", "mycompose.yaml", "docker-compose.yaml.bak"):
        assert not is_compose_name(name)


# -- include ----------------------------------------------------------------------------------

MAIN_WITH_INCLUDE = sample("include-main", """\
include:
  - ../shared/cache.yaml
  - path: ./llm/compose.yaml
    project_directory: ./llm
services:
  web:
    image: nginx
""")

CACHE = sample("include-cache", """\
services:
  cache:
    image: redis
    volumes:
      - ./data:/data
""")

LLM = sample("include-llm", """\
services:
  llm:
    build: .
    volumes:
      - ./models:/models
  web:
    image: other
""")


def test_include_short_and_long_with_own_project_dirs(tmp_path):
    write(tmp_path, {"app/compose.yaml": MAIN_WITH_INCLUDE, "shared/cache.yaml": CACHE,
                     "app/llm/compose.yaml": LLM})
    project = load_project([str(tmp_path / "app" / "compose.yaml")])
    assert set(project.services) == {"web", "cache", "llm"}
    assert project.services["web"].image == "nginx"
    assert project.services["cache"].volumes[0].host_path == str(tmp_path / "shared" / "data")
    assert project.services["llm"].volumes[0].host_path == str(tmp_path / "app" / "llm" / "models")
    assert project.services["llm"].build.context == str(tmp_path / "app" / "llm")
    assert len(project.files) == 3
    assert [p.message for p in project.problems] == [
        f"service 'web' from {tmp_path / 'app' / 'llm' / 'compose.yaml'} conflicts with one already defined"]


def test_include_missing_file_is_a_problem(tmp_path):
    write(tmp_path, {"compose.yaml": "include:\n  - nope.yaml\nservices:\n  a:\n    image: x\n"})
    project = load_project([str(tmp_path / "compose.yaml")])
    assert list(project.services) == ["a"]
    assert project.problems[0].message.startswith("included file not found")


def test_broken_file_in_project_does_not_break_others(tmp_path):
    write(tmp_path, {"compose.yaml": BASE, "compose.override.yaml": "services: [\n"})
    project = load_project(companion_files(str(tmp_path / "compose.yaml")))
    assert "app" in project.services and len(project.errors) == 1


# -- size -------------------------------------------------------------------------------------

def big_compose(services: int) -> str:
    lines = ["x-env: &env", "  HF_HOME: /cache/hf", "services:"]
    for i in range(services):
        lines += [f"  svc{i}:", f"    image: org/svc{i}:1.0", "    environment:", "      <<: *env",
                  f"      N: \"{i}\"", "    volumes:", f"      - ./m{i}:/m", "      - hf:/cache/hf",
                  "    command: [\"python\", \"-m\", \"svc\"]", "    # a comment"]
    lines += ["volumes:", "  hf:"]
    return "\n".join(lines) + "\n"


def test_large_file_parses(tmp_path):
    text = big_compose(300)
    assert text.count("\n") >= 3000
    t0 = time.perf_counter()
    d = doc_of(text)
    elapsed = time.perf_counter() - t0
    assert d.errors == [] and len(d.root.get("services").pairs) == 300
    write(tmp_path, {"compose.yaml": text})
    t0 = time.perf_counter()
    project = load_project([str(tmp_path / "compose.yaml")])
    total = time.perf_counter() - t0
    assert len(project.services) == 300
    print(f"\n3000-line compose: parse {elapsed * 1000:.1f} ms, load_project {total * 1000:.1f} ms")


# -- every sample is a valid Compose file -------------------------------------------------------

class _TagTolerantLoader(yaml.SafeLoader):
    pass


def _untagged(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_TagTolerantLoader.add_multi_constructor("!", _untagged)


def test_samples_validate_against_compose_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    VALID["big"] = big_compose(5)
    for name, text in VALID.items():
        data = yaml.load(text, Loader=_TagTolerantLoader)
        errors = list(jsonschema.Draft7Validator(schema).iter_errors(data))
        assert errors == [], (name, [e.message for e in errors])
