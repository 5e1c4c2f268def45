"""AIC305 vcs-requirement-not-pinned."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation

# A Git URL as pip reads it: `git+<scheme>://...`, up to whitespace or a PEP 508 marker `;`.
_GIT_URL = re.compile(r"git\+[A-Za-z][A-Za-z0-9+.-]*://[^\s;]*")
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_SHORT_SHA = re.compile(r"[0-9a-fA-F]{7,39}")
_LONG_HEX = re.compile(r"[0-9a-fA-F]{41,}")  # e.g. a SHA-256 object id: not judged
_VERSION_TAG = re.compile(r"v?\d+(\.\d+)+([.+-]?[A-Za-z0-9]+)*")
_BRANCHES = frozenset("main master develop dev trunk stable nightly latest HEAD".split())
# `uv add URL --branch/--tag/--rev X`: the ref given as an option.
_UV_REF_OPTIONS = {"--branch": "branch", "--tag": "tag", "--rev": None}


class VcsRequirementNotPinned(Rule):
    """
    ## What it does
    Flags a Git requirement installed by `pip install`, `uv pip install` or `uv add` that is not
    pinned to a full commit SHA: `git+https://github.com/org/repo.git` with no ref, a branch
    (`@main`), a tag (`@v1.2.0`) or an abbreviated SHA (`@3f2a9c1`). It reads plain URLs,
    `-e git+...#egg=pkg`, PEP 508 direct references (`"pkg @ git+https://..."`), `ssh` and `file`
    URLs, shell-form and exec-form `RUN`.

    ## Why is this bad?
    A branch, a tag or no ref at all names a commit that can move. The `RUN` text does not change
    when it moves, so Docker's layer cache keeps serving the commit of the first build while a cold
    build (CI, a new machine, `--no-cache`) installs a newer one: two images built from the same
    Dockerfile differ. pip (>= 20.0) also caches the built wheel only for an immutable commit ref,
    so an unpinned URL is cloned and built again on every uncached build. A tag is usually stable,
    but it can be deleted and re-pushed; an abbreviated SHA can become ambiguous and costs pip extra
    network calls to resolve.

    ## Example
    ```dockerfile
    RUN pip install git+https://github.com/m-bain/whisperX.git@main
    ```

    ## Use instead
    ```dockerfile
    # the commit `git ls-remote https://github.com/m-bain/whisperX.git main` printed
    RUN pip install git+https://github.com/m-bain/whisperX.git@<full 40-character commit SHA>
    ```

    ## Fix safety
    No fix: the commit a ref points to can only be known by asking the remote (`git ls-remote`),
    which an offline linter does not do. A fix that replaces the ref with the full commit SHA from
    `git ls-remote` is planned behind opt-in network resolution; until then the rule only reports.
    A ref that comes from a variable (`@${WHISPERX_REF}`), URLs in requirements files and
    `pyproject.toml` / `uv.lock` are not reported: the linter cannot see what they hold.

    ## Options
    None.

    ## References
    - [pip: VCS support (Git refs, commit hashes)](https://pip.pypa.io/en/stable/topics/vcs-support/)
    - [pip: caching of wheels built from VCS URLs](https://pip.pypa.io/en/stable/topics/caching/)
    - [PEP 508: direct references](https://peps.python.org/pep-0508/)
    - [uv: Git dependencies (`--rev`, `--tag`, `--branch`)](https://docs.astral.sh/uv/concepts/projects/dependencies/#git)
    - [Docker: build cache invalidation](https://docs.docker.com/build/cache/invalidation/)
    """

    code = "AIC305"
    name = "vcs-requirement-not-pinned"
    summary = "A Git requirement is not pinned to a full commit SHA"
    severity = Severity.WARNING
    fix_availability = FixAvailability.NONE

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            for inv in facts.invocations(run):
                if _installs(inv):
                    yield from _check_invocation(inv)


def _installs(inv: "Invocation") -> bool:
    from aicache_lint.dockerfile.shell import subcommand

    if inv.program == "pip":
        return subcommand(inv, 1) == ["install"]
    if inv.program == "uv":
        return subcommand(inv, 2) == ["pip", "install"] or subcommand(inv, 1) == ["add"]
    return False


def _check_invocation(inv: "Invocation") -> Iterator[Violation]:
    option_ref = _uv_option_ref(inv) if inv.program == "uv" else None
    script = inv.command.script
    for word in inv.args:
        for m in _GIT_URL.finditer(word.value):
            problem = _problem(m.group(), option_ref)
            if problem is None:
                continue
            url = m.group()
            shown = url if len(url) <= 80 else url[:77] + "..."
            if not problem.startswith("is pinned"):
                problem += (": the layer cache keeps serving the commit of the first build while cold "
                            "builds get a new one")
            yield Violation(
                script.file_span(word.start, word.end),
                f"`{shown}` {problem}; pin the full 40-character commit SHA",
            )


def _uv_option_ref(inv: "Invocation") -> tuple[str, str | None] | None:
    """(ref, kind) from `uv add ... --branch/--tag/--rev X`; kind None for `--rev`."""
    args = inv.args
    for i, word in enumerate(args):
        name, eq, value = word.value.partition("=")
        if name in _UV_REF_OPTIONS:
            if eq:
                return value, _UV_REF_OPTIONS[name]
            if i + 1 < len(args):
                return args[i + 1].value, _UV_REF_OPTIONS[name]
    return None


def _problem(url: str, option_ref: tuple[str, str | None] | None) -> str | None:
    """What is wrong with the ref of ``url`` (a `git+...` URL), or None when it is pinned or unknown."""
    base = url.split("#", 1)[0]  # `#egg=` / `#subdirectory=` fragments follow the ref
    rest = base.split("://", 1)[1]
    path = rest.split("/", 1)[1] if "/" in rest else ""  # the netloc may hold `user@`
    ref, kind = None, None
    if "@" in path:
        ref = path.rsplit("@", 1)[1]
    elif option_ref is not None:
        ref, kind = option_ref
    if ref is None:
        if "$" in path:
            return None  # a variable may carry the `@ref`
        return "has no ref, so it installs the tip of the default branch"
    if "$" in ref or "`" in ref or not ref:
        return None  # unknown ref
    name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    if kind is None:
        if ref.startswith("refs/tags/"):
            kind = "tag"
        elif ref.startswith("refs/heads/"):
            kind = "branch"
    if kind is None and _FULL_SHA.fullmatch(ref):
        return None
    if kind is None and _LONG_HEX.fullmatch(ref):
        return None
    if kind is None and _SHORT_SHA.fullmatch(ref) and not _VERSION_TAG.fullmatch(ref):
        return f"is pinned to the abbreviated SHA `{ref}`, which can become ambiguous and costs pip extra network calls"
    if kind is None and ref.startswith("refs/"):
        return f"follows the ref `{ref}`, which can move"
    if kind == "tag" or (kind is None and _VERSION_TAG.fullmatch(name)):
        return f"follows the tag `{name}`, which can be moved or re-pushed"
    if kind == "branch" or name in _BRANCHES:
        return f"follows the branch `{name}`"
    return f"follows `{name}`, a branch or tag name that can move"
