"""OSV distro feed import at the size class of OSV's `Ubuntu/all.zip` (synthesised: no network here).

    .venv/bin/python bench/osv_distro_bench.py [--records 50000] [--entries 12]

Each synthetic record is the real UBUNTU-CVE-2023-38408 (tests/match/testdata/osv-distros/ubuntu) with a
fresh id and CVE, its affected entries repeated over Ubuntu's releases and Pro streams until it has
`--entries` of them (a full Ubuntu CVE record names 10 – 15 release streams, each with its versions list
and binaries), written as `Ubuntu/all.zip` the way OSV's bucket serves it, from a local HTTP server. `hullscan db update
--feed osv` (the default update path: OSV zips are streamed into the DB in parts of 5,000 advisories)
downloads and imports it in a child process: wall time and the child's peak RSS (the target: ≤ 500 MB).
The other OSV ecosystems answer 404 and are skipped. `--import` times `hullscan db import` of the zip
instead (it reads every record before writing: for one-off imports of small files).
"""

from __future__ import annotations

import argparse
import copy
import functools
import http.server
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "tests/match/testdata/osv-distros/ubuntu/UBUNTU-CVE-2023-38408.json"
RELEASES = ("14.04", "16.04", "18.04", "20.04", "22.04", "24.04")


def synthesise(out: Path, records: int, entries: int) -> tuple[int, int]:
    """Write the zip; (zip bytes, uncompressed JSON bytes)."""
    base = json.loads(RECORD.read_text())
    raw = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(records):
            rec = copy.deepcopy(base)
            rec["id"] = f"UBUNTU-CVE-2099-{i:06d}"
            rec["upstream"] = [f"CVE-2099-{i:06d}"]
            affected = []
            for j in range(entries):
                a = copy.deepcopy(base["affected"][j % len(base["affected"])])
                rel = RELEASES[j % len(RELEASES)]
                pro = "Pro:" if j % 2 else ""
                a["package"]["ecosystem"] = f"Ubuntu:{pro}{rel}:LTS"
                a["package"]["name"] = f"pkg{i % 4000}"  # ~4,000 source packages, as Ubuntu's tracker has
                affected.append(a)
            rec["affected"] = affected
            data = json.dumps(rec).encode()
            raw += len(data)
            zf.writestr(f"{rec['id']}.json", data)
    return out.stat().st_size, raw


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        pass


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(root))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--entries", type=int, default=12)
    ap.add_argument("--import", dest="use_import", action="store_true", help="time `db import` of the zip")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, db = Path(tmp) / "bucket", Path(tmp) / "vuln.db"
        (root / "osv" / "Ubuntu").mkdir(parents=True)  # a mirror base with a path: `{base}/{ecosystem}/all.zip`
        zpath = root / "osv" / "Ubuntu" / "all.zip"
        t0 = time.perf_counter()
        zbytes, raw = synthesise(zpath, args.records, args.entries)
        print(f"synthesised {args.records:,} records x {args.entries} affected: zip {zbytes / 1e6:.0f} MB, "
              f"JSON {raw / 1e6:.0f} MB ({time.perf_counter() - t0:.0f} s)")
        srv, url = _serve(root)
        cmd = ["db", "import", str(zpath)] if args.use_import else ["db", "update", "--feed", "osv", "--feed-url",
                                                                      f"osv={url}/osv"]
        t0 = time.perf_counter()
        env = {**os.environ, "XDG_CACHE_HOME": str(Path(tmp) / "cache")}  # downloads stay in the temp dir
        proc = subprocess.run([sys.executable, "-m", "hullscan", *cmd, "--db", str(db)], capture_output=True, text=True,
                              env=env)
        wall = time.perf_counter() - t0
        srv.shutdown()
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
        size = f"{db.stat().st_size / 1e6:.0f} MB" if db.exists() else "none"
        print(f"db {cmd[1]}: {wall:.1f} s wall, peak RSS {peak_mb:.0f} MB, DB {size} ({status})")
        if proc.stdout.strip():
            print(proc.stdout.strip()[-600:])


if __name__ == "__main__":
    main()
