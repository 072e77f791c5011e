"""`/api/v2` administration: the base image catalog (list; add a stored image by digest or name; remove),
policies kept by the server (store, list, get, remove) and webhooks (notify/endpoints.py). Reading the
catalog and the policies needs `read`; every change, and the webhooks (their URLs may carry secrets),
need `admin`."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, insert, select

from hullscan.errors import HullscanError
from hullscan.service.api_common import ApiError, Page, PageParams, Services, page_params, paginate, problems, require, services
from hullscan.state.models import ServicePolicy

router = APIRouter(prefix="/api/v2", tags=["admin"])
_POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


# -- base catalog ------------------------------------------------------------------------------------


class BaseOut(BaseModel):
    id: int
    name: str
    tags: list[str]
    manifest_digest: str
    config_digest: str
    platform: str
    os: str
    layers: int
    packages: int
    added_at: str
    updated_at: str


class BaseIn(BaseModel):
    """A stored image (scanned through the service first) to catalogue as a base."""

    image: str | None = Field(default=None, min_length=4, max_length=80, description="A stored image digest.")
    reference: str | None = Field(default=None, min_length=1, max_length=512,
                                  description="A name a stored image was scanned under (`debian:12`).")
    name: str | None = Field(default=None, min_length=1, max_length=255, description="The repository to list it under.")
    tags: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(default=None, max_length=100)


class BaseAdded(BaseModel):
    id: int
    reference: str
    new: bool


class Removed(BaseModel):
    removed: list[str]


@router.get("/bases", response_model=Page[BaseOut], dependencies=[Depends(require("read"))],
            responses=problems(400, 401, 403), summary="The base image catalog")
def list_bases(svc: Annotated[Services, Depends(services)], page: Annotated[PageParams, Depends(page_params)]) -> Page[BaseOut]:
    from hullscan.state.catalog import open_catalog

    with open_catalog(svc.config.state, schema=svc.config.schema) as catalog:
        rows = catalog.listing()
    chunk, nxt = paginate(rows, page)
    return Page[BaseOut](items=[BaseOut(
        id=r.entry.id, name=r.entry.name, tags=list(r.entry.tags), manifest_digest=r.entry.manifest_digest,
        config_digest=r.entry.config_digest, platform=r.entry.platform,
        os=f"{r.entry.os_id} {r.entry.os_version}".strip(), layers=len(r.entry.diff_ids), packages=r.packages,
        added_at=r.added_at, updated_at=r.updated_at) for r in chunk], next_cursor=nxt)


@router.post("/bases", status_code=201, response_model=BaseAdded, dependencies=[Depends(require("admin"))],
             responses=problems(401, 403, 404, 422), summary="Catalogue a stored image as a base")
def add_base(body: BaseIn, svc: Annotated[Services, Depends(services)]) -> BaseAdded:
    from hullscan.state import edit
    from hullscan.state.inventories import load, resolve, summaries
    from hullscan.state.names import split_name

    if (body.image is None) == (body.reference is None):
        raise ApiError(422, "give one of image (a stored digest) or reference (a name it was scanned under)")
    try:
        if body.image is not None:
            key = resolve(svc.store, body.image)
            repo, tag = "", ""
        else:
            repo, tag, _digest = split_name(str(body.reference))
            wanted = f"{repo}:{tag}" if tag else repo
            found = [s for s in summaries(svc.store, repository=repo) if wanted in s.names or not tag]
            if not found:
                raise ApiError(404, f"no stored image is named {body.reference!r}: submit a scan of it first "
                                    "(POST /api/v2/scans), then add it")
            key = found[0].key
        stored = load(svc.store, key)
        name = body.name or repo or stored.summary.repository
        if not name:
            raise ApiError(422, "the stored image names no repository: give name")
        if body.tags is not None:
            tags = body.tags
        elif tag:
            tags = [tag]
        else:  # the tags it was stored under in that repository
            tags = [n.rpartition(":")[2] for n in stored.summary.names if "@" not in n and n.startswith(name + ":")]
        added = edit.add(svc.store, [edit.from_report(stored.report, name, tags)])[0]
    except HullscanError as err:
        raise ApiError(422 if "no stored image" not in str(err) else 404, str(err)) from None
    return BaseAdded(id=added.entry_id, reference=added.reference, new=added.new)


@router.delete("/bases", response_model=Removed, dependencies=[Depends(require("admin"))],
               responses=problems(401, 403, 404, 422), summary="Remove bases: NAME:TAG, NAME, NAME@DIGEST or a digest")
def remove_base(svc: Annotated[Services, Depends(services)],
                selector: Annotated[str, Query(min_length=1, max_length=512)]) -> Removed:
    from hullscan.state import edit

    try:
        return Removed(removed=edit.remove(svc.store, selector))
    except HullscanError as err:
        raise ApiError(404 if "no catalogued base" in str(err) else 422, str(err)) from None


# -- policies ----------------------------------------------------------------------------------------


class PolicyOut(BaseModel):
    name: str
    digest: str
    updated_at: str


PolicyName = Annotated[str, Path(min_length=1, max_length=100, pattern=_POLICY_NAME.pattern)]


@router.get("/policies", response_model=Page[PolicyOut], dependencies=[Depends(require("read"))],
            responses=problems(400, 401, 403), summary="The policies the server keeps")
def list_policies(svc: Annotated[Services, Depends(services)], page: Annotated[PageParams, Depends(page_params)]) -> Page[PolicyOut]:
    with svc.store.read() as conn:
        rows = conn.execute(select(ServicePolicy.name, ServicePolicy.digest, ServicePolicy.updated_at)
                            .order_by(ServicePolicy.name)).all()
    chunk, nxt = paginate(rows, page)
    return Page[PolicyOut](items=[PolicyOut(name=r.name, digest=r.digest, updated_at=r.updated_at) for r in chunk],
                           next_cursor=nxt)


@router.put("/policies/{name}", response_model=PolicyOut, dependencies=[Depends(require("admin"))],
            responses=problems(401, 403, 422), summary="Store a policy (YAML or JSON, docs/policy.md)")
def put_policy(name: PolicyName, svc: Annotated[Services, Depends(services)],
               document: Annotated[str, Body(media_type="application/yaml", max_length=1 << 20)]) -> PolicyOut:
    check_policy(document)
    digest = "sha256:" + hashlib.sha256(document.encode()).hexdigest()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with svc.store.write() as conn:
        conn.execute(delete(ServicePolicy).where(ServicePolicy.name == name))
        conn.execute(insert(ServicePolicy).values(name=name, document=document, digest=digest, updated_at=now))
    return PolicyOut(name=name, digest=digest, updated_at=now)


@router.get("/policies/{name}", dependencies=[Depends(require("read"))], responses={
    200: {"description": "The policy as it was stored", "content": {"application/yaml": {"schema": {"type": "string"}}}},
    **problems(401, 403, 404)}, summary="One policy's document")
def get_policy(name: PolicyName, svc: Annotated[Services, Depends(services)]) -> Response:
    with svc.store.read() as conn:
        doc = conn.execute(select(ServicePolicy.document).where(ServicePolicy.name == name)).scalar()
    if doc is None:
        raise ApiError(404, f"no policy named {name!r}")
    return Response(doc, media_type="application/yaml")


@router.delete("/policies/{name}", status_code=204, dependencies=[Depends(require("admin"))],
               responses=problems(401, 403, 404), summary="Remove a policy")
def remove_policy(name: PolicyName, svc: Annotated[Services, Depends(services)]) -> Response:
    with svc.store.write() as conn:
        gone = conn.execute(delete(ServicePolicy).where(ServicePolicy.name == name)).rowcount
    if not gone:
        raise ApiError(404, f"no policy named {name!r}")
    return Response(status_code=204)


def check_policy(document: str) -> None:
    """A policy document read as `--policy FILE` reads it (its schema, its rules): 422 when it fails."""
    from hullscan.policy.load import load_policy

    fd, path = tempfile.mkstemp(suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(document)
        load_policy(path, ignorefile=os.devnull)
    except HullscanError as err:
        raise ApiError(422, f"policy: {str(err).replace(path, 'document')}") from None
    finally:
        os.unlink(path)


# -- webhooks ----------------------------------------------------------------------------------------


class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=2048, examples=["https://hooks.example.com/hullscan"])
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    secret_env: str | None = Field(default=None, max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                   description="The environment variable (of the notifier) holding the HMAC key.")
    cloudevents: bool = False


class WebhookOut(BaseModel):
    id: int
    name: str
    url: str = Field(description="Without user info or query (they may carry a token).")
    secret: str = Field(description="Where the HMAC key is read from (`env:VAR`, `file:PATH`, `none`), never the key.")
    cloudevents: bool
    added_at: str


def _webhook(e: object) -> WebhookOut:
    from hullscan.notify.endpoints import Endpoint, shown_url

    assert isinstance(e, Endpoint)
    return WebhookOut(id=e.id, name=e.name, url=shown_url(e.url), secret=e.secret_source, cloudevents=e.cloudevents,
                      added_at=e.added_at)


@router.get("/webhooks", response_model=Page[WebhookOut], dependencies=[Depends(require("admin"))],
            responses=problems(400, 401, 403), summary="Webhook endpoints")
def list_webhooks(svc: Annotated[Services, Depends(services)], page: Annotated[PageParams, Depends(page_params)]) -> Page[WebhookOut]:
    from hullscan.notify.endpoints import listing

    chunk, nxt = paginate(listing(svc.store), page)
    return Page[WebhookOut](items=[_webhook(e) for e in chunk], next_cursor=nxt)


@router.post("/webhooks", status_code=201, response_model=WebhookOut, dependencies=[Depends(require("admin"))],
             responses=problems(401, 403, 422), summary="Add a webhook endpoint")
def add_webhook(body: WebhookIn, svc: Annotated[Services, Depends(services)]) -> WebhookOut:
    from hullscan.notify.endpoints import add

    try:
        return _webhook(add(svc.store, body.url, name=body.name, secret_env=body.secret_env, cloudevents=body.cloudevents))
    except HullscanError as err:
        raise ApiError(422, str(err)) from None


@router.delete("/webhooks/{name}", status_code=204, dependencies=[Depends(require("admin"))],
               responses=problems(401, 403, 404), summary="Remove a webhook endpoint")
def remove_webhook(name: Annotated[str, Path(min_length=1, max_length=100)], svc: Annotated[Services, Depends(services)]) -> Response:
    from hullscan.notify.endpoints import remove

    try:
        remove(svc.store, name)
    except HullscanError as err:
        raise ApiError(404, str(err)) from None
    return Response(status_code=204)
