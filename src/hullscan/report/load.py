"""A JSON report (docs/report.schema.json) read back into the model: `hullscan convert`, and later stored
inventories and the service. The inverse of json_report.to_dict: `to_dict(load(doc)) == doc` for every
report hullscan wrote (tested), but for what the writer redacts (secrets in config and history lines),
which stays redacted.
"""

from __future__ import annotations

from typing import Any

from hullscan.errors import InputError
from hullscan.model.container import ContainerInfo
from hullscan.model.findings import (
    ConfigFinding,
    Cvss,
    Epss,
    Finding,
    Kev,
    Location,
    MatchDetails,
    Reachability,
    Risk,
    SecretFinding,
    VexNote,
)
from hullscan.model.image import BaseImage, HistoryEntry, ImageConfig, LayerInfo, Target
from hullscan.model.inventory import EndOfLife, LayerRef, OSInfo, Package, RemovedPackage, ScanWarning
from hullscan.model.plan import FixPlan
from hullscan.model.report import (
    AdviceBase,
    AdviceCandidate,
    AdviceFinding,
    BaseAdvice,
    Coverage,
    DbInfo,
    DisplayFilters,
    FeedInfo,
    Report,
    ScanStats,
)
from hullscan.model.verdict import ExceptionRef, ExceptionsSummary, FailedRule, Suppressed, Verdict


def load_report(doc: Any, source: str = "report") -> Report:
    """The model of a JSON report; InputError naming `source` when it is not one of ours."""
    if not isinstance(doc, dict) or not isinstance(doc.get("target"), dict) or "packages" not in doc:
        raise InputError(f"{source}: not a hullscan JSON report")
    try:
        return _report(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"{source}: not a hullscan JSON report ({type(err).__name__}: {err})") from None


def _report(d: dict[str, Any]) -> Report:
    verdict = d.get("verdict")
    shown = d.get("display_filters")
    packages = [_package(p) for p in d.get("packages") or ()]
    by_id = {p.id: p for p in packages}
    return Report(
        created_at=d["created_at"],
        target=_target(d["target"]),
        layers=tuple(_layer(x) for x in d.get("layers") or ()),
        scanners=tuple(d.get("scanners") or ()),
        os=_os(d.get("os")),
        config=_config(d.get("config") or {}, d.get("architecture", "")),
        base_image=_base(d.get("base_image") or {}),
        packages=packages,
        history=tuple(RemovedPackage(_package(r["package"]), _removed_in(r), r.get("replaced_by", ""))
                      for r in d.get("history") or ()),
        vulnerabilities=tuple(_finding(f, by_id) for f in d.get("vulnerabilities") or ()),
        secrets=tuple(_secret(s) for s in d.get("secrets") or ()),
        misconfigurations=tuple(_config_finding(m) for m in d.get("misconfigurations") or ()),
        db=_db(d.get("db"), d.get("coverage")),
        warnings=tuple(ScanWarning(w["message"], w.get("path", ""), w.get("layer")) for w in d.get("warnings") or ()),
        stats=_stats(d.get("stats") or {}),
        verdict=_verdict(verdict) if verdict else None,
        suppressed=tuple(_suppressed(s, by_id) for s in d.get("suppressed") or ()) if verdict else (),
        display=DisplayFilters(tuple(shown["severity"]) if shown.get("severity") is not None else None,
                               bool(shown.get("ignore_unfixed"))) if shown else None,
        base_advice=_advice(d["base_advice"]) if d.get("base_advice") is not None else None,
        plan=_plan(d["plan"]) if d.get("plan") is not None else None,
        container=_container(d["container"]) if d.get("container") is not None else None,
    )


def _target(t: dict[str, Any]) -> Target:
    return Target(t["input"], t["type"], t["name"], t.get("manifest_digest", ""), t.get("config_digest", ""),
                  tuple(t.get("repo_tags") or ()), tuple(t.get("repo_digests") or ()))


def _layer(x: dict[str, Any]) -> LayerInfo:
    return LayerInfo(x["index"], x.get("digest", ""), x.get("size", -1), x.get("media_type", ""), x["diff_id"],
                     x.get("created_by", ""), x.get("base"))


