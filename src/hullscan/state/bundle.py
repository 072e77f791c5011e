"""`hullscan base export` / `import`: the catalog as one checksummed file, so an air-gapped site can
share it. The bundle file of `hullscan db export` (bundlefile.py): the manifest holds the version and
the base count; `data.jsonl.gz` one base per line (`edit.NewBase`'s fields — name, tags, digests,
platform, OS, diff_ids, packages).

Importing checks the marker, the version, the checksum and every record (`bundle.schema.json`, then the
catalog's own checks: digests, names, tags) before it writes anything, then adds every base in one
transaction: a truncated or tampered bundle is refused (exit 2) and the catalog is left as it was. Chain
IDs are not in the bundle: the catalog computes them from the diff_ids.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hullscan import bundlefile
from hullscan.errors import InputError
from hullscan.state.edit import Added, NewBase, PackageRow, add
from hullscan.state.models import BaseEntry, BaseLayer, BasePackage, BaseTag
from hullscan.state.store import StateStore

BUNDLE_FORMAT = "hullscan-base-catalog-bundle"
BUNDLE_VERSION = 1
_PACKAGE = ("type", "ecosystem", "name", "version", "arch", "source_name", "source_version", "purl")


def export(store: StateStore, dest: Path) -> dict[str, Any]:
    """Write the bundle (whole or not at all, private); returns its manifest."""
    bases = dump(store)
    records = (json.dumps(asdict(base), separators=(",", ":")).encode() for base in bases)
    return bundlefile.write(dest, BUNDLE_FORMAT, records, lambda: {"bundle_version": BUNDLE_VERSION, "bases": len(bases)})


def dump(store: StateStore) -> list[NewBase]:
    """Every catalogued base as `add` takes it, in the order they were added (one consistent read)."""
    with store.read() as conn:
        tags: dict[int, list[str]] = {}
        for entry_id, tag in conn.execute(select(BaseTag.entry_id, BaseTag.tag).order_by(BaseTag.tag)):
            tags.setdefault(entry_id, []).append(tag)
        layers: dict[int, list[str]] = {}
        for entry_id, diff_id in conn.execute(select(BaseLayer.entry_id, BaseLayer.diff_id).order_by(BaseLayer.entry_id,
                                                                                                     BaseLayer.idx)):
            layers.setdefault(entry_id, []).append(diff_id)
        packages: dict[int, list[PackageRow]] = {}
        columns = [getattr(BasePackage, c) for c in _PACKAGE]
        for entry_id, *values in conn.execute(select(BasePackage.entry_id, *columns).order_by(BasePackage.id)):
            packages.setdefault(entry_id, []).append(PackageRow(*values))
        return [NewBase(name=e.name, tags=tuple(tags.get(e.id, ())), manifest_digest=e.manifest_digest,
                        config_digest=e.config_digest, os=e.os, architecture=e.architecture, variant=e.variant,
                        created=e.created, os_id=e.os_id, os_version=e.os_version, os_release=e.os_release,
                        diff_ids=tuple(layers.get(e.id, ())), packages=tuple(packages.get(e.id, ())))
                for e in conn.execute(select(BaseEntry.__table__).order_by(BaseEntry.id))]


def load(store: StateStore, path: Path, *, replace_all: bool = False) -> tuple[dict[str, Any], list[Added]]:
    """Verify the bundle at `path` whole, then add its bases in one transaction (`replace_all`: the
    catalog becomes the bundle's). Returns its manifest and what was added."""
    manifest, bases = read(path)
    return manifest, add(store, bases, replace_all=replace_all)


def read(path: Path) -> tuple[dict[str, Any], list[NewBase]]:
    """The bundle's manifest and bases, every check passed; an InputError naming the file otherwise."""
    manifest, lines = bundlefile.read(path, BUNDLE_FORMAT, "base catalog bundle")
    if manifest.get("bundle_version") != BUNDLE_VERSION:
        raise InputError(f"{path}: bundle version {manifest.get('bundle_version')!r}, this hullscan reads "
                         f"{BUNDLE_VERSION}; export it again with a matching hullscan")
    data = bundlefile.DATA
    bases = [_base(line, f"{path}: {data} line {n}") for n, line in enumerate(lines, 1)]
    if manifest.get("bases") != len(bases):
        raise InputError(f"{path}: manifest says {manifest.get('bases')!r} bases, {data} holds {len(bases)}")
    for n, base in enumerate(bases, 1):
        base.check(f"{path}: {data} line {n}")
    return manifest, bases


def _base(line: bytes, where: str) -> NewBase:
    try:
        doc = json.loads(line)
        json.dumps(doc, ensure_ascii=False).encode()  # a lone surrogate (`"\\ud800"`) no store could hold
    except (ValueError, RecursionError) as err:  # UnicodeEncodeError is a ValueError
        raise InputError(f"{where}: not valid JSON text ({type(err).__name__}: {str(err)[:200]})") from None
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        at = "/".join(str(p) for p in first.absolute_path) or "(record)"
        raise InputError(f"{where}: {at}: {first.message}")
    doc["tags"] = tuple(doc["tags"])
    doc["diff_ids"] = tuple(doc["diff_ids"])
    doc["packages"] = tuple(PackageRow(**p) for p in doc["packages"])
    return NewBase(**doc)


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(files("hullscan.state").joinpath("bundle.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)
