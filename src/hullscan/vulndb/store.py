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
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, func, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from hullscan.errors import DatabaseError
from hullscan.fsio import PRIVATE_MODE
from hullscan.vulndb import schema as S
from hullscan.vulndb.ecosystems import canonical_ecosystem, normalize_name
from hullscan.vulndb.location import REBUILD_HINT, check_file, redact, resolve
from hullscan.vulndb.model import AffectedIn, FeedBatch, FeedState, fixed_versions_of, now_iso
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
        KEV / EPSS batches always replace their whole table (each file is the complete catalog).
        `fetch` = {source, etag, last_modified, fetched_at} recorded in the feed state."""
        return self.write_stream(batch.feed, [batch], replace=replace, fetch=fetch)

    def write_stream(self, feed: str, batches: Iterable[FeedBatch], *, replace: bool = False,
                     fetch: dict[str, Any] | None = None,
                     before_commit: Callable[[FeedBatch], None] | None = None) -> FeedState:
        """`write_batch` for a feed read in parts (a big OSV download): every part is written as it
        comes, all in ONE transaction, so memory stays bounded and the switch is still all-or-nothing.
        An exception from the iterator or from `before_commit(totals)` rolls everything back."""
        total = FeedBatch(feed)
        try:
            with self._tx() as conn:
                tables = (S.advisory, *S.ADVISORY_CHILDREN)
                has_rows = conn.execute(select(S.advisory.c.id).where(S.advisory.c.feed == feed).limit(1)).first()
                if has_rows is not None and replace:
                    for t in tables:
                        conn.execute(delete(t).where(t.c.feed == feed))
                for batch in batches:
                    ids = list(batch.advisories)
                    if has_rows is not None and not replace:
                        self._merge_previous(conn, batch, ids)
                        for chunk in chunks(ids):
                            conn.execute(delete(S.advisory).where(S.advisory.c.feed == feed, S.advisory.c.id.in_(chunk)))
                            for t in S.ADVISORY_CHILDREN:
                                conn.execute(delete(t).where(t.c.feed == feed, t.c.advisory_id.in_(chunk)))
                    self._insert_advisories(conn, batch)
                    if batch.kev or (feed == "kev" and not total.kev):
                        conn.execute(delete(S.kev))
                        _insert(conn, S.kev, [_vars(e) for e in batch.kev.values()])
                    if batch.epss or (feed == "epss" and not total.epss):
                        conn.execute(delete(S.epss))
                        _insert(conn, S.epss, [_vars(e) for e in batch.epss.values()])
                    total.kev.update(batch.kev)
                    total.epss.update(batch.epss)
                    total.skipped += batch.skipped
                    total.reasons.extend(batch.reasons[: max(0, 10 - len(total.reasons))])
                    total.sources.extend(x for x in batch.sources if x not in total.sources)
                    total.files += len(batch.advisories)  # advisories written (FeedBatch.files reused as a counter)
                if before_commit is not None:
                    before_commit(total)
                state = self._store_state(conn, total, fetch)
                _set_meta(conn, "built_at", now_iso())
            return state
        except self._errors() as err:
            raise DatabaseError(f"writing feed {feed} to {self.display} failed: {short(err)}") from None

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
            for r in conn.execute(select(a).where(a.c.feed == feed, a.c.advisory_id.in_(chunk))):
                if (r.ecosystem, r.package) not in scopes[r.advisory_id]:
                    batch.advisories[r.advisory_id].affected.append(
                        AffectedIn(r.ecosystem, r.package, json.loads(r.ranges), json.loads(r.versions), r.status, r.severity))
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

    def _insert_advisories(self, conn: Connection, batch: FeedBatch) -> None:
        feed = batch.feed
        adv_rows, al_rows, aff_rows, sev_rows, cwe_rows, ref_rows = [], [], [], [], [], []
        dumps = json.dumps
        for a in batch.advisories.values():
            adv_rows.append({"feed": feed, "id": a.id, "summary": a.summary, "details": a.details,
                             "published": a.published, "modified": a.modified, "withdrawn": a.withdrawn,
                             "severity": a.severity})
            for x in dict.fromkeys(a.aliases):
                if x != a.id:
                    al_rows.append({"feed": feed, "advisory_id": a.id, "alias": x})
            seen: set[tuple[str, str, str, str, str]] = set()
            for af in a.affected:
                eco = canonical_ecosystem(af.ecosystem)
                pkg = normalize_name(eco, af.package)
                rj, vj = dumps(af.ranges, sort_keys=True), dumps(af.versions)
                key = (eco, pkg, rj, vj, af.status)
                if key in seen:
                    continue
                seen.add(key)
                aff_rows.append({"feed": feed, "advisory_id": a.id, "ecosystem": eco, "package": pkg,
                                 "ranges": rj, "versions": vj, "status": af.status,
                                 "fixed": dumps(fixed_versions_of(af.ranges)), "severity": af.severity,
                                 "withdrawn": a.withdrawn is not None})
            for ty, vec, score in dict.fromkeys(a.severities):
                sev_rows.append({"feed": feed, "advisory_id": a.id, "type": ty, "vector": vec, "score": score})
            for c in dict.fromkeys(a.cwes):
                cwe_rows.append({"feed": feed, "advisory_id": a.id, "cwe": c})
            for ty, url in dict.fromkeys(a.references):
                ref_rows.append({"feed": feed, "advisory_id": a.id, "type": ty, "url": url})
        # rows of one (ecosystem, package) side by side on disk: a lookup reads fewer pages
        aff_rows.sort(key=lambda r: (r["ecosystem"], r["package"]))
        for t, rows in ((S.advisory, adv_rows), (S.alias, al_rows), (S.affected, aff_rows),
                        (S.severity, sev_rows), (S.cwe, cwe_rows), (S.reference, ref_rows)):
            _insert(conn, t, rows)

    def _store_state(self, conn: Connection, batch: FeedBatch, fetch: dict[str, Any] | None) -> FeedState:
        f = S.feed_state
        feed = batch.feed
        old = conn.execute(select(f).where(f.c.feed == feed)).first()
        row: dict[str, Any] = dict(old._mapping) if old is not None else {"feed": feed}
        n_adv = conn.execute(select(func.count()).select_from(S.advisory).where(S.advisory.c.feed == feed)).scalar_one()
        n_aff = conn.execute(select(func.count()).select_from(S.affected).where(S.affected.c.feed == feed)).scalar_one()
        n_rec = len(batch.kev) + len(batch.epss)
        if old is not None and not n_rec:
            n_rec = old.records if feed not in ("kev", "epss") else 0
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
                    if t is not S.meta:
                        for r in conn.execute(select(t)):
                            yield t.name, dict(r._mapping)
        except self._errors() as err:  # a corrupt file, a dropped table
            raise read_error(self.display, err) from None

    def load_rows(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Replace the feeds present in `tables` (from a bundle) in one transaction."""
        feeds = {r["feed"] for r in tables.get(S.feed_state.name, ())}
        try:
            with self._tx() as conn:
                for t in (S.advisory, *S.ADVISORY_CHILDREN, S.feed_state):
                    for chunk in chunks(sorted(feeds)):
                        conn.execute(delete(t).where(t.c.feed.in_(chunk)))
                if tables.get(S.kev.name) is not None and "kev" in feeds:
                    conn.execute(delete(S.kev))
                if tables.get(S.epss.name) is not None and "epss" in feeds:
                    conn.execute(delete(S.epss))
                for t in S.metadata.sorted_tables:
                    if t is not S.meta:
                        _insert(conn, t, tables.get(t.name) or [])
                _set_meta(conn, "built_at", now_iso())
        except self._errors() as err:
            raise DatabaseError(f"loading bundle into {self.display} failed: {short(err)}") from None


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


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(delete(S.meta).where(S.meta.c.key == key))
    conn.execute(S.meta.insert(), [{"key": key, "value": value}])
