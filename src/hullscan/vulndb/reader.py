"""Reading the vulnerability DB: every query the matcher, the report and `db status` make, written once
as plain SQL over a DBAPI connection (`sqlite3` or psycopg).

`open_reader(location)` is what a scan uses: a SQLite DB is opened with the stdlib `sqlite3` module
and validated like `VulnDB.open` does, so a scan never imports SQLAlchemy (~0.25 s of CPU that would
compete with the layer walkers); a PostgreSQL DB is opened with `VulnDB.open`. `VulnDB`'s read methods
are these same queries, run on a connection of its engine. Writes stay in `store.py` (SQLAlchemy).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hullscan.errors import DatabaseError
from hullscan.vulndb import tables as T
from hullscan.vulndb.ecosystems import lookup_variants, normalize_name
from hullscan.vulndb.location import REBUILD_HINT, check_file, missing_message, resolve
from hullscan.vulndb.model import Advisory, AffectedRecord, EpssEntry, FeedState, KevEntry

if TYPE_CHECKING:
    from hullscan.vulndb.store import VulnDB

_CHUNK = 500
#: Feeds that only enrich (never the primary record of an advisory when another feed has it).
ENRICHMENT_FEEDS = ("nvd",)
_FEED_ORDER = {n: i for i, n in enumerate(
    ("debian", "alpine", "wolfi", "chainguard", "osv", "rustsec", "rubysec", "nvd"))}
#: SQLite settings of every connection (the writer adds synchronous=NORMAL): lookups touch rows all
#: over the file, so keep more pages than the 2 MB default.
SQLITE_PRAGMAS = ("PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-65536")

# the decoder's C scanner (set by JSONDecoder.__init__; typeshed does not declare it): (text, index) → (value, end)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_AdvRow = namedtuple("_AdvRow", "feed id summary details published modified withdrawn severity")


def open_reader(location: str | os.PathLike[str] | None = None) -> DBReader | VulnDB:
    """The DB at `location` (as `VulnDB.open` takes it) opened for reading: a `DBReader` on a `sqlite3`
    connection for a SQLite file, a `VulnDB` for PostgreSQL. Both have `display`, `close()` and the
    read methods. A missing, corrupt or foreign DB raises DatabaseError, with VulnDB.open's messages."""
    _url, path = resolve(location)
    if path is None:
        from hullscan.vulndb.store import VulnDB

        return VulnDB.open(location)
    import sqlite3

    display = str(path)
    check_file(path)
    try:
        # mode=rw: never create a file (check_file saw one; it may vanish in between)
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True, check_same_thread=False)
    except sqlite3.Error as err:
        raise open_error(display, err) from None
    try:
        for pragma in SQLITE_PRAGMAS:
            conn.execute(pragma)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = dict(conn.execute(_META_SQL).fetchall()) if T.META in names else None
        check_schema(display, names, meta, server=False)
    except sqlite3.Error as err:
        conn.close()
        raise open_error(display, err) from None
    except BaseException:
        conn.close()
        raise
    return DBReader(conn, display, paramstyle=sqlite3.paramstyle, errors=(sqlite3.Error,), path=path, owned=True)


def check_schema(display: str, names: set[str], meta: dict[str, str] | None, *, server: bool) -> None:
    """Raise DatabaseError unless a DB with the tables `names` and the hs_meta rows `meta` (None when
    it has no hs_meta) is a complete hullscan DB of this schema version. `server` (PostgreSQL): a
    schema without any of our tables is a missing DB rather than a foreign one."""
    if meta is None or T.META not in names:
        if server and not names & T.ALL:
            raise DatabaseError(missing_message(display))
        raise DatabaseError(f"{display} is not a hullscan vulnerability DB (foreign schema); {REBUILD_HINT}")
    if meta.get("format") != T.DB_FORMAT:
        raise DatabaseError(f"{display} is not a hullscan vulnerability DB (foreign schema); {REBUILD_HINT}")
    if meta.get("schema_version") != T.SCHEMA_VERSION:
        raise DatabaseError(
            f"{display} has DB schema version {meta.get('schema_version')!r}, this hullscan "
            f"needs {T.SCHEMA_VERSION!r}; {REBUILD_HINT}"
        )
    missing = T.ALL - names
    if missing:
        raise DatabaseError(f"{display} is incomplete (missing {', '.join(sorted(missing))}); {REBUILD_HINT}")


def open_error(display: str, err: BaseException) -> DatabaseError:
    """The error of a SQLite DB the driver cannot open or validate (corrupt file)."""
    return DatabaseError(f"cannot use vulnerability DB {display}: {_short(err)}; {REBUILD_HINT}")


def read_error(display: str, err: BaseException) -> DatabaseError:
    """The error of a read that failed in the driver (corrupt file, dropped table...)."""
    return DatabaseError(f"cannot read vulnerability DB {display}: {_short(err)}; {REBUILD_HINT}")


