"""`/api/v2` stored images and findings across them: every stored inventory matched against the current
vulnerability DB and judged with its stored policy (service/images.py), listed with its verdict and
counts, queried by CVE, package, severity, KEV, inherited or introduced, base image."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from hullscan.errors import HullscanError
from hullscan.model.findings import SEVERITIES
from hullscan.service.api_common import ApiError, Page, PageParams, Services, page_params, paginate, problems, require, services
from hullscan.service.api_scans import FORMATS, Format
from hullscan.service.images import Matched
from hullscan.service.reports import rebuild
from hullscan.state.inventories import StoredSummary, resolve, summaries

router = APIRouter(prefix="/api/v2", tags=["images"], dependencies=[Depends(require("read"))])
Severity = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]


class Counts(BaseModel):
    CRITICAL: int = 0
    HIGH: int = 0
    MEDIUM: int = 0
    LOW: int = 0
    UNKNOWN: int = 0


class ImageOut(BaseModel):
    """A stored image, matched against the current DB."""

    digest: str = Field(description="The image key: manifest digest, else config digest.")
    manifest_digest: str
    config_digest: str
    repository: str
    names: list[str]
    os: str
    packages: int
    layers: int
    first_seen: str
    last_seen: str
    base_image: str
    verdict: Literal["pass", "fail"]
    vulnerabilities: int
    counts: Counts


class FindingOut(BaseModel):
    """One vulnerability of one stored image."""

    image: str
    id: str
    aliases: list[str]
    package: str
    version: str
    ecosystem: str
    purl: str
    severity: Severity
    status: str
    fixed_version: str
    kev: bool
    inherited: bool | None
    base_image: str


def image_out(m: Matched) -> ImageOut:
    s = m.summary
    return ImageOut(digest=s.key, manifest_digest=s.manifest_digest, config_digest=s.config_digest, repository=s.repository,
                    names=list(s.names), os=s.os, packages=s.package_count, layers=s.layer_count, first_seen=s.first_seen,
                    last_seen=s.last_seen, base_image=m.base_image, verdict="pass" if m.verdict == "pass" else "fail",
                    vulnerabilities=sum(m.counts.values()), counts=Counts(**{k: m.counts.get(k, 0) for k in SEVERITIES}))


def _summary(svc: Services, digest: str) -> StoredSummary:
    try:
        key = resolve(svc.store, digest)
    except HullscanError as err:
        raise ApiError(404, str(err)) from None
    return summaries(svc.store, keys=[key])[0]


Repository = Annotated[str | None, Query(max_length=512, description="Only images named in this repository.")]
Digest = Annotated[str, Path(min_length=4, max_length=80, description="sha256:… or a unique prefix of it.")]


@router.get("/images", response_model=Page[ImageOut], responses=problems(400, 401, 403),
            summary="Stored images with their verdicts and counts, most recently seen first")
def list_images(svc: Annotated[Services, Depends(services)], page: Annotated[PageParams, Depends(page_params)],
                repository: Repository = None, verdict: Literal["pass", "fail"] | None = None) -> Page[ImageOut]:
    rows = summaries(svc.store, repository=repository)
    if verdict is None:
        chunk, nxt = paginate(rows, page)
        return Page[ImageOut](items=[image_out(svc.matches.get(s)) for s in chunk], next_cursor=nxt)
    kept = [m for m in svc.matches.each(rows) if m.verdict == verdict]
    chosen, nxt = paginate(kept, page)
    return Page[ImageOut](items=[image_out(m) for m in chosen], next_cursor=nxt)


@router.get("/images/{digest}", response_model=ImageOut, responses=problems(401, 403, 404), summary="One stored image")
def get_image(digest: Digest, svc: Annotated[Services, Depends(services)]) -> ImageOut:
    return image_out(svc.matches.get(_summary(svc, digest)))


@router.get("/images/{digest}/report", responses={
    200: {"description": "The report in the format asked", "content": {t: {} for t in dict.fromkeys(FORMATS.values())}},
    **problems(401, 403, 404)}, summary="A stored image's report now, in any CLI format")
def image_report(digest: Digest, svc: Annotated[Services, Depends(services)], format: Format = "json") -> Response:  # noqa: A002
    from hullscan.report.formats import writer

    summary = _summary(svc, digest)
    key = ("image", summary.key, summary.last_seen, svc.stamp(), format)
    body = svc.rendered.get(key, lambda: writer(format)(rebuild(svc.store, summary.key, db=svc.config.db, stamp=svc.stamp())))
    return Response(body, media_type=FORMATS[format])


@router.get("/findings", response_model=Page[FindingOut], responses=problems(400, 401, 403, 404),
            summary="Findings across stored images")
def findings(svc: Annotated[Services, Depends(services)], page: Annotated[PageParams, Depends(page_params)],
             cve: Annotated[str | None, Query(max_length=100, description="A vulnerability id or alias.")] = None,
             package: Annotated[str | None, Query(max_length=256)] = None,
             severity: Annotated[list[Severity] | None, Query()] = None,
             kev: bool | None = None,
             inherited: Annotated[bool | None, Query(description="true: brought by the base image; false: introduced.")] = None,
             base_image: Annotated[str | None, Query(max_length=512)] = None,
             repository: Repository = None,
             image: Annotated[str | None, Query(min_length=4, max_length=80)] = None) -> Page[FindingOut]:
    rows = summaries(svc.store, repository=repository)
    if image is not None:
        rows = [_summary(svc, image)]
    wanted = set(severity or ())
    out: list[FindingOut] = []
    for m in svc.matches.each(rows):
        for f in m.findings:
            if cve is not None and cve != f.id and cve not in f.aliases:
                continue
            if package is not None and package != f.package:
                continue
            if wanted and f.severity not in wanted:
                continue
            if kev is not None and f.kev != kev:
                continue
            if inherited is not None and f.inherited is not inherited:
                continue
            if base_image is not None and f.base_image != base_image:
                continue
            out.append(FindingOut(image=f.image, id=f.id, aliases=list(f.aliases), package=f.package, version=f.version,
                                  ecosystem=f.ecosystem, purl=f.purl, severity=f.severity,  # type: ignore[arg-type]  # one of SEVERITIES
                                  status=f.status, fixed_version=f.fixed_version, kev=f.kev, inherited=f.inherited,
                                  base_image=f.base_image))
    items, nxt = paginate(out, page)
    return Page[FindingOut](items=items, next_cursor=nxt)
