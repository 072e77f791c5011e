"""Stored inventories (issue #23): what `hullscan image --store` keeps of a scanned image, so that it can be
matched again against a newer vulnerability DB (`stored:sha256:…` targets, `hullscan rescan`) without
reading the image.

What is stored (models.py): one `stored_image` per image, keyed by its manifest digest, else its config
digest, with its names, repository and registry, first/last seen, the policy it was scanned with (digest
and document), and a document holding its Report without packages or findings — target, layers (diff_ids in
order), config and secrets as the scan masked them (never a raw secret), OS, base, secret and config
findings, removed-package history, warnings. Its packages are stored per layer diff_id, written once and
shared: an image's *view* of a layer is the packages it says that layer introduced (still installed or
later removed); the first image stored with a layer writes that view, and every later image holding the
layer keeps only what differs from it — positions of rows it does not have (`hidden`) and packages the
shared row lacks (its own pseudo layer `own:<key>`, which also holds packages without a layer). Loading
an image therefore gives exactly the packages its scan reported, while 10,000 images on one base hold one
copy of the base's packages. A package's `files` (the OS package's file list, used only while scanning to
mark `owned_by`) is not stored; every other Package field is, matching and reports read them.

Read API (what `hullscan stored`, `stored:` targets and the rescan use):

- `summaries(store, repository=None, keys=None)` → `StoredSummary` rows (all images, one repository's,
  or the given image keys), most recently seen first; `resolve(store, text)` turns `stored:sha256:…`,
  `sha256:…` or a unique prefix of a digest into an image key (InputError, exit 2, when none or several).
- `InventoryReader(store)`: `.load(key)` → `StoredInventory` (`summary`, a Report-ready `report` with its
  packages and no findings, `policy_document` and `policy(classes)`). Decoded shared layers are kept
  (`cache_layers` of them, LRU) so a pass over many images on a few bases decodes each base once.
  `load(store, key)` is the one-image shortcut.
- `holding(store, pairs)` → the image keys of stored images holding any of these (ecosystem, name) pairs,
  by package name or source package name (distro advisories are keyed by source package): what a rescan
  re-matches after a DB change. A superset: an image whose later layer removed the package is included, and
  the index keys the ecosystem without its release (`index_key`). It reads the few layers holding a pair,
  then the images holding those layers (layers have integer ids: the index is 4 bytes a row, not a diff_id).

Write API: `store_report(store, report, policy)` (one transaction; the same key again updates last seen,
names, document and package references, never duplicates; the scan's findings become the image's rescan
state, state/rescans.py), `remove(store, keys)`, `prune(store, ...)`.
Layers no image references any more are deleted with the last image holding them.
"""

from __future__ import annotations

import json
import marshal
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, tuple_, update

from hullscan.digests import sha256
from hullscan.errors import InputError, UsageError
from hullscan.model.inventory import LayerRef, Package
from hullscan.model.report import Report, ScanStats
from hullscan.record import record, replace
from hullscan.state import plain, rescans
from hullscan.state.models import (
    StoredImage,
    StoredImageLayer,
    StoredImageName,
    StoredLayer,
    StoredLayerPackage,
)
from hullscan.state.store import StateStore

DOC_VERSION = 1
"""The document's own format version (a newer one is refused with exit 2, not misread)."""
OWN = "own:"
_ROW_FIELDS = tuple(f for f in Package.__record_fields__ if f not in ("layer", "inherited", "files"))  # type: ignore[attr-defined]
"""A shared layer row's columns: the Package fields that do not depend on the image holding the layer
(`layer` and `inherited` are the image's: rebuilt from its layer list on load)."""
_CHUNK = 500


@record(frozen=True)
class StoredSummary:
    """One stored image as lists show it."""

    key: str
    """The image key: manifest digest, else config digest."""
    manifest_digest: str
    config_digest: str
    repository: str
    registry: str
    names: tuple[str, ...]
    """`repository:tag` (or `repository@digest`) it was stored under, most recent first."""
    first_seen: str
    last_seen: str
    policy_digest: str
    os: str
    package_count: int
    layer_count: int


