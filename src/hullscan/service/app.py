"""The FastAPI application of `hullscan server` (docs/service.md): the Harbor scanner API under `/api/v1`
(api_harbor.py), ours under `/api/v2` (api_scans.py, api_images.py, api_admin.py), its OpenAPI at
`/openapi.json`, and the two open routes: `/healthz` (the process answers) and `/readyz` (the state
store, the vulnerability DB and the broker answer). Every other route needs a bearer token.

Errors never leak a traceback: a route's `ApiError` and the project's errors become problem+json
(`/api/v2`) or Harbor's `ErrorResponse` (`/api/v1`); anything else is a 500 naming only its type.
"""

from __future__ import annotations

import logging
import socket
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hullscan import __version__
from hullscan.errors import DatabaseError, FetchError, HullscanError, InputError, UsageError
from hullscan.service import api_admin, api_harbor, api_images, api_scans
from hullscan.service.api_common import ApiError, Problem, ServiceConfig, Services, error_response, require
from hullscan.service.auth import Verifier
from hullscan.service.images import MatchCache
from hullscan.service.reports import Stamp, db_stamp
from hullscan.state.store import StateStore, open_state

log = logging.getLogger("hullscan.server")

DESCRIPTION = """hullscan's own API (`/api/v2`): submit scans (registry references, uploaded archives) as jobs
for the workers, follow them, get reports in any CLI format, list stored images with their verdicts and
counts, query findings across them, trigger rescans, manage the base catalog, policies and webhooks.
Lists are paginated: pass a page's `next_cursor` back as `cursor`. Errors are RFC 9457 problem+json.
Every route but `/healthz` and `/readyz` needs `Authorization: Bearer hst_…` (`hullscan token create`).

The Harbor Pluggable Scanner API v1.2 is served under `/api/v1` as its own specification says."""


def create_app(config: ServiceConfig, store: StateStore | None = None) -> FastAPI:
    """The application; `store` is opened (and migrated) from `config` when not given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the outbox relay: a job whose submit found the broker down is published once it is back
        relay = None
        if config.relay_interval > 0:
            from hullscan.service.relay import start_relay

            relay = start_relay(lambda: open_state(config.state, schema=config.schema), config.relay_interval)
        try:
            yield
        finally:
            if relay is not None:
                relay.stop()
            if store is None:
                app.state.services.store.close()

    opened = store if store is not None else open_state(config.state, schema=config.schema)
    app = FastAPI(title="hullscan", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    stamp = Stamp(lambda: db_stamp(config.db))
    app.state.services = Services(config=config, store=opened, verifier=Verifier(opened),
                                  matches=MatchCache(opened, config.db, stamp), stamp=stamp)
    for router in (api_harbor.router, api_scans.router, api_images.router, api_admin.router):
        app.include_router(router)
    _add_open_routes(app)
    _add_openapi(app)
    _add_error_handlers(app)
    return app


def _add_open_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], summary="The process answers (open)")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The state store, the vulnerability DB and the broker answer (open)",
             responses={503: {"model": Problem, "description": "Not ready"}})
    def readyz(request: Request) -> Any:
        svc: Services = request.app.state.services
        checks = {"state": _check_state(svc.store), "db": _check_db(svc.config.db),
                  "broker": _check_broker(svc.config.broker)}
        failed = {k: v for k, v in checks.items() if v != "ok"}
        if failed:
            return error_response(request, 503, "; ".join(f"{k}: {v}" for k, v in failed.items()), title="Not Ready")
        return {"status": "ready", "checks": checks}


def _check_state(store: StateStore) -> str:
    from sqlalchemy import text

    try:
        with store.read() as conn:
            conn.execute(text("SELECT 1"))
    except HullscanError as err:
        return str(err)
    return "ok"


def _check_db(db: str | None) -> str:
    from hullscan.vulndb.location import precheck

    try:
        precheck(db)
    except HullscanError as err:
        return str(err)
    return "ok"


def _check_broker(url: str | None) -> str:
    """A TCP connection to the broker's host and port ('ok' when none is configured to check)."""
    if not url:
        return "ok"
    parts = urllib.parse.urlsplit(url)
    default = {"amqp": 5672, "pyamqp": 5672, "amqps": 5671, "redis": 6379, "rediss": 6380}.get(parts.scheme, 5672)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default), timeout=2):
            return "ok"
    except (OSError, ValueError) as err:
        return f"broker {parts.hostname}:{parts.port or default} unreachable ({err})"


def _add_openapi(app: FastAPI) -> None:
    """`/openapi.json` with the bearer token like every route (only health is open)."""
    from fastapi import Depends

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require("read"))])
    def openapi() -> JSONResponse:
        if "doc" not in cached:
            cached["doc"] = _as_served(app.openapi())
        return JSONResponse(cached["doc"])

    cached: dict[str, Any] = {}


def _as_served(doc: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document as the server answers: every error is problem+json (FastAPI declares its own
    validation error body, which our handler replaces), and every route but health declares 401 and 403."""
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, ops in doc.get("paths", {}).items():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            codes = ["422"] + ([] if path in ("/healthz", "/readyz") else ["401", "403"])
            for code in codes:
                responses[code] = {"description": responses.get(code, {}).get("description") or "Error", "content": problem}
            for code, resp in responses.items():
                if code[0] in "45" and "content" in resp:
                    resp["content"] = problem
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.setdefault("Problem", Problem.model_json_schema())
    return doc


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError) -> JSONResponse:
        return error_response(request, err.status, err.detail, title=err.title, headers=err.headers or None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(request, 422, f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg")))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        return error_response(request, err.status_code, str(err.detail), headers=getattr(err, "headers", None))

    @app.exception_handler(HullscanError)
    async def hullscan_error(request: Request, err: HullscanError) -> JSONResponse:
        status = 503 if isinstance(err, (FetchError, DatabaseError)) else 422 if isinstance(err, (UsageError, InputError)) else 500
        return error_response(request, status, str(err))

    @app.exception_handler(Exception)
    async def internal(request: Request, err: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=err)
        return error_response(request, 500, f"internal error ({type(err).__name__}); the server's log has the traceback")


def app_from_env() -> FastAPI:
    """The application as `hullscan server` runs it (uvicorn's factory, in each worker process): every
    setting from the environment."""
    import os

    from hullscan.service.celery_app import BROKER_ENV, DEFAULT_BROKER

    return create_app(ServiceConfig.from_env(db=os.environ.get("HULLSCAN_DB_URL") or None,
                                             broker=os.environ.get(BROKER_ENV) or DEFAULT_BROKER))
