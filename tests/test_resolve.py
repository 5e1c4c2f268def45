"""Registry resolution (`--resolve-images`): the OCI client, the disk cache, the resolver, the
rules that use them end to end -- and that a default run never touches the network.

Everything is local: a fake registry on 127.0.0.1 (``registry_server.py``), a bare Git repository
under tmp_path (``git_remote.py``) and a closed port for "the registry is down".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cli_runner import invoke
from git_remote import make_remote
from registry_server import FakeRegistry

from aicache_lint.images.cuda import bundled_table, parse_tag
from aicache_lint.images.reference import parse_reference
from aicache_lint.knowledge.base_images import ImageFacts
from aicache_lint.registry import resolver as resolver_module
from aicache_lint.registry.cache import DiskCache
from aicache_lint.registry.client import (
    MANIFEST_TYPES,
    NotFound,
    RegistryClient,
    RegistryError,
)
from aicache_lint.registry.git import GitError, commit_for, ls_remote
from aicache_lint.registry.resolver import (
    Lookup,
    Resolver,
    facts_from_config,
    get_resolver,
)

REG = "registry.test"  # a registry name the client is told to reach at the fake registry's URL
D1, D2, D3 = ("sha256:" + c * 64 for c in "123")
PY_DIGEST = "sha256:" + "ab" * 32
OFFLINE = "; continuing with what aicache-lint knows offline"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never the user's cache, never a proxy, and a fresh per-process resolver for every test."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("AICACHE_LINT_CACHE_DIR", str(directory))
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(resolver_module, "_RESOLVERS", {})
    return directory


def closed_port() -> int:
    """A local port nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_for(url: str, timeout: float = 2.0) -> RegistryClient:
    return RegistryClient(timeout=timeout, mirrors={REG: url})


def v2_requests(reg: FakeRegistry) -> list:
    return [r for r in reg.requests if r.path.startswith("/v2/")]


# -- the OCI client ----------------------------------------------------------------------------


def test_endpoints_and_mirrors() -> None:
    client = RegistryClient(mirrors={"Docker.IO": "http://127.0.0.1:5000/"})
    assert client.endpoint("docker.io") == "http://127.0.0.1:5000"
    assert RegistryClient().endpoint("docker.io") == "https://registry-1.docker.io"
    assert RegistryClient().endpoint("nvcr.io") == "https://nvcr.io"


def test_token_challenge_flow() -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}) as reg:
        client = client_for(reg.url)
        assert client.tags(REG, "team/app") == ["1.0"]
        first, token, retry = reg.requests
        assert first.path == "/v2/team/app/tags/list?n=1000" and "authorization" not in first.headers
        assert first.headers["user-agent"].startswith("aicache-lint/")
        asked = urlsplit(token.path)
        assert asked.path == "/token"
        assert parse_qs(asked.query) == {"service": ["fake-registry"], "scope": ["repository:team/app:pull"]}
        assert retry.path == first.path and retry.headers["authorization"].startswith("Bearer ")
        # The token is kept for the repository: the next question goes straight through.
        assert client.digest(REG, "team/app", "1.0") == D1
        assert len(reg.requests) == 4
        assert reg.requests[3].headers["authorization"] == retry.headers["authorization"]


def test_tag_list_pagination_returns_every_tag_once() -> None:
    tags = {f"1.{i}": D1 for i in range(7)}
    with FakeRegistry({"team/app": tags}, page_size=2) as reg:
        assert sorted(client_for(reg.url).tags(REG, "team/app")) == sorted(tags)
        pages = [r for r in v2_requests(reg) if "authorization" in r.headers]
        assert len(pages) == 4  # 2 + 2 + 2 + 1 tags
        assert [parse_qs(urlsplit(p.path).query).get("last") for p in pages] == [None, ["1.1"], ["1.3"], ["1.5"]]


def test_digest_is_a_head_request_asking_for_the_index() -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}) as reg:
        assert client_for(reg.url).digest(REG, "team/app", "1.0") == D1
        last = reg.requests[-1]
        assert (last.method, last.path) == ("HEAD", "/v2/team/app/manifests/1.0")
        accepted = [t.strip() for t in last.headers["accept"].split(",")]
        assert accepted == [t.strip() for t in MANIFEST_TYPES.split(",")]
        assert accepted[0] == "application/vnd.oci.image.index.v1+json"
        assert "application/vnd.docker.distribution.manifest.list.v2+json" in accepted


def test_not_found() -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}) as reg:
        client = client_for(reg.url)
        with pytest.raises(NotFound) as missing_tag:
            client.digest(REG, "team/app", "9.9")
        assert str(missing_tag.value) == "registry.test has no team/app:9.9"
        with pytest.raises(NotFound) as missing_repo:
            client.tags(REG, "team/nope")
        assert str(missing_repo.value) == "registry.test has no team/nope"


@pytest.mark.parametrize(
    "knob, value, message",
    [
        ("refuse_token", True, "registry.test refused an anonymous token (HTTP 401)"),
        ("fail_status", 401, "registry.test refused anonymous access to team/app (HTTP 401)"),
        ("fail_status", 429, "registry.test is rate-limiting requests (HTTP 429, retry after 60 s)"),
        ("fail_status", 500, "registry.test answered HTTP 500 for team/app:1.0"),
    ],
)
def test_registry_refuses(knob: str, value: object, message: str) -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}) as reg:
        setattr(reg, knob, value)
        with pytest.raises(RegistryError) as refused:
            client_for(reg.url).digest(REG, "team/app", "1.0")
        assert not isinstance(refused.value, NotFound)
        assert str(refused.value) == message


def test_time_out() -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}) as reg:
        reg.delay = 0.6
        with pytest.raises(RegistryError) as slow:
            client_for(reg.url, timeout=0.2).tags(REG, "team/app")
        assert str(slow.value) == f"registry.test did not answer within 0.2 s (asked through the mirror {reg.url})"


def test_connection_refused() -> None:
    port = closed_port()
    with pytest.raises(RegistryError) as down:
        client_for(f"http://127.0.0.1:{port}").tags(REG, "team/app")
    assert str(down.value).startswith("cannot reach registry.test (")
    assert "refused" in str(down.value).lower()
    assert str(down.value).endswith(f"(asked through the mirror http://127.0.0.1:{port})")


# -- the disk cache ----------------------------------------------------------------------------


