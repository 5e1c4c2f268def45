"""Property test on mutated real inputs: the fixtures, `examples/` and `tests/corpus/`, with lines
deleted, duplicated, swapped or inserted, line breaks changed to CRLF, CR, NEL, LS or PS, heredoc
markers, continuations, indentation, unusual characters, a BOM, cut short (scripts/mutate.py,
which runs the same for as long as a maintainer likes).

For every mutant: linting and fixing (every rule, unsafe fixes) never raise nor report an internal
error, a fixed Dockerfile that BuildKit accepted is still accepted (where the `dockerfile` package
is installed), a fixed Compose file that validated against the schema still does, fixing adds no
line break of another style and keeps the final newline, and fixing again changes nothing.
"""

from __future__ import annotations

import importlib.util
import random
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aicache_lint.discovery import file_kind
from aicache_lint.rules import BY_CODE
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(unsafe_fixes=True, select=tuple(BY_CODE))


@lru_cache(maxsize=1)
def _script():
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "scripts" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=1)
def _seeds() -> dict[str, list]:
    found: dict[str, list] = {"dockerfile": [], "compose": []}
    for seed in _script().corpus([ROOT / "fixtures", ROOT / "examples", ROOT / "tests" / "corpus"]):
        found[file_kind(seed.path)].append(seed)
    return found


@pytest.mark.parametrize("kind", ["dockerfile", "compose"])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutants_lint_and_fix_cleanly(kind, data):
    script = _script()
    seed = data.draw(st.sampled_from(_seeds()[kind]), label="seed")
    rng = data.draw(st.randoms(use_true_random=False), label="rng")
    text = script.mutate(seed.text, kind, rng)
    assert script.problems(text, seed.path, SETTINGS) == [], f"{seed.name} mutated to {text!r}"


def test_mutations_change_the_text_in_every_way_they_claim():
    script = _script()
    rng = random.Random(0)
    text = "FROM python:3.12\nRUN pip install torch\nCOPY . .\n"
    mutants = [script.mutate(text, "dockerfile", rng) for _ in range(300)]
    assert sum(m != text for m in mutants) > 250
    for brk in ("\r\n", "\r", "\x85", "\u2028", "\u2029"):
        assert any(brk in m for m in mutants), repr(brk)
    assert any("<<" in m for m in mutants) and any(m.startswith("\ufeff") for m in mutants)


def test_the_checks_see_what_they_look_for():
    script = _script()
    # A fix that joined a lone CR into a CRLF, as apply_edits once did.
    before = SourceText("services:\n  a:\r", path="compose.yaml")
    after = SourceText("services:\n  a:\r\n    b: 1\n", path="compose.yaml")
    assert script.newline_problems(before, after) == ["fix added CRLF line breaks to a LF file"]
    assert script.compose_schema_error("services:\n  a:\n    image: x\n") is None
    assert "volumes" in script.compose_schema_error("services: {}\nvolumes:\n  \"a'b\":\n")
