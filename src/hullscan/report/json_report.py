"""The documented JSON report (docs/report.schema.json): the one place the model becomes JSON.

Strings reach the model already valid Unicode and, where they echo the image config, redacted
(scan/service.py): nothing here needs the secret engine (a warm scan never loads it).

`to_dict(report)` is the document; `render` writes it; report/load.py reads it back into the model, so
`hullscan convert` re-renders a saved report losslessly. The schema is versioned and only ever extended.
"""

from __future__ import annotations

from hullscan import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/warm-path.md)
if TYPE_CHECKING:  # a warm scan renders a cached report: it needs none of these classes at run time
    from collections.abc import Sequence
    from typing import Any

    from hullscan.model.container import ContainerInfo
    from hullscan.model.findings import ConfigFinding, Cvss, Finding, Location, MatchDetails, SecretFinding
    from hullscan.model.image import BaseImage, ImageConfig, LayerInfo, Target
    from hullscan.model.inventory import LayerRef, OSInfo, Package, RemovedPackage
    from hullscan.model.report import AdviceBase, AdviceFinding, BaseAdvice, Coverage, DbInfo, Report, ScanStats
    from hullscan.model.verdict import Suppressed, Verdict

SCHEMA_VERSION = "1.8"
"""1.1: findings carry `match_details` and their package's `arch`; secret and config findings `class`.
1.2: a finding found through several copies of its package carries `locations`.
1.3: packages and findings carry `inherited`; `base_image` carries `created`, `catalog_id`, `mismatch`,
`similarity` (and `method` may be `catalog`, `similar` or `not_applicable`).
1.4: `base_advice` (with `hullscan image --base-advice`): `hullscan base advise`'s `base`, `inherited`,
`candidates` and `reason`, in docs/base-advise.schema.json's shapes.
1.5: `coverage` (when the vuln scanner ran): per ecosystem of the scanned packages, whether the DB held
advisories for it (`present`, `advisories`), `newest_advisory`, `fetched_at`, `feeds`, `packages`.
1.6: `os.eol` is `false` or, past the release's end of life, {`date`, `source`, `as_of`, `extended`?} (was
`true`; docs/distros.md "End of life").
1.7: findings of an image scan carry `reachability` {`level`, `evidence`, `method`} (docs/reachability.md);
`plan` (with `hullscan image --plan`): the fix plan, docs/plan.schema.json's body (docs/plan.md).
1.8: a container scan (`hullscan container`) carries `container` {id, name, image, image_id, engine,
started_at, created, labels, changes, drift {detected, added, removed, changed}}, and its packages,
findings, secrets and config findings `origin` (`image` or `runtime`)."""


