"""Tests for `docker build` command lines in scripts (aicache_lint.ci.commands)."""

from __future__ import annotations

import pytest

from aicache_lint.ci.commands import build_invocations
from aicache_lint.workspace.invocations import Origin

ORIGIN = Origin("command", "scripts/build.sh", 10, "build.sh")


def builds(script: str, cwd: str | None = ".", env: dict[str, str] | None = None):
    return build_invocations(script, ORIGIN, cwd, env)


def only(script: str, **kw):
    found = builds(script, **kw)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("line", [
    "docker build -t app .",
    "docker buildx build -t app .",
    "docker image build -t app .",
    "podman build -t app .",
    "buildah bud -t app .",
    "sudo -E docker build -t app .",
    "DOCKER_BUILDKIT=1 docker build -t app .",
])
def test_every_builder_spelling_is_a_build(line):
    inv = only(line)
    assert (inv.dockerfile, inv.context, inv.tags) == ("Dockerfile", ".", ("app",))


@pytest.mark.parametrize("line", ["docker push app", "docker run --rm app", "docker buildx bake", "echo docker build ."])
def test_other_commands_are_no_build(line):
    assert builds(line) == []


def test_multi_line_run_with_continuations_flags_and_chain():
    # The shape of a vLLM-style CI step: continuation lines, repeated tags, args, a target.
    script = (
        "set -euo pipefail\n"
        "docker buildx build \\\n"
        "  --file docker/Dockerfile \\\n"
        "  --build-arg CUDA_VERSION=12.8.1 --build-arg=PYTHON_VERSION=3.12 \\\n"
        "  --target vllm-openai \\\n"
        "  --tag vllm/vllm-openai:latest --tag=vllm/vllm-openai:nightly \\\n"
        "  --platform linux/amd64 --progress plain \\\n"
        "  . && docker push vllm/vllm-openai:latest\n"
    )
    inv = only(script)
    assert inv.dockerfile == "docker/Dockerfile"
    assert inv.context == "."
    assert inv.target == "vllm-openai"
    assert inv.args == (("CUDA_VERSION", "12.8.1"), ("PYTHON_VERSION", "3.12"))
    assert inv.tags == ("vllm/vllm-openai:latest", "vllm/vllm-openai:nightly")
    assert inv.origin.line == 11  # the line `docker buildx build` starts on
    assert inv.unresolved == ()


def test_paths_join_the_working_directory_and_cd():
    inv = only("cd services/api && docker build -f ../../docker/api.Dockerfile -t api ..", cwd="repo")
    assert inv.context == "repo/services"
    assert inv.dockerfile == "repo/docker/api.Dockerfile"


def test_default_dockerfile_is_in_the_context():
    inv = only("docker build -t x ./docker/gpu")
    assert inv.dockerfile == "docker/gpu/Dockerfile"


def test_variables_from_env_and_script_assignments():
    script = 'IMAGE=ghcr.io/org/app\nexport TAG="${VERSION}-cuda"\ndocker build -t "$IMAGE:$TAG" -t ${IMAGE}:latest .\n'
    inv = only(script, env={"VERSION": "1.2"})
    assert inv.tags == ("ghcr.io/org/app:1.2-cuda", "ghcr.io/org/app:latest")


def test_tag_only_from_an_unknown_variable_is_unresolved():
    inv = only('docker build -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .')
    assert inv.tags == ()
    assert inv.unresolved == ('tag `"$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA"`: `$CI_REGISTRY_IMAGE` is not known here',)


def test_single_quotes_keep_a_dollar_literal():
    assert only("docker build -t 'app:$X' .").tags == ("app:$X",)


def test_command_substitution_and_github_expression_stay_unknown():
    inv = only("docker build -t app:$(git rev-parse --short HEAD) -t ${{ matrix.image }} .")
    assert inv.tags == ()
    assert len(inv.unresolved) == 2
    assert "`${{ matrix.image }}`" in inv.unresolved[1]


def test_build_arg_without_value_comes_from_the_environment():
    inv = only("docker build --build-arg HF_TOKEN --build-arg BASE --build-arg X=1 .", env={"BASE": "cuda:12"})
    assert inv.args == (("BASE", "cuda:12"), ("X", "1"))
    assert inv.unresolved == ("build arg `HF_TOKEN` comes from the environment",)


def test_stdin_and_remote_contexts():
    stdin = only("docker build -t x - < Dockerfile")
    assert (stdin.dockerfile, stdin.context) == (None, None)
    assert "standard input" in stdin.unresolved[0]
    remote = only("docker build -f docker/Dockerfile https://github.com/org/repo.git#main")
    assert (remote.dockerfile, remote.context) == (None, None)
    assert remote.unresolved == ("context `https://github.com/org/repo.git#main` is remote",)


def test_value_options_are_not_taken_for_the_context():
    inv = only("docker build --network host --secret id=hf,src=tok --cache-from type=gha -o out ctx")
    assert inv.context == "ctx"


def test_unknown_cd_makes_paths_unknown():
    inv = only("cd $BUILD_DIR && docker build -t x .")
    assert inv.context is None and inv.dockerfile is None
    assert inv.tags == ("x",)
    assert inv.unresolved == ("context `.`: the working directory is not known",)


def test_prefix_variable_applies_to_its_command_only():
    found = builds("TAG=a docker build -t img:$TAG .\ndocker build -t img:$TAG .")
    assert found[0].tags == ("img:a",)
    assert found[1].tags == ()


def test_unclosed_quote_keeps_the_builds_before_it():
    # The tokenizer makes the rest of the script opaque instead of raising.
    assert builds('docker build -t "x .') == []
    assert only('docker build -t x . && echo "oops').tags == ("x",)


def test_cache_flags_are_kept_as_given_or_expanded():
    inv = only('REF=ghcr.io/o/app:buildcache\ndocker buildx build --cache-from "type=registry,ref=$REF" '
               "--cache-to=type=registry,ref=$REF,mode=max --cache-from type=gha,scope=$UNKNOWN -t app .")
    assert inv.cache_from == ("type=registry,ref=ghcr.io/o/app:buildcache", "type=gha,scope=$UNKNOWN")
    assert inv.cache_to == ("type=registry,ref=ghcr.io/o/app:buildcache,mode=max",)
    assert only("docker build -t app .")[-2:] == ((), ())
