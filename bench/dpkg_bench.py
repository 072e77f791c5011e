"""Benchmark: parse a 2,000-package dpkg status (and an apk `installed` of the same size).

The status file is built from the 91 real stanzas of the Ubuntu 18.04 fixture
(tests/inventory/testdata/dpkg/ubuntu-18.04__trivy-valid, descriptions, conffiles and all), repeated with
renamed packages until N stanzas exist (~2 MiB for N = 2,000). The time covers the dpkg status parser on the bytes: decoding,
splitting stanzas, picking fields, validating versions, building the JSON fact. Target: ≤ 50 ms.
The apk database repeats the real Alpine 3.18 fixture the same way (files included).

    .venv/bin/python bench/dpkg_bench.py [N]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from timing import best_of  # bench/timing.py

from hullscan.inventory.apk import ApkAnalyzer
from hullscan.inventory.dpkg import DpkgAnalyzer

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO / "tests" / "inventory" / "testdata"  # PROVENANCE.md there
TARGET_MS = 50.0


def build_status(n: int) -> bytes:
    text = (TESTDATA / "dpkg/ubuntu-18.04__trivy-valid/var/lib/dpkg/status").read_text()
    stanzas = [s for s in text.split("\n\n") if s.strip()]
    out = []
    for i in range(n):
        s = stanzas[i % len(stanzas)]
        out.append(re.sub(r"^Package: (\S+)", lambda m, i=i: f"Package: {m.group(1)}-{i}", s, count=1, flags=re.M))
    return ("\n\n".join(out) + "\n").encode()


def build_apk(n: int) -> bytes:
    text = (TESTDATA / "apk/alpine-3.18__scalibr/lib/apk/db/installed").read_text()
    stanzas = [s for s in text.split("\n\n") if s.strip()]
    out = []
    for i in range(n):
        s = stanzas[i % len(stanzas)]
        out.append(re.sub(r"^P:(\S+)", lambda m, i=i: f"P:{m.group(1)}-{i}", s, count=1, flags=re.M))
    return ("\n\n".join(out) + "\n").encode()


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    status = build_status(n)
    dpkg = DpkgAnalyzer().rule_for("/var/lib/dpkg/status", len(status), 0o644).parse  # the status file's parser
    fact = dpkg("/var/lib/dpkg/status", status, print)
    assert len(fact["packages"]) >= n * 0.98, len(fact["packages"])  # one real stanza is not installed
    ms = best_of(lambda: dpkg("/var/lib/dpkg/status", status, print))
    cpu = best_of(lambda: dpkg("/var/lib/dpkg/status", status, print), clock=time.process_time)
    print(f"dpkg status: {n} packages, {len(status) / 2**20:.1f} MiB: {ms:.1f} ms wall, {cpu:.1f} ms CPU "
          f"(target ≤ {TARGET_MS:.0f} ms)")
    apk_db = build_apk(n)
    apk = ApkAnalyzer().rule_for("/lib/apk/db/installed", len(apk_db), 0o644).parse
    assert len(apk("/lib/apk/db/installed", apk_db, print)["packages"]) == n
    ams = best_of(lambda: apk("/lib/apk/db/installed", apk_db, print))
    print(f"apk installed: {n} packages, {len(apk_db) / 2**20:.1f} MiB: {ams:.1f} ms")
    return 0 if ms <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
