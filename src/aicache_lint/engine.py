"""Check one file in its workspace (the rules, suppressions and internal errors); `fix_source` runs the
fix plan (`plan.py`) for one file."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from aicache_lint.finding import Finding, Severity
from aicache_lint.fix import Edit, Fix
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText, Span

if TYPE_CHECKING:
    from aicache_lint.workspace.index import Workspace

USE_WORDS = True  # skip rules whose words the file lacks (RuleEntry.words); tests turn it off to compare
MAX_PASSES = 16  # passes of the fix plan over a whole project (Dockerfiles, then Compose files)


def check_source(source: SourceText, settings: Settings, workspace: "Workspace | None" = None) -> list[Finding]:
    """Every finding for one file, sorted. ``workspace``: the project the file belongs to (by
    default one around this file alone, reading its neighbours from disk as rules ask)."""
    from aicache_lint.discovery import file_kind

    ws = workspace if workspace is not None else standalone_workspace(source, settings)
    if ws.source(source.path) is not source:  # a text being fixed or annotated: the project sees it too
        ws.update(source.path, source)
    kind = file_kind(source.path)
    if kind == "compose":
        return check_compose(source, settings, ws)
    if kind == "dockerfile":
        return check_dockerfile(source, settings, ws)
    return check_build_file(source, kind, settings, ws)


def run_workspace(paths: list[str], settings: Settings) -> "Workspace":
    """The workspace of a run over ``paths`` (with registry look-ups if ``settings`` ask for them)."""
    from aicache_lint.workspace.index import Workspace

    return Workspace(paths, network_resolver(settings))


def standalone_workspace(source: SourceText, settings: Settings) -> "Workspace":
    """A workspace for one text: it sees ``source`` as the file's content."""
    ws = run_workspace([source.path], settings)
    ws.remember(source.path, source)
    return ws


def check_compose(source: SourceText, settings: Settings, ws: "Workspace") -> list[Finding]:
    """A Compose file, seen as part of its project (the base and override files Compose loads with
    it): YAML that cannot be read as a Compose document is a parse error (AIC001); otherwise the
    Compose rules run and report what lies in this file. PyYAML is imported only here."""
    import os

    from aicache_lint import suppress
    from aicache_lint.compose.parse import parse
    from aicache_lint.rules.base import ComposeContext

    enabled = settings.enabled_codes - settings.ignored_for(source.path)
    here = os.path.abspath(source.path)
    project = ws.compose_project(ws.companion_files(source.path))
    doc = next((f.doc for f in project.files if os.path.abspath(f.path) == here), None) or parse(source)
    if doc.errors:
        return _parse_error_findings(source, settings, enabled, doc.errors)
    findings = _run_rules(
        source, settings, enabled, "compose",
        lambda options: ComposeContext(source, doc, project, options, ws.resolver, ws),
        keep=lambda v: v.path is None or os.path.abspath(v.path) == here,  # what lies in this file
    )
    findings = _apply_suppressions(source, suppress.parse_yaml(source, doc), findings, settings, enabled)
    return sorted(findings, key=lambda f: f.sort_key)


def check_build_file(source: SourceText, kind: str, settings: Settings, ws: "Workspace") -> list[Finding]:
    """A CI, Bake, daemon or BuildKit configuration file: a file that does not parse is AIC001 (with
    its line and column) and nothing else; otherwise the rules for its kind run, and suppression
    comments apply where the syntax has comments (per-file ignores everywhere)."""
    from aicache_lint import suppress
    from aicache_lint.rules.base import BuildFileContext

    enabled = settings.enabled_codes - settings.ignored_for(source.path)
    parsed = ws.build_file(source.path)  # ``source`` is the workspace's text: one parse serves the project
    if parsed.errors:
        return _parse_error_findings(source, settings, enabled, parsed.errors)
    findings = _run_rules(
        source, settings, enabled, kind,
        lambda options: BuildFileContext(source, parsed, options, ws.resolver, ws),
    )
    findings = _apply_suppressions(source, suppress.parse_build_file(source, parsed), findings, settings, enabled)
    return sorted(findings, key=lambda f: f.sort_key)


