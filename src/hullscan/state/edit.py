"""Changing the base image catalog: add (idempotent), remove, replace — each one transaction of the
state store, which bumps the catalog's generation when something changed (state/models.py).

An entry is one image under one repository name. The same image added again (same manifest digest, or
the same config digest when one side has no manifest digest: a `docker save` of a pulled image) is the
same entry: its tags are updated, its inventory refreshed. A tag names one image per repository and
platform: given to another image, it moves (as a registry does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from hullscan.errors import InputError
from hullscan.model.report import Report
from hullscan.state.catalog import chain_ids, platform_text
from hullscan.state.models import BaseEntry, BaseLayer, BasePackage, BaseTag, CatalogState
from hullscan.state.names import split_name
from hullscan.state.store import StateStore

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class PackageRow:
    """A package of a base's inventory, as the catalog keeps it."""

    type: str
    ecosystem: str
    name: str
    version: str
    arch: str = ""
    source_name: str = ""
    source_version: str = ""
    purl: str = ""


@dataclass(frozen=True)
class NewBase:
    """An image to catalogue: what `add` needs, from a scan report (`from_report`) or a bundle."""

    name: str
    """Repository in short form (state/names.py)."""
    tags: tuple[str, ...]
    manifest_digest: str
    config_digest: str
    os: str
    architecture: str
    variant: str
    created: str | None
    os_id: str
    os_version: str
    os_release: str
    diff_ids: tuple[str, ...]
    packages: tuple[PackageRow, ...]

    @property
    def platform(self) -> str:
        return platform_text(self.os, self.architecture, self.variant)

    def check(self, where: str) -> None:
        """A base the catalog can hold, else an InputError naming what is wrong."""
        if not self.diff_ids:
            raise InputError(f"{where}: has no layers (a base image needs at least one)")
        for what, value in (("config digest", self.config_digest), *(("diff_id", d) for d in self.diff_ids)):
            if not DIGEST_RE.match(value):
                raise InputError(f"{where}: {what} {value!r} is not sha256:<64 hex>")
        if self.manifest_digest and not DIGEST_RE.match(self.manifest_digest):
            raise InputError(f"{where}: manifest digest {self.manifest_digest!r} is not sha256:<64 hex>")
        repo, tag, digest = split_name(self.name, where)
        if repo != self.name or tag or digest:
            raise InputError(f"{where}: name {self.name!r} is not a repository in short form ({repo!r})")
        for t in self.tags:
            if not TAG_RE.match(t):
                raise InputError(f"{where}: invalid tag {t!r}")


@dataclass(frozen=True)
class Added:
    entry_id: int
    reference: str
    new: bool
    """False: the image was catalogued already (tags and inventory updated)."""
    changed: bool


def from_report(report: Report, name: str, tags: Sequence[str]) -> NewBase:
    """The catalog's view of a scanned image (no vulnerability matching needed: the inventory only)."""
    cfg, os_info = report.config, report.os
    return NewBase(
        name=name, tags=tuple(dict.fromkeys(tags)), manifest_digest=report.target.manifest_digest,
        config_digest=report.target.config_digest, os=cfg.os, architecture=cfg.architecture, variant=cfg.variant,
        created=cfg.created or None, os_id=os_info.family if os_info else "", os_version=os_info.version if os_info else "",
        os_release=os_info.release if os_info else "", diff_ids=tuple(layer.diff_id for layer in report.layers),
        packages=tuple(sorted({PackageRow(p.type, p.ecosystem, p.name, p.version, p.arch, p.source_name, p.source_version,
                                          p.purl) for p in report.packages}, key=_pkg_key)),
    )


def add(store: StateStore, bases: Sequence[NewBase], *, replace_all: bool = False) -> list[Added]:
    """Catalogue `bases` in one transaction (all or none); `replace_all` first empties the catalog."""
    for b in bases:
        b.check(f"base {b.name}")
    now = _now()
    with store.write() as conn:
        changed = False
        if replace_all:
            changed = _clear(conn)
        done = [_add_one(conn, b, now) for b in bases]
        if changed or any(a.changed for a in done):
            _bump(conn)
    return done


def remove(store: StateStore, selector: str) -> list[str]:
    """Remove by `NAME:TAG` (untags; an entry left with no tag goes), `NAME` (every entry of the
    repository), `NAME@DIGEST` or a bare manifest or config digest. Returns what was done, one line each;
    nothing matching is an InputError (exit 2)."""
    done: list[str] = []
    with store.write() as conn:
        if DIGEST_RE.match(selector):
            named = conn.execute(select(BaseEntry.id, BaseEntry.name).where(
                or_(BaseEntry.manifest_digest == selector, BaseEntry.config_digest == selector))).all()
            done += [_delete_entry(conn, i, f"{n}@{selector}") for i, n in named]
        else:
            repo, tag, digest = split_name(selector, "base")
            if digest:
                rows = conn.execute(select(BaseEntry.id).where(BaseEntry.name == repo, or_(
                    BaseEntry.manifest_digest == digest, BaseEntry.config_digest == digest))).all()
                done += [_delete_entry(conn, i, f"{repo}@{digest}") for (i,) in rows]
            elif tag:
                for entry_id, platform in conn.execute(select(BaseTag.entry_id, BaseTag.platform).where(
                        BaseTag.name == repo, BaseTag.tag == tag)).all():
                    conn.execute(delete(BaseTag).where(BaseTag.name == repo, BaseTag.platform == platform, BaseTag.tag == tag))
                    left = conn.execute(select(func.count()).select_from(BaseTag).where(BaseTag.entry_id == entry_id)).scalar()
                    done.append(_delete_entry(conn, entry_id, f"{repo}:{tag} ({platform})") if not left
                                else f"untagged {repo}:{tag} ({platform})")
            else:
                rows = conn.execute(select(BaseEntry.id).where(BaseEntry.name == repo)).all()
                done += [_delete_entry(conn, i, f"{repo} (entry {i})") for (i,) in rows]
        if not done:
            raise InputError(f"no catalogued base matches {selector!r} (see `hullscan base list`)")
        _bump(conn)
    return done


