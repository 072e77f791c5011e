"""Service load bench (bench/README.md "Service"): 200 scan requests of 20 distinct images sharing their two base
layers, 2 `hullscan worker` processes on the machine's RabbitMQ, everything shared in a throwaway PostgreSQL
database (tests/service/worker_support.py builds the images and the service; nothing is downloaded).

Each request is a job of its own (a nonce per request: idempotent submissions would fold the 10 requests of an
image into one job), so the workers run 200 jobs: the first of each image analyzes its own layer, every later one
is a whole-result cache hit. Measured: wall time from the first submit to the last job done (throughput), layers
analyzed (every distinct layer exactly once), the report fetch latency (`jobs.report(store, job, "json")`, what
`GET /api/v2/scans/{id}/report` serves) p50/p95 over 200 fetches, peak RSS per worker (main process + its job
process), and the PostgreSQL space per stored image (state store and layer cache schemas).

    .venv/bin/python bench/service_bench.py [--requests 200] [--images 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))

import worker_support as ws  # noqa: E402


def _peak_rss_kib(pid: int) -> int:
    """VmHWM of a process and its children (the job process of `--concurrency 1`)."""
    total = 0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def _schema_bytes(url: str, schema: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN "
                                "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                                (schema,)).fetchone()[0])


def _p50_p95(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return round(statistics.median(ms), 1), round(ms[max(0, round(len(ms) * 0.95) - 1)], 1)


def _db_stamp():  # noqa: ANN202
    """What kept reports are keyed by: the DB's build time (service/submit.py), read at most every 5 s — a read
    per fetch (a PostgreSQL connection) would cost more than serving the kept report."""
    from hullscan.service.submit import db_updated_at

    read: list[tuple[float, str]] = []

    def stamp() -> str:
        if not read or time.monotonic() - read[0][0] > 5:
            read[:] = [(time.monotonic(), db_updated_at(None) or "")]
        return read[0][1]
    return stamp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--images", type=int, default=20)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hullscan-service-bench-"))
    registry = ws.start_registry(root / "registry")
    db = ws.create_database()
    service = ws.Service(root, db, ws.BROKER)
    try:
        images = ws.push_images(root / "images", registry.host, args.images)
        ws.import_feeds(db, service.env)
        service.apply()
        from hullscan.service import jobs
        from hullscan.state.store import open_state

        store = open_state(None)
        workers = [service.start_worker(name="a"), service.start_worker(name="b")]
        time.sleep(4)  # both consuming before the burst
        started = time.perf_counter()
        submitted = []
        for i in range(args.requests):
            ref = images.refs[i % len(images.refs)]
            spec = jobs.JobSpec(reference=ref, nonce=str(i), options=jobs.JobOptions(insecure=True))
            submitted.append(jobs.submit(store, spec).id)
        submit_seconds = time.perf_counter() - started
        done = ws.wait_until("every job", lambda: (got := [jobs.get(store, i) for i in submitted])
                             and all(j.finished for j in got) and got, 1800, service)
        wall = time.perf_counter() - started
        failed = [j for j in done if j.status != "done"]
        walked = sum(j.stats["walked"] for j in done if j.stats)
        stamp = _db_stamp()
        cold, warm = [], []
        for j in done[: args.images]:  # one job per image: its stored inventory matched, nothing kept
            t = time.perf_counter()
            jobs.report(store, j, "json")
            cold.append((time.perf_counter() - t) * 1000)
        for j in done:  # every job's report as the server serves it: kept per (image, options, DB stamp)
            t = time.perf_counter()
            jobs.report(store, j, "json", db_stamp=stamp())
            warm.append((time.perf_counter() - t) * 1000)
        result = {
            "requests": args.requests, "images": args.images, "failed": len(failed),
            "distinct_layers": len(images.layers), "layers_analyzed": walked,
            "wall_seconds": round(wall, 2), "submit_seconds": round(submit_seconds, 2),
            "jobs_per_second": round(args.requests / wall, 2),
            "report_matched_ms_p50_p95": _p50_p95(cold),
            "report_served_ms_p50_p95": _p50_p95(warm),
            "worker_peak_rss_mib": [round(_peak_rss_kib(w.pid) / 1024, 1) for w in workers],
            "state_store_kib_per_image": round(_schema_bytes(db, "hullscan_state") / 1024 / args.images, 1),
            "layer_cache_kib_per_image": round(_schema_bytes(db, "hullscan_cache") / 1024 / args.images, 1),
            "cpu_count": os.cpu_count(),
        }
        print(json.dumps(result, indent=2))
    finally:
        service.stop()
        registry.stop()
        ws.delete_queues(ws.BROKER, service.prefix)
        ws.drop_database(db)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
