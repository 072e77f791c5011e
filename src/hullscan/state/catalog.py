"""The base image catalog as a scan reads it: `open_catalog(url)` and the `Catalog` interface base
identification (base/) codes against, with `chain_ids`.

Reads are plain SQL through the driver — `sqlite3` for the default file, psycopg for PostgreSQL — so a
scan pays for no SQLAlchemy import, and a missing catalog file costs one `stat`. The writes are
`edit.py`'s, through the models.

Chain IDs (OCI image spec, "Layer ChainID"): chainID(L0) = diff_id(L0), chainID(Ln) =
sha256(chainID(Ln-1) + " " + diff_id(Ln)). A chain ID names a whole stack of layers, so a catalogued
base is a prefix of an image exactly when the base's top chain ID is one of the image's chain IDs: one
indexed `IN` over `base_entry.top_chain_id` finds every catalogued prefix, whatever the catalog's size.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hullscan.errors import FetchError, InputError
from hullscan.state.location import HEAD, SCHEMA, resolve


@dataclass(frozen=True)
class CatalogEntry:
    """One catalogued base image."""

    id: int
    name: str
    """Repository in Docker's short form (`debian`, `ghcr.io/org/base`; state/names.py)."""
    tags: tuple[str, ...]
    """Its tags in that repository (sorted); empty for an image added by digest."""
    manifest_digest: str
    """'' when its source had none (a classic `docker save`)."""
    config_digest: str
    platform: str
    """`os/architecture[/variant]`, e.g. `linux/amd64`."""
    created: str | None
    """The config's `created` (RFC 3339), when it has one."""
    os_id: str
    """OS release id as feeds key it (`debian`, `alpine`); '' when the image has none."""
    os_version: str
    """OS version as the image states it (`12.5`, `3.19.1`)."""
    diff_ids: tuple[str, ...]
    """Its layers, bottom first."""
    chain_ids: tuple[str, ...]
    """The chain ID of each layer (`chain_ids(diff_ids)`)."""

    @property
    def reference(self) -> str:
        """`name:tag` (the first tag), else `name@digest`."""
        if self.tags:
            return f"{self.name}:{self.tags[0]}"
        return f"{self.name}@{self.manifest_digest or self.config_digest}"


@dataclass(frozen=True)
class Overlap:
    """A catalogued base and how much of its inventory an image holds."""

    entry: CatalogEntry
    shared: int
    """Its distinct (ecosystem, name, version) the image holds too."""
    total: int
    """Its distinct (ecosystem, name, version)."""

    @property
    def share(self) -> float:
        return self.shared / self.total


class Catalog(Protocol):
    def generation(self) -> int:
        """Counts every change of the catalog (part of a scan's whole-result cache key)."""
        ...

    def longest_prefix(self, chain_ids: Sequence[str]) -> CatalogEntry | None:
        """The catalogued base whose layers are the most bottom layers of an image with these chain IDs."""
        ...

    def by_digest(self, digest: str) -> CatalogEntry | None:
        """The entry with this manifest or config digest (the first added, when several names hold it)."""
        ...

    def by_name(self, name: str) -> list[CatalogEntry]:
        """`debian:12` (every platform of that tag), `debian` (every entry of the repository) or
        `debian@sha256:…`; any spelling of the repository (`docker.io/library/debian`)."""
        ...

    def packages(self, entry_id: int) -> list[tuple[str, str, str]]:
        """(ecosystem, name, version) of the entry's inventory, sorted."""
        ...

    def candidates(self, os_id: str, os_version: str | None) -> list[CatalogEntry]:
        """Entries of that OS; with a version, those whose version equals it or extends it by dotted
        components either way (`12` and `12.5`; `3.19` and `3.19.1`; not `3.1` and `3.19`)."""
        ...

    def similar(self, os_id: str, os_version: str, packages: Iterable[tuple[str, str, str]],
                limit: int = 1) -> list[Overlap]:
        """The entries of that OS release (as `candidates`; '' for every release) holding packages, ranked by the share of their
        (ecosystem, name, version) set that `packages` holds: the larger share first, of equal shares the
        larger inventory, then the first added; at most `limit`."""
        ...


