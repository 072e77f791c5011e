"""Stream a layer blob as uncompressed tar bytes, verifying its digest and diff_id on the way.

The blob is read once: its bytes feed the blob hash, the decompressor, the diff_id hash and the tar
reader in one pass, in bounded chunks (a decompression bomb never lands in memory at once).
Compression is taken from the magic bytes; the media type only has to agree.
"""

from __future__ import annotations

from collections.abc import Iterator

from hullscan.digests import bulk_hash
from hullscan.errors import HullscanError, InputError
from hullscan.image.model import LAYER_TYPES, Layer

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from typing import IO

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

def gzip_file(*args, **kwargs) -> IO[bytes]:
    """A gzip reader with the fastest decoder installed: isal's igzip (~3x zlib here, RECIPES.md),
    then zlib-ng, then the stdlib. Imported on first use: a warm scan decompresses nothing."""
    try:
        from isal.igzip import IGzipFile as cls
    except ImportError:  # pragma: no cover - depends on wheels
        try:
            from zlib_ng.gzip_ng import GzipNGFile as cls  # type: ignore[no-redef]  # the same reader interface
        except ImportError:
            from gzip import GzipFile as cls  # type: ignore[assignment]  # the same reader interface
    return cls(*args, **kwargs)  # type: ignore[return-value]  # a binary file object


class _HashingReader:
    """A file wrapper that hashes and counts every byte read through it."""

    def __init__(self, raw: IO[bytes], algo: str, prefix: bytes = b"") -> None:
        self.raw = raw
        self.hash = bulk_hash(algo)
        self.size = 0
        self._prefix = prefix
        if prefix:
            self.hash.update(prefix)
            self.size = len(prefix)

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            head, self._prefix = self._prefix, b""
            if n < 0:
                return head + self.read()
            if len(head) > n:
                head, self._prefix = head[:n], head[n:]
                return head
            more = self.raw.read(n - len(head)) if n > len(head) else b""
            self._count(more)
            return head + more
        data = self.raw.read(n)
        self._count(data)
        return data

    def readinto(self, buf) -> int:  # used by some decompressor file classes
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def _count(self, data: bytes) -> None:
        if data:
            self.hash.update(data)
            self.size += len(data)


def sniff_compression(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return ""


def _algo(digest: str) -> str:
    return digest.split(":", 1)[0] if ":" in digest else "sha256"


def layer_label(layer: Layer) -> str:
    return f"layer {layer.index} ({layer.digest[:19]})"


def stream_layer(
    layer: Layer, notes: list[str] | None = None, verify: bool = True, seen: dict[str, object] | None = None
) -> Iterator[bytes]:
    """Yield the layer's uncompressed tar bytes in chunks; at the end both digests are checked.

    A mismatch, a truncated stream or an unreadable compression raises InputError after the last chunk
    (so whatever consumed the chunks must be discarded by the caller)."""
    label = layer_label(layer)
    try:
        raw = layer.opener()
    except OSError as err:
        raise InputError(f"{label}: cannot open blob: {err}") from None
    try:
        head = raw.read(CHUNK)
        compression = sniff_compression(head)
        claimed = LAYER_TYPES.get(layer.media_type)
        if claimed is not None and claimed != compression and notes is not None:
            notes.append(f"{label}: media type says {claimed or 'uncompressed'}, content is {compression or 'uncompressed'}")
        reader = _HashingReader(raw, _algo(layer.digest), head)
        # an uncompressed blob IS the tar: one hash serves as blob digest and diff_id when the
        # algorithms agree (hashing is a tenth of a cold scan)
        same = not compression and _algo(layer.digest) == _algo(layer.diff_id or "sha256:")
        diff_hash = None if same else bulk_hash(_algo(layer.diff_id or "sha256:"))
        if compression == "gzip":
            source: IO[bytes] = gzip_file(fileobj=reader, mode="rb")
        elif compression == "zstd":
            import zstandard

            source = zstandard.ZstdDecompressor().stream_reader(reader, read_across_frames=True)  # type: ignore[arg-type]  # _HashingReader is file-like
        else:
            if len(head) >= 262 and head[257:262] != b"ustar" and any(head[:512]):
                raise InputError(f"{label}: blob is neither gzip, zstd nor a tar archive")
            source = reader  # type: ignore[assignment]  # file-like: read
        while True:
            try:
                chunk = source.read(CHUNK)
            except HullscanError:
                raise  # a registry stream that failed for good (FetchError, exit 3) keeps its meaning
            except (EOFError, OSError, ValueError) as err:
                raise InputError(f"{label}: corrupt or truncated {compression or 'tar'} stream ({err})") from None
            except Exception as err:  # zstandard.ZstdError and friends
                raise InputError(f"{label}: corrupt {compression} stream ({err})") from None
            if not chunk:
                break
            if diff_hash is not None:
                diff_hash.update(chunk)
            yield chunk
        if compression:  # drain trailing bytes after the last member so the blob hash covers all of it
            while reader.read(CHUNK):
                pass
        blob_digest = f"{_algo(layer.digest)}:{reader.hash.hexdigest()}"
        if seen is not None:
            seen["blob_digest"], seen["size"] = blob_digest, reader.size
        if not verify:
            return
        if layer.size >= 0 and reader.size != layer.size:
            raise InputError(f"{label}: blob is {reader.size} bytes, manifest says {layer.size}")
        if layer.digest and blob_digest != layer.digest:
            raise InputError(f"{label}: blob digest mismatch (content is {blob_digest[:19]}…)")
        if layer.diff_id:
            diff_id = f"{_algo(layer.diff_id)}:{(diff_hash or reader.hash).hexdigest()}"
            if diff_id != layer.diff_id:
                raise InputError(f"{label}: diff_id mismatch: config says {layer.diff_id[:19]}…, content is {diff_id[:19]}…")
    finally:
        raw.close()


def hash_blob(layer: Layer) -> tuple[str, int]:
    """Digest and size of the raw blob (cheap check before trusting cached facts of a local layer)."""
    h = bulk_hash(_algo(layer.digest))
    size = 0
    try:
        raw = layer.opener()
    except OSError as err:
        raise InputError(f"{layer_label(layer)}: cannot open blob: {err}") from None
    with raw:
        while chunk := raw.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return f"{_algo(layer.digest)}:{h.hexdigest()}", size
