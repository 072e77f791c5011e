"""Delivery, at least once: lease a due page, POST it, record what came of it.

A deliverer repeats: in one write transaction, claim the next pending delivery that is due and not
leased (`lease_until` passed), and lease it to itself for `Settings.lease` seconds; commit; send; in a
second write transaction, record the attempt and the delivery's new state. The claim runs under the
state store's writer lock (SQLite `BEGIN IMMEDIATE`; PostgreSQL the writers' advisory lock, and the row
selected `FOR UPDATE SKIP LOCKED`), so two deliverers never claim the same page while its lease runs;
a deliverer killed mid-send leaves a lease that expires, and the page goes again — a duplicate a
receiver recognises by its notification id and page index.

Answers: any 2xx is delivered. Anything else — another status, a refused connection, a timeout, an
unreadable secret — is a failure: the next try waits `backoff * 2**(attempts-1)` seconds (capped at
`backoff_cap`), give or take `jitter`; a failure once the delivery is `give_up_after` old makes it
dead (a dead letter: `hullscan notify status`, `hullscan notify retry`). The clock, the random source
and the sleep are injected: tests move time instead of waiting.
"""

from __future__ import annotations

import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, insert, or_, select, update

from hullscan.http import HttpClient, RetryPolicy, TransferError
from hullscan.notify import payload
from hullscan.notify.endpoints import Endpoint, SecretUnavailable
from hullscan.notify.queue import DEAD, DELIVERED, PENDING
from hullscan.notify.sign import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from hullscan.state.models import NotificationAttempt, NotificationDelivery, NotificationPage, NotifyEndpoint
from hullscan.state.store import StateStore

NOTIFICATION_HEADER = "X-Hullscan-Notification"
PAGE_HEADER = "X-Hullscan-Page"


@dataclass(frozen=True, slots=True)
class Settings:
    timeout: float = 10.0
    """Seconds a receiver has to answer one request."""
    lease: float = 120.0
    """Seconds a claimed page is the claimer's: longer than one request can take."""
    backoff: float = 30.0
    """Seconds before the first retry; doubles with each failure."""
    backoff_cap: float = 3600.0
    jitter: float = 0.25
    """Each wait varies by up to this fraction either way, so receivers that come back are not stampeded."""
    give_up_after: float = 86400.0
    """Seconds after its enqueueing (or its retry from the dead letters) a failing delivery is given up."""
    poll: float = 60.0
    """A deliverer running until nothing is pending looks for new work at least this often."""

    def wait(self, attempts: int, rand: Callable[[], float]) -> float:
        """Seconds before the next try after `attempts` failures (1 for the first)."""
        base = min(self.backoff_cap, self.backoff * 2.0 ** (attempts - 1))
        return base * (1.0 + self.jitter * (2.0 * rand() - 1.0))


@dataclass(frozen=True, slots=True)
class Claimed:
    notification_id: str
    page_idx: int
    page_count: int
    endpoint: Endpoint
    body: bytes
    attempts: int
    enqueued_at: float


@dataclass(frozen=True, slots=True)
class Result:
    outcome: str
    """`delivered`, `failed` or `dead`."""
    status: int | None
    error: str | None
    wait: float | None


@dataclass
class Summary:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    events: list[str] = field(default_factory=list)


