"""Tests for GitHub Actions workflows (aicache_lint.ci.workflows) and the ci entry point."""

from __future__ import annotations

from textwrap import dedent

import pytest
from import_cost import imports_of

from aicache_lint.ci import invocations, kind_of

# huggingface/lerobot's docker_publish.yml builds the image eight benchmark Dockerfiles start FROM.
LEROBOT = dedent('''\
    name: Docker Hub publish
    on:
      workflow_dispatch:
    jobs:
      build-docker-gpu-internal:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - name: Set up Docker Buildx
            uses: docker/setup-buildx-action@v3
          - name: Build and push Docker image internal
            uses: docker/build-push-action@v6
            with:
              context: .
              file: ./docker/Dockerfile.internal
              push: true
              tags: huggingface/lerobot-gpu:latest
''')


def run(text: str, files: dict[str, str] | None = None, path: str = "repo/.github/workflows/ci.yml"):
    return invocations(path, text, (files or {}).get)


def test_build_push_action_file_and_tags():
    found, problems = run(LEROBOT)
    assert problems == []
    (inv,) = found
    assert (inv.dockerfile, inv.context, inv.tags) == ("repo/docker/Dockerfile.internal", "repo",
                                                       ("huggingface/lerobot-gpu:latest",))
    assert inv.origin == ("workflow", "repo/.github/workflows/ci.yml", 11,
                          "build-docker-gpu-internal / Build and push Docker image internal")


def test_build_push_action_defaults_lists_and_env():
    text = dedent('''\
        env:
          IMAGE: ghcr.io/org/app
        jobs:
          build:
            env:
              CUDA: "12.8"
            steps:
              - uses: docker/build-push-action@v6
                with:
                  tags: ${{ env.IMAGE }}:latest,${{ env.IMAGE }}:cu${{ env.CUDA }}
                  build-args: |
                    CUDA_VERSION=${{ env.CUDA }}
                    HF_TOKEN=${{ secrets.HF_TOKEN }}
                  target: runtime
    ''')
    (inv,), _ = run(text)
    assert (inv.context, inv.dockerfile, inv.target) == ("repo", "repo/Dockerfile", "runtime")
    assert inv.tags == ("ghcr.io/org/app:latest", "ghcr.io/org/app:cu12.8")
    assert inv.args == (("CUDA_VERSION", "12.8"),)
    assert inv.unresolved == ("build arg `HF_TOKEN=${{ secrets.HF_TOKEN }}`: `${{ secrets.HF_TOKEN }}` is not known here",)
    assert inv.origin.name == "build / docker/build-push-action@v6"


def test_tag_only_from_metadata_action_is_unresolved():
    text = dedent('''\
        jobs:
          push:
            steps:
              - id: meta
                uses: docker/metadata-action@v5
              - uses: docker/build-push-action@v5
                with:
                  context: docker
                  tags: ${{ steps.meta.outputs.tags }}
    ''')
    (inv,), _ = run(text)
    assert inv.tags == ()
    assert inv.dockerfile == "repo/docker/Dockerfile"
    assert inv.unresolved == ("tag `${{ steps.meta.outputs.tags }}`: `${{ steps.meta.outputs.tags }}` is not known here",)


MATRIX = dedent('''\
    jobs:
      images:
        strategy:
          matrix:
            python: ["3.11", "3.12"]
            include:
              - python: "3.12"
                latest: true
        steps:
          - name: Build py${{ matrix.python }}
            working-directory: docker
            run: |
              docker build \\
                --build-arg PYTHON_VERSION=${{ matrix.python }} \\
                -t org/app:py${{ matrix.python }} \\
                -f ${{ github.workspace }}/docker/Dockerfile.cuda ..
''')


def test_run_step_expanded_over_a_literal_matrix():
    found, problems = run(MATRIX)
    assert problems == []
    assert [(i.origin.name, i.tags, i.args) for i in found] == [
        ("images / Build py3.11", ("org/app:py3.11",), (("PYTHON_VERSION", "3.11"),)),
        ("images / Build py3.12", ("org/app:py3.12",), (("PYTHON_VERSION", "3.12"),)),
    ]
    # The working directory moves the context; github.workspace still names the repository root.
    assert {(i.context, i.dockerfile) for i in found} == {("repo", "repo/docker/Dockerfile.cuda")}
    assert found[0].origin.line == 13  # the first line of the `run: |` block


def test_matrix_too_large_or_computed_stays_unknown():
    big = MATRIX.replace('python: ["3.11", "3.12"]', "python: [" + ", ".join(f'"3.{i}"' for i in range(17)) + "]")
    computed = MATRIX.replace('python: ["3.11", "3.12"]', "python: ${{ fromJSON(needs.setup.outputs.pythons) }}")
    for text in (big, computed):
        (inv,), _ = run(text)
        assert inv.tags == () and inv.args == ()
        assert any("${{ matrix.python }}" in u for u in inv.unresolved)


ACTION = dedent('''\
    name: Build image
    inputs:
      image:
        description: image name
        required: true
      dockerfile:
        description: which Dockerfile
        default: docker/Dockerfile.cpu
    runs:
      using: composite
      steps:
        - name: build
          shell: bash
          run: docker build -f ${{ inputs.dockerfile }} -t ${{ inputs.image }}:latest .
''')


