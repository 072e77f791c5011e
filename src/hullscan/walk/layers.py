"""Image → per-layer facts for the chosen analyzers, through the per-layer cache.

For each layer: analyzers whose facts are cached under (diff_id, name, version) are not run again;
the others run in one streaming pass. A local blob is re-hashed (size and digest) before cached
facts are trusted, unless the cache saw it verified in a file that has not changed since
(image/identity.py); a registry blob is never fetched when everything it would give is cached.

Layers are independent until the applier merges them, so on a machine with several cores they are
checked and walked at once: hashing in threads (hashlib releases the GIL), walking in forked worker
processes (tar parsing and analyzers are Python code, which threads would serialize). Results are
written to the cache by this process only.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hullscan.cache.blobs import FileIdentity, file_identity
from hullscan.cache.store import WARNING_PREFIX, Damaged, LayerCache
from hullscan.errors import InputError
from hullscan.image.blobs import hash_blob, layer_label
from hullscan.image.model import Image, Layer
from hullscan.model.inventory import LayerRef, ScanWarning
from hullscan.walk import walker
from hullscan.walk.analyzer import Analyzer, LayerFacts
from hullscan.walk.walker import AnalyzerRun, walk_rootfs, walk_tar_layer

Progress = Callable[[str], None]
_Walked = tuple[LayerFacts, dict[str, AnalyzerRun], list[tuple[str, str]], dict[str, object]]
"""What walking one layer gives: its facts, the analyzers' runs, walker warnings, the blob as read."""
PARALLEL_ENV = "HULLSCAN_PARALLEL"
"""Worker count for walking layers (default: the CPU count, at most 4; 1 turns parallelism off)."""


@dataclass
class _Plan:
    """What one layer needs: facts already cached (trusted), and the analyzers still to run."""

    layer: Layer
    cached: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] | None = None
    missing: list[Analyzer] = field(default_factory=list)
    done: LayerFacts | None = None
    identity: FileIdentity | None = None
    """The blob file's identity before it was read (remembered once the read verified it)."""
    damaged: list[str] = field(default_factory=list)
    """Cache entries of this layer that could not be used (analyzed again, overwritten, warned about)."""


def collect_facts(
    image: Image,
    analyzers: Sequence[Analyzer],
    cache: LayerCache | None,
    progress: Progress | None = None,
    while_walking: Callable[[], None] | None = None,
) -> tuple[list[LayerFacts], dict[str, int]]:
    """Facts of every layer (bottom first) and counters {walked, cached}.

    `while_walking` runs in this process while worker processes walk layers (the caller's own slow
    start-up, such as opening the vulnerability DB); it runs before returning in every case."""
    stats = {"walked": 0, "cached": 0}
    if image.rootfs_path:
        if progress:
            progress(f"walking {image.rootfs_path}")
        lf, walk_warnings = walk_rootfs(image.rootfs_path, analyzers)
        lf.warnings.extend(ScanWarning(message=m, path=p, layer=0) for p, m in walk_warnings)
        stats["walked"] = 1
        return [lf], stats
    workers = _workers(image)
    if workers <= 1:
        if while_walking is not None:
            while_walking()
        out = []
        for layer in image.layers:
            lf, walked = _layer_facts(layer, analyzers, cache)
            stats["walked" if walked else "cached"] += 1
            if progress:
                progress(f"layer {layer.index + 1}/{len(image.layers)} {'analyzed' if walked else 'from cache'}")
            out.append(lf)
        return out, stats
    # 1. what the cache holds, each local blob re-hashed before it is trusted (threads)
    with ThreadPoolExecutor(workers) as pool:
        plans = list(pool.map(lambda layer: _plan(layer, analyzers, cache), image.layers))
    # 2. walk what is missing (forked processes), store in the cache here
    todo = [p for p in plans if p.done is None]
    if not todo and while_walking is not None:
        while_walking()
    if todo:
        for plan, result in zip(todo, _walk_many(todo, workers, while_walking), strict=True):
            plan.done = _finish(plan, *result, cache)
            if progress:
                progress(f"layer {plan.layer.index + 1}/{len(image.layers)} analyzed")
    stats["walked"], stats["cached"] = len(todo), len(plans) - len(todo)
    return [p.done for p in plans], stats  # type: ignore[misc]  # every plan is done by now: cached or walked


