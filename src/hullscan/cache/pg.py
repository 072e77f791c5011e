"""The per-layer cache in PostgreSQL, shared by every worker of a service (`$HULLSCAN_CACHE_URL`,
docs/service.md): the same keys, values and codec as the SQLite file (cache/store.py), so a layer
analyzed by one worker is never read again by another.

A lock per layer keeps two workers from analyzing the same layer at once: a read that misses a layer's
walk metadata takes a session advisory lock keyed by the diff_id's hash, then reads again — the second
worker waits there while the first analyzes, then finds its facts. The lock is held until that layer's
facts are stored (or the cache is closed: a failed scan, and a killed worker's connection, release it).

The whole-result cache lives here too: a worker scanning a digest another worker scanned gets the result
without walking, and workers keep no local state (their pods need no volume).
"""

from __future__ import annotations

import os
import time
from typing import Any

import psycopg

from hullscan.cache.store import RESULTS_KEPT, WALKER_VERSION, _pack, _unpack, check_facts, check_layer
from hullscan.digests import sha256

ENV_URL = "HULLSCAN_CACHE_URL"
SCHEMA = "hullscan_cache"
_LAYER_LOCK_SPACE = "hullscan-layer:"
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.facts (
    diff_id TEXT NOT NULL, analyzer TEXT NOT NULL, version BIGINT NOT NULL, data BYTEA NOT NULL,
    created DOUBLE PRECISION NOT NULL, PRIMARY KEY (diff_id, analyzer, version));
CREATE TABLE IF NOT EXISTS {SCHEMA}.layers (
    diff_id TEXT NOT NULL, walker INTEGER NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (diff_id, walker));
