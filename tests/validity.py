"""Whether a text is still a valid file of its kind: the check every fix must pass (DESIGN §12).
Dockerfiles parse for us and for BuildKit, Compose files validate against the Compose schema,
workflows and GitLab files load as YAML, Bake files parse as HCL or JSON, daemon.json as JSON,
buildkitd.toml as TOML and Python sources with Python's own parser."""

from __future__ import annotations

import json
from pathlib import Path

from buildkit_oracle import assert_matches_buildkit, available

from aicache_lint.source import SourceText

SCHEMA = Path(__file__).parent / "data" / "schemas" / "compose-spec.json"


def assert_valid(source: SourceText, kind: str) -> None:
    if kind == "dockerfile":
        from aicache_lint.dockerfile.lexer import parse

        assert not parse(source).errors
        if available():
            assert_matches_buildkit(source.text)
        return
    if kind == "compose":
        from aicache_lint.compose.parse import parse as parse_compose

        assert not parse_compose(source).errors
        assert_compose_schema(source.text)
        return
    from aicache_lint import buildfiles
    from aicache_lint.discovery import file_kind

    real = file_kind(source.path)
    parsed = buildfiles.parse(source, real)
    assert not parsed.errors, parsed.errors
    if parsed.syntax == "yaml":
        import yaml

        assert isinstance(yaml.safe_load(source.text), dict)
    elif parsed.syntax == "json":
        assert isinstance(json.loads(source.text), dict)
    elif parsed.syntax == "hcl":
        assert not parsed.hcl.errors
    elif parsed.syntax == "python":
        import ast

        ast.parse(source.text)


def assert_compose_schema(text: str) -> None:
    import jsonschema
    import yaml

    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load(text))
