"""OSV records (JSON or YAML; one per file, or a JSON list), any ecosystem of the OSV schema.

Kept as given: ranges (GIT ranges dropped: commit ids are not package versions), explicit versions,
aliases (plus `upstream`, which links a DSA/DLA/USN to its CVEs), severities (scores computed from
the vectors), GHSA `database_specific.cwe_ids` and `severity`, Debian/Ubuntu urgency words, and the Go
vulndb's `ecosystem_specific.imports` (affected packages and symbols: hs_imports, docs/reachability.md).
An affected entry's status is `fixed` when a range has a `fixed` event, else `affected`.
"""

from __future__ import annotations

from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds._cvss import score
from hullscan.vulndb.feeds._input import iso, text
from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch

FEED = "osv"
FORMAT = "osv"
_EVENT_KEYS = ("introduced", "fixed", "last_affected", "limit")


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind not in ("json", "yaml"):
        return False
    if isinstance(doc, list):
        return bool(doc) and all(isinstance(d, dict) and _looks_osv(d) for d in doc[:3])
    return isinstance(doc, dict) and _looks_osv(doc)


def _looks_osv(d: dict[str, Any]) -> bool:
    return isinstance(d.get("id"), str) and ("affected" in d or "modified" in d or "schema_version" in d) \
        and "cve" not in d and "gem" not in d


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    for rec in doc if isinstance(doc, list) else [doc]:
        adv = to_advisory(rec, batch, name)
        if adv is not None:
            batch.put(adv)


def to_advisory(rec: Any, batch: FeedBatch, where: str) -> AdvisoryIn | None:
    """One OSV record, or None (counted as skipped) when it is invalid."""
    if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not rec["id"].strip():
        batch.skip(where, "record without an id")
        return None
    adv_id = rec["id"].strip()
    where = f"{where}: {adv_id}"
    affected_in = rec.get("affected") or []
    if not isinstance(affected_in, list):
        batch.skip(where, "`affected` is not a list")
        return None
    db_spec = d if isinstance(d := rec.get("database_specific"), dict) else {}
    # Ubuntu files its priority as a severity of type "Ubuntu" (`{"type": "Ubuntu", "score": "medium"}`):
    # the vendor's word for its packages, as Debian's urgency is
    adv_sev = text(db_spec.get("severity")) or next(
        (text(s.get("score")) for s in rec.get("severity") or [] if isinstance(s, dict) and s.get("type") == "Ubuntu"),
        None)
    adv = AdvisoryIn(
        id=adv_id,
        summary=text(rec.get("summary")),
        details=text(rec.get("details")),
        published=iso(rec.get("published")),
        modified=iso(rec.get("modified")),
        withdrawn=iso(rec.get("withdrawn")),
        aliases=[a for a in _strs(rec.get("aliases")) + _strs(rec.get("upstream")) if a != adv_id],
        severity=adv_sev,
    )
    for s in rec.get("severity") or []:
        if isinstance(s, dict) and isinstance(s.get("type"), str) and s.get("score") is not None:
            ty, vec = s["type"], str(s["score"])
            num = score(ty, vec) if ty.startswith("CVSS") else None
            adv.severities.append((ty, vec, num))
    adv.cwes = [c for c in _strs(db_spec.get("cwe_ids")) if c.upper().startswith("CWE-")]
    for r in rec.get("references") or []:
        if isinstance(r, dict) and r.get("url"):
            adv.references.append((str(r.get("type") or "WEB"), str(r["url"])))
    for i, a in enumerate(affected_in):
        row = _affected(a, adv_sev)
        if isinstance(row, str):
            batch.skip(where, f"affected[{i}]: {row}")
            return None
        if row is not None:
            adv.affected.append(row)
    return adv


def _affected(a: Any, adv_sev: str | None) -> AffectedIn | str | None:
    if not isinstance(a, dict):
        return "not an object"
    pkg = a.get("package")
    if not isinstance(pkg, dict):
        return None  # OSV allows affected entries without package (git-only); nothing to match by name
    eco, name = text(pkg.get("ecosystem")), text(pkg.get("name"))
    if not eco or not name:
        return "package without ecosystem or name"
    ranges: list[dict[str, Any]] = []
    given = a.get("ranges")
    # a lone range written as an object, not a list (most of captn3m0/photon-os-advisories' Photon records)
    for r in [given] if isinstance(given, dict) else given or []:
        if not isinstance(r, dict) or not isinstance(r.get("events"), list):
            return "range without events"
        if r.get("type") == "GIT":
            continue
        events = []
        for ev in r["events"]:
            if not isinstance(ev, dict):
                return "event is not an object"
            kv = {k: str(ev[k]) for k in _EVENT_KEYS if k in ev and ev[k] is not None}
            if len(kv) != 1:
                return f"bad event {ev!r}"
            events.append(kv)
        rng: dict[str, Any] = {"type": str(r.get("type") or "ECOSYSTEM"), "events": events}
        ranges.append(rng)
    versions = _strs(a.get("versions"))
    if not ranges and not versions:
        # OSV: a version is affected when it lies in a range or is listed, so this entry affects none (as
        # osv-scalibr reads it); Photon's records carry such entries beside the ranged ones of the package
        return None
    spec = s if isinstance(s := a.get("ecosystem_specific"), dict) else {}
    dbs = d if isinstance(d := a.get("database_specific"), dict) else {}
    sev = text(spec.get("severity")) or text(spec.get("urgency")) or text(dbs.get("severity")) or adv_sev
    status = "fixed" if any("fixed" in ev for r in ranges for ev in r["events"]) else "affected"
    return AffectedIn(eco, name, ranges, versions, status, sev, _imports(spec.get("imports")))


def _imports(v: Any) -> list[dict[str, Any]]:
    """`ecosystem_specific.imports` (Go vulndb): each `{path, symbols}` kept; a malformed entry is dropped
    (the record still matches by version; its reachability stays unknown)."""
    if not isinstance(v, list):
        return []
    return [{"path": i["path"].strip(), "symbols": _strs(i.get("symbols"))}
            for i in v if isinstance(i, dict) and isinstance(i.get("path"), str) and i["path"].strip()]


def _strs(v: Any) -> list[str]:
    if not isinstance(v, list):
        return []
    return [str(x).strip() for x in v if x is not None and str(x).strip()]
