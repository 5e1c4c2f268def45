#!/usr/bin/env python3
"""Mutation testing of aicache-lint on a corpus (maintainers' tool).

    python scripts/mutate.py fixtures examples tests/corpus --seconds 600
    python scripts/mutate.py ~/repos --seconds 3600 --seed 7 --out mutants/ --ignore AIC404

Reads every Dockerfile and Compose file under the given paths (and the cases of fixture
`cases.yaml` files), then until the time is up: picks one, mutates it (deletes, duplicates, swaps
or inserts lines, changes line breaks to CRLF, CR, NEL, LS or PS, adds heredoc markers, line
continuations, indentation, unusual characters, a BOM, cuts the file short), lints and fixes it
with every rule and unsafe fixes, and checks that

- linting and fixing never raise and never report an internal error (AIC000);
- a Dockerfile BuildKit accepts is still accepted after fixing (with the `dockerfile` package,
  see tests/buildkit_oracle.py), a Compose file that validated against the Compose schema still
  validates (with `jsonschema`);
- fixing adds no line break of another kind than the file's newline style (a lone CR stays lone)
  and keeps the final newline;
- fixing the fixed text again changes nothing.

Each kind of problem is reported once with a count; the first mutants showing it are written to
``--out`` (the mutant, and a `.txt` naming its origin and the problems). Exit status 1 when a
problem was found. tests/test_mutation.py runs the same mutations and checks for a few seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

import buildkit_oracle  # noqa: E402  (tests/: BuildKit's parser, when installed)

from aicache_lint.discovery import file_kind, is_compose_name, is_dockerfile_name  # noqa: E402
from aicache_lint.engine import check_source, fix_source  # noqa: E402
from aicache_lint.rules import BY_CODE  # noqa: E402
from aicache_lint.settings import Settings  # noqa: E402
from aicache_lint.source import SourceError, SourceText  # noqa: E402

SETTINGS = Settings(unsafe_fixes=True, select=tuple(BY_CODE))  # every rule, opt-in ones too
SCHEMA = ROOT / "tests" / "data" / "schemas" / "compose-spec.json"
EXAMPLES_KEPT = 3  # mutants written per kind of problem


class Seed(NamedTuple):
    name: str  # where it comes from (a file, or a fixture case)
    path: str  # the path it is linted as (decides Dockerfile or Compose)
    text: str


# -- mutations ------------------------------------------------------------------------------------

BREAKS = ("\n", "\r\n", "\r", "\x85", "\u2028", "\u2029")
_LINE = re.compile("[^\r\n\x85\u2028\u2029]*(?:\r\n|[\r\n\x85\u2028\u2029])|[^\r\n\x85\u2028\u2029]+$")
_BREAK_AT_END = re.compile("(?:\r\n|[\r\n\x85\u2028\u2029])$")
CHARACTERS = ("é", "\u00a0", "\ufeff", "\U0001f600", "\t", "\x85", "\u2028", "\u2029", "\x0b", "\x0c",
              "\u200b", "ß", "\\", "`", "$", "#", "'", '"', ":", "-", "&", "*", "!", "{", "[")
DOCKERFILE_LINES = (
    "RUN <<EOF", "EOF", "RUN cat <<EOF > /etc/x.conf", "RUN <<-END bash", "\tEND", "\\", "",
    "# syntax=docker/dockerfile:1", "# escape=`", "# aicache-lint: ignore=AIC101", "# aicache-lint: ignore",
    "USER 1000", "USER app:app", "USER nobody", "ENV HF_HOME=/data/hf", "ENV PIP_NO_CACHE_DIR=1",
    "ARG BASE=python:3.12-slim", "FROM ${BASE} AS build", "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04",
    "COPY . .", "COPY --from=build /app /app", "WORKDIR /app", "ONBUILD RUN pip install x",
    "RUN --mount=type=cache,target=/root/.cache/pip pip install torch",
    "RUN pip install --no-cache-dir torch transformers", "RUN uv pip install --system -r requirements.txt",
    "RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*",
    "    && rm -rf /var/lib/apt/lists/* \\", '    pip install x && \\', 'RUN ["pip", "install", "torch"]',
    "RUN huggingface-cli download gpt2", "RUN conda install -y numpy && conda clean -afy",
)
COMPOSE_LINES = (
    "services:", "  app:", "    image: ${IMAGE:-vllm/vllm-openai:v0.6.3}", "    build: .", "    volumes:",
    "      - ./data:/data", "      - hf-cache:/root/.cache/huggingface", "    environment:",
    "      HF_HOME: /data/hf", "      - HF_HOME=/root/.cache/huggingface", "      - TRANSFORMERS_CACHE=/models",
    "    environment: {TORCH_HOME: /t}", "    volumes: [./a:/b]", "x-base: &base", "    <<: *base",
    "volumes:", "  hf-cache:", "  hf-cache: {}", '    user: "1000"', "# aicache-lint: ignore=AIC402", "---",
    "    command: huggingface-cli download gpt2", "    volumes: !reset []", "", "  #",
)


def lines(text: str) -> list[str]:
    """The text's lines, each with its line break (any of ``BREAKS``)."""
    return _LINE.findall(text)


