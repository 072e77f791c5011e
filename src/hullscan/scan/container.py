"""`hullscan container` and `hullscan containers`: running containers scanned as their image plus their
runtime changes (docs/engines.md "Running containers", "A host's containers").

One container: its image is scanned as `docker:<image ID>` is (the result cache answers when the image
was scanned before), then the image's layers' facts come from the layer cache by diff_id — no byte of
the image is read again — and the runtime layer (image/container.py) is walked on top of them by the
same analyzers. The container's report is the image's with the inventory, matching and file secrets of
the whole; everything the runtime layer brought carries `origin: runtime`, the rest `origin: image`.
Drift is the package part of `delta.compare(image report, container report)`: packages installed,
upgraded, downgraded or removed since the container started.

Many containers (`containers`): each distinct image is scanned once, by its first container, and its
report shared by the others.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hullscan.delta.compare import compare
from hullscan.errors import InputError
from hullscan.image.container import (
    ContainerInspect,
    RuntimeLayer,
    RuntimeStats,
    inspect_running,
    parse_changes,
    parse_container,
    still_running,
)
from hullscan.image.engine import EngineClient, connect
from hullscan.image.engine_source import engine_image
from hullscan.image.model import Layer
from hullscan.model.container import ContainerInfo
from hullscan.model.inventory import ScanWarning
from hullscan.record import replace
from hullscan.walk.index import PathIndex
from hullscan.walk.layers import _plan
from hullscan.walk.walker import MAX_FILE_READ, walk_tar_layer

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from hullscan.cache.store import LayerCache
    from hullscan.delta.model import PackageDelta
    from hullscan.image.model import Image
    from hullscan.image.target import SourceOptions
    from hullscan.model.inventory import Package
    from hullscan.model.report import Report
    from hullscan.scan.service import ScanService
    from hullscan.walk.analyzer import Analyzer, LayerFacts

IMAGE, RUNTIME = "image", "runtime"


@dataclass(frozen=True)
class ContainerScan:
    """One container scanned: its report (with `container` and `origin`) and its image's."""

    report: Report
    image_report: Report
    drift: PackageDelta
    runtime: RuntimeStats


def scan_container(service: ScanService, kind: str, name: str, host: str = "") -> ContainerScan:
    """The running container NAME (name or ID) of the engine: EngineDown (exit 3) when no engine
    answers, InputError (exit 2) when it holds no such running container or the container stops."""
    with connect(kind, host) as client:
        return scan_inspected(service, client, kind, inspect_running(client, name), {})


def running_containers(client: EngineClient) -> list[ContainerInspect]:
    """Every running container of the engine, by name (each inspected: the list's own fields differ
    between Docker and Podman); one that stopped since the list is left out."""
    out = []
    for entry in client.containers():
        cid = entry.get("Id")
        doc = client.inspect_container(cid) if isinstance(cid, str) and cid else None
        found = parse_container(doc, client.label) if doc is not None else None
        if found is not None and found.running:
            out.append(found)
    return sorted(out, key=lambda c: (c.name, c.id))


