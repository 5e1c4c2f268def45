"""AIC204 huggingface-cli-removed."""

from __future__ import annotations

from typing import Iterator

from aicache_lint.dockerfile.model import Instruction
from aicache_lint.finding import Severity, Violation
from aicache_lint.fix import Edit, Fix
from aicache_lint.knowledge.libraries import HF_DOWNLOAD_OPTIONS
from aicache_lint.knowledge.model_cache import (
    cli_option_names,
    hf_hub_status,
    pins_before_each,
)
from aicache_lint.rules.base import DockerfileContext, FixAvailability, Rule

# `huggingface-cli <sub>` -> (`hf` words, options the `hf` command is known to take). Only
# subcommands whose `hf` form the huggingface_hub sources/docs confirm (cli/download.py,
# cli/auth.py, cli/deprecated_cli.py, the CLI reference); anything else is reported only.
MAPPING = {
    "download": ("download", HF_DOWNLOAD_OPTIONS),
    "upload": ("upload", frozenset({"--repo-type", "--revision", "--token"})),
    "login": ("auth login", frozenset({"--token", "--add-to-git-credential"})),
    "logout": ("auth logout", frozenset()),
    "whoami": ("auth whoami", frozenset()),
    "env": ("env", frozenset()),
}


class HuggingfaceCliRemoved(Rule):
    """
    ## What it does
    Flags `huggingface-cli …` in a `RUN` when the huggingface_hub it runs is 1.0 or newer, or
    probably is: the image pins `huggingface_hub>=1.0`, installs `transformers>=5` (which
    requires huggingface_hub 1.x), or installs huggingface_hub (or transformers) with no upper
    bound below 1.0, so the build gets the newest release. Installs seen are those of the `RUN`'s
    stage and the stages it is built from or copies from, up to the `RUN`.

    ## Why is this bad?
    huggingface_hub 1.0 (October 2025) removed the `huggingface-cli` entry point; since 1.11 it is
    a stub that prints "deprecated and no longer works" and exits 1. The build fails, or -- behind
    `|| true` -- silently ships without the model. The replacement, `hf`, exists since 0.34.

    ## Example
    ```dockerfile
    RUN pip install "huggingface_hub>=1.0"
    RUN huggingface-cli download Qwen/Qwen2.5-0.5B-Instruct --local-dir /models/qwen
    ```

    ## Use instead
    ```dockerfile
    RUN pip install "huggingface_hub>=1.0"
    RUN hf download Qwen/Qwen2.5-0.5B-Instruct --local-dir /models/qwen
    ```

    ## Fix safety
    The fix renames the command and maps the subcommand: `download` -> `hf download`, `upload` ->
    `hf upload`, `login` -> `hf auth login`, `logout` -> `hf auth logout`, `whoami` ->
    `hf auth whoami`, `env` -> `hf env`; arguments and a path before the program
    (`/opt/venv/bin/huggingface-cli`) are kept. It is offered only when every option on the line
    is one the `hf` command is known to accept (for `download`: `--repo-type`, `--revision`,
    `--include`, `--exclude`, `--cache-dir`, `--local-dir`, `--force-download`, `--token`,
    `--max-workers`, and not `--cache-dir` with `--local-dir`, which `hf` rejects since 1.16).
    It is safe when huggingface_hub >= 0.34 is certain (pinned so, or transformers >= 5); when the
    version only follows "the newest release" it is unsafe: a cached layer or a resolver pin may
    still hold a hub older than 0.34, which has no `hf`.
    Report only: other subcommands (`scan-cache`, `delete-cache`, `repo`, `tag` ... whose `hf`
    form changed between releases), options `hf` does not take (`--local-dir-use-symlinks`,
    `--resume-download`), exec-form `RUN`s and quoted or computed program names. Nothing is
    reported when the hub version cannot be known (a requirements file, a lock file, or a base
    image provides it) or is pinned below 1.0.

    ## Options
    None.

    ## References
    - [Say hello to `hf`: the renamed Hugging Face CLI](https://huggingface.co/blog/hf-cli)
    - [huggingface_hub CLI guide](https://huggingface.co/docs/huggingface_hub/guides/cli)
    - [transformers v5 migration guide](https://github.com/huggingface/transformers/blob/main/MIGRATION_GUIDE_V5.md)
    """

    code = "AIC204"
    name = "huggingface-cli-removed"
    summary = "huggingface-cli is used where huggingface_hub 1.x removed it"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES

    def check(self, ctx: DockerfileContext) -> Iterator[Violation]:
        facts = ctx.facts
        calls = {}  # id(run) -> its huggingface-cli invocations
        for run in facts.runs():
            invs = [inv for inv in facts.invocations(run) if inv.program == "huggingface-cli"]
            if invs:
                calls[id(run)] = (run, invs)
        for run, pins in pins_before_each(ctx, [run for run, _ in calls.values()]):
            invs = calls[id(run)][1]
            status, has_hf = hf_hub_status(pins)
            if status not in ("new", "latest"):
                continue
            why = (
                "this image installs huggingface_hub >= 1.0"
                if status == "new"
                else "this image installs the newest huggingface_hub (>= 1.0)"
            )
            for inv in invs:
                prog = inv.program_words[0]
                script = inv.command.script
                sub = inv.args[0] if inv.args else None
                span = script.file_span(prog.start, (sub or prog).end)
                mapped = MAPPING.get(sub.value) if sub is not None else None
                hint = f"`hf {mapped[0]}`" if mapped else "`hf`"
                yield Violation(
                    span,
                    f"`huggingface-cli` was removed in huggingface_hub 1.0 (it exits 1 there) and {why}: use {hint}",
                    self._fix(run, inv, has_hf),
                )

    def _fix(self, run: Instruction, inv, has_hf: bool) -> Fix | None:
        script = inv.command.script
        if script.exec_form or not inv.args:
            return None
        prog, sub = inv.program_words[0], inv.args[0]
        mapped = MAPPING.get(sub.value)
        if mapped is None:
            return None
        new_sub, allowed = mapped
        options = cli_option_names(inv)
        if any(o not in allowed for o in options):
            return None
        if "--cache-dir" in options and "--local-dir" in options:
            return None
        for word in (prog, sub):
            if word.quoted or word.has_expansion or word.raw != word.value:
                return None
            if not script.source.is_contiguous(word.start, word.end):
                return None
        name_start = prog.start + len(prog.raw) - len("huggingface-cli")
        edits = [Edit(*script.file_span(name_start, prog.end), "hf")]
        if new_sub != sub.value:
            edits.append(Edit(*script.file_span(sub.start, sub.end), new_sub))
        title = f"Replace `huggingface-cli {sub.value}` with `hf {new_sub}`"
        if has_hf:
            return Fix.safe(title, *edits)
        return Fix.unsafe(
            f"{title} (huggingface_hub is not pinned to >= 0.34: an older one from a cached layer has no `hf`)", *edits
        )
