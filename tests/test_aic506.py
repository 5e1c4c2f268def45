"""AIC506 bake-target-without-cache: what one fixture file cannot hold -- a Bake file in a
subfolder run from the repository root, an override file next to it, suppression comments,
`--add-ignore` on an HCL file and per-file ignores for a JSON one."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from cli_runner import invoke

SELECT = ["--isolated", "--select", "AIC506", "--output-format", "concise"]

# vllm keeps its Bake file in docker/ and runs `docker buildx bake -f docker/docker-bake.hcl`
# from the root: contexts are relative to the root, not to the file.
SUBFOLDER_BAKE = dedent('''\
    variable "TAG" {
      default = "nightly"
    }

    group "default" {
      targets = ["openai"]
    }

    target "_common" {
      context = "."
      args = {
        max_jobs = 16
      }
    }

    target "openai" {
      inherits   = ["_common"]
      dockerfile = "docker/Dockerfile"
      target     = "vllm-openai"
      platforms  = ["linux/amd64", "linux/arm64"]
      tags       = ["vllm/vllm-openai:${TAG}"]
    }
''')

WORKFLOW = dedent('''\
    on: push
    jobs:
      release:
        runs-on: ubuntu-24.04
        steps:
          - uses: actions/checkout@v4
          - uses: docker/setup-buildx-action@v3
          - uses: docker/bake-action@v6
            with:
              files: docker/docker-bake.hcl
              push: true
''')


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir()
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    return tmp_path


def _findings(repo: Path, *args: str) -> list[str]:
    result = invoke([*SELECT, *args, str(repo)])
    return [line.replace(str(repo) + "/", "") for line in result.stdout.splitlines() if "AIC506" in line]


def test_subfolder_bake_run_from_the_root_gets_the_gha_cache(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"docker/docker-bake.hcl": SUBFOLDER_BAKE, "docker/Dockerfile": "FROM python:3.12\n",
                            ".github/workflows/release.yml": WORKFLOW})
    assert _findings(repo) == [
        "docker/docker-bake.hcl:16:1: AIC506 [*] bake target `openai` (image `vllm/vllm-openai:nightly`, Dockerfile "
        "`docker/Dockerfile`) has no `cache-from` or `cache-to`, not even through `inherits`: every build on a fresh "
        "builder, as in CI, rebuilds all its layers"]
    assert invoke([*SELECT, "--fix", str(repo)]).exit_code == 0
    fixed = (repo / "docker/docker-bake.hcl").read_text()
    assert fixed == SUBFOLDER_BAKE.replace(
        '  tags       = ["vllm/vllm-openai:${TAG}"]\n',
        '  tags       = ["vllm/vllm-openai:${TAG}"]\n'
        '  cache-from = ["type=gha,scope=openai"]\n'
        '  cache-to   = ["type=gha,mode=max,scope=openai"]\n')
    assert _findings(repo) == []


def test_an_override_file_that_adds_the_cache_counts(tmp_path: Path) -> None:
    override = 'target "openai" {\n  cache-to = ["type=gha,mode=max,scope=openai"]\n}\n'
    repo = _repo(tmp_path, {"docker-bake.hcl": SUBFOLDER_BAKE.replace("docker/Dockerfile", "Dockerfile"),
                            "docker-bake.override.hcl": override, "Dockerfile": "FROM python:3.12\n"})
    assert _findings(repo) == []


def test_a_target_declared_in_both_files_is_reported_once_on_its_first_block(tmp_path: Path) -> None:
    override = 'target "openai" {\n  tags = ["local/vllm:dev"]\n}\n'
    repo = _repo(tmp_path, {"docker-bake.hcl": SUBFOLDER_BAKE.replace("docker/Dockerfile", "Dockerfile"),
                            "docker-bake.override.hcl": override, "Dockerfile": "FROM python:3.12\n"})
    found = _findings(repo)
    assert [line.split(": AIC506")[0] for line in found] == ["docker-bake.hcl:16:1"]
    assert "`local/vllm:dev`" in found[0]  # the override's tags win


def test_suppression_comments_above_the_block_and_for_the_file(tmp_path: Path) -> None:
    text = dedent('''\
        # aicache-lint: ignore=AIC506 built locally only
        target "dev" {
          tags = ["acme/dev:latest"]
        }

        target "app" {
          tags = ["acme/app:latest"]
        }
    ''')
    repo = _repo(tmp_path, {"docker-bake.hcl": text})
    assert [line.split(": AIC506")[0] for line in _findings(repo)] == ["docker-bake.hcl:6:1"]
    (repo / "docker-bake.hcl").write_text("# aicache-lint: ignore-file=AIC506\n\n" + text)
    result = invoke([*SELECT, "--select", "AIC002,AIC506", str(repo)])
    assert result.exit_code == 0, result.output  # both used: no AIC002 either


def test_add_ignore_writes_the_comment_above_the_target_block(tmp_path: Path) -> None:
    text = 'group "default" {\r\n  targets = ["app"]\r\n}\r\n\r\ntarget "app" {\r\n  tags = ["acme/app:latest"]\r\n}\r\n'
    repo = _repo(tmp_path, {"docker-bake.hcl": text})
    result = invoke([*SELECT, "--add-ignore=local builds only", str(repo)])
    assert result.exit_code == 0, result.output
    assert (repo / "docker-bake.hcl").read_bytes().decode() == text.replace(
        'target "app"', '# aicache-lint: ignore=AIC506 local builds only\r\ntarget "app"')
    assert _findings(repo) == []


def test_json_bake_takes_per_file_ignores(tmp_path: Path) -> None:
    text = '{\n  "target": {\n    "app": {\n      "tags": ["acme/app:latest"]\n    }\n  }\n}\n'
    repo = _repo(tmp_path, {"docker-bake.json": text})
    assert [line.split(": AIC506")[0] for line in _findings(repo)] == ["docker-bake.json:3:5"]
    (repo / ".aicache-lint.toml").write_text('[per-file-ignores]\n"docker-bake.json" = ["AIC506"]\n')
    result = invoke(["--select", "AIC506", str(repo)])
    assert result.exit_code == 0 and "AIC506" not in result.stdout, result.output
