"""Which Python an image or a service runs (workspace/python_code.py) and how a command starts it
(python/launch.py)."""

from __future__ import annotations

import os

import pytest

from aicache_lint.python.launch import Reader
from aicache_lint.source import MappedText
from aicache_lint.workspace.index import Workspace
from aicache_lint.workspace.python_code import same_repository


def _write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _launches(words=None, shell=None, cwd="/app", env=None):
    reader = Reader(cwd, env or {})
    if words is not None:
        reader.words(words)
    else:
        reader.shell(MappedText.contiguous(shell, 0))
    return reader.events


@pytest.mark.parametrize("words, kind, target, cwd", [
    (["python", "app.py"], "script", "app.py", "/app"),
    (["python3.11", "-u", "-X", "dev", "src/serve.py", "--port", "8"], "script", "src/serve.py", "/app"),
    (["python", "-m", "server.main"], "module", "server.main", "/app"),
    (["python", "-mserver"], "module", "server", "/app"),
    (["tini", "--", "uv", "run", "--frozen", "uvicorn", "api.main:app", "--host", "0"], "module", "api.main", "/app"),
    (["gunicorn", "-w", "2", "-k", "uvicorn.workers.UvicornWorker", "svc.wsgi:create_app()"], "module", "svc.wsgi",
     "/app"),
    (["gosu", "app", "python", "-m", "uvicorn", "web:app"], "module", "web", "/app"),
    (["accelerate", "launch", "--num_processes", "2", "train.py"], "script", "train.py", "/app"),
    (["torchrun", "--nproc_per_node", "4", "-m", "trainer.run"], "module", "trainer.run", "/app"),
    (["streamlit", "run", "ui/app.py", "--server.port", "8501"], "script", "ui/app.py", "/app"),
    (["conda", "run", "-n", "env", "--no-capture-output", "python", "x.py"], "script", "x.py", "/app"),
    (["celery", "-A", "tasks.worker", "worker"], "module", "tasks.worker", "/app"),
    (["/entrypoint.sh"], "shell", "/entrypoint.sh", "/app"),
    (["bash", "-c", "cd /srv && exec python main.py"], "script", "main.py", "/srv"),
    (["sh", "start.sh", "serve"], "shell", "start.sh", "/app"),
])
def test_launches(words, kind, target, cwd):
    launches = _launches(words).launches
    assert [(l.kind, l.target, l.cwd) for l in launches] == [(kind, target, cwd)]


def test_not_python():
    # a program by name: Python only when the project installs it as a console script
    assert [(l.kind, l.target) for l in _launches(["nginx", "-g", "daemon off;"]).launches] == [("program", "nginx")]
    assert _launches(shell="echo hi && mkdir -p /x").launches == []
    assert _launches(["python"]).launches == []  # an interactive interpreter runs nothing of ours


def test_shell_state_is_followed():
    events = _launches(shell="export HF_HOME=/data/hf\nd=$HF_HOME/m\ncd $HF_HOME && hf download org/m --local-dir ./m\n"
                             "cd \"$UNKNOWN\"\npython late.py\nA=1 python x.py")
    assert [(d.repo, d.local_dir) for d in events.downloads] == [("org/m", "/data/hf/m")]
    assert [(l.target, l.cwd) for l in events.launches] == [("late.py", None), ("x.py", None)]
    assert events.launches[0].env["HF_HOME"] == "/data/hf"
    assert events.launches[1].env["A"] == "1"


def test_fastapi_defaults():
    launches = _launches(["fastapi", "run"]).launches
    assert [l.target for l in launches] == ["main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py"]


