"""The command line: options -> api -> reporter -> exit code. Nothing else lives here.

argparse, not click: a pre-commit hook starts this program on every commit, and importing click
measured ~45 ms of a ~150 ms start-up on the benchmark machine (bench/run.py); argparse costs a
few milliseconds and leaves the tool with no run-time dependency at all.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO, TYPE_CHECKING

from aicache_lint import __version__

if TYPE_CHECKING:
    from aicache_lint.workspace.index import Workspace

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
PROG = "aicache-lint"


class UsageError(Exception):
    """Bad arguments: reported like argparse's own errors, exit code 2."""


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter asks shutil for the terminal width, and argparse builds one for every
    option it adds: importing shutil (and its compression modules) then costs start-up even when
    no help is printed. os alone answers the question."""

    def __init__(self, prog: str) -> None:
        try:
            width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
        except (ValueError, OSError):
            width = 80
        super().__init__(prog, width=max(width - 2, 40))


def _codes(values: list[str] | None) -> tuple[str, ...]:
    return tuple(c.strip() for v in values or () for c in v.split(",") if c.strip())


def _add_config_options(parser) -> None:
    """--config and --isolated, which every command that reads configuration takes."""
    parser.add_argument("--config", metavar="PATH", help="use this configuration file instead of searching for one")
    parser.add_argument("--isolated", action="store_true", help="ignore every configuration file")


def _add_network_options(parser, asks: str) -> None:
    """--resolve-images (``asks``: what it asks the network for) and its opposite."""
    parser.add_argument("--resolve-images", action="store_true", default=None, help=asks)
    parser.add_argument("--no-resolve-images", dest="resolve_images", action="store_false",
                        help="stay offline, whatever the configuration says")


def _check_parser() -> argparse.ArgumentParser:
    from aicache_lint.report import FORMATS

    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=_HelpFormatter,
        description="Lint (and with --fix, fix) the Dockerfiles under PATHS (default: the current directory).",
        epilog="Also: `aicache-lint rule CODE` prints a rule's documentation; `aicache-lint rules` lists the rules; "
               "`aicache-lint graph` and `aicache-lint models` show what the project builds and loads; "
               "`aicache-lint impact` estimates the gigabytes each rebuild downloads; "
               "`aicache-lint server` runs the language server (LSP) for editors.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories; `-` reads standard input")
    fixing = parser.add_argument_group("fixing")
    fixing.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    fixing.add_argument("--unsafe-fixes", action="store_true", default=None,
                        help="also apply (and show as fixable) unsafe fixes")
    fixing.add_argument("--no-unsafe-fixes", dest="unsafe_fixes", action="store_false",
                        help="do not apply unsafe fixes, whatever the configuration says")
    _add_network_options(parser.add_argument_group("network (opt-in)"),
                         "ask registries and Git remotes (network): complete CUDA tags from the live list, "
                         "digests for AIC306, commits for AIC305")
    fixing.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    fixing.add_argument("--show-fixes", action="store_true", help="with --fix, list what was fixed in each file")
    fixing.add_argument("--add-ignore", action="store_true",
                        help="write the suppression comments that make a plain run clean (with --diff: show "
                             "them); --add-ignore=REASON records why")
    rules = parser.add_argument_group("rule selection")
    rules.add_argument("--select", action="append", metavar="CODES", help="only these rule codes or prefixes (comma-separated)")
    rules.add_argument("--extend-select", action="append", metavar="CODES", help="add rule codes or prefixes to the selection")
    rules.add_argument("--ignore", action="append", metavar="CODES", help="skip these rule codes or prefixes")
    config = parser.add_argument_group("configuration")
    _add_config_options(config)
    config.add_argument("--no-cache", action="store_true",
                        help="check every file, neither reading nor writing the result cache "
                             "(also: AICACHE_LINT_NO_CACHE=1)")
    config.add_argument("--cache-dir", metavar="PATH",
                        help="keep the result cache here (default: results in the user's cache directory)")
    config.add_argument("--show-settings", action="store_true", help="print the settings that apply to the first PATH")
    output = parser.add_argument_group("output")
    output.add_argument("--output-format", choices=tuple(FORMATS), help="default: text, or the configuration's")
    output.add_argument("-o", "--output-file", metavar="PATH", help="write the report to this file")
    output.add_argument("--statistics", action="store_true", help="print the number of findings per rule instead")
    output.add_argument("--estimate", action="store_true",
                        help="give each finding of a Dockerfile or Compose file what its fix saves per rebuild or "
                             "new container (GB, an estimate: see `aicache-lint impact`); with --statistics, a GB column")
    output.add_argument("--sort", choices=("path", "impact"), default="path",
                        help="report order: by file (default), or by estimate across all files, largest first (implies --estimate)")
    output.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    parser.add_argument("--stdin-filename", metavar="PATH", help="the name to report for input read from `-`")
    parser.add_argument("-j", "--jobs", type=_positive_int, metavar="N", help="processes that check files, this one included (default: CPU count)")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def check(argv: list[str], stdin: IO[bytes], stdout: IO[str], stderr: IO[str]) -> int:
    # `--add-ignore[=REASON]`: the reason only in the `=` form, so that `--add-ignore Dockerfile`
    # never takes a path for a reason.
    reasons = [a.split("=", 1)[1] for a in argv if a.startswith("--add-ignore=")]
    argv = ["--add-ignore" if a.startswith("--add-ignore=") else a for a in argv]
    args = _check_parser().parse_args(argv)
    add_ignore = (reasons[-1] if reasons else "") if args.add_ignore else None
    from aicache_lint import api
    from aicache_lint.config import CliOverrides, ConfigError, Resolver
    from aicache_lint.discovery import discover
    from aicache_lint.engine import io_error
    from aicache_lint.settings import SettingsError

    paths = args.paths or ["."]
    if "-" in paths and len(paths) > 1:
        raise UsageError("`-` (standard input) cannot be combined with other paths")
    if add_ignore is not None:
        _check_add_ignore(args, add_ignore, paths)
    overrides = CliOverrides(
        select=_codes(args.select) if args.select else None,
        extend_select=_codes(args.extend_select),
        ignore=_codes(args.ignore),
        unsafe_fixes=args.unsafe_fixes,
        resolve_images=args.resolve_images,
        output_format=args.output_format,
        config=args.config,
        isolated=args.isolated,
        cache_dir=args.cache_dir,
    )
    api.forget_network_answers()
    try:
        resolver = Resolver(overrides)
        anchor = (args.stdin_filename or ".") if paths == ["-"] else paths[0]
        settings = resolver.for_path(anchor)
        if args.show_settings:
            _show_settings(anchor, settings, stdout)
            return EXIT_CLEAN
        fixing = args.fix or args.diff
        if paths == ["-"]:
            results = [api.process_bytes(stdin.read(), args.stdin_filename or "-", settings, fix=fixing)]
        else:
            python: list[str] = []  # a tree with no `.py` file runs no code of its own: nothing to follow
            files, problems = discover(paths, lambda p: resolver.for_path(p).is_excluded(p), python)
            misplaced = next((p for p, _ in problems if p in SUBCOMMANDS), None)
            if misplaced:  # `aicache-lint --isolated graph .`: not a path
                raise UsageError(f"`{misplaced}` is a subcommand and comes first: `{PROG} {misplaced} [OPTIONS] ...`")
            write = (args.fix or add_ignore is not None) and not args.diff
            known = {os.path.abspath(f) for f in files}
            cached = not (fixing or add_ignore is not None or args.no_cache or _no_cache_in_environment())

            def task(path: str) -> api.Task:
                settings = resolver.for_path(path)
                cache = settings.result_cache if cached and not settings.resolve_images else None
                return api.Task(path, settings, fixing, write, add_ignore, cache)

            def more(reached: list[str]) -> list[api.Task]:
                """A directory's Python files are linted when an image or service runs them."""
                return [task(p) for p in sorted(reached)
                        if os.path.abspath(p) not in known and not resolver.for_path(p).is_excluded(p)]

            tasks = [task(f) for f in files]
            results = api.process_paths(tasks, jobs=args.jobs, more=more if python and files else None)
            results.extend(api.FileResult(p, [io_error(p, f"cannot read path: {why}")]) for p, why in problems)
            results.sort(key=lambda r: r.path)
    except (ConfigError, SettingsError) as exc:
        raise UsageError(str(exc)) from None
    _print_notices(results, stderr)

    if add_ignore is not None:
        _report_add_ignore(results, args.diff, stdout, stderr)
        return _exit_code(results, args.exit_zero, diff=args.diff)
    if args.diff:
        _print_diffs(results, stdout, stderr)
        return _exit_code(results, args.exit_zero, diff=True)
    estimates = (args.estimate or args.sort == "impact") and not args.fix
    if estimates:
        _estimate(results, settings)
    report_stream = open(args.output_file, "w", encoding="utf-8") if args.output_file else None
    try:
        out = report_stream or (stderr if args.fix and paths == ["-"] else stdout)
        if args.fix and paths == ["-"]:
            result = results[0]
            stdout.write(result.fixed if result.fixed is not None else (result.original or ""))
        if args.show_fixes and args.fix:
            _show_fixes(results, out if settings.output_format in ("text", "concise") else stderr)
        if args.statistics:
            _statistics(results, settings, out, estimates)
        else:
            _report(results, settings, settings.output_format, fixing=args.fix, stream=out, estimates=estimates,
                    by_impact=estimates and args.sort == "impact")
    finally:
        if report_stream is not None:
            report_stream.close()
    return _exit_code(results, args.exit_zero, diff=False)