def chain_ids(diff_ids: Sequence[str]) -> tuple[str, ...]:
    """The OCI chain ID of every layer, bottom first."""
    out: list[str] = []
    for diff_id in diff_ids:
        out.append(diff_id if not out else "sha256:" + hashlib.sha256(f"{out[-1]} {diff_id}".encode()).hexdigest())
    return tuple(out)


def open_catalog(url: str | None = None, *, schema: str = SCHEMA) -> SqlCatalog | EmptyCatalog:
    """The catalog at `url` (state/location.py: None is `$HULLSCAN_STATE_URL`, else the default file),
    for reading (`schema`: PostgreSQL's). A missing file is an empty catalog (nothing is created); a store written by an older
    hullscan is migrated first. Close it when done (`with open_catalog() as cat:`)."""
    _sa_url, path = resolve(url)
    if path is not None:
        if not os.path.exists(path):
            return EmptyCatalog()
        conn = _sqlite_reader(path)
        if _revision(conn, path) != HEAD:
            conn.close()
            from hullscan.state.store import open_state

            open_state(url).close()  # migrates
            conn = _sqlite_reader(path)
        return SqlCatalog(conn, "?", path)
    from hullscan.state.store import open_state

    store = open_state(url, schema=schema)  # creates the schema and migrates
    raw = store.engine.raw_connection()  # search_path set by the engine (state/store.py)
    pg = raw.driver_connection
    pg.autocommit = True  # type: ignore[union-attr]  # psycopg's: no transaction held open while a scan runs

    def close() -> None:
        raw.close()
        store.close()

    return SqlCatalog(pg, "%s", store.display, close)


def _sqlite_reader(path: str) -> Any:
    import sqlite3
    from urllib.parse import quote

    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA query_only=ON")
    except sqlite3.Error as err:
        raise FetchError(f"state store {path}: {err}") from None
    return conn


def _revision(conn: Any, path: str) -> str | None:
    import sqlite3

    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            return None  # an empty store: migrating makes it one
        raise FetchError(f"state store {path}: {err}") from None
    except sqlite3.DatabaseError as err:
        raise InputError(f"state store {path}: not a hullscan state store ({err})") from None
    return row[0] if row else None


class EmptyCatalog:
    """No catalog yet: nothing is known."""

    def generation(self) -> int:
        return 0

    def longest_prefix(self, chain_ids: Sequence[str]) -> CatalogEntry | None:
        return None

    def by_digest(self, digest: str) -> CatalogEntry | None:
        return None

    def by_name(self, name: str) -> list[CatalogEntry]:
        return []

    def packages(self, entry_id: int) -> list[tuple[str, str, str]]:
        return []

    def candidates(self, os_id: str, os_version: str | None) -> list[CatalogEntry]:
        return []

    def similar(self, os_id: str, os_version: str, packages: Iterable[tuple[str, str, str]],
                limit: int = 1) -> list[Overlap]:
        return []

    def listing(self) -> list[Listed]:
        return []

    def close(self) -> None:
        return None

    def __enter__(self) -> EmptyCatalog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


@dataclass(frozen=True)
class Listed:
    """An entry as `hullscan base list` shows it."""

    entry: CatalogEntry
    packages: int
    added_at: str
    updated_at: str


_ENTRY = ("SELECT id, name, manifest_digest, config_digest, os, architecture, variant, created, os_id, os_version "
          "FROM base_entry")
