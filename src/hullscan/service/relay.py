"""The outbox relay as a thread (service/jobs.py `relay`): every `interval` seconds, publish the jobs whose
submit found the broker down. The server runs one, and so does the beat process (`hullscan worker
--beat`): either alone keeps every job moving; both at once publish a row at most once each pass (the
`queued` → `published` UPDATE is conditional), and a rare double publish is a duplicate delivery the
job's state machine drops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hullscan.service import jobs
from hullscan.state.store import StateStore

log = logging.getLogger("hullscan.relay")


class Relay(threading.Thread):
    def __init__(self, open_store: Callable[[], StateStore], interval: float = 5.0,
                 publish: jobs.Publisher | None = None) -> None:
        super().__init__(name="hullscan-relay", daemon=True)
        self.open_store = open_store
        self.interval = interval
        self.publish = publish
        self.stopped = threading.Event()
        self.published = 0

    def run(self) -> None:
        store: StateStore | None = None
        try:
            while not self.stopped.wait(self.interval):
                try:
                    store = store or self.open_store()
                    self.published += jobs.relay(store, self.publish)
                except Exception as err:  # noqa: BLE001 — the store or broker is down: the next pass tries again
                    log.warning("relay pass failed: %s: %s", type(err).__name__, str(err).strip()[:200])
        finally:
            if store is not None:
                store.close()

    def stop(self) -> None:
        self.stopped.set()


def start_relay(open_store: Callable[[], StateStore], interval: float = 5.0) -> Relay:
    """Start the relay thread of this process (the server calls this at start-up; `relay.stop()` at exit)."""
    relay = Relay(open_store, interval)
    relay.start()
    return relay
