"""The reporters, on results from the real engine: exact output for the line formats, and for
SARIF schema validity plus what GitHub code scanning relies on (rules, columns, fingerprints,
relative URIs, fixes)."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from aicache_lint.api import FileResult, process_bytes
from aicache_lint.report import ReportContext, render
from aicache_lint.rules import ALL_RULES
from aicache_lint.rules.base import rule_url
from aicache_lint.rules.docs import rule_page
from aicache_lint.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "tests" / "data" / "schemas" / "sarif-schema-2.1.0.json"
# The goldens are about formats, not rule sets: a fixed selection keeps them stable as rules are added.
FORMAT_RULES = ("AIC0", "AIC101", "AIC102", "AIC104", "AIC201", "AIC302")
DEFAULT = Settings(select=FORMAT_RULES)
UNSAFE = Settings(select=FORMAT_RULES, unsafe_fixes=True)

REAL_FILES = sorted(
    [*REPO.glob("examples/*/Dockerfile*"), *REPO.glob("tests/corpus/*.Dockerfile")]
    + [p for p in REPO.glob("fixtures/*/*.Dockerfile") if not p.name.endswith(".fixed.Dockerfile")]
)
# The files that exercise the text's corners: CRLF, BOM, tabs, no final newline.
SPECIAL = {
    "whisperx-api.Dockerfile", "crlf.Dockerfile",
    "embeddings-api.Dockerfile", "bom.Dockerfile",
    "jupyter-gpu.Dockerfile", "sd-webui.Dockerfile", "tab-continuation.Dockerfile",
    "minimal-cpu.Dockerfile", "no-final-newline.Dockerfile",
}

SMALL = """\
FROM python:3.12
RUN pip install torch
RUN pip install "a" \\
    b>=1
"""
UNSAFE_ONLY = """\
FROM python:3.12
ENV PIP_NO_CACHE_DIR=1
RUN --mount=type=cache,target=/root/.cache/pip pip install torch
"""
MULTILINE = """\
FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install numpy>=1.24,\\
<2
"""


def lint(text: str, path: str = "Dockerfile", settings: Settings = DEFAULT, fix: bool = False) -> FileResult:
    return process_bytes(text.encode("utf-8"), path, settings, fix=fix)


def lint_file(path: Path, settings: Settings = DEFAULT, fix: bool = False) -> FileResult:
    return process_bytes(path.read_bytes(), str(path.relative_to(REPO)), settings, fix=fix)


def unreadable(path: str = "Dockerfile.bin") -> FileResult:
    return process_bytes(b"FROM x\n\x00", path, DEFAULT)


def out(
    fmt: str, results: list[FileResult], settings: Settings = DEFAULT, fixing: bool = False, root: str | None = None
) -> str:
    """Render as the CLI does: paths relative to the working directory unless ``root`` is given."""
    return render(fmt, ReportContext(results, settings, fixing, root or os.getcwd()))


# ------------------------------------------------------------------ concise and text


def test_concise_golden() -> None:
    assert out("concise", [unreadable(), lint(SMALL), lint(UNSAFE_ONLY, "b/Dockerfile")]) == (
        "Dockerfile.bin:1:1: AIC003 cannot read file: file is binary (contains NUL bytes)\n"
        "Dockerfile:2:5: AIC101 [*] `pip` downloads packages with no cache mount at `/root/.cache/pip`: every rebuild re-downloads them\n"
        "Dockerfile:3:5: AIC101 [*] `pip` downloads packages with no cache mount at `/root/.cache/pip`: every rebuild re-downloads them\n"
        "Dockerfile:4:5: AIC302 [*] `b>=1` is not quoted: the shell reads `>` as a redirect and the version constraint is lost\n"
        "b/Dockerfile:3:48: AIC102 `ENV PIP_NO_CACHE_DIR` (line 2) disables the pip cache that this RUN mounts at `/root/.cache/pip`\n"
        "Found 5 errors.\n"
        "[*] 3 fixable with the `--fix` option.\n"
        "(1 hidden fix can be enabled with the `--unsafe-fixes` option.)\n"
    )


def test_summary_forms() -> None:
    clean = lint("FROM python:3.12\n")
    assert out("concise", [clean]) == "All checks passed!\n"
    assert out("concise", [lint(SMALL, fix=True)], fixing=True) == "Found 3 errors (3 fixed, 0 remaining).\n"
    assert out("concise", [lint(clean.original or "", fix=True)], fixing=True) == "All checks passed!\n"
    assert out("concise", [lint(UNSAFE_ONLY, fix=True)], fixing=True) == (
        "Dockerfile:3:48: AIC102 `ENV PIP_NO_CACHE_DIR` (line 2) disables the pip cache that this RUN mounts at `/root/.cache/pip`\n"
        "Found 1 error (0 fixed, 1 remaining).\n"
        "(1 hidden fix can be enabled with the `--unsafe-fixes` option.)\n"
    )
    # text shares the summary: the same closing lines
    assert out("text", [clean]) == "All checks passed!\n"
    assert out("text", [lint(SMALL, fix=True)], fixing=True) == "Found 3 errors (3 fixed, 0 remaining).\n"


def test_text_golden() -> None:
    results = [unreadable(), lint(SMALL), lint(UNSAFE_ONLY, "b/Dockerfile"), lint(MULTILINE, "m/Dockerfile")]
    assert out("text", results) == """\