def _parse_error_findings(source: SourceText, settings: Settings, enabled: frozenset[str], errors) -> list[Finding]:
    from aicache_lint.rules import rule_class

    if "AIC001" not in enabled:
        return []
    rule = rule_class("AIC001")
    severity = settings.severity_for(rule.code, rule.severity)
    findings = [Finding.at(source, rule.code, rule.name, severity, e.span, e.message) for e in errors]
    return sorted(findings, key=lambda f: f.sort_key)


def check_dockerfile(source: SourceText, settings: Settings, ws: "Workspace") -> list[Finding]:
    """Every finding for one Dockerfile, sorted: rules, then per-file ignores and suppression
    comments, then unused suppressions. Fixes are dropped when the file does not parse (the fix
    loop refuses any fix that leaves parse errors, so none may be offered). The file's facts see
    the build args its builds agree on and the base images built in the project."""
    from aicache_lint import suppress
    from aicache_lint.dockerfile.facts import Facts
    from aicache_lint.dockerfile.lexer import parse
    from aicache_lint.rules.base import DockerfileContext

    parsed = ws.linted_dockerfile(source.path) if ws.source(source.path) is source else None
    if parsed is not None:  # one parse serves the check and the project (the code its image runs ...)
        doc, facts = parsed
    else:
        doc = parse(source)
        facts = Facts(doc, ws.lint_args(source.path, doc), ws.base_facts)
    enabled = settings.enabled_codes - settings.ignored_for(source.path)
    findings = _run_rules(
        source, settings, enabled, "dockerfile",
        lambda options: DockerfileContext(source, doc, facts, options, ws.resolver, ws),
    )
    findings = _apply_suppressions(source, suppress.parse(source, doc), findings, settings, enabled)
    if doc.errors:
        findings = [f._replace(fix=None) for f in findings]
    return sorted(findings, key=lambda f: f.sort_key)


def network_resolver(settings: Settings):
    """Registry and Git lookups when the user opted in (the only path that imports network code)."""
    if not settings.resolve_images:
        return None
    from aicache_lint.registry.resolver import get_resolver

    return get_resolver(settings.registry_mirrors, settings.resolve_timeout)


def _run_rules(source: SourceText, settings: Settings, enabled: frozenset[str], target: str, make_ctx,
               keep=lambda violation: True) -> list[Finding]:
    """Run every enabled rule for ``target`` with the context ``make_ctx(options)`` builds (only
    those rules' modules are imported)."""
    from aicache_lint.rules import RULES

    findings: list[Finding] = []
    lowered: str | None = None
    for entry in RULES:
        if entry.code not in enabled or target not in entry.targets:
            continue
        if entry.words and USE_WORDS:
            lowered = source.text.lower() if lowered is None else lowered
            if not any(word in lowered for word in entry.words):
                continue  # the file cannot trigger it: its module is not even imported
        rule_cls = entry.load()
        ctx = make_ctx(settings.options_for(rule_cls.code))
        severity = settings.severity_for(rule_cls.code, rule_cls.severity)
        try:
            for v in rule_cls().check(ctx):
                if keep(v):
                    findings.append(Finding.at(source, rule_cls.code, rule_cls.name, severity, v.span, v.message, v.fix))
        except Exception as exc:  # a broken rule must be visible, never swallowed
            findings.append(internal_error(source, f"rule {rule_cls.code} failed: {type(exc).__name__}: {exc}"))
    return findings


