"""Facts: stages, ARG/ENV scope with expansion, USER/HOME/ids, and pip/uv cache dirs."""

from __future__ import annotations

import textwrap

from aicache_lint.dockerfile.facts import Facts
from aicache_lint.dockerfile.lexer import parse
from aicache_lint.source import SourceText


def facts_of(text: str) -> Facts:
    return Facts(parse(SourceText(textwrap.dedent(text))))


def state_at(facts: Facts, needle: str):
    for instr in facts.doc.instructions:
        if needle in facts.doc.source.text[instr.span.start : instr.span.end]:
            return facts.state(instr)
    raise AssertionError(needle)


def test_root_defaults() -> None:
    f = facts_of("FROM python:3.12\nRUN pip install x\n")
    s = state_at(f, "pip install")
    assert s.is_root and s.home == "/root"
    assert s.cache_dir("pip", "PIP_CACHE_DIR") == "/root/.cache/pip"
    assert s.cache_dir("uv", "UV_CACHE_DIR") == "/root/.cache/uv"


def test_named_user_home_and_ids_from_useradd() -> None:
    f = facts_of(
        """
        FROM python:3.12
        RUN groupadd -g 2000 ml && useradd -m -u 1001 -g ml app
        USER app
        RUN pip install x
        """
    )
    s = state_at(f, "pip install")
    info = s.user_info
    assert (info.name, info.uid, info.gid, info.home) == ("app", 1001, 2000, "/home/app")
    assert s.cache_dir("pip", "PIP_CACHE_DIR") == "/home/app/.cache/pip"


def test_adduser_variants_and_home_option() -> None:
    f = facts_of(
        """
        FROM alpine
        RUN adduser -D -u 1002 -h /srv/bot bot
        RUN adduser --disabled-password --gecos "" --uid 1003 --home /opt/deb deb
        USER bot
        RUN step_a
        USER deb
        RUN step_b
        """
    )
    bot = state_at(f, "RUN step_a")
    assert (bot.user_info.uid, bot.home) == (1002, "/srv/bot")
    deb = state_at(f, "RUN step_b")
    assert (deb.user_info.uid, deb.home) == (1003, "/opt/deb")


def test_numeric_user_and_group() -> None:
    f = facts_of("FROM a\nUSER 1000:1000\nRUN x\n")
    s = state_at(f, "RUN x")
    assert (s.user_info.uid, s.user_info.gid) == (1000, 1000)


def test_numeric_user_matches_a_created_user() -> None:
    f = facts_of("FROM a\nRUN useradd -u 1000 app\nUSER 1000\nRUN x\n")
    s = state_at(f, "RUN x")
    assert s.user_info.name == "app" and s.home == "/home/app"


def test_unknown_uid_for_named_user() -> None:
    s = state_at(facts_of("FROM a\nUSER app\nRUN x\n"), "RUN x")
    assert s.user_info.uid is None and s.home == "/home/app"


def test_env_home_and_cache_overrides_with_expansion() -> None:
    f = facts_of(
        """
        FROM a
        ARG CACHE_ROOT=/cache
        ENV HOME=/work XDG_CACHE_HOME=${CACHE_ROOT:-/x}/xdg
        RUN one
        ENV PIP_CACHE_DIR=$HOME/.pipcache UV_CACHE_DIR="${CACHE_ROOT}/uv"
        RUN two
        """
    )
    one = state_at(f, "RUN one")
    assert one.home == "/work"
    assert one.cache_dir("pip", "PIP_CACHE_DIR") == "/cache/xdg/pip"
    two = state_at(f, "RUN two")
    assert two.cache_dir("pip", "PIP_CACHE_DIR") == "/work/.pipcache"
    assert two.cache_dir("uv", "UV_CACHE_DIR") == "/cache/uv"


def test_relative_cache_dir_joins_workdir_and_unknown_var_is_unknown() -> None:
    f = facts_of("FROM a\nWORKDIR /app\nENV PIP_CACHE_DIR=.pip\nRUN x\nENV PIP_CACHE_DIR=$SOMEWHERE/p\nRUN y\n")
    assert state_at(f, "RUN x").cache_dir("pip", "PIP_CACHE_DIR") == "/app/.pip"
    assert state_at(f, "RUN y").cache_dir("pip", "PIP_CACHE_DIR") is None


