"""One record per planned build: who builds which Dockerfile, with which context, target, build
args and image names (DESIGN §5a). The parsers in ``compose/`` and ``ci/`` produce them; the
workspace joins them to Dockerfiles and images."""

from __future__ import annotations

from typing import NamedTuple


class Origin(NamedTuple):
    """Where an invocation is declared."""

    kind: str  # "compose" | "workflow" | "gitlab" | "bake" | "command"
    path: str  # the declaring file, as the index names it
    line: int  # 1-based line of the declaration (the service key, the step, the target block)
    name: str  # service `web`, workflow `job / step name`, bake target `app`

    def describe(self) -> str:
        what = {"compose": "service", "workflow": "workflow step", "gitlab": "GitLab job",
                "bake": "bake target", "command": "command"}.get(self.kind, self.kind)
        return f"{what} `{self.name}` ({self.path}:{self.line})"


class Invocation(NamedTuple):
    """A build of one Dockerfile."""

    origin: Origin
    dockerfile: str | None  # normalised path; None when it cannot be known (inline, remote context)
    context: str | None  # normalised path of the build context; None when remote or unknown
    target: str | None = None  # the stage built (None: the last one)
    args: tuple[tuple[str, str], ...] = ()  # build args whose values are known, sorted by name
    tags: tuple[str, ...] = ()  # image names the build produces, fully resolved
    # What could not be known, each a short phrase for `aicache-lint graph` (e.g. "tag
    # `${{ matrix.image }}` comes from a matrix"); such parts are left out of the fields above.
    unresolved: tuple[str, ...] = ()

    @property
    def arg_map(self) -> dict[str, str]:
        return dict(self.args)
