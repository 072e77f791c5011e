"""Benchmarks of reading image layers (issue 2). Run from the repo root:

    .venv/bin/python bench/image_bench.py [read] [rss] [warm]      (default: all three)

read  Reading a real layer (debootstrap --variant=minbase bookworm, packed as one gzip OCI layer)
      with hullscan's walker ÷ the floor: the same blob decompressed by the fastest decoder at hand
      while hashing both the blob (digest) and its output (diff_id), in one pass. Target ≤ 1.3.
      Also shown: the same pass through Python's `tarfile` (what hullscan's own tar reader replaces).
rss   A generated ~2 GB image (3 layers: 40,000 files, a few 300 MB files, 20,000 more files and the
      real dpkg status) scanned by the CLI; peak RSS of the process. Target ≤ 250 MB.
warm  Cold scan (empty cache) vs warm second scan of the same image (the blobs are re-hashed before
      the cache is trusted). Target: warm ≤ 5% of cold.

Built images are cached under ~/.cache/hullscan-tests/ behind file locks (other processes may build
the same thing at once); the Debian rootfs is the one tests/secrets/_cache.py builds (same path, lock).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("HULLSCAN_TEST_CACHE", Path.home() / ".cache" / "hullscan-tests"))
MiB = 1 << 20
CHUNK = MiB
HULLSCAN = [sys.executable, "-m", "hullscan"]  # the CLI of the interpreter running the bench


sys.path.insert(0, str(REPO / "tests"))
from testsupport import debian_rootfs, locked  # noqa: E402  (the same cache and lock as the tests)


class _HashWrite:
    """File-like sink: hashes what is written (the diff_id) and passes it on."""

    def __init__(self, out) -> None:
        self.out, self.h, self.n = out, hashlib.sha256(), 0

    def write(self, data) -> int:
        self.h.update(data)
        self.n += len(data)
        self.out.write(data)
        return len(data)


def _write_layout(root: Path, blobs: list[tuple[Path, str]]) -> None:
    """OCI layout from already-written gzip blobs [(path, diff_id)] (moved into blobs/sha256)."""
    (root / "blobs/sha256").mkdir(parents=True, exist_ok=True)
    descs = []
    for path, _ in blobs:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
        size = path.stat().st_size
        os.replace(path, root / "blobs/sha256" / h.hexdigest())
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + h.hexdigest(), "size": size})

    def put(doc: dict, mt: str) -> dict:
        data = json.dumps(doc).encode()
        digest = hashlib.sha256(data).hexdigest()
        (root / "blobs/sha256" / digest).write_bytes(data)
        return {"mediaType": mt, "digest": "sha256:" + digest, "size": len(data)}

    cfg = put({
        "architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/bash"]},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in blobs]},
        "history": [{"created_by": f"bench layer {i}"} for i in range(len(blobs))],
    }, "application/vnd.oci.image.config.v1+json")
    man = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": descs},
              "application/vnd.oci.image.manifest.v1+json")
    man["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [man]}))
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')


def debian_oci() -> Path:
    """The Debian rootfs as a one-layer gzip (level 6, as docker/buildkit write) OCI layout."""
    dest = CACHE / "bench-bookworm-oci"
    with locked("bench-bookworm-oci"):
        if (dest / ".complete").exists():
            return dest
        rootfs = debian_rootfs()
        tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix="bench-bookworm-oci."))
        blob = tmp / "layer.gz"
        with gzip.open(blob, "wb", compresslevel=6) as gz:
            sink = _HashWrite(gz)
            with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for path in sorted(rootfs.rglob("*")):
                    if path.name == ".hullscan-complete":
                        continue
                    tar.add(path, arcname=path.relative_to(rootfs).as_posix(), recursive=False)
        _write_layout(tmp / "oci", [(blob, "sha256:" + sink.h.hexdigest())])
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp / "oci", dest)
        shutil.rmtree(tmp, ignore_errors=True)
        (dest / ".complete").write_text("ok\n")
        return dest


def big_oci() -> Path:
    """~2 GB of tar in 3 gzip layers: many files, a few large ones, and the real dpkg status."""
    dest = CACHE / "bench-2g-oci"
    with locked("bench-2g-oci"):
        if (dest / ".complete").exists():
            return dest
        from isal import igzip

        rootfs = debian_rootfs()
        tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix="bench-2g-oci."))
        pool = os.urandom(8 * MiB).hex().encode()  # 16 MiB of hex text: compresses ~2:1 like real files

        def data(i: int, size: int) -> bytes:
            start = (i * 7919) % (len(pool) - size) if size < len(pool) else 0
            if size <= len(pool):
                return pool[start : start + size]
            return (pool * (size // len(pool) + 1))[:size]

        plans = [
            [(f"srv/data/{i // 500}/file{i}.txt", 4096 + (i * 37) % 40_000) for i in range(40_000)],
            [(f"opt/big/blob{i}.bin", 300 * MiB) for i in range(3)],
            [(f"usr/share/more/{i // 500}/f{i}.txt", 1024 + (i * 53) % 20_000) for i in range(20_000)],
        ]
        blobs = []
        for n, plan in enumerate(plans):
            blob = tmp / f"layer{n}.gz"
            with igzip.open(blob, "wb", compresslevel=1) as gz:
                sink = _HashWrite(gz)
                with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    if n == 2:
                        for rel in ("etc/os-release", "usr/lib/os-release", "var/lib/dpkg/status"):
                            src = rootfs / rel
                            if src.is_file() and not src.is_symlink():
                                tar.add(src, arcname=rel, recursive=False)
                    for i, (name, size) in enumerate(plan):
                        ti = tarfile.TarInfo(name)
                        ti.size, ti.mtime = size, 1_700_000_000
                        if size > 16 * MiB:  # stream big members in pieces
                            tar.addfile(ti, _Repeat(pool, size))
                        else:
                            tar.addfile(ti, io.BytesIO(data(i, size)))
            blobs.append((blob, "sha256:" + sink.h.hexdigest()))
        _write_layout(tmp / "oci", blobs)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp / "oci", dest)
        shutil.rmtree(tmp, ignore_errors=True)
        (dest / ".complete").write_text("ok\n")
        return dest


class _Repeat(io.RawIOBase):
    """`size` bytes of `pool` repeated, read in pieces (tarfile copies with read())."""

    def __init__(self, pool: bytes, size: int) -> None:
        self.pool, self.left, self.pos = pool, size, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        out = bytearray()
        while len(out) < n:
            take = min(n - len(out), len(self.pool) - self.pos)
            out += self.pool[self.pos : self.pos + take]
            self.pos = (self.pos + take) % len(self.pool)
        self.left -= n
        return bytes(out)


# -- (1) reading vs the decompress+hash floor ---------------------------------------------------

def _layer(oci: Path):
    from hullscan.image.target import open_image

    image = open_image(f"oci:{oci}")
    return image


class _Tee(io.RawIOBase):
    """A raw reader that hashes the (compressed) blob bytes as the decoder pulls them."""

    def __init__(self, raw, h) -> None:
        self.raw, self.h = raw, h

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self.raw.readinto(b)
        self.h.update(memoryview(b)[:n])
        return n


def floor_file(path: Path, opener) -> None:
    """Decompress with a file-class decoder while hashing blob and output: the floor."""
    blob_h, diff_h = hashlib.sha256(), hashlib.sha256()

    with open(path, "rb", buffering=0) as raw:
        with opener(io.BufferedReader(_Tee(raw, blob_h), CHUNK)) as dec:
            while chunk := dec.read(CHUNK):
                diff_h.update(chunk)


def floor_obj(path: Path, zlib_mod) -> None:
    """Decompress with a raw decompressobj (no file class at all) while hashing: the lowest floor."""
    blob_h, diff_h = hashlib.sha256(), hashlib.sha256()
    d = zlib_mod.decompressobj(31)
    with open(path, "rb") as raw:
        while chunk := raw.read(CHUNK):
            blob_h.update(chunk)
            while chunk:
                out = d.decompress(chunk, CHUNK)
                diff_h.update(out)
                chunk = d.unconsumed_tail
                if d.eof:
                    rest = d.unused_data
                    d = zlib_mod.decompressobj(31)
                    chunk = rest


def tarfile_pass(path: Path, opener) -> int:
    """The same pass, parsing the tar with Python's tarfile (stream mode, data skipped)."""
    blob_h, diff_h = hashlib.sha256(), hashlib.sha256()

    class HashOut:
        def __init__(self, src) -> None:
            self.src = src

        def read(self, n: int = -1) -> bytes:
            data = self.src.read(n)
            diff_h.update(data)
            return data

    count = 0
    with open(path, "rb", buffering=0) as raw, opener(io.BufferedReader(_Tee(raw, blob_h), CHUNK)) as dec:
        with tarfile.open(fileobj=HashOut(dec), mode="r|") as tar:
            for _ in tar:
                count += 1
        while HashOut(dec).read(CHUNK):
            pass
    return count


