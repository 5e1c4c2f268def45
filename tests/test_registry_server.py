"""Self-test of the fake registry in ``registry_server.py`` (urllib only, no internet)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from registry_server import FakeRegistry

CUDA = "nvidia/cuda"
DIGESTS = {
    tag: "sha256:" + f"{i:x}" * 64
    for i, tag in enumerate(["12.1.0-base", "12.4.1-base", "12.4.1-devel", "12.6.0-base", "latest"], 1)
}


def repos() -> dict[str, dict[str, str]]:
    """A fresh mapping per test: tests may delete tags."""
    return {CUDA: dict(DIGESTS), "library/python": {"3.11-slim": "sha256:" + "f" * 64}}


# Ignore any *_proxy variables: the server is on localhost.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, method: str = "GET", token: str | None = None, timeout: float = 2.0):
    """Return ``(status, headers, body)``; HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


def get_token(reg: FakeRegistry, repo: str) -> str:
    status, _, body = fetch(f"{reg.url}/token?service=fake-registry&scope={quote(f'repository:{repo}:pull')}")
    assert status == 200
    data = json.loads(body)
    assert data["token"] == data["access_token"] and data["expires_in"] == 300
    return data["token"]


def test_token_challenge_flow() -> None:
    with FakeRegistry(repos()) as reg:
        status, headers, body = fetch(f"{reg.url}/v2/")
        assert status == 401
        assert headers["WWW-Authenticate"] == f'Bearer realm="{reg.url}/token",service="fake-registry"'

        tags_url = f"{reg.url}/v2/{CUDA}/tags/list"
        status, headers, body = fetch(tags_url)
        assert status == 401
        assert headers["WWW-Authenticate"] == (
            f'Bearer realm="{reg.url}/token",service="fake-registry",scope="repository:{CUDA}:pull"'
        )
        assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"

        token = get_token(reg, CUDA)
        status, _, body = fetch(tags_url, token=token)
        assert status == 200
        assert json.loads(body) == {"name": CUDA, "tags": sorted(DIGESTS)}
        assert fetch(f"{reg.url}/v2/", token=token)[0] == 200
        # A token is only good for the repository it was issued for, and must be one we issued.
        assert fetch(f"{reg.url}/v2/library/python/tags/list", token=token)[0] == 401
        assert fetch(tags_url, token="forged")[0] == 401
        # The token endpoint checks the service.
        assert fetch(f"{reg.url}/token?service=other&scope=repository:{CUDA}:pull")[0] == 400
        assert fetch(f"{reg.url}/token?scope=repository:{CUDA}:pull")[0] == 400


@pytest.mark.parametrize("page_size, n", [(2, None), (None, 1), (3, 2), (10, None)])
def test_pagination_returns_every_tag_once(page_size: int | None, n: int | None) -> None:
    with FakeRegistry(repos(), page_size=page_size, require_token=False) as reg:
        path = f"/v2/{CUDA}/tags/list" + (f"?n={n}" if n else "")
        seen: list[str] = []
        pages = 0
        while path:
            status, headers, body = fetch(reg.url + path)
            assert status == 200
            page = json.loads(body)["tags"]
            assert len(page) <= min(x for x in (page_size, n) if x)
            seen += page
            pages += 1
            link = headers.get("Link")
            path = link[1 : link.index(">")] if link else ""
            if link:
                assert link.endswith('>; rel="next"') and f"last={page[-1]}" in link
        assert seen == sorted(DIGESTS)
        assert pages == -(-len(DIGESTS) // min(x for x in (page_size, n) if x))


def test_manifest_head_get_and_unknown() -> None:
    with FakeRegistry(repos(), require_token=False) as reg:
        url = f"{reg.url}/v2/{CUDA}/manifests/12.4.1-base"
        status, headers, body = fetch(url, method="HEAD")
        assert status == 200 and body == b""
        assert headers["Docker-Content-Digest"] == reg.digest_of(CUDA, "12.4.1-base")
        assert headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
        status, get_headers, body = fetch(url)
        assert int(headers["Content-Length"]) == int(get_headers["Content-Length"]) == len(body)
        assert json.loads(body)["schemaVersion"] == 2
        # By digest, too.
        by_digest = fetch(f"{reg.url}/v2/{CUDA}/manifests/{DIGESTS['latest']}", method="HEAD")
        assert by_digest[0] == 200 and by_digest[1]["Docker-Content-Digest"] == DIGESTS["latest"]

        reg.repositories[CUDA].pop("12.4.1-base")  # delete the tag while the server runs
        assert fetch(url, method="HEAD")[0] == 404
        status, _, body = fetch(url)
        assert status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        status, _, body = fetch(f"{reg.url}/v2/no/such/tags/list")
        assert status == 404 and json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN"
        assert fetch(f"{reg.url}/elsewhere")[0] == 404


def test_fail_status_and_refuse_token() -> None:
    with FakeRegistry(repos()) as reg:
        token = get_token(reg, CUDA)
        reg.fail_status = 429
        status, headers, _ = fetch(f"{reg.url}/v2/{CUDA}/tags/list", token=token)
        assert status == 429 and headers["Retry-After"] == "60"
        reg.fail_status = 500
        assert fetch(f"{reg.url}/v2/{CUDA}/manifests/latest", method="HEAD", token=token)[0] == 500
        reg.fail_status = None
        assert fetch(f"{reg.url}/v2/{CUDA}/tags/list", token=token)[0] == 200
        reg.refuse_token = True
        assert fetch(f"{reg.url}/token?service=fake-registry&scope=repository:{CUDA}:pull")[0] == 401


def test_delay_provokes_client_timeout() -> None:
    with FakeRegistry(repos(), require_token=False) as reg:
        reg.delay = 0.5
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            fetch(f"{reg.url}/v2/", timeout=0.1)
        reg.delay = 0.0
        assert fetch(f"{reg.url}/v2/")[0] == 200


def test_requests_are_recorded() -> None:
    with FakeRegistry(repos()) as reg:
        fetch(f"{reg.url}/v2/{CUDA}/manifests/latest?x=1", method="HEAD", token="abc")
        req = reg.requests[-1]
        assert (req.method, req.path) == ("HEAD", f"/v2/{CUDA}/manifests/latest?x=1")
        assert req.headers["authorization"] == "Bearer abc"
        assert req.headers["host"] == reg.host
        assert len(reg.requests) == 1
