"""Plain data of the vulnerability DB: what importers produce and what lookups return.

Dates are ISO 8601 strings as the feeds give them (backend-neutral, sortable when UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: The status enum of DESIGN.md (VEX spelling).
STATUSES = (
    "fixed",
    "affected",
    "will_not_fix",
    "fix_deferred",
    "end_of_life",
    "not_affected",
    "under_investigation",
)

Severity = tuple[str, "str | None", "float | None"]
"""(type, vector, score): type is OSV's (`CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`...)."""

Reference = tuple[str, str]
"""(type, url): type is OSV's reference type (`ADVISORY`, `FIX`, `WEB`...)."""


def now_iso() -> str:
    """The current time as the DB records it: ISO 8601, UTC, whole seconds (`2025-09-04T12:00:00Z`)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def fixed_versions_of(ranges: list[dict[str, Any]]) -> list[str]:
    """Every `fixed` event of OSV-style ranges, in order, without duplicates."""
    out: list[str] = []
    for rng in ranges:
        for ev in rng.get("events") or ():
            v = ev.get("fixed")
            if v is not None and v not in out:
                out.append(v)
    return out


@dataclass(frozen=True, slots=True)
class AffectedRecord:
    """One (advisory, ecosystem, package) row: what the matcher evaluates a package version against."""

    advisory_id: str
    """The advisory's own id (`PYSEC-2021-1`, `DSA-5380-1`, `CVE-2019-1547` for Alpine secdb)."""
    ecosystem: str
    """OSV ecosystem, with the distro release for distros: `Debian:10`, `Alpine:v3.10`, `PyPI`."""
    package: str
    """Package name as stored: PEP 503 normalized for PyPI, as-is otherwise; the SOURCE package for distros."""
    ranges: list[dict[str, Any]]
    """OSV-style ranges `{type, events:[{introduced|fixed|last_affected|limit: v}]}`; a requirement range
    that events cannot express exactly is `{type, requirements:{patched, unaffected}, dialect}` (docs/vulndb.md)."""
    versions: list[str]
    """Explicitly listed affected versions."""
    status: str
    """One of STATUSES."""
    fixed_versions: list[str]
    """Versions that fix it (the `fixed` events), empty when there is none."""
    severity: str | None
    """The vendor's severity word for this package (`HIGH`, Debian urgency `low`...), if the feed gave one."""
    feed: str
    """Feed that supplied the row (`osv`, `debian`, `alpine`...)."""


@dataclass(frozen=True, slots=True)
class Advisory:
    """An advisory's descriptive data (merged over feeds when several carry the same id)."""

    id: str
    """Advisory id."""
    feed: str
    """Primary feed (the first that is not pure enrichment such as NVD)."""
    aliases: list[str]
    """Other ids of the same vulnerability (CVE, GHSA, PYSEC, DSA...)."""
    summary: str | None
    """One-line title."""
    details: str | None
    """Longer description."""
    published: str | None
    """When published (ISO 8601)."""
    modified: str | None
    """When last modified (ISO 8601)."""
    withdrawn: str | None
    """When withdrawn (ISO 8601), None when live."""
    severities: list[Severity]
    """(type, vector, score) triples; score computed from the vector when the feed gave none."""
    cwes: list[str]
    """CWE ids (`CWE-79`)."""
    references: list[Reference]
    """(type, url) pairs."""
    severity: str | None
    """The source's severity word (`HIGH`, `moderate`...), if it gave one."""
    feeds: list[str] = field(default_factory=list)
    """Every feed holding this id (the primary first)."""


@dataclass(frozen=True, slots=True)
class KevEntry:
    """One CISA Known Exploited Vulnerabilities entry."""

    cve: str
    """CVE id."""
    vendor: str | None
    """Vendor or project."""
    product: str | None
    """Product."""
    name: str | None
    """CISA's vulnerability name."""
    date_added: str | None
    """Date added to the catalog (YYYY-MM-DD)."""
    due_date: str | None
    """Remediation due date for US federal agencies (YYYY-MM-DD)."""
    ransomware: bool | None
    """Known use in ransomware campaigns (True for `Known`, False for `Unknown`)."""
    required_action: str | None
    """CISA's required action."""
    notes: str | None
    """Notes (links)."""


@dataclass(frozen=True, slots=True)
class EpssEntry:
    """One EPSS score."""

    cve: str
    """CVE id."""
    score: float
    """Probability of exploitation in the next 30 days (0..1)."""
    percentile: float
    """Percentile of the score among all CVEs (0..1)."""
    date: str | None
    """Score date (YYYY-MM-DD)."""


