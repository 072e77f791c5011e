"""Notification records: created exactly once, owed to every endpoint, and the dead letters.

The rescan calls, for each image whose findings or verdict changed after DB change `change_id`:

    enqueue(store, image_digest, change_id, changes, verdict_change, image_names=names)

(or `enqueue_in(conn, ...)` inside a write transaction it already holds, so its own results and the
notification commit together). `changes` are the rescan's change entries — objects with a `category`
(payload.CATEGORIES) and the advisory `id`, sent as they are; `verdict_change` is diff's
(`pass_to_fail`, `fail_to_pass`, `unchanged`, `none`). The id is `payload.notification_id(image_digest,
change_id)`, the table's primary key: the insert of an id that exists does nothing (`ON CONFLICT DO
NOTHING`, one statement: no check-then-insert race), so a rescan killed and run again, or two rescans at
once, create each notification once. A new notification gets one pending delivery per page for each
endpoint configured at that moment (an endpoint added later receives later notifications).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hullscan.errors import UsageError
from hullscan.notify import payload
from hullscan.state.models import (
    Notification,
    NotificationAttempt,
    NotificationDelivery,
    NotificationPage,
    NotifyEndpoint,
)
from hullscan.state.store import StateStore

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True, slots=True)
class Enqueued:
    id: str
    created: bool
    """False: a notification with this id existed, and nothing was written."""
    pages: int
    deliveries: int
    """Deliveries created now (pages x endpoints); 0 when not created."""


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    notification_id: str
    image_digest: str
    change_id: int
    endpoint: str
    page_idx: int
    page_count: int
    state: str
    attempts: int
    enqueued_at: float
    due_at: float
    done_at: float | None
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    endpoint: str
    page_idx: int
    at: float
    owner: str
    outcome: str
    status: int | None
    error: str | None
    wait: float | None


@dataclass(frozen=True, slots=True)
class Status:
    notifications: int
    counts: dict[str, int]
    """Deliveries by state: pending, delivered, dead."""
    pending: list[DeliveryRow]
    dead: list[DeliveryRow]


def enqueue(store: StateStore, image_digest: str, change_id: int, changes: Sequence[Mapping[str, Any]],
            verdict_change: payload.VerdictChange = "none", *, image_names: Sequence[str] = (),
            page_size: int = payload.PAGE_SIZE, clock: Callable[[], float] = time.time) -> Enqueued:
    """Record the notification of `image_digest`'s changes after DB change `change_id`, once (module
    docstring), in its own write transaction."""
    with store.write() as conn:
        return enqueue_in(conn, image_digest, change_id, changes, verdict_change, image_names=image_names,
                          page_size=page_size, clock=clock)


def enqueue_in(conn: Connection, image_digest: str, change_id: int, changes: Sequence[Mapping[str, Any]],
               verdict_change: payload.VerdictChange = "none", *, image_names: Sequence[str] = (),
               page_size: int = payload.PAGE_SIZE, clock: Callable[[], float] = time.time) -> Enqueued:
    """`enqueue` inside the caller's write transaction (`StateStore.write()`)."""
    if verdict_change not in payload.VERDICT_CHANGES:
        raise ValueError(f"verdict_change {verdict_change!r} is not one of {', '.join(payload.VERDICT_CHANGES)}")
    payload.check_changes(changes)
    nid = payload.notification_id(image_digest, change_id)
    now = clock()
    created_at = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    bodies = payload.pages(nid, image_digest=image_digest, image_names=image_names, change_id=change_id,
                           created_at=created_at, changes=changes, verdict_change=verdict_change, page_size=page_size)
    row = {"id": nid, "image_digest": image_digest, "change_id": change_id, "created_at": created_at,
           "verdict_change": verdict_change, "changes_total": len(changes), "page_count": len(bodies)}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(dialect.insert(Notification).values(**row).on_conflict_do_nothing(index_elements=["id"])
                            .returning(Notification.id)).first()
    if inserted is None:
        return Enqueued(nid, False, len(bodies), 0)
    conn.execute(insert(NotificationPage), [{"notification_id": nid, "idx": i, "body": b.decode("utf-8")}
                                             for i, b in enumerate(bodies)])
    endpoints = conn.execute(select(NotifyEndpoint.id).order_by(NotifyEndpoint.id)).scalars().all()
    deliveries = [{"notification_id": nid, "endpoint_id": e, "page_idx": i, "state": PENDING, "attempts": 0,
                   "enqueued_at": now, "due_at": now} for e in endpoints for i in range(len(bodies))]
    if deliveries:
        conn.execute(insert(NotificationDelivery), deliveries)
    return Enqueued(nid, True, len(bodies), len(deliveries))


