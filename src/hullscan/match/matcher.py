"""The `Matcher` interface, after claircore's matchers: three small steps per package, each testable alone.

1. `handles(pkg)` — the filter: whether this matcher decides for the package (match/registry.py asks
   the matchers in order; the first that handles a package matches it).
2. `queries(pkg)` — which (ecosystem, name) pairs to ask the DB, and as which identity of the package.
3. `vulnerable(pkg, record, query)` — the version decision for one advisory record, with the record's
   ecosystem scheme and the vendor's status: `MatchDetails` saying what matched, or None.

The decision itself is the same for every family (OSV ranges, listed versions, requirement strings,
a vendor status without a range): `decide` below. A family says which version of the package the
advisories speak of (`version`) and how a fixed version is shown (`shown_fix`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from hullscan.model.findings import STATUSES, MatchDetails
from hullscan.model.inventory import Inventory, Package
from hullscan.versions import Scheme, scheme_for_ecosystem
from hullscan.versions.osv import affected
from hullscan.vulndb.model import AffectedRecord
from hullscan.vulndb.read import AdvisoryReader

#: Which name of a package a query asks by (MatchDetails.identity says which one made a record match).
SOURCE, BINARY, NAME, UPSTREAM = "source", "binary", "name", "upstream"

Group = tuple[str, list[tuple[AffectedRecord, MatchDetails]]]
"""One vulnerability's key (its CVE, else its smallest id) and the (record, how it matched) hits of one package."""

Query = tuple[str, str, str]
"""(ecosystem, name, identity): one pair to ask the DB for a package — the ecosystem as the package's
release names it (`Debian:12`) or the release a rebuild follows (`Red Hat:7`), the name — and which name
of the package it is (SOURCE, BINARY, NAME or UPSTREAM). A plain tuple: a scan makes thousands."""


class CannotEvaluate(Exception):
    """A record the matcher cannot evaluate (a constraint its ecosystem cannot read, an ecosystem without
    a version scheme): the loop reports it as a warning and goes on with the other records."""


class Matcher(ABC):
    """One ecosystem family's matching rules."""

    name: ClassVar[str]
    """Recorded as `MatchDetails.matcher`."""

    @abstractmethod
    def handles(self, pkg: Package) -> bool:
        """Whether this matcher decides for `pkg` (a package it cannot query, e.g. without a version, is
        still handled when no other matcher should take it: `queries` then returns [])."""

    @abstractmethod
    def queries(self, pkg: Package) -> list[Query]:
        """The pairs to ask, most specific identity first ([] when the package cannot be matched)."""

    def covered_by(self, pkg: Package, queries: list[Query]) -> str:
        """The ecosystem whose advisories cover `pkg`, as coverage names it (the loop warns when the DB holds
        none of what `queries` ask): by default the last query's."""
        return queries[-1][0]

    def for_image(self, inventory: Inventory, db: AdvisoryReader) -> Matcher:
        """This matcher bound to one image, for families whose advisories depend on more than a package's
        ecosystem (the Red Hat product streams an image follows: match/rpm.py); the others need nothing."""
        return self

    def settle(self, groups: list[Group], rows: list[AffectedRecord], db: AdvisoryReader) -> list[Group]:
        """The package's matched records grouped per vulnerability (`merge.group`), after weighing every
        row asked for the package (`rows`, statuses `not_affected` included) across feeds and streams: a
        family whose vendor scopes its statements (Red Hat's xUS fallback and VEX `not_affected`:
        match/rpm.py) drops hits here; the others keep every group."""
        return groups

    def version(self, pkg: Package) -> str:
        """The version of `pkg` its advisories speak of."""
        return pkg.version

    def shown_fix(self, fix: str) -> str:
        """A record's fixed version as the finding shows it."""
        return fix

    def vulnerable(self, pkg: Package, record: AffectedRecord, query: Query) -> MatchDetails | None:
        """How `record` matches `pkg`, None when the installed version is not affected. Raises
        CannotEvaluate when the record cannot be evaluated."""
        return decide(self.name, self.version(pkg), record, query)


