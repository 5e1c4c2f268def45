"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers, built with `sarif-om`.

What consumers read (GitHub: "SARIF support for code scanning"):
- `tool.driver.rules[]`, one per rule: `shortDescription` and `fullDescription` head an alert,
  `help.markdown` is its body, `defaultConfiguration.level` its severity, `properties.tags` filters;
- each result: `ruleId`/`ruleIndex`, `level`, `message.text`, and a region (1-based lines and
  Unicode code point columns, end column exclusive) in a file named relative to `%SRCROOT%`;
- `partialFingerprints["aicacheLint/v1"]`: the rule and the stripped text of the finding's line
  with an occurrence counter (`hash:N`), so an alert survives edits above it. Our own key, not
  GitHub's `primaryLocationLineHash`: the upload action computes that one itself (with another
  algorithm) and warns about every result whose value differs from its own;
- `fixes[]`: the finding's fix as replacements in the same text, for SARIF viewers that apply them;
- `automationDetails.id`: the analysis category, so other uploads do not close our alerts.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attr
import sarif_om as om

from aicache_lint.finding import Severity
from aicache_lint.fix import with_newline
from aicache_lint.report._common import estimate_dict, final_source, keyed_findings, relative_path
from aicache_lint.rules.base import DOCS_BASE_URL, rule_url

if TYPE_CHECKING:
    from aicache_lint.api import FileResult
    from aicache_lint.finding import Finding
    from aicache_lint.report import ReportContext
    from aicache_lint.rules.base import Rule
    from aicache_lint.source import SourceText

FINGERPRINT_KEY = "aicacheLint/v1"
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = DOCS_BASE_URL.split("/blob/")[0]
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# Written even when equal to the schema's default: every rule and result states its severity.
ALWAYS_WRITTEN = frozenset({"level"})


def render(ctx: "ReportContext") -> str:
    from aicache_lint import __version__
    from aicache_lint.rules import all_rules

    every_rule = all_rules()  # the driver describes every rule, not only those that ran
    index = {rule.code: i for i, rule in enumerate(every_rule)}
    driver = om.ToolComponent(
        name="aicache-lint",
        version=__version__,
        information_uri=INFORMATION_URI,
        rules=[_descriptor(rule) for rule in every_rule],
    )
    run = om.Run(
        tool=om.Tool(driver=driver),
        automation_details=om.RunAutomationDetails(id="aicache-lint/"),
        column_kind="unicodeCodePoints",
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=_directory_uri(ctx.root))},
        results=[result for r in ctx.results for result in _results(r, ctx.root, index)],
    )
    log = om.SarifLog(runs=[run], version="2.1.0", schema_uri=SCHEMA_URI)
    return json.dumps(to_json(log), indent=2, ensure_ascii=False) + "\n"


def _descriptor(rule: "type[Rule]") -> om.ReportingDescriptor:
    from aicache_lint.rules.docs import rule_page

    page = rule_page(rule)
    tags = [*rule.targets, *(["fixable"] if rule.fix_availability != "none" else [])]
    return om.ReportingDescriptor(
        id=rule.code,
        name=rule.name,
        short_description=om.MultiformatMessageString(text=rule.summary),
        full_description=om.MultiformatMessageString(text=rule.doc_sections()["What it does"]),
        help=om.MultiformatMessageString(text=page, markdown=page),
        help_uri=rule_url(rule.code),
        default_configuration=om.ReportingConfiguration(level=LEVELS[rule.severity]),
        properties=om.PropertyBag(tags=tags) if tags else None,
    )


def _results(r: "FileResult", root: str, index: dict[str, int]) -> list[om.Result]:
    source = final_source(r)
    artifact = _artifact(r.path, root)
    out = []
    for f, line, occurrence in keyed_findings(r):
        line_hash = hashlib.sha256(f"{f.code}\0{line}".encode("utf-8")).hexdigest()[:16]
        region = _region(f) if source is not None else om.Region(start_line=1)
        out.append(
            om.Result(
                rule_id=f.code,
                rule_index=index.get(f.code, -1),
                level=LEVELS[f.severity],
                message=om.Message(text=f.message),
                locations=[
                    om.Location(physical_location=om.PhysicalLocation(artifact_location=artifact, region=region))
                ],
                partial_fingerprints={FINGERPRINT_KEY: f"{line_hash}:{occurrence}"},
                fixes=[_fix(f, source, artifact)] if f.fix is not None and source is not None else None,
                # a property bag takes any key (SARIF 3.8); sarif-om's PropertyBag knows only `tags`
                properties={"estimate": estimate_dict(r.estimates[f])} if f in r.estimates else None,
            )
        )
    return out


def _region(f: "Finding") -> om.Region:
    if f.span.start == f.span.end:  # a point: the rest of its line (an empty region would hide it)
        return om.Region(start_line=f.start.row, start_column=f.start.column)
    return om.Region(
        start_line=f.start.row, start_column=f.start.column, end_line=f.end.row, end_column=f.end.column
    )


def _fix(f: "Finding", source: "SourceText", artifact: om.ArtifactLocation) -> om.Fix:
    assert f.fix is not None
    replacements = []
    for e in f.fix.edits:
        (start_line, start_column), (end_line, end_column) = source.position(e.start), source.position(e.end)
        deleted = om.Region(start_line=start_line, start_column=start_column, end_line=end_line, end_column=end_column)
        content = with_newline(e.content, source.newline)  # what applying the fix really inserts
        inserted = om.ArtifactContent(text=content) if content else None
        replacements.append(om.Replacement(deleted_region=deleted, inserted_content=inserted))
    return om.Fix(
        description=om.Message(text=f.fix.title),
        artifact_changes=[om.ArtifactChange(artifact_location=artifact, replacements=replacements)],
    )


def _artifact(path: str, root: str) -> om.ArtifactLocation:
    rel = relative_path(path, root)
    if rel is None:  # outside the root: an absolute file URI
        return om.ArtifactLocation(uri=Path(os.path.abspath(path)).as_uri())
    return om.ArtifactLocation(uri=quote(rel, safe="/"), uri_base_id=SRCROOT)


def _directory_uri(root: str) -> str:
    uri = Path(os.path.abspath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def to_json(value: Any) -> Any:
    """sarif-om objects as JSON values under their schema property names, leaving out what is None
    or equal to its schema default (except the properties in ALWAYS_WRITTEN)."""
    if attr.has(type(value)):
        out = {}
        for field in attr.fields(type(value)):
            name = field.metadata["schema_property_name"]
            item = getattr(value, field.name)
            if item is None or (name not in ALWAYS_WRITTEN and item == _default(field)):
                continue
            out[name] = to_json(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def _default(field: "attr.Attribute") -> Any:
    default = field.default
    return default.factory() if isinstance(default, attr.Factory) else default  # type: ignore[attr-defined]
