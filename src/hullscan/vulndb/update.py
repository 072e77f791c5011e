"""`db update`: download each feed from its public source (or a mirror), import it, switch atomically.

Fails closed. SQLite: the current file is copied to a staging file beside it, every feed is written
there, and the staging file is renamed over the DB at the end (readers never see a half-updated DB).
PostgreSQL: the whole update is one transaction (store.VulnDB `atomic`), each feed in a savepoint.
A feed that fails (network, bad data, an empty download replacing data) keeps its previous rows and
records the error in its feed state; the other feeds still update. When EVERY feed failed nothing is
switched: the previous DB stays exactly as it was, and where there was none no DB is left behind (an
empty one would let scans pass with nothing matched); `update` then raises FetchError (exit 3), or
InputError (exit 2) when every download arrived but none could be read.

A file the server does not have (404/410) costs only itself in a feed of several files (the Alpine
secdb's 44 branch files, OSV's ecosystems): one upstream never published (sources.never_published:
Alpine v3.2 community) is passed over silently; any other is warned about, named in the outcome, and
replaced by the copy an earlier update downloaded when there is one (the feed is replaced whole, so
that branch keeps its data). Only when no file at all could be had does the feed fail.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from hullscan.errors import DatabaseError, FetchError, HullscanError, InputError
from hullscan.fsio import install
from hullscan.vulndb import importer
from hullscan.vulndb.download import Downloader, Fetched, NotFound
from hullscan.vulndb.location import resolve
from hullscan.vulndb.model import FeedBatch, now_iso
from hullscan.vulndb.sources import ALPINE_BASE, DEFAULT_FEEDS, NVD_URL, OSV_BASE, SOURCES, alpine_branch, never_published
from hullscan.vulndb.store import VulnDB

NVD_PAGE = 2000


def default_feeds() -> list[str]:
    feeds = list(DEFAULT_FEEDS)
    if os.environ.get("NVD_API_KEY"):
        feeds.append("nvd")
    return feeds


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hullscan" / "feeds"


def sources_for(feed: str, overrides: list[str] | None) -> list[tuple[str, str]]:
    """(url, local name) list of a feed; `--feed-url` values replace it. For osv and alpine a URL
    without a file suffix is a mirror BASE (`{base}/{ecosystem}/all.zip`, `{base}/{branch}/{repo}.json`)."""
    defaults = SOURCES[feed]
    if not overrides:
        return list(defaults)
    out: list[tuple[str, str]] = []
    for url in overrides:
        url = url.rstrip("/")
        last = url.rsplit("/", 1)[-1]
        if feed in ("osv", "alpine") and "." not in last:
            out += [(d.replace(OSV_BASE if feed == "osv" else ALPINE_BASE, url, 1), n) for d, n in defaults]
        elif feed == "nvd":
            out.append((url, "nvd"))
        else:
            out.append((url, _local_name(feed, url, defaults[0][1], len(out))))
    return out


def _local_name(feed: str, url: str, default: str, i: int) -> str:
    path = url.split("?", 1)[0]
    last = path.rsplit("/", 1)[-1]
    if feed == "debian" and last == "list":  # the tracker's DSA/list, DLA/list text
        return f"{i}-{path.rsplit('/', 2)[-2]}/list"
    for suf in (".tar.gz", ".tgz", ".zip", ".csv.gz", ".json.gz", ".json", ".yaml", ".csv"):
        if last.endswith(suf):
            return f"{feed}-{i}-{last}"
    return f"{i}-{default}" if i else default


@dataclass
class FeedOutcome:
    """What happened to one feed."""

    feed: str
    status: str  # "updated", "unchanged", "failed"
    message: str = ""
    batch: FeedBatch | None = None
    error: HullscanError | None = None
    """Why a failed feed failed."""
    missing: list[str] = field(default_factory=list)
    """Files upstream publishes that the server did not have (404/410); the others were read."""


@dataclass
class UpdateResult:
    outcomes: list[FeedOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


class Reporter(Protocol):
    """Where `update` reports progress (the CLI passes one that draws bars on a terminal)."""

    def feed(self, feed: str, msg: str) -> None: ...
    def download(self, feed: str, url: str, got: int, total: int | None) -> None: ...
    def warn(self, msg: str) -> None: ...


class _Silent:
    """The default `Reporter`: reports nothing."""

    def feed(self, feed: str, msg: str) -> None:
        pass

    def download(self, feed: str, url: str, got: int, total: int | None) -> None:
        pass

    def warn(self, msg: str) -> None:
        pass


def update(location: str | None, feeds: list[str], *, urls: dict[str, list[str]] | None = None,
           rebuild: bool = False, reporter: Reporter | None = None, downloader: Downloader | None = None,
           cache: Path | None = None, nvd_delay: float | None = None) -> UpdateResult:
    """Update `feeds` of the DB at `location` (module docstring)."""
    rep = reporter if reporter is not None else _Silent()
    unknown = [f for f in feeds if f not in SOURCES]
    if unknown:
        raise InputError(f"unknown feed(s) {', '.join(unknown)} (known: {', '.join(SOURCES)})")
    url, path = resolve(location)
    cache = cache or cache_dir()
    dl = downloader or Downloader()
    result = UpdateResult()
    staging: Path | None = None
    try:
        if path is not None:
            staging = path.with_name(f".{path.name}.update-{os.getpid()}")
            if staging.exists():
                staging.unlink()
            for stale in path.parent.glob(f".{path.name}.update-*") if path.parent.is_dir() else ():
                if stale.stat().st_mtime < datetime.now().timestamp() - 86400:
                    stale.unlink(missing_ok=True)  # left by an update that was killed a day ago
            if path.exists() and not rebuild:
                VulnDB.open(path).close()  # refuses a corrupt/foreign file (use --rebuild)
                shutil.copy2(path, staging)
            path.parent.mkdir(parents=True, exist_ok=True)
            db = VulnDB.open(staging, create=True)
            existed = path.exists()
        else:
            # one transaction: creating/rebuilding the tables is undone too when every feed fails
            db = VulnDB.open(location, create=True, rebuild=rebuild, atomic=True)
            existed = not db.created
        try:
            for feed in feeds:
                result.outcomes.append(_one_feed(db, feed, (urls or {}).get(feed), dl, cache, rep, nvd_delay))
            if result.outcomes and len(result.failed) == len(result.outcomes):
                raise _all_failed(result, db.display if path is None else str(path), existed)
            for o in result.failed:
                rep.warn(f"feed {o.feed} failed, keeping its previous data: {o.message}")
                db.record_fetch(o.feed, last_error=o.message[:500], fetched_at=now_iso())
            db.commit()
        finally:
            db.close()  # an atomic session not committed is rolled back
        if staging is not None and path is not None:
            install(staging, path, private=True)
            staging = None
    finally:
        if downloader is None:
            dl.close()
        if staging is not None and staging.exists():
            staging.unlink()
    return result


def _all_failed(result: UpdateResult, display: str, existed: bool) -> HullscanError:
    """The one-line error of an update whose every feed failed (nothing was switched)."""
    kept = f"the DB at {display} is unchanged" if existed else f"no DB was created at {display}"
    why = "; ".join(f"{o.feed}: {o.message}" for o in result.failed)
    if len(why) > 400:
        why = why[:399] + "…"
    msg = f"db update failed for every feed, {kept} ({why})"
    # exit 3 when the network failed anywhere; 2 when every download arrived but none could be read
    if all(isinstance(o.error, InputError) for o in result.failed):
        return InputError(msg)
    return FetchError(msg)


def _one_feed(db: VulnDB, feed: str, overrides: list[str] | None, dl: Downloader, cache: Path,
              rep: Reporter, nvd_delay: float | None) -> FeedOutcome:
    with db.reader() as r:
        state = r.feed(feed)
    try:
        if feed == "nvd":
            return _nvd(db, overrides, dl, cache, rep, state, nvd_delay)
        srcs = sources_for(feed, overrides)
        etags = _load_map(state.etag if state else None)
        mods = _load_map(state.last_modified if state else None)
        fetched: list[tuple[str, Fetched]] = []  # (local name, download)
        missing: list[str] = []  # files the server lacks that upstream publishes (reported)
        first_missing: NotFound | None = None
        for i, (u, local) in enumerate(srcs, 1):
            rep.feed(feed, f"[{i}/{len(srcs)}] {u}")
            def progress(got: int, total: int | None, u: str = u) -> None:
                rep.download(feed, u, got, total)

            try:
                f = dl.fetch(u, cache / feed / local, etag=etags.get(u), last_modified=mods.get(u), progress=progress,
                             warn=rep.warn)
            except NotFound as err:
                if never_published(feed, local):
                    continue  # e.g. Alpine v3.2 had no community repository: nothing is lost
                first_missing = first_missing or err
                missing.append(_label(feed, local, u))
                kept = cache / feed / local
                if kept.is_file():
                    # the feed is replaced whole: the copy of the last update that had this file keeps its data
                    rep.warn(f"{err}; using the copy downloaded before")
                    f = Fetched(u, kept, False, etags.get(u), mods.get(u))
                else:
                    rep.warn(f"{err}; skipped")
                    continue
            fetched.append((local, f))
        if not fetched:
            raise first_missing or FetchError(f"{feed}: no file to download")
        parts = _parts_read(feed, srcs, [local for local, _ in fetched], missing)
        fetched_only = [f for _, f in fetched]
        fetch_info = {
            "source": " ".join(u for u, _ in srcs) if len(srcs) <= 3 else f"{srcs[0][0]} (+{len(srcs) - 1} more)",
            "etag": json.dumps({f.url: f.etag for f in fetched_only if f.etag}, sort_keys=True) or None,
            "last_modified": json.dumps({f.url: f.last_modified for f in fetched_only if f.last_modified}, sort_keys=True),
            "fetched_at": now_iso(),
        }
        if state is not None and state.last_error is None and not any(f.changed for f in fetched_only):
            db.record_fetch(feed, fetched_at=fetch_info["fetched_at"])
            rep.feed(feed, "unchanged (304 Not Modified)")
            return FeedOutcome(feed, "unchanged", "not modified" + (f", {parts}" if parts else ""), missing=missing)
        paths = [f.path for f in fetched_only]
        if feed in STREAMED:
            batch, count = _write_streamed(db, feed, paths, state, replace=True, fetch=fetch_info)
        else:
            batch = _read_feed(feed, paths)
            _guard_not_emptying(feed, batch, state)
            db.write_batch(batch, replace=True, fetch=fetch_info)
            count = batch.records
        msg = f"{count} records" + (f", {batch.skipped} skipped" if batch.skipped else "") + (f", {parts}" if parts else "")
        rep.feed(feed, f"updated: {msg}")
        return FeedOutcome(feed, "updated", msg, batch, missing=missing)
    except HullscanError as err:
        if isinstance(err, DatabaseError):
            raise
        # recorded (and warned about) once every feed has run: when all failed, nothing is written
        return FeedOutcome(feed, "failed", str(err), error=err)


def _label(feed: str, local: str, url: str) -> str:
    """How a missing file is named in messages: `v3.10/main` for a secdb branch file, else its URL."""
    branch = alpine_branch(local) if feed == "alpine" else None
    return f"{branch}/{local.rsplit('-', 1)[1].removesuffix('.json')}" if branch else url


def _parts_read(feed: str, srcs: list[tuple[str, str]], read: list[str], missing: list[str]) -> str:
    """The outcome's note on what was read: for the secdb, how many branches (a branch counts when one of
    its files was read); for other feeds only when a file was missing."""
    gone = f" (missing: {', '.join(missing)})" if missing else ""
    if feed == "alpine":
        published = {b for _, local in srcs if (b := alpine_branch(local))}
        if published:
            got = {b for local in read if (b := alpine_branch(local))}
            return f"{len(got)} of {len(published)} branches read{gone}"
    return f"{len(read)} of {len(srcs)} files read{gone}" if missing else ""


#: Feeds written part by part inside their one transaction (OSV npm, a full NVD download or Red Hat's
#: CSAF VEX archive hold hundreds of thousands of records: memory stays bounded).
STREAMED = ("osv", "nvd", "redhat-csaf")


def _write_streamed(db: VulnDB, feed: str, paths: list[Path], state: object, *, replace: bool,
                    fetch: dict[str, Any]) -> tuple[FeedBatch, int]:
    """Stream `paths` into the feed: (totals with skipped/reasons, advisories written)."""
    totals: list[FeedBatch] = []

    def check(total: FeedBatch) -> None:
        totals.append(total)
        if replace and not total.files:  # `files` counts the advisories written
            _guard_not_emptying(feed, FeedBatch(feed, skipped=total.skipped, reasons=total.reasons), state)

    db.write_stream(feed, importer.stream(paths, feed), replace=replace, fetch=fetch, before_commit=check)
    t = totals[0]
    return FeedBatch(feed, skipped=t.skipped, reasons=t.reasons), t.files


def _read_feed(feed: str, paths: list[Path]) -> FeedBatch:
    summary = importer.read(paths)
    if summary.failed:
        raise InputError("; ".join(sorted(set(summary.failed.values()))))
    if summary.errors:
        raise InputError("; ".join(summary.errors))
    batch = summary.batches.get(feed) or FeedBatch(feed)
    if summary.unreadable_count:
        for r in summary.unreadable:
            batch.skip("download", f"unreadable {r}")
    return batch


def _guard_not_emptying(feed: str, batch: FeedBatch, state: object) -> None:
    old = 0
    if state is not None:
        old = getattr(state, "advisories", 0) + getattr(state, "records", 0)
    if not batch.records:
        why = f" (first problems: {'; '.join(batch.reasons[:3])})" if batch.reasons else ""
        if old or batch.skipped:
            raise InputError(f"download holds no valid {feed} records{why}; refusing to replace {old} records")


def _nvd(db: VulnDB, overrides: list[str] | None, dl: Downloader, cache: Path, rep: Reporter,
         state: object, delay: float | None) -> FeedOutcome:
    """NVD CVE API 2.0: pages of 2,000, `apiKey` header from NVD_API_KEY, a pause between requests
    (NVD asks for 6 s without a key, 0.6 s with). Incremental (lastModStartDate) when the last
    successful fetch is under 120 days old, else a full download that replaces the feed."""
    base = (overrides or [NVD_URL])[0]
    key = os.environ.get("NVD_API_KEY")
    headers = {"apiKey": key} if key else {}
    pause = delay if delay is not None else (0.6 if key else 6.0)
    params: dict[str, str] = {"resultsPerPage": str(NVD_PAGE)}
    last = getattr(state, "fetched_at", None) if state is not None and not getattr(state, "last_error", None) else None
    incremental = False
    started = datetime.now(UTC)
    if last:
        since = datetime.fromisoformat(last.replace("Z", "+00:00"))
        if started - since < timedelta(days=119):
            incremental = True
            params["lastModStartDate"] = since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            params["lastModEndDate"] = started.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    paths: list[Path] = []
    for old in (cache / "nvd").glob("page-*.json"):  # pages of an earlier run
        old.unlink()
    start, total = 0, None
    while total is None or start < total:
        if start and pause:
            dl.sleep(pause)
        p = cache / "nvd" / f"page-{start:09d}.json"
        rep.feed("nvd", f"page at {start}" + (f" of {total}" if total is not None else ""))
        dl.fetch(base, p, params={**params, "startIndex": str(start)}, headers=headers, warn=rep.warn)
        try:
            page = json.loads(p.read_bytes())
            total = int(page["totalResults"])
            n = len(page["vulnerabilities"])
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"NVD page at {start} is not an API 2.0 response: {err}") from None
        paths.append(p)
        if n == 0:
            break
        start += n
    fetch = {"source": base, "fetched_at": started.replace(microsecond=0).isoformat().replace("+00:00", "Z")}
    batch, count = _write_streamed(db, "nvd", paths, state, replace=not incremental, fetch=fetch)
    msg = f"{count} CVEs ({'incremental' if incremental else 'full'})" + (
        f", {batch.skipped} skipped" if batch.skipped else "")
    rep.feed("nvd", f"updated: {msg}")
    return FeedOutcome("nvd", "updated", msg, batch)


def _load_map(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        val = json.loads(raw)
    except ValueError:
        return {}  # not the JSON we store: the next download is unconditional, which repairs it
    return {str(k): str(v) for k, v in val.items()} if isinstance(val, dict) else {}
