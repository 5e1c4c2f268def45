"""AIC401/402/404/405 end to end, as a user runs them: a project directory, the CLI, `--fix`.

Each test builds a Compose project in ``tmp_path`` (base, override, `include:`d files, `.env`,
Dockerfiles), then checks the exact findings (code, file, line), the exact text of every file
after `--fix` (only the file holding the edited key changes), that every Compose file still
loads and validates against the Compose schema, that fixing again changes nothing, and what is
left to report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from cli_runner import invoke

SELECT = "AIC401,AIC402,AIC404,AIC405"
SCHEMA = json.loads((Path(__file__).parent / "data" / "schemas" / "compose-spec.json").read_text())


class _Loader(yaml.SafeLoader):
    """PyYAML with Compose's `!reset` / `!override` tags (the value is kept as written)."""


def _tagged(loader, node):
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_constructor("!reset", _tagged)
_Loader.add_constructor("!override", _tagged)


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode() if isinstance(text, str) else text)
    return root


def _run(root: Path, args: list[str]):
    old = os.getcwd()
    os.chdir(root)
    try:
        return invoke(["--isolated", *args])
    finally:
        os.chdir(old)


def lint(root: Path, paths=("compose.yaml",), select=SELECT) -> list[tuple[str, str, int, str | None]]:
    """(code, file relative to root, line, fix applicability or None), sorted."""
    result = _run(root, ["--select", select, "--output-format", "json", *paths])
    assert result.exit_code in (0, 1), result.output
    found = []
    for f in json.loads(result.stdout or "[]"):
        fix = f["fix"]["applicability"] if f["fix"] else None
        found.append((f["code"], os.path.relpath(f["filename"], root).replace(os.sep, "/"), f["location"]["row"], fix))
    return sorted(found)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _validate(rel: str, data: bytes) -> None:
    doc = yaml.load(data.decode("utf-8"), Loader=_Loader)
    jsonschema.Draft7Validator(SCHEMA).validate(doc)


def fix(root: Path, fixed: dict[str, str], paths=("compose.yaml",), unsafe=False, select=SELECT,
        remaining=()) -> None:
    """Apply the fixes; exactly the files in ``fixed`` change, to exactly that text; every Compose
    file validates; a second `--fix` changes nothing; ``remaining`` findings are left."""
    before = _snapshot(root)
    for rel, data in before.items():
        if rel.endswith((".yaml", ".yml")):
            _validate(rel, data)
    flags = ["--fix", *(["--unsafe-fixes"] if unsafe else [])]
    _run(root, ["--select", select, *flags, "--output-format", "json", *paths])
    after = _snapshot(root)
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert changed == set(fixed), f"changed: {sorted(changed)}"
    for rel, text in fixed.items():
        assert after[rel].decode("utf-8") == text, rel
    for rel, data in after.items():
        if rel.endswith((".yaml", ".yml")):
            _validate(rel, data)
    _run(root, ["--select", select, *flags, *paths])
    assert _snapshot(root) == after, "a second --fix changed something"
    assert [f[:3] for f in lint(root, paths, select)] == sorted(remaining)


# --- anchors and `<<` merge keys ------------------------------------------------------------------

def test_merged_volumes_are_kept_when_a_known_image_gets_its_volume(tmp_path):
    root = make(tmp_path, {"compose.yaml": (
        "x-common: &common\n"
        "  volumes:\n"
        "    - ./logs:/logs  # logs\n"
        "services:\n"
        "  tei:\n"
        "    <<: *common\n"
        "    image: ghcr.io/huggingface/text-embeddings-inference:1.5\n")})
    assert lint(root) == [("AIC401", "compose.yaml", 5, "safe")]
    # The service's own `volumes:` replaces the merged one: the inherited item is copied into it.
    fix(root, {"compose.yaml": (
        "x-common: &common\n"
        "  volumes:\n"
        "    - ./logs:/logs  # logs\n"
        "services:\n"
        "  tei:\n"
        "    <<: *common\n"
        "    image: ghcr.io/huggingface/text-embeddings-inference:1.5\n"
        "    volumes:\n"
        "      - ./logs:/logs\n"
        "      - hf-cache:/data\n"
        "volumes:\n"
        "  hf-cache:\n")})