def test_cache_round_trip_and_ttl(tmp_path: Path) -> None:
    clock = [1000.0]
    cache = DiskCache(str(tmp_path / "c"), ttl=60, now=lambda: clock[0])
    assert cache.get("k") is None  # nothing stored: not a problem
    cache.put("k", {"tags": ["a", "b"]})
    assert cache.get("k") == {"tags": ["a", "b"]}
    assert DiskCache(str(tmp_path / "c"), ttl=60, now=lambda: clock[0]).get("k") == {"tags": ["a", "b"]}
    clock[0] = 1059.0
    assert cache.get("k") == {"tags": ["a", "b"]}
    clock[0] = 1060.0
    assert cache.get("k") is None  # expired
    clock[0] = 900.0
    assert cache.get("k") is None  # stored "in the future" (clock changed): not trusted
    assert cache.problems == []
    assert [p.name for p in (tmp_path / "c").iterdir()] == [Path(cache.path("k")).name]  # no temp files left


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"{not json", "ignoring the unreadable cache file {path} (invalid JSON: "),
        (b"\xff\xfe\x00garbage\x81", "ignoring the unreadable cache file {path} (invalid JSON: "),
        (b"[1, 2, 3]", "ignoring the corrupt cache file {path} (not an aicache-lint cache entry for k)"),
        (b'{"key": "k", "stored": "yesterday", "value": 1}', "ignoring the corrupt cache file {path} (not an"),
        (b'{"key": "other", "stored": 1000, "value": "sha256:x"}', "ignoring the corrupt cache file {path} (not an"),
    ],
    ids=["bad-json", "binary", "not-an-entry", "bad-stored", "other-key"],
)
def test_corrupt_cache_files_are_ignored(tmp_path: Path, content: bytes, problem: str) -> None:
    cache = DiskCache(str(tmp_path), now=lambda: 1000.0)
    Path(cache.path("k")).write_bytes(content)
    assert cache.get("k") is None
    assert len(cache.problems) == 1 and cache.problems[0].startswith(problem.format(path=cache.path("k")))


def test_unreadable_cache_file(tmp_path: Path) -> None:
    cache = DiskCache(str(tmp_path))
    os.mkdir(cache.path("k"))  # a directory where the entry should be
    assert cache.get("k") is None
    assert cache.problems[0].startswith(f"ignoring the unreadable cache file {cache.path('k')} (")


def test_unwritable_cache_directory(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    cache = DiskCache(str(tmp_path / "blocker" / "cache"))
    cache.put("k", "v")  # no exception
    assert cache.get("k") is None
    assert cache.problems == [f"cannot write the cache directory {tmp_path / 'blocker' / 'cache'} (Not a directory)"]


# -- Git refs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory):
    """Built once: the tests only read it."""
    return make_remote(tmp_path_factory.mktemp("git"))


def test_ls_remote_and_commit_for(remote) -> None:
    refs = ls_remote(remote.url, timeout=10)
    assert refs["refs/tags/v2.0"] == remote.v2_tag_object != remote.second
    assert commit_for(refs, None) == remote.second  # HEAD
    assert commit_for(refs, "main") == remote.second
    assert commit_for(refs, "dev") == remote.dev
    assert commit_for(refs, "v1.0") == remote.first  # lightweight tag
    assert commit_for(refs, "v2.0") == remote.second  # annotated: the peeled commit, not the tag object
    assert commit_for(refs, "refs/tags/v2.0") == remote.second
    assert commit_for(refs, "refs/heads/dev") == remote.dev
    assert commit_for(refs, "both") is None  # a branch and a tag, on different commits
    assert commit_for(refs, "nope") is None


def test_ls_remote_failure_names_the_problem(tmp_path: Path) -> None:
    missing = tmp_path / "missing.git"
    with pytest.raises(GitError) as failed:
        ls_remote(missing.as_uri(), timeout=10)
    assert str(failed.value).startswith(f"`git ls-remote {missing.as_uri()}` failed: fatal: ")
    assert "does not appear to be a git repository" in str(failed.value)


# -- the resolver: memo, disk cache, one notice per failing host ---------------------------------

APP = parse_reference(f"{REG}/team/app:1.0")


def make_resolver(url: str, cache_dir: Path) -> Resolver:
    return Resolver(client_for(url), DiskCache(str(cache_dir)), git_timeout=10)


def test_resolver_memo_and_disk_cache(cache_dir: Path) -> None:
    with FakeRegistry({"team/app": {"1.0": D1, "2.0": D2}}) as reg:
        resolver = make_resolver(reg.url, cache_dir)
        assert resolver.digest(APP) == Lookup(D1)
        assert resolver.tags(f"{REG}/team/app").tags == ("1.0", "2.0")
        missing = parse_reference(f"{REG}/team/app:9.9")
        assert resolver.digest(missing) == Lookup(None, True, "registry.test has no `team/app:9.9`")
        asked = len(reg.requests)
        assert resolver.digest(APP) == Lookup(D1)  # memo
        assert asked == len(reg.requests)

        # A new resolver (another run, another worker process) reads the disk cache, "no" included.
        again = make_resolver(reg.url, cache_dir)
        assert again.digest(APP) == Lookup(D1)
        assert again.tags(f"{REG}/team/app").tags == ("1.0", "2.0")
        assert again.digest(missing).missing
        assert asked == len(reg.requests)
        assert again.take_notices() == []


def test_a_failing_host_is_asked_once_and_noticed_once(cache_dir: Path) -> None:
    with FakeRegistry({"team/app": {"1.0": D1, "2.0": D2}}) as reg:
        reg.fail_status = 500
        resolver = make_resolver(reg.url, cache_dir)
        assert resolver.digest(APP) == Lookup(None, why="registry.test did not answer")
        assert resolver.digest(parse_reference(f"{REG}/team/app:2.0")).value is None
        assert resolver.tags(f"{REG}/team/app") is None
        assert len(v2_requests(reg)) == 2  # the challenge and the failing retry, for the first question only
        assert resolver.take_notices() == [f"registry.test answered HTTP 500 for team/app:1.0{OFFLINE}"]
        assert resolver.take_notices() == []
        assert not cache_dir.exists() or not list(cache_dir.iterdir())  # failures are not cached


def test_corrupt_cache_file_with_the_registry_down(cache_dir: Path) -> None:
    resolver = make_resolver(f"http://127.0.0.1:{closed_port()}", cache_dir)
    path = resolver.cache.path(f"digest {REG}/team/app:1.0")
    cache_dir.mkdir()
    Path(path).write_bytes(b'{"key": "digest registry.test/team/app:1.0", "stored": ')
    assert resolver.digest(APP) == Lookup(None, why="registry.test did not answer")
    down, corrupt = resolver.take_notices()
    assert down.startswith("cannot reach registry.test (") and down.endswith(OFFLINE)
    assert corrupt.startswith(f"ignoring the unreadable cache file {path} (invalid JSON: ")


def test_corrupt_cache_file_is_replaced_when_the_registry_answers(cache_dir: Path) -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}) as reg:
        resolver = make_resolver(reg.url, cache_dir)
        key = f"digest {REG}/team/app:1.0"
        cache_dir.mkdir()
        Path(resolver.cache.path(key)).write_text("[]")
        assert resolver.digest(APP) == Lookup(D1)
        assert DiskCache(str(cache_dir)).get(key) == D1