def _no_cache_in_environment() -> bool:
    return os.environ.get("AICACHE_LINT_NO_CACHE", "").lower() not in ("", "0", "false", "no")


def _check_add_ignore(args, reason: str, paths: list[str]) -> None:
    """--add-ignore writes comments (or, with --diff, shows them); it fixes nothing."""
    if "-" in paths:
        raise UsageError("--add-ignore edits files in place; it cannot read standard input")
    if args.fix:
        raise UsageError("--add-ignore cannot be combined with --fix: run `--fix` first, then `--add-ignore`")
    if args.statistics:
        raise UsageError("--add-ignore cannot be combined with --statistics")
    if reason and reason.splitlines() != [reason]:
        raise UsageError("the --add-ignore reason must be a single line")


def _report_add_ignore(results, diff: bool, stdout: IO[str], stderr: IO[str]) -> None:
    """What --add-ignore did (with --diff: would do), and what it leaves: the findings it cannot
    suppress, each with its location."""
    if diff:
        _write_diffs(results, stdout)
    added = sum(r.suppressions_added for r in results)
    touched = sum(1 for r in results if r.fixed is not None)
    removed = sum(r.suppressions_removed for r in results)
    summary = f"{'Would add' if diff else 'Added'} {added} suppression{'' if added == 1 else 's'}"
    summary += f" to {touched} file{'' if touched == 1 else 's'}"
    if removed:
        summary += f"; {'would remove' if diff else 'removed'} {removed} stale suppression{'' if removed == 1 else 's'}"
    stderr.write(f"{summary}.\n")
    left = sorted((f for r in results for f in r.findings), key=lambda f: f.sort_key)
    for f in left:
        stderr.write(f"{f.path}:{f.start.row}:{f.start.column}: {f.code} {f.message}\n")
    if left:
        stderr.write(
            f"{len(left)} finding{' was' if len(left) == 1 else 's were'} not suppressed: internal (AIC000), "
            "parse (AIC001) and read (AIC003) errors never are, a file that does not parse is left as it is, "
            "and JSON files (daemon.json, docker-bake.json) take no comments: list their codes under "
            "`per-file-ignores`.\n"
        )


