"""Tests for `.gitlab-ci.yml` jobs (aicache_lint.ci.gitlab)."""

from __future__ import annotations

from textwrap import dedent

from aicache_lint.ci import invocations

GITLAB = dedent('''\
    variables:
      IMAGE: registry.example.com/ml/serving
      CUDA: "12.4"
      FULL: $IMAGE:cu$CUDA

    .docker-build: &docker
      image: docker:27
      services: [docker:27-dind]
      before_script:
        - docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" $CI_REGISTRY
      variables:
        DOCKER_BUILDKIT: "1"

    build-gpu:
      extends: .docker-build
      variables:
        CUDA: "12.8"
      script:
        - cd docker
        - >
          docker build --build-arg CUDA_VERSION=$CUDA
          -t $IMAGE:cu$CUDA -t $FULL
          -f Dockerfile.gpu ..
        - docker push $IMAGE:cu$CUDA

    build-commit:
      <<: *docker
      script:
        - docker build -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .
''')


def run(text: str, path: str = "proj/.gitlab-ci.yml"):
    return invocations(path, text, {}.get)


def test_job_variables_override_global_ones_and_cd_carries_over():
    found, problems = run(GITLAB)
    assert problems == []
    gpu = found[0]
    assert gpu.origin == ("gitlab", "proj/.gitlab-ci.yml", 21, "build-gpu")  # the folded item's first line
    assert (gpu.context, gpu.dockerfile) == ("proj", "proj/docker/Dockerfile.gpu")
    assert gpu.args == (("CUDA_VERSION", "12.8"),)
    # FULL was expanded where it was defined, with the global CUDA (GitLab expands global values first).
    assert gpu.tags == ("registry.example.com/ml/serving:cu12.8", "registry.example.com/ml/serving:cu12.4")


def test_tag_from_predefined_variables_is_unresolved_and_anchors_merge():
    commit = run(GITLAB)[0][1]
    assert commit.origin.name == "build-commit"
    assert commit.tags == ()
    assert commit.unresolved == ('tag `"$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA"`: `$CI_REGISTRY_IMAGE` is not known here',)
    assert commit.origin.line == 29


def test_hidden_jobs_build_nothing_and_global_keys_are_not_jobs():
    text = ".tmpl:\n  script: [docker build -t a .]\nvariables:\n  X: y\nstages: [build]\n"
    assert run(text) == ([], [])


def test_extends_unknown_template_is_a_problem():
    text = "job:\n  extends: .missing\n  script:\n    - docker build -t a .\n"
    found, problems = run(text)
    assert [i.tags for i in found] == [("a",)]
    assert problems == ["proj/.gitlab-ci.yml:2: `extends: .missing` names no job or template"]


def test_default_before_script_and_ci_project_dir():
    text = dedent('''\
        default:
          before_script:
            - export TAG=dev
        job:
          script:
            - docker build -t app:$TAG -f $CI_PROJECT_DIR/docker/Dockerfile $CI_PROJECT_DIR
    ''')
    (inv,), _ = run(text, ".gitlab-ci.yml")
    assert (inv.tags, inv.context, inv.dockerfile) == (("app:dev",), ".", "docker/Dockerfile")


def test_broken_yaml():
    assert run("job:\n  script: [\n")[1][0].startswith("proj/.gitlab-ci.yml:3: not valid YAML")


def test_reference_tags_load_and_the_rest_of_the_script_counts():
    """`!reference [.job, key]` is GitLab's own tag: the file loads, the other lines are read."""
    text = dedent('''\
        .setup:
          before_script: [docker login -u x -p y registry.example.com]
        build:
          script:
            - !reference [.setup, before_script]
            - docker build -t registry.example.com/ml/app:1 .
    ''')
    found, problems = invocations(".gitlab-ci.yml", text, {}.get)
    assert problems == []
    assert [inv.tags for inv in found] == [("registry.example.com/ml/app:1",)]


def test_local_includes_are_merged_in_and_their_jobs_reported_where_they_are():
    """gpu-operator's `.gitlab-ci.yml` includes `.common-ci.yml`, whose templates its jobs extend."""
    main = dedent('''\
        include:
          - local: .common-ci.yml
          - project: other/group
            file: /templates.yml
        variables:
          IMAGE: registry.example.com/gpu/operator
        build-operator:
          extends: .build
    ''')
    common = dedent('''\
        .build:
          script:
            - docker build -t $IMAGE:dev .
        build-docs:
          script:
            - docker build -t registry.example.com/gpu/docs:1 docs
    ''')
    found, problems = invocations(".gitlab-ci.yml", main, {".common-ci.yml": common}.get)
    assert problems == []
    assert sorted((inv.origin.path, inv.origin.name, inv.tags) for inv in found) == [
        (".common-ci.yml", "build-docs", ("registry.example.com/gpu/docs:1",)),
        (".gitlab-ci.yml", "build-operator", ("registry.example.com/gpu/operator:dev",)),
    ]
    _, problems = invocations(".gitlab-ci.yml", main, {}.get)
    assert problems == [".gitlab-ci.yml:1: included file `.common-ci.yml` not found",
                        ".gitlab-ci.yml:8: `extends: .build` names no job or template "
                        "(it may come from an include of another project)"]
