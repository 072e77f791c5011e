"""A forward-only tar reader over a stream of chunks.

Hand-written because `tarfile` costs ~1.5x the decompression floor on real layers (RECIPES.md): it
builds a TarInfo object with many attributes per member and reads through a file object. Here a
member costs one 512-byte slice and a few int() calls, unwanted data is skipped without copying,
and only the members an analyzer asked for are read. Handles ustar, GNU long names/links ('L','K'),
PAX extended headers ('x', 'g'), base-256 sizes.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator

BLOCK = 512

REGULAR = "file"
DIRECTORY = "dir"
SYMLINK = "symlink"
HARDLINK = "hardlink"
DEVICE = "device"
FIFO = "fifo"
OTHER = "other"

_KINDS = {
    b"0": REGULAR, b"\0": REGULAR, b"7": REGULAR, b"S": REGULAR,
    b"1": HARDLINK, b"2": SYMLINK, b"3": DEVICE, b"4": DEVICE, b"5": DIRECTORY, b"6": FIFO,
}


class TarError(Exception):
    """The stream is not a tar archive, or ends in the middle of one."""


class Member:
    """One member's header. A plain slotted class, not a dataclass: one is made per tar member of
    every layer (the cold scan's hottest loop), and a warm scan imports this module without paying
    for a dataclass's compiled methods (record.py)."""

    __slots__ = ("name", "kind", "size", "mode", "linkname")

    def __init__(self, name: str, kind: str, size: int, mode: int, linkname: str = "") -> None:
        self.name = name
        self.kind = kind
        self.size = size
        self.mode = mode
        self.linkname = linkname

    def __repr__(self) -> str:
        return f"Member({self.name!r}, {self.kind!r}, size={self.size}, mode={self.mode:o}, linkname={self.linkname!r})"


def _octal(field: bytes) -> int:
    try:  # the common field: octal digits padded with NUL or space (int() skips leading spaces)
        return int(field.rstrip(b"\0 ") or b"0", 8)
    except ValueError:
        pass
    if field and field[0] & 0x80:  # GNU base-256 (sizes over 8 GiB)
        value = field[0] & 0x3F
        for b in field[1:]:
            value = (value << 8) | b
        return value
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _byte_sum(block: bytes) -> int:
    """Exact sum of a 512-byte header's bytes at C speed (`sum()` over bytes costs ~10 µs, twice per
    member with PAX headers: most of the parsing time). adler32's low half is 1 + the byte sum mod
    65521, and 256 bytes sum to at most 65,280, so each half's sum comes out exact."""
    view = memoryview(block)
    return (zlib.adler32(view[:256]) & 0xFFFF) + (zlib.adler32(view[256:]) & 0xFFFF) - 2


def _parse_pax(data: bytes) -> dict[str, str]:
    """PAX records: "%d %s=%s\n" where the number is the record's own length. Only `path`,
    `linkpath` and `size` matter here: a header without them (most carry only times, ids, xattrs)
    is not parsed at all."""
    if b"path=" not in data and b"size=" not in data:
        return {}
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarError("malformed PAX header") from None
        if length <= 0 or pos + length > len(data):
            raise TarError("malformed PAX header")
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


class TarReader:
    """Iterate members of a tar stream; read a member's data with `read(limit)` before moving on."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0
        self._left = 0  # unread data bytes (incl. padding) of the current member
        self._data_left = 0
        self.offset = 0  # bytes consumed so far (for messages)

    # -- buffer primitives -------------------------------------------------
    def _fill(self, n: int) -> bool:
        """Ensure n bytes are buffered from _pos; False at end of stream."""
        avail = len(self._buf) - self._pos
        if avail >= n:
            return True
        parts = [self._buf[self._pos :]]
        while avail < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._buf = b"".join(parts)
                self._pos = 0
                return False
            parts.append(chunk)
            avail += len(chunk)
        self._buf = b"".join(parts)
        self._pos = 0
        return True

    def _take(self, n: int) -> bytes:
        if not self._fill(n):
            raise TarError(f"archive truncated at byte {self.offset + len(self._buf) - self._pos}")
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        self.offset += n
        return data

    def _skip(self, n: int) -> None:
        avail = len(self._buf) - self._pos
        if n <= avail:
            self._pos += n
            self.offset += n
            return
        n -= avail
        self.offset += avail
        self._buf, self._pos = b"", 0
        while n > 0:
            chunk = next(self._chunks, None)
            if chunk is None:
                raise TarError(f"archive truncated at byte {self.offset}")
            if len(chunk) > n:
                self._buf, self._pos = chunk, n
                self.offset += n
                return
            n -= len(chunk)
            self.offset += len(chunk)

    # -- members -----------------------------------------------------------
    def read(self, limit: int | None = None) -> bytes:
        """The current member's data (at most `limit` bytes; the rest is skipped later)."""
        n = self._data_left if limit is None else min(limit, self._data_left)
        if n <= 0:
            return b""
        if n <= len(self._buf) - self._pos:
            data = self._buf[self._pos : self._pos + n]
            self._pos += n
            self.offset += n
        else:
            # BytesIO grows in place and getvalue() hands its buffer over without a copy: a big
            # member costs its size once, not twice as with a list of parts and b"".join
            out = io.BytesIO()
            want = n
            while want > 0:
                avail = len(self._buf) - self._pos
                if avail == 0:
                    if not self._fill(1):
                        raise TarError(f"archive truncated at byte {self.offset}")
                    continue
                take = min(avail, want)
                out.write(memoryview(self._buf)[self._pos : self._pos + take])
                self._pos += take
                self.offset += take
                want -= take
            data = out.getvalue()
            del out
        self._data_left -= n
        self._left -= n
        return data

    def drain(self) -> None:
        """Consume the stream to its end (after the end-of-archive marker): the digests are
        verified by the chunk source only once it is exhausted."""
        self._buf, self._pos = b"", 0
        for _ in self._chunks:
            pass

    def _header(self) -> bytes | None:
        pos = self._pos
        if len(self._buf) - pos >= BLOCK:  # the common case, without _fill/_take calls
            self._pos = pos + BLOCK
            self.offset += BLOCK
            return self._buf[pos : pos + BLOCK]
        if not self._fill(BLOCK):
            if len(self._buf) - self._pos == 0:
                return None  # clean end without the two zero blocks
            raise TarError(f"archive truncated at byte {self.offset}")
        return self._take(BLOCK)

    def members(self) -> Iterator[Member]:
        pax_global: dict[str, str] = {}
        pax: dict[str, str] = {}
        long_name = long_link = None
        first = True
        while True:
            if self._left:  # the previous member's unread data
                self._skip(self._left)
                self._left = self._data_left = 0
            header = self._header()
            if header is None:
                return
            if not header[0] and header.count(0) == BLOCK:
                return  # end-of-archive marker
            stored = header[148:156]
            try:
                checksum = _octal(stored)
                size = _octal(header[124:136])
            except ValueError:
                raise TarError(f"invalid tar header at byte {self.offset - BLOCK}") from None
            if checksum != _byte_sum(header) - sum(stored) + 256:
                what = "not a tar archive" if first else f"invalid tar header checksum at byte {self.offset - BLOCK}"
                raise TarError(what)
            first = False
            typeflag = header[156:157]
            padded = (size + BLOCK - 1) // BLOCK * BLOCK
            if typeflag in (b"x", b"g", b"L", b"K"):
                if size > 8 * 1024 * 1024:
                    raise TarError(f"extended header of {size} bytes at byte {self.offset - BLOCK}")
                data = self._take(padded)[:size]
                if typeflag == b"x":
                    pax = _parse_pax(data)
                elif typeflag == b"g":
                    pax_global.update(_parse_pax(data))
                elif typeflag == b"L":
                    long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                else:
                    long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                continue
            try:
                mode = _octal(header[100:108])
            except ValueError:
                raise TarError(f"invalid tar header at byte {self.offset - BLOCK}") from None
            name_b = header[0:100].split(b"\0", 1)[0]
            if header[257:262] == b"ustar":
                prefix = header[345:500].split(b"\0", 1)[0]
                if prefix:
                    name_b = prefix + b"/" + name_b
            name = name_b.decode("utf-8", "surrogateescape")
            link = header[157:257].split(b"\0", 1)[0].decode("utf-8", "surrogateescape") if header[157] else ""
            if long_name is not None:
                name = long_name
            if long_link is not None:
                link = long_link
            merged = {**pax_global, **pax} if pax_global else pax
            if merged:
                name = merged.get("path", name)
                link = merged.get("linkpath", link)
                if "size" in merged:
                    try:
                        size = int(merged["size"])
                    except ValueError:
                        raise TarError("malformed PAX size") from None
                    padded = (size + BLOCK - 1) // BLOCK * BLOCK
            pax, long_name, long_link = {}, None, None
            kind = _KINDS.get(typeflag, OTHER)
            if kind in (HARDLINK, SYMLINK, DIRECTORY, DEVICE, FIFO):
                # these carry no data, whatever the size field claims (hard links may in PAX; skip it)
                self._left, self._data_left = padded, 0
            else:
                self._left, self._data_left = padded, size
            yield Member(name, kind, size if kind == REGULAR else 0, mode & 0o7777, link)


class FileTarReader(TarReader):
    """Members of a tar file on disk (an image archive): headers are read, data is seeked over.
    `offset` after a member is yielded is where its data starts."""

    def __init__(self, f: io.BufferedIOBase, size: int) -> None:
        super().__init__(iter(()))
        self._f = f
        self._size = size

    def _header(self) -> bytes | None:
        block = self._f.read(BLOCK)
        if not block:
            return None
        if len(block) < BLOCK:
            raise TarError(f"archive truncated at byte {self.offset}")
        self.offset += BLOCK
        return block

    def _take(self, n: int) -> bytes:
        data = self._f.read(n)
        if len(data) < n:
            raise TarError(f"archive truncated at byte {self.offset}")
        self.offset += n
        return data

    def _skip(self, n: int) -> None:
        if self.offset + n > self._size:
            raise TarError(f"archive truncated at byte {self._size}")
        self._f.seek(n, io.SEEK_CUR)
        self.offset += n
