"""Text edits on Compose files: ``add_service_volume``, ``add_service_env``, ``declare_top_level_key``.

Every case checks the exact text, that the result parses and validates against the Compose schema,
and that the value YAML reads is the one we meant to add.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aicache_lint.compose.edits import (
    add_service_env,
    add_service_volume,
    declare_top_level_key,
    scalar,
    service_mapping,
)
from aicache_lint.compose.parse import parse
from aicache_lint.fix import apply_edits
from aicache_lint.source import SourceText

SCHEMA = json.loads((Path(__file__).parent / "data" / "schemas" / "compose-spec.json").read_text())


def _load(text: str):
    import yaml

    return yaml.safe_load(text)


def _valid(text: str) -> dict:
    import jsonschema

    data = _load(text)
    jsonschema.Draft7Validator(SCHEMA).validate(data)
    assert not parse(SourceText(text)).errors
    return data


def _apply(text: str, fn, service: str, *args) -> str | None:
    source = SourceText(text)
    doc = parse(source)
    mapping = service_mapping(doc, service)
    assert mapping is not None
    edits = fn(doc, source, mapping, *args)
    if edits is None:
        return None
    return apply_edits(text, edits, source.newline)


def volume(text: str, item: str, service: str = "app") -> str | None:
    return _apply(text, add_service_volume, service, item)


def env(text: str, name: str, value: str, service: str = "app") -> str | None:
    return _apply(text, add_service_env, service, name, value)


def _service(text: str, name: str = "app") -> dict:
    return _valid(text)["services"][name]


# -- volumes ------------------------------------------------------------------------------------

def test_block_list_appends_after_last_item_with_its_indent():
    text = "services:\n  app:\n    image: x\n    volumes:\n      - ./a:/a\n      - b:/b\n    ports: ['80:80']\nvolumes:\n  b:\n"
    out = volume(text, "hf-cache:/data/.huggingface")
    assert out == ("services:\n  app:\n    image: x\n    volumes:\n      - ./a:/a\n      - b:/b\n"
                   "      - hf-cache:/data/.huggingface\n    ports: ['80:80']\nvolumes:\n  b:\n")
    assert _load(out)["services"]["app"]["volumes"][-1] == "hf-cache:/data/.huggingface"


def test_block_list_after_comment_on_last_item():
    text = "services:\n  app:\n    image: x\n    volumes:\n      - ./a:/a  # data\n    # models below\n"
    out = volume(text, "hf:/hf")
    assert out == "services:\n  app:\n    image: x\n    volumes:\n      - ./a:/a  # data\n      - hf:/hf\n    # models below\n"
    _valid(out)


def test_indentless_block_list():
    text = "services:\n  app:\n    image: x\n    volumes:\n    - ./a:/a\n"
    assert volume(text, "hf:/hf") == "services:\n  app:\n    image: x\n    volumes:\n    - ./a:/a\n    - hf:/hf\n"


def test_long_syntax_last_item():
    text = ("services:\n  app:\n    image: x\n    volumes:\n      - type: bind\n        source: ./a\n"
            "        target: /a\n    command: run\n")
    out = volume(text, "hf:/hf")
    assert out == ("services:\n  app:\n    image: x\n    volumes:\n      - type: bind\n        source: ./a\n"
                   "        target: /a\n      - hf:/hf\n    command: run\n")
    assert _service(out)["volumes"][1] == "hf:/hf"


def test_quoted_siblings_keep_their_quotes():
    text = 'services:\n  app:\n    image: x\n    volumes:\n      - "./a:/a"\n'
    assert volume(text, "hf:/hf").endswith('      - "./a:/a"\n      - "hf:/hf"\n')
    text = "services:\n  app:\n    image: x\n    volumes:\n      - './a:/a'\n"
    assert volume(text, "hf:/hf").endswith("      - './a:/a'\n      - 'hf:/hf'\n")


def test_flow_list_stays_flow():
    text = "services:\n  app:\n    image: x\n    volumes: [./a:/a, b:/b]  # keep\n"
    out = volume(text, "hf:/hf")
    assert out == "services:\n  app:\n    image: x\n    volumes: [./a:/a, b:/b, hf:/hf]  # keep\n"
    assert _load(out)["services"]["app"]["volumes"] == ["./a:/a", "b:/b", "hf:/hf"]


def test_flow_list_with_trailing_comma_and_lines():
    text = "services:\n  app:\n    image: x\n    volumes: [\n      ./a:/a,\n    ]\n"
    out = volume(text, "hf:/hf")
    assert out == "services:\n  app:\n    image: x\n    volumes: [\n      ./a:/a, hf:/hf,\n    ]\n"
    assert _service(out)["volumes"] == ["./a:/a", "hf:/hf"]


def test_empty_flow_list():
    text = "services:\n  app:\n    image: x\n    volumes: []\n"
    assert volume(text, "hf:/hf") == "services:\n  app:\n    image: x\n    volumes: [hf:/hf]\n"


def test_empty_volumes_key():
    text = "services:\n  app:\n    image: x\n    volumes:  # none yet\n    command: run\n"
    out = volume(text, "hf:/hf")
    assert out == "services:\n  app:\n    image: x\n    volumes:  # none yet\n      - hf:/hf\n    command: run\n"
    _valid(out)


def test_new_volumes_key_after_last_key():
    text = "services:\n  app:\n    image: x\n  db:\n    image: postgres\n"
    out = volume(text, "hf:/hf")
    assert out == "services:\n  app:\n    image: x\n    volumes:\n      - hf:/hf\n  db:\n    image: postgres\n"
    _valid(out + "volumes:\n  hf:\n")


def test_new_volumes_key_follows_the_files_list_indent():
    text = "services:\n  app:\n    image: x\n  web:\n    image: y\n    ports:\n    - 80:80\n"
    assert volume(text, "hf:/hf") == ("services:\n  app:\n    image: x\n    volumes:\n    - hf:/hf\n"
                                      "  web:\n    image: y\n    ports:\n    - 80:80\n")


def test_four_space_file():
    text = "services:\n    app:\n        image: x\n        environment:\n            A: b\n"
    out = volume(text, "hf:/hf")
    assert out == ("services:\n    app:\n        image: x\n        environment:\n            A: b\n"
                   "        volumes:\n            - hf:/hf\n")
    out = env(text, "HF_HOME", "/hf")
    assert out == "services:\n    app:\n        image: x\n        environment:\n            A: b\n            HF_HOME: /hf\n"
    text = "services:\n    app:\n        image: x\n"
    assert env(text, "HF_HOME", "/hf") == "services:\n    app:\n        image: x\n        environment:\n            HF_HOME: /hf\n"


def test_crlf_and_no_final_newline():
    text = "services:\r\n  app:\r\n    image: x\r\n    volumes:\r\n      - ./a:/a"
    out = volume(text, "hf:/hf")
    assert out == "services:\r\n  app:\r\n    image: x\r\n    volumes:\r\n      - ./a:/a\r\n      - hf:/hf"
    text = "services:\r\n  app:\r\n    image: x\r\n"
    assert volume(text, "hf:/hf") == "services:\r\n  app:\r\n    image: x\r\n    volumes:\r\n      - hf:/hf\r\n"
    text = "services:\n  app:\n    image: x"
    assert volume(text, "hf:/hf") == "services:\n  app:\n    image: x\n    volumes:\n      - hf:/hf"
    assert env(text, "A", "b") == "services:\n  app:\n    image: x\n    environment:\n      A: b"


def test_tabs_cannot_indent_yaml():
    # Nothing to handle: a tab-indented file does not parse, so no rule ever edits one.
    assert parse(SourceText("services:\n\tapp:\n\t\timage: x\n")).root is None


def test_merge_key_inherited_items_are_carried():
    text = ("x-base: &base\n  image: x\n  volumes:\n    - ./a:/a\n    - \"b:/b\"\nservices:\n"
            "  app:\n    <<: *base\n    command: run\n")
    out = volume(text, "hf:/hf")
    assert out == ("x-base: &base\n  image: x\n  volumes:\n    - ./a:/a\n    - \"b:/b\"\nservices:\n"
                   "  app:\n    <<: *base\n    command: run\n    volumes:\n      - ./a:/a\n      - \"b:/b\"\n"
                   "      - hf:/hf\n")
    assert _load(out)["services"]["app"]["volumes"] == ["./a:/a", "b:/b", "hf:/hf"]
    assert _load(out)["x-base"]["volumes"] == ["./a:/a", "b:/b"]  # the anchor is untouched


def test_merge_key_own_list_wins_and_is_extended():
    text = ("x-base: &base\n  volumes: [./a:/a]\nservices:\n  app:\n    <<: *base\n    image: x\n"
            "    volumes:\n      - ./c:/c\n")
    out = volume(text, "hf:/hf")
    assert _service(out)["volumes"] == ["./c:/c", "hf:/hf"]


def test_merge_key_inherited_block_mapping_items_cannot_be_copied():
    text = ("x-base: &base\n  volumes:\n    - type: bind\n      source: ./a\n      target: /a\n"
            "services:\n  app:\n    <<: *base\n    image: x\n")
    assert volume(text, "hf:/hf") is None


def test_inherited_env_is_carried_in_its_form():
    text = ("x-env: &env\n  environment:\n    A: '1'\n    B: two\nservices:\n  app:\n    <<: *env\n    image: x\n")
    out = env(text, "HF_HOME", "/hf")
    assert out.endswith("    image: x\n    environment:\n      A: '1'\n      B: two\n      HF_HOME: /hf\n")
    assert _service(out)["environment"] == {"A": "1", "B": "two", "HF_HOME": "/hf"}
    text = ("x-env: &env\n  environment:\n    - A=1\nservices:\n  app:\n    <<: *env\n    image: x\n")
    out = env(text, "HF_HOME", "/hf")
    assert out.endswith("    image: x\n    environment:\n      - A=1\n      - HF_HOME=/hf\n")
    _valid(out)


def test_aliased_tagged_or_shared_values_are_left_alone():
    base = "x-vols: &vols\n  - ./a:/a\nservices:\n  app:\n    image: x\n"
    assert volume(base + "    volumes: *vols\n", "hf:/hf") is None
    assert volume("services:\n  app:\n    image: x\n    volumes: !reset []\n", "hf:/hf") is None
    assert volume("services:\n  app:\n    image: x\n    volumes: !override\n      - ./a:/a\n", "hf:/hf") is None
    # an anchored list another service aliases: extending it would change both services
    text = ("services:\n  app:\n    image: x\n    volumes: &v\n      - ./a:/a\n  other:\n    image: y\n"
            "    volumes: *v\n")
    assert volume(text, "hf:/hf") is None
    # a service another one merges from
    text = "services:\n  app: &app\n    image: x\n  other:\n    <<: *app\n"
    assert volume(text, "hf:/hf") is None
    # an anchor nobody uses is harmless
    text = "services:\n  app: &app\n    image: x\n"
    assert volume(text, "hf:/hf") == "services:\n  app: &app\n    image: x\n    volumes:\n      - hf:/hf\n"


def test_service_from_another_file_or_flow_service():
    a = SourceText("services:\n  app:\n    image: x\n")
    b = SourceText("services:\n  app:\n    image: y\n")
    doc_a, doc_b = parse(a), parse(b)
    assert add_service_volume(doc_a, a, service_mapping(doc_b, "app"), "hf:/hf") is None
    assert add_service_env(doc_a, a, service_mapping(doc_b, "app"), "A", "b") is None
    assert volume("services:\n  app: {image: x}\n", "hf:/hf") is None


def test_service_with_only_image():
    text = "services:\n  app:\n    image: x\n\n\nvolumes:\n  hf:\n"
    out = volume(text, "hf:/hf")
    assert out == "services:\n  app:\n    image: x\n    volumes:\n      - hf:/hf\n\n\nvolumes:\n  hf:\n"
    _valid(out)


# -- environment --------------------------------------------------------------------------------

def test_env_list_form():
    text = "services:\n  app:\n    image: x\n    environment:\n      - A=1  # one\n"
    out = env(text, "HF_HOME", "/data/hf")
    assert out == "services:\n  app:\n    image: x\n    environment:\n      - A=1  # one\n      - HF_HOME=/data/hf\n"
    text = 'services:\n  app:\n    image: x\n    environment:\n      - "A=1"\n'
    assert env(text, "HF_HOME", "/hf").endswith('      - "A=1"\n      - "HF_HOME=/hf"\n')


def test_env_flow_forms():
    text = "services:\n  app:\n    image: x\n    environment: [A=1]\n"
    assert env(text, "B", "2") == "services:\n  app:\n    image: x\n    environment: [A=1, B=2]\n"
    text = "services:\n  app:\n    image: x\n    environment: {A: '1'}\n"
    out = env(text, "B", "/b")
    assert out == "services:\n  app:\n    image: x\n    environment: {A: '1', B: '/b'}\n"  # like its sibling
    assert _service(out)["environment"] == {"A": "1", "B": "/b"}
    text = "services:\n  app:\n    image: x\n    environment: {}\n"
    assert env(text, "B", "/b") == "services:\n  app:\n    image: x\n    environment: {B: /b}\n"


def test_env_map_form_and_quoting():
    text = "services:\n  app:\n    image: x\n    environment:\n      A: b\n"
    for value, written in [("/hf", "/hf"), ("true", '"true"'), ("1", '"1"'), ("yes", '"yes"'),
                           ("a #b", '"a #b"'), ("a: b", '"a: b"'), ("", '""'), ("1.5", '"1.5"'),
                           ("null", '"null"'), ("x,y", '"x,y"')]:
        out = env(text, "HF_HOME", value)
        assert out == f"services:\n  app:\n    image: x\n    environment:\n      A: b\n      HF_HOME: {written}\n"
        assert _service(out)["environment"]["HF_HOME"] == value
    text = "services:\n  app:\n    image: x\n    environment:\n      A: \"b\"\n"
    assert env(text, "C", "/d").endswith('      C: "/d"\n')


def test_env_new_key_and_merge_inside_environment():
    text = "services:\n  app:\n    image: x\n    ports:\n      - 80:80\n"
    out = env(text, "HF_HOME", "/hf")
    assert out == text + "    environment:\n      HF_HOME: /hf\n"
    text = ("x-e: &e\n  A: b\nservices:\n  app:\n    image: x\n    environment:\n      <<: *e\n      C: d\n")
    assert env(text, "HF_HOME", "/hf") is None


@pytest.mark.parametrize("value", ["/x", "x y", "it's", 'say "hi"', "${HOME}/x", "~/x", "-x", "@x", "%x",
                                   "é/ü", "[a]", "{a}", "a,b", "*x", "&x", "!x", "|", ">", "'", '"', "?x",
                                   "2024-01-01", "0x1F", ".inf", "+1", "Off", "~"])
def test_scalar_reads_back_as_the_same_string(value):
    for style in ("plain", "single", "double"):
        text = f"k: {scalar(value, style)}\nl: [{scalar(value, style)}]\n"
        data = _load(text)
        assert data == {"k": value, "l": [value]}
        doc = parse(SourceText(text))
        assert doc.root.get("k").kind == "str" and doc.root.get("k").value == value


# -- idempotence ----------------------------------------------------------------------------------

def _has_volume(text: str, target: str) -> bool:
    vols = (_load(text)["services"]["app"] or {}).get("volumes") or []
    return any(isinstance(v, str) and v.split(":")[1] == target for v in vols)


@pytest.mark.parametrize("text", [
    "services:\n  app:\n    image: x\n",
    "services:\n  app:\n    image: x\n    volumes: []\n",
    "services:\n  app:\n    image: x\n    volumes:\n      - ./a:/a\n",
    "x-b: &b\n  volumes: [./a:/a]\nservices:\n  app:\n    <<: *b\n    image: x\n",
])
def test_second_application_with_already_there_check_changes_nothing(text):
    once = volume(text, "hf:/hf") if not _has_volume(text, "/hf") else text
    twice = volume(once, "hf:/hf") if not _has_volume(once, "/hf") else once
    assert once == twice
    _valid(once + "volumes:\n  hf:\n")


# -- top-level keys -----------------------------------------------------------------------------

def test_declare_top_level_key_still_works():
    source = SourceText("services:\n  app:\n    image: x\nvolumes:\n  a:\n")
    edit = declare_top_level_key(parse(source), source, "volumes", "hf")
    assert apply_edits(source.text, [edit]) == "services:\n  app:\n    image: x\nvolumes:\n  a:\n  hf:\n"
    source = SourceText("services:\n    app:\n        image: x")
    edit = declare_top_level_key(parse(source), source, "volumes", "hf")
    assert apply_edits(source.text, [edit]) == "services:\n    app:\n        image: x\nvolumes:\n    hf:"
    source = SourceText("services:\n  app:\n    image: x\nvolumes: {a: {}}\n")
    assert declare_top_level_key(parse(source), source, "volumes", "hf") is None


def test_combined_volume_and_declaration_edits_validate():
    source = SourceText("services:\n  app:\n    image: x\n")
    doc = parse(source)
    edits = add_service_volume(doc, source, service_mapping(doc, "app"), "hf-cache:/root/.cache/huggingface")
    edits.append(declare_top_level_key(doc, source, "volumes", "hf-cache"))
    out = apply_edits(source.text, sorted(edits))
    assert out == ("services:\n  app:\n    image: x\n    volumes:\n      - hf-cache:/root/.cache/huggingface\n"
                   "volumes:\n  hf-cache:\n")
    _valid(out)
