"""Facts shared by the rules on a CI build's cache import and export (AIC501, AIC502, AIC505).

* ``parse_entry``: one `cache-from`/`cache-to` entry (`type=gha,mode=max,scope=app`) as buildx
  reads it: CSV `key=value` attributes, a bare reference meaning `type=registry,ref=<it>`
  (docker/buildx `util/buildflags/cache.go`);
* ``step_builds`` and ``scope_names``: the `docker/build-push-action` steps of the repository with
  the image each builds, and a short, stable, repository-wide unique cache scope per image;
* ``gha_inputs`` / ``registry_inputs``: the text of the inputs a fix adds (the forms of Docker's
  "Cache management with GitHub Actions" page: https://docs.docker.com/build/ci/github-actions/cache/);
* ``entry_spans``: where each entry of an input is written, for edits inside the value.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from aicache_lint.ci.steps import BUILD_PUSH, Step, invocations_of, steps

if TYPE_CHECKING:
    from aicache_lint.compose.model import Scalar
    from aicache_lint.fix import Edit
    from aicache_lint.source import SourceText, Span
    from aicache_lint.workspace.index import Workspace
    from aicache_lint.workspace.invocations import Invocation

_EXPR = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
_COMMA = re.compile(r",(?![^{]*\}\})")  # a comma outside `${{ }}`
# Expressions that name the same image from build to build (a scope must not change every run:
# `github.sha` in a scope would start a new, empty cache for each commit).
_STABLE = re.compile(r"\$\{\{\s*(?:(?:matrix|inputs|env|vars)\.[\w.-]+|github\.(?:repository|repository_owner"
                     r"|event\.repository\.name))\s*\}\}")
_MATRIX = re.compile(r"\$\{\{\s*matrix\.[\w.-]+\s*\}\}")
# What tells the builds of one step apart: a matrix value, or an action input, in any input that
# changes the image (not `push`, `labels`, `outputs`...).
_VARYING = re.compile(r"\$\{\{\s*(?:matrix|inputs)\.[\w.-]+\s*\}\}")
_IMAGE_INPUTS = ("tags", "platforms", "context", "file", "target", "build-args", "build-contexts")
_META_TAGS = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.tags\s*\}\}")
DEFAULT_GHA_SCOPE = "buildkit"  # https://docs.docker.com/build/cache/backends/gha/#scope


# -- cache entries ------------------------------------------------------------------------------

class CacheEntry(NamedTuple):
    text: str  # as written, stripped
    type: str  # gha, registry, local, inline, s3, azblob; "" when not said
    attrs: dict[str, str]

    @property
    def mode(self) -> str:
        return self.attrs.get("mode", "min")  # min is every exporter's default

    @property
    def scope(self) -> str:
        return self.attrs.get("scope", DEFAULT_GHA_SCOPE)


def parse_entry(text: str) -> CacheEntry:
    text = text.strip()
    parts = [p.strip() for p in _COMMA.split(text) if p.strip()]
    if len(parts) == 1 and "=" not in parts[0]:
        return CacheEntry(text, "registry", {"ref": parts[0]})
    attrs = {}
    for part in parts:
        key, _, value = part.partition("=")
        attrs[key.strip().lower()] = value.strip()
    return CacheEntry(text, attrs.get("type", "registry" if "ref" in attrs else "").lower(), attrs)


def entries(value: str) -> list[CacheEntry]:
    """The entries of an action's cache input: one a line, `#` comments and blank lines dropped."""
    from aicache_lint.ci.workflows import list_input

    return [parse_entry(line) for line in list_input(value, commas=False)]


def entry_spans(source: "SourceText", node: "Scalar") -> list[tuple[CacheEntry, "Span"]] | None:
    """Each entry of a string input with where its text is written in the file; None when an
    entry is not written verbatim (escapes, folding), so no edit inside it can be placed."""
    from aicache_lint.source import Span

    raw = source.text[node.span.start:node.span.end]
    found, pos = [], 0
    for entry in entries(node.value or ""):
        at = raw.find(entry.text, pos)
        if at < 0:
            return None
        pos = at + len(entry.text)
        found.append((entry, Span(node.span.start + at, node.span.start + pos)))
    return found


