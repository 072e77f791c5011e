"""Vulnerability DB benchmark: import feed files, then look up 5,000 (ecosystem, name) pairs, on SQLite
and (when reachable) PostgreSQL.

    .venv/bin/python bench/vulndb_bench.py [--feeds PATH ...] [--pg postgresql://postgres@127.0.0.1:5432/test] [--runs 3]

By default it imports the real feed files the tests use (tests/vulndb/testdata: whole Debian DSA/DLA
lists, Alpine secdb v3.4/v3.10/v3.11, cut OSV Go/PyPI archives, OSV/RustSec/RubySec samples, a cut KEV,
vunnel NVD records; see its PROVENANCE.md). For full-size numbers pass full feeds with --feeds, e.g. the
files `hullscan db update` keeps under $XDG_CACHE_HOME/hullscan/feeds (or any directory of feed files).

Targets (full-size feeds): import <= 20 s; 5,000-pair lookup <= 0.5 s on each backend.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from hullscan.vulndb import importer
from hullscan.vulndb import schema as S
from hullscan.vulndb.read import open_reader
from hullscan.vulndb.store import VulnDB


def _pairs(db: VulnDB, n: int) -> list[tuple[str, str]]:
    """n pairs spread over every stored (ecosystem, package), plus unknown names if the DB holds fewer."""
    with db.engine.connect() as c:
        allp = sorted(c.execute(select(S.affected.c.ecosystem, S.affected.c.package).distinct()).all())
    step = max(1, len(allp) // n)
    pairs = [tuple(p) for p in allp[::step]][:n]
    pairs += [("PyPI", f"no-such-package-{i}") for i in range(n - len(pairs))]
    return pairs  # type: ignore[return-value]


def run(location: str, paths: list[Path], runs: int, label: str) -> None:
    best_imp = best_read = best_imp_cpu = float("inf")
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        summary = importer.read(paths)
        t1 = time.perf_counter()
        with VulnDB.open(location, create=True, rebuild=True) as db:
            importer.write(db, summary)
        t2 = time.perf_counter()
        best_imp, best_read = min(best_imp, t2 - t0), min(best_read, t1 - t0)
        best_imp_cpu = min(best_imp_cpu, time.process_time() - c0)
    with VulnDB.open(location) as db:
        pairs = _pairs(db, 5000)
    with open_reader(location) as reader:  # what a scan reads through
        counts = reader.counts()
        best_look, best_cpu, hits = float("inf"), float("inf"), 0
        for _ in range(max(runs, 5)):
            t0, c0 = time.perf_counter(), time.process_time()
            got = reader.affected_for(pairs)
            best_look = min(best_look, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
            hits = sum(len(v) for v in got.values())
    print(f"{label}: import {best_imp:.2f} s wall, {best_imp_cpu:.2f} s CPU (parse {best_read:.2f} s) -> "
          f"{counts['hs_advisory']} advisories, "
          f"{counts['hs_affected']} affected rows, {counts['hs_kev']} KEV; "
          f"lookup of {len(pairs)} pairs {best_look * 1000:.0f} ms wall, {best_cpu * 1000:.0f} ms CPU ({hits} rows)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", nargs="+", type=Path, default=[Path(__file__).resolve().parent.parent / "tests/vulndb/testdata"],
                    help="feed files or directories to import (default: tests/vulndb/testdata)")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    paths = list(args.feeds)
    with tempfile.TemporaryDirectory() as tmp:
        run(str(Path(tmp) / "bench.sqlite"), paths, args.runs, "SQLite")
    if args.pg:
        import psycopg

        schema = f"hs_bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(args.pg, autocommit=True, connect_timeout=3) as c:
                c.execute(f'CREATE SCHEMA "{schema}"')
        except psycopg.OperationalError as err:
            print(f"PostgreSQL: skipped ({err})")
            return
        try:
            run(f"{args.pg}?options=-csearch_path%3D{schema}", paths, args.runs, "PostgreSQL")
        finally:
            with psycopg.connect(args.pg, autocommit=True) as c:
                c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
