"""Service jobs (docs/service.md): the `service_job` rows of the state store, their state machine, and the
outbox that makes a broker outage delay jobs without losing any.

    queued ──publish──▶ published ──claim──▶ running ──finish──▶ done
       ▲   (relay, when     │                   │ ▲
       │    the broker was  │                   │ └─ claim again: redelivered after its worker died
       │    down)           └──────fail─────────┴──fail──▶ failed

`submit` commits the row first (`queued`), then publishes its id; when publishing fails (the broker is
down) the row stays `queued` and `relay` — run by the server and by beat — publishes it later. A message
carries only the job id: the worker reads everything else from the row. Every transition is one
conditional UPDATE, so a second delivery of a finished job (a redelivery after a lost ack, or a relay's
duplicate) claims nothing and a second completion changes nothing.

Idempotency: `key` is the sha256 of (kind, target, options, nonce); `live_key` holds it while the job is not
failed, under a unique constraint, so submitting the same scan again returns the existing job (queued,
running or done) and only a failed one is submitted anew. A reference by tag is keyed by the tag: resolve it
to a digest first when a moved tag must give a new job. Rescans and DB updates carry a `nonce` (beat's slot).

Registry credentials (Harbor's per-scan authorization) are never stored in clear: they are encrypted with
Fernet under `$HULLSCAN_JOB_KEY` in the row (not in the message: a relayed or redelivered job needs them
too) and erased when the job ends. Without the key a job with credentials is refused.

A done scan's `result` is its stored image key (state/inventories.py): `report` rebuilds the report from
the stored inventory against the current DB, as `hullscan image stored:sha256:…` does, in any format.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from hullscan.digests import sha256
from hullscan.errors import HullscanError, InputError, UsageError
from hullscan.record import field, record
from hullscan.scan.options import DEFAULT_SCANNERS, SCANNERS
from hullscan.state.models import ServiceJob
from hullscan.state.store import StateStore

KINDS = ("scan", "rescan", "db_update")
STATUSES = ("queued", "published", "running", "done", "failed")
LIVE = ("queued", "published", "running")
KEY_ENV = "HULLSCAN_JOB_KEY"
"""A Fernet key (`hullscan worker --new-job-key` prints one) encrypting jobs' registry credentials."""
RELAY_AFTER = 10.0
"""Seconds a row stays `queued` before the relay publishes it: `submit` itself publishes at once, so the
relay only takes rows whose publish failed, not ones a server is publishing right now."""

_TABLE = ServiceJob.__table__
Publisher = Callable[[str, str], None]
"""publish(job id, kind): send the job's message; raises when the broker cannot take it."""


class NoSuchJob(InputError):
    """A job id the store does not hold (the API's 404)."""


class JobNotDone(HullscanError):
    """A report asked of a job that is not done (the API answers 302/Refresh-After or the job's error)."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id} is {job.status}" + (f": {job.error}" if job.error else ""))
        self.job = job


@record(frozen=True)
class JobOptions:
    """What a scan job is asked to do (the subset of `hullscan image` options that makes sense remotely)."""

    scanners: tuple[str, ...] = tuple(sorted(DEFAULT_SCANNERS))
    platform: str = ""
    """`os/arch[/variant]`; '' = the registry's default for the host."""
    insecure: bool = False
    """Plain HTTP / unverified TLS to the registry (`--insecure`)."""

    def __post_init__(self) -> None:
        unknown = [s for s in self.scanners if s not in SCANNERS]
        if unknown or not self.scanners:
            raise UsageError(f"scanners {', '.join(unknown) or '(none)'}: choose from {', '.join(SCANNERS)}")

    def as_json(self) -> dict[str, Any]:
        return {"scanners": sorted(set(self.scanners)), "platform": self.platform, "insecure": self.insecure}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobOptions:
        return cls(scanners=tuple(data.get("scanners") or DEFAULT_SCANNERS), platform=str(data.get("platform", "")),
                   insecure=bool(data.get("insecure", False)))


@record(frozen=True)
class JobSpec:
    """A job to submit. `reference` is a registry reference (`registry:host/repo@sha256:…`, `host/repo:tag`)
    or, for target kind `archive`, a file in the shared blob directory."""

    kind: str = "scan"
    reference: str = ""
    target_kind: str = "registry"
    """`registry` or `archive`."""
    options: JobOptions = field(default_factory=JobOptions)
    username: str = ""
    password: str = ""
    """Registry credentials for this job only (encrypted at rest, module docstring)."""
    nonce: str = ""
    """Joins the key: a rescan or DB update of another slot is another job."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"job kind {self.kind!r}: one of {', '.join(KINDS)}")
        if self.kind == "scan" and not self.reference:
            raise UsageError("a scan job needs a target reference")
        if self.target_kind not in ("registry", "archive"):
            raise UsageError(f"target kind {self.target_kind!r}: registry or archive")

    @property
    def key(self) -> str:
        doc = {"kind": self.kind, "target": {"kind": self.target_kind, "reference": self.reference},
               "options": self.options.as_json(), "nonce": self.nonce}
        return sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@record(frozen=True)
class Job:
    """A job as stored (without its credentials)."""

    id: str
    kind: str
    key: str
    target_kind: str
    reference: str
    options: JobOptions
    status: str
    attempts: int
    error: str | None
    result: str | None
    """A done scan's stored image key."""
    stats: dict[str, Any] | None
    created_at: float
    updated_at: float
    published_at: float | None
    has_credentials: bool = False

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


