"""The rule registry: one explicit table of every rule, listed by code."""

from __future__ import annotations

from aicache_lint.rules.base import Rule
from aicache_lint.rules.compose.aic401_model_cache_not_persisted import (
    ModelCacheNotPersisted,
)
from aicache_lint.rules.compose.aic402_cache_path_not_on_volume import (
    CachePathNotOnVolume,
)
from aicache_lint.rules.compose.aic404_named_volume_not_declared import (
    NamedVolumeNotDeclared,
)
from aicache_lint.rules.compose.aic405_cache_volume_per_service import (
    CacheVolumePerService,
)
from aicache_lint.rules.compose.aic406_cache_volume_project_scoped import (
    CacheVolumeProjectScoped,
)
from aicache_lint.rules.dockerfile.aic101_pip_cache_not_mounted import (
    PipCacheNotMounted,
)
from aicache_lint.rules.dockerfile.aic102_cache_disabled_under_cache_mount import (
    CacheDisabledUnderCacheMount,
)
from aicache_lint.rules.dockerfile.aic104_uv_cache_not_mounted import UvCacheNotMounted
from aicache_lint.rules.dockerfile.aic105_uv_link_mode_not_copy import UvLinkModeNotCopy
from aicache_lint.rules.dockerfile.aic106_poetry_cache_not_mounted import (
    PoetryCacheNotMounted,
)
from aicache_lint.rules.dockerfile.aic107_conda_cache_not_mounted import (
    CondaCacheNotMounted,
)
from aicache_lint.rules.dockerfile.aic110_apt_cache_not_mounted import (
    AptCacheNotMounted,
)
from aicache_lint.rules.dockerfile.aic111_apt_cache_mount_not_locked import (
    AptCacheMountNotLocked,
)
from aicache_lint.rules.dockerfile.aic112_apt_cache_defeated_by_docker_clean import (
    AptCacheDefeatedByDockerClean,
)
from aicache_lint.rules.dockerfile.aic113_cache_cleared_inside_cache_mount import (
    CacheClearedInsideCacheMount,
)
from aicache_lint.rules.dockerfile.aic114_apk_cache_not_mounted import (
    ApkCacheNotMounted,
)
from aicache_lint.rules.dockerfile.aic115_dnf_yum_zypper_cache_not_mounted import (
    DnfYumZypperCacheNotMounted,
)
from aicache_lint.rules.dockerfile.aic116_js_package_cache_not_mounted import (
    JsPackageCacheNotMounted,
)
from aicache_lint.rules.dockerfile.aic117_go_cargo_cache_not_mounted import (
    GoCargoCacheNotMounted,
)
from aicache_lint.rules.dockerfile.aic120_cache_mount_target_mismatch import (
    CacheMountTargetMismatch,
)
from aicache_lint.rules.dockerfile.aic121_mount_type_missing import MountTypeMissing
from aicache_lint.rules.dockerfile.aic122_cache_mount_not_writable import (
    CacheMountNotWritable,
)
from aicache_lint.rules.dockerfile.aic123_cache_mount_dir_owned_by_root import (
    CacheMountDirOwnedByRoot,
)
from aicache_lint.rules.dockerfile.aic124_volume_dir_not_in_image import (
    VolumeDirNotInImage,
)
from aicache_lint.rules.dockerfile.aic130_syntax_directive_ignored import (
    SyntaxDirectiveIgnored,
)
from aicache_lint.rules.dockerfile.aic131_buildkit_syntax_not_declared import (
    BuildkitSyntaxNotDeclared,
)
from aicache_lint.rules.dockerfile.aic201_hf_home_not_set import HfHomeNotSet
from aicache_lint.rules.dockerfile.aic202_torch_home_not_set import TorchHomeNotSet
from aicache_lint.rules.dockerfile.aic203_deprecated_hf_cache_variable import (
    DeprecatedHfCacheVariable,
)
from aicache_lint.rules.dockerfile.aic204_huggingface_cli_removed import (
    HuggingfaceCliRemoved,
)
from aicache_lint.rules.dockerfile.aic205_model_download_without_cache import (
    ModelDownloadWithoutCache,
)
from aicache_lint.rules.dockerfile.aic301_copy_before_dependency_install import (
    CopyBeforeDependencyInstall,
)
from aicache_lint.rules.dockerfile.aic302_unquoted_version_specifier import (
    UnquotedVersionSpecifier,
)
from aicache_lint.rules.dockerfile.aic303_cuda_base_not_pinned import CudaBaseNotPinned
from aicache_lint.rules.dockerfile.aic304_cuda_devel_image_in_final_stage import (
    CudaDevelImageInFinalStage,
)
from aicache_lint.rules.dockerfile.aic305_vcs_requirement_not_pinned import (
    VcsRequirementNotPinned,
)
from aicache_lint.rules.dockerfile.aic306_base_image_not_digest_pinned import (
    BaseImageNotDigestPinned,
)
from aicache_lint.rules.meta.aic000_internal_error import (
    InternalError,
    IoError,
    ParseError,
    UnusedSuppression,
)

ALL_RULES: tuple[type[Rule], ...] = (
    # meta
    InternalError,
    ParseError,
    UnusedSuppression,
    IoError,
    # build-time package caches and cache mounts
    PipCacheNotMounted,
    CacheDisabledUnderCacheMount,
    UvCacheNotMounted,
    UvLinkModeNotCopy,
    PoetryCacheNotMounted,
    CondaCacheNotMounted,
    AptCacheNotMounted,
    AptCacheMountNotLocked,
    AptCacheDefeatedByDockerClean,
    CacheClearedInsideCacheMount,
    ApkCacheNotMounted,
    DnfYumZypperCacheNotMounted,
    JsPackageCacheNotMounted,
    GoCargoCacheNotMounted,
    CacheMountTargetMismatch,
    MountTypeMissing,
    CacheMountNotWritable,
    CacheMountDirOwnedByRoot,
    VolumeDirNotInImage,
    SyntaxDirectiveIgnored,
    BuildkitSyntaxNotDeclared,
    # model and runtime caches
    HfHomeNotSet,
    TorchHomeNotSet,
    DeprecatedHfCacheVariable,
    HuggingfaceCliRemoved,
    ModelDownloadWithoutCache,
    # layer order, reproducibility, images
    CopyBeforeDependencyInstall,
    UnquotedVersionSpecifier,
    CudaBaseNotPinned,
    CudaDevelImageInFinalStage,
    VcsRequirementNotPinned,
    BaseImageNotDigestPinned,
    # Compose
    ModelCacheNotPersisted,
    CachePathNotOnVolume,
    NamedVolumeNotDeclared,
    CacheVolumePerService,
    CacheVolumeProjectScoped,
)
BY_CODE: dict[str, type[Rule]] = {}
for _rule in ALL_RULES:
    _rule.validate()
    if _rule.code in BY_CODE or any(r.name == _rule.name for r in BY_CODE.values()):
        raise TypeError(f"duplicate rule code or name: {_rule.code} {_rule.name}")
    BY_CODE[_rule.code] = _rule
if list(BY_CODE) != sorted(BY_CODE):
    raise TypeError("ALL_RULES must be listed by code")


def lookup(code_or_name: str) -> type[Rule] | None:
    key = code_or_name.strip()
    rule = BY_CODE.get(key.upper())
    if rule is None:
        rule = next((r for r in ALL_RULES if r.name == key.lower()), None)
    return rule