def _apply_suppressions(source: SourceText, suppressions: list, findings: list[Finding], settings: Settings,
                        enabled: frozenset[str]) -> list[Finding]:
    from aicache_lint import suppress
    from aicache_lint.rules import RULES, rule_class

    if not suppressions:
        return findings
    kept, used = suppress.apply([f for f in findings if f.code != "AIC000"], suppressions)
    kept += [f for f in findings if f.code == "AIC000"]  # internal errors are never hidden
    if "AIC002" not in enabled:
        return kept
    rule = rule_class("AIC002")
    severity = settings.severity_for(rule.code, rule.severity)
    known = {entry.code for entry in RULES}
    for n, sup in enumerate(suppressions):
        for span, message, edit_span in _unused(sup, n, used, enabled, known):
            if edit_span is not None and suppress.wakes_directives(source, edit_span):
                edit_span = None  # the comment keeps `# syntax=` lines below it from being read as directives
                message += "; not removed: the `# syntax=`/`# escape=` lines below it would become parser directives"
            fix = Fix.safe("Remove the unused suppression", Edit.delete(*edit_span)) if edit_span else None
            kept.append(Finding.at(source, rule.code, rule.name, severity, span, message, fix))
    return kept


def _unused(sup, n: int, used: set, enabled: frozenset[str], known: set[str]) -> list[tuple[Span, str, Span | None]]:
    """(where, message, what to delete) for each stale part of one suppression."""
    if not sup.file_wide and sup.region is None:
        # Not above an instruction or key (a blank line in between?): the author's intent is unclear.
        return [(sup.comment, "suppression is not directly above an instruction or key, so it applies to nothing", None)]
    if not sup.codes:
        if (n, -1) in used:
            return []
        return [(sup.comment, "suppression matches no finding", sup.line_span)]
    stale = []
    for i, code in enumerate(sup.codes):
        name = code.code.upper()
        if name not in known:
            stale.append((code, f"unknown rule code `{code.code}` in suppression"))
        elif name in enabled and (n, i) not in used:
            stale.append((code, f"unused suppression of `{name}`: nothing here triggers it"))
    whole = len(stale) == len(sup.codes)  # nothing would be left: drop the comment line
    return [(code.span, message, sup.line_span if whole else code.delete) for code, message in stale]


def internal_error(source: SourceText, message: str) -> Finding:
    return Finding.at(source, "AIC000", "internal-error", Severity.ERROR, Span(0, 0), message)


def io_error(path: str, message: str) -> Finding:
    return Finding.at(SourceText("", path=path), "AIC003", "io-error", Severity.ERROR, Span(0, 0), message)


def applicable(finding: Finding, settings: Settings) -> bool:
    return (
        finding.fix is not None
        and (finding.fix.is_safe or settings.unsafe_fixes)
        and finding.code in settings.fixable_codes
    )


class FixResult(NamedTuple):
    source: SourceText  # the final text (the original when nothing applied)
    findings: list[Finding]  # what remains after fixing
    applied: list[tuple[str, Fix]]  # (rule code, fix) in order

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def fix_source(original: SourceText, settings: Settings, workspace: "Workspace | None" = None) -> FixResult:
    """Fix one file to a fixed point (the fix plan with this file alone; see ``plan.fix_files``)."""
    from aicache_lint.plan import fix_files

    ws = workspace if workspace is not None else standalone_workspace(original, settings)
    return fix_files([(original, settings)], ws)[0]


def parse_file(source: SourceText):
    """``source`` parsed as what its name says it is: a Dockerfile, a Compose document or a
    build-infrastructure file (``buildfiles.BuildFile``); each has ``errors``."""
    from aicache_lint.discovery import file_kind

    kind = file_kind(source.path)
    if kind == "compose":
        from aicache_lint.compose.parse import parse as parse_compose

        return parse_compose(source)
    if kind == "dockerfile":
        from aicache_lint.dockerfile.lexer import parse

        return parse(source)
    from aicache_lint import buildfiles

    return buildfiles.parse(source, kind)


def parse_errors(source: SourceText) -> bool:
    """Whether a fixed text no longer parses."""
    return bool(parse_file(source).errors)
