"""`/api/v2` scans and jobs: submit a registry reference or upload an archive (a job for the workers),
follow the job, get its report in any CLI format, ask for a rescan of stored images."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Response, UploadFile
from pydantic import BaseModel, Field

from hullscan.errors import UsageError
from hullscan.service import submit
from hullscan.service.api_common import ApiError, Page, PageParams, Services, cursor_at, page_params, problems, require, services
from hullscan.service.reports import last_seen

router = APIRouter(prefix="/api/v2", tags=["scans"])

FORMATS: dict[str, str] = {
    "json": "application/json",
    "table": "text/plain; charset=utf-8",
    "sarif": "application/sarif+json",
    "cyclonedx": "application/vnd.cyclonedx+json",
    "cyclonedx-xml": "application/vnd.cyclonedx+xml",
    "spdx-json": "application/spdx+json",
    "spdx": "text/spdx; charset=utf-8",
    "junit": "application/xml",
    "html": "text/html; charset=utf-8",
    "openvex": "application/json",
}
"""The CLI's `--format`s a report is served in, with their media types (`template` is not: a template
runs the caller's code on the server)."""
Format = Literal["json", "table", "sarif", "cyclonedx", "cyclonedx-xml", "spdx-json", "spdx", "junit", "html", "openvex"]
Scanner = Literal["vuln", "secret", "config", "license"]
JobStatus = Literal["queued", "published", "running", "done", "failed"]
JobKind = Literal["scan", "rescan", "db_update"]
_REFERENCE = re.compile(r"^(registry:)?[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,511}$")


class ScanIn(BaseModel):
    """A scan of an image in a registry."""

    reference: str = Field(max_length=521, pattern=_REFERENCE.pattern, examples=["registry.example.com/team/app:1.4"],
                           description="An image reference, as `hullscan image registry:REF` takes it.")
    scanners: list[Scanner] | None = Field(default=None, description="The scanners to run (default vuln, secret).")
    platform: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$",
                                 examples=["linux/arm64"])
    insecure: bool = Field(default=False, description="Plain HTTP, or TLS without verifying the certificate.")
    authorization: str | None = Field(default=None, max_length=8192, examples=["Basic YWxpY2U6czNjcmV0"],
                                      description="The Authorization header for the registry (never stored in clear).")


class JobOut(BaseModel):
    """A job: a scan, a rescan or a DB update, `queued` → `published` → `running` → `done` | `failed`."""

    id: str
    kind: str
    status: str
    reference: str
    error: str | None = None
    image: str | None = Field(default=None, description="A done scan's stored image digest (`/api/v2/images/{digest}`).")
    attempts: int
    created_at: str
    updated_at: str


class RescanIn(BaseModel):
    images: list[Annotated[str, Field(min_length=4, max_length=80)]] | None = Field(
        default=None, max_length=1000, description="Stored image digests; null: every stored image.")


def job_out(job: submit.JobView) -> JobOut:
    return JobOut(id=job.id, kind=job.kind, status=job.status, reference=job.reference, error=job.error,
                  image=job.result if job.status == "done" else None, attempts=job.attempts,
                  created_at=_iso(job.created_at), updated_at=_iso(job.updated_at))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.post("/scans", status_code=202, response_model=JobOut, dependencies=[Depends(require("scan"))],
             responses=problems(401, 403, 422), summary="Submit a scan of a registry image")
def submit_scan(body: ScanIn, svc: Annotated[Services, Depends(services)]) -> JobOut:
    ref = body.reference.removeprefix("registry:")
    try:
        job = submit.scan(svc.store, ref, insecure=body.insecure, authorization=body.authorization,
                          scanners=body.scanners, platform=body.platform or "")
    except UsageError as err:
        raise ApiError(422, str(err)) from None
    return job_out(job)


@router.post("/scans/upload", status_code=202, response_model=JobOut, dependencies=[Depends(require("scan"))],
             responses=problems(401, 403, 409, 413, 422), summary="Upload an image archive and scan it")
