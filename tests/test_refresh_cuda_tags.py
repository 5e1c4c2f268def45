"""scripts/refresh_cuda_tags.py against a local registry: statuses merged, date and source set,
the file replaced only when the registry answered."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from registry_server import FakeRegistry

from aicache_lint.images.cuda import TagTable, dump_table, load_table_text

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "refresh_cuda_tags.py"
DIGEST = "sha256:" + "ab" * 32


def _script():
    spec = importlib.util.spec_from_file_location("refresh_cuda_tags", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table(path: Path) -> Path:
    previous = TagTable(
        "2026-01-01", "test",
        supported=frozenset({"12.4.1-runtime-ubuntu22.04", "12.8.1-runtime-ubuntu24.04"}),
        unsupported=frozenset({"12.4.0-runtime-ubuntu22.04"}),
        removed=frozenset({"11.7.0-runtime-ubuntu20.04"}),
    )
    path.write_text(dump_table(previous), encoding="utf-8")
    return path


def test_refresh_merges_the_live_tag_list(tmp_path: Path, capsys) -> None:
    table = _table(tmp_path / "tags.tsv")
    live = {
        "12.4.1-runtime-ubuntu22.04": DIGEST,  # still there: stays supported
        "12.4.0-runtime-ubuntu22.04": DIGEST,  # still there: stays unsupported
        # 12.8.1-runtime-ubuntu24.04 is gone: removed
        "12.8.2-runtime-ubuntu24.04": DIGEST,  # new, newest patch of 12.8: supported
        "12.9.0-devel-ubuntu24.04": DIGEST,  # new, superseded by 12.9.1: unsupported
        "12.9.1-devel-ubuntu24.04": DIGEST,
        "not-a-cuda-tag": DIGEST,  # ignored
    }
    with FakeRegistry({"nvidia/cuda": live}, page_size=2) as registry:
        url = registry.url
        assert _script().main(["--registry", url, "--table", str(table), "--date", "2026-11-28"]) == 0
        assert sum("/tags/list" in r.path for r in registry.requests) >= 4  # paginated, with a token
    result = load_table_text(table.read_text(encoding="utf-8"))
    assert result.date == "2026-11-28"
    assert result.source == f"{url}/v2/nvidia/cuda/tags/list (statuses of earlier tags: the previous table)"
    assert result.supported == {"12.4.1-runtime-ubuntu22.04", "12.8.2-runtime-ubuntu24.04", "12.9.1-devel-ubuntu24.04"}
    assert result.unsupported == {"12.4.0-runtime-ubuntu22.04", "12.9.0-devel-ubuntu24.04"}
    assert result.removed == {"11.7.0-runtime-ubuntu20.04", "12.8.1-runtime-ubuntu24.04"}
    assert "supported: 3 (+2 -1)" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.tmp"))


def test_a_refused_registry_leaves_the_table_unchanged(tmp_path: Path, capsys) -> None:
    table = _table(tmp_path / "tags.tsv")
    before = table.read_bytes()
    with FakeRegistry({"nvidia/cuda": {}}) as registry:
        registry.fail_status = 429
        assert _script().main(["--registry", registry.url, "--table", str(table), "--timeout", "2"]) == 1
    assert table.read_bytes() == before
    err = capsys.readouterr().err
    assert "rate-limiting" in err and "the table is unchanged" in err


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    table = _table(tmp_path / "tags.tsv")
    before = table.read_bytes()
    with FakeRegistry({"nvidia/cuda": {"13.0.2-base-ubuntu24.04": DIGEST}}) as registry:
        assert _script().main(["--registry", registry.url, "--table", str(table), "--dry-run"]) == 0
    assert table.read_bytes() == before


def test_the_bundled_table_is_dated_and_sourced() -> None:
    from aicache_lint.images.cuda import bundled_table

    table = bundled_table()
    assert table.date == "2026-05"
    assert "181367a" in table.source
    assert "12.4.1-cudnn-runtime-ubuntu22.04" in table.supported
    assert "12.4.0-runtime-ubuntu22.04" in table.unsupported
    assert "11.7.0-runtime-ubuntu20.04" in table.removed
    assert not table.removed & table.published
