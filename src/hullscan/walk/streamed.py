"""An engine image's layers analyzed as its save stream passes (image/engine_save.py), through the same
per-layer cache by diff_id as archive layers (walk/layers.py).

The stream, not the image, decides the order, and the name of a layer member does not always say which
layer it is (dockerd 20.10 names it by a v1 ID). So for each member:
- its name gives its diff_id (Docker >= 25, Podman): analyzed by what the cache lacks for it, or only
  hashed when the cache holds it all;
- otherwise, when every layer still to come is in the cache, or the member's size is the size the cache
  recorded for one of them: only hashed (a guess checked by the hash: a member that turns out to be a
  layer the cache lacks is read again, alone, from a second stream);
- otherwise analyzed by every analyzer, and known by its hash afterwards.
Each member is read once, hashed on the way; at the end the stream is checked against its manifest and
config (a disagreement refuses the image), and the image gets its config, layer sizes and history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from hullscan.cache.store import LayerCache
from hullscan.errors import InputError
from hullscan.image.engine_save import SavedLayer
from hullscan.image.engine_source import EngineImage, SaveSource
from hullscan.image.manifest import layer_created_by
from hullscan.image.model import Layer
from hullscan.walk.analyzer import Analyzer, LayerFacts
from hullscan.walk.layers import Progress, _finish, _from_cache, _Plan, _plan, _ref, _Walked
from hullscan.walk.walker import walk_tar_layer


def collect_streamed(
    image: EngineImage,
    analyzers: Sequence[Analyzer],
    cache: LayerCache | None,
    progress: Progress | None = None,
    while_walking: Callable[[], None] | None = None,
) -> tuple[list[LayerFacts], dict[str, int]]:
    """`collect_facts` for an engine image: facts of every layer (bottom first) and {walked, cached}."""
    save = image.save
    if save is None:
        raise InputError(f"{image.input}: not an engine image")
    if while_walking is not None:
        while_walking()
    plans: dict[str, _Plan] = {}
    first: dict[str, int] = {}
    for layer in image.layers:
        if layer.diff_id not in plans:
            plans[layer.diff_id] = _plan(layer, analyzers, cache)
            first[layer.diff_id] = layer.index
    walked: dict[str, _Walked] = {}
    hashed: dict[str, str] = {}
    member_of: dict[str, str] = {}
    total = len(image.layers)
    with save.stream() as stream:
        for member in stream.layers():
            need = _needed(member, plans, member_of, analyzers)
            if need:
                layer = _member_layer(image.layers[first.get(member.claimed, 0)], member, save)
                result = _walk(layer, need, save.label, member.name)
                digest = str(result[3].get("blob_digest", ""))
            else:
                digest = member.hash()
            hashed[member.name] = digest
            if digest in plans and digest not in member_of:
                member_of[digest] = member.name
                if need:
                    plans[digest].missing = list(need)
                    walked[digest] = result
                if progress:
                    progress(f"layer {len(member_of)}/{len(plans)} {'analyzed' if need else 'checked'} ({member.name})")
        saved = stream.finish(hashed)
    image.config = saved.config
    created = layer_created_by(saved.config)
    for layer, (_name, size) in zip(image.layers, saved.layers, strict=True):
        layer.size = size
        layer.created_by = created[layer.index] if layer.index < len(created) else ""
    for diff_id, plan in plans.items():  # hashed on a guess that proved wrong: read that member again, alone
        if diff_id not in walked and plan.done is None:
            name = member_of[diff_id]
            again = Layer(index=first[diff_id], digest="", size=-1, media_type=image.layers[first[diff_id]].media_type,
                          diff_id=diff_id, opener=partial(save.open_member, name), local=False)
            walked[diff_id] = _walk(again, plan.missing, save.label, name)
    out: list[LayerFacts] = []
    stats = {"walked": 0, "cached": 0}
    stored: set[str] = set()
    for layer in image.layers:
        plan = plans[layer.diff_id]
        plan.layer = layer  # with its size and history line now
        if layer.diff_id in walked:
            out.append(_finish(plan, *walked[layer.diff_id], cache if layer.diff_id not in stored else None))
            stored.add(layer.diff_id)
            stats["walked"] += 1
        else:
            out.append(_from_cache(_ref(layer), plan.meta or {}, plan.cached))
            stats["cached"] += 1
    if progress:
        progress(f"{total} layers: {stats['walked']} analyzed, {stats['cached']} from cache")
    return out, stats


def _needed(member: SavedLayer, plans: dict[str, _Plan], member_of: dict[str, str], analyzers: Sequence[Analyzer]) -> list[Analyzer]:
    """The analyzers to run over this member as it passes (module docstring); [] to only hash it."""
    if member.claimed:
        plan = plans.get(member.claimed)
        return plan.missing if plan is not None else []
    to_come = [plan for diff_id, plan in plans.items() if diff_id not in member_of]
    if all(plan.done is not None for plan in to_come):
        return []
    if any(plan.done is not None and plan.meta is not None and plan.meta.get("blob_size") == member.size for plan in to_come):
        return []
    return list(analyzers)


def _member_layer(like: Layer, member: SavedLayer, save: SaveSource) -> Layer:
    """A Layer reading the passing member: the live stream first, a fresh stream if the walker reads it
    again (a hard link's target)."""

    def opener() -> Any:
        return save.open_member(member.name) if member.used else member.open()

    return Layer(index=like.index, digest="", size=member.size, media_type=like.media_type, diff_id=member.claimed,
                 opener=opener, local=False)


def _walk(layer: Layer, analyzers: Sequence[Analyzer], label: str, member: str) -> _Walked:
    seen: dict[str, object] = {}
    try:
        lf, runs, warnings = walk_tar_layer(layer, analyzers, seen)
    except InputError as err:  # the walker names the layer by its index: say which member it was
        raise (err if str(err).startswith(label) else InputError(f"{label}: {member}: {err}")) from None
    return lf, runs, warnings, seen