def timed(fn, rounds: int) -> tuple[float, float]:
    """Best wall and best CPU seconds over `rounds` runs."""
    wall = cpu = float("inf")
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return wall, cpu


def bench_read(rounds: int = 5) -> dict:
    import zlib

    from isal import igzip, isal_zlib

    from hullscan.inventory.registry import analyzers_for
    from hullscan.walk.walker import walk_tar_layer

    oci = debian_oci()
    image = _layer(oci)
    lay = image.layers[0]
    blob = oci / "blobs" / lay.digest.replace(":", "/")
    decoders = {"isal IGzipFile": lambda f: igzip.IGzipFile(fileobj=f, mode="rb"),
                "gzip.GzipFile (zlib)": lambda f: gzip.GzipFile(fileobj=f, mode="rb")}
    try:
        from zlib_ng import gzip_ng

        decoders["zlib-ng GzipNGFile"] = lambda f: gzip_ng.GzipNGFile(fileobj=f, mode="rb")
    except ImportError:
        pass
    all_analyzers = analyzers_for({"vuln", "secret", "config", "license"})
    cases = {f"floor: {k}": (lambda k=k: floor_file(blob, decoders[k])) for k in decoders}
    cases["floor: isal_zlib.decompressobj"] = lambda: floor_obj(blob, isal_zlib)
    cases["floor: zlib.decompressobj"] = lambda: floor_obj(blob, zlib)
    cases["hullscan walker, no analyzer"] = lambda: walk_tar_layer(lay, [])
    cases[f"hullscan walker, {len(all_analyzers)} analyzers"] = lambda: walk_tar_layer(lay, all_analyzers)
    cases["tarfile (stream) + isal, no analyzer"] = lambda: tarfile_pass(blob, decoders["isal IGzipFile"])
    results = {k: (float("inf"), float("inf")) for k in cases}
    for _ in range(rounds):  # interleaved, so load changes hit every case alike
        for k, fn in cases.items():
            w, c = timed(fn, 1)
            results[k] = (min(results[k][0], w), min(results[k][1], c))
    image.close()
    floor_w = min(v[0] for k, v in results.items() if k.startswith("floor"))
    floor_c = min(v[1] for k, v in results.items() if k.startswith("floor"))
    print(f"\n(1) read: {blob.stat().st_size / MiB:.1f} MiB gzip blob of a debootstrap bookworm minbase rootfs; "
          f"best of {rounds}, interleaved; load {os.getloadavg()[0]:.1f}")
    print(f"{'case':45s} {'wall s':>8s} {'÷floor':>7s} {'cpu s':>8s} {'÷floor':>7s}")
    for k, (w, c) in results.items():
        print(f"{k:45s} {w:8.3f} {w / floor_w:7.2f} {c:8.3f} {c / floor_c:7.2f}")
    return {"results": results, "floor_wall": floor_w, "floor_cpu": floor_c}