# -- the API the server calls -------------------------------------------------------------------------


def submit(store: StateStore, spec: JobSpec, publish: Publisher | None = None) -> Job:
    """The job for `spec`: the existing live one with its key, else a new row committed `queued` and then
    published (left `queued` for the relay when the broker is down)."""
    now = time.time()
    secret = _encrypt(spec.username, spec.password) if (spec.username or spec.password) else None
    key = spec.key
    job_id = str(uuid.uuid4())
    row = {"id": job_id, "kind": spec.kind, "key": key, "live_key": key,
           "target": json.dumps({"kind": spec.target_kind, "reference": spec.reference}),
           "credentials": secret, "options": json.dumps(spec.options.as_json()), "status": "queued", "attempts": 0,
           "created_at": now, "updated_at": now}
    existing = _by_live_key(store, key)
    if existing is not None:
        return existing
    try:
        with _tx(store) as conn:
            conn.execute(insert(ServiceJob).values(**row))
    except HullscanError:
        existing = _by_live_key(store, key)  # another server inserted it meanwhile
        if existing is not None:
            return existing
        raise
    _publish(store, job_id, spec.kind, publish)
    return get(store, job_id)


def get(store: StateStore, job_id: str) -> Job:
    with store.read() as conn:
        found = conn.execute(select(_TABLE).where(ServiceJob.id == job_id)).one_or_none()
        if found is None:
            raise NoSuchJob(f"no job {job_id!r}")
        return _job(found)


def list_jobs(store: StateStore, *, status: str | None = None, kind: str | None = None, limit: int = 100,
              offset: int = 0) -> Sequence[Job]:
    """Jobs, newest first, optionally of one status and kind; a page of `limit` from `offset`."""
    query = select(_TABLE).order_by(ServiceJob.created_at.desc(), ServiceJob.id).limit(limit).offset(offset)
    if status is not None:
        query = query.where(ServiceJob.status == status)
    if kind is not None:
        query = query.where(ServiceJob.kind == kind)
    with store.read() as conn:
        return tuple(_job(j) for j in conn.execute(query))


def report_of(store: StateStore, job: Job, *, db: str | None = None, db_stamp: str | None = None) -> Any:
    """A done scan job's Report, rebuilt from its stored inventory against the current vulnerability DB
    (service/reports.py `rebuild`: exactly what `hullscan image stored:<key>` reports). JobNotDone otherwise.
    With `db_stamp` (the DB's build time) the report is kept and served again until the stamp changes."""
    if job.status != "done" or job.kind != "scan" or not job.result:
        raise JobNotDone(job)
    from hullscan.service.reports import rebuild

    return rebuild(store, job.result, job.options, db=db, stamp=db_stamp)


def report(store: StateStore, job: Job, fmt: str = "json", *, db: str | None = None,
           db_stamp: str | None = None) -> bytes:
    """`report_of` rendered in a CLI format (`json`, `cyclonedx`, `spdx-json`, `sarif`, `table`, …)."""
    from hullscan.report.formats import writer

    render = writer(fmt)  # an unknown format fails before any work
    return render(report_of(store, job, db=db, db_stamp=db_stamp))


def scan_options(options: JobOptions, username: str = "", password: str = "") -> Any:
    """The ScanOptions a scan job runs with (the vulnerability DB: `$HULLSCAN_DB_URL`)."""
    from hullscan.image.target import SourceOptions
    from hullscan.scan.options import ScanOptions

    platform = None
    if options.platform:
        from hullscan.image.model import Platform

        platform = Platform.parse(options.platform)
    return ScanOptions(scanners=frozenset(options.scanners),
                       source=SourceOptions(platform=platform, insecure=options.insecure, username=username,
                                            password=password))


# -- the relay --------------------------------------------------------------------------------------------


def relay(store: StateStore, publish: Publisher | None = None, *, older_than: float = RELAY_AFTER,
          limit: int = 500) -> int:
    """Publish the `queued` jobs older than `older_than` seconds (their submit could not publish); the number
    published. Stops at the first failure: the broker is still down, the next pass tries again."""
    cutoff = time.time() - older_than
    with store.read() as conn:
        rows = conn.execute(select(ServiceJob.id, ServiceJob.kind).where(ServiceJob.status == "queued",
                                                                         ServiceJob.updated_at <= cutoff)
                            .order_by(ServiceJob.created_at).limit(limit)).all()
    done = 0
    for job_id, kind in rows:
        if not _publish(store, job_id, kind, publish):
            break
        done += 1
    return done


# -- the worker's transitions ----------------------------------------------------------------------------


