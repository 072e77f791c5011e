"""The records that matched one package → one finding per vulnerability: alias merging, the status and
fixed version chosen, severity, CVSS, EPSS and KEV attached, and how each record matched (details); then
the findings of several copies of one package → one finding with its locations (`by_package`)."""

from __future__ import annotations

import re
from collections import defaultdict

from hullscan.match import severity
from hullscan.match.matcher import Matcher
from hullscan.model.findings import Epss, Finding, Kev, Location, MatchDetails, location_order
from hullscan.model.inventory import Package
from hullscan.record import replace
from hullscan.versions import Scheme, get_scheme
from hullscan.vulndb.model import Advisory, AffectedRecord, EpssEntry, KevEntry

CVE_RE = re.compile(r"^CVE-\d{4}-\d+$")
# when one vulnerability is reported by several records, the status that says most wins
STATUS_RANK = {"fixed": 0, "affected": 1, "fix_deferred": 2, "will_not_fix": 3, "end_of_life": 4, "under_investigation": 5}

Hit = tuple[AffectedRecord, MatchDetails]
"""A record that matched a package, and how."""


def cves_of(adv_id: str, advisories: dict[str, Advisory]) -> list[str]:
    """The CVEs an advisory names (itself, or its aliases)."""
    adv = advisories.get(adv_id)
    ids = {adv_id} | set(adv.aliases if adv else ())
    return sorted(i for i in ids if CVE_RE.match(i))


def group(hits: list[Hit], advisories: dict[str, Advisory]) -> list[tuple[str, list[Hit]]]:
    """The hits of one package → (vulnerability key, hits), one group per vulnerability.

    A record naming one CVE is that CVE; one naming several (a DSA covering three CVEs) is split
    into one finding per CVE, so distinct vulnerabilities are never merged through an umbrella
    advisory; a record without a CVE is keyed by the smallest of its ids (GHSA ↔ PYSEC aliases merge)."""
    by_key: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        rec = hit[0]
        cves = cves_of(rec.advisory_id, advisories)
        if cves:
            for cve in cves:
                by_key[cve].append(hit)
        else:
            adv = advisories.get(rec.advisory_id)
            by_key[min([rec.advisory_id, *(adv.aliases if adv else [])])].append(hit)
    return list(by_key.items())


def finding(pkg: Package, matcher: Matcher, key: str, hits: list[Hit], advisories: dict[str, Advisory],
            kev: dict[str, KevEntry], epss: dict[str, EpssEntry]) -> Finding:
    """One vulnerability `key` of `pkg` from the records that matched it (`advisories`: every advisory of
    those records and of their CVEs)."""
    ids: list[str] = [key]
    for rec, _ in hits:
        for i in [rec.advisory_id, *(advisories[rec.advisory_id].aliases if rec.advisory_id in advisories else [])]:
            # an umbrella advisory's other CVEs are other findings: not aliases of this one
            if i not in ids and (not CVE_RE.match(i) or i == key or len(cves_of(rec.advisory_id, advisories)) == 1):
                ids.append(i)
    # the deciding record first: the status that says most, distro feeds before generic ones
    hits = sorted(hits, key=lambda h: (STATUS_RANK.get(h[0].status, 9), h[0].feed not in severity.DISTRO_FEEDS,
                                       h[0].advisory_id))
    recs = [rec for rec, _ in hits]
    primary, decided = hits[0]
    fixed_version = matcher.shown_fix(_nearest_fix(decided.version, [f for r in recs for f in r.fixed_versions],
                                                   get_scheme(decided.scheme)))
    status = primary.status
    if status == "fixed" and not fixed_version:
        status = "affected"  # the fix listed is not above what is installed (a range without a usable fix)
    cve = key if CVE_RE.match(key) else None
    sev, sev_source, cvss = severity.choose(cve, recs, advisories, pkg)
    title_adv = advisories.get(primary.advisory_id) or (advisories.get(cve) if cve else None)
    refs: list[str] = []
    for i in ids:
        adv = advisories.get(i)
        for _, url in adv.references if adv else ():
            if url not in refs:
                refs.append(url)
    kev_entry = kev.get(cve) if cve else None
    epss_entry = epss.get(cve) if cve else None
    return Finding(
        id=key,
        aliases=tuple(ids[1:]),
        package=pkg,
        status=status,
        fixed_version=fixed_version,
        severity=sev,
        severity_source=sev_source,
        cvss=cvss,
        epss=Epss(epss_entry.score, epss_entry.percentile, epss_entry.date or "") if epss_entry else None,
        kev=_kev(kev_entry) if kev_entry else None,
        title=(title_adv.summary or "") if title_adv else "",
        references=tuple(refs[:20]),
        data_source=primary.feed,
        advisory_ids=tuple(sorted({r.advisory_id for r in recs})),
        published=title_adv.published if title_adv else None,
        details=tuple(d for _, d in hits),
    )


def by_package(findings: list[Finding]) -> list[Finding]:
    """One finding per vulnerability and package identity (ecosystem, purl, name, version, arch): the same
    vulnerability found through several packages — an installed dist-info and a lockfile declaring it, a jar
    and its pom, two copies in two directories — is one finding whose `locations` list them all, the first
    (lowest layer, installed before declared) being its package and layer. Identical packages were decided
    by identical records, so the first finding speaks for the group. Order of first appearance is kept."""
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for f in findings:
        p = f.package
        groups.setdefault((f.id, p.ecosystem, p.type, p.purl, p.name, p.version, p.arch), []).append(f)
    out = []
    for group in groups.values():
        group.sort(key=lambda f: location_order(f.package))
        # one place once: two entries of one lockfile for the same package are the same report package
        places = {f.package.id: f.package for f in reversed(group)}
        if len(places) == 1:
            out.append(group[0])
            continue
        out.append(replace(group[0], locations=tuple(Location(p) for p in sorted(places.values(), key=location_order))))
    return out


def _nearest_fix(version: str, fixes: list[str], scheme: Scheme) -> str:
    """The smallest fixed version above the installed one ('' when none is): one actionable version,
    not every branch's fix."""
    above = [f for f in fixes if scheme.compare(f, version) > 0]
    return min(above, key=scheme.key) if above else ""


def _kev(entry: KevEntry) -> Kev:
    return Kev(entry.date_added or "", entry.due_date or "", entry.ransomware)