# -- (2) peak RSS on a 2 GB image ---------------------------------------------------------------

def run_cli(*args: str) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS (MB) of a fresh child, and the JSON report."""
    probe = (
        "import resource,subprocess,sys,time;t=time.perf_counter();"
        "p=subprocess.run(sys.argv[1:],capture_output=True);"
        "w=time.perf_counter()-t;sys.stdout.buffer.write(p.stdout);"
        "sys.stderr.write(f'{w} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n'+p.stderr.decode());"
        "sys.exit(p.returncode)"
    )
    p = subprocess.run([sys.executable, "-c", probe, *HULLSCAN, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"hullscan failed: {p.stderr}")
    first = p.stderr.splitlines()[0].split()
    return float(first[0]), int(first[1]) / 1024, json.loads(p.stdout)


def bench_rss(scanners: str = "secret,license") -> dict:
    oci = big_oci()
    index = json.loads((oci / "index.json").read_text())
    manifest = json.loads((oci / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text())
    blob_bytes = sum(x["size"] for x in manifest["layers"])
    wall, rss, rep = run_cli("image", f"oci:{oci}", "--format", "json", "--quiet", "--no-cache", "--scanners", scanners)
    print(f"\n(2) rss: generated image, 3 gzip layers, 2.13 GB of file data, {blob_bytes / 1e9:.2f} GB of blobs; "
          f"--scanners {scanners}; load {os.getloadavg()[0]:.1f}")
    print(f"peak RSS of one process {rss:.0f} MB (target ≤ 250), wall {wall:.1f} s, "
          f"packages {len(rep['packages'])}, walked {rep['stats']['walked']}")
    # layers may be walked in forked workers (HULLSCAN_PARALLEL): the whole process tree counts
    pss, rss_sum, procs = tree_peak([*HULLSCAN, "image", f"oci:{oci}", "--format", "json", "--quiet",
                                     "--no-cache", "--scanners", scanners])
    print(f"process tree ({procs} processes at most), sampled every 0.1 s: peak PSS {pss:.0f} MB, peak RSS sum {rss_sum:.0f} MB")
    return {"rss_mb": rss, "wall": wall, "blob_bytes": blob_bytes, "tree_pss_mb": pss, "tree_rss_mb": rss_sum}


def tree_peak(cmd: list[str]) -> tuple[float, float, int]:
    """Peak of the summed PSS and RSS (MB) of a command and all its descendants, polled from /proc."""

    def children(pid: int) -> list[int]:
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    stat = Path(f"/proc/{d}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
        return out

    def kb(pid: int, key: str) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak_pss = peak_rss = procs = 0
    while proc.poll() is None:
        tree, todo = [], [proc.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children(pid)
        procs = max(procs, len(tree))
        peak_pss = max(peak_pss, sum(kb(p, "Pss:") for p in tree))
        peak_rss = max(peak_rss, sum(kb(p, "Rss:") for p in tree))
        time.sleep(0.1)
    return peak_pss / 1024, peak_rss / 1024, procs


# -- (3) warm vs cold ---------------------------------------------------------------------------

def bench_warm(rounds: int = 3) -> dict:
    """stats.seconds is the scan pipeline's own time (open, read or reuse layers, apply); wall adds
    interpreter start-up and report rendering."""
    out = {}
    for name, oci, scanners in (
        ("debian bookworm minbase", debian_oci(), "license"),
        ("debian bookworm minbase", debian_oci(), "secret,license"),
        ("generated 2 GB", big_oci(), "secret,license"),
    ):
        best = {"cold": (1e9, 1e9), "warm": (1e9, 1e9)}
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as cache:
                args = ("image", f"oci:{oci}", "--format", "json", "--quiet", "--cache-dir", cache, "--scanners", scanners)
                for kind in ("cold", "warm"):
                    wall, _, rep = run_cli(*args)
                    assert rep["stats"]["walked"] == (0 if kind == "warm" else len(rep["layers"]))
                    best[kind] = (min(best[kind][0], wall), min(best[kind][1], rep["stats"]["seconds"]))
        out[(name, scanners)] = best
        cpu = warm_cpu(oci, scanners)
        print(f"\n(3) warm: {name}, --scanners {scanners}, best of {rounds}; load {os.getloadavg()[0]:.1f}")
        print(f"  cold: wall {best['cold'][0]:.2f} s (scan {best['cold'][1]:.2f} s)   "
              f"warm: wall {best['warm'][0]:.2f} s (scan {best['warm'][1]:.2f} s)   "
              f"warm/cold: wall {best['warm'][0] / best['cold'][0]:.1%}, scan {best['warm'][1] / best['cold'][1]:.1%}")
        print(f"  in-process CPU (scan_target, all threads): cold {cpu['cold']:.2f} s, warm {cpu['warm']:.3f} s "
              f"(of which re-hashing the blobs {cpu['rehash']:.3f} s): warm/cold {cpu['warm'] / cpu['cold']:.1%}, "
              f"without the re-hash {(cpu['warm'] - cpu['rehash']) / cpu['cold']:.1%}")
    return out


def warm_cpu(oci: Path, scanners: str) -> dict:
    """CPU seconds (process_time: every thread of this process) of scan_target cold and warm, and of
    the blob re-hash alone: a measure the machine's load does not distort as much as wall time."""
    from hullscan.image.blobs import hash_blob
    from hullscan.image.target import open_image
    from hullscan.scan.service import ScanOptions, scan_target

    with tempfile.TemporaryDirectory() as cache:
        opts = ScanOptions(scanners=frozenset(scanners.split(",")), cache_dir=Path(cache))
        t = time.process_time()
        scan_target(f"oci:{oci}", opts)
        cold = time.process_time() - t
        warm = float("inf")
        for _ in range(3):
            t = time.process_time()
            scan_target(f"oci:{oci}", opts)
            warm = min(warm, time.process_time() - t)
    image = open_image(f"oci:{oci}")
    t = time.process_time()
    for lay in image.layers:
        hash_blob(lay)
    rehash = time.process_time() - t
    image.close()
    return {"cold": cold, "warm": warm, "rehash": rehash}


if __name__ == "__main__":
    which = set(sys.argv[1:]) or {"read", "rss", "warm"}
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, hullscan at {REPO}")
    if "read" in which:
        bench_read()
    if "rss" in which:
        bench_rss()
    if "warm" in which:
        bench_warm()
