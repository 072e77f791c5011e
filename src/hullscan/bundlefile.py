"""The checksummed bundle file that `db export` and `base export` write and their imports verify.

An uncompressed tar of two members: `hullscan-bundle.json` (the manifest: a format marker, the
exporter's own fields, the tool, the creation time and the SHA-256 of the data member) and
`data.jsonl.gz` (one JSON record per line). Written whole or not at all (fsio, private); read back only
when the marker and the checksum hold, so a truncated or altered bundle is refused before any record
is looked at. Each exporter says what its records are and checks its own version fields.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hullscan import __version__
from hullscan.errors import InputError
from hullscan.fsio import AtomicFile

MANIFEST = "hullscan-bundle.json"
DATA = "data.jsonl.gz"
MAX_MANIFEST = 1 << 20
MAX_DATA = 4 << 30
"""Uncompressed data larger than this is refused: a bomb, not a DB or a catalog."""


def write(dest: Path, fmt: str, records: Iterable[bytes], fields: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Write a bundle of `records` (one JSON document each, without newline); returns its manifest:
    `fields()` — asked once every record is written, so it may count them — plus the format marker,
    tool, creation time and checksum."""
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for record in records:
            gz.write(record + b"\n")
    data = raw.getvalue()
    manifest = {
        "format": fmt,
        **fields(),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tool": f"hullscan {__version__}",
        "sha256": {DATA: hashlib.sha256(data).hexdigest()},
    }
    mbytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with AtomicFile(dest, private=True) as fh, tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, blob in ((MANIFEST, mbytes), (DATA, data)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(blob), int(time.time()), 0o644
            tf.addfile(info, io.BytesIO(blob))
    return manifest


def is_bundle(path: Path) -> bool:
    """True when `path` is a tar whose first member is a bundle manifest."""
    if not path.is_file():
        return False
    try:
        with tarfile.open(path, mode="r:") as tf:
            first = tf.next()
            return first is not None and first.name == MANIFEST
    except (tarfile.TarError, OSError):
        return False


def read(path: Path, fmt: str, what: str) -> tuple[dict[str, Any], list[bytes]]:
    """The manifest and the record lines of a bundle of format `fmt` (`what` names it in errors: "DB
    bundle"), its marker and checksum verified; one InputError line naming the file otherwise."""
    try:
        with tarfile.open(path, mode="r:") as tf:
            members = {m.name: m for m in tf.getmembers()}
            if MANIFEST not in members or DATA not in members:
                raise InputError(f"{path}: not a hullscan {what} (missing {MANIFEST} or {DATA})")
            mfile, dfile = tf.extractfile(members[MANIFEST]), tf.extractfile(members[DATA])
            if mfile is None or dfile is None:  # a directory or link by that name
                raise InputError(f"{path}: not a hullscan {what} ({MANIFEST} and {DATA} must be files)")
            manifest = json.loads(mfile.read(MAX_MANIFEST))
            data = dfile.read()
    except (tarfile.TarError, OSError, ValueError, EOFError, RecursionError) as err:
        raise InputError(f"{path}: unreadable {what}: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != fmt:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise InputError(f"{path}: not a hullscan {what} (format {found!r})")
    sums = manifest.get("sha256")
    want = sums.get(DATA) if isinstance(sums, dict) else None
    got = hashlib.sha256(data).hexdigest()
    if want != got:
        raise InputError(f"{path}: checksum mismatch for {DATA} (manifest {want}, file {got}): corrupt or altered bundle")
    try:
        text = _gunzip(data)
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(f"{path}: {DATA}: corrupt: {err}") from None
    return manifest, [line for line in text.splitlines() if line.strip()]


def _gunzip(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
        while chunk := gz.read(1 << 20):
            out.write(chunk)
            if out.tell() > MAX_DATA:
                raise OSError(f"more than {MAX_DATA} bytes uncompressed")
    return out.getvalue()
