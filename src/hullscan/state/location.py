"""Where the state store is, without importing SQLAlchemy (a scan reading the catalog pays only for
`sqlite3`): the default file, `$HULLSCAN_STATE_URL`, and the newest migration's revision."""

from __future__ import annotations

import os

from hullscan.errors import UsageError

ENV_URL = "HULLSCAN_STATE_URL"
SCHEMA = "hullscan_state"
"""The PostgreSQL schema holding the state store's tables (and its `alembic_version`)."""
HEAD = "0006"
"""The newest migration's revision (tests/base checks it is Alembic's head): a store already there is
opened without importing Alembic."""


def default_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "hullscan", "state.sqlite")


def resolve(location: str | None) -> tuple[str, str | None]:
    """(SQLAlchemy URL, SQLite file path or None for PostgreSQL) of a location the user gave; None
    means `$HULLSCAN_STATE_URL`, else the default file."""
    if not location:
        location = os.environ.get(ENV_URL) or default_path()
    if "://" not in location:
        path = os.path.abspath(os.path.expanduser(location))
        return f"sqlite+pysqlite:///{path}", path
    scheme, _, rest = location.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}", None
    if scheme in ("sqlite", "sqlite+pysqlite") and rest.startswith("/") and len(rest) > 1:
        return f"sqlite+pysqlite:///{rest[1:]}", rest[1:]
    raise UsageError(f"state store {redact(location)!r}: use a file path, sqlite:///PATH or postgresql://…")


def redact(url: str) -> str:
    """A URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if sep and at and ":" in creds:
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def display(location: str | None) -> str:
    """The store's location as messages name it."""
    _url, path = resolve(location)
    return path if path is not None else redact(location or os.environ.get(ENV_URL, ""))
