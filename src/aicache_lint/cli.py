"""The command line: options -> api -> reporter -> exit code. Nothing else lives here."""

from __future__ import annotations

import sys

import click

from aicache_lint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c.strip() for v in values for c in v.split(",") if c.strip())


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Also: `aicache-lint rule CODE` prints a rule's documentation; `aicache-lint rules` lists the rules.",
)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (and show as fixable) unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated).")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Add rule codes or prefixes to the selection.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--stdin-filename", metavar="PATH", help="The name to report for input read from `-`.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: CPU count).")
@click.version_option(__version__, "--version", prog_name="aicache-lint")
def check(paths, fix, unsafe_fixes, diff, select, extend_select, ignore, exit_zero, output_format, stdin_filename, jobs):
    """Lint (and with --fix, fix) the Dockerfiles under PATHS (default: the current directory)."""
    from aicache_lint import api
    from aicache_lint.discovery import discover
    from aicache_lint.engine import io_error
    from aicache_lint.settings import Settings, SettingsError

    try:
        settings = Settings(
            select=_codes(select), extend_select=_codes(extend_select), ignore=_codes(ignore), unsafe_fixes=unsafe_fixes
        )
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    fixing = fix or diff
    paths = list(paths) or ["."]
    results: list[api.FileResult] = []
    if "-" in paths:
        if len(paths) > 1:
            raise click.UsageError("`-` (standard input) cannot be combined with other paths")
        name = stdin_filename or "-"
        results.append(api.process_bytes(sys.stdin.buffer.read(), name, settings, fix=fixing))
    else:
        files, problems = discover(paths)
        results = api.process_paths(files, settings, fix=fixing, write=fix and not diff, jobs=jobs)
        results.extend(api.FileResult(p, [io_error(p, f"cannot read path: {why}")]) for p, why in problems)
        results.sort(key=lambda r: r.path)

    if diff:
        _print_diffs(results)
    elif fix and "-" in paths:
        result = results[0]
        sys.stdout.write(result.fixed if result.fixed is not None else (result.original or ""))
        _report(results, settings, output_format, fixing=True, stream=sys.stderr)
    else:
        _report(results, settings, output_format, fixing=fix, stream=sys.stdout)
    sys.exit(_exit_code(results, exit_zero, diff))


def _report(results, settings, output_format: str, fixing: bool, stream) -> None:
    if output_format == "json":
        from aicache_lint.report.json import render as render_json

        stream.write(render_json(results))
    else:
        from aicache_lint.report.text import render as render_text

        stream.write(render_text(results, settings, fixing))


def _print_diffs(results) -> None:
    import difflib

    changed = 0
    for r in results:
        if r.fixed is None or r.original is None:
            continue
        changed += len(r.applied)
        sys.stdout.writelines(
            difflib.unified_diff(
                r.original.splitlines(keepends=True), r.fixed.splitlines(keepends=True), fromfile=r.path, tofile=r.path
            )
        )
    errors = [f for r in results for f in r.findings if f.code in ("AIC000", "AIC003")]
    for f in errors:
        click.echo(f"{f.path}:{f.start.row}:{f.start.column}: {f.code} {f.message}", err=True)
    click.echo(f"Would fix {changed} error{'' if changed == 1 else 's'}." if changed else "No fixes available.", err=True)


def _exit_code(results, exit_zero: bool, diff: bool) -> int:
    findings = [f for r in results for f in r.findings]
    if any(f.code == "AIC000" for f in findings):
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    if diff:
        return EXIT_FINDINGS if any(r.fixed is not None for r in results) else EXIT_CLEAN
    return EXIT_FINDINGS if findings else EXIT_CLEAN


@click.command("rule")
@click.argument("codes", nargs=-1)
@click.option("--all", "show_all", is_flag=True, help="Print every rule's documentation.")
def rule(codes, show_all):
    """Print the documentation of rule CODE (a code such as AIC101 or a name)."""
    from aicache_lint.rules import ALL_RULES, lookup
    from aicache_lint.rules.docs import rule_page

    if show_all:
        selected = list(ALL_RULES)
    elif not codes:
        raise click.UsageError("name a rule code (e.g. `aicache-lint rule AIC101`) or pass --all")
    else:
        selected = []
        for code in codes:
            found = lookup(code)
            if found is None:
                raise click.UsageError(f"unknown rule `{code}` (see `aicache-lint rules`)")
            selected.append(found)
    click.echo("\n\n".join(rule_page(r).rstrip() for r in selected))


@click.command("rules")
def rules():
    """List every rule: code, name, severity, default, fix."""
    from aicache_lint.rules import ALL_RULES
    from aicache_lint.rules.docs import fix_label

    rows = [("code", "name", "severity", "default", "fix")]
    rows += [(r.code, r.name, r.severity.value, "on" if r.default_enabled else "opt-in", fix_label(r)) for r in ALL_RULES]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


SUBCOMMANDS = {"rule": rule, "rules": rules}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in SUBCOMMANDS:
        SUBCOMMANDS[args[0]].main(args[1:], prog_name=f"aicache-lint {args[0]}")
    else:
        check.main(args, prog_name="aicache-lint")


if __name__ == "__main__":  # pragma: no cover
    main()