Dockerfile.bin:1:1: AIC003 cannot read file: file is binary (contains NUL bytes)

Dockerfile:2:5: AIC101 [*] `pip` downloads packages with no cache mount at `/root/.cache/pip`: every rebuild re-downloads them
  |
2 | RUN pip install torch
  |     ^^^^^^^^^^^
  |
  = help: Mount a pip cache at /root/.cache/pip

Dockerfile:3:5: AIC101 [*] `pip` downloads packages with no cache mount at `/root/.cache/pip`: every rebuild re-downloads them
  |
3 | RUN pip install "a" \\
  |     ^^^^^^^^^^^
  |
  = help: Mount a pip cache at /root/.cache/pip

Dockerfile:4:5: AIC302 [*] `b>=1` is not quoted: the shell reads `>` as a redirect and the version constraint is lost
  |
4 |     b>=1
  |     ^^^^
  |
  = help: Quote `"b>=1"`

b/Dockerfile:3:48: AIC102 `ENV PIP_NO_CACHE_DIR` (line 2) disables the pip cache that this RUN mounts at `/root/.cache/pip`
  |
3 | RUN --mount=type=cache,target=/root/.cache/pip pip install torch
  |                                                ^^^^^^^^^^^
  |
  = help: Remove `PIP_NO_CACHE_DIR` from the `ENV` on line 2 (unsafe fix)

m/Dockerfile:2:60: AIC302 `numpy>=1.24,<2` is not quoted: the shell reads `>` as a redirect and the version constraint is lost
  |
2 | RUN --mount=type=cache,target=/root/.cache/pip pip install numpy>=1.24,\\
  |                                                            ^^^^^^^^^^^^^
...
  |

Found 6 errors.
[*] 3 fixable with the `--fix` option.
(1 hidden fix can be enabled with the `--unsafe-fixes` option.)
"""


def test_text_gutter_widens_and_tabs_expand() -> None:
    text = "FROM python:3.12\n" + "# filler\n" * 9 + "RUN\tpip install \t torch\n"
    assert out("text", [lint(text)]) == """\
Dockerfile:11:5: AIC101 [*] `pip` downloads packages with no cache mount at `/root/.cache/pip`: every rebuild re-downloads them
   |
11 | RUN pip install      torch
   |     ^^^^^^^^^^^
   |
   = help: Mount a pip cache at /root/.cache/pip

