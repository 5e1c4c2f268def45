"""A minimal, anonymous client of the OCI distribution API (Docker Hub, nvcr.io, ghcr.io ...).

Endpoints (OCI distribution-spec): ``GET /v2/<name>/tags/list`` (paginated with ``n``/``last`` and
a ``Link: <...>; rel="next"`` header), ``HEAD /v2/<name>/manifests/<reference>`` for the
``Docker-Content-Digest`` header, and for an image's config ``GET /v2/<name>/manifests/<reference>``
(an index names one manifest per platform; OCI image-spec ``image-index.md``), the platform's
manifest, then ``GET /v2/<name>/blobs/<digest>`` of the manifest's ``config`` (``config.md``: its
``config`` object holds ``User``, ``Env``, ``WorkingDir``). A 401 with ``WWW-Authenticate: Bearer
realm=...,service=...,scope=...`` is answered with an anonymous token from the realm (the Docker
token protocol).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import NamedTuple

from aicache_lint import __version__
from aicache_lint.images.reference import DOCKER_HUB
from aicache_lint.knowledge.requirements import normalize

# Asking for indexes first gets the digest of the multi-platform image, which pins every platform.
MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
PLATFORM = {"os": "linux", "architecture": "amd64"}  # the image whose config is read
CONFIG_KEYS = ("User", "Env", "WorkingDir")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
MAX_PAGES = 200  # a registry that keeps sending "next" links is not followed forever
USER_AGENT = f"aicache-lint/{__version__}"
PYPI = "pypi.org"  # the package index sizes come from (a `registry-mirrors` entry for it is asked instead)
PYPI_JSON = "application/vnd.pypi.simple.v1+json"
HF = "huggingface.co"  # the model hub sizes come from (a `registry-mirrors` entry or $HF_ENDPOINT is asked instead)


class RegistryError(Exception):
    """A question the registry did not answer; the message says why, for the user."""


class NotFound(RegistryError):
    """The registry answered: no such repository or tag."""


class Response(NamedTuple):
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


class RegistryClient:
    def __init__(self, timeout: float = 5.0, mirrors: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self.mirrors = {host.lower(): url.rstrip("/") for host, url in (mirrors or {}).items()}
        # huggingface_hub's own endpoint variable: where the user reaches the Hub (hf-mirror.com...)
        if HF not in self.mirrors and os.environ.get("HF_ENDPOINT", "").strip():
            self.mirrors[HF] = os.environ["HF_ENDPOINT"].strip().rstrip("/")
        self._tokens: dict[str, str] = {}  # scope -> bearer token

    def endpoint(self, registry: str) -> str:
        """The base URL for ``registry`` (``docker.io`` is served by registry-1.docker.io)."""
        if registry in self.mirrors:
            return self.mirrors[registry]
        return "https://registry-1.docker.io" if registry == DOCKER_HUB else f"https://{registry}"

    def tags(self, registry: str, repository: str) -> list[str]:
        base = self.endpoint(registry)
        url = f"{base}/v2/{repository}/tags/list?n=1000"
        tags: list[str] = []
        for _ in range(MAX_PAGES):
            response = self._request("GET", url, registry, repository, repository)
            try:
                page = json.loads(response.body.decode("utf-8"))
                tags.extend(str(t) for t in page.get("tags") or [])
            except (ValueError, AttributeError):
                raise RegistryError(f"{registry} sent a tag list that is not JSON") from None
            link = _NEXT_LINK.search(response.headers.get("link", ""))
            if not link:
                return tags
            url = urllib.parse.urljoin(url, link.group(1))
        raise RegistryError(f"{registry} sent more than {MAX_PAGES} pages of tags for {repository}")

    def digest(self, registry: str, repository: str, reference: str) -> str:
        url = f"{self.endpoint(registry)}/v2/{repository}/manifests/{reference}"
        response = self._request("HEAD", url, registry, repository, f"{repository}:{reference}", MANIFEST_TYPES)
        digest = response.headers.get("docker-content-digest", "")
        if not _DIGEST.fullmatch(digest):
            raise RegistryError(f"{registry} sent no sha256 digest for {repository}:{reference}")
        return digest

    def _manifest(self, registry: str, repository: str, reference: str) -> tuple[dict, str]:
        """The linux/amd64 image manifest ``reference`` (a tag or a digest) names, and how errors
        name it."""
        base = f"{self.endpoint(registry)}/v2/{repository}"
        what = f"{repository}@{reference}" if _DIGEST.fullmatch(reference) else f"{repository}:{reference}"
        response = self._request("GET", f"{base}/manifests/{reference}", registry, repository, what, MANIFEST_TYPES)
        manifest = _json_object(response.body, registry, f"the manifest of {what}")
        if isinstance(manifest.get("manifests"), list):  # an index: pick the platform's manifest
            digest = _platform_manifest(manifest["manifests"])
            if digest is None:
                raise NotFound(f"{registry} has no linux/amd64 image of {what}")
            response = self._request("GET", f"{base}/manifests/{digest}", registry, repository, what, MANIFEST_TYPES)
            manifest = _json_object(_verified(response.body, digest, registry), registry, f"the manifest of {what}")
        return manifest, what

    def compressed_size(self, registry: str, repository: str, reference: str) -> int:
        """What pulling the linux/amd64 image ``reference`` downloads: the sizes of its layers, as
        its manifest lists them (compressed, as Docker Hub shows them)."""
        manifest, what = self._manifest(registry, repository, reference)
        layers = manifest.get("layers")
        sizes = [layer.get("size") for layer in layers if isinstance(layer, dict)] if isinstance(layers, list) else []
        if not layers or not all(isinstance(n, int) and n >= 0 for n in sizes):
            raise RegistryError(f"{registry} sent a manifest without layer sizes for {what}")
        return sum(sizes)

    def config(self, registry: str, repository: str, reference: str) -> dict:
        """``User``, ``Env`` and ``WorkingDir`` of the linux/amd64 image ``reference`` (a tag or a
        digest) names, as its config blob has them (missing keys left out)."""
        base = f"{self.endpoint(registry)}/v2/{repository}"
        manifest, what = self._manifest(registry, repository, reference)
        descriptor = manifest.get("config")
        digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise RegistryError(f"{registry} sent a manifest without a config digest for {what}")
        response = self._request("GET", f"{base}/blobs/{digest}", registry, repository, what)
        blob = _json_object(_verified(response.body, digest, registry), registry, f"the config of {what}")
        config = blob.get("config") or {}  # null for an image with no settings
        if not isinstance(config, dict):
            raise RegistryError(f"{registry} sent a config of {what} that is not an object")
        return {key: config[key] for key in CONFIG_KEYS if config.get(key) is not None}

    def package_files(self, name: str) -> dict:
        """The package index's JSON page of project ``name`` (PEP 691: its files with their sizes,
        PEP 700: its versions), from pypi.org or the mirror configured for it."""
        project = normalize(name)
        return self._get_json(self.package_page(name), PYPI, PYPI_JSON, project, (404,),
                              f"{PYPI} has no project {project}", f"the page of {project}")

    def package_page(self, name: str) -> str:
        """The URL of the package index's page of project ``name``, on the mirror if one is set."""
        return f"{self.mirrors.get(PYPI, f'https://{PYPI}')}/simple/{normalize(name)}/"

    def model_info(self, repo_id: str, revision: str | None = None) -> dict:
        """The Hub's JSON about model repository ``repo_id`` at ``revision`` (None: its default
        branch) with every file's size (``?blobs=true``), asked anonymously of huggingface.co or the
        mirror configured for it. A missing or private repository is NotFound (the Hub answers
        anonymous questions about them with 401, huggingface_hub's RepositoryNotFoundError; 403 and
        404 too). A gated repository lists its files to anyone: only downloads need a token."""
        return self._get_json(f"{self.model_api(repo_id, revision)}?blobs=true", HF, "application/json", repo_id,
                              (401, 403, 404), f"{HF} shows no model {repo_id} (HTTP {{status}}: missing or private)",
                              f"the model info of {repo_id}")

    def model_api(self, repo_id: str, revision: str | None = None) -> str:
        """The URL of the Hub's model API for ``repo_id`` (and ``revision``), on the mirror if one is set."""
        path = urllib.parse.quote(repo_id, safe="/")
        if revision is not None:
            path += "/revision/" + urllib.parse.quote(revision, safe="")
        return f"{self.mirrors.get(HF, f'https://{HF}')}/api/models/{path}"

    def _get_json(self, url: str, host: str, accept: str, subject: str, missing: tuple[int, ...], gone: str,
                  what: str) -> dict:
        """The JSON object at ``url`` of ``host`` (an index or a hub: asked anonymously, no token
        flow); a status in ``missing`` is NotFound(``gone``, with ``{status}`` filled in)."""
        response = self._send("GET", url, host, accept, None)
        if response.status in missing:
            raise NotFound(gone.format(status=response.status))
        if response.status == 429:
            raise RegistryError(f"{host} is rate-limiting requests (HTTP 429)")
        if response.status != 200:
            raise RegistryError(f"{host} answered HTTP {response.status} for {subject}")
        return _json_object(response.body, host, what)

    # -- HTTP ---------------------------------------------------------------------------------

    def _request(self, method: str, url: str, registry: str, repository: str, what: str,
                 accept: str | None = None) -> Response:
        """The 200 answer to ``url`` (asked anonymously, with a token when challenged); ``what``
        names the thing asked for in errors."""
        scope = f"repository:{repository}:pull"
        response = self._send(method, url, registry, accept, self._tokens.get(scope))
        if response.status == 401:
            token = self._token(response.headers.get("www-authenticate", ""), registry, scope)
            response = self._send(method, url, registry, accept, token)
        if response.status == 200:
            return response
        if response.status == 404:
            raise NotFound(f"{registry} has no {what}")
        if response.status == 401:
            raise RegistryError(f"{registry} refused anonymous access to {repository} (HTTP 401)")
        if response.status == 429:
            wait = response.headers.get("retry-after")
            retry = f", retry after {wait} s" if wait else ""
            raise RegistryError(f"{registry} is rate-limiting requests (HTTP 429{retry})")
        raise RegistryError(f"{registry} answered HTTP {response.status} for {what}")

    def _token(self, challenge: str, registry: str, scope: str) -> str:
        scheme, _, params_text = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        if scheme.lower() != "bearer" or "realm" not in params:
            asked = scheme or "no challenge"
            raise RegistryError(f"{registry} asks for credentials aicache-lint does not have ({asked})")
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + urllib.parse.urlencode(query)
        response = self._send("GET", url, registry, None, None)
        if response.status != 200:
            raise RegistryError(f"{registry} refused an anonymous token (HTTP {response.status})")
        try:
            answer = json.loads(response.body.decode("utf-8"))
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{registry} sent a token answer without a token")
        self._tokens[scope] = token
        return token

    def _send(self, method: str, url: str, registry: str, accept: str | None, token: str | None) -> Response:
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        if accept:
            request.add_header("Accept", accept)
        if token:  # not sent on to where a registry redirects blob downloads (a CDN's signed URL)
            request.add_unredirected_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return Response(answer.status, _headers(answer.headers), answer.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return Response(exc.code, _headers(exc.headers), b"")
        except (socket.timeout, TimeoutError):
            raise self._too_slow(registry) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise self._too_slow(registry) from None
            why = getattr(reason, "strerror", None) or reason
            raise RegistryError(f"cannot reach {registry} ({why}){self._via(registry)}") from None
        except (OSError, ValueError) as exc:  # reset connections, malformed answers
            raise RegistryError(f"cannot talk to {registry} ({exc}){self._via(registry)}") from None

    def _too_slow(self, registry: str) -> RegistryError:
        return RegistryError(f"{registry} did not answer within {self.timeout:g} s{self._via(registry)}")

    def _via(self, registry: str) -> str:
        """Which URL was asked, when it is not the registry's own: a configured mirror."""
        return f" (asked through the mirror {self.mirrors[registry]})" if registry in self.mirrors else ""


def _platform_manifest(manifests: list) -> str | None:
    """The digest of the linux/amd64 image among an index's manifests (attestations are
    ``unknown/unknown``)."""
    for entry in manifests:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if isinstance(platform, dict) and all(platform.get(k) == v for k, v in PLATFORM.items()):
            digest = entry.get("digest")
            if isinstance(digest, str) and _DIGEST.fullmatch(digest):
                return digest
    return None


def _verified(body: bytes, digest: str, registry: str) -> bytes:
    """``body`` when it hashes to ``digest`` (content-addressed: anything else is corrupt)."""
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        raise RegistryError(f"{registry} sent content that does not match its digest {digest}")
    return body


def _json_object(body: bytes, registry: str, what: str) -> dict:
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise RegistryError(f"{registry} sent {what} that is not a JSON object")
    return value


def _headers(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in (headers or {}).items()}