def _counts(packages: tuple[PackageRow, ...]) -> dict[str, int]:
    """The entry's package counts "similar" ranks by (models.BaseEntry)."""
    return {"package_keys": len({(p.ecosystem, p.name, p.version) for p in packages}), "package_rows": len(packages)}


def generation(conn: Connection) -> int:
    return int(conn.execute(select(CatalogState.generation).where(CatalogState.id == 1)).scalar_one())


def _add_one(conn: Connection, b: NewBase, now: str) -> Added:
    key = b.manifest_digest or b.config_digest
    if b.manifest_digest:  # known by its manifest, or an entry of the same config that had none
        same = or_(BaseEntry.image_key == key, and_(BaseEntry.config_digest == b.config_digest, BaseEntry.manifest_digest == ""))
    else:  # a `docker save`: any entry of the same config
        same = BaseEntry.config_digest == b.config_digest
    found = conn.execute(select(BaseEntry.id, BaseEntry.manifest_digest).where(BaseEntry.name == b.name, same)
                         .order_by(BaseEntry.id)).first()
    new = found is None
    changed = new
    if found is None:
        entry_id = int(conn.execute(insert(BaseEntry).values(
            name=b.name, image_key=key, manifest_digest=b.manifest_digest, config_digest=b.config_digest, os=b.os,
            architecture=b.architecture, variant=b.variant, created=b.created, os_id=b.os_id, os_version=b.os_version,
            os_release=b.os_release, layer_count=len(b.diff_ids), top_chain_id=chain_ids(b.diff_ids)[-1],
            added_at=now, updated_at=now, **_counts(b.packages)).returning(BaseEntry.id)).scalar_one())
        conn.execute(insert(BaseLayer), [{"entry_id": entry_id, "idx": i, "diff_id": d, "chain_id": c}
                                         for i, (d, c) in enumerate(zip(b.diff_ids, chain_ids(b.diff_ids), strict=True))])
    else:
        entry_id = found.id
        values = {"updated_at": now}
        if not found.manifest_digest and b.manifest_digest:  # the same image, now known by its manifest too
            values |= {"manifest_digest": b.manifest_digest, "image_key": b.manifest_digest}
            changed = True
        conn.execute(update(BaseEntry).where(BaseEntry.id == entry_id).values(**values))
        old = {PackageRow(*r) for r in conn.execute(select(
            BasePackage.type, BasePackage.ecosystem, BasePackage.name, BasePackage.version, BasePackage.arch,
            BasePackage.source_name, BasePackage.source_version, BasePackage.purl).where(BasePackage.entry_id == entry_id))}
        if old != set(b.packages):  # a newer hullscan's analyzers found more (or other) packages
            conn.execute(delete(BasePackage).where(BasePackage.entry_id == entry_id))
            conn.execute(update(BaseEntry).where(BaseEntry.id == entry_id).values(**_counts(b.packages)))
            changed = True
        else:
            b = replace(b, packages=())  # nothing to write
    if b.packages:
        conn.execute(insert(BasePackage), [{"entry_id": entry_id, **asdict(p)} for p in b.packages])
    for tag in b.tags:
        holder = conn.execute(select(BaseTag.entry_id).where(
            BaseTag.name == b.name, BaseTag.platform == b.platform, BaseTag.tag == tag)).scalar()
        if holder == entry_id:
            continue
        if holder is not None:  # the tag moves to this image
            conn.execute(delete(BaseTag).where(BaseTag.name == b.name, BaseTag.platform == b.platform, BaseTag.tag == tag))
        conn.execute(insert(BaseTag).values(name=b.name, platform=b.platform, tag=tag, entry_id=entry_id))
        changed = True
    ref = f"{b.name}:{b.tags[0]}" if b.tags else f"{b.name}@{key}"
    return Added(entry_id, ref, new, changed)


def _delete_entry(conn: Connection, entry_id: int, what: str) -> str:
    for table in (BaseTag, BaseLayer, BasePackage):
        conn.execute(delete(table).where(table.entry_id == entry_id))
    conn.execute(delete(BaseEntry).where(BaseEntry.id == entry_id))
    return f"removed {what}"


def _clear(conn: Connection) -> bool:
    had = conn.execute(select(func.count()).select_from(BaseEntry)).scalar()
    for table in (BaseTag, BaseLayer, BasePackage, BaseEntry):
        conn.execute(delete(table))
    return bool(had)


def _bump(conn: Connection) -> None:
    conn.execute(update(CatalogState).where(CatalogState.id == 1).values(generation=CatalogState.generation + 1))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pkg_key(p: PackageRow) -> tuple[str, ...]:
    return (p.type, p.ecosystem, p.name, p.version, p.arch, p.source_name, p.source_version, p.purl)