def gha_inputs(scope: str) -> tuple[str, str]:
    """`cache-from` and `cache-to` for GitHub's cache service, one scope per image."""
    return f"type=gha,scope={scope}", f"type=gha,mode=max,scope={scope}"


# Amazon ECR stores a cache only as an image manifest with OCI media types; BuildKit writes that by
# default only since v0.21 (docs.docker.com/build/cache/backends/registry, aws/containers-roadmap#876).
_ECR = re.compile(r"^[0-9]+\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/")


def registry_inputs(repository: str, tag: str = "buildcache") -> tuple[str, str]:
    """`cache-from` and `cache-to` for a cache image next to the pushed one."""
    ref = f"type=registry,ref={repository}:{tag}"
    extra = ",image-manifest=true,oci-mediatypes=true" if _ECR.match(repository) else ""
    return ref, f"{ref},mode=max{extra}"


def registry_assumption(repository: str, tag: str = "buildcache") -> str:
    """What a registry cache fix takes for granted, for its title ("assumes ...")."""
    return (f"`{repository}` takes a `{tag}` tag next to the image, pushed on every build "
            "(a repository with immutable tags refuses it)")


# -- image references as written ----------------------------------------------------------------

def _masked(text: str) -> str:
    """``text`` with every `${{ }}` replaced by as many `E`: separators are then found outside them."""
    return _EXPR.sub(lambda m: "E" * len(m.group(0)), text)


class Reference(NamedTuple):
    repository: str  # the reference without its tag and digest
    tag: str  # what follows the `:` ("" when none is written)
    tag_in_expression: bool  # the last part is one expression that may carry the tag itself


def split_reference(text: str) -> Reference:
    text = text.strip()
    masked = _masked(text)
    if "@" in masked:
        text, masked = text[:masked.index("@")], masked[:masked.index("@")]
    slash = masked.rfind("/")
    colon = masked.find(":", slash + 1)
    if colon >= 0:
        return Reference(text[:colon], text[colon + 1:], False)
    last = text[slash + 1:]
    return Reference(text, "", bool(_EXPR.fullmatch(last)))


def _components(repository: str) -> list[str]:
    """The path parts of a repository that name the image the same way every run, registry host
    left out; the parts before an unstable one (`${{ steps.x.outputs.name }}/app`) are dropped."""
    masked = _masked(repository)
    parts, start = [], 0
    for i, ch in enumerate(masked + "/"):
        if ch == "/":
            parts.append(repository[start:i])
            start = i + 1
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    kept: list[str] = []
    for part in reversed(parts):
        if not part or not all(_STABLE.fullmatch(m.group(0)) for m in _EXPR.finditer(part)):
            break
        kept.insert(0, _slug(part))
    return [p for p in kept if p]


def short_scope(repository: str) -> str:
    """A gha scope for one image: the last stable part of its repository path (`ghcr.io/acme/app`
    -> `app`), as ``scope_names`` starts from; a shell variable (`$IMAGE` in a loop) stays one."""
    last = repository.rstrip("/").rsplit("/", 1)[-1]
    if "$" in last.replace("${{", ""):
        return last
    parts = _components(repository)
    return parts[-1] if parts else "image"


_TAG_SAFE = re.compile(r"[A-Za-z0-9_.-]+")
_MATRIX_KEY = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")


def _combos(text: str, job: str) -> list[dict] | None:
    """The matrix entries of workflow job ``job`` (``text`` is the workflow), or None."""
    combos = _matrices(text).get(job, [None])
    return None if combos == [None] else combos


@functools.lru_cache(maxsize=8)
def _matrices(text: str) -> dict[str, list]:
    """Each job's matrix entries, read once per workflow text (every step of a matrix asks)."""
    from aicache_lint.ci import load_yaml
    from aicache_lint.ci.workflows import expand_matrix

    doc, _ = load_yaml("workflow", text)
    jobs = doc.get("jobs") if isinstance(doc, dict) else None
    return {str(name): expand_matrix(job) for name, job in (jobs.items() if isinstance(jobs, dict) else ())
            if isinstance(job, dict)}


