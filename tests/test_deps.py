"""The dependency-file parsers of deps/: each reads through a dict-backed callback, never the disk.
The files are modelled on AI repositories (requirements/ folders with `-r base.txt`, LeRobot-style
`all` extras naming the project itself, uv dev groups, Poetry groups, conda files with a pip list)."""

from __future__ import annotations

import textwrap

import pytest

from aicache_lint.deps import Selection
from aicache_lint.deps.conda import read_environment
from aicache_lint.deps.locks import read_poetry_lock, read_uv_lock
from aicache_lint.deps.pyproject import read_project, read_pyproject, read_setup_cfg
from aicache_lint.deps.requirements import read_requirements, requirement_name


def files(**texts: str):
    """A read callback over `name=text` pairs: in a name, `__` stands for `/`, the last `_` for the
    extension's `.` and any other `_` for `-` (`requirements__gpu_extra_txt`: requirements/gpu-extra.txt)."""
    def path(key: str) -> str:
        stem, _, ext = key.rpartition("_")
        return "/".join(part.replace("_", "-") for part in stem.split("__")) + "." + ext

    table = {path(k): textwrap.dedent(v) for k, v in texts.items()}
    return table.get


def names(depfile) -> list[str]:
    return [r.name for r in depfile.packages]


# -- requirements files ------------------------------------------------------------------------


REQUIREMENTS = files(
    requirements__dev_txt="""\
        # dev tools on top of the runtime set
        -r base.txt
        --requirement=gpu.txt
        -c ../constraints.txt
        pytest>=8  # tests
        """,
    requirements__base_txt="""\
        --extra-index-url https://download.pytorch.org/whl/cu121
        --find-links ./wheels
        torch==2.3.1+cu121 ; sys_platform == "linux"
        transformers[torch,sentencepiece]>=4.41,\\
            <5
        Open_CLIP.torch
        accelerate @ https://github.com/huggingface/accelerate/archive/refs/tags/v0.30.0.zip
        clip @ git+https://github.com/openai/CLIP.git
        -e git+https://github.com/facebookresearch/detectron2.git@v0.6#egg=detectron2
        git+https://github.com/huggingface/peft.git#egg=peft&subdirectory=.
        https://wheels.example.org/cu122/flash_attn-2.5.8-cp310-cp310-linux_x86_64.whl
        xformers==0.0.26 --hash=sha256:0123abcd
        """,
    requirements__gpu_txt="-rbase.txt\nbitsandbytes\n",
    constraints_txt="numpy<2\n-r pins.txt\n",
    pins_txt="tokenizers==0.19.1\n",
)


def test_requirements_with_nested_includes_options_markers_and_urls():
    found = read_requirements("requirements/dev.txt", REQUIREMENTS)
    assert names(found) == ["torch", "transformers", "open-clip-torch", "accelerate", "clip", "detectron2", "peft",
                            "flash-attn", "xformers", "bitsandbytes", "pytest"]
    assert found.files == ("requirements/dev.txt", "requirements/base.txt", "requirements/gpu.txt",
                           "constraints.txt", "pins.txt")
    assert found.problems == ()
    by_name = {r.name: r for r in found.packages}
    assert by_name["transformers"].spec == "transformers[torch,sentencepiece]>=4.41, <5"
    assert (by_name["transformers"].path, by_name["transformers"].line) == ("requirements/base.txt", 4)
    assert by_name["torch"].spec == 'torch==2.3.1+cu121 ; sys_platform == "linux"'
    assert by_name["xformers"].spec == "xformers==0.0.26"  # per-requirement options are not part of it
    assert (by_name["pytest"].path, by_name["pytest"].line) == ("requirements/dev.txt", 5)


def test_constraint_files_only_constrain():
    found = read_requirements("requirements/dev.txt", REQUIREMENTS)
    assert "numpy" not in names(found)
    # Inside a constraints file, a `-r` include constrains too.
    assert [r.name for r in found.constraints] == ["numpy", "tokenizers"]
    top = read_requirements("constraints.txt", REQUIREMENTS, constraint=True)
    assert top.packages == () and [r.name for r in top.constraints] == ["numpy", "tokenizers"]


