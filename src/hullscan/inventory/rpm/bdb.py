"""BerkeleyDB hash `Packages` (rpm < 4.16: RHEL/CentOS 7-8, Amazon Linux 2, SLES 12, older Fedora).

Only what rpm writes is read: a hash database (meta page 0 with magic 0x061561, hash versions
8-10), walked bucket by bucket (bucket → page via the meta page's `spares`), following each bucket's
page chain; keys are the 4-byte header numbers and values the header blobs, stored on the page
(`H_KEYDATA`) or, for anything large, on a chain of overflow pages (`H_OFFPAGE`). The file's byte
order is the writer's: the magic tells which, and every page field is read in that order (the
header blobs themselves are always big-endian). Every page number is range-checked and every chain
walked at most once, so a corrupt file ends in a warning, never an exception or a loop.

Hand-written because the only Python bindings (bsddb3/berkeleydb) need the native libdb, which
current distributions no longer ship, and rpm itself reads these files without it (bdb_ro).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

HASH_MAGIC = 0x00061561
# Page types (db_page.h).
P_HASH_UNSORTED = 2
P_OVERFLOW = 7
P_HASHMETA = 8
P_HASH = 13
# Hash item types.
H_KEYDATA = 1
H_OFFPAGE = 3
PAGE_HEADER = 26  # lsn 8, pgno 4, prev 4, next 4, entries 2, hf_offset 2, level 1, type 1


class BdbError(ValueError):
    """The file is not a BerkeleyDB hash database this reader understands."""


@dataclass
class BdbResult:
    """What could be read from one database."""

    values: list[tuple[int, bytes]] = field(default_factory=list)
    """(key as header number, value) pairs, in bucket order."""
    problems: list[str] = field(default_factory=list)
    """Damage met on the way (the rest of the file was still read)."""
    big_endian: bool = False
    """Byte order of the file's page fields."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        if len(data) < 512:
            raise BdbError(f"file too short for a BerkeleyDB meta page ({len(data)} bytes)")
        le_magic, = struct.unpack_from("<I", data, 12)
        be_magic, = struct.unpack_from(">I", data, 12)
        if le_magic == HASH_MAGIC:
            self.e = "<"
        elif be_magic == HASH_MAGIC:
            self.e = ">"
        else:
            raise BdbError("not a BerkeleyDB hash database (bad magic)")
        e = self.e
        version, pagesize = struct.unpack_from(e + "II", data, 16)
        if not 8 <= version <= 10:
            raise BdbError(f"unsupported hash version {version}")
        if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
            raise BdbError(f"implausible page size {pagesize}")
        if data[24] != 0:
            raise BdbError("encrypted database")
        self.data = data
        self.pagesize = pagesize
        last_pgno, = struct.unpack_from(e + "I", data, 32)
        self.npages = len(data) // pagesize
        self.lastpage = min(last_pgno, self.npages - 1)
        self.truncated = last_pgno > self.npages - 1
        self.max_bucket, self.high_mask, self.low_mask = struct.unpack_from(e + "III", data, 72)
        self.spares = struct.unpack_from(e + "32I", data, 96)
        self.h16 = struct.Struct(e + "H")
        self.h32 = struct.Struct(e + "I")
        self.pagehdr = struct.Struct(e + "8xIIIHHBB")  # pgno, prev, next, entries, hf_offset, level, type

    def page(self, pgno: int) -> tuple[int, int, int, int, int]:
        """(offset, next_pgno, entries, hf_offset, type) of a page; BdbError when out of range/mismatched."""
        if pgno < 1 or pgno > self.lastpage:
            raise BdbError(f"page {pgno} outside the file (last page {self.lastpage})")
        off = pgno * self.pagesize
        num, _prev, nxt, entries, hf, _level, typ = self.pagehdr.unpack_from(self.data, off)
        if num != pgno:
            raise BdbError(f"page {pgno} claims to be page {num}")
        return off, nxt, entries, hf, typ

    def unwritten(self, pgno: int) -> bool:
        """True for a page the file reserves but BerkeleyDB never wrote (page number and type 0)."""
        num, *_rest, typ = self.pagehdr.unpack_from(self.data, pgno * self.pagesize)
        return num == 0 and typ == 0

    def overflow(self, pgno: int, total: int) -> bytes:
        """The `total` bytes stored on the overflow chain starting at `pgno`."""
        if total <= 0:
            raise BdbError("empty overflow item")
        parts: list[bytes] = []
        left = total
        seen: set[int] = set()
        while left > 0:
            if pgno in seen:
                raise BdbError(f"overflow chain loops at page {pgno}")
            seen.add(pgno)
            off, nxt, _n, plen, typ = self.page(pgno)
            if typ != P_OVERFLOW:
                raise BdbError(f"page {pgno} in an overflow chain has type {typ}")
            if plen + PAGE_HEADER > self.pagesize or plen > left or plen == 0:
                raise BdbError(f"overflow page {pgno} holds an impossible length {plen}")
            parts.append(self.data[off + PAGE_HEADER:off + PAGE_HEADER + plen])
            left -= plen
            pgno = nxt
        return b"".join(parts)

    def item(self, base: int, ioff: int, ilen: int) -> bytes:
        if ilen < 1 or ioff < PAGE_HEADER or ioff + ilen > self.pagesize:
            raise BdbError(f"item at {ioff} (+{ilen}) outside its page")
        kind = self.data[base + ioff]
        if kind == H_KEYDATA:
            return self.data[base + ioff + 1:base + ioff + ilen]
        if kind == H_OFFPAGE:
            if ilen != 12:
                raise BdbError("malformed off-page item")
            pgno, tlen = struct.unpack_from(self.e + "II", self.data, base + ioff + 4)
            return self.overflow(pgno, tlen)
        raise BdbError(f"unsupported hash item type {kind}")

    def bucket_page(self, bucket: int) -> int:
        return bucket + self.spares[bucket.bit_length()]