_META_SQL = f'SELECT "key", value FROM {T.META}'


class DBReader:
    """The read queries on one DBAPI connection (`paramstyle` is the driver's: `qmark` for sqlite3,
    `pyformat` for psycopg). The driver's `errors` become DatabaseError. `owned`: `close()` closes the
    connection (open_reader's); VulnDB lends one of its pool's connections per call instead."""

    def __init__(self, conn: Any, display: str, *, paramstyle: str, errors: tuple[type[BaseException], ...],
                 path: Path | None = None, owned: bool = False) -> None:
        self.conn = conn
        self.display = display
        self.path = path
        self._ph = "?" if paramstyle == "qmark" else "%s"
        self._errors = errors
        self._owned = owned

    def close(self) -> None:
        if self._owned:
            self.conn.close()

    def __enter__(self) -> DBReader:
        return self

    def __exit__(self, *exc: object) -> None:
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
            raise read_error(self.display, err) from None
        finally:
            cur.close()

    def _in(self, n: int) -> str:
        return f"({', '.join([self._ph] * n)})"

    # ------------------------------------------------------------------ metadata

    def meta(self) -> dict[str, str]:
        return dict(self._rows(_META_SQL))

    @property
    def built_at(self) -> datetime | None:
        """When data was last written (UTC), None for an empty DB."""
        raw = self.meta().get("built_at")
        return _parse_dt(raw) if raw else None

    @property
    def age(self) -> timedelta | None:
        """Time since `built_at`."""
        built = self.built_at
        return None if built is None else datetime.now(UTC) - built

    # ------------------------------------------------------------------ lookups

    def affected_for(
        self, pairs: Iterable[tuple[str, str]], *, include_withdrawn: bool = False
    ) -> dict[tuple[str, str], list[AffectedRecord]]:
        """Affected rows for many (ecosystem, package name) pairs, keyed by the pairs as given (every
        pair is a key, [] when nothing matches). Ecosystem matching is exact after canonical casing
        (`Debian:10` finds rows stored for `Debian:10`) plus the release spellings of
        `ecosystems.lookup_variants` (`Ubuntu:22.04` -> `:LTS`, `Alpine:3.19` -> `v3.19`, `Debian:12.4` -> `12`);
        names are normalized as stored (PyPI PEP 503).
        Rows of withdrawn advisories are left out unless `include_withdrawn`."""
        wanted: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        out: dict[tuple[str, str], list[AffectedRecord]] = {}
        for eco, name in pairs:
            if (eco, name) in out:
                continue  # asked twice: answer once
            out[(eco, name)] = []
            for ceco in lookup_variants(eco):
                wanted[(ceco, normalize_name(ceco, name))].append((eco, name))
        by_eco: dict[str, list[str]] = defaultdict(list)
        for ceco, cname in wanted:
            by_eco[ceco].append(cname)
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
            for chunk in _chunks(names, 900):
                rows = self._rows(
                    "SELECT advisory_id, ecosystem, package, ranges, versions, fixed, status, severity, feed"
                    f" FROM {T.AFFECTED} WHERE ecosystem = {ph} AND package IN {self._in(len(chunk))}{where_live}",
                    (eco, *chunk),
                )
                for adv_id, reco, pkg, rj, vj, fj, status, sev, feed in rows:
                    rec = AffectedRecord(adv_id, reco, pkg, dec(rj), dec(vj), status, dec(fj), sev, feed)
                    for key in wanted[(reco, pkg)]:
                        out[key].append(rec)
        return out

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]:
        """Advisories by id; when several feeds hold an id they are merged (the primary feed's text,
        the union of aliases, CWEs, references, and severities of types the primary lacks)."""
        idl = sorted(set(ids))
        heads: dict[str, list[_AdvRow]] = defaultdict(list)
        kids: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for chunk in _chunks(idl):
            in_ = self._in(len(chunk))
            for row in self._rows(f"SELECT {', '.join(_AdvRow._fields)} FROM {T.ADVISORY} WHERE id IN {in_}", chunk):
                heads[row[1]].append(_AdvRow._make(row))
            for table, cols in ((T.ALIAS, ("alias",)), (T.SEVERITY, ("type", "vector", "score")),
                                (T.CWE, ("cwe",)), (T.REFERENCE, ("type", "url"))):
                sql = f"SELECT feed, advisory_id, {', '.join(cols)} FROM {table} WHERE advisory_id IN {in_}"
                for row in self._rows(sql, chunk):
                    kids[(row[0], row[1])][table].append(row[2] if len(cols) == 1 else tuple(row[2:]))
        out: dict[str, Advisory] = {}
        for adv_id, rows in heads.items():
            rows.sort(key=lambda r: (r.feed in ENRICHMENT_FEEDS, _FEED_ORDER.get(r.feed, 99), r.feed))
            p = rows[0]
            aliases: list[str] = []
            sevs: list[tuple[str, str | None, float | None]] = []
            cwes: list[str] = []
            refs: list[tuple[str, str]] = []
            seen_urls: set[str] = set()
            for r in rows:
                k = kids.get((r.feed, adv_id), {})
                for al in k.get(T.ALIAS, ()):
                    if al not in aliases and al != adv_id:
                        aliases.append(al)
                have = {s[0] for s in sevs}
                for s in k.get(T.SEVERITY, ()):
                    if r is p or s[0] not in have:
                        sevs.append((s[0], s[1], s[2]))
                for c in k.get(T.CWE, ()):
                    if c not in cwes:
                        cwes.append(c)
                for ty, url in k.get(T.REFERENCE, ()):
                    if url not in seen_urls:
                        seen_urls.add(url)
                        refs.append((ty, url))
            out[adv_id] = Advisory(
                id=adv_id, feed=p.feed, aliases=aliases, summary=p.summary or _first(rows, "summary"),
                details=p.details or _first(rows, "details"), published=p.published or _first(rows, "published"),
                modified=p.modified or _first(rows, "modified"), withdrawn=p.withdrawn, severities=sevs, cwes=cwes,
                references=refs, severity=p.severity or _first(rows, "severity"), feeds=[r.feed for r in rows],
            )
        return out

    def aliases_of(self, ids: Iterable[str]) -> dict[str, set[str]]:
        """Every id known to name the same vulnerability (transitively: CVE <-> GHSA <-> PYSEC <-> DSA),
        excluding the id itself."""
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
        for _ in range(4):  # alias chains are short; bound the walk
            frontier -= seen
            if not frontier:
                break
            seen |= frontier
            nxt: set[str] = set()
            for chunk in _chunks(sorted(frontier)):
                in_ = self._in(len(chunk))
                sql = f"SELECT advisory_id, alias FROM {T.ALIAS} WHERE advisory_id IN {in_} OR alias IN {in_}"
                for a, b in self._rows(sql, (*chunk, *chunk)):
                    parent[find(a)] = find(b)
                    nxt.update((a, b))
            frontier = nxt
        groups: dict[str, set[str]] = defaultdict(set)
        for x in list(parent):
            groups[find(x)].add(x)
        return {i: (groups[find(i)] - {i}) if i in parent else set() for i in idl}

    def kev(self, cves: Iterable[str]) -> dict[str, KevEntry]:
        """KEV entries of the CVEs that are in the catalog."""
        out: dict[str, KevEntry] = {}
        for chunk in _chunks(sorted(set(cves))):
            sql = ("SELECT cve, vendor, product, name, date_added, due_date, ransomware, required_action, notes"
                   f" FROM {T.KEV} WHERE cve IN {self._in(len(chunk))}")
            for cve, vendor, product, name, added, due, ransomware, action, notes in self._rows(sql, chunk):
                # a boolean column: 0/1 in SQLite
                out[cve] = KevEntry(cve, vendor, product, name, added, due,
                                    None if ransomware is None else bool(ransomware), action, notes)
        return out

    def epss(self, cves: Iterable[str]) -> dict[str, EpssEntry]:
        """EPSS scores of the CVEs that have one."""
        out: dict[str, EpssEntry] = {}
        for chunk in _chunks(sorted(set(cves))):
            sql = f"SELECT cve, score, percentile, date FROM {T.EPSS} WHERE cve IN {self._in(len(chunk))}"
            for row in self._rows(sql, chunk):
                out[row[0]] = EpssEntry(*row)
        return out

    def feeds(self) -> list[FeedState]:
        """State of every feed the DB holds, by name."""
        rows = self._rows("SELECT feed, source, etag, last_modified, fetched_at, imported_at, advisories, affected,"
                          f" records, skipped, last_error FROM {T.FEED} ORDER BY feed")
        return [FeedState(*r) for r in rows]

    def feed(self, name: str) -> FeedState | None:
        return next((f for f in self.feeds() if f.feed == name), None)

    def ecosystems(self) -> set[str]:
        """Every ecosystem with affected rows (`Debian:10`, `PyPI`...): a scan warns when it lacks one."""
        return {r[0] for r in self._rows(f"SELECT DISTINCT ecosystem FROM {T.AFFECTED}")}

    def counts(self) -> dict[str, int]:
        """Rows per table (for status output)."""
        return {t: self._rows(f"SELECT count(*) FROM {t}")[0][0] for t in (T.ADVISORY, T.AFFECTED, T.ALIAS, T.KEV, T.EPSS)}


def _chunks(seq: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _first(rows: list[_AdvRow], attr: str) -> Any:
    """The first non-empty `attr` of the merged feeds' rows (primary feed first), or None."""
    return next((getattr(r, attr) for r in rows if getattr(r, attr)), None)


def _parse_dt(raw: str) -> datetime:
    dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _short(err: BaseException) -> str:
    msg = str(getattr(err, "orig", None) or err).strip().splitlines()
    return msg[0] if msg else type(err).__name__