def decide(matcher: str, version: str, record: AffectedRecord, query: Query) -> MatchDetails | None:
    """The version decision shared by every family, with the record's own ecosystem scheme: OSV ranges and
    listed versions; requirement strings (a version satisfying none of the safe requirements is
    vulnerable); a record without either is the vendor's status for every version (Debian `<unfixed>`).
    Called for every record of every package asked, most of which do not match: only a match pays for
    its constraint text."""
    scheme = _scheme(record.ecosystem)
    if scheme is None:
        raise CannotEvaluate(f"no version scheme for ecosystem {record.ecosystem}")
    try:
        constraint = _constraint(version, record, scheme)
    except ValueError as err:  # the versions package's word for a constraint its ecosystem cannot read
        raise CannotEvaluate(str(err)) from err
    if constraint is None:
        return None
    ecosystem, _, identity = query
    # positional, in MatchDetails' field order: a record's keyword construction costs twice as much
    return MatchDetails(matcher, record.feed, record.advisory_id, ecosystem, record.package, identity, version,
                        scheme.name, constraint, record.status)


#: Vendor statuses that, without a range, mean every version is affected.
_AFFECTING = frozenset(STATUSES) - {"fixed", "not_affected"}


@lru_cache(maxsize=256)
def _scheme(ecosystem: str) -> Scheme | None:
    return scheme_for_ecosystem(ecosystem)


def _constraint(version: str, record: AffectedRecord, scheme: Scheme) -> str | None:
    """What `version` fell into (MatchDetails.constraint), None when it is not affected."""
    if not record.ranges and not record.versions:
        return f"{record.status}, no range" if record.status in _AFFECTING else None
    reqs = []
    for r in record.ranges:
        if "requirements" in r:
            reqs.append(r)
        elif affected(version, (r,), (), scheme):
            return _range_text(version, r, scheme)
    if record.versions and affected(version, (), record.versions, scheme):
        return ", ".join(f"={v}" for v in record.versions if v == version or scheme.compare(version, v) == 0)
    for r in reqs:
        patched = list(r["requirements"].get("patched") or [])
        unaffected = list(r["requirements"].get("unaffected") or [])
        # the record's own ecosystem rules read its requirement strings (crates.io → cargo: bare `1.2.3`
        # means ^1.2.3; RubyGems → gem `~>`); the stored dialect only names the syntax family
        if not any(scheme.satisfies(version, c, "native") for c in patched + unaffected):
            return _requirements_text(patched, unaffected)
    return None


def _requirements_text(patched: list[str], unaffected: list[str]) -> str:
    """`not patched by >= 3.1.0 or >= 2.1.3, < 3.0.0`: the safe requirements the version satisfies none of."""
    parts = []
    if patched:
        parts.append("not patched by " + " or ".join(patched))
    if unaffected:
        parts.append("not unaffected by " + " or ".join(unaffected))
    return "; ".join(parts) or "no patched or unaffected version"


_EVENT_TEXT = {"introduced": ">=", "fixed": "<", "last_affected": "<=", "limit": "<"}


def _range_text(version: str, rng: Mapping[str, Any], scheme: Scheme) -> str:
    """`>=0, <1.2.3-1`: the interval of an OSV range that holds `version` (a range may hold several:
    `introduced 0.1.14, fixed 1.8.4, introduced 1.9.0, fixed 1.13.1`), as comparisons."""
    events: Sequence[Mapping[str, Any]] = rng.get("events") or ()
    limits = [e for e in events if "limit" in e]
    intervals: list[list[Mapping[str, Any]]] = []
    for e in events:
        if "introduced" in e or not intervals:
            intervals.append([])
        if "limit" not in e:
            intervals[-1].append(e)
    if len(intervals) > 1:
        for interval in intervals:
            if affected(version, [{**rng, "events": interval + limits}], (), scheme):
                return _events_text(interval + limits)
    return _events_text(events)


def _events_text(events: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{_EVENT_TEXT[k]}{v}" for e in events for k, v in e.items() if k in _EVENT_TEXT)
