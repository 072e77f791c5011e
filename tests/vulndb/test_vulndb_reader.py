"""The read interface on SQL (`read.open_reader`): SQLite through the stdlib `sqlite3` answers as the
writer's own connection does and as PostgreSQL does, without importing SQLAlchemy, and bad DBs are
one-line exit-4 errors, the same from the reader as from the writer."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from vulndb_reads import inputs, snapshot

from hullscan.errors import DatabaseError
from hullscan.vulndb import importer
from hullscan.vulndb.read import AdvisoryReader, open_reader
from hullscan.vulndb.reader import SQLReader
from hullscan.vulndb.store import VulnDB


@contextmanager
def _writers_reader(path: Path | str) -> Iterator[AdvisoryReader]:
    """The reader on a connection of the writer's engine (SQLAlchemy's driver, VulnDB's validation)."""
    with VulnDB.open(path) as db, db.reader() as reader:
        yield reader


def test_sqlite_reader_answers_as_the_writers_connection(lite: Path) -> None:
    inp = inputs(lite)
    reader = open_reader(lite)
    assert isinstance(reader, SQLReader) and reader.display == str(lite)
    with reader, _writers_reader(lite) as db:
        got = snapshot(reader, inp)
        assert got == snapshot(db, inp)
        assert (reader.meta(), reader.built_at, [*reader.feeds()]) == (db.meta(), db.built_at, [*db.feeds()])
    # the data is really there: every kind of record, merged advisories, a boolean and floats
    assert got["affected"][("pypi", "django")] == got["affected"][("PyPI", "Django")] != []
    assert got["affected"][("Alpine:3.10.4", "openssl")] and got["affected"][("Debian:10.3", "apt")]
    assert got["kev"]["CVE-2021-44228"].ransomware is True
    assert got["epss"]["CVE-2021-44228"].score == pytest.approx(0.97565)
    merged = got["advisories"]["CVE-2018-0735"]
    assert merged.feeds == ["alpine", "nvd"] and merged.severities and merged.cwes
    assert "CVE-2020-3810" in got["aliases"]["DSA-4685-1"]
    assert got["counts"]["hs_epss"] == 3 and got["ecosystems"] >= {"Debian:10", "Alpine:v3.10", "PyPI"}


@pytest.mark.postgres
def test_postgres_reader_answers_as_the_sqlite_reader(pg_url: str, reader_feeds: list[Path], lite: Path) -> None:
    inp = inputs(lite)
    with VulnDB.open(pg_url, create=True) as pg:
        importer.write(pg, importer.read(reader_feeds))
    pg_reader = open_reader(pg_url)
    assert isinstance(pg_reader, SQLReader) and "postgresql" in pg_reader.display
    with pg_reader, open_reader(lite) as reader:
        got = snapshot(pg_reader, inp)
        want = snapshot(reader, inp)
    for snap in (got, want):  # the order of one pair's rows is the backend's (as it always was)
        for key in ("affected", "affected_withdrawn"):
            snap[key] = {k: sorted(v, key=repr) for k, v in snap[key].items()}
    assert got == want


SCAN_READS = """
import sys
from hullscan.vulndb.read import open_reader
db = open_reader(sys.argv[1])
rows = db.affected_for([("Debian:10", "apt"), ("Alpine:3.10.4", "openssl"), ("PyPI", "django")])
ids = {r.advisory_id for v in rows.values() for r in v}
advs = db.advisories(ids)
cves = {a for x in advs.values() for a in x.aliases if a.startswith("CVE-")}
assert rows and advs and cves and db.kev(cves) is not None and db.epss(cves) is not None
assert db.ecosystems() and db.feeds() and db.built_at and db.age is not None and db.display
db.close()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "psycopg"))
print(heavy)
assert not heavy, heavy
"""


