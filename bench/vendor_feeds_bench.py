"""Vendor XML feeds at their real size class: Amazon Linux updateinfo (1, 2, 2023) and Oracle's ELSA OVAL,
imported by `hullscan db import` in a fresh process; wall time and that process's peak RSS.

    .venv/bin/python bench/vendor_feeds_bench.py [--alas 7000] [--elsa 15000] [--runs 2]

Neither upstream file can be downloaded here, so each is synthesised from the real records of
tests/vulndb/testdata/{amazon,oracle} (PROVENANCE.md there), repeated under fresh ids to the size class:
- Amazon: the five real <update> elements (ALAS2-2018-939/942/949, ALAS2022-2021-001, ALAS2023-2023-001),
  renumbered and spread over three files (ALAS- / ALAS2- / ALAS2023- ids), `--alas` updates in all
  (ALAS-2018-1000 … numbers as of 2025 put the three releases at roughly that many), gzip-compressed
  as the repositories serve them.
- Oracle: the 19 real definitions of the test files, renumbered to `--elsa` ELSA definitions, each
  followed (as in Oracle's file) by rpminfo tests/objects/states of the shape of ELSA-2007-0057.xml,
  one set per definition; bzip2-compressed like com.oracle.elsa-all.xml.bz2. The default gives
  ~170 MB of XML, the "100 MB+ uncompressed" class of the real file.
Target: peak RSS ≤ 500 MB for each import.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "vulndb" / "testdata"
_UPDATE = re.compile(rb"<update\b.*?</update>", re.S)
_DEFINITION = re.compile(rb"<definition id=.*?</definition>", re.S)
_SECTIONS = re.compile(rb"<tests>.*</states>", re.S)


def amazon(out: Path, n: int) -> list[Path]:
    updates = [m.group(0) for f in sorted((DATA / "amazon").glob("updateinfo_*.xml.gz"))
               for m in _UPDATE.finditer(gzip.decompress(f.read_bytes()))]
    files = []
    for k, (prefix, share) in enumerate((("ALAS", 0.3), ("ALAS2", 0.45), ("ALAS2023", 0.25))):
        body = [b'<?xml version="1.0" ?>\n<updates>']
        for i in range(int(n * share)):
            u = updates[i % len(updates)]
            u = re.sub(rb"<id>[^<]*</id>", b"<id>%s-%d-%d</id>" % (prefix.encode(), 2011 + i // 1000, i % 1000 + 1), u, count=1)
            body.append(u)
        body.append(b"</updates>\n")
        p = out / f"amazon-{k}" / "updateinfo.xml.gz"
        p.parent.mkdir(parents=True)
        p.write_bytes(gzip.compress(b"".join(body), 6))
        files.append(p)
    return files


def oracle(out: Path, n: int) -> Path:
    defs = [m.group(0) for f in ("all-positive-data.xml.bz2", "elsa-2018-1196-1.xml.bz2")
            for m in _DEFINITION.finditer(bz2.decompress((DATA / "oracle" / f).read_bytes()))]
    defs += [m.group(0) for f in ("vunnel-mock_ksplice_data.xml", "vunnel-mock_per_arch_data.xml")
             for m in _DEFINITION.finditer((DATA / "oracle" / f).read_bytes())]
    whole = (DATA / "oracle" / "ELSA-2007-0057.xml").read_bytes()
    head = whole[: whole.index(b"<definitions>")]
    sections = _SECTIONS.search(whole)
    assert sections is not None
    sec = sections.group(0)
    tests, rest = sec[: sec.index(b"</tests>")], sec[sec.index(b"</tests>"):]
    objects, states = rest[: rest.index(b"</objects>")], rest[rest.index(b"</objects>"):]
    path = out / "com.oracle.elsa-all.xml.bz2"
    comp = bz2.BZ2Compressor(9)
    with open(path, "wb") as fh:
        def w(b: bytes) -> None:
            fh.write(comp.compress(b))

        w(head + b"<definitions>\n")
        for i in range(n):
            d = defs[i % len(defs)]
            new_id = b"ELSA-%d-%d" % (2007 + i // 1000, 10000 + i)
            d = re.sub(rb"ELSA-\d{4}-\d{4,}(?:-\d+)?", new_id, d)
            w(d + b"\n")
        w(b"</definitions>\n")
        # Oracle's file: all tests, then all objects, then all states (one set of each per definition)
        for part, tag in ((tests, b"tests"), (objects, b"objects"), (states, b"states")):
            inner = part.split(b">", 1)[1] if part.startswith(b"<") else part
            inner = re.sub(rb"</?%s>" % tag, b"", inner)
            w(b"<%s>\n" % tag)
            for i in range(n):
                w(inner.replace(b"20070057", b"%d" % (30000000 + i)))
            w(b"</%s>\n" % tag)
        w(b"</oval_definitions>\n")
        fh.write(comp.flush())
    return path


def import_once(paths: list[Path], db: Path) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of one `hullscan db import` process, and its summary line."""
    code = ("import resource,subprocess,sys,time;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);w=time.perf_counter()-t;"
            "sys.stderr.write(p.stdout+p.stderr);"
            "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)")
    db.unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "hullscan", "db", "import",
                        *map(str, paths), "--db", str(db)], capture_output=True, text=True)
    wall, rss, rc = r.stdout.split()
    assert rc == "0", r.stderr
    line = next((ln for ln in r.stderr.splitlines() if "advisories" in ln), "")
    return float(wall), int(rss) / 1024, line.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alas", type=int, default=7000)
    ap.add_argument("--elsa", type=int, default=15000)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        t0 = time.perf_counter()
        al = amazon(t, args.alas)
        ol = oracle(t, args.elsa)
        xml_mb = len(bz2.decompress(ol.read_bytes())) / 1e6
        print(f"synthesised in {time.perf_counter() - t0:.0f} s: updateinfo "
              f"{sum(len(gzip.decompress(p.read_bytes())) for p in al) / 1e6:.0f} MB XML "
              f"({sum(p.stat().st_size for p in al) / 1e6:.1f} MB gz); OVAL {xml_mb:.0f} MB XML "
              f"({ol.stat().st_size / 1e6:.1f} MB bz2)")
        for label, paths in (("amazon", al), ("oracle-oval", [ol])):
            best = min((import_once(paths, t / "db.sqlite") for _ in range(args.runs)), key=lambda r: r[0])
            print(f"{label}: import {best[0]:.1f} s wall, peak RSS {best[1]:.0f} MB (target ≤ 500) — {best[2]}")
    print(f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
