"""Where the vulnerability DB is, and a quick check that it is there — without importing SQLAlchemy,
so a scan can refuse a missing DB at once and open the real thing while layers are being walked."""

from __future__ import annotations

import os

from hullscan.errors import DatabaseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from pathlib import Path

ENV_URL = "HULLSCAN_DB_URL"
_SQLITE_MAGIC = b"SQLite format 3\x00"
REBUILD_HINT = (
    "rebuild it with `hullscan db update --rebuild` (or `hullscan db import --rebuild PATH...`)"
)
MIGRATE_HINT = "`hullscan db update` (or `hullscan db import PATH...`) migrates it in place"


def _default_file() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "hullscan", "vulndb.sqlite")


def resolve(location: str | os.PathLike[str] | None) -> tuple[str, Path | None]:
    """(SQLAlchemy URL, SQLite path or None) for a location given by the user."""
    url, path = resolve_file(location)
    if path is None:
        return url, None
    from pathlib import Path

    return url, Path(path)


def resolve_file(location: str | os.PathLike[str] | None) -> tuple[str, str | None]:
    """`resolve` with the path as a string (a warm scan's start-up avoids pathlib)."""
    if location is None:
        location = os.environ.get(ENV_URL) or None
    if location is None:
        path = _default_file()
        return f"sqlite+pysqlite:///{path}", path
    loc = os.fspath(location)
    if "://" not in loc:
        path = os.path.expanduser(loc)
        return f"sqlite+pysqlite:///{path}", path
    scheme, _, rest = loc.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return f"postgresql+psycopg://{rest}", None
    if scheme.startswith("sqlite"):
        return f"sqlite+pysqlite://{rest}", (rest[1:] if rest.startswith("/") else None)
    raise DatabaseError(f"unsupported DB URL scheme {scheme!r} (use a file path or postgresql://...)")


def redact(url: str) -> str:
    """A URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if at and ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{creds}{at}{host}"


def missing_message(display: str) -> str:
    return f"no vulnerability DB at {display}; create it with `hullscan db update` or `hullscan db import PATH...`"


def empty_message(display: str) -> str:
    return (f"the vulnerability DB {display} holds no advisories (nothing could be matched); fill it with "
            "`hullscan db update` or `hullscan db import PATH...`")


def precheck(location: str | os.PathLike[str] | None) -> None:
    """Raise DatabaseError now for a DB a scan cannot use: a SQLite file missing, not SQLite, or holding
    no advisories at all (every scan would pass with nothing matched). The rest (schema, version) is
    checked when the scan opens it. Cheap, as it runs on every scan, warm ones too: one indexed
    `SELECT 1 ... LIMIT 1`; a PostgreSQL DB is asked over one connection."""
    url, path = resolve_file(location)
    if path is None:
        _require_advisories_pg(url)
        return
    check_file(path)
    import sqlite3  # loaded anyway on the warm path (the cache is SQLite too)

    try:
        # read-only, no URI parsing module: only `%`, `?` and `#` mean something in a file: URI's path
        uri = os.path.abspath(path).replace("%", "%25").replace("?", "%3F").replace("#", "%23")
        conn = sqlite3.connect(f"file:{uri}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT 1 FROM hs_advisory LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return  # no such table, a damaged file...: opening it for the scan says exactly what is wrong
    if row is None:
        raise DatabaseError(empty_message(str(path)))


def _require_advisories_pg(url: str) -> None:
    from hullscan.vulndb.reader import open_postgres

    with open_postgres(url) as reader:  # validates the schema: a missing or foreign DB raises here
        if not reader.has_advisories():
            raise DatabaseError(empty_message(reader.display))


def check_file(path: str | os.PathLike[str]) -> None:
    """Raise DatabaseError for a SQLite DB file that is missing, unreadable or not SQLite."""
    if not os.path.exists(path):
        raise DatabaseError(missing_message(str(path)))
    if not os.path.isfile(path):  # a directory, or a device that a DB update would replace
        raise DatabaseError(f"{path} is not a vulnerability DB file; give --db a file path or a postgresql:// URL")
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as err:
        raise DatabaseError(f"cannot read vulnerability DB {path}: {err.strerror}") from None
    if head and head != _SQLITE_MAGIC:
        raise DatabaseError(f"{path} is not a SQLite vulnerability DB (corrupt or foreign); {REBUILD_HINT}")
