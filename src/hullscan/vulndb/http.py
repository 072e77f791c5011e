"""Downloading feed files: conditional requests (ETag / Last-Modified), retries with exponential
backoff on network errors, 5xx and 429 (honouring Retry-After), truncation checks, atomic writes
into the download cache (a 304 reuses the cached copy)."""

from __future__ import annotations

import email.utils
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hullscan import __version__
from hullscan.errors import FetchError

USER_AGENT = f"hullscan/{__version__} (+https://github.com/hullscan)"
MAX_RETRY_AFTER = 300.0


@dataclass(frozen=True, slots=True)
class Fetched:
    """One downloaded (or unchanged) file."""

    url: str
    """Where it came from."""
    path: Path
    """The cached copy on disk."""
    changed: bool
    """False when the server said 304 Not Modified (the cached copy is current)."""
    etag: str | None
    """ETag of the copy."""
    last_modified: str | None
    """Last-Modified of the copy."""


Progress = Callable[[int, int | None], None]


class Downloader:
    """HTTP client with the retry policy; `backoff` is the first delay in seconds (doubles each retry)."""

    def __init__(self, *, attempts: int = 4, backoff: float = 1.0, timeout: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, headers: dict[str, str] | None = None) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep
        self.client = httpx.Client(timeout=timeout, follow_redirects=True,
                                   headers={"User-Agent": USER_AGENT, **(headers or {})})

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, dest: Path, *, etag: str | None = None, last_modified: str | None = None,
              params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
              progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> Fetched:
        """Download `url` to `dest` (atomically). With etag/last_modified and an existing `dest`, a
        conditional request; on 304 the existing file is kept. Raises FetchError when every attempt failed."""
        hdrs = dict(headers or {})
        if dest.exists():
            if etag:
                hdrs["If-None-Match"] = etag
            if last_modified:
                hdrs["If-Modified-Since"] = last_modified
        last_err = "no attempt made"
        for attempt in range(self.attempts):
            delay = self.backoff * (2 ** attempt)
            try:
                with self.client.stream("GET", url, params=params, headers=hdrs) as resp:
                    if resp.status_code == 304 and dest.exists():
                        return Fetched(url, dest, False, etag, last_modified)
                    if resp.status_code == 429 or resp.status_code >= 500:
                        last_err = f"HTTP {resp.status_code}"
                        ra = _retry_after(resp.headers.get("Retry-After"))
                        if ra is not None:
                            delay = min(max(ra, 0.0), MAX_RETRY_AFTER)
                        raise _Retry
                    if resp.status_code != 200:
                        raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}")
                    total = _int(resp.headers.get("Content-Length"))
                    encoded = resp.headers.get("Content-Encoding", "identity") not in ("identity", "")
                    got = self._save(resp, dest, None if encoded else total, progress)
                    if total is not None and not encoded and got != total:
                        last_err = f"truncated body ({got} of {total} bytes)"
                        raise _Retry
                    return Fetched(url, dest, True, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
            except _Retry:
                pass
            except httpx.RemoteProtocolError as err:  # typically the connection closed mid-body
                last_err = f"truncated or malformed response: {err}"
            except httpx.HTTPError as err:  # connect/read errors, timeouts
                last_err = f"{type(err).__name__}: {err}"
            if attempt + 1 < self.attempts:
                if warn:
                    warn(f"{url}: {last_err}; retrying in {delay:.1f}s")
                self.sleep(delay)
        raise FetchError(f"{url}: {last_err} (after {self.attempts} attempts)")

    @staticmethod
    def _save(resp: httpx.Response, dest: Path, total: int | None, progress: Progress | None) -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        got = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in resp.iter_bytes(1 << 16):
                    out.write(chunk)
                    got += len(chunk)
                    if progress:
                        progress(got, total)
            if total is not None and got != total:
                os.unlink(tmp)
                return got
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return got


class _Retry(Exception):
    pass


def _int(v: str | None) -> int | None:
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def _retry_after(v: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not v:
        return None
    v = v.strip()
    if v.isdigit():
        return float(v)
    try:
        dt = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - datetime.now(UTC)).total_seconds()
