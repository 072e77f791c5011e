"""Opening the state store: where it is, its engine, its migrations, its write transactions.

`open_state(url)` takes a SQLite path, `sqlite:///PATH` or `postgresql://…`; None means
`$HULLSCAN_STATE_URL`, else `$XDG_DATA_HOME/hullscan/state.sqlite`. Opening brings the store to the
newest migration (Alembic, driven from code: no alembic.ini), so a store written by an older hullscan is
upgraded in place, in one transaction; a store from a newer hullscan is refused.

Writers never interleave: a write transaction starts with SQLite's `BEGIN IMMEDIATE` (the file's write
lock, waited for up to `BUSY_SECONDS`) or PostgreSQL's transaction-scoped advisory lock, so two
`hullscan base add` at once run one after the other, each all or nothing. Readers are not blocked (WAL).
SQLite runs with `synchronous=NORMAL` under WAL: consistent after a crash, losing at most the last commits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text

from hullscan.errors import FetchError, InputError, UsageError
from hullscan.state.location import HEAD, SCHEMA, display, resolve

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
BUSY_SECONDS = 60
_PG_LOCK = 0x68756C6C  # "hull": the advisory lock every state writer takes on PostgreSQL
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class StateStore:
    """An open state store: its engine and the transactions the catalog and later stores write in."""

    def __init__(self, engine: Engine, path: str | None, schema: str, display: str) -> None:
        self.engine = engine
        self.path = path
        """The SQLite file; None on PostgreSQL."""
        self.schema = schema
        self.display = display
        """Where it is, for messages (no password)."""

    @property
    def is_postgres(self) -> bool:
        return self.path is None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction holding the writers' lock: committed when the block ends, rolled back on an
        exception (nothing half-written)."""
        with self._errors(), self.engine.connect().execution_options(hullscan_write=True) as conn, conn.begin():
            if self.is_postgres:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (one consistent view)."""
        with self._errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The driver's errors as the project's: unreachable or locked is I/O (exit 3), a file that is
        not a state store is an unreadable input (exit 2). Our own errors pass through."""
        try:
            yield
        except exc.OperationalError as err:
            raise FetchError(f"state store {self.display}: {_first_line(err)}") from None
        except exc.DBAPIError as err:
            raise InputError(f"state store {self.display}: not a usable hullscan state store ({_first_line(err)})") from None


def open_state(url: str | None = None, *, schema: str = SCHEMA) -> StateStore:
    """Open (creating if needed) and migrate the state store at `url` (module docstring)."""
    sa_url, path = resolve(url)
    if not _SCHEMA_NAME.match(schema):
        raise UsageError(f"state store schema {schema!r}: use lowercase letters, digits and _")
    if path is not None:
        if os.path.isdir(path):
            raise InputError(f"state store {path}: is a directory (give a file path)")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as err:
            raise FetchError(f"state store {path}: cannot create its directory: {err.strerror}") from None
        engine = create_engine(sa_url, connect_args={"timeout": BUSY_SECONDS})
        _sqlite_events(engine)
        store = StateStore(engine, path, schema, path)
    else:
        engine = create_engine(sa_url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        _postgres_events(engine, schema)
        store = StateStore(engine, None, schema, f"{display(url)} (schema {schema})")
    try:
        migrate(store)
    except BaseException:
        store.close()
        raise
    return store


def migrate(store: StateStore) -> None:
    """Bring the store to HEAD in one write transaction (nothing to do, and no Alembic import, when there)."""
    with store.write() as conn:
        if store.is_postgres:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"')
        current = current_revision(conn)
        if current == HEAD:
            return
        from alembic import command
        from alembic.config import Config
        from alembic.util import CommandError

        cfg = Config()
        cfg.set_main_option("script_location", MIGRATIONS)
        cfg.attributes["connection"] = conn  # migrations/env.py runs in this transaction
        try:
            command.upgrade(cfg, "head")
        except CommandError as err:
            raise InputError(f"state store {store.display}: at revision {current!r}, which this hullscan does not "
                             f"know ({err}); it was written by a newer hullscan") from None


def current_revision(conn: Connection) -> str | None:
    """The store's Alembic revision; None for a new (empty) store."""
    if not conn.dialect.has_table(conn, "alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver begins nothing: `begin` below does, as asked
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cur.execute("PRAGMA journal_mode=WAL")  # readers (scans) never wait for a writer
        # WAL + NORMAL: a commit appends to the WAL without an fsync (the checkpoint syncs). A crash or power
        # loss may lose the last commits, never corrupt the file or half-apply one: each commit is whole in
        # the WAL or ignored. Every write here is redone by running the command again (a store, a rescan).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def begin(conn: Connection) -> None:
        # a writer takes the write lock first: two deferred transactions that both read, then write,
        # would fail with "database is locked" instead of waiting their turn
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("hullscan_write") else "BEGIN")


def _postgres_events(engine: Engine, schema: str) -> None:
    @event.listens_for(engine, "connect")
    def connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute(f'SET search_path TO "{schema}"')  # the schema may not exist yet: migrate creates it
        dbapi_conn.commit()  # a SET rolled back with its transaction would be undone


def _first_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__