def _layer_ref(x: dict[str, Any] | None) -> LayerRef | None:
    return None if x is None else LayerRef(x["index"], x["diff_id"], x.get("created_by", ""), x.get("base"))


def _removed_in(r: dict[str, Any]) -> LayerRef:
    ref = _layer_ref(r["removed_in"])
    if ref is None:
        raise ValueError("a removed package without the layer that removed it")
    return ref


def _os(x: dict[str, Any] | None) -> OSInfo | None:
    if x is None:
        return None
    return OSInfo(x["family"], x["name"], x["version"], x["release"], x.get("codename", ""), x.get("ecosystem", ""),
                  _eol(x.get("eol")), x.get("source_path", ""))


def _eol(x: Any) -> EndOfLife | None:
    """`os.eol`: false, or {date, source, as_of, extended?}; a report before 1.6 says `true` without a date,
    which has no place in the model (read as unknown)."""
    if not isinstance(x, dict):
        return None
    return EndOfLife(date=x["date"], source=x["source"], as_of=x.get("as_of", ""), extended=x.get("extended", ""))


def _config(c: dict[str, Any], architecture: str) -> ImageConfig:
    return ImageConfig(
        raw={}, architecture=architecture, os=c.get("os", ""), variant=c.get("variant", ""), created=c.get("created", ""),
        user=c.get("user", ""), env=tuple(c.get("env") or ()), entrypoint=tuple(c.get("entrypoint") or ()),
        cmd=tuple(c.get("cmd") or ()), working_dir=c.get("working_dir", ""), labels=dict(c.get("labels") or {}),
        exposed_ports=tuple(c.get("exposed_ports") or ()),
        history=tuple(HistoryEntry(h.get("created", ""), h.get("created_by", ""), bool(h.get("empty_layer")),
                                   h.get("comment", "")) for h in c.get("history") or ()),
    )


def _base(b: dict[str, Any]) -> BaseImage:
    return BaseImage(b.get("layer_count"), b.get("name", ""), b.get("digest", ""), b.get("method", "none"),
                     bool(b.get("provisional", True)), b.get("created"), b.get("catalog_id"), b.get("mismatch", ""),
                     b.get("similarity"))


def _plan(p: dict[str, Any]) -> FixPlan:
    """`plan` (with `--plan`): report/plan.py reads its own section back."""
    from hullscan.report.plan import from_dict

    return from_dict(p)


def _advice(a: dict[str, Any]) -> BaseAdvice:
    """`base_advice` (since 1.4); its totals and counts by severity follow from the findings listed."""
    base = a.get("base")
    return BaseAdvice(
        base=_advice_entry(base) if base is not None else None,
        inherited=_advice_findings(a["inherited"]),
        candidates=tuple(AdviceCandidate(_advice_entry(c), _advice_findings(c["removes"]),
                                         _advice_findings(c["remaining"]), _advice_findings(c["adds"]))
                         for c in sorted(a.get("candidates") or (), key=lambda c: c["rank"])),
        reason=a.get("reason") or "",
    )


def _advice_entry(e: dict[str, Any]) -> AdviceBase:
    os_release = e.get("os") or {}
    return AdviceBase(e["catalog_id"], e["reference"], e["name"], tuple(e.get("tags") or ()), e.get("manifest_digest", ""),
                      e.get("config_digest", ""), e.get("platform", ""), e.get("created"), os_release.get("id", ""),
                      os_release.get("version", ""))


def _advice_findings(x: dict[str, Any]) -> tuple[AdviceFinding, ...]:
    return tuple(AdviceFinding(r["id"], r["package"], r.get("version", ""), r.get("severity", "UNKNOWN"),
                               r.get("fixed_version", "")) for r in x.get("findings") or ())


def _inherited(d: dict[str, Any], layer: LayerRef | None) -> bool | None:
    """`inherited` (since 1.3); an older report's is its layer's `base`, which meant the same there."""
    if "inherited" in d:
        return d["inherited"]
    return layer.base if layer is not None else None