def _report(results, settings, output_format: str, fixing: bool, stream: IO[str], estimates: bool = False,
            by_impact: bool = False) -> None:
    from aicache_lint.report import ReportContext, render

    stream.write(render(output_format, ReportContext(results, settings, fixing, os.getcwd(), estimates, by_impact)))


def _estimate(results, settings) -> None:
    """What each finding's fix saves (``FileResult.estimates``)."""
    from aicache_lint.impact.estimate import estimate_findings

    estimate_findings(results, _sizes(settings))


def _print_notices(results, stderr: IO[str]) -> None:
    """Links that could not be resolved and network problems (--resolve-images), each once,
    however many files ran into it, sorted: the same whichever process met them first."""
    from aicache_lint.api import network_notices

    for notice in sorted({n for r in results for n in r.notices} | set(network_notices())):
        stderr.write(f"{PROG}: warning: {notice}\n")


def _show_settings(path: str, settings, stdout: IO[str]) -> None:
    import json

    stdout.write(f"# Settings for {path}\n")
    for key, value in settings.describe():
        stdout.write(f"{key} = {json.dumps(value)}\n")


def _statistics(results, settings, stream: IO[str], estimates: bool = False) -> None:
    from aicache_lint.engine import applicable
    from aicache_lint.rules import lookup

    counts: dict[str, list[int]] = {}
    for r in results:
        fixes = set()  # one fix may serve several findings (a whole stage): its saving counts once
        for f in r.findings:
            entry = counts.setdefault(f.code, [0, 0, 0])
            entry[0] += 1
            entry[1] += applicable(f, settings)
            key = f.fix.edits if f.fix is not None else f
            if f in r.estimates and key not in fixes:
                fixes.add(key)
                entry[2] += r.estimates[f].bytes
    # count, code, fixable[, GB], name: the last column is not padded
    rows = [("count", "code", "fixable", *(("GB",) if estimates else ()), "name")]
    for code, (n, fix, saved) in sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0])):
        rows.append((str(n), code, str(fix), *((f"{saved / 1e9:.1f}",) if estimates else ()), lookup(code).name))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [f"{row[0]:>{widths[0]}}", f"{row[1]:<{widths[1]}}"] + [f"{c:>{w}}" for c, w in zip(row[2:-1], widths[2:])]
        stream.write("  ".join(cells + [row[-1]]) + "\n")
    if estimates:
        stream.write("GB: what the fixes of the findings would save per rebuild or new container, for the event each "
                     "saves most (an estimate)\n")


