"""Reading the vulnerability DB: `AdvisoryReader`, the one interface the matchers, the reports and
`db status` read through; `open_reader(location)`; and what every implementation answers alike.

Implementations:
- `reader.SQLReader`: the SQL of every read, written once over a DBAPI connection — SQLite through
  the stdlib `sqlite3` (a scan never imports SQLAlchemy: ~0.25 s of CPU that would compete with the
  layer walkers), PostgreSQL through psycopg. The tables are `schema.py`'s; a test runs every query
  against a DB created from that schema and checks each column it names.
- `memory.MemoryReader`: importer batches held in memory, for fast tests of matching; a test checks
  that it answers as the SQLite reader does.
Writing is `store.VulnDB`'s alone.

Shared here so that the implementations cannot drift apart: which stored (ecosystem, name) pairs a
query reads (`query_keys`), how an advisory held by several feeds is merged (`merge_advisory`), and
the alias closure (`alias_closure`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol

from hullscan.vulndb.ecosystems import lookup_variants, normalize_name
from hullscan.vulndb.location import resolve_file
from hullscan.vulndb.model import (
    Advisory,
    AffectedRecord,
    EolCycle,
    EpssEntry,
    FeedState,
    KevEntry,
    Reference,
    Severity,
)

Pair = tuple[str, str]
"""(ecosystem, package name) as a query asks for it."""

#: Feeds that only enrich (never the primary record of an advisory when another feed has it).
ENRICHMENT_FEEDS = ("nvd",)
#: Which feed's text an advisory held by several shows (lower first; unknown feeds after these).
FEED_ORDER = {n: i for i, n in enumerate(("debian", "alpine", "wolfi", "chainguard", "osv", "rustsec", "rubysec", "nvd"))}


class AdvisoryReader(Protocol):
    """An open vulnerability DB, read-only. Lookups take many keys at once (a scan asks for thousands)
    and answer for every key asked. A DB that cannot be read raises `DatabaseError` (exit 4)."""

    @property
    def display(self) -> str:
        """Where the DB is, for messages: a path, or a URL without its password."""

    def affected_for(self, pairs: Iterable[Pair], *, include_withdrawn: bool = False) -> dict[Pair, list[AffectedRecord]]:
        """Affected rows for (ecosystem, package name) pairs, keyed by the pairs as given (every pair is
        a key, [] when nothing matches). Ecosystems match after canonical casing plus the release
        spellings of `ecosystems.lookup_variants` (`Alpine:3.19` also reads `Alpine:v3.19`); names are
        normalized as stored (PyPI: PEP 503). Rows of withdrawn advisories only with `include_withdrawn`."""
        ...

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]:
        """Advisories by id, merged over the feeds that hold an id (`merge_advisory`)."""
        ...

    def aliases_of(self, ids: Iterable[str]) -> dict[str, set[str]]:
        """Every id known to name the same vulnerability (transitively), the id itself excluded."""
        ...

    def kev(self, cves: Iterable[str]) -> dict[str, KevEntry]:
        """KEV entries of the CVEs that are in the catalog."""
        ...

    def epss(self, cves: Iterable[str]) -> dict[str, EpssEntry]:
        """EPSS scores of the CVEs that have one."""
        ...

    def imports(self, advisory_ids: Iterable[str]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
        """(feed, advisory id, package) → the record's `ecosystem_specific.imports` for that package
        (`[{"path", "symbols"}]`, Go vulndb records); keys without any are absent."""
        ...

    def eol_cycles(self) -> list[EolCycle]:
        """The `eol` feed's release cycles (hs_eol), by product then cycle; [] before its first update."""
        ...

    def repo_cpes(self, repos: Iterable[str]) -> dict[str, list[str]]:
        """Red Hat's CPE streams of the repositories (content sets) that are in hs_repo_cpe, sorted."""
        ...

    def feeds(self) -> list[FeedState]:
        """State of every feed the DB holds, by name."""
        ...

    def feed(self, name: str) -> FeedState | None:
        """One feed's state, None when the DB does not hold it."""
        ...

    def ecosystems(self) -> set[str]:
        """Every ecosystem with affected rows (`Debian:10`, `PyPI`...): a scan warns when it lacks one."""
        ...

    def coverage(self) -> list[EcosystemState]:
        """What every feed holds per ecosystem (hs_ecosystem, kept by the writer), by ecosystem then feed."""
        ...

    def counts(self) -> dict[str, int]:
        """Rows per table (advisories, affected, aliases, KEV, EPSS) by table name, for `db status`."""
        ...

    def generation(self) -> int:
        """The DB's current generation (the change id of the last import that changed anything), 0 before any."""
        ...

    def change_log(self) -> list[Generation]:
        """The generations the change log still holds, oldest first."""
        ...

    def changes_since(self, since: int) -> Changes | FullRematch:
        """What every import after generation `since` changed, merged; `FullRematch` when the log cannot say
        (it does not reach back that far, `since` is not of this DB, or a generation on the way was not
        logged advisory by advisory)."""
        ...

    def change_entries(self, since: int) -> list[AdvisoryChange]:
        """The log's advisory rows of the generations after `since`, in order (what `changes_since` merges)."""
        ...

    def change_cves(self, since: int) -> list[tuple[int, str, str]]:
        """(generation, CVE, `kev`|`epss`) of the generations after `since`: CVEs whose KEV flag or EPSS moved."""
        ...

    def meta(self) -> dict[str, str]:
        """The DB's own facts: format, schema_version, created_at, built_at."""
        ...

    @property
    def built_at(self) -> datetime | None:
        """When data was last written (UTC), None for an empty DB."""

    @property
    def age(self) -> timedelta | None:
        """Time since `built_at`."""

    def close(self) -> None:
        """Release the connection (the reader is not used afterwards)."""

    def __enter__(self) -> AdvisoryReader: ...

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None: ...


