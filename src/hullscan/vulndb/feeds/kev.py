"""CISA Known Exploited Vulnerabilities catalog (JSON, `known_exploited_vulnerabilities.json`)."""

from __future__ import annotations

import re
from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds._input import text
from hullscan.vulndb.model import KevEntry

FEED = "kev"
FORMAT = "kev"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def detect(name: str, kind: str, doc: Any) -> bool:
    return kind == "json" and isinstance(doc, dict) and "catalogVersion" in doc and "vulnerabilities" in doc


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    vulns = doc.get("vulnerabilities") if isinstance(doc, dict) else None
    if not isinstance(vulns, list):
        batch.skip(name, "no `vulnerabilities` list")
        return
    for i, v in enumerate(vulns):
        cve = text(v.get("cveID")) if isinstance(v, dict) else None
        if not cve or not _CVE.match(cve):
            batch.skip(f"{name}: vulnerabilities[{i}]", f"bad cveID {cve!r}")
            continue
        ransom = text(v.get("knownRansomwareCampaignUse"))
        batch.kev[cve] = KevEntry(
            cve=cve,
            vendor=text(v.get("vendorProject")),
            product=text(v.get("product")),
            name=text(v.get("vulnerabilityName")),
            date_added=text(v.get("dateAdded")),
            due_date=text(v.get("dueDate")),
            ransomware=None if ransom is None else ransom.lower() == "known",
            required_action=text(v.get("requiredAction")),
            notes=text(v.get("notes")),
        )
