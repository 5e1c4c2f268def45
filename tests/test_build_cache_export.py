"""Cache entries and image references as the CI cache rules read them
(aicache_lint.knowledge.build_cache_export)."""

from __future__ import annotations

from aicache_lint.knowledge.build_cache_export import parse_entry, split_reference


def test_entry_attributes_and_defaults():
    entry = parse_entry("type=gha,mode=max,scope=${{ matrix.a }}-x")
    assert (entry.type, entry.mode, entry.scope) == ("gha", "max", "${{ matrix.a }}-x")
    assert parse_entry("type=gha").scope == "buildkit"
    assert parse_entry("type=registry,ref=r/app:cache").mode == "min"


def test_bare_reference_is_a_registry_cache():
    entry = parse_entry("ghcr.io/acme/app:latest")
    assert (entry.type, entry.attrs) == ("registry", {"ref": "ghcr.io/acme/app:latest"})


def test_reference_split_outside_expressions():
    assert split_reference("ghcr.io/acme/app:${{ github.sha }}")[:2] == ("ghcr.io/acme/app", "${{ github.sha }}")
    assert split_reference("localhost:5000/app@sha256:abc")[:2] == ("localhost:5000/app", "")
    assert split_reference("${{ inputs.image }}") == ("${{ inputs.image }}", "", True)
    assert split_reference("${{ env.REGISTRY }}/app:${{ matrix.tag }}")[:2] == ("${{ env.REGISTRY }}/app",
                                                                              "${{ matrix.tag }}")