@record(frozen=True)
class StoredInventory:
    """One stored image, ready to be matched or reported."""

    summary: StoredSummary
    report: Report
    """Its Report as scanned, with its packages, without vulnerabilities, DB, verdict or stats."""
    policy_document: Any
    """The policy it was scanned with as `plain.encode` stored it (None: none recorded)."""

    def policy(self, classes: dict[str, type]) -> Any:
        """The policy rebuilt from its record classes (the caller's: state does not import policy/):
        `{c.__name__: c for c in (Policy, Rules, LicenseRule, BaseImageRule, Exception_)}`."""
        return None if self.policy_document is None else plain.decode(self.policy_document, classes)


@record(frozen=True)
class Stored:
    """What `store_report` did."""

    key: str
    new: bool
    """False when the image was stored before (its last seen and names were updated)."""
    layers_written: int
    layers_shared: int
    own_packages: int
    """Packages kept in the image's own pseudo layer (no layer, or differing from the shared copy)."""


# -- writing -------------------------------------------------------------------------------------------


def image_key(report: Report) -> str:
    """The key an image is stored under; InputError (exit 2) when the scan gave it no digest."""
    key = report.target.manifest_digest or report.target.config_digest
    if not key:
        raise InputError(f"{report.target.input}: has no manifest or config digest to be stored under "
                         "(a directory or an SBOM without image digests)")
    return key