def open_reader(location: str | os.PathLike[str] | None = None) -> AdvisoryReader:
    """The DB at `location` opened for reading: None (HULLSCAN_DB_URL, else the default SQLite file),
    a SQLite file path or a `postgresql://` URL (vulndb/location.py). A missing, corrupt or foreign DB
    raises DatabaseError with one line saying how to rebuild it."""
    from hullscan.vulndb import reader  # here: reader.py builds on this module's shared code

    url, path = resolve_file(location)
    return reader.open_sqlite(path) if path is not None else reader.open_postgres(url)


# ---------------------------------------------------------------- what every reader answers alike


def query_keys(pairs: Iterable[Pair]) -> tuple[dict[Pair, list[AffectedRecord]], dict[Pair, list[Pair]]]:
    """For `affected_for`: (the answer with an empty list per pair asked, and per stored
    (ecosystem, name) to read, the pairs asked whose answer its rows belong to). Stored pairs come in
    the order the pairs asked first need them: the order of the rows in each answer."""
    out: dict[Pair, list[AffectedRecord]] = {}
    wanted: dict[Pair, list[Pair]] = {}
    for eco, name in pairs:
        if (eco, name) in out:
            continue  # asked twice: answered once
        out[(eco, name)] = []
        for stored_eco in lookup_variants(eco):
            wanted.setdefault((stored_eco, normalize_name(stored_eco, name)), []).append((eco, name))
    return out, wanted


@dataclass(frozen=True, slots=True)
class EcosystemState:
    """One feed's coverage of one stored ecosystem (a row of hs_ecosystem): live (not withdrawn) advisories
    and affected rows, and the newest advisory's date (the latest `published`/`modified` among them)."""

    feed: str
    ecosystem: str
    advisories: int
    affected: int
    newest: str | None


@dataclass(frozen=True, slots=True)
class Generation:
    """One import that changed the DB (a row of hs_generation): its change id, the one before it (None for a
    DB's first), when, which feeds, how many advisories it added / changed / withdrew / removed, how many
    CVEs' KEV flag or EPSS moved, and `full`: why it cannot be followed pair by pair (None when it can)."""

    generation: int
    previous: int | None
    created_at: str
    feeds: str
    added: int
    changed: int
    withdrawn: int
    removed: int
    kev: int
    epss: int
    full: str | None


#: The kinds of hs_change rows: `removed` is an advisory gone from a feed replaced whole.
CHANGE_KINDS = ("added", "changed", "withdrawn", "removed")


@dataclass(frozen=True, slots=True)
class AdvisoryChange:
    """One advisory one generation changed, with the (ecosystem, package) pairs it touches (a change: the
    pairs before and after)."""

    generation: int
    feed: str
    advisory_id: str
    kind: str
    pairs: tuple[Pair, ...]


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed from generation `since` to `generation`: re-match the stored packages of `pairs`;
    re-evaluate findings whose advisory id or an alias is in `advisories` (an NVD enrichment change names
    no pair) or in `cves` (KEV flag or EPSS moved)."""

    since: int
    generation: int
    pairs: frozenset[Pair]
    advisories: frozenset[str]
    cves: frozenset[str]


@dataclass(frozen=True, slots=True)
class FullRematch:
    """The change log cannot say what changed since `since`: re-match everything, and why."""

    since: int
    generation: int
    reason: str


def reach(since: int, current: int, log: list[Generation]) -> FullRematch | None:
    """Whether the change log `log` (oldest first) says everything that changed from `since` to `current`:
    None when it does, else the FullRematch to answer. Retention trims the oldest generations, so the log
    reaches back to `since` exactly when the first generation after it names `since` as its previous."""
    if since == current:
        return None
    if since > current or since < 0:
        return FullRematch(since, current, f"generation {since} is not one of this DB's (it is at {current}; rebuilt?)")
    after = [g for g in log if g.generation > since]
    if not after or after[0].previous != since:
        start = f"starts at generation {log[0].generation} ({log[0].created_at})" if log else "is empty"
        return FullRematch(since, current, f"the change log does not reach back to generation {since} (it {start})")
    full = next((g for g in after if g.full), None)
    if full is not None:
        return FullRematch(since, current, f"generation {full.generation} changed more than the log records: {full.full}")
    return None


def merge_changes(since: int, current: int, entries: Iterable[AdvisoryChange], cves: Iterable[tuple[int, str, str]]) -> Changes:
    """`changes_since`'s answer from the log rows after `since` (`cves`: `change_cves`'s)."""
    pairs: set[Pair] = set()
    ids: set[str] = set()
    for e in entries:
        pairs.update(e.pairs)
        ids.add(e.advisory_id)
    return Changes(since, current, frozenset(pairs), frozenset(ids), frozenset(c for _, c, _ in cves))


@dataclass(frozen=True, slots=True)
class AdvisoryRow:
    """One feed's advisory row (the columns of hs_advisory, in order)."""

    feed: str
    id: str
    summary: str | None
    details: str | None
    published: str | None
    modified: str | None
    withdrawn: str | None
    severity: str | None