Found 1 error.
[*] 1 fixable with the `--fix` option.
"""


@pytest.mark.parametrize("path", [p for p in REAL_FILES if p.name in SPECIAL], ids=lambda p: p.name)
def test_text_carets_sit_under_the_finding(path: Path) -> None:
    """CRLF, BOM and tabs: the carets cover exactly the finding's characters of the shown line."""
    r = lint_file(path)
    rendered = out("text", [r])
    assert "\t" not in rendered and "\r" not in rendered and "\ufeff" not in rendered
    lines = rendered.splitlines()
    for f in r.findings:
        header = f"{f.path}:{f.start.row}:{f.start.column}: {f.code}"
        at = next(i for i, line in enumerate(lines) if line.startswith(header))
        shown, carets = lines[at + 2], lines[at + 3]
        gutter = len(str(f.start.row)) + 3
        start = carets.index("^")
        end = carets.rindex("^") + 1
        source_line = (r.original or "").splitlines()[f.start.row - 1]
        end_column = f.end.column if f.end.row == f.start.row else len(source_line) + 1
        assert shown[start:end].split() == source_line[f.start.column - 1 : end_column - 1].split()
        assert start >= gutter


# ------------------------------------------------------------------ json and json-lines


def test_json_lines_golden() -> None:
    filename = os.path.abspath("Dockerfile")
    expected = (
        '{"cell":null,"code":"AIC302","name":"unquoted-version-specifier","severity":"error",'
        '"message":"`a<2` is not quoted: the shell reads `<` as a redirect and the version constraint is lost",'
        f'"filename":{json.dumps(filename)},"location":{{"row":2,"column":60}},"end_location":{{"row":2,"column":63}},'
        '"fix":{"applicability":"safe","message":"Quote `\\"a<2\\"`","edits":[{"content":"\\"a<2\\"",'
        '"location":{"row":2,"column":60},"end_location":{"row":2,"column":63}}]},"noqa_row":2,'
        '"url":"https://github.com/aicache-lint/aicache-lint/blob/main/rules/AIC302.md"}\n'
    )
    text = "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install a<2\n"
    assert out("json-lines", [lint(text)]) == expected
    assert out("json-lines", [lint("FROM python:3.12\n")]) == ""


@pytest.mark.parametrize("fix", [False, True])
def test_json_lines_are_the_json_objects(fix: bool) -> None:
    results = [unreadable()] + [lint_file(p, fix=fix) for p in REAL_FILES]
    lines = out("json-lines", results, fixing=fix).splitlines()
    assert [json.loads(line) for line in lines] == json.loads(out("json", results, fixing=fix))
    assert len(lines) == sum(len(r.findings) for r in results)


# ------------------------------------------------------------------ github


def test_github_golden() -> None:
    results = [unreadable("dir,a:b/Dockerfile.bin"), lint(SMALL), lint("FROM python:3.12\nRU%N, x\n", "x/Dockerfile")]
    assert out("github", results) == (
        "::error file=dir%2Ca%3Ab/Dockerfile.bin,line=1,col=1,endLine=1,endColumn=1,title=AIC003 io-error::"
        "cannot read file: file is binary (contains NUL bytes)\n"
        "::warning file=Dockerfile,line=2,col=5,endLine=2,endColumn=16,title=AIC101 pip-cache-not-mounted::"
        "`pip` downloads packages with no cache mount at `/root/.cache/pip`: every rebuild re-downloads them\n"
        "::warning file=Dockerfile,line=3,col=5,endLine=3,endColumn=16,title=AIC101 pip-cache-not-mounted::"
        "`pip` downloads packages with no cache mount at `/root/.cache/pip`: every rebuild re-downloads them\n"
        "::error file=Dockerfile,line=4,col=5,endLine=4,endColumn=9,title=AIC302 unquoted-version-specifier::"
        "`b>=1` is not quoted: the shell reads `>` as a redirect and the version constraint is lost\n"
        "::error file=x/Dockerfile,line=2,col=1,endLine=2,endColumn=6,title=AIC001 parse-error::"
        "unknown instruction: RU%25N,\n"
    )
    assert out("github", [lint("FROM python:3.12\n")]) == ""


def test_github_escaping() -> None:
    from aicache_lint.report.github import _escape_data, _escape_property

    assert _escape_data("50% a,b: c\r\nd") == "50%25 a,b: c%0D%0Ad"
    assert _escape_property("50% a,b: c\r\nd") == "50%25 a%2Cb%3A c%0D%0Ad"