async def upload_scan(svc: Annotated[Services, Depends(services)],
                      file: Annotated[UploadFile, File(description="A docker-archive or OCI archive (tar, tar.gz).")],
                      scanners: Annotated[list[Scanner] | None, Form()] = None) -> JobOut:
    blob_dir = svc.config.blob_dir
    if not blob_dir:
        raise ApiError(409, "uploads are off: the server has no blob directory (hullscan server --blob-dir, "
                            "$HULLSCAN_BLOB_DIR, shared with the workers)")
    os.makedirs(os.path.join(blob_dir, "uploads"), exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=os.path.join(blob_dir, "uploads"), prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > svc.config.max_upload:
                    raise ApiError(413, f"the archive is larger than {svc.config.max_upload} bytes")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ApiError(422, "the uploaded archive is empty")
        # content-addressed: the same archive uploaded twice is one file and one job
        path = os.path.join(blob_dir, "uploads", f"sha256-{digest.hexdigest()}.tar")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    job = submit.scan(svc.store, os.path.relpath(path, blob_dir), target_kind="archive", scanners=scanners)
    return job_out(job)


@router.get("/jobs", response_model=Page[JobOut], dependencies=[Depends(require("read"))], responses=problems(400, 401, 403),
            summary="List jobs, newest first")
def list_jobs(svc: Annotated[Services, Depends(services)], page: Annotated[PageParams, Depends(page_params)],
              status: JobStatus | None = None, kind: JobKind | None = None) -> Page[JobOut]:
    found = submit.listing(svc.store, status=status, kind=kind, offset=page.offset, limit=page.limit + 1)
    nxt = cursor_at(page.offset + page.limit) if len(found) > page.limit else None
    return Page[JobOut](items=[job_out(j) for j in found[:page.limit]], next_cursor=nxt)


JobId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/jobs/{job_id}", response_model=JobOut, dependencies=[Depends(require("read"))], responses=problems(401, 403, 404),
            summary="A job's status")
def get_job(job_id: JobId, svc: Annotated[Services, Depends(services)]) -> JobOut:
    job = submit.get(svc.store, job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id}")
    return job_out(job)


@router.get("/jobs/{job_id}/report", dependencies=[Depends(require("read"))], responses={
    200: {"description": "The report in the format asked", "content": {t: {} for t in dict.fromkeys(FORMATS.values())}},
    **problems(401, 403, 404, 409)}, summary="A done scan's report in any CLI format")
def job_report(job_id: JobId, svc: Annotated[Services, Depends(services)], format: Format = "json") -> Response:  # noqa: A002
    job = submit.get(svc.store, job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id}")
    if job.kind != "scan":
        raise ApiError(409, f"job {job_id} is a {job.kind}: only scans have a report")
    if job.status == "failed":
        raise ApiError(409, f"job {job_id} failed: {job.error or 'no reason recorded'}")
    if job.status != "done":
        raise ApiError(409, f"job {job_id} is {job.status}: ask again later",
                       headers={"Retry-After": str(svc.config.refresh_after)})
    key = ("job", job.result or "", last_seen(svc.store, job.result or ""), svc.stamp(), format)
    body = svc.rendered.get(key, lambda: submit.render(svc.store, job, format, db=svc.config.db, stamp=svc.stamp()))
    return Response(body, media_type=FORMATS[format])


@router.post("/rescans", status_code=202, response_model=JobOut, dependencies=[Depends(require("scan"))],
             responses=problems(401, 403, 404, 422, 501), summary="Match stored images again against the current DB")
def rescan(svc: Annotated[Services, Depends(services)], body: RescanIn | None = None) -> JobOut:
    from hullscan.errors import HullscanError
    from hullscan.state.inventories import resolve

    keys = None
    if body is not None and body.images is not None:
        keys = []
        for text in body.images:
            try:
                keys.append(resolve(svc.store, text))
            except HullscanError as err:
                raise ApiError(404, str(err)) from None
    try:
        return job_out(submit.rescan(svc.store, keys))
    except UsageError as err:  # the job system has no rescan task in this build
        raise ApiError(501, str(err)) from None


@router.get("/formats", dependencies=[Depends(require("read"))], responses=problems(401, 403),
            summary="The report formats and their media types")
def formats() -> dict[str, str]:
    return dict(FORMATS)