def _split(combos: list[dict], keys) -> set:
    """How the values of ``keys`` group the entries (the entries each value combination names)."""
    groups: dict[tuple, set] = {}
    for i, c in enumerate(combos):
        groups.setdefault(tuple(str(c.get(k)) for k in keys), set()).add(i)
    return {frozenset(g) for g in groups.values()}


def matrix_keys(text: str) -> list[str]:
    return [m.group(1) for m in _MATRIX_KEY.finditer(text)]


def tells_apart(text: str, job: str, written: str, variants: tuple[str, ...]) -> bool | None:
    """Whether the matrix values in ``written`` (a scope) differ wherever the ``variants`` do:
    each image of the matrix then has its own. None when the matrix cannot be read."""
    combos = _combos(text, job)
    if combos is None:
        return None
    wanted = _split(combos, [k for v in variants for k in matrix_keys(v)])
    # entries that share a scope value must be one image: each scope group inside an image group
    return all(any(h <= g for g in wanted) for h in _split(combos, matrix_keys(written)))


def tag_variants(text: str, job: str, variants: tuple[str, ...]) -> list[str] | None:
    """The matrix expressions a registry cache tag can carry to tell a job's entries apart as
    ``variants`` do: a variant whose values all fit in a tag stays; one that does not
    (`base_image: quay.io/ascend/cann:9.1.0-...`) is replaced by the fewest other matrix keys
    whose values fit and tell the same entries apart (`device`, `os`). None when none do, or the
    matrix cannot be read (``text`` is the workflow)."""
    import itertools

    keys = [m.group(1) for v in variants for m in [_MATRIX_KEY.fullmatch(v)] if m]
    if len(keys) < len(variants):
        return None  # an action input: its values are not known here
    if not keys:
        return list(variants)
    combos = _combos(text, job)
    if combos is None:
        return None

    def fits(key: str) -> bool:
        return all(isinstance(c.get(key), (str, int)) and _TAG_SAFE.fullmatch(str(c.get(key))) for c in combos)

    if all(fits(k) for k in keys):
        return list(variants)
    wanted = _split(combos, keys)
    candidates = [k for k in dict.fromkeys(k for c in combos for k in c) if fits(k)]
    for size in range(1, len(candidates) + 1):
        for chosen in itertools.combinations(candidates, size):
            if _split(combos, chosen) == wanted:
                return [f"${{{{ matrix.{k} }}}}" for k in chosen]
    return None


def tag_slug(tag: str) -> str:
    """A tag as part of another tag name (`latest-deps`, `cu12.4`): tags allow `[A-Za-z0-9_.-]`."""
    return _slug(tag) or "tag"


def _slug(part: str) -> str:
    """Lower-case letters, digits, `.`, `_`, `-` outside expressions; expressions kept as written."""
    out, pos = [], 0
    for m in _EXPR.finditer(part):
        out.append(re.sub(r"[^a-z0-9._-]+", "-", part[pos:m.start()].lower()))
        out.append(m.group(0))
        pos = m.end()
    out.append(re.sub(r"[^a-z0-9._-]+", "-", part[pos:].lower()))
    return "".join(out).strip("-")


def _dockerfile_components(dockerfile: str | None) -> list[str]:
    """`docker/lerobot-gpu/Dockerfile` -> [docker, lerobot-gpu]; `Dockerfile.cuda` -> [cuda]; one
    written as an expression -> [the expression]."""
    if not dockerfile:
        return ["dockerfile"]
    if _EXPR.search(dockerfile):
        return [_slug(dockerfile)]
    path = posixpath.normpath(dockerfile.replace("\\", "/"))
    folder, name = posixpath.split(path)
    parts = [p for p in folder.split("/") if p not in ("", ".", "..")]
    low = name.lower()
    stem = low.removeprefix("dockerfile").lstrip(".-_") or low.removesuffix("dockerfile").rstrip(".-_")
    if low != "dockerfile" and stem:
        parts.append(stem)
    return [c for c in (_slug(p) for p in parts) if c] or ["dockerfile"]


# -- the build steps of the repository ----------------------------------------------------------

