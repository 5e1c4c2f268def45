"""The rule registry: one explicit table of every rule, listed by code.

The table holds what selecting, configuring and naming a rule needs; a rule's module is imported
only when its class is asked for (a file of one of its targets is checked with it enabled, or its
documentation is wanted), so linting a Dockerfile never loads the Compose rules and the reverse.
tests/test_rule_table.py checks the table against the classes and lists every rule module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from aicache_lint.rules.base import Rule


class RuleEntry(NamedTuple):
    code: str
    name: str
    module: str  # relative to this package (an absolute name works too)
    class_name: str
    targets: tuple[str, ...] = ("dockerfile",)
    default_enabled: bool = True
    # The rule can only report on a Dockerfile whose text holds one of these (lower-case) words: the
    # program it is about, or `--mount` for cache-mount rules. Checked before the module is imported,
    # so a file that cannot trigger a rule never pays for loading it (tests/test_rule_table.py checks
    # that the words change no finding). Empty: the rule always runs.
    words: tuple[str, ...] = ()

    def load(self) -> "type[Rule]":
        """The rule class, imported on first use. Its metadata is checked then, against this entry
        too: a bad rule fails loudly as soon as anything uses it."""
        rule = _loaded.get(self)
        if rule is None:
            # __import__ rather than importlib.import_module: `python -X importtime` sees this one.
            name = self.module.lstrip(".")
            module = __import__(name, globals(), None, (self.class_name,), len(self.module) - len(name))
            rule = getattr(module, self.class_name)
            rule.validate()
            found = (rule.code, rule.name, rule.targets, rule.default_enabled)
            if found != (self.code, self.name, self.targets, self.default_enabled):
                raise TypeError(f"rule {rule.__name__}: {found} disagrees with its registry entry {self}")
            _loaded[self] = rule
        return rule


RULES: tuple[RuleEntry, ...] = (
    # meta: findings the engine itself emits
    RuleEntry("AIC000", "internal-error", ".meta.aic000_internal_error", "InternalError", targets=()),
    RuleEntry("AIC001", "parse-error", ".meta.aic000_internal_error", "ParseError"),
    RuleEntry("AIC002", "unused-suppression", ".meta.aic000_internal_error", "UnusedSuppression", targets=()),
    RuleEntry("AIC003", "io-error", ".meta.aic000_internal_error", "IoError", targets=()),
    # build-time package caches and cache mounts
    RuleEntry("AIC101", "pip-cache-not-mounted", ".dockerfile.aic101_pip_cache_not_mounted", "PipCacheNotMounted", words=("pip",)),
    RuleEntry("AIC102", "cache-disabled-under-cache-mount", ".dockerfile.aic102_cache_disabled_under_cache_mount", "CacheDisabledUnderCacheMount", words=("--mount",)),
    RuleEntry("AIC104", "uv-cache-not-mounted", ".dockerfile.aic104_uv_cache_not_mounted", "UvCacheNotMounted", words=("uv",)),
    RuleEntry("AIC105", "uv-link-mode-not-copy", ".dockerfile.aic105_uv_link_mode_not_copy", "UvLinkModeNotCopy", words=("uv",)),
    RuleEntry("AIC106", "poetry-cache-not-mounted", ".dockerfile.aic106_poetry_cache_not_mounted", "PoetryCacheNotMounted", words=("poetry",)),
    RuleEntry("AIC107", "conda-cache-not-mounted", ".dockerfile.aic107_conda_cache_not_mounted", "CondaCacheNotMounted", words=("conda", "mamba")),
    RuleEntry("AIC110", "apt-cache-not-mounted", ".dockerfile.aic110_apt_cache_not_mounted", "AptCacheNotMounted", words=("apt",)),
    RuleEntry("AIC111", "apt-cache-mount-not-locked", ".dockerfile.aic111_apt_cache_mount_not_locked", "AptCacheMountNotLocked", words=("apt",)),
    RuleEntry("AIC112", "apt-cache-defeated-by-docker-clean", ".dockerfile.aic112_apt_cache_defeated_by_docker_clean", "AptCacheDefeatedByDockerClean", words=("apt",)),
    RuleEntry("AIC113", "cache-cleared-inside-cache-mount", ".dockerfile.aic113_cache_cleared_inside_cache_mount", "CacheClearedInsideCacheMount", words=("--mount",)),
    RuleEntry("AIC114", "apk-cache-not-mounted", ".dockerfile.aic114_apk_cache_not_mounted", "ApkCacheNotMounted", words=("apk",)),
    RuleEntry("AIC115", "dnf-yum-zypper-cache-not-mounted", ".dockerfile.aic115_dnf_yum_zypper_cache_not_mounted", "DnfYumZypperCacheNotMounted", words=("dnf", "yum", "zypper")),
    RuleEntry("AIC116", "js-package-cache-not-mounted", ".dockerfile.aic116_js_package_cache_not_mounted", "JsPackageCacheNotMounted", words=("npm", "yarn", "pnpm")),
    RuleEntry("AIC117", "go-cargo-cache-not-mounted", ".dockerfile.aic117_go_cargo_cache_not_mounted", "GoCargoCacheNotMounted", words=("go", "cargo")),
    RuleEntry("AIC120", "cache-mount-target-mismatch", ".dockerfile.aic120_cache_mount_target_mismatch", "CacheMountTargetMismatch", words=("--mount",)),
    RuleEntry("AIC121", "mount-type-missing", ".dockerfile.aic121_mount_type_missing", "MountTypeMissing", words=("--mount",)),
    RuleEntry("AIC122", "cache-mount-not-writable", ".dockerfile.aic122_cache_mount_not_writable", "CacheMountNotWritable", words=("--mount",)),
    RuleEntry("AIC123", "cache-mount-dir-owned-by-root", ".dockerfile.aic123_cache_mount_dir_owned_by_root", "CacheMountDirOwnedByRoot", words=("--mount",)),
    RuleEntry("AIC124", "volume-dir-not-in-image", ".dockerfile.aic124_volume_dir_not_in_image", "VolumeDirNotInImage"),
    RuleEntry("AIC130", "syntax-directive-ignored", ".dockerfile.aic130_syntax_directive_ignored", "SyntaxDirectiveIgnored", words=("syntax",)),
    RuleEntry("AIC131", "buildkit-syntax-not-declared", ".dockerfile.aic131_buildkit_syntax_not_declared", "BuildkitSyntaxNotDeclared", default_enabled=False),
    # model and runtime caches
    RuleEntry("AIC201", "hf-home-not-set", ".dockerfile.aic201_hf_home_not_set", "HfHomeNotSet"),
    RuleEntry("AIC202", "torch-home-not-set", ".dockerfile.aic202_torch_home_not_set", "TorchHomeNotSet"),
    RuleEntry("AIC203", "deprecated-hf-cache-variable", ".dockerfile.aic203_deprecated_hf_cache_variable", "DeprecatedHfCacheVariable", targets=("dockerfile", "compose")),
    RuleEntry("AIC204", "huggingface-cli-removed", ".dockerfile.aic204_huggingface_cli_removed", "HuggingfaceCliRemoved", words=("huggingface",)),
    RuleEntry("AIC205", "model-download-without-cache", ".dockerfile.aic205_model_download_without_cache", "ModelDownloadWithoutCache"),
    # layer order, reproducibility, images
    RuleEntry("AIC301", "copy-before-dependency-install", ".dockerfile.aic301_copy_before_dependency_install", "CopyBeforeDependencyInstall"),
    RuleEntry("AIC302", "unquoted-version-specifier", ".dockerfile.aic302_unquoted_version_specifier", "UnquotedVersionSpecifier", words=("<", ">")),
    RuleEntry("AIC303", "cuda-base-not-pinned", ".dockerfile.aic303_cuda_base_not_pinned", "CudaBaseNotPinned"),
    RuleEntry("AIC304", "cuda-devel-image-in-final-stage", ".dockerfile.aic304_cuda_devel_image_in_final_stage", "CudaDevelImageInFinalStage"),
    RuleEntry("AIC305", "vcs-requirement-not-pinned", ".dockerfile.aic305_vcs_requirement_not_pinned", "VcsRequirementNotPinned", words=("git",)),
    RuleEntry("AIC306", "base-image-not-digest-pinned", ".dockerfile.aic306_base_image_not_digest_pinned", "BaseImageNotDigestPinned", targets=("dockerfile", "compose"), default_enabled=False),
    # Compose
    RuleEntry("AIC401", "model-cache-not-persisted", ".compose.aic401_model_cache_not_persisted", "ModelCacheNotPersisted", targets=("compose",)),
    RuleEntry("AIC402", "cache-path-not-on-volume", ".compose.aic402_cache_path_not_on_volume", "CachePathNotOnVolume", targets=("compose",)),
    RuleEntry("AIC404", "named-volume-not-declared", ".compose.aic404_named_volume_not_declared", "NamedVolumeNotDeclared", targets=("compose",)),
    RuleEntry("AIC405", "cache-volume-per-service", ".compose.aic405_cache_volume_per_service", "CacheVolumePerService", targets=("compose",)),
    RuleEntry("AIC406", "cache-volume-project-scoped", ".compose.aic406_cache_volume_project_scoped", "CacheVolumeProjectScoped", targets=("compose",), default_enabled=False),
    # build infrastructure
    RuleEntry("AIC501", "ci-build-cache-not-exported", ".ci.aic501_ci_build_cache_not_exported", "CiBuildCacheNotExported", targets=("workflow", "action")),
    RuleEntry("AIC502", "gha-cache-scope-shared", ".ci.aic502_gha_cache_scope_shared", "GhaCacheScopeShared", targets=("workflow", "action")),
    RuleEntry("AIC503", "build-command-without-cache", ".ci.aic503_build_command_without_cache", "BuildCommandWithoutCache", targets=("workflow", "action", "gitlab")),
    RuleEntry("AIC504", "cache-mounts-cold-in-ci", ".ci.aic504_cache_mounts_cold_in_ci", "CacheMountsColdInCi", targets=("workflow", "action")),
    RuleEntry("AIC505", "weak-cache-mode", ".ci.aic505_weak_cache_mode", "WeakCacheMode", targets=("workflow", "action")),
    RuleEntry("AIC506", "bake-target-without-cache", ".ci.aic506_bake_target_without_cache", "BakeTargetWithoutCache", targets=("bake",)),
    RuleEntry("AIC507", "registry-cache-not-persisted", ".ci.aic507_registry_cache_not_persisted", "RegistryCacheNotPersisted", targets=("compose",)),
    RuleEntry("AIC508", "registry-mirror-not-configured", ".ci.aic508_registry_mirror_not_configured", "RegistryMirrorNotConfigured", targets=("daemon", "buildkitd", "workflow", "action", "gitlab", "shell")),
    RuleEntry("AIC509", "buildkit-gc-not-configured", ".ci.aic509_buildkit_gc_not_configured", "BuildkitGcNotConfigured", targets=("daemon", "workflow", "action", "gitlab", "shell")),
    RuleEntry("AIC510", "buildkit-disabled", ".ci.aic510_buildkit_disabled", "BuildkitDisabled", targets=("daemon", "workflow", "action", "gitlab", "shell")),
    # Python sources
    RuleEntry("AIC601", "cache-variable-set-after-import", ".python.aic601_cache_variable_set_after_import", "CacheVariableSetAfterImport", targets=("python",)),
    RuleEntry("AIC602", "model-cache-dir-not-kept", ".python.aic602_model_cache_dir_not_kept", "ModelCacheDirNotKept", targets=("python",)),
    RuleEntry("AIC603", "deprecated-hf-cache-variable-in-code", ".python.aic603_deprecated_hf_cache_variable_in_code", "DeprecatedHfCacheVariableInCode", targets=("python",)),
)
_loaded: dict[RuleEntry, "type[Rule]"] = {}


def lookup(code_or_name: str) -> RuleEntry | None:
    """The entry for a rule code (any case) or name."""
    key = code_or_name.strip()
    return next((e for e in RULES if e.code == key.upper() or e.name == key.lower()), None)


def rule_class(code: str) -> "type[Rule]":
    """The class of a known rule code, imported if it was not yet."""
    for entry in RULES:
        if entry.code == code:
            return entry.load()
    raise KeyError(code)


def all_rules() -> "tuple[type[Rule], ...]":
    """Every rule class, by code (imports every rule module: for docs, SARIF and tests)."""
    return tuple(entry.load() for entry in RULES)


def __getattr__(name: str):
    # ALL_RULES and BY_CODE, computed when first asked for: the lint path uses RULES instead.
    if name == "ALL_RULES":
        return all_rules()
    if name == "BY_CODE":
        return {rule.code: rule for rule in all_rules()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
