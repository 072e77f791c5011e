"""The routes' one door to the job system (service/jobs.py: the outbox, the worker's queue) and to the
vulnerability DB's facts they show: submit a scan or a rescan, read a job, get its report. The server
never scans: a route submits a job and a worker runs it."""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from hullscan.errors import UsageError
from hullscan.model.report import Report
from hullscan.service import jobs
from hullscan.service.harbor import AdvisoryText
from hullscan.service.jobs import Job, JobOptions, JobSpec
from hullscan.state.store import StateStore


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as the APIs show it."""

    id: str
    kind: str
    status: str
    target_kind: str
    """`registry`, `archive` (an upload, in the blob directory) or `stored` (a rescan)."""
    reference: str
    """What the job scans: a registry reference, an archive's path in the blob directory; a rescan's
    `stored:sha256:…` images ('' for every stored image)."""
    error: str | None
    result: str | None
    """A done scan's stored image key."""
    attempts: int
    created_at: float
    updated_at: float


def registry_host(url: str) -> tuple[str, bool]:
    """(host[:port], plain HTTP?) of Harbor's `registry.url` (`https://core.harbor.domain`)."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "", False
    if not host or parts.scheme not in ("http", "https"):
        return "", False
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return netloc, parts.scheme == "http"


def _view(job: Job) -> JobView:
    return JobView(id=job.id, kind=job.kind, status=job.status, target_kind=job.target_kind, reference=job.reference,
                   error=job.error, result=job.result, attempts=job.attempts, created_at=job.created_at,
                   updated_at=job.updated_at)


def credentials(authorization: str | None) -> tuple[str, str]:
    """(username, password) of an Authorization header's Basic credentials (Harbor's robot account);
    ('', '') for none. UsageError for another scheme: registries take these through their token service."""
    if not authorization or not authorization.strip():
        return "", ""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise UsageError(f"registry authorization {scheme!r}: hullscan takes Basic credentials (a robot account)")
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise UsageError("registry authorization: Basic credentials are base64 of user:password") from None
    if not sep:
        raise UsageError("registry authorization: Basic credentials are base64 of user:password")
    return user, password


def scan(store: StateStore, reference: str, *, target_kind: str = "registry", insecure: bool = False,
         authorization: str | None = None, scanners: Sequence[str] | None = None, platform: str = "") -> JobView:
    """Submit a scan of a registry reference (or of an uploaded archive, `target_kind="archive"`:
    `reference` is its path in the blob directory); an equal submission still live is that job."""
    from hullscan.scan.options import DEFAULT_SCANNERS

    user, password = credentials(authorization)
    options = JobOptions(scanners=tuple(sorted(set(scanners or DEFAULT_SCANNERS))), platform=platform, insecure=insecure)
    return _view(jobs.submit(store, JobSpec(kind="scan", reference=reference, target_kind=target_kind, options=options,
                                            username=user, password=password)))


def rescan(store: StateStore, keys: Sequence[str] | None, *, now: float | None = None) -> JobView:
    """Submit a rescan of these stored images (None: all). Asked again within the same minute, it is the
    same job (the minute is its nonce)."""
    reference = " ".join(f"stored:{k}" for k in sorted(set(keys))) if keys else ""
    slot = str(int((now if now is not None else time.time()) // 60))
    return _view(jobs.submit(store, JobSpec(kind="rescan", reference=reference, nonce=slot)))


def get(store: StateStore, job_id: str) -> JobView | None:
    if len(job_id) > 64:
        return None
    try:
        return _view(jobs.get(store, job_id))
    except jobs.NoSuchJob:
        return None


def listing(store: StateStore, *, status: str | None = None, kind: str | None = None, offset: int = 0,
            limit: int = 100) -> list[JobView]:
    return [_view(j) for j in jobs.list_jobs(store, status=status, kind=kind, offset=offset, limit=limit)]


def report_model(store: StateStore, job: JobView, *, db: str | None = None, stamp: str | None = None) -> Report:
    """A done scan's report now: its stored inventory matched against the DB `db` (jobs.report_of; kept
    while the DB build time `stamp` holds)."""
    found: Report = jobs.report_of(store, jobs.get(store, job.id), db=db, db_stamp=stamp)
    return found


def db_updated_at(db: str | None) -> str | None:
    """When the vulnerability DB was built (RFC 3339), None when it cannot be read."""
    from hullscan.errors import HullscanError
    from hullscan.vulndb.read import open_reader

    try:
        with open_reader(db) as reader:
            built = reader.built_at
    except HullscanError:
        return None
    return built.strftime("%Y-%m-%dT%H:%M:%SZ") if built is not None else None


def advisory_texts(db: str | None, report: Report) -> dict[str, AdvisoryText]:
    """Descriptions and CWE ids of the report's advisories, from the DB ({} when it cannot be read)."""
    from hullscan.errors import HullscanError
    from hullscan.vulndb.read import open_reader

    ids = {i for f in report.vulnerabilities for i in (f.id, *f.advisory_ids)}
    if not ids:
        return {}
    try:
        with open_reader(db) as reader:
            found = reader.advisories(ids)
    except HullscanError:
        return {}
    return {k: AdvisoryText((a.details or a.summary or "").strip(), tuple(a.cwes)) for k, a in found.items()}


def render(store: StateStore, job: JobView, fmt: str, *, db: str | None = None, stamp: str | None = None) -> bytes:
    """A done scan's report in a CLI format (`json`, `cyclonedx`, `spdx-json`, `sarif`, `table`, …)."""
    from hullscan.report.formats import writer

    return writer(fmt)(report_model(store, job, db=db, stamp=stamp))
