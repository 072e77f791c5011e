"""The service's one way to rebuild a report: a stored image's inventory (state/inventories.py) matched
against the current vulnerability DB and judged with the policy it was stored with — exactly what
`hullscan image stored:sha256:…` reports. Job reports (jobs.report), the Harbor report, `/api/v2/images`
and `/api/v2/findings` all come from `rebuild`.

Rebuilt reports are kept in this process per (image key, its last-seen time, job options, DB, DB build
time), least recently used dropped first: matching costs ~100 ms, a report fetched again costs nothing,
and a `db update` or a re-stored image gives a new key. The DB build time is read at most every few
seconds (`Stamp`), so a DB update is seen that late.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from hullscan.model.report import Report
from hullscan.state.store import StateStore

KEPT = 512
STAMP_TTL = 5.0
_REPORTS: OrderedDict[tuple[str, ...], Report] = OrderedDict()
_LOCK = threading.Lock()  # the server's routes run in threads


class Stamp:
    """The DB's build time as a cache key, read at most every `ttl` seconds (a `db update` is seen that late)."""

    def __init__(self, read: Callable[[], str], ttl: float = STAMP_TTL) -> None:
        self._read = read
        self._ttl = ttl
        self._at = -ttl
        self._value = ""
        self._lock = threading.Lock()

    def __call__(self) -> str:
        now = time.monotonic()
        with self._lock:
            if now - self._at >= self._ttl:
                self._value = self._read()
                self._at = now
            return self._value


def db_stamp(db: str | None) -> str:
    """What changes when the DB does: its build time (a cheap read; '' when unreadable)."""
    from hullscan.service.submit import db_updated_at

    return db_updated_at(db) or ""


def last_seen(store: StateStore, key: str) -> str:
    """When the stored image was last stored ('' when it is not): part of a cached report's key."""
    from sqlalchemy import select

    from hullscan.state.models import StoredImage

    with store.read() as conn:
        found = conn.execute(select(StoredImage.last_seen).where(StoredImage.image_key == key)).scalar()
    return str(found or "")


def rebuild(store: StateStore, key: str, options: Any = None, *, db: str | None = None,
            stamp: str | None = None) -> Report:
    """The stored image `key`'s report now, scanned with a job's `options` (jobs.JobOptions; None: the
    defaults) against the DB `db` (None: `$HULLSCAN_DB_URL`). With `stamp` (the DB's build time, `Stamp`)
    the report is kept and served again until the stamp or the image changes; without it, built afresh."""
    from hullscan.service.jobs import JobOptions

    options = options if options is not None else JobOptions()
    cache_key = (key, last_seen(store, key), json.dumps(options.as_json(), sort_keys=True), db or "", stamp or "")
    if stamp is not None:
        with _LOCK:
            hit = _REPORTS.get(cache_key)
            if hit is not None:
                _REPORTS.move_to_end(cache_key)
                return hit
    made = _build(store, key, options, db)
    if stamp is not None:
        with _LOCK:
            _REPORTS[cache_key] = made
            while len(_REPORTS) > KEPT:
                _REPORTS.popitem(last=False)
    return made


def _build(store: StateStore, key: str, options: Any, db: str | None) -> Report:
    from hullscan.policy.gate import judge
    from hullscan.policy.model import BaseImageRule, Exception_, LicenseRule, Policy, Rules
    from hullscan.record import replace
    from hullscan.scan.wiring import build_service
    from hullscan.service.jobs import scan_options
    from hullscan.state.inventories import load

    service = build_service(replace(scan_options(options), db=db, use_cache=False))
    service.open_state = lambda: _Borrowed(store)
    report = service.scan(f"stored:{key}")
    stored = load(store, key).policy({c.__name__: c for c in (Policy, Rules, LicenseRule, BaseImageRule, Exception_)})
    return judge(report, stored if isinstance(stored, Policy) else Policy())


class _Borrowed:
    """The server's open store lent to `ScanService.open_state`, whose `with` would close it."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def __enter__(self) -> StateStore:
        return self._store

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
