"""The one HTTP client: httpx with the retry policy every caller shares (feed downloads, registries).

`HttpClient.send()` returns the first answer that is not to be retried, whatever its status (the
caller judges it); `HttpClient.fetch()` also reads the answer inside the retry loop, so a body that
arrives cut short is fetched again. On top of it, the feed downloader (`vulndb/download.py`) adds
conditional requests and its truncation check, the registry client (`image/registry_client.py`)
its token dance and Range-resumed blob streams.

The policy (`RetryPolicy`), the same for every caller:
- retried: transport errors (a refused or reset connection, a timeout, a connection closed
  mid-body), 429 and every 5xx, and whatever the caller's reader rejects with `Retry`;
- not retried: a TLS certificate that does not verify, a TLS handshake that fails (https spoken to a
  plain-HTTP port), a redirect loop, an unusable URL: no wait makes them succeed. A connection that
  cannot be made at all is tried `connect_attempts` times: a host that is down stays down for longer
  than we would wait;
- the wait before retry n (n = 1, 2, ...): the server's Retry-After when it sends one (delta-seconds
  or an HTTP date), clamped to [0, MAX_RETRY_AFTER]; otherwise `backoff * 2**(n-1)`, give or take
  `jitter`, so that clients refused together do not all come back together.

Defaults: 5 attempts, backoff 0.25 s (the environment variable HULLSCAN_HTTP_BACKOFF overrides it),
jitter 25 %, Retry-After clamped to 60 s: a server that keeps asking for an hour costs 4 minutes.
"""

from __future__ import annotations

import email.utils
import functools
import os
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar

import httpx

from hullscan import __version__
from hullscan.errors import FetchError

T = TypeVar("T")

USER_AGENT = f"hullscan/{__version__}"
MAX_RETRY_AFTER = 60.0
"""The longest wait (seconds) a Retry-After obtains; a longer one is clamped to this."""
ENV_BACKOFF = "HULLSCAN_HTTP_BACKOFF"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry (module docstring)."""

    attempts: int = 5
    """Tries per request, the first included."""
    backoff: float = 0.25
    """Seconds before the first retry when the server gives no Retry-After; doubles each time."""
    jitter: float = 0.25
    """The backoff varies by up to this fraction either way (0: exact, for tests)."""
    max_retry_after: float = MAX_RETRY_AFTER
    """Retry-After is clamped to this many seconds."""
    connect_attempts: int = 2
    """Tries when the connection cannot be made at all."""

    def wait(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `retry` (1 for the first), given the server's Retry-After."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        spread = 1.0 + self.jitter * (2.0 * random.random() - 1.0) if self.jitter else 1.0
        return self.backoff * 2.0 ** (retry - 1) * spread


def default_policy() -> RetryPolicy:
    """RetryPolicy's defaults, with HULLSCAN_HTTP_BACKOFF as the first backoff when it is set."""
    raw = os.environ.get(ENV_BACKOFF)
    if not raw:
        return RetryPolicy()
    try:
        return RetryPolicy(backoff=max(0.0, float(raw)))
    except ValueError:
        raise FetchError(f"{ENV_BACKOFF}={raw!r} is not a number of seconds") from None


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header in seconds from `now` (time.time()): delta-seconds or an HTTP date, 0 for a
    date in the past. None when absent or unreadable: the backoff applies instead."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # a "-0000" zone: UTC (RFC 5322)
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Retry(Exception):
    """Raised by a `fetch` reader: this answer is unusable (a short body), try again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransferError(FetchError):
    """A request that failed for good: every attempt, or one failure no retry can fix."""

    def __init__(self, url: str, reason: str, *, attempts: int, status: int | None = None,
                 certificate: bool = False) -> None:
        super().__init__(f"{url}: {reason}" + (f" (after {attempts} attempts)" if attempts > 1 else ""))
        self.url = url
        self.reason = reason
        """The last failure, short: `HTTP 503`, `ConnectError: ...`, `truncated body (...)`."""
        self.attempts = attempts
        self.status = status
        """The last answer's status when the server answered (429, 5xx), else None."""
        self.certificate = certificate
        """The server's TLS certificate did not verify."""


def pause(seconds: float) -> None:
    """How a client waits unless given its own `sleep` (tests of whole commands replace this)."""
    time.sleep(seconds)


