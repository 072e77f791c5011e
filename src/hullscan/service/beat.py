"""Celery beat's schedule (docs/service.md): `hullscan db update` every `$HULLSCAN_DB_UPDATE_HOURS` hours
(default 6) as a `db_update` job. Beat sends a tick; a worker turns it into the job with the tick's slot as
its nonce, so a tick delivered twice (or two beats by mistake) makes one job per slot."""

from __future__ import annotations

import os
import time

from celery.schedules import schedule

from hullscan.service import jobs
from hullscan.service.celery_app import app, queue_of

HOURS_ENV = "HULLSCAN_DB_UPDATE_HOURS"
TICK = "hullscan.db_update_tick"


def hours() -> float:
    return float(os.environ.get(HOURS_ENV, "6"))


@app.task(name=TICK)
def db_update_tick() -> str:
    """Submit this slot's DB update job; its id."""
    from hullscan.service.worker import state

    period = hours() * 3600
    slot = int(time.time() // period)
    return jobs.submit(state(), jobs.JobSpec(kind="db_update", nonce=f"{period:.0f}s#{slot}")).id


app.conf.beat_schedule = {
    "db-update": {"task": TICK, "schedule": schedule(hours() * 3600), "options": {"queue": queue_of("db_update")}},
}
