"""Damaged rpm databases and headers: a warning naming the file, never an exception or a hang.

Inputs are real databases (tests/inventory/testdata/rpm and the ones _rpmdb_build.py makes) truncated, bit-flipped
or with page chains bent into loops. The invariant checked everywhere: `analyze` returns, and whenever it
returns fewer packages than the intact file holds, it said why.
"""

from __future__ import annotations

import random
import struct
import sys
import time
from pathlib import Path

import pytest

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.rpm.analyzer import RpmAnalyzer, parse_database
from hullscan.inventory.rpm.bdb import P_HASH, P_OVERFLOW, read_hash_db
from hullscan.inventory.rpm.header import HeaderError, parse_header
from hullscan.inventory.rpm.ndb import read_ndb
from testsupport import require_tool

sys.path.insert(0, str(Path(__file__).parent))
import _rpmdb_build  # noqa: E402

CASES = [
    ("sqlite/cbl-mariner-2.0__rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite"),
    ("ndb/sles-15.3-bci__Packages.db", "/usr/lib/sysimage/rpm/Packages.db"),
    ("bdb/libuuid__Packages", "/var/lib/rpm/Packages"),
    ("bdb/scalibr-epoch__Packages", "/var/lib/rpm/Packages"),
]


def _analyze(path: str, data: bytes) -> tuple[list | None, list[str]]:
    warnings: list[str] = []
    fact = parse_database(path, data, warnings.append)
    return fact, warnings


@pytest.fixture(scope="module")
def built_bdb() -> bytes:
    for tool in ("rpm", "rpmbuild", "db5.3_load"):
        require_tool(tool)
    return (_rpmdb_build.built_db() / "bdb-le" / "Packages").read_bytes()


@pytest.mark.parametrize(("rel", "image_path"), CASES)
def test_truncated_databases_warn(rel: str, image_path: str) -> None:
    data = _rpmdb_build.fixture_bytes(rel)
    full, warnings = _analyze(image_path, data)
    assert warnings == [] and full
    start = time.monotonic()
    for frac in (0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        cut = data[: int(len(data) * frac)]
        fact, warnings = _analyze(image_path, cut)
        if fact is None or len(fact) < len(full):
            assert warnings, f"{rel} cut at {frac}: packages lost without a warning"
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(("rel", "image_path"), CASES)
def test_bit_flips_never_raise(rel: str, image_path: str) -> None:
    data = _rpmdb_build.fixture_bytes(rel)
    rng = random.Random(4)
    start = time.monotonic()
    for _ in range(40):
        buf = bytearray(data)
        for _ in range(8):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        _analyze(image_path, bytes(buf))  # must return
    assert time.monotonic() - start < 20


def test_bit_flips_in_built_bdb(built_bdb: bytes) -> None:
    rng = random.Random(7)
    for _ in range(150):
        buf = bytearray(built_bdb)
        for _ in range(4):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        _analyze("/var/lib/rpm/Packages", bytes(buf))


def _pages(data: bytes, typ: int) -> list[int]:
    return [n for n in range(1, len(data) // 4096) if data[n * 4096 + 25] == typ]


def test_overflow_chain_loop_is_cut(built_bdb: bytes) -> None:
    buf = bytearray(built_bdb)
    # Point the first overflow page whose chain continues back at itself.
    for pg in _pages(built_bdb, P_OVERFLOW):
        nxt, = struct.unpack_from("<I", buf, pg * 4096 + 16)
        if nxt:
            struct.pack_into("<I", buf, pg * 4096 + 16, pg)
            break
    else:
        pytest.fail("no multi-page overflow chain in the built database")
    fact, warnings = _analyze("/var/lib/rpm/Packages", bytes(buf))
    assert fact is not None and len(fact) == 12  # the other packages survive
    assert any("loops" in w for w in warnings)


def test_bucket_chain_loop_is_cut(built_bdb: bytes) -> None:
    buf = bytearray(built_bdb)
    pg = _pages(built_bdb, P_HASH)[0]
    struct.pack_into("<I", buf, pg * 4096 + 16, pg)
    res = read_hash_db(bytes(buf))
    assert any("loops" in p for p in res.problems)


def test_not_a_database_names_the_file() -> None:
    inv = analyze_files([RpmAnalyzer()], [{
        "/var/lib/rpm/Packages": b"\0" * 8192,
        "/var/lib/rpm/rpmdb.sqlite": b"SQLite format 3\0" + b"\xff" * 4000,
        "/usr/lib/sysimage/rpm/Packages.db": b"RpmP" + b"\0" * 100,
    }])
    assert inv.packages == []
    paths = sorted(w.path for w in inv.warnings)
    assert paths == ["/usr/lib/sysimage/rpm/Packages.db", "/var/lib/rpm/Packages", "/var/lib/rpm/rpmdb.sqlite"]
    assert all(w.message.startswith("rpm: ") for w in inv.warnings)


def test_ndb_checksum_and_slot_damage() -> None:
    data = bytearray(_rpmdb_build.fixture_bytes("ndb/sles-15.3-bci__Packages.db"))
    # Slot 2 (first after the file header): send its blob past the end of the file.
    struct.pack_into("<I", data, 2 * 16 + 8, len(data))
    # Slot 3: flip a byte inside its blob so the adler32 no longer matches.
    blkoff, = struct.unpack_from("<I", data, 3 * 16 + 8)
    data[blkoff * 16 + 100] ^= 0xFF
    res = read_ndb(bytes(data))
    assert len(res.values) == 34
    assert any("outside" in p for p in res.problems) and any("checksum" in p for p in res.problems)


def test_header_bounds() -> None:
    blob = read_hash_db(_rpmdb_build.fixture_bytes("bdb/libuuid__Packages")).values[-1][1]
    assert parse_header(blob).name == "libuuid"
    for n in range(0, len(blob), 97):  # every truncation is refused cleanly
        with pytest.raises(HeaderError):
            parse_header(blob[:n])
    il, = struct.unpack_from(">I", blob, 0)
    bad = bytearray(blob)
    struct.pack_into(">I", bad, 0, 0x7FFFFFFF)  # absurd index count
    with pytest.raises(HeaderError):
        parse_header(bytes(bad))
    rng = random.Random(11)
    for _ in range(300):  # random index entries: offsets/counts/types anywhere
        bad = bytearray(blob)
        entry = 8 + 16 * rng.randrange(il)
        bad[entry + rng.randrange(4, 16)] = rng.randrange(256)
        try:
            parse_header(bytes(bad))
        except HeaderError:
            pass


def test_manifest_bad_lines_named() -> None:
    text = b"ok\t1.0-1\t0\t0\tV\t(none)\t1\tx86_64\t0\tok-1.0-1.src.rpm\nbroken line\nnover\tnodash\t0\t0\tV\t(none)\t1\tx\t0\ts\n"
    fact, warnings = _analyze("/var/lib/rpmmanifest/container-manifest-2", text)
    assert [p["name"] for p in fact] == ["ok"]
    assert len(warnings) == 2 and "line 2" in warnings[0] and "line 3" in warnings[1]


def test_broken_meta_page_recovered_by_page_scan(built_bdb: bytes) -> None:
    buf = bytearray(built_bdb)
    struct.pack_into("<32I", buf, 96, *([0x00FFFFFF] * 32))  # every bucket → a page far outside the file
    fact, warnings = _analyze("/var/lib/rpm/Packages", bytes(buf))
    assert fact is not None and len(fact) == 13
    assert any("recovered" in w for w in warnings)