def _workers(image: Image) -> int:
    """Parallel only for several local layers, in a process without other threads (forking a
    threaded process can deadlock the child; `registry scan --parallel` runs scans in threads)."""
    try:
        wanted = int(os.environ.get(PARALLEL_ENV, "0")) or min(os.cpu_count() or 1, 4)
    except ValueError:
        wanted = 1
    if len(image.layers) < 2 or not all(layer.local for layer in image.layers):
        return 1
    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(wanted, len(image.layers)))


def _plan(layer: Layer, analyzers: Sequence[Analyzer], cache: LayerCache | None) -> _Plan:
    plan = _Plan(layer, identity=file_identity(layer))
    if cache is not None and layer.diff_id:
        try:
            plan.meta = cache.layer(layer.diff_id)
        except Damaged as err:  # a miss: the walk below rewrites it
            plan.damaged.append(f"walk metadata ({err})")
        for an in analyzers:
            try:
                entry = cache.facts(layer.diff_id, an.name, an.version)
            except Damaged as err:
                plan.damaged.append(f"{an.name} facts ({err})")
                continue
            if entry is not None:
                plan.cached[an.name] = entry
        if plan.meta is None or (plan.cached and not _trust(layer, cache, plan.identity)):
            plan.cached = {}
        elif len(plan.cached) == len(analyzers):
            plan.done = _from_cache(_ref(layer), plan.meta, plan.cached)
    plan.missing = [an for an in analyzers if an.name not in plan.cached]
    return plan


# -- walking in forked workers: the state is inherited at fork, only indexes and results cross --
_FORK_STATE: list[_Plan] = []


def _walk_index(i: int) -> _Walked:
    plan = _FORK_STATE[i]
    seen: dict[str, object] = {}
    lf, runs, warnings = walk_tar_layer(plan.layer, plan.missing, seen)
    return lf, runs, warnings, seen


def _walk_many(todo: list[_Plan], workers: int, while_walking: Callable[[], None] | None = None) -> list[_Walked]:
    if len(todo) == 1:
        if while_walking is not None:
            while_walking()
        return [_walk_one(todo[0])]
    global _FORK_STATE
    _FORK_STATE = todo
    for an in {id(a): a for plan in todo for a in plan.missing}.values():
        prepare = getattr(an, "prepare", None)  # optional hook: build once here, inherited by the workers
        if prepare is not None:
            prepare()
    # biggest layers first, so the longest walk starts at once
    order = sorted(range(len(todo)), key=lambda i: -max(todo[i].layer.size, 0))
    ctx = multiprocessing.get_context("fork")
    walker.BIG_READ_GUARD = ctx.Lock()  # inherited by the workers: one big file in memory at a time
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx) as pool:
            futures = {i: pool.submit(_walk_index, i) for i in order}
            if while_walking is not None:
                while_walking()  # the workers are forked by now: this process is free
            return [futures[i].result() for i in range(len(todo))]
    finally:
        _FORK_STATE = []
        walker.BIG_READ_GUARD = None


def _walk_one(plan: _Plan) -> _Walked:
    seen: dict[str, object] = {}
    lf, runs, warnings = walk_tar_layer(plan.layer, plan.missing, seen)
    return lf, runs, warnings, seen


