"""Rule documentation pages, for `aicache-lint rule` and the generated `rules/` folder.

Regenerate the folder with ``python -m aicache_lint.rules.docs rules``; a test fails when it is stale.
"""

from __future__ import annotations

import os
import sys

from aicache_lint.rules.base import FixAvailability, Rule


def fix_label(rule: type[Rule]) -> str:
    if rule.fix_availability == FixAvailability.NONE:
        return "none"
    when = "always" if rule.fix_availability == FixAvailability.ALWAYS else "sometimes"
    return f"{rule.fix_safety.value} ({when})"


def estimate_label(rule: type[Rule]) -> str:
    """What `--estimate` (and `aicache-lint impact`) says about the rule's findings
    (``impact/estimate.py``): what a fix saves, or for a finding at a model load that has no fix,
    what that download costs."""
    shown = "shown when it is more than nothing and the sizes are known (`--estimate`, `aicache-lint impact`)"
    fixed = rule.fix_availability != FixAvailability.NONE
    if fixed and "dockerfile" in rule.targets:
        return f"what its fix saves per rebuild of the image, or per new container of the services that run it; {shown}"
    if fixed and "compose" in rule.targets:
        return f"what its fix saves per new container of the services it changes; {shown}"
    if rule.targets == ("python",):
        if fixed:
            return "none (fixes to Python code are not priced)"
        return f"what the model load it reports downloads per new container of the services that run the code; {shown}"
    if {"dockerfile", "compose"} & set(rule.targets):
        return "none (no fix to price)"
    return "none (CI, Bake and daemon files are not priced)"


def rule_page(rule: type[Rule]) -> str:
    head = [
        f"# {rule.code} `{rule.name}`",
        "",
        rule.summary + ".",
        "",
        f"- Severity: {rule.severity.value}",
        f"- Default: {'on' if rule.default_enabled else 'opt-in (select it to enable)'}",
        f"- Fix: {fix_label(rule)}",
        f"- Estimate: {estimate_label(rule)}",
        "",
        "",
    ]
    return "\n".join(head) + rule.documentation() + "\n"


def index_page(rules: tuple[type[Rule], ...]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from the rules' docstrings by `python -m aicache_lint.rules.docs rules`; do not edit.",
        "",
        "| Code | Name | Summary | Severity | Default | Fix |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rules:
        default = "on" if r.default_enabled else "opt-in"
        lines.append(
            f"| [{r.code}]({r.code}.md) | `{r.name}` | {r.summary} | {r.severity.value} | {default} | {fix_label(r)} |"
        )
    return "\n".join(lines) + "\n"


def expected_files() -> dict[str, str]:
    from aicache_lint.rules import all_rules

    every_rule = all_rules()
    files = {"README.md": index_page(every_rule)}
    files.update({f"{r.code}.md": rule_page(r) for r in every_rule})
    return files


def write(directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    expected = expected_files()
    for name in os.listdir(directory):
        if name.endswith(".md") and name not in expected:
            os.remove(os.path.join(directory, name))
    for name, content in expected.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(content)


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else "rules")