def test_git_lookups_one_ls_remote_per_remote(remote, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(args) or real_run(args, **kw))
    resolver = make_resolver("http://unused.invalid", cache_dir)
    assert resolver.commit(remote.url, "dev") == Lookup(remote.dev)
    assert resolver.commit(remote.url, "v2.0") == Lookup(remote.second)
    assert resolver.commit(remote.url, None) == Lookup(remote.second)
    assert resolver.commit(remote.url, "both") == Lookup(None, why="`both` is both a branch and a tag")
    assert resolver.commit(remote.url, "nope") == Lookup(None, True, f"`git ls-remote {remote.url}` does not list `nope`")
    assert calls == [["git", "ls-remote", "--", remote.url]]

    missing = (remote.path.parent / "missing.git").as_uri()
    assert resolver.commit(missing, "main") == Lookup(None, why="the remote did not answer")
    assert resolver.commit(missing, "dev").value is None
    assert len(calls) == 2
    [notice] = resolver.take_notices()
    assert notice.startswith(f"`git ls-remote {missing}` failed: fatal: ") and notice.endswith(OFFLINE)


def test_get_resolver_is_one_per_settings(cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_resolver({"docker.io": "http://127.0.0.1:1"}, 5.0)
    assert get_resolver({"docker.io": "http://127.0.0.1:1"}, 5.0) is first
    assert get_resolver({}, 5.0) is not first
    assert first.cache.directory == str(cache_dir)
    monkeypatch.setenv("AICACHE_LINT_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert get_resolver({"docker.io": "http://127.0.0.1:1"}, 5.0) is not first


# -- image configs (USER, ENV) for --resolve-images ---------------------------------------------------

MAMBA_CONFIG = {
    "User": "mambauser",
    "Env": ["PATH=/opt/conda/bin:/usr/local/bin:/usr/bin:/bin", "MAMBA_ROOT_PREFIX=/opt/conda", "EMPTY=", "A=b=c"],
    "WorkingDir": "/tmp",
    "Entrypoint": ["/usr/local/bin/_entrypoint.sh"],
}
CONFIGS = {
    "team/micromamba": {"2.0": MAMBA_CONFIG},
    "team/numeric": {"1.0": {"User": "1000:1000", "Env": ["HOME=/home/app", "HF_HOME=/data"]}},
    "team/root": {"1.0": {"Env": ["PATH=/usr/bin"]}},
}
CONFIG_TAGS = {"team/micromamba": {"2.0": D1}, "team/numeric": {"1.0": D2}, "team/root": {"1.0": D3}}


def test_client_reads_the_linux_amd64_config_through_the_index() -> None:
    with FakeRegistry(CONFIG_TAGS, configs=CONFIGS) as reg:
        config = client_for(reg.url).config(REG, "team/micromamba", "2.0")
        assert config == {"User": "mambauser", "Env": MAMBA_CONFIG["Env"], "WorkingDir": "/tmp"}
        paths = [r.path for r in reg.requests if r.path.startswith(("/v2/", "/cdn/"))]
        assert paths[:2] == ["/v2/team/micromamba/manifests/2.0"] * 2  # challenged, then with the token
        assert paths[2].startswith("/v2/team/micromamba/manifests/sha256:")  # the amd64 image, not arm64
        assert paths[3].startswith("/v2/team/micromamba/blobs/sha256:") and paths[4].startswith("/cdn/sha256:")
        cdn = [r for r in reg.requests if r.path.startswith("/cdn/")]
        assert all("authorization" not in r.headers for r in cdn)  # the token stays with the registry


def test_client_reads_a_single_platform_manifest_and_an_image_without_settings() -> None:
    with FakeRegistry({"team/app": {"1.0": D1, "2.0": D2}}, configs={"team/app": {"1.0": {}, "2.0": {"User": "app"}}},
                      index=False) as reg:
        client = client_for(reg.url)
        assert client.config(REG, "team/app", "1.0") == {}
        assert client.config(REG, "team/app", "2.0") == {"User": "app"}


def test_client_config_failures() -> None:
    with FakeRegistry(CONFIG_TAGS, configs=CONFIGS) as reg:
        client = client_for(reg.url)
        with pytest.raises(NotFound):
            client.config(REG, "team/micromamba", "9.9")
        reg.corrupt_blobs = True
        with pytest.raises(RegistryError, match="sent content that does not match its digest sha256:"):
            client.config(REG, "team/numeric", "1.0")
    with FakeRegistry({"team/app": {"1.0": D1}}) as reg:  # an index with no linux/amd64 image
        with pytest.raises(NotFound, match="registry.test has no linux/amd64 image of team/app:1.0"):
            client_for(reg.url).config(REG, "team/app", "1.0")


def test_resolver_image_facts(cache_dir: Path) -> None:
    with FakeRegistry(CONFIG_TAGS, configs=CONFIGS) as reg:
        resolver = make_resolver(reg.url, cache_dir)
        mamba = resolver.image_facts(f"{REG}/team/micromamba:2.0")
        assert mamba == ImageFacts(
            "mambauser", None, None, None,
            (("PATH", "/opt/conda/bin:/usr/local/bin:/usr/bin:/bin"), ("MAMBA_ROOT_PREFIX", "/opt/conda"),
             ("EMPTY", ""), ("A", "b=c")),
            origin=f"registry config of {REG}/team/micromamba:2.0",
        )
        numeric = resolver.image_facts(f"{REG}/team/numeric:1.0")
        assert (numeric.user, numeric.uid, numeric.gid, numeric.home) == ("1000", 1000, 1000, "/home/app")
        root = resolver.image_facts(f"{REG}/team/root:1.0")
        assert (root.user, root.uid, root.gid, root.home, root.env) == ("", 0, 0, None, (("PATH", "/usr/bin"),))
        asked = len(reg.requests)
        assert resolver.image_facts(f"{REG}/team/root:1.0") == root  # memo
        again = make_resolver(reg.url, cache_dir)  # another run: the disk cache
        assert again.image_facts(f"{REG}/team/numeric:1.0") == numeric
        assert len(reg.requests) == asked

        assert resolver.image_facts(f"{REG}/team/micromamba:9.9") is None
        assert resolver.image_facts(f"{REG}/team/micromamba:9.9") is None
        assert resolver.take_notices() == [f"registry.test has no linux/amd64 image `team/micromamba:9.9`{OFFLINE}"]
        assert resolver.image_facts("${BASE_IMAGE}") is None


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("", ("", 0, 0)), ("root", ("", 0, 0)), ("0", ("", 0, 0)), ("0:0", ("", 0, 0)), ("app", ("app", None, None)),
        ("1001", ("1001", 1001, None)), ("app:100", ("app", None, 100)), ("1000:staff", ("1000", 1000, None)),
    ],
)
def test_facts_from_config_users(user: str, expected: tuple) -> None:
    facts = facts_from_config("x", {"User": user})
    assert (facts.user, facts.uid, facts.gid) == expected and facts.home is None and facts.env == ()


