"""A rule's words (RuleEntry.words) only spare the import of rules a file cannot trigger: with them
and without them, every Dockerfile of the fixtures, the corpus and the examples gets the same
findings and the same fixes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_cases import all_cases, case_source

from aicache_lint import engine
from aicache_lint.engine import check_source
from aicache_lint.rules import RULES
from aicache_lint.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# Every rule a Dockerfile can get, opt-in ones included.
SETTINGS = Settings(select=tuple(e.code for e in RULES if "dockerfile" in e.targets))


def _sources():
    from aicache_lint.source import SourceText

    out = []
    for case in all_cases():
        if case.kind == "dockerfile":
            out.append((f"{case.rule}/{case.name}", case_source(case)))
    for path in sorted([*ROOT.glob("tests/corpus/*.Dockerfile"), *ROOT.glob("examples/**/Dockerfile*")]):
        out.append((str(path.relative_to(ROOT)), SourceText.decode(path.read_bytes(), str(path))))
    return out


def _findings(source, monkeypatch, words: bool):
    monkeypatch.setattr(engine, "USE_WORDS", words)
    return [(f.code, f.start, f.end, f.message, f.fix) for f in check_source(source, SETTINGS)]


def test_words_change_no_finding(monkeypatch):
    sources = _sources()
    assert len(sources) > 500
    for name, source in sources:
        assert _findings(source, monkeypatch, True) == _findings(source, monkeypatch, False), name


def test_a_file_without_the_words_does_not_import_the_rule():
    import subprocess
    import sys

    code = ("import sys; from aicache_lint.api import lint_text; "
            "lint_text('FROM python:3.12-slim\\nRUN pip install flask\\n'); "
            "print(sorted(m.rsplit('.', 1)[-1][:6] for m in sys.modules if m.startswith('aicache_lint.rules.dockerfile.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(eval(out))  # noqa: S307 -- our own printed list
    assert "aic101" in loaded  # pip
    assert not loaded & {"aic110", "aic114", "aic115", "aic116", "aic117", "aic120", "aic130"}


@pytest.mark.parametrize("entry", [e for e in RULES if e.words], ids=lambda e: e.code)
def test_words_are_lower_case(entry):
    assert all(w == w.lower() and w for w in entry.words)
