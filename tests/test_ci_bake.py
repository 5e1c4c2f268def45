"""Tests for Bake files (aicache_lint.ci.bake), HCL and JSON."""

from __future__ import annotations

from textwrap import dedent

from import_cost import imports_of

from aicache_lint.ci import invocations as ci_invocations
from aicache_lint.ci.bake import BakeFiles, file_invocations

# Modelled on vLLM/TGI-style bake files: variables with defaults, a common parent, a group.
BAKE_HCL = dedent('''\
    variable "TAG" {
      default = "latest"
    }
    variable "REGISTRY" {}
    variable "PYTHON_VERSION" {
      default = "3.12"
    }

    group "default" {
      targets = ["vllm-openai", "vllm-cpu"]
    }

    target "_common" {
      context = "."
      args = {
        PYTHON_VERSION = "${PYTHON_VERSION}"
        CUDA_VERSION = "12.8.1"
      }
    }

    target "vllm-openai" {
      inherits = ["_common"]
      dockerfile = "docker/Dockerfile"
      target = "vllm-openai"
      tags = ["vllm/vllm-openai:${TAG}", "${REGISTRY}/vllm-openai:${TAG}"]
    }

    target "vllm-cpu" {
      inherits = ["_common"]
      context = "cpu"
      dockerfile = "Dockerfile.cpu"
      args = { CUDA_VERSION = null, MAX_JOBS = 4 }
      tags = [notequal("", TAG) ? "vllm/vllm-cpu:${TAG}" : "vllm/vllm-cpu:dev"]
    }
''')


def by_name(found):
    return {inv.origin.name: inv for inv in found}


def test_hcl_targets_inherit_interpolate_and_resolve_paths():
    found, problems = file_invocations("repo/docker-bake.hcl", BAKE_HCL, {}.get)
    assert problems == []
    inv = by_name(found)
    assert set(inv) == {"vllm-openai", "vllm-cpu"}  # `_common` is only a parent
    gpu = inv["vllm-openai"]
    assert gpu.origin.line == 21
    assert (gpu.context, gpu.dockerfile, gpu.target) == ("repo", "repo/docker/Dockerfile", "vllm-openai")
    assert gpu.args == (("CUDA_VERSION", "12.8.1"), ("PYTHON_VERSION", "3.12"))
    assert gpu.tags == ("vllm/vllm-openai:latest",)
    assert gpu.unresolved == ("tag of `vllm-openai`: variable `REGISTRY` has no default (set from the environment)",)
    cpu = inv["vllm-cpu"]
    # The dockerfile is relative to the context; args merge over the parent's, null unsets.
    assert (cpu.context, cpu.dockerfile) == ("repo/cpu", "repo/cpu/Dockerfile.cpu")
    assert cpu.args == (("MAX_JOBS", "4"), ("PYTHON_VERSION", "3.12"))
    assert cpu.tags == ()
    assert cpu.unresolved[0].startswith("tag of `vllm-cpu`: `notequal")


def test_environment_overrides_variable_defaults():
    files = BakeFiles()
    files.load("docker-bake.hcl", BAKE_HCL)
    gpu = by_name(files.invocations(".", {"TAG": "v0.9", "REGISTRY": "ghcr.io/org"}))["vllm-openai"]
    assert gpu.tags == ("vllm/vllm-openai:v0.9", "ghcr.io/org/vllm-openai:v0.9")
    assert gpu.unresolved == ()


def test_override_file_changes_args_and_tags():
    override = 'target "vllm-openai" {\n  args = { CUDA_VERSION = "12.4.1" }\n  tags = ["local/vllm:dev"]\n}\n'
    files = {"repo/docker-bake.override.hcl": override}
    gpu = by_name(file_invocations("repo/docker-bake.hcl", BAKE_HCL, files.get)[0])["vllm-openai"]
    assert gpu.args == (("CUDA_VERSION", "12.4.1"), ("PYTHON_VERSION", "3.12"))
    assert gpu.tags == ("local/vllm:dev",)  # tags: the last definition wins
    assert gpu.dockerfile == "repo/docker/Dockerfile"


def test_a_directory_is_reported_once_by_its_first_default_file():
    override = 'target "vllm-openai" {\n  tags = ["x"]\n}\n'
    files = {"repo/docker-bake.hcl": BAKE_HCL}
    assert file_invocations("repo/docker-bake.override.hcl", override, files.get) == ([], [])


JSON_BAKE = dedent('''\
    {
      "variable": {"BASE": {"default": "nvidia/cuda:12.4.1-runtime-ubuntu22.04"}},
      "group": {"default": {"targets": ["tgi"]}},
      "target": {
        "tgi": {
          "context": "server",
          "dockerfile": "Dockerfile_cuda",
          "args": {"BASE_IMAGE": "${BASE}", "LITERAL": "$${HOME}"},
          "tags": ["ghcr.io/huggingface/text-generation-inference:latest"]
        }
      }
    }
''')


def test_json_bake_and_the_load_order_with_hcl():
    found, problems = file_invocations("docker-bake.json", JSON_BAKE, {}.get)
    tgi = by_name(found)["tgi"]
    assert problems == []
    assert (tgi.context, tgi.dockerfile, tgi.origin.line) == ("server", "server/Dockerfile_cuda", 5)
    assert tgi.args == (("BASE_IMAGE", "nvidia/cuda:12.4.1-runtime-ubuntu22.04"), ("LITERAL", "${HOME}"))
    # docker-bake.hcl loads after docker-bake.json, so its dockerfile wins.
    hcl = 'target "tgi" {\n  dockerfile = "Dockerfile_rocm"\n}\n'
    merged = by_name(file_invocations("docker-bake.json", JSON_BAKE, {"docker-bake.hcl": hcl}.get)[0])["tgi"]
    assert merged.dockerfile == "server/Dockerfile_rocm"


