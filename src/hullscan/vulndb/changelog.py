"""The change log the writer keeps (store.py): which advisories each import added, changed, withdrew or
removed, with the (ecosystem, package) pairs they touch, and which CVEs' KEV flag or EPSS moved — so a
rescan re-matches only the stored packages whose advisories changed (docs/vulndb.md "Change log").

"Changed" is decided by a content digest per stored (feed, advisory), kept in hs_digest: a digest of every
row the advisory is stored as (its descriptive row, aliases, affected rows, severities, CWEs, references), so
the next import compares 32 hex characters instead of reading advisories back, and an unchanged advisory is
not rewritten at all. Every import that changed anything is one generation (hs_generation); the rows of a
feed's changes are written inside that feed's transaction, so an import that fails leaves no trace in the log.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from hullscan.vulndb import schema as S
from hullscan.vulndb.model import EpssEntry, now_iso
from hullscan.vulndb.reader import chunks

Pair = tuple[str, str]

#: An EPSS move is logged when the score moves by at least this much ...
EPSS_STEP = 0.01
#: ... or the percentile crosses one of these bounds (top 50 %, 10 %, 5 %, 1 %): EPSS is rescored daily and
#: nearly every score drifts a little, which is no news for a stored image.
EPSS_CLASSES = (0.5, 0.9, 0.95, 0.99)
#: Retention: generations older than this many days are dropped (HULLSCAN_DB_LOG_DAYS) ...
KEEP_DAYS = 90
#: ... and beyond this many generations when set (HULLSCAN_DB_LOG_GENERATIONS; 0: no count limit).
KEEP_GENERATIONS = 0


def digest(adv: dict[str, Any], aliases: list[str], affected: list[dict[str, Any]], severities: list[dict[str, Any]],
           cwes: list[str], references: list[dict[str, Any]]) -> str:
    """The content digest of one stored advisory, from the rows the writer inserts for it (store.py)."""
    material = (
        (adv["summary"], adv["details"], adv["published"], adv["modified"], adv["withdrawn"], adv["severity"]),
        aliases,
        [(r["ecosystem"], r["package"], r["ranges"], r["versions"], r["status"], r["severity"]) for r in affected],
        [(r["type"], r["vector"], r["score"]) for r in severities],
        cwes,
        [(r["type"], r["url"]) for r in references],
    )
    return blake2b(repr(material).encode(), digest_size=16).hexdigest()


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


@dataclass
class Session:
    """The generation one open writer (a `db update` or `db import`) writes its changes into: allocated at
    its first change, grown by each feed that changes something after it."""

    number: int | None = None
    first: bool = False
    """Whether `number` is the DB's first generation (no `previous`): `changes_since` never reads its rows
    (nothing reaches back past a first generation), so they are not written — a new DB's first `db update`
    pays only for the digests."""
    keep_days: int = field(default_factory=lambda: _env_int("HULLSCAN_DB_LOG_DAYS", KEEP_DAYS))
    keep_generations: int = field(default_factory=lambda: _env_int("HULLSCAN_DB_LOG_GENERATIONS", KEEP_GENERATIONS))


class FeedLog:
    """The changes of one feed's write, recorded inside its transaction (`conn`). `full` is set when the
    write cannot be followed advisory by advisory; the generation then says so and names why."""

    def __init__(self, conn: Connection, session: Session, feed: str,
                 insert: Callable[[Connection, Any, list[dict[str, Any]]], None]) -> None:
        self.conn = conn
        self._insert = insert  # the writer's bulk insert (COPY on PostgreSQL)
        self.session = session
        self.feed = feed
        self.full: str | None = None
        self.counts = dict.fromkeys(("added", "changed", "withdrawn", "removed", "kev", "epss"), 0)
        self._allocated = False
        self._old_kev: set[str] | None = None
        self._old_epss: dict[str, tuple[float, float]] | None = None
        self._old_repo_cpe: set[tuple[str, str]] | None = None

    # ---------------------------------------------------------------- advisories

    def is_logged(self) -> bool:
        """Whether every stored advisory of the feed has its digest (not so in a DB migrated from a version
        before the log: its first write of the feed cannot say what changed)."""
        n_dig = self.conn.execute(select(func.count()).select_from(S.digest).where(S.digest.c.feed == self.feed)).scalar_one()
        n_adv = self.conn.execute(select(func.count()).select_from(S.advisory).where(S.advisory.c.feed == self.feed)).scalar_one()
        return bool(n_dig == n_adv)

    def old_digests(self, ids: list[str]) -> dict[str, tuple[str, bool]]:
        """(digest, withdrawn) of the stored advisories among `ids`."""
        d = S.digest
        out: dict[str, tuple[str, bool]] = {}
        for chunk in chunks(ids):
            for adv_id, dig, wd in self.conn.execute(
                    select(d.c.advisory_id, d.c.digest, d.c.withdrawn).where(d.c.feed == self.feed, d.c.advisory_id.in_(chunk))):
                out[adv_id] = (dig, bool(wd))
        return out

    def stored_ids(self) -> list[str]:
        """Every advisory id of the feed that has a digest."""
        d = S.digest
        return list(self.conn.execute(select(d.c.advisory_id).where(d.c.feed == self.feed)).scalars())

    def stored_pairs(self, ids: list[str]) -> dict[str, set[Pair]]:
        """The (ecosystem, package) pairs the stored advisories `ids` touch now (before they are rewritten)."""
        a = S.affected
        out: dict[str, set[Pair]] = {i: set() for i in ids}
        for chunk in chunks(ids):
            for adv_id, eco, pkg in self.conn.execute(
                    select(a.c.advisory_id, a.c.ecosystem, a.c.package).where(a.c.feed == self.feed, a.c.advisory_id.in_(chunk))):
                out[adv_id].add((eco, pkg))
        return out

    def forget(self, ids: list[str]) -> None:
        """Drop the digests of `ids` (their rows are being deleted or rewritten)."""
        d = S.digest
        for chunk in chunks(ids):
            self.conn.execute(delete(d).where(d.c.feed == self.feed, d.c.advisory_id.in_(chunk)))

    def advisories(self, entries: Iterable[tuple[str, str, Iterable[Pair]]]) -> None:
        """Record (advisory id, kind, pairs) changes (kinds: read.CHANGE_KINDS)."""
        todo = list(entries)
        if not todo:
            return
        gen = self._generation()
        for _, kind, _ in todo:
            self.counts[kind] += 1
        if self.full is None and not self.session.first:
            self._insert(self.conn, S.change, [
                {"generation": gen, "feed": self.feed, "advisory_id": adv_id, "kind": kind,
                 "pairs": json.dumps(sorted(set(pairs)), separators=(",", ":"))} for adv_id, kind, pairs in todo])

    # ---------------------------------------------------------------- KEV, EPSS, the repository-to-CPE map

    def before_kev(self) -> None:
        """Call before the KEV table is replaced (its first delete in this write)."""
        if self._old_kev is None:
            self._old_kev = set(self.conn.execute(select(S.kev.c.cve)).scalars())

    def before_epss(self) -> None:
        if self._old_epss is None:
            self._old_epss = {c: (s, p) for c, s, p in self.conn.execute(select(S.epss.c.cve, S.epss.c.score, S.epss.c.percentile))}

    def before_repo_cpe(self) -> None:
        if self._old_repo_cpe is None:
            self._old_repo_cpe = {(r, c) for r, c in self.conn.execute(select(S.repo_cpe.c.repo, S.repo_cpe.c.cpe))}

    def catalogs(self, kev: dict[str, Any], epss: dict[str, EpssEntry], repo_cpe: dict[str, list[str]]) -> None:
        """Compare the catalogs this write replaced with what it wrote: CVEs that entered or left KEV; CVEs
        whose EPSS appeared, disappeared, moved by EPSS_STEP or crossed an EPSS_CLASSES bound."""
        moved: list[dict[str, Any]] = []
        if self._old_kev is not None:
            for cve in sorted(self._old_kev.symmetric_difference(kev)):
                moved.append({"cve": cve, "kind": "kev"})
            self.counts["kev"] = len(moved)
        if self._old_epss is not None:
            n = len(moved)
            old = self._old_epss
            for cve in sorted(old.keys() | epss.keys()):
                before, now = old.get(cve), epss.get(cve)
                if before is None or now is None or _epss_moved(before, (now.score, now.percentile)):
                    moved.append({"cve": cve, "kind": "epss"})
            self.counts["epss"] = len(moved) - n
        if moved:
            gen = self._generation()
            if not self.session.first:
                self._insert(self.conn, S.change_cve, [m | {"generation": gen} for m in moved])
        if self._old_repo_cpe is not None:
            new = {(r, c) for r, cpes in repo_cpe.items() for c in cpes}
            if new != self._old_repo_cpe:
                # which Red Hat rows apply to an image moved: no pair list says which images that touches
                self.full = self.full or "Red Hat's repository-to-CPE map changed"

    # ---------------------------------------------------------------- the generation

    def finish(self) -> None:
        """End of the feed's write, still inside its transaction: add its counts to the session's generation."""
        if self.full is None and not any(self.counts.values()):
            return  # nothing changed: no generation
        gen = self._generation()
        g = S.generation
        row = self.conn.execute(select(g.c.feeds, g.c.full_rematch).where(g.c.generation == gen)).one()
        feeds = row.feeds.split(",") if row.feeds else []
        if self.feed not in feeds:
            feeds.append(self.feed)
        values: dict[str, Any] = {k: getattr(g.c, k) + v for k, v in self.counts.items()}
        values["feeds"] = ",".join(feeds)
        values["full_rematch"] = row.full_rematch or self.full
        self.conn.execute(g.update().where(g.c.generation == gen).values(**values))

    def rolled_back(self) -> None:
        """The feed's transaction rolled back: a generation it allocated is gone with it."""
        if self._allocated:
            self.session.number = None

    def _generation(self) -> int:
        s = self.session
        if s.number is not None:
            return s.number
        conn = self.conn
        cur = conn.execute(select(S.meta.c.value).where(S.meta.c.key == "generation")).scalar()
        previous = int(cur) if cur else None
        # a DB's first generation is the Unix time: a DB rebuilt later never hands out a number again
        number = previous + 1 if previous else int(time.time())
        conn.execute(S.generation.insert(), [{"generation": number, "previous": previous, "created_at": now_iso(),
                                              "feeds": "", "added": 0, "changed": 0, "withdrawn": 0, "removed": 0,
                                              "kev": 0, "epss": 0, "full_rematch": None}])
        conn.execute(delete(S.meta).where(S.meta.c.key == "generation"))
        conn.execute(S.meta.insert(), [{"key": "generation", "value": str(number)}])
        s.number = number
        s.first = previous is None
        self._allocated = True
        _trim(conn, s, number)
        return number


def _epss_moved(before: tuple[float, float], now: tuple[float, float]) -> bool:
    if abs(now[0] - before[0]) >= EPSS_STEP - 1e-12:
        return True
    return sum(before[1] >= b for b in EPSS_CLASSES) != sum(now[1] >= b for b in EPSS_CLASSES)


def _trim(conn: Connection, session: Session, newest: int) -> None:
    """Retention: drop generations older than `keep_days`, and all but the newest `keep_generations` (the one
    being written is always kept)."""
    g = S.generation
    cutoff = (datetime.now(UTC) - timedelta(days=session.keep_days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    old = set(conn.execute(select(g.c.generation).where(g.c.created_at < cutoff, g.c.generation != newest)).scalars())
    if session.keep_generations > 0:
        kept = conn.execute(select(g.c.generation).order_by(g.c.generation.desc()).limit(session.keep_generations)).scalars()
        keep = set(kept) | {newest}
        old |= set(conn.execute(select(g.c.generation)).scalars()) - keep
    if old:
        upto = max(old)  # the oldest go first: everything up to the newest one dropped
        for t in (S.change, S.change_cve, S.generation):
            conn.execute(delete(t).where(t.c.generation <= upto))

