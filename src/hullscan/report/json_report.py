"""The documented JSON report (docs/report.schema.json): built from a ScanResult, read by every writer.

Every other format renders this dict, so `hullscan convert` re-renders a saved report losslessly.
The schema is versioned and only ever extended.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hullscan import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:  # a warm scan renders a cached report: it needs none of the model's classes
    from typing import Any

    from hullscan.model.inventory import LayerRef, OSInfo, Package, RemovedPackage

SCHEMA_VERSION = "1.0"


def package_id(pkg: Package) -> str:
    """Stable bom-ref: same package at the same place → same id across scans."""
    import hashlib

    basis = "|".join((pkg.purl, pkg.paths[0] if pkg.paths else "", pkg.arch))
    return "pkg-" + hashlib.sha256(basis.encode()).hexdigest()[:16]


def layer_ref_dict(ref: LayerRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    from hullscan.secrets.redact import redact

    return {"index": ref.index, "diff_id": ref.diff_id, "created_by": redact(ref.created_by), "base": ref.base}


def package_dict(pkg: Package) -> dict[str, Any]:
    return {
        "id": package_id(pkg),
        "type": pkg.type,
        "name": pkg.name,
        "version": pkg.version,
        "ecosystem": pkg.ecosystem,
        "purl": pkg.purl,
        "arch": pkg.arch,
        "source_name": pkg.source_name,
        "source_version": pkg.source_version,
        "licenses": list(pkg.licenses),
        "kind": pkg.kind,
        "dev": pkg.dev,
        "indirect": pkg.indirect,
        "owned_by": pkg.owned_by,
        "paths": list(pkg.paths),
        "layer": layer_ref_dict(pkg.layer),
        "analyzer": pkg.analyzer,
        "extra": _jsonable(pkg.extra),
    }


def removed_dict(r: RemovedPackage) -> dict[str, Any]:
    return {
        "package": package_dict(r.package),
        "removed_in": layer_ref_dict(r.removed_in),
        "replaced_by": r.replaced_by,
    }


def os_dict(os_info: OSInfo | None) -> dict[str, Any] | None:
    from hullscan.record import asdict

    return asdict(os_info) if os_info else None


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def build_report(result: Any) -> dict[str, Any]:
    """ScanResult → the report dict (see docs/report.schema.json)."""
    from hullscan.secrets.redact import redact

    image = result.image
    cfg = image.config
    inv = result.inventory
    base_of = {ref.index: ref.base for ref in result.layers}
    report: dict[str, Any] = _valid_text({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "hullscan", "version": __version__},
        "created_at": _now(),
        "target": _target(image),
        "layers": [
            {"index": layer.index, **_layer_blob(layer), "diff_id": layer.diff_id,
             "created_by": redact(layer.created_by), "base": base_of.get(layer.index)}
            for layer in image.layers
        ],
        "scanners": sorted(result.scanners),
        "os": os_dict(inv.os),
        "architecture": cfg.architecture,
        "config": {
            "os": cfg.os,
            "variant": cfg.variant,
            "created": cfg.created,
            "user": cfg.user,
            "env": [redact(e) for e in cfg.env],
            "entrypoint": list(cfg.entrypoint),
            "cmd": list(cfg.cmd),
            "working_dir": cfg.working_dir,
            "labels": {k: redact(v) for k, v in cfg.labels.items()},
            "exposed_ports": list(cfg.exposed_ports),
            "history": [
                {"created": h.created, "created_by": redact(h.created_by), "empty_layer": h.empty_layer, "comment": h.comment}
                for h in cfg.history
            ],
        },
        "base_image": {
            "layer_count": result.base.layer_count,
            "name": result.base.name,
            "digest": result.base.digest,
            "method": result.base.method,
            "provisional": result.base.provisional,
        },
        "packages": [package_dict(p) for p in sorted(inv.packages, key=_pkg_sort)],
        "history": [removed_dict(r) for r in inv.history],
        "vulnerabilities": result.vulnerabilities,
        "secrets": result.secrets,
        "misconfigurations": result.misconfigurations,
        "db": result.db_info,
        "warnings": [{"message": w.message, "path": w.path, "layer": w.layer} for w in inv.warnings],
        "stats": result.stats,
    })
    return report


def _target(image: Any) -> dict[str, Any]:
    return {
        "input": image.input,
        "type": image.source_type,
        "name": image.name,
        "manifest_digest": image.manifest_digest,
        "config_digest": image.config_digest,
        "repo_tags": list(image.repo_tags),
        "repo_digests": list(image.repo_digests),
    }


def _layer_blob(layer: Any) -> dict[str, Any]:
    """What a layer entry says of the blob as stored (differs between formats of one image)."""
    return {"digest": layer.digest, "size": layer.size, "media_type": layer.media_type}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refresh_report(cached: dict[str, Any], image: Any, stats: dict[str, Any]) -> dict[str, Any]:
    """A cached report (same config and diff_ids, so the same findings and layer history) as this
    scan's: its time, target, blob digests, DB age and stats are this scan's."""
    report = dict(cached)
    report["created_at"] = _now()
    report["target"] = _valid_text(_target(image))
    report["layers"] = [{**entry, **_layer_blob(layer)} for entry, layer in zip(cached["layers"], image.layers, strict=True)]
    db = report.get("db")
    if db and db.get("built_at"):
        built = datetime.fromisoformat(db["built_at"])  # "…Z" (3.11 reads it; strptime's import costs 2 ms)
        report["db"] = {**db, "age_days": round((datetime.now(UTC) - built).total_seconds() / 86400, 2)}
    report["stats"] = stats
    return report


def _valid_text(value: Any) -> Any:
    """Every string as valid Unicode. Names read from an image keep undecodable bytes as lone
    surrogates (surrogateescape), which no encoder accepts: one such file name made every format
    fail with a traceback. They become U+FFFD, as in Trivy's (Go's) JSON."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            try:
                raw = value.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raw = value.encode("utf-8", "replace")
            return raw.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {_valid_text(k): _valid_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_valid_text(v) for v in value]
    return value


def _pkg_sort(p: Package) -> tuple[str, str, str, str]:
    return (p.type, p.name, p.version, p.paths[0] if p.paths else "")


class PackagesJSON(bytes):
    """The report's `packages` array as the JSON format renders it (at its indentation in the report),
    standing in for the list on a warm scan printed as JSON: the packages pass through to the output
    untouched, so 1,000 or more entries are neither unpacked from the cache nor rendered again (~9%
    of such a scan's instructions; scan_cache.py). Nothing but `render` below ever sees one."""


def render_packages(packages: list[dict[str, Any]]) -> PackagesJSON | None:
    """The bytes `render` writes for this `packages` value, or None when orjson cannot render it."""
    import orjson

    prefix = b'{\n  "packages": '
    try:
        text = orjson.dumps({"packages": packages}, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return None
    return PackagesJSON(text[len(prefix):-2])  # the array as it sits at depth 1, without "\n}"


def _fragment(value: Any) -> Any:
    import orjson

    if isinstance(value, PackagesJSON):
        return orjson.Fragment(bytes(value))  # inserted as is: it was rendered at this very indentation
    raise TypeError


def render(report: dict[str, Any]) -> bytes:
    import orjson  # the same bytes as json.dumps(indent=2, ensure_ascii=False), 15x faster

    try:
        return orjson.dumps(report, default=_fragment,
                            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # an integer beyond 64 bits
        import json

        if isinstance(report.get("packages"), PackagesJSON):
            report = {**report, "packages": orjson.loads(report["packages"])}
        return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()
