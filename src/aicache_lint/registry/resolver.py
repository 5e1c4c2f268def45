"""What the rules ask the network, with a disk cache, and one message per problem.

A failed registry or Git host is not asked again in the same run: the first failure is reported
(once, by the CLI) and the rules fall back to what they know offline.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from aicache_lint.images.reference import DIGEST, ImageRef, parse_reference
from aicache_lint.knowledge.base_images import ImageFacts
from aicache_lint.registry.cache import DiskCache
from aicache_lint.registry.client import (
    CONFIG_KEYS,
    NotFound,
    RegistryClient,
    RegistryError,
)
from aicache_lint.registry.git import GitError, commit_for, ls_remote
from aicache_lint.settings import user_cache_dir

OFFLINE = "; continuing with what aicache-lint knows offline"
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object ids
# A Hub repository id: `name` or `owner/name`, letters, digits, `-`, `_`, `.` (huggingface_hub's
# validate_repo_id: no `--` or `..`); a shell variable, a path or a URL is not asked about.
_REPO_ID = re.compile(r"(?!.*(?:--|\.\.))\w[\w.-]*(?:/\w[\w.-]*)?")


class LiveTags(NamedTuple):
    tags: tuple[str, ...]
    description: str  # for fix titles: "the registry's tag list of registry-1.docker.io"


class Lookup(NamedTuple):
    value: str | None  # the digest or commit; None when unknown
    missing: bool = False  # the remote answered that it does not exist
    why: str = ""  # when value is None: why, for the finding's message


class Resolver:
    def __init__(self, client: RegistryClient, cache: DiskCache, git_timeout: float) -> None:
        self.client = client
        self.cache = cache
        self.git_timeout = git_timeout
        self._failed: dict[str, str] = {}  # host -> the first failure's message
        self._memo: dict[str, object] = {}
        self.notices: list[str] = []

    def tags(self, reference: str) -> LiveTags | None:
        """Every tag of the repository named by ``reference`` (e.g. ``nvidia/cuda``), or None."""
        image = parse_reference(reference)
        if image is None:
            return None
        key = f"tags {image.registry}/{image.repository}"
        tags = self._ask(key, image.registry, lambda: self.client.tags(image.registry, image.repository),
                         lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v))
        if tags is NotFound:
            notice = f"{image.registry} has no repository `{image.repository}`{OFFLINE}"
            if notice not in self.notices:
                self.notices.append(notice)
            return None
        if tags is None:
            return None
        return LiveTags(tuple(tags), f"the tag list of {image.registry}/{image.repository}")

    def digest(self, image: ImageRef) -> Lookup:
        reference = image.tag or "latest"
        key = f"digest {image.registry}/{image.repository}:{reference}"
        value = self._ask(key, image.registry, lambda: self.client.digest(image.registry, image.repository, reference),
                          lambda v: isinstance(v, str) and DIGEST.fullmatch(v) is not None)
        if value is NotFound:
            return Lookup(None, True, f"{image.registry} has no `{image.repository}:{reference}`")
        return Lookup(value) if value else Lookup(None, why=f"{image.registry} did not answer")

    def image_facts(self, reference: str) -> ImageFacts | None:
        """USER, HOME and environment of the (linux/amd64) image ``reference`` names, from its
        config in the registry; None when the registry does not answer or has no such image."""
        config, missing = self._about_image("config", reference, self.client.config, _is_config)
        if config is NotFound:
            notice = f"{missing}{OFFLINE}"
            if notice not in self.notices:
                self.notices.append(notice)
            return None
        return facts_from_config(reference, config) if isinstance(config, dict) else None

    def image_size(self, reference: str) -> int | None:
        """What pulling the (linux/amd64) image ``reference`` downloads, from its manifest in the
        registry; None when the registry does not answer or has no such image."""
        size, _ = self._about_image("size", reference, self.client.compressed_size,
                                    lambda v: isinstance(v, int) and v >= 0)
        return size if isinstance(size, int) else None

    def package_size(self, name: str, version: str | None) -> tuple[int, str] | None:
        """(bytes, URL) of what installing release ``version`` (None: the newest) of the Python
        package ``name`` downloads on Linux x86_64, CPython 3.12: from the package index's page,
        cached; None when the index does not answer or lists no such file."""
        from aicache_lint.knowledge.requirements import normalize
        from aicache_lint.registry.client import PYPI
        from aicache_lint.registry.pypi import wheel_size

        page = self._ask(f"pypi {normalize(name)}", PYPI, lambda: _sizes_only(self.client.package_files(name)),
                         lambda v: isinstance(v, dict))
        found = wheel_size(page, version) if isinstance(page, dict) else None
        if found is None:
            return None
        size, filename, _ = found
        return size, f"{self.client.package_page(name)}#{filename}"

    def model_size(self, repo_id: str, whole: bool, revision: str | None = None) -> tuple[int, str, str] | None:
        """(bytes, URL, what) of what downloading the Hugging Face model ``repo_id`` fetches: with
        ``whole`` every file (``hf download REPO``), else the weights ``from_pretrained`` takes
        (registry/hf.py); from the Hub's model API, cached; None when the Hub does not answer,
        shows no such model, or (not ``whole``) the repository has no weights a library loads."""
        from aicache_lint.registry.client import HF
        from aicache_lint.registry.hf import load_size, snapshot_size

        if not _REPO_ID.fullmatch(repo_id):  # `${MODEL}`, a path, a URL: nothing to ask the Hub
            return None
        at = f"@{revision}" if revision else ""

        def ask() -> dict:
            info = self.client.model_info(repo_id, revision)
            return {key: list(found) if found else None
                    for key, found in (("whole", snapshot_size(info)), ("load", load_size(info)))}

        sizes = self._ask(f"hf {repo_id.lower()}{at}", HF, ask, _is_model_sizes)
        found = sizes.get("whole" if whole else "load") if isinstance(sizes, dict) else None
        if found is None:
            return None
        return found[0], self.client.model_api(repo_id, revision), f"{repo_id}{at}: {found[1]}"

    def _about_image(self, what: str, reference: str, ask, valid):
        """``ask(registry, repository, tag or digest)`` about the image ``reference`` names,
        through ``_ask`` (cached under ``what``), and the sentence that says the registry lacks the image."""
        image = parse_reference(reference)
        if image is None:
            return None, reference
        pinned = f"@{image.digest}" if image.digest else f":{image.tag or 'latest'}"
        answer = self._ask(f"{what} {image.registry}/{image.repository}{pinned}", image.registry,
                           lambda: ask(image.registry, image.repository, pinned[1:]), valid)
        return answer, f"{image.registry} has no linux/amd64 image `{image.repository}{pinned}`"

    def commit(self, url: str, ref: str | None) -> Lookup:
        key = f"git {url}"
        host = url.split("://", 1)[-1].split("/", 1)[0] or url
        refs = self._ask(key, host, lambda: ls_remote(url, self.git_timeout),
                         lambda v: isinstance(v, dict) and all(isinstance(c, str) and _SHA.fullmatch(c)
                                                               for c in v.values()))
        if not isinstance(refs, dict):
            return Lookup(None, why="the remote did not answer")
        sha = commit_for(refs, ref)
        if sha is not None:
            return Lookup(sha)
        if ref is not None and f"refs/heads/{ref}" in refs and f"refs/tags/{ref}" in refs:
            return Lookup(None, why=f"`{ref}` is both a branch and a tag")
        return Lookup(None, True, f"`git ls-remote {url}` does not list `{ref or 'HEAD'}`")

    def take_notices(self) -> list[str]:
        out = self.notices + self.cache.problems
        self.notices, self.cache.problems = [], []
        return out

    def _ask(self, key: str, host: str, fetch, valid):
        """The cached or fetched answer; NotFound (the class) for a definite "no"; None when unknown.
        A cached answer that ``valid`` rejects is never used: it could end up in a Dockerfile."""
        if key in self._memo:
            return self._memo[key]
        cached = self.cache.get(key)
        if cached is not None and cached != {"not-found": True} and not valid(cached):
            path = self.cache.path(key)
            self.cache.problems.append(f"ignoring the corrupt cache file {path} (not a valid answer for {key})")
            cached = None
        if cached is not None:
            value = NotFound if cached == {"not-found": True} else cached
        elif host in self._failed:
            return None
        else:
            try:
                value = fetch()
                self.cache.put(key, value)
            except NotFound:
                value = NotFound
                self.cache.put(key, {"not-found": True})
            except (RegistryError, GitError) as exc:
                self._failed[host] = str(exc)
                self.notices.append(f"{exc}{OFFLINE}")
                return None
        self._memo[key] = value
        return value


def _sizes_only(page: dict) -> dict:
    """What ``wheel_size`` reads of an index page (torch's full page is megabytes; the cache keeps this)."""
    files = [{k: f.get(k) for k in ("filename", "size", "yanked")}
             for f in page.get("files", []) if isinstance(f, dict)]
    return {"files": files, "versions": [v for v in page.get("versions", []) if isinstance(v, str)]}


def _is_model_sizes(value: object) -> bool:
    """A cached ``model_size`` answer: each of ``whole`` and ``load`` null or [bytes, what]."""
    return isinstance(value, dict) and set(value) == {"whole", "load"} and all(
        v is None or (isinstance(v, list) and len(v) == 2 and isinstance(v[0], int) and v[0] >= 0
                      and isinstance(v[1], str)) for v in value.values())


def _is_config(value: object) -> bool:
    return (isinstance(value, dict) and set(value) <= set(CONFIG_KEYS)
            and isinstance(value.get("User", ""), str) and isinstance(value.get("WorkingDir", ""), str)
            and isinstance(value.get("Env", []), list) and all(isinstance(e, str) for e in value.get("Env", [])))


def facts_from_config(reference: str, config: dict) -> ImageFacts:
    """``ImageFacts`` of an image config's ``User`` (``name``, ``uid``, ``uid:gid``, ``name:group``;
    empty is root) and ``Env``. HOME is the one ``Env`` sets, else not known."""
    name, _, group = config.get("User", "").partition(":")
    root = name in ("", "root", "0")
    uid = 0 if root else int(name) if name.isdigit() else None
    gid = int(group) if group.isdigit() else 0 if root and not group else None
    env = tuple((k, v) for k, _, v in (entry.partition("=") for entry in config.get("Env", [])))
    return ImageFacts("" if root else name, uid, gid, dict(env).get("HOME"), env,
                      origin=f"registry config of {reference}")


_RESOLVERS: dict[tuple, Resolver] = {}


def get_resolver(mirrors: dict[str, str], timeout: float) -> Resolver:
    """One resolver per process and settings, so its memo and failures span every file."""
    directory = user_cache_dir()
    key = (tuple(sorted(mirrors.items())), timeout, directory)
    if key not in _RESOLVERS:
        client = RegistryClient(timeout=timeout, mirrors=mirrors)
        _RESOLVERS[key] = Resolver(client, DiskCache(directory), git_timeout=max(timeout, 10.0))
    return _RESOLVERS[key]


def reset() -> None:
    """Forget every resolver of this process (their memos and failed hosts)."""
    _RESOLVERS.clear()


def take_notices() -> list[str]:
    notices = []
    for resolver in _RESOLVERS.values():
        notices += resolver.take_notices()
    return notices
