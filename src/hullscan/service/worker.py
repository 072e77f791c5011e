"""The tasks `hullscan worker` runs (docs/service.md): a scan job runs the scan service exactly as
`hullscan image registry:… --store` does (scan/wiring.py) and stores the image's inventory in the state
store; a DB update job runs `hullscan db update` and then submits a rescan.

Each task carries only a job id. Running one: take the job's lock (a duplicate delivery of a job another
worker is running right now is dropped), claim the row (a job already finished is dropped: its
redelivery after a lost acknowledgement completes nothing twice), take a slot of its registry's
semaphore, scan, store, finish. Errors:
- I/O, network and registry failures (FetchError, exit-3 class; PostgreSQL unreachable) are retried with
  exponential backoff (`$HULLSCAN_JOB_RETRIES` times, default 3, from `$HULLSCAN_JOB_BACKOFF` seconds,
  default 5, doubling), then the job fails with the last error;
- bad input (exit-2 class: no such image, a malformed manifest) and a DB problem fail at once;
- the soft time limit and the memory limit fail the job naming the limit.

A rescan job is `hullscan rescan` of the stored images its reference names (`stored:KEY …`; none: all of
them), its notifications enqueued by the rescan and delivered at once (docs/rescan.md).
"""

from __future__ import annotations

import logging
import os
import resource
import socket
import time
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init

from hullscan.errors import DatabaseError, FetchError, HullscanError
from hullscan.service import jobs
from hullscan.service.celery_app import TASKS, app, memory_limit_mb
from hullscan.state.store import StateStore

log = logging.getLogger("hullscan.worker")
RETRIES_ENV = "HULLSCAN_JOB_RETRIES"
BACKOFF_ENV = "HULLSCAN_JOB_BACKOFF"
BLOB_DIR_ENV = "HULLSCAN_BLOB_DIR"
"""The directory uploaded archives are shared in (the server writes, workers read)."""
_STATE: dict[str, StateStore] = {}


@worker_process_init.connect
def _limit_memory(**_: Any) -> None:
    """The per-job memory limit (celery_app.py): address space of this worker child."""
    limit = memory_limit_mb() * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _STATE.clear()  # a forked child opens its own connections


def state() -> StateStore:
    """This process's state store (`$HULLSCAN_STATE_URL`; its pool re-connects after a PostgreSQL restart)."""
    if "store" not in _STATE:
        from hullscan.state.store import open_state

        _STATE["store"] = open_state(None)
    return _STATE["store"]


def _state_url() -> str:
    from hullscan.state.location import resolve

    return resolve(None)[0]


def retries() -> int:
    return int(os.environ.get(RETRIES_ENV, "3"))


def backoff(retry: int) -> float:
    """Seconds before retry `retry` (0 for the first): the base doubled each time."""
    return float(os.environ.get(BACKOFF_ENV, "5")) * 2 ** retry


@app.task(bind=True, name=TASKS["scan"], max_retries=None)
def scan_task(self: Any, job_id: str) -> None:
    _run(self, job_id, _scan)


@app.task(bind=True, name=TASKS["db_update"], max_retries=None)
def db_update_task(self: Any, job_id: str) -> None:
    _run(self, job_id, _db_update)


@app.task(bind=True, name=TASKS["rescan"], max_retries=None)
def rescan_task(self: Any, job_id: str) -> None:
    _run(self, job_id, _rescan)


def _run(task: Any, job_id: str, body: Any) -> None:
    """One delivery of a job (module docstring)."""
    try:
        store = state()
    except HullscanError as err:  # the state store is unreachable: nothing claimed, try again later
        raise task.retry(countdown=backoff(min(task.request.retries, 6)), exc=err) from None
    locks = None
    if store.is_postgres:
        from hullscan.service.locks import JobLocks

        locks = JobLocks(_state_url())
    try:
        if locks is not None:
            locks.__enter__()
            if not locks.job(job_id, wait=app.conf.task_soft_time_limit / 2):
                log.info("job %s: still running on another worker; this delivery is dropped", job_id)
                return
        job = jobs.claim(store, job_id)
        if job is None:
            log.info("job %s: finished already; this delivery is dropped", job_id)
            return
        started = time.perf_counter()
        try:
            result, stats = body(store, job, locks)
        except SoftTimeLimitExceeded:
            jobs.fail(store, job_id, f"time limit: the job ran past {task.soft_time_limit or app.conf.task_soft_time_limit} s")
            return
        except MemoryError:
            jobs.fail(store, job_id, f"memory limit: the job needed more than {memory_limit_mb()} MiB")
            return
        except (FetchError, _pg_operational()) as err:
            message = _message(err)
            if task.request.retries < retries():
                wait = backoff(task.request.retries)
                jobs.retrying(store, job_id, f"attempt {task.request.retries + 1} failed: {message}; retrying in "
                                             f"{wait:.0f} s")
                _retry(task, store, job_id, wait, err)
            jobs.fail(store, job_id, f"{message} (after {task.request.retries + 1} attempts)")
            return
        except (HullscanError, DatabaseError) as err:
            jobs.fail(store, job_id, _message(err))
            return
        except Exception as err:  # a bug: the job says so instead of being redelivered forever
            log.exception("job %s: internal error", job_id)
            jobs.fail(store, job_id, f"internal error: {type(err).__name__}: {err}")
            return
        stats = {**stats, "seconds": round(time.perf_counter() - started, 3), "worker": socket.gethostname(),
                 "pid": os.getpid()}
        if not jobs.finish(store, job_id, result, stats):
            log.info("job %s: completed elsewhere meanwhile; this completion changed nothing", job_id)
    finally:
        if locks is not None:
            locks.__exit__(None, None, None)