def test_include_cycle_is_a_problem_and_a_diamond_is_read_once():
    read = files(a_txt="-r b.txt\ntorch\n", b_txt="-r a.txt\n-r c.txt\n", c_txt="numpy\n", d_txt="-r c.txt\n-r b.txt\n")
    found = read_requirements("a.txt", read)
    assert names(found) == ["numpy", "torch"]
    assert found.problems == ("b.txt:1: `-r a.txt`: include cycle a.txt -> b.txt -> a.txt",)
    diamond = read_requirements("d.txt", files(d_txt="-r c.txt\n-r e.txt\n", e_txt="-r c.txt\n", c_txt="numpy\n"))
    assert names(diamond) == ["numpy"] and diamond.problems == ()


def test_missing_include_names_file_and_line():
    found = read_requirements("requirements.txt", files(requirements_txt="torch\n\n-r requirements/extra.txt\n"))
    assert names(found) == ["torch"]
    assert found.problems == ("requirements.txt:3: `-r requirements/extra.txt`: requirements/extra.txt not found",)
    assert read_requirements("nope.txt", files()).problems == ("nope.txt not found",)


def test_what_cannot_be_followed_is_a_problem():
    read = files(r_txt="""\
        -e .
        ./packages/tokenizer
        -r ${REQ_FILE}
        -r https://example.com/requirements.txt
        git+https://github.com/x/y.git
        diffusers
        """)
    found = read_requirements("r.txt", read)
    assert names(found) == ["diffusers"]
    assert [p.split(":")[1] for p in found.problems] == ["1", "2", "3", "4", "5"]
    assert "local project" in found.problems[0] and "environment variable" in found.problems[2]


@pytest.mark.parametrize("spec, name", [
    ("huggingface_hub[cli]>=0.23", "huggingface_hub"),
    ("torch (>=2.0)", "torch"),
    ("vllm; platform_machine == 'x86_64'", "vllm"),
    ("name@https://x/y.zip", "name"),
    ("https://x/flash_attn-2.5.8-cp310-linux_x86_64.whl", "flash_attn"),
    ("./dist/mypkg-1.0-py3-none-any.whl", "mypkg"),
    ("git+ssh://git@github.com/a/b.git#egg=b-lib", "b-lib"),
    ("git+https://github.com/a/b.git", None),
    ("./vendor/pkg", None),
    ("https://x/y-1.0.tar.gz", None),
])
def test_requirement_name(spec, name):
    assert requirement_name(spec) == name


# -- pyproject.toml and setup.cfg --------------------------------------------------------------

LEROBOT_LIKE = """\
    [build-system]
    requires = ["setuptools"]

    [project]
    name = "LeRobot"
    dependencies = [
        "torch>=2.2.1",
        "huggingface-hub[hf-transfer,cli]>=0.27.1",
        "datasets>=2.19.0",
    ]

    [project.optional-dependencies]
    pusht = ["gym-pusht>=0.1.5"]
    smolvla = ["transformers>=4.50.3", "accelerate"]
    all = ["lerobot[pusht,smolvla]"]

    [dependency-groups]
    dev = ["pytest>=8", {include-group = "lint"}]
    lint = ["ruff"]
    docs = ["mkdocs"]
    """


def test_pip_installs_dependencies_and_selected_extras_through_self_references():
    read = files(app__pyproject_toml=LEROBOT_LIKE)
    found = read_project("app", read, "pip", Selection(extras=("all",)))
    assert names(found) == ["torch", "huggingface-hub", "datasets", "gym-pusht", "transformers", "accelerate"]
    assert [r.line for r in found.packages] == [7, 8, 9, 13, 14, 14]
    assert found.files == ("app/pyproject.toml",) and found.problems == ()
    assert names(read_project("app", read)) == ["torch", "huggingface-hub", "datasets"]  # no groups for pip


def test_uv_groups_default_dev_with_include_and_the_options():
    read = files(pyproject_toml=LEROBOT_LIKE)
    base = ["torch", "huggingface-hub", "datasets"]
    assert names(read_pyproject("pyproject.toml", read, "uv")) == [*base, "pytest", "ruff"]
    assert names(read_pyproject("pyproject.toml", read, "uv", Selection(without=("dev",)))) == base
    assert names(read_pyproject("pyproject.toml", read, "uv", Selection(only=("docs",)))) == ["mkdocs"]
    assert names(read_pyproject("pyproject.toml", read, "uv", Selection(all_groups=True))) == \
        [*base, "pytest", "ruff", "mkdocs"]
    custom = LEROBOT_LIKE + '\n[tool.uv]\ndefault-groups = ["docs"]\ndev-dependencies = ["ipdb"]\n'
    read = files(pyproject_toml=custom)
    assert names(read_pyproject("pyproject.toml", read, "uv")) == [*base, "mkdocs"]
    assert names(read_pyproject("pyproject.toml", read, "uv", Selection(groups=("dev",), default_groups=False))) \
        == [*base, "pytest", "ruff", "ipdb"]