@dataclass(frozen=True, slots=True)
class EolCycle:
    """One release cycle of an endoflife.date product (vulndb/eol.py; the `eol` feed, table hs_eol).
    Dates are `YYYY-MM-DD`; None when the product announces none."""

    product: str
    """endoflife.date product (`debian`, `rhel`, `alpine-linux`)."""
    cycle: str
    """Release cycle as endoflife.date names it (`10`, `22.04`, `3.19`, `2018.03`)."""
    release_date: str | None
    eol: str | None
    """End of (security) support; None while none is announced (a cycle saying `eol: true` without a date
    is skipped and counted by the parser: it cannot say since when)."""
    support: str | None
    """End of active support (bug fixes), when the product tells it apart."""
    extended: str | None
    """End of extended support (Debian LTS, Ubuntu ESM, RHEL ELS, SUSE LTSS)."""


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the DB knows about one feed's last import/update."""

    feed: str
    """Feed name (`osv`, `debian`, `kev`...)."""
    source: str | None
    """URL(s) or path(s) it came from."""
    etag: str | None
    """ETag(s) of the last download (JSON object per URL when several)."""
    last_modified: str | None
    """Last-Modified header(s) of the last download."""
    fetched_at: str | None
    """When last checked upstream (ISO 8601 UTC), None when only imported from disk."""
    imported_at: str | None
    """When its data was last written (ISO 8601 UTC)."""
    advisories: int
    """Advisories held."""
    affected: int
    """Affected rows held."""
    records: int
    """Other records held (KEV / EPSS entries)."""
    skipped: int
    """Records skipped as invalid in the last import."""
    last_error: str | None
    """Error of the last failed update (data kept from before), None when it succeeded."""


# ---------------------------------------------------------------- import side


@dataclass(slots=True)
class AffectedIn:
    """An affected row as an importer builds it."""

    ecosystem: str
    package: str
    ranges: list[dict[str, Any]] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    status: str = "affected"
    severity: str | None = None
    imports: list[dict[str, Any]] = field(default_factory=list)
    """OSV `ecosystem_specific.imports` (the Go vulndb's): `[{"path": package, "symbols": [...]}]`, the
    affected packages of the module and the symbols in them (hullscan.reach's Go symbol level)."""


@dataclass(slots=True)
class AdvisoryIn:
    """An advisory as an importer builds it."""

    id: str
    summary: str | None = None
    details: str | None = None
    published: str | None = None
    modified: str | None = None
    withdrawn: str | None = None
    aliases: list[str] = field(default_factory=list)
    severities: list[Severity] = field(default_factory=list)
    cwes: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    severity: str | None = None
    affected: list[AffectedIn] = field(default_factory=list)


@dataclass(slots=True)
class FeedBatch:
    """Everything one import read for one feed; written to the DB in one transaction."""

    feed: str
    advisories: dict[str, AdvisoryIn] = field(default_factory=dict)
    kev: dict[str, KevEntry] = field(default_factory=dict)
    epss: dict[str, EpssEntry] = field(default_factory=dict)
    eol: dict[tuple[str, str], EolCycle] = field(default_factory=dict)
    """(product, cycle) → its dates (the `eol` feed)."""
    repo_cpe: dict[str, list[str]] = field(default_factory=dict)
    """Red Hat repository (content set) → its CPEs (the `redhat-repo-cpe` feed: the whole map, table hs_repo_cpe)."""
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)
    files: int = 0
    sources: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        """Count an invalid record and keep the first reasons for the summary."""
        self.skipped += 1
        if len(self.reasons) < 10:
            self.reasons.append(f"{where}: {why}")

    def put(self, adv: AdvisoryIn) -> None:
        """Add a complete advisory (OSV-like feeds): a second copy of an id keeps the newer one."""
        old = self.advisories.get(adv.id)
        if old is None or (adv.modified or "") >= (old.modified or ""):
            self.advisories[adv.id] = adv

    def merge(self, adv: AdvisoryIn) -> None:
        """Add an advisory assembled from pieces (distro feeds): rows and aliases accumulate."""
        old = self.advisories.get(adv.id)
        if old is None:
            self.advisories[adv.id] = adv
            return
        for a in adv.aliases:
            if a not in old.aliases:
                old.aliases.append(a)
        for r in adv.references:
            if r not in old.references:
                old.references.append(r)
        old.affected.extend(adv.affected)
        for attr in ("summary", "details", "published", "modified", "severity"):
            if getattr(old, attr) is None and getattr(adv, attr) is not None:
                setattr(old, attr, getattr(adv, attr))

    @property
    def records(self) -> int:
        return len(self.advisories) + len(self.kev) + len(self.epss) + len(self.eol) + len(self.repo_cpe)