def test_variable_from_an_anchor_is_reported_in_the_anchor_and_fixed_in_the_service(tmp_path):
    root = make(tmp_path, {"compose.yaml": (
        "x-env: &env\n"
        "  HF_HOME: /data/hf  # where models go\n"
        "services:\n"
        "  app:\n"
        "    image: whisperx-api\n"
        "    user: root\n"
        "    environment:\n"
        "      <<: *env\n"
        "      OTHER: 1\n")})
    assert lint(root) == [("AIC402", "compose.yaml", 2, "safe")]
    fix(root, {"compose.yaml": (
        "x-env: &env\n"
        "  HF_HOME: /data/hf  # where models go\n"
        "services:\n"
        "  app:\n"
        "    image: whisperx-api\n"
        "    user: root\n"
        "    environment:\n"
        "      <<: *env\n"
        "      OTHER: 1\n"
        "    volumes:\n"
        "      - hf-cache:/data/hf\n"
        "volumes:\n"
        "  hf-cache:\n")})


@pytest.mark.parametrize("env", ["environment: *env\n", "environment:  # shared\n      <<: *env\n"])
def test_environment_from_an_anchor_is_reported_without_a_fix(tmp_path, env):
    # Adding HF_HOME to an alias would change every user of the anchor: report only.
    text = ("x-env: &env\n  HF_TOKEN: abc\nservices:\n  app:\n    image: whisperx-api\n    user: root\n    "
            + env)
    root = make(tmp_path, {"compose.yaml": text})
    assert lint(root) == [("AIC401", "compose.yaml", 4, None)]
    fix(root, {}, remaining=[("AIC401", "compose.yaml", 4)])


# --- base + override --------------------------------------------------------------------------------

def test_override_that_mounts_the_cache_silences_the_base(tmp_path):
    root = make(tmp_path, {
        "compose.yaml": "services:\n  ollama:\n    image: ollama/ollama\n",
        "compose.override.yaml": "services:\n  ollama:\n    volumes:\n      - ollama:/root/.ollama\nvolumes:\n  ollama:\n",
    })
    assert lint(root, ("compose.yaml", "compose.override.yaml")) == []


def test_env_added_by_the_override_is_fixed_in_the_override(tmp_path):
    root = make(tmp_path, {
        "compose.yaml": "services:\n  app:\n    image: whisperx-api\n    user: root\n    volumes:\n      - ./x:/x\n",
        "compose.override.yaml": "services:\n  app:\n    environment:\n      HF_HOME: /data/hf\n",
    })
    paths = ("compose.yaml", "compose.override.yaml")
    assert lint(root, paths) == [("AIC402", "compose.override.yaml", 4, "safe")]
    fix(root, {"compose.override.yaml": (
        "services:\n  app:\n    environment:\n      HF_HOME: /data/hf\n"
        "    volumes:\n      - hf-cache:/data/hf\nvolumes:\n  hf-cache:\n")}, paths)


def test_linting_the_base_alone_does_not_edit_the_override(tmp_path):
    root = make(tmp_path, {
        "compose.yaml": "services:\n  app:\n    image: whisperx-api\n",
        "compose.override.yaml": "services:\n  app:\n    environment:\n      HF_HOME: /data/hf\n",
    })
    assert lint(root) == []  # the finding is in the override, which is not linted
    fix(root, {})


def test_reset_volumes_in_the_override_reports_without_a_fix(tmp_path):
    root = make(tmp_path, {
        "compose.yaml": ("services:\n  app:\n    image: whisperx-api\n    environment:\n      HF_HOME: /data/hf\n"
                         "    volumes:\n      - hf-cache:/data/hf\nvolumes:\n  hf-cache:\n"),
        "compose.override.yaml": "services:\n  app:\n    volumes: !reset []\n",
    })
    paths = ("compose.yaml", "compose.override.yaml")
    # A volume added to the base would be reset again by the override.
    assert lint(root, paths) == [("AIC402", "compose.yaml", 5, None)]
    fix(root, {}, paths, unsafe=True, remaining=[("AIC402", "compose.yaml", 5)])


# --- include: ---------------------------------------------------------------------------------------

INCLUDED = "services:\n  tei:\n    image: ghcr.io/huggingface/text-embeddings-inference:1.5\n    volumes:\n      - tei-data:/data\n"