def test_local_composite_action_uses_caller_inputs_and_defaults():
    text = dedent('''\
        jobs:
          cpu:
            steps:
              - name: Build CPU
                uses: ./.github/actions/build-image
                with:
                  image: org/app-cpu
                  tag: x
              - uses: ./.github/actions/gone
    ''')
    found, problems = run(text, {"repo/.github/actions/build-image/action.yml": ACTION})
    (inv,) = found
    assert (inv.dockerfile, inv.context, inv.tags) == ("repo/docker/Dockerfile.cpu", "repo", ("org/app-cpu:latest",))
    assert inv.origin == ("workflow", "repo/.github/actions/build-image/action.yml", 14, "cpu / Build CPU / build")
    assert problems == [
        "repo/.github/workflows/ci.yml:4: `./.github/actions/build-image` has no input `tag`",
        ("repo/.github/workflows/ci.yml:9: local action `./.github/actions/gone` not found "
         "(no ./.github/actions/gone/action.yml)"),
    ]


def test_bake_action_reads_the_bake_files_with_the_step_env():
    bake = 'variable "TAG" {}\ntarget "app" {\n  context = "."\n  dockerfile = "docker/Dockerfile"\n' \
           '  tags = ["org/app:${TAG}"]\n}\ngroup "default" {\n  targets = ["app"]\n}\n'
    text = dedent('''\
        jobs:
          bake:
            steps:
              - name: Bake
                uses: docker/bake-action@v6
                env:
                  TAG: nightly
                with:
                  source: .
                  files: ./build/docker-bake.hcl
                  targets: app
    ''')
    (inv,), problems = run(text, {"repo/build/docker-bake.hcl": bake})
    assert problems == []
    # Bake resolves the context against its working directory (the repository root here).
    assert (inv.context, inv.dockerfile, inv.tags) == ("repo", "repo/docker/Dockerfile", ("org/app:nightly",))
    assert inv.origin.kind == "workflow"
    assert inv.origin.name == "bake / Bake: bake target app"


def test_bake_action_with_missing_file():
    text = "jobs:\n  b:\n    steps:\n      - uses: docker/bake-action@v6\n        with:\n          files: nope.hcl\n"
    (inv,), problems = run(text)
    assert problems == ["repo/.github/workflows/ci.yml:4: bake file `repo/nope.hcl` not found"]
    assert inv.unresolved == ("no Bake file found",)


def test_broken_yaml_is_a_problem_not_an_exception():
    found, problems = run("jobs:\n  x: [\n")
    assert found == []
    assert problems[0].startswith("repo/.github/workflows/ci.yml:3: not valid YAML")


@pytest.mark.parametrize(("path", "kind"), [
    (".github/workflows/docker_publish.yml", "workflow"),
    ("repo/.github/workflows/ci.yaml", "workflow"),
    (".github/workflows/sub/ci.yml", None),
    (".github/actions/build/action.yml", "action"),
    (".github/actions/a/b/action.yaml", "action"),
    (".gitlab-ci.yml", "gitlab"),
    ("docker-bake.hcl", "bake"),
    ("x/docker-bake.override.json", "bake"),
    ("ci.bake.hcl", None),
    ("compose.yaml", None),
])
def test_kind_of(path, kind):
    assert kind_of(path) == kind


def test_importing_ci_loads_nothing_else():
    loaded = imports_of("import aicache_lint.ci")
    assert loaded.ours == {"aicache_lint", "aicache_lint.ci"}
    loaded.assert_cheap()


def test_build_push_cache_inputs_one_entry_a_line():
    text = LEROBOT + (
        "          cache-from: |\n"
        "            type=gha,scope=${{ env.NAME }}\n"
        "            type=registry,ref=huggingface/lerobot-gpu:buildcache\n"
        "          cache-to: type=gha,mode=max,scope=gpu\n")
    (inv,) = run(text)[0]
    assert inv.cache_from == ("type=gha,scope=${{ env.NAME }}", "type=registry,ref=huggingface/lerobot-gpu:buildcache")
    assert inv.cache_to == ("type=gha,mode=max,scope=gpu",)


def test_bake_action_set_lines_give_the_targets_their_cache():
    bake = 'target "app" {\n  cache-to = ["type=inline"]\n}\ntarget "docs" {\n}\n'
    text = dedent('''\
        env:
          SCOPE: nightly
        jobs:
          bake:
            steps:
              - uses: docker/bake-action@v6
                with:
                  targets: app,docs
                  set: |
                    app.cache-to=type=gha,mode=max,scope=${{ env.SCOPE }}
                    *.cache-from=type=gha
                    *.platform=linux/amd64
    ''')
    (app, docs), problems = run(text, {"repo/docker-bake.hcl": bake})
    assert (app.cache_from, app.cache_to) == (("type=gha",), ("type=gha,mode=max,scope=nightly",))
    assert (docs.cache_from, docs.cache_to) == (("type=gha",), ())
    assert "bake-action `set` overrides other than cache-from/cache-to are not applied" in app.unresolved


def test_an_include_only_matrix_is_one_combination_per_entry():
    from aicache_lint.ci.workflows import expand_matrix

    job = {"strategy": {"matrix": {"include": [{"device": "a2", "os": "ubuntu"}, {"device": "a3", "os": "ubuntu"},
                                               {"device": "a2", "os": "openeuler"}]}}}
    assert expand_matrix(job) == [{"device": "a2", "os": "ubuntu"}, {"device": "a3", "os": "ubuntu"},
                                  {"device": "a2", "os": "openeuler"}]
    # With axes, an include extends the combinations it matches and adds the others.
    job = {"strategy": {"matrix": {"py": ["3.11", "3.12"], "include": [{"py": "3.12", "cuda": "12.4"},
                                                                       {"py": "3.13"}]}}}
    assert expand_matrix(job) == [{"py": "3.11"}, {"py": "3.12", "cuda": "12.4"}, {"py": "3.13"}]
