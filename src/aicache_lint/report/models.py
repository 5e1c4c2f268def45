"""`aicache-lint models` output: ``render(fmt, inventory)`` for `text` and `json`.

JSON (``version`` 1) -- every field always present, lists sorted, paths relative to the current
directory::

    {"version": 1,
     "images": [{"dockerfile", "target" (the stage its builds name; null: the final stage),
                 "models": [Model], "unresolved": [sentence]}],
     "services": [{"files", "name", "runs" ("build <Dockerfile>" | "image <reference>"),
                   "hf_home" (the absolute HF_HOME it sets, or null), "models": [Model],
                   "unresolved": [sentence]}]}

    Model: {"model" (the id, or null when not known), "variable" (the environment variable that
            names it, or null), "default" (its default in the code), "value_from" (literal |
            environment | env_file | image | default | build (an ARG or ENV at build time) |
            null), "expression" (the code naming a
            model nothing else tells), "revision", "library", "call", "path", "line",
            "when" (build | run), "how" ("RUN hf download" | "RUN python -c / heredoc" |
            "RUN python <script>" | "code" | "command" | "environment"),
            "hub" (true: `hf download <model>` fetches it), "cache" (the directory it fills, or
            null), "cache_from", "kept": {"kind" (image | stage | cache-mount | volume |
            container | unknown), "detail"}, "repo_type" (the Hub repository type given:
            model | dataset | space, "" when the code computes it, null when not given),
            "own_cache" (true: it goes to a directory of its own -- `cache_dir=`, `local_dir=`,
            `--local-dir` -- not to HF_HOME's cache)}

``cache_from``, ``kept.detail`` and ``unresolved`` are sentences for people; the rest is data.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aicache_lint.models import Inventory, Model

FORMATS = ("text", "json")


def render(fmt: str, inventory: "Inventory") -> str:
    return {"text": text, "json": as_json}[fmt](inventory)


def as_json(inventory: "Inventory") -> str:
    from aicache_lint.report._common import plain

    return json.dumps({"version": 1, **plain(inventory)}, indent=2) + "\n"


def text(inventory: "Inventory") -> str:
    lines = ["Images"] if inventory.images else ["Images: no Dockerfile found"]
    for image in inventory.images:
        lines.append(f"  {image.dockerfile}" + (f" (target {image.target})" if image.target else ""))
        lines += _models(image.models, image.unresolved)
    lines.append("Services" if inventory.services else "Services: no Compose service found")
    for service in inventory.services:
        lines.append(f"  {service.name} ({' + '.join(service.files)}): {service.runs}")
        lines += _models(service.models, service.unresolved)
    return "\n".join(lines) + "\n"


def _models(models: list["Model"], unresolved: list[str]) -> list[str]:
    lines = [] if models else ["    no model download found"]
    for m in models:
        at = f"{m.path}:{m.line}" if m.line is not None else m.path
        lines.append(f"    - {name(m)}")
        lines.append(f"      {m.when} time, {m.how}: {m.call} at {at}")
        lines.append(f"      cache: {m.cache or 'not known'} ({m.cache_from}); {m.kept.detail}")
    lines += [f"    unresolved: {u}" for u in unresolved]
    return lines


def name(m: "Model") -> str:
    """The model as a person reads it: its id with where the id comes from."""
    revision = f" @ {m.revision}" if m.revision else ""
    if m.repo_type is not None and m.repo_type != "model":
        revision += f" ({m.repo_type} repository)" if m.repo_type else " (repository type computed)"
    if m.variable is None:
        return f"{m.model}{revision}" if m.model else f"a model `{m.expression}` names" if m.expression else \
            "a model not known here"
    default = f", default `{m.default}`" if m.default is not None else ", no default" if m.value_from != "build" else ""
    if m.value_from in ("environment", "env_file", "image", "build"):
        where = {"environment": "its `environment:`", "env_file": "its `env_file`", "image": "the image's ENV",
                 "build": "the Dockerfile's ARG/ENV"}
        return f"{m.model}{revision} (`{m.variable}` from {where[m.value_from]}{default})"
    if m.model is not None:
        return f"{m.model}{revision} (the default of `{m.variable}`, unless it is set)"
    return f"`${m.variable}` ({default[2:]})"
