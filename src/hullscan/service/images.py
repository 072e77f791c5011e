"""What `/api/v2/images` and `/api/v2/findings` read: every stored image (state/inventories.py) matched
against the current vulnerability DB and judged with the policy it was stored with — the same report a
`stored:sha256:…` scan gives. No image is read: only stored inventories are matched.

Matching is cached per process, keyed by (image key, its last-seen time, the DB's build time): a list or a
query over 1,000 images matches each once until the DB or the image changes. Only what lists and queries
show is kept (counts, verdict and one small row per finding), not the reports.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hullscan.model.findings import SEVERITIES
from hullscan.model.report import Report
from hullscan.state.inventories import StoredSummary
from hullscan.state.store import StateStore


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One finding of one stored image, as `/api/v2/findings` lists it."""

    image: str
    id: str
    aliases: tuple[str, ...]
    package: str
    version: str
    ecosystem: str
    purl: str
    severity: str
    status: str
    fixed_version: str
    kev: bool
    inherited: bool | None
    base_image: str


@dataclass(frozen=True, slots=True)
class Matched:
    """A stored image matched now: its counts by severity, verdict and findings."""

    summary: StoredSummary
    counts: dict[str, int]
    verdict: str
    """`pass` or `fail` (the stored policy's gate; the default gate never fails)."""
    base_image: str
    findings: tuple[FindingRow, ...]


def rematch(store: StateStore, db: str | None, key: str) -> Report:
    """A stored image's report now (service/reports.py `rebuild`, uncached: MatchCache keeps what it shows)."""
    from hullscan.service.reports import rebuild

    return rebuild(store, key, db=db)


def matched_of(report: Report, summary: StoredSummary) -> Matched:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in report.vulnerabilities:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    base = report.base_image.name
    rows = tuple(FindingRow(summary.key, f.id, f.aliases, f.package.name, f.package.version, f.package.ecosystem,
                            f.package.purl, f.severity, f.status, f.fixed_version, f.kev is not None, f.inherited, base)
                 for f in report.vulnerabilities)
    passed = report.verdict is None or report.verdict.passed
    return Matched(summary, counts, "pass" if passed else "fail", base, rows)


class MatchCache:
    """Matched stored images by (key, last seen, DB build time), least recently used dropped first."""

    def __init__(self, store: StateStore, db: str | None, db_stamp: Callable[[], str], size: int = 4096) -> None:
        self.store = store
        self.db = db
        self._stamp = db_stamp
        self._size = size
        self._items: OrderedDict[tuple[str, str, str], Matched] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, summary: StoredSummary) -> Matched:
        key = (summary.key, summary.last_seen, self._stamp())
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        made = matched_of(rematch(self.store, self.db, summary.key), summary)
        with self._lock:
            self._items[key] = made
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return made

    def each(self, summaries: list[StoredSummary]) -> Iterator[Matched]:
        for s in summaries:
            yield self.get(s)


class Rendered:
    """Rendered reports by (what, image key, its last seen, DB stamp, format…), least recently used dropped
    first: a report is rebuilt (matched, judged, rendered) once per image and DB, not per fetch."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], make: Callable[[], bytes]) -> bytes:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        made = make()
        with self._lock:
            self._items[key] = made
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return made