def store_report(store: StateStore, report: Report, policy: Any = None, *, now: datetime | None = None) -> Stored:
    """Store a scanned image's inventory (module docstring) in one write transaction."""
    from hullscan.cache.store import WARNING_PREFIX

    key = image_key(report)
    seen = _iso(now)
    repository, registry, names = _names(report)
    packages = list(report.packages)
    policy_doc = plain.encode(policy) if policy is not None else None
    policy_digest = "" if policy_doc is None else "sha256:" + sha256(_canonical(policy_doc).encode()).hexdigest()
    # the views of its layers: what each layer introduced, still installed (True) or removed later (False)
    layer_of = {li.diff_id: li for li in reversed(report.layers) if li.diff_id}  # the first index of a diff_id
    views: dict[str, list[tuple[str, tuple[Any, ...], bool, Package]]] = {d: [] for d in layer_of}
    own: list[Package] = []
    for pkg, installed in [*((p, True) for p in packages), *((r.package, False) for r in report.history)]:
        ref = pkg.layer
        li = layer_of.get(ref.diff_id) if ref is not None else None
        if li is None or ref != LayerRef(li.index, li.diff_id, li.created_by, li.base) or pkg.inherited != li.base:
            if installed:
                own.append(pkg)
            continue
        row = _row(pkg)
        views[li.diff_id].append((repr(row), row, installed, pkg))
    slim = replace(report, packages=(), vulnerabilities=(), db=None, stats=ScanStats(), verdict=None, suppressed=(),
                   display=None, base_advice=None,
                   warnings=tuple(w for w in report.warnings if not w.message.startswith(WARNING_PREFIX)))
    with store.write() as conn:
        hidden: dict[str, list[int]] = {}
        layer_ids: dict[str, int] = {}
        written = shared = 0
        for diff_id, view in views.items():
            view.sort(key=lambda v: v[0])
            digest = "sha256:" + sha256("\n".join(v[0] for v in view).encode()).hexdigest()
            existing = conn.execute(select(StoredLayer.id, StoredLayer.content_digest)
                                    .where(StoredLayer.diff_id == diff_id)).first()
            if existing is None or existing[1] == digest:
                if existing is None:
                    layer_ids[diff_id] = _write_layer(conn, diff_id, digest, [v[1] for v in view])
                    written += 1
                else:
                    layer_ids[diff_id] = existing[0]
                    shared += 1
                gone = [i for i, v in enumerate(view) if not v[2]]
            else:  # another image wrote this layer differently: keep what matches, hide the rest, own the missing
                layer_ids[diff_id] = existing[0]
                shared += 1
                wanted = Counter(v[0] for v in view if v[2])
                gone = []
                blob = conn.execute(select(StoredLayer.packages).where(StoredLayer.id == existing[0])).scalar_one()
                for i, row in enumerate(_rows(blob)):
                    k = repr(row)
                    if wanted[k] > 0:
                        wanted[k] -= 1
                    else:
                        gone.append(i)
                for k, _r, installed, pkg in view:  # what the shared row lacks is the image's own
                    if installed and wanted[k] > 0:
                        wanted[k] -= 1
                        own.append(pkg)
            if gone:
                hidden[diff_id] = gone
        document = zlib.compress(marshal.dumps({"v": DOC_VERSION, "report": plain.encode(slim), "hidden": hidden,
                                                "policy": policy_doc}, 4), 6)
        image_id = conn.execute(select(StoredImage.id).where(StoredImage.image_key == key)).scalar()
        values = {"manifest_digest": report.target.manifest_digest, "config_digest": report.target.config_digest,
                  "repository": repository, "registry_host": registry, "last_seen": seen, "policy_digest": policy_digest,
                  "os": _os_text(report), "package_count": len(packages), "document": document}
        new = image_id is None
        if new:
            image_id = conn.execute(insert(StoredImage).values(image_key=key, first_seen=seen, **values)
                                    .returning(StoredImage.id)).scalar_one()
        else:
            if not repository:  # a later scan that names no repository keeps the one it had
                values.pop("repository")
                values.pop("registry_host")
            conn.execute(update(StoredImage).where(StoredImage.id == image_id).values(**values))
            conn.execute(delete(StoredImageLayer).where(StoredImageLayer.image_id == image_id))
            conn.execute(delete(StoredLayer).where(StoredLayer.diff_id == OWN + key))
        own_rows = [replace(p, files=()) for p in own]
        refs = [{"image_id": image_id, "idx": li.index, "layer_id": layer_ids[li.diff_id]}
                for li in report.layers if li.diff_id]
        if own_rows:
            blob = zlib.compress(marshal.dumps(plain.encode(tuple(own_rows)), 4), 6)
            own_id = conn.execute(insert(StoredLayer).values(diff_id=OWN + key, content_digest="",
                                                             package_count=len(own_rows), packages=blob)
                                  .returning(StoredLayer.id)).scalar_one()
            _index(conn, own_id, own_rows)
            refs.append({"image_id": image_id, "idx": -1, "layer_id": own_id})
        if refs:
            conn.execute(insert(StoredImageLayer), refs)
        # the scan's findings: what the first `hullscan rescan` compares with (state/rescans.py)
        raw = [*report.vulnerabilities, *(x.finding for x in report.suppressed if x.kind == "vulnerability")]
        rescans.baseline_in(conn, image_id, raw, seen[:10], seen)  # type: ignore[arg-type]  # kind says Finding
        for name, repo, tag in names:
            had = conn.execute(select(StoredImageName.name).where(StoredImageName.image_id == image_id,
                                                                  StoredImageName.name == name)).first()
            if had is None:
                conn.execute(insert(StoredImageName).values(image_id=image_id, name=name, repository=repo, tag=tag,
                                                            last_seen=seen))
            else:
                conn.execute(update(StoredImageName).where(StoredImageName.image_id == image_id,
                                                           StoredImageName.name == name).values(last_seen=seen))
    return Stored(key, new, written, shared, len(own_rows))


def _row(pkg: Package) -> tuple[Any, ...]:
    """A package as a shared layer's row: its `_ROW_FIELDS` values, plain-encoded where they are not plain
    already. Its repr is the row's identity (the same package scanned again gives the same repr: the
    analyzers build `extra` in a fixed order; were it not, the image would only keep its own copy)."""
    state = pkg.__dict__
    out = []
    for name in _ROW_FIELDS:
        value = state[name]
        kind = type(value)
        if kind is str or kind is bool or (kind is tuple and (not value or (type(value[0]) is str and value[0][:1] != "@"
                                                                             and all(type(v) is str for v in value)))):
            out.append(value)
        else:
            out.append(plain.encode(value))
    return tuple(out)


