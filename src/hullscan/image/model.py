"""What a source gives the walker: the manifest's facts, the config, and layer blobs to stream."""

from __future__ import annotations

from collections.abc import Callable

from hullscan.model.image import ImageConfig
from hullscan.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import IO, Any

# Media types (OCI image spec and Docker v2 schema 2).
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)

LAYER_TYPES = {
    # media type → compression named by it ("" = uncompressed); magic bytes confirm it
    "application/vnd.oci.image.layer.v1.tar": "",
    "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": "",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": "zstd",
    "application/vnd.docker.image.rootfs.diff.tar": "",
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd": "zstd",
}


@record(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) < 2 or not all(parts):
            from hullscan.errors import UsageError

            raise UsageError(f"--platform must be os/arch[/variant], not {text!r}")
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else "")

    def check_config(self, config: ImageConfig, what: str) -> None:
        """The image chosen for this --platform must be of it: a single-platform image (a docker save,
        an OCI layout or registry manifest with no index) says its platform only in its config. A field
        the config leaves empty is not held against it (the variant often is: arm64 without `v8`)."""
        have = (config.os, config.architecture, config.variant)
        want = (self.os, self.architecture, self.variant)
        if all(not h or not w or h == w for h, w in zip(have, want, strict=True)):
            return
        from hullscan.errors import InputError

        image = Platform(config.os or "?", config.architecture or "?", config.variant)
        raise InputError(f"{what}: no image for --platform {self}: image has {image} only")

    def matches(self, other: dict[str, Any]) -> bool:
        """Whether an index entry's `platform` object is this platform (variant only when asked)."""
        if other.get("os") != self.os or other.get("architecture") != self.architecture:
            return False
        return not self.variant or other.get("variant", "") == self.variant


@record
class Layer:
    """One layer blob of an image, ready to stream."""

    index: int
    digest: str
    """Digest of the blob as stored (compressed); empty when the source does not say (docker save)."""
    size: int
    """Blob size in bytes (-1 when the source does not say)."""
    media_type: str
    diff_id: str
    """Digest of the uncompressed tar, from the config's rootfs.diff_ids."""
    opener: Callable[[], IO[bytes]]
    """Opens the raw blob for reading from the start."""
    created_by: str = ""
    annotations: dict[str, str] = field(default_factory=dict)
    local: bool = True
    """Blob already on this machine: re-hashed before trusting the cache (a registry blob is not fetched)."""
    location: tuple[str, int] | None = None
    """Host file holding a local blob and the blob's offset in it: the cache remembers a blob verified
    in a file that has not changed since (see image/identity.py), instead of re-hashing it."""


@record
class Image:
    """An opened image: everything the walker and the report need, nothing source-specific."""

    input: str
    """The target as the user gave it."""
    source_type: str
    """docker-archive, oci, oci-archive, dir, registry, sbom."""
    name: str
    """A human name: repo tag, layout tag or path."""
    config: ImageConfig
    layers: list[Layer]
    manifest_digest: str = ""
    config_digest: str = ""
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    manifest_annotations: dict[str, str] = field(default_factory=dict)
    rootfs_path: str = ""
    """For `dir:` targets: the directory walked instead of layer tars."""
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for close in self.closers:
            close()
        self.closers.clear()
