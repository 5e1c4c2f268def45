"""Python sources as lint targets, beyond the fixtures: a file that does not parse is AIC001 and
nothing else, suppression comments and --add-ignore above a statement, and the seam through which
the imports of the project's own modules will reach AIC601."""

from __future__ import annotations

from pathlib import Path

from cli_runner import invoke

from aicache_lint.engine import check_source
from aicache_lint.knowledge.python_env import loaded_libraries
from aicache_lint.python.imports import first_import_of
from aicache_lint.python.read import read
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText

LATE = 'import os\nimport transformers\nos.environ["TRANSFORMERS_CACHE"] = "/models"\n'


def test_a_file_that_does_not_parse_is_aic001_alone() -> None:
    text = 'import transformers\nos.environ["TRANSFORMERS_CACHE"] = (\n'
    findings = check_source(SourceText(text, "app.py"), Settings(select=("AIC",)))
    assert [(f.code, f.start.row) for f in findings] == [("AIC001", 2)]


def test_a_comment_above_the_statement_suppresses_it() -> None:
    text = LATE.replace("os.environ", "# aicache-lint: ignore=AIC601,AIC603 set for an old image\nos.environ", 1)
    assert check_source(SourceText(text, "app.py"), Settings(select=("AIC",))) == []
    trailing = LATE.replace('"/models"\n', '"/models"  # aicache-lint: ignore=AIC601\n')
    # A comment after the statement is no suppression (as in every other kind of file).
    assert {f.code for f in check_source(SourceText(trailing, "app.py"), Settings(select=("AIC",)))} == {"AIC601", "AIC603"}


def test_a_suppression_that_matches_nothing_is_aic002() -> None:
    text = "import os\n# aicache-lint: ignore=AIC601\nos.environ['HF_HOME'] = '/models'\n"
    findings = check_source(SourceText(text, "app.py"), Settings(select=("AIC",)))
    assert [(f.code, f.start.row) for f in findings] == [("AIC002", 2)]


def test_add_ignore_writes_the_comment_above_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(b"import os\r\nimport transformers\r\n\r\n\r\ndef main():\r\n"
                     b"    os.environ['HF_HOME'] = '/models'\r\n")
    done = invoke(["--isolated", "--add-ignore", str(path)])
    assert done.exit_code == 0, done.output
    assert path.read_bytes() == (b"import os\r\nimport transformers\r\n\r\n\r\ndef main():\r\n"
                                 b"    # aicache-lint: ignore=AIC601\r\n    os.environ['HF_HOME'] = '/models'\r\n")
    assert invoke(["--isolated", str(path)]).exit_code == 0


def test_first_import_of_follows_what_loads_says() -> None:
    """The project's own modules plug in through ``loads``: a local module that imports
    transformers counts as importing it."""
    facts = read("import os\nimport mypkg.models\nos.environ['HF_HOME'] = '/models'\n")
    assert first_import_of(facts, {"transformers"}, loaded_libraries) is None

    def loads(imp):
        return ("transformers",) if imp.module == "mypkg.models" else loaded_libraries(imp)

    found = first_import_of(facts, {"transformers"}, loads)
    assert found is not None and found.line == 2
