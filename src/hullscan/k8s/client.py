"""The Kubernetes API, read-only: paginated lists (`limit` / `continue`) and one object by path, on the one
HTTP client (`hullscan.http`: retries on transport errors, 429 and 5xx, Retry-After honoured).

TLS is the cluster's own: its CA (not the public bundle), and a client certificate when the kubeconfig
has one. `HttpClient` takes no TLS context, so its httpx client is replaced by one built with the
cluster's context; the retry policy stays the project's.
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from hullscan.errors import FetchError, InputError
from hullscan.http import USER_AGENT, HttpClient, RetryPolicy, TransferError
from hullscan.k8s.kubeconfig import ClusterAccess

PAGE = 500
"""Items per list page (kubectl asks for 500)."""
MAX_PAGES = 10_000
MAX_BODY = 256 * 1024 * 1024
"""A list page larger than this is refused: 500 pods are a few MiB."""


class ApiError(FetchError):
    """An API answer that is not the list or object asked for (exit 3); `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class KubeClient:
    def __init__(self, access: ClusterAccess, *, timeout: float = 60.0, policy: RetryPolicy | None = None) -> None:
        self.access = access
        self.http = HttpClient(policy=policy, timeout=timeout)
        self.http.http.close()
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if access.token:
            headers["Authorization"] = f"Bearer {access.token}"
        self.http.http = httpx.Client(verify=_tls_context(access), timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
                                      follow_redirects=False, headers=headers)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """One JSON object; ApiError (with the status) for any answer but 200."""
        url = self.access.server + path
        try:
            resp = self.http.fetch("GET", url, _read_json, params=params or {})
        except TransferError as err:
            hint = " (the cluster's CA is not the one in the kubeconfig?)" if err.certificate else ""
            raise ApiError(f"Kubernetes API {self.access.server}: {err.reason}{hint}") from None
        status, doc = resp
        if status == 200 and isinstance(doc, dict):
            return doc
        message = doc.get("message") if isinstance(doc, dict) else None
        what = {401: "401 unauthorized", 403: "403 forbidden", 404: "404 not found", 410: "410 gone"}.get(status, f"HTTP {status}")
        detail = f": {str(message)[:300]}" if message else ""
        if status == 200:
            detail = ": the answer is not a JSON object"
        raise ApiError(f"Kubernetes API {self.access.server}{path}: {what}{detail} (auth: {self.access.source})", status)

    def list(self, path: str, *, selector: str = "", page: int = PAGE) -> Iterator[dict[str, Any]]:
        """Every item of a list, page by page; a continue token seen twice is an error, not a loop."""
        token = ""
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params = {"limit": str(page)}
            if selector:
                params["labelSelector"] = selector
            if token:
                params["continue"] = token
            doc = self.get(path, params)
            items = doc.get("items")
            if items is None:
                items = []
            if not isinstance(items, list):
                raise ApiError(f"Kubernetes API {self.access.server}{path}: items is not a list")
            yield from (i for i in items if isinstance(i, dict))
            meta = doc.get("metadata")
            token = meta.get("continue", "") if isinstance(meta, dict) else ""
            if not isinstance(token, str) or not token:
                return
            if token in seen:
                raise ApiError(f"Kubernetes API {self.access.server}{path}: the server repeats continue token {token[:40]!r}")
            seen.add(token)
        raise ApiError(f"Kubernetes API {self.access.server}{path}: more than {MAX_PAGES} pages")


def namespaced(group_path: str, resource: str, namespace: str | None) -> str:
    """`/api/v1/pods` (every namespace) or `/api/v1/namespaces/NS/pods`."""
    if namespace is None:
        return f"{group_path}/{resource}"
    return f"{group_path}/namespaces/{quote(namespace, safe='')}/{resource}"


def _read_json(resp: httpx.Response) -> tuple[int, Any]:
    body = b""
    for chunk in resp.iter_bytes():
        body += chunk
        if len(body) > MAX_BODY:
            raise ApiError(f"{resp.request.url}: answer larger than {MAX_BODY} bytes")
    try:
        return resp.status_code, json.loads(body) if body else None
    except ValueError:
        if resp.status_code == 200:
            raise ApiError(f"{resp.request.url}: the answer is not JSON") from None
        return resp.status_code, None


def _tls_context(access: ClusterAccess) -> ssl.SSLContext:
    """The cluster's CA (else the default bundle), its client certificate, or no verification when asked."""
    if access.insecure:
        ctx = httpx.create_ssl_context(verify=False)
    elif access.ca_pem:
        ctx = ssl.create_default_context()
        try:
            ctx.load_verify_locations(cadata=access.ca_pem.decode("ascii", "replace"))
        except ssl.SSLError as err:
            raise InputError(f"{access.source}: the certificate authority is not PEM: {err.reason}") from None
    else:
        ctx = httpx.create_ssl_context()
    if access.client_cert_pem:
        _load_client_cert(ctx, access)
    return ctx


def _load_client_cert(ctx: ssl.SSLContext, access: ClusterAccess) -> None:
    """ssl loads a certificate chain only from files: a private temporary directory, removed at once."""
    with tempfile.TemporaryDirectory(prefix="hullscan-k8s-") as tmp:
        cert, key = os.path.join(tmp, "client.crt"), os.path.join(tmp, "client.key")
        for path, data in ((cert, access.client_cert_pem), (key, access.client_key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        try:
            ctx.load_cert_chain(cert, key)
        except ssl.SSLError as err:
            raise InputError(f"{access.source}: the client certificate or key is unusable: {err.reason}") from None
