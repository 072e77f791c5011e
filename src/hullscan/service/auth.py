"""API bearer tokens of `hullscan server`, kept in the state store (`service_token`, state/models.py).

A token is `hst_<id>_<secret>` (32 random bytes, URL-safe base64): shown once when created, stored only
as its sha256 (`secret_hash`), so a copy of the store lets nobody in. Scopes are a ladder — `read` (lists,
reports, findings), `scan` (also submits scans and rescans: Harbor's registration token is one), `admin`
(also the base catalog, policies, webhooks) — so a route asks for the least scope it needs.

`verify` is on every request: one indexed read. `last_used_at` is written at most once a minute per token
(a write takes the state store's writers' lock).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from hullscan.errors import UsageError
from hullscan.state.models import ServiceToken
from hullscan.state.store import StateStore

SCOPES = ("read", "scan", "admin")
"""Least to most: each scope allows what the ones before it allow."""
HARBOR_NAME = "harbor"
PREFIX = "hst_"
_TOUCH_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    last_used_at: str | None
    revoked_at: str | None

    def allows(self, scope: str) -> bool:
        """Whether the token may do what `scope` allows (the ladder in the module docstring)."""
        need = SCOPES.index(scope)
        return any(SCOPES.index(s) >= need for s in self.scopes if s in SCOPES)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def parse_scopes(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """`read`, `scan admin`, `read,scan` → the scopes, in ladder order; UsageError on an unknown one."""
    words = text.replace(",", " ").split() if isinstance(text, str) else [w for t in text for w in t.replace(",", " ").split()]
    bad = [w for w in words if w not in SCOPES]
    if bad or not words:
        raise UsageError(f"token scope {' '.join(bad) or '(none)'!r}: choose from {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in words)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(store: StateStore, name: str, scopes: tuple[str, ...], *, now: datetime | None = None) -> tuple[Token, str]:
    """A new token: (its record, the token text — shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise UsageError("token name: 1 to 100 characters")
    scopes = parse_scopes(list(scopes))
    token_id = secrets.token_hex(6)
    secret = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    created = _iso(now)
    with store.write() as conn:
        conn.execute(insert(ServiceToken).values(id=token_id, name=name, secret_hash=digest(secret),
                                                 scopes=" ".join(scopes), created_at=created))
    return Token(token_id, name, scopes, created, None, None), secret


def listing(store: StateStore, *, include_revoked: bool = False) -> list[Token]:
    q = select(ServiceToken).order_by(ServiceToken.created_at, ServiceToken.id)
    if not include_revoked:
        q = q.where(ServiceToken.revoked_at.is_(None))
    with store.read() as conn:
        return [_token(r) for r in conn.execute(q).all()]


def revoke(store: StateStore, selector: str, *, now: datetime | None = None) -> list[Token]:
    """Revoke by id, or every live token of a name; UsageError when none matches."""
    with store.write() as conn:
        rows = list(conn.execute(select(ServiceToken).where(
            ((ServiceToken.id == selector) | (ServiceToken.name == selector)) & ServiceToken.revoked_at.is_(None))).all())
        if not rows:
            raise UsageError(f"no live token has the id or name {selector!r} (`hullscan token list` shows them)")
        when = _iso(now)
        conn.execute(update(ServiceToken).where(ServiceToken.id.in_([r.id for r in rows])).values(revoked_at=when))
    return [Token(r.id, r.name, tuple(r.scopes.split()), r.created_at, r.last_used_at, when) for r in rows]


class Verifier:
    """Checks bearer tokens against the store (one per server process)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, presented: str) -> Token | None:
        """The live token `presented` is, or None (unknown, malformed or revoked)."""
        if not presented.startswith(PREFIX) or len(presented) > 200:
            return None
        wanted = digest(presented)
        with self.store.read() as conn:
            row = conn.execute(select(ServiceToken).where(ServiceToken.secret_hash == wanted)).first()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, wanted):
            return None
        self._touch(row.id)
        return _token(row)

    def _touch(self, token_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(token_id, -_TOUCH_SECONDS) < _TOUCH_SECONDS:
                return
            self._touched[token_id] = now
        with self.store.write() as conn:
            conn.execute(update(ServiceToken).where(ServiceToken.id == token_id).values(last_used_at=_iso(None)))


def _token(row: Row[Any]) -> Token:
    return Token(row.id, row.name, tuple(row.scopes.split()), row.created_at, row.last_used_at, row.revoked_at)


def _iso(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
