"""Coverage (hs_ecosystem): what recording it costs a feed's write, and what reading it costs a scan.

    .venv/bin/python bench/coverage_bench.py [--advisories 400000] [--per 4] [--ecosystems 300]

A synthetic DB of the real OSV export's size class (osv.dev's all.zip: ~400,000 advisories, ~1.6 M
affected rows over some 300 ecosystem releases), its rows inserted straight through sqlite3 (not
timed), all in one feed as `db update` stores OSV. Then, timed, best of 3:
- `store._store_coverage` of that feed and of a small feed beside it: the GROUP BY recount an upsert
  into a feed that already has rows runs before it commits (a feed written whole — every `db update`,
  a first `db import`, `--replace` — is counted while its rows are inserted instead: no query);
- `coverage()` (what a scan's matcher reads) against `ecosystems()` (the SELECT DISTINCT over
  hs_affected that the matcher read before hs_ecosystem existed).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from hullscan.vulndb import store
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.store import VulnDB


def build(path: Path, advisories: int, per: int, ecosystems: int) -> int:
    VulnDB.open(path, create=True).close()
    rnd = random.Random(22)
    ecos = [f"Eco{i % 40}:{i}" for i in range(ecosystems)]
    ranges = json.dumps([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}])
    n = 0
    with sqlite3.connect(path) as c:
        for feed, count in (("osv", advisories), ("alpine", advisories // 50)):
            adv, aff = [], []
            for i in range(count):
                aid = f"{feed.upper()}-{i:07d}"
                day = f"20{rnd.randint(10, 25)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T00:00:00Z"
                adv.append((feed, aid, "s", None, day, day, None, None))
                for _ in range(per):
                    eco = ecos[rnd.randrange(len(ecos))] if feed == "osv" else "Alpine:v3.19"
                    aff.append((feed, aid, eco, f"pkg{rnd.randrange(50000)}", ranges, "[]", "fixed", '["1.2.3"]', None, 0))
            c.executemany("INSERT INTO hs_advisory VALUES (?,?,?,?,?,?,?,?)", adv)
            c.executemany("INSERT INTO hs_affected VALUES (?,?,?,?,?,?,?,?,?,?)", aff)
            n += len(aff)
    return n


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--advisories", type=int, default=400_000)
    ap.add_argument("--per", type=int, default=4)
    ap.add_argument("--ecosystems", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db.sqlite"
        rows = build(path, args.advisories, args.per, args.ecosystems)
        print(f"DB: {args.advisories + args.advisories // 50:,} advisories, {rows:,} affected rows, "
              f"{path.stat().st_size / 1e6:.0f} MB")
        db = VulnDB.open(path)
        try:
            for feed in ("osv", "alpine"):
                def one(feed: str = feed) -> None:
                    with db.engine.begin() as conn:
                        store._store_coverage(conn, [feed])
                print(f"_store_coverage({feed}): {best(one):.2f} s")
        finally:
            db.close()
        with open_reader(path) as r:
            print(f"coverage(): {len(r.coverage())} rows in {best(r.coverage) * 1000:.1f} ms; "
                  f"ecosystems() (before): {best(r.ecosystems) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