def _layer_facts(layer: Layer, analyzers: Sequence[Analyzer], cache: LayerCache | None) -> tuple[LayerFacts, bool]:
    # Scans running in threads (`hullscan registry scan --parallel`) that meet the same layer take
    # turns: the second finds the first one's facts in the cache instead of fetching the blob again.
    with _diff_id_lock(layer.diff_id):
        plan = _plan(layer, analyzers, cache)
        if plan.done is not None:
            return plan.done, False
        return _finish(plan, *_walk_one(plan), cache), True


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _diff_id_lock(diff_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(diff_id or "-", threading.Lock())


def _finish(
    plan: _Plan,
    lf: LayerFacts,
    runs: dict[str, AnalyzerRun],
    walk_warnings: list[tuple[str, str]],
    seen: dict[str, object],
    cache: LayerCache | None,
) -> LayerFacts:
    """Store a walked layer's facts in the cache and merge them with what was cached."""
    layer = plan.layer
    meta = {
        "written": sorted(lf.written),
        "deleted": lf.deleted,
        "opaque": lf.opaque,
        "warnings": walk_warnings,
        "blob_digest": seen.get("blob_digest", layer.digest),
        "blob_size": seen.get("size", layer.size),
    }
    fresh = {an.name: {"facts": runs[an.name].facts, "warnings": runs[an.name].warnings} for an in plan.missing}
    unstored = ""
    if cache is not None and layer.diff_id:
        try:
            cache.store_layer(
                layer.diff_id,
                str(meta["blob_digest"]),
                meta,
                {(an.name, an.version): fresh[an.name] for an in plan.missing},
            )
            _remember(layer, plan.identity, str(meta["blob_digest"]), cache)
        except (sqlite3.Error, OSError) as err:  # a cache that cannot be written only costs time next scan
            unstored = f"{WARNING_PREFIX}: this layer's facts were not stored: {err}"
    facts = _from_cache(_ref(layer), meta, {**plan.cached, **fresh})
    if plan.damaged:
        facts.warnings.append(ScanWarning(
            message=f"{WARNING_PREFIX}: damaged entries ignored, the layer was analyzed again: {'; '.join(plan.damaged)}",
            layer=layer.index))
    if unstored:
        facts.warnings.append(ScanWarning(message=unstored, layer=layer.index))
    return facts


def _ref(layer: Layer) -> LayerRef:
    return LayerRef(index=layer.index, diff_id=layer.diff_id, created_by=layer.created_by)


def _trust(layer: Layer, cache: LayerCache, identity: FileIdentity | None) -> bool:
    """A local blob must still be the blob the cache saw: same size and digest — re-hashed, unless
    its file is unchanged since the cache saw it verified."""
    if not layer.local:
        return True
    if identity is not None and cache.verified_file(identity, layer.diff_id, layer.digest):
        return True
    digest, size = hash_blob(layer)
    if layer.size >= 0 and size != layer.size:
        raise InputError(f"{layer_label(layer)}: blob is {size} bytes, manifest says {layer.size}")
    if layer.digest and digest != layer.digest:
        raise InputError(f"{layer_label(layer)}: blob digest mismatch (content is {digest[:19]}…)")
    if not cache.is_verified(digest, layer.diff_id):
        return False
    _remember(layer, identity, digest, cache)
    return True


def verify_blobs(image: Image, cache: LayerCache) -> bool:
    """`_trust` for every layer, the local blobs hashed in threads: whether the cache saw each blob
    walked (and verified) before. A blob whose size or digest does not match raises InputError."""
    layers = [layer for layer in image.layers if layer.local]
    if not layers:
        return True
    with ThreadPoolExecutor(min(len(layers), _workers(image))) as pool:
        return all(pool.map(lambda layer: _trust(layer, cache, file_identity(layer)), layers))


def _remember(layer: Layer, before: FileIdentity | None, blob_digest: str, cache: LayerCache) -> None:
    """Remember a blob just verified, when its file did not change while it was read and is settled."""
    if before is not None and before.settled() and file_identity(layer) == before:
        cache.remember_file(before, blob_digest, layer.diff_id)


def _from_cache(ref: LayerRef, meta: dict[str, Any], per_analyzer: dict[str, dict[str, Any]]) -> LayerFacts:
    lf = LayerFacts(
        ref=ref,
        written=set(meta.get("written", ())),
        deleted=list(meta.get("deleted", ())),
        opaque=list(meta.get("opaque", ())),
    )
    lf.warnings.extend(ScanWarning(message=m, path=p, layer=ref.index) for p, m in meta.get("warnings", ()))
    for name, entry in per_analyzer.items():
        lf.facts[name] = entry.get("facts", {})
        lf.warnings.extend(ScanWarning(message=m, path=p, layer=ref.index) for p, m in entry.get("warnings", ()))
    return lf