def _write_layer(conn: Connection, diff_id: str, digest: str, rows: list[tuple[Any, ...]]) -> int:
    """Insert a shared layer and its index rows; its id."""
    blob = zlib.compress(marshal.dumps((_ROW_FIELDS, rows), 4), 6)
    layer_id: int = conn.execute(insert(StoredLayer).values(diff_id=diff_id, content_digest=digest,
                                                            package_count=len(rows), packages=blob)
                                 .returning(StoredLayer.id)).scalar_one()
    at = {f: i for i, f in enumerate(_ROW_FIELDS)}
    eco, name, source = at["ecosystem"], at["name"], at["source_name"]
    _insert_index(conn, layer_id, {index_key(r[eco], r[name]) for r in rows}
                  | {index_key(r[eco], r[source]) for r in rows if r[source]})
    return layer_id


def _index(conn: Connection, layer_id: int, packages: Sequence[Package]) -> None:
    _insert_index(conn, layer_id, {index_key(p.ecosystem, p.name) for p in packages}
                  | {index_key(p.ecosystem, p.source_name) for p in packages if p.source_name})


def _insert_index(conn: Connection, layer_id: int, keys: set[tuple[str, str]]) -> None:
    if keys:
        conn.execute(insert(StoredLayerPackage), [{"ecosystem": e, "name": n, "layer_id": layer_id}
                                                  for e, n in sorted(keys)])


def index_key(ecosystem: str, name: str) -> tuple[str, str]:
    """How the package index spells an (ecosystem, name): the ecosystem without its release (`Debian:12`,
    `Debian:12.4` and the DB's `Debian:12` all read `Debian`; `Alpine:3.19` and `Alpine:v3.19` alike), the
    name as the vulnerability DB stores it (PEP 503 for PyPI) — so a change-log pair finds every image whose
    package a query would read it for (a superset: another release's change finds it too)."""
    from hullscan.vulndb.ecosystems import base_ecosystem, canonical_ecosystem, normalize_name

    eco = canonical_ecosystem(ecosystem)
    return base_ecosystem(eco), normalize_name(eco, name)


def _canonical(value: Any) -> str:
    """A value's canonical text: what a policy's digest is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _os_text(report: Report) -> str:
    os = report.os
    return f"{os.family} {os.version}".strip()[:160] if os is not None else ""


def _names(report: Report) -> tuple[str, str, list[tuple[str, str, str]]]:
    """(repository, registry, [(name, repository, tag)]) of the image as its target names it, in the
    catalog's short form (state/names.py); ('', '', []) when it names no repository."""
    from hullscan.image.registry_ref import parse_reference
    from hullscan.state.names import default_name, split_name

    found = default_name(report.target.repo_tags, report.target.name)
    if found is None:
        return "", "", []
    repository, tags = found
    try:
        registry = parse_reference(repository).registry
    except InputError:
        registry = ""
    names = [(f"{repository}:{t}"[:512], repository, t) for t in tags]
    for ref in report.target.repo_digests:
        try:
            repo, _tag, digest = split_name(ref)
        except InputError:
            continue
        if digest:
            names.append((f"{repo}@{digest}"[:512], repo, ""))
    if not names and report.target.manifest_digest:
        names.append((f"{repository}@{report.target.manifest_digest}"[:512], repository, ""))
    return repository, registry, names


# -- reading -------------------------------------------------------------------------------------------


def _rows(blob: bytes) -> list[tuple[Any, ...]]:
    """A shared layer's rows in the current column order (a column a later hullscan added is missing from
    an older row: the Package default fills it on load). ValueError when the blob is not one we wrote."""
    try:
        header, rows = marshal.loads(zlib.decompress(blob))
        if tuple(header) == _ROW_FIELDS:
            out = [tuple(r) for r in rows]
        else:
            at = {name: i for i, name in enumerate(header)}
            out = [tuple(r[at[f]] if f in at else _MISSING for f in _ROW_FIELDS) for r in rows]
    except (ValueError, TypeError, IndexError, EOFError, zlib.error) as err:
        raise ValueError(f"damaged layer ({type(err).__name__})") from None
    if any(len(r) != len(_ROW_FIELDS) for r in out):
        raise ValueError("damaged layer (row length)")
    return out


_MISSING = object()