@pytest.mark.parametrize("knob", ["fail_status", "delay"])
def test_image_facts_failing_or_slow_host_one_notice(cache_dir: Path, knob: str) -> None:
    with FakeRegistry(CONFIG_TAGS, configs=CONFIGS) as reg:
        setattr(reg, knob, 500 if knob == "fail_status" else 0.6)
        resolver = Resolver(client_for(reg.url, timeout=0.2), DiskCache(str(cache_dir)), git_timeout=10)
        assert resolver.image_facts(f"{REG}/team/micromamba:2.0") is None
        assert resolver.image_facts(f"{REG}/team/numeric:1.0") is None
        assert resolver.digest(APP).value is None
        [notice] = resolver.take_notices()
        assert notice.startswith("registry.test ") and notice.endswith(OFFLINE)
        assert ("HTTP 500" if knob == "fail_status" else "did not answer within 0.2 s") in notice
        assert not cache_dir.exists() or not list(cache_dir.iterdir())


def test_a_bad_cached_config_is_not_used(cache_dir: Path) -> None:
    with FakeRegistry(CONFIG_TAGS, configs=CONFIGS) as reg:
        resolver = make_resolver(reg.url, cache_dir)
        key = f"config {REG}/team/numeric:1.0"
        DiskCache(str(cache_dir)).put(key, {"User": 1000})
        assert resolver.image_facts(f"{REG}/team/numeric:1.0").uid == 1000
        assert DiskCache(str(cache_dir)).get(key) == CONFIGS["team/numeric"]["1.0"]
        assert resolver.take_notices()[0].startswith("ignoring the corrupt cache file ")


# -- end to end: the command line with a configuration file --------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / ".git").mkdir()  # the configuration search stops here
    return directory


def configure(project: Path, mirrors: dict[str, str], head: str = "resolve-images = true\n") -> Path:
    config = project / "aicache-lint.toml"
    config.write_text(head + "[registry-mirrors]\n" + "".join(f'"{h}" = "{u}"\n' for h, u in mirrors.items()))
    return config


def dockerfile(project: Path, text: str, name: str = "Dockerfile") -> Path:
    path = project / name
    path.write_text(text)
    return path


def lint(path: Path, *args: str):
    return invoke(["--output-format", "concise", *args, str(path)])


def warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("aicache-lint: warning: ")]


# AIC306: pin the digest


def test_aic306_appends_the_digest(project: Path) -> None:
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST}}) as reg:
        configure(project, {"docker.io": reg.url})
        path = dockerfile(project, "FROM python:3.12-slim\nRUN echo hello\n")
        result = lint(path, "--extend-select", "AIC306")
        assert result.exit_code == 1 and result.stderr == ""
        assert result.stdout.splitlines()[0] == (
            f"{path}:1:6: AIC306 [*] `python:3.12-slim` is not pinned by digest: the tag can move under the layer cache"
        )
        result = lint(path, "--extend-select", "AIC306", "--fix")
        assert result.exit_code == 0 and result.stderr == ""
        assert path.read_text() == f"FROM python:3.12-slim@{PY_DIGEST}\nRUN echo hello\n"
        assert ("HEAD", "/v2/library/python/manifests/3.12-slim") in [(r.method, r.path) for r in reg.requests]
        assert lint(path, "--extend-select", "AIC306").stdout == "All checks passed!\n"


def test_aic306_digest_goes_into_the_arg_default(project: Path) -> None:
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST}}) as reg:
        configure(project, {"docker.io": reg.url})
        path = dockerfile(project, "ARG BASE=python:3.12-slim\nFROM ${BASE}\nRUN echo hello\n")
        assert lint(path, "--extend-select", "AIC306", "--fix").exit_code == 0
        assert path.read_text() == f"ARG BASE=python:3.12-slim@{PY_DIGEST}\nFROM ${{BASE}}\nRUN echo hello\n"


def test_aic306_tag_the_registry_lacks(project: Path) -> None:
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST}}) as reg:
        configure(project, {"docker.io": reg.url})
        text = "FROM python:3.99-slim\nRUN echo hello\n"
        path = dockerfile(project, text)
        result = lint(path, "--extend-select", "AIC306", "--fix")
        assert result.exit_code == 1 and result.stderr == ""
        assert result.stdout.splitlines()[0] == (
            f"{path}:1:6: AIC306 `python:3.99-slim` is not pinned by digest: the tag can move under the layer cache; "
            "docker.io has no `library/python:3.99-slim`, so there is no digest to pin "
            "(an image built locally cannot be pinned this way)"
        )
        assert path.read_text() == text


def test_aic306_registry_down(project: Path) -> None:
    configure(project, {"docker.io": f"http://127.0.0.1:{closed_port()}"})
    text = "FROM python:3.12-slim AS build\nRUN echo hello\nFROM python:3.11-slim\nRUN echo hello\n"
    path = dockerfile(project, text)
    result = lint(path, "--extend-select", "AIC306", "--fix")
    assert result.exit_code == 1  # findings, not a usage or internal error
    [warning] = warnings(result)
    assert warning.startswith("aicache-lint: warning: cannot reach docker.io (") and warning.endswith(OFFLINE)
    assert result.stderr == warning + "\n"
    assert result.stdout.splitlines()[:2] == [
        f"{path}:1:6: AIC306 `python:3.12-slim` is not pinned by digest: the tag can move under the layer cache"
        " (the registry did not answer: no automatic fix)",
        f"{path}:3:6: AIC306 `python:3.11-slim` is not pinned by digest: the tag can move under the layer cache"
        " (the registry did not answer: no automatic fix)",
    ]
    assert path.read_text() == text


def test_aic306_registry_too_slow_with_resolve_timeout(project: Path) -> None:
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST}}) as reg:
        reg.delay = 0.6
        configure(project, {"docker.io": reg.url}, head="resolve-images = true\nresolve-timeout = 0.2\n")
        path = dockerfile(project, "FROM python:3.12-slim\nRUN echo hello\n")
        result = lint(path, "--extend-select", "AIC306", "--fix")
        assert result.exit_code == 1
        assert warnings(result) == [
            f"aicache-lint: warning: docker.io did not answer within 0.2 s (asked through the mirror {reg.url}){OFFLINE}"]
        assert path.read_text() == "FROM python:3.12-slim\nRUN echo hello\n"


def test_corrupt_cache_and_registry_down_end_to_end(project: Path, cache_dir: Path) -> None:
    configure(project, {"docker.io": f"http://127.0.0.1:{closed_port()}"})
    cache_dir.mkdir()
    entry = Path(DiskCache(str(cache_dir)).path("digest docker.io/library/python:3.12-slim"))
    entry.write_bytes(b"\x00\x01 not json")
    text = "FROM python:3.12-slim\nRUN echo hello\n"
    path = dockerfile(project, text)
    result = lint(path, "--extend-select", "AIC306", "--fix")
    assert result.exit_code == 1
    down, corrupt = warnings(result)
    assert down.startswith("aicache-lint: warning: cannot reach docker.io (")
    assert corrupt.startswith(f"aicache-lint: warning: ignoring the unreadable cache file {entry} (invalid JSON: ")
    assert "(the registry did not answer: no automatic fix)" in result.stdout
    assert path.read_text() == text