CREATE TABLE IF NOT EXISTS {SCHEMA}.verified (blob_digest TEXT PRIMARY KEY, diff_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.blob_locations (
    location TEXT PRIMARY KEY, identity TEXT NOT NULL, blob_digest TEXT NOT NULL, diff_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.results (key TEXT PRIMARY KEY, data BYTEA NOT NULL, used DOUBLE PRECISION NOT NULL);
"""
_READY: set[str] = set()
"""URLs whose tables this process has made sure of."""


def lock_key(space: str, name: str) -> int:
    """A signed 64-bit advisory lock key for `name` in a key space (a collision only makes two unrelated
    holders take turns)."""
    return int.from_bytes(sha256((space + name).encode()).digest()[:8], "big", signed=True)


def connect(url: str, *, timeout: int = 10) -> psycopg.Connection[Any]:
    """An autocommit connection to `postgresql://…` (SQLAlchemy's `postgresql+psycopg://` is taken too)."""
    scheme, _, rest = url.partition("://")
    return psycopg.connect(f"postgresql://{rest}", autocommit=True, connect_timeout=timeout)


class PgLayerCache:
    """cache/store.py `LayerCache`'s interface on PostgreSQL (module docstring). One connection per scan."""

    def __init__(self, url: str, warn: Any = None) -> None:
        self.url = url
        self.path = f"postgresql (schema {SCHEMA})"
        self.warn = warn
        self.corrupt: str | None = None
        self.db = connect(url)
        self._held: set[str] = set()
        """diff_ids whose analysis lock this cache holds (the layers this scan is analyzing)."""
        self.misses = 0
        """Layers this cache found missing and locked for analysis (the service's "analyzed" count)."""
        try:
            if url not in _READY:
                with self.db.transaction():
                    self.db.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("hullscan-ddl:", SCHEMA),))
                    self.db.execute(_DDL)
                _READY.add(url)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        try:
            for diff_id in list(self._held):
                self._unlock(diff_id)
        except psycopg.Error:
            pass  # closing the session releases them anyway
        self.db.close()

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self.db.execute(sql, params).fetchone()

    # -- reads ---------------------------------------------------------------------------------------
    def facts(self, diff_id: str, analyzer: str, version: int) -> dict[str, Any] | None:
        row = self._one(f"SELECT data FROM {SCHEMA}.facts WHERE diff_id=%s AND analyzer=%s AND version=%s",
                        (diff_id, analyzer, version))
        return check_facts(_unpack(row[0])) if row else None

    def has_facts(self, diff_id: str, analyzer: str, version: int) -> bool:
        return self._one(f"SELECT 1 FROM {SCHEMA}.facts WHERE diff_id=%s AND analyzer=%s AND version=%s",
                         (diff_id, analyzer, version)) is not None

    def layer(self, diff_id: str) -> dict[str, Any] | None:
        """A layer's walk metadata; on a miss, the layer's analysis lock is taken first and the read
        repeated, so a layer another worker is analyzing is waited for and then found."""
        found = self._layer(diff_id)
        if found is not None or diff_id in self._held:
            return found
        self.db.execute("SELECT pg_advisory_lock(%s)", (lock_key(_LAYER_LOCK_SPACE, diff_id),))
        self._held.add(diff_id)
        found = self._layer(diff_id)
        if found is not None:
            self._unlock(diff_id)
        else:
            self.misses += 1
        return found

    def _layer(self, diff_id: str) -> dict[str, Any] | None:
        row = self._one(f"SELECT data FROM {SCHEMA}.layers WHERE diff_id=%s AND walker=%s", (diff_id, WALKER_VERSION))
        return check_layer(_unpack(row[0])) if row else None

    def _unlock(self, diff_id: str) -> None:
        self._held.discard(diff_id)
        self.db.execute("SELECT pg_advisory_unlock(%s)", (lock_key(_LAYER_LOCK_SPACE, diff_id),))

    def is_verified(self, blob_digest: str, diff_id: str) -> bool:
        row = self._one(f"SELECT diff_id FROM {SCHEMA}.verified WHERE blob_digest=%s", (blob_digest,))
        return row is not None and row[0] == diff_id

    def verified_file(self, identity: Any, diff_id: str, blob_digest: str = "") -> bool:
        row = self._one(f"SELECT identity, blob_digest, diff_id FROM {SCHEMA}.blob_locations WHERE location=%s",
                        (identity.location,))
        return row is not None and row[0] == identity.key and row[2] == diff_id and (not blob_digest or row[1] == blob_digest)

    def result(self, key: str) -> Any | None:
        import marshal
        import zlib

        row = self._one(f"SELECT data FROM {SCHEMA}.results WHERE key=%s", (key,))
        if row is None:
            return None
        try:
            return marshal.loads(zlib.decompress(row[0]))
        except (zlib.error, ValueError, EOFError, TypeError):  # damaged: scan again
            return None

    # -- writes ----------------------------------------------------------------------------------------
    def remember_file(self, identity: Any, blob_digest: str, diff_id: str) -> None:
        self.db.execute(
            f"INSERT INTO {SCHEMA}.blob_locations VALUES (%s, %s, %s, %s) ON CONFLICT (location) DO UPDATE SET "
            "identity=EXCLUDED.identity, blob_digest=EXCLUDED.blob_digest, diff_id=EXCLUDED.diff_id",
            (identity.location, identity.key, blob_digest, diff_id))

    def store_result(self, key: str, data: Any) -> None:
        import marshal
        import zlib

        packed = zlib.compress(marshal.dumps(data), 0)  # as cache/store.py: the bulk is compressed already
        with self.db.transaction():
            self.db.execute(f"INSERT INTO {SCHEMA}.results VALUES (%s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
                            "data=EXCLUDED.data, used=EXCLUDED.used", (key, packed, time.time()))
            self.db.execute(f"DELETE FROM {SCHEMA}.results WHERE key NOT IN "
                            f"(SELECT key FROM {SCHEMA}.results ORDER BY used DESC LIMIT %s)", (RESULTS_KEPT,))

    def store_layer(self, diff_id: str, blob_digest: str, layer_meta: dict[str, Any],
                    facts: dict[tuple[str, int], dict[str, Any]]) -> None:
        """A walked layer's facts, in one transaction; then its analysis lock is released."""
        now = time.time()
        try:
            with self.db.transaction():
                self.db.execute(f"INSERT INTO {SCHEMA}.layers VALUES (%s, %s, %s) ON CONFLICT (diff_id, walker) "
                                "DO UPDATE SET data=EXCLUDED.data", (diff_id, WALKER_VERSION, _pack(layer_meta)))
                if blob_digest:
                    self.db.execute(f"INSERT INTO {SCHEMA}.verified VALUES (%s, %s) ON CONFLICT (blob_digest) "
                                    "DO UPDATE SET diff_id=EXCLUDED.diff_id", (blob_digest, diff_id))
                with self.db.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO {SCHEMA}.facts VALUES (%s, %s, %s, %s, %s) ON CONFLICT (diff_id, analyzer, "
                        "version) DO UPDATE SET data=EXCLUDED.data, created=EXCLUDED.created",
                        [(diff_id, name, version, _pack(data), now) for (name, version), data in facts.items()])
        finally:
            if diff_id in self._held:
                self._unlock(diff_id)

    def stats(self) -> dict[str, int]:
        counts = {name: self._one(f"SELECT COUNT(*) FROM {SCHEMA}.{name}", ())[0] for name in ("layers", "facts", "results")}
        size = self._one("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
                         "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'", (SCHEMA,))[0]
        return {**counts, "bytes": int(size)}


def open_pg_cache(url: str | None, warn: Any) -> PgLayerCache | None:
    """The shared cache at `url` (else `$HULLSCAN_CACHE_URL`), or None with a warning when it cannot be
    reached (the scan goes on without it, as with an unusable cache file)."""
    from hullscan.cache.store import WARNING_PREFIX

    url = url or os.environ.get(ENV_URL, "")
    try:
        return PgLayerCache(url, warn)
    except psycopg.Error as err:
        warn(f"{WARNING_PREFIX} unavailable ({str(err).strip().splitlines()[0] if str(err).strip() else err}); "
             "scanning without it")
        return None
