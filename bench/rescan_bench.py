"""`hullscan rescan` at scale: 10,000 stored inventories re-matched after a DB update changing 1% of advisories.

    .venv/bin/python bench/rescan_bench.py [--images 10000] [--state PATH|postgresql://…] [--schema NAME] [--dir DIR]

The images are bench/stored_bench.py's mix (~500 packages each: 400 deb in a base layer — 80% of the images
on one of 5 shared bases, 20% on a base of their own — and 100 PyPI/npm packages in two application
layers), stored one `store_report` each (not timed here: stored_bench.py times it). The vulnerability DB
(SQLite, its writer's API as `db update` uses it) holds an advisory for each of those names: one per Debian
source package (`Debian:12`, fixed at 5.0-1: about half the installed versions are affected) and one per
PyPI and npm name (fixed 3.0.0) — 6,136 advisories, ~220 findings an image (a debian:12 image has 100-300).
Then, each step in its own process (its time and peak RSS are the rescan's alone):
1. the first rescan (every image: its stored scan had no findings to compare with);
2. a DB update rewriting 1% of the advisories (every 100th: a new fixed version), as `db update` does;
3. the incremental rescan (`hullscan rescan --all`): only images holding a changed package are re-matched —
   here every one, since the changed advisories include Debian source packages every image holds;
4. a full rescan (`--full`).
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from stored_bench import make_report  # noqa: E402

from hullscan.vulndb.model import AdvisoryIn, AffectedIn, FeedBatch  # noqa: E402


def advisories(changed_every: int = 0) -> Iterator[FeedBatch]:
    batch = FeedBatch("osv")
    items: list[tuple[str, str]] = [("Debian:12", f"src{s:03d}") for s in range(134)]
    items += [(eco, f"{kind}-pkg{n}") for eco, kind in (("PyPI", "pypi"), ("npm", "npm")) for n in range(3001)]
    for i, (eco, name) in enumerate(items):
        changed = changed_every and i % changed_every == 0
        fixed = ("5.1-1" if changed else "5.0-1") if eco.startswith("Debian") else ("3.1.0" if changed else "3.0.0")
        a = AdvisoryIn(id=f"BENCH-{i:06d}", summary=f"issue {i} in {name}", details="", published="2024-01-02T00:00:00Z",
                       modified="2025-06-01T00:00:00Z" if changed else "2024-03-04T00:00:00Z",
                       aliases=[f"CVE-2024-{i + 10000}"], severities=[("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5)],
                       references=[], affected=[AffectedIn(eco, name, [{"type": "ECOSYSTEM", "events": [
                           {"introduced": "0"}, {"fixed": fixed}]}], [], "fixed")])
        batch.advisories[a.id] = a
        if len(batch.advisories) >= 5000:
            yield batch
            batch = FeedBatch("osv")
    yield batch


def write_db(path: str, changed_every: int) -> None:
    from hullscan.vulndb.store import VulnDB

    with VulnDB.open(path, create=True) as db:
        db.write_stream("osv", advisories(changed_every), replace=True)


def step(state: str, schema: str, db: str, full: bool) -> None:
    """One rescan, in this process: its time, what it did, the process's peak RSS."""
    from hullscan.rescan.run import rescan
    from hullscan.state.store import open_state
    from hullscan.vulndb.read import open_reader

    store = open_state(state, schema=schema) if "://" in state else open_state(state)
    t = time.perf_counter()
    with open_reader(db) as reader:
        result = rescan(store, reader, full=full)
    took = time.perf_counter() - t
    changed = sum(1 for r in result.images if r.changes)
    changes = sum(len(r.changes) for r in result.images)
    print(f"  {result.mode:<11} {took:7.1f} s: {len(result.images)} images re-matched ({changed} changed, {changes} "
          f"changes), {result.untouched} untouched; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--state", help="A SQLite path or postgresql:// URL (default: a SQLite file in --dir).")
    ap.add_argument("--schema", default="hullscan_rescan_bench")
    ap.add_argument("--dir", help="Where the DB (and the default state) go (default: a temporary directory).")
    ap.add_argument("--step", choices=("first", "incremental", "full"), help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    root = Path(args.dir or tempfile.mkdtemp())
    state = args.state or str(root / "state.sqlite")
    db = args.db or str(root / "vuln.sqlite")
    if args.step:
        step(state, args.schema, db, args.step == "full")
        return
    from hullscan.state import inventories as inv
    from hullscan.state.store import open_state

    rng = random.Random(23)
    bases = [("sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64)), rng.randrange(1 << 30))
             for _ in range(5)]
    store = open_state(state, schema=args.schema) if "://" in state else open_state(state)
    t = time.perf_counter()
    for n in range(args.images):
        inv.store_report(store, make_report(rng, n, bases))
    store.close()
    print(f"stored {args.images} images in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    write_db(db, 0)
    print(f"DB written in {time.perf_counter() - t:.0f} s", flush=True)
    me = [sys.executable, __file__, "--state", state, "--schema", args.schema, "--db", db, "--dir", str(root)]
    print("first rescan (baseline: every image matched)", flush=True)
    subprocess.run([*me, "--step", "first"], check=True)
    t = time.perf_counter()
    write_db(db, 100)
    print(f"DB update rewriting 1% of the advisories: {time.perf_counter() - t:.0f} s", flush=True)
    print("incremental rescan", flush=True)
    subprocess.run([*me, "--step", "incremental"], check=True)
    print("full rescan (--full)", flush=True)
    subprocess.run([*me, "--step", "full"], check=True)


if __name__ == "__main__":
    main()
