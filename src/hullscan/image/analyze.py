"""Image → per-layer facts for the chosen analyzers, through the per-layer cache.

For each layer: analyzers whose facts are cached under (diff_id, name, version) are not run again;
the others run in one streaming pass. A local blob is re-hashed (size and digest) before cached
facts are trusted; a registry blob is never fetched when everything it would give is cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from hullscan.cache import LayerCache
from hullscan.errors import InputError
from hullscan.image.blobs import hash_blob, layer_label
from hullscan.image.model import Image, Layer
from hullscan.image.walker import walk_rootfs, walk_tar_layer
from hullscan.inventory.analyzer import Analyzer
from hullscan.inventory.applier import LayerFacts
from hullscan.inventory.model import LayerRef, Warning_

Progress = Callable[[str], None]


def collect_facts(
    image: Image,
    analyzers: Sequence[Analyzer],
    cache: LayerCache | None,
    progress: Progress | None = None,
) -> tuple[list[LayerFacts], dict[str, int]]:
    """Facts of every layer (bottom first) and counters {walked, cached}."""
    stats = {"walked": 0, "cached": 0}
    if image.rootfs_path:
        if progress:
            progress(f"walking {image.rootfs_path}")
        lf, walk_warnings = walk_rootfs(image.rootfs_path, analyzers)
        lf.warnings.extend(Warning_(message=m, path=p, layer=0) for p, m in walk_warnings)
        stats["walked"] = 1
        return [lf], stats
    out = []
    total = len(image.layers)
    for layer in image.layers:
        lf, walked = _layer_facts(layer, analyzers, cache)
        stats["walked" if walked else "cached"] += 1
        if progress:
            progress(f"layer {layer.index + 1}/{total} {'analyzed' if walked else 'from cache'}")
        out.append(lf)
    return out, stats


def _layer_facts(layer: Layer, analyzers: Sequence[Analyzer], cache: LayerCache | None) -> tuple[LayerFacts, bool]:
    # Scans running in threads (`hullscan registry scan --parallel`) that meet the same layer take
    # turns: the second finds the first one's facts in the cache instead of fetching the blob again.
    with _diff_id_lock(layer.diff_id):
        return _layer_facts_locked(layer, analyzers, cache)


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _diff_id_lock(diff_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(diff_id or "-", threading.Lock())


def _layer_facts_locked(layer: Layer, analyzers: Sequence[Analyzer], cache: LayerCache | None) -> tuple[LayerFacts, bool]:
    ref = LayerRef(index=layer.index, diff_id=layer.diff_id, created_by=layer.created_by)
    cached: dict[str, dict] = {}
    meta = None
    if cache is not None and layer.diff_id:
        meta = cache.layer(layer.diff_id)
        for an in analyzers:
            entry = cache.facts(layer.diff_id, an.name, an.version)
            if entry is not None:
                cached[an.name] = entry
        if meta is None or (cached and not _trust(layer, cache)):
            cached = {}
        elif len(cached) == len(analyzers):
            return _from_cache(ref, meta, cached), False
    missing = [an for an in analyzers if an.name not in cached]
    seen: dict[str, object] = {}
    lf, runs, walk_warnings = walk_tar_layer(layer, missing, seen)
    meta = {
        "written": sorted(lf.written),
        "deleted": lf.deleted,
        "opaque": lf.opaque,
        "warnings": walk_warnings,
        "blob_digest": seen.get("blob_digest", layer.digest),
        "blob_size": seen.get("size", layer.size),
    }
    fresh = {an.name: {"facts": runs[an.name].facts, "warnings": runs[an.name].warnings} for an in missing}
    if cache is not None and layer.diff_id:
        try:
            cache.store_layer(
                layer.diff_id,
                str(meta["blob_digest"]),
                meta,
                {(an.name, an.version): fresh[an.name] for an in missing},
            )
        except Exception:  # a cache that cannot be written only costs time next scan
            pass
    return _from_cache(ref, meta, {**cached, **fresh}), True


def _trust(layer: Layer, cache: LayerCache) -> bool:
    """A local blob must still be the blob the cache saw: same size and digest."""
    if not layer.local:
        return True
    digest, size = hash_blob(layer)
    if layer.size >= 0 and size != layer.size:
        raise InputError(f"{layer_label(layer)}: blob is {size} bytes, manifest says {layer.size}")
    if layer.digest and digest != layer.digest:
        raise InputError(f"{layer_label(layer)}: blob digest mismatch (content is {digest[:19]}…)")
    return cache.is_verified(digest, layer.diff_id)


def _from_cache(ref: LayerRef, meta: dict, per_analyzer: dict[str, dict]) -> LayerFacts:
    lf = LayerFacts(
        ref=ref,
        written=set(meta.get("written", ())),
        deleted=list(meta.get("deleted", ())),
        opaque=list(meta.get("opaque", ())),
    )
    lf.warnings.extend(Warning_(message=m, path=p, layer=ref.index) for p, m in meta.get("warnings", ()))
    for name, entry in per_analyzer.items():
        lf.facts[name] = entry.get("facts", {})
        lf.warnings.extend(Warning_(message=m, path=p, layer=ref.index) for p, m in entry.get("warnings", ()))
    return lf
