"""The scan pipeline, left to right: target → Image → per-layer facts → Inventory → findings → report.

`cli.py` only parses options into `ScanOptions` and prints what this returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hullscan.cache import open_cache
from hullscan.image.analyze import collect_facts
from hullscan.image.base import BaseImage, identify_base
from hullscan.image.model import Image
from hullscan.image.target import SourceOptions, open_image
from hullscan.inventory.applier import apply_layers
from hullscan.inventory.model import Inventory, LayerRef, Warning_
from hullscan.inventory.registry import analyzers_for
from hullscan.match.matcher import MatchOptions

SCANNERS = ("vuln", "secret", "config", "license")
DEFAULT_SCANNERS = frozenset({"vuln", "secret"})


@dataclass
class ScanOptions:
    scanners: frozenset[str] = DEFAULT_SCANNERS
    source: SourceOptions = field(default_factory=SourceOptions)
    cache_dir: Path | None = None
    use_cache: bool = True
    db: str | None = None
    """Vulnerability DB location (path or URL); None = HULLSCAN_DB_URL or the default file."""
    match: MatchOptions = field(default_factory=MatchOptions)
    progress: Callable[[str], None] | None = None


@dataclass
class ScanResult:
    """Everything a report shows: plain data, no open files."""

    image: Image
    inventory: Inventory
    layers: list[LayerRef]
    base: BaseImage
    scanners: frozenset[str]
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[dict[str, Any]] = field(default_factory=list)
    misconfigurations: list[dict[str, Any]] = field(default_factory=list)
    db_info: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


def scan_target(target: str, options: ScanOptions) -> ScanResult:
    started = time.perf_counter()
    warnings: list[Warning_] = []
    db = _open_db(options) if "vuln" in options.scanners else None  # a missing DB fails before any work
    image = open_image(target, options.source)
    try:
        analyzers = analyzers_for(set(options.scanners))
        cache = open_cache(options.cache_dir, lambda m: warnings.append(Warning_(m))) if options.use_cache and not image.rootfs_path else None
        try:
            facts, stats = collect_facts(image, analyzers, cache, options.progress)
        finally:
            if cache is not None:
                cache.close()
    finally:
        image.close()
    base = identify_base(image.config, image.manifest_annotations, len(image.layers))
    layers = [_with_base(lf.ref, base) for lf in facts]
    for lf, ref in zip(facts, layers, strict=True):
        lf.ref = ref
    inventory = apply_layers(analyzers, facts)
    inventory.warnings[:0] = warnings
    result = ScanResult(image=image, inventory=inventory, layers=layers, base=base, scanners=options.scanners)
    if db is not None:
        try:
            match_into(result, db, options)
        finally:
            db.close()
    result.stats = {**stats, "seconds": round(time.perf_counter() - started, 3)}
    return result


def _open_db(options: ScanOptions):
    from hullscan.vulndb.store import VulnDB

    return VulnDB.open(options.db)


def match_into(result: ScanResult, db, options: ScanOptions) -> None:
    """The vuln scanner: findings for the inventory, and what the DB is (for reports and gates)."""
    from hullscan.match.matcher import match_inventory

    matched = match_inventory(result.inventory, db, options.match)
    result.vulnerabilities = matched.findings
    result.inventory.warnings.extend(Warning_(message=m) for m in matched.warnings)
    built = db.built_at
    result.db_info = {
        "location": getattr(db, "display", ""),
        "built_at": built.strftime("%Y-%m-%dT%H:%M:%SZ") if built else None,
        "age_days": round(db.age.total_seconds() / 86400, 2) if db.age is not None else None,
        "feeds": [
            {"feed": f.feed, "imported_at": f.imported_at, "fetched_at": f.fetched_at, "advisories": f.advisories}
            for f in db.feeds()
        ],
    }


def _with_base(ref: LayerRef, base: BaseImage) -> LayerRef:
    if base.layer_count is None:
        return ref
    from dataclasses import replace

    return replace(ref, base=ref.index < base.layer_count)
