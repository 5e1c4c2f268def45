#!/usr/bin/env python3
"""Refresh aicache-lint's nvidia/cuda tag table from the registry (maintainers' tool).

    python scripts/refresh_cuda_tags.py            # Docker Hub, rewrites the bundled table
    python scripts/refresh_cuda_tags.py --dry-run  # print what would change

It lists every tag of ``nvidia/cuda`` through the OCI distribution API (anonymous bearer token,
``GET /v2/nvidia/cuda/tags/list`` page by page) and merges the answer into the table:
- a tag the registry has keeps its status (``supported`` / ``unsupported``); a new one is
  ``supported`` when it is the newest patch release of its minor version, flavor and OS (NVIDIA
  supports only that one), else ``unsupported``;
- a tag of the table the registry no longer has becomes ``removed`` (NVIDIA deleted it);
- ``removed`` tags stay, so the table keeps knowing that a cold build of them fails.
The table's ``date:`` becomes today's (UTC) and ``source:`` names the registry. The file is
replaced atomically, and only when the registry answered.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from aicache_lint.files import write_atomic  # noqa: E402
from aicache_lint.images.cuda import TagTable, dump_table, load_table_text, parse_tag  # noqa: E402
from aicache_lint.registry.client import RegistryClient, RegistryError  # noqa: E402

TABLE = ROOT / "src" / "aicache_lint" / "data" / "nvidia-cuda-tags.tsv"
def merge(previous: TagTable, live: list[str], date: str, source: str) -> TagTable:
    cuda = {tag for tag in live if parse_tag(tag) is not None}
    known = previous.published
    newest = _newest_patches(cuda)
    supported = {t for t in cuda if t in previous.supported or (t not in known and t in newest)}
    unsupported = cuda - supported
    removed = (previous.removed | known) - cuda
    return TagTable(date, source, frozenset(supported), frozenset(unsupported), frozenset(removed))


def _newest_patches(tags: set[str]) -> set[str]:
    """The tags that are the newest patch release of their (minor version, cuDNN, flavor, OS)."""
    best: dict[tuple, tuple] = {}
    for tag in tags:
        parsed = parse_tag(tag)
        if parsed is None or not parsed.is_full:
            continue
        family = (parsed.minor, parsed.cudnn, parsed.flavor, parsed.os)
        if family not in best or parsed.version > best[family][0]:
            best[family] = (parsed.version, tag)
    return {tag for _, tag in best.values()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", default="https://registry-1.docker.io", help="registry base URL")
    parser.add_argument("--repository", default="nvidia/cuda")
    parser.add_argument("--table", type=Path, default=TABLE, help="the table to update (default: the bundled one)")
    parser.add_argument("--date", default=datetime.datetime.now(datetime.timezone.utc).date().isoformat())
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--dry-run", action="store_true", help="print the changes; write nothing")
    args = parser.parse_args(argv)

    previous = load_table_text(args.table.read_text(encoding="utf-8"))
    client = RegistryClient(timeout=args.timeout, mirrors={"docker.io": args.registry})
    try:
        live = client.tags("docker.io", args.repository)
    except RegistryError as exc:
        print(f"refresh_cuda_tags: {exc}; the table is unchanged", file=sys.stderr)
        return 1
    source = (f"{args.registry.rstrip('/')}/v2/{args.repository}/tags/list "
              "(statuses of earlier tags: the previous table)")
    table = merge(previous, live, args.date, source)
    for status, before, after in (("supported", previous.supported, table.supported),
                                  ("unsupported", previous.unsupported, table.unsupported),
                                  ("removed", previous.removed, table.removed)):
        print(f"{status}: {len(after)} (+{len(after - before)} -{len(before - after)})")
    if args.dry_run:
        return 0
    write_atomic(str(args.table), dump_table(table).encode("utf-8"))
    print(f"wrote {args.table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
