"""A Docker daemon configuration as the daemon rules (AIC508-AIC510) read it: a `daemon.json` kept in
the repository, or one a script writes (a workflow `run:` step, a GitLab `script:`, a `*.sh` file:
see ``daemon/scripts.py``).

Both are the parsed JSON object (``json.loads``: the last of duplicate keys wins, as in Go) and the
place a finding goes. What a script computes (a `$MIRROR` in an unquoted heredoc, a key a `jq`
filter sets) is ``UNKNOWN``: a check that depends on it says nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from aicache_lint.source import Span

if TYPE_CHECKING:
    from aicache_lint.buildfiles import BuildFile
    from aicache_lint.compose.model import Mapping


class _Unknown:
    """A JSON value (or a whole configuration) a script computes."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class DaemonConfig(NamedTuple):
    data: Any  # the JSON value (a dict when it is an object); UNKNOWN parts where a script computes them
    span: Span  # a file: its `{`; a script: the JSON it writes (heredoc body, echoed text)
    tree: "Mapping | None" = None  # a daemon.json file's position tree (edits, spans of keys)
    path: str = ""  # a script: the path it writes, as written
    # A script on a GitHub-hosted runner: that daemon lives for one job (its GC and mirrors cannot
    # matter; whether BuildKit is on still does).
    throwaway: bool = False

    @property
    def written(self) -> bool:
        """Whether a script writes it (no fix edits a script)."""
        return self.tree is None

    @property
    def name(self) -> str:
        """How a message names it."""
        return f"the daemon.json this script writes (`{self.path}`)" if self.written else "daemon.json"

    def key_span(self, *keys: str) -> Span:
        """Where a finding about the key at ``keys`` goes: the key in a daemon.json (the `{` when
        one is missing), the whole write in a script."""
        node = self._pair(keys)
        return node.key.span if node is not None else self.span

    def value_span(self, *keys: str) -> Span:
        node = self._pair(keys)
        return node.value.target.span if node is not None else self.span

    def item_span(self, key: str, index: int) -> Span:
        """Where a finding about item ``index`` of the list at top-level ``key`` goes."""
        pair = self._pair((key,))
        items = getattr(pair.value.target, "items", None) if pair is not None else None
        return items[index].target.span if items and index < len(items) else self.span

    def _pair(self, keys: tuple[str, ...]):
        from aicache_lint.compose.model import Mapping

        mapping, pair = self.tree, None
        for key in keys:
            if not isinstance(mapping, Mapping):
                return None
            pair = next((p for p in reversed(mapping.pairs) if p.name.lower() == key.lower()), None)
            if pair is None:
                return None
            mapping = pair.value.target
        return pair


def folded(obj: dict, name: str) -> tuple[bool, Any]:
    """(whether ``obj`` has ``name``, its value), the name matched case-insensitively, the last
    match winning: how Go's encoding/json fills a struct field (moby reads `builder` so)."""
    found = [v for k, v in obj.items() if k.lower() == name]
    return (True, found[-1]) if found else (False, None)


def daemon_configs(file: "BuildFile") -> list[DaemonConfig]:
    """The daemon configurations a file holds: a daemon.json itself, or what a CI file's scripts or
    a shell script write."""
    if file.kind == "daemon":
        import json

        root = file.yaml.root
        return [DaemonConfig(json.loads(file.source.text), Span(root.span.start, root.span.start + 1), root)]
    from aicache_lint.daemon.scripts import written_configs

    return written_configs(file)
