"""Oracle Linux advisories (ELSA) from Oracle's OVAL (`com.oracle.elsa-all.xml.bz2`, or a per-release file).

One `<definition>` per ELSA. Its criteria tree says what is fixed, in the words of each criterion's
`comment` (the form Oracle's generator writes and other scanners read): `Oracle Linux 8 is installed`
scopes the subtree it sits in to release 8 (one ELSA may cover several releases, each with its own
builds), `openssl is earlier than 2:1.1.1g-15.el8_3` names a BINARY package and the E:V-R that fixes
it; `Oracle Linux arch is x86_64` and `… is signed with the Oracle Linux 8 key` are not needed to
match. Each (release, package) becomes a row of `Oracle Linux:<release>` with events
[{introduced: 0}, {fixed: E:V-R}]. When one ELSA names several builds of a package for a release
(arches respun at different revisions, or an upstream and an Oracle rebuild shipped side by side),
the lowest is kept: any of them fixes it, and a higher one would flag the others.

Ksplice userspace builds (`2:1.1.1g-15.ksplice1.el8_3`, criteria that add `openssl is ksplice-based`)
only apply to packages that are themselves ksplice builds: Trivy skips a fix whose `.kspliceN` token
differs from the installed release's, Grype drops ksplice fixes. Their rows go to the separate stream
`Oracle Linux:<release>:ksplice`, which a regular package's query never reads, so a ksplice fix
never flags a regular package.

The file is read as a stream (feeds/_xml.py): each definition is dropped once read, and reading stops
at `</definitions>`: the tests/objects/states sections after it (half the file) encode what the
comments already say. An undecodable definition is skipped and counted; a document whose
definitions are not well-formed or that declares entities is skipped whole, nothing of it imported.
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.versions import get_scheme
from hullscan.vulndb.feeds import ImportContext
from hullscan.vulndb.feeds._xml import Element, child, children, head, import_records, local, records, text
from hullscan.vulndb.model import AdvisoryIn, AffectedIn

FEED = "oracle-oval"
FORMAT = "oracle-oval"
ECOSYSTEM = "Oracle Linux"
_ELSA = re.compile(r"\bELSA-\d{4}-\d{4,}(?:-\d+)?\b")
_INSTALLED = re.compile(r"^Oracle Linux (\d+) is installed$")
_EARLIER = re.compile(r"^(\S+) is earlier than (\S+)$")
_KSPLICE_BASED = re.compile(r"^(\S+) is ksplice-based$")
_EVR = re.compile(r"^\d+:[^\s:-]+-[^\s:-]+$")
_RPM = get_scheme("rpm")

#: (release, package, ksplice) → fixed E:V-R
Fixes = dict[tuple[str, str, bool], str]


def detect(name: str, kind: str, doc: Any) -> bool:
    if kind != "xml":
        return False
    start = head(doc, 4096)
    return b"oval_definitions" in start and (b"Oracle" in start or b"com.oracle.elsa" in start)


def parse(name: str, doc: Any, ctx: ImportContext) -> None:
    import_records(name, ctx.batch(FEED), records(doc, "definition", 3, until="definitions"), _advisory)


def _advisory(el: Element) -> AdvisoryIn | tuple[str, str]:
    """The ELSA of one definition, or (where, why) when it cannot be read."""
    meta = child(el, "metadata")
    if meta is None:
        return (el.get("id") or "definition", "no metadata")
    adv_id = None
    refs: list[tuple[str, str]] = []
    cves: list[str] = []
    for ref in children(meta, "reference"):
        src, rid, url = (ref.get(k, "").strip() for k in ("source", "ref_id", "ref_url"))
        if src.lower() == "elsa" and _ELSA.fullmatch(rid):
            adv_id = adv_id or rid
            if url:
                refs.append(("ADVISORY", url))
        elif src.upper() == "CVE" and rid.startswith("CVE-") and rid not in cves:
            cves.append(rid)
    title = text(child(meta, "title"))
    if adv_id is None:
        m = _ELSA.search(title or "")
        if m is None:
            return (el.get("id") or "definition", f"no ELSA id (title {title!r})")
        adv_id = m.group(0)
    info = child(meta, "advisory")
    if info is not None:
        for c in children(info, "cve"):
            cve = text(c)
            if cve and cve.startswith("CVE-") and cve not in cves:
                cves.append(cve)
    crit = child(el, "criteria")
    if crit is None:
        return (adv_id, "no criteria")
    fixes: Fixes = {}
    why = _walk(crit, None, fixes)
    if why:
        return (adv_id, why)
    if not fixes:
        return (adv_id, "no package criteria")
    sev = text(child(info, "severity")) if info is not None else None
    if sev and sev.upper() in ("N/A", "NA", "NONE"):
        sev = None
    issued = child(info, "issued") if info is not None else None
    return AdvisoryIn(
        id=adv_id,
        summary=title,
        details=text(child(meta, "description")),
        published=(issued.get("date") or "").strip() or None if issued is not None else None,
        aliases=cves,
        references=refs,
        severity=sev,
        affected=[
            AffectedIn(f"{ECOSYSTEM}:{rel}:ksplice" if ks else f"{ECOSYSTEM}:{rel}", pkg,
                       [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": evr}]}], [], "fixed", sev)
            for (rel, pkg, ks), evr in fixes.items()
        ],
    )


def _walk(crit: Element, release: str | None, fixes: Fixes) -> str | None:
    """Collect the fixes of a criteria subtree into `fixes`; the reason when it cannot be read."""
    comments = [(c.get("comment") or "").strip() for c in crit if local(c.tag) == "criterion"]
    for c in comments:
        m = _INSTALLED.match(c)
        if m:
            release = m.group(1)
    ksplice_based = {m.group(1) for c in comments if (m := _KSPLICE_BASED.match(c))}
    for c in comments:
        m = _EARLIER.match(c)
        if not m:
            continue
        pkg, evr = m.groups()
        if release is None:
            return f"{pkg}: no `Oracle Linux N is installed` above it"
        if not _EVR.match(evr):
            return f"{pkg}: malformed version {evr!r}"
        ks = pkg in ksplice_based or _is_ksplice(evr)
        key = (release, pkg, ks)
        old = fixes.get(key)
        if old is None or _RPM.compare(evr, old) < 0:
            fixes[key] = evr
    for sub in crit:
        if local(sub.tag) == "criteria":
            why = _walk(sub, release, fixes)
            if why:
                return why
    return None


def _is_ksplice(evr: str) -> bool:
    """A release component starting with `ksplice` (`15.ksplice1.el8_3`), as Trivy reads it."""
    return any(part.startswith("ksplice") for part in evr.rsplit("-", 1)[-1].lower().split("."))