def test_include_short_form_fixes_each_file_only_when_it_is_linted(tmp_path):
    base = "include:\n  - compose.models.yaml\nservices:\n  app:\n    image: x\n    volumes:\n      - data:/data\n"
    root = make(tmp_path, {"compose.yaml": base, "compose.models.yaml": INCLUDED})
    assert lint(root) == [("AIC404", "compose.yaml", 7, "safe")]
    fix(root, {"compose.yaml": base + "volumes:\n  data:\n"})
    paths = ("compose.yaml", "compose.models.yaml")
    assert lint(root, paths) == [("AIC404", "compose.models.yaml", 5, "safe")]
    fix(root, {"compose.models.yaml": INCLUDED + "volumes:\n  tei-data:\n"}, paths)


def test_include_long_form(tmp_path):
    base = "include:\n  - path: models/compose.yaml\n    env_file: models/.env\nservices:\n  app:\n    image: x\n"
    models = "services:\n  ollama:\n    image: ollama/ollama\n"
    root = make(tmp_path, {"compose.yaml": base, "models/compose.yaml": models, "models/.env": "X=1\n"})
    assert lint(root) == []
    fix(root, {})
    paths = ("compose.yaml", "models/compose.yaml")
    assert lint(root, paths) == [("AIC401", "models/compose.yaml", 2, "safe")]
    fix(root, {"models/compose.yaml": models + "    volumes:\n      - ollama:/root/.ollama\nvolumes:\n  ollama:\n"}, paths)


# --- environment forms, interpolation ---------------------------------------------------------------

def test_env_list_with_value_less_entry_crlf_flow_volumes_no_final_newline(tmp_path):
    text = ("services:\r\n  app:\r\n    image: whisperx-api\r\n    user: root\r\n    environment:\r\n"
            "      - HF_TOKEN\r\n      - HF_HOME=/data/hf  # cache\r\n    volumes: [./x:/x]  # binds")
    root = make(tmp_path, {"compose.yaml": text})
    assert lint(root) == [("AIC402", "compose.yaml", 7, "safe")]
    fix(root, {"compose.yaml": text.replace("[./x:/x]", "[./x:/x, hf-cache:/data/hf]")
               + "\r\nvolumes:\r\n  hf-cache:"})


def test_value_less_map_entry_gets_hf_home_and_volume(tmp_path):
    root = make(tmp_path, {"compose.yaml": "services:\n  app:\n    image: whisperx-api\n    user: root\n"
                                           "    environment:\n      HF_TOKEN:  # from the shell\n"})
    assert lint(root) == [("AIC401", "compose.yaml", 2, "safe")]
    fix(root, {"compose.yaml": (
        "services:\n  app:\n    image: whisperx-api\n    user: root\n"
        "    environment:\n      HF_TOKEN:  # from the shell\n      HF_HOME: /data/.huggingface\n"
        "    volumes:\n      - hf-cache:/data/.huggingface\nvolumes:\n  hf-cache:\n")})


def test_interpolation_default(tmp_path):
    head = "services:\n  app:\n    image: whisperx-api\n    user: root\n    environment:\n      HF_HOME: ${HF_HOME:-/data/hf}\n"
    root = make(tmp_path, {"compose.yaml": head})
    assert lint(root) == [("AIC402", "compose.yaml", 6, "safe")]
    fix(root, {"compose.yaml": head + "    volumes:\n      - hf-cache:/data/hf\nvolumes:\n  hf-cache:\n"})


def test_interpolation_from_dotenv(tmp_path):
    head = "services:\n  app:\n    image: whisperx-api\n    user: root\n    environment:\n      HF_HOME: ${CACHE_DIR}\n"
    root = make(tmp_path, {"compose.yaml": head, ".env": "CACHE_DIR=/srv/hf\n"})
    assert lint(root) == [("AIC402", "compose.yaml", 6, "safe")]
    fix(root, {"compose.yaml": head + "    volumes:\n      - hf-cache:/srv/hf\nvolumes:\n  hf-cache:\n"})


def test_unknown_variable(tmp_path):
    text = "services:\n  app:\n    image: whisperx-api\n    environment:\n      HF_HOME: ${AICACHE_TEST_UNSET_DIR}\n"
    root = make(tmp_path, {"compose.yaml": text})
    assert lint(root, select="AIC402") == []  # the path cannot be known: no AIC402 finding
    # AIC401 documents "a cache directory that cannot be known (a variable)" as report-only.
    assert lint(root) == [("AIC401", "compose.yaml", 2, None)]
    fix(root, {}, unsafe=True, remaining=[("AIC401", "compose.yaml", 2)])


