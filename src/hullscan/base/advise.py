"""Base image advice (`hullscan base advise`): for an image whose base the catalog identifies, the
catalog's other images of the same repository, platform and OS family, ranked by how many of the image's
*inherited* vulnerabilities they remove — Docker Scout's recommendation, offline.

Each candidate's stored inventory (the catalog keeps packages, never findings) is matched against the
current vulnerability DB by the same matchers a scan uses, handed in as `match` (base/ sits left of
match/ in docs/architecture.md, so the CLI wires the two). A finding is one vulnerability in one package:
(id, package type, package name). "Removed" are the image's inherited findings the candidate does not
have; "remaining" those it still has; "added" the candidate's findings the current base (matched the
same way, from the catalog) does not have — what moving to it brings in.

Ranking: most removed first, then fewest added, then fewest remaining, then the newest (`created`),
then the reference, so the order is total and stable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hullscan.errors import InputError
from hullscan.model.findings import SEVERITIES, Finding
from hullscan.model.inventory import Package
from hullscan.model.report import Report
from hullscan.state.catalog import Catalog, CatalogEntry
from hullscan.state.names import split_name

SCHEMA_VERSION = "1.0"
"""Of `docs/base-advise.schema.json`; grows by extension like the report's."""

Key = tuple[str, str, str]
"""A finding's identity across images: (vulnerability id, package type, package name)."""
PackagesOf = Callable[[int], Sequence[Package]]
"""A catalog entry's stored packages, as `Package`s the matchers read."""
Match = Callable[[Sequence[Package]], Sequence[Finding]]
"""Findings for packages against the current DB (match/loop.py through the CLI)."""


@dataclass(frozen=True)
class Remaining:
    """A finding as advice lists it."""

    id: str
    package: str
    version: str
    severity: str
    fixed_version: str


@dataclass(frozen=True)
class Candidate:
    entry: CatalogEntry
    removed: tuple[Remaining, ...]
    """The image's inherited findings this base does not have."""
    remaining: tuple[Remaining, ...]
    """The image's inherited findings this base still has."""
    added: tuple[Remaining, ...]
    """Findings of this base that the current base does not have."""


@dataclass(frozen=True)
class Advice:
    base: CatalogEntry | None
    """The identified base's catalog entry; None when there is no advice to give (`reason` says why)."""
    inherited: tuple[Remaining, ...]
    """The image's inherited findings (what a better base could remove)."""
    candidates: tuple[Candidate, ...]
    """Ranked, best first."""
    reason: str = ""
    """Why there is no candidate, when there is none."""


def key(f: Finding) -> Key:
    return (f.id, f.package.type, f.package.name)


def _listed(f: Finding) -> Remaining:
    return Remaining(f.id, f.package.name, f.package.version, (f.severity or "UNKNOWN").upper(), f.fixed_version)


def _sorted(items: Iterable[Remaining]) -> tuple[Remaining, ...]:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return tuple(sorted(items, key=lambda r: (rank.get(r.severity, len(rank)), r.id, r.package)))


def by_severity(items: Iterable[Remaining]) -> dict[str, int]:
    """Counts for every severity word, most severe first (zeros included: a stable shape)."""
    counts = Counter(r.severity for r in items)
    return {s: counts.get(s, 0) for s in SEVERITIES}


def current_entry(report: Report, catalog: Catalog) -> tuple[CatalogEntry | None, str]:
    """The catalog entry of the image's base, or None with the reason there is none."""
    base = report.base_image
    if base.method not in ("catalog", "annotation") or base.catalog_id is None:
        if base.method == "not_applicable":
            return None, "the target has no layers, so no base image"
        how = {"none": "not identified", "history": "only guessed from the history (provisional)",
               "similar": f"only similar to {base.name} (no catalogued base is a prefix of the image)",
               "annotation": f"named by its annotation ({base.name or base.digest}) but not in the catalog"}
        return None, (f"the base image is {how.get(base.method, base.method)}; "
                      "add the image's base with `hullscan base add` to get advice")
    entries: list[CatalogEntry] = []
    if base.name:
        try:
            entries = catalog.by_name(split_name(base.name)[0])
        except InputError:
            entries = []
    found = next((e for e in entries if e.id == base.catalog_id), None)
    if found is None and base.digest:
        found = catalog.by_digest(base.digest)
    if found is None:
        return None, f"the base image {base.name or base.digest} is no longer in the catalog"
    return found, ""


def candidates_for(current: CatalogEntry, catalog: Catalog) -> list[CatalogEntry]:
    """The catalog's other images of the same repository, platform and OS family."""
    return [e for e in catalog.by_name(current.name)
            if e.id != current.id and e.platform == current.platform and e.os_id == current.os_id]