def claim(store: StateStore, job_id: str) -> Job | None:
    """Start (or restart, after its worker died) a live job: `running`, one more attempt. None when the job
    is finished or unknown: a duplicate delivery, acknowledged and dropped."""
    with _tx(store) as conn:
        done = conn.execute(update(ServiceJob).where(ServiceJob.id == job_id, ServiceJob.status.in_(LIVE))
                            .values(status="running", attempts=ServiceJob.attempts + 1, updated_at=time.time()))
    if done.rowcount == 0:
        return None
    return get(store, job_id)


def finish(store: StateStore, job_id: str, result: str | None, stats: dict[str, Any]) -> bool:
    """`running` → `done` with its result; False (nothing changed) when it was not running: completed once."""
    return _move(store, job_id, ("running",), status="done", result=result, stats=json.dumps(stats),
                 error=None, credentials=None)


def fail(store: StateStore, job_id: str, error: str, stats: dict[str, Any] | None = None) -> bool:
    """A live job → `failed` with its error; its key is free again (a new submission makes a new job)."""
    return _move(store, job_id, LIVE, status="failed", error=error[:2000], live_key=None, credentials=None,
                 stats=json.dumps(stats) if stats is not None else None)


def retrying(store: StateStore, job_id: str, error: str) -> bool:
    """A running job whose attempt failed with a retryable error: `published` again (its retry message is
    on the broker), the error kept for the API to show."""
    return _move(store, job_id, ("running",), status="published", error=error[:2000], published_at=time.time())


def requeue(store: StateStore, job_id: str) -> bool:
    """A live job whose message could not be (re)published: `queued` again, for the relay."""
    return _move(store, job_id, LIVE, status="queued")


def credentials(store: StateStore, job_id: str) -> tuple[str, str]:
    """A job's registry (username, password), decrypted; ('', '') when it has none."""
    with store.read() as conn:
        secret = conn.execute(select(ServiceJob.credentials).where(ServiceJob.id == job_id)).scalar_one_or_none()
    if not secret:
        return "", ""
    from cryptography.fernet import Fernet, InvalidToken

    try:
        plain = Fernet(_key()).decrypt(secret)
    except InvalidToken:
        raise UsageError(f"job {job_id}: its credentials do not decrypt with ${KEY_ENV} (was the key changed?)") from None
    user, _, password = plain.decode().partition("\n")
    return user, password


def new_key() -> str:
    """A new Fernet key for `$HULLSCAN_JOB_KEY`."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# -- helpers ------------------------------------------------------------------------------------------------


@contextmanager
def _tx(store: StateStore) -> Iterator[Connection]:
    """A write transaction for job rows. On PostgreSQL without the state writers' lock (job rows are
    independent: a submit must not wait for a long inventory write); SQLite has one writer anyway."""
    with (store.read() if store.is_postgres else store.write()) as conn:
        yield conn


def _move(store: StateStore, job_id: str, from_status: Sequence[str], **values: Any) -> bool:
    with _tx(store) as conn:
        done = conn.execute(update(ServiceJob).where(ServiceJob.id == job_id, ServiceJob.status.in_(from_status))
                            .values(updated_at=time.time(), **values))
    return done.rowcount > 0


def _publish(store: StateStore, job_id: str, kind: str, publish: Publisher | None) -> bool:
    """Publish one job and mark it `published`; False (the row stays `queued`) when the broker refused."""
    if publish is None:
        from hullscan.service.celery_app import publish as default

        publish = default
    try:
        publish(job_id, kind)
    except Exception as err:  # noqa: BLE001 — any broker failure: the relay retries; the row is safe
        import logging

        logging.getLogger("hullscan.service").warning("job %s not published yet (%s: %s); the relay will",
                                                      job_id, type(err).__name__, err)
        return False
    _move(store, job_id, ("queued",), status="published", published_at=time.time())
    return True


def _by_live_key(store: StateStore, key: str) -> Job | None:
    with store.read() as conn:
        found = conn.execute(select(_TABLE).where(ServiceJob.live_key == key)).one_or_none()
        return _job(found) if found is not None else None


def _job(row: Row[Any]) -> Job:
    target = json.loads(row.target)
    return Job(id=row.id, kind=row.kind, key=row.key, target_kind=target.get("kind", "registry"),
               reference=target.get("reference", ""), options=JobOptions.from_json(json.loads(row.options)),
               status=row.status, attempts=row.attempts, error=row.error, result=row.result,
               stats=json.loads(row.stats) if row.stats else None, created_at=row.created_at,
               updated_at=row.updated_at, published_at=row.published_at, has_credentials=row.credentials is not None)


def _key() -> bytes:
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise UsageError(f"registry credentials for a job need ${KEY_ENV} (a Fernet key: `hullscan worker "
                         f"--new-job-key`), so they are never stored in clear")
    return key.encode()


def _encrypt(username: str, password: str) -> bytes:
    from cryptography.fernet import Fernet

    try:
        return Fernet(_key()).encrypt(f"{username}\n{password}".encode())
    except ValueError as err:
        raise UsageError(f"${KEY_ENV} is not a Fernet key ({err})") from None


list = list_jobs  # noqa: A001 — the contract's name (`jobs.list(store, …)`); no code here calls the builtin
