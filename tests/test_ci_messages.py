"""What the CI rules' messages say in the cases where the words matter (the fixture harness checks
positions and fixes, not messages): the scope or ref a user is told to write."""

from __future__ import annotations

from fixture_cases import all_cases, case_source

from aicache_lint.engine import check_source
from aicache_lint.settings import Settings

CASES = {(c.rule, c.name): c for c in all_cases()}


def _messages(rule: str, name: str) -> list[str]:
    case = CASES[(rule, name)]
    return [f.message for f in check_source(case_source(case), Settings(select=(rule,)))]


def test_a_loop_variable_stays_the_scope() -> None:
    (message,) = _messages("AIC503", "loop-variable-scope-stays-a-variable")
    assert "`--cache-from type=gha,scope=$IMAGE --cache-to type=gha,mode=max,scope=$IMAGE`" in message


def test_a_local_image_name_gets_no_registry_ref() -> None:
    for (rule, name), case in CASES.items():
        if rule == "AIC503" and not case.passes:
            for message in _messages(rule, name):
                assert "ref=tei_hpu" not in message and "ref=lerobot-benchmark" not in message


def test_the_workflow_env_names_the_pushed_image() -> None:
    (message,) = _messages("AIC501", "image-from-workflow-env-pushed-gets-a-registry-cache")
    assert "`huggingface/lerobot-gpu:latest` (built from `docker/Dockerfile.internal`)" in message
    assert "`type=registry,ref=huggingface/lerobot-gpu:buildcache,mode=max`" in message


def test_an_untagged_target_is_named_by_its_stage() -> None:
    messages = _messages("AIC501", "matrix-of-targets-gets-a-scope-per-target")
    assert messages[1].startswith("the image of stage `publish-go` of `Dockerfile` is built with no")


def test_matrix_entries_are_named_when_they_share_a_scope() -> None:
    (message,) = _messages("AIC502", "matrix-of-targets-sharing-a-literal-scope")
    assert "as do builds of other images (the other entries of its matrix)" in message


def test_a_dockerfile_outside_the_repository_keeps_its_path() -> None:
    (message,) = _messages("AIC503", "dockerfile-outside-the-repository-keeps-its-path")
    assert message.startswith("`docker build` of `/tmp/Dockerfile.modelcar` neither imports")