def test_disk_cache_spans_runs(project: Path) -> None:
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST}}) as reg:
        configure(project, {"docker.io": reg.url})
        path = dockerfile(project, "FROM python:3.12-slim\nRUN echo hello\n")
        assert "AIC306 [*]" in lint(path, "--extend-select", "AIC306").stdout
        asked = len(reg.requests)
        resolver_module._RESOLVERS.clear()  # as in a new process: only the disk cache is left
        assert "AIC306 [*]" in lint(path, "--extend-select", "AIC306").stdout
        assert len(reg.requests) == asked


def test_unusable_cache_directory_end_to_end(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    monkeypatch.setenv("AICACHE_LINT_CACHE_DIR", str(tmp_path / "blocker" / "cache"))
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST, "3.11-slim": D1}}) as reg:
        configure(project, {"docker.io": reg.url})
        path = dockerfile(project, "FROM python:3.12-slim AS a\nFROM python:3.11-slim\n")
        result = lint(path, "--select", "AIC306", "--fix")
        assert result.exit_code == 0  # the fix works without a cache
        assert warnings(result) == [
            f"aicache-lint: warning: cannot write the cache directory {tmp_path / 'blocker' / 'cache'} (Not a directory)"
        ]
        assert path.read_text() == f"FROM python:3.12-slim@{PY_DIGEST} AS a\nFROM python:3.11-slim@{D1}\n"


def test_one_warning_from_parallel_workers(project: Path) -> None:
    configure(project, {"docker.io": f"http://127.0.0.1:{closed_port()}"})
    for i in range(16):  # the CLI runs >= 16 files in worker processes
        dockerfile(project, f"FROM python:3.{i}-slim\nRUN echo hello\n", name=f"Dockerfile.{i}")
    result = invoke(["--output-format", "concise", "--extend-select", "AIC306", "-j", "2", str(project)])
    assert result.exit_code == 1
    [warning] = warnings(result)
    assert warning.startswith("aicache-lint: warning: cannot reach docker.io (")
    assert result.stdout.count("(the registry did not answer: no automatic fix)") == 16


# AIC303: nvidia/cuda tags from the live list


def newest_bundled(minor: str, rest: str = "-runtime-ubuntu24.04") -> str:
    tags = [t for t in bundled_table().published if t.startswith(minor + ".") and t.endswith(rest) and t.count("-") == 2]
    return max(tags, key=lambda t: parse_tag(t).version)


def test_aic303_completes_from_the_live_tag_list(project: Path) -> None:
    assert not any(t.startswith("13.9.") for t in bundled_table().published), "pick a version the table lacks"
    live = {"13.9.0-runtime-ubuntu24.04": D1, "13.9.1-runtime-ubuntu24.04": D2, "13.9.1-devel-ubuntu24.04": D3}
    live |= {"13.9.1-base-ubuntu24.04": D3, newest_bundled("13.2"): D1}
    text = "FROM nvidia/cuda:13.9-runtime-ubuntu24.04\nRUN echo hello\n"
    path = dockerfile(project, text)

    # Offline, the bundled table does not know 13.9.
    offline = lint(path, "--isolated", "--select", "AIC303", "--unsafe-fixes")
    assert f"{bundled_table().description} has no matching tag" in offline.stdout

    with FakeRegistry({"nvidia/cuda": live}, page_size=2) as reg:
        configure(project, {"docker.io": reg.url})
        result = invoke(["--output-format", "json", "--select", "AIC303", "--unsafe-fixes", str(path)])
        [finding] = json.loads(result.stdout)
        assert finding["message"] == (
            "`nvidia/cuda:13.9-runtime-ubuntu24.04` uses `13.9-runtime-ubuntu24.04`, which is not in the tag list "
            "of docker.io/nvidia/cuda (NVIDIA publishes full `X.Y.Z-flavor-os` tags): a build without the layer "
            "cache fails; use `13.9.1-runtime-ubuntu24.04`"
        )
        assert finding["fix"]["message"] == (
            "Use `13.9.1-runtime-ubuntu24.04`, the newest matching tag in the tag list of docker.io/nvidia/cuda"
        )
        assert lint(path, "--select", "AIC303", "--fix").exit_code == 1  # unsafe: not without --unsafe-fixes
        assert path.read_text() == text
        assert lint(path, "--select", "AIC303", "--fix", "--unsafe-fixes").exit_code == 0
        assert path.read_text() == "FROM nvidia/cuda:13.9.1-runtime-ubuntu24.04\nRUN echo hello\n"
        # One tag list for the three runs (memo, then the disk cache), fetched in three pages.
        assert sum(1 for r in reg.requests if "/tags/list" in r.path and "authorization" in r.headers) == 3


def test_aic303_tag_deleted_from_the_registry(project: Path) -> None:
    deleted = newest_bundled("13.2")  # published, says the bundled table
    patch = parse_tag(deleted).version[2]
    newer = f"13.2.{patch + 1}-runtime-ubuntu24.04"
    text = f"FROM nvidia/cuda:{deleted}\nRUN echo hello\n"
    path = dockerfile(project, text)
    assert lint(path, "--isolated", "--select", "AIC303").exit_code == 0  # offline: fine

    with FakeRegistry({"nvidia/cuda": {newer: D1, "13.2.0-devel-ubuntu24.04": D2}}) as reg:
        configure(project, {"docker.io": reg.url})
        result = lint(path, "--select", "AIC303", "--unsafe-fixes")
        assert result.exit_code == 1
        assert result.stdout.splitlines()[0] == (
            f"{path}:1:6: AIC303 [*] `nvidia/cuda:{deleted}` uses `{deleted}`, which is not in the tag list of "
            "docker.io/nvidia/cuda (NVIDIA deletes end-of-life tags): a build without the layer cache fails; "
            f"use `{newer}`"
        )
        lint(path, "--select", "AIC303", "--fix", "--unsafe-fixes")
        assert path.read_text() == f"FROM nvidia/cuda:{newer}\nRUN echo hello\n"


def test_aic303_registry_down_falls_back_to_the_bundled_table(project: Path) -> None:
    configure(project, {"docker.io": f"http://127.0.0.1:{closed_port()}"})
    path = dockerfile(project, "FROM nvidia/cuda:13.2-runtime-ubuntu24.04 AS a\nFROM nvidia/cuda:13.2-base-ubuntu24.04\n")
    result = lint(path, "--select", "AIC303", "--fix", "--unsafe-fixes")
    [warning] = warnings(result)
    assert warning.startswith("aicache-lint: warning: cannot reach docker.io (") and warning.endswith(OFFLINE)
    runtime, base = newest_bundled("13.2"), newest_bundled("13.2", "-base-ubuntu24.04")
    assert path.read_text() == f"FROM nvidia/cuda:{runtime} AS a\nFROM nvidia/cuda:{base}\n"