def layer_ref_dict(ref: LayerRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {"index": ref.index, "diff_id": ref.diff_id, "created_by": ref.created_by, "base": ref.base}


def package_dict(pkg: Package) -> dict[str, Any]:
    return {
        "id": pkg.id,
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
        "inherited": pkg.inherited,
        "analyzer": pkg.analyzer,
        "extra": _jsonable(pkg.extra),
        **({"origin": pkg.origin} if pkg.origin is not None else {}),
    }


def removed_dict(r: RemovedPackage) -> dict[str, Any]:
    return {"package": package_dict(r.package), "removed_in": layer_ref_dict(r.removed_in), "replaced_by": r.replaced_by}


def os_dict(os_info: OSInfo | None) -> dict[str, Any] | None:
    if os_info is None:
        return None
    return {"family": os_info.family, "name": os_info.name, "version": os_info.version, "release": os_info.release,
            "codename": os_info.codename, "ecosystem": os_info.ecosystem, "eol": eol_dict(os_info),
            "source_path": os_info.source_path}


def eol_dict(os_info: OSInfo) -> dict[str, str] | bool:
    """DESIGN's `os.eol`: false while supported (or unknown), else {date, source, as_of, extended?}."""
    eol = os_info.eol
    if eol is None:
        return False
    out = {"date": eol.date, "source": eol.source, "as_of": eol.as_of}
    if eol.extended:
        out["extended"] = eol.extended
    return out


def cvss_dict(c: Cvss | None) -> dict[str, Any] | None:
    return None if c is None else {"version": c.version, "vector": c.vector, "score": c.score, "source": c.source}


def details_dict(d: MatchDetails) -> dict[str, Any]:
    return {"matcher": d.matcher, "feed": d.feed, "advisory_id": d.advisory_id, "ecosystem": d.ecosystem,
            "package": d.package, "identity": d.identity, "version": d.version, "scheme": d.scheme,
            "constraint": d.constraint, "status": d.status}


def location_dict(loc: Location) -> dict[str, Any]:
    pkg = loc.package
    return {"path": loc.path, "layer": layer_ref_dict(pkg.layer), "analyzer": pkg.analyzer, "kind": pkg.kind,
            "package_id": pkg.id}


def finding_dict(f: Finding) -> dict[str, Any]:
    pkg = f.package
    out: dict[str, Any] = {
        "id": f.id,
        "aliases": list(f.aliases),
        "package": {"id": pkg.id, "name": pkg.name, "version": pkg.version, "type": pkg.type, "arch": pkg.arch,
                    "ecosystem": pkg.ecosystem, "purl": pkg.purl, "source_name": pkg.source_name,
                    "source_version": pkg.source_version, "paths": list(pkg.paths), "kind": pkg.kind},
        "layer": layer_ref_dict(pkg.layer),
        "inherited": f.inherited,
        "status": f.status,
        "fixed_version": f.fixed_version,
        "severity": f.severity,
        "severity_source": f.severity_source,
        "cvss": cvss_dict(f.cvss),
        "epss": None if f.epss is None else {"score": f.epss.score, "percentile": f.epss.percentile, "date": f.epss.date},
        "kev": None if f.kev is None else {"date_added": f.kev.date_added, "due_date": f.kev.due_date,
                                           "ransomware": f.kev.ransomware},
        "title": f.title,
        "references": list(f.references),
        "data_source": f.data_source,
        "advisory_ids": list(f.advisory_ids),
        "published": f.published,
        "match_details": [details_dict(d) for d in f.details],
    }
    if f.locations:
        out["locations"] = [location_dict(loc) for loc in f.locations]
    if f.origin is not None:
        out["origin"] = f.origin
    if f.risk is not None:
        out["risk"] = {"score": f.risk.score, "reason": f.risk.reason}
    if f.vex is not None:
        out["vex"] = {"status": f.vex.status, "justification": f.vex.justification, "impact": f.vex.impact,
                      "source": f.vex.source}
    if f.reachability is not None:
        r = f.reachability
        out["reachability"] = {"level": r.level, "evidence": list(r.evidence), "method": r.method}
    return out


def secret_dict(s: SecretFinding | ConfigFinding) -> dict[str, Any]:
    is_config = hasattr(s, "message")
    out: dict[str, Any] = {"class": "config" if is_config else "secret", "rule_id": s.rule_id, "category": s.category,
                           "severity": s.severity, "title": s.title}
    if is_config:
        out["message"] = s.message  # type: ignore[union-attr]  # ConfigFinding
    out.update({
        "path": s.path,
        "line": {"start": s.start_line, "end": s.end_line},
        "match": s.match,
        "fingerprint": s.fingerprint,
        "offset": s.offset,
        "source": s.source,
        "layer": layer_ref_dict(s.layer),
        "removed_in": layer_ref_dict(s.removed_in),
        "inherited": s.inherited,
    })
    if s.origin is not None:
        out["origin"] = s.origin
    risk = getattr(s, "risk", None)
    if risk is not None:
        out["risk"] = {"score": risk.score, "reason": risk.reason}
    return out


def suppressed_dict(s: Suppressed) -> dict[str, Any]:
    f = s.finding
    out: dict[str, Any] = {"kind": s.kind, "finding": finding_dict(f) if s.kind == "vulnerability" else secret_dict(f),  # type: ignore[arg-type]
                           "by": s.by, "status": s.status, "justification": s.justification}
    if s.by == "vex":
        out.update(impact=s.impact, source=s.source)
    else:
        out.update(owner=s.owner, expires=s.expires, source=s.source, vex_justification=s.vex_justification)
    return out


def verdict_dict(v: Verdict) -> dict[str, Any]:
    ex = v.exceptions
    return {
        "gate": v.gate,
        "policy": v.policy,
        "passed": v.passed,
        "failed_rules": [{"rule": r.rule, "description": r.description, "findings": list(r.findings)}
                         for r in v.failed_rules],
        "exceptions": {
            "applied": list(ex.applied),
            "unused": list(ex.unused),
            "expired": [{"id": e.id, "expires": e.expires, "source": e.source} for e in ex.expired],
            "expiring": [{"id": e.id, "expires": e.expires, "source": e.source} for e in ex.expiring],
        },
        "suppressed": v.suppressed,
    }


def _config_dict(cfg: ImageConfig) -> dict[str, Any]:
    return {
        "os": cfg.os,
        "variant": cfg.variant,
        "created": cfg.created,
        "user": cfg.user,
        "env": list(cfg.env),
        "entrypoint": list(cfg.entrypoint),
        "cmd": list(cfg.cmd),
        "working_dir": cfg.working_dir,
        "labels": dict(cfg.labels),
        "exposed_ports": list(cfg.exposed_ports),
        "history": [{"created": h.created, "created_by": h.created_by, "empty_layer": h.empty_layer,
                     "comment": h.comment} for h in cfg.history],
    }


def base_image_dict(b: BaseImage) -> dict[str, Any]:
    return {"layer_count": b.layer_count, "name": b.name, "digest": b.digest, "method": b.method,
            "provisional": b.provisional, "created": b.created, "catalog_id": b.catalog_id,
            "mismatch": b.mismatch, "similarity": b.similarity}


def _target_dict(t: Target) -> dict[str, Any]:
    return {"input": t.input, "type": t.type, "name": t.name, "manifest_digest": t.manifest_digest,
            "config_digest": t.config_digest, "repo_tags": list(t.repo_tags), "repo_digests": list(t.repo_digests)}


def _layer_dict(layer: LayerInfo) -> dict[str, Any]:
    return {"index": layer.index, "digest": layer.digest, "size": layer.size, "media_type": layer.media_type,
            "diff_id": layer.diff_id, "created_by": layer.created_by, "base": layer.base}


def _db_dict(db: DbInfo | None) -> dict[str, Any]:
    if db is None:
        return {}
    return {"location": db.location, "built_at": db.built_at, "age_days": db.age_days,
            "feeds": [{"feed": f.feed, "imported_at": f.imported_at, "fetched_at": f.fetched_at,
                       "advisories": f.advisories} for f in db.feeds]}


def coverage_dict(c: Coverage) -> dict[str, Any]:
    return {"ecosystem": c.ecosystem, "present": c.present, "packages": c.packages, "advisories": c.advisories,
            "newest_advisory": c.newest_advisory, "fetched_at": c.fetched_at, "feeds": list(c.feeds)}


def _stats_dict(s: ScanStats) -> dict[str, Any]:
    out: dict[str, Any] = {"walked": s.walked, "cached": s.cached}
    if s.result_cached is not None:
        out["result_cached"] = s.result_cached
    out["seconds"] = s.seconds
    if s.sbom_format is not None:
        out["sbom_format"] = s.sbom_format
    if s.sbom_tools is not None:
        out["sbom_tools"] = list(s.sbom_tools)
    return out


def advice_dict(a: BaseAdvice) -> dict[str, Any]:
    """The report's `base_advice`: the body of `hullscan base advise --format json` (base/advise.py `to_dict`)
    without what the report says already (target, db, base_image, created_at)."""
    return {
        "base": _advice_entry(a.base) if a.base is not None else None,
        "inherited": _advice_findings(a.inherited),
        "candidates": [{"rank": i, **_advice_entry(c.base), "removes": _advice_findings(c.removes),
                        "remaining": _advice_findings(c.remaining), "adds": _advice_findings(c.adds)}
                       for i, c in enumerate(a.candidates, 1)],
        "reason": a.reason or None,
    }


def _advice_entry(e: AdviceBase) -> dict[str, Any]:
    return {"catalog_id": e.catalog_id, "reference": e.reference, "name": e.name, "tags": list(e.tags),
            "manifest_digest": e.manifest_digest, "config_digest": e.config_digest, "platform": e.platform,
            "created": e.created, "os": {"id": e.os_id, "version": e.os_version}}


def _advice_findings(items: Sequence[AdviceFinding]) -> dict[str, Any]:
    from hullscan.model.findings import SEVERITIES  # loaded already: the model holds findings

    return {"total": len(items),
            "by_severity": {s: sum(1 for r in items if r.severity == s) for s in SEVERITIES},
            "findings": [{"id": r.id, "package": r.package, "version": r.version, "severity": r.severity,
                          "fixed_version": r.fixed_version} for r in items]}


def packages_value(packages: Sequence[Package]) -> Any:
    """The report's `packages`: the rendered JSON a cached result carries (`PackagesJSON`), else dicts."""
    rendered = getattr(packages, "rendered", None)
    if rendered is not None:
        return PackagesJSON(rendered)
    return [package_dict(p) for p in packages]


def to_dict(report: Report) -> dict[str, Any]:
    """The JSON document of a report (docs/report.schema.json). A cached result's packages stay the
    rendered JSON it carries (`PackagesJSON`): only `render` below takes that form."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "hullscan", "version": __version__},
        "created_at": report.created_at,
        "target": _target_dict(report.target),
        "layers": [_layer_dict(layer) for layer in report.layers],
        "scanners": list(report.scanners),
        "os": os_dict(report.os),
        "architecture": report.config.architecture,
        "config": _config_dict(report.config),
        "base_image": base_image_dict(report.base_image),
        "packages": packages_value(report.packages),
        "history": [removed_dict(r) for r in report.history],
        "vulnerabilities": [finding_dict(f) for f in report.vulnerabilities],
        "secrets": [secret_dict(s) for s in report.secrets],
        "misconfigurations": [secret_dict(m) for m in report.misconfigurations],
        "db": _db_dict(report.db),
        **({"coverage": [coverage_dict(c) for c in report.db.coverage]} if report.db is not None else {}),
        "warnings": [{"message": w.message, "path": w.path, "layer": w.layer} for w in report.warnings],
        "stats": _stats_dict(report.stats),
    }
    if report.verdict is not None:
        doc["suppressed"] = [suppressed_dict(s) for s in report.suppressed]
        doc["verdict"] = verdict_dict(report.verdict)
    if report.display is not None:
        doc["display_filters"] = {"severity": None if report.display.severity is None else list(report.display.severity),
                                  "ignore_unfixed": report.display.ignore_unfixed}
    if report.base_advice is not None:
        doc["base_advice"] = advice_dict(report.base_advice)
    if report.plan is not None:  # `--plan` only: its writer loads only then
        from hullscan.report.plan import to_dict as plan_dict

        doc["plan"] = plan_dict(report.plan)
    if report.container is not None:
        doc["container"] = container_dict(report.container)
    return doc


def container_dict(c: ContainerInfo) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "image": c.image, "image_id": c.image_id, "engine": c.engine,
            "started_at": c.started_at, "created": c.created, "labels": dict(c.labels), "changes": c.changes,
            "drift": {"detected": c.drift, "added": list(c.added), "removed": list(c.removed), "changed": list(c.changed)}}


def _jsonable(value: Any) -> Any:
    """Analyzer extras as JSON values (tuples become lists; anything else its string)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class PackagesJSON(bytes):
    """The report's `packages` array as the JSON format renders it (at its indentation in the report),
    standing in for the list on a warm scan printed as JSON: the packages pass through to the output
    untouched, so 1,000 or more entries are neither decoded from the cache nor rendered again (~9% of
    such a scan's instructions; cache/results.py). Nothing but `render` below ever sees one."""


def render_packages(packages: Sequence[Package]) -> bytes | None:
    """The bytes `render` writes for this `packages` value, or None when orjson cannot render it."""
    return _render_packages([package_dict(p) for p in packages])


def _render_packages(dicts: list[dict[str, Any]]) -> bytes | None:
    """The packages array at depth 1 by orjson (the same bytes as json.dumps(indent=2, ensure_ascii=False)
    at that depth, 15x faster: a cold scan renders 1,000 or more packages); None for what orjson refuses
    (an integer beyond 64 bits, a lone surrogate)."""
    import orjson  # a cold scan's: a warm one splices the bytes the cold one stored

    prefix = b'{\n  "packages": '
    try:
        text = orjson.dumps({"packages": dicts}, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return None
    return text[len(prefix):-2]  # the array as it sits at depth 1, without "\n}"


def render_dict(doc: dict[str, Any]) -> bytes:
    """json.dumps(doc, indent=2, ensure_ascii=False) and a newline, the packages spliced in as rendered
    bytes: a warm scan's are the bytes its cold scan stored (`PackagesJSON`), a cold scan's are rendered
    by `_render_packages`. The rest (a few KB unless there are hundreds of findings, ~40 us a finding)
    is the stdlib's: orjson's import would cost a warm scan more (~9 ms: it loads dataclasses, inspect,
    ast and uuid), and every part but the packages is then written by one encoder on either path.
    Each top-level value is rendered alone and indented one level: json.dumps writes no raw newline
    inside a string, so prefixing each line gives the bytes it writes at depth 1."""
    import json

    parts = []
    for key, value in doc.items():
        text: bytes
        if isinstance(value, PackagesJSON):
            text = value  # a bytes: joined as it is
        elif key == "packages" and isinstance(value, list) and value and (rendered := _render_packages(value)):
            text = rendered
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ").encode()
        parts.append(f"  {json.dumps(key, ensure_ascii=False)}: ".encode() + text)
    return b"{\n" + b",\n".join(parts) + b"\n}\n" if parts else b"{}\n"


def render(report: Report) -> bytes:
    """The JSON format."""
    return render_dict(to_dict(report))