def _break_of(line: str) -> str:
    m = _BREAK_AT_END.search(line)
    return m.group() if m else ""


def _content(line: str) -> str:
    return line[: len(line) - len(_break_of(line))]


def _delete(ls: list[str], rng: random.Random, kind: str) -> None:
    if ls:
        del ls[rng.randrange(len(ls))]


def _duplicate(ls: list[str], rng: random.Random, kind: str) -> None:
    if ls:
        i = rng.randrange(len(ls))
        ls.insert(i, ls[i] if _break_of(ls[i]) else ls[i] + "\n")


def _swap(ls: list[str], rng: random.Random, kind: str) -> None:
    if len(ls) > 1:
        i, j = rng.randrange(len(ls)), rng.randrange(len(ls))
        a, b = _content(ls[i]), _content(ls[j])
        ls[i], ls[j] = b + _break_of(ls[i]), a + _break_of(ls[j])


def _insert(ls: list[str], rng: random.Random, kind: str) -> None:
    pool = DOCKERFILE_LINES if kind == "dockerfile" else COMPOSE_LINES
    line = rng.choice(pool) if not ls or rng.random() < 0.7 else _content(rng.choice(ls))
    ls.insert(rng.randint(0, len(ls)), line + "\n")


def _one_break(ls: list[str], rng: random.Random, kind: str) -> None:
    with_break = [i for i, line in enumerate(ls) if _break_of(line)]
    if with_break:
        i = rng.choice(with_break)
        ls[i] = _content(ls[i]) + rng.choice(BREAKS)


def _all_breaks(ls: list[str], rng: random.Random, kind: str) -> None:
    brk = rng.choice(("\r\n", "\n", "\r"))
    ls[:] = [_content(line) + brk if _break_of(line) else line for line in ls]


def _heredoc(ls: list[str], rng: random.Random, kind: str) -> None:
    if ls:
        i = rng.randrange(len(ls))
        name = rng.choice(("EOF", "B", "'EOF'", "-END"))
        ls[i] = _content(ls[i]) + f" <<{name}" + (_break_of(ls[i]) or "\n")
        end = name.strip("'-")
        ls.insert(rng.randint(i + 1, len(ls)), ("\t" if name.startswith("-") else "") + end + "\n")


def _character(ls: list[str], rng: random.Random, kind: str) -> None:
    if ls:
        i = rng.randrange(len(ls))
        at = rng.randint(0, len(_content(ls[i])))
        ls[i] = ls[i][:at] + rng.choice(CHARACTERS) + ls[i][at:]


def _final_newline(ls: list[str], rng: random.Random, kind: str) -> None:
    if ls and _break_of(ls[-1]):
        ls[-1] = _content(ls[-1])
    elif ls:
        ls[-1] += rng.choice(BREAKS)


def _continuation(ls: list[str], rng: random.Random, kind: str) -> None:
    if ls:
        i = rng.randrange(len(ls))
        ls[i] = _content(ls[i]) + rng.choice((" \\", "\\", " \\ ", " `")) + (_break_of(ls[i]) or "\n")


def _indent(ls: list[str], rng: random.Random, kind: str) -> None:
    if ls:
        i = rng.randrange(len(ls))
        if ls[i].startswith(" ") and rng.random() < 0.5:
            ls[i] = ls[i][rng.randint(1, 2):]
        else:
            ls[i] = rng.choice((" ", "  ", "\t")) + ls[i]


def _truncate(ls: list[str], rng: random.Random, kind: str) -> None:
    text = "".join(ls)
    if text:
        ls[:] = lines(text[: rng.randrange(len(text))])


