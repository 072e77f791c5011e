"""The scan pipeline, left to right: target → Image → per-layer facts → Inventory → findings → report.

`cli.py` only parses options into `ScanOptions` and prints what this returns.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from hullscan.image.target import SourceOptions, open_image
from hullscan.match.options import MatchOptions
from hullscan.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:  # the pipeline's modules load when a scan needs them: a warm scan needs none of them
    from typing import Any, NoReturn

    from hullscan.image.model import Image
    from hullscan.model.image import BaseImage
    from hullscan.model.inventory import Inventory, LayerRef
    from hullscan.vulndb.reader import DBReader
    from hullscan.vulndb.store import VulnDB

SCANNERS = ("vuln", "secret", "config", "license")
DEFAULT_SCANNERS = frozenset({"vuln", "secret"})


@record
class ScanOptions:
    scanners: frozenset[str] = DEFAULT_SCANNERS
    source: SourceOptions = field(default_factory=SourceOptions)
    cache_dir: str | os.PathLike[str] | None = None
    use_cache: bool = True
    db: str | None = None
    """Vulnerability DB location (path or URL); None = HULLSCAN_DB_URL or the default file."""
    match: MatchOptions = field(default_factory=MatchOptions)
    secret_config: str | None = None
    """`--secret-config FILE` (ours or Trivy's format): extra rules, allow rules, disabled rules."""
    progress: Callable[[str], None] | None = None


@record
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
    """Scan a target and return everything found (no result cache: `scan_report` uses it)."""
    if target.startswith("sbom:"):
        return scan_sbom(target[len("sbom:"):], options)
    _precheck(options)
    image = open_image(target, options.source)
    try:
        cache, warnings = _open_layer_cache(image, options)
        try:
            return _scan_image(image, options, cache, warnings)
        finally:
            if cache is not None:
                cache.close()
    finally:
        image.close()


def scan_report(target: str, options: ScanOptions, *, packages_json: bool = False) -> dict[str, Any]:
    """Scan a target and return its JSON report (before policy and display filters).

    A local image whose every blob is verified, scanned again with the same options, code and DB,
    takes its findings from the result cache (scan_cache.py): no layer is applied, no DB opened.
    `packages_json`: the caller only renders the report as JSON and never reads its packages, so a
    cached result may give them as already rendered JSON (json_report.PackagesJSON)."""
    from hullscan.report.json_report import build_report, refresh_report

    if target.startswith("sbom:"):
        return build_report(scan_sbom(target[len("sbom:"):], options))
    started = time.perf_counter()
    _precheck(options)
    image = open_image(target, options.source)
    try:
        cache, warnings = _open_layer_cache(image, options)
        if cache is None:
            return build_report(_scan_image(image, options, cache, warnings, started))
        try:
            from hullscan.scan.result_cache import pack_result, result_key, unpack_result

            found = result_key(image, options)
            stored = cache.result(found[0]) if found is not None else None
            cached = unpack_result(stored, packages_json) if stored is not None else None
            if cached is not None and _blobs_verified(image, cache):
                stats = {"walked": 0, "cached": len(image.layers), "result_cached": True,
                         "seconds": round(time.perf_counter() - started, 3)}
                return refresh_report(cached, image, stats)
            report = build_report(_scan_image(image, options, cache, warnings, started))
            if found is not None and found[1]:
                try:
                    cache.store_result(found[0], pack_result(report))
                except Exception:  # a cache that cannot be written only costs time next scan
                    pass
            return report
        finally:
            cache.close()
    finally:
        image.close()


def _blobs_verified(image: Image, cache: Any) -> bool:
    """Every local blob is the one the cache saw: by its unchanged file, else hashed again (a rewritten
    or touched file); False when some blob was never walked. A mismatching blob raises InputError."""
    from hullscan.cache.blobs import verified_by_identity

    if verified_by_identity(image, cache):
        return True
    from hullscan.walk.layers import verify_blobs  # the walker's modules: only when hashing is due

    return verify_blobs(image, cache)


def _precheck(options: ScanOptions) -> None:
    if "vuln" in options.scanners:
        from hullscan.vulndb.location import precheck

        precheck(options.db)  # a missing DB fails before any work, without the heavy imports


def _open_layer_cache(image: Image, options: ScanOptions) -> tuple[Any, list[str]]:
    """The per-layer cache (None when unused or unusable) and the warning saying why it is unusable."""
    from hullscan.cache.store import open_cache

    warnings: list[str] = []
    if not options.use_cache or image.rootfs_path:
        return None, warnings
    return open_cache(options.cache_dir, warnings.append), warnings


def _scan_image(
    image: Image, options: ScanOptions, cache: Any, warnings: list[str], started: float | None = None
) -> ScanResult:
    """The pipeline on an opened image: facts of every layer (through the layer cache), inventory,
    findings, secrets."""
    from hullscan.base.identify import identify_base
    from hullscan.inventory.applier import apply_layers
    from hullscan.inventory.registry import analyzers_for
    from hullscan.model.inventory import ScanWarning
    from hullscan.walk.layers import collect_facts

    started = started if started is not None else time.perf_counter()
    opened: dict[str, Any] = {}

    def open_db() -> None:  # opening and checking the DB overlaps the layer walks
        if "vuln" in options.scanners and "db" not in opened:
            opened["db"] = _open_db(options)

    analyzers = analyzers_for(set(options.scanners))
    ruleset = None
    if options.secret_config:
        from hullscan.secrets.analyzer import SecretAnalyzer

        custom = SecretAnalyzer.with_config(options.secret_config)
        analyzers = [custom if an.name == custom.name else an for an in analyzers]
        ruleset = custom.ruleset
    facts, stats = collect_facts(image, analyzers, cache, options.progress, while_walking=open_db)
    base = identify_base(image.config, image.manifest_annotations, len(image.layers))
    layers = [_with_base(lf.ref, base) for lf in facts]
    for lf, ref in zip(facts, layers, strict=True):
        lf.ref = ref
    inventory = apply_layers(analyzers, facts)
    inventory.warnings[:0] = [ScanWarning(m) for m in warnings]
    result = ScanResult(image=image, inventory=inventory, layers=layers, base=base, scanners=options.scanners)
    open_db()  # when no layer walk gave it the chance
    if "db" in opened:
        match_into(result, opened["db"], options)
    _secrets_into(result, image, options, ruleset)
    result.stats = {**stats, "seconds": round(time.perf_counter() - started, 3)}
    return result


def _layer_dict(layers: list[LayerRef], index: Any) -> dict[str, Any] | None:
    """A layer index as the report's layer reference (secrets carry bare indexes)."""
    if not isinstance(index, int) or not 0 <= index < len(layers):
        return None
    from hullscan.report.json_report import layer_ref_dict

    return layer_ref_dict(layers[index])


def _secrets_into(result: ScanResult, image: Image, options: ScanOptions, ruleset: Any) -> None:
    """Secret findings of files (every layer, deleted files too) and of the image config; config findings."""
    file_findings = result.inventory.facts.pop("secret", None) or []
    if not ({"secret", "config"} & set(options.scanners)):
        return
    from hullscan.secrets.config_scan import scan_image_config

    config_findings = scan_image_config(image.config.raw, ruleset) if image.config.raw else []
    for f in [*file_findings, *config_findings]:
        f = dict(f)
        f["layer"] = _layer_dict(result.layers, f.get("layer"))
        f["removed_in"] = _layer_dict(result.layers, f.get("removed_in"))
        if f.get("class") == "config":
            if "config" in options.scanners:
                result.misconfigurations.append(f)
        elif "secret" in options.scanners:
            result.secrets.append(f)


def _open_db(options: ScanOptions) -> DBReader | VulnDB:
    from hullscan.vulndb.reader import open_reader  # SQLite through sqlite3: no SQLAlchemy import

    return open_reader(options.db)


def match_into(result: ScanResult, db: DBReader | VulnDB, options: ScanOptions) -> None:
    """The vuln scanner: findings for the inventory, and what the DB is (for reports and gates).
    Closes the DB."""
    try:
        _match(result, db, options)
    finally:
        db.close()


def _match(result: ScanResult, db: DBReader | VulnDB, options: ScanOptions) -> None:
    from hullscan.match.matcher import match_inventory
    from hullscan.model.inventory import ScanWarning

    matched = match_inventory(result.inventory, db, options.match)
    result.vulnerabilities = matched.findings
    result.inventory.warnings.extend(ScanWarning(message=m) for m in matched.warnings)
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


def scan_sbom(path: str, options: ScanOptions) -> ScanResult:
    """An SBOM instead of an image: its inventory goes straight to matching (no layers are read)."""
    from hullscan.image.model import Image, Layer
    from hullscan.model.image import BaseImage, ImageConfig
    from hullscan.model.inventory import LayerRef
    from hullscan.sbom_in import load_sbom

    started = time.perf_counter()
    db = _open_db(options) if "vuln" in options.scanners else None
    inventory, info = load_sbom(path)
    layers = [
        LayerRef(index=int(layer["index"]), diff_id=str(layer.get("diff_id", "")), base=layer.get("base"))
        for layer in info.get("layers") or []
    ]
    image = Image(
        input=options_input(path),
        source_type="sbom",
        name=info.get("name") or path,
        config=ImageConfig(raw={}, architecture=str(info.get("architecture", ""))),
        layers=[
            Layer(index=r.index, digest="", size=-1, media_type="", diff_id=r.diff_id, opener=_no_blob)
            for r in layers
        ],
        manifest_digest=str(info.get("manifest_digest", "")),
        config_digest=str(info.get("config_digest", "")),
        repo_tags=tuple(info.get("repo_tags") or ()),
    )
    count = sum(1 for r in layers if r.base)
    base = BaseImage(count if any(r.base is not None for r in layers) else None, method="none")
    result = ScanResult(image=image, inventory=inventory, layers=layers, base=base, scanners=options.scanners)
    if db is not None:
        match_into(result, db, options)
    result.stats = {"walked": 0, "cached": 0, "seconds": round(time.perf_counter() - started, 3),
                    "sbom_format": info.get("sbom_format"), "sbom_tools": info.get("sbom_tools")}
    return result


def options_input(path: str) -> str:
    return path if path.startswith("sbom:") else f"sbom:{path}"


def _no_blob() -> NoReturn:
    from hullscan.errors import InputError

    raise InputError("an SBOM holds no layer blobs")


def _with_base(ref: LayerRef, base: BaseImage) -> LayerRef:
    if base.layer_count is None:
        return ref
    from hullscan.record import replace

    return replace(ref, base=ref.index < base.layer_count)
