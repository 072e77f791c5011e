"""The per-layer cache: facts keyed by (layer diff_id, analyzer name, analyzer version).

Beside the facts it keeps which local blob files were verified (image/identity.py) and whole scan
results keyed by everything they depend on (scan_cache.py), so that a warm scan of an unchanged
image against an unchanged DB reads one row.

Its own SQLite file in WAL mode under the XDG cache directory, apart from the vulnerability DB:
a layer shared by many images is read once, and a scan with fewer analyzers reuses what a fuller
scan stored. Safe for concurrent processes (WAL, busy timeout, one transaction per layer). A cache
that cannot be opened or read is a warning: the scan goes on without it.
"""

from __future__ import annotations

import json
import marshal
import os
import sqlite3
import time
import zlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import Any

SCHEMA = 1
WALKER_VERSION = 1  # bump when the walker's per-layer metadata changes
RESULTS_KEPT = 256  # whole scan results (a few tens of KB each, compressed)


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hullscan")


def _pack(obj: Any) -> bytes:
    import orjson  # here, not at the top: a warm scan reads only its marshalled result (orjson loads dataclasses)

    try:  # orjson: ~5x faster both ways; it refuses lone surrogates (undecodable names) and huge ints
        text = orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        text = json.dumps(obj, separators=(",", ":")).encode()
    return zlib.compress(text, 1)


def _unpack(blob: bytes) -> Any:
    import orjson

    text = zlib.decompress(blob)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # \udcxx escapes of names json.dumps kept
        return json.loads(text)


class LayerCache:
    """Facts per (diff_id, analyzer, version); layer metadata per (diff_id, walker version)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        # plain os.path: pathlib's import is ~3 ms of a warm scan
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "layers.db")
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS facts (
                diff_id TEXT NOT NULL, analyzer TEXT NOT NULL, version INTEGER NOT NULL,
                data BLOB NOT NULL, created REAL NOT NULL,
                PRIMARY KEY (diff_id, analyzer, version));
            CREATE TABLE IF NOT EXISTS layers (
                diff_id TEXT NOT NULL, walker INTEGER NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (diff_id, walker));
            CREATE TABLE IF NOT EXISTS verified (blob_digest TEXT PRIMARY KEY, diff_id TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS blob_locations (
                location TEXT PRIMARY KEY, identity TEXT NOT NULL, blob_digest TEXT NOT NULL, diff_id TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, data BLOB NOT NULL, used REAL NOT NULL);
            """
        )
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
        elif row[0] != str(SCHEMA):
            raise sqlite3.DatabaseError(f"cache schema {row[0]}, expected {SCHEMA}")

    def close(self) -> None:
        self.db.close()

    # -- reads ----------------------------------------------------------------
    def facts(self, diff_id: str, analyzer: str, version: int) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM facts WHERE diff_id=? AND analyzer=? AND version=?", (diff_id, analyzer, version)
        ).fetchone()
        return _unpack(row[0]) if row else None

    def has_facts(self, diff_id: str, analyzer: str, version: int) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM facts WHERE diff_id=? AND analyzer=? AND version=?", (diff_id, analyzer, version)
            ).fetchone()
            is not None
        )

    def layer(self, diff_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM layers WHERE diff_id=? AND walker=?", (diff_id, WALKER_VERSION)).fetchone()
        return _unpack(row[0]) if row else None

    def is_verified(self, blob_digest: str, diff_id: str) -> bool:
        row = self.db.execute("SELECT diff_id FROM verified WHERE blob_digest=?", (blob_digest,)).fetchone()
        return row is not None and row[0] == diff_id

    def verified_file(self, identity: Any, diff_id: str, blob_digest: str = "") -> bool:
        """Whether the blob at this location was verified, as this diff_id (and blob digest, when
        known), while its file had this identity (image/identity.py's FileIdentity)."""
        row = self.db.execute(
            "SELECT identity, blob_digest, diff_id FROM blob_locations WHERE location=?", (identity.location,)
        ).fetchone()
        return row is not None and row[0] == identity.key and row[2] == diff_id and (not blob_digest or row[1] == blob_digest)

    def result(self, key: str) -> Any | None:
        row = self.db.execute("SELECT data FROM results WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return marshal.loads(zlib.decompress(row[0]))
        except (zlib.error, ValueError, EOFError, TypeError):  # damaged: scan again
            return None

    # -- writes (one transaction per layer) -------------------------------------
    def remember_file(self, identity: Any, blob_digest: str, diff_id: str) -> None:
        """One row per blob location: a file verified again replaces what was known of it."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO blob_locations VALUES (?, ?, ?, ?)",
                (identity.location, identity.key, blob_digest, diff_id),
            )

    def store_result(self, key: str, data: Any) -> None:
        """One scan result; only the most recently stored RESULTS_KEPT are kept."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            # marshal: a result is plain JSON-shaped data, read back twice as fast as JSON (a warm scan
            # reads one); the key holds the Python version, and zlib's checksum guards the bytes
            packed = zlib.compress(marshal.dumps(data), 1)
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", (key, packed, time.time()))
            self.db.execute(
                "DELETE FROM results WHERE key NOT IN (SELECT key FROM results ORDER BY used DESC LIMIT ?)",
                (RESULTS_KEPT,),
            )

    def store_layer(
        self,
        diff_id: str,
        blob_digest: str,
        layer_meta: dict[str, Any],
        facts: dict[tuple[str, int], dict[str, Any]],
    ) -> None:
        now = time.time()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT OR REPLACE INTO layers VALUES (?, ?, ?)", (diff_id, WALKER_VERSION, _pack(layer_meta))
            )
            if blob_digest:
                self.db.execute("INSERT OR REPLACE INTO verified VALUES (?, ?)", (blob_digest, diff_id))
            self.db.executemany(
                "INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?)",
                [(diff_id, name, version, _pack(data), now) for (name, version), data in facts.items()],
            )

    def stats(self) -> dict[str, int]:
        layers = self.db.execute("SELECT COUNT(*) FROM layers").fetchone()[0]
        facts = self.db.execute("SELECT COUNT(*) FROM facts").fetchone()[0]
        results = self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        return {"layers": layers, "facts": facts, "results": results, "bytes": size}


def open_cache(directory: str | os.PathLike[str] | None, warn: Any) -> LayerCache | None:
    """The cache, or None (with a warning) when it cannot be used."""
    try:
        return LayerCache(directory or default_cache_dir())
    except (sqlite3.Error, OSError) as err:
        warn(f"layer cache unavailable ({err}); scanning without it")
        return None


def clean_cache(directory: str | os.PathLike[str] | None) -> str:
    """Delete the cache files; returns the directory cleaned."""
    d = os.fspath(directory or default_cache_dir())
    for name in ("layers.db", "layers.db-wal", "layers.db-shm"):
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    return d