def test_global_args_only_reach_from_unless_redeclared() -> None:
    f = facts_of(
        """
        ARG BASE=python:3.12
        ARG TAG=1
        FROM ${BASE} AS build
        ARG TAG
        RUN x
        """
    )
    assert f.stages[0].base == "python:3.12"
    s = state_at(f, "RUN x")
    assert s.args == {"TAG": "1"}
    assert "BASE" not in s.run_env


def test_stage_inheritance_and_final_image() -> None:
    f = facts_of(
        """
        FROM python:3.12 AS base
        ENV PIP_NO_CACHE_DIR=1
        USER app
        FROM base AS dev
        RUN x
        FROM alpine AS tools
        FROM base
        COPY --from=tools /bin/t /bin/t
        """
    )
    dev = state_at(f, "RUN x")
    assert dev.env["PIP_NO_CACHE_DIR"] == "1" and dev.user == "app"
    assert [s.name for s in f.stages] == ["base", "dev", "tools", None]
    assert [s.in_final_image for s in f.stages] == [True, False, False, True]
    assert f.stages[3].copies_from == [f.stages[2]]


def test_legacy_env_form_and_quotes() -> None:
    f = facts_of('FROM a\nENV HF_HOME /data/hf cache\nENV A="x y" B=\'$HF_HOME\'\nRUN z\n')
    s = state_at(f, "RUN z")
    assert s.env == {"HF_HOME": "/data/hf cache", "A": "x y", "B": "$HF_HOME"}


# -- what an unknown base image leaves open (issue: fixes that assume USER root) ------------------


def test_known_root_images_assume_nothing() -> None:
    for base in ("python:3.12-slim", "nvidia/cuda:12.4.1-runtime-ubuntu22.04", "docker.io/library/ubuntu:24.04",
                 "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", "nvcr.io/nvidia/cuda:12.9.1-base-ubuntu24.04"):
        s = state_at(facts_of(f"FROM {base}\nRUN pip install x\n"), "pip install")
        assert s.assumed_base is None and s.assumption() is None, base


def test_unknown_base_is_assumed_and_inherited_by_later_stages() -> None:
    f = facts_of(
        """
        ARG BASE=ghcr.io/acme/ml-base:1
        FROM ${BASE} AS deps
        RUN pip install x
        FROM deps
        RUN pip install y
        """
    )
    for needle in ("install x", "install y"):
        s = state_at(f, needle)
        assert s.assumed_base == "ghcr.io/acme/ml-base:1"
        assert s.assumption() == "assumes the base image `ghcr.io/acme/ml-base:1` runs as root and sets no cache variable"


def test_assumption_after_a_user_line_concerns_home_and_variables_only() -> None:
    f = facts_of(
        """
        FROM someorg/base:1
        RUN useradd -m -u 1000 app
        USER app
        ENV PIP_CACHE_DIR=/home/app/.pipcache
        RUN pip install x
        """
    )
    s = state_at(f, "pip install")
    assert s.assumption("/home/app/.cache/pip") == "assumes the base image `someorg/base:1` sets no HOME or cache variable"
    assert s.assumption("/home/app/.pipcache") is None  # this file sets that path
    assert s.assumption("/opt/cache") is None  # outside the home: HOME does not matter


def test_directories_made_by_mounts_mkdir_install_chown_and_workdir() -> None:
    f = facts_of(
        """
        FROM python:3.12
        RUN useradd -m -u 1000 app
        USER app
        RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000 pip install x
        RUN mkdir -p ~/data/a && install -d -o app /srv/models
        USER root
        RUN mkdir /opt/tool && chown -R 1000 /home/app/.cache
        WORKDIR /work/dir
        RUN true
        """
    )
    s = state_at(f, "RUN true")
    assert s.dirs["/home/app/.cache"] == "app"  # root-owned by the mount, chowned back by uid
    assert s.dirs["/home/app/.cache/pip"] == "app"
    assert s.dirs["/home/app/data"] == s.dirs["/home/app/data/a"] == "app"
    assert s.dirs["/srv/models"] == "app"
    assert s.dirs["/opt/tool"] == "root"
    assert s.dirs["/work/dir"] == "?" and s.dir_exists("/work")  # WORKDIR: owner depends on the builder
    before = state_at(f, "mkdir -p ~/data")
    assert before.dirs["/home/app/.cache"] == "root"
    assert before.dir_exists("/home/app") and not before.dir_exists("/home/app/data")