def new_owner() -> str:
    """Who holds a lease, for the attempt log: host, process, and a random part (pids are reused)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Deliverer:
    def __init__(self, store: StateStore, *, settings: Settings | None = None, client: HttpClient | None = None,
                 clock: Callable[[], float] = time.time, rand: Callable[[], float] = random.random,
                 sleep: Callable[[float], None] = time.sleep, owner: str | None = None,
                 on_event: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        # one try per delivery: the retries are ours, spread over hours, not the client's seconds
        self.client = client or HttpClient(policy=RetryPolicy(attempts=1, connect_attempts=1, jitter=0.0),
                                           timeout=self.settings.timeout)
        self._own_client = client is None
        self.clock = clock
        self.rand = rand
        self.sleep = sleep
        self.owner = owner or new_owner()
        self.on_event = on_event

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def run(self, *, once: bool = False) -> Summary:
        """Deliver what is due. `once`: each page due now is tried once, then return (what cron runs).
        Otherwise keep going, sleeping until the next retry is due, until nothing is pending."""
        summary = Summary()
        while True:
            claimed = self.claim()
            if claimed is None:
                if once:
                    return summary
                wake = self.next_due()
                if wake is None:
                    return summary
                self.sleep(max(0.0, wake - self.clock()))
                continue
            result = self.send(claimed)
            self.record(claimed, result)
            setattr(summary, result.outcome, getattr(summary, result.outcome) + 1)
            event = _describe(claimed, result)
            summary.events.append(event)
            if self.on_event is not None:
                self.on_event(event)

    def claim(self) -> Claimed | None:
        """Lease the next due, unleased pending delivery to this deliverer (module docstring)."""
        now = self.clock()
        d = NotificationDelivery
        q = (select(d.notification_id, d.endpoint_id, d.page_idx, d.attempts, d.enqueued_at)
             .where(d.state == PENDING, d.due_at <= now, or_(d.lease_until.is_(None), d.lease_until <= now))
             .order_by(d.due_at, d.notification_id, d.page_idx, d.endpoint_id).limit(1))
        with self.store.write() as conn:
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = conn.execute(q).first()
            if row is None:
                return None
            key = and_(d.notification_id == row.notification_id, d.endpoint_id == row.endpoint_id, d.page_idx == row.page_idx)
            conn.execute(update(d).where(key).values(lease_owner=self.owner, lease_until=now + self.settings.lease))
            body = conn.execute(select(NotificationPage.body).where(
                NotificationPage.notification_id == row.notification_id, NotificationPage.idx == row.page_idx)).scalar_one()
            ep = conn.execute(select(NotifyEndpoint).where(NotifyEndpoint.id == row.endpoint_id)).one()
            pages = conn.execute(select(func.count()).select_from(NotificationPage).where(
                NotificationPage.notification_id == row.notification_id)).scalar_one()
        endpoint = Endpoint(id=ep.id, name=ep.name, url=ep.url, secret_env=ep.secret_env, secret_file=ep.secret_file,
                            cloudevents=bool(ep.cloudevents), added_at=ep.added_at)
        return Claimed(row.notification_id, row.page_idx, int(pages), endpoint, body.encode("utf-8"), row.attempts,
                       row.enqueued_at)

    def request(self, claimed: Claimed) -> tuple[bytes, dict[str, str]]:
        """The body and headers of one try: the page (in its CloudEvents envelope when the endpoint
        wants one), signed with the timestamp of now."""
        ep = claimed.endpoint
        body = payload.cloudevent(claimed.body) if ep.cloudevents else claimed.body
        headers = {"Content-Type": payload.CE_CONTENT_TYPE if ep.cloudevents else payload.JSON_CONTENT_TYPE,
                   NOTIFICATION_HEADER: claimed.notification_id, PAGE_HEADER: str(claimed.page_idx)}
        secret = ep.secret()
        if secret is not None:
            timestamp = int(self.clock())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
        return body, headers

    def send(self, claimed: Claimed) -> Result:
        status: int | None = None
        try:
            body, headers = self.request(claimed)
            resp = self.client.send("POST", claimed.endpoint.url, headers=headers, content=body)
            status = resp.status_code
            resp.close()
            error = None if 200 <= status <= 299 else f"HTTP {status}"
        except SecretUnavailable as err:
            error = str(err)
        except TransferError as err:  # the reason only: the message names the URL, which may hold a token
            error, status = err.reason, err.status
        if error is None:
            return Result("delivered", status, None, None)
        attempts = claimed.attempts + 1
        if self.clock() - claimed.enqueued_at >= self.settings.give_up_after:
            return Result("dead", status, error, None)
        return Result("failed", status, error, self.settings.wait(attempts, self.rand))

    def record(self, claimed: Claimed, result: Result) -> None:
        """The attempt, and the delivery's new state. A failure changes the delivery only while this
        deliverer still holds its lease (another may have taken it over); a success always counts."""
        now = self.clock()
        d = NotificationDelivery
        key = and_(d.notification_id == claimed.notification_id, d.endpoint_id == claimed.endpoint.id,
                   d.page_idx == claimed.page_idx)
        common = {"attempts": d.attempts + 1, "lease_owner": None, "lease_until": None, "last_status": result.status,
                  "last_error": result.error}
        with self.store.write() as conn:
            conn.execute(insert(NotificationAttempt).values(
                notification_id=claimed.notification_id, endpoint_id=claimed.endpoint.id, page_idx=claimed.page_idx,
                at=now, owner=self.owner, outcome=result.outcome, status=result.status, error=result.error,
                wait=result.wait))
            if result.outcome == "delivered":
                conn.execute(update(d).where(key, d.state != DELIVERED).values(state=DELIVERED, done_at=now, **common))
            elif result.outcome == "dead":
                conn.execute(update(d).where(key, d.state == PENDING, d.lease_owner == self.owner).values(
                    state=DEAD, done_at=now, **common))
            else:
                assert result.wait is not None
                conn.execute(update(d).where(key, d.state == PENDING, d.lease_owner == self.owner).values(
                    due_at=now + result.wait, **common))

    def next_due(self) -> float | None:
        """When the next pending delivery can be claimed — the later of its due time and its lease's end
        — at most `poll` seconds ahead (new notifications may arrive meanwhile); None when nothing is pending."""
        d = NotificationDelivery
        ready = case((and_(d.lease_until.is_not(None), d.lease_until > d.due_at), d.lease_until), else_=d.due_at)
        with self.store.read() as conn:
            row = conn.execute(select(func.count(), func.min(ready)).select_from(d).where(d.state == PENDING)).one()
        if not row[0]:
            return None
        now = self.clock()
        return min(max(now, float(row[1])), now + self.settings.poll)


def deliver(store: StateStore, *, once: bool = False, settings: Settings | None = None, client: HttpClient | None = None,
            clock: Callable[[], float] = time.time, rand: Callable[[], float] = random.random,
            sleep: Callable[[float], None] = time.sleep, on_event: Callable[[str], None] | None = None) -> Summary:
    """Run a `Deliverer` over the store (what `hullscan notify deliver` and the rescan call)."""
    deliverer = Deliverer(store, settings=settings, client=client, clock=clock, rand=rand, sleep=sleep, on_event=on_event)
    try:
        return deliverer.run(once=once)
    finally:
        deliverer.close()


def _describe(claimed: Claimed, result: Result) -> str:
    what = f"{claimed.notification_id[:12]} page {claimed.page_idx + 1}/{claimed.page_count} to {claimed.endpoint.name}"
    if result.outcome == "delivered":
        return f"delivered {what}"
    if result.outcome == "dead":
        return f"gave up {what}: {result.error} (a dead letter now: `hullscan notify retry`)"
    return f"failed {what}: {result.error}; retry in {result.wait:.0f} s"
