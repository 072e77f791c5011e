"""Registry pull-and-scan vs the same image from an OCI directory, and a second scan with every
layer cached.

    .venv/bin/python bench/registry_bench.py [--runs 3] [--scanners secret,license]

The image: the debootstrap bookworm minbase rootfs the tests cache under ~/.cache/hullscan-tests/
(built by tests/secrets or tests/inventory; `debootstrap` is run here when it is missing) as one gzip
layer, plus a small second layer; written once as an OCI layout under
~/.cache/hullscan-tests/registry-bench/. It is pushed with skopeo into a `docker-registry` started
on a free 127.0.0.1 port. Times are in-process `scan_target` wall times (no interpreter start-up),
best of N. Targets: pull-and-scan ≤ 1.2 × OCI directory; cached second scan ≤ 10 % of the first,
with no layer blob requested (counted in the registry's access log).
"""

from __future__ import annotations

import argparse
import fcntl
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "registry"))
CACHE = Path(os.environ.get("HULLSCAN_TEST_CACHE", Path.home() / ".cache" / "hullscan-tests"))
ROOTFS = CACHE / "debian-bookworm-minbase"
LAYOUT = CACHE / "registry-bench" / "layout"


def _locked(name: str):
    CACHE.mkdir(parents=True, exist_ok=True)
    fh = open(CACHE / f"{name}.lock", "w")  # noqa: SIM115
    fcntl.flock(fh, fcntl.LOCK_EX)
    return fh


def ensure_rootfs() -> Path:
    fh = _locked("debian-bookworm-minbase")
    try:
        if not (ROOTFS / ".hullscan-complete").exists():
            mirror = subprocess.run(["awk", "/^URIs:/{print $2; exit}", "/etc/apt/sources.list.d/debian.sources"],
                                    capture_output=True, text=True, check=True).stdout.strip()
            tmp = CACHE / "debian-bookworm-minbase.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(tmp), mirror], check=True, capture_output=True)
            (tmp / ".hullscan-complete").write_text("ok")
            shutil.rmtree(ROOTFS, ignore_errors=True)
            tmp.rename(ROOTFS)
    finally:
        fh.close()
    return ROOTFS


def _put(root: Path, data: bytes, media_type: str) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256" / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def ensure_layout() -> Path:
    fh = _locked("registry-bench")
    try:
        if (LAYOUT / "index.json").exists():
            return LAYOUT
        rootfs = ensure_rootfs()
        from isal import igzip

        tmp = LAYOUT.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "blobs" / "sha256").mkdir(parents=True)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(rootfs.rglob("*")):
                rel = path.relative_to(rootfs).as_posix()
                if rel == ".hullscan-complete":
                    continue
                tar.add(path, arcname=rel, recursive=False)
        base = buf.getvalue()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = b"django==4.2.1\nrequests==2.31.0\n"
            ti = tarfile.TarInfo("opt/app/requirements.txt")
            ti.size, ti.mtime = len(data), 1_700_000_000
            tar.addfile(ti, io.BytesIO(data))
        top = buf.getvalue()
        layers = [_put(tmp, igzip.compress(raw, 3, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip") for raw in (base, top)]
        config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/bash"]},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(r).hexdigest() for r in (base, top)]},
                  "history": [{"created_by": "debootstrap"}, {"created_by": "COPY requirements.txt"}]}
        cdesc = _put(tmp, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
        mdesc = _put(tmp, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                      "config": cdesc, "layers": layers}).encode(), "application/vnd.oci.image.manifest.v1+json")
        mdesc["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
        (tmp / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [mdesc]}))
        (tmp / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        shutil.rmtree(LAYOUT, ignore_errors=True)
        tmp.rename(LAYOUT)
        return LAYOUT
    finally:
        fh.close()


def timed(target: str, scanners: frozenset[str], cache: Path | None) -> tuple[float, dict]:
    from hullscan.scan.service import ScanOptions, scan_target

    opts = ScanOptions(scanners=scanners, cache_dir=cache, use_cache=cache is not None)
    started = time.perf_counter()
    result = scan_target(target, opts)
    return time.perf_counter() - started, {"packages": len(result.inventory.packages), **result.stats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scanners", default="secret,license")
    args = ap.parse_args()
    scanners = frozenset(args.scanners.split(","))
    layout = ensure_layout()
    from regserver import Registry, skopeo_push

    manifest = json.loads((layout / "index.json").read_text())["manifests"][0]
    mjson = json.loads((layout / "blobs/sha256" / manifest["digest"].split(":")[1]).read_bytes())
    layer_digests = [x["digest"] for x in mjson["layers"]]
    size_mb = sum(x["size"] for x in mjson["layers"]) / 1e6
    with tempfile.TemporaryDirectory(prefix="hullscan-regbench-") as tmpd:
        tmp = Path(tmpd)
        reg = Registry(tmp / "registry").start()
        try:
            skopeo_push(f"oci:{layout}:bench", f"{reg.host}/bench/debian:1")
            ref = f"registry:{reg.host}/bench/debian:1"
            oci_times, reg_times, cold, warm = [], [], [], []
            for _ in range(args.runs):  # interleaved, so load changes hit both alike
                t, info_oci = timed(f"oci:{layout}:bench", scanners, None)
                oci_times.append(t)
                t, info_reg = timed(ref, scanners, None)
                reg_times.append(t)
            for i in range(args.runs):
                cache = tmp / f"cache{i}"
                t, _ = timed(ref, scanners, cache)
                cold.append(t)
                before = len(reg.access_log())
                t, info_warm = timed(ref, scanners, cache)
                warm.append(t)
                blob_gets = [p for m, p, s in reg.access_log()[before:] if m == "GET" and p.rsplit("/", 1)[-1] in layer_digests]
                assert not blob_gets, f"cached scan fetched {blob_gets}"
        finally:
            reg.stop()
    best = min
    print(f"image: {size_mb:.1f} MB of gzip layers, {info_oci['packages']} packages; "
          f"scanners {','.join(sorted(scanners))}; best of {args.runs}")
    print(f"OCI directory        {best(oci_times):6.2f} s   (all: {', '.join(f'{x:.2f}' for x in oci_times)})")
    print(f"registry pull + scan {best(reg_times):6.2f} s   ratio {best(reg_times) / best(oci_times):.2f} (target ≤ 1.20)")
    print(f"registry, cold cache {best(cold):6.2f} s")
    print(f"registry, all cached {best(warm):6.2f} s   ratio {best(warm) / best(cold):.3f} (target ≤ 0.10); layer blobs fetched: 0")
    assert info_reg["packages"] == info_oci["packages"] and info_warm["cached"] == len(layer_digests)


if __name__ == "__main__":
    main()
