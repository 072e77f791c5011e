"""What every route of `hullscan server` shares: its configuration, the open state store and token
verifier it works with, errors (problem+json on `/api/v2`, Harbor's `ErrorResponse` on `/api/v1`),
bearer-token checks by scope, and cursor/limit pagination."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from hullscan.service.auth import Token, Verifier
from hullscan.service.images import MatchCache, Rendered
from hullscan.service.reports import Stamp
from hullscan.state.location import SCHEMA
from hullscan.state.store import StateStore

PROBLEM = "application/problem+json"
ENV_BLOB_DIR = "HULLSCAN_BLOB_DIR"
ENV_BROKER = "HULLSCAN_BROKER_URL"
ENV_SCHEMA = "HULLSCAN_STATE_SCHEMA"
ENV_RELAY = "HULLSCAN_RELAY_INTERVAL"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class ServiceConfig:
    """The server's settings: flags of `hullscan server`, else the environment."""

    state: str | None = None
    """The state store (None: `$HULLSCAN_STATE_URL`, else the default file)."""
    schema: str = SCHEMA
    db: str | None = None
    """The vulnerability DB (None: `$HULLSCAN_DB_URL`, else the default file)."""
    blob_dir: str | None = None
    """Where uploaded archives go (a directory every worker reads); None: uploads are refused."""
    broker: str | None = None
    """The job broker's URL, for `/readyz` (None: not checked)."""
    refresh_after: int = 3
    """Seconds Harbor is told to wait before asking for a report again."""
    max_upload: int = 8 << 30
    relay_interval: float = 5.0
    """Seconds between the outbox relay's passes in this process (service/relay.py); 0: no relay."""

    @classmethod
    def from_env(cls, **given: Any) -> ServiceConfig:
        env = os.environ
        values: dict[str, Any] = {
            "blob_dir": env.get(ENV_BLOB_DIR) or None,
            "broker": env.get(ENV_BROKER) or None,
            "schema": env.get(ENV_SCHEMA) or SCHEMA,
            "relay_interval": float(env.get(ENV_RELAY) or 5.0),
        }
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)


@dataclass
class Services:
    """What the routes work with (`app.state.services`)."""

    config: ServiceConfig
    store: StateStore
    verifier: Verifier
    matches: MatchCache
    stamp: Stamp
    """The vulnerability DB's build time (re-read every few seconds): part of every cached result's key."""
    rendered: Rendered = field(default_factory=Rendered)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


# -- errors ------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error a route answers with: its status, a short title and what went wrong."""

    def __init__(self, status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}


_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content", 500: "Internal Server Error",
           501: "Not Implemented", 503: "Service Unavailable"}


def error_response(request: Request, status: int, detail: str, *, title: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """Harbor's `ErrorResponse` under `/api/v1`, RFC 9457 problem+json elsewhere."""
    if request.url.path.startswith("/api/v1/"):
        from hullscan.service.harbor import ERROR

        return JSONResponse({"error": {"message": detail}}, status_code=status, media_type=ERROR, headers=headers)
    body = {"type": "about:blank", "title": title or _TITLES.get(status, "Error"), "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class Problem(BaseModel):
    """RFC 9457 problem details: every `/api/v2` error."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses (problem+json)."""
    return {c: {"model": Problem, "description": _TITLES.get(c, "Error"),
                "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}} for c in codes}


# -- auth --------------------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="A token of `hullscan token create` (`hst_…`).")


def require(scope: str) -> Callable[..., Token]:
    """A dependency admitting a live bearer token allowing `scope` (auth.py's ladder): 401 without a
    usable token, 403 when its scopes fall short."""

    def check(request: Request, cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Token:
        challenge = {"WWW-Authenticate": 'Bearer realm="hullscan"'}
        if cred is None or cred.scheme.lower() != "bearer":
            raise ApiError(401, "a bearer token is required (Authorization: Bearer hst_…)", headers=challenge)
        token = services(request).verifier.verify(cred.credentials)
        if token is None:
            raise ApiError(401, "the bearer token is unknown or revoked", headers=challenge)
        if not token.allows(scope):
            raise ApiError(403, f"the token's scopes ({' '.join(token.scopes)}) do not include {scope!r}")
        request.state.token = token
        return token

    return check


# -- pagination ----------------------------------------------------------------------------------------

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: pass `next_cursor` back as `cursor` for the next (null: the last page)."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    cursor: str | None
    limit: int

    @property
    def offset(self) -> int:
        if not self.cursor:
            return 0
        try:
            text = base64.urlsafe_b64decode(self.cursor.encode() + b"=" * (-len(self.cursor) % 4)).decode()
            if not text.startswith("o:"):
                raise ValueError(text)
            offset = int(text[2:])
            if offset < 0:
                raise ValueError(text)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "cursor: not one this server gave (pass next_cursor back unchanged)") from None
        return offset


def page_params(cursor: Annotated[str | None, Query(max_length=64, description="`next_cursor` of the previous page.")] = None,
                limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT) -> PageParams:
    return PageParams(cursor, limit)


def cursor_at(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def paginate(items: Sequence[T], params: PageParams) -> tuple[list[T], str | None]:
    """(this page's items, the next cursor or None) of a list in a stable order."""
    start = params.offset
    chunk = list(items[start:start + params.limit])
    nxt = cursor_at(start + params.limit) if start + params.limit < len(items) else None
    return chunk, nxt
