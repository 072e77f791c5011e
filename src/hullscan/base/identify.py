"""Which layers belong to the base image. One function decides it, so that a catalog-based
identification can replace the heuristic later (DESIGN.md "Base vs application layers")."""

from __future__ import annotations

from hullscan.model.image import BaseImage, ImageConfig

BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"


def identify_base(config: ImageConfig, annotations: dict[str, str], layer_count: int) -> BaseImage:
    name = annotations.get(BASE_NAME, "") or config.labels.get(BASE_NAME, "")
    digest = annotations.get(BASE_DIGEST, "") or config.labels.get(BASE_DIGEST, "")
    count = _history_split(config)
    if name or digest:
        # The annotation names the base but not its layer count; the history gives the count.
        return BaseImage(count, name, digest, "annotation", provisional=count is None)
    if count is None:
        return BaseImage(None)
    return BaseImage(count, method="history", provisional=True)


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