_SIMILAR = (
    # the image's packages probe ix_base_package_key one by one (each candidate's packages are never read
    # whole); every candidate of the release is ranked, those sharing nothing at share 0; the counts per
    # entry are stored (models.BaseEntry.package_keys/package_rows), as `Catalog.similar` ranks
    "SELECT b.id, COALESCE(m.shared, 0), b.package_keys FROM base_entry b LEFT JOIN ("
    " SELECT p.entry_id AS id, COUNT(DISTINCT h.k) AS shared FROM ({held}) AS h"
    " JOIN base_package p ON p.ecosystem = h.e AND p.name = h.n AND p.version = h.v GROUP BY p.entry_id) AS m"
    " ON m.id = b.id"
    " WHERE b.package_keys > 0 AND b.os_id = ? AND (CAST(? AS TEXT) = '' OR (b.os_version <> '' AND ("
    # `same_release` in SQL: equal, or one extends the other by dotted parts
    "  b.os_version = CAST(? AS TEXT) OR substr(b.os_version, 1, length(CAST(? AS TEXT)) + 1) = CAST(? AS TEXT) || '.'"
    "  OR substr(CAST(? AS TEXT), 1, length(b.os_version) + 1) = b.os_version || '.')))"
    " ORDER BY CAST(COALESCE(m.shared, 0) AS DOUBLE PRECISION) / b.package_keys DESC, b.package_rows DESC, b.id LIMIT ?"
)
"""`Catalog.similar`'s query ({held}: the image's distinct (ecosystem, name, version), numbered `k`, from one
JSON parameter)."""
_CHUNK = 500
"""Values per `IN (…)`: well under every driver's parameter limit."""


