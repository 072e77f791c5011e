"""Comparisons per second for the hot version schemes (deb, rpm, apk, ...).

Usage: python bench/versions_bench.py [--schemes deb,rpm,apk] [--pairs 200000] [--distinct 5000]

Versions come from osv-scalibr's ordering fixtures (real package versions), kept in
tests/versions/testdata/osv-scalibr. Two figures per scheme: "warm" = `compare` on pairs drawn
from a few thousand distinct versions (parsed keys cached, the matching workload: thousands of
packages against tens of thousands of ranges), and "cold" = the first parse of each distinct
version (for maven, gem and composer the key is a `cmp_to_key` wrapper, so their parsing cost
shows in the other columns). Also times `sorted(..., key=scheme.key)`. rpm borrows Debian's
versions (same E:V-R shape) as its own fixture holds only ~130.
"""

from __future__ import annotations

import argparse
import random
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from hullscan.versions import get_scheme  # noqa: E402

ORDERINGS = Path(__file__).resolve().parent.parent / "tests" / "versions" / "testdata" / "osv-scalibr"
SOURCES = {"deb": "debian", "rpm": "redhat", "apk": "alpine", "pep440": "pypi", "maven": "maven",
           "gem": "rubygems", "composer": "packagist", "semver": "semver"}


def load_versions(scheme: str) -> list[str]:
    prefix = SOURCES[scheme]
    out: set[str] = set()
    texts = []
    base = ORDERINGS
    for p in base.glob(f"{prefix}-versions.txt"):
        texts.append(p.read_text(encoding="utf-8"))
    with tarfile.open(base / "osv-scalibr-semantic-testdata.tar.gz") as tar:
        for m in tar.getmembers():
            if m.isfile() and Path(m.name).name.startswith(prefix + "-"):
                texts.append(tar.extractfile(m).read().decode())  # type: ignore[union-attr]
    for text in texts:
        for line in text.splitlines():
            parts = line.split(" ")
            if len(parts) == 3 and not line.startswith(("#", "//")):
                out.update((parts[0], parts[2]))
    if scheme == "rpm":
        # the rpm fixture is small; Debian's versions have the same epoch:version-release shape
        out.update(load_versions("deb"))
    return sorted(out)


def bench(name: str, n_pairs: int, distinct: int) -> dict[str, float]:
    scheme = get_scheme(name)
    versions = load_versions(name)
    rng = random.Random(1)
    if len(versions) > distinct:
        versions = rng.sample(versions, distinct)
    t0 = time.perf_counter()
    for v in versions:
        scheme.key(v)
    cold = len(versions) / (time.perf_counter() - t0)
    pairs = [(rng.choice(versions), rng.choice(versions)) for _ in range(n_pairs)]
    compare = scheme.compare
    t0 = time.perf_counter()
    for a, b in pairs:
        compare(a, b)
    warm = n_pairs / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    sorted(versions, key=scheme.key)
    sort_ms = (time.perf_counter() - t0) * 1000
    return {"versions": len(versions), "cold_parses_per_s": cold, "compares_per_s": warm, "sort_ms": sort_ms}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schemes", default="deb,rpm,apk,pep440,maven,gem,composer")
    ap.add_argument("--pairs", type=int, default=200_000)
    ap.add_argument("--distinct", type=int, default=5_000)
    args = ap.parse_args()
    print(f"{'scheme':9} {'versions':>8} {'cold parse/s':>13} {'compare/s':>11} {'sort ms':>8}")
    for name in args.schemes.split(","):
        r = bench(name, args.pairs, args.distinct)
        print(f"{name:9} {r['versions']:8d} {r['cold_parses_per_s']:13,.0f} {r['compares_per_s']:11,.0f} {r['sort_ms']:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
