"""The vulnerability DB's writer: open/create/validate, per-feed transactional writes, bundle rows.

`VulnDB.open(location)` takes None (HULLSCAN_DB_URL, else the default SQLite file under the XDG data
dir), a filesystem path (SQLite) or a URL (`postgresql://...` is mapped to the psycopg driver; put the
tables in their own PostgreSQL schema with `?options=-csearch_path%3Dname`). A missing, corrupt or
foreign DB raises `DatabaseError` (exit 4) with a line saying how to rebuild it. A new SQLite file is
private (0600), as `db update` leaves it.

`open(..., atomic=True)` (what `db update` uses for PostgreSQL) holds the whole session in ONE
transaction: creating or rebuilding the tables and every feed's write happen inside it, each feed in
a savepoint of its own (a failing feed rolls back to it and keeps its previous rows). `commit()` makes
it visible at once; `close()` without it rolls everything back, leaving the DB as it was (or no
tables where there were none).

Reading is `read.AdvisoryReader`'s: `read.open_reader(location)`, or `VulnDB.reader()` for what the
writer itself needs to read (a feed's state before an update, the meta rows of an export).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, distinct, event, func, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from hullscan.errors import DatabaseError
from hullscan.fsio import PRIVATE_MODE
from hullscan.vulndb import changelog
from hullscan.vulndb import schema as S
from hullscan.vulndb.ecosystems import canonical_ecosystem, normalize_name
from hullscan.vulndb.location import REBUILD_HINT, check_file, redact, resolve
from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch, FeedState, fixed_versions_of, now_iso
from hullscan.vulndb.read import newest_date
from hullscan.vulndb.reader import (
    DB_FORMAT,
    MIGRATES_FROM,
    SCHEMA_VERSION,
    SQLITE_PRAGMAS,
    SQLReader,
    check_schema,
    chunks,
    open_error,
    read_error,
    short,
)


def _sqlite_pragmas(dbapi_conn: Any, _rec: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA synchronous=NORMAL")
    for pragma in SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


class VulnDB:
    """An open vulnerability DB (SQLite file or PostgreSQL), for writing."""

    def __init__(self, engine: Engine, display: str, path: Path | None) -> None:
        self.engine = engine
        self.display = display
        self.path = path
        self.created = False
        """Whether opening it created a DB where there was none (not one rebuilt over an old one)."""
        self.migrated_from: str | None = None
        """The schema version opening it migrated the DB from in place, or None."""
        self._outer: Connection | None = None
        """The connection of an `atomic` session, inside its one transaction."""
        self.log = changelog.Session()
        """The change-log generation this writer's changes go to (one per `db update` / `db import`)."""

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        rebuild: bool = False,
        atomic: bool = False,
    ) -> VulnDB:
        """Open the DB at `location` (see module docstring). `create` makes an empty DB when there is
        none; `rebuild` throws away a foreign/corrupt/old one first. Without them, a missing, corrupt
        or foreign DB raises DatabaseError. `atomic`: everything until `commit()` is one transaction
        (creating and rebuilding included); a SQLite file is best staged instead (update.py)."""
        url, path = resolve(location)
        display = str(path) if path is not None else redact(url)
        if path is not None:
            if rebuild and path.is_file():  # a device or a directory is refused below, never removed
                path.unlink()
            if create and not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))  # SQLite fills the empty file
            else:
                check_file(path)  # missing, unreadable, not SQLite
        try:
            engine = create_engine(url, future=True)
        except Exception as err:  # bad URL syntax, missing driver
            raise DatabaseError(f"cannot open DB {display}: {err}") from None
        if path is not None:
            event.listen(engine, "connect", _sqlite_pragmas)
        db = cls(engine, display, path)
        try:
            if atomic:
                db._outer = engine.connect()
                db._outer.begin()
            db._validate(create=create, rebuild=rebuild)
        except DatabaseError:
            db.close()
            raise
        except OperationalError as err:
            db.close()
            if path is None:  # a server that is down or refuses us: nothing to rebuild
                raise DatabaseError(f"cannot connect to vulnerability DB {display}: {short(err)}") from None
            raise open_error(display, err) from None
        except SQLAlchemyError as err:
            db.close()
            raise open_error(display, err) from None
        return db

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One unit of work: its own transaction, or a savepoint inside an `atomic` session's."""
        if self._outer is None:
            with self.engine.begin() as conn:
                yield conn
        else:
            with self._outer.begin_nested():
                yield self._outer

    def _validate(self, *, create: bool, rebuild: bool) -> None:
        with self._tx() as conn:
            names = set(inspect(conn).get_table_names())
            ours = {t.name for t in S.metadata.sorted_tables}
            had_ours = bool(names & ours)
            if rebuild and names & ours:
                S.metadata.drop_all(conn, checkfirst=True)
                names -= ours
            if S.meta.name not in names:
                foreign = names & ours if self.path is None else names
                if not create:
                    check_schema(self.display, names, None, server=self.path is None)  # raises
                if foreign:
                    raise DatabaseError(f"{self.display} holds a foreign schema; {REBUILD_HINT}")
                S.metadata.create_all(conn)
                self.created = not had_ours
                conn.execute(
                    S.meta.insert(),
                    [
                        {"key": "format", "value": DB_FORMAT},
                        {"key": "schema_version", "value": SCHEMA_VERSION},
                        {"key": "created_at", "value": now_iso()},
                    ],
                )
                return
            got = dict(conn.execute(select(S.meta.c.key, S.meta.c.value)).all())
            if create and got.get("format") == DB_FORMAT and got.get("schema_version") in MIGRATES_FROM:
                # in place, inside this transaction: every change since only added tables
                S.metadata.create_all(conn, checkfirst=True)
                conn.execute(S.meta.update().where(S.meta.c.key == "schema_version").values(value=SCHEMA_VERSION))
                # every feed's coverage now, not at its next write: a feed no later import touches is
                # still covered (an empty hs_ecosystem would make every scan report a gap)
                _store_coverage(conn, list(conn.execute(select(S.advisory.c.feed).distinct()).scalars()))
                self.migrated_from = got["schema_version"]
                return
            check_schema(self.display, names, got, server=self.path is None)

    def commit(self) -> None:
        """End an `atomic` session's transaction, making everything written visible at once."""
        if self._outer is not None:
            try:
                self._outer.commit()
            except self._errors() as err:
                raise DatabaseError(f"committing the update of {self.display} failed: {short(err)}") from None

    def close(self) -> None:
        """Release the DB; an `atomic` session not committed is rolled back."""
        outer, self._outer = self._outer, None
        if outer is not None:
            try:
                outer.close()  # rolls back what was not committed
            except SQLAlchemyError:
                pass  # a connection already gone: the server rolled back
        self.engine.dispose()

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _errors(self) -> tuple[type[BaseException], ...]:
        """SQLAlchemy's errors plus the driver's own (COPY on PostgreSQL bypasses SQLAlchemy)."""
        dbapi = getattr(self.engine.dialect, "loaded_dbapi", None) or getattr(self.engine.dialect, "dbapi", None)
        err = getattr(dbapi, "Error", None)
        return (SQLAlchemyError, err) if isinstance(err, type) else (SQLAlchemyError,)

    def reader(self) -> SQLReader:
        """The read interface on one connection of the engine's pool (`close()` gives it back); in an
        `atomic` session, on the session's connection (it sees what the session wrote)."""
        if self._outer is not None:
            raw: Any = _Borrowed(self._outer.connection.dbapi_connection)
            return SQLReader(raw, self.display, paramstyle=self.engine.dialect.paramstyle, errors=self._errors())
        try:
            raw = self.engine.raw_connection()
        except SQLAlchemyError as err:
            raise read_error(self.display, err) from None
        return SQLReader(raw, self.display, paramstyle=self.engine.dialect.paramstyle, errors=self._errors())

    # ------------------------------------------------------------------ writes

    def write_batch(self, batch: FeedBatch, *, replace: bool = False, fetch: dict[str, Any] | None = None) -> FeedState:
        """Write one feed's batch in ONE transaction. `replace` drops the feed's previous advisories
        first (a full download); otherwise advisories are upserted by id, the rest of the feed kept:
        an upserted advisory's affected rows are replaced for the (ecosystem, package) pairs the
        batch brings and kept for the others (importing Alpine v3.11 keeps a CVE's v3.10 rows), and
        its aliases, CWEs, references and severities are the union of old and new.
        KEV / EPSS batches always replace their whole table (each file is the complete catalog); EOL
        batches replace the cycles of the products they bring.
        `fetch` = {source, etag, last_modified, fetched_at} recorded in the feed state."""
        return self.write_stream(batch.feed, [batch], replace=replace, fetch=fetch)

    def write_stream(self, feed: str, batches: Iterable[FeedBatch], *, replace: bool = False,
                     fetch: dict[str, Any] | None = None,
                     before_commit: Callable[[FeedBatch], None] | None = None) -> FeedState:
        """`write_batch` for a feed read in parts (a big OSV download): every part is written as it
        comes, all in ONE transaction, so memory stays bounded and the switch is still all-or-nothing.
        An exception from the iterator or from `before_commit(totals)` rolls everything back."""
        total = FeedBatch(feed)
        log: changelog.FeedLog | None = None
        try:
            with self._tx() as conn:
                log = changelog.FeedLog(conn, self.log, feed, _insert)
                tables = (S.advisory, *S.ADVISORY_CHILDREN, S.digest)
                has_rows = conn.execute(select(S.advisory.c.id).where(S.advisory.c.feed == feed).limit(1)).first()
                # a feed without a digest for every advisory (a DB migrated from before the change log) cannot
                # say what changed: a replace drops it whole as before, and the generation says "re-match all"
                logged = has_rows is None or log.is_logged()
                if not logged:
                    log.full = f"feed {feed} had no content digests yet (a DB migrated from an older schema)"
                upfront = has_rows is not None and replace and not logged
                if upfront:
                    for t in tables:
                        conn.execute(delete(t).where(t.c.feed == feed))
                stored = has_rows is not None and not upfront  # rows of the batch's ids may be stored
                # a feed written whole: its coverage is counted from the rows as they are inserted (a GROUP
                # BY over a 1.6 M-row feed takes 10 s: bench/coverage_bench.py); an upsert recounts it
                counted: dict[str, list[Any]] | None = {} if has_rows is None or replace else None
                seen: set[str] = set()
                for batch in batches:
                    ids = list(batch.advisories)
                    if has_rows is not None and not replace:
                        self._merge_previous(conn, batch, ids)
                    rows = {a.id: _advisory_rows(feed, a) for a in batch.advisories.values()}
                    old = log.old_digests(ids) if stored else {}
                    # an advisory whose digest did not move is left as stored: not rewritten, not logged
                    write = [i for i in ids if (o := old.get(i)) is None or o[0] != rows[i].digest]
                    if stored and write:
                        again = [i for i in write if i in old]
                        before = log.stored_pairs(again) if again and log.full is None else {}
                        for chunk in chunks(write if not logged else again):
                            conn.execute(delete(S.advisory).where(S.advisory.c.feed == feed, S.advisory.c.id.in_(chunk)))
                            for t in (*S.ADVISORY_CHILDREN, S.digest):
                                conn.execute(delete(t).where(t.c.feed == feed, t.c.advisory_id.in_(chunk)))
                    else:
                        before = {}
                    self._insert_advisories(conn, batch, rows, write, counted)
                    log.advisories((i, _kind(old.get(i), rows[i]), rows[i].pairs | before.get(i, set())) for i in write)
                    if replace:
                        seen.update(ids)
                    if batch.kev or (feed == "kev" and not total.kev):
                        log.before_kev()
                        conn.execute(delete(S.kev))
                        _insert(conn, S.kev, [_vars(e) for e in batch.kev.values()])
                    if batch.epss or (feed == "epss" and not total.epss):
                        log.before_epss()
                        conn.execute(delete(S.epss))
                        _insert(conn, S.epss, [_vars(e) for e in batch.epss.values()])
                    if batch.eol:  # each product's cycles replace that product's (a file holds one product)
                        products = sorted({e.product for e in batch.eol.values()})
                        conn.execute(delete(S.eol).where(S.eol.c.product.in_(products)))
                        _insert(conn, S.eol, [_vars(e) for e in batch.eol.values()])
                    if batch.repo_cpe:  # the file is the whole map: it replaces the table
                        log.before_repo_cpe()
                        conn.execute(delete(S.repo_cpe))
                        _insert(conn, S.repo_cpe, [{"repo": r, "cpe": c} for r, cpes in sorted(batch.repo_cpe.items())
                                                   for c in sorted(set(cpes))])
                    total.kev.update(batch.kev)
                    total.epss.update(batch.epss)
                    total.eol.update(batch.eol)
                    total.repo_cpe.update(batch.repo_cpe)
                    total.skipped += batch.skipped
                    total.reasons.extend(batch.reasons[: max(0, 10 - len(total.reasons))])
                    total.sources.extend(x for x in batch.sources if x not in total.sources)
                    total.files += len(batch.advisories)  # advisories written (FeedBatch.files reused as a counter)
                if before_commit is not None:
                    before_commit(total)
                if replace and stored:  # what the new download no longer holds is removed
                    self._remove(conn, log, [i for i in log.stored_ids() if i not in seen])
                log.catalogs(total.kev, total.epss, total.repo_cpe)
                log.finish()
                if counted is None:
                    _store_coverage(conn, [feed])
                else:
                    _write_coverage(conn, feed, counted)
                state = self._store_state(conn, total, fetch)
                _set_meta(conn, "built_at", now_iso())
            return state
        except self._errors() as err:
            if log is not None:
                log.rolled_back()
            raise DatabaseError(f"writing feed {feed} to {self.display} failed: {short(err)}") from None
        except BaseException:
            if log is not None:
                log.rolled_back()
            raise

    def _remove(self, conn: Connection, log: changelog.FeedLog, ids: list[str]) -> None:
        """Delete the feed's advisories `ids` (gone from a download that replaces the feed), logged as removed."""
        if not ids:
            return
        before = log.stored_pairs(ids) if log.full is None else {}
        feed = log.feed
        for chunk in chunks(ids):
            conn.execute(delete(S.advisory).where(S.advisory.c.feed == feed, S.advisory.c.id.in_(chunk)))
            for t in (*S.ADVISORY_CHILDREN, S.digest):
                conn.execute(delete(t).where(t.c.feed == feed, t.c.advisory_id.in_(chunk)))
        log.advisories((i, "removed", before.get(i, set())) for i in ids)

    def _merge_previous(self, conn: Connection, batch: FeedBatch, ids: list[str]) -> None:
        """Fold the stored rows of the batch's advisories into it (see write_batch)."""
        feed = batch.feed
        for chunk in chunks(ids):
            for r in conn.execute(select(S.advisory).where(S.advisory.c.feed == feed, S.advisory.c.id.in_(chunk))):
                adv = batch.advisories[r.id]
                for attr in ("summary", "details", "published", "modified", "severity"):
                    if getattr(adv, attr) is None and getattr(r, attr) is not None:
                        setattr(adv, attr, getattr(r, attr))
            scopes = {i: {(canonical_ecosystem(x.ecosystem), normalize_name(canonical_ecosystem(x.ecosystem), x.package))
                          for x in batch.advisories[i].affected} for i in chunk}
            a = S.affected
            t = S.imports
            kept = {(r.advisory_id, r.ecosystem, r.package): json.loads(r.imports)
                    for r in conn.execute(select(t).where(t.c.feed == feed, t.c.advisory_id.in_(chunk)))}
            for r in conn.execute(select(a).where(a.c.feed == feed, a.c.advisory_id.in_(chunk))):
                if (r.ecosystem, r.package) not in scopes[r.advisory_id]:
                    batch.advisories[r.advisory_id].affected.append(
                        AffectedIn(r.ecosystem, r.package, json.loads(r.ranges), json.loads(r.versions), r.status, r.severity,
                                   kept.get((r.advisory_id, r.ecosystem, r.package), [])))
            for r in conn.execute(select(S.alias).where(S.alias.c.feed == feed, S.alias.c.advisory_id.in_(chunk))):
                if r.alias not in batch.advisories[r.advisory_id].aliases:
                    batch.advisories[r.advisory_id].aliases.append(r.alias)
            for r in conn.execute(select(S.cwe).where(S.cwe.c.feed == feed, S.cwe.c.advisory_id.in_(chunk))):
                if r.cwe not in batch.advisories[r.advisory_id].cwes:
                    batch.advisories[r.advisory_id].cwes.append(r.cwe)
            t = S.reference
            for r in conn.execute(select(t).where(t.c.feed == feed, t.c.advisory_id.in_(chunk))):
                refs = batch.advisories[r.advisory_id].references
                if r.url not in {u for _, u in refs}:
                    refs.append((r.type, r.url))
            t = S.severity
            for r in conn.execute(select(t).where(t.c.feed == feed, t.c.advisory_id.in_(chunk))):
                sevs = batch.advisories[r.advisory_id].severities
                if r.type not in {x[0] for x in sevs}:
                    sevs.append((r.type, r.vector, r.score))

    def _insert_advisories(self, conn: Connection, batch: FeedBatch, rows: dict[str, _Rows], write: list[str],
                           counted: dict[str, list[Any]] | None = None) -> None:
        """Insert the rows (and digests) of the advisories `write`; `counted` (ecosystem -> [advisories, rows,
        newest]) adds up the coverage of every advisory of the batch, written or left as stored."""
        if counted is not None:
            for a in batch.advisories.values():
                if a.withdrawn is not None:
                    continue
                ecos: set[str] = set()
                for r in rows[a.id].affected:
                    eco = r["ecosystem"]
                    cov = counted.get(eco)
                    if cov is None:
                        cov = counted[eco] = [0, 0, None]
                    if eco not in ecos:
                        ecos.add(eco)
                        cov[0] += 1  # the advisory's first row in this ecosystem
                    cov[1] += 1
                    cov[2] = newest_date((cov[2], a.published, a.modified))
        adv_rows, al_rows, aff_rows, sev_rows, cwe_rows, ref_rows, dig_rows, imp_rows = [], [], [], [], [], [], [], []
        feed = batch.feed
        for i in write:
            w = rows[i]
            adv_rows.append(w.advisory)
            al_rows.extend(w.aliases)
            aff_rows.extend(w.affected)
            sev_rows.extend(w.severities)
            cwe_rows.extend(w.cwes)
            ref_rows.extend(w.references)
            imp_rows.extend(w.imports)
            dig_rows.append({"feed": feed, "advisory_id": i, "digest": w.digest, "withdrawn": w.advisory["withdrawn"] is not None})
        # rows of one (ecosystem, package) side by side on disk: a lookup reads fewer pages
        aff_rows.sort(key=lambda r: (r["ecosystem"], r["package"]))
        for t, out in ((S.advisory, adv_rows), (S.alias, al_rows), (S.affected, aff_rows),
                       (S.severity, sev_rows), (S.cwe, cwe_rows), (S.reference, ref_rows), (S.digest, dig_rows),
                       (S.imports, imp_rows)):
            _insert(conn, t, out)

    def _store_state(self, conn: Connection, batch: FeedBatch, fetch: dict[str, Any] | None) -> FeedState:
        f = S.feed_state
        feed = batch.feed
        old = conn.execute(select(f).where(f.c.feed == feed)).first()
        row: dict[str, Any] = dict(old._mapping) if old is not None else {"feed": feed}
        n_adv = conn.execute(select(func.count()).select_from(S.advisory).where(S.advisory.c.feed == feed)).scalar_one()
        n_aff = conn.execute(select(func.count()).select_from(S.affected).where(S.affected.c.feed == feed)).scalar_one()
        n_rec = len(batch.kev) + len(batch.epss) + len(batch.eol) + len(batch.repo_cpe)
        if old is not None and not n_rec:
            n_rec = old.records if feed not in ("kev", "epss", "eol") else 0
        if feed == "eol":  # a `db import` of one product adds to the others' cycles
            n_rec = conn.execute(select(func.count()).select_from(S.eol)).scalar_one()
        row.update(advisories=n_adv, affected=n_aff, records=n_rec, skipped=batch.skipped,
                   imported_at=now_iso(), last_error=None)
        if fetch:
            row.update({k: fetch[k] for k in ("source", "etag", "last_modified", "fetched_at") if k in fetch})
        elif batch.sources:
            row["source"] = ", ".join(batch.sources[:3]) + (" ..." if len(batch.sources) > 3 else "")
        conn.execute(delete(f).where(f.c.feed == feed))
        conn.execute(f.insert(), [row])
        return FeedState(**{k: row.get(k) for k in FeedState.__dataclass_fields__})  # type: ignore[arg-type]  # the row has every field

    def record_fetch(self, feed: str, **fields: Any) -> None:
        """Update a feed's state without touching its data (a 304, or a failed update's error)."""
        f = S.feed_state
        try:
            with self._tx() as conn:
                old = conn.execute(select(f).where(f.c.feed == feed)).first()
                row: dict[str, Any] = dict(old._mapping) if old is not None else {
                    "feed": feed, "advisories": 0, "affected": 0, "records": 0, "skipped": 0}
                row.update(fields)
                conn.execute(delete(f).where(f.c.feed == feed))
                conn.execute(f.insert(), [row])
        except SQLAlchemyError as err:
            raise DatabaseError(f"writing feed state to {self.display} failed: {short(err)}") from None

    # bundle support -------------------------------------------------------

    def dump_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(table name, row) for every row of every data table (for `db export`)."""
        try:
            with self.engine.connect() as conn:
                for t in S.metadata.sorted_tables:
                    if t is not S.meta and t not in S.LOG_TABLES:  # the change log is this DB's own history
                        for r in conn.execute(select(t)):
                            yield t.name, dict(r._mapping)
        except self._errors() as err:  # a corrupt file, a dropped table
            raise read_error(self.display, err) from None

    def load_rows(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Replace the feeds present in `tables` (from a bundle) in one transaction."""
        feeds = {r["feed"] for r in tables.get(S.feed_state.name, ())}
        log: changelog.FeedLog | None = None
        try:
            with self._tx() as conn:
                for t in (S.advisory, *S.ADVISORY_CHILDREN, S.digest, S.feed_state):
                    for chunk in chunks(sorted(feeds)):
                        conn.execute(delete(t).where(t.c.feed.in_(chunk)))
                if tables.get(S.kev.name) is not None and "kev" in feeds:
                    conn.execute(delete(S.kev))
                if tables.get(S.epss.name) is not None and "epss" in feeds:
                    conn.execute(delete(S.epss))
                if tables.get(S.eol.name) is not None and "eol" in feeds:
                    conn.execute(delete(S.eol))
                for t in S.metadata.sorted_tables:
                    if t is not S.meta and t is not S.ecosystem and t not in S.LOG_TABLES:
                        _insert(conn, t, tables.get(t.name) or [])  # the bundle's digests come with its rows
                # recomputed rather than taken from the bundle: one of an older hullscan has none
                _store_coverage(conn, sorted(feeds))
                if feeds:  # the feeds are replaced wholesale: the log records that, not advisory by advisory
                    log = changelog.FeedLog(conn, self.log, ",".join(sorted(feeds)), _insert)
                    log.full = f"a bundle replaced feeds {', '.join(sorted(feeds))}"
                    log.finish()
                _set_meta(conn, "built_at", now_iso())
        except self._errors() as err:
            if log is not None:
                log.rolled_back()
            raise DatabaseError(f"loading bundle into {self.display} failed: {short(err)}") from None