class StepBuild(NamedTuple):
    path: str  # the workflow or action file, absolute
    step: Step
    tag: str | None  # the first tag as written (a metadata-action step's first image), or None
    dockerfile: str | None  # as the build records name it, or as the inputs write it
    target: str | None  # the stage built, as written
    variants: tuple[str, ...]  # `${{ matrix.x }}` / `${{ inputs.x }}` that make the builds of a step different images
    last_line: int  # the step's last line
    reference: Reference | None  # the tag split into repository and tag (None: no tag)

    @property
    def image(self) -> str:
        """How a message names the image: its first tag, or the Dockerfile it builds."""
        if self.tag:
            return f"`{self.tag}`"
        stage = f"stage `{self.target}` of " if self.target else ""
        return f"the image of {stage}`{self.dockerfile or 'Dockerfile'}`"

    @property
    def key(self) -> tuple:
        """What makes two steps build the same image (and share a scope): repository, Dockerfile
        and target."""
        ref = self.reference
        return (ref.repository if ref else None, self.dockerfile, self.target)

    def components(self) -> list[str]:
        ref = self.reference
        return (_components(ref.repository) if ref else []) or _dockerfile_components(self.dockerfile)


def step_input(step: Step, name: str) -> str | None:
    """The text of an input of the step's `with:`; None when absent, "" when not a string."""
    from aicache_lint.compose.model import Scalar

    node = step.inputs.get(name) if step.inputs is not None else None
    node = node.target if node is not None else None
    if node is None:
        return None
    return node.value or "" if isinstance(node, Scalar) else ""


def first_tag(step: Step, all_steps: list[Step]) -> str | None:
    """The first tag a build step writes; for `${{ steps.meta.outputs.tags }}` the first image
    of that docker/metadata-action step (its tags then follow the image name)."""
    from aicache_lint.ci.workflows import list_input

    tags = list_input(step_input(step, "tags"))
    if not tags:
        return None
    meta = _META_TAGS.fullmatch(tags[0].strip())
    if meta is None:
        return tags[0].strip()
    for other in all_steps:
        found = other.node.get("id")
        if other.job_node is step.job_node and found is not None and getattr(found.target, "value", None) == meta.group(1):
            images = list_input(step_input(other, "images"))
            return images[0].partition(",")[0].strip() if images else None
    return None


def _dockerfile(ws: "Workspace", path: str, step: Step) -> str | None:
    """The Dockerfile a step builds, as messages name it: as written when a matrix or an input
    picks it (`${{ matrix.dockerfile }}`: one path per entry), else as the build records read it."""
    written = step_input(step, "file")
    if written and _VARYING.search(written):
        return written.strip()
    for inv in invocations_of(ws, path, step):
        if inv.dockerfile:
            from aicache_lint.ci import shown_path

            return shown_path(inv.dockerfile, path, ws.root)
    file, context = step_input(step, "file"), step_input(step, "context")
    if file:
        return file.strip()
    return posixpath.join(context.strip(), "Dockerfile") if context and "://" not in context else "Dockerfile"


def _image_part(value: str | None, name: str) -> str:
    """What of an input says which image is built: of `tags`, the repositories and the matrix
    values in their tags (`app:cu${{ matrix.cuda }}` is another image per entry; an action's
    `:${{ inputs.version }}` is the same image, next version)."""
    from aicache_lint.ci.workflows import list_input

    if name != "tags":
        return value or ""
    parts = []
    for tag in list_input(value):
        ref = split_reference(tag)
        parts += [ref.repository, *_MATRIX.findall(ref.tag)]
    return " ".join(parts)


_ENV_EXPR = re.compile(r"\$\{\{\s*env\.([\w-]+)\s*\}\}")


def _resolved(ws: "Workspace", path: str, step: Step, tag: str | None, root) -> str | None:
    """The tag with the workflow's `env`/`vars` expressions as the build records resolve them
    (`${{ env.IMAGE }}` -> `huggingface/lerobot-gpu:latest`); matrix and input expressions stay,
    since they tell the entries of a matrix apart. When the build records drop the tag (a part only
    the run knows: `:${{ steps.vars.outputs.sha }}`), the `env.X` the workflow, job and step set
    literally are still put in (kuberay's `quay.io/${{env.REPO_ORG}}/${{env.REPO_NAME}}:...`)."""
    if tag is None or "${{" not in tag or _VARYING.search(tag):
        return tag
    resolved = {inv.tags[0] for inv in invocations_of(ws, path, step) if inv.tags}
    if len(resolved) == 1:
        return resolved.pop()
    env: dict[str, str] = {}
    for owner in (root, step.job_node, step.node):
        env.update(_literal_env(owner))
    return _ENV_EXPR.sub(lambda m: env.get(m.group(1), m.group(0)), tag)


