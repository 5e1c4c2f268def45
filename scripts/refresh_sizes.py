#!/usr/bin/env python3
"""Refresh aicache-lint's download-size table from PyPI, Debian and Ubuntu (maintainers' tool).

    python scripts/refresh_sizes.py            # asks PyPI, deb.debian.org and archive.ubuntu.com, rewrites data/sizes.tsv
    python scripts/refresh_sizes.py --dry-run  # prints what would change

PyPI rows: for each project of ``PYPI``, the newest patch release of its newest minor releases (and
the versions of ``PINS``), the wheel pip would pick on Linux x86_64 and aarch64 for CPython 3.11 and
3.12 (or the pure-Python wheel, or the sdist when there is no wheel), with its size from the simple
JSON API (``Accept: application/vnd.pypi.simple.v1+json``). For the projects of ``TOTALS`` (torch)
a ``wheels`` row adds the wheels of the CUDA stack that the wheel's own metadata (``Requires-Dist``,
read from the file's ``.metadata`` or, failing that, from the wheel with HTTP range requests) pulls
on that platform: requirements named ``nvidia-*``, ``cuda-*`` or ``triton`` whose markers hold, and
theirs, each at the newest release its specifier allows (the first pin met wins, torch's own first).

Debian rows: ``Size`` (the .deb download) of each package of ``APT`` in each release of ``DEBIAN``,
from the mirror's ``Packages.xz``, and a ``deb+deps`` row adding the ``Depends``/``Pre-Depends``
closure (first alternative, no Recommends) minus what a ``debian:<release>-slim`` image holds (the
``Priority: required`` packages and ``apt``, with their closure: debootstrap's minbase). Ubuntu rows
likewise, per release of ``UBUNTU``, from ``main`` and ``universe`` of the release and its
``-security`` and ``-updates`` pockets (a later pocket's stanza wins), minus what ``ubuntu:<version>``
holds (its ``Priority: required`` packages and ``apt``, a dependency met by a required package
where one can; for jammy these are the packages its image manifest lists).

Hand-sourced rows (images, models) live in ``data/sizes-sourced.tsv`` and are not touched. Standard
library only; every request has a time-out; the table is replaced only when every source answered.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import lzma
import re
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "src" / "aicache_lint" / "data" / "sizes.tsv"
COLUMNS = ("kind", "name", "version", "platform", "variant", "bytes", "source", "date", "detail")

# project -> how many of its newest minor releases to record (each at its newest patch)
PYPI = {
    "torch": 15, "torchvision": 15, "torchaudio": 15, "triton": 4, "xformers": 4, "flash-attn": 3,
    "vllm": 4, "tensorflow": 3, "jax": 2, "jaxlib": 3, "jax-cuda12-plugin": 3, "jax-cuda12-pjrt": 3,
    "jax-cuda13-plugin": 2, "jax-cuda13-pjrt": 2, "bitsandbytes": 3, "opencv-python": 2,
    "opencv-python-headless": 2, "opencv-contrib-python": 2, "transformers": 3, "diffusers": 3,
    "accelerate": 3, "onnxruntime": 3, "onnxruntime-gpu": 3, "numpy": 3, "scipy": 3, "pandas": 3,
    "scikit-learn": 2, "pyarrow": 2, "tokenizers": 2, "safetensors": 2, "sentencepiece": 2,
    "sentence-transformers": 2, "deepspeed": 2, "cupy-cuda12x": 2,
    "ctranslate2": 2, "faiss-cpu": 2, "llvmlite": 2, "spacy": 2,
    # the tooling and libraries around them that AI images install too
    "pip": 2, "setuptools": 2, "wheel": 2, "uv": 2, "packaging": 2, "ninja": 2, "psutil": 2,
    "requests": 2, "tqdm": 2, "pyyaml": 2, "regex": 2, "protobuf": 2, "grpcio": 2, "sympy": 1,
    "networkx": 1, "pillow": 2, "matplotlib": 2, "av": 2, "fastapi": 2, "starlette": 2, "uvicorn": 2,
    "pydantic": 2, "pydantic-core": 2, "gradio": 2, "huggingface-hub": 2, "hf-xet": 2, "datasets": 2,
    "peft": 2, "einops": 2, "timm": 2, "open-clip-torch": 2, "ultralytics": 2, "lightning": 2,
    "onnx": 2, "numba": 2, "librosa": 2, "soundfile": 2, "faster-whisper": 2, "openai-whisper": 1,
    "whisperx": 1, "misaki": 2, "kokoro": 1, "paddlepaddle": 1, "paddlepaddle-gpu": 1,
}
# versions AI images commonly pin that the newest minors above leave out
PINS = {"numpy": ("1.26.4",), "tensorflow": ("2.15.1",), "transformers": ("4.46.3",)}
TOTALS = ("torch",)
STACK = re.compile(r"^(nvidia-.*|cuda-.*|triton|pytorch-triton.*)$")
MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
PYTHONS = ("cp311", "cp312")
SIMPLE = "https://pypi.org/simple/{}/"

DEBIAN = ("trixie", "bookworm")
DEB_ARCHES = {"linux/amd64": "amd64", "linux/arm64": "arm64"}
PACKAGES_XZ = "https://deb.debian.org/debian/dists/{}/main/binary-{}/Packages.xz"
# Ubuntu: codename -> version (the ``ubuntu`` image's tag); main and universe (a package is in one of
# them), the release pocket and its updates; amd64 only: ports.ubuntu.com (arm64) does not resolve from here
UBUNTU = {"jammy": "22.04", "noble": "24.04"}
UBUNTU_MIRRORS = {"linux/amd64": ("https://archive.ubuntu.com/ubuntu", "amd64")}
UBUNTU_COMPONENTS = ("main", "universe")
UBUNTU_POCKETS = ("", "-security", "-updates")  # -updates also receives every security update
UBUNTU_PACKAGES_XZ = "{}/dists/{}/{}/binary-{}/Packages.xz"
APT = (
    "build-essential", "gcc", "g++", "make", "cmake", "ninja-build", "pkg-config", "git", "git-lfs",
    "curl", "wget", "ca-certificates", "unzip", "openssh-client", "vim", "python3", "python3-dev",
    "python3-pip", "python3-venv", "ffmpeg", "libgl1", "libglib2.0-0", "libglib2.0-0t64", "libsm6",
    "libxext6", "libxrender1", "libgomp1", "libopenblas-dev", "libsndfile1", "sox", "espeak-ng",
    "tesseract-ocr", "poppler-utils", "libpq-dev", "default-jdk-headless", "nodejs", "cuda-toolkit",
)


# -- HTTP ----------------------------------------------------------------------------------------

class Http:
    """GETs with a time-out and a retry, cached for the run."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.cache: dict[tuple, bytes] = {}

    def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        key = (url, tuple(sorted((headers or {}).items())))
        if key not in self.cache:
            self.cache[key] = self._get(url, headers or {})
        return self.cache[key]

    def _get(self, url: str, headers: dict[str, str]) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": "aicache-lint-refresh-sizes", **headers})
        for attempt in range(3):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return answer.read()
            except urllib.error.HTTPError as exc:
                if exc.code < 500 or attempt == 2:
                    raise
            except (urllib.error.URLError, TimeoutError):
                if attempt == 2:
                    raise
            time.sleep(1 + attempt)
        raise AssertionError("unreachable")


