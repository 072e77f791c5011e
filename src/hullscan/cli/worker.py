"""`hullscan worker`: a Celery worker running scan and DB update jobs (docs/service.md). Thin: builds the
Celery command line and hands over to Celery; everything it runs is in hullscan.service."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from hullscan.cli.main import add_command

if TYPE_CHECKING:
    from hullscan.cli.main import Subparsers


def worker_cmd(*, concurrency: int | None, queues: str | None, beat: bool, loglevel: str, new_job_key: bool,
               relay_interval: float) -> None:
    """Run a worker: consume scan and maintenance jobs from the broker ($HULLSCAN_BROKER_URL, RabbitMQ by default),
    with the state store, the vulnerability DB and the layer cache in PostgreSQL ($HULLSCAN_STATE_URL,
    $HULLSCAN_DB_URL, $HULLSCAN_CACHE_URL). --beat also runs the schedule (the periodic DB update) and the
    outbox relay in this process: run exactly one worker with --beat."""
    if new_job_key:
        from hullscan.service.jobs import new_key

        print(new_key())
        return
    from hullscan.errors import UsageError
    from hullscan.service.celery_app import app, queue_of

    chosen = [q.strip() for q in (queues or "scan,maintenance").split(",") if q.strip()]
    names = {"scan": queue_of("scan"), "maintenance": queue_of("rescan")}
    unknown = [q for q in chosen if q not in names]
    if unknown:
        raise UsageError(f"--queues {','.join(unknown)}: choose from scan, maintenance")
    argv = ["worker", f"--loglevel={loglevel}", "--queues", ",".join(names[q] for q in chosen),
            "--hostname", f"hullscan-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    relay = None
    if beat:
        from hullscan.service.relay import start_relay
        from hullscan.state.store import open_state

        argv += ["--beat", "--schedule", os.path.join(tempfile.gettempdir(), f"hullscan-beat-{os.getpid()}")]
        relay = start_relay(lambda: open_state(None), relay_interval)
    try:
        app.worker_main(argv=argv)
    finally:
        if relay is not None:
            relay.stop()


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "worker", worker_cmd)
    p.add_argument("--concurrency", type=int, metavar="N", help="Worker processes (default: the CPU count).")
    p.add_argument("--queues", metavar="LIST", help="scan, maintenance or both (default: scan,maintenance).")
    p.add_argument("--beat", action="store_true", help="Also run the schedule and the outbox relay (one worker only).")
    p.add_argument("--loglevel", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    p.add_argument("--relay-interval", type=float, default=5.0, metavar="SECONDS",
                   help="With --beat: how often the relay publishes jobs the broker missed (default 5).")
    p.add_argument("--new-job-key", action="store_true",
                   help="Print a new key for $HULLSCAN_JOB_KEY (encrypts jobs' registry credentials) and exit.")