def test_same_repository():
    assert same_repository("https://github.com/FunAudioLLM/CosyVoice.git", "git@github.com:FunAudioLLM/CosyVoice")
    assert not same_repository("https://github.com/a/b", "https://github.com/a/c")
    assert not same_repository("", "")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {
        ".git/config": '[remote "origin"]\n\turl = git@github.com:Acme/Voice.git\n',
        "app/Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
                          "RUN pip install -r requirements.txt\nCOPY . .\nENV PYTHONPATH=/app\n"
                          'ENTRYPOINT ["/app/entrypoint.sh"]\nCMD ["uvicorn", "server.main:app", "--host", "0.0.0.0"]\n',
        "app/requirements.txt": "sentence-transformers\n",
        "app/entrypoint.sh": '#!/bin/sh\nset -e\nexport HF_HOME=/cache\nexec "$@"\n',
        "app/server/__init__.py": "",
        "app/server/main.py": "from .models import load\nfrom server import util\nimport numpy\n",
        "app/server/models.py": "import os\nfrom sentence_transformers import SentenceTransformer\n"
                                'MODEL = os.getenv("EMBED_MODEL", "BAAI/bge-small-en-v1.5")\n'
                                'def load():\n    return SentenceTransformer(MODEL, cache_folder="/tmp/models")\n',
        "app/server/util.py": "x = 1\n",
        "app/unused.py": "from transformers import pipeline\npipeline('sentiment-analysis')\n",
        "compose.yaml": "services:\n  api:\n    build: ./app\n  tts:\n    image: acme/triton:1\n    command: >\n"
                        '      /bin/bash -c "cd /workspace && git clone https://github.com/acme/voice && cd voice/rt'
                        ' && bash run.sh 0 3"\n'
                        "  dev:\n    image: python:3.11\n    working_dir: /src\n    volumes:\n      - ./app:/src\n"
                        "    command: python -m server.main\n",
        "rt/run.sh": "#!/bin/bash\nd=/workspace/voice/rt/m\nhuggingface-cli download --local-dir $d acme/tts-model\n"
                     "python3 serve.py\n",
        "rt/serve.py": 'from transformers import AutoModel\nAutoModel.from_pretrained("acme/tts")\n',
    })
    return tmp_path


def _paths(code):
    return [f.path for f in code.files]


def test_image_code_follows_entrypoint_cmd_and_imports(project):
    ws = Workspace(["app/Dockerfile"])
    code = ws.image_code("app/Dockerfile")
    assert _paths(code) == [os.path.join("app", "server", n) for n in ("__init__.py", "main.py", "models.py", "util.py")]
    assert "app/unused.py" not in _paths(code)  # not run: never read
    assert code.env["HF_HOME"] == "/cache"  # exported by the entrypoint script before `exec "$@"`
    [(file, load)] = code.loads()
    assert (file.path, load.variable, load.default, load.cache_dir) == (
        os.path.join("app", "server", "models.py"), "EMBED_MODEL", "BAAI/bge-small-en-v1.5", "/tmp/models")
    assert file.imported_by == os.path.join("app", "server", "main.py")


def test_service_code(project):
    ws = Workspace(["compose.yaml"])
    services = ws.compose_project(ws.companion_files("compose.yaml")).services
    assert [os.path.basename(p) for p in _paths(ws.service_code(services["api"]))] == [
        "__init__.py", "main.py", "models.py", "util.py"]
    tts = ws.service_code(services["tts"])  # clones this very repository and runs its script
    assert _paths(tts) == [os.path.join("rt", "serve.py")]
    [(download, where)] = tts.downloads
    assert (download.repo, download.local_dir, where) == ("acme/tts-model", "/workspace/voice/rt/m",
                                                          os.path.join("rt", "run.sh"))
    dev = ws.service_code(services["dev"])  # an image built elsewhere, code from a bind mount
    assert [os.path.basename(p) for p in _paths(dev)] == ["__init__.py", "main.py", "models.py", "util.py"]


