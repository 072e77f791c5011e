"""The Celery application of `hullscan worker` and of the server's publisher (docs/service.md).

Broker: RabbitMQ (`amqp://…`, the default `amqp://guest:guest@127.0.0.1:5672//`) or Redis (`redis://…`), from
`$HULLSCAN_BROKER_URL`. No result backend: a job's state and result live in its `service_job` row.

Delivery is at least once, completion exactly once: messages are acknowledged after the task ran
(`acks_late`), a worker process that dies mid-task leaves its message to be redelivered
(`task_reject_on_worker_lost`), each worker process reserves one message at a time (prefetch 1), and
the job row's state machine (service/jobs.py) makes a duplicate run a no-op. Publishing waits for the
broker's confirm, so a message the broker did not take is an error the outbox sees, never a silent loss.

Limits per job: soft/hard time limits (`$HULLSCAN_JOB_TIME_LIMIT` seconds, default 1800; the soft one 30 s
earlier fails the job with a clear error), and a memory limit set with `resource.setrlimit(RLIMIT_AS)` in
each worker child (`$HULLSCAN_JOB_MEMORY_MB`, default 4096): a scan that exceeds it gets MemoryError and its
job fails, instead of the kernel's OOM killer taking the whole worker; a child that grew past 3/4 of it is
replaced after its task (`worker_max_memory_per_child`).

Queues are named `<prefix>.scan` and `<prefix>.maintenance` (rescans, DB updates) with the prefix
`$HULLSCAN_QUEUE_PREFIX` (default `hullscan`): tests and several deployments share one broker apart.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

BROKER_ENV = "HULLSCAN_BROKER_URL"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
PREFIX_ENV = "HULLSCAN_QUEUE_PREFIX"
TIME_ENV = "HULLSCAN_JOB_TIME_LIMIT"
MEMORY_ENV = "HULLSCAN_JOB_MEMORY_MB"
TASKS = {"scan": "hullscan.scan", "rescan": "hullscan.rescan", "db_update": "hullscan.db_update"}


def prefix() -> str:
    return os.environ.get(PREFIX_ENV, "hullscan")


def queue_of(kind: str) -> str:
    return f"{prefix()}.scan" if kind == "scan" else f"{prefix()}.maintenance"


def time_limit() -> int:
    return int(os.environ.get(TIME_ENV, "1800"))


def memory_limit_mb() -> int:
    return int(os.environ.get(MEMORY_ENV, "4096"))


def make_app() -> Celery:
    broker = os.environ.get(BROKER_ENV, DEFAULT_BROKER)
    app = Celery("hullscan", broker=broker, include=["hullscan.service.worker", "hullscan.service.beat"])
    limit = time_limit()
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_time_limit=limit,
        task_soft_time_limit=max(limit - 30, 1),
        worker_max_memory_per_child=memory_limit_mb() * 1024 * 3 // 4,  # KiB
        task_queues=[Queue(queue_of("scan")), Queue(queue_of("rescan"))],
        task_default_queue=queue_of("scan"),
        task_routes={TASKS["scan"]: {"queue": queue_of("scan")},
                     TASKS["rescan"]: {"queue": queue_of("rescan")},
                     TASKS["db_update"]: {"queue": queue_of("db_update")}},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits out a broker outage
        broker_connection_timeout=3,
        broker_heartbeat=10,  # a dead broker connection is noticed in seconds, not minutes
        broker_transport_options={"confirm_publish": True} if broker.startswith(("amqp", "pyamqp")) else {},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        # RabbitMQ redelivers an unacknowledged message when its consumer's connection closes; a scan
        # longer than RabbitMQ's consumer_timeout (30 min by default) must fit in it: limit ≤ that
        enable_utc=True,
    )
    return app


app = make_app()
_PUBLISHERS: dict[tuple[str, str], Celery] = {}


def publisher() -> Celery:
    """The app to publish with under the current environment (a process whose broker or queue prefix
    changed since import, such as a test, gets an app of its own)."""
    key = (os.environ.get(BROKER_ENV, DEFAULT_BROKER), prefix())
    if key == (app.conf.broker_url, app.conf.task_default_queue.rsplit(".", 1)[0]):
        return app
    if key not in _PUBLISHERS:
        _PUBLISHERS[key] = make_app()
    return _PUBLISHERS[key]


def publish(job_id: str, kind: str) -> None:
    """Send a job's message (its id only); raises when the broker did not confirm it (service/jobs.py keeps
    the row `queued` for the relay)."""
    publisher().send_task(TASKS[kind], args=[job_id], queue=queue_of(kind), task_id=job_id, retry=True,
                  retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1})
