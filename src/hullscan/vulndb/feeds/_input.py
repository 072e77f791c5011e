"""Reading feed inputs: a file, a directory tree, a .zip, a .tar(.gz) or a .gz, as (name, bytes) members.

Archives nested in a directory are opened too (the shared data ships feeds as tarballs). A member
is read whole: feed files are small, and every importer needs the whole document to parse it.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from hullscan.errors import InputError

#: Largest single member we read (the Debian tracker JSON is ~80 MB; keep a guard against bombs).
MAX_MEMBER = 1 << 30
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.xz", ".tar.bz2", ".tar.zst")


def is_archive(name: str) -> bool:
    low = name.lower()
    return low.endswith(_TAR_SUFFIXES) or low.endswith(".zip")


def iter_members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) for every regular file under `path` (archives expanded). Raises InputError when
    `path` or an archive in it cannot be read (a truncated archive fails here, mid-iteration)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for fn in sorted(files):
                p = Path(root) / fn
                if p.is_symlink() or not p.is_file():
                    continue
                yield from _file_members(p, p.relative_to(path.parent).as_posix())
    else:
        yield from _file_members(path, f"{path.parent.name}/{path.name}" if path.parent.name else path.name)


def _file_members(p: Path, name: str) -> Iterator[tuple[str, bytes]]:
    try:
        if is_archive(name):
            with open(p, "rb") as fh:
                yield from archive_members(fh, name)
            return
        data = p.read_bytes()
    except OSError as err:
        raise InputError(f"{p}: cannot read: {err.strerror or err}") from None
    yield from plain_members(name, data)


def plain_members(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """A non-archive file; a lone `.gz` (not a tarball) is decompressed and loses its suffix."""
    if name.lower().endswith(".gz") and data[:2] == b"\x1f\x8b":
        try:
            yield name[:-3], gzip.decompress(data)
        except (OSError, EOFError, gzip.BadGzipFile) as err:
            raise InputError(f"{name}: corrupt or truncated gzip: {err}") from None
        return
    yield name, data


def archive_members(fh: Any, name: str) -> Iterator[tuple[str, bytes]]:
    """Members of a zip or tar stream (any compression tarfile knows)."""
    try:
        if name.lower().endswith(".zip"):
            with zipfile.ZipFile(fh) as zf:
                for info in zf.infolist():
                    if info.is_dir() or info.file_size > MAX_MEMBER:
                        continue
                    yield from _nested(f"{name}!{info.filename}", zf.read(info))
            return
        with _tar(fh, name) as tf:
            for m in tf:
                if not m.isfile() or m.size > MAX_MEMBER:
                    continue
                f = tf.extractfile(m)
                if f is None:
                    continue
                yield from _nested(f"{name}!{m.name}", f.read())
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error) as err:
        raise InputError(f"{name}: corrupt or truncated archive: {err}") from None
    except Exception as err:  # zstandard.ZstdError (not an OSError)
        if type(err).__name__ != "ZstdError":
            raise
        raise InputError(f"{name}: corrupt or truncated archive: {err}") from None


def _tar(fh: Any, name: str) -> tarfile.TarFile:
    """A tar read in order: `.tar.zst` (Red Hat's CSAF VEX archive) streamed through zstandard — this
    Python's tarfile has no zstd — member by member, never unpacked or held whole."""
    if not name.lower().endswith(".tar.zst"):
        return tarfile.open(fileobj=fh, mode="r:*")
    import zstandard

    return tarfile.open(fileobj=zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True), mode="r|")


def _nested(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    if is_archive(name):
        yield from archive_members(io.BytesIO(data), name)
    else:
        yield from plain_members(name, data)


# ---------------------------------------------------------------- decoding helpers


def load_json(data: bytes) -> Any:
    return json.loads(data)


def load_yaml(data: bytes) -> Any:
    """YAML with every scalar kept as a string: `1.10` must stay a version, not become 1.1.

    The C composer builds the node graph; a tight recursive walk turns it into dicts, lists and
    strings (PyYAML's generic Python constructor took half of a full import's time)."""
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)(data)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    return None if node is None else _plain(node)


def _plain(node: Any) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n) for n in node.value]
    return {_plain(k): _plain(v) for k, v in node.value}


def iso(value: Any) -> str | None:
    """A date/time as ISO 8601 text (`Z` for UTC), from a string or a date object."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None


def text(value: Any) -> str | None:
    """A non-empty string or None."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None
