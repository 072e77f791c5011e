"""What a report says of the image itself: how it was given, its layers, its config, its base."""

from __future__ import annotations

from hullscan.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:
    from typing import Any


@record(frozen=True)
class HistoryEntry:
    """One entry of the config's `history` (layers and metadata-only steps alike)."""

    created: str = ""
    created_by: str = ""
    empty_layer: bool = False
    comment: str = ""


@record(frozen=True)
class ImageConfig:
    """The parts of the image config JSON that hullscan reports and reasons about. In a `Report` every
    string here has its secrets masked and `raw` is empty (scan service, secrets/config_scan.py)."""

    raw: dict[str, Any]
    """The whole config document, as parsed (empty in a report: never reported, never cached)."""
    architecture: str = ""
    os: str = ""
    variant: str = ""
    created: str = ""
    user: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    diff_ids: tuple[str, ...] = ()


@record(frozen=True)
class Target:
    """How the image was given and what names it."""

    input: str
    """The target as the user gave it (`docker-archive:app.tar`, `registry:…`)."""
    type: str
    """docker-archive, oci, oci-archive, dir, registry, sbom."""
    name: str
    """A human name: repo tag, layout tag or path."""
    manifest_digest: str = ""
    config_digest: str = ""
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()


@record(frozen=True)
class LayerInfo:
    """One layer as the report lists it."""

    index: int
    digest: str
    """Digest of the blob as stored (differs between formats of one image; '' when unknown)."""
    size: int
    """Blob size in bytes (-1 when unknown)."""
    media_type: str
    diff_id: str
    created_by: str = ""
    """The history line that made it (secrets masked by the scan service, as in the config's history)."""
    base: bool | None = None
    """True for base-image layers, False for application layers, None when unknown."""


@record(frozen=True)
class BaseImage:
    """Which bottom layers belong to the base image, and how that was decided."""

    layer_count: int | None
    """How many bottom layers are the base's (None: unknown)."""
    name: str = ""
    digest: str = ""
    method: str = "none"
    """How it was decided (base/identify.py): `annotation` (the image's base annotation, verified against the
    catalog when it knows the digest), `catalog` (the longest chain-ID prefix of a catalogued base),
    `similar` (no prefix: the catalog entry of the same OS release sharing the most packages — reported
    only, `layer_count` stays None), `history` (provisional heuristic), `none`, or `not_applicable` (a
    target without layers: `fs`, `dir:`, `sbom:`)."""
    provisional: bool = True
    created: str | None = None
    """The base's creation date (ISO 8601) as the catalog records it."""
    catalog_id: int | None = None
    """The catalog entry identified (`catalog`, `similar`, or an `annotation` the catalog verified)."""
    mismatch: str = ""
    """Why a base annotation was not trusted (its base's layers are not a prefix of the image's), '' else."""
    similarity: float | None = None
    """For `similar`: the share (0–1) of the catalog entry's packages the image also holds."""