def _package(row: tuple[Any, ...], layer: LayerRef, inherited: bool | None) -> Package:
    kwargs = {f: (plain.decode(v, {}) if type(v) in (tuple, dict) else v)
              for f, v in zip(_ROW_FIELDS, row, strict=True) if v is not _MISSING}
    return Package(**kwargs, layer=layer, inherited=inherited)


def _model_classes() -> dict[str, type]:
    from hullscan.cache.codec import CLASSES

    return CLASSES


class InventoryReader:
    """Loads stored images, keeping decoded shared layers between them (module docstring)."""

    def __init__(self, store: StateStore, cache_layers: int = 64) -> None:
        self.store = store
        self._limit = cache_layers
        self._layers: OrderedDict[tuple[str, LayerRef, bool | None], list[Package]] = OrderedDict()

    def load(self, key: str) -> StoredInventory:
        """One stored image by its key (`resolve` a user's text first); InputError when not stored."""
        with self.store.read() as conn:
            row = conn.execute(select(StoredImage.__table__).where(StoredImage.image_key == key)).first()
            if row is None:
                raise InputError(f"stored:{key}: no stored image has this digest")
            names = _names_of(conn, [row.id]).get(row.id, ())
            try:
                doc = marshal.loads(zlib.decompress(row.document))
            except (ValueError, TypeError, EOFError, zlib.error):
                raise InputError(f"stored:{key}: damaged stored document") from None
            if not isinstance(doc, dict) or doc.get("v") != DOC_VERSION:
                raise InputError(f"stored:{key}: stored by another hullscan (document version {doc.get('v')!r})"
                                 if isinstance(doc, dict) else f"stored:{key}: damaged stored document")
            try:
                report: Report = plain.decode(doc["report"], _model_classes())
            except ValueError as err:
                raise InputError(f"stored:{key}: damaged stored document ({err})") from None
            hidden: dict[str, list[int]] = doc.get("hidden") or {}
            packages: list[Package] = []
            first = {}
            for li in report.layers:
                if li.diff_id and li.diff_id not in first:
                    first[li.diff_id] = li
            wanted = [(d, LayerRef(li.index, li.diff_id, li.created_by, li.base), li.base) for d, li in first.items()]
            missing = [d for d, ref, inh in wanted if (d, ref, inh) not in self._layers]
            blobs: dict[str, bytes] = {}
            for i in range(0, len(missing), _CHUNK):
                for diff_id, blob in conn.execute(select(StoredLayer.diff_id, StoredLayer.packages)
                                                  .where(StoredLayer.diff_id.in_(missing[i:i + _CHUNK]))):
                    blobs[diff_id] = blob
            for diff_id, ref, inh in wanted:
                try:
                    cached = self._layer(diff_id, ref, inh, blobs)
                except (ValueError, TypeError) as err:
                    raise InputError(f"stored:{key}: layer {diff_id}: {err}") from None
                skip = set(hidden.get(diff_id, ()))
                packages.extend(p for i, p in enumerate(cached) if i not in skip)
            own = conn.execute(select(StoredLayer.packages).where(StoredLayer.diff_id == OWN + key)).scalar()
            if own is not None:
                try:
                    packages.extend(plain.decode(marshal.loads(zlib.decompress(own)), _model_classes()))
                except (ValueError, TypeError, EOFError, zlib.error) as err:
                    raise InputError(f"stored:{key}: its own packages are damaged ({err})") from None
        packages.sort(key=_pkg_sort)
        return StoredInventory(_summary(row, names, len(report.layers)), replace(report, packages=packages),
                               doc.get("policy"))

    def _layer(self, diff_id: str, ref: LayerRef, inherited: bool | None, blobs: dict[str, bytes]) -> list[Package]:
        key = (diff_id, ref, inherited)
        found = self._layers.get(key)
        if found is not None:
            self._layers.move_to_end(key)
            return found
        blob = blobs.get(diff_id)
        made = [] if blob is None else [_package(r, ref, inherited) for r in _rows(blob)]
        if self._limit:
            self._layers[key] = made
            if len(self._layers) > self._limit:
                self._layers.popitem(last=False)
        return made


