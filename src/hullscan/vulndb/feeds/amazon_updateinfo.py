"""Amazon Linux advisories (ALAS) from the `updateinfo.xml` its yum repositories publish.

One `<update>` per advisory: `<id>` ALAS-2018-1000 (Amazon Linux 1), ALAS2-2018-939 (2),
ALAS2022-2021-001 (2022, the preview of 2023), ALAS2023-2023-001 (2023); `<severity>`, `<issued>`,
`<updated>`, `<references>` (type `cve`), and `<pkglist>` listing the fixed BINARY packages with
name/epoch/version/release/arch. Each (name, epoch:version-release) becomes an affected row of
`Amazon Linux:<release>` with events [{introduced: 0}, {fixed: E:V-R}] (arches collapse: the same
build is listed once per arch). The release comes from the id's prefix, so a file never decides it;
an id of another prefix (an Extras topic such as ALAS2GOLANG1.19-…, whose packages are not in the
core repositories we read) is skipped and counted. A malformed update is skipped whole; a document
that is not well-formed XML or declares entities (an XML bomb) is skipped whole (nothing of it kept).
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds._xml import Element, child, children, head, import_records, records, text
from hullscan.vulndb.model import AdvisoryIn, AffectedIn

FEED = "amazon"
FORMAT = "amazon"
ECOSYSTEM = "Amazon Linux"
#: id prefix → release (os-release VERSION_ID; Amazon Linux 1 reports 2018.03, inventory calls it 1).
RELEASES = {"ALAS": "1", "ALAS2": "2", "ALAS2022": "2022", "ALAS2023": "2023"}
#: Where alas.aws.amazon.com shows an advisory: per release directory, the id with its bare `ALAS-` prefix.
_PAGE_DIR = {"1": "", "2": "AL2/", "2022": "AL2022/", "2023": "AL2023/"}
_ID = re.compile(r"^(ALAS[0-9A-Z.]*)-(\d{4}-\d+)$")
_EPOCH = re.compile(r"^\d*$")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(:\d{2})?)?")


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind != "xml":
        return False
    start = head(doc)
    return b"<updates" in start and (b"<update " in start or b"<update>" in start or b"ALAS" in start)


def release_of(adv_id: str) -> str | None:
    """The Amazon Linux release an ALAS id belongs to, None for another prefix."""
    m = _ID.match(adv_id)
    return RELEASES.get(m.group(1)) if m else None


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    import_records(name, ctx.batch(FEED), records(doc, "update", 2), _advisory)


def _advisory(el: Element) -> AdvisoryIn | tuple[str, str] | None:
    """The advisory of one `<update>`, None for a non-security update, (where, why) when malformed."""
    adv_id = text(child(el, "id")) or ""
    if (el.get("type") or "security") != "security":
        return None
    release = release_of(adv_id)
    if release is None:
        return (adv_id or "update without id", "unknown stream (not an Amazon Linux 1/2/2022/2023 ALAS id)")
    eco = f"{ECOSYSTEM}:{release}"
    rows: dict[tuple[str, str], AffectedIn] = {}
    pkglist = child(el, "pkglist")
    for coll in children(pkglist, "collection") if pkglist is not None else ():
        for pkg in children(coll, "package"):
            name, ver, rel = (pkg.get(k, "").strip() for k in ("name", "version", "release"))
            epoch = (pkg.get("epoch") or "").strip()
            if not name or not ver or not rel or not _EPOCH.match(epoch) or any(c.isspace() for c in name + ver + rel):
                return (adv_id, f"malformed package {name!r} {epoch!r}:{ver!r}-{rel!r}")
            evr = f"{epoch or '0'}:{ver}-{rel}"
            if (name, evr) not in rows:
                events = [{"introduced": "0"}, {"fixed": evr}]
                rows[(name, evr)] = AffectedIn(eco, name, [{"type": "ECOSYSTEM", "events": events}], [], "fixed")
    if not rows:
        return (adv_id, "no packages")
    cves = []
    refs = []
    refs_el = child(el, "references")
    for ref in children(refs_el, "reference") if refs_el is not None else ():
        rid = (ref.get("id") or "").strip()
        if ref.get("type") == "cve" and rid.startswith("CVE-") and rid not in cves:
            cves.append(rid)
    page = _ID.match(adv_id)
    if page:
        refs.append(("ADVISORY", f"https://alas.aws.amazon.com/{_PAGE_DIR[release]}ALAS-{page.group(2)}.html"))
    sev = text(child(el, "severity"))
    adv = AdvisoryIn(
        id=adv_id,
        summary=text(child(el, "title")),
        details=text(child(el, "description")),
        published=_date(child(el, "issued")),
        modified=_date(child(el, "updated")),
        aliases=cves,
        references=refs,
        severity=sev,
        affected=list(rows.values()),
    )
    for row in adv.affected:
        row.severity = sev
    return adv


def _date(el: Element | None) -> str | None:
    """`2018-01-11 21:05` (Amazon's form; also with seconds) → `2018-01-11T21:05:00Z`."""
    raw = (el.get("date") or "").strip() if el is not None else ""
    m = _DATE.match(raw)
    if not m:
        return None
    day, hm, sec = m.groups()
    return f"{day}T{hm}{sec or ':00'}Z" if hm else day