class RangeFile(io.RawIOBase):
    """A remote file read with HTTP range requests, for zipfile to find a wheel's METADATA."""

    def __init__(self, http: Http, url: str, size: int) -> None:
        self.http, self.url, self.size, self.pos = http, url, size, 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: 0, 1: self.pos, 2: self.size}[whence] + offset
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n < 0 else min(self.size, self.pos + n)
        if end <= self.pos:
            return b""
        data = self.http.get(self.url, {"Range": f"bytes={self.pos}-{end - 1}"})
        if len(data) != end - self.pos:
            raise ValueError(f"{self.url}: the server ignored a range request")
        self.pos += len(data)
        return data


# -- versions, requirements, markers (PEP 440 / 508, the subset package metadata uses) -----------

_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)((?:a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-z0-9.]+)?$", re.I)


def parse_version(text: str) -> tuple | None:
    """A sortable key (release, post) of a final release; None for a pre-release or an odd version."""
    m = _VERSION.match(text.strip())
    if not m or m.group(2) or m.group(4):
        return None
    release = tuple(int(p) for p in m.group(1).split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    return (release, int(m.group(3)[5:]) if m.group(3) else 0)


def _loose_key(text: str) -> tuple:
    """The key of a version a specifier names, pre-release or not (``>=1.0rc1`` compares as 1.0)."""
    m = re.match(r"^v?(\d+(?:\.\d+)*)", text.strip())
    return parse_version(m.group(1)) if m else ((), 0)


def spec_matches(version: str, spec: str) -> bool:
    """Whether ``version`` satisfies a specifier set such as ``>=2.1,<3`` or ``==13.4.1.3.*``."""
    key = parse_version(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        op, want = re.match(r"^(===|==|!=|~=|<=|>=|<|>)\s*(.+)$", clause).groups()
        if op == "===":
            ok = version == want
        elif want.endswith(".*"):
            prefix = tuple(int(p) for p in want[:-2].split("."))
            same = version.split("+")[0].split(".")[:len(prefix)] == [str(p) for p in prefix]
            ok = same if op == "==" else not same
        elif key is None:  # a pre-release: only an exact pin selects it
            ok = op == "==" and version == want
        else:
            other = parse_version(want) or _loose_key(want)
            ok = {"==": key == other, "!=": key != other, "<=": key <= other, ">=": key >= other,
                  "<": key < other, ">": key > other,
                  "~=": key >= other and version.split(".")[:len(want.split(".")) - 1]
                  == want.split(".")[:-1]}[op]
        if not ok:
            return False
    return True


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*\(?([^;()@]*)\)?\s*(@[^;]*)?(?:;(.*))?$")


def parse_requirement(text: str) -> tuple[str, frozenset[str], str, str] | None:
    """(normalized name, extras, specifier, marker) of a ``Requires-Dist`` value; None for a URL."""
    m = _REQUIREMENT.match(text)
    if not m or m.group(4):
        return None
    extras = frozenset(normalize(e) for e in (m.group(2) or "").split(",") if e.strip())
    return normalize(m.group(1)), extras, m.group(3).replace(" ", ""), (m.group(5) or "").strip()


_TOKEN = re.compile(r"\s*(\(|\)|'[^']*'|\"[^\"]*\"|===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b|and\b|or\b|[A-Za-z_.]+)")
_VERSION_VARS = {"python_version", "python_full_version", "implementation_version"}


def marker_holds(marker: str, env: dict[str, str]) -> bool:
    """Evaluate a PEP 508 environment marker (``and``/``or``/parentheses, comparisons) in ``env``."""
    tokens, pos = [], 0
    marker = marker.strip()
    while pos < len(marker):
        m = _TOKEN.match(marker, pos)
        if not m:
            raise ValueError(f"marker: cannot read {marker[pos:]!r}")
        tokens.append(re.sub(r"\s+", " ", m.group(1)))
        pos = m.end()
    if not tokens:
        return True
    at = 0

    def value() -> tuple[str, str]:
        nonlocal at
        tok = tokens[at]
        at += 1
        return (tok[1:-1], "") if tok[0] in "'\"" else (env.get(tok, ""), tok)

    def compare() -> bool:
        nonlocal at
        if tokens[at] == "(":
            at += 1
            result = either()
            at += 1  # ")"
            return result
        (left, lvar), op = value(), tokens[at]
        at += 1
        right, rvar = value()
        if op in ("in", "not in"):
            return (left in right) == (op == "in")
        if {lvar, rvar} & _VERSION_VARS:
            return spec_matches(left, op + right)
        if "extra" in (lvar, rvar):
            left, right = normalize(left), normalize(right)
        if op in ("==", "===", "!="):
            return (left == right) == (op != "!=")
        return bool(parse_version(left) and parse_version(right)) and spec_matches(left, op + right)

    def chain(word: str, operand, combine) -> bool:
        """``operand (word operand)*``; every operand is read, whatever the result so far."""
        nonlocal at
        result = operand()
        while at < len(tokens) and tokens[at] == word:
            at += 1
            result = combine(operand(), result)
        return result

    def both() -> bool:
        return chain("and", compare, lambda a, b: a and b)

    def either() -> bool:  # parentheses nest a whole expression (see ``value``)
        return chain("or", both, lambda a, b: a or b)

    return either()


def environment(machine: str, python: str, extra: str = "") -> dict[str, str]:
    """The marker variables of CPython ``python`` (``cp312``) on Linux ``machine``."""
    version = f"{python[2]}.{python[3:]}"
    return {"python_version": version, "python_full_version": version + ".0", "implementation_version": version + ".0",
            "platform_system": "Linux", "sys_platform": "linux", "os_name": "posix", "platform_machine": machine,
            "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": extra}


def requires_dist(metadata: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]


# -- PyPI files -------------------------------------------------------------------------------------

def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_tags(filename: str) -> tuple[str, list[str], list[str], list[str]] | None:
    """(version, python tags, abi tags, platform tags) of a wheel file name."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-4].split("-")
    if len(parts) < 5:
        return None
    return parts[1], parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")


def file_rank(filename: str, python: str, machine: str) -> tuple | None:
    """How pip ranks this file for CPython ``python`` on glibc Linux ``machine`` (lower is better);
    None when pip cannot install it there. An sdist ranks last."""
    if filename.endswith((".tar.gz", ".zip")):
        return (9, (9, ()))
    tags = wheel_tags(filename)
    if tags is None:
        return None
    _, pys, abis, plats = tags
    glibc = [_glibc(p, machine) for p in plats]
    glibc = [g for g in glibc if g is not None]
    if "any" in plats:
        plat_rank = (1, ())
    elif glibc:
        plat_rank = (0, tuple(-g for g in max(glibc)))
    else:
        return None
    minor = int(python[3:])
    if python in pys and python in abis:
        interp = 0
    elif "abi3" in abis and any(p.startswith("cp3") and int(p[3:]) <= minor for p in pys):
        interp = 1
    elif "none" in abis and any(p in (python, "py3") or (re.fullmatch(r"py3\d+", p) and int(p[3:]) <= minor)
                                for p in pys):
        interp = 2
    else:
        return None
    return (interp, plat_rank)


def _glibc(platform: str, machine: str) -> tuple[int, int] | None:
    m = re.match(r"^manylinux(?:_(\d+)_(\d+)|(1|2010|2014))_(\w+)$", platform)
    if not m or m.group(4) != machine:
        return None
    if m.group(3):
        return {"1": (2, 5), "2010": (2, 12), "2014": (2, 17)}[m.group(3)]
    return int(m.group(1)), int(m.group(2))


def file_variant(filename: str, python: str) -> tuple[str, str]:
    """(variant, platform kind) of a chosen file: ``cp312``/``abi3``/``py3``/``sdist``, ``linux``/``any``."""
    tags = wheel_tags(filename)
    if tags is None:
        return "sdist", "any"
    _, pys, abis, plats = tags
    kind = "any" if "any" in plats else "linux"
    if python in pys and python in abis:
        return python, kind
    return ("abi3" if "abi3" in abis else "py3"), kind


def releases(simple: dict) -> dict[str, list[dict]]:
    """version -> the files of a simple-API JSON answer (yanked files left out)."""
    out: dict[str, list[dict]] = {}
    for f in simple.get("files", ()):
        if f.get("yanked"):
            continue
        name = f["filename"]
        if name.endswith(".whl"):
            version = name.split("-")[1]
        else:
            m = re.match(r"^.+?-(\d[^-]*)\.(?:tar\.gz|zip)$", name)
            if not m:
                continue
            version = m.group(1)
        out.setdefault(version.replace("_", "-"), []).append(f)
    return out


def pick_versions(versions: list[str], minors: int, pins: tuple[str, ...] = ()) -> list[str]:
    """The newest patch release of each of the ``minors`` newest minor releases, and ``pins``."""
    best: dict[tuple, tuple] = {}
    for v in versions:
        key = parse_version(v)
        if key is None:
            continue
        release = key[0] + (0, 0)
        family = release[:2] if release[:2] != (0, 0) else release[:3]  # 0.0.x: each patch is a release line
        if family not in best or key > best[family][0]:
            best[family] = (key, v)
    chosen = [v for _, (_, v) in sorted(best.items(), reverse=True)[:minors]]
    return chosen + [p for p in pins if p in versions and p not in chosen]


def best_file(files: list[dict], python: str, machine: str) -> dict | None:
    """The file pip installs; the sdist only for a release without wheels (a release whose wheels
    leave this Python out is one pip skips, as its Requires-Python says)."""
    wheels = [f for f in files if f["filename"].endswith(".whl")]
    ranked = [(file_rank(f["filename"], python, machine), f) for f in wheels or files]
    ranked = [(r, f) for r, f in ranked if r is not None]
    return min(ranked, key=lambda rf: rf[0])[1] if ranked else None


class PyPI:
    def __init__(self, http: Http) -> None:
        self.http = http

    def project(self, name: str) -> dict[str, list[dict]]:
        body = self.http.get(SIMPLE.format(normalize(name)), {"Accept": "application/vnd.pypi.simple.v1+json"})
        return releases(json.loads(body))

    def metadata(self, f: dict) -> str:
        """A wheel's METADATA: the index's ``.metadata`` file (PEP 658), else read from the wheel."""
        try:
            text = self.http.get(f["url"] + ".metadata").decode("utf-8")
            if text.strip():
                return text
        except urllib.error.HTTPError:
            pass
        with zipfile.ZipFile(RangeFile(self.http, f["url"], f["size"])) as wheel:
            name = next(n for n in wheel.namelist() if re.match(r"^[^/]+\.dist-info/METADATA$", n))
            return wheel.read(name).decode("utf-8")


def stack_closure(pypi: PyPI, root: dict, python: str, machine: str) -> list[tuple[str, str, dict]]:
    """The CUDA-stack wheels (name, version, file) that ``root`` pulls on ``machine``: breadth first,
    so the root's own pins win; each at the newest release its first specifier allows."""
    resolved: dict[str, tuple[str, dict]] = {}
    requested: dict[str, frozenset[str]] = {}
    queue = [(r, frozenset()) for r in requires_dist(pypi.metadata(root))]
    while queue:
        text, parent_extras = queue.pop(0)
        parsed = parse_requirement(text)
        if parsed is None:
            continue
        name, extras, spec, marker = parsed
        if not STACK.match(name) or not any(
                marker_holds(marker, environment(machine, python, e)) for e in {""} | parent_extras):
            continue
        if name in resolved and extras <= requested[name]:
            continue
        newly = name not in resolved
        if newly:
            files = pypi.project(name)
            fitting = sorted((v for v in files if spec_matches(v, spec) and best_file(files[v], python, machine)
                              and best_file(files[v], python, machine)["filename"].endswith(".whl")),
                             key=lambda v: parse_version(v) or ((), 0))
            if not fitting:
                raise LookupError(f"{root['filename']}: no wheel of {name}{spec} for {python} {machine}")
            resolved[name] = (fitting[-1], best_file(files[fitting[-1]], python, machine))
        new = extras - requested.get(name, frozenset())
        requested[name] = requested.get(name, frozenset()) | extras
        if newly or new:
            queue.extend((r, new) for r in requires_dist(pypi.metadata(resolved[name][1])))
    return [(n, v, f) for n, (v, f) in resolved.items()]


def pypi_rows(pypi: PyPI, date: str, log) -> list[tuple]:
    rows: dict[tuple, tuple] = {}

    def add(name: str, version: str, platform: str, python: str, f: dict) -> tuple:
        variant, kind = file_variant(f["filename"], python)
        plat = platform if kind == "linux" else "any"
        row = ("wheel" if variant != "sdist" else "sdist", name, version, plat, variant, str(f["size"]),
               SIMPLE.format(name), date, f["filename"])
        rows[row[:5]] = row
        return row

    for project, minors in PYPI.items():
        files = pypi.project(project)
        for version in pick_versions(list(files), minors, PINS.get(project, ())):
            for platform, machine in MACHINES.items():
                for python in PYTHONS:
                    f = best_file(files[version], python, machine)
                    if f is None:
                        continue
                    root = add(project, version, platform, python, f)
                    if project not in TOTALS or root[0] != "wheel":
                        continue
                    parts = [root] + [add(n, v, platform, python, g) for n, v, g in
                                      stack_closure(pypi, f, python, machine)]
                    rows[("wheels", project, version, platform, python)] = (
                        "wheels", project, version, platform, python, str(sum(int(p[5]) for p in parts)),
                        SIMPLE.format(project), date, " ".join(p[8] for p in parts))
        log(f"pypi: {project}")
    return list(rows.values())


# -- Debian ---------------------------------------------------------------------------------------

def parse_packages(text: str) -> dict[str, dict[str, str]]:
    """A Debian ``Packages`` index: package name -> its fields (the first stanza of a name wins)."""
    out: dict[str, dict[str, str]] = {}
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" in fields:
            out.setdefault(fields["Package"], fields)
    return out


def deb_closure(names, index: dict[str, dict[str, str]], prefer: frozenset[str] = frozenset()) -> set[str]:
    """The packages ``names`` need: Depends and Pre-Depends, first installable alternative -- but
    an alternative (or a provider of it) in ``prefer``, what the image already holds, comes first,
    as apt keeps a dependency that is already met (``awk``: the base's mawk, not gawk)."""
    providers: dict[str, list[str]] = {}
    for pkg, fields in index.items():
        for virtual in re.findall(r"([a-z0-9][a-z0-9+.-]*)", re.sub(r"\([^)]*\)", "", fields.get("Provides", ""))):
            providers.setdefault(virtual, []).append(pkg)
    seen: set[str] = set()
    todo = [n for n in names if n in index]
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        deps = ",".join(filter(None, (index[pkg].get("Pre-Depends"), index[pkg].get("Depends"))))
        for group in filter(None, (g.strip() for g in deps.split(","))):
            alternatives = [re.split(r"[\s(:\[]", a.strip(), maxsplit=1)[0] for a in group.split("|")]
            met = [p for name in alternatives for p in [name, *providers.get(name, ())] if p in prefer and p in index]
            found = [name if name in index else next(iter(providers.get(name, ())), None) for name in alternatives]
            chosen = next(iter(met + [p for p in found if p]), None)
            if chosen:
                todo.append(chosen)
    return seen


def apt_rows(index: dict[str, dict[str, str]], base: set[str], release: str, platform: str, date: str,
             where, image: str, prefer: frozenset[str] = frozenset()) -> list[tuple]:
    """The ``deb`` and ``deb+deps`` rows of each package of ``APT`` in ``index``; ``where(name)`` is
    the index file its stanza came from, ``base`` what the ``image`` holds."""
    rows = []
    for name in APT:
        if name not in index:
            continue
        fields, url = index[name], where(name)
        rows.append(("deb", name, fields["Version"], platform, release, fields["Size"], url, date,
                     f"Installed-Size {fields.get('Installed-Size', '?')} KiB"))
        extra = deb_closure([name], index, prefer) - base
        rows.append(("deb+deps", name, fields["Version"], platform, release,
                     str(sum(int(index[p]["Size"]) for p in extra)), url, date,
                     f"{len(extra)} packages not in {image} (Depends, Pre-Depends; no Recommends)"))
    return rows


def debian_rows(http: Http, date: str, log) -> list[tuple]:
    rows = []
    for release in DEBIAN:
        for platform, arch in DEB_ARCHES.items():
            url = PACKAGES_XZ.format(release, arch)
            index = parse_packages(lzma.decompress(http.get(url)).decode("utf-8"))
            base = deb_closure([p for p, f in index.items() if f.get("Priority") == "required"] + ["apt"], index)
            rows += apt_rows(index, base, release, platform, date, lambda _: url, f"debian:{release}-slim")
            log(f"debian: {release} {arch}")
    return rows


def ubuntu_index(http: Http, release: str, mirror: str, arch: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The packages of ``UBUNTU_COMPONENTS`` in the release and its pockets (a later pocket's
    version wins), and the ``Packages.xz`` each package's stanza came from."""
    index: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for pocket in UBUNTU_POCKETS:
        for component in UBUNTU_COMPONENTS:
            url = UBUNTU_PACKAGES_XZ.format(mirror, release + pocket, component, arch)
            for name, fields in parse_packages(lzma.decompress(http.get(url)).decode("utf-8")).items():
                index[name], origin[name] = fields, url
    return index, origin


def ubuntu_rows(http: Http, date: str, log) -> list[tuple]:
    rows = []
    for release, version in UBUNTU.items():
        for platform, (mirror, arch) in UBUNTU_MIRRORS.items():
            index, origin = ubuntu_index(http, release, mirror, arch)
            # ubuntu:<version> holds the Priority: required packages and apt, each dependency met by
            # a required package where one can (mawk for awk): for jammy exactly the 101 packages of
            # the image's manifest (data/SOURCES.md)
            required = frozenset(p for p, f in index.items() if f.get("Priority") == "required")
            base = deb_closure(sorted(required) + ["apt"], index, required)
            rows += apt_rows(index, base, release, platform, date, origin.__getitem__, f"ubuntu:{version}",
                             frozenset(base))
            log(f"ubuntu: {release} {arch}")
    return rows


# -- the table ------------------------------------------------------------------------------------

HEADER = """\
# Download sizes (bytes) of what AI images install, read by aicache_lint.knowledge.sizes.
# Generated by scripts/refresh_sizes.py (see data/SOURCES.md); hand-sourced rows: sizes-sourced.tsv.
# kind: wheel / sdist = one file from PyPI (variant: cp311, cp312, abi3, py3; platform any = pure Python);
#   wheels = the wheel and the CUDA-stack wheels its metadata pulls (detail: the files, each a wheel row);
#   deb = a Debian or Ubuntu package's .deb (variant: the release codename); deb+deps = with what
#   debian:<release>-slim (ubuntu:<version>) lacks.
"""


def dump(rows: list[tuple]) -> str:
    order = sorted(rows, key=lambda r: (r[0], r[1], parse_version(r[2]) or ((), 0), r[2], r[3], r[4]))
    return HEADER + "\t".join(COLUMNS) + "\n" + "".join("\t".join(r) + "\n" for r in order)


def load(text: str) -> list[tuple]:
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return [tuple(ln.split("\t")) for ln in lines[1:]]


def changes(before: list[tuple], after: list[tuple]) -> list[str]:
    old = {r[:5]: r for r in before}
    new = {r[:5]: r for r in after}
    out = [f"+ {' '.join(k)} {new[k][5]}" for k in sorted(new.keys() - old.keys())]
    out += [f"- {' '.join(k)} {old[k][5]}" for k in sorted(old.keys() - new.keys())]
    out += [f"~ {' '.join(k)} {old[k][5]} -> {new[k][5]}" for k in sorted(new.keys() & old.keys())
            if old[k][5] != new[k][5]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", type=Path, default=TABLE, help="the table to rewrite (default: the bundled one)")
    parser.add_argument("--date", default=datetime.datetime.now(datetime.timezone.utc).date().isoformat())
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--dry-run", action="store_true", help="print the changes; write nothing")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    http = Http(args.timeout)
    before = load(args.table.read_text(encoding="utf-8")) if args.table.exists() else []
    try:
        after = pypi_rows(PyPI(http), args.date, log) + debian_rows(http, args.date, log) + ubuntu_rows(http, args.date, log)
    except (urllib.error.URLError, TimeoutError, LookupError, ValueError) as exc:
        print(f"refresh_sizes: {exc}; the table is unchanged", file=sys.stderr)
        return 1
    lines = changes(before, after)
    print("\n".join(lines) if lines else "no change")
    print(f"{len(after)} rows ({len(lines)} changed)")
    if not args.dry_run:
        tmp = args.table.with_suffix(".tmp")
        tmp.write_text(dump(after), encoding="utf-8")
        tmp.replace(args.table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
