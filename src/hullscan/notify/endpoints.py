"""The webhooks notifications go to, kept in the state store.

An endpoint's HMAC secret is never stored nor printed: the store keeps where to read it — an
environment variable (`--secret-env`) or a file (`--secret-file`) — and the deliverer reads it when it
signs. An endpoint without a secret gets unsigned requests (`hullscan notify add` warns).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select

from hullscan.errors import UsageError
from hullscan.state.models import NotifyEndpoint
from hullscan.state.store import StateStore

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretUnavailable(Exception):
    """The secret's variable is unset or its file unreadable: nothing is sent unsigned in its place."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    name: str
    url: str
    secret_env: str | None
    secret_file: str | None
    cloudevents: bool
    added_at: str

    @property
    def secret_source(self) -> str:
        """Where the secret comes from, for lists: `env:VAR`, `file:PATH` or `none` (never its value)."""
        if self.secret_env:
            return f"env:{self.secret_env}"
        if self.secret_file:
            return f"file:{self.secret_file}"
        return "none"

    def secret(self) -> bytes | None:
        """The HMAC key, read now; None when the endpoint has none. A file's trailing newline is not part
        of it (`echo secret > file`)."""
        if self.secret_env:
            value = os.environ.get(self.secret_env)
            if not value:
                raise SecretUnavailable(f"secret: environment variable {self.secret_env} is not set")
            return value.encode()
        if self.secret_file:
            try:
                with open(self.secret_file, "rb") as fh:
                    value_bytes = fh.read().rstrip(b"\r\n")
            except OSError as err:
                raise SecretUnavailable(f"secret: cannot read {self.secret_file}: {err.strerror}") from None
            if not value_bytes:
                raise SecretUnavailable(f"secret: {self.secret_file} is empty")
            return value_bytes
        return None


def shown_url(url: str) -> str:
    """The URL as lists and messages show it: no user info, no query (webhook URLs often carry a token
    there); the path is kept."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    except ValueError:  # a bad port or bracket: say nothing of it but that
        return "(an unreadable URL)"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "…" if parts.query else "", ""))


def check_url(url: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  # raises on a bad port
    except ValueError as err:
        raise UsageError(f"webhook URL {shown_url(url)!r}: {err}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"webhook URL {shown_url(url)!r}: use http:// or https:// with a host")
    if parts.fragment:
        raise UsageError("webhook URL: a #fragment is never sent; leave it out")
    return url


def add(store: StateStore, url: str, *, name: str | None = None, secret_env: str | None = None,
        secret_file: str | None = None, cloudevents: bool = False) -> Endpoint:
    """Add a webhook. Its name defaults to the URL's host (and port); names are unique."""
    check_url(url)
    if secret_env and secret_file:
        raise UsageError("give the secret one way: --secret-env or --secret-file")
    if secret_env is not None and not _ENV.match(secret_env):
        raise UsageError(f"--secret-env {secret_env!r}: not an environment variable name")
    if secret_file is not None:
        secret_file = os.path.abspath(os.path.expanduser(secret_file))
    parts = urllib.parse.urlsplit(url)
    name = name or (parts.hostname or "") + (f"-{parts.port}" if parts.port else "")
    if not _NAME.match(name):
        raise UsageError(f"endpoint name {name!r}: letters, digits, '.', '_' and '-' (up to 100)")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.write() as conn:
        if conn.execute(select(NotifyEndpoint.id).where(NotifyEndpoint.name == name)).first():
            raise UsageError(f"an endpoint named {name!r} exists: give another --name (or `hullscan notify rm {name}`)")
        new_id = conn.execute(insert(NotifyEndpoint).values(
            name=name, url=url, secret_env=secret_env, secret_file=secret_file, cloudevents=cloudevents,
            added_at=now).returning(NotifyEndpoint.id)).scalar_one()
        return _by_id(conn, int(new_id))


def listing(store: StateStore) -> list[Endpoint]:
    with store.read() as conn:
        return [_endpoint(row) for row in conn.execute(select(NotifyEndpoint).order_by(NotifyEndpoint.name))]


def remove(store: StateStore, name: str) -> Endpoint:
    """Remove the endpoint (by name, or id); its pending deliveries go with it."""
    with store.write() as conn:
        row = conn.execute(select(NotifyEndpoint).where(NotifyEndpoint.name == name)).first()
        if row is None and name.isdigit():
            row = conn.execute(select(NotifyEndpoint).where(NotifyEndpoint.id == int(name))).first()
        if row is None:
            raise UsageError(f"no endpoint named {name!r} (`hullscan notify list` shows them)")
        conn.execute(delete(NotifyEndpoint).where(NotifyEndpoint.id == row.id))
        return _endpoint(row)


def _by_id(conn: Connection, endpoint_id: int) -> Endpoint:
    return _endpoint(conn.execute(select(NotifyEndpoint).where(NotifyEndpoint.id == endpoint_id)).one())


def _endpoint(row: Row[Any]) -> Endpoint:
    return Endpoint(id=row.id, name=row.name, url=row.url, secret_env=row.secret_env, secret_file=row.secret_file,
                    cloudevents=bool(row.cloudevents), added_at=row.added_at)