def _bom(ls: list[str], rng: random.Random, kind: str) -> None:
    if ls and not ls[0].startswith("\ufeff"):
        ls[0] = "\ufeff" + ls[0]


MUTATIONS = (_delete, _duplicate, _swap, _insert, _insert, _one_break, _all_breaks, _heredoc, _character,
             _final_newline, _continuation, _indent, _truncate, _bom)


def mutate(text: str, kind: str, rng: random.Random) -> str:
    """``text`` after one to three random mutations (``kind``: `dockerfile` or `compose`)."""
    ls = lines(text)
    for _ in range(rng.randint(1, 3)):
        rng.choice(MUTATIONS)(ls, rng, kind)
    return "".join(ls)


# -- checks ---------------------------------------------------------------------------------------

_KINDS = {"CRLF": re.compile("\r\n"), "CR": re.compile("\r(?!\n)"), "LF": re.compile("(?<!\r)\n"),
          "NEL": re.compile("\x85"), "LS": re.compile("\u2028"), "PS": re.compile("\u2029")}
_STYLE = {"\n": "LF", "\r\n": "CRLF"}


def _breaks(text: str) -> Counter[str]:
    return Counter({kind: len(pattern.findall(text)) for kind, pattern in _KINDS.items()})


def problems(text: str, path: str, settings: Settings = SETTINGS) -> list[str]:
    """What is wrong with linting and fixing ``text`` (decoded, a BOM at its start) as ``path``."""
    try:
        source = SourceText.decode(text.encode("utf-8"), path)
    except SourceError:
        return []
    try:
        findings = check_source(source, settings)
        result = fix_source(source, settings)
        again = fix_source(result.source, settings) if result.changed else None
    except Exception as exc:  # noqa: BLE001 - any exception is what we look for
        return [f"raised {type(exc).__name__}: {exc}"]
    found = [f"lint: internal error: {f.message}" for f in findings if f.code == "AIC000"]
    found += [f"fix: internal error: {f.message}" for f in result.findings if f.code == "AIC000"]
    if again is None:
        return found
    fixed = result.source
    found += _still_valid(source, fixed)
    found += newline_problems(source, fixed)
    if again.changed:
        found.append(f"fixing twice changes the text ({', '.join(sorted({c for c, _ in again.applied}))})")
    return found


def _still_valid(before: SourceText, after: SourceText) -> list[str]:
    if file_kind(before.path) == "compose":
        problem = compose_schema_error(after.text)
        if problem is not None and compose_schema_error(before.text) is None:
            return [f"fix made the file fail the Compose schema: {problem}"]
        return []
    if not buildkit_oracle.available():
        return []
    try:
        buildkit_oracle.buildkit_commands(("\ufeff" if before.bom else "") + before.text)
    except (buildkit_oracle.BuildKitError, UnicodeDecodeError):
        return []  # BuildKit rejected the input (or the wrapper cannot read back what it mangled)
    try:
        buildkit_oracle.buildkit_commands(("\ufeff" if after.bom else "") + after.text)
    except buildkit_oracle.BuildKitError as exc:
        return [f"fix made BuildKit reject the file: {exc}"]
    except UnicodeDecodeError:
        return []
    return []


def newline_problems(before: SourceText, after: SourceText) -> list[str]:
    """A kind of line break the file did not have appears only as its newline style (so a lone CR
    was not joined to an inserted LF, and inserted lines follow the style); a final newline stays.
    (A fix may copy a line with the break it has; in a Dockerfile only LF ends a line.)"""
    found = []
    old, new = _breaks(before.text), _breaks(after.text)
    style = _STYLE[before.newline]
    for kind in _KINDS if before.yaml else ("CRLF", "LF"):
        if kind != style and new[kind] and not old[kind]:
            found.append(f"fix added {kind} line breaks to a {style} file")
    if before.final_newline and not after.final_newline:
        found.append("fix removed the final newline")
    return found


_SCHEMA = None