def _package(p: dict[str, Any]) -> Package:
    layer = _layer_ref(p.get("layer"))
    return Package(
        type=p["type"], name=p["name"], version=p["version"], ecosystem=p.get("ecosystem", ""), purl=p.get("purl", ""),
        analyzer=p.get("analyzer", ""), paths=tuple(p.get("paths") or ()), arch=p.get("arch", ""),
        source_name=p.get("source_name", ""), source_version=p.get("source_version", ""),
        licenses=tuple(p.get("licenses") or ()), kind=p.get("kind", "installed"), dev=bool(p.get("dev")),
        indirect=bool(p.get("indirect")), owned_by=p.get("owned_by", ""), layer=layer,
        extra=dict(p.get("extra") or {}), inherited=_inherited(p, layer), origin=p.get("origin"),
    )


def _finding(f: dict[str, Any], packages: dict[str, Package]) -> Finding:
    cvss, epss, kev, risk, vex = f.get("cvss"), f.get("epss"), f.get("kev"), f.get("risk"), f.get("vex")
    # a finding's package entry holds a subset of the package; its layer is the finding's
    pkg = _package({**f["package"], "layer": f.get("layer"), "origin": f.get("origin"),
                    **({"inherited": f["inherited"]} if "inherited" in f else {})})
    locations = tuple(_location(x, f["package"], packages) for x in f.get("locations") or ())
    return Finding(
        id=f["id"], aliases=tuple(f.get("aliases") or ()), package=pkg, status=f["status"],
        fixed_version=f.get("fixed_version", ""), severity=f.get("severity", "UNKNOWN"),
        severity_source=f.get("severity_source", ""),
        cvss=Cvss(cvss["version"], cvss["vector"], cvss.get("score"), cvss.get("source", "")) if cvss else None,
        epss=Epss(epss["score"], epss["percentile"], epss.get("date", "")) if epss else None,
        kev=Kev(kev.get("date_added", ""), kev.get("due_date", ""), kev.get("ransomware")) if kev else None,
        title=f.get("title", ""), references=tuple(f.get("references") or ()), data_source=f.get("data_source", ""),
        advisory_ids=tuple(f.get("advisory_ids") or ()), published=f.get("published"),
        details=tuple(MatchDetails(**d) for d in f.get("match_details") or ()),
        risk=Risk(risk["score"], risk["reason"]) if risk else None,
        vex=VexNote(vex["status"], vex.get("justification", ""), vex.get("impact", ""), vex.get("source", "")) if vex else None,
        locations=locations, inherited=pkg.inherited, reachability=_reachability(f.get("reachability")),
        origin=f.get("origin"),
    )


def _reachability(r: Any) -> Reachability | None:
    """`reachability` (since 1.7)."""
    if not isinstance(r, dict):
        return None
    return Reachability(str(r.get("level", "unknown")), tuple(str(e) for e in r.get("evidence") or ()),
                        str(r.get("method", "")))


def _location(x: dict[str, Any], finding_pkg: dict[str, Any], packages: dict[str, Package]) -> Location:
    """The report's package the location names, else one made of the finding's package and the
    location's fields (a report whose `packages` were left out)."""
    known = packages.get(x["package_id"])
    if known is not None:
        return Location(known)
    path = x.get("path", "")
    return Location(_package({**finding_pkg, "paths": [path] if path else [], "layer": x.get("layer"),
                              "analyzer": x.get("analyzer", ""), "kind": x.get("kind", "installed")}))


def _line(s: dict[str, Any]) -> tuple[int, int]:
    line = s.get("line") or {}
    return int(line.get("start", 0)), int(line.get("end", 0))


def _secret(s: dict[str, Any]) -> SecretFinding:
    start, end = _line(s)
    risk = s.get("risk")
    return SecretFinding(
        rule_id=s["rule_id"], category=s.get("category", ""), severity=s.get("severity", "UNKNOWN"),
        title=s.get("title", ""), path=s.get("path", ""), start_line=start, end_line=end, match=s.get("match", ""),
        fingerprint=s.get("fingerprint", ""), offset=s.get("offset", 0), source=s.get("source", "file"),
        layer=_layer_ref(s.get("layer")), removed_in=_layer_ref(s.get("removed_in")),
        risk=Risk(risk["score"], risk["reason"]) if risk else None, inherited=_inherited(s, _layer_ref(s.get("layer"))),
        origin=s.get("origin"),
    )


