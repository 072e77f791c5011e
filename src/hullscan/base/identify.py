"""Which layers belong to the base image, and which base it is: the one place that decides (DESIGN.md
"Base vs application layers"; docs/base-images.md "Identification").

Strongest evidence first, the result saying how it was decided (`BaseImage.method`):

1. `annotation` — the image's `org.opencontainers.image.base.name` / `.base.digest` (manifest annotation,
   else config label). When the catalog knows the digest, the named base's layers must be the image's
   bottom layers: then its layer count is exact; otherwise the annotation is a *mismatch* (a warning and
   `BaseImage.mismatch`), not trusted, and the next steps decide. An annotation the catalog cannot check
   gives way to a catalogued prefix (exact evidence beats an unverifiable claim), else keeps the history's
   provisional layer count, as before the catalog existed.
2. `catalog` — the longest catalogued base whose chain IDs are a prefix of the image's (exact; survives
   retagging and multi-stage builds: only the final stage's layers are in the image).
3. `similar` — no prefix: the catalogued base of the same OS release whose packages the image holds the
   most of, when at least `SIMILAR_THRESHOLD` of them (a rebuilt or squashed base). Reported with that
   share; it says nothing about layers, so `layer_count` stays None and no package is marked inherited.
4. `history` — the last metadata-only CMD/ENTRYPOINT followed by more layers; provisional.
5. `none`; `not_applicable` for a target without layers (`fs`, `dir:`, `sbom:`), decided by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hullscan.model.image import BaseImage, ImageConfig

if TYPE_CHECKING:
    from hullscan.model.inventory import OSInfo, Package
    from hullscan.state.catalog import Catalog, CatalogEntry

BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"

SIMILAR_THRESHOLD = 0.8
"""The share of a catalogued base's packages (ecosystem, name, version) an image must hold for the base to
be reported as `similar`: high enough that two bases of one release differing by a few packages are told
apart by their extra packages, low enough that a base rebuilt with a few security upgrades is still found."""

NOT_APPLICABLE = BaseImage(None, method="not_applicable", provisional=False)
"""The base of a target without layers."""


@dataclass
class Identified:
    """A decision and the warnings it gave (a lying annotation, an unreadable catalog)."""

    base: BaseImage
    warnings: list[str] = field(default_factory=list)


def identify_base(config: ImageConfig, annotations: dict[str, str], diff_ids: Sequence[str],
                  catalog: Catalog | None, os_info: OSInfo | None = None,
                  packages: Iterable[Package] = ()) -> Identified:
    """The base of an image with these layers (bottom first), config and manifest annotations, against
    `catalog` (None: no catalog could be read — only the annotation and history steps run). `os_info` and
    `packages` are the image's inventory, for the `similar` step."""
    from hullscan.state.catalog import chain_ids

    chains = chain_ids(diff_ids)
    warnings: list[str] = []
    name = annotations.get(BASE_NAME, "") or config.labels.get(BASE_NAME, "")
    digest = annotations.get(BASE_DIGEST, "") or config.labels.get(BASE_DIGEST, "")
    mismatch = ""
    if (name or digest) and catalog is not None and digest:
        entry = catalog.by_digest(digest)
        if entry is not None:
            if _is_prefix(entry, chains):
                return Identified(_from_entry(entry, "annotation", name=name or entry.reference, digest=digest))
            mismatch = (f"the base annotation names {name or digest}, whose {len(entry.diff_ids)} catalogued "
                        f"layer(s) are not this image's bottom layers")
            warnings.append(f"base image: {mismatch}; the annotation is not trusted")
    trusted_claim = (name or digest) and not mismatch
    if catalog is not None and chains:
        entry = catalog.longest_prefix(chains)
        if entry is not None:
            return Identified(_from_entry(entry, "catalog", mismatch=mismatch), warnings)
    count = _history_split(config)
    if trusted_claim:
        # The annotation names the base but not its layer count; the history gives the count.
        return Identified(BaseImage(count, name, digest, "annotation", provisional=True), warnings)
    if catalog is not None and os_info is not None:
        similar = _most_similar(catalog, os_info, packages)
        if similar is not None:
            entry, share = similar
            base = _from_entry(entry, "similar", mismatch=mismatch)
            return Identified(BaseImage(None, base.name, base.digest, "similar", True, base.created, base.catalog_id,
                                        mismatch, round(share, 4)), warnings)
    if count is None:
        return Identified(BaseImage(None, mismatch=mismatch), warnings)
    return Identified(BaseImage(count, method="history", provisional=True, mismatch=mismatch), warnings)


def _is_prefix(entry: CatalogEntry, chains: Sequence[str]) -> bool:
    n = len(entry.chain_ids)
    return 0 < n <= len(chains) and chains[n - 1] == entry.chain_ids[-1]


def _from_entry(entry: CatalogEntry, method: str, *, name: str = "", digest: str = "", mismatch: str = "") -> BaseImage:
    return BaseImage(len(entry.diff_ids), name or entry.reference, digest or entry.manifest_digest or entry.config_digest,
                     method, provisional=False, created=entry.created, catalog_id=entry.id, mismatch=mismatch)


def _most_similar(catalog: Catalog, os_info: OSInfo, packages: Iterable[Package]) -> tuple[CatalogEntry, float] | None:
    """The catalogued base of the image's OS release holding the largest share of its packages in the
    image (at least SIMILAR_THRESHOLD); of equal shares the larger base (a base plus a few packages is a
    better answer than the minimal base under it), then the first catalogued. One query ranks them all
    (`Catalog.similar`): the best ranked is the answer when it reaches the threshold, else none does."""
    if not os_info.family:
        return None
    # by release (`12`, `v3.19` → `3.19`), not point version: a newer tag of a base is often a point release on
    release = (os_info.release or os_info.version).removeprefix("v")
    # a base without packages is never ranked: it would be similar to everything of its release
    ranked = catalog.similar(os_info.family, release, {(p.ecosystem, p.name, p.version) for p in packages})
    if not ranked or ranked[0].share < SIMILAR_THRESHOLD:
        return None
    return ranked[0].entry, ranked[0].share


def _history_split(config: ImageConfig) -> int | None:
    """The base ends at the last metadata-only CMD/ENTRYPOINT entry followed by more layers."""
    layers_before = 0
    split: int | None = None
    for entry in config.history:
        if entry.empty_layer:
            text = entry.created_by.upper()
            if ("CMD" in text or "ENTRYPOINT" in text) and layers_before > 0:
                split = layers_before
        else:
            layers_before += 1
    if split is not None and split < layers_before:
        return split
    return None


def inherited(layer_index: int | None, base: BaseImage) -> bool | None:
    """DESIGN's `inherited` of something a layer added: whether that layer is one of the base's; None when
    the base's layers are unknown (or the thing has no layer)."""
    if layer_index is None or base.layer_count is None:
        return None
    return layer_index < base.layer_count