def compose_schema_error(text: str) -> str | None:
    """Why ``text`` is not a valid Compose file for the schema (None: it is, or jsonschema is missing)."""
    global _SCHEMA
    try:
        import jsonschema
        import yaml
    except ImportError:
        return None

    class Loader(yaml.SafeLoader):
        """`!reset` and `!override` values as written."""

    Loader.add_multi_constructor("!", lambda loader, suffix, node: _untagged(loader, node))
    try:
        data = yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        return f"YAML: {str(exc).splitlines()[0]}"
    if _SCHEMA is None:
        _SCHEMA = json.loads(SCHEMA.read_text(encoding="utf-8"))
    try:
        error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(_SCHEMA).iter_errors(data))
    except TypeError as exc:  # a key that is not a string (`~:`, `1:`): not a JSON document
        return f"not JSON data: {exc}"
    return None if error is None else f"{'/'.join(map(str, error.absolute_path))}: {error.message}"


def _untagged(loader, node):
    import yaml

    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


# -- corpus ---------------------------------------------------------------------------------------

def corpus(paths: list[Path]) -> list[Seed]:
    """Dockerfiles and Compose files under ``paths``, and the cases of fixture `cases.yaml` files
    (linted as `<folder>/<case>/Dockerfile` or `compose.yaml` in a folder that does not exist)."""
    import yaml

    seeds = []
    for top in paths:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            if path.name == "cases.yaml":
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                name = "compose.yaml" if data.get("kind") == "compose" else "Dockerfile"
                for case, spec in data.get("cases", {}).items():
                    text = spec.get("fail", spec.get("pass"))
                    seeds.append(Seed(f"{path}:{case}", f"/nonexistent/{path.parent.name}/{case}/{name}", text))
            elif is_dockerfile_name(path.name) or is_compose_name(path.name) or path.name.endswith(".compose.yaml"):
                try:
                    text = SourceText.decode(path.read_bytes(), str(path)).text
                except SourceError:
                    continue
                # A fixture's `name.compose.yaml` is linted as the `compose.yaml` beside it.
                lint_as = path.with_name("compose.yaml") if path.name.endswith(".compose.yaml") else path
                seeds.append(Seed(str(path), str(lint_as), text))
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="directories or files to take inputs from")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to run (default: 60)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one)")
    parser.add_argument("--out", type=Path, default=Path("mutants"), help="where failing mutants go")
    parser.add_argument("--ignore", default="", metavar="CODES", help="rules to leave out (comma-separated)")
    args = parser.parse_args(argv)
    ignored = tuple(c.strip() for c in args.ignore.split(",") if c.strip())
    settings = Settings(unsafe_fixes=True, select=tuple(BY_CODE), ignore=ignored) if ignored else SETTINGS
    seeds = corpus(args.paths)
    if not seeds:
        print("no Dockerfile or Compose file found", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    print(f"{len(seeds)} inputs, seed {seed}, {args.seconds:g} s", flush=True)
    if not buildkit_oracle.available():
        print("the `dockerfile` package is not installed: fixed Dockerfiles are not checked with BuildKit")
    if importlib.util.find_spec("jsonschema") is None:
        print("`jsonschema` is not installed: fixed Compose files are not checked against the schema")
    by_kind: dict[str, list[Seed]] = {}
    for s in seeds:
        by_kind.setdefault(file_kind(s.path), []).append(s)
    counts: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        kind = rng.choice(sorted(by_kind))  # as many Compose files as Dockerfiles
        origin = rng.choice(by_kind[kind])
        text = mutate(origin.text, kind, rng)
        tried[kind] += 1
        for problem in problems(text, origin.path, settings):
            key = _kind_of(problem)
            counts[key] += 1
            if counts[key] <= EXAMPLES_KEPT:
                _keep(args.out, origin, kind, text, problem, sum(tried.values()))
    print(f"tried {tried['dockerfile']} Dockerfiles, {tried['compose']} Compose files")
    for key, n in counts.most_common():
        print(f"{n:6}  {key}")
    return 1 if counts else 0


def _kind_of(problem: str) -> str:
    """The problem without what varies between mutants (numbers, quoted names)."""
    return re.sub(r"(?<![A-Z\d])\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", problem))[:160]


def _keep(out: Path, origin: Seed, kind: str, text: str, problem: str, number: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{number:06d}"
    name = stem.with_suffix(".compose.yaml" if kind == "compose" else ".Dockerfile")
    name.write_bytes(text.encode("utf-8"))
    stem.with_suffix(".txt").write_text(f"from: {origin.name}\nlinted as: {origin.path}\n{problem}\n",
                                        encoding="utf-8")
    print(f"{os.fspath(name)}: {problem}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
