"""NVD CVE API 2.0 pages (`{"format":"NVD_CVE","version":"2.0","vulnerabilities":[{"cve":...}]}`),
also the same `cve` objects wrapped in vunnel records (`{"identifier","item":{"cve":...}}`).

Enrichment only: descriptions, CVSS v2/v3.0/v3.1/v4.0 (vector + score + NVD severity word), CWEs,
references. CPE configurations are deliberately ignored: hullscan never matches by CPE.
"""

from __future__ import annotations

from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds._cvss import score
from hullscan.vulndb.feeds._input import iso, text
from hullscan.vulndb.model import AdvisoryIn, FeedBatch

FEED = "nvd"
FORMAT = "nvd"
#: metric key -> OSV severity type, most preferred first (the primary severity word comes from the first)
_METRICS = (
    ("cvssMetricV40", "CVSS_V4"),
    ("cvssMetricV31", "CVSS_V3"),
    ("cvssMetricV30", "CVSS_V3"),
    ("cvssMetricV2", "CVSS_V2"),
)


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind != "json" or not isinstance(doc, dict):
        return False
    if doc.get("format") == "NVD_CVE" or (
        isinstance(doc.get("vulnerabilities"), list) and "totalResults" in doc
    ):
        return True
    item = doc.get("item")
    return isinstance(item, dict) and isinstance(item.get("cve"), dict) and "identifier" in doc


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    if isinstance(doc.get("item"), dict):
        items = [doc["item"]]
    else:
        items = doc.get("vulnerabilities")
        if not isinstance(items, list):
            batch.skip(name, "no `vulnerabilities` list")
            return
    for i, it in enumerate(items):
        cve = it.get("cve") if isinstance(it, dict) else None
        adv = to_advisory(cve, batch, f"{name}: vulnerabilities[{i}]")
        if adv is not None:
            batch.put(adv)


def to_advisory(cve: Any, batch: FeedBatch, where: str) -> AdvisoryIn | None:
    if not isinstance(cve, dict) or not text(cve.get("id")):
        batch.skip(where, "no cve.id")
        return None
    cid = text(cve["id"])
    assert cid is not None
    desc = next((d.get("value") for d in cve.get("descriptions") or []
                 if isinstance(d, dict) and d.get("lang") == "en"), None)
    status = text(cve.get("vulnStatus"))
    adv = AdvisoryIn(
        id=cid,
        details=text(desc),
        published=iso(cve.get("published")),
        modified=iso(cve.get("lastModified")),
        withdrawn=iso(cve.get("lastModified")) if (status or "").lower() == "rejected" else None,
    )
    metrics = m if isinstance(m := cve.get("metrics"), dict) else {}
    for key, ty in _METRICS:
        entries = metrics.get(key) or []
        # NVD's own ("Primary") assessment first, then CNA ones
        entries = sorted((e for e in entries if isinstance(e, dict)), key=lambda e: e.get("type") != "Primary")
        for e in entries[:1]:
            data = e.get("cvssData") if isinstance(e.get("cvssData"), dict) else {}
            vec = text(data.get("vectorString"))
            if not vec:
                continue
            base = data.get("baseScore")
            num = float(base) if isinstance(base, (int, float)) else score(ty, vec)
            if any(s[0] == ty for s in adv.severities):
                continue
            adv.severities.append((ty, vec, num))
            word = text(data.get("baseSeverity")) or text(e.get("baseSeverity"))
            if adv.severity is None and word:
                adv.severity = word.upper()
    for w in cve.get("weaknesses") or []:
        for d in (w.get("description") or []) if isinstance(w, dict) else []:
            v = text(d.get("value")) if isinstance(d, dict) else None
            if v and v.startswith("CWE-") and v not in adv.cwes:
                adv.cwes.append(v)
    for r in cve.get("references") or []:
        if isinstance(r, dict) and r.get("url"):
            tags = r.get("tags") or []
            adv.references.append(("ADVISORY" if "Vendor Advisory" in tags else "WEB", str(r["url"])))
    return adv
