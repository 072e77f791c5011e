"""`SQLReader`: every read of the vulnerability DB as plain SQL over a DBAPI connection — SQLite through
the stdlib `sqlite3`, PostgreSQL through psycopg — and the check that a DB is a complete hullscan DB
of this schema version.

No SQLAlchemy here: a scan's start-up and its layer walkers do not pay for it. The tables and columns
named in the SQL are `schema.py`'s (the one definition); tests/vulndb/test_vulndb_schema.py runs every
query below against a DB created from that schema and checks every name it uses.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from hullscan.errors import DatabaseError
from hullscan.vulndb.location import MIGRATE_HINT, REBUILD_HINT, check_file, missing_message, redact
from hullscan.vulndb.model import Advisory, AffectedRecord, EolCycle, EpssEntry, FeedState, KevEntry
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
    query_keys,
    reach,
)

#: Bump when the tables change. A DB of a version in MIGRATES_FROM is brought up to date in place by the
#: next `db update`/`db import` (store.py creates the tables it lacks); a scan against it, or against any
#: other version, is refused (exit 4) naming that command.
SCHEMA_VERSION = "3"
#: Older schema versions the writer migrates in place: every change since only added tables.
MIGRATES_FROM = frozenset({"1", "2"})
#: Marker telling our DB apart from any other SQLite file / PostgreSQL schema.
DB_FORMAT = "hullscan-vulndb"
#: The tables of a complete DB (schema.py defines them; a test holds the two equal).
TABLES = frozenset({"hs_meta", "hs_advisory", "hs_alias", "hs_affected", "hs_severity", "hs_cwe", "hs_reference",
                    "hs_kev", "hs_epss", "hs_feed", "hs_ecosystem", "hs_eol", "hs_repo_cpe",
                    "hs_generation", "hs_change", "hs_change_cve", "hs_digest", "hs_imports"})
#: Tables `counts()` reports.
COUNTED = ("hs_advisory", "hs_affected", "hs_alias", "hs_kev", "hs_epss")
#: SQLite settings of every connection (the writer adds synchronous=NORMAL): lookups touch rows all
#: over the file, so keep more pages than the 2 MB default.
SQLITE_PRAGMAS = ("PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-65536")

_CHUNK = 500
#: Names per `package IN (...)`: below SQLite's default limit of 999 parameters, with the ecosystem.
_NAMES_CHUNK = 900
_META_SQL = 'SELECT "key", value FROM hs_meta'
_ADVISORY_COLUMNS = "feed, id, summary, details, published, modified, withdrawn, severity"
_GENERATION_COLUMNS = "generation, previous, created_at, feeds, added, changed, withdrawn, removed, kev, epss, full_rematch"
_FEED_COLUMNS = "feed, source, etag, last_modified, fetched_at, imported_at, advisories, affected, records, skipped, last_error"
# the decoder's C scanner (set by JSONDecoder.__init__; typeshed does not declare it): (text, index) → (value, end)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def open_sqlite(path: str) -> SQLReader:
    """A SQLite DB file through `sqlite3`, validated (see `read.open_reader`)."""
    path = str(Path(path))  # as messages always showed it (`./db.sqlite` is `db.sqlite`)
    check_file(path)
    try:
        # mode=rw: never create a file (check_file saw one; it may vanish in between)
        conn = sqlite3.connect(f"file:{_uri_path(path)}?mode=rw", uri=True, check_same_thread=False)
    except sqlite3.Error as err:
        raise open_error(path, err) from None
    try:
        for pragma in SQLITE_PRAGMAS:
            conn.execute(pragma)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = dict(conn.execute(_META_SQL).fetchall()) if "hs_meta" in names else None
        check_schema(path, names, meta, server=False)
    except sqlite3.Error as err:
        conn.close()
        raise open_error(path, err) from None
    except BaseException:
        conn.close()
        raise
    return SQLReader(conn, path, paramstyle=sqlite3.paramstyle, errors=(sqlite3.Error,))


def open_postgres(url: str) -> SQLReader:
    """A PostgreSQL DB through psycopg (autocommit: no transaction held open while a scan runs),
    validated; `url` is vulndb/location.py's (`postgresql+psycopg://...`, libpq parameters in the query)."""
    import psycopg  # only for PostgreSQL

    display = redact(url)
    try:
        conn = psycopg.connect("postgresql://" + url.partition("://")[2], autocommit=True)
    except psycopg.Error as err:  # a server that is down or refuses us: nothing to rebuild
        raise DatabaseError(f"cannot connect to vulnerability DB {display}: {short(err)}") from None
    try:
        names = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")}
        meta = {str(k): str(v) for k, v in conn.execute(_META_SQL)} if "hs_meta" in names else None
        check_schema(display, names, meta, server=True)
    except psycopg.Error as err:
        conn.close()
        raise open_error(display, err) from None
    except BaseException:
        conn.close()
        raise
    return SQLReader(conn, display, paramstyle="pyformat", errors=(psycopg.Error,))