def test_github_and_gitlab_paths_are_relative_to_the_root(tmp_path: Path) -> None:
    inside = str(tmp_path / "sub dir" / "Dockerfile")
    outside = str(tmp_path.parent / "elsewhere" / "Dockerfile")
    results = [lint(SMALL, inside), lint(SMALL, outside)]
    files = {line.split("file=")[1].split(",")[0] for line in out("github", results, root=str(tmp_path)).splitlines()}
    assert files == {"sub dir/Dockerfile", Path(outside).as_posix().replace(":", "%3A")}
    paths = {i["location"]["path"] for i in json.loads(out("gitlab", results, root=str(tmp_path)))}
    assert paths == {"sub dir/Dockerfile", Path(outside).as_posix()}


# ------------------------------------------------------------------ gitlab


def test_gitlab_golden() -> None:
    text = "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install 'a' b>=1\n"
    assert out("gitlab", [unreadable(), lint(text, "app/Dockerfile")]) == """\
[
  {
    "description": "AIC003 cannot read file: file is binary (contains NUL bytes)",
    "check_name": "AIC003",
    "fingerprint": "ac1f1a965318e3bc57e6e97714175bb1f1bcce6aa1cb1ed38bbc184b497287a4",
    "severity": "major",
    "location": {
      "path": "Dockerfile.bin",
      "lines": {
        "begin": 1
      }
    }
  },
  {
    "description": "AIC302 `b>=1` is not quoted: the shell reads `>` as a redirect and the version constraint is lost",
    "check_name": "AIC302",
    "fingerprint": "f31fe6d07ee6442ffb235863f320d254784b3237424d1cc7f280d03ffba10e22",
    "severity": "major",
    "location": {
      "path": "app/Dockerfile",
      "lines": {
        "begin": 2
      }
    }
  }
]
"""


def test_gitlab_fingerprints_follow_the_line_not_its_number() -> None:
    def prints(text: str, path: str = "Dockerfile") -> list[tuple[str, str, str]]:
        lines = text.splitlines()
        issues = json.loads(out("gitlab", [lint(text, path)]))
        return [(i["check_name"], lines[i["location"]["lines"]["begin"] - 1], i["fingerprint"]) for i in issues]

    twice = "FROM python:3.12\nRUN pip install torch\nRUN pip install torch\n"
    moved = twice.replace("FROM python:3.12\n", "FROM python:3.12\n# a comment\nLABEL a=b\n")
    assert prints(twice) == prints(moved)
    assert len({fp for _, _, fp in prints(twice)}) == 2  # identical lines, different fingerprints
    assert {fp for _, _, fp in prints(twice)}.isdisjoint(fp for _, _, fp in prints(twice, "other/Dockerfile"))


# ------------------------------------------------------------------ SARIF


