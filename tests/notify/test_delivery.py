"""Notifications end to end against a real HTTP receiver on 127.0.0.1: created once, delivered at least
once through failures, timeouts and an hour-long outage (an injected clock: no real waiting), given up
into the dead letters and retried, signed so a receiver detects tampering, paginated, in the documented
schema, optionally in a CloudEvents envelope — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import jsonschema
import pytest
from notify_support import IMAGE, SECRET, Clock, Receiver, changes, verify
from referencing import Registry, Resource

from hullscan.notify import endpoints, queue
from hullscan.notify.deliver import Deliverer, Settings, deliver
from hullscan.state.store import open_state
from testsupport import REPO

# waits are exact with rand() = 0.5 (no jitter): 30, 60, 120, 240, ... seconds
FIXED = Settings(timeout=0.5, backoff=30.0, backoff_cap=3600.0, jitter=0.25, give_up_after=86400.0)


def half() -> float:
    return 0.5


def _validator() -> jsonschema.Draft202012Validator:
    schemas = [json.loads((REPO / "docs" / n).read_text()) for n in ("notification.schema.json", "diff.schema.json")]
    jsonschema.Draft202012Validator.check_schema(schemas[0])
    registry: Registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    return jsonschema.Draft202012Validator(schemas[0], registry=registry)


def _hook(store: Any, receiver: Receiver, **kw: Any) -> endpoints.Endpoint:
    return endpoints.add(store, receiver.url, name=kw.pop("name", "ci"), secret_env=kw.pop("secret_env", "HOOK_SECRET"), **kw)


def test_notification_id_is_the_digest_of_image_and_change() -> None:
    from hullscan.notify.payload import notification_id

    # by hand: sha256 over "sha256:3f57...d741\n42"
    assert notification_id(IMAGE, 42) == hashlib.sha256(f"{IMAGE}\n42".encode()).hexdigest()
    assert notification_id(IMAGE, 42) != notification_id(IMAGE, 43)


def test_enqueue_twice_is_one_record(store: Any, receiver: Receiver, secret_env: str, store_url: tuple[str, str]) -> None:
    _hook(store, receiver)
    first = queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail", page_size=3)
    again = queue.enqueue(store, IMAGE, 42, changes()[:1], "none")
    # 7 changes in pages of 3: 3 pages, one endpoint -> 3 deliveries; the second call writes nothing
    assert (first.created, first.pages, first.deliveries) == (True, 3, 3)
    assert (again.created, again.id, again.deliveries) == (False, first.id, 0)
    # the same pair from several connections at once: the primary key lets one insert through
    results: list[queue.Enqueued] = []

    def race() -> None:
        with open_state(store_url[0], schema=store_url[1]) as other:
            results.append(queue.enqueue(other, IMAGE, 43, changes(), "unchanged"))

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.created for r in results) == [False, False, False, True]
    st = queue.status(store)
    assert st.notifications == 2 and st.counts["pending"] == 3 + 1  # 7 changes at the default 100 a page: 1 page


def test_fails_times_out_then_delivered(store: Any, receiver: Receiver, secret_env: str) -> None:
    clock = Clock()
    ep = _hook(store, receiver)
    nid = queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail", clock=clock).id
    receiver.script = [500, "timeout"]  # then 200
    start = clock.t
    summary = deliver(store, settings=FIXED, clock=clock, rand=half, sleep=clock.sleep)
    assert (summary.delivered, summary.failed, summary.dead) == (1, 2, 0)
    # the same body three times, each signed with the deliverer's clock at the time
    assert len(receiver.got) == 3 and len({r.body for r in receiver.got}) == 1
    assert [int(r.headers["x-hullscan-timestamp"]) for r in receiver.got] == [int(start), int(start + 30), int(start + 90)]
    tries = queue.attempts(store, nid)
    assert [(a.endpoint, a.outcome, a.status, a.wait) for a in tries] == [
        (ep.name, "failed", 500, 30.0),  # backoff 30 s * 2**0
        (ep.name, "failed", None, 60.0),  # the timeout: no status; 30 s * 2**1
        (ep.name, "delivered", 200, None)]
    assert "Timeout" in (tries[1].error or "")
    assert [a.at - start for a in tries] == [0.0, 30.0, 90.0]
    (row,) = queue.deliveries(store, nid)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 3, 200)


def test_receiver_down_for_an_hour_loses_nothing(store: Any, receiver: Receiver, secret_env: str) -> None:
    clock = Clock()
    _hook(store, receiver)
    nid = queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail", page_size=3, clock=clock).id
    port = receiver.port
    receiver.stop()  # connection refused from now on
    start = clock.t
    while clock.t - start < 3600:  # a cron running `notify deliver --once` every 5 minutes for an hour
        deliver(store, once=True, settings=FIXED, clock=clock, rand=half, sleep=clock.sleep)
        clock.t += 300
    rows = queue.deliveries(store, nid)
    assert [r.state for r in rows] == ["pending"] * 3
    # each page tried at 0, 300 (due 30), 600 (due 360), 900 (due 720), 1500 (due 1140), 2100 (due 1980),
    # 3300 (due 3060) s: seven failed tries per page, the next due at 3300 + 1920
    assert [r.attempts for r in rows] == [7, 7, 7]
    back = Receiver(port=port).start()  # the receiver returns on the same port
    try:
        clock.t = max(r.due_at for r in rows)
        summary = deliver(store, once=True, settings=FIXED, clock=clock, rand=half, sleep=clock.sleep)
        assert summary.delivered == 3
        pages = sorted(r.json["page"]["index"] for r in back.got)
        assert pages == [0, 1, 2] and {r.json["notification_id"] for r in back.got} == {nid}
        assert sum((r.json["changes"] for r in sorted(back.got, key=lambda r: r.json["page"]["index"])), []) == changes()
    finally:
        back.stop()


def test_give_up_dead_letter_retry(store: Any, receiver: Receiver, secret_env: str) -> None:
    clock = Clock()
    _hook(store, receiver)
    nid = queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail", clock=clock).id
    receiver.script = [503] * 20
    settings = Settings(timeout=0.5, backoff=30.0, jitter=0.25, give_up_after=3600.0)
    summary = deliver(store, settings=settings, clock=clock, rand=half, sleep=clock.sleep)
    # tries at 0, 30, 90, 210, 450, 930, 1890 s fail and wait 30 * 2**n; the try at 3810 s is past the
    # give-up age (3600 s): dead. 8 tries.
    assert (summary.failed, summary.dead, summary.delivered) == (7, 1, 0)
    assert [a.outcome for a in queue.attempts(store, nid)] == ["failed"] * 7 + ["dead"]
    st = queue.status(store)
    assert st.counts == {"pending": 0, "delivered": 0, "dead": 1}
    assert [(d.notification_id, d.attempts, d.last_status) for d in st.dead] == [(nid, 8, 503)]
    receiver.script = []
    assert queue.retry(store, [nid[:8]], clock=clock) == 1
    assert queue.retry(store, None, clock=clock) == 0  # nothing dead any more
    assert deliver(store, once=True, settings=settings, clock=clock, rand=half, sleep=clock.sleep).delivered == 1
    assert queue.status(store).counts == {"pending": 0, "delivered": 1, "dead": 0}


def test_signature_verifies_and_tampering_is_detected(store: Any, receiver: Receiver, secret_env: str) -> None:
    clock = Clock()
    _hook(store, receiver)
    queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail", page_size=3, clock=clock)
    deliver(store, once=True, settings=FIXED, clock=clock, rand=half, sleep=clock.sleep)
    assert len(receiver.got) == 3
    for got in receiver.got:
        assert verify(SECRET.encode(), got.headers, got.body, now=clock.t)
        tampered = got.body.replace(b'"pass_to_fail"', b'"fail_to_pass"')
        assert tampered != got.body and not verify(SECRET.encode(), got.headers, tampered, now=clock.t)
        later = {**got.headers, "x-hullscan-timestamp": str(int(got.headers["x-hullscan-timestamp"]) + 1)}
        assert not verify(SECRET.encode(), later, got.body, now=clock.t)  # the timestamp is signed
        assert not verify(b"another secret", got.headers, got.body, now=clock.t)
        assert not verify(SECRET.encode(), got.headers, got.body, now=clock.t + 3600)  # a replay an hour on


def test_payload_pages_follow_the_schema(store: Any, receiver: Receiver, secret_env: str) -> None:
    clock = Clock()
    _hook(store, receiver)
    names = ["registry.example/app:1.4", "registry.example/app:latest"]
    nid = queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail", image_names=names[::-1], page_size=3, clock=clock).id
    deliver(store, once=True, settings=FIXED, clock=clock, rand=half, sleep=clock.sleep)
    docs = sorted((r.json for r in receiver.got), key=lambda d: d["page"]["index"])
    validator = _validator()
    for doc in docs:
        validator.validate(doc)
    # 7 changes, 3 a page: pages of 3, 3 and 1, linked by index
    assert [(d["page"]["index"], d["page"]["count"], d["page"]["next"], len(d["changes"])) for d in docs] == [
        (0, 3, 1, 3), (1, 3, 2, 3), (2, 3, None, 1)]
    assert {d["notification_id"] for d in docs} == {nid} and {d["page"]["changes_total"] for d in docs} == {7}
    assert docs[0]["image"] == {"digest": IMAGE, "names": names} and docs[0]["db_change_id"] == 42
    assert docs[0]["created_at"] == "2027-01-15T08:00:00Z"  # the clock's 1,800,000,000 s
    assert sum((d["changes"] for d in docs), []) == changes()
    assert {r.headers["content-type"] for r in receiver.got} == {"application/json"}
    assert sorted(r.headers["x-hullscan-page"] for r in receiver.got) == ["0", "1", "2"]
    assert {r.headers["x-hullscan-notification"] for r in receiver.got} == {nid}
    bad = dict(docs[0], changes=[{"category": "vanished", "id": "X"}])
    assert not validator.is_valid(bad)
    with pytest.raises(ValueError, match="category"):
        queue.enqueue(store, IMAGE, 44, [{"category": "vanished", "id": "X"}], "none", clock=clock)


def test_cloudevents_envelope(store: Any, receiver: Receiver, secret_env: str) -> None:
    clock = Clock()
    _hook(store, receiver, cloudevents=True)
    nid = queue.enqueue(store, IMAGE, 42, changes(), "fail_to_pass", page_size=5, clock=clock).id
    deliver(store, once=True, settings=FIXED, clock=clock, rand=half, sleep=clock.sleep)
    assert len(receiver.got) == 2
    validator = _validator()
    for got in receiver.got:
        assert got.headers["content-type"] == "application/cloudevents+json"
        assert verify(SECRET.encode(), got.headers, got.body, now=clock.t)  # the envelope is what is signed
        event = got.json
        data = event["data"]
        validator.validate(data)
        assert set(event) == {"specversion", "type", "source", "id", "time", "subject", "datacontenttype",
                              "dataschema", "data"}
        assert event["specversion"] == "1.0"
        assert event["type"] == "dev.hullscan.image.changed"
        assert event["source"] == "urn:hullscan:notify"
        assert event["id"] == f"{nid}:{data['page']['index']}"
        assert event["time"] == data["created_at"] == "2027-01-15T08:00:00Z"
        assert event["subject"] == IMAGE
        assert event["datacontenttype"] == "application/json"
        assert event["dataschema"] == "https://hullscan.invalid/notification.schema.json"
        assert data["verdict_change"] == "fail_to_pass"


def test_two_deliverers_at_once_never_double_send(store: Any, receiver: Receiver, secret_env: str,
                                                  store_url: tuple[str, str]) -> None:
    _hook(store, receiver)
    nid = queue.enqueue(store, IMAGE, 42, changes(), "pass_to_fail", page_size=1).id  # 7 pages
    receiver.delay = 0.1  # slow answers: the two overlap

    def run() -> None:
        with open_state(store_url[0], schema=store_url[1]) as own:
            Deliverer(own, settings=FIXED).run(once=True)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.json["page"]["index"] for r in receiver.got) == list(range(7))  # each page exactly once
    assert [r.state for r in queue.deliveries(store, nid)] == ["delivered"] * 7
    owners = {a.owner for a in queue.attempts(store, nid)}
    assert len(owners) in (1, 2)


def test_missing_secret_sends_nothing(store: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    _hook(store, receiver)
    nid = queue.enqueue(store, IMAGE, 42, changes(), "none", clock=clock).id
    deliver(store, once=True, settings=FIXED, clock=clock, rand=half, sleep=clock.sleep)
    assert receiver.got == []  # never unsigned in the secret's place
    (attempt,) = queue.attempts(store, nid)
    assert attempt.outcome == "failed" and attempt.error == "secret: environment variable HOOK_SECRET is not set"


def test_endpoint_added_later_gets_later_notifications(store: Any, receiver: Receiver, secret_env: str) -> None:
    clock = Clock()
    queue.enqueue(store, IMAGE, 41, changes(), "none")  # no endpoint yet: recorded, owed to nobody
    _hook(store, receiver)
    assert queue.enqueue(store, IMAGE, 41, changes(), "none").created is False
    queue.enqueue(store, IMAGE, 42, changes(), "none", clock=clock)
    deliver(store, once=True, settings=FIXED, clock=clock, rand=half, sleep=clock.sleep)
    assert [r.json["db_change_id"] for r in receiver.got] == [42]