def test_unknown_is_said(project):
    _write(project, {"b/Dockerfile": "FROM python:3.11\nCOPY --from=builder /src /app\nCMD python /app/main.py\n"
                                     "FROM scratch\n"})
    ws = Workspace(["b/Dockerfile"])
    code = ws.image_code("b/Dockerfile")
    assert code.files == () and "sets no CMD or ENTRYPOINT" in code.unresolved[0]
    _write(project, {"b/Dockerfile": "FROM python:3.11 AS builder\nFROM python:3.11\nCOPY --from=builder /src /app\n"
                                     "CMD python /app/main.py\n"})
    ws = Workspace(["b/Dockerfile"])
    assert ws.image_code("b/Dockerfile").unresolved == ("`/app/main.py` is not a file the image is known to hold",)


def test_a_cycle_of_imports_and_a_syntax_error(project):
    _write(project, {"c/Dockerfile": "FROM python:3.11\nCOPY . /srv\nCMD [\"python\", \"/srv/a.py\"]\n",
                     "c/a.py": "import b\n", "c/b.py": "import a\nimport broken\n", "c/broken.py": "def (:\n"})
    ws = Workspace(["c/Dockerfile"])
    assert [os.path.basename(p) for p in _paths(ws.image_code("c/Dockerfile"))] == ["a.py", "b.py"]


def test_graph_shows_the_code_each_image_and_service_runs(project):
    from aicache_lint.graph import build_graph
    from aicache_lint.report.graph import text

    ws = Workspace(["compose.yaml", "app/Dockerfile"])
    graph = build_graph(ws, ["compose.yaml", "app/Dockerfile"])
    [image] = graph.images
    assert image.runs == [os.path.join("app", "server", n) for n in ("__init__.py", "main.py", "models.py", "util.py")]
    runs = {s.name: s.runs for s in graph.services}
    assert runs["tts"] == [os.path.join("rt", "serve.py")]
    shown = text(graph)
    assert "    runs: rt/serve.py" in shown
    assert "model cache: local-dir in /workspace/voice/rt/m" in shown


def test_graph_says_what_code_cannot_be_followed(project):
    from aicache_lint.graph import build_graph

    _write(project, {"b/Dockerfile": "FROM python:3.11\nCOPY app.py /srv/\nCMD python /srv/$APP\n",
                     "b/base.Dockerfile": "FROM python:3.11\nRUN pip install torch\n"})
    ws = Workspace(["b/Dockerfile", "b/base.Dockerfile"])
    graph = build_graph(ws, ["b/Dockerfile", "b/base.Dockerfile"])
    code = [u for u in graph.unresolved if u.kind == "code"]
    # the base image runs no command of its own: nothing to say about it
    assert [(u.path, u.message) for u in code] == [
        ("b/Dockerfile", "b/Dockerfile: the command names its Python file, module or script with a variable that "
                         "has no known value")]


def test_a_directory_run_lints_the_python_it_reaches_and_no_other(project):
    from cli_runner import invoke

    _write(project, {"app/server/models.py": "import os\nfrom transformers import AutoModel\n"
                                             "os.environ['HF_HOME'] = '/models'\n",
                     "app/unused.py": "import os\nfrom transformers import AutoModel\nos.environ['HF_HOME'] = '/m'\n"})
    result = invoke(["--select", "AIC601", "--output-format", "concise", "."])
    assert result.output.splitlines()[0].startswith(os.path.join("app", "server", "models.py") + ":3:12: AIC601")
    assert "unused.py" not in result.output