# AIC305: Git commits from `git ls-remote`


def pip_install(url: str) -> str:
    return f"FROM python:3.12\nRUN pip install --no-cache-dir {url}\n"


@pytest.mark.parametrize(
    "suffix, pinned",
    [
        ("@dev", lambda r: f"@{r.dev}"),
        ("@v1.0", lambda r: f"@{r.first}"),
        ("@v2.0", lambda r: f"@{r.second}"),  # annotated tag: the peeled commit, not the tag object
        ("@refs/heads/dev", lambda r: f"@{r.dev}"),
        ("", lambda r: f"@{r.second}"),  # no ref: HEAD's commit is appended
        ("@main#egg=pkg", lambda r: f"@{r.second}#egg=pkg"),
    ],
)
def test_aic305_pins_the_commit(remote, project: Path, suffix: str, pinned) -> None:
    path = dockerfile(project, pip_install(f"git+{remote.url}{suffix}"))
    result = lint(path, "--isolated", "--select", "AIC305", "--resolve-images", "--fix", "--unsafe-fixes")
    assert result.exit_code == 0 and result.stderr == ""
    assert path.read_text() == pip_install(f"git+{remote.url}{pinned(remote)}")
    assert remote.v2_tag_object not in path.read_text()


def test_aic305_pep508_and_several_refs_of_one_remote(remote, project: Path) -> None:
    path = dockerfile(project, pip_install(f'"pkg @ git+{remote.url}@v2.0" git+{remote.url}@dev'))
    lint(path, "--isolated", "--select", "AIC305", "--resolve-images", "--fix", "--unsafe-fixes")
    assert path.read_text() == pip_install(f'"pkg @ git+{remote.url}@{remote.second}" git+{remote.url}@{remote.dev}')


@pytest.mark.parametrize(
    "ref, why",
    [("nope", "`git ls-remote {url}` does not list `nope`"), ("both", "`both` is both a branch and a tag")],
)
def test_aic305_no_fix(remote, project: Path, ref: str, why: str) -> None:
    text = pip_install(f"git+{remote.url}@{ref}")
    path = dockerfile(project, text)
    result = lint(path, "--isolated", "--select", "AIC305", "--resolve-images", "--fix", "--unsafe-fixes")
    assert result.exit_code == 1 and result.stderr == ""
    assert result.stdout.splitlines()[0].endswith(f"(no automatic fix: {why.format(url=remote.url)})")
    assert path.read_text() == text


def test_aic305_without_unsafe_fixes_writes_nothing(remote, project: Path) -> None:
    text = pip_install(f"git+{remote.url}@dev")
    path = dockerfile(project, text)
    result = lint(path, "--isolated", "--select", "AIC305", "--resolve-images", "--fix")
    assert result.exit_code == 1
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option" in result.stdout
    assert path.read_text() == text


def test_aic305_missing_repository(tmp_path: Path, project: Path) -> None:
    missing = (tmp_path / "missing.git").as_uri()
    text = pip_install(f"git+{missing}@main git+{missing}@dev")
    path = dockerfile(project, text)
    result = lint(path, "--isolated", "--select", "AIC305", "--resolve-images", "--fix", "--unsafe-fixes")
    assert result.exit_code == 1
    [warning] = warnings(result)
    assert warning.startswith(f"aicache-lint: warning: `git ls-remote {missing}` failed: fatal: ")
    assert "does not appear to be a git repository" in warning and warning.endswith(OFFLINE)
    assert result.stdout.count("(no automatic fix: the remote did not answer)") == 2
    assert path.read_text() == text


# -- a default run makes no network request --------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
NETWORK_MODULES = [f"aicache_lint.registry.{m}" for m in ("resolver", "client", "cache", "git")]