def _config_finding(m: dict[str, Any]) -> ConfigFinding:
    start, end = _line(m)
    return ConfigFinding(
        rule_id=m["rule_id"], category=m.get("category", ""), severity=m.get("severity", "UNKNOWN"),
        title=m.get("title", ""), message=m.get("message", ""), path=m.get("path", ""), match=m.get("match", ""),
        fingerprint=m.get("fingerprint", ""), start_line=start, end_line=end, offset=m.get("offset", 0),
        source=m.get("source", "config"), layer=_layer_ref(m.get("layer")), removed_in=_layer_ref(m.get("removed_in")),
        inherited=_inherited(m, _layer_ref(m.get("layer"))), origin=m.get("origin"),
    )


def _db(d: dict[str, Any] | None, coverage: list[dict[str, Any]] | None) -> DbInfo | None:
    if not d:
        return None
    return DbInfo(d.get("location", ""), d.get("built_at"), d.get("age_days"),
                  tuple(FeedInfo(f["feed"], f.get("imported_at"), f.get("fetched_at"), f.get("advisories", 0))
                        for f in d.get("feeds") or ()),
                  tuple(Coverage(c["ecosystem"], c.get("packages", 0), c.get("advisories", 0), c.get("newest_advisory"),
                                 c.get("fetched_at"), tuple(c.get("feeds") or ())) for c in coverage or ()))


def _stats(s: dict[str, Any]) -> ScanStats:
    tools = s.get("sbom_tools")
    return ScanStats(s.get("walked", 0), s.get("cached", 0), s.get("seconds", 0.0), s.get("result_cached"),
                     s.get("sbom_format"), tuple(tools) if tools is not None else None)


def _verdict(v: dict[str, Any]) -> Verdict:
    ex = v.get("exceptions") or {}

    def refs(key: str) -> tuple[ExceptionRef, ...]:
        return tuple(ExceptionRef(e["id"], e["expires"], e["source"]) for e in ex.get(key) or ())

    return Verdict(
        gate=bool(v["gate"]), policy=v.get("policy"), passed=bool(v["passed"]),
        failed_rules=tuple(FailedRule(r["rule"], r["description"], tuple(r["findings"])) for r in v.get("failed_rules") or ()),
        exceptions=ExceptionsSummary(tuple(ex.get("applied") or ()), tuple(ex.get("unused") or ()),
                                     refs("expired"), refs("expiring")),
        suppressed=int(v.get("suppressed", 0)),
    )


def _suppressed(s: dict[str, Any], packages: dict[str, Package]) -> Suppressed:
    kind = s["kind"]
    f = s["finding"]
    finding = _finding(f, packages) if kind == "vulnerability" else _config_finding(f) if kind == "misconfiguration" else _secret(f)
    return Suppressed(kind, finding, s["by"], s.get("status", ""), s.get("justification", ""), s.get("impact", ""),
                      s.get("source", ""), s.get("owner", ""), s.get("expires"), s.get("vex_justification", ""))


def _container(c: dict[str, Any]) -> ContainerInfo:
    """`container` (since 1.8: a container scan)."""
    drift = c.get("drift") or {}
    return ContainerInfo(
        id=c["id"], name=c.get("name", ""), image=c.get("image", ""), image_id=c.get("image_id", ""),
        engine=c.get("engine", ""), started_at=c.get("started_at", ""), created=c.get("created", ""),
        labels=tuple(sorted((c.get("labels") or {}).items())), changes=int(c.get("changes", 0)),
        drift=bool(drift.get("detected")), added=tuple(drift.get("added") or ()),
        removed=tuple(drift.get("removed") or ()), changed=tuple(drift.get("changed") or ()))