def _literal_env(owner) -> dict[str, str]:
    """The `env:` entries of a workflow, job or step mapping whose values hold no expression."""
    from aicache_lint.compose.model import Mapping, Scalar

    node = owner.get("env") if isinstance(owner, Mapping) else None
    node = node.target if node is not None else None
    if not isinstance(node, Mapping):
        return {}
    return {p.name: p.value.target.value for p in node.pairs
            if isinstance(p.value.target, Scalar) and p.value.target.value and "${{" not in p.value.target.value}


def file_step_builds(ws: "Workspace", path: str) -> list[StepBuild]:
    """The `docker/build-push-action` steps of one workflow or action file."""
    file = ws.build_file(path)
    if file is None or file.kind not in ("workflow", "action"):
        return []
    source = file.source
    all_steps = steps(file)
    out = []
    for step in all_steps:
        if step.uses != BUILD_PUSH:
            continue
        tag = _resolved(ws, path, step, first_tag(step, all_steps), file.yaml.root)
        variants = [v for name in _IMAGE_INPUTS for v in _VARYING.findall(_image_part(step_input(step, name), name))]
        target = (step_input(step, "target") or "").strip() or None
        out.append(StepBuild(os.path.abspath(path), step, tag, _dockerfile(ws, path, step), target,
                             tuple(dict.fromkeys(variants)), source.line_of(step.node.span.end),
                             split_reference(tag) if tag else None))
    return out


def step_builds(ws: "Workspace", path: str) -> list[StepBuild]:
    """Every build step of the repository's workflows, and of ``path`` (a local action is not
    among the workflows)."""
    return _builds_and_key(ws, path)[0]


def per_project(ws: "Workspace", path: str, name: str, compute: Callable[[list[StepBuild]], Any]) -> Any:
    """``compute(step_builds(ws, path))``, worked out once per run: every workflow of the project
    asks the same question (once per file would be quadratic in the number of workflows)."""
    suffix = _builds_and_key(ws, path)[1]
    # the builds are asked for inside: the cached value then records the files they were read from
    return ws.cached((name, *suffix), lambda: compute(_builds_and_key(ws, path)[0]))


def step_scope_names(ws: "Workspace", path: str) -> dict[tuple, str]:
    return per_project(ws, path, "ci-scope-names", scope_names)


