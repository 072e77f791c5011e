"""HTTP side of the OCI distribution API: scheme probe, auth (anonymous/basic/bearer tokens) and blob
streams that resume after a cut connection, on the one HTTP client (`hullscan.http`: retries on
transport errors, 429 and 5xx, Retry-After honoured and clamped).

What is written here is what no library does for us: the registry's token dance
(`WWW-Authenticate: Bearer realm=…,service=…,scope=…`) and Range-resumed blob streams. Messages name
the registry, the repository and the credential source, and are scrubbed of every secret we hold
before they leave this module.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import httpx

from hullscan.digests import hexdigest
from hullscan.errors import FetchError, InputError
from hullscan.http import HttpClient, RetryPolicy, TransferError
from hullscan.image.registry_auth import ANONYMOUS, Credentials, parse_challenge
from hullscan.image.registry_ref import is_loopback

PREFETCH_CHUNKS = 256
"""Socket reads (up to 64 KiB each) a blob stream keeps ahead of its reader: at most ~16 MiB."""
MAX_RESUMES = 4
"""Times a blob stream cut mid-way is resumed (Range request) before giving up."""


class RegistryError(FetchError):
    """A registry answer or transport failure; the message names registry, repository, auth source."""


class RegistryClient:
    """One registry host, one credential source; tokens are cached per scope."""

    def __init__(
        self, host: str, creds: Credentials = ANONYMOUS, *, insecure: bool = False, timeout: float = 60.0, name: str = "",
        policy: RetryPolicy | None = None, sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.host = host
        """Where the API answers (registry-1.docker.io for docker.io)."""
        self.name = name or host
        """The registry as users name it, for messages."""
        self.creds = creds
        self.insecure = insecure
        self.http = HttpClient(policy=policy, sleep=sleep, timeout=timeout, insecure=insecure)
        self.base = ""
        self._challenge: Any = None
        self._tokens: dict[str, str] = {}

    # -- messages -----------------------------------------------------------------
    def where(self, repo: str = "") -> str:
        return f"registry {self.name}" + (f", repository {repo}" if repo else "")

    def scrub(self, text: str) -> str:
        for secret in (*self.creds.secrets(), *self._tokens.values()):
            if secret:
                text = text.replace(secret, "***")
        return text

    def fail(self, repo: str, message: str, *, input_error: bool = False) -> Exception:
        text = self.scrub(f"{self.where(repo)}: {message}")
        return InputError(text) if input_error else RegistryError(text)

    def close(self) -> None:
        self.http.close()

    # -- connection ----------------------------------------------------------------
    def ping(self, repo: str = "") -> None:
        """Find the scheme (https; http for --insecure or loopback registries speaking plain HTTP)
        and learn the auth challenge from `GET /v2/`."""
        if self.base:
            return
        schemes = ["https", "http"] if (self.insecure or is_loopback(self.host)) else ["https"]
        last: Exception | None = None
        for scheme in schemes:
            url = f"{scheme}://{self.host}/v2/"
            try:
                resp = self._send_retrying("GET", url, {}, repo, stream=False)
            except RegistryError as err:
                last = err
                if "certificate" in str(err).lower():
                    break  # a certificate that does not verify never falls back to plain HTTP
                continue
            self.base = f"{scheme}://{self.host}"
            if resp.status_code == 401:
                self._challenge = parse_challenge(resp.headers.get("www-authenticate", ""))
            return
        assert last is not None
        raise last

    # -- requests ------------------------------------------------------------------
    def get(self, path: str, repo: str, scope: str, headers: dict[str, str] | None = None, *, stream: bool = False) -> httpx.Response:
        """GET with auth for `scope`; one re-authentication on 401; retries inside."""
        self.ping(repo)
        url = self.base + path
        hdrs = dict(headers or {})
        auth = self._authorization(scope, repo)
        resp = self._send_retrying("GET", url, {**hdrs, **auth}, repo, stream=stream)
        if resp.status_code == 401:
            challenge = parse_challenge(resp.headers.get("www-authenticate", ""))
            resp.close()
            if challenge is None:
                raise self.fail(repo, f"401 unauthorized and no WWW-Authenticate challenge (auth: {self.creds.source})")
            self._challenge = challenge
            asked = challenge.params.get("scope") or scope
            auth = self._authorization(asked, repo, refresh=True)
            if asked in self._tokens:
                self._tokens[scope] = self._tokens[asked]
            resp = self._send_retrying("GET", url, {**hdrs, **auth}, repo, stream=stream)
            if resp.status_code == 401:
                resp.close()
                hint = "; the repository may be private or not exist" if self.creds.anonymous else ""
                raise self.fail(repo, f"401 unauthorized (auth: {self.creds.source}{hint})")
        if resp.status_code == 403:
            resp.close()
            raise self.fail(repo, f"403 access denied (auth: {self.creds.source})")
        return resp

    def _send_retrying(
        self, method: str, url: str, headers: dict[str, str], repo: str, *, stream: bool, **request: Any
    ) -> httpx.Response:
        """`HttpClient.send` (retries inside), its failure as one line naming registry and repository."""
        try:
            return self.http.send(method, url, headers=headers, stream=stream, **request)
        except TransferError as err:
            parsed = urlparse(url)
            if err.certificate:
                raise self.fail(repo, f"TLS certificate verification failed for {parsed.netloc} ({err.reason}); "
                                      "use --insecure for a self-signed registry, or SSL_CERT_FILE for a private CA") from None
            if err.status is not None:
                raise self.fail(repo, f"{err.reason} from {parsed.path} after {err.attempts} tries") from None
            raise self.fail(repo, f"cannot reach {parsed.scheme}://{parsed.netloc} ({err.reason})") from None

    # -- auth ----------------------------------------------------------------------
    def _authorization(self, scope: str, repo: str, refresh: bool = False) -> dict[str, str]:
        ch = self._challenge
        if ch is None:
            return {}
        if ch.scheme == "basic":
            if self.creds.anonymous or not self.creds.username:
                raise self.fail(repo, f"the registry asks for a username and password (auth: {self.creds.source})")
            return {"Authorization": _basic(self.creds.username, self.creds.password)}
        if ch.scheme != "bearer":
            raise self.fail(repo, f"unsupported authentication scheme {ch.scheme!r}")
        token = None if refresh else self._tokens.get(scope)
        if token is None:
            token = self._fetch_token(ch.params, scope, repo)
            self._tokens[scope] = token
        return {"Authorization": f"Bearer {token}"}

    def _fetch_token(self, params: dict[str, str], scope: str, repo: str) -> str:
        realm = params.get("realm", "")
        parsed = urlparse(realm)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise self.fail(repo, f"bearer challenge without a usable realm ({realm!r})")
        query: dict[str, str] = {}
        if params.get("service"):
            query["service"] = params["service"]
        if scope:
            query["scope"] = scope
        creds = self.creds
        if creds.identity_token:
            form = {**query, "grant_type": "refresh_token", "client_id": "hullscan", "refresh_token": creds.identity_token}
            resp = self._send_retrying("POST", realm, {}, repo, stream=False, data=form)
        else:
            headers = {"Authorization": _basic(creds.username, creds.password)} if creds.username else {}
            resp = self._send_retrying("GET", realm, headers, repo, stream=False, params=query)
        if resp.status_code in (401, 403):
            raise self.fail(repo, f"token server {parsed.netloc} refused the credentials ({resp.status_code}; auth: {creds.source})")
        if resp.status_code != 200:
            raise self.fail(repo, f"token server {parsed.netloc} answered {resp.status_code} (auth: {creds.source})")
        try:
            doc = resp.json()
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise self.fail(repo, f"token server {parsed.netloc} gave no token (auth: {creds.source})")
        return token

    # -- documents -------------------------------------------------------------------
    def fetch_document(self, path: str, repo: str, accept: str, what: str, limit: int) -> tuple[bytes, httpx.Headers]:
        """A small document (manifest, config, listing): status checked, size bounded."""
        resp = self.get(path, repo, f"repository:{repo}:pull" if repo else "registry:catalog:*", {"Accept": accept}, stream=True)
        try:
            if resp.status_code == 404:
                raise self.fail(repo, f"{what} not found", input_error=True)
            if resp.status_code != 200:
                raise self.fail(repo, f"{what}: unexpected status {resp.status_code}{_error_text(resp)}")
            chunks, total = [], 0
            try:
                for chunk in resp.iter_raw():
                    total += len(chunk)
                    if total > limit:
                        raise self.fail(repo, f"{what} is larger than {limit} bytes", input_error=True)
                    chunks.append(chunk)
            except httpx.TransportError as err:
                raise self.fail(repo, f"{what}: connection lost ({_short(err)})") from None
            return b"".join(chunks), resp.headers
        finally:
            resp.close()

    def fetch_verified(self, path: str, repo: str, accept: str, what: str, digest: str, limit: int) -> tuple[bytes, httpx.Headers]:
        """A document addressed by digest: retried once on a digest mismatch (a cut transfer), then refused."""
        for _attempt in (1, 2):
            data, headers = self.fetch_document(path, repo, accept, what, limit)
            if digest_of(data, digest) == digest:
                return data, headers
        raise self.fail(repo, f"{what} does not match its digest {digest[:19]}…", input_error=True)

    def open_blob(self, repo: str, digest: str, size: int) -> BlobStream:
        return BlobStream(self, repo, digest, size)


class BlobStream:
    """A layer blob as a readable file: bytes straight off the socket, resumed with a Range
    request (or re-fetched and skipped) when the connection is cut before `size` bytes."""

    def __init__(self, client: RegistryClient, repo: str, digest: str, size: int) -> None:
        self.client, self.repo, self.digest, self.size = client, repo, digest, size
        self.received = 0
        self.resumes = 0
        self._resp: httpx.Response | None = None
        self._chunks: Iterator[bytes] | None = None
        self._pending: list[bytes] = []
        self._pending_len = 0
        self._eof = False
        self._open()
        # A reader thread keeps up to PREFETCH_CHUNKS socket reads ahead, so the network wait
        # overlaps the decompression and tar walk instead of adding to them.
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=PREFETCH_CHUNKS)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False

    def _open(self) -> None:
        headers = {"Range": f"bytes={self.received}-"} if self.received else {}
        resp = self.client.get(f"/v2/{self.repo}/blobs/{self.digest}", self.repo, f"repository:{self.repo}:pull", headers, stream=True)
        skip = 0
        if resp.status_code == 206:
            start = _range_start(resp.headers.get("content-range", ""))
            if start != self.received:
                resp.close()
                raise self.client.fail(self.repo, f"blob {self.digest[:19]}…: server resumed at byte {start}, not {self.received}")
        elif resp.status_code == 200:
            skip = self.received  # no Range support: read again from the start, drop what we have
        elif resp.status_code == 404:
            resp.close()
            raise self.client.fail(self.repo, f"blob {self.digest[:19]}… not found (the manifest references a missing layer)")
        else:
            text = _error_text(resp)
            resp.close()
            raise self.client.fail(self.repo, f"blob {self.digest[:19]}…: unexpected status {resp.status_code}{text}")
        self._resp = resp
        self._chunks = self._skip(resp.iter_raw(), skip)

    @staticmethod
    def _skip(chunks: Iterator[bytes], n: int) -> Iterator[bytes]:
        for chunk in chunks:
            if n >= len(chunk):
                n -= len(chunk)
                continue
            yield chunk[n:] if n else chunk
            n = 0

    def _next_chunk(self) -> bytes:
        """The next piece of the blob, b"" at its end; cut connections are resumed."""
        while True:
            if self._eof or self._chunks is None:
                return b""
            try:
                chunk = next(self._chunks)
            except StopIteration:
                chunk = b""
            except httpx.TransportError:  # cut mid-body (RemoteProtocolError, ReadError, timeout)
                chunk = None
            if chunk:
                if self.size >= 0 and self.received + len(chunk) > self.size:
                    chunk = chunk[: self.size - self.received]  # never read past the manifest's size
                    self._eof = True
                self.received += len(chunk)
                if chunk:
                    return chunk
                continue
            if chunk == b"" and (self.size < 0 or self.received >= self.size):
                self._eof = True
                return b""
            # short or broken body: resume from where we are
            self._close_response()
            self.resumes += 1
            if self.resumes > MAX_RESUMES:
                raise self.client.fail(
                    self.repo,
                    f"blob {self.digest[:19]}…: transfer cut at byte {self.received} of {self.size}, {MAX_RESUMES} resumes failed",
                )
            client = self.client.http
            client.sleep(client.policy.wait(self.resumes, None))
            self._open()

    def _produce(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._next_chunk()
                self._put(chunk)
                if not chunk:
                    return
        except BaseException as err:  # handed to the reader, raised there
            self._put(err)
        finally:
            self._close_response()

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _take(self) -> bytes:
        if self._done:
            return b""
        if self._thread is None:
            self._thread = threading.Thread(target=self._produce, name=f"blob {self.digest[:19]}", daemon=True)
            self._thread.start()
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if not item:
            self._done = True
        return item

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = self._pending
            self._pending, self._pending_len = [], 0
            while chunk := self._take():
                parts.append(chunk)
            return b"".join(parts)
        while self._pending_len < n:
            chunk = self._take()
            if not chunk:
                break
            self._pending.append(chunk)
            self._pending_len += len(chunk)
        data = b"".join(self._pending) if len(self._pending) != 1 else self._pending[0]
        out, rest = data[:n], data[n:]
        self._pending = [rest] if rest else []
        self._pending_len = len(rest)
        return out

    def readable(self) -> bool:
        return True

    def _close_response(self) -> None:
        resp, self._resp, self._chunks = self._resp, None, None
        if resp is not None:
            resp.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_response()
        self._eof = self._done = True

    def __enter__(self) -> BlobStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def digest_of(data: bytes, like: str) -> str:
    """The digest of `data` by the algorithm of the digest `like` (sha256 when it names none)."""
    algo = like.split(":", 1)[0] if ":" in like else "sha256"
    return f"{algo}:{hexdigest(algo, data)}"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _range_start(content_range: str) -> int:
    """START of "bytes START-END/TOTAL"; -1 when unreadable, which no resume position equals."""
    try:
        return int(content_range.split()[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return -1


def _short(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:200]


def _error_text(resp: httpx.Response) -> str:
    """The registry's error code/message (OCI error JSON), short; empty when the body holds none or
    cannot be read (the status the caller reports says what went wrong)."""
    try:
        doc = json.loads(resp.read()[:4096])
    except (httpx.HTTPError, ValueError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    bits = [f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors or () if isinstance(e, dict)]
    return f" ({'; '.join(bits)[:300]})" if bits else ""