class HttpClient:
    """An httpx client (connections kept alive, redirects followed, one TLS context per process) and the
    retry policy. `sleep` is injectable: tests record the waits instead of waiting. With `uds`, the
    client speaks HTTP over that unix socket (image/engine.py: the Docker/Podman Engine API)."""

    def __init__(self, *, policy: RetryPolicy | None = None, sleep: Callable[[float], None] | None = None,
                 timeout: float = 60.0, insecure: bool = False, headers: Mapping[str, str] | None = None,
                 uds: str | None = None) -> None:
        self.policy = policy or default_policy()
        self.sleep = sleep if sleep is not None else pause
        self.http = httpx.Client(
            # `uds`: every request goes over this unix socket (a container engine's API); URLs keep a host name
            # (given the one TLS context too: a transport makes its own otherwise, ~0.1 s)
            transport=httpx.HTTPTransport(uds=uds, verify=_ssl_context(insecure)) if uds else None,
            verify=_ssl_context(insecure),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=True,  # blobs redirect to storage; httpx drops Authorization off-origin
            headers={"User-Agent": USER_AGENT, **(headers or {})},
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None, stream: bool = False,
             on_retry: Callable[[str, float], None] | None = None, **request: Any) -> httpx.Response:
        """The first answer that is not 429 or 5xx (its body unread when `stream`: close it). Raises
        TransferError when the attempts run out. `on_retry(reason, wait)` hears of every retry."""
        resp: httpx.Response = self._attempts(method, url, headers, request, None, stream, on_retry)
        return resp

    def fetch(self, method: str, url: str, read: Callable[[httpx.Response], T], *,
              headers: Mapping[str, str] | None = None, on_retry: Callable[[str, float], None] | None = None,
              **request: Any) -> T:
        """`read(answer)` for the first answer that is not 429 or 5xx, streamed; the answer is closed
        afterwards. A transport error while reading, or `Retry` raised by `read`, is another attempt."""
        result: T = self._attempts(method, url, headers, request, read, True, on_retry)
        return result

    def _attempts(self, method: str, url: str, headers: Mapping[str, str] | None, request: dict[str, Any],
                  read: Callable[[httpx.Response], Any] | None, stream: bool,
                  on_retry: Callable[[str, float], None] | None) -> Any:
        policy = self.policy
        refused = 0
        for attempt in range(1, policy.attempts + 1):
            asked: float | None = None
            status: int | None = None
            try:
                resp = self.http.send(self.http.build_request(method, url, headers=headers, **request), stream=stream)
            except httpx.TransportError as err:
                reason = _describe(err)
                if _is_cert_error(err):
                    raise TransferError(url, _short(err), attempts=attempt, certificate=True) from None
                if _is_tls_error(err) or isinstance(err, httpx.UnsupportedProtocol | httpx.ProxyError):
                    raise TransferError(url, reason, attempts=attempt) from None
                refused += isinstance(err, httpx.ConnectError)
                if refused >= policy.connect_attempts:
                    raise TransferError(url, reason, attempts=attempt) from None
            except (httpx.HTTPError, httpx.InvalidURL) as err:  # a redirect loop, a URL httpx cannot use
                raise TransferError(url, _describe(err), attempts=attempt) from None
            else:
                if resp.status_code == 429 or 500 <= resp.status_code <= 599:
                    status = resp.status_code
                    asked = retry_after(resp.headers.get("retry-after"))
                    reason = f"HTTP {status}"
                    if asked is not None and asked > policy.max_retry_after:
                        reason += f" (the server asks to wait {asked:.0f} s; we wait at most {policy.max_retry_after:.0f} s)"
                    resp.close()
                elif read is None:
                    return resp
                else:
                    try:
                        return read(resp)
                    except Retry as err:
                        reason = err.reason
                    except httpx.HTTPError as err:  # cut mid-body, or a body that does not decode
                        reason = _describe(err)
                    finally:
                        resp.close()
            if attempt == policy.attempts:
                raise TransferError(url, reason, attempts=attempt, status=status)
            wait = policy.wait(attempt, asked)
            if on_retry is not None:
                on_retry(reason, wait)
            self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")


@functools.lru_cache(maxsize=2)
def _ssl_context(insecure: bool) -> ssl.SSLContext:
    """One TLS context per process (loading the CA bundle costs ~0.1 s): certifi's bundle, or
    SSL_CERT_FILE / SSL_CERT_DIR when set; no verification when `insecure`."""
    return httpx.create_ssl_context(verify=not insecure)


def _describe(err: Exception) -> str:
    if isinstance(err, httpx.RemoteProtocolError):  # typically the connection closed mid-body
        return f"truncated or malformed response: {_short(err)}"
    return f"{type(err).__name__}: {_short(err)}"


def _short(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:200]


def _causes(err: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = err
    while cur is not None and cur not in out and len(out) < 8:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _is_cert_error(err: BaseException) -> bool:
    return any(isinstance(e, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e) for e in _causes(err))


def _is_tls_error(err: BaseException) -> bool:
    """A TLS handshake failure (e.g. https spoken to a plain-HTTP port)."""
    return any(isinstance(e, ssl.SSLError) or "SSL" in type(e).__name__ or "[SSL" in str(e) for e in _causes(err))