# --- users --------------------------------------------------------------------------------------------

def test_non_root_user_fix_is_unsafe(tmp_path):
    head = "services:\n  app:\n    image: whisperx-api\n    user: \"1000:1000\"\n    environment:\n      HF_HOME: /data/hf\n"
    root = make(tmp_path, {"compose.yaml": head})
    assert lint(root) == [("AIC402", "compose.yaml", 6, "unsafe")]
    fix(root, {}, remaining=[("AIC402", "compose.yaml", 6)])
    fix(root, {"compose.yaml": head + "    volumes:\n      - hf-cache:/data/hf\nvolumes:\n  hf-cache:\n"}, unsafe=True)


def test_shared_volume_with_a_non_root_service_is_unsafe(tmp_path):
    text = ("services:\n  a:\n    image: whisperx-api\n    user: root\n    environment:\n      HF_TOKEN: x\n"
            "  b:\n    image: other\n    user: '1000'\n    environment:\n      HF_HOME: /data/.huggingface\n"
            "    volumes:\n      - hf-cache:/data/.huggingface\nvolumes:\n  hf-cache:\n")
    root = make(tmp_path, {"compose.yaml": text})
    assert lint(root) == [("AIC401", "compose.yaml", 2, "unsafe")]
    fix(root, {}, remaining=[("AIC401", "compose.yaml", 2)])


# --- two services, AIC405 -----------------------------------------------------------------------------

def test_two_services_with_their_own_hf_volume(tmp_path):
    text = ("services:\n  whisperx:\n    image: whisperx-api\n    environment: [HF_HOME=/data/hf]\n"
            "    volumes: [whisperx-hf:/data/hf]\n"
            "  comfyui:\n    image: comfyui\n    environment:\n      HF_HOME: /data/hf\n    volumes:\n"
            "      - type: volume\n        source: comfyui-hf  # per service\n        target: /data/hf\n"
            "  embed:\n    image: embed\n    environment:\n      HF_HOME: /data/hf\n    volumes:\n"
            "      - whisperx-hf:/data/hf\nvolumes:\n  whisperx-hf:\n  comfyui-hf:\n")
    root = make(tmp_path, {"compose.yaml": text})
    assert lint(root) == [("AIC405", "compose.yaml", 11, "unsafe")]
    fix(root, {}, remaining=[("AIC405", "compose.yaml", 11)])
    fix(root, {"compose.yaml": text.replace("source: comfyui-hf", "source: whisperx-hf")}, unsafe=True)


def test_undeclared_volume_shared_by_two_services_is_declared_once(tmp_path):
    text = ("services:\n  a:\n    image: x\n    volumes:\n      - hf-cache:/data/hf\n"
            "  b:\n    image: y\n    volumes:\n      - hf-cache:/data/hf\nvolumes:\n  other:\n")
    root = make(tmp_path, {"compose.yaml": text})
    assert lint(root) == [("AIC404", "compose.yaml", 5, "safe"), ("AIC404", "compose.yaml", 9, "safe")]
    fix(root, {"compose.yaml": text + "  hf-cache:\n"})


# --- known images ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("service", [
    "  ollama:\n    image: ollama/ollama\n    volumes:\n      - ollama:/root/.ollama\nvolumes:\n  ollama: {}\n",
    "  vllm:\n    image: vllm/vllm-openai:latest\n    volumes:\n      - ~/.cache/huggingface:/root/.cache/huggingface\n",
    "  tei:\n    image: ghcr.io/huggingface/text-embeddings-inference:1.5\n    volumes:\n      - ./data:/data\n",
])
def test_known_image_with_its_documented_volume(tmp_path, service):
    root = make(tmp_path, {"compose.yaml": "services:\n" + service})
    assert lint(root) == []


def test_vllm_without_a_volume(tmp_path):
    head = "services:\n  vllm:\n    image: vllm/vllm-openai:latest\n    command: --model mistralai/Mistral-7B-v0.1\n"
    root = make(tmp_path, {"compose.yaml": head})
    assert lint(root) == [("AIC401", "compose.yaml", 2, "safe")]
    fix(root, {"compose.yaml": head + "    volumes:\n      - hf-cache:/root/.cache/huggingface\nvolumes:\n  hf-cache:\n"})


# --- build: services linked to their Dockerfile ---------------------------------------------------------

BUILD = "services:\n  app:\n    build: ./app\n"


