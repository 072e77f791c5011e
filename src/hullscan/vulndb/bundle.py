"""`db export` / bundle import: the whole DB as one checksummed file for offline machines.

A bundle is an uncompressed tar of two members: `hullscan-bundle.json` (format marker, schema
version, build time, row counts, the SHA-256 of the data member) and `data.jsonl.gz` (one
`{"t": table, "r": row}` line per row). Importing checks the marker, schema version and checksum
before touching the DB, then replaces the bundle's feeds in one transaction. The format is backend
neutral: a bundle exported from SQLite loads into PostgreSQL and back.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from hullscan import __version__
from hullscan.errors import InputError
from hullscan.fsio import AtomicFile
from hullscan.vulndb import schema as S
from hullscan.vulndb.model import now_iso
from hullscan.vulndb.reader import SCHEMA_VERSION
from hullscan.vulndb.store import VulnDB

MANIFEST = "hullscan-bundle.json"
DATA = "data.jsonl.gz"
BUNDLE_FORMAT = "hullscan-vulndb-bundle"


def export(db: VulnDB, dest: Path) -> dict[str, Any]:
    """Write the bundle (whole or not at all, private: fsio); returns its manifest."""
    raw = io.BytesIO()
    counts: Counter[str] = Counter()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for table, row in db.dump_rows():
            counts[table] += 1
            gz.write(json.dumps({"t": table, "r": row}, separators=(",", ":"), default=str).encode() + b"\n")
    data = raw.getvalue()
    manifest = {
        "format": BUNDLE_FORMAT,
        "bundle_version": 1,
        "schema_version": SCHEMA_VERSION,
        "created_at": now_iso(),
        "built_at": _meta(db).get("built_at"),
        "tool": f"hullscan {__version__}",
        "rows": dict(sorted(counts.items())),
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


def _meta(db: VulnDB) -> dict[str, str]:
    with db.reader() as r:
        return r.meta()


def is_bundle(path: Path) -> bool:
    """True when `path` is a tar whose first member is the bundle manifest."""
    if not path.is_file():
        return False
    try:
        with tarfile.open(path, mode="r:") as tf:
            first = tf.next()
            return first is not None and first.name == MANIFEST
    except (tarfile.TarError, OSError):
        return False  # not a tar we can read: the feed importers look at it (and report it)


def load(db: VulnDB, path: Path) -> dict[str, Any]:
    """Verify and load a bundle into `db` (replacing the feeds it holds); returns its manifest."""
    try:
        with tarfile.open(path, mode="r:") as tf:
            members = {m.name: m for m in tf.getmembers()}
            if MANIFEST not in members or DATA not in members:
                raise InputError(f"{path}: not a hullscan DB bundle (missing {MANIFEST} or {DATA})")
            mfile, dfile = tf.extractfile(members[MANIFEST]), tf.extractfile(members[DATA])
            if mfile is None or dfile is None:  # a directory or link by that name
                raise InputError(f"{path}: not a hullscan DB bundle ({MANIFEST} and {DATA} must be files)")
            manifest = json.loads(mfile.read())
            data = dfile.read()
    except (tarfile.TarError, OSError, ValueError, EOFError) as err:
        raise InputError(f"{path}: unreadable DB bundle: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise InputError(f"{path}: not a hullscan DB bundle")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise InputError(f"{path}: bundle has DB schema {manifest.get('schema_version')!r}, this hullscan needs "
                         f"{SCHEMA_VERSION!r}; export it again with a matching hullscan")
    want = (manifest.get("sha256") or {}).get(DATA)
    got = hashlib.sha256(data).hexdigest()
    if want != got:
        raise InputError(f"{path}: checksum mismatch for {DATA} (manifest {want}, file {got}): corrupt bundle")
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    known = {t.name: t for t in S.metadata.sorted_tables}
    try:
        for line in gzip.decompress(data).splitlines():
            rec = json.loads(line)
            t = known.get(rec["t"])
            if t is None or t is S.meta:
                continue
            tables[t.name].append({c.name: rec["r"].get(c.name) for c in t.columns})
    except (ValueError, KeyError, TypeError, OSError, EOFError) as err:
        raise InputError(f"{path}: corrupt bundle data: {err}") from None
    db.load_rows(tables)
    return manifest
