"""One rescan: which stored images to re-match, re-match them, judge, compare, record (docs/rescan.md).

Selection. Every image's rescan state (state/rescans.py) says the DB generation its findings were matched
at. An image at the current generation needs nothing from the DB. For the others the DB's change log
(`changes_since(generation)`) says what changed: the images holding a changed (ecosystem, package) pair
(inventories.py `holding`) or a finding going by a changed advisory id or KEV/EPSS CVE
(`rescans.holding_ids`) are re-matched — whole, through the batch matcher that matches each distinct
package once — and the rest only have their generation moved. `--full`, a log that cannot say
(`FullRematch`) and an image whose generation is unknown (its `--store` scan's) re-match everything asked.
An image none of that touches is still judged again when an exception of its policy expired since.

Recording. Per batch of images, one write transaction holds each image's new state and its notification
(notify/queue.py `enqueue_in`: its id is the digest of (image key, generation)): a rescan killed between
two batches left whole batches behind, and run again it finds those images at the current generation.
The state is written compare-and-set: an image another rescan recorded first is `skipped` (its change was
recorded and notified once, by that one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from hullscan.delta.compare import compare
from hullscan.delta.gate import crossing
from hullscan.errors import InputError
from hullscan.match.options import MatchOptions
from hullscan.model.findings import Finding
from hullscan.model.inventory import Package
from hullscan.model.report import Report
from hullscan.model.verdict import Verdict
from hullscan.notify.queue import enqueue_in
from hullscan.policy.gate import judge
from hullscan.policy.model import BaseImageRule, Exception_, LicenseRule, Policy, Rules
from hullscan.record import record, replace
from hullscan.rescan.categorize import categorize
from hullscan.rescan.document import change_dict
from hullscan.rescan.match import BatchMatcher
from hullscan.rescan.model import ImageResult, RescanResult
from hullscan.state import rescans
from hullscan.state.inventories import InventoryReader, StoredInventory, holding, index_key
from hullscan.state.models import StoredImage, StoredImageName
from hullscan.state.store import StateStore
from hullscan.vulndb.read import AdvisoryReader, FullRematch

POLICY_CLASSES: dict[str, type] = {c.__name__: c for c in (Policy, Rules, LicenseRule, BaseImageRule, Exception_)}
BATCH = 200
"""Images matched and recorded together (one write transaction)."""


@record(frozen=True)
class _Image:
    id: int
    key: str
    repository: str
    policy_digest: str
    names: tuple[str, ...]


@record(frozen=True)
class _Todo:
    image: _Image
    reason: str
    """`full`, `first`, `changed`, `log: …`, `exception` (judge again only)."""
    since: int | None


def rescan(store: StateStore, db: AdvisoryReader, *, keys: Sequence[str] | None = None, repository: str | None = None,
           policy: Policy | None = None, full: bool = False, threshold: str | None = None, today: date | None = None,
           clock: Callable[[], float] = time.time, match_options: MatchOptions | None = None, batch: int = BATCH,
           progress: Callable[[str], None] | None = None) -> RescanResult:
    """Rescan the stored images `keys` (None: all, or those of `repository`) against `db` (module docstring).
    `policy` replaces each image's stored one; `today` is the policy stage's day (exception expiry)."""
    today = today or datetime.fromtimestamp(clock(), UTC).date()
    generation = db.generation()
    images = _images(store, keys, repository)
    with store.read() as conn:
        states = rescans.positions(conn)
    todo: dict[int, _Todo] = {}
    waiting: dict[int, list[_Image]] = {}  # since -> images the log is asked about
    for im in images:
        g = states.get(im.id, (None, ""))[0]
        if im.id not in states or g is None:
            todo[im.id] = _Todo(im, "first", g)
        elif full:
            todo[im.id] = _Todo(im, "full", g)
        elif g != generation:
            waiting.setdefault(g, []).append(im)
    withdrawn: set[str] = set()
    scope: dict[int, tuple[set[tuple[str, str]], frozenset[str]]] = {}  # since -> (changed index keys, ids)
    reasons: list[str] = []
    advance: dict[int, list[int]] = {}
    for since, group in sorted(waiting.items()):
        changes = db.changes_since(since)
        if isinstance(changes, FullRematch):
            reasons.append(changes.reason)
            todo.update((im.id, _Todo(im, f"log: {changes.reason}", since)) for im in group)
            continue
        withdrawn.update(e.advisory_id for e in db.change_entries(since) if e.kind in ("withdrawn", "removed"))
        held = holding(store, changes.pairs) if changes.pairs else set()
        scope[since] = ({index_key(e, n) for e, n in changes.pairs}, changes.advisories | changes.cves)
        with store.read() as conn:
            by_ids = rescans.holding_ids(conn, changes.advisories | changes.cves)
        for im in group:
            if im.key in held or im.id in by_ids:
                todo[im.id] = _Todo(im, "changed", since)
            else:
                advance.setdefault(since, []).append(im.id)
    reader = InventoryReader(store)
    policies = _Policies(reader, policy)
    for im in images:  # an exception that expired since the last judgement: judge again (no DB change needed)
        if im.id not in todo and im.id in states and states[im.id][0] is not None:
            if policies.expired_between(im, states[im.id][1], today):
                todo[im.id] = _Todo(im, "exception", states[im.id][0])
    matcher = BatchMatcher(db, match_options)
    results: list[ImageResult] = []
    work = sorted(todo.values(), key=lambda t: t.image.id)
    done = 0
    for i in range(0, len(work), batch):
        results += _batch(store, db, reader, matcher, policies, work[i:i + batch], generation, withdrawn, scope,
                          threshold, today, clock)
        done += len(work[i:i + batch])
        if progress is not None:
            progress(f"rescan: {done}/{len(work)} images re-matched")
    now = _iso(clock())
    for since, ids in advance.items():
        with store.write() as conn:
            rescans.advance_in(conn, ids, since, generation, now)
    untouched = sum(len(v) for v in advance.values()) + sum(1 for im in images if im.id not in todo
                                                           and states.get(im.id, (None,))[0] == generation)
    return RescanResult(generation=generation, mode="full" if full or reasons else "incremental",
                        images=tuple(results), selected=len(images), untouched=untouched,
                        full_reasons=tuple(dict.fromkeys(reasons)), threshold=threshold)


def _batch(store: StateStore, db: AdvisoryReader, reader: InventoryReader, matcher: BatchMatcher, policies: _Policies,
           work: list[_Todo], generation: int, withdrawn: set[str],
           scope: dict[int, tuple[set[tuple[str, str]], frozenset[str]]], threshold: str | None, today: date,
           clock: Callable[[], float]) -> list[ImageResult]:
    with store.read() as conn:
        states = rescans.read(conn, [t.image.id for t in work])
    loaded: list[tuple[_Todo, StoredInventory]] = []
    for t in work:
        try:
            loaded.append((t, reader.load(t.image.key)))
        except InputError:
            continue  # removed since it was listed (stored rm, prune), or damaged: nothing to rescan
    olds: list[list[Finding] | None] = []
    for t, inv in loaded:
        st = states.get(t.image.id)
        olds.append(rescans.decode_findings(st.findings, inv.report.packages) if st is not None else None)
    # what each image re-matches: every package; or, when the change log says what changed and the image's
    # previous findings are at hand, only its packages the changes touch (the rest keep their findings)
    asked: dict[int, tuple[list[Package], list[Finding]]] = {}
    for k, (t, inv) in enumerate(loaded):
        old_raw = olds[k]
        if t.reason == "exception" and old_raw is not None:
            continue
        if t.reason == "changed" and old_raw is not None and t.since in scope:
            keys, ids = scope[t.since]
            hit = {id(f.package) for f in old_raw if not ids.isdisjoint(f.ids)}
            pkgs = [p for p in inv.report.packages if id(p) in hit or index_key(p.ecosystem, p.name) in keys
                    or (p.source_name and index_key(p.ecosystem, p.source_name) in keys)]
            touched = {id(p) for p in pkgs}
            asked[k] = (pkgs, [f for f in old_raw if id(f.package) not in touched])
        else:
            asked[k] = (list(inv.report.packages), [])
    order = list(asked)
    matched = matcher.match([(loaded[k][1].report.os, asked[k][0]) for k in order])
    fresh: dict[int, list[Finding]] = {}
    for k, found in zip(order, matched, strict=True):
        kept = asked[k][1]
        fresh[k] = sorted([*kept, *found], key=_finding_order) if kept else found
    planned: list[tuple[_Todo, list[Finding], str, ImageResult, list[dict[str, Any]]]] = []
    gone_ids: set[str] = set()
    judged: list[tuple[Report, Report | None]] = []
    for k, (t, inv) in enumerate(loaded):
        pol = policies.of(t.image, inv)
        new_raw = fresh[k] if k in fresh else olds[k] or []
        new = judge(replace(inv.report, vulnerabilities=tuple(new_raw)), pol, today)
        old = None
        old_raw = olds[k]
        st = states.get(t.image.id)
        if old_raw is not None and st is not None:
            old = judge(replace(inv.report, vulnerabilities=tuple(old_raw)), pol, date.fromisoformat(st.judged_on))
            if st.verdict is not None:
                old = replace(old, verdict=Verdict(gate=bool(st.verdict), policy=pol.path or None, passed=st.verdict != "fail"))
            gone_ids.update(a for f in old_raw for a in f.advisory_ids)
        judged.append((new, old))
    # a finding that left counts as withdrawn when the change log says so, or the DB no longer holds its
    # records live (a full re-match has no log to ask)
    live = {a.id for a in db.advisories(gone_ids).values() if not a.withdrawn} if gone_ids else set()
    for k, (t, _inv) in enumerate(loaded):
        new, old = judged[k]
        verdict = "" if new.verdict is None or not new.verdict.gate else ("pass" if new.verdict.passed else "fail")
        raw = fresh[k] if k in fresh else olds[k] or []
        if old is None:
            planned.append((t, raw, verdict, ImageResult(t.image.key, t.image.names, t.image.repository,
                                                                "baseline", t.reason, t.since), []))
            continue
        delta = compare(replace(old, packages=()), replace(new, packages=()))  # one inventory: only findings move
        gone = withdrawn | {f_id for f in (s.finding for s in delta.findings.fixed)
                            if live.isdisjoint(f.advisory_ids) for f_id in f.ids}
        changes = categorize(delta, gone)
        action = "rejudged" if t.reason == "exception" else "rematched"
        res = ImageResult(t.image.key, t.image.names, t.image.repository, action, t.reason, t.since, tuple(changes),
                          delta.verdict.change, tuple(crossing(delta, threshold)))
        planned.append((t, raw, verdict, res, [change_dict(c) for c in changes]))
    out: list[ImageResult] = []
    now = _iso(clock())
    with store.write() as conn:
        for t, raw, verdict, res, entries in planned:
            st = states.get(t.image.id)
            if not rescans.save_in(conn, t.image.id, st.rev if st is not None else None, generation=generation,
                                   judged_on=today.isoformat(), verdict=verdict, findings=raw, now=now):
                out.append(replace(res, action="skipped", changes=(), failed=(), verdict_change="none"))
                continue
            if entries or res.verdict_change in ("pass_to_fail", "fail_to_pass"):
                done = enqueue_in(conn, t.image.key, generation, entries, res.verdict_change,  # type: ignore[arg-type]
                                  image_names=t.image.names, clock=clock)
                res = replace(res, notification=done.id)
            out.append(res)
    return out


class _Policies:
    """The policy each image is judged with: the one given, else the one it was stored with (decoded once
    per policy digest)."""

    def __init__(self, reader: InventoryReader, given: Policy | None) -> None:
        self.reader = reader
        self.given = given
        self._by_digest: dict[str, Policy] = {}

    def of(self, image: _Image, inv: StoredInventory | None = None) -> Policy:
        if self.given is not None:
            return self.given
        found = self._by_digest.get(image.policy_digest)
        if found is None:
            inv = inv or self.reader.load(image.key)
            found = inv.policy(POLICY_CLASSES) or Policy()
            self._by_digest[image.policy_digest] = found
        return found

    def expired_between(self, image: _Image, judged_on: str, today: date) -> bool:
        """An exception of the image's policy was in force on `judged_on` and has expired by `today`."""
        try:
            since = date.fromisoformat(judged_on)
        except ValueError:
            return False
        if since >= today:
            return False
        if self.given is None and not image.policy_digest:
            return False  # stored without a policy: the default has no exceptions
        try:
            pol = self.of(image)
        except InputError:
            return False
        return any(ex.expires is not None and since <= ex.expires < today for ex in pol.exceptions)


def _images(store: StateStore, keys: Sequence[str] | None, repository: str | None) -> list[_Image]:
    q = select(StoredImage.id, StoredImage.image_key, StoredImage.repository, StoredImage.policy_digest)
    if repository is not None:
        named = select(StoredImageName.image_id).where(StoredImageName.repository == repository)
        q = q.where((StoredImage.repository == repository) | StoredImage.id.in_(named))
    with store.read() as conn:
        rows = list(conn.execute(q.order_by(StoredImage.id)))
        if keys is not None:
            wanted = set(keys)
            rows = [r for r in rows if r.image_key in wanted]
        names: dict[int, list[str]] = {}
        ids = {r.id for r in rows}
        for image_id, name in conn.execute(select(StoredImageName.image_id, StoredImageName.name)
                                           .order_by(StoredImageName.last_seen.desc(), StoredImageName.name)):
            if image_id in ids:
                names.setdefault(image_id, []).append(name)
    return [_Image(r.id, r.image_key, r.repository, r.policy_digest, tuple(names.get(r.id, ()))) for r in rows]


def _finding_order(f: Finding) -> tuple[str, str, str]:
    """match_inventory's order."""
    return (f.package.name, f.package.version, f.id)


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
