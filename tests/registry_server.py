"""A fake OCI distribution (Docker registry v2) server for tests.

Serves tag lists and manifest digests from an in-memory ``{repo: {tag: digest}}`` mapping on
127.0.0.1 (ephemeral port) in a daemon thread, so registry clients can be tested without the
internet::

    with FakeRegistry({"nvidia/cuda": {"12.4.1-base": "sha256:" + "a" * 64}}) as reg:
        client.resolve(reg.host, "nvidia/cuda", "12.4.1-base")
        assert reg.requests[-1].method == "HEAD"

What it implements:

* the bearer-token challenge flow: ``/v2/...`` answers 401 with ``WWW-Authenticate: Bearer
  realm=<url>/token,service="fake-registry",scope="repository:<repo>:pull"`` until the request
  carries a token issued by ``GET /token`` for that repository (``require_token=False`` skips this);
* ``GET /v2/``, ``GET /v2/<name>/tags/list`` (sorted, paginated with ``n``/``last`` and ``Link``
  headers) and ``HEAD``/``GET /v2/<name>/manifests/<tag-or-digest>``; repository names may contain
  slashes;
* image configs: for a ``configs={repo: {tag: config}}`` entry, the tag's manifest is an OCI index
  listing an attestation, a linux/arm64 image (its config says ``User: "arm64"``) and the
  linux/amd64 image whose config blob holds ``config`` (``index=False``: the tag's manifest is that
  image manifest itself); manifests by digest and ``GET /v2/<name>/blobs/<digest>`` serve them, with
  real sha256 digests. A blob request is redirected (307) to ``/cdn/<digest>``, which refuses
  requests that carry an ``Authorization`` header, like a CDN's signed URL;
* knobs, settable between requests: ``fail_status`` (every authorised ``/v2/`` request answers that
  status; 429 adds ``Retry-After: 60``), ``refuse_token`` (the token endpoint answers 401),
  ``delay`` (seconds to sleep before answering, to provoke client time-outs) and ``corrupt_blobs``
  (blobs are served with a byte changed).

``repositories`` is kept by reference: tests may add or delete tags while the server runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from contextlib import contextmanager
from typing import Any, Iterator, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

SERVICE = "fake-registry"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
IMAGE_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
# The body served for every manifest: an (empty) OCI image index.
MANIFEST_BODY = json.dumps(
    {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": []}, separators=(",", ":")
).encode()

_ERROR_CODES = {
    400: ("UNSUPPORTED", "bad request"),
    401: ("UNAUTHORIZED", "authentication required"),
    403: ("DENIED", "requested access to the resource is denied"),
    404: ("NOT_FOUND", "not found"),
    429: ("TOOMANYREQUESTS", "too many requests"),
}


class Request(NamedTuple):
    """One request as received: ``path`` includes the query string, header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


