"""The generic matching loop: inventory × vulnerability DB → findings.

Filter the packages by the scan's options, give each to the first matcher that handles it, ask the DB
once for every query of every package, let each package's matcher decide on each record, then merge
the records of one vulnerability into one finding per package, and the findings of several copies of one
package (same ecosystem, name and version: a dist-info and a lockfile) into one finding with `locations`
(merge.py). Families differ only inside their matcher (match/registry.py lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hullscan.match import merge
from hullscan.match.matcher import CannotEvaluate, Matcher, Query
from hullscan.match.options import MatchOptions
from hullscan.match.registry import MATCHERS
from hullscan.model.findings import Finding
from hullscan.model.inventory import OS_PACKAGE_TYPES, Inventory, Package
from hullscan.vulndb.read import AdvisoryReader


@dataclass
class MatchResult:
    findings: list[Finding] = field(default_factory=list)
    """Sorted by package name, package version, id; one per vulnerability and package identity."""
    warnings: list[str] = field(default_factory=list)
    """Records that could not be evaluated; ecosystems the DB holds nothing for."""
    matched_packages: int = 0
    """Packages that were asked for (a matcher had queries for them)."""


def filter_packages(inventory: Inventory, options: MatchOptions) -> list[Package]:
    """The packages `--pkg-types` asks for; language packages an OS package owns only with `include_owned`
    (the distro's advisories cover them)."""
    out = []
    for pkg in inventory.packages:
        if ("os" if pkg.type in OS_PACKAGE_TYPES else "library") not in options.pkg_types:
            continue
        if pkg.owned_by and not options.include_owned:
            continue
        out.append(pkg)
    return out


def match_inventory(inventory: Inventory, db: AdvisoryReader, options: MatchOptions | None = None,
                    matchers: tuple[Matcher, ...] = MATCHERS) -> MatchResult:
    """Findings for the inventory's packages, each decided by the first of `matchers` that handles it. A
    record a matcher cannot evaluate is a warning; any other error propagates."""
    result = MatchResult()
    asked: list[tuple[Package, Matcher, list[Query]]] = []
    for pkg in filter_packages(inventory, options or MatchOptions()):
        for matcher in matchers:
            if matcher.handles(pkg):
                queries = matcher.queries(pkg)
                if queries:
                    asked.append((pkg, matcher, queries))
                break
    result.matched_packages = len(asked)
    _warn_missing_ecosystems(db, {queries[-1][0] for _, _, queries in asked}, result)
    rows = db.affected_for({(ecosystem, name) for _, _, queries in asked for ecosystem, name, _ in queries})
    matched: list[tuple[Package, Matcher, list[merge.Hit]]] = []
    for pkg, matcher, queries in asked:
        hits: list[merge.Hit] = []
        asked_keys: set[tuple[str, str]] = set()
        decided: set[tuple[str, str, str, str]] = set()
        for query in queries:
            ecosystem, name, _ = query
            if (ecosystem, name) in asked_keys:
                continue  # the same rows through a second identity: decided by the first
            asked_keys.add((ecosystem, name))
            for rec in rows[(ecosystem, name)]:
                ident = (rec.feed, rec.advisory_id, rec.ecosystem, rec.package)
                if rec.status == "not_affected" or ident in decided:
                    continue
                try:
                    details = matcher.vulnerable(pkg, rec, query)
                except CannotEvaluate as err:
                    result.warnings.append(
                        f"{rec.advisory_id}: cannot evaluate for {pkg.name} {matcher.version(pkg)}: {err}")
                    continue
                if details is not None:
                    # one hit per advisory and package; every row is tried until one holds the version,
                    # because an OSV record may give each branch its own `affected` entry (GHSA does)
                    decided.add(ident)
                    hits.append((rec, details))
        if hits:
            matched.append((pkg, matcher, hits))
    advisory_ids = {rec.advisory_id for _, _, hits in matched for rec, _ in hits}
    advisories = db.advisories(advisory_ids)
    cves = {a for adv in advisories.values() for a in adv.aliases if merge.CVE_RE.match(a)} | {
        i for i in advisory_ids if merge.CVE_RE.match(i)}
    # the CVEs' own advisories (NVD's scores) next to the records'; the records' win on a shared id
    all_adv = {**db.advisories(cves - advisory_ids), **advisories} if cves else advisories
    kev = db.kev(cves) if cves else {}
    epss = db.epss(cves) if cves else {}
    findings = [merge.finding(pkg, matcher, key, group, all_adv, kev, epss)
                for pkg, matcher, hits in matched for key, group in merge.group(hits, advisories)]
    result.findings = merge.by_package(findings)
    result.findings.sort(key=lambda f: (f.package.name, f.package.version, f.id))
    return result


def _warn_missing_ecosystems(db: AdvisoryReader, wanted: set[str], result: MatchResult) -> None:
    """A release the DB holds no advisories for would silently match nothing: say so."""
    have = db.ecosystems()
    have_base = {e.partition(":")[0] for e in have}
    for eco in sorted(wanted):
        if eco not in have and not (":" not in eco and eco in have_base):
            result.warnings.append(
                f"the vulnerability DB holds no advisories for {eco}: its packages were not matched "
                f"(import the feed that covers it)"
            )
