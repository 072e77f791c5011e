"""`db export` / bundle import: the whole DB as one checksummed file for offline machines.

A bundle is the checksummed bundle file of bundlefile.py: its manifest holds the schema version, build
time and row counts; `data.jsonl.gz` one `{"t": table, "r": row}` line per row. Importing checks the marker, schema version and checksum
before touching the DB, then replaces the bundle's feeds in one transaction. The format is backend
neutral: a bundle exported from SQLite loads into PostgreSQL and back.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hullscan import bundlefile
from hullscan.errors import InputError
from hullscan.vulndb import schema as S
from hullscan.vulndb.reader import SCHEMA_VERSION
from hullscan.vulndb.store import VulnDB

BUNDLE_FORMAT = "hullscan-vulndb-bundle"


def export(db: VulnDB, dest: Path) -> dict[str, Any]:
    """Write the bundle (whole or not at all, private); returns its manifest."""
    counts: Counter[str] = Counter()

    def records() -> Iterator[bytes]:
        for table, row in db.dump_rows():
            counts[table] += 1
            yield json.dumps({"t": table, "r": row}, separators=(",", ":"), default=str).encode()

    built_at = _meta(db).get("built_at")
    return bundlefile.write(dest, BUNDLE_FORMAT, records(), lambda: {
        "bundle_version": 1, "schema_version": SCHEMA_VERSION, "built_at": built_at, "rows": dict(sorted(counts.items()))})


def _meta(db: VulnDB) -> dict[str, str]:
    with db.reader() as r:
        return r.meta()


def is_bundle(path: Path) -> bool:
    """True when `path` is a tar whose first member is a bundle manifest (else the feed importers look at it)."""
    return bundlefile.is_bundle(path)


def load(db: VulnDB, path: Path) -> dict[str, Any]:
    """Verify and load a bundle into `db` (replacing the feeds it holds); returns its manifest."""
    manifest, lines = bundlefile.read(path, BUNDLE_FORMAT, "DB bundle")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise InputError(f"{path}: bundle has DB schema {manifest.get('schema_version')!r}, this hullscan needs "
                         f"{SCHEMA_VERSION!r}; export it again with a matching hullscan")
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    known = {t.name: t for t in S.metadata.sorted_tables}
    try:
        for line in lines:
            rec = json.loads(line)
            t = known.get(rec["t"])
            if t is None or t is S.meta:
                continue
            tables[t.name].append({c.name: rec["r"].get(c.name) for c in t.columns})
    except (ValueError, KeyError, TypeError, OSError, EOFError) as err:
        raise InputError(f"{path}: corrupt bundle data: {err}") from None
    db.load_rows(tables)
    return manifest