def repository_tags(ws: "Workspace", path: str) -> dict[str, set[str]]:
    """The tags each repository is pushed with by the project's build steps."""
    def collect(builds: list[StepBuild]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for b in builds:
            if b.reference is not None:
                found.setdefault(b.reference.repository, set()).add(b.reference.tag)
        return found

    return per_project(ws, path, "ci-repository-tags", collect)


def _builds_and_key(ws: "Workspace", path: str) -> tuple[list[StepBuild], tuple]:
    def build():
        # each file's steps on their own: a fix of one workflow parses that one again, not all
        return [b for p in ws.build_files_of("workflow") for b in ws.cached(
            ("ci-file-step-builds", os.path.abspath(p)), lambda p=p: file_step_builds(ws, p))]

    found = ws.cached(("ci-step-builds",), build)
    here = os.path.abspath(path)
    if here in ws.cached(("ci-step-build-paths",), lambda: {b.path for b in ws.cached(("ci-step-builds",), build)}):
        return found, ()
    # the workflows' steps are asked for inside, so this value also rests on the files they read
    return ws.cached(("ci-step-builds", here),
                     lambda: ws.cached(("ci-step-builds",), build) + file_step_builds(ws, path)), (here,)


def scope_names(builds: list[StepBuild]) -> dict[tuple, str]:
    """A gha scope per image (``StepBuild.key``): the last part of its repository path, more of
    the path when two images would get the same name, then the Dockerfile's folder; the matrix
    expressions that tell the entries of a matrix apart are added, so each entry has its own."""
    parts = {b.key: b.components() for b in builds}
    depth = dict.fromkeys(parts, 1)

    def name(key) -> str:
        return "-".join(parts[key][-depth[key]:])

    while True:
        by_name: dict[str, list] = {}
        for key in parts:
            by_name.setdefault(name(key), []).append(key)
        grew = False
        for keys in by_name.values():
            for key in keys if len(keys) > 1 else ():
                if depth[key] < len(parts[key]):
                    depth[key] += 1
                    grew = True
        if not grew:
            break
    names = {key: name(key) for key in parts}
    counts: dict[str, int] = {}
    for value in names.values():
        counts[value] = counts.get(value, 0) + 1
    for key, value in names.items():  # one repository built from several Dockerfiles or targets
        if counts[value] > 1:
            dockerfiles = {k[1] for k in names if names[k] == value}
            parts = [_dockerfile_components(key[1])[-1]] if len(dockerfiles) > 1 else []
            parts += [_slug(key[2])] if key[2] and not _VARYING.fullmatch(key[2]) else []
            names[key] = "-".join([value, *parts])
    out = {}
    for b in builds:
        scope = names[b.key]
        extra = [v for v in b.variants if v not in scope]
        out[(b.path, b.step.line)] = "-".join([scope, *extra])
    return out


def build_of(builds: list[StepBuild], inv: "Invocation") -> StepBuild | None:
    """The step that declares ``inv`` (a build record of a workflow or action step)."""
    here = os.path.abspath(inv.origin.path)
    for b in builds:
        if b.path == here and b.step.line <= inv.origin.line <= b.last_line:
            return b
    return None


# -- edits --------------------------------------------------------------------------------------

def add_inputs(source: "SourceText", all_steps: list[Step], step: Step,
               values: list[tuple[str, str]]) -> list["Edit"] | None:
    """Add ``values`` (`cache-from`, `cache-to`) to the step's `with:` in the style of its entries;
    create `with:` after the step's last key when it has none. None when the step or its `with:`
    is not something a plain insertion can extend (a flow-style step, `with:` an alias or empty)."""
    from aicache_lint.compose.edits import append_to_mapping, block_value, merge_inserts
    from aicache_lint.compose.model import BLOCK
    from aicache_lint.fix import Edit

    if step.inputs is not None:
        edits = []
        for name, value in values:
            found = append_to_mapping(source, step.inputs, name, value, plain_in_block=True)
            if found is None:
                return None
            edits += found
        return merge_inserts(edits)
    node = step.node
    if node.own("with") is not None or node.style != BLOCK or node.indent is None or not node.pairs:
        return None
    last = node.pairs[-1]
    at = source.line_end(source.line_of(max(last.key.span.end, last.value.span.end)))
    child = node.indent + _with_offset(all_steps)
    lines = [f"\n{' ' * node.indent}with:"] + [f"\n{' ' * child}{name}: {block_value(value)}" for name, value in values]
    return [Edit.insert(at, "".join(lines))]


def _with_offset(all_steps: list[Step]) -> int:
    """How far this file indents a step's inputs under `with:` (2 when no step shows it)."""
    for other in all_steps:
        inputs = other.inputs
        if inputs is not None and inputs.indent is not None and other.node.indent is not None \
                and inputs.indent > other.node.indent:
            return inputs.indent - other.node.indent
    return 2


def set_attribute(entry: CacheEntry, span: "Span", key: str, value: str) -> "Edit":
    """The edit that makes ``key=value`` an attribute of the entry written at ``span``: its
    value replaced when the entry has the key, else `,key=value` added at its end."""
    from aicache_lint.fix import Edit

    if key in entry.attrs:
        for m in re.finditer(rf"(?:^|,)\s*{re.escape(key)}\s*=\s*", entry.text, re.IGNORECASE):
            start = span.start + m.end()
            return Edit(start, start + len(entry.attrs[key]), value)
    return Edit.insert(span.end, f",{key}={value}")
