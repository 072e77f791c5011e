"""Benchmark: read a 1,000-package rpm database (SQLite and BerkeleyDB) with the rpm analyzer's parser (parse_database).

The databases hold the real headers of the SQLite fixtures in tests/inventory/testdata/rpm (Amazon Linux
2023 + CBL-Mariner 2.0, both shrunk: 45 package headers, gpg-pubkey left out, repeated under fresh header
numbers), written with Python's sqlite3 and `db5.3_load`
(built once, cached under ~/.cache/hullscan-tests/rpm/). The time covers the whole `analyze` step:
opening the database from bytes, walking its pages, parsing every header (file lists included) and
building the JSON fact. Target: ≤ 200 ms each.

    .venv/bin/python bench/rpm_bench.py [N]
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "inventory" / "rpm"))

import _rpmdb_build  # noqa: E402
from timing import best_of  # noqa: E402  (bench/timing.py)

from hullscan.inventory.rpm.analyzer import parse_database  # noqa: E402

TARGET_MS = 200.0


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    d = _rpmdb_build.bench_dbs(n)
    ok = True
    for fname, image_path in (("rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite"), ("Packages", "/var/lib/rpm/Packages")):
        data = (d / fname).read_bytes()
        warnings: list[str] = []
        fact = parse_database(image_path, data, warnings.append)
        assert fact is not None and len(fact) == n and not warnings, (len(fact or []), warnings[:3])
        files = sum(len(p["files"]) for p in fact)
        ms = best_of(partial(parse_database, image_path, data, warnings.append), repeat=5)
        ok &= ms <= TARGET_MS
        print(f"{fname:13s} {n} packages, {files} files, {len(data) / 2**20:.1f} MiB: {ms:.1f} ms "
              f"(target ≤ {TARGET_MS:.0f} ms) {'ok' if ms <= TARGET_MS else 'SLOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