def test_a_tree_without_python_reads_no_code(tmp_path):
    """A Dockerfile-only repository pays nothing for Python sources (start-up unchanged)."""
    import subprocess
    import sys

    _write(tmp_path, {"Dockerfile": "FROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n"})
    code = ("import sys; from aicache_lint.cli import run; run(['.']); "
            "print(sorted(m for m in sys.modules if m.startswith(('aicache_lint.python', 'aicache_lint.workspace.python'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _image_files(root, files: dict[str, str], dockerfile: str = "Dockerfile", paths=None) -> list[str]:
    _write(root, files)
    ws = Workspace(paths or [dockerfile])
    return [f.path for f in ws.image_code(dockerfile).files]


def test_code_copied_from_another_stage_is_followed(tmp_path, monkeypatch):
    # kserve python/custom_model.Dockerfile: the final stage copies the code from the builder
    monkeypatch.chdir(tmp_path)
    files = _image_files(tmp_path, {
        "Dockerfile": "FROM python:3.11 AS builder\nRUN pip install torch torchvision\nCOPY app app\n"
                      "FROM python:3.11\nCOPY --from=builder app app\nENTRYPOINT [\"python\", \"-m\", \"app.model\"]\n",
        "app/__init__.py": "", "app/model.py": "import torchvision.models as models\nmodels.alexnet(pretrained=True)\n"})
    assert files == [os.path.join("app", "__init__.py"), os.path.join("app", "model.py")]


def test_a_build_time_run_of_the_script_does_not_hide_it(tmp_path, monkeypatch):
    # aibrix development/app: `RUN python app.py` at build time, then `CMD ["python", "app.py"]`
    monkeypatch.chdir(tmp_path)
    files = _image_files(tmp_path, {
        "Dockerfile": "FROM python:3.10-slim\nWORKDIR /app\nCOPY ./*.py /app/\nRUN python app.py --warm\n"
                      "CMD [\"python\", \"app.py\"]\n",
        "app.py": "print('ok')\n"})
    assert files == ["app.py"]


def test_builds_that_spell_the_context_differently_agree(tmp_path, monkeypatch):
    # Compose resolves the context to an absolute path, a workflow says `.`: one directory
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {
        ".git/config": "",
        "compose.yaml": "services:\n  tts:\n    build:\n      context: .\n      dockerfile: Dockerfile\n",
        ".github/workflows/b.yml": "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
                                   "      - uses: docker/build-push-action@v6\n        with:\n          context: .\n"
                                   "          file: Dockerfile\n"})
    files = _image_files(tmp_path, {"Dockerfile": "FROM python:3.11\nCOPY *.py *.sh /app/\nWORKDIR /app\n"
                                                  "CMD bash startup.sh\n",
                                    "startup.sh": "exec python speech.py\n", "speech.py": "import os\n"},
                         paths=["Dockerfile", "compose.yaml"])
    assert files == ["speech.py"]


def test_a_python_script_without_py_is_read_but_not_linted(tmp_path, monkeypatch):
    # kserve storage-initializer: ENTRYPOINT ["/si/scripts/entry"], a `#!/usr/bin/env python3` file
    from cli_runner import invoke

    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {".git/config": "",
                      "Dockerfile": "FROM python:3.11\nCOPY ./si /si\nENTRYPOINT [\"/si/scripts/entry\"]\n",
                      "si/scripts/entry": "#!/usr/bin/env python3\nimport helper\nprint(1)\n",
                      "si/scripts/helper.py": "import os\n"})
    ws = Workspace(["Dockerfile"])
    assert [f.path for f in ws.image_code("Dockerfile").files] == [os.path.join("si", "scripts", "entry"),
                                                                    os.path.join("si", "scripts", "helper.py")]
    result = invoke(["--output-format", "concise", "."])
    assert "AIC001" not in result.output and "entry:" not in result.output