def test_dependency_group_cycle_is_a_problem():
    read = files(pyproject_toml="""\
        [dependency-groups]
        a = ["torch", {include-group = "b"}]
        b = [{include-group = "a"}]
        """)
    found = read_pyproject("pyproject.toml", read, "uv", Selection(groups=("a",)))
    assert names(found) == ["torch"]
    assert found.problems == ("pyproject.toml: dependency group cycle a -> b -> a",)


POETRY = """\
    [tool.poetry]
    name = "sd-server"

    [tool.poetry.dependencies]
    python = ">=3.10,<3.13"
    diffusers = "^0.27"
    torch = { version = "2.3.0", source = "pytorch-cu121" }
    bitsandbytes = { version = "*", optional = true }

    [tool.poetry.extras]
    quant = ["bitsandbytes"]

    [tool.poetry.group.dev.dependencies]
    pytest = "*"

    [tool.poetry.group.notebook]
    optional = true

    [tool.poetry.group.notebook.dependencies]
    jupyterlab = "^4"
    """


def test_poetry_main_dependencies_extras_and_groups():
    read = files(pyproject_toml=POETRY)
    default = read_pyproject("pyproject.toml", read, "poetry")
    assert names(default) == ["diffusers", "torch", "pytest"]
    assert [(r.line, r.spec) for r in default.packages][:2] == [
        (6, 'diffusers = "^0.27"'), (7, 'torch = { version = "2.3.0", source = "pytorch-cu121" }')]

    def poetry(**selection) -> list[str]:
        return names(read_pyproject("pyproject.toml", read, "poetry", Selection(**selection)))

    assert poetry(extras=("quant",), groups=("notebook",)) == ["diffusers", "torch", "bitsandbytes", "pytest",
                                                              "jupyterlab"]
    assert poetry(without=("dev",)) == ["diffusers", "torch"]
    assert poetry(only=("main",)) == ["diffusers", "torch"]
    # pip builds the metadata poetry-core writes: main dependencies, no groups.
    assert names(read_pyproject("pyproject.toml", read, "pip")) == ["diffusers", "torch"]


def test_dynamic_dependencies_read_the_requirements_files_setuptools_reads():
    read = files(
        src__pyproject_toml="""\
            [project]
            name = "app"
            dynamic = ["dependencies", "optional-dependencies"]
            [tool.setuptools.dynamic]
            dependencies = {file = ["requirements.txt"]}
            optional-dependencies.gpu = {file = ["requirements-gpu.txt"]}
            """,
        src__requirements_txt="vllm\n",
        src__requirements_gpu_txt="flash-attn\n",
    )
    found = read_project("src", read, "pip", Selection(extras=("gpu",)))
    assert names(found) == ["vllm", "flash-attn"]
    assert found.files == ("src/pyproject.toml", "src/requirements.txt", "src/requirements-gpu.txt")


SETUP_CFG = """\
    [metadata]
    name = whisperx-server

    [options]
    install_requires =
        faster-whisper>=1.0
        # diarization
        pyannote.audio==3.1.1
    [options.extras_require]
    gpu =
        ctranslate2
    """


def test_setup_cfg_and_the_project_fallbacks():
    read = files(setup_cfg=SETUP_CFG, pyproject_toml="[build-system]\nrequires = ['setuptools']\n")
    assert [(r.name, r.line) for r in read_setup_cfg("setup.cfg", read, Selection(extras=("gpu",))).packages] == \
        [("faster-whisper", 6), ("pyannote-audio", 8), ("ctranslate2", 11)]
    found = read_project(".", read)  # a build-system-only pyproject: setup.cfg declares the dependencies
    assert names(found) == ["faster-whisper", "pyannote-audio"]
    assert found.files == ("pyproject.toml", "setup.cfg")
    only_code = read_project("legacy", files(legacy__setup_py="from setuptools import setup\nsetup()\n"))
    assert only_code.packages == () and "legacy/setup.py is code" in only_code.problems[0]


def test_invalid_toml_is_a_problem():
    found = read_pyproject("pyproject.toml", files(pyproject_toml="[project\n"))
    assert found.packages == () and found.problems[0].startswith("pyproject.toml: invalid TOML")


