"""Debian security tracker JSON (`security-tracker.debian.org/tracker/data/json`):
`{source package: {CVE or TEMP id: {description, scope, debianbug, releases: {codename: {status,
repositories, fixed_version, urgency, nodsa, nodsa_reason}}}}}`.

One advisory per id (merged over packages), one affected row per (release, SOURCE package):
- `resolved` with fixed_version `0` -> not_affected; other resolved -> fixed, events [{introduced: "0"}, {fixed: V}]
- `open` -> affected; urgency `end-of-life` -> end_of_life; nodsa_reason `ignored` -> will_not_fix,
  `postponed` -> fix_deferred (events [{introduced: "0"}])
- `undetermined` -> under_investigation
The urgency (`low`, `medium`, `high`, `unimportant`; `not yet assigned` dropped) is the row's severity.
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds.debian_releases import ecosystem_for
from hullscan.vulndb.model import AdvisoryIn, AffectedIn

FEED = "debian"
FORMAT = "debian-json"
_ID = re.compile(r"^(CVE-\d{4}-\d{4,}|TEMP-\d+-[0-9A-Fa-f]+|[A-Z]+-[0-9][\w.-]*)$")


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind != "json" or not isinstance(doc, dict) or not doc:
        return False
    for _pkg, issues in list(doc.items())[:3]:
        if not isinstance(issues, dict) or not issues:
            continue
        iid, body = next(iter(issues.items()))
        if isinstance(body, dict) and "releases" in body and _ID.match(str(iid)):
            return True
    return False


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    batch = ctx.batch(FEED)
    for pkg, issues in doc.items():
        if not isinstance(issues, dict):
            batch.skip(f"{name}: {pkg}", "not an object of issues")
            continue
        for iid, body in issues.items():
            where = f"{name}: {pkg} {iid}"
            if not _ID.match(str(iid)) or not isinstance(body, dict) or not isinstance(body.get("releases"), dict):
                batch.skip(where, "bad issue id or no releases")
                continue
            adv = AdvisoryIn(id=str(iid), summary=(str(body.get("description") or "").strip() or None))
            adv.references.append(("WEB", f"https://security-tracker.debian.org/tracker/{iid}"))
            if body.get("debianbug"):
                adv.references.append(("REPORT", f"https://bugs.debian.org/{body['debianbug']}"))
            for codename, rel in body["releases"].items():
                row = _row(str(codename), str(pkg), rel)
                if isinstance(row, str):
                    batch.skip(f"{where} [{codename}]", row)
                elif row is not None:
                    adv.affected.append(row)
            batch.merge(adv)


def _row(codename: str, pkg: str, rel: Any) -> AffectedIn | str | None:
    if not isinstance(rel, dict):
        return "release entry is not an object"
    eco = ecosystem_for(codename)
    if eco is None:
        return f"unknown codename {codename!r}"
    status = str(rel.get("status") or "")
    urgency = str(rel.get("urgency") or "").rstrip("*").strip() or None
    sev = None if urgency in (None, "not yet assigned", "end-of-life") else urgency
    fixed = str(rel.get("fixed_version") or "").strip()
    open_range = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]
    if status == "resolved":
        if fixed == "0":
            return AffectedIn(eco, pkg, [], [], "not_affected", sev)
        if not fixed:
            return "resolved without fixed_version"
        events = [{"introduced": "0"}, {"fixed": fixed}]
        return AffectedIn(eco, pkg, [{"type": "ECOSYSTEM", "events": events}], [], "fixed", sev)
    if status == "open":
        reason = str(rel.get("nodsa_reason") or "").strip().lower()
        st = ("end_of_life" if urgency == "end-of-life" else "will_not_fix" if reason == "ignored"
              else "fix_deferred" if reason == "postponed" else "affected")
        return AffectedIn(eco, pkg, open_range, [], st, sev)
    if status == "undetermined":
        return AffectedIn(eco, pkg, open_range, [], "under_investigation", sev)
    return f"unknown status {status!r}"
