"""Where the estimates' sizes come from: the bundled, dated size table (``knowledge/sizes.py``),
and with --resolve-images the registries (image manifests, the package index, the Hugging Face
Hub), asked only for what the table does not know exactly."""

from __future__ import annotations


class BundledSizes:
    """The model's questions answered from the bundled, dated size table (``knowledge/sizes.py``):
    a pinned version's own row when there is one, else the nearest version's (an estimate); torch
    and its family with the CUDA wheels their Linux wheel pulls. ``registry`` (--resolve-images:
    the run's registry resolver) sizes a base image the table has no row of its own for, from its
    manifest, and a package the table lacks, from the package index; when they do not answer,
    the table's estimate (or unknown) stands."""

    def __init__(self, registry=None) -> None:
        self.registry = registry

    def package(self, name: str, spec: str = ""):
        from aicache_lint.knowledge import sizes

        pinned = spec.strip()
        version = pinned[2:].strip() if pinned.startswith("==") and "," not in pinned and "*" not in pinned else None
        found = sizes.package(name, version, with_deps=True) or sizes.package(name, version)
        # only what the table lacks: its torch rows count the CUDA wheels, which the index's one file does not
        if found is None and self.registry is not None and (version or not spec.strip()):
            asked = self.registry.package_size(name, version)
            if asked is not None:
                return sizes.Size(asked[0], asked[1], _today(), True, f"{name} {version or '(newest)'}")
        return found

    def apt(self, name: str, with_deps: bool = False, release: str | None = None):
        """A package of ``release`` (a codename; None: not known, the newest Debian's as an estimate)."""
        from aicache_lint.knowledge import sizes

        return (sizes.apt(name, release, with_deps=True) if with_deps else None) or sizes.apt(name, release)

    def image(self, reference: str):
        from aicache_lint.knowledge import sizes

        found = sizes.image(reference)
        if (found is None or not found.exact) and self.registry is not None:
            pulled = self.registry.image_size(reference)
            if pulled is not None:
                from aicache_lint.images.reference import parse_reference

                image = parse_reference(reference)
                pinned = image.digest or image.tag or "latest"
                where = f"https://{image.registry}/v2/{image.repository}/manifests/{pinned}"
                return sizes.Size(pulled, where, _today(), True, reference)
        return found

    def model(self, repo_id: str, whole: bool = False):
        """The weights a library load of ``repo_id`` downloads, or with ``whole`` the whole
        repository (`hf download REPO` with no file names). The table's rows count the weights, so
        for ``whole`` the Hub (``registry``) is asked first and a row is the fallback."""
        from aicache_lint.knowledge import sizes

        found = sizes.model(repo_id)
        if (found is None or whole) and self.registry is not None:
            asked = self.registry.model_size(repo_id, whole)
            if asked is not None:
                return sizes.Size(asked[0], asked[1], _today(), True, asked[2])
        return found


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()