def check_schema(display: str, names: set[str], meta: dict[str, str] | None, *, server: bool) -> None:
    """Raise DatabaseError unless a DB with the tables `names` and the hs_meta rows `meta` (None when
    it has no hs_meta) is a complete hullscan DB of this schema version. `server` (PostgreSQL): a
    schema without any of our tables is a missing DB rather than a foreign one."""
    if meta is None or "hs_meta" not in names:
        if server and not names & TABLES:
            raise DatabaseError(missing_message(display))
        raise DatabaseError(f"{display} is not a hullscan vulnerability DB (foreign schema); {REBUILD_HINT}")
    if meta.get("format") != DB_FORMAT:
        raise DatabaseError(f"{display} is not a hullscan vulnerability DB (foreign schema); {REBUILD_HINT}")
    if meta.get("schema_version") != SCHEMA_VERSION:
        hint = MIGRATE_HINT if meta.get("schema_version") in MIGRATES_FROM else REBUILD_HINT
        raise DatabaseError(
            f"{display} has DB schema version {meta.get('schema_version')!r}, this hullscan "
            f"needs {SCHEMA_VERSION!r}; {hint}"
        )
    missing = TABLES - names
    if missing:
        raise DatabaseError(f"{display} is incomplete (missing {', '.join(sorted(missing))}); {REBUILD_HINT}")


def open_error(display: str, err: BaseException) -> DatabaseError:
    """The error of a DB the driver cannot open or validate (a corrupt file)."""
    return DatabaseError(f"cannot use vulnerability DB {display}: {short(err)}; {REBUILD_HINT}")


def read_error(display: str, err: BaseException) -> DatabaseError:
    """The error of a read that failed in the driver (a corrupt file, a dropped table...)."""
    return DatabaseError(f"cannot read vulnerability DB {display}: {short(err)}; {REBUILD_HINT}")


def short(err: BaseException) -> str:
    """The first line of a driver's error (SQLAlchemy's wrapper unwrapped)."""
    msg = str(getattr(err, "orig", None) or err).strip().splitlines()
    return msg[0] if msg else type(err).__name__