def status(store: StateStore, *, limit: int = 200) -> Status:
    """Counts, the pending deliveries (next due first) and the dead letters (newest first), up to `limit` each."""
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(Notification)).scalar_one()
        counts = {PENDING: 0, DELIVERED: 0, DEAD: 0}
        for state, n in conn.execute(select(NotificationDelivery.state, func.count()).group_by(NotificationDelivery.state)):
            counts[state] = n
        pending = _rows(conn, NotificationDelivery.state == PENDING, NotificationDelivery.due_at.asc(), limit)
        dead = _rows(conn, NotificationDelivery.state == DEAD, NotificationDelivery.done_at.desc(), limit)
    return Status(total, counts, pending, dead)


def deliveries(store: StateStore, notification_id: str) -> list[DeliveryRow]:
    with store.read() as conn:
        return _rows(conn, NotificationDelivery.notification_id == notification_id, NotificationDelivery.page_idx, None)


def attempts(store: StateStore, notification_id: str) -> list[Attempt]:
    """Every attempt at a notification's deliveries, in order."""
    q = (select(NotifyEndpoint.name, NotificationAttempt.page_idx, NotificationAttempt.at, NotificationAttempt.owner,
                NotificationAttempt.outcome, NotificationAttempt.status, NotificationAttempt.error, NotificationAttempt.wait)
         .join(NotifyEndpoint, NotifyEndpoint.id == NotificationAttempt.endpoint_id)
         .where(NotificationAttempt.notification_id == notification_id).order_by(NotificationAttempt.id))
    with store.read() as conn:
        return [Attempt(*r) for r in conn.execute(q)]


def retry(store: StateStore, notification_ids: Sequence[str] | None, *, clock: Callable[[], float] = time.time) -> int:
    """Put dead deliveries back in the queue, due now, their give-up age counted afresh: those of the
    given notifications (a unique id prefix is enough), or every one when `notification_ids` is None.
    Returns how many."""
    now = clock()
    with store.write() as conn:
        where = NotificationDelivery.state == DEAD
        if notification_ids is not None:
            where = and_(where, NotificationDelivery.notification_id.in_([_resolve(conn, i) for i in notification_ids]))
        done = conn.execute(update(NotificationDelivery).where(where).values(
            state=PENDING, enqueued_at=now, due_at=now, done_at=None, lease_owner=None, lease_until=None))
        return int(done.rowcount)


def _resolve(conn: Connection, given: str) -> str:
    """A notification id from itself or a unique prefix of at least 6 hex digits."""
    given = given.strip().lower()
    if len(given) < 6 or any(c not in "0123456789abcdef" for c in given):
        raise UsageError(f"notification id {given!r}: give its id, or at least its first 6 hex digits")
    found = conn.execute(select(Notification.id).where(Notification.id.startswith(given, autoescape=True))
                         .limit(2)).scalars().all()
    if not found:
        raise UsageError(f"no notification {given} (`hullscan notify status` lists the dead letters)")
    if len(found) > 1:
        raise UsageError(f"notification id {given} is ambiguous: give more of it")
    return found[0]


def _rows(conn: Connection, where: Any, order: Any, limit: int | None) -> list[DeliveryRow]:
    q = (select(NotificationDelivery.notification_id, Notification.image_digest, Notification.change_id, NotifyEndpoint.name,
                NotificationDelivery.page_idx, Notification.page_count, NotificationDelivery.state,
                NotificationDelivery.attempts, NotificationDelivery.enqueued_at, NotificationDelivery.due_at,
                NotificationDelivery.done_at, NotificationDelivery.last_status, NotificationDelivery.last_error)
         .join(Notification, Notification.id == NotificationDelivery.notification_id)
         .join(NotifyEndpoint, NotifyEndpoint.id == NotificationDelivery.endpoint_id)
         .where(where).order_by(order, NotificationDelivery.notification_id, NotificationDelivery.page_idx))
    if limit is not None:
        q = q.limit(limit)
    return [DeliveryRow(*tuple(r)) for r in conn.execute(q)]