@dataclass(slots=True)
class AdvisoryParts:
    """One feed's child rows of one advisory, in stored order."""

    aliases: list[str] = field(default_factory=list)
    severities: list[Severity] = field(default_factory=list)
    cwes: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


_NO_PARTS = AdvisoryParts()


def merge_advisory(adv_id: str, rows: list[AdvisoryRow], parts: Mapping[Pair, AdvisoryParts]) -> Advisory:
    """One advisory from the rows of every feed holding `adv_id` (`parts` by (feed, id)): the primary
    feed's text (FEED_ORDER, enrichment feeds last), each empty field from the next feed that has it;
    the union of aliases, CWEs and references; the primary's severities plus the other feeds' severities
    of types the primary lacks."""
    rows = sorted(rows, key=lambda r: (r.feed in ENRICHMENT_FEEDS, FEED_ORDER.get(r.feed, 99), r.feed))
    p = rows[0]
    aliases: list[str] = []
    sevs: list[Severity] = []
    cwes: list[str] = []
    refs: list[Reference] = []
    seen_urls: set[str] = set()
    for r in rows:
        k = parts.get((r.feed, adv_id), _NO_PARTS)
        for al in k.aliases:
            if al not in aliases and al != adv_id:
                aliases.append(al)
        have = {s[0] for s in sevs}
        for s in k.severities:
            if r is p or s[0] not in have:
                sevs.append(s)
        for c in k.cwes:
            if c not in cwes:
                cwes.append(c)
        for ty, url in k.references:
            if url not in seen_urls:
                seen_urls.add(url)
                refs.append((ty, url))

    def first(attr: str) -> str | None:
        value: str | None = next((getattr(r, attr) for r in rows if getattr(r, attr)), None)
        return value

    return Advisory(
        id=adv_id, feed=p.feed, aliases=aliases, summary=p.summary or first("summary"),
        details=p.details or first("details"), published=p.published or first("published"),
        modified=p.modified or first("modified"), withdrawn=p.withdrawn, severities=sevs, cwes=cwes,
        references=refs, severity=p.severity or first("severity"), feeds=[r.feed for r in rows],
    )


def alias_closure(ids: Iterable[str], edges: Callable[[list[str]], Iterable[Pair]]) -> dict[str, set[str]]:
    """`aliases_of`: `edges(ids)` gives the stored (advisory_id, alias) pairs naming any of `ids` on
    either side; ids are joined transitively (CVE <-> GHSA <-> PYSEC <-> DSA), four steps at most
    (alias chains are short; the walk stays bounded)."""
    idl = set(ids)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    seen: set[str] = set()
    frontier = set(idl)
    for _ in range(4):
        frontier -= seen
        if not frontier:
            break
        seen |= frontier
        nxt: set[str] = set()
        for a, b in edges(sorted(frontier)):
            parent[find(a)] = find(b)
            nxt.update((a, b))
        frontier = nxt
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), set()).add(x)
    return {i: (groups[find(i)] - {i}) if i in parent else set() for i in idl}


def newest_date(dates: Iterable[str | None]) -> str | None:
    """hs_ecosystem's `newest`: the latest of advisories' published/modified stamps (ISO 8601 text, so the
    latest sorts last); Go's vulndb writes `0001-01-01T00:00:00Z` for an unknown date, which is no date."""
    return max((d for d in dates if d and d >= "1000"), default=None)


def built_at(meta: Mapping[str, str]) -> datetime | None:
    """The `built_at` of a DB's meta rows (UTC), None for an empty DB."""
    raw = meta.get("built_at")
    if not raw:
        return None
    dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def age(built: datetime | None) -> timedelta | None:
    return None if built is None else datetime.now(UTC) - built
