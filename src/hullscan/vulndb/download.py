"""Downloading feed files on the one HTTP client (`hullscan.http`: retries, Retry-After, backoff).

What is added here: conditional requests (ETag / Last-Modified; a 304 keeps the cached copy), a body
shorter than its Content-Length fetched again, and the copy written whole or not at all, private
(fsio), into the download cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from hullscan.errors import FetchError
from hullscan.fsio import AtomicFile
from hullscan.http import HttpClient, Retry, RetryPolicy
from hullscan.vulndb import csaf_archive, yumrepo


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


class NotFound(FetchError):
    """The server answered 404/410: it does not have the file (update.py decides whether that matters)."""


class Downloader:
    """Feed downloads with the HTTP client's retry policy (`policy` None: the default one)."""

    def __init__(self, *, policy: RetryPolicy | None = None, sleep: Callable[[float], None] | None = None,
                 timeout: float = 60.0) -> None:
        self.client = HttpClient(policy=policy, sleep=sleep, timeout=timeout)
        self.sleep = self.client.sleep
        """Also NVD's pause between pages (update.py): tests record it with the retries' waits."""

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Downloader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, dest: Path, *, etag: str | None = None, last_modified: str | None = None,
              params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
              progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> Fetched:
        """Download `url` to `dest`. With etag/last_modified and an existing `dest`, a conditional
        request; on 304 the existing file is kept. Raises NotFound on 404/410 (not retried), FetchError
        when every attempt failed. A yum repository's `mirror.list` / `repodata/repomd.xml` URL fetches
        the updateinfo file it names (vulndb/yumrepo.py; `dest`'s suffix then follows its compression), an
        `archive_latest.txt` URL the CSAF VEX archive it names (vulndb/csaf_archive.py)."""
        if yumrepo.is_repo_url(url):
            return yumrepo.fetch_updateinfo(self._fetch, url, dest, etag=etag, last_modified=last_modified,
                                            progress=progress, warn=warn)
        if csaf_archive.is_latest_url(url):  # Red Hat's CSAF VEX archive, named by archive_latest.txt
            return csaf_archive.fetch_archive(self._fetch, url, dest, etag=etag, last_modified=last_modified,
                                              progress=progress, warn=warn)
        return self._fetch(url, dest, etag=etag, last_modified=last_modified, params=params, headers=headers,
                           progress=progress, warn=warn)

    def _fetch(self, url: str, dest: Path, *, etag: str | None = None, last_modified: str | None = None,
               params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
               progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> Fetched:
        hdrs = dict(headers or {})
        if dest.exists():
            if etag:
                hdrs["If-None-Match"] = etag
            if last_modified:
                hdrs["If-Modified-Since"] = last_modified

        def save(resp: httpx.Response) -> Fetched:
            if resp.status_code == 304 and dest.exists():
                return Fetched(url, dest, False, etag, last_modified)
            if resp.status_code in (404, 410):
                raise NotFound(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}")
            if resp.status_code != 200:
                raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}")
            # a compressed transfer's Content-Length counts the compressed bytes: no check then
            encoded = resp.headers.get("Content-Encoding", "identity") not in ("identity", "")
            total = None if encoded else _int(resp.headers.get("Content-Length"))
            got = 0
            dest.parent.mkdir(parents=True, exist_ok=True)
            with AtomicFile(dest, private=True) as out:
                for chunk in resp.iter_bytes(1 << 16):
                    out.write(chunk)
                    got += len(chunk)
                    if progress:
                        progress(got, total)
                if total is not None and got != total:
                    raise Retry(f"truncated body ({got} of {total} bytes)")  # the partial copy is discarded
            return Fetched(url, dest, True, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))

        def retrying(reason: str, wait: float) -> None:
            if warn:
                warn(f"{url}: {reason}; retrying in {wait:.1f}s")

        try:
            return self.client.fetch("GET", url, save, params=params, headers=hdrs, on_retry=retrying)
        except OSError as err:
            raise FetchError(f"cannot write {dest}: {err.strerror}") from None


def _int(v: str | None) -> int | None:
    """A Content-Length, None when absent or not a number (the body is then taken as it comes)."""
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None
