"""Rescan state (issue #23, models.py `RescanState`): per stored image, the DB generation it was last
matched at and the findings it had then, before the policy stage — what the next `hullscan rescan` compares
with. `hullscan image --store` writes the first one (its scan's findings, generation unknown); every rescan
that re-matched the image replaces it.

Findings are kept compact: each names its package (and its other locations) by the package's identity in
the stored inventory (`package_key`) instead of a copy of it, and the fields the comparison and the policy
stage read (ids, status, fixed version, severity, CVSS, KEV, EPSS, records; `FIELDS`) as `plain` values;
the whole list marshalled and zlib-compressed. Decoding needs the image's stored packages (inventories.py
`InventoryReader.load`); a finding whose package the inventory no longer holds (the image was stored again
since) makes the state unusable (None), and the rescan then matches the image whole.

Writes are compare-and-set on `rev`: `save_in` writes only over the row it read, so two rescans at once
record (and notify) each change once — the second finds the row moved and leaves it.
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from hullscan.model.findings import Finding, Location
from hullscan.model.inventory import Package
from hullscan.record import record
from hullscan.state import plain
from hullscan.state.models import RescanState

VERSION = 1
_SKIP = ("package", "locations", "risk", "vex", "reachability", "inherited", "origin", "title", "references", "details")
"""Finding fields not kept: the package (named by key), what the policy stage and reachability add, and the
descriptive ones nothing compared or judged reads (a finding's title, references, match details): a state
is 10,000 images' findings, and these are most of a finding's bytes."""
FIELDS = tuple(f for f in Finding.__record_fields__ if f not in _SKIP)  # type: ignore[attr-defined]
_CHUNK = 500


@record(frozen=True)
class State:
    """One image's rescan state as read."""

    image_id: int
    generation: int | None
    judged_on: str
    verdict: str | None
    findings: bytes
    rev: int


def package_key(p: Package) -> tuple[str, ...]:
    """A package's identity within one stored inventory (the same after a store and a load)."""
    return (p.type, p.name, p.version, p.arch, p.purl, p.paths[0] if p.paths else "",
            p.layer.diff_id if p.layer is not None else "")


def encode_findings(findings: Iterable[Finding]) -> bytes:
    rows = [(package_key(f.package), [package_key(loc.package) for loc in f.locations],
             {n: plain.encode(getattr(f, n)) for n in FIELDS}) for f in findings]
    return zlib.compress(marshal.dumps((VERSION, rows), 4), 6)


def decode_findings(blob: bytes, packages: Sequence[Package]) -> list[Finding] | None:
    """The findings `encode_findings` kept, on the inventory's `packages`; None when the blob is not one we
    wrote or names a package the inventory does not hold."""
    from hullscan.cache.codec import CLASSES

    try:
        version, rows = marshal.loads(zlib.decompress(blob))
    except (ValueError, TypeError, EOFError, zlib.error):
        return None
    if version != VERSION:
        return None
    by: dict[tuple[str, ...], Package] = {}
    for p in packages:
        by.setdefault(package_key(p), p)
    out = []
    try:
        for key, locs, fields in rows:
            pkg = by.get(tuple(key))
            places = [by.get(tuple(k)) for k in locs]
            if pkg is None or any(p is None for p in places):
                return None
            values = {"title": "", "references": (), **{n: plain.decode(v, CLASSES) for n, v in fields.items() if n in FIELDS}}
            out.append(Finding(**values, package=pkg, locations=tuple(Location(p) for p in places if p is not None),
                               inherited=pkg.inherited))
    except (ValueError, TypeError, KeyError):
        return None
    return out


def finding_ids(findings: Iterable[Finding]) -> str:
    """The `ids` column: every id the findings go by, sorted, space-separated."""
    return " ".join(sorted({i for f in findings for i in f.ids}))


def holding_ids(conn: Connection, ids: Iterable[str]) -> set[int]:
    """Images whose state has a finding going by any of `ids`."""
    wanted = set(ids)
    if not wanted:
        return set()
    return {i for i, text in conn.execute(select(RescanState.image_id, RescanState.ids)) if not wanted.isdisjoint(text.split())}


def read(conn: Connection, image_ids: Sequence[int]) -> dict[int, State]:
    out: dict[int, State] = {}
    t = RescanState
    for i in range(0, len(image_ids), _CHUNK):
        q = select(t.image_id, t.generation, t.judged_on, t.verdict, t.findings, t.rev).where(
            t.image_id.in_(image_ids[i:i + _CHUNK]))
        for row in conn.execute(q):
            out[row.image_id] = State(row.image_id, row.generation, row.judged_on, row.verdict, row.findings, row.rev)
    return out


def positions(conn: Connection) -> dict[int, tuple[int | None, str]]:
    """image id → (the generation its state was matched at (None: unknown), the day it was judged); images
    without a state are absent."""
    t = RescanState
    return {i: (g, j) for i, g, j in conn.execute(select(t.image_id, t.generation, t.judged_on))}


def baseline_in(conn: Connection, image_id: int, findings: Sequence[Finding], judged_on: str, now: str) -> None:
    """The `--store` scan's findings as the image's state (replacing any): generation unknown, not judged."""
    conn.execute(delete(RescanState).where(RescanState.image_id == image_id))
    conn.execute(insert(RescanState).values(image_id=image_id, generation=None, judged_on=judged_on, verdict=None,
                                            finding_count=len(findings), findings=encode_findings(findings),
                                            ids=finding_ids(findings), rev=0, updated_at=now))


def save_in(conn: Connection, image_id: int, rev: int | None, *, generation: int, judged_on: str, verdict: str,
            findings: Sequence[Finding], now: str) -> bool:
    """Replace the state read at `rev` (None: there was none); False, writing nothing, when another writer
    changed it since (or created it)."""
    values: dict[str, Any] = {"generation": generation, "judged_on": judged_on, "verdict": verdict,
                              "finding_count": len(findings), "findings": encode_findings(findings),
                              "ids": finding_ids(findings), "updated_at": now}
    if rev is None:
        if conn.execute(select(RescanState.image_id).where(RescanState.image_id == image_id)).first() is not None:
            return False
        conn.execute(insert(RescanState).values(image_id=image_id, rev=0, **values))
        return True
    done = conn.execute(update(RescanState).where(RescanState.image_id == image_id, RescanState.rev == rev)
                        .values(rev=rev + 1, **values))
    return bool(done.rowcount)


def advance_in(conn: Connection, image_ids: Sequence[int], since: int, generation: int, now: str) -> int:
    """Images the changes since `since` do not touch: their state holds at `generation` too (only where it
    is still at `since`). How many moved."""
    moved = 0
    t = RescanState
    for i in range(0, len(image_ids), _CHUNK):
        done = conn.execute(update(t).where(t.image_id.in_(image_ids[i:i + _CHUNK]), t.generation == since)
                            .values(generation=generation, rev=t.rev + 1, updated_at=now))
        moved += int(done.rowcount or 0)
    return moved