class SqlCatalog:
    """The catalog in a SQLite file or a PostgreSQL schema, read through a DB-API connection."""

    def __init__(self, conn: Any, placeholder: str, where: str, closer: Callable[[], None] | None = None) -> None:
        self._conn = conn
        self._ph = placeholder
        self.display = where
        self._closer = closer if closer is not None else conn.close

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cur = self._conn.execute(sql.replace("?", self._ph), tuple(params))
            return list(cur.fetchall())
        except Exception as err:  # noqa: BLE001  # either driver's error: a damaged store, one line
            raise InputError(f"state store {self.display}: cannot read the base catalog ({_first_line(err)})") from None

    def _in(self, values: Sequence[Any]) -> str:
        return "(" + ",".join("?" * len(values)) + ")"

    def generation(self) -> int:
        rows = self._rows("SELECT generation FROM catalog_state WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    def longest_prefix(self, chain_ids: Sequence[str]) -> CatalogEntry | None:
        best: tuple[int, int] | None = None  # (layer count, -id): deepest, then first added
        wanted = list(dict.fromkeys(chain_ids))
        position = {c: i for i, c in enumerate(chain_ids)}
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start:start + _CHUNK]
            for entry_id, count, top in self._rows(
                    f"SELECT id, layer_count, top_chain_id FROM base_entry WHERE top_chain_id IN {self._in(part)}", part):
                if position.get(top) != count - 1:
                    continue  # a chain ID at another depth cannot be (a digest collision): never trusted
                key = (count, -entry_id)
                if best is None or key > best:
                    best = key
        return self._load([-best[1]])[0] if best is not None else None

    def by_digest(self, digest: str) -> CatalogEntry | None:
        rows = self._rows("SELECT id FROM base_entry WHERE manifest_digest = ? OR config_digest = ? ORDER BY id LIMIT 1",
                          (digest, digest))
        return self._load([rows[0][0]])[0] if rows else None

    def by_name(self, name: str) -> list[CatalogEntry]:
        from hullscan.state.names import split_name

        try:
            repo, tag, digest = split_name(name)
        except InputError:
            return []
        if digest:
            rows = self._rows("SELECT id FROM base_entry WHERE name = ? AND (manifest_digest = ? OR config_digest = ?) "
                              "ORDER BY id", (repo, digest, digest))
        elif tag:
            rows = self._rows("SELECT entry_id FROM base_tag WHERE name = ? AND tag = ? ORDER BY entry_id", (repo, tag))
        else:
            rows = self._rows("SELECT id FROM base_entry WHERE name = ? ORDER BY id", (repo,))
        return self._load([r[0] for r in rows])

    def packages(self, entry_id: int) -> list[tuple[str, str, str]]:
        rows = self._rows("SELECT ecosystem, name, version FROM base_package WHERE entry_id = ?", (entry_id,))
        return sorted((str(e), str(n), str(v)) for e, n, v in rows)

    def candidates(self, os_id: str, os_version: str | None) -> list[CatalogEntry]:
        rows = self._rows("SELECT id, os_version FROM base_entry WHERE os_id = ? ORDER BY id", (os_id,))
        return self._load([i for i, v in rows if os_version is None or same_release(v, os_version)])

    def similar(self, os_id: str, os_version: str, packages: Iterable[tuple[str, str, str]],
                limit: int = 1) -> list[Overlap]:
        # One query, whatever the number of candidates: the image's set goes in as one JSON parameter (no
        # parameter limit; a read-only connection cannot fill a temp table) and each of its packages is one
        # probe of ix_base_package_key; the candidates themselves are read through ix_base_entry_os_id.
        keys = json.dumps(sorted({tuple(p) for p in packages}))
        if self._ph == "%s":  # PostgreSQL
            held = ("SELECT k, x->>0 AS e, x->>1 AS n, x->>2 AS v"
                    " FROM jsonb_array_elements(CAST(? AS jsonb)) WITH ORDINALITY AS t(x, k)")
        else:
            held = "SELECT key AS k, value ->> 0 AS e, value ->> 1 AS n, value ->> 2 AS v FROM json_each(?)"
        rows = self._rows(_SIMILAR.format(held=held), (keys, os_id, *[os_version] * 5, limit))
        entries = {e.id: e for e in self._load([r[0] for r in rows])}
        return [Overlap(entries[i], int(shared), int(total)) for i, shared, total in rows if i in entries]

    def listing(self) -> list[Listed]:
        """Every entry with its package count and times, by name, then first tag."""
        ids = [r[0] for r in self._rows("SELECT id FROM base_entry ORDER BY name, id")]
        counts = dict(self._rows("SELECT entry_id, COUNT(*) FROM base_package GROUP BY entry_id"))
        times = {i: (a, u) for i, a, u in self._rows("SELECT id, added_at, updated_at FROM base_entry")}
        out = [Listed(e, int(counts.get(e.id, 0)), *times[e.id]) for e in self._load(ids)]
        return sorted(out, key=lambda x: (x.entry.name, x.entry.tags[:1], x.entry.platform, x.entry.id))

    def _load(self, ids: Iterable[int]) -> list[CatalogEntry]:
        """Entries by id, in the order given, with their tags and layers."""
        order = list(dict.fromkeys(ids))
        found: dict[int, tuple[Any, ...]] = {}
        tags: dict[int, list[str]] = {}
        layers: dict[int, list[tuple[int, str, str]]] = {}
        for start in range(0, len(order), _CHUNK):
            part = order[start:start + _CHUNK]
            found.update((r[0], r) for r in self._rows(f"{_ENTRY} WHERE id IN {self._in(part)}", part))
            for entry_id, tag in self._rows(f"SELECT entry_id, tag FROM base_tag WHERE entry_id IN {self._in(part)}", part):
                tags.setdefault(entry_id, []).append(tag)
            for entry_id, idx, diff_id, chain_id in self._rows(
                    f"SELECT entry_id, idx, diff_id, chain_id FROM base_layer WHERE entry_id IN {self._in(part)}", part):
                layers.setdefault(entry_id, []).append((idx, diff_id, chain_id))
        out = []
        for entry_id in order:
            row = found.get(entry_id)
            if row is None:
                continue
            _id, name, manifest, config, os_, arch, variant, created, os_id, os_version = row
            stack = sorted(layers.get(entry_id, []))
            out.append(CatalogEntry(
                id=entry_id, name=name, tags=tuple(sorted(tags.get(entry_id, []), key=_tag_order)),
                manifest_digest=manifest, config_digest=config, platform=platform_text(os_, arch, variant),
                created=created, os_id=os_id, os_version=os_version,
                diff_ids=tuple(d for _, d, _ in stack), chain_ids=tuple(c for _, _, c in stack),
            ))
        return out

    def close(self) -> None:
        self._closer()

    def __enter__(self) -> SqlCatalog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def platform_text(os_: str, architecture: str, variant: str) -> str:
    return "/".join(p for p in (os_, architecture, variant) if p)


def same_release(a: str, b: str) -> bool:
    """`12` and `12.5`, `3.19` and `3.19.1`, equal versions: one is the other or extends it by dotted parts."""
    x, y = a.split("."), b.split(".")
    n = min(len(x), len(y))
    return bool(a) and bool(b) and x[:n] == y[:n]


def _tag_order(tag: str) -> tuple[int, str]:
    """`latest` last: a version tag names an entry better."""
    return (tag == "latest", tag)


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