def watch_network(monkeypatch: pytest.MonkeyPatch, allow: bool) -> list:
    """Record socket connections, name look-ups and `git` processes; refuse them unless ``allow``."""
    calls = []

    def guard(kind, real, *, only_git=False):
        def wrapper(*args, **kwargs):
            if only_git:
                command = args[0] if args else kwargs.get("args")
                program = command[0] if isinstance(command, (list, tuple)) and command else str(command).split(" ")[0]
                if os.path.basename(str(program)) not in ("git", "git.exe"):
                    return real(*args, **kwargs)
            calls.append((kind, args[1:] if kind == "connect" else args[:1]))
            if not allow:
                raise OSError(f"{kind}: no network in this test")
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(socket.socket, "connect", guard("connect", socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard("connect", socket.socket.connect_ex))
    monkeypatch.setattr(socket, "create_connection", guard("create_connection", socket.create_connection))
    monkeypatch.setattr(socket, "getaddrinfo", guard("getaddrinfo", socket.getaddrinfo))
    monkeypatch.setattr(subprocess, "run", guard("run", subprocess.run, only_git=True))
    monkeypatch.setattr(subprocess, "Popen", guard("Popen", subprocess.Popen, only_git=True))
    return calls


def test_a_default_run_makes_no_network_request(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NETWORK_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    calls = watch_network(monkeypatch, allow=False)
    extra = tmp_path / "extra"
    extra.mkdir()
    text = (
        "FROM nvcr.io/nvidia/cuda:12.4-runtime AS cuda\n"
        "FROM ghcr.io/org/base:1.0\n"
        "RUN pip install git+https://github.com/org/repo.git@main git+ssh://git@github.com/org/other.git\n"
        "RUN uv pip install 'pkg @ git+https://gitlab.com/org/pkg@v1.2.0'\n"
    )
    (extra / "Dockerfile").write_text(text)
    everything = ["--isolated", "--select", "AIC", "--extend-select", "AIC305,AIC306", "--unsafe-fixes", "-j", "1"]
    paths = [str(REPO / "examples"), str(REPO / "tests" / "corpus"), str(extra)]

    diff = invoke([*everything, "--fix", "--diff", *paths])
    report = invoke([*everything, "--output-format", "concise", *paths])
    fixed = invoke([*everything, "--fix", str(extra)])

    assert calls == []
    assert [m for m in NETWORK_MODULES if m in sys.modules] == []
    assert not cache_dir.exists()
    assert diff.exit_code == 1 and "+++ " in diff.stdout
    assert "aicache-lint: warning" not in diff.stderr + report.stderr + fixed.stderr
    # The network rules did run, offline: they say what --resolve-images would do.
    assert "AIC306" in report.stdout and "(`--resolve-images` looks the digest up and pins it)" in report.stdout
    assert "(`--resolve-images` looks the commit up with `git ls-remote` and pins it)" in report.stdout
    assert "@main" in (extra / "Dockerfile").read_text() and "@sha256:" not in (extra / "Dockerfile").read_text()


def test_resolution_does_use_the_network(remote, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The positive control: the same patches do see --resolve-images at work."""
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST}}) as reg:
        configure(project, {"docker.io": reg.url}, head="")
        path = dockerfile(project, f"FROM python:3.12-slim\nRUN pip install --no-cache-dir git+{remote.url}@dev\n")
        calls = watch_network(monkeypatch, allow=True)
        result = lint(path, "--select", "AIC305,AIC306", "--resolve-images", "--fix", "--unsafe-fixes", "-j", "1")
        assert result.exit_code == 0, result.output
        port = int(reg.host.rsplit(":", 1)[1])
        assert ("connect", (("127.0.0.1", port),)) in calls
        assert ("run", (["git", "ls-remote", "--", remote.url],)) in calls
        assert path.read_text() == (
            f"FROM python:3.12-slim@{PY_DIGEST}\nRUN pip install --no-cache-dir git+{remote.url}@{remote.dev}\n"
        )


# -- settings: the command line over the file, --show-settings, bad values --------------------------


def test_no_resolve_images_overrides_the_config(project: Path) -> None:
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST}}) as reg:
        configure(project, {"docker.io": reg.url})
        path = dockerfile(project, "FROM python:3.12-slim\nRUN echo hello\n")
        result = lint(path, "--extend-select", "AIC306", "--no-resolve-images", "--fix")
        assert "(`--resolve-images` looks the digest up and pins it)" in result.stdout
        assert path.read_text() == "FROM python:3.12-slim\nRUN echo hello\n"
        assert reg.requests == []


def test_show_settings(project: Path) -> None:
    config = configure(project, {"docker.io": "http://127.0.0.1:5000"}, head="resolve-images = true\nresolve-timeout = 2.5\n")

    def settings(*args: str) -> dict:
        result = invoke(["--show-settings", *args, str(project)])
        assert result.exit_code == 0
        return {k: json.loads(v) for k, v in (line.split(" = ", 1) for line in result.stdout.splitlines()[1:] if line)}

    shown = settings()
    assert shown["config-file"] == str(config)
    assert shown["resolve-images"] is True
    assert shown["registry-mirrors"] == {"docker.io": "http://127.0.0.1:5000"}
    assert shown["resolve-timeout"] == 2.5
    assert settings("--no-resolve-images")["resolve-images"] is False
    assert settings("--isolated")["resolve-images"] is False
    assert settings("--isolated", "--resolve-images")["resolve-images"] is True
    config.unlink()
    (project / "pyproject.toml").write_text('[tool.aicache-lint]\nresolve-images = true\n')
    assert settings()["resolve-images"] is True


@pytest.mark.parametrize(
    "content, message",
    [
        ("resolve-timeout = 0\n", "`resolve-timeout`: expected a number of seconds between 0 and 300, got 0"),
        ("resolve-timeout = true\n", "`resolve-timeout`: expected a number of seconds between 0 and 300, got True"),
        ('resolve-images = "yes"\n', "`resolve-images`: expected true or false, got 'yes'"),
        ('[registry-mirrors]\n"docker.io" = "ftp://x"\n',
         "`registry-mirrors.docker.io`: expected an http:// or https:// URL, got 'ftp://x'"),
        ('registry-mirrors = "http://x"\n', "`registry-mirrors`: expected a table of registry host = \"URL\", got 'http://x'"),
    ],
)
def test_bad_settings_are_a_clear_error(project: Path, content: str, message: str) -> None:
    config = project / "aicache-lint.toml"
    config.write_text(content)
    result = lint(dockerfile(project, "FROM python:3.12-slim\n"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{config}: {message}" in result.stderr


# -- layout: resolved fixes keep CRLF, BOM, comments, continuations and the missing final newline ------


def test_resolved_fixes_keep_the_layout(remote, project: Path) -> None:
    from buildkit_oracle import assert_matches_buildkit

    original = (
        "\ufeff# escape=`\r\n"
        "# the runtime\r\n"
        "ARG BASE=python:3.12-slim\r\n"
        "ARG CUDA=12.4\r\n"
        "FROM nvidia/cuda:${CUDA}-devel-ubuntu22.04 AS build\r\n"
        "RUN --mount=type=cache,target=/root/.cache/pip `\r\n"
        "    # the fork with our patches\r\n"
        f"    pip install git+{remote.url}@dev\r\n"
        "FROM $BASE"
    )
    expected = original.replace("ARG CUDA=12.4\r", "ARG CUDA=12.4.1\r").replace(
        "python:3.12-slim\r", f"python:3.12-slim@{PY_DIGEST}\r").replace("@dev", f"@{remote.dev}")
    expected = expected.replace("nvidia/cuda:${CUDA}-devel-ubuntu22.04 AS", f"nvidia/cuda:${{CUDA}}-devel-ubuntu22.04@{D1} AS")
    path = project / "Dockerfile"
    path.write_bytes(original.encode("utf-8"))
    with FakeRegistry({"library/python": {"3.12-slim": PY_DIGEST},
                       "nvidia/cuda": {"12.4.1-devel-ubuntu22.04": D1}}) as reg:
        configure(project, {"docker.io": reg.url})
        result = lint(path, "--select", "AIC303,AIC305,AIC306", "--fix", "--unsafe-fixes")
        assert result.exit_code == 0, result.output
        fixed = path.read_bytes()
        assert fixed.decode("utf-8") == expected
        lint(path, "--select", "AIC303,AIC305,AIC306", "--fix", "--unsafe-fixes")
        assert path.read_bytes() == fixed  # fixing twice changes nothing
    assert_matches_buildkit(expected)


def test_aic305_refs_the_fix_leaves_alone(remote, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An abbreviated SHA and `uv add --branch` are reported, never rewritten, and not even looked up."""
    text = (
        f"RUN --mount=type=cache,target=/root/.cache/pip pip install git+{remote.url}@{remote.dev[:9]}\n"
        f"RUN --mount=type=cache,target=/root/.cache/uv uv add git+{remote.url} --branch dev\n"
    )
    path = dockerfile(project, text)
    calls = watch_network(monkeypatch, allow=True)
    result = lint(path, "--isolated", "--select", "AIC305", "--resolve-images", "--fix", "--unsafe-fixes")
    assert result.exit_code == 1
    assert f"is pinned to the abbreviated SHA `{remote.dev[:9]}`" in result.stdout
    assert "follows the branch `dev`" in result.stdout
    assert "(no automatic fix for a `--branch`/`--tag` option: use `--rev <full SHA>`)" in result.stdout
    assert "Found 2 errors (0 fixed, 2 remaining)." in result.stdout
    assert path.read_text() == text
    assert calls == []


@pytest.mark.parametrize(
    "key, value",
    [
        ("digest docker.io/library/python:3.12-slim", "sha256:not-a-digest && rm -rf /"),
        ("digest docker.io/library/python:3.12-slim", ["sha256:" + "a" * 64]),
        ("tags docker.io/nvidia/cuda", {"13.2.1-runtime-ubuntu24.04": True}),
    ],
)
def test_a_well_formed_entry_with_a_bad_answer_is_never_written(project: Path, cache_dir: Path, key, value) -> None:
    """A cache entry that parses but does not hold a valid answer is as corrupt as garbage: with the
    registry down, nothing of it reaches the Dockerfile."""
    configure(project, {"docker.io": f"http://127.0.0.1:{closed_port()}"})
    cache = DiskCache(str(cache_dir))
    cache.put(key, value)
    text = "FROM python:3.12-slim\nFROM nvidia/cuda:13.2-runtime-ubuntu24.04\n"
    path = dockerfile(project, text)
    result = lint(path, "--select", "AIC303,AIC306", "--fix")
    assert result.exit_code == 1
    corrupt = [w for w in warnings(result) if "corrupt cache file" in w]
    assert corrupt == [f"aicache-lint: warning: ignoring the corrupt cache file {cache.path(key)} "
                       f"(not a valid answer for {key})"]
    assert path.read_text() == text


def test_aic306_pins_compose_images(project: Path) -> None:
    nginx, ollama = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    repositories = {"library/nginx": {"1.27": nginx}, "ollama/ollama": {"0.5.7": ollama},
                    "library/busybox": {"1.36": "sha256:" + "3" * 64}}
    text = (
        "services:\n"
        "  llm:\n    image: ollama/ollama:0.5.7\n"
        "  web:\n    image: \"nginx:1.27\"   # the front\n"
        "  app:\n    build: .\n    image: example/app:dev\n"
        "  tool:\n    image: ${TOOL_IMAGE:-busybox:1.36}\n"
    )
    compose = project / "compose.yaml"
    compose.write_text(text)
    with FakeRegistry(repositories) as reg:
        configure(project, {"docker.io": reg.url})
        result = lint(compose, "--select", "AIC306", "--fix")
        assert result.exit_code == 1, result.output
        assert compose.read_text() == text.replace("ollama/ollama:0.5.7", f"ollama/ollama:0.5.7@{ollama}").replace(
            '"nginx:1.27"', f'"nginx:1.27@{nginx}"')
        # The interpolated one stays, reported without a fix; a second run changes nothing.
        assert result.stdout.splitlines()[0] == (
            f"{compose}:10:12: AIC306 `busybox:1.36` is not pinned by digest: the tag can move under the layer "
            "cache (no automatic fix: the reference is not written out verbatim)")
        fixed = compose.read_text()
        lint(compose, "--select", "AIC306", "--fix")
        assert compose.read_text() == fixed
    from aicache_lint.compose.parse import parse
    from aicache_lint.source import SourceText

    assert not parse(SourceText(fixed, path=str(compose))).errors


def test_aic303_repository_missing_from_the_registry(project: Path) -> None:
    """A registry (or mirror) without nvidia/cuda answers 404 to the tag list: one warning, then the
    bundled table decides, as offline."""
    text = "FROM nvidia/cuda:12.4-runtime-ubuntu22.04 AS a\nFROM nvidia/cuda:12.4-devel-ubuntu22.04\n"
    path = dockerfile(project, text)
    with FakeRegistry({"library/python": {}}) as reg:
        configure(project, {"docker.io": reg.url})
        result = lint(path, "--select", "AIC303", "--fix", "--unsafe-fixes")
    assert warnings(result) == [f"aicache-lint: warning: docker.io has no repository `nvidia/cuda`{OFFLINE}"]
    assert path.read_text() == text.replace("12.4-", "12.4.1-")


# -- image sizes for estimates (aicache-lint impact --resolve-images) --------------------------------

SIZED = {"team/app": {"1.0": {}}}
LAYERS = {"team/app": {"1.0": [1_000_000, 250_000_000, 5]}}


def test_client_sums_the_linux_amd64_layers() -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}, configs=SIZED, layers=LAYERS) as reg:
        assert client_for(reg.url).compressed_size(REG, "team/app", "1.0") == 251_000_005  # not arm64's
    with FakeRegistry({"team/app": {"1.0": D1}}, configs=SIZED, layers=LAYERS, index=False) as reg:
        assert client_for(reg.url).compressed_size(REG, "team/app", "1.0") == 251_000_005
    with FakeRegistry({"team/app": {"1.0": D1}}, configs=SIZED) as reg:  # a manifest that lists no layer
        with pytest.raises(RegistryError, match="without layer sizes for team/app:1.0"):
            client_for(reg.url).compressed_size(REG, "team/app", "1.0")
        with pytest.raises(NotFound):
            client_for(reg.url).compressed_size(REG, "team/app", "9.9")


def test_resolver_image_size_is_cached_on_disk(cache_dir: Path) -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}, configs=SIZED, layers=LAYERS) as reg:
        assert make_resolver(reg.url, cache_dir).image_size(f"{REG}/team/app:1.0") == 251_000_005
        asked = len(reg.requests)
        assert make_resolver(reg.url, cache_dir).image_size(f"{REG}/team/app:1.0") == 251_000_005
        assert len(reg.requests) == asked  # the second resolver read the disk cache
        assert make_resolver(reg.url, cache_dir).image_size(f"{REG}/team/app:9.9") is None


