"""`MemoryReader`: the `read.AdvisoryReader` of importer batches held in memory, for fast tests of
matching (no DB file, no SQL).

It holds what writing the batches to a new DB (`importer.write`) would store — names normalized,
duplicate rows dropped, ranges through JSON as the DB keeps them, rows in the DB's order — and
answers through the same shared code as the SQL reader (read.py); tests/vulndb/test_vulndb_memory.py
checks that both answer alike for the tests' feed data. One batch per feed, as `importer.read` gives them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from hullscan.vulndb.ecosystems import canonical_ecosystem, normalize_name
from hullscan.vulndb.model import (
    Advisory,
    AffectedRecord,
    EolCycle,
    EpssEntry,
    FeedBatch,
    FeedState,
    KevEntry,
    Severity,
    fixed_versions_of,
    now_iso,
)
from hullscan.vulndb.read import (
    AdvisoryChange,
    AdvisoryParts,
    AdvisoryRow,
    Changes,
    EcosystemState,
    FullRematch,
    Generation,
    Pair,
    age,
    alias_closure,
    built_at,
    merge_advisory,
    merge_changes,
    newest_date,
    query_keys,
    reach,
)
from hullscan.vulndb.reader import DB_FORMAT, SCHEMA_VERSION


class MemoryReader:
    """Batches (importer.read's, one per feed) as an AdvisoryReader."""

    def __init__(self, batches: Iterable[FeedBatch], *, display: str = "memory") -> None:
        self._display = display
        now = now_iso()
        self._meta = {"format": DB_FORMAT, "schema_version": SCHEMA_VERSION, "created_at": now, "built_at": now}
        self._affected: dict[Pair, list[tuple[AffectedRecord, bool]]] = {}
        self._heads: dict[str, list[AdvisoryRow]] = {}
        self._parts: dict[Pair, AdvisoryParts] = {}
        self._aliases: list[Pair] = []
        self._kev: dict[str, KevEntry] = {}
        self._epss: dict[str, EpssEntry] = {}
        self._eol: dict[tuple[str, str], EolCycle] = {}
        self._repo_cpe: dict[str, list[str]] = {}
        self._imports: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._feeds: dict[str, FeedState] = {}
        self._coverage: list[EcosystemState] = []
        for batch in sorted(batches, key=lambda b: b.feed):  # importer.write's order: the DB's row order
            if batch.feed in self._feeds:
                raise ValueError(f"two batches of feed {batch.feed!r}: merge them first (one per feed)")
            self._add(batch, now)

    def _add(self, batch: FeedBatch, now: str) -> None:
        feed = batch.feed
        rows: list[tuple[Pair, AffectedRecord, bool]] = []
        for a in batch.advisories.values():
            self._heads.setdefault(a.id, []).append(
                AdvisoryRow(feed, a.id, a.summary, a.details, a.published, a.modified, a.withdrawn, a.severity))
            parts = self._parts[(feed, a.id)] = AdvisoryParts(
                aliases=[x for x in dict.fromkeys(a.aliases) if x != a.id],
                severities=[_severity(s) for s in dict.fromkeys(a.severities)],
                cwes=list(dict.fromkeys(a.cwes)),
                references=list(dict.fromkeys(a.references)),
            )
            self._aliases.extend((a.id, x) for x in parts.aliases)
            seen: set[tuple[str, str, str, str, str]] = set()
            for af in a.affected:
                eco = canonical_ecosystem(af.ecosystem)
                pkg = normalize_name(eco, af.package)
                if af.imports:
                    known = self._imports.setdefault((feed, a.id, pkg), [])
                    known.extend(json.loads(json.dumps(i)) for i in af.imports if i not in known)
                rj, vj = json.dumps(af.ranges, sort_keys=True), json.dumps(af.versions)
                if (eco, pkg, rj, vj, af.status) in seen:
                    continue
                seen.add((eco, pkg, rj, vj, af.status))
                fixed = json.loads(json.dumps(fixed_versions_of(af.ranges)))
                rec = AffectedRecord(a.id, eco, pkg, json.loads(rj), json.loads(vj), af.status, fixed, af.severity, feed)
                rows.append(((eco, pkg), rec, a.withdrawn is not None))
        rows.sort(key=lambda r: r[0])  # as the writer inserts them: stable, by (ecosystem, package)
        self._coverage.extend(_coverage(feed, batch, rows))
        for key, rec, withdrawn in rows:
            self._affected.setdefault(key, []).append((rec, withdrawn))
        self._kev.update(batch.kev)
        self._epss.update(batch.epss)
        self._eol.update(batch.eol)
        self._repo_cpe.update(batch.repo_cpe)
        sources = ", ".join(batch.sources[:3]) + (" ..." if len(batch.sources) > 3 else "") if batch.sources else None
        self._feeds[feed] = FeedState(feed, sources, None, None, None, now, len(batch.advisories), len(rows),
                                      len(batch.kev) + len(batch.epss) + len(batch.eol) + len(batch.repo_cpe), batch.skipped, None)

    @property
    def display(self) -> str:
        return self._display

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> MemoryReader:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def meta(self) -> dict[str, str]:
        return dict(self._meta)

    @property
    def built_at(self) -> datetime | None:
        return built_at(self._meta)

    @property
    def age(self) -> timedelta | None:
        return age(self.built_at)

    def affected_for(self, pairs: Iterable[Pair], *, include_withdrawn: bool = False) -> dict[Pair, list[AffectedRecord]]:
        out, wanted = query_keys(pairs)
        for stored, keys in wanted.items():
            for rec, withdrawn in self._affected.get(stored, ()):
                if include_withdrawn or not withdrawn:
                    for key in keys:
                        out[key].append(rec)
        return out

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]:
        return {i: merge_advisory(i, self._heads[i], self._parts) for i in sorted(set(ids)) if i in self._heads}

    def aliases_of(self, ids: Iterable[str]) -> dict[str, set[str]]:
        def edges(frontier: list[str]) -> Iterator[Pair]:
            wanted = set(frontier)
            return (e for e in self._aliases if e[0] in wanted or e[1] in wanted)

        return alias_closure(ids, edges)

    def kev(self, cves: Iterable[str]) -> dict[str, KevEntry]:
        return {c: self._kev[c] for c in set(cves) if c in self._kev}

    def epss(self, cves: Iterable[str]) -> dict[str, EpssEntry]:
        return {c: self._epss[c] for c in set(cves) if c in self._epss}

    def imports(self, advisory_ids: Iterable[str]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
        wanted = set(advisory_ids)
        return {k: v for k, v in self._imports.items() if k[1] in wanted}

    def eol_cycles(self) -> list[EolCycle]:
        return [self._eol[k] for k in sorted(self._eol)]

    def repo_cpes(self, repos: Iterable[str]) -> dict[str, list[str]]:
        return {r: sorted(self._repo_cpe[r]) for r in set(repos) if r in self._repo_cpe}

    def feeds(self) -> list[FeedState]:
        return [self._feeds[f] for f in sorted(self._feeds)]

    def feed(self, name: str) -> FeedState | None:
        return self._feeds.get(name)

    def ecosystems(self) -> set[str]:
        return {eco for eco, _ in self._affected}

    def coverage(self) -> list[EcosystemState]:
        return sorted(self._coverage, key=lambda c: (c.ecosystem, c.feed))

    # the change log: batches held in memory have no history — generation 0, nothing logged

    def generation(self) -> int:
        return 0

    def change_log(self) -> list[Generation]:
        return []

    def changes_since(self, since: int) -> Changes | FullRematch:
        return reach(since, 0, []) or merge_changes(since, 0, [], [])

    def change_entries(self, since: int) -> list[AdvisoryChange]:
        return []

    def change_cves(self, since: int) -> list[tuple[int, str, str]]:
        return []

    def counts(self) -> dict[str, int]:
        return {"hs_advisory": sum(map(len, self._heads.values())), "hs_affected": sum(map(len, self._affected.values())),
                "hs_alias": len(self._aliases), "hs_kev": len(self._kev), "hs_epss": len(self._epss)}


def _severity(s: Severity) -> Severity:
    """As the DB gives it back: the score a float (a REAL column)."""
    return (s[0], s[1], None if s[2] is None else float(s[2]))


def _coverage(feed: str, batch: FeedBatch, rows: list[tuple[Pair, AffectedRecord, bool]]) -> list[EcosystemState]:
    """hs_ecosystem's rows of one feed, as store.py computes them: live rows only."""
    ids: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for (eco, _), rec, withdrawn in rows:
        if not withdrawn:
            ids.setdefault(eco, set()).add(rec.advisory_id)
            counts[eco] = counts.get(eco, 0) + 1
    out = []
    for eco, adv_ids in ids.items():
        advs = [batch.advisories[i] for i in adv_ids]
        newest = newest_date(d for a in advs for d in (a.published, a.modified))
        out.append(EcosystemState(feed, eco, len(adv_ids), counts[eco], newest))
    return out
