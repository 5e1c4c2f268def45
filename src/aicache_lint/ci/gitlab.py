"""`.gitlab-ci.yml` -> build invocations from the `docker build` lines of each job's scripts.

A job's `before_script` (its own, else the `default:` or global one) and `script` run in one
shell, in the repository root (`$CI_PROJECT_DIR`), with the global `variables` and the job's
own as environment variables (https://docs.gitlab.com/ci/yaml/). YAML anchors and `<<` merges
come with the loader; `extends` is followed one level deep (a template extending another template
contributes only its own keys) and `!reference` tags are not followed. Files of the repository the
pipeline `include`s (`local:`) are merged in first. Hidden jobs (`.name`) are templates and build
nothing themselves. `parallel: matrix` variables stay unknown.
"""

from __future__ import annotations

import bisect

from aicache_lint.ci import Read, join, load_yaml
from aicache_lint.ci.commands import UnknownValue, build_invocations, expand
from aicache_lint.workspace.invocations import Invocation, Origin

# Top-level keys that configure the pipeline rather than name a job.
_GLOBAL_KEYS = frozenset({"default", "include", "stages", "variables", "workflow", "image", "services",
                          "before_script", "after_script", "cache", "spec"})


def gitlab_invocations(path: str, text: str, read: Read | None = None) -> tuple[list[Invocation], list[str]]:
    doc, problem = load_yaml(path, text)
    if problem:
        return [], [problem]
    if not isinstance(doc, dict):
        return [], []
    root = _folder(path)
    problems: list[str] = []
    doc = _with_includes(doc, path, root, read, problems)
    default = doc.get("default") if isinstance(doc.get("default"), dict) else {}
    base_env = _variables(doc.get("variables"), {"CI_PROJECT_DIR": root, "CI_BUILDS_DIR": root})
    out: list[Invocation] = []
    for name, job in doc.items():
        if name in _GLOBAL_KEYS or str(name).startswith(".") or not isinstance(job, dict):
            continue
        job = _extended(job, doc, path, problems)
        before = job.get("before_script", default.get("before_script", doc.get("before_script")))
        items = [*_lines(before), *_lines(job.get("script"))]
        if not items:
            continue
        env = _variables(job.get("variables"), base_env)
        origin = Origin("gitlab", getattr(job, "source_path", path), getattr(job, "line", 1), str(name))
        out.extend(_script_invocations(items, origin, root, env))
    return out, problems


_MAX_INCLUDES = 16  # included files, counted over all levels (GitLab allows 150)


def _with_includes(doc: dict, path: str, root: str, read: Read | None, problems: list[str]) -> dict:
    """The pipeline with its `include: local:` files merged in, as GitLab does: included files
    first, in order, then this file, which wins (https://docs.gitlab.com/ci/yaml/includes/). Only
    files of this repository are read; `project:`, `remote:`, `template:` and `component:` includes
    stay unknown. A job keeps the line of the file that defines it last."""
    if read is None or "include" not in doc:
        return doc
    merged: dict = {}
    seen = {path}
    for included in _local_includes(doc, root):
        if included in seen or len(seen) > _MAX_INCLUDES:
            continue
        seen.add(included)
        text = read(included)
        if text is None:
            problems.append(f"{path}:{getattr(doc, 'line', 1)}: included file `{included}` not found")
            continue
        inner, problem = load_yaml(included, text)
        if problem or not isinstance(inner, dict):
            problems.extend([problem] if problem else [])
            continue
        for key, value in inner.items():
            if key != "include":
                if isinstance(value, dict):
                    value.source_path = included  # where a job defined there is reported
                merged[key] = value
    if not merged:
        return doc
    for key, value in doc.items():
        if key in merged and isinstance(value, dict) and isinstance(merged[key], dict):
            both: dict = dict(merged[key])
            _deep_merge(both, value)
            value = type(value)(both)
            value.line = getattr(doc[key], "line", 1)
        merged[key] = value
    out = type(doc)(merged)
    out.line = getattr(doc, "line", 1)
    return out