def test_impact_sizes_a_base_the_table_lacks_from_its_registry(project: Path) -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}, configs=SIZED, layers=LAYERS) as reg:
        configure(project, {REG: reg.url}, head="")
        dockerfile(project, f"FROM {REG}/team/app:1.0\nRUN pip install numpy==2.1.3\n")
        offline = invoke(["impact", "--output-format", "json", str(project)])
        online = invoke(["impact", "--resolve-images", "--output-format", "json", str(project)])
    before = json.loads(offline.stdout)["images"][0]["now"]["base"]
    after = json.loads(online.stdout)["images"][0]["now"]["base"]
    assert after["unknown"] == before["unknown"] - 1  # the pull is sized now
    assert after["bytes"] == before["bytes"] + 251_000_005
    assert any(s.startswith(f"{REG} ") for s in json.loads(online.stdout)["sources"])


def test_impact_offline_fallback_when_the_registry_fails(project: Path) -> None:
    with FakeRegistry({"team/app": {"1.0": D1}}, configs=SIZED, layers=LAYERS) as reg:
        reg.fail_status = 503
        configure(project, {REG: reg.url}, head="")
        dockerfile(project, f"FROM {REG}/team/app:1.0\nRUN pip install numpy==2.1.3\n")
        result = invoke(["impact", "--resolve-images", "--output-format", "json", str(project)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["images"][0]["now"]["base"]["unknown"] == 1
    assert "continuing with what aicache-lint knows offline" in result.stderr
