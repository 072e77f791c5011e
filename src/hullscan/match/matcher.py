"""Match an inventory against the vulnerability DB.

Three small steps per package, after claircore's matcher: *filter* (which packages are matched at
all), *query* (which (ecosystem, name) to ask the DB: the SOURCE package of its own distro release
for OS packages, the normalized name for language packages), *vulnerable* (the version decision
with the ecosystem's own rules and the vendor's status). Then the records of one vulnerability are
merged into one finding per package (aliases), and severity, CVSS, EPSS and KEV are attached.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hullscan.match.options import MatchOptions
from hullscan.match.severity import Cvss, best_cvss, from_score, normalize_word
from hullscan.model.inventory import OS_PACKAGE_TYPES, Inventory, Package
from hullscan.report.json_report import layer_ref_dict, package_id
from hullscan.vulndb.model import Advisory, AffectedRecord

CVE_RE = re.compile(r"^CVE-\d{4}-\d+$")
# when one vulnerability is reported by several records, the status that says most wins
STATUS_RANK = {"fixed": 0, "affected": 1, "fix_deferred": 2, "will_not_fix": 3, "end_of_life": 4, "under_investigation": 5}
DISTRO_FEEDS = frozenset({"debian", "alpine", "wolfi", "chainguard", "ubuntu", "redhat", "rhel", "suse", "alma", "rocky",
                          "amazon", "oracle", "photon", "mariner"})


@dataclass
class MatchResult:
    findings: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    matched_packages: int = 0


# Rebuilds without their own advisory feed are matched against the distro they rebuild, release
# for release, as their packages carry the same names and versions (Trivy and Grype do the same).
REBUILT_FROM = {"CentOS": "Red Hat", "Scientific Linux": "Red Hat"}
# Package types whose vendors' feeds name BINARY packages (Red Hat OVAL/CSAF, ALAS, SUSE CVRF and the
# OSV records made from them): a source-only query (`openssl`) would miss rows filed under `openssl-libs`.
BINARY_NAMED_TYPES = frozenset({"rpm"})


def _queries(pkg: Package) -> list[tuple[str, str]]:
    """(ecosystem, name) pairs to ask the DB for this package, [] when it is never matched.

    Distro packages: the SOURCE package of their own release (plus the binary name for rpm, see
    BINARY_NAMED_TYPES; a rebuild also asks its upstream's release). Language packages: the normalized
    name (NuGet ids are case-insensitive, and feeds spell them either way)."""
    if not pkg.version or pkg.version == "(devel)" or not pkg.ecosystem:
        return []
    if pkg.type in OS_PACKAGE_TYPES:
        if ":" not in pkg.ecosystem and pkg.ecosystem not in ("Wolfi", "Chainguard"):
            return []  # a distro without its release cannot be matched without guessing
        names = [pkg.source_name or pkg.name]
        if pkg.type in BINARY_NAMED_TYPES and pkg.name not in names:
            names.append(pkg.name)
        ecos = [pkg.ecosystem]
        base, _, release = pkg.ecosystem.partition(":")
        if base in REBUILT_FROM:
            ecos.append(f"{REBUILT_FROM[base]}:{release}")
        return [(e, n) for e in ecos for n in names]
    if pkg.ecosystem == "NuGet" and pkg.name != pkg.name.lower():
        return [(pkg.ecosystem, pkg.name), (pkg.ecosystem, pkg.name.lower())]
    return [(pkg.ecosystem, pkg.name)]


def _installed_version(pkg: Package) -> str:
    """The version advisories speak of: Debian advisories name source versions; rpm/apk the package's."""
    if pkg.type == "deb" and pkg.source_version:
        return pkg.source_version
    if pkg.type == "golang" and pkg.name == "stdlib" and pkg.version.startswith("go"):
        return pkg.version[2:]
    return pkg.version


def filter_packages(inventory: Inventory, options: MatchOptions) -> list[Package]:
    out = []
    for pkg in inventory.packages:
        is_os = pkg.type in OS_PACKAGE_TYPES
        if ("os" if is_os else "library") not in options.pkg_types:
            continue
        if pkg.owned_by and not options.include_owned:
            continue
        out.append(pkg)
    return out


def match_inventory(inventory: Inventory, db: Any, options: MatchOptions | None = None) -> MatchResult:
    from hullscan.versions import scheme_for_ecosystem

    options = options or MatchOptions()
    result = MatchResult()
    packages = filter_packages(inventory, options)
    queries: dict[int, list[tuple[str, str]]] = {}
    for i, pkg in enumerate(packages):
        q = _queries(pkg)
        if q:
            queries[i] = q
    result.matched_packages = len(queries)
    # a rebuild (CentOS:7) is covered by its upstream's rows (its last query): warn when those are missing
    _warn_missing_ecosystems(
        db, {q[-1][0] if q[0][0].partition(":")[0] in REBUILT_FROM else q[0][0] for q in queries.values()}, result)
    rows = db.affected_for({x for q in queries.values() for x in q})
    hits: list[tuple[Package, list[AffectedRecord]]] = []
    for i, q in queries.items():
        pkg = packages[i]
        version = _installed_version(pkg)
        vulnerable = []
        seen: set[tuple[str, str, str, str]] = set()
        for rec in (r for x in q for r in rows.get(x, ())):
            if rec.status == "not_affected":
                continue
            ident = (rec.feed, rec.advisory_id, rec.ecosystem, rec.package)
            if ident in seen:
                continue
            seen.add(ident)
            scheme = scheme_for_ecosystem(rec.ecosystem)
            if scheme is None:
                continue
            try:
                if _is_vulnerable(version, rec, scheme):
                    vulnerable.append(rec)
            except Exception as err:  # one unparsable record must not stop the scan
                result.warnings.append(f"{rec.advisory_id}: cannot evaluate for {pkg.name} {version}: {err}")
        if vulnerable:
            hits.append((pkg, vulnerable))
    advisory_ids = {rec.advisory_id for _, recs in hits for rec in recs}
    advisories = db.advisories(advisory_ids)
    cves = {a for adv in advisories.values() for a in adv.aliases if CVE_RE.match(a)} | {
        i for i in advisory_ids if CVE_RE.match(i)
    }
    cve_advisories = db.advisories(cves - advisory_ids) if cves else {}
    kev = db.kev(cves) if cves else {}
    epss = db.epss(cves) if cves else {}
    all_adv = {**cve_advisories, **advisories}
    for pkg, recs in hits:
        scheme = scheme_for_ecosystem(recs[0].ecosystem)
        for group in _group(recs, advisories):
            result.findings.append(_finding(pkg, group, all_adv, kev, epss, scheme))
    result.findings.sort(key=lambda f: (f["package"]["name"], f["package"]["version"], f["id"]))
    return result


def _warn_missing_ecosystems(db: Any, wanted: set[str], result: MatchResult) -> None:
    try:
        have = db.ecosystems()
    except Exception:
        return
    have_base = {e.partition(":")[0] for e in have}
    for eco in sorted(wanted):
        if eco not in have and not (":" not in eco and eco in have_base):
            result.warnings.append(
                f"the vulnerability DB holds no advisories for {eco}: its packages were not matched "
                f"(import the feed that covers it)"
            )


def _is_vulnerable(version: str, rec: AffectedRecord, scheme: Any) -> bool:
    from hullscan.versions import get_scheme
    from hullscan.versions.osv import affected

    plain = [r for r in rec.ranges if "requirements" not in r]
    reqs = [r for r in rec.ranges if "requirements" in r]
    if not plain and not reqs and not rec.versions:
        # a row without ranges: the vendor's status speaks for every version (e.g. <unfixed>)
        return rec.status in STATUS_RANK and rec.status != "fixed"
    if (plain or rec.versions) and affected(version, plain, rec.versions, scheme):
        return True
    for r in reqs:
        # the record's own ecosystem rules read its requirement strings (crates.io → cargo: bare
        # `1.2.3` means ^1.2.3; RubyGems → gem `~>`); the stored dialect only names the syntax family
        dialect_scheme = scheme if scheme is not None else get_scheme(r.get("dialect") or "semver")
        safe = list(r["requirements"].get("patched") or []) + list(r["requirements"].get("unaffected") or [])
        if not any(dialect_scheme.satisfies(version, c, "native") for c in safe):
            return True
    return False


def _cves_of(adv_id: str, advisories: dict[str, Advisory]) -> list[str]:
    adv = advisories.get(adv_id)
    ids = {adv_id} | set(adv.aliases if adv else ())
    return sorted(i for i in ids if CVE_RE.match(i))


def _group(recs: list[AffectedRecord], advisories: dict[str, Advisory]) -> list[list[tuple[str, AffectedRecord]]]:
    """Records of one package → groups, one per vulnerability: (vulnerability key, record) lists.

    A record naming one CVE is that CVE; one naming several (a DSA covering three CVEs) is split
    into one finding per CVE, so distinct vulnerabilities are never merged through an umbrella
    advisory; a record without a CVE is keyed by its own id (GHSA ↔ PYSEC aliases still merge)."""
    by_key: dict[str, list[tuple[str, AffectedRecord]]] = defaultdict(list)
    for rec in recs:
        cves = _cves_of(rec.advisory_id, advisories)
        if cves:
            for cve in cves:
                by_key[cve].append((cve, rec))
        else:
            adv = advisories.get(rec.advisory_id)
            key = min([rec.advisory_id, *(adv.aliases if adv else [])])
            by_key[key].append((key, rec))
    return list(by_key.values())


@functools.lru_cache(maxsize=512)
def _layer_dict_cached(ref: Any) -> Any:
    return layer_ref_dict(ref)


def _layer_dict(ref: Any) -> dict[str, Any] | None:
    """The finding's layer; built once per layer (it redacts secrets from `created_by`, which is not free)."""
    d = _layer_dict_cached(ref)
    return dict(d) if d is not None else None


def _nearest_fix(version: str, fixes: list[str], scheme: Any) -> str:
    above = []
    for f in fixes:
        try:
            if scheme.compare(f, version) > 0:
                above.append(f)
        except Exception:
            continue
    if not above:
        return ""
    try:
        return min(above, key=scheme.key)
    except Exception:
        return above[0]


def _finding(
    pkg: Package,
    group: list[tuple[str, AffectedRecord]],
    advisories: dict[str, Advisory],
    kev: dict[str, Any],
    epss: dict[str, Any],
    scheme: Any,
) -> dict[str, Any]:
    key = group[0][0]
    recs = [r for _, r in group]
    ids: list[str] = [key]
    for rec in recs:
        for i in [rec.advisory_id, *(advisories[rec.advisory_id].aliases if rec.advisory_id in advisories else [])]:
            if i not in ids and (not CVE_RE.match(i) or i == key or len(_cves_of(rec.advisory_id, advisories)) == 1):
                ids.append(i)
    recs.sort(key=lambda r: (STATUS_RANK.get(r.status, 9), r.feed not in DISTRO_FEEDS, r.advisory_id))
    primary = recs[0]
    version = _installed_version(pkg)
    fixes = [f for r in recs for f in r.fixed_versions]
    fixed_version = _nearest_fix(version, fixes, scheme) if scheme else ""
    if pkg.type == "rpm" and fixed_version.startswith("0:"):
        fixed_version = fixed_version[2:]  # epoch 0 is rpm's default: shown as installed versions are
    status = primary.status
    if status == "fixed" and not fixed_version:
        status = "affected"  # the fix listed is not above what is installed (a range without a usable fix)
    severity, severity_source, cvss = _severity(key, recs, advisories, pkg)
    cve = key if CVE_RE.match(key) else None
    title_adv = advisories.get(primary.advisory_id) or (advisories.get(cve) if cve else None)
    refs: list[str] = []
    for i in ids:
        adv = advisories.get(i)
        for _, url in adv.references if adv else ():
            if url not in refs:
                refs.append(url)
    kev_entry = kev.get(cve) if cve else None
    epss_entry = epss.get(cve) if cve else None
    return {
        "id": key,
        "aliases": ids[1:],
        "package": {
            "id": package_id(pkg),
            "name": pkg.name,
            "version": pkg.version,
            "type": pkg.type,
            "ecosystem": pkg.ecosystem,
            "purl": pkg.purl,
            "source_name": pkg.source_name,
            "source_version": pkg.source_version,
            "paths": list(pkg.paths),
            "kind": pkg.kind,
        },
        "layer": _layer_dict(pkg.layer),
        "status": status,
        "fixed_version": fixed_version,
        "severity": severity,
        "severity_source": severity_source,
        "cvss": cvss.as_dict() if cvss else None,
        "epss": {"score": epss_entry.score, "percentile": epss_entry.percentile, "date": epss_entry.date} if epss_entry else None,
        "kev": {"date_added": kev_entry.date_added, "due_date": kev_entry.due_date, "ransomware": kev_entry.ransomware}
        if kev_entry
        else None,
        "title": (title_adv.summary or "") if title_adv else "",
        "references": refs[:20],
        "data_source": primary.feed,
        "advisory_ids": sorted({r.advisory_id for r in recs}),
        "published": title_adv.published if title_adv else None,
    }


def _severity(
    key: str, recs: list[AffectedRecord], advisories: dict[str, Advisory], pkg: Package
) -> tuple[str, str, Cvss | None]:
    """Vendor first, then NVD, then the advisory's own (word, else computed from its CVSS vector)."""
    nvd_adv = advisories.get(key) if CVE_RE.match(key) else None
    nvd_cvss = best_cvss(nvd_adv.severities, "nvd") if nvd_adv and "nvd" in (nvd_adv.feeds or [nvd_adv.feed]) else None
    own_cvss = None
    for rec in recs:
        adv = advisories.get(rec.advisory_id)
        if adv and own_cvss is None:
            own_cvss = best_cvss(adv.severities, rec.feed)
    cvss = nvd_cvss or own_cvss
    if pkg.type in OS_PACKAGE_TYPES:
        for rec in recs:
            word = normalize_word(rec.severity)
            if word is None and rec.feed in DISTRO_FEEDS and rec.advisory_id in advisories:
                word = normalize_word(advisories[rec.advisory_id].severity)
            if word and word != "UNKNOWN":
                return word, rec.feed, cvss
    else:
        for rec in recs:
            word = normalize_word(rec.severity)
            if word and word != "UNKNOWN":
                return word, rec.feed, cvss
    if nvd_cvss and nvd_cvss.score is not None:
        return from_score(nvd_cvss.score, nvd_cvss.version), "nvd", cvss
    for rec in recs:
        adv = advisories.get(rec.advisory_id)
        word = normalize_word(adv.severity) if adv else None
        if word and word != "UNKNOWN":
            return word, rec.feed, cvss
    if own_cvss and own_cvss.score is not None:
        return from_score(own_cvss.score, own_cvss.version), recs[0].feed, cvss
    return "UNKNOWN", "", cvss
