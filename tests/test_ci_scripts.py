"""Tests for the scripts of CI YAML files and the builds they run (aicache_lint.ci.scripts)."""

from __future__ import annotations

import pytest

from aicache_lint.buildfiles import parse
from aicache_lint.ci.scripts import build_commands, gitlab_scripts, workflow_scripts
from aicache_lint.source import SourceText


def workflow(text: str):
    return parse(SourceText(text, ".github/workflows/ci.yml"), "workflow")


def gitlab(text: str):
    return parse(SourceText(text, ".gitlab-ci.yml"), "gitlab")


def only_run(text: str):
    [script] = workflow_scripts(workflow(text))
    return script


def steps_with(run: str) -> str:
    return "jobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: " + run


@pytest.mark.parametrize("run", [
    "docker build -t a:1 .\n",
    "'it''s docker build .'\n",
    '"docker build ."\n',
    "|\n          set -e\n\n          docker build \\\n            -t a .\n",
    "|-  # keep going\n          docker build .\n          echo done\n",
    "|+\n          docker build .\n\n\n",
    "|\r\n          docker build .\r\n          echo ok\r\n",
])
def test_every_character_maps_to_itself_in_the_file(run):
    text = steps_with(run)
    script = only_run(text)
    assert script.mapped
    mapped = script.text
    assert mapped.text == script.node.value.rstrip("\n")
    for i, ch in enumerate(mapped.text):
        assert text[mapped.offsets[i]] == ("\r" if ch == "\n" and text[mapped.offsets[i]] == "\r" else ch)


@pytest.mark.parametrize("run", [
    ">\n          docker build\n          -t a .\n",  # folded: lines join with spaces
    '"docker build \\\n  ."\n',  # an escape
    "docker build\n          -t a .\n",  # a plain scalar over two lines
    "|2\n          docker build .\n",  # an explicit indentation indicator
])
def test_scalars_that_do_not_map_cover_the_whole_scalar(run):
    script = only_run(steps_with(run))
    assert not script.mapped
    [cmd] = build_commands(script)
    assert cmd.span == script.node.span and not cmd.one_line


def test_commands_are_found_where_a_shell_runs_them():
    text = steps_with("|\n          if true; then sudo docker build -t a .; fi\n"
                      "          docker login && DOCKER_BUILDKIT=1 docker buildx build \\\n            -t b .\n"
                      "          echo $(podman build -q .)\n          docker compose -f c.yml --profile x build web\n"
                      "          echo docker build .\n")
    cmds = build_commands(only_run(text))
    assert [c.program for c in cmds] == ["docker build", "docker buildx build", "podman build",
                                         "docker compose -f c.yml --profile x build"]
    assert [text[c.span.start:c.span.end].split()[0] for c in cmds] == ["sudo", "DOCKER_BUILDKIT=1", "podman",
                                                                          "docker"]
    assert [c.one_line for c in cmds] == [True, False, False, True]  # continued; inside `$(...)`
    assert cmds[3].compose and cmds[3].compose_files() == ["c.yml"]


def test_gitlab_scripts_follow_extends_and_the_default_before_script():
    file = gitlab(
        "default:\n  before_script: [docker info]\n"
        ".tpl:\n  script:\n    - docker build -t a .\n"
        ".deeper:\n  extends: .tpl\n"
        "one:\n  extends: .deeper\n"
        "two:\n  extends: [.tpl]\n  before_script:\n    - - echo nested\n"
        ".hidden:\n  script: docker build -t hidden .\n"
        "variables:\n  X: y\n"
    )
    values = [s.node.value for s in gitlab_scripts(file)]
    assert values == ["docker info", "docker build -t a .", "echo nested"]  # the template's line once