def test_dockerfile_sets_hf_home(tmp_path):
    root = make(tmp_path, {"compose.yaml": BUILD,
                           "app/Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers\nENV HF_HOME=/models/hf\n"})
    # The image's own cache dir: AIC401 (the same code as before a fix set HF_HOME in the Dockerfile).
    assert lint(root) == [("AIC401", "compose.yaml", 2, "safe")]
    fix(root, {"compose.yaml": BUILD + "    volumes:\n      - hf-cache:/models/hf\nvolumes:\n  hf-cache:\n"})


def test_dockerfile_sets_nothing(tmp_path):
    root = make(tmp_path, {"compose.yaml": BUILD, "app/Dockerfile": "FROM python:3.12-slim\nRUN pip install transformers torch lpips\n"})
    assert lint(root) == [("AIC401", "compose.yaml", 2, "safe"), ("AIC401", "compose.yaml", 2, "safe")]
    fix(root, {"compose.yaml": BUILD + (
        "    volumes:\n      - hf-cache:/data/.huggingface\n      - torch-cache:/data/.torch\n"
        "    environment:\n      HF_HOME: /data/.huggingface\n      TORCH_HOME: /data/.torch\n"
        "volumes:\n  hf-cache:\n  torch-cache:\n")})


def test_dockerfile_non_root_user_with_a_known_home(tmp_path):
    root = make(tmp_path, {"compose.yaml": BUILD, "app/Dockerfile": (
        "FROM python:3.12-slim\nRUN pip install transformers\nRUN useradd -m -d /home/app app\nUSER app\n")})
    assert lint(root) == [("AIC401", "compose.yaml", 2, "unsafe")]
    fix(root, {}, remaining=[("AIC401", "compose.yaml", 2)])
    fix(root, {"compose.yaml": BUILD + (
        "    volumes:\n      - hf-cache:/home/app/.cache/huggingface\n"
        "    environment:\n      HF_HOME: /home/app/.cache/huggingface\nvolumes:\n  hf-cache:\n")}, unsafe=True)


def test_long_build_form_appends_to_the_env_list(tmp_path):
    head = ("services:\n  app:\n    build:\n      context: ./app\n      dockerfile: gpu.Dockerfile\n"
            "    environment:\n      - HF_TOKEN\n")
    root = make(tmp_path, {"compose.yaml": head, "app/gpu.Dockerfile": "FROM python:3.12-slim\nRUN pip install diffusers\n"})
    assert lint(root) == [("AIC401", "compose.yaml", 2, "safe")]
    fix(root, {"compose.yaml": head + "      - HF_HOME=/data/.huggingface\n"
               "    volumes:\n      - hf-cache:/data/.huggingface\nvolumes:\n  hf-cache:\n"})


def test_override_that_resets_the_volumes_gets_the_fix(tmp_path):
    base = "services:\n  ollama:\n    image: ollama/ollama\n    volumes:\n      - ./old:/old\n"
    override = "services:\n  ollama:\n    volumes: !reset []\n"
    root = make(tmp_path, {"compose.yaml": base, "compose.override.yaml": override})
    paths = ("compose.yaml", "compose.override.yaml")
    assert lint(root, paths) == [("AIC401", "compose.override.yaml", 2, None)]
    # `!reset []` is a tagged flow sequence: report only, and never touch the base.
    fix(root, {}, paths, unsafe=True, remaining=[("AIC401", "compose.override.yaml", 2)])


def test_base_service_extended_by_an_override_is_fixed_in_the_override_today(tmp_path):
    # Deliberate: the file that defines the service last (the override) gets the fix, as the
    # merged project is what `docker compose up` runs by default.
    root = make(tmp_path, {
        "compose.yaml": "services:\n  ollama:\n    image: ollama/ollama  # GPU\n",
        "compose.override.yaml": "services:\n  ollama:\n    environment:\n      OLLAMA_KEEP_ALIVE: 24h\n",
    })
    paths = ("compose.yaml", "compose.override.yaml")
    assert lint(root, paths) == [("AIC401", "compose.override.yaml", 2, "safe")]
    fix(root, {"compose.override.yaml": (
        "services:\n  ollama:\n    environment:\n      OLLAMA_KEEP_ALIVE: 24h\n"
        "    volumes:\n      - ollama:/root/.ollama\nvolumes:\n  ollama:\n")}, paths)
