"""The per-layer cache: facts keyed by (layer diff_id, analyzer name, analyzer version).

Beside the facts it keeps which local blob files were verified (image/identity.py) and whole scan
results keyed by everything they depend on (scan_cache.py), so that a warm scan of an unchanged
image against an unchanged DB reads one row.

Its own SQLite file in WAL mode under the XDG cache directory, apart from the vulnerability DB:
a layer shared by many images is read once, and a scan with fewer analyzers reuses what a fuller
scan stored. Safe for concurrent processes (WAL, busy timeout, one transaction per layer). A cache
that cannot be opened (permissions, a newer schema) is a warning: the scan goes on without it.

Fails closed, never crashes, warns once:
- A damaged VALUE (a blob that does not inflate, does not decode, or decodes to another shape than
  the one stored: `facts()`/`layer()` check the types of every top-level field their readers use) is
  a cache miss: `Damaged` tells the caller, which analyzes the layer again and overwrites the entry
  (walk/layers.py warns once per layer; the next scan finds a good entry and says nothing).
- A damaged FILE (not SQLite, or SQLite reporting corruption) is rebuilt: at open, at once; found
  while reading (a truncated file opens fine), the cache answers "miss" for the rest of the scan,
  warns once, and `close()` deletes it, so the next scan starts a new one without a warning.
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
FILES = ("layers.db", "layers.db-wal", "layers.db-shm")
WARNING_PREFIX = "layer cache"
"""Every warning about the cache itself starts so: it tells of this scan, not of the image, and a result
stored for later scans leaves it out (cache/results.py), so a repaired cache is not warned about again."""
_CORRUPT = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB: the file itself is damaged


class Damaged(Exception):
    """A cached value that cannot be used (it is a cache miss; the message says what is wrong)."""


class SchemaMismatch(sqlite3.DatabaseError):
    """A cache file of another schema (another hullscan version's): left alone, not rebuilt."""


def is_corrupt(err: BaseException) -> bool:
    """Whether a sqlite3 error says the file is damaged (not locked, not unwritable)."""
    code = getattr(err, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _CORRUPT
    return isinstance(err, sqlite3.DatabaseError) and not isinstance(err, (sqlite3.OperationalError, SchemaMismatch))


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
    """What `_pack` stored; `Damaged` for anything else."""
    import orjson

    try:
        text = zlib.decompress(blob)
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # \udcxx escapes of names json.dumps kept
            return json.loads(text)
    except (zlib.error, TypeError, ValueError, RecursionError) as err:  # JSON and Unicode errors are ValueErrors
        raise Damaged(f"{type(err).__name__}: {err}"[:200]) from None


def _list_of_pairs(value: Any) -> bool:
    """[[path, message], ...]: the warnings of a layer or an analyzer as stored."""
    return type(value) is list and all(
        type(w) is list and len(w) == 2 and (w[0] is None or type(w[0]) is str) and type(w[1]) is str for w in value)


def _strings(value: Any) -> bool:
    return type(value) is list and all(type(x) is str for x in value)


def check_facts(entry: Any) -> dict[str, Any]:
    """An analyzer's cached entry as `_finish` (walk/layers.py) stored it: {facts: {...}, warnings:
    [[path, message]...]}, else `Damaged`. The facts' inner values are the analyzer's own: its
    `assemble` is guarded (a bad value there is a warning, never the end of a scan)."""
    if type(entry) is not dict or set(entry) != {"facts", "warnings"}:
        raise Damaged(f"not an analyzer entry: {type(entry).__name__} {sorted(entry)[:4] if type(entry) is dict else ''}")
    if type(entry["facts"]) is not dict or not _list_of_pairs(entry["warnings"]):
        raise Damaged("analyzer entry of the wrong shape")
    return entry


def check_layer(meta: Any) -> dict[str, Any]:
    """A layer's cached metadata as `_finish` stored it (the fields `_from_cache` reads), else `Damaged`."""
    if type(meta) is not dict:
        raise Damaged(f"layer metadata is a {type(meta).__name__}")
    ok = (_strings(meta.get("written")) and _strings(meta.get("deleted")) and _strings(meta.get("opaque"))
          and _list_of_pairs(meta.get("warnings")))
    if not ok:
        raise Damaged("layer metadata of the wrong shape")
    return meta


class LayerCache:
    """Facts per (diff_id, analyzer, version); layer metadata per (diff_id, walker version).
    `warn` hears, once, that the file turned out damaged (it is then rebuilt by `close()`)."""

    def __init__(self, directory: str | os.PathLike[str], warn: Any = None) -> None:
        # plain os.path: pathlib's import is ~3 ms of a warm scan
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "layers.db")
        self.warn = warn
        self.corrupt: str | None = None
        """Why the file is damaged, once a read or write found it so: reads miss, writes are skipped."""
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            self._inode = os.stat(self.path).st_ino
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
                raise SchemaMismatch(f"cache schema {row[0]}, expected {SCHEMA}")
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()
        if self.corrupt is not None:
            self._remove_if_same()

    def _remove_if_same(self) -> None:
        """Delete the damaged file, unless another process already replaced it with a new one."""
        try:
            if os.stat(self.path).st_ino != self._inode:
                return
        except OSError:
            return
        remove_files(os.path.dirname(self.path))

    def _damaged_file(self, err: BaseException) -> None:
        if self.corrupt is None:
            self.corrupt = str(err)
            if self.warn is not None:
                self.warn(f"{WARNING_PREFIX} {self.path} is damaged ({err}); scanning without it, a new one is started")

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        """One row of a read; None (a miss) on a damaged file."""
        if self.corrupt is not None:
            return None
        try:
            return self.db.execute(sql, params).fetchone()
        except sqlite3.DatabaseError as err:
            if not is_corrupt(err):
                raise
            self._damaged_file(err)
            return None

    # -- reads ----------------------------------------------------------------
    def facts(self, diff_id: str, analyzer: str, version: int) -> dict[str, Any] | None:
        """An analyzer's entry for a layer, None when absent; `Damaged` when it cannot be used."""
        row = self._one("SELECT data FROM facts WHERE diff_id=? AND analyzer=? AND version=?", (diff_id, analyzer, version))
        return check_facts(_unpack(row[0])) if row else None

    def has_facts(self, diff_id: str, analyzer: str, version: int) -> bool:
        return self._one("SELECT 1 FROM facts WHERE diff_id=? AND analyzer=? AND version=?", (diff_id, analyzer, version)) is not None

    def layer(self, diff_id: str) -> dict[str, Any] | None:
        """A layer's walk metadata, None when absent; `Damaged` when it cannot be used."""
        row = self._one("SELECT data FROM layers WHERE diff_id=? AND walker=?", (diff_id, WALKER_VERSION))
        return check_layer(_unpack(row[0])) if row else None

    def is_verified(self, blob_digest: str, diff_id: str) -> bool:
        row = self._one("SELECT diff_id FROM verified WHERE blob_digest=?", (blob_digest,))
        return row is not None and row[0] == diff_id

    def verified_file(self, identity: Any, diff_id: str, blob_digest: str = "") -> bool:
        """Whether the blob at this location was verified, as this diff_id (and blob digest, when
        known), while its file had this identity (image/identity.py's FileIdentity)."""
        row = self._one("SELECT identity, blob_digest, diff_id FROM blob_locations WHERE location=?", (identity.location,))
        return row is not None and row[0] == identity.key and row[2] == diff_id and (not blob_digest or row[1] == blob_digest)

    def result(self, key: str) -> Any | None:
        """A stored scan result, None when absent or damaged (the scan runs again and overwrites it)."""
        row = self._one("SELECT data FROM results WHERE key=?", (key,))
        if row is None:
            return None
        try:
            return marshal.loads(zlib.decompress(row[0]))
        except (zlib.error, ValueError, EOFError, TypeError):  # damaged: scan again
            return None

    # -- writes (one transaction per layer) -------------------------------------
    def _writing(self) -> Any:
        """The transaction of one write: skipped (False) on a damaged file; a write that finds the file
        damaged marks it so (rebuilt on close) instead of failing the scan."""
        return _Write(self)

    def remember_file(self, identity: Any, blob_digest: str, diff_id: str) -> None:
        """One row per blob location: a file verified again replaces what was known of it."""
        with self._writing() as ok, self.db:
            if not ok:
                return
            self.db.execute(
                "INSERT OR REPLACE INTO blob_locations VALUES (?, ?, ?, ?)",
                (identity.location, identity.key, blob_digest, diff_id),
            )

    def store_result(self, key: str, data: Any) -> None:
        """One scan result; only the most recently stored RESULTS_KEPT are kept."""
        with self._writing() as ok, self.db:
            if not ok:
                return
            self.db.execute("BEGIN IMMEDIATE")
            # marshal: a result is plain JSON-shaped data, read back twice as fast as JSON (a warm scan
            # reads one); the key holds the Python version, and zlib's checksum guards the bytes. Level 0
            # (stored blocks): its bulk, the packages, is compressed already (cache/results.py), and
            # inflating it again at level 1 cost a warm scan 4.5 M instructions (stored: 1 M)
            packed = zlib.compress(marshal.dumps(data), 0)
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
        with self._writing() as ok, self.db:
            if not ok:
                return
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


class _Write:
    """`LayerCache._writing`: yields whether to write; turns a corruption error into `corrupt`."""

    def __init__(self, cache: LayerCache) -> None:
        self.cache = cache

    def __enter__(self) -> bool:
        return self.cache.corrupt is None

    def __exit__(self, et: Any, ev: Any, tb: Any) -> bool:
        if ev is not None and isinstance(ev, sqlite3.DatabaseError) and is_corrupt(ev):
            self.cache._damaged_file(ev)
            return True
        return False


def open_cache(directory: str | os.PathLike[str] | None, warn: Any) -> LayerCache | None:
    """The cache, or None (with a warning) when it cannot be used. A damaged file is replaced by a new,
    empty one (one warning: the next scan finds a good file)."""
    d = directory or default_cache_dir()
    try:
        return LayerCache(d, warn)
    except sqlite3.DatabaseError as err:
        if not is_corrupt(err):
            warn(f"{WARNING_PREFIX} unavailable ({err}); scanning without it")
            return None
        remove_files(d)
        try:
            cache = LayerCache(d, warn)
        except (sqlite3.Error, OSError) as again:
            warn(f"{WARNING_PREFIX} unavailable ({again}); scanning without it")
            return None
        warn(f"{WARNING_PREFIX} {cache.path} was damaged ({err}); replaced it with a new, empty one")
        return cache
    except (sqlite3.Error, OSError) as err:
        warn(f"{WARNING_PREFIX} unavailable ({err}); scanning without it")
        return None


def remove_files(directory: str | os.PathLike[str]) -> None:
    """Delete the cache's files (a missing one is fine)."""
    for name in FILES:
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass


def clean_cache(directory: str | os.PathLike[str] | None) -> str:
    """Delete the cache files; returns the directory cleaned."""
    d = os.fspath(directory or default_cache_dir())
    remove_files(d)
    return d
