"""The Harbor Pluggable Scanner API v1.2 (`/api/v1`), as the spec file in tests/service/testdata says:
metadata, scan requests (a job for the worker: the server never scans) and reports in the MIME type
Harbor asks for. Every route needs a token of scope `scan` (Harbor's registration token).

Harbor polls `GET /scan/{id}/report` until it gets 200 or 500: 302 with `Refresh-After` while the job
is queued or running, 500 with the job's error when it failed, 404 for an id no scan request gave.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ValidationError

from hullscan.errors import UsageError
from hullscan.service import harbor, submit
from hullscan.service.api_common import ApiError, Services, require, services
from hullscan.service.reports import last_seen

router = APIRouter(prefix="/api/v1", include_in_schema=False, dependencies=[Depends(require("scan"))])


class _Registry(BaseModel):
    url: str
    authorization: str | None = None


class _Artifact(BaseModel):
    repository: str
    digest: str
    tag: str | None = None
    mime_type: str | None = None


class _Capability(BaseModel):
    type: str
    produces_mime_types: list[str] | None = None
    parameters: dict[str, Any] | None = None


class _ScanRequest(BaseModel):
    registry: _Registry
    artifact: _Artifact
    enabled_capabilities: list[_Capability] | None = None


@router.get("/metadata")
def get_metadata(svc: Annotated[Services, Depends(services)]) -> Response:
    body = harbor.metadata(submit.db_updated_at(svc.config.db))
    return Response(json.dumps(body), media_type=harbor.METADATA_1_1)


@router.post("/scan")
async def accept_scan(request: Request, svc: Annotated[Services, Depends(services)]) -> Response:
    raw = await request.body()
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the scan request is not JSON") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "the scan request is not a JSON object")
    try:
        req = _ScanRequest.model_validate(doc)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ApiError(422, f"scan request: {where}: {first['msg']}") from None
    art = req.artifact
    if art.mime_type and art.mime_type not in harbor.CONSUMES:
        raise ApiError(501, f"artifact mime_type {art.mime_type!r}: hullscan scans {', '.join(harbor.CONSUMES)}")
    for cap in req.enabled_capabilities or []:
        if cap.type not in ("vulnerability", "sbom"):
            raise ApiError(501, f"capability {cap.type!r}: hullscan has vulnerability and sbom")
    if not art.digest.startswith("sha256:") or len(art.digest) != 71:
        raise ApiError(422, f"artifact.digest {art.digest!r}: not a sha256 digest")
    host, insecure = submit.registry_host(req.registry.url)
    if not host or not art.repository.strip():
        raise ApiError(422, "registry.url and artifact.repository name the image to pull")
    try:
        job = submit.scan(svc.store, f"{host}/{art.repository}@{art.digest}", insecure=insecure,
                          authorization=req.registry.authorization or None)
    except UsageError as err:
        raise ApiError(422, str(err)) from None
    return Response(json.dumps({"id": job.id}), status_code=202, media_type=harbor.SCAN_RESPONSE)


@router.get("/scan/{scan_request_id}/report")
def get_report(scan_request_id: str, svc: Annotated[Services, Depends(services)],
               accept: Annotated[str | None, Header()] = None,
               sbom_media_type: Annotated[str | None, Query()] = None) -> Response:
    wanted = harbor.negotiate(accept)
    if wanted is None:
        raise ApiError(501, f"hullscan produces none of {accept!r}; it produces {', '.join(harbor.REPORT_TYPES)}")
    if wanted == harbor.SBOM_REPORT and sbom_media_type not in harbor.SBOM_MEDIA_TYPES:
        raise ApiError(400, f"an SBOM report needs ?sbom_media_type= one of {', '.join(harbor.SBOM_MEDIA_TYPES)}")
    job = submit.get(svc.store, scan_request_id)
    if job is None or job.kind != "scan":
        return Response(status_code=404)
    if job.status == "failed":
        raise ApiError(500, f"the scan failed: {job.error or 'no reason recorded'}")
    if job.status != "done":
        return Response(status_code=302, headers={"Refresh-After": str(svc.config.refresh_after)})
    key = ("harbor", job.result or "", last_seen(svc.store, job.result or ""), svc.stamp(), job.reference, wanted,
           str(sbom_media_type))
    return Response(svc.rendered.get(key, lambda: _render(svc, job, wanted, sbom_media_type)), media_type=wanted)


def _render(svc: Services, job: submit.JobView, wanted: str, sbom_media_type: str | None) -> bytes:
    artifact = _artifact_of(job.reference)
    report = submit.report_model(svc.store, job, db=svc.config.db, stamp=svc.stamp())
    if wanted == harbor.VULN_RAW:
        from hullscan.report.json_report import render

        return render(report)
    if wanted == harbor.SBOM_REPORT:
        fmt = "spdx-json" if sbom_media_type == harbor.SPDX_JSON else "cyclonedx"
        from hullscan.report.formats import writer

        sbom = json.loads(writer(fmt)(report))
        body = harbor.sbom_report(report, artifact, str(sbom_media_type), sbom)
    else:
        body = harbor.vulnerability_report(report, artifact, submit.advisory_texts(svc.config.db, report))
    return json.dumps(body).encode()


def _artifact_of(reference: str) -> dict[str, str]:
    """Harbor's artifact of the reference its scan request made (`host/repository@digest`)."""
    name, _, digest = reference.partition("@")
    return harbor.artifact(name.partition("/")[2], digest, mime_type=harbor.OCI_MANIFEST)

