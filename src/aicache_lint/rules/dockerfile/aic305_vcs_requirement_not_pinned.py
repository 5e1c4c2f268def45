"""AIC305 vcs-requirement-not-pinned."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Applicability, Edit, Fix
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

if TYPE_CHECKING:
    from aicache_lint.dockerfile.shell import Invocation
    from aicache_lint.registry.resolver import Resolver

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
    # (`aicache-lint --resolve-images --fix --unsafe-fixes` writes it)
    RUN pip install git+https://github.com/m-bain/whisperX.git@<full 40-character commit SHA>
    ```

    ## Fix safety
    Offline there is no fix: the commit a ref points to can only be known by asking the remote.
    With `--resolve-images` (or `resolve-images = true`) the fix runs `git ls-remote <url>` (no
    clone, no credential prompt, a short time-out) and replaces the branch or tag with the full
    commit SHA it names now (the peeled commit for an annotated tag), or appends `@<sha>` when the
    URL has no ref (the remote's `HEAD`). The fix is unsafe: the file stops following the branch,
    and the ref's name is no longer written in it. No fix when the remote does not list the ref,
    when the name is both a branch and a tag, for an abbreviated SHA, for `uv add --branch/--tag`,
    or when the remote cannot be reached (one warning, the finding stays).
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
    fix_availability = FixAvailability.SOMETIMES
    fix_safety = Applicability.UNSAFE

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        for run in facts.runs():
            for inv in facts.invocations(run):
                if _installs(inv):
                    yield from _check_invocation(inv, ctx.resolver)


def _installs(inv: "Invocation") -> bool:
    from aicache_lint.dockerfile.shell import subcommand

    if inv.program == "pip":
        return subcommand(inv, 1) == ["install"]
    if inv.program == "uv":
        return subcommand(inv, 2) == ["pip", "install"] or subcommand(inv, 1) == ["add"]
    return False


def _check_invocation(inv: "Invocation", resolver: "Resolver | None") -> Iterator[Violation]:
    option_ref = _uv_option_ref(inv) if inv.program == "uv" else None
    script = inv.command.script
    for word in inv.args:
        for m in _GIT_URL.finditer(word.value):
            problem = _problem(m.group(), option_ref)
            if problem is None:
                continue
            url = m.group()
            shown = url if len(url) <= 80 else url[:77] + "..."
            movable = not problem.startswith("is pinned")
            if movable:
                problem += (": the layer cache keeps serving the commit of the first build while cold "
                            "builds get a new one")
            message = f"`{shown}` {problem}; pin the full 40-character commit SHA"
            fix = None
            if movable and resolver is not None and option_ref is None:
                fix, why = _pin(inv, word, m.start(), url, resolver)
                if why:
                    message += f" (no automatic fix: {why})"
            elif movable and option_ref is None:
                message += " (`--resolve-images` looks the commit up with `git ls-remote` and pins it)"
            elif movable:
                message += " (no automatic fix for a `--branch`/`--tag` option: use `--rev <full SHA>`)"
            yield Violation(script.file_span(word.start, word.end), message, fix)


def _pin(inv: "Invocation", word, at: int, url: str, resolver: "Resolver") -> tuple[Fix | None, str | None]:
    """Replace (or add) the ref of ``url`` (at ``word.value[at:]``) with the commit it names now."""
    base = url.split("#", 1)[0]
    scheme_end = base.index("://") + 3
    slash = base.find("/", scheme_end)
    ref_at = base.rfind("@", slash) if slash != -1 else -1
    remote = base[4 : ref_at if ref_at != -1 else len(base)]  # without `git+` and `@ref`
    ref = base[ref_at + 1 :] if ref_at != -1 else None
    found = resolver.commit(remote, ref)
    if found.value is None:
        return None, found.why
    # The ref's characters in the word's value, then in the file (the ref ends where `base` does).
    first = at + (ref_at + 1 if ref_at != -1 else len(base))
    last = at + len(base)
    index = word.value_index
    if ref_at != -1 and any(index[k + 1] != index[k] + 1 for k in range(first, last - 1)):
        return None, "the ref is not written out verbatim"
    source = inv.command.script.source
    start = index[first] if first < last else index[last - 1] + 1
    end = index[last - 1] + 1
    if not source.is_contiguous(start, end):
        return None, "the ref is not written out verbatim"
    span = source.file_span(start, end)
    content = found.value if ref_at != -1 else "@" + found.value
    title = f"Pin to commit `{found.value}`, which `{ref or 'HEAD'}` names now (git ls-remote)"
    return Fix.unsafe(title, Edit(span.start, span.end, content)), None


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
