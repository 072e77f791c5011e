"""RubySec ruby-advisory-db YAML (`gems/<gem>/<id>.yml`): `gem`, `cve` (`2024-1234`, no prefix),
`ghsa` (no prefix), `title`, `date`, `description`, `cvss_v2/v3/v4` (scores), `patched_versions`,
`unaffected_versions` (gem requirement strings), `related.url`.

Advisory id: CVE-<cve>, else GHSA-<ghsa>, else the file name; ecosystem `RubyGems`, range type
ECOSYSTEM from the requirement strings (`_requirements`, dialect `gem`). `rubies/` (interpreter
advisories, not gems) are not imported.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds._input import iso, text
from hullscan.vulndb.feeds._requirements import to_range
from hullscan.vulndb.model import AdvisoryIn, AffectedIn

FEED = "rubysec"
FORMAT = "rubysec"


def detect(name: str, kind: str, doc: Any) -> bool:
    return kind == "yaml" and isinstance(doc, dict) and ("gem" in doc or "engine" in doc) and (
        "patched_versions" in doc or "cve" in doc or "ghsa" in doc or "title" in doc)


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    gem = text(doc.get("gem"))
    if gem is None:
        return  # `engine:` = a Ruby interpreter advisory (module docstring)
    stem = PurePosixPath(name.split("!")[-1]).stem
    cve, ghsa = text(doc.get("cve")), text(doc.get("ghsa"))
    cve_id = (cve if cve.upper().startswith("CVE-") else f"CVE-{cve}") if cve else None
    ghsa_id = (ghsa if ghsa.upper().startswith("GHSA-") else f"GHSA-{ghsa}") if ghsa else None
    adv_id = cve_id or ghsa_id or stem
    patched, unaffected = doc.get("patched_versions") or [], doc.get("unaffected_versions") or []
    if not isinstance(patched, list) or not isinstance(unaffected, list):
        batch.skip(f"{name}: {adv_id}", "patched/unaffected_versions are not lists")
        return
    adv = AdvisoryIn(
        id=adv_id,
        summary=text(doc.get("title")),
        details=text(doc.get("description")),
        published=iso(doc.get("date")),
        modified=iso(doc.get("date")),
        aliases=[x for x in (cve_id, ghsa_id) if x and x != adv_id],
    )
    related = doc.get("related") if isinstance(doc.get("related"), dict) else {}
    for c in related.get("cve") or []:
        rid = f"CVE-{c}" if not str(c).upper().startswith("CVE-") else str(c)
        if rid != adv_id and rid not in adv.aliases:
            adv.aliases.append(rid)
    for key, ty in (("cvss_v4", "CVSS_V4"), ("cvss_v3", "CVSS_V3"), ("cvss_v2", "CVSS_V2")):
        try:
            if doc.get(key) not in (None, ""):
                adv.severities.append((ty, None, float(doc[key])))
        except (TypeError, ValueError):
            batch.skip(f"{name}: {adv_id}", f"bad {key} {doc.get(key)!r}")
            return
    if text(doc.get("url")):
        adv.references.append(("ADVISORY", str(doc["url"])))
    for u in related.get("url") or []:
        adv.references.append(("WEB", str(u)))
    rng = to_range([str(p) for p in patched], [str(u) for u in unaffected], "gem", "ECOSYSTEM")
    adv.affected.append(AffectedIn("RubyGems", gem, [rng], [], "fixed" if patched else "affected"))
    batch.merge(adv)  # one CVE can span several gems (actionpack, activesupport...)