@dataclass(frozen=True, slots=True)
class _Rows:
    """The rows one advisory is stored as, its content digest and the (ecosystem, package) pairs it touches."""

    advisory: dict[str, Any]
    aliases: list[dict[str, Any]]
    affected: list[dict[str, Any]]
    severities: list[dict[str, Any]]
    cwes: list[dict[str, Any]]
    references: list[dict[str, Any]]
    digest: str
    pairs: set[tuple[str, str]]
    imports: list[dict[str, Any]]
    """hs_imports rows: the affected packages and symbols of an (ecosystem, package) (Go vulndb)."""


def _advisory_rows(feed: str, a: AdvisoryIn) -> _Rows:
    """What the writer stores for advisory `a` of `feed`: names normalized, duplicate rows dropped."""
    dumps = json.dumps
    adv = {"feed": feed, "id": a.id, "summary": a.summary, "details": a.details, "published": a.published,
           "modified": a.modified, "withdrawn": a.withdrawn, "severity": a.severity}
    aliases = [x for x in dict.fromkeys(a.aliases) if x != a.id]
    aff: list[dict[str, Any]] = []
    imps: dict[tuple[str, str], list[dict[str, Any]]] = {}
    seen: set[tuple[str, str, str, str, str]] = set()
    withdrawn = a.withdrawn is not None
    for af in a.affected:
        eco = canonical_ecosystem(af.ecosystem)
        pkg = normalize_name(eco, af.package)
        if af.imports:
            imps.setdefault((eco, pkg), []).extend(i for i in af.imports if i not in imps.get((eco, pkg), []))
        rj, vj = dumps(af.ranges, sort_keys=True), dumps(af.versions)
        key = (eco, pkg, rj, vj, af.status)
        if key in seen:
            continue
        seen.add(key)
        aff.append({"feed": feed, "advisory_id": a.id, "ecosystem": eco, "package": pkg, "ranges": rj, "versions": vj,
                    "status": af.status, "fixed": dumps(fixed_versions_of(af.ranges)), "severity": af.severity,
                    "withdrawn": withdrawn})
    sevs = [{"feed": feed, "advisory_id": a.id, "type": ty, "vector": vec, "score": score}
            for ty, vec, score in dict.fromkeys(a.severities)]
    cwes = list(dict.fromkeys(a.cwes))
    refs = [{"feed": feed, "advisory_id": a.id, "type": ty, "url": url} for ty, url in dict.fromkeys(a.references)]
    return _Rows(adv, [{"feed": feed, "advisory_id": a.id, "alias": x} for x in aliases], aff, sevs,
                 [{"feed": feed, "advisory_id": a.id, "cwe": c} for c in cwes], refs,
                 changelog.digest(adv, aliases, aff, sevs, cwes, refs), {(r["ecosystem"], r["package"]) for r in aff},
                 [{"feed": feed, "advisory_id": a.id, "ecosystem": eco, "package": pkg, "imports": dumps(i)}
                  for (eco, pkg), i in imps.items()])


