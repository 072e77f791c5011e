"""The long fuzz run: ≥ 1,000,000 inputs over every target of tests/fuzz/fuzz_targets.py (the same table
the hypothesis tests use), each batch in a child process with `setrlimit` (address space, CPU time)
and a per-input timeout, so a hang or a memory blow-up is caught and its input saved like a crash.

    nice -n 10 .venv/bin/python bench/fuzz.py --inputs 1000000 --jobs 2 --out /tmp/hullscan-fuzz
    .venv/bin/python bench/fuzz.py --targets version: --inputs 20000     # a subset (substring of the name)

Inputs are made by the mutators of tests/fuzz/fuzz_mutate.py from the targets' real samples (byte
mutations, structural JSON/YAML mutations, hostile tokens, random bytes), one `random.Random(seed)`
per input, so an input is reproducible from its seed alone; every crash is also saved as bytes
(`OUT/crashes/<target>/<seed>.bin` plus a `.txt` with the exception). Prints, per target, inputs,
inputs/s and crashes, and a total line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "fuzz"))
sys.path.insert(0, str(REPO / "src"))

PER_INPUT_SECONDS = 10.0
MEMORY_LIMIT = 1 << 30  # RLIMIT_AS per child: a blow-up ends in MemoryError or a dead child, both saved
BATCH = 25_000
CALIBRATE = 100


class Hang(BaseException):
    """Raised by the per-input alarm; a BaseException so no `except Exception` guard swallows it."""


_TREES: dict[tuple[str, bytes], str] = {}


def make_input(target: object, seed: int) -> bytes:
    try:
        return _make_input(target, seed)
    except (RecursionError, ValueError, TypeError, MemoryError):  # a mutation the tree could not take: raw bytes
        return random.Random(seed).randbytes(512)


def _make_input(target: object, seed: int) -> bytes:
    from fuzz_mutate import TOKENS, deep, dump_json, mutate_bytes, mutate_tree
    from fuzz_targets import decode_tree

    rnd = random.Random(seed)
    seeds = target.seeds  # type: ignore[attr-defined]
    kind = target.kind  # type: ignore[attr-defined]
    roll = rnd.random()
    if not seeds or roll < 0.08:
        if rnd.random() < 0.5:
            return rnd.randbytes(rnd.randint(0, 4096))
        return b"".join(rnd.choice(TOKENS) for _ in range(rnd.randint(1, 12)))
    seed_data = rnd.choice(seeds)
    if kind in ("json", "yaml") and roll < 0.55:
        key = (target.name, seed_data)  # type: ignore[attr-defined]
        if key not in _TREES:  # decoded once, copied per input through the C JSON codec
            _TREES[key] = json.dumps(decode_tree(seed_data, kind))
        doc = json.loads(_TREES[key])
        if doc is not None:
            if rnd.random() < 0.05:
                return dump_json(deep(rnd))
            return dump_json(mutate_tree(doc, rnd, target.keys))  # type: ignore[attr-defined]
    if roll < 0.12:
        return seed_data
    return mutate_bytes(seed_data, rnd, seeds)


def child(target_name: str, first_seed: int, count: int, out: Path, progress: bool = False) -> None:
    """Run `count` inputs of one target; one JSON line per crash on stdout, then a summary line."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    cpu = int(count * PER_INPUT_SECONDS) + 60
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 10))
    from fuzz_targets import all_targets

    target = next(t for t in all_targets() if t.name == target_name)
    _ = target.seeds, target.keys  # samples read before the clock starts

    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"no result within {PER_INPUT_SECONDS} s")

    signal.signal(signal.SIGALRM, alarm)
    current = out / "current" / f"{os.getpid()}.bin"
    current.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for seed in range(first_seed, first_seed + count):
        data = make_input(target, seed)
        current.write_bytes(data)  # what the parent saves if this process dies on this input
        signal.setitimer(signal.ITIMER_REAL, PER_INPUT_SECONDS)
        problem = None
        try:
            target.run(data)
        except (Hang, MemoryError, RecursionError) as err:
            problem = f"{type(err).__name__}: {err}"
        except Exception as err:
            problem = "".join(traceback.format_exception(err)[-4:])
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if problem is None and peak - peak0 > 512 * 1024:  # KiB: one input grew the process by 512 MiB
            problem = f"memory: peak RSS grew by {(peak - peak0) // 1024} MiB"
            peak0 = peak
        if progress and (seed - first_seed) % 1000 == 999:
            print(json.dumps({"progress": seed - first_seed + 1}), flush=True)
        if problem is not None:
            print(json.dumps({"seed": seed, "problem": problem}), flush=True)
            save(out, target_name, seed, data, problem)
    current.unlink(missing_ok=True)
    print(json.dumps({"done": count, "seconds": time.perf_counter() - start}), flush=True)