@functools.lru_cache(maxsize=None)
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def sarif(
    results: list[FileResult], settings: Settings = DEFAULT, fixing: bool = False, root: str | None = None
) -> dict:
    """Render SARIF, validate it against the 2.1.0 schema and check what GitHub relies on; every
    SARIF test goes through here."""
    root = root or os.getcwd()
    log = json.loads(out("sarif", results, settings, fixing, root))
    _validator().validate(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.endswith("/") and Path(unquote(urlsplit(base).path)) == Path(os.path.abspath(root))
    findings = [f for r in results for f in r.findings]
    assert len(run["results"]) == len(findings)
    for result, f in zip(run["results"], findings):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == f.code
        assert rules[result["ruleIndex"]]["help"]["markdown"].strip()
        assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[f.severity.value]
        assert result["message"]["text"] == f.message
        location = result["locations"][0]["physicalLocation"]
        if "uriBaseId" in location["artifactLocation"]:
            assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
            assert not urlsplit(location["artifactLocation"]["uri"]).scheme
        region = location["region"]
        assert region["startLine"] == f.start.row
        if f.code != "AIC003":
            assert region["startColumn"] == f.start.column
            if f.span.start != f.span.end:
                assert (region["endLine"], region["endColumn"]) == (f.end.row, f.end.column)
        line_hash, occurrence = result["partialFingerprints"]["aicacheLint/v1"].split(":")
        assert len(line_hash) == 16 and occurrence.isdigit()
    return log


def test_sarif_tool_and_rules() -> None:
    run = sarif([lint(SMALL)])["runs"][0]
    driver = run["tool"]["driver"]
    from aicache_lint import __version__

    assert (driver["name"], driver["version"]) == ("aicache-lint", __version__)
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == [r.code for r in ALL_RULES]
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for descriptor, rule in zip(driver["rules"], ALL_RULES):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == rule.doc_sections()["What it does"]
        assert descriptor["help"] == {"text": rule_page(rule), "markdown": rule_page(rule)}
        assert descriptor["helpUri"] == rule_url(rule.code)
        assert descriptor["defaultConfiguration"]["level"] == levels[rule.severity.value]
        # the file kinds a rule reads, and whether it fixes
        kinds = {"dockerfile", "compose", "workflow", "action", "gitlab", "bake", "daemon", "buildkitd", "shell", "python"}
        assert set(descriptor.get("properties", {}).get("tags", [])) <= kinds | {"fixable"}
    assert run["automationDetails"] == {"id": "aicache-lint/"}
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_leaves_out_unset_and_default_values() -> None:
    def walk(value: object) -> None:
        if isinstance(value, dict):
            assert not {"kind", "language", "newlineSequences", "contents", "rank", "index"} & value.keys()
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert value is not None and value != -1

    walk(sarif([lint(SMALL), unreadable()]))


def test_sarif_with_no_findings_has_an_empty_results_list() -> None:
    assert sarif([lint("FROM python:3.12\n")])["runs"][0]["results"] == []
    assert sarif([])["runs"][0]["results"] == []


@pytest.mark.parametrize("fix", [False, True], ids=["lint", "fix"])
@pytest.mark.parametrize("settings", [DEFAULT, UNSAFE], ids=["safe", "unsafe"])
def test_sarif_for_every_real_file(fix: bool, settings: Settings) -> None:
    results = [lint_file(p, settings, fix=fix) for p in REAL_FILES] + [unreadable()]
    log = sarif(results, settings, fixing=fix)
    regions = [res["locations"][0]["physicalLocation"]["region"] for res in log["runs"][0]["results"]]
    assert any(reg.get("startColumn", 1) != 1 for reg in regions)
    assert all(reg.get("endColumn", 2) > 1 for reg in regions)


def test_sarif_unreadable_file_is_a_result_at_line_one(tmp_path: Path) -> None:
    bad = unreadable(str(tmp_path / "Dockerfile.bin"))
    result = sarif([bad], root=str(tmp_path))["runs"][0]["results"][0]
    assert result["ruleId"] == "AIC003" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "Dockerfile.bin", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},
    }


