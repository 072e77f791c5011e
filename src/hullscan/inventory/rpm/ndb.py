"""SUSE's NDB `Packages.db` (rpm's own "ndb" backend: SLES 15, openSUSE Leap 15 / Tumbleweed).

Layout (little-endian throughout, rpm's lib/backend/ndb/rpmpkg.c): a 32-byte file header
(`RpmP`, version 0, generation, number of 4 KiB slot pages, next package index) sharing page 0
with 16-byte slots (`Slot`, package index, block offset, block count; blocks are 16 bytes, offset
0 = free slot). Each slot points at a blob: head (`BlbS`, package index, timestamp, length), the
header bytes, zero padding and a tail (adler32 of everything before it, length, `BlbE`).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

HEADER_MAGIC = 0x506D7052  # b"RpmP"
SLOT_MAGIC = 0x746F6C53  # b"Slot"
BLOB_HEAD_MAGIC = 0x53626C42  # b"BlbS"
BLOB_TAIL_MAGIC = 0x45626C42  # b"BlbE"
PAGE = 4096
SLOT = 16
BLK = 16
HEAD = 16
TAIL = 12


class NdbError(ValueError):
    """The file is not an NDB package database."""


@dataclass
class NdbResult:
    """What could be read from one database."""

    values: list[tuple[int, bytes]] = field(default_factory=list)
    """(package index, header blob), in slot order."""
    problems: list[str] = field(default_factory=list)
    """Damaged slots or blobs that were skipped."""


def read_ndb(data: bytes) -> NdbResult:
    """Every package blob of an NDB `Packages.db`. Raises NdbError when the file header is unreadable."""
    if len(data) < 32:
        raise NdbError(f"file too short ({len(data)} bytes)")
    magic, version, _gen, slotnpages = struct.unpack_from("<4I", data, 0)
    if magic != HEADER_MAGIC:
        raise NdbError("not an NDB package database (bad magic)")
    if version != 0:
        raise NdbError(f"unsupported NDB version {version}")
    out = NdbResult()
    avail = len(data) // PAGE
    if slotnpages == 0 or slotnpages > avail:
        out.problems.append(f"slot area of {slotnpages} pages does not fit the file ({avail} pages)")
        slotnpages = min(max(slotnpages, 1), avail)
    fileblks = len(data) // BLK
    minblk = slotnpages * (PAGE // BLK)
    nslots = slotnpages * (PAGE // SLOT)
    for slotno in range(2, nslots):  # the first two slot-sized places hold the file header
        smagic, pkgidx, blkoff, blkcnt = struct.unpack_from("<4I", data, slotno * SLOT)
        if smagic != SLOT_MAGIC:
            out.problems.append(f"slot {slotno}: bad magic")
            continue
        if blkoff == 0:
            continue  # free slot
        if pkgidx == 0 or blkcnt == 0 or blkoff < minblk or blkoff + blkcnt > fileblks:
            out.problems.append(f"slot {slotno}: blob at block {blkoff}+{blkcnt} is outside the data area")
            continue
        start = blkoff * BLK
        end = start + blkcnt * BLK
        bmagic, bidx, _ts, bloblen = struct.unpack_from("<4I", data, start)
        if bmagic != BLOB_HEAD_MAGIC or bidx != pkgidx:
            out.problems.append(f"package {pkgidx}: bad blob head")
            continue
        if blkcnt != (HEAD + bloblen + TAIL + BLK - 1) // BLK:
            out.problems.append(f"package {pkgidx}: blob length {bloblen} does not match its {blkcnt} blocks")
            continue
        adler, tlen, tmagic = struct.unpack_from("<3I", data, end - TAIL)
        if tmagic != BLOB_TAIL_MAGIC or tlen != bloblen:
            out.problems.append(f"package {pkgidx}: bad blob tail")
            continue
        if zlib.adler32(data[start:end - TAIL]) != adler:
            out.problems.append(f"package {pkgidx}: checksum mismatch")
            continue
        out.values.append((pkgidx, data[start + HEAD:start + HEAD + bloblen]))
    return out
