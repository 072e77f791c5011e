"""`hullscan containers` on 20 running containers of 5 images (issue 26). Run from the repo root:

    .venv/bin/python bench/containers_bench.py [--containers 20] [--images 5] [--runs 3]

Images: layer 0 the tests' Debian rootfs (`debootstrap --variant=minbase bookworm`, 206 MB, 88 dpkg
packages), layer 1 an application file of its own per image (so 5 distinct images sharing their base),
written as docker-archives and loaded into the tests' own dockerd (tests/enginehelp.py). 20 containers
(4 per image) run with `--network none`; each changes its filesystem at start as the container tests'
drift container does (a dist-info written, a dpkg stanza deleted with sed, a secret file written).

Measured, with the scanners `secret,license` (the analyzers; no DB needed):
1. `hullscan containers --format json` with an empty cache, through a counting proxy: the save streams
   opened per image (target: each image read once) and the wall time;
2. a cold image scan (`hullscan image docker:IMG`, empty cache), best of --runs;
3. the drift scan per container: in the fleet run, each container's own part (its JSON entry's
   `seconds`: changes list, runtime layer, inventory; its image's shared scan not included), and
   alone, warm (its image scanned before), `hullscan container NAME`: the report's `stats.seconds`
   and the whole command's wall time (interpreter start and imports included). Target: ≤ 10% of a
   cold image scan.

The engine's container slots (tests/enginehelp.py) are all taken while the bench runs, so no test
starts a container meanwhile; the bench's containers are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "image"), str(REPO / "tests" / "engine")]

import builders as b  # noqa: E402
from containerhelp import DRIFT_SCRIPT, TOKEN, Proxy, image_id, running  # noqa: E402
from imagehelp import run_cli  # noqa: E402

from enginehelp import ENGINES, MAX_CONTAINERS, docker_engine  # noqa: E402
from testsupport import debian_rootfs  # noqa: E402

SCANNERS = "secret,license"
# the Debian rootfs has its own sh and sed; it has no six to upgrade (the rest of the script as is)
SCRIPT = "\n".join(line for line in DRIFT_SCRIPT.splitlines() if "six-" not in line) + "\n"


@contextmanager
def all_slots() -> Iterator[None]:
    """Every container slot of the tests, held: the bench runs more containers than a test may."""
    import fcntl

    ENGINES.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for slot in range(MAX_CONTAINERS):
            fh = stack.enter_context(open(ENGINES / f"container-slot-{slot}.lock", "w"))  # noqa: SIM115
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def build_images(out: Path, count: int) -> list[Path]:
    rootfs = debian_rootfs()
    base_tar = b.tar_dir(rootfs, out / "base.tar")
    base = b.Layer(base_tar.read_bytes(), "", "ADD debian-12-minbase /")
    archives = []
    for i in range(count):
        app = b.layer([b.d("app"), b.f("app/main.sh", f"#!/bin/sh\necho bench {i}\n", mode=0o755)], compression="",
                      created_by="COPY app /app")
        config = {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]}
        archives.append(b.docker_archive(out / f"img{i}.tar", [base, app], tags=(f"hullscan-bench/containers:{i}",),
                                         config=b.config_doc([base, app], config=config)))
    return archives


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=20)
    ap.add_argument("--images", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    engine = docker_engine()
    with tempfile.TemporaryDirectory() as tmp_dir, all_slots():
        tmp = Path(tmp_dir)
        tags = []
        for i, archive in enumerate(build_images(tmp, args.images)):
            engine.load(archive)
            tags.append(f"hullscan-bench/containers:{i}")
        ids = [image_id(engine, t) for t in tags]
        with ExitStack() as stack:
            started = time.perf_counter()
            names = [stack.enter_context(running(engine, tags[i % len(tags)], SCRIPT, TOKEN, name=f"hsb-{i:02d}",
                                                       slot=False)).name
                     for i in range(args.containers)]
            print(f"{len(names)} containers of {len(tags)} images running ({time.perf_counter() - started:.1f} s)")
            # 1. the fleet, cold
            proxy = stack.enter_context(Proxy(engine.socket, tmp / "p.sock"))
            t0 = time.perf_counter()
            r = run_cli("containers", "--docker-host", proxy.address, "--format", "json", "--scanners", SCANNERS,
                        "--cache-dir", str(tmp / "fleet-cache"), "--quiet")
            fleet = time.perf_counter() - t0
            assert r.code == 0, r.stderr
            mine = [c for c in r.report["containers"] if c["name"] in names]
            streams = {i: proxy.count(f"/images/{i}/get") for i in ids}
            drifted = sum(c["drift"]["detected"] for c in mine)
            in_fleet = statistics.median(c["seconds"] for c in mine)
            print(f"containers: {len(mine)} scanned, {drifted} drifted, {fleet:.1f} s wall, peak RSS {r.maxrss_mb:.0f} MB; "
                  f"save streams per image {sorted(streams.values())} (target: each 1); "
                  f"a container's own part in the fleet: median {in_fleet:.3f} s")
            # 2. cold image scans
            cold = []
            for run in range(args.runs):
                t0 = time.perf_counter()
                c = run_cli("image", f"docker:{tags[0]}", "--docker-host", engine.address, "--format", "json",
                            "--scanners", SCANNERS, "--cache-dir", str(tmp / f"cold-{run}"), "--quiet")
                cold.append(time.perf_counter() - t0)
                assert c.code == 0, c.stderr
            cold_wall = min(cold)
            print(f"cold image scan: {cold_wall:.2f} s wall (best of {args.runs}; report {c.report['stats']['seconds']:.2f} s)")
            # 3. warm drift scans, one per container
            own, wall = [], []
            for name in names:
                t0 = time.perf_counter()
                d = run_cli("container", name, "--docker-host", engine.address, "--format", "json", "--scanners",
                            SCANNERS, "--cache-dir", str(tmp / "fleet-cache"), "--quiet")
                wall.append(time.perf_counter() - t0)
                assert d.code == 0, d.stderr
                own.append(d.report["stats"]["seconds"])
            print(f"drift scan per container in the fleet: {in_fleet:.3f} s ({in_fleet / cold_wall:.1%} of cold); "
                  f"alone (`hullscan container`): own part median {statistics.median(own):.3f} s "
                  f"({statistics.median(own) / cold_wall:.1%} of cold), whole command median {statistics.median(wall):.2f} s "
                  f"({statistics.median(wall) / cold_wall:.1%} of cold); target ≤ 10%")
            print(json.dumps({"fleet_s": round(fleet, 2), "in_fleet_s": round(in_fleet, 3),
                              "streams": sorted(streams.values()), "cold_s": round(cold_wall, 2),
                              "drift_own_s": round(statistics.median(own), 3), "drift_wall_s": round(statistics.median(wall), 2),
                              "fleet_rss_mb": round(r.maxrss_mb)}))


if __name__ == "__main__":
    main()