def _pull_scope(repo: str) -> str:
    return f"repository:{repo}:pull"


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping in ``delay`` must not block shutdown
    registry: FakeRegistry

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out closes its socket before we answer; that is expected here.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: simple and enough for tests

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self.server.registry._handle(self)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``headers``; a HEAD answer announces the length but sends no body."""
        self.send_response(status)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        hdrs["Content-Length"] = str(len(body))
        for name, value in hdrs.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class FakeRegistry:
    """Context manager running a fake registry; see the module docstring."""

    def __init__(
        self,
        repositories: dict[str, dict[str, str]],
        *,
        page_size: int | None = None,
        require_token: bool = True,
        configs: dict[str, dict[str, dict[str, Any]]] | None = None,
        index: bool = True,
        layers: dict[str, dict[str, list[int]]] | None = None,  # repo -> tag -> its layers' sizes
    ) -> None:
        self.repositories = repositories
        self.page_size = page_size
        self.require_token = require_token
        self.corrupt_blobs = False
        self._blobs: dict[str, bytes] = {}  # digest -> manifest or config blob
        self._tag_manifests: dict[tuple[str, str], tuple[str, bytes]] = {}  # (repo, tag) -> (type, body)
        for repo, tags in (configs or {}).items():
            for tag, config in tags.items():
                self._tag_manifests[(repo, tag)] = self._image(config, index, (layers or {}).get(repo, {}).get(tag, []))
        self.requests: list[Request] = []
        self.fail_status: int | None = None
        self.refuse_token = False
        self.delay = 0.0
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}  # issued token -> the scope it grants ("" = none)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> FakeRegistry:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.registry = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = self._thread = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` (only while running)."""
        if self._server is None:
            raise RuntimeError("FakeRegistry is not running; use it as a context manager")
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (only while running)."""
        return f"http://{self.host}"

    def digest_of(self, repo: str, tag: str) -> str:
        return self.repositories[repo][tag]

    def _add(self, value: dict[str, Any]) -> dict[str, Any]:
        """Store ``value`` as a blob; its descriptor (mediaType, digest, size)."""
        body = json.dumps(value, separators=(",", ":")).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self._blobs[digest] = body
        return {"mediaType": value.get("mediaType", CONFIG_MEDIA_TYPE), "digest": digest, "size": len(body)}

    def _image(self, config: dict[str, Any], index: bool, sizes: list[int]) -> tuple[str, bytes]:
        def manifest(arch: str, settings: dict[str, Any] | None) -> dict[str, Any]:
            blob = {"architecture": arch, "os": "linux", "config": settings,
                    "rootfs": {"type": "layers", "diff_ids": []}}
            layers = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": "sha256:" + hashlib.sha256(f"{arch}{i}".encode()).hexdigest(),
                       "size": n if arch == "amd64" else n * 2} for i, n in enumerate(sizes)]
            return {"schemaVersion": 2, "mediaType": IMAGE_MEDIA_TYPE, "config": self._add(blob), "layers": layers}

        amd64 = manifest("amd64", config)
        if not index:
            return IMAGE_MEDIA_TYPE, json.dumps(amd64).encode()
        entries = [
            {**self._add(manifest("unknown", None)), "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
            {**self._add(manifest("arm64", {"User": "arm64"})), "platform": {"os": "linux", "architecture": "arm64"}},
            {**self._add(amd64), "platform": {"os": "linux", "architecture": "amd64"}},
        ]
        body = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": entries}
        return INDEX_MEDIA_TYPE, json.dumps(body).encode()

    # -- request handling ----------------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        with self._lock:
            self.requests.append(Request(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}))
        if self.delay:
            time.sleep(self.delay)
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        if parts.path == "/token" and h.command == "GET":
            self._token(h, query)
        elif parts.path.startswith("/cdn/") and h.command == "GET":
            self._cdn(h, parts.path[len("/cdn/") :])
        elif parts.path.startswith("/v2/"):
            self._v2(h, parts.path[len("/v2/") :], query)
        else:
            h.send(404, _error_body(*_ERROR_CODES[404]))

    def _token(self, h: _Handler, query: dict[str, list[str]]) -> None:
        if self.refuse_token:
            h.send(401, _error_body("UNAUTHORIZED", "invalid credentials"))
            return
        if query.get("service") != [SERVICE]:
            h.send(400, _error_body("UNSUPPORTED", f"service must be {SERVICE!r}"))
            return
        scope = query.get("scope", [""])[0]
        # Opaque to clients, but readable when debugging: the scope plus a serial number.
        with self._lock:
            token = base64.urlsafe_b64encode(f"{scope}#{len(self._tokens)}".encode()).decode()
            self._tokens[token] = scope
        h.send(200, json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode())

    def _authorized(self, h: _Handler, repo: str | None) -> bool:
        """Whether the request carries a token we issued, for ``repo``'s pull scope if one is named."""
        scheme, _, token = h.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        with self._lock:
            granted = self._tokens.get(token.strip())
        return granted is not None and (repo is None or granted == _pull_scope(repo))

    def _challenge(self, repo: str | None) -> dict[str, str]:
        value = f'Bearer realm="{self.url}/token",service="{SERVICE}"'
        if repo is not None:
            value += f',scope="{_pull_scope(repo)}"'
        return {"WWW-Authenticate": value}

    def _v2(self, h: _Handler, rest: str, query: dict[str, list[str]]) -> None:
        # Split "<name>/tags/list" or "<name>/manifests/<ref>"; the name may contain slashes.
        repo = ref = None
        endpoint = "base" if rest == "" else "unknown"
        if rest.endswith("/tags/list"):
            endpoint, repo = "tags", unquote(rest[: -len("/tags/list")])
        elif "/manifests/" in rest or "/blobs/" in rest:
            kind = "manifests" if "/manifests/" in rest else "blobs"
            name, ref = (unquote(p) for p in rest.rsplit(f"/{kind}/", 1))
            if name and ref and "/" not in ref:
                endpoint, repo = kind, name
        repo = repo or None

        api = {"Docker-Distribution-API-Version": "registry/2.0"}
        if self.require_token and not self._authorized(h, repo):
            h.send(401, _error_body(*_ERROR_CODES[401]), {**api, **self._challenge(repo)})
            return
        status = self.fail_status
        if status is not None:
            extra = {"Retry-After": "60"} if status == 429 else {}
            if status == 401:
                extra = self._challenge(repo)
            code, message = _ERROR_CODES.get(status, ("UNKNOWN", "unknown error"))
            h.send(status, _error_body(code, message), {**api, **extra})
            return

        if endpoint == "base" and h.command == "GET":
            h.send(200, b"{}", api)
        elif endpoint == "tags" and h.command == "GET" and repo is not None:
            self._tags(h, repo, query, api)
        elif endpoint == "manifests" and h.command in ("GET", "HEAD") and repo is not None:
            self._manifest(h, repo, ref or "", api)
        elif endpoint == "blobs" and h.command == "GET" and ref in self._blobs:
            h.send(307, b"", {**api, "Location": f"{self.url}/cdn/{ref}"})
        else:
            h.send(404, _error_body(*_ERROR_CODES[404]), api)

    def _tags(self, h: _Handler, repo: str, query: dict[str, list[str]], api: dict[str, str]) -> None:
        tags = self.repositories.get(repo)
        if tags is None:
            h.send(404, _error_body("NAME_UNKNOWN", "repository name not known to registry"), api)
            return
        names = sorted(tags)
        last = query.get("last", [None])[0]
        if last is not None:
            names = [t for t in names if t > last]
        limits = [] if self.page_size is None else [self.page_size]
        if "n" in query:
            try:
                limits.append(int(query["n"][0]))
            except ValueError:
                h.send(400, _error_body("PAGINATION_NUMBER_INVALID", "invalid number of results"), api)
                return
        headers = dict(api)
        if limits:
            limit = max(0, min(limits))
            page, more = names[:limit], len(names) > limit
            if more and page:
                headers["Link"] = (
                    f'</v2/{repo}/tags/list?n={limit}&last={quote(page[-1], safe="")}>; rel="next"'
                )
            names = page
        h.send(200, json.dumps({"name": repo, "tags": names}).encode(), headers)

    def _manifest(self, h: _Handler, repo: str, ref: str, api: dict[str, str]) -> None:
        tags = self.repositories.get(repo)
        if tags is None:
            h.send(404, _error_body("NAME_UNKNOWN", "repository name not known to registry"), api)
            return
        if ref in self._blobs:  # a platform's image manifest, asked by digest
            h.send(200, self._blobs[ref], {**api, "Docker-Content-Digest": ref, "Content-Type": IMAGE_MEDIA_TYPE})
            return
        digest = ref if ref.startswith("sha256:") and ref in tags.values() else tags.get(ref)
        if digest is None:
            h.send(404, _error_body("MANIFEST_UNKNOWN", "manifest unknown"), api)
            return
        media_type, body = self._tag_manifests.get((repo, ref), (INDEX_MEDIA_TYPE, MANIFEST_BODY))
        h.send(200, body, {**api, "Docker-Content-Digest": digest, "Content-Type": media_type})

    def _cdn(self, h: _Handler, digest: str) -> None:
        if "Authorization" in h.headers:
            h.send(400, b"<Error>Only one auth mechanism allowed</Error>", {"Content-Type": "application/xml"})
        elif digest not in self._blobs:
            h.send(404, b"")
        else:
            body = self._blobs[digest]
            h.send(200, body[:-1] + b" " if self.corrupt_blobs else body, {"Content-Type": "application/octet-stream"})


def mirrored_project(tmp_path, mirrors: dict[str, str], dockerfile: str):
    """A repository under ``tmp_path`` holding ``dockerfile`` whose configuration sends each host of
    ``mirrors`` to the given URL (`registry-mirrors`): online answers come from a fake server. Give
    docker.io one too, or the base's size would be asked of the internet."""
    project = tmp_path / "p"
    project.mkdir()
    (project / ".git").mkdir()
    table = "".join(f'"{host}" = "{url}"\n' for host, url in mirrors.items())
    (project / "aicache-lint.toml").write_text(f"[registry-mirrors]\n{table}")
    (project / "Dockerfile").write_text(dockerfile)
    return project


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on 127.0.0.1 (a free port) from a daemon thread; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