def test_a_console_script_of_the_project(tmp_path, monkeypatch):
    # whisper-asr-webservice: ENTRYPOINT ["whisper-asr-webservice"], [project.scripts] -> app.webservice:start
    monkeypatch.chdir(tmp_path)
    files = _image_files(tmp_path, {
        "Dockerfile": "FROM python:3.11\nWORKDIR /src\nCOPY . .\nRUN pip install .\nENTRYPOINT [\"asr-service\"]\n",
        "pyproject.toml": "[project]\nname = \"asr\"\n[project.scripts]\nasr-service = \"app.webservice:start\"\n",
        "app/__init__.py": "", "app/webservice.py": "import whisper\n\ndef start():\n    whisper.load_model('base')\n"})
    assert files == [os.path.join("app", "__init__.py"), os.path.join("app", "webservice.py")]
    files = _image_files(tmp_path, {  # poetry's table, and a package under src/
        "Dockerfile": "FROM python:3.11\nWORKDIR /src\nCOPY . .\nRUN pip install .\nCMD asr-service --port 9000\n",
        "pyproject.toml": "[tool.poetry.scripts]\nasr-service = \"asr.main:run\"\n",
        "src/asr/__init__.py": "", "src/asr/main.py": "def run():\n    pass\n"})
    assert files == [os.path.join("src", "asr", "__init__.py"), os.path.join("src", "asr", "main.py")]
    assert _image_files(tmp_path, {"Dockerfile": "FROM nginx\nCOPY . /srv\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n"}) == []


def test_expansion_defaults():
    from aicache_lint.python.launch import expand

    env = {"ROOT": "/invokeai", "HOST_SET": None}
    assert expand("${HF_HOME:-$ROOT/.cache/huggingface}", env) == "/invokeai/.cache/huggingface"
    assert expand("${HOST_SET:-/default}", env) is None  # set from the host: not known, its default does not apply
    assert expand("$MISSING/x", env) is None
    assert expand("${ROOT}/m", env) == "/invokeai/m"


def test_an_entrypoint_script_exports_for_a_command_whose_code_is_not_found(tmp_path, monkeypatch):
    # InvokeAI docker-entrypoint.sh: `export HF_HOME=${HF_HOME:-$INVOKEAI_ROOT/.cache/huggingface}`
    # then `exec gosu ${USER} "$@"`, and a CMD that is an installed program
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {"Dockerfile": "FROM python:3.11\nENV INVOKEAI_ROOT=/invokeai\nWORKDIR /opt/app\n"
                                    "COPY entrypoint.sh ./\nENTRYPOINT [\"/opt/app/entrypoint.sh\"]\nCMD [\"invokeai-web\"]\n",
                      "entrypoint.sh": "#!/bin/bash\nexport HF_HOME=${HF_HOME:-$INVOKEAI_ROOT/.cache/huggingface}\n"
                                       "exec gosu ubuntu \"$@\"\n"})
    code = Workspace(["Dockerfile"]).image_code("Dockerfile")
    assert code.exported == {"HF_HOME": "/invokeai/.cache/huggingface"}


def test_a_namespace_package(tmp_path, monkeypatch):
    # kserve python/custom_model.Dockerfile: `python -m custom_model.model`, no __init__.py (PEP 420),
    # the code copied from the builder stage
    monkeypatch.chdir(tmp_path)
    files = _image_files(tmp_path, {
        "Dockerfile": "FROM python:3.11 AS builder\nCOPY custom_model custom_model\nFROM python:3.11\n"
                      "COPY --from=builder custom_model custom_model\nENTRYPOINT [\"python\", \"-m\", \"custom_model.model\"]\n",
        "custom_model/model.py": "from custom_model import util\n", "custom_model/util.py": "x = 1\n"})
    assert files == [os.path.join("custom_model", "model.py"), os.path.join("custom_model", "util.py")]


@pytest.mark.parametrize("text, program", [
    ("#!/usr/bin/env python3\nimport os\n", "python3"), ("#!/usr/bin/python3.11 -u\n", "python3.11"),
    ("#!/usr/bin/env -S PYTHONUNBUFFERED=1 python\n", "python"), ("#!/bin/bash\nset -e\n", "bash"),
    ("#!\n", ""), ("import os\n", None),
])
def test_shebang_program(text, program):
    # one reading of a `#!` line for the heredocs of a RUN, the scripts a command runs, and shell parsing
    from aicache_lint.dockerfile.shell import shebang_program

    assert shebang_program(text) == program