def scan_inspected(service: ScanService, client: EngineClient, kind: str, found: ContainerInspect,
                   images: dict[str, Report], analyzers: Sequence[Analyzer] | None = None) -> ContainerScan:
    """One inspected container; `images` holds the image reports already made (by image ID), and gets
    this one's: an image shared by several containers is scanned once. `analyzers`: the service's,
    when the caller built them already (`containers`: once for every container)."""
    target = f"{kind}:{found.image_id}"
    # the image is opened through this scan's engine client: one client (and connection) for everything
    service = replace(service, open_image=_opener(client, kind))
    under = images.get(found.image_id)
    if under is None:
        under = service.scan(target)
        images[found.image_id] = under
    started = time.perf_counter()  # the report's seconds are the container's own part (its image's are its image's)
    label = f"container {found.name or found.id[:12]}"
    with ThreadPoolExecutor(1) as pool:
        # the engine computes the changes list (a walk of the container's filesystem on some storage
        # drivers: a good part of the container's time) while the image's facts are gathered here
        listed = pool.submit(client.container_changes, found.id)
        analyzers = list(service.analyzers()) if analyzers is None else list(analyzers)
        image = service.open_image(target, service.options.source)
        try:
            cache, cache_warnings = service.layer_cache() if service.layer_cache is not None else (None, [])
            try:
                facts, read = _image_facts(image, analyzers, cache)
            finally:
                if cache is not None:
                    cache.close()
            changes, warnings = parse_changes(listed.result(), f"{client.label}: {label}")
        except BaseException:
            image.close()
            raise
    try:
        runtime = RuntimeLayer(client, found, changes, _wants(analyzers))
        top = Layer(index=len(image.layers), digest="", size=-1, media_type="", diff_id="", opener=runtime.open,
                    local=False, created_by=f"runtime changes of {label}")
        lf, _runs, walk_warnings = walk_tar_layer(top, analyzers)
        still_running(client, found)
    finally:
        image.close()
    lf.warnings.extend(ScanWarning(message=m, path=p, layer=top.index) for p, m in walk_warnings)
    lf.warnings.extend(ScanWarning(message=m) for m in [*cache_warnings, *warnings])
    if runtime.stats.vanished:
        lf.warnings.append(ScanWarning(message=f"{label}: {len(runtime.stats.vanished)} changed paths were gone "
                                               f"when read (first: {runtime.stats.vanished[0]})"))
    report = service.scan_over(under, image, [*facts, lf], analyzers, 1 + (len(facts) if read else 0), started)
    drift = compare(under, report).packages
    info = ContainerInfo(
        id=found.id, name=found.name, image=found.image, image_id=found.image_id, engine=kind,
        started_at=found.started_at, created=found.created, labels=found.labels, changes=len(changes),
        drift=bool(drift.added or drift.removed or drift.upgraded),
        added=tuple(_named(p) for p in drift.added), removed=tuple(_named(p) for p in drift.removed),
        changed=tuple(f"{_named(u.old)} -> {u.new.version}" for u in drift.upgraded))
    return ContainerScan(with_origin(replace(report, container=info), top.index), under, drift, runtime.stats)


def _opener(client: EngineClient, kind: str) -> Callable[[str, SourceOptions], Image]:
    """`ScanService.open_image` for `KIND:<image ID>` over `client`, which the image leaves open."""
    def open_image(target: str, options: SourceOptions) -> Image:
        name = target.split(":", 1)[1]
        found = client.inspect_image(name)
        if found is None:
            raise InputError(f"{name}: the image of the container is no longer in the {client.label}")
        image = engine_image(client, found, kind=kind, name=name, input_ref=target, platform=options.platform)
        image.closers.remove(client.close)  # the container scan's client: it closes it
        return image

    return open_image


def _image_facts(image: Image, analyzers: list[Analyzer], cache: LayerCache | None) -> tuple[list[LayerFacts], bool]:
    """The image's layers' facts: from the layer cache by diff_id (the image scan just filled it), else
    (no usable cache) from the engine's save stream once more. Returns the facts and whether they were read."""
    plans = [_plan(layer, analyzers, cache) for layer in image.layers]
    if all(p.done is not None for p in plans):
        return [p.done for p in plans if p.done is not None], False
    from hullscan.walk.streamed import collect_streamed

    facts, _counts = collect_streamed(image, analyzers, cache)  # type: ignore[arg-type]  # an EngineImage
    return facts, True


def _wants(analyzers: list[Analyzer]) -> Any:
    """Whether some analyzer reads a runtime file (what the walker will ask, image/container.py)."""
    index = PathIndex(analyzers)

    def wants(path: str, size: int, mode: int) -> bool:
        return any(size <= min(an.max_size, MAX_FILE_READ) for an, _rule in index.match(path, size, mode))

    return wants


def _named(p: Package) -> str:
    return f"{p.type}:{p.name} {p.version}"


def with_origin(report: Report, top: int) -> Report:
    """Every package, finding and secret marked `origin`: `runtime` when the layer at index `top` (the
    runtime layer) brought it, else `image`."""
    def origin(layer: Any) -> str:
        return RUNTIME if layer is not None and layer.index >= top else IMAGE

    return replace(
        report,
        packages=[replace(p, origin=origin(p.layer)) for p in report.packages],
        vulnerabilities=tuple(replace(f, origin=origin(f.package.layer), package=replace(f.package, origin=origin(f.package.layer)))
                              for f in report.vulnerabilities),
        secrets=tuple(replace(s, origin=origin(s.layer)) for s in report.secrets),
        misconfigurations=tuple(replace(m, origin=origin(m.layer)) for m in report.misconfigurations),
    )
