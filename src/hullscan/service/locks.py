"""The locks a worker holds while it runs a job, as PostgreSQL session advisory locks on one connection of
its own (docs/service.md): the job's lock (a duplicate delivery of a job another worker is running is
dropped, not run twice at once) and a slot of the per-registry semaphore (at most
`$HULLSCAN_REGISTRY_CONCURRENCY` jobs, default 4, pull from one registry host at once).

Advisory locks rather than Redis keys: a worker killed mid-job loses its connection and PostgreSQL frees
its locks at once — a Redis semaphore would need leases that outlive a dead holder. (The layer lock, which
the scan pipeline takes through the cache, is cache/pg.py's.)
"""

from __future__ import annotations

import os
import time
from types import TracebackType
from typing import Any

from hullscan.cache.pg import connect, lock_key
from hullscan.errors import FetchError

SLOTS_ENV = "HULLSCAN_REGISTRY_CONCURRENCY"


def registry_slots() -> int:
    return max(1, int(os.environ.get(SLOTS_ENV, "4")))


class JobLocks:
    """One job's locks on a connection to the state store's PostgreSQL (`url`); all freed on exit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.db: Any = None

    def __enter__(self) -> JobLocks:
        try:
            self.db = connect(self.url)
        except Exception as err:  # noqa: BLE001 — psycopg's errors: the state store is unreachable
            raise FetchError(f"job locks: cannot connect to the state store: {str(err).strip()[:200]}") from None
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self.db.close()  # ends the session: every lock it held is released
        except Exception:  # noqa: BLE001, S110 — a broken connection has released them already
            pass

    def job(self, job_id: str, *, wait: float) -> bool:
        """Take the job's lock, waiting up to `wait` seconds; False when another worker still holds it then.
        Waiting, not trying once: a redelivery after its worker was killed can arrive before PostgreSQL has
        ended the dead worker's session; a duplicate of a job running elsewhere waits for it to finish,
        then finds it done."""
        import psycopg

        self.db.execute(f"SET lock_timeout = {max(1, int(wait * 1000))}")
        try:
            self.db.execute("SELECT pg_advisory_lock(%s)", (lock_key("hullscan-job:", job_id),))
        except psycopg.errors.LockNotAvailable:
            return False
        finally:
            self.db.execute("RESET lock_timeout")
        return True

    def registry(self, host: str, *, wait: float, poll: float = 0.5) -> int:
        """Take one of the registry host's slots, waiting up to `wait` seconds; the slot's number."""
        deadline = time.monotonic() + wait
        slots = registry_slots()
        while True:
            for slot in range(slots):
                got = self.db.execute("SELECT pg_try_advisory_lock(%s)",
                                      (lock_key("hullscan-registry:", f"{host}#{slot}"),)).fetchone()[0]
                if got:
                    return slot
            if time.monotonic() >= deadline:
                raise FetchError(f"registry {host}: all {slots} of its concurrent-scan slots stayed busy for "
                                 f"{wait:.0f} s")
            time.sleep(poll)
