"""`hullscan db ...`: update, import, status, export. Thin: parses options, calls the vulndb modules, prints."""

from __future__ import annotations

import re
import sys
import time
from typing import TYPE_CHECKING

from hullscan.cli.main import add_command, add_group, path_arg
from hullscan.errors import DatabaseError, InputError, UsageError
from hullscan.vulndb import sources as src

if TYPE_CHECKING:
    from datetime import timedelta
    from pathlib import Path
    from typing import Any

    from hullscan.cli.main import Subparsers

# Everything else (SQLAlchemy, httpx, the importers, json, datetime) loads inside the commands:
# `hullscan --help` imports this module to register `db`.
FORMATS = ("osv", "nvd", "kev", "epss", "debian-json", "debian-list", "alpine", "wolfi", "rustsec", "rubysec",
           "redhat-csaf", "redhat-repo-cpe", "endoflife", "amazon", "oracle-oval")

DESCRIPTION = (
    "The vulnerability database: update from the public feeds, import files, status, export.\n\n"
    "The DB is a SQLite file (default under $XDG_DATA_HOME/hullscan, or --db PATH) or PostgreSQL "
    "(HULLSCAN_DB_URL=postgresql://...). Exit 4 when the DB is missing, corrupt or foreign."
)
DB_HELP = "DB file path or URL (default: $HULLSCAN_DB_URL, else the XDG data dir file)."


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class _Reporter:
    """Per-feed progress on stderr: a redrawn line on a terminal, plain lines otherwise
    (the `hullscan.vulndb.update.Reporter` protocol)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def feed(self, feed: str, msg: str) -> None:
        self._clear()
        _err(f"db update: {feed}: {msg}")

    def download(self, feed: str, url: str, got: int, total: int | None) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and (total is None or got < total):
            return
        self._last = now
        if total:
            done = min(30, 30 * got // total)
            bar = f"[{'#' * done}{'.' * (30 - done)}] {100 * got // total:3d}% {got / 1e6:.1f}/{total / 1e6:.1f} MB"
        else:
            bar = f"{got / 1e6:.1f} MB"
        sys.stderr.write(f"\r  {feed}: {bar}   ")
        sys.stderr.flush()

    def warn(self, msg: str) -> None:
        self._clear()
        _err(f"hullscan: warning: {msg}")

    def _clear(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")


def update_cmd(*, feed: list[str] | None, feed_url: list[str] | None, rebuild: bool, db: str | None) -> None:
    """Download the feeds and switch to the new data atomically; a failing feed keeps its old data."""
    from hullscan.vulndb import update as upd

    urls: dict[str, list[str]] = {}
    for item in feed_url or []:
        name, sep, url = item.partition("=")
        if not sep or not url or name not in src.SOURCES:
            raise UsageError(f"--feed-url wants NAME=URL with NAME one of {', '.join(src.SOURCES)}, got {item!r}")
        urls.setdefault(name, []).append(url)
    feeds = list(dict.fromkeys(feed or [])) or upd.default_feeds()
    result = upd.update(db, feeds, urls=urls, rebuild=rebuild, reporter=_Reporter())
    for o in result.outcomes:
        print(f"{o.feed:<11} {o.status:<9} {o.message}")
        if o.batch is not None and o.batch.reasons:
            for r in o.batch.reasons[:5]:
                print(f"    skipped: {r}")


def import_cmd(*, paths: list[Path], fmt: str | None, feed: str | None, replace: bool, rebuild: bool, db: str | None) -> None:
    """Import feed files from disk (air-gapped sites); all-or-nothing per feed."""
    from hullscan.vulndb import bundle, importer
    from hullscan.vulndb.store import VulnDB

    bundles = [p for p in paths if bundle.is_bundle(p)]
    others = [p for p in paths if p not in bundles]
    summary = importer.read(others, fmt=fmt, feed=feed, progress=lambda m: _err(f"db import: {m}")) if others else None
    if summary is not None and not summary.batches and not bundles:
        for e in summary.errors:
            print(f"error: {e}")
        raise InputError(f"no feed data recognized in {', '.join(map(str, others))} (try --format)")
    store = VulnDB.open(db, create=True, rebuild=rebuild)
    try:
        for b in bundles:
            man = bundle.load(store, b)
            print(f"bundle {b}: {sum(man.get('rows', {}).values())} rows (built {man.get('built_at')})")
        if summary is not None:
            importer.write(store, summary, replace=replace)
    finally:
        store.close()
    bad = False
    if summary is not None:
        for name, batch in sorted(summary.batches.items()):
            st = summary.written.get(name)
            if st is not None:
                print(f"{name:<11} imported  {batch.records} records ({len(batch.advisories)} advisories), "
                      f"{batch.skipped} skipped; feed now {st.advisories} advisories, {st.affected} affected rows"
                      + (f", {st.records} records" if st.records else ""))
            else:
                bad = True
                print(f"{name:<11} FAILED    {summary.failed.get(name, 'not written')} (nothing written for this feed)")
            for r in batch.reasons[:5]:
                print(f"    skipped: {r}")
        if summary.unreadable_count:
            print(f"unreadable files: {summary.unreadable_count}")
            for r in summary.unreadable[:5]:
                print(f"    {r}")
        for e in summary.errors:
            bad = True
            print(f"error: {e}")
    if bad:
        raise InputError("some inputs could not be imported (see above); the other feeds were written")


_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw]?)$")


def parse_age(text: str) -> timedelta:
    """`36h`, `7d`, `2w`, `90m`, `3600` (seconds) -> timedelta."""
    from datetime import timedelta

    m = _AGE.match(text.strip().lower())
    if not m:
        raise UsageError(f"bad age {text!r} (use e.g. 36h, 7d, 2w)")
    n, unit = float(m.group(1)), m.group(2) or "s"
    return timedelta(seconds=n * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit])


def status_cmd(*, max_age: str, fail_stale: bool, as_json: bool, db: str | None) -> None:
    """Feeds, counts and ages, coverage per ecosystem; warns past --max-age (fails only with --fail-stale)."""
    import json
    from datetime import UTC, datetime

    from hullscan.inventory.os_release import DISTRO_ECOSYSTEMS
    from hullscan.vulndb.ecosystems import base_ecosystem
    from hullscan.vulndb.read import open_reader

    limit = parse_age(max_age)
    with open_reader(db) as reader:
        display = reader.display
        feeds = reader.feeds()
        built = reader.built_at
        counts = reader.counts()
        stored = reader.coverage()
        generation, log = reader.generation(), reader.change_log()
    # the change log a rescan follows (docs/vulndb.md "Change log"): the current generation and the span kept
    change_log = {"generation": generation, "generations": len(log),
                  "oldest": log[0].generation if log else None, "since": log[0].created_at if log else None}
    ecos = sorted({c.ecosystem for c in stored})
    now = datetime.now(UTC)
    stale: list[str] = []
    rows = []
    by_feed: dict[str, dict[str, Any]] = {}
    for f in feeds:
        when = f.fetched_at or f.imported_at
        age = now - datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None
        if age is None or age > limit or f.last_error:
            stale.append(f.feed)
        rows.append({k: getattr(f, k) for k in f.__dataclass_fields__}
                    | {"age_hours": round(age.total_seconds() / 3600, 1) if age else None})
        by_feed[f.feed] = rows[-1]
    # per (ecosystem, feed): what a scan of that ecosystem's packages is matched against, and how old it is
    coverage: list[dict[str, Any]] = []
    for c in stored:
        st = by_feed.get(c.feed, {})
        coverage.append({"ecosystem": c.ecosystem, "feed": c.feed, "advisories": c.advisories, "affected": c.affected,
                         "newest_advisory": c.newest[:10] if c.newest else None,
                         "fetched_at": st.get("fetched_at") or st.get("imported_at"),
                         "age_hours": st.get("age_hours"), "skipped": st.get("skipped")})
    # every distro family the inventory can detect that no feed holds advisories for
    not_covered = sorted(DISTRO_ECOSYSTEMS - {base_ecosystem(e) for e in ecos}, key=str.lower)
    if as_json:
        print(json.dumps({"location": display, "built_at": built.isoformat() if built else None,
                          "counts": counts, "ecosystems": ecos, "feeds": rows, "coverage": coverage,
                          "not_covered": not_covered, "stale": stale, "change_log": change_log}, indent=2))
    else:
        from hullscan.report import boxes

        width = boxes.terminal_columns()
        head = (f"DB {display}  built {built:%Y-%m-%d %H:%M UTC}" if built else f"DB {display}  (empty)",
                f"{counts['hs_advisory']} advisories, {counts['hs_affected']} affected rows, "
                f"{counts['hs_kev']} KEV, {counts['hs_epss']} EPSS; {len(ecos)} ecosystems",
                f"generation {generation}; change log: {len(log)} generations"
                + (f" since {log[0].created_at} (generation {log[0].generation})" if log else ""))
        print("\n".join(line for text in head for line in boxes.wrap(text, width)))

        body = [(r["feed"], r["advisories"], r["affected"], r["records"], r["skipped"],
                 f"{r['age_hours']:.0f}h" if r["age_hours"] is not None else "-",
                 (r["source"] or "") + (f"  LAST UPDATE FAILED: {r['last_error']}" if r["last_error"] else ""))
                for r in rows]
        print(boxes.table(("Feed", "Advisories", "Affected", "Records", "Skipped", "Age", "Source"), body,
                          width=width, no_wrap=("Feed",)))
        if coverage:
            cov = [(c["ecosystem"], c["feed"], c["advisories"], (c["newest_advisory"] or "-")[:10],
                    f"{c['age_hours']:.0f}h" if c["age_hours"] is not None else "-", c["skipped"]) for c in coverage]
            print(boxes.table(("Ecosystem", "Feed", "Advisories", "Newest", "Age", "Skipped"), cov, width=width,
                              title="Coverage", no_wrap=("Feed",)))
        if not_covered:
            print("\n".join(boxes.wrap(f"Not covered (no advisories for any release): {', '.join(not_covered)}",
                                       width)))
    if stale:
        msg = f"stale or failed feeds (older than {max_age}): {', '.join(stale)}; run `hullscan db update`"
        if fail_stale:
            raise DatabaseError(msg)
        _err(f"hullscan: warning: {msg}")


def export_cmd(*, file: Path, db: str | None) -> None:
    """Write the whole DB as one checksummed bundle for offline machines."""
    from hullscan import bundlefile
    from hullscan.vulndb import bundle
    from hullscan.vulndb.store import VulnDB

    store = VulnDB.open(db)
    try:
        man = bundle.export(store, file)
    finally:
        store.close()
    print(f"wrote {file}: {sum(man['rows'].values())} rows, sha256 {man['sha256'][bundlefile.DATA]}")


def register(subparsers: Subparsers) -> None:
    db = add_group(subparsers, "db", DESCRIPTION)

    update = add_command(db, "update", update_cmd)
    update.add_argument("--feed", action="append",
                        help=f"Feed to update (repeatable). Default: {', '.join(src.DEFAULT_FEEDS)} (+nvd with NVD_API_KEY). "
                             f"Known: {', '.join(src.SOURCES)}.")
    update.add_argument("--feed-url", action="append", metavar="NAME=URL",
                        help="NAME=URL: mirror for a feed (repeatable; for osv/alpine a base URL).")
    update.add_argument("--rebuild", action="store_true", help="Start from an empty DB (replaces a corrupt/foreign/old one).")
    update.add_argument("--db", help=DB_HELP)

    imp = add_command(db, "import", import_cmd)
    imp.add_argument("paths", nargs="+", type=path_arg, help="Feed files, directories, .zip/.tar.gz archives, or a `db export` bundle.")
    imp.add_argument("--format", dest="fmt", metavar="FORMAT", help=f"Force a format: {', '.join(FORMATS)} (default: detected per file).")
    imp.add_argument("--feed", help="Store everything under this feed name.")
    imp.add_argument("--replace", action="store_true", help="Replace each imported feed's previous data (default: upsert by advisory id).")
    imp.add_argument("--rebuild", action="store_true", help="Start from an empty DB (replaces a corrupt/foreign/old one).")
    imp.add_argument("--db", help=DB_HELP)

    status = add_command(db, "status", status_cmd)
    status.add_argument("--max-age", default="7d", metavar="AGE", help="Warn about feeds older than this (e.g. 36h, 7d).")
    status.add_argument("--fail-stale", action="store_true", help="Exit 4 (instead of only warning) when a feed is stale or failed.")
    status.add_argument("--json", dest="as_json", action="store_true", help="Print JSON.")
    status.add_argument("--db", help=DB_HELP)

    export = add_command(db, "export", export_cmd)
    export.add_argument("file", type=path_arg, help="Bundle file to write (import it with `hullscan db import FILE`).")
    export.add_argument("--db", help=DB_HELP)