def test_sarif_multiline_region() -> None:
    region = sarif([lint(MULTILINE)])["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 2, "startColumn": 60, "endLine": 3, "endColumn": 3}


def test_sarif_uris_are_relative_percent_encoded_references(tmp_path: Path) -> None:
    names = ["Dockerfile", "sub dir/Dockerfile.gpu", "a#b/50%/Dockerfile", "x:y/Dockerfile", "ünï/Dockerfile"]
    results = [lint(SMALL, str(tmp_path / name)) for name in names]
    outside = lint(SMALL, str(tmp_path.parent / "elsewhere" / "Dockerfile"))
    run = sarif([*results, outside], root=str(tmp_path))["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    by_path = {}
    for res in run["results"]:
        loc = res["locations"][0]["physicalLocation"]["artifactLocation"]
        by_path[loc["uri"]] = loc.get("uriBaseId")
    assert by_path == {
        "Dockerfile": "%SRCROOT%",
        "sub%20dir/Dockerfile.gpu": "%SRCROOT%",
        "a%23b/50%25/Dockerfile": "%SRCROOT%",
        "x%3Ay/Dockerfile": "%SRCROOT%",
        "%C3%BCn%C3%AF/Dockerfile": "%SRCROOT%",
        (tmp_path.parent / "elsewhere" / "Dockerfile").as_uri(): None,
    }
    for uri, base_id in by_path.items():
        if base_id:  # resolving against the base gives the file back
            assert Path(unquote(urlsplit(base + uri).path)) in {tmp_path / n for n in names}


def _fingerprints(text: str) -> list[tuple[str, str]]:
    """(ruleId, aicacheLint/v1 fingerprint) of every result, in order."""
    results = sarif([lint(text)])["runs"][0]["results"]
    return [(res["ruleId"], res["partialFingerprints"]["aicacheLint/v1"]) for res in results]


@pytest.mark.parametrize("path", [p for p in REAL_FILES if "corpus" in p.parts], ids=lambda p: p.name)
def test_sarif_fingerprints_survive_lines_inserted_above(path: Path) -> None:
    text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    newline = "\r\n" if "\r\n" in text else "\n"
    head, _, rest = text.partition(newline)  # after the first line: keeps any parser directive first
    moved = newline.join([head, "# an unrelated comment", "", "# and another one", rest])
    assert _fingerprints(text) == _fingerprints(moved)


def test_sarif_fingerprints_differ_on_identical_lines() -> None:
    values = [fp for _, fp in _fingerprints("FROM python:3.12\n" + "RUN pip install torch\n" * 3)]
    assert len(values) == len(set(values)) == 3
    assert [v.split(":")[1] for v in values] == ["1", "2", "3"]
    assert len({v.split(":")[0] for v in values}) == 1


def _apply_replacements(text: str, replacements: list[dict]) -> str:
    """Apply SARIF replacements: lines end after `\\n` (a `\\r\\n` included), columns count code points."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    edits = []
    for rep in replacements:
        region = rep["deletedRegion"]
        start = offset(region["startLine"], region["startColumn"])
        end = offset(region["endLine"], region["endColumn"])
        edits.append((start, end, rep.get("insertedContent", {}).get("text", "")))
    for start, end, content in sorted(edits, reverse=True):
        text = text[:start] + content + text[end:]
    return text


def test_sarif_fixes_reproduce_the_fixed_text() -> None:
    checked = []
    for path in REAL_FILES:
        linted, fixed = lint_file(path, UNSAFE), lint_file(path, UNSAFE, fix=True)
        if {fix for _, fix in fixed.applied} != {f.fix for f in linted.findings if f.fix}:
            continue  # fixing took more than one pass, or fixes overlapped: no single set to compare
        results = sarif([linted], UNSAFE)["runs"][0]["results"]
        # Findings may share one fix (the same edits); like the engine, apply identical edits once.
        replacements = list(
            {
                json.dumps(rep, sort_keys=True): rep
                for res in results
                for fix in res.get("fixes", [])
                for change in fix["artifactChanges"]
                for rep in change["replacements"]
            }.values()
        )
        for res in results:
            for fix in res.get("fixes", []):
                assert fix["description"]["text"]
                where = res["locations"][0]["physicalLocation"]["artifactLocation"]
                assert fix["artifactChanges"][0]["artifactLocation"] == where
        assert _apply_replacements(linted.original or "", replacements) == (fixed.fixed or linted.original), path
        checked.append(path.name)
    assert {"whisperx-api.Dockerfile", "embeddings-api.Dockerfile", "jupyter-gpu.Dockerfile"} <= set(checked)
    fixtures = {"crlf.Dockerfile", "bom.Dockerfile", "tab-continuation.Dockerfile", "no-final-newline.Dockerfile"}
    assert fixtures <= set(checked)


def test_sarif_after_fixing_refers_to_the_fixed_text() -> None:
    """With --fix, the remaining findings and their (unsafe) fixes point into the fixed text."""
    text = UNSAFE_ONLY + "RUN pip install numpy\n"
    r = lint(text, fix=True)
    assert r.fixed is not None and [f.code for f in r.findings] == ["AIC102", "AIC102"]
    results = sarif([r], fixing=True)["runs"][0]["results"]
    [change] = results[0]["fixes"][0]["artifactChanges"]
    replacements = change["replacements"]
    assert _apply_replacements(r.fixed, replacements) == lint(text, settings=UNSAFE, fix=True).fixed