def save(out: Path, target: str, seed: int, data: bytes, problem: str) -> None:
    d = out / "crashes" / target.replace("/", "_").replace(":", "_")
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{seed}.bin").write_bytes(data)
    (d / f"{seed}.txt").write_text(f"target {target}\nseed {seed}\n{problem}\n")


def run_batch(target: str, first: int, count: int, out: Path) -> tuple[int, float, list[dict[str, object]]]:
    """One child; returns (inputs done, seconds, crashes). A child that dies leaves its current input."""
    cmd = [sys.executable, __file__, "--child", target, str(first), str(count), "--out", str(out), "--progress"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=count * PER_INPUT_SECONDS + 120)
        lines, dead = proc.stdout.splitlines(), proc.returncode != 0
        why = f"child exited {proc.returncode}: {proc.stderr.strip()[-300:]}"
    except subprocess.TimeoutExpired as exc:
        lines, dead = (exc.stdout or b"").decode().splitlines() if isinstance(exc.stdout, bytes) else [], True
        why = "batch timed out (hang the alarm could not interrupt)"
    crashes, done, seconds = [], 0, time.perf_counter() - t0
    for line in lines:
        rec = json.loads(line)
        if "done" in rec:
            done, seconds = int(rec["done"]), float(rec["seconds"])
        elif "progress" in rec:
            done = max(done, int(rec["progress"]))  # a child that dies counts the inputs it got through
        else:
            crashes.append(rec)
    if dead:
        leftovers = list((out / "current").glob("*.bin"))
        for p in leftovers:
            save(out, target, -1, p.read_bytes(), why)
            p.unlink()
        crashes.append({"seed": -1, "problem": why})
    return done, seconds, crashes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=1_000_000, help="total inputs, spread over the targets")
    ap.add_argument("--targets", default="", help="only targets whose name contains this")
    ap.add_argument("--out", default="/tmp/hullscan-fuzz", help="where crashes are saved")
    ap.add_argument("--jobs", type=int, default=1, help="children at a time (each single-threaded)")
    ap.add_argument("--seed", type=int, default=0, help="first input seed")
    ap.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child", nargs=3, metavar=("TARGET", "FIRST", "COUNT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = Path(args.out)
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]), out, args.progress)
        return 0
    from fuzz_targets import all_targets

    targets = [t for t in all_targets() if args.targets in t.name]
    print(f"{len(targets)} targets, {args.inputs} inputs in all, RLIMIT_AS {MEMORY_LIMIT >> 20} MiB, "
          f"{PER_INPUT_SECONDS:g} s per input; crashes under {out}/crashes", flush=True)
    wall = time.perf_counter()
    stats = {t.name: [0, 0.0, []] for t in targets}  # inputs, seconds, crashes

    lock = threading.Lock()

    def one(name: str, first: int, size: int) -> None:
        done, secs, crashes = run_batch(name, first, size, out)
        with lock:
            st = stats[name]
            st[0], st[1] = st[0] + done, st[1] + secs
            st[2] += crashes

    def run_all(jobs: list[tuple[str, int, int]]) -> None:
        """Batches of at most BATCH inputs, `--jobs` children at a time."""
        split = [(name, f, min(BATCH, first + n - f)) for name, first, n in jobs for f in range(first, first + n, BATCH)]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for fut in [pool.submit(one, *job) for job in split]:
                fut.result()

    # 1. a calibration batch per target; 2. the rest spread so that every target gets about the same
    # time (fast version comparators take many more inputs than a policy file loaded through its schema)
    calib = min(CALIBRATE, max(1, args.inputs // len(targets)))
    run_all([(t.name, args.seed, calib) for t in targets])
    left = args.inputs - sum(st[0] for st in stats.values())
    speed = {name: st[0] / max(st[1], 1e-3) for name, st in stats.items()}
    total_speed = sum(speed.values())
    run_all([(t.name, args.seed + calib, -(-int(left * speed[t.name]) // int(total_speed)) if left > 0 else 0)
             for t in targets])
    total = total_s = 0.0
    total_crashes = 0
    for t in targets:
        done_t, secs_t, crashes_t = stats[t.name]
        kinds = sorted({str(c["problem"]).strip().splitlines()[-1][:90] for c in crashes_t})
        print(f"{t.name:58} {done_t:>8} inputs {done_t / max(secs_t, 1e-9):>9.0f}/s  crashes {len(crashes_t)}"
              + (f"  {kinds[:3]}" if kinds else ""), flush=True)
        total, total_s, total_crashes = total + done_t, total_s + secs_t, total_crashes + len(crashes_t)
    print(f"TOTAL {int(total)} inputs over {len(targets)} targets in {time.perf_counter() - wall:.0f} s wall "
          f"({total_s:.0f} s in targets), crashes {total_crashes}", flush=True)
    return 1 if total_crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
