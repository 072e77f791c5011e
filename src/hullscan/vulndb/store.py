"""The vulnerability DB: open/validate, batched lookups for the matcher, per-feed transactional writes.

`VulnDB.open(location)` takes None (HULLSCAN_DB_URL, else the default SQLite file under the XDG data
dir), a filesystem path (SQLite) or a URL (`postgresql://...` is mapped to the psycopg driver; put the
tables in their own PostgreSQL schema with `?options=-csearch_path%3Dname`). A missing, corrupt or
foreign DB raises `DatabaseError` (exit 4) with a line saying how to rebuild it.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import create_engine, delete, event, func, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from hullscan.errors import DatabaseError
from hullscan.vulndb import schema as S
from hullscan.vulndb.location import _SQLITE_MAGIC, ENV_URL, REBUILD_HINT, default_path, missing_message, resolve  # noqa: F401
from hullscan.vulndb.ecosystems import canonical_ecosystem, lookup_variants, normalize_name
from hullscan.vulndb.model import (
    Advisory,
    AffectedIn,
    AffectedRecord,
    EpssEntry,
    FeedBatch,
    FeedState,
    KevEntry,
    fixed_versions_of,
)

_CHUNK = 500
#: Feeds that only enrich (never the primary record of an advisory when another feed has it).
ENRICHMENT_FEEDS = ("nvd",)


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _chunks(seq: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _sqlite_pragmas(dbapi_conn: Any, _rec: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA temp_store=MEMORY")
    # lookups touch rows all over the file: keep more pages than the 2 MB default
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


class VulnDB:
    """An open vulnerability DB (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine, display: str, path: Path | None) -> None:
        self.engine = engine
        self.display = display
        self.path = path

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        rebuild: bool = False,
    ) -> "VulnDB":
        """Open the DB at `location` (see module docstring). `create` makes an empty DB when there is
        none; `rebuild` throws away a foreign/corrupt/old one first. Read-only use raises DatabaseError
        for a missing, corrupt or foreign DB."""
        url, path = resolve(location)
        display = str(path) if path is not None else _redact(url)
        if path is not None:
            if rebuild and path.exists():
                path.unlink()
            if not path.exists():
                if not create:
                    raise DatabaseError(missing_message(display))
                path.parent.mkdir(parents=True, exist_ok=True)
            else:
                with open(path, "rb") as fh:
                    head = fh.read(16)
                if head and head != _SQLITE_MAGIC:
                    raise DatabaseError(f"{display} is not a SQLite vulnerability DB (corrupt or foreign); {REBUILD_HINT}")
        try:
            engine = create_engine(url, future=True)
        except Exception as err:  # bad URL syntax, missing driver
            raise DatabaseError(f"cannot open DB {display}: {err}") from None
        if path is not None:
            event.listen(engine, "connect", _sqlite_pragmas)
        db = cls(engine, display, path)
        try:
            db._validate(create=create, rebuild=rebuild)
        except DatabaseError:
            engine.dispose()
            raise
        except OperationalError as err:
            engine.dispose()
            if path is None:  # a server that is down or refuses us: nothing to rebuild
                raise DatabaseError(f"cannot connect to vulnerability DB {display}: {_short(err)}") from None
            raise DatabaseError(f"cannot use vulnerability DB {display}: {_short(err)}; {REBUILD_HINT}") from None
        except SQLAlchemyError as err:
            engine.dispose()
            raise DatabaseError(f"cannot use vulnerability DB {display}: {_short(err)}; {REBUILD_HINT}") from None
        return db

    def _validate(self, *, create: bool, rebuild: bool) -> None:
        with self.engine.begin() as conn:
            names = set(inspect(conn).get_table_names())
            ours = {t.name for t in S.metadata.sorted_tables}
            if rebuild and names & ours:
                S.metadata.drop_all(conn, checkfirst=True)
                names -= ours
            if S.meta.name not in names:
                foreign = names & ours if self.path is None else names
                if not create:
                    if not names & ours and self.path is None:
                        raise DatabaseError(
                            f"no vulnerability DB at {self.display}; create it with `hullscan db update` "
                            "or `hullscan db import PATH...`"
                        )
                    raise DatabaseError(f"{self.display} is not a hullscan vulnerability DB (foreign schema); {REBUILD_HINT}")
                if foreign:
                    raise DatabaseError(f"{self.display} holds a foreign schema; {REBUILD_HINT}")
                S.metadata.create_all(conn)
                conn.execute(
                    S.meta.insert(),
                    [
                        {"key": "format", "value": S.DB_FORMAT},
                        {"key": "schema_version", "value": S.SCHEMA_VERSION},
                        {"key": "created_at", "value": now_iso()},
                    ],
                )
                return
            got = dict(conn.execute(select(S.meta.c.key, S.meta.c.value)).all())
            if got.get("format") != S.DB_FORMAT:
                raise DatabaseError(f"{self.display} is not a hullscan vulnerability DB (foreign schema); {REBUILD_HINT}")
            if got.get("schema_version") != S.SCHEMA_VERSION:
                raise DatabaseError(
                    f"{self.display} has DB schema version {got.get('schema_version')!r}, this hullscan "
                    f"needs {S.SCHEMA_VERSION!r}; {REBUILD_HINT}"
                )
            missing = ours - names
            if missing:
                raise DatabaseError(f"{self.display} is incomplete (missing {', '.join(sorted(missing))}); {REBUILD_HINT}")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "VulnDB":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _errors(self) -> tuple[type[BaseException], ...]:
        """SQLAlchemy's errors plus the driver's own (COPY on PostgreSQL bypasses SQLAlchemy)."""
        dbapi = getattr(self.engine.dialect, "loaded_dbapi", None) or getattr(self.engine.dialect, "dbapi", None)
        err = getattr(dbapi, "Error", None)
        return (SQLAlchemyError, err) if isinstance(err, type) else (SQLAlchemyError,)

    def _read(self) -> Connection:
        return _Guard(self)  # type: ignore[return-value]

    # ------------------------------------------------------------------ metadata

    def meta(self) -> dict[str, str]:
        with self._read() as conn:
            return dict(conn.execute(select(S.meta.c.key, S.meta.c.value)).all())

    @property
    def built_at(self) -> datetime | None:
        """When data was last written (UTC), None for an empty DB."""
        raw = self.meta().get("built_at")
        return _parse_dt(raw) if raw else None

    @property
    def age(self) -> timedelta | None:
        """Time since `built_at`."""
        built = self.built_at
        return None if built is None else datetime.now(timezone.utc) - built

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
        # The hot path of a scan: plain DBAPI cursor (SQLAlchemy's result layer cost as much as the
        # query itself), one indexed `ecosystem = ? AND package IN (...)` per chunk of names.
        ph = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
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

        with self._read() as conn:
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                for eco, names in by_eco.items():
                    for chunk in _chunks(names, 900):
                        cur.execute(
                            "SELECT advisory_id, ecosystem, package, ranges, versions, fixed, status, severity, feed"
                            f" FROM {S.affected.name} WHERE ecosystem = {ph}"
                            f" AND package IN ({', '.join([ph] * len(chunk))}){where_live}",
                            (eco, *chunk),
                        )
                        for adv_id, reco, pkg, rj, vj, fj, status, sev, feed in cur.fetchall():
                            rec = AffectedRecord(adv_id, reco, pkg, dec(rj), dec(vj), status, dec(fj), sev, feed)
                            for key in wanted[(reco, pkg)]:
                                out[key].append(rec)
            finally:
                cur.close()
        return out

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]:
        """Advisories by id; when several feeds hold an id they are merged (the primary feed's text,
        the union of aliases, CWEs, references, and severities of types the primary lacks)."""
        idl = sorted(set(ids))
        heads: dict[str, list[Any]] = defaultdict(list)
        kids: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        ad = S.advisory
        with self._read() as conn:
            for chunk in _chunks(idl):
                for row in conn.execute(select(ad).where(ad.c.id.in_(chunk))):
                    heads[row.id].append(row)
                for t, cols in (
                    (S.alias, ("alias",)),
                    (S.severity, ("type", "vector", "score")),
                    (S.cwe, ("cwe",)),
                    (S.reference, ("type", "url")),
                ):
                    q = select(t.c.feed, t.c.advisory_id, *(t.c[c] for c in cols)).where(t.c.advisory_id.in_(chunk))
                    for row in conn.execute(q):
                        val = row[2] if len(cols) == 1 else tuple(row[2:])
                        kids[(row[0], row[1])][t.name].append(val)
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
                for al in k.get(S.alias.name, ()):
                    if al not in aliases and al != adv_id:
                        aliases.append(al)
                have = {s[0] for s in sevs}
                for s in k.get(S.severity.name, ()):
                    if r is p or s[0] not in have:
                        sevs.append((s[0], s[1], s[2]))
                for c in k.get(S.cwe.name, ()):
                    if c not in cwes:
                        cwes.append(c)
                for ty, url in k.get(S.reference.name, ()):
                    if url not in seen_urls:
                        seen_urls.add(url)
                        refs.append((ty, url))
            first = lambda attr: next((getattr(r, attr) for r in rows if getattr(r, attr)), None)  # noqa: E731
            out[adv_id] = Advisory(
                id=adv_id, feed=p.feed, aliases=aliases, summary=p.summary or first("summary"),
                details=p.details or first("details"), published=p.published or first("published"),
                modified=p.modified or first("modified"), withdrawn=p.withdrawn, severities=sevs, cwes=cwes,
                references=refs, severity=p.severity or first("severity"), feeds=[r.feed for r in rows],
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
        al = S.alias
        with self._read() as conn:
            for _ in range(4):  # alias chains are short; bound the walk
                frontier -= seen
                if not frontier:
                    break
                seen |= frontier
                nxt: set[str] = set()
                fl = sorted(frontier)
                for chunk in _chunks(fl):
                    q = select(al.c.advisory_id, al.c.alias).where(
                        al.c.advisory_id.in_(chunk) | al.c.alias.in_(chunk)
                    )
                    for a, b in conn.execute(q):
                        parent[find(a)] = find(b)
                        nxt.update((a, b))
                frontier = nxt
        groups: dict[str, set[str]] = defaultdict(set)
        for x in list(parent):
            groups[find(x)].add(x)
        return {i: (groups[find(i)] - {i}) if i in parent else set() for i in idl}

    def kev(self, cves: Iterable[str]) -> dict[str, KevEntry]:
        """KEV entries of the CVEs that are in the catalog."""
        k = S.kev
        out: dict[str, KevEntry] = {}
        with self._read() as conn:
            for chunk in _chunks(sorted(set(cves))):
                for r in conn.execute(select(k).where(k.c.cve.in_(chunk))):
                    out[r.cve] = KevEntry(r.cve, r.vendor, r.product, r.name, r.date_added, r.due_date,
                                          r.ransomware, r.required_action, r.notes)
        return out

    def epss(self, cves: Iterable[str]) -> dict[str, EpssEntry]:
        """EPSS scores of the CVEs that have one."""
        e = S.epss
        out: dict[str, EpssEntry] = {}
        with self._read() as conn:
            for chunk in _chunks(sorted(set(cves))):
                for r in conn.execute(select(e).where(e.c.cve.in_(chunk))):
                    out[r.cve] = EpssEntry(r.cve, r.score, r.percentile, r.date)
        return out

    def feeds(self) -> list[FeedState]:
        """State of every feed the DB holds, by name."""
        f = S.feed_state
        with self._read() as conn:
            rows = conn.execute(select(f).order_by(f.c.feed)).all()
        return [FeedState(r.feed, r.source, r.etag, r.last_modified, r.fetched_at, r.imported_at,
                          r.advisories, r.affected, r.records, r.skipped, r.last_error) for r in rows]

    def feed(self, name: str) -> FeedState | None:
        return next((f for f in self.feeds() if f.feed == name), None)

    def ecosystems(self) -> set[str]:
        """Every ecosystem with affected rows (`Debian:10`, `PyPI`...): a scan warns when it lacks one."""
        with self._read() as conn:
            return {r[0] for r in conn.execute(select(S.affected.c.ecosystem).distinct())}

    def counts(self) -> dict[str, int]:
        """Rows per table (for status output)."""
        with self._read() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in (S.advisory, S.affected, S.alias, S.kev, S.epss)}

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
            with self.engine.begin() as conn:
                tables = (S.advisory, *S.ADVISORY_CHILDREN)
                has_rows = conn.execute(select(S.advisory.c.id).where(S.advisory.c.feed == feed).limit(1)).first()
                if has_rows is not None and replace:
                    for t in tables:
                        conn.execute(delete(t).where(t.c.feed == feed))
                for batch in batches:
                    ids = list(batch.advisories)
                    if has_rows is not None and not replace:
                        self._merge_previous(conn, batch, ids)
                        for chunk in _chunks(ids):
                            conn.execute(delete(S.advisory).where(S.advisory.c.feed == feed, S.advisory.c.id.in_(chunk)))
                            for t in S.ADVISORY_CHILDREN:
                                conn.execute(delete(t).where(t.c.feed == feed, t.c.advisory_id.in_(chunk)))
                    self._insert_advisories(conn, batch)
                    if batch.kev or (feed == "kev" and not total.kev):
                        conn.execute(delete(S.kev))
                        _insert(conn, S.kev, [vars_of(e) for e in batch.kev.values()])
                    if batch.epss or (feed == "epss" and not total.epss):
                        conn.execute(delete(S.epss))
                        _insert(conn, S.epss, [vars_of(e) for e in batch.epss.values()])
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
            raise DatabaseError(f"writing feed {feed} to {self.display} failed: {_short(err)}") from None

    def _merge_previous(self, conn: Connection, batch: FeedBatch, ids: list[str]) -> None:
        """Fold the stored rows of the batch's advisories into it (see write_batch)."""
        feed = batch.feed
        for chunk in _chunks(ids):
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
        return FeedState(**{k: row.get(k) for k in FeedState.__dataclass_fields__})  # type: ignore[arg-type]

    def record_fetch(self, feed: str, **fields: Any) -> None:
        """Update a feed's state without touching its data (a 304, or a failed update's error)."""
        f = S.feed_state
        try:
            with self.engine.begin() as conn:
                old = conn.execute(select(f).where(f.c.feed == feed)).first()
                row: dict[str, Any] = dict(old._mapping) if old is not None else {
                    "feed": feed, "advisories": 0, "affected": 0, "records": 0, "skipped": 0}
                row.update(fields)
                conn.execute(delete(f).where(f.c.feed == feed))
                conn.execute(f.insert(), [row])
        except SQLAlchemyError as err:
            raise DatabaseError(f"writing feed state to {self.display} failed: {_short(err)}") from None

    # bundle support -------------------------------------------------------

    def dump_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(table name, row) for every row of every data table (for `db export`)."""
        with self._read() as conn:
            for t in S.metadata.sorted_tables:
                if t is S.meta:
                    continue
                for r in conn.execute(select(t)):
                    yield t.name, dict(r._mapping)

    def load_rows(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Replace the feeds present in `tables` (from a bundle) in one transaction."""
        feeds = {r["feed"] for r in tables.get(S.feed_state.name, ())}
        try:
            with self.engine.begin() as conn:
                for t in (S.advisory, *S.ADVISORY_CHILDREN, S.feed_state):
                    for chunk in _chunks(sorted(feeds)):
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
            raise DatabaseError(f"loading bundle into {self.display} failed: {_short(err)}") from None


