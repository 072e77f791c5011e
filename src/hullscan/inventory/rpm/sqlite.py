"""`rpmdb.sqlite` (rpm ≥ 4.16: Fedora 33+, RHEL 9, Amazon Linux 2023, CBL-Mariner 2): the header blobs
of table `Packages(hnum, blob)`, read with the stdlib's sqlite3 from memory (analyzers get bytes)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

SQLITE_MAGIC = b"SQLite format 3\0"


class SqliteRpmdbError(ValueError):
    """The file is not a readable rpm SQLite database."""


def iter_blobs(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(hnum, header blob) for every row of `Packages`, in hnum order."""
    if not data.startswith(SQLITE_MAGIC):
        raise SqliteRpmdbError("not an SQLite database (bad magic)")
    con = sqlite3.connect(":memory:")
    try:
        try:
            # deserialize() keeps the DB in memory: nothing from the image touches the disk.
            # rpm writes in WAL mode (header bytes 18/19 = 2), which an in-memory database cannot
            # open; marking it rollback-journal (1) reads the same main file. Committed changes
            # still in a separate -wal file are not seen (images normally ship checkpointed DBs).
            if data[18:20] == b"\x02\x02":
                data = data[:18] + b"\x01\x01" + data[20:]
            con.deserialize(data)
            rows = con.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
        except sqlite3.Error as exc:
            raise SqliteRpmdbError(f"cannot read Packages table: {exc}") from exc
    finally:
        con.close()
    for hnum, blob in rows:
        if isinstance(blob, (bytes, bytearray, memoryview)):
            yield int(hnum), bytes(blob)
