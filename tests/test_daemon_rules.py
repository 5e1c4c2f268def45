"""The registry cache and daemon rules (AIC507-AIC510): what their messages say, which the fixture
harness (positions and fixes) does not check, per-file ignores for daemon.json, and the JSON and
TOML edit helpers."""

from __future__ import annotations

from pathlib import Path

from aicache_lint.engine import check_source
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText

HUB_CACHE = """services:
  cache:
    image: registry:2
    restart: always
    ports: ["5000:5000"]
    environment:
      REGISTRY_PROXY_REMOTEURL: ${UPSTREAM}
    volumes: [registry-cache:/var/lib/registry]
volumes:
  registry-cache:
"""


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir()
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _messages(path: Path, code: str, **settings) -> list[str]:
    source = SourceText.decode(path.read_bytes(), str(path))
    return [f.message for f in check_source(source, Settings(select=(code,), **settings)) if f.code == code]


def test_aic507_names_the_resolved_upstream_and_where_the_cache_lives(tmp_path: Path) -> None:
    root = _project(tmp_path, {".env": "UPSTREAM=https://registry-1.docker.io\n", "compose.yaml": """services:
  default-root:
    image: registry:2
    restart: always
    environment:
      - REGISTRY_PROXY_REMOTEURL=${UPSTREAM}
  moved-root:
    image: registry:2
    restart: always
    environment:
      REGISTRY_PROXY_REMOTEURL: https://registry-1.docker.io
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: /cache
"""})
    default, moved = _messages(root / "compose.yaml", "AIC507")
    assert "`https://registry-1.docker.io`" in default and "anonymous volume the image declares" in default
    assert "`/cache`, set by `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY` in `environment`" in moved
    assert "writable layer" in moved


def test_aic507_says_why_a_taken_volume_name_gets_no_fix(tmp_path: Path) -> None:
    root = _project(tmp_path, {"compose.yaml": """services:
  cache:
    image: registry:2
    restart: always
    environment: {REGISTRY_PROXY_REMOTEURL: "https://registry-1.docker.io"}
  app:
    image: app
    volumes: [registry-cache:/data]
volumes:
  registry-cache:
"""})
    (message,) = _messages(root / "compose.yaml", "AIC507")
    assert "no fix: service `app` mounts a volume `registry-cache` already" in message


def test_aic508_notes_bases_a_hub_mirror_does_not_serve(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "compose.yaml": HUB_CACHE.replace(
            "volumes:\n  registry-cache:\n",
            "  trainer:\n    build: ./trainer\n  ui:\n    build: {context: ./ui}\nvolumes:\n  registry-cache:\n"),
        "trainer/Dockerfile": "FROM nvcr.io/nvidia/pytorch:24.05-py3\n",
        "ui/Dockerfile": "FROM ghcr.io/acme/base:1 AS base\nFROM base\nFROM python:3.12-slim\n",
        "daemon.json": "{}\n",
    })
    (message,) = _messages(root / "daemon.json", "AIC508")
    assert "A mirror serves Docker Hub images only" in message
    assert "`ghcr.io/acme/base:1`" in message and "`nvcr.io/nvidia/pytorch:24.05-py3`" in message
    assert "python" not in message  # a Docker Hub base goes through the mirror


def test_aic508_mirrors_elsewhere_are_not_one_this_repository_runs(tmp_path: Path) -> None:
    root = _project(tmp_path, {"compose.yaml": HUB_CACHE,
                               "daemon.json": '{"registry-mirrors": ["https://mirror.gcr.io", "https://m.example"]}'})
    (message,) = _messages(root / "daemon.json", "AIC508")
    assert "`https://mirror.gcr.io`, `https://m.example`, not a cache this repository runs" in message
    assert "service `cache`" in message and "published on port 5000" in message


def test_aic508_finds_the_cache_of_a_compose_file_above(tmp_path: Path) -> None:
    root = _project(tmp_path, {"compose.yaml": HUB_CACHE, "infra/docker/daemon.json": "{}"})
    assert _messages(root / "infra/docker/daemon.json", "AIC508")