def _retry(task: Any, store: StateStore, job_id: str, wait: float, err: BaseException) -> None:
    """Schedule the retry; when the broker cannot take it, the row goes back to `queued` for the relay."""
    from celery.exceptions import Retry

    try:
        task.retry(countdown=wait, exc=err)
    except Retry:
        raise
    except Exception:  # noqa: BLE001 — the broker refused the retry message
        jobs.requeue(store, job_id)
        raise Retry from None


def _pg_operational() -> type[BaseException]:
    import psycopg

    return psycopg.OperationalError


def _message(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


# -- the job bodies: (store, job, locks) → (result, stats) ----------------------------------------------


def _scan(store: StateStore, job: jobs.Job, locks: Any) -> tuple[str, dict[str, Any]]:
    from hullscan.policy.load import load_policy
    from hullscan.report.json_report import render_packages
    from hullscan.scan.wiring import build_service
    from hullscan.state.inventories import store_report

    target = _target(job)
    username, password = jobs.credentials(store, job.id) if job.has_credentials else ("", "")
    service = build_service(jobs.scan_options(job.options, username, password))
    cache_url = os.environ.get("HULLSCAN_CACHE_URL", "")
    misses: list[int] = []
    if cache_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from hullscan.cache.pg import open_pg_cache

        def layer_cache() -> tuple[Any, list[str]]:
            warnings: list[str] = []
            cache = open_pg_cache(cache_url, warnings.append)
            if cache is not None:
                misses.append(0)
                _counted(cache, misses)
            return cache, warnings

        service.layer_cache = layer_cache
    if locks is not None and target.startswith("registry:"):
        from hullscan.image.registry_ref import parse_reference

        locks.registry(parse_reference(target[len("registry:"):]).registry, wait=app.conf.task_soft_time_limit / 2)
    scanned = service.scan(target, render_packages=render_packages)
    done = store_report(store, scanned, load_policy(None))
    stats = {"walked": scanned.stats.walked, "cached": scanned.stats.cached,
             "result_cached": bool(getattr(scanned.stats, "result_cached", False)), "layers_missed": sum(misses),
             "packages": len(scanned.packages), "vulnerabilities": len(scanned.vulnerabilities)}
    return done.key, stats


def _counted(cache: Any, misses: list[int]) -> None:
    """Add the cache's layer misses to `misses[-1]` when it closes (the facts-cache misses of this job)."""
    close = cache.close

    def counting_close() -> None:
        misses[-1] += cache.misses
        close()

    cache.close = counting_close


def _target(job: jobs.Job) -> str:
    if job.target_kind == "archive":
        base = os.environ.get(BLOB_DIR_ENV, "")
        if not base:
            raise HullscanError(f"archive jobs need ${BLOB_DIR_ENV}, the directory uploads are shared in")
        path = os.path.realpath(os.path.join(base, job.reference))
        if not path.startswith(os.path.realpath(base) + os.sep):
            raise HullscanError(f"archive {job.reference!r} is outside ${BLOB_DIR_ENV}")
        return path
    ref = job.reference
    return ref if ref.startswith("registry:") else f"registry:{ref}"


def _db_update(store: StateStore, job: jobs.Job, locks: Any) -> tuple[str | None, dict[str, Any]]:
    """`hullscan db update` of the default feeds into `$HULLSCAN_DB_URL`, then a rescan of every stored image
    (a job of its own, keyed by this update: its redelivery submits the same one)."""
    from hullscan.vulndb import update as upd

    result = upd.update(None, upd.default_feeds())
    outcomes = {o.feed: o.status for o in result.outcomes}
    rescan = jobs.submit(store, jobs.JobSpec(kind="rescan", nonce=f"after db_update {job.id}"))
    return None, {"feeds": outcomes, "failed": [o.feed for o in result.failed], "rescan": rescan.id}


def _rescan(store: StateStore, job: jobs.Job, locks: Any) -> tuple[str | None, dict[str, Any]]:
    """`hullscan rescan` of the job's stored images against `$HULLSCAN_DB_URL`, then delivery of what it notified."""
    from hullscan.notify.deliver import deliver
    from hullscan.rescan.run import rescan
    from hullscan.vulndb.read import open_reader

    keys = [ref.removeprefix("stored:") for ref in job.reference.split()] or None
    with open_reader(None) as db:
        result = rescan(store, db, keys=keys)
    delivered = deliver(store, once=True).delivered
    return None, {"generation": result.generation, "mode": result.mode, "selected": result.selected,
                  "rematched": len(result.images), "untouched": result.untouched, "delivered": delivered}