class SQLReader:
    """The `read.AdvisoryReader` of a SQL DB: its read queries on one DBAPI connection (`paramstyle` is
    the driver's: `qmark` for sqlite3, `pyformat` for psycopg), which `close()` closes. The driver's
    `errors` become DatabaseError."""

    def __init__(self, conn: Any, display: str, *, paramstyle: str, errors: tuple[type[BaseException], ...]) -> None:
        self.conn = conn
        self._display = display
        self._ph = "?" if paramstyle == "qmark" else "%s"
        self._errors = errors

    @property
    def display(self) -> str:
        return self._display

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SQLReader:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        cur = self.conn.cursor()
        try:
            if params:
                cur.execute(sql, params)
            else:
                cur.execute(sql)
            rows: list[Any] = cur.fetchall()
            return rows
        except self._errors as err:
            raise read_error(self._display, err) from None
        finally:
            cur.close()

    def _in(self, n: int) -> str:
        return f"({', '.join([self._ph] * n)})"

    # ------------------------------------------------------------------ metadata

    def meta(self) -> dict[str, str]:
        return dict(self._rows(_META_SQL))

    @property
    def built_at(self) -> datetime | None:
        return built_at(self.meta())

    @property
    def age(self) -> timedelta | None:
        return age(self.built_at)

    # ------------------------------------------------------------------ lookups

    def affected_for(self, pairs: Iterable[Pair], *, include_withdrawn: bool = False) -> dict[Pair, list[AffectedRecord]]:
        out, wanted = query_keys(pairs)
        by_eco: dict[str, list[str]] = {}
        for eco, name in wanted:
            by_eco.setdefault(eco, []).append(name)
        # The hot path of a scan: one indexed `ecosystem = ? AND package IN (...)` per chunk of names.
        ph = self._ph
        where_live = "" if include_withdrawn else " AND NOT withdrawn"
        # JSON decoding dominates what is left: identical JSON texts (half the ranges, most version
        # lists) are decoded once per call, by the C scanner directly (we wrote the JSON: no
        # surrounding whitespace). Decoded lists are shared between records: treat them as read-only.
        scan = _SCAN
        memo: dict[str, Any] = {}

        def dec(text: str) -> Any:
            v = memo.get(text)
            if v is None:
                v = memo[text] = scan(text, 0)[0]
            return v

        for eco, names in by_eco.items():
            for chunk in chunks(names, _NAMES_CHUNK):
                rows = self._rows(
                    "SELECT advisory_id, ecosystem, package, ranges, versions, fixed, status, severity, feed"
                    f" FROM hs_affected WHERE ecosystem = {ph} AND package IN {self._in(len(chunk))}{where_live}",
                    (eco, *chunk),
                )
                for adv_id, reco, pkg, rj, vj, fj, status, sev, feed in rows:
                    rec = AffectedRecord(adv_id, reco, pkg, dec(rj), dec(vj), status, dec(fj), sev, feed)
                    for key in wanted[(reco, pkg)]:
                        out[key].append(rec)
        return out

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]:
        heads: dict[str, list[AdvisoryRow]] = {}
        parts: dict[Pair, AdvisoryParts] = {}

        def part(feed: str, adv_id: str) -> AdvisoryParts:
            p = parts.get((feed, adv_id))
            if p is None:
                p = parts[(feed, adv_id)] = AdvisoryParts()
            return p

        for chunk in chunks(sorted(set(ids))):
            in_ = self._in(len(chunk))
            for row in self._rows(f"SELECT {_ADVISORY_COLUMNS} FROM hs_advisory WHERE id IN {in_}", chunk):
                heads.setdefault(row[1], []).append(AdvisoryRow(*row))
            for feed, adv_id, alias in self._rows(f"SELECT feed, advisory_id, alias FROM hs_alias WHERE advisory_id IN {in_}", chunk):
                part(feed, adv_id).aliases.append(alias)
            sql = f"SELECT feed, advisory_id, type, vector, score FROM hs_severity WHERE advisory_id IN {in_}"
            for feed, adv_id, ty, vector, score in self._rows(sql, chunk):
                part(feed, adv_id).severities.append((ty, vector, score))
            for feed, adv_id, cwe in self._rows(f"SELECT feed, advisory_id, cwe FROM hs_cwe WHERE advisory_id IN {in_}", chunk):
                part(feed, adv_id).cwes.append(cwe)
            sql = f"SELECT feed, advisory_id, type, url FROM hs_reference WHERE advisory_id IN {in_}"
            for feed, adv_id, ty, url in self._rows(sql, chunk):
                part(feed, adv_id).references.append((ty, url))
        return {adv_id: merge_advisory(adv_id, rows, parts) for adv_id, rows in heads.items()}

    def aliases_of(self, ids: Iterable[str]) -> dict[str, set[str]]:
        def edges(frontier: list[str]) -> Iterator[Pair]:
            for chunk in chunks(frontier):
                in_ = self._in(len(chunk))
                sql = f"SELECT advisory_id, alias FROM hs_alias WHERE advisory_id IN {in_} OR alias IN {in_}"
                yield from self._rows(sql, (*chunk, *chunk))

        return alias_closure(ids, edges)

    def kev(self, cves: Iterable[str]) -> dict[str, KevEntry]:
        out: dict[str, KevEntry] = {}
        for chunk in chunks(sorted(set(cves))):
            sql = ("SELECT cve, vendor, product, name, date_added, due_date, ransomware, required_action, notes"
                   f" FROM hs_kev WHERE cve IN {self._in(len(chunk))}")
            for cve, vendor, product, name, added, due, ransomware, action, notes in self._rows(sql, chunk):
                # a boolean column: 0/1 in SQLite
                out[cve] = KevEntry(cve, vendor, product, name, added, due,
                                    None if ransomware is None else bool(ransomware), action, notes)
        return out

    def imports(self, advisory_ids: Iterable[str]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
        out: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for chunk in chunks(sorted(set(advisory_ids))):
            sql = f"SELECT feed, advisory_id, package, imports FROM hs_imports WHERE advisory_id IN {self._in(len(chunk))}"
            for feed, adv_id, package, text in self._rows(sql, chunk):
                out[(feed, adv_id, package)] = json.loads(text)
        return out

    def epss(self, cves: Iterable[str]) -> dict[str, EpssEntry]:
        out: dict[str, EpssEntry] = {}
        for chunk in chunks(sorted(set(cves))):
            sql = f"SELECT cve, score, percentile, date FROM hs_epss WHERE cve IN {self._in(len(chunk))}"
            for row in self._rows(sql, chunk):
                out[row[0]] = EpssEntry(*row)
        return out

    def eol_cycles(self) -> list[EolCycle]:
        return [EolCycle(*r) for r in self._rows(
            "SELECT product, cycle, release_date, eol, support, extended FROM hs_eol ORDER BY product, cycle")]

    def repo_cpes(self, repos: Iterable[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for chunk in chunks(sorted(set(repos))):
            for repo, cpe in self._rows(f"SELECT repo, cpe FROM hs_repo_cpe WHERE repo IN {self._in(len(chunk))}"
                                        " ORDER BY repo, cpe", chunk):
                out.setdefault(repo, []).append(cpe)
        return out

    def has_advisories(self) -> bool:
        """Whether any advisory is stored (a scan refuses an empty DB); one indexed row, not a count."""
        return bool(self._rows("SELECT 1 FROM hs_advisory LIMIT 1"))

    def feeds(self) -> list[FeedState]:
        return [FeedState(*r) for r in self._rows(f"SELECT {_FEED_COLUMNS} FROM hs_feed ORDER BY feed")]

    def feed(self, name: str) -> FeedState | None:
        rows = self._rows(f"SELECT {_FEED_COLUMNS} FROM hs_feed WHERE feed = {self._ph}", (name,))
        return FeedState(*rows[0]) if rows else None

    def ecosystems(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT DISTINCT ecosystem FROM hs_affected")}

    def coverage(self) -> list[EcosystemState]:
        sql = "SELECT feed, ecosystem, advisories, affected, newest FROM hs_ecosystem ORDER BY ecosystem, feed"
        return [EcosystemState(*r) for r in self._rows(sql)]

    def counts(self) -> dict[str, int]:
        return {t: self._rows(f"SELECT count(*) FROM {t}")[0][0] for t in COUNTED}

    # ------------------------------------------------------------------ the change log

    def generation(self) -> int:
        return int(self.meta().get("generation") or 0)

    def change_log(self) -> list[Generation]:
        return [Generation(*r) for r in self._rows(f"SELECT {_GENERATION_COLUMNS} FROM hs_generation ORDER BY generation")]

    def changes_since(self, since: int) -> Changes | FullRematch:
        current = self.generation()
        if since == current:
            return Changes(since, current, frozenset(), frozenset(), frozenset())
        log = self.change_log()
        full = reach(since, current, log)
        if full is not None:
            return full
        return merge_changes(since, current, self.change_entries(since), self.change_cves(since))

    def change_cves(self, since: int) -> list[tuple[int, str, str]]:
        sql = f"SELECT generation, cve, kind FROM hs_change_cve WHERE generation > {self._ph} ORDER BY generation, cve"
        return [(g, cve, kind) for g, cve, kind in self._rows(sql, (since,))]

    def change_entries(self, since: int) -> list[AdvisoryChange]:
        sql = ("SELECT generation, feed, advisory_id, kind, pairs FROM hs_change"
               f" WHERE generation > {self._ph} ORDER BY generation, feed, advisory_id")
        return [AdvisoryChange(g, feed, adv_id, kind, tuple((e, p) for e, p in json.loads(pairs)))
                for g, feed, adv_id, kind, pairs in self._rows(sql, (since,))]


def chunks(seq: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    """`seq` in slices of `n`: an IN list stays below the drivers' parameter limits."""
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _uri_path(path: str) -> str:
    """`path` as the path of a `file:` URI (absolute, percent-encoded: `?` and `#` are URI syntax)."""
    return quote(os.path.abspath(path))