# -- lock files --------------------------------------------------------------------------------


def test_uv_lock_names_every_downloaded_package_but_not_the_project():
    read = files(uv_lock="""\
        version = 1
        requires-python = ">=3.10"

        [[package]]
        name = "my-app"
        version = "0.1.0"
        source = { editable = "." }

        [[package]]
        name = "Torch"
        version = "2.3.1"
        source = { registry = "https://pypi.org/simple" }

        [[package]]
        name = "safetensors"
        version = "0.4.3"
        source = { registry = "https://pypi.org/simple" }
        """)
    found = read_uv_lock("uv.lock", read)
    assert [(r.name, r.spec, r.line) for r in found.packages] == [("torch", "Torch==2.3.1", 9),
                                                                   ("safetensors", "safetensors==0.4.3", 14)]


def test_poetry_lock_leaves_out_directory_packages():
    read = files(poetry_lock="""\
        [[package]]
        name = "accelerate"
        version = "0.30.1"

        [[package]]
        name = "local-utils"
        version = "0.1.0"

        [package.source]
        type = "directory"
        url = "libs/utils"
        """)
    assert [(r.name, r.line) for r in read_poetry_lock("poetry.lock", read).packages] == [("accelerate", 1)]
    assert read_poetry_lock("missing.lock", read).problems == ("missing.lock not found",)


# -- conda environment files -------------------------------------------------------------------


def test_conda_environment_with_channels_and_a_pip_list():
    read = files(
        envs__environment_yml="""\
            name: sdwebui
            channels:
              - pytorch
              - nvidia
            dependencies:
              - python=3.10.13
              - pytorch::pytorch=2.1.2
              - pytorch-cuda 12.1.*
              - pip
              - pip:
                  - -r requirements.txt
                  - -c constraints.txt
                  - open_clip_torch==2.24.0
            """,
        envs__requirements_txt="transformers==4.38.2\n",
        envs__constraints_txt="numpy<2\n",
    )
    found = read_environment("envs/environment.yml", read)
    assert [(r.name, r.installer, r.line) for r in found.packages] == [
        ("python", "conda", 6), ("pytorch", "conda", 7), ("pytorch-cuda", "conda", 8), ("pip", "conda", 9),
        ("transformers", "pip", 1), ("open-clip-torch", "pip", 13)]
    assert found.files == ("envs/environment.yml", "envs/requirements.txt", "envs/constraints.txt")
    assert [r.name for r in found.constraints] == ["numpy"]


def test_conda_environment_problems():
    assert read_environment("e.yml", files(e_yml="dependencies: [a\n")).problems[0].startswith("e.yml: invalid YAML")
    assert read_environment("e.yml", files(e_yml="name: x\n")).problems == ("e.yml: no `dependencies` list",)
    missing = read_environment("e.yml", files(e_yml="dependencies:\n  - pip:\n    - -r nope.txt\n"))
    assert missing.problems == ("e.yml:3: `-r nope.txt`: nope.txt not found",)


def test_a_lock_is_read_by_its_package_headers_as_a_full_parse_would():
    """Only `name`/`version`/`source` are read (a lock is mostly hashes and wheels); what comes out
    is what parsing the whole file gives, and a file that does not parse is still said to."""
    lock = textwrap.dedent("""\
        version = 1

        [[package]]
        name = "torch"
        version = "2.5.1"
        source = { registry = "https://download.pytorch.org/whl/cu124" }
        dependencies = [
            { name = "filelock" },
            { name = "nvidia-cudnn-cu12", marker = "platform_machine == 'x86_64'" },
        ]
        wheels = [
            { url = "https://download.pytorch.org/whl/cu124/torch-2.5.1.whl", hash = "sha256:00" },
        ]

        [package.optional-dependencies]
        opt-einsum = [
            { name = "opt-einsum" },
        ]

        [[package]]
        name = "my-app"
        version = "0.1.0"
        source = { editable = "." }
        """)
    found = read_uv_lock("uv.lock", files(uv_lock=lock))
    assert [(r.name, r.spec, r.line) for r in found.packages] == [("torch", "torch==2.5.1", 3)]
    broken = read_uv_lock("uv.lock", files(uv_lock=lock.replace('version = "0.1.0"', 'version = ')))
    assert broken.packages == () and "invalid TOML" in broken.problems[0]
