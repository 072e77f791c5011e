"""Red Hat feed imports at their size class (synthesised from real records: no network here).

    .venv/bin/python bench/redhat_bench.py [--osv-records 40000] [--csaf-docs 40000] [--large-every 20]

OSV: each synthetic record is the real RHSA-2026:26275 (tests/match/testdata/redhat/osv: 28 affected entries
over four streams, main and E4S/TUS/EUS long-life) with a fresh id and CVE, written as `Red Hat/all.zip` the way
OSV's bucket serves it. CSAF VEX: documents are the four real ones of tests/match/testdata/redhat/csaf under
fresh CVE ids, one in `--large-every` the 690 KB CVE-2023-38545 (hundreds of products and components: the
heavy end of Red Hat's documents), the others the ~10 KB vim/kernel ones, laid out as Red Hat's archive is
(`2023/cve-….json`) in a `csaf_vex_<date>.tar.zst` named by `archive_latest.txt`. Both are served from a local
HTTP server and imported by `hullscan db update --feed osv|redhat-csaf --feed-url …` in a child process
(both are streamed into the DB in parts): wall time and that child's peak RSS (target ≤ 500 MB). The
other OSV ecosystems answer 404 and are skipped.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gzip
import http.server
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests/match/testdata/redhat"
ARCHIVE = "csaf_vex_2026-12-01.tar.zst"


def synth_osv(out: Path, records: int) -> tuple[int, int]:
    """`Red Hat/all.zip` of `records` copies of RHSA-2026:26275: (zip bytes, JSON bytes)."""
    base = json.loads((DATA / "osv/RHSA-2026_26275.json").read_text())
    raw = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(records):
            rec = copy.deepcopy(base)
            rec["id"] = f"RHSA-2090:{i:05d}"
            rec["upstream"] = [f"CVE-2090-{i:05d}"]
            data = json.dumps(rec).encode()
            raw += len(data)
            zf.writestr(f"RHSA-2090_{i:05d}.json", data)
    return out.stat().st_size, raw


def synth_csaf(out: Path, docs: int, large_every: int) -> tuple[int, int]:
    """The archive of `docs` documents, streamed into zstd as it is written: (archive bytes, tar bytes)."""
    small = [json.loads((DATA / "csaf" / n).read_text()) for n in ("cve-2023-0045.json", "cve-2023-0049.json",
                                                                  "cve-2023-0051.json")]
    large = json.loads(gzip.decompress((DATA / "csaf/cve-2023-38545.json.gz").read_bytes()))
    raw = 0
    with open(out, "wb") as fh, zstandard.ZstdCompressor(level=3).stream_writer(fh) as zw, \
            tarfile.open(fileobj=zw, mode="w|") as tf:
        for i in range(docs):
            cve = f"CVE-2090-{i:05d}"
            doc = large if large_every and i % large_every == 0 else small[i % 3]
            doc["document"]["tracking"]["id"] = cve
            doc["vulnerabilities"][0]["cve"] = cve
            data = json.dumps(doc).encode()
            raw += len(data)
            info = tarfile.TarInfo(f"2090/{cve.lower()}.json")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.stat().st_size, raw


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        pass


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(root))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def _update(tmp: Path, db: Path, feed: str, url: str) -> str:
    """`db update --feed FEED --feed-url FEED=URL` in a child: wall, the child's own peak RSS, the DB."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache")}  # downloads stay in the temp dir
    t0 = time.perf_counter()
    with open(tmp / "out.txt", "w+b") as out, open(tmp / "err.txt", "w+b") as err:
        proc = subprocess.Popen([sys.executable, "-m", "hullscan", "db", "update", "--feed", feed, "--feed-url",
                                 f"{feed}={url}", "--db", str(db)], stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: its peak RSS
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        said, why = out.read().decode(), err.read().decode()
    peak = f"{usage.ru_maxrss / 1024:.0f} MB"
    size = f"{db.stat().st_size / 1e6:.0f} MB" if db.exists() else "none"
    ok = "ok" if code == 0 else f"exit {code}: {why[-300:]}"
    return f"db update --feed {feed}: {wall:.1f} s wall, peak RSS {peak}, DB {size} ({ok})\n{said.strip()[-200:]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--osv-records", type=int, default=40_000)
    ap.add_argument("--csaf-docs", type=int, default=40_000)
    ap.add_argument("--large-every", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        root = tmp / "www"
        srv, url = _serve(root)
        if args.osv_records:
            (root / "osv" / "Red Hat").mkdir(parents=True)
            t0 = time.perf_counter()
            z, raw = synth_osv(root / "osv" / "Red Hat" / "all.zip", args.osv_records)
            print(f"OSV: {args.osv_records:,} records, zip {z / 1e6:.0f} MB, JSON {raw / 1e6:.0f} MB "
                  f"({time.perf_counter() - t0:.0f} s)")
            print(_update(tmp, tmp / "osv.db", "osv", f"{url}/osv"))
        if args.csaf_docs:
            (root / "vex").mkdir(parents=True)
            (root / "vex" / "archive_latest.txt").write_text(ARCHIVE + "\n")
            t0 = time.perf_counter()
            z, raw = synth_csaf(root / "vex" / ARCHIVE, args.csaf_docs, args.large_every)
            print(f"CSAF VEX: {args.csaf_docs:,} documents, archive {z / 1e6:.0f} MB, tar {raw / 1e6:.0f} MB "
                  f"({time.perf_counter() - t0:.0f} s)")
            print(_update(tmp, tmp / "csaf.db", "redhat-csaf", f"{url}/vex/archive_latest.txt"))
        srv.shutdown()


if __name__ == "__main__":
    main()
