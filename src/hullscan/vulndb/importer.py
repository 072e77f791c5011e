"""`db import`: read paths with the feed importers into per-feed batches, then write each feed in
its own transaction (all-or-nothing per feed). A path that breaks mid-read (truncated archive)
fails every feed it had fed; the other feeds are still written."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hullscan.errors import InputError
from hullscan.vulndb import feeds as F
from hullscan.vulndb.feeds._input import iter_members
from hullscan.vulndb.model import FeedBatch, FeedState
from hullscan.vulndb.store import VulnDB


@dataclass
class ImportSummary:
    """What an import read and wrote."""

    batches: dict[str, FeedBatch] = field(default_factory=dict)
    written: dict[str, FeedState] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    unreadable_count: int = 0
    errors: list[str] = field(default_factory=list)


class _TrackingContext(F.ImportContext):
    def __init__(self, feed_override: str | None) -> None:
        super().__init__(feed_override)
        self.touched: set[str] = set()

    def batch(self, feed: str) -> FeedBatch:
        b = super().batch(feed)
        self.touched.add(b.feed)
        return b


def read(paths: Iterable[Path], fmt: str | None = None, feed: str | None = None,
         progress: Callable[[str], None] | None = None) -> ImportSummary:
    """Parse every path into batches (nothing written yet)."""
    if fmt is not None and fmt not in F.FORMATS:
        raise InputError(f"unknown feed format {fmt!r} (known: {', '.join(F.FORMATS)})")
    ctx = _TrackingContext(feed)
    summary = ImportSummary()
    for path in paths:
        ctx.touched = set()
        if progress:
            progress(f"reading {path}")
        try:
            for name, data in iter_members(Path(path)):
                _one(name, data, ctx, fmt, summary)
        except InputError as err:
            if ctx.touched:
                for f in ctx.touched:
                    summary.failed.setdefault(f, str(err))
            else:
                summary.errors.append(str(err))
        for f in ctx.touched:
            ctx.batches[f].sources.append(str(path))
    summary.batches = ctx.batches
    return summary


def _one(name: str, data: bytes, ctx: F.ImportContext, fmt: str | None, summary: ImportSummary) -> None:
    try:
        decoded = F.decode(name, data) if fmt is None else _forced_decode(name, data, fmt)
    except Exception as err:  # JSON/YAML syntax errors of any parser: one bad file, go on
        summary.unreadable_count += 1
        if len(summary.unreadable) < 10:
            summary.unreadable.append(f"{name}: {str(err).splitlines()[0][:160]}")
        if fmt is not None:
            mod = F.module(fmt)
            ctx.batch(mod.FEED).skip(name, f"unreadable: {str(err).splitlines()[0][:120]}")
        return
    if decoded is None:
        return
    kind, doc = decoded
    use = fmt or F.detect(name, kind, doc)
    if use is None:
        ctx.unrecognized += 1
        return
    mod = F.module(use)
    try:
        mod.parse(name, doc, ctx)
    except (AttributeError, TypeError, ValueError, KeyError) as err:
        # a document of the right kind but the wrong shape: skip it whole, say why
        ctx.batch(mod.FEED).skip(name, f"malformed {use} document: {type(err).__name__}: {err}")


def _forced_decode(name: str, data: bytes, fmt: str) -> tuple[str, object]:
    low = name.lower()
    if low.endswith((".yaml", ".yml")):
        return "yaml", F.load_yaml(data)
    if low.endswith(".json") or fmt in ("osv", "nvd", "kev", "debian-json", "wolfi"):
        try:
            return "json", F.load_json(data)
        except ValueError:
            if fmt == "osv":
                return "yaml", F.load_yaml(data)
            raise
    return "text", data.decode("utf-8", "replace")


def write(db: VulnDB, summary: ImportSummary, *, replace: bool = False,
          progress: Callable[[str], None] | None = None) -> ImportSummary:
    """Write every batch that did not fail, one transaction per feed."""
    for name, batch in sorted(summary.batches.items()):
        if name in summary.failed:
            continue
        if not batch.records and batch.skipped:
            summary.failed[name] = f"no valid records ({batch.skipped} skipped)"
            continue
        if progress:
            progress(f"writing {name}: {batch.records} records")
        summary.written[name] = db.write_batch(batch, replace=replace)
    return summary


#: A streamed part also ends after this much input: records naming many packages (a Red Hat erratum's 28
#: rows, a CSAF VEX document's hundreds) would otherwise make 5,000 advisories a part of 500 MB+.
STREAM_BYTES = 24 << 20


def stream(paths: Iterable[Path], feed: str, chunk: int = 5000) -> Iterator[FeedBatch]:
    """Parts of one feed's batch, each of at most ~`chunk` advisories or STREAM_BYTES of input, for `VulnDB.write_stream`
    (feeds whose records are whole advisories: OSV, NVD). An id seen in an earlier part is dropped
    (the same GHSA ships in several OSV ecosystem zips). Records of other feeds are ignored.
    Raises InputError when a path cannot be read (the caller's transaction then rolls back)."""
    ctx = F.ImportContext()
    summary = ImportSummary()
    seen: set[str] = set()
    pending = 0  # input bytes read into the current part

    def take() -> FeedBatch:
        b = ctx.batches.pop(feed, None) or FeedBatch(feed)
        for adv_id in [i for i in b.advisories if i in seen]:
            del b.advisories[adv_id]
        seen.update(b.advisories)
        ctx.batches.clear()
        return b

    for path in paths:
        for name, data in iter_members(Path(path)):
            _one(name, data, ctx, None, summary)
            if summary.unreadable_count:
                b = ctx.batch(feed)
                for r in summary.unreadable:
                    b.skip("download", f"unreadable {r}")
                summary.unreadable.clear()
                summary.unreadable_count = 0
            cur = ctx.batches.get(feed)
            pending += len(data)
            if cur is not None and (len(cur.advisories) >= chunk or pending >= STREAM_BYTES):
                pending = 0
                yield take()
    yield take()