def advise(report: Report, catalog: Catalog, packages_of: PackagesOf, match: Match) -> Advice:
    """Advice for a scanned image (`report`: the vuln scanner ran, the base identified against `catalog`)."""
    inherited = [f for f in report.vulnerabilities if f.inherited]
    listed = _sorted(_listed(f) for f in inherited)
    current, reason = current_entry(report, catalog)
    if current is None:
        return Advice(None, listed, (), reason)
    others = candidates_for(current, catalog)
    if not others:
        return Advice(current, listed, (), f"the catalog holds no other image of {current.name} for {current.platform} "
                                           f"and {current.os_id or 'no OS'}")
    mine = {key(f): f for f in inherited}
    before = {key(f) for f in match(packages_of(current.id))}
    ranked = []
    for entry in others:
        theirs = {key(f): f for f in match(packages_of(entry.id))}
        ranked.append(Candidate(
            entry=entry,
            removed=_sorted(_listed(f) for k, f in mine.items() if k not in theirs),
            remaining=_sorted(_listed(f) for k, f in mine.items() if k in theirs),
            added=_sorted(_listed(f) for k, f in theirs.items() if k not in before and k not in mine),
        ))
    ranked.sort(key=lambda c: (-len(c.removed), len(c.added), len(c.remaining), _newest_first(c.entry.created),
                               c.entry.reference))
    return Advice(current, listed, tuple(ranked))


def _newest_first(created: str | None) -> tuple[int, str]:
    """Sorts newer creation dates first, unknown ones last (RFC 3339 strings of one shape compare as text)."""
    if not created:
        return (1, "")
    return (0, "".join(chr(0x10FFFF - ord(ch)) for ch in created))


def to_dict(advice: Advice, report: Report) -> dict[str, object]:
    """The JSON document (`docs/base-advise.schema.json`)."""

    def entry(e: CatalogEntry) -> dict[str, object]:
        return {"catalog_id": e.id, "reference": e.reference, "name": e.name, "tags": list(e.tags),
                "manifest_digest": e.manifest_digest, "config_digest": e.config_digest, "platform": e.platform,
                "created": e.created, "os": {"id": e.os_id, "version": e.os_version}}

    def findings(items: Sequence[Remaining]) -> list[dict[str, str]]:
        return [{"id": r.id, "package": r.package, "version": r.version, "severity": r.severity,
                 "fixed_version": r.fixed_version} for r in items]

    target = report.target
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": report.created_at,
        "target": {"input": target.input, "name": target.name, "manifest_digest": target.manifest_digest,
                   "config_digest": target.config_digest},
        "db": {"location": report.db.location, "built_at": report.db.built_at} if report.db is not None else None,
        "base_image": {"name": report.base_image.name, "digest": report.base_image.digest,
                       "method": report.base_image.method},
        "base": entry(advice.base) if advice.base is not None else None,
        "inherited": {"total": len(advice.inherited), "by_severity": by_severity(advice.inherited),
                      "findings": findings(advice.inherited)},
        "candidates": [{
            "rank": i,
            **entry(c.entry),
            "removes": {"total": len(c.removed), "by_severity": by_severity(c.removed), "findings": findings(c.removed)},
            "remaining": {"total": len(c.remaining), "by_severity": by_severity(c.remaining),
                          "findings": findings(c.remaining)},
            "adds": {"total": len(c.added), "by_severity": by_severity(c.added), "findings": findings(c.added)},
        } for i, c in enumerate(advice.candidates, 1)],
        "reason": advice.reason or None,
    }


def stored_packages(state: str | None) -> tuple[PackagesOf, Callable[[], None]]:
    """Reads catalog entries' stored packages whole (type, arch, source package and purl: what the
    matchers need, which `Catalog.packages` leaves out) from the state store at `state`; and its closer."""
    from sqlalchemy import select

    from hullscan.state.models import BasePackage
    from hullscan.state.store import open_state

    store = open_state(state)

    def packages_of(entry_id: int) -> list[Package]:
        with store.read() as conn:
            rows = conn.execute(select(BasePackage.type, BasePackage.ecosystem, BasePackage.name, BasePackage.version,
                                       BasePackage.arch, BasePackage.source_name, BasePackage.source_version,
                                       BasePackage.purl).where(BasePackage.entry_id == entry_id)).all()
        return [Package(type=t, name=n, version=v, ecosystem=e, purl=p, analyzer="base-catalog", arch=a,
                        source_name=sn, source_version=sv, inherited=True)
                for t, e, n, v, a, sn, sv, p in sorted(rows)]

    return packages_of, store.close