def test_inherits_cycle_and_missing_parent_are_unresolved():
    text = dedent('''\
        target "a" {
          inherits = ["b"]
          dockerfile = "a.Dockerfile"
        }
        target "b" {
          inherits = ["a"]
        }
        target "c" {
          inherits = ["nowhere"]
        }
        group "default" { targets = ["a", "c"] }
    ''')
    inv = by_name(file_invocations("docker-bake.hcl", text, {}.get)[0])
    assert inv["a"].unresolved == ("inherits cycle a → b → a",)
    assert inv["a"].dockerfile == "a.Dockerfile"
    assert inv["c"].unresolved == ("`c` inherits `nowhere`, which no Bake file defines",)


def test_inline_dockerfile_and_remote_context():
    text = dedent('''\
        target "inline" {
          dockerfile-inline = "FROM python:3.12\\nRUN pip install torch"
        }
        target "remote" {
          context = "https://github.com/vllm-project/vllm.git#main"
        }
    ''')
    inv = by_name(file_invocations("docker-bake.hcl", text, {}.get)[0])
    assert (inv["inline"].dockerfile, inv["inline"].context) == (None, ".")
    assert inv["inline"].unresolved == ("`inline` has an inline Dockerfile",)
    assert (inv["remote"].dockerfile, inv["remote"].context) == (None, None)


def test_syntax_error_names_the_line_and_keeps_other_targets():
    text = 'target "ok" {\n  tags = ["a"]\n}\ntarget "bad" {\n  tags = [\n}\ntarget "also-ok" {\n  tags = ["b"]\n}\n'
    found, problems = file_invocations("docker-bake.hcl", text, {}.get)
    assert problems and problems[0].startswith("docker-bake.hcl:")
    assert "HCL syntax error" in problems[0]
    assert {i.origin.name for i in found} == {"ok", "also-ok"}


def test_broken_json_is_a_problem():
    found, problems = file_invocations("docker-bake.json", '{"target": {', {}.get)
    assert found == []
    assert problems[0].startswith("docker-bake.json:1: not valid JSON")


def test_asked_targets_expand_groups():
    files = BakeFiles()
    files.load("docker-bake.hcl", BAKE_HCL + 'group "all" {\n  targets = ["default", "_common"]\n}\n')
    assert [i.origin.name for i in files.invocations(".", {}, ["all"])] == ["vllm-openai", "vllm-cpu", "_common"]


def test_entry_point_dispatches_bake_files():
    found, _ = ci_invocations("docker-bake.hcl", BAKE_HCL, {}.get)
    assert {i.origin.kind for i in found} == {"bake"}


def test_tree_sitter_loads_only_when_hcl_is_read():
    assert "tree_sitter" not in imports_of("import aicache_lint.ci.bake").third_party
    assert "tree_sitter_hcl" in imports_of(
        "from aicache_lint.ci.bake import file_invocations; file_invocations('docker-bake.hcl', 'target \"a\" {}', {}.get)"
    ).third_party


def test_cache_attributes_strings_objects_and_inherits():
    text = dedent('''\
        variable "CACHE_TO" {
          default = ""
        }
        variable "SCOPE" {
          default = "app"
        }
        target "_cached" {
          cache-from = ["type=gha,scope=${SCOPE}"]
          cache-to = [{ type = "gha", mode = "max", scope = "app" }]
        }
        target "_middle" {
          inherits = ["_cached"]
        }
        target "app" {
          inherits = ["_middle"]
        }
        target "own" {
          inherits = ["_cached"]
          cache-from = ["type=registry,ref=me/own:buildcache"]
          cache-to = ["${CACHE_TO}"]
        }
        target "computed" {
          cache-to = CACHE_TO != "" ? [CACHE_TO] : []
        }
        target "none" {
          cache-from = [""]
        }
    ''')
    inv = by_name(file_invocations("docker-bake.hcl", text, {}.get)[0])
    # Three levels: the grandparent's cache reaches `app`.
    assert inv["app"].cache_from == ("type=gha,scope=app",)
    assert inv["app"].cache_to == ("type=gha,mode=max,scope=app",)
    # A child's list replaces the parent's; an empty variable default stays as written.
    assert (inv["own"].cache_from, inv["own"].cache_to) == (("type=registry,ref=me/own:buildcache",), ("${CACHE_TO}",))
    assert inv["computed"].cache_to == ('CACHE_TO != "" ? [CACHE_TO] : []',)
    assert (inv["none"].cache_from, inv["none"].cache_to) == ((), ())


def test_json_cache_objects_and_environment():
    text = '{"target": {"app": {"cache-from": [{"type": "gha", "scope": "${S}"}], "cache-to": ["${TO}"]}}}'
    files = BakeFiles()
    files.load("docker-bake.json", text)
    app = by_name(files.invocations(".", {"S": "x", "TO": "type=gha,mode=max"}))["app"]
    assert (app.cache_from, app.cache_to) == (("type=gha,scope=x",), ("type=gha,mode=max",))
    unset = by_name(files.invocations(".", {}))["app"]
    assert (unset.cache_from, unset.cache_to) == (("type=gha,scope=${S}",), ("${TO}",))


def test_bare_identifier_labels():
    text = 'group default {\n  targets = ["app"]\n}\ntarget app {\n  dockerfile = "app.Dockerfile"\n}\ntarget "_x" {}\n'
    found, problems = file_invocations("docker-bake.hcl", text, {}.get)
    assert problems == []
    assert [i.origin.name for i in found] == ["app", "_x"]
    files = BakeFiles()
    files.load("docker-bake.hcl", text)
    assert [i.origin.name for i in files.invocations(".", {}, ["default"])] == ["app"]
