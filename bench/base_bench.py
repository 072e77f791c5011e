"""Benchmark: base identification's catalog lookups against a 10,000-entry base catalog.

The catalog is generated: 200 "OS roots" (1-3 layers each, like debian/alpine/ubi tags), each extended by
49 derived bases of 1-6 more layers (language runtimes, distroless variants…), every base with 20
packages — 10,000 entries, ~40,000 layers, 200,000 packages in a SQLite state store, added through
`state.edit.add` (the code `hullscan base add` uses). The image looked up has 12 layers whose bottom 5
are one catalogued base's.

Timed, each the best of 15 runs (bench/timing.py), target ≤ 5 ms for what a scan adds:
- `open_catalog` + `generation()` + `longest_prefix()` + `close()` (a cold lookup: what one scan does);
- `longest_prefix()` alone on an open catalog;
- the same lookup for an image no catalogued base is a prefix of.

    .venv/bin/python bench/base_bench.py [ENTRIES] [--state PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time

from timing import best_of  # bench/timing.py

from hullscan.state.catalog import chain_ids, open_catalog
from hullscan.state.edit import NewBase, PackageRow, add
from hullscan.state.store import open_state

TARGET_MS = 5.0
ROOTS = 200


def digest(rng: random.Random) -> str:
    return "sha256:" + hashlib.sha256(rng.randbytes(16)).hexdigest()


def generate(n: int, rng: random.Random) -> list[NewBase]:
    per_root = max(1, n // ROOTS)
    out: list[NewBase] = []
    for r in range(ROOTS):
        root_layers = tuple(digest(rng) for _ in range(rng.randint(1, 3)))
        for k in range(per_root):
            if len(out) >= n:
                return out
            layers = root_layers if k == 0 else root_layers + tuple(digest(rng) for _ in range(rng.randint(1, 6)))
            packages = tuple(PackageRow("deb", "Debian:12", f"pkg{j}", f"1.{k}.{j}", "amd64", f"src{j}", f"1.{k}",
                                        f"pkg:deb/debian/pkg{j}@1.{k}.{j}?arch=amd64&distro=debian-12") for j in range(20))
            out.append(NewBase(name=f"example/base{r}", tags=(f"v{k}",), manifest_digest=digest(rng),
                               config_digest=digest(rng), os="linux", architecture="amd64", variant="",
                               created="2024-01-02T03:04:05Z", os_id="debian", os_version="12.5", os_release="12",
                               diff_ids=layers, packages=packages))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("entries", nargs="?", type=int, default=10_000)
    ap.add_argument("--state", help="State store file (default: a temporary one, removed afterwards)")
    args = ap.parse_args()
    rng = random.Random(20261207)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.state or os.path.join(tmp, "state.sqlite")
        bases = generate(args.entries, rng)
        started = time.perf_counter()
        with open_state(path) as store:
            for i in range(0, len(bases), 1000):
                add(store, bases[i:i + 1000])
        build_s = time.perf_counter() - started
        base = next(b for b in bases if len(b.diff_ids) == 5)
        image = chain_ids(base.diff_ids + tuple(digest(rng) for _ in range(7)))
        stranger = chain_ids(tuple(digest(rng) for _ in range(12)))

        def cold() -> None:
            with open_catalog(path) as cat:
                cat.generation()
                found = cat.longest_prefix(image)
                assert found is not None and found.chain_ids == image[:5], found

        with open_catalog(path) as cat:
            warm = best_of(lambda: cat.longest_prefix(image))
            miss = best_of(lambda: cat.longest_prefix(stranger))
            assert cat.longest_prefix(stranger) is None
            gen = cat.generation()
        cold_ms = best_of(cold)
        size = os.path.getsize(path)
    rows = [
        ("catalog", f"{len(bases):,} entries, {sum(len(b.diff_ids) for b in bases):,} layers, "
                    f"{sum(len(b.packages) for b in bases):,} packages; {size / 1e6:.1f} MB; built in {build_s:.1f} s "
                    f"(generation {gen})"),
        ("open + generation + longest_prefix (cold)", f"{cold_ms:.2f} ms"),
        ("longest_prefix, 12-layer image, 5-layer base", f"{warm:.3f} ms"),
        ("longest_prefix, no catalogued prefix", f"{miss:.3f} ms"),
    ]
    for name, value in rows:
        print(f"{name:<48} {value}")
    verdict = "PASS" if cold_ms <= TARGET_MS else "FAIL"
    print(f"target ≤ {TARGET_MS:.0f} ms for a cold lookup: {verdict}")
    if cold_ms > TARGET_MS:
        sys.exit(1)


if __name__ == "__main__":
    main()
