"""Read named files out of an image archive on disk (docker save, OCI archive) without extracting it.

A plain tar is indexed once (headers read, data seeked over) and blobs are read as slices of the
file; a gzip'd archive (`docker save | gzip`) is read through `tarfile`, which decompresses up to
the member asked for.
"""

from __future__ import annotations

import io
import os
import posixpath

from hullscan.errors import InputError
from hullscan.image.blobs import GZIP_MAGIC, ZSTD_MAGIC, gzip_file
from hullscan.image.tarstream import HARDLINK, REGULAR, SYMLINK, FileTarReader

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import IO

    from _typeshed import WriteableBuffer

MAX_LINK_HOPS = 16


class _Slice(io.RawIOBase):
    """A read-only window [start, start+size) of a file."""

    def __init__(self, path: str, start: int, size: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._f.seek(start)
        self._left = size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data

    def readinto(self, buf: WriteableBuffer) -> int:
        view = memoryview(buf)
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._f.close()
        super().close()


class _Entry:
    """One member of the archive: what `_member` and `open` need."""

    __slots__ = ("kind", "size", "offset_data", "linkname", "header_offset")  # header: gzip'd archives only

    def __init__(self, kind: str, size: int, offset_data: int, linkname: str, header_offset: int) -> None:
        self.kind, self.size, self.offset_data, self.linkname, self.header_offset = (
            kind, size, offset_data, linkname, header_offset)


class ImageArchive:
    """Members of a tar archive by normalized name; symlinks resolved inside the archive only."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            with open(path, "rb") as f:
                head = f.read(4)
        except OSError as err:
            raise InputError(f"{path}: cannot read ({err.strerror})") from None
        if head.startswith(ZSTD_MAGIC):
            raise InputError(f"{path}: zstd-compressed archives are not supported; decompress it first")
        self.compressed = head.startswith(GZIP_MAGIC)
        try:
            self.members = self._index_gzip() if self.compressed else self._index_plain()
        except Exception as err:  # TarError, EOFError, OSError, and the decompressors' own (zlib.error, IsalError)
            raise InputError(f"{path}: not a readable tar archive ({err})") from None

    def _index_plain(self) -> dict[str, _Entry]:
        """Headers only, data seeked over (tarstream's reader: tarfile's import alone costs a warm
        scan ~6 ms)."""
        out: dict[str, _Entry] = {}
        with open(self.path, "rb") as f:
            reader = FileTarReader(f, os.fstat(f.fileno()).st_size)
            for m in reader.members():
                out[self._norm(m.name)] = _Entry(m.kind, m.size, reader.offset, m.linkname, -1)
        return out

    def _index_gzip(self) -> dict[str, _Entry]:
        import tarfile

        kinds = {tarfile.REGTYPE: REGULAR, tarfile.AREGTYPE: REGULAR, tarfile.SYMTYPE: SYMLINK, tarfile.LNKTYPE: HARDLINK}
        with gzip_file(self.path, "rb") as raw, tarfile.open(fileobj=raw, mode="r:") as tar:
            return {
                self._norm(m.name): _Entry(kinds.get(m.type, "other"), m.size, m.offset_data, m.linkname, m.offset)
                for m in tar.getmembers()
            }

    @staticmethod
    def _norm(name: str) -> str:
        return posixpath.normpath(name.lstrip("./") or ".").lstrip("/")

    def close(self) -> None:
        pass  # nothing stays open between reads

    def _member(self, name: str) -> _Entry | None:
        name = self._norm(name)
        for _ in range(MAX_LINK_HOPS):
            m = self.members.get(name)
            if m is None:
                return None
            if m.kind == SYMLINK:
                name = self._norm(posixpath.join(posixpath.dirname(name), m.linkname))
                if name.startswith("../"):
                    return None
                continue
            if m.kind == HARDLINK:
                name = self._norm(m.linkname)
                continue
            return m if m.kind == REGULAR else None
        return None

    def exists(self, name: str) -> bool:
        return self._member(name) is not None

    def size(self, name: str) -> int:
        m = self._member(name)
        return m.size if m else -1

    def location(self, name: str) -> tuple[str, int] | None:
        """This archive and the member's data offset (in the decompressed stream when gzip'd)."""
        m = self._member(name)
        return (self.path, m.offset_data) if m else None

    def read(self, name: str, limit: int = 16 * 1024 * 1024) -> bytes:
        """A small document (manifest, config, index)."""
        m = self._member(name)
        if m is None:
            raise InputError(f"{self.path}: missing {name}")
        if m.size > limit:
            raise InputError(f"{self.path}: {name} is {m.size} bytes, too large for an image document")
        with self.open(name) as f:
            return f.read()

    def open(self, name: str) -> IO[bytes]:
        m = self._member(name)
        if m is None:
            raise InputError(f"{self.path}: missing {name}")
        if not self.compressed:
            return io.BufferedReader(_Slice(self.path, m.offset_data, m.size), buffer_size=1 << 20)
        # a fresh tarfile per blob, walked forward only up to its member (getmember() would read the
        # whole archive to its end first, then seek back: two full decompressions per layer), with
        # the fastest gzip decoder at hand (isal: ~2x zlib)
        import tarfile

        raw = gzip_file(self.path, "rb")
        tar = tarfile.open(fileobj=raw, mode="r:")
        found = next((t for t in tar if t.offset == m.header_offset), None)
        f = tar.extractfile(found) if found is not None else None
        if f is None:
            tar.close()
            raw.close()
            raise InputError(f"{self.path}: {name} is not a regular file")
        orig_close = f.close

        def close() -> None:
            orig_close()
            tar.close()
            raw.close()

        f.close = close  # type: ignore[method-assign]  # closing the member closes the archive's tarfile and file too
        return f
