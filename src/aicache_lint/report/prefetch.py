"""`aicache-lint models --prefetch-script`: a POSIX sh script that warms one shared Hugging Face
cache with every model the inventory found.

`hf download REPO [--repo-type dataset|space] [--revision REV]` stores a repository in
`$HF_HUB_CACHE`, by default `$HF_HOME/hub` (DOMAIN §2.7 and §3.1; huggingface_hub CLI guide,
https://huggingface.co/docs/huggingface_hub/guides/cli#hf-download): without `--repo-type` it
asks for a model repository, so a dataset or Space downloaded with `repo_type=` keeps its type,
and one whose type the code computes is a comment. A model given only by a
variable is downloaded as `"${VAR:-default}"` when the code has a default; what `hf download`
cannot fetch (openai-whisper, torch.hub, torchvision weights, names that are not `org/name`
repository ids) is listed as comments saying what fetches it. Services then mount the warm cache
and set `HF_HUB_OFFLINE=1` (huggingface_hub never calls the Hub then; DOMAIN §3.1).
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aicache_lint.models import Inventory, Model

DEFAULT_HF_HOME = "/data/.huggingface"
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN = re.compile(r"[\w./:@+-]+")  # a default that needs no escaping inside "${VAR:-...}"


def hf_home(inventory: "Inventory", given: str | None) -> tuple[str, str]:
    """The HF_HOME the script fills, and why that one."""
    if given:
        return given, "given with --hf-home"
    homes: dict[str, list[str]] = {}
    kept: dict[str, int] = {}  # how many of its services keep their downloads on a volume
    for service in inventory.services:
        if service.hf_home:
            homes.setdefault(service.hf_home, []).append(service.name)
            on_volume = any(m.kept.kind == "volume" for m in service.models)
            kept[service.hf_home] = kept.get(service.hf_home, 0) + on_volume
    if not homes:
        return DEFAULT_HF_HOME, "no service sets an absolute HF_HOME: this script's default"
    home = min(homes, key=lambda h: (-len(homes[h]), -kept[h], h))  # ties: the one a volume keeps
    users = sorted(homes[home])
    setting = sum(len(v) for v in homes.values())
    return home, f"set by {len(users)} of the {setting} services that set one ({', '.join(users)})"


def script(inventory: "Inventory", given: str | None = None) -> str:
    home, why = hf_home(inventory, given)
    # An image's load whose variable the service running it sets is fetched with that value only.
    set_by_service = {(m.path, m.line, m.variable) for s in inventory.services for m in s.models
                      if m.variable and m.value_from in ("environment", "env_file")}
    models = [m for s in inventory.services for m in s.models]
    models += [m for i in inventory.images for m in i.models
               if m.value_from != "default" or (m.path, m.line, m.variable) not in set_by_service]
    downloads: dict[str, list[str]] = {}  # command -> where it is used
    notes: dict[str, list[str]] = {}  # comment -> where
    for m in models:
        command, note = _line(m)
        target = downloads if command else notes
        target.setdefault(command or note, []).append(f"{m.path}:{m.line}" if m.line is not None else m.path)
    lines = [
        "#!/bin/sh",
        "# Warms one shared Hugging Face cache with the models this project loads",
        "# (written by `aicache-lint models --prefetch-script`). `hf download REPO` stores REPO in",
        "# $HF_HOME/hub (https://huggingface.co/docs/huggingface_hub/guides/cli#hf-download).",
        "# Run it where HF_HOME is the storage the services mount (a host directory or a volume).",
        "set -eu",
        "",
        f"# HF_HOME: {why}",
        f"export HF_HOME={shlex.quote(home)}",
        "",
    ]
    if not downloads:
        lines.append("# No model from the Hugging Face Hub was found.")
    for command in sorted(downloads):
        lines.append(f"# {', '.join(sorted(set(downloads[command])))}")
        lines.append(command)
    if notes:
        lines += ["", "# Not fetched by this script:"]
        lines += [f"# - {note} ({', '.join(sorted(set(where)))})" for note, where in sorted(notes.items())]
    lines += [
        "",
        "# Once the cache is warm, give each service that loads these models the same storage and",
        "# keep it offline, in its Compose file:",
        f"#   volumes:     [\"<the storage above>:{home}\"]",
        f"#   environment: {{HF_HOME: {home}, HF_HUB_OFFLINE: \"1\"}}",
        "# With HF_HUB_OFFLINE=1 huggingface_hub reads the cache only and never calls the Hub.",
    ]
    lost = sorted({s.name for s in inventory.services for m in s.models if m.hub and m.kept.kind == "container"})
    if lost:
        lines.append(f"# These services keep their downloads in no volume today: {', '.join(lost)}.")
    return "\n".join(lines) + "\n"


def _line(m: "Model") -> tuple[str | None, str]:
    """(`hf download …` for the script, else the comment that says why not)."""
    from aicache_lint.models import NOT_HUB
    from aicache_lint.report.models import name

    revision = f" --revision {shlex.quote(m.revision)}" if m.revision else ""
    if m.repo_type and m.repo_type != "model":  # `hf download` fetches a model repository unless told
        revision = f" --repo-type {shlex.quote(m.repo_type)}{revision}"
    if m.library in NOT_HUB:
        return None, f"{m.call} `{m.model or m.expression or '?'}`: fetched by {NOT_HUB[m.library]}, not the Hub"
    if m.repo_type == "":
        return None, f"{name(m)}: its repository type is computed; not known here"
    if m.own_cache:  # the load reads its own directory: a copy in HF_HOME's cache would not be used
        return None, f"{name(m)}: loaded from its own directory ({m.cache or 'not known'}, {m.cache_from}), " \
                     "not from HF_HOME: drop that argument to share this cache"
    if m.model is not None and m.value_from != "default":
        if m.hub:
            return f"hf download {shlex.quote(m.model)}{revision}", ""
        return None, f"{m.call} `{m.model}`: not an `org/name` repository id; {m.library or 'the library'} resolves it"
    if m.variable is not None and m.default is not None and m.hub:
        if _VARIABLE.fullmatch(m.variable) and _PLAIN.fullmatch(m.default):
            return f'hf download "${{{m.variable}:-{m.default}}}"{revision}', ""
    if m.variable is not None:
        return None, f"{name(m)}: set `{m.variable}` where it runs"
    return None, f"{name(m)}: not known here"