def _includes_elsewhere(doc: dict) -> bool:
    """The pipeline includes files from outside the repository (another project, a URL, a template)."""
    entries = doc.get("include")
    entries = entries if isinstance(entries, list) else [entries]
    return any(isinstance(e, dict) and e.keys() & {"project", "remote", "template", "component"}
               or isinstance(e, str) and "://" in e for e in entries)


def _local_includes(doc: dict, root: str) -> list[str]:
    """The paths of `include:` entries that name a file of this repository (`local:`, or a bare
    path), relative to the repository root; a wildcard or a variable is left out."""
    entries = doc.get("include")
    entries = entries if isinstance(entries, list) else [entries]
    found = []
    for entry in entries:
        where = entry.get("local") if isinstance(entry, dict) else entry if isinstance(entry, str) else None
        if not isinstance(where, str) or "*" in where or "$" in where or "://" in where:
            continue
        found.append(join(root, where.lstrip("/")))
    return found


def _folder(path: str) -> str:
    folder = path.replace("\\", "/").rpartition("/")[0]
    return folder or "."


def _extended(job: dict, doc: dict, path: str, problems: list[str]) -> dict:
    """The job with the keys of the templates it `extends` (one level) under its own."""
    parents = job.get("extends")
    parents = [parents] if isinstance(parents, str) else parents if isinstance(parents, list) else []
    merged: dict = {}
    for parent in parents:
        template = doc.get(parent)
        if not isinstance(template, dict):
            outside = " (it may come from an include of another project)" if _includes_elsewhere(doc) else ""
            problems.append(f"{path}:{getattr(job, 'line', 1)}: `extends: {parent}` names no job or template{outside}")
            continue
        _deep_merge(merged, template)
    if not merged:
        return job
    _deep_merge(merged, job)
    out = type(job)(merged)
    out.line = getattr(job, "line", 1)
    if hasattr(job, "source_path"):
        out.source_path = job.source_path
    return out


def _deep_merge(into: dict, other: dict) -> None:
    """GitLab's `extends` merge: hashes merge key by key, anything else is replaced."""
    for key, value in other.items():
        if key == "extends":
            continue
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            inner = dict(into[key])
            _deep_merge(inner, value)
            into[key] = inner
        else:
            into[key] = value


def _variables(block, base: dict[str, str]) -> dict[str, str]:
    """``base`` plus a `variables:` block; values use `$OTHER`, and one that cannot be known
    leaves its name unknown."""
    env = dict(base)
    for key, value in (block.items() if isinstance(block, dict) else ()):
        if isinstance(value, dict):  # `NAME: {value: ..., description: ...}`
            value = value.get("value")
        if value is None or isinstance(value, (list, dict)):
            env.pop(str(key), None)
            continue
        try:
            env[str(key)] = expand(str(value).lower() if isinstance(value, bool) else str(value), env)
        except UnknownValue:
            env.pop(str(key), None)
    return env


def _lines(value) -> list:
    """Script items in order; anchors can nest lists in lists."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [line for item in value for line in _lines(item)]
    return []


def _script_invocations(items: list, origin: Origin, root: str, env: dict[str, str]) -> list[Invocation]:
    """One shell runs every item, so variables and `cd` carry over; each build's line is the
    line of the item (and the line inside it) it comes from."""
    starts = []  # first line of each item in the joined script (1-based)
    line = 1
    for item in items:
        starts.append(line)
        line += item.count("\n") + 1
    script = "\n".join(items)
    found = build_invocations(script, origin._replace(line=1), root, env)
    out = []
    for inv in found:
        k = bisect.bisect_right(starts, inv.origin.line) - 1
        item = items[k]
        at = getattr(item, "line", origin.line) + inv.origin.line - starts[k]
        out.append(inv._replace(origin=inv.origin._replace(line=at)))
    return out