def load(store: StateStore, key: str) -> StoredInventory:
    return InventoryReader(store, cache_layers=0).load(key)


def _pkg_sort(p: Package) -> tuple[str, ...]:
    """The scan's package order (scan/service.py), ties by arch and purl."""
    return (p.type, p.name, p.version, p.paths[0] if p.paths else "", p.arch, p.purl)


def _names_of(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {}
    for i in range(0, len(ids), _CHUNK):
        q = (select(StoredImageName.image_id, StoredImageName.name).where(StoredImageName.image_id.in_(ids[i:i + _CHUNK]))
             .order_by(StoredImageName.last_seen.desc(), StoredImageName.name))
        for image_id, name in conn.execute(q):
            out.setdefault(image_id, []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def _summary(row: Any, names: tuple[str, ...], layers: int | None = None) -> StoredSummary:
    return StoredSummary(key=row.image_key, manifest_digest=row.manifest_digest, config_digest=row.config_digest,
                         repository=row.repository, registry=row.registry_host, names=names, first_seen=row.first_seen,
                         last_seen=row.last_seen, policy_digest=row.policy_digest, os=row.os,
                         package_count=row.package_count, layer_count=layers or 0)


def summaries(store: StateStore, repository: str | None = None, keys: Iterable[str] | None = None) -> list[StoredSummary]:
    """Stored images, most recently seen first: all, those named in `repository` (short form, as lists
    show it), or those with these keys."""
    cols = [c for c in StoredImage.__table__.columns if c.name != "document"]
    layers = (select(func.count()).where(StoredImageLayer.image_id == StoredImage.id, StoredImageLayer.idx >= 0)
              .correlate(StoredImage).scalar_subquery())
    q = select(*cols, layers.label("layers")).order_by(StoredImage.last_seen.desc(), StoredImage.id.desc())
    if repository is not None:
        named = select(StoredImageName.image_id).where(StoredImageName.repository == repository)
        q = q.where((StoredImage.repository == repository) | StoredImage.id.in_(named))
    out: list[StoredSummary] = []
    with store.read() as conn:
        if keys is not None:
            wanted = list(dict.fromkeys(keys))
            rows: list[Any] = []
            for i in range(0, len(wanted), _CHUNK):
                rows += conn.execute(q.where(StoredImage.image_key.in_(wanted[i:i + _CHUNK]))).all()
            rows.sort(key=lambda r: (r.last_seen, r.id), reverse=True)
        else:
            rows = list(conn.execute(q).all())
        names = _names_of(conn, [r.id for r in rows])
        for r in rows:
            out.append(_summary(r, names.get(r.id, ()), r.layers))
    return out


def resolve(store: StateStore, text: str) -> str:
    """The image key `text` names: `stored:sha256:HEX`, `sha256:HEX` or `HEX`, where HEX may be a prefix
    (at least 4 digits) of a manifest or config digest unique among the stored images; a prefix of an
    image's key wins (an OCI layout and a docker save of one image share the config digest)."""
    import re

    raw = text.strip().removeprefix("stored:")
    m = re.fullmatch(r"(?:sha256:)?([0-9a-f]{4,64})", raw)
    if m is None:
        raise UsageError(f"{text}: a stored image is named stored:sha256:HEX (HEX: 4 to 64 hex digits of its digest)")
    prefix = "sha256:" + m.group(1)
    with store.read() as conn:
        q = (select(StoredImage.image_key)
             .where(StoredImage.manifest_digest.startswith(prefix, autoescape=True)
                    | StoredImage.config_digest.startswith(prefix, autoescape=True)).limit(20))
        found = list(conn.execute(q).scalars())
    keyed = [k for k in found if k.startswith(prefix)]  # an image's own key wins over another's config digest
    if keyed:
        found = keyed
    if not found:
        raise InputError(f"{text}: no stored image has this digest (hullscan stored list shows them)")
    if len(found) > 1:
        raise InputError(f"{text}: the prefix names more than one stored image ({', '.join(found)}); give more digits")
    return found[0]


def holding(store: StateStore, pairs: Iterable[tuple[str, str]]) -> set[str]:
    """Image keys of stored images holding any (ecosystem, name) pair (module docstring)."""
    wanted = sorted({index_key(e, n) for e, n in pairs})
    found: set[str] = set()
    with store.read() as conn:
        layers: set[int] = set()
        for i in range(0, len(wanted), _CHUNK):  # the few layers first, then the images holding them
            q = (select(StoredLayerPackage.layer_id).distinct()
                 .where(tuple_(StoredLayerPackage.ecosystem, StoredLayerPackage.name).in_(wanted[i:i + _CHUNK])))
            layers.update(conn.execute(q).scalars())
        ids = sorted(layers)
        for i in range(0, len(ids), _CHUNK):
            held = (select(StoredImage.image_key).distinct()
                    .join(StoredImageLayer, StoredImageLayer.image_id == StoredImage.id)
                    .where(StoredImageLayer.layer_id.in_(ids[i:i + _CHUNK])))
            found.update(conn.execute(held).scalars())
    return found


# -- removing ------------------------------------------------------------------------------------------


def remove(store: StateStore, keys: Iterable[str]) -> int:
    """Delete these images (and the layers no other image holds); how many were stored."""
    wanted = list(dict.fromkeys(keys))
    with store.write() as conn:
        return _delete(conn, wanted)


def _delete(conn: Connection, keys: list[str]) -> int:
    count = 0
    for i in range(0, len(keys), _CHUNK):
        count += conn.execute(delete(StoredImage).where(StoredImage.image_key.in_(keys[i:i + _CHUNK]))).rowcount or 0
    if count:  # layers nobody holds: a shared row with its last image, an image's own pseudo layer
        held = select(StoredImageLayer.layer_id)
        orphans = select(StoredLayer.id).where(StoredLayer.id.not_in(held))
        conn.execute(delete(StoredLayerPackage).where(StoredLayerPackage.layer_id.in_(orphans)))
        conn.execute(delete(StoredLayer).where(StoredLayer.id.not_in(held)))
    return count


def prune(store: StateStore, *, keep_days: float | None, keep_last: int | None,
          now: datetime | None = None) -> list[StoredSummary]:
    """Retention: keep an image seen within `keep_days`, or among the `keep_last` most recently seen of a
    repository it is named in (an unnamed image counts in the repository ''); delete the rest and the
    layers no image holds any more. Returns what was deleted."""
    if keep_days is None and keep_last is None:
        raise UsageError("stored prune: give --keep-days N, --keep-last N or both")
    if (keep_days is not None and keep_days < 0) or (keep_last is not None and keep_last < 0):
        raise UsageError("stored prune: --keep-days and --keep-last are 0 or more")
    cutoff = _iso((now or datetime.now(UTC)) - timedelta(days=keep_days)) if keep_days is not None else None
    with store.write() as conn:
        rows = conn.execute(select(StoredImage.id, StoredImage.image_key, StoredImage.repository, StoredImage.last_seen)
                            .order_by(StoredImage.last_seen.desc(), StoredImage.id.desc())).all()
        repos: dict[int, set[str]] = {r.id: set() for r in rows}
        for image_id, repo in conn.execute(select(StoredImageName.image_id, StoredImageName.repository)):
            repos[image_id].add(repo)
        kept: set[int] = set()
        if keep_last:
            ranked: Counter[str] = Counter()
            for r in rows:  # most recent first
                for repo in repos[r.id] or {r.repository}:
                    ranked[repo] += 1
                    if ranked[repo] <= keep_last:
                        kept.add(r.id)
        if cutoff is not None:
            kept.update(r.id for r in rows if r.last_seen >= cutoff)
        doomed = [r for r in rows if r.id not in kept]
        if not doomed:
            return []
        gone = {r.id for r in doomed}
        full = conn.execute(select(*[c for c in StoredImage.__table__.columns if c.name != "document"])
                            .where(StoredImage.id.in_(list(gone)))).all()
        names = _names_of(conn, list(gone))
        out = sorted((_summary(r, names.get(r.id, ())) for r in full), key=lambda s: s.last_seen, reverse=True)
        _delete(conn, [r.image_key for r in doomed])
    return out