def _read_items(r: _Reader, pgno: int, base: int, entries: int, out: BdbResult, keys: set[bytes]) -> int:
    """Append the key/value pairs of one hash page (skipping keys already read); how many were new."""
    ps = r.pagesize
    if PAGE_HEADER + 2 * entries > ps:
        out.problems.append(f"page {pgno}: {entries} entries cannot fit")
        return 0
    offs = struct.unpack_from(f"{r.e}{entries}H", r.data, base + PAGE_HEADER)
    new = 0
    for i in range(0, entries - 1, 2):
        koff, voff = offs[i], offs[i + 1]
        klen = (ps if i == 0 else offs[i - 1]) - koff
        try:
            key = r.item(base, koff, klen)
            if key in keys:
                continue
            value = r.item(base, voff, koff - voff)
        except BdbError as exc:
            out.problems.append(f"page {pgno} entry {i // 2}: {exc}")
            continue
        keys.add(key)
        hnum = struct.unpack(r.e + "I", key)[0] if len(key) == 4 else -1
        out.values.append((hnum, value))
        new += 1
    return new


def read_hash_db(data: bytes) -> BdbResult:
    """Every key/value pair of a BerkeleyDB hash database. Raises BdbError only when the file as a
    whole is unreadable; damage inside it is reported in `problems` and skipped.

    Records are found the way BerkeleyDB finds them (bucket by bucket). When that walk meets damage,
    every other hash page of the file is scanned too, so a broken chain or meta page loses as little
    as possible."""
    r = _Reader(data)
    out = BdbResult(big_endian=r.e == ">")
    if r.truncated:
        out.problems.append(f"file truncated: meta page names {r.lastpage + 1}+ pages, file has {r.npages}")
    seen: set[int] = set()
    keys: set[bytes] = set()
    if r.max_bucket > r.lastpage:
        out.problems.append(f"implausible bucket count {r.max_bucket + 1}")
    else:
        for bucket in range(r.max_bucket + 1):
            pgno = r.bucket_page(bucket)
            while pgno:
                if pgno in seen:
                    out.problems.append(f"bucket {bucket}: page chain loops at page {pgno}")
                    break
                seen.add(pgno)
                if pgno <= r.lastpage and r.unwritten(pgno):
                    break  # BerkeleyDB allocates bucket pages lazily: a zeroed page is an empty bucket
                try:
                    base, nxt, entries, _hf, typ = r.page(pgno)
                except BdbError as exc:
                    out.problems.append(f"bucket {bucket}: {exc}")
                    break
                if typ not in (P_HASH, P_HASH_UNSORTED):
                    out.problems.append(f"bucket {bucket}: page {pgno} has type {typ}, not a hash page")
                    break
                _read_items(r, pgno, base, entries, out, keys)
                pgno = nxt
    if out.problems:
        recovered = 0
        for pgno in range(1, r.lastpage + 1):
            if pgno in seen:
                continue
            try:
                base, _nxt, entries, _hf, typ = r.page(pgno)
            except BdbError:
                continue
            if typ in (P_HASH, P_HASH_UNSORTED):
                recovered += _read_items(r, pgno, base, entries, out, keys)
        if recovered:
            out.problems.append(f"recovered {recovered} records by scanning every page")
    return out
