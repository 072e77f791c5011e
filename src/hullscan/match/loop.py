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
from hullscan.model.report import Coverage
from hullscan.vulndb.ecosystems import base_ecosystem, lookup_variants
from hullscan.vulndb.model import AffectedRecord, FeedState
from hullscan.vulndb.read import AdvisoryReader, EcosystemState


@dataclass
class MatchResult:
    findings: list[Finding] = field(default_factory=list)
    """Sorted by package name, package version, id; one per vulnerability and package identity."""
    warnings: list[str] = field(default_factory=list)
    """Records that could not be evaluated; ecosystems the DB holds nothing for."""
    matched_packages: int = 0
    """Packages that were asked for (a matcher had queries for them)."""
    coverage: tuple[Coverage, ...] = ()
    """Per ecosystem the asked packages' last queries name (the one whose rows cover them), by name."""


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
    matchers = tuple(m.for_image(inventory, db) for m in matchers)
    asked: list[tuple[Package, Matcher, list[Query]]] = []
    for pkg in filter_packages(inventory, options or MatchOptions()):
        for matcher in matchers:
            if matcher.handles(pkg):
                queries = matcher.queries(pkg)
                if queries:
                    asked.append((pkg, matcher, queries))
                break
    result.matched_packages = len(asked)
    # per ecosystem whose advisories cover a package: how many packages, every ecosystem they ask (a Red Hat
    # image's streams, a rebuild's upstream)
    wanted: dict[str, tuple[int, set[str]]] = {}
    for pkg, matcher, queries in asked:
        eco = matcher.covered_by(pkg, queries)
        n, ecos = wanted.get(eco, (0, set()))
        wanted[eco] = (n + 1, ecos | {q[0] for q in queries})
    result.coverage = coverage_of(wanted, db.coverage(), db.feeds())
    for gap in result.coverage:
        if not gap.present:  # a release the DB holds nothing for would silently match nothing: say so
            result.warnings.append(f"the vulnerability DB holds no advisories for {gap.ecosystem}: its packages "
                                   f"were not matched (import the feed that covers it)")
    rows = db.affected_for({(ecosystem, name) for _, _, queries in asked for ecosystem, name, _ in queries})
    matched: list[tuple[Package, Matcher, list[merge.Hit], list[AffectedRecord]]] = []
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
        if hits:  # with every row asked for it: the matcher's `settle` weighs them across feeds and streams
            matched.append((pkg, matcher, hits, [rec for key in asked_keys for rec in rows[key]]))
    advisory_ids = {rec.advisory_id for _, _, hits, _ in matched for rec, _ in hits}
    advisories = db.advisories(advisory_ids)
    cves = {a for adv in advisories.values() for a in adv.aliases if merge.CVE_RE.match(a)} | {
        i for i in advisory_ids if merge.CVE_RE.match(i)}
    # the CVEs' own advisories (NVD's scores) next to the records'; the records' win on a shared id
    all_adv = {**db.advisories(cves - advisory_ids), **advisories} if cves else advisories
    kev = db.kev(cves) if cves else {}
    epss = db.epss(cves) if cves else {}
    findings = [merge.finding(pkg, matcher, key, group, all_adv, kev, epss)
                for pkg, matcher, hits, seen in matched
                for key, group in matcher.settle(merge.group(hits, advisories), seen, db)]
    result.findings = merge.by_package(findings)
    result.findings.sort(key=lambda f: (f.package.name, f.package.version, f.id))
    return result


def coverage_of(wanted: dict[str, tuple[int, set[str]]], stored: list[EcosystemState],
                feeds: list[FeedState]) -> tuple[Coverage, ...]:
    """The DB's coverage of each ecosystem in `wanted` (ecosystem -> (packages asked, every ecosystem their
    queries name: a rebuild's own and its upstream's, a Red Hat image's streams)): the stored ecosystems
    those queries read (`lookup_variants`; for one without a release, any release of it), summed over the
    feeds that hold them."""
    when = {f.feed: f.fetched_at or f.imported_at for f in feeds}
    out = []
    for eco in sorted(wanted):
        count, asked = wanted[eco]
        variants = {v for q in asked for v in lookup_variants(q)}
        bare = {q for q in asked if ":" not in q}
        rows = [r for r in stored if r.ecosystem in variants or base_ecosystem(r.ecosystem) in bare]
        names = tuple(sorted({r.feed for r in rows}))
        newest = max((r.newest for r in rows if r.newest), default=None)
        fetched = [w for w in (when.get(n) for n in names) if w]
        out.append(Coverage(eco, count, sum(r.advisories for r in rows),
                            newest[:10] if newest else None, min(fetched) if fetched else None, names))
    return tuple(out)