_SCAN = json.JSONDecoder().scan_once

_FEED_ORDER = {n: i for i, n in enumerate(
    ("debian", "alpine", "wolfi", "chainguard", "osv", "rustsec", "rubysec", "nvd"))}


def vars_of(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # COPY inside the same transaction: ~10x faster than executemany for feed-sized batches
        cols = [c.name for c in table.columns]
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(tuple(r.get(c) for c in cols))
        return
    for chunk in _chunks(rows, 20000):
        conn.execute(table.insert(), list(chunk))


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(delete(S.meta).where(S.meta.c.key == key))
    conn.execute(S.meta.insert(), [{"key": key, "value": value}])


def _parse_dt(raw: str) -> datetime:
    dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _redact(url: str) -> str:
    """A URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if at and ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{creds}{at}{host}"


def _short(err: BaseException) -> str:
    msg = str(getattr(err, "orig", None) or err).strip().splitlines()
    return msg[0] if msg else type(err).__name__


class _Guard:
    """A read connection whose SQL errors become DatabaseError (corrupt file, dropped table...)."""

    def __init__(self, db: VulnDB) -> None:
        self.db = db
        self.conn: Connection | None = None

    def __enter__(self) -> Connection:
        try:
            self.conn = self.db.engine.connect()
        except SQLAlchemyError as err:
            raise DatabaseError(f"cannot read vulnerability DB {self.db.display}: {_short(err)}; {REBUILD_HINT}") from None
        return self.conn

    def __exit__(self, et: Any, ev: Any, tb: Any) -> bool:
        assert self.conn is not None
        self.conn.close()
        if ev is not None and isinstance(ev, self.db._errors()):
            raise DatabaseError(f"cannot read vulnerability DB {self.db.display}: {_short(ev)}; {REBUILD_HINT}") from None
        return False