def test_aic508_says_why_several_caches_get_no_fix(tmp_path: Path) -> None:
    second = "  cache-b:\n    image: registry:3\n    ports: ['5001:5000']\n    environment: [REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io]\n"
    root = _project(tmp_path, {"compose.yaml": HUB_CACHE.replace("volumes:\n  registry", second + "volumes:\n  registry"),
                               "daemon.json": "{}"})
    (message,) = _messages(root / "daemon.json", "AIC508")
    assert "no fix: the repository runs several caches" in message


def test_aic509_names_keys_by_engine_version(tmp_path: Path) -> None:
    root = _project(tmp_path, {"a/daemon.json": "{}", "b/daemon.json": '{"builder": {"gc": {"defaultKeepStorage": ""}}}',
                               "c/daemon.json": '{"builder": {"gc": {"defaultMaxUsedSpace": ""}}}'})
    (none,) = _messages(root / "a/daemon.json", "AIC509")
    assert "before Docker Engine 28.2" in none
    assert "`defaultReservedSpace`, `defaultMaxUsedSpace`, `defaultMinFreeSpace` (Docker Engine 28.0 and later)" in none
    assert "`defaultKeepStorage` (older engines" in none
    (old,) = _messages(root / "b/daemon.json", "AIC509")
    assert "`defaultKeepStorage` (the naming this file uses)" in old and "defaultReservedSpace" not in old
    (new,) = _messages(root / "c/daemon.json", "AIC509")
    assert "(the naming this file uses, Docker Engine 28.0 and later)" in new and "defaultKeepStorage" not in new


def test_aic510_names_dockerfiles_with_run_mounts(tmp_path: Path) -> None:
    root = _project(tmp_path, {
        "compose.yaml": "services:\n  app:\n    build: .\n  docs:\n    build: ./docs\n",
        "Dockerfile": "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install torch\n",
        "docs/Dockerfile": "FROM python:3.12\nRUN pip install mkdocs\n",
        "daemon.json": '{"features": {"buildkit": false}}',
    })
    (message,) = _messages(root / "daemon.json", "AIC510")
    assert "`Dockerfile` uses `RUN --mount`" in message.replace(str(root) + "/", "")
    assert "docs/Dockerfile" not in message


def test_per_file_ignores_apply_to_daemon_json(tmp_path: Path) -> None:
    root = _project(tmp_path, {"daemon.json": '{"features": {"buildkit": false}}'})
    assert _messages(root / "daemon.json", "AIC510")
    assert not _messages(root / "daemon.json", "AIC510", per_file_ignores=(("**/daemon.json", ("AIC510",)),))


def test_json_add_key_layouts() -> None:
    from aicache_lint import buildfiles
    from aicache_lint.json_edits import add_members
    from aicache_lint.fix import apply_edits

    def add(text: str) -> str:
        source = SourceText(text, "daemon.json")
        edit = add_members(source, buildfiles.parse(source, "daemon").yaml.root, [("k", "[1]")])
        return apply_edits(text, [edit])

    assert add('{"a": 1}') == '{"a": 1, "k": [1]}'
    assert add('{ "a": {"b": [2]} }\n') == '{ "a": {"b": [2]}, "k": [1] }\n'
    assert add('{\n    "a": 1,\n    "b": {\n        "c": 2\n    }\n}') == \
        '{\n    "a": 1,\n    "b": {\n        "c": 2\n    },\n    "k": [1]\n}'
    assert add("{\r\n\t\"a\": 1\r\n}\r\n") == "{\r\n\t\"a\": 1,\r\n\t\"k\": [1]\r\n}\r\n"
    assert add("  {\n  }") == '  {\n    "k": [1]\n  }'


def test_toml_table_header_spellings() -> None:
    from aicache_lint.daemon.edits import toml_table_header

    for text in ('[registry."docker.io"]\n', "[ registry . 'docker.io' ]  # hub\n", '["registry"."docker.io"]\n'):
        assert toml_table_header(SourceText(text, "buildkitd.toml"), "registry", "docker.io") is not None, text
    for text in ('[registry."docker.io".x]\n', '[[registry."docker.io"]]\n', 'x = "[registry.\\"docker.io\\"]"\n'):
        assert toml_table_header(SourceText(text, "buildkitd.toml"), "registry", "docker.io") is None, text