def _kind(old: tuple[str, bool] | None, new: _Rows) -> str:
    """The change-log kind of an advisory written anew: `added` when it was not stored, `withdrawn` when it
    is withdrawn now and was not, else `changed`."""
    if old is None:
        return "added"
    return "withdrawn" if new.advisory["withdrawn"] is not None and not old[1] else "changed"


class _Borrowed:
    """A DBAPI connection lent to a reader whose `close()` must not close it (an atomic session's)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def cursor(self) -> Any:
        return self._conn.cursor()

    def close(self) -> None:
        pass


def _vars(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # COPY inside the same transaction: ~10x faster than executemany for feed-sized batches
        cols = [c.name for c in table.columns]
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]  # psycopg's connection: its cursor is a context manager
            with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(tuple(r.get(c) for c in cols))
        return
    for chunk in chunks(rows, 20000):
        conn.execute(table.insert(), list(chunk))


def _store_coverage(conn: Connection, feeds: list[str]) -> None:
    """Replace the hs_ecosystem rows of `feeds` with what their live affected rows say now: one GROUP BY
    per feed over its rows (found by the hs_affected_adv index), joined to their advisories' dates."""
    e, f, a = S.ecosystem, S.affected, S.advisory
    for feed in feeds:
        conn.execute(delete(e).where(e.c.feed == feed))
        q = (select(f.c.ecosystem, func.count(distinct(f.c.advisory_id)), func.count(),
                    func.max(a.c.published), func.max(a.c.modified))
             .select_from(f.join(a, (a.c.feed == f.c.feed) & (a.c.id == f.c.advisory_id)))
             .where(f.c.feed == feed, f.c.withdrawn.is_(False))
             .group_by(f.c.ecosystem))
        rows = [{"feed": feed, "ecosystem": eco, "advisories": n_adv, "affected": n_aff,
                 "newest": newest_date((pub, mod))}
                for eco, n_adv, n_aff, pub, mod in conn.execute(q)]
        if rows:
            conn.execute(e.insert(), rows)


def _write_coverage(conn: Connection, feed: str, counted: dict[str, list[Any]]) -> None:
    conn.execute(delete(S.ecosystem).where(S.ecosystem.c.feed == feed))
    rows = [{"feed": feed, "ecosystem": eco, "advisories": n_adv, "affected": n_aff, "newest": newest}
            for eco, (n_adv, n_aff, newest) in counted.items()]
    if rows:
        conn.execute(S.ecosystem.insert(), rows)


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(delete(S.meta).where(S.meta.c.key == key))
    conn.execute(S.meta.insert(), [{"key": key, "value": value}])