def _show_fixes(results, stream: IO[str]) -> None:
    fixed = [r for r in results if r.applied]
    total = sum(len(r.applied) for r in fixed)
    if not total:
        stream.write("No errors fixed.\n")
        return
    stream.write(f"Fixed {total} error{'' if total == 1 else 's'}:\n")
    from aicache_lint.rules import lookup

    for r in fixed:
        stream.write(f"- {r.path}:\n")
        per_code: dict[str, int] = {}
        for code, _ in r.applied:
            per_code[code] = per_code.get(code, 0) + 1
        for code, n in sorted(per_code.items()):
            stream.write(f"    {n} × {code} ({lookup(code).name})\n")


def _print_diffs(results, stdout: IO[str], stderr: IO[str]) -> None:
    _write_diffs(results, stdout)
    changed = sum(len(r.applied) for r in results if r.fixed is not None and r.original is not None)
    for f in (f for r in results for f in r.findings if f.code in ("AIC000", "AIC003")):
        stderr.write(f"{f.path}:{f.start.row}:{f.start.column}: {f.code} {f.message}\n")
    stderr.write(f"Would fix {changed} error{'' if changed == 1 else 's'}.\n" if changed else "No fixes available.\n")


def _write_diffs(results, stdout: IO[str]) -> None:
    import difflib

    for r in results:
        if r.fixed is not None and r.original is not None:
            for line in difflib.unified_diff(
                r.original.splitlines(keepends=True), r.fixed.splitlines(keepends=True), fromfile=r.path, tofile=r.path
            ):
                # A last line with no newline is marked as `diff` does, so `patch` applies the output.
                stdout.write(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")


def _exit_code(results, exit_zero: bool, diff: bool) -> int:
    findings = [f for r in results for f in r.findings]
    if any(f.code == "AIC000" for f in findings):
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    if diff:
        return EXIT_FINDINGS if any(r.fixed is not None for r in results) else EXIT_CLEAN
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def rule(argv: list[str], stdin: IO[bytes], stdout: IO[str], stderr: IO[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} rule", description="Print the documentation of rules.", formatter_class=_HelpFormatter
    )
    parser.add_argument("codes", nargs="*", metavar="CODE", help="a rule code (AIC101) or name (pip-cache-not-mounted)")
    parser.add_argument("--all", action="store_true", help="print every rule's documentation")
    args = parser.parse_args(argv)
    from aicache_lint.rules import all_rules, lookup
    from aicache_lint.rules.docs import rule_page

    if args.all:
        selected = list(all_rules())
    elif not args.codes:
        raise UsageError("name a rule code (e.g. `aicache-lint rule AIC101`) or pass --all")
    else:
        selected = []
        for code in args.codes:
            found = lookup(code)
            if found is None:
                raise UsageError(f"unknown rule `{code}` (see `aicache-lint rules`)")
            selected.append(found.load())
    stdout.write("\n\n".join(rule_page(r).rstrip() for r in selected) + "\n")
    return EXIT_CLEAN


def rules(argv: list[str], stdin: IO[bytes], stdout: IO[str], stderr: IO[str]) -> int:
    argparse.ArgumentParser(prog=f"{PROG} rules", description="List every rule.", formatter_class=_HelpFormatter).parse_args(argv)
    from aicache_lint.rules import all_rules
    from aicache_lint.rules.docs import fix_label

    rows = [("code", "name", "severity", "default", "fix")]
    rows += [(r.code, r.name, r.severity.value, "on" if r.default_enabled else "opt-in", fix_label(r)) for r in all_rules()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    return EXIT_CLEAN


def graph(argv: list[str], stdin: IO[bytes], stdout: IO[str], stderr: IO[str]) -> int:
    from aicache_lint.report.graph import FORMATS

    parser = argparse.ArgumentParser(
        prog=f"{PROG} graph", formatter_class=_HelpFormatter,
        description="Show what the linter believes about the project under PATHS (default: the current "
                    "directory): images, their stages and bases, who builds them, Compose services, and "
                    "every link that could not be resolved.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    parser.add_argument("--output-format", choices=FORMATS, default="text", help="default: text")
    parser.add_argument("-o", "--output-file", metavar="PATH", help="write the graph to this file")
    _add_config_options(parser)
    _add_network_options(parser, "read the config of bases not known here from their registry (network)")
    args = parser.parse_args(argv)
    from aicache_lint.config import CliOverrides
    from aicache_lint.graph import build_graph
    from aicache_lint.report.graph import render

    overrides = CliOverrides(resolve_images=args.resolve_images, config=args.config, isolated=args.isolated)
    ws, files = _project("graph", args.paths, overrides)
    _write_output(render(args.output_format, build_graph(ws, files)), args.output_file, stdout)
    return EXIT_CLEAN


def _project(command: str, paths: list[str], overrides) -> tuple["Workspace", list[str]]:
    """The workspace of a subcommand that reads a whole project (`graph`, `models`), and the files
    discovery finds under ``paths``, named relative to the current directory."""
    from aicache_lint.config import ConfigError, Resolver
    from aicache_lint.discovery import discover
    from aicache_lint.engine import run_workspace
    from aicache_lint.settings import SettingsError

    paths = paths or ["."]
    if "-" in paths:
        raise UsageError(f"`{command}` reads files, not standard input")
    try:
        resolver = Resolver(overrides)
        files, problems = discover(paths, lambda p: resolver.for_path(p).is_excluded(p))
        if problems:
            raise UsageError("; ".join(f"{p}: {why}" for p, why in problems))
        files = [os.path.relpath(f) for f in files]
        return run_workspace(files or [os.path.relpath(p) for p in paths], resolver.for_path(paths[0])), files
    except (ConfigError, SettingsError) as exc:
        raise UsageError(str(exc)) from None


def _write_output(output: str, path: str | None, stdout: IO[str]) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(output)
    else:
        stdout.write(output)


def models(argv: list[str], stdin: IO[bytes], stdout: IO[str], stderr: IO[str]) -> int:
    from aicache_lint.report.models import FORMATS

    parser = argparse.ArgumentParser(
        prog=f"{PROG} models", formatter_class=_HelpFormatter,
        description="List the models each image and each Compose service under PATHS (default: the current "
                    "directory) loads: id, file:line, build time or run time, the cache directory it fills and "
                    "what keeps it; and what could not be followed.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    parser.add_argument("--output-format", choices=FORMATS, help="default: text")
    parser.add_argument("-o", "--output-file", metavar="PATH", help="write the inventory (or script) to this file")
    parser.add_argument("--prefetch-script", action="store_true",
                        help="print a POSIX sh script that downloads every Hub model into one shared HF_HOME")
    parser.add_argument("--hf-home", metavar="DIR", help="with --prefetch-script: the HF_HOME it fills (default: "
                        "the one most services set, else /data/.huggingface)")
    _add_config_options(parser)
    args = parser.parse_args(argv)
    if args.prefetch_script and args.output_format:
        raise UsageError("--prefetch-script prints a script: it takes no --output-format")
    if args.hf_home is not None and not args.prefetch_script:
        raise UsageError("--hf-home goes with --prefetch-script")
    if args.hf_home is not None and not args.hf_home.startswith("/"):
        raise UsageError(f"--hf-home must be an absolute path, not `{args.hf_home}`")
    from aicache_lint.config import CliOverrides
    from aicache_lint.models import build_inventory

    ws, files = _project("models", args.paths, CliOverrides(config=args.config, isolated=args.isolated))
    inventory = build_inventory(ws, files)
    if args.prefetch_script:
        from aicache_lint.report.prefetch import script

        output = script(inventory, args.hf_home)
    else:
        from aicache_lint.report.models import render

        output = render(args.output_format or "text", inventory)
    _write_output(output, args.output_file, stdout)
    return EXIT_CLEAN


def impact(argv: list[str], stdin: IO[bytes], stdout: IO[str], stderr: IO[str]) -> int:
    from aicache_lint.report.impact import FORMATS

    parser = argparse.ArgumentParser(
        prog=f"{PROG} impact", formatter_class=_HelpFormatter,
        description="Estimate what each image under PATHS (default: the current directory) downloads per "
                    "rebuild after a source edit, a dependency edit and a base-image update, what each Compose "
                    "service downloads per new container, now and after --fix, and what each fix saves on its "
                    "own. Sizes come from a dated table shipped with the tool; what cannot be sized is listed, not counted.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    parser.add_argument("--output-format", choices=FORMATS, default="text",
                        help="text (default), json, or markdown (a pull-request comment with a chart)")
    parser.add_argument("-o", "--output-file", metavar="PATH", help="write the report to this file")
    parser.add_argument("--unsafe-fixes", action="store_true", default=None, help="count unsafe fixes too")
    _add_network_options(parser, "size base images, packages and models the table does not know from their "
                                 "registries, the package index and the Hugging Face Hub (network)")
    _add_config_options(parser)
    args = parser.parse_args(argv)
    from aicache_lint.config import CliOverrides, Resolver
    from aicache_lint.impact.estimate import project_impact, sources_used
    from aicache_lint.report.impact import render

    overrides = CliOverrides(unsafe_fixes=args.unsafe_fixes, resolve_images=args.resolve_images,
                             config=args.config, isolated=args.isolated)
    ws, files = _project("impact", args.paths, overrides)
    settings = Resolver(overrides).for_path((args.paths or ["."])[0])
    result = project_impact(ws, files, settings, _sizes(settings))
    _print_notices([], stderr)
    _write_output(render(args.output_format, result, sources_used(result)), args.output_file, stdout)
    return EXIT_CLEAN


def _sizes(settings):
    """The sizes estimates are priced with: the bundled table, and with --resolve-images the registry."""
    from aicache_lint.engine import network_resolver
    from aicache_lint.impact.sizes import BundledSizes

    return BundledSizes(network_resolver(settings))


def server(argv: list[str], stdin: IO[bytes], stdout: IO[str], stderr: IO[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} server", formatter_class=_HelpFormatter,
        description="Run the language server: LSP over standard input and output, for editors (diagnostics "
                    "as you type, fixes and suppressions as code actions, rule pages on hover).")
    _add_config_options(parser)
    args = parser.parse_args(argv)
    try:
        from aicache_lint.server.protocol import serve
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol"):
            raise
        stderr.write(f"{PROG} server needs pygls: install aicache-lint[server] (pip install 'aicache-lint[server]')\n")
        return EXIT_ERROR
    from aicache_lint.config import CliOverrides

    return serve(CliOverrides(config=args.config, isolated=args.isolated))


SUBCOMMANDS = {"graph": graph, "impact": impact, "models": models, "rule": rule, "rules": rules, "server": server}


def run(argv: list[str], stdin: IO[bytes] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run the command line with explicit streams; returns the exit code."""
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    command = SUBCOMMANDS.get(argv[0]) if argv else None
    prog = f"{PROG} {argv[0]}" if command else PROG
    try:
        if command is not None:
            return command(argv[1:], stdin, stdout, stderr)
        return check(argv, stdin, stdout, stderr)
    except UsageError as exc:
        stderr.write(f"usage error: {prog}: {exc}\n")
        return EXIT_ERROR
    except SystemExit as exc:  # argparse: --help, --version, bad options
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR


def main(argv: list[str] | None = None) -> None:
    # The reader may go away (`aicache-lint . | head`): no traceback then. Standard output goes to
    # devnull so that flushing it at exit cannot fail again (Python docs, "Note on SIGPIPE"); a run
    # that was cut short says so with exit code 1, one that finished keeps its own.
    try:
        code = run(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:
        code = EXIT_FINDINGS
        _quiet_stdout()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
    except ValueError:  # already closed (the language server's stdio, at exit): nothing to flush
        pass
    sys.exit(code)


def _quiet_stdout() -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    main()