def test_scan_reads_do_not_import_sqlalchemy(lite: Path) -> None:
    r = subprocess.run([sys.executable, "-c", SCAN_READS, str(lite)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


# ----------------------------------------------------------------- bad DBs


def _truncated(lite: Path, p: Path) -> None:
    data = lite.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _zeroed(lite: Path, p: Path) -> None:
    """The middle half of the pages overwritten with zeros: it opens, the reads fail."""
    data = bytearray(lite.read_bytes())
    n = len(data)
    data[n // 4 : n * 3 // 4] = bytes(n * 3 // 4 - n // 4)
    p.write_bytes(data)


def _foreign(p: Path) -> None:
    with sqlite3.connect(p) as c:
        c.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    c.close()


def _edit(lite: Path, p: Path, sql: str) -> None:
    p.write_bytes(lite.read_bytes())
    with sqlite3.connect(p) as c:
        c.execute(sql)
    c.close()


BAD = {
    "missing": (lambda lite, p: None, "no vulnerability DB at"),
    "text file": (lambda lite, p: p.write_text("just some text\n" * 50), "is not a SQLite vulnerability DB"),
    "empty file": (lambda lite, p: p.write_bytes(b""), "foreign schema"),
    "another app's SQLite": (lambda lite, p: _foreign(p), "foreign schema"),
    "wrong format marker": (lambda lite, p: _edit(lite, p, "UPDATE hs_meta SET value='x' WHERE key='format'"), "foreign schema"),
    "wrong schema_version": (lambda lite, p: _edit(lite, p, "UPDATE hs_meta SET value='0' WHERE key='schema_version'"),
                             "has DB schema version '0', this hullscan needs '3'"),
    "table dropped": (lambda lite, p: _edit(lite, p, "DROP TABLE hs_epss"), "is incomplete (missing hs_epss)"),
    "truncated to half": (_truncated, "cannot use vulnerability DB"),
    "pages zeroed": (_zeroed, "cannot read vulnerability DB"),
}


def _scan_reads(open_db, p: Path) -> str:
    """Open the DB at `p` and make a scan's reads; the one error they end with."""
    with pytest.raises(DatabaseError) as err:
        with open_db(p) as db:
            rows = db.affected_for([("Debian:10", "apt"), ("PyPI", "django"), ("Alpine:v3.10", "openssl")])
            db.advisories({r.advisory_id for v in rows.values() for r in v} | {"CVE-2018-0735"})
            db.kev(["CVE-2021-44228"])
            db.epss(["CVE-2021-44228"])
            db.feeds()
            db.ecosystems()
            _ = db.built_at
            db.counts()  # every page of every table
    assert err.value.exit_code == 4
    return str(err.value)


@pytest.mark.parametrize("case", BAD)
def test_bad_db_is_one_line_database_error(case: str, lite: Path, tmp_path: Path) -> None:
    make, words = BAD[case]
    p = tmp_path / "bad.sqlite"
    make(lite, p)
    size = p.stat().st_size if p.exists() else None
    msg = _scan_reads(open_reader, p)
    assert words in msg and "\n" not in msg and str(p) in msg and "hullscan db update" in msg, msg  # how to fix it
    assert (p.stat().st_size if p.exists() else None) == size  # nothing created or written
    assert _scan_reads(_writers_reader, p) == msg  # what the writer says, at the same step


@pytest.mark.parametrize("case", ["missing", "another app's SQLite", "table dropped", "truncated to half", "pages zeroed"])
def test_scan_with_bad_db_exits_4_with_one_line(case: str, lite: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text("ID=alpine\nVERSION_ID=3.10.4\n")
    (root / "lib/apk/db").mkdir(parents=True)
    (root / "lib/apk/db/installed").write_text("C:Q1x=\nP:openssl\nV:1.1.1c-r0\nA:x86_64\no:openssl\n\n")
    p = tmp_path / "bad.sqlite"
    BAD[case][0](lite, p)
    r = subprocess.run([sys.executable, "-m", "hullscan", "fs", str(root), "--db", str(p), "-q", "-f", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 4, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and str(p) in r.stderr, r.stderr
