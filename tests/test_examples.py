"""The bundled examples show every rule, and --fix on a copy cleans them (but for the findings
that have no fix by design), leaving files that BuildKit's parser still accepts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from buildkit_oracle import assert_matches_buildkit, available
from cli_runner import invoke
from validity import assert_valid

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BASE, WHISPERX, COMFYUI = "cuda-base/Dockerfile.runtime", "whisperx/Dockerfile", "comfyui/Dockerfile"
TALK, GATEWAY = "infinitetalk/Dockerfile", "gateway/Dockerfile"
COMPOSE = "compose.yaml"
WORKFLOW, BAKE = ".github/workflows/images.yml", "docker-bake.hcl"
REGISTRY, DAEMON = "registry-cache/compose.yaml", "registry-cache/daemon.json"
EMBED, EMBED_CODE, EMBED_COMPOSE = "embedder/Dockerfile", "embedder/app/models.py", "embedder/compose.yaml"
EMBED_MAIN = "embedder/app/main.py"
EXPECTED = {
    (BASE, 4, "AIC130"), (BASE, 6, "AIC303"), (BASE, 16, "AIC111"), (BASE, 16, "AIC112"),
    (BASE, 17, "AIC111"), (BASE, 28, "AIC113"), (BASE, 29, "AIC113"), (BASE, 31, "AIC101"),
    (BASE, 34, "AIC101"), (BASE, 41, "AIC101"), (BASE, 42, "AIC302"),
    (BASE, 43, "AIC302"),
    (WHISPERX, 11, "AIC203"), (WHISPERX, 24, "AIC120"), (WHISPERX, 24, "AIC122"), (WHISPERX, 31, "AIC301"),
    (WHISPERX, 31, "AIC120"), (WHISPERX, 31, "AIC123"), (WHISPERX, 26, "AIC305"), (WHISPERX, 18, "AIC124"),
    (COMFYUI, 9, "AIC110"), (COMFYUI, 14, "AIC002"), (COMFYUI, 16, "AIC102"), (COMFYUI, 19, "AIC104"),
    (COMFYUI, 21, "AIC302"), (COMFYUI, 27, "AIC105"), (COMFYUI, 34, "AIC106"),
    (COMFYUI, 40, "AIC110"), (COMFYUI, 54, "AIC102"), (COMFYUI, 54, "AIC202"), (COMFYUI, 59, "AIC101"), (COMFYUI, 59, "AIC201"),
    (TALK, 14, "AIC107"), (TALK, 16, "AIC121"), (TALK, 17, "AIC101"),
    (TALK, 21, "AIC101"), (TALK, 25, "AIC101"), (TALK, 29, "AIC101"), (TALK, 29, "AIC201"),
    (TALK, 31, "AIC204"), (TALK, 31, "AIC205"), (TALK, 32, "AIC204"), (TALK, 32, "AIC205"),
    (TALK, 33, "AIC204"), (TALK, 33, "AIC205"), (TALK, 36, "AIC304"),
    (GATEWAY, 8, "AIC114"), (GATEWAY, 11, "AIC116"), (GATEWAY, 23, "AIC117"), (GATEWAY, 28, "AIC115"),
    (COMPOSE, 21, "AIC404"), (COMPOSE, 31, "AIC401"), (COMPOSE, 53, "AIC401"), (COMPOSE, 69, "AIC402"),
    (COMPOSE, 43, "AIC405"),
    (WORKFLOW, 17, "AIC501"), (WORKFLOW, 17, "AIC504"), (WORKFLOW, 33, "AIC504"), (WORKFLOW, 38, "AIC502"),
    (WORKFLOW, 38, "AIC505"), (WORKFLOW, 44, "AIC503"), (WORKFLOW, 44, "AIC504"),
    (BAKE, 11, "AIC506"), (BAKE, 20, "AIC506"),
    (REGISTRY, 7, "AIC507"), (DAEMON, 1, "AIC508"), (DAEMON, 1, "AIC509"), (DAEMON, 7, "AIC510"),
    (EMBED, 6, "AIC101"), (EMBED_CODE, 8, "AIC601"), (EMBED_CODE, 8, "AIC603"), (EMBED_CODE, 20, "AIC602"),
    (EMBED_MAIN, 10, "AIC601"),
}
# Opt-in rules, shown with `--extend-select CODE`.
OPT_IN = {
    "AIC131": {(GATEWAY, 19, "AIC131")},
    "AIC306": {(COMFYUI, 7, "AIC306"), (COMFYUI, 37, "AIC306"), (BASE, 6, "AIC306"), (GATEWAY, 6, "AIC306"),
               (GATEWAY, 16, "AIC306"), (GATEWAY, 27, "AIC306"), (TALK, 8, "AIC306"), (TALK, 28, "AIC306"),
               (TALK, 36, "AIC306"), (REGISTRY, 8, "AIC306"), (EMBED, 3, "AIC306")},
    "AIC406": {(COMPOSE, 87, "AIC406"), (COMPOSE, 90, "AIC406"), (EMBED_COMPOSE, 11, "AIC406")},
}
# Internal, parse and I/O errors: valid examples cannot show them (AIC002 is shown, by a stale suppression).
META = {"AIC000", "AIC001", "AIC003"}
# Report-only offline by design: the commit a Git ref points to (AIC305) and an image's digest (AIC306)
# need --resolve-images, and no cache-mount recipe for microdnf is confirmed (AIC115).
# `--fix --unsafe-fixes` leaves exactly these.
# whisperx lines after its line 22 move down one: the fix creates `/home/app/.pipcache` as `app` first.
# The CI findings below have no fix by design (their docs say why); the workflow's lines after the
# first build step move down two once AIC501 gives it `cache-from`/`cache-to`.
NO_FIX = {(GATEWAY, 28, "AIC115"), (WHISPERX, 28, "AIC305"),
          (WORKFLOW, 17, "AIC504"), (WORKFLOW, 35, "AIC504"), (WORKFLOW, 46, "AIC504"),
          (REGISTRY, 7, "AIC507"), (DAEMON, 1, "AIC509"), (DAEMON, 7, "AIC510"), (EMBED_CODE, 20, "AIC602"),
          (EMBED_MAIN, 10, "AIC601")}
# What `--fix` (safe fixes only) leaves besides: the unsafe fixes (AIC204, AIC301, AIC303, AIC304), and AIC205,
# which has no fix for `huggingface-cli download` until AIC204's unsafe fix makes it `hf download`.
UNSAFE_LEFT = {
    (BASE, 6, "AIC303"),
    (TALK, 31, "AIC204"), (TALK, 32, "AIC204"), (TALK, 33, "AIC204"), (TALK, 36, "AIC304"),
    (TALK, 31, "AIC205"), (TALK, 32, "AIC205"), (TALK, 33, "AIC205"), (WHISPERX, 33, "AIC301"),
    # infinitetalk's Hugging Face cache (now at the HF_HOME AIC201 set in its Dockerfile, still AIC401's):
    # mounting `hf-cache`, which whisperx's non-root user shares, is unsafe.
    # (comfyui's Hugging Face cache stays on its `comfyui-hf` volume: AIC201 made that default explicit.)
    (COMPOSE, 53, "AIC401"),
    # comfyui's and infinitetalk's torch caches (TORCH_HOME from AIC202's fix for comfyui's `lpips`, or the service's own
    # `environment`): `torch-cache` is whisperx's, whose user `app` is not their root, so sharing it is unsafe.
    (COMPOSE, 31, "AIC401"), (COMPOSE, 69, "AIC402"),
    # The registry caches a bake target and the gateway's `docker buildx build` would export to, and the
    # daemon's mirror: each assumes a builder, a registry or a network path nothing in the files shows.
    (WORKFLOW, 46, "AIC503"), (BAKE, 11, "AIC506"), (BAKE, 20, "AIC506"), (DAEMON, 1, "AIC508"),
}


def _findings(root: Path, *options: str) -> set[tuple[str, int, str]]:
    result = invoke([*options, str(root)])
    found = set()
    for line in result.output.splitlines():
        if line.startswith(str(root)) and ": AIC" in line:
            path, row, _col, rest = line.split(":", 3)
            found.add((Path(path).relative_to(root).as_posix(), int(row), rest.split()[0]))
    return found


def _rules() -> dict[str, str]:
    """`aicache-lint rules`: code -> default (`on` / `opt-in`)."""
    result = invoke(["rules"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.startswith("AIC")]
    return {row[0]: row[3] for row in rows}


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    return copy


def _assert_all_valid(root: Path) -> None:
    """Every file discovery lints is still valid as its kind (the workflow loads, Bake parses ...)."""
    from aicache_lint.discovery import discover, file_kind
    from aicache_lint.source import SourceText

    files, _ = discover([str(root)], lambda path: False)
    assert len(files) == 12
    for name in [*files, *map(str, root.glob("**/*.py"))]:
        assert_valid(SourceText.decode(Path(name).read_bytes(), name), file_kind(name))


def _dockerfiles(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/Dockerfile*") if p.is_file())


def test_examples_show_every_rule() -> None:
    result = invoke([str(EXAMPLES)])
    assert result.exit_code == 1, result.output  # the quick start lints these and finds problems
    assert _findings(EXAMPLES) == EXPECTED
    rules = _rules()
    default_on = {code for code, default in rules.items() if default == "on"}
    assert {code for *_, code in EXPECTED} == default_on - META
    assert set(OPT_IN) == {code for code, default in rules.items() if default != "on"}


@pytest.mark.parametrize("code", sorted(OPT_IN))
def test_examples_show_opt_in_rules(code: str) -> None:
    assert _findings(EXAMPLES, "--select", code) == OPT_IN[code]
    assert _findings(EXAMPLES, "--extend-select", code) == EXPECTED | OPT_IN[code]


def test_fix_cleans_a_copy(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    result = invoke(["--fix", str(copy)])
    assert result.exit_code == 1, result.output
    assert "(45 fixed, 26 remaining)" in result.output
    assert _findings(copy) == NO_FIX | UNSAFE_LEFT
    assert (EXAMPLES / COMFYUI).read_bytes() != (copy / COMFYUI).read_bytes()
    _assert_all_valid(copy)


def test_unsafe_fixes_leave_only_findings_without_fixes(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    # AIC306 reports only offline (its fixes need --resolve-images: tests/test_resolve.py).
    selection = ["--extend-select", ",".join(sorted(set(OPT_IN) - {"AIC306"}))]
    result = invoke(["--fix", "--unsafe-fixes", *selection, str(copy)])
    assert result.exit_code == 1, result.output
    assert "(65 fixed, 11 remaining)" in result.output

    report = invoke(["--output-format", "json", *selection, str(copy)])
    items = json.loads(report.stdout)
    assert items, report.output
    assert all(item["fix"] is None for item in items), [i for i in items if i["fix"] is not None]
    remaining = {
        (Path(i["filename"]).relative_to(copy).as_posix(), i["location"]["row"], i["code"]) for i in items
    }
    # AIC131's fix put `# syntax=docker/dockerfile:1` on the gateway's line 1: its AIC115 moved down one line.
    # infinitetalk's HF_HOME (set by AIC201's fix) needs a volume (AIC401, as before the fix); `hf-cache` holds
    # whisperx's cache in another layout (its HF_HUB_CACHE, from AIC203's fix in the same run, is not
    # `<HF_HOME>/hub`), so none is chosen: the Compose file is fixed after the Dockerfiles settle.
    ci_reports = {(WORKFLOW, 17, "AIC504"), (WORKFLOW, 35, "AIC504"), (WORKFLOW, 46, "AIC504"),
                  (REGISTRY, 7, "AIC507"), (DAEMON, 1, "AIC509"), (DAEMON, 7, "AIC510"),
                  (EMBED_CODE, 20, "AIC602"), (EMBED_MAIN, 10, "AIC601")}
    assert remaining == {(GATEWAY, 29, "AIC115"), (WHISPERX, 28, "AIC305"), (COMPOSE, 54, "AIC401")} | ci_reports

    _assert_all_valid(copy)
    for name in (WORKFLOW, BAKE, REGISTRY, DAEMON):
        assert (copy / name).read_bytes() != (EXAMPLES / name).read_bytes(), f"{name} was not fixed"
    for path in _dockerfiles(copy):
        original = (EXAMPLES / path.relative_to(copy)).read_bytes()
        assert path.read_bytes() != original, f"{path.relative_to(copy)} was not fixed"
        if available():
            assert_matches_buildkit(path.read_bytes().decode("utf-8"))


@pytest.mark.skipif(not available(), reason="the `dockerfile` package (BuildKit's parser) is not installed")
@pytest.mark.parametrize("path", _dockerfiles(EXAMPLES), ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_examples_parse_with_buildkit(path: Path) -> None:
    assert_matches_buildkit(path.read_bytes().decode("utf-8"))
