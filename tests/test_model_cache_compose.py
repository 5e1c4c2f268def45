"""AIC201/AIC202 see the Compose services that build the Dockerfile: a cache Compose keeps on a
volume at the default place is made explicit, never moved off the volume; and `--fix` runs the
Compose files after the Dockerfiles, so both end up agreeing in one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import invoke

DOCKERFILE = 'FROM python:3.12-slim\nRUN pip install --no-cache-dir transformers\nCMD ["python", "serve.py"]\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def lint(*args: str):
    return invoke(["--isolated", "--output-format", "concise", *args])


def test_a_volume_at_the_default_path_is_kept(repo: Path) -> None:
    dockerfile = write(repo / "Dockerfile", DOCKERFILE)
    compose = write(repo / "compose.yaml", "services:\n  app:\n    build: .\n    volumes:\n"
                                           "      - hf:/root/.cache/huggingface\nvolumes:\n  hf:\n")
    before = compose.read_text()
    result = lint("--select", "AIC201", str(dockerfile))
    assert result.stdout.splitlines()[0] == (
        f"{dockerfile}:2:32: AIC201 [*] `transformers` downloads models from the Hugging Face Hub, but the image sets "
        "no `HF_HOME`: downloaded models land in the default `/root/.cache/huggingface`, which only `compose.yaml` "
        "keeps (service `app`, volume `hf`); anything else that runs the image fetches them again")
    shown = lint("--select", "AIC201", "--fix", "--show-fixes", str(repo))
    assert "ENV HF_HOME=/root/.cache/huggingface\n" in dockerfile.read_text()
    assert compose.read_text() == before  # the volume still holds the cache: nothing to change
    assert lint("--select", "AIC", str(repo)).stdout.count("AIC40") == 0, shown.output


def test_torch_cache_on_a_bind_mount_of_a_service_in_a_parent_directory(repo: Path) -> None:
    dockerfile = write(repo / "services" / "vision" / "Dockerfile",
                       "FROM python:3.12-slim\nRUN pip install --no-cache-dir torchvision\n"
                       'COPY classify.py /app/\nCMD ["python", "/app/classify.py"]\n')
    write(repo / "services" / "vision" / "classify.py",
          "from torchvision.models import resnet50\n\nmodel = resnet50(weights=\"DEFAULT\").eval()\n")
    write(repo / "docker-compose.yml", "services:\n  vision:\n    build:\n      context: ./services/vision\n"
                                       "    volumes:\n      - ./weights:/root/.cache\n")
    result = invoke(["--isolated", "--select", "AIC202", "--output-format", "json", str(dockerfile)])
    [finding] = json.loads(result.stdout)
    assert finding["fix"]["message"] == (
        "Set `TORCH_HOME=/root/.cache/torch` after the stage's `FROM` (where `../../docker-compose.yml` mounts "
        "bind mount `./weights`)")
    lint("--select", "AIC202", "--fix", str(dockerfile))
    assert "ENV TORCH_HOME=/root/.cache/torch\n" in dockerfile.read_text()


def test_a_non_root_user_home_on_a_volume(repo: Path) -> None:
    dockerfile = write(repo / "Dockerfile", "FROM python:3.12-slim\nRUN useradd -m app\nUSER app\n"
                                            "RUN pip install --user --no-cache-dir transformers\n")
    write(repo / "compose.yaml", "services:\n  app:\n    build: .\n    volumes:\n      - cache:/home/app/.cache\n"
                                 "volumes:\n  cache:\n")
    lint("--select", "AIC201", "--fix", str(dockerfile))
    assert "ENV HF_HOME=/home/app/.cache/huggingface\n" in dockerfile.read_text()


@pytest.mark.parametrize(
    "compose",
    [
        # The service sets its own HF_HOME: the image's default is not what it uses.
        "services:\n  app:\n    build: .\n    environment:\n      HF_HOME: /models\n    volumes:\n"
        "      - hf:/models\nvolumes:\n  hf:\n",
        # Another Dockerfile.
        "services:\n  app:\n    build:\n      context: .\n      dockerfile: Dockerfile.other\n    volumes:\n"
        "      - hf:/root/.cache/huggingface\nvolumes:\n  hf:\n",
        # A volume elsewhere.
        "services:\n  app:\n    build: .\n    volumes:\n      - data:/srv/data\nvolumes:\n  data:\n",
        # Not Compose YAML at all.
        "services: [\n",
    ],
    ids=["service-sets-hf-home", "other-dockerfile", "volume-elsewhere", "broken-yaml"],
)
def test_otherwise_the_usual_fix(repo: Path, compose: str) -> None:
    dockerfile = write(repo / "Dockerfile", DOCKERFILE)
    write(repo / "compose.yaml", compose)
    result = lint("--select", "AIC201", str(dockerfile))
    assert "land in an unmounted `~/.cache/huggingface`" in result.stdout, result.output
    lint("--select", "AIC201", "--fix", str(dockerfile))
    assert "ENV HF_HOME=/data/.huggingface\n" in dockerfile.read_text()


def test_standard_input_is_seen_in_its_project(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An editor sends the unsaved buffer with its path: the Compose file next to it still counts."""
    write(repo / "compose.yaml", "services:\n  app:\n    build: .\n    volumes:\n"
                                 "      - hf:/root/.cache/huggingface\nvolumes:\n  hf:\n")
    monkeypatch.chdir(repo)
    result = invoke(["--isolated", "--select", "AIC201", "-", "--stdin-filename", "Dockerfile"], input=DOCKERFILE)
    assert "where `compose.yaml` mounts volume `hf`" in result.stdout, result.output
    elsewhere = invoke(["--isolated", "--select", "AIC201", "-", "--stdin-filename", "sub/Dockerfile"], input=DOCKERFILE)
    assert "land in an unmounted `~/.cache/huggingface`" in elsewhere.stdout, elsewhere.output


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fix_runs_compose_files_after_the_dockerfiles(repo: Path, jobs: str) -> None:
    """AIC201 sets HF_HOME in each Dockerfile; the Compose file, fixed in the same run, sees it and
    mounts a volume there: a second run finds nothing (20 services, so -j 2 runs in parallel)."""
    services = []
    for i in range(20):
        write(repo / f"svc{i:02}" / "Dockerfile", DOCKERFILE)
        services.append(f"  svc{i:02}:\n    build: ./svc{i:02}\n")
    compose = write(repo / "compose.yaml", "services:\n" + "".join(services))
    selection = ["--select", "AIC201,AIC401,AIC402,AIC404"]
    first = lint(*selection, "--fix", "-j", jobs, str(repo))
    assert first.stdout.endswith("Found 40 errors (40 fixed, 0 remaining).\n"), first.output
    assert compose.read_text().count("- hf-cache:/data/.huggingface") == 20
    assert lint(*selection, str(repo)).stdout == "All checks passed!\n"
