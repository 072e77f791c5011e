"""The RPM header blob, as every rpmdb backend stores it, read with a bounds check on every offset.

A stored header (rpm's `headerExport` form, without the 8-byte magic of a package file) is
`il` and `dl` (big-endian uint32), `il` index entries of 16 bytes (tag, type, offset, count) and
`dl` bytes of data. Only the tags a scanner needs are decoded. rpm lets entries outside the
immutable region ("dribbles") override the region's copy of a tag, so a later entry wins here too.

Hand-written because no maintained pure-Python library reads installed headers: `rpmfile` reads
.rpm package files only, and the rpmdb readers on PyPI wrap native code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

# Tags (rpm's rpmtag.h).
TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_VENDOR = 1011
TAG_LICENSE = 1014
TAG_ARCH = 1022
TAG_OLDFILENAMES = 1027
TAG_SOURCERPM = 1044
TAG_DIRINDEXES = 1116
TAG_BASENAMES = 1117
TAG_DIRNAMES = 1118
TAG_MODULARITYLABEL = 5096

# Types.
T_INT32 = 4
T_STRING = 6
T_STRING_ARRAY = 8
T_I18NSTRING = 9

_WANTED = frozenset({
    TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_VENDOR, TAG_LICENSE, TAG_ARCH,
    TAG_OLDFILENAMES, TAG_SOURCERPM, TAG_DIRINDEXES, TAG_BASENAMES, TAG_DIRNAMES, TAG_MODULARITYLABEL,
})

# rpm's own sanity limits (header_internal.h): more is a corrupt blob, not a big package.
MAX_INDEX = 0x0000FFFF
MAX_DATA = 0x0FFFFFFF


class HeaderError(ValueError):
    """The blob is not a readable RPM header."""


@dataclass(frozen=True)
class RpmHeader:
    """The fields of one installed package that hullscan uses."""

    name: str
    """NAME."""
    version: str
    """VERSION."""
    release: str
    """RELEASE."""
    epoch: int | None = None
    """EPOCH, None when the tag is absent (rpm prints `(none)`)."""
    arch: str = ""
    """ARCH (empty for gpg-pubkey pseudo-packages)."""
    sourcerpm: str = ""
    """SOURCERPM, e.g. `util-linux-2.32.1-42.el8_8.src.rpm`."""
    license: str = ""
    """LICENSE as declared."""
    vendor: str = ""
    """VENDOR."""
    modularitylabel: str = ""
    """MODULARITYLABEL (RHEL 8+ modules), `name:stream:version:context`."""
    files: tuple[str, ...] = field(default=(), repr=False)
    """Owned paths, from DIRNAMES+BASENAMES+DIRINDEXES or the legacy OLDFILENAMES."""


def _cstr(data: bytes, off: int, dl: int) -> tuple[str, int]:
    """The NUL-terminated string at `off` inside the data store, and the offset after it."""
    if off < 0 or off >= dl:
        raise HeaderError(f"string offset {off} outside data ({dl} bytes)")
    end = data.find(b"\0", off, dl)
    if end < 0:
        raise HeaderError(f"string at offset {off} is not terminated")
    return data[off:end].decode("utf-8", "replace"), end + 1


def _strings(data: bytes, off: int, count: int, dl: int) -> list[str]:
    if off < 0 or off >= dl or count > dl - off:  # every string takes at least its NUL byte
        raise HeaderError(f"string array at {off}×{count} outside data ({dl} bytes)")
    if count == 0:
        return []
    # One split and one decode for the whole array: file lists run to thousands of names.
    parts = data[off:dl].split(b"\0", count)
    if len(parts) <= count:
        raise HeaderError(f"string array at offset {off} is not terminated")
    return b"\0".join(parts[:count]).decode("utf-8", "replace").split("\0")


def _int32s(data: bytes, off: int, count: int, dl: int) -> tuple[int, ...]:
    if off < 0 or count < 0 or off + 4 * count > dl:
        raise HeaderError(f"int32 array at {off}×{count} outside data ({dl} bytes)")
    return struct.unpack_from(f">{count}i", data, off)


def parse_header(blob: bytes) -> RpmHeader:
    """Decode one stored header; raises HeaderError (never IndexError/struct.error) when it is bad."""
    n = len(blob)
    if n < 8:
        raise HeaderError(f"header too short ({n} bytes)")
    il, dl = struct.unpack_from(">II", blob, 0)
    if il < 1 or il > MAX_INDEX or dl > MAX_DATA:
        raise HeaderError(f"implausible header sizes (index {il}, data {dl})")
    start = 8 + 16 * il
    if start + dl > n:
        raise HeaderError(f"header truncated: needs {start + dl} bytes, has {n}")
    data = blob[start:start + dl]
    entries: dict[int, tuple[int, int, int]] = {}
    for tag, typ, off, count in struct.iter_unpack(">IIiI", blob[8:start]):
        if tag in _WANTED:
            entries[tag] = (typ, off, count)

    def string(tag: int) -> str:
        e = entries.get(tag)
        if e is None:
            return ""
        typ, off, count = e
        if typ == T_STRING:
            if count != 1:  # as rpm's own check: a STRING holds exactly one
                raise HeaderError(f"tag {tag}: string with count {count}")
            return _cstr(data, off, dl)[0]
        if typ in (T_I18NSTRING, T_STRING_ARRAY):
            values = _strings(data, off, count, dl)  # all must lie inside the data, the first is used
            return values[0] if values else ""
        raise HeaderError(f"tag {tag} has type {typ}, not a string")

    def strings(tag: int) -> list[str]:
        e = entries.get(tag)
        if e is None:
            return []
        typ, off, count = e
        if typ not in (T_STRING_ARRAY, T_I18NSTRING, T_STRING):
            raise HeaderError(f"tag {tag} has type {typ}, not a string array")
        return _strings(data, off, count, dl)

    name = string(TAG_NAME)
    if not name:
        raise HeaderError("header has no NAME")
    epoch = None
    if TAG_EPOCH in entries:
        typ, off, count = entries[TAG_EPOCH]
        if typ != T_INT32 or count < 1:
            raise HeaderError(f"EPOCH has type {typ}")
        epoch = _int32s(data, off, 1, dl)[0]

    files: list[str] = []
    if TAG_BASENAMES in entries:
        base = strings(TAG_BASENAMES)
        dirs = strings(TAG_DIRNAMES)
        typ, off, count = entries.get(TAG_DIRINDEXES, (T_INT32, 0, 0))
        if typ != T_INT32 or count != len(base):
            raise HeaderError("DIRINDEXES does not match BASENAMES")
        idx = _int32s(data, off, count, dl)
        nd = len(dirs)
        for b, i in zip(base, idx, strict=True):  # count == len(base) was checked above
            if not 0 <= i < nd:
                raise HeaderError(f"dir index {i} outside DIRNAMES ({nd})")
            files.append(dirs[i] + b)
    elif TAG_OLDFILENAMES in entries:
        files = strings(TAG_OLDFILENAMES)

    return RpmHeader(
        name=name,
        version=string(TAG_VERSION),
        release=string(TAG_RELEASE),
        epoch=epoch,
        arch=string(TAG_ARCH),
        sourcerpm=string(TAG_SOURCERPM),
        license=string(TAG_LICENSE),
        vendor=string(TAG_VENDOR),
        modularitylabel=string(TAG_MODULARITYLABEL),
        files=tuple(files),
    )
