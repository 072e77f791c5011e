"""The schema is defined once (schema.py, SQLAlchemy Core): the SQL reader, which does not import
SQLAlchemy, names only its tables and columns — every query it makes runs against a DB created from
the Core tables, and every identifier in it is checked against them."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from hullscan.vulndb import reader as R
from hullscan.vulndb import schema as S


def test_the_reader_knows_the_schemas_tables() -> None:
    assert set(S.metadata.tables) == R.TABLES
    assert set(R.COUNTED) <= R.TABLES


class _Recorder:
    """A DBAPI connection that keeps the SQL of every statement run through it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.sql: list[str] = []

    def cursor(self) -> Any:
        rec, cur = self, self.conn.cursor()

        class Cursor:
            def execute(self, sql: str, params: Any = ()) -> None:
                rec.sql.append(sql)
                cur.execute(sql, params)

            def fetchall(self) -> list[Any]:
                return cur.fetchall()

            def close(self) -> None:
                cur.close()

        return Cursor()

    def close(self) -> None:
        self.conn.close()


def _core_db(path: Path) -> Path:
    """A DB made by SQLAlchemy from schema.py's tables alone, with the meta rows the reader checks."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        S.metadata.create_all(conn)
        conn.execute(S.meta.insert(), [{"key": "format", "value": R.DB_FORMAT},
                                       {"key": "schema_version", "value": R.SCHEMA_VERSION},
                                       {"key": "built_at", "value": "2025-09-04T00:00:00Z"}])
    engine.dispose()
    return path


def _every_read(db: R.SQLReader) -> None:
    db.meta()
    assert db.built_at is not None and db.age is not None
    pairs = [("Debian:10.3", "apt"), ("PyPI", "Django"), ("Ubuntu:22.04", "bash")]
    db.affected_for(pairs)
    db.affected_for(pairs, include_withdrawn=True)
    db.advisories(["DSA-4685-1", "CVE-2021-44228"])
    db.aliases_of(["DSA-4685-1", "CVE-2021-44228"])
    db.kev(["CVE-2021-44228"])
    db.epss(["CVE-2021-44228"])
    db.feeds()
    db.feed("kev")
    db.ecosystems()
    db.counts()
    db.generation()
    db.change_log()
    db.changes_since(-1)  # not reached: the log's own reads
    db.change_entries(0)
    db.change_cves(0)
    db.changes_since(0)


_SQL_WORDS = {"select", "distinct", "from", "where", "and", "or", "not", "in", "order", "by", "count"}


def _names(sql: str) -> tuple[set[str], set[str]]:
    """(tables after FROM, every other identifier) of one of the reader's statements."""
    text = re.sub(r"'[^']*'", "", sql)  # string literals
    tables = set(re.findall(r"\bFROM\s+(\w+)", text, flags=re.IGNORECASE))
    words = {w.strip('"') for w in re.findall(r'"?[A-Za-z_]\w*"?', text)}
    return tables, {w for w in words if w.lower() not in _SQL_WORDS} - tables


def test_every_query_runs_on_the_core_schema_and_names_only_its_columns(tmp_path: Path) -> None:
    path = _core_db(tmp_path / "core.sqlite")
    R.open_sqlite(str(path)).close()  # the reader's own check accepts what the Core schema creates
    rec = _Recorder(sqlite3.connect(path))
    with R.SQLReader(rec, str(path), paramstyle="qmark", errors=(sqlite3.Error,)) as db:
        _every_read(db)  # an unknown table or column would be an error here ...
    assert len(set(rec.sql)) >= 10, rec.sql
    for sql in set(rec.sql):  # ... but not a double-quoted unknown name, which SQLite takes for a string
        tables, names = _names(sql)
        assert tables and tables <= set(S.metadata.tables), sql
        columns = {c.name for t in tables for c in S.metadata.tables[t].columns}
        assert names <= columns, (sql, names - columns)


def test_the_check_catches_a_wrong_name() -> None:
    """The identifier check itself: a column no table has is found, quoted or not."""
    for sql in ('SELECT "kee", value FROM hs_meta', "SELECT cve, scor FROM hs_epss WHERE cve IN (?)"):
        tables, names = _names(sql)
        columns = {c.name for t in tables for c in S.metadata.tables[t].columns}
        assert names - columns, sql
