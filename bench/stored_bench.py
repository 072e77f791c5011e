"""Stored inventories: storing 10,000 image inventories of a realistic mix, the store's size, and what the
rescan reads back.

    .venv/bin/python bench/stored_bench.py [--images 10000] [--state PATH|postgresql://…] [--schema NAME]

The mix: ~500 packages an image. 80% of the images sit on one of 5 bases (Debian 12 shaped: 400 deb
packages in one base layer, each base a different set of versions) with two application layers of
their own (40 PyPI + 60 npm packages, versions drawn per image); 20% have a base layer of their own (the
same 400-package shape, versions drawn per image: nothing shared). Every image has 2 tags in one of 200
repositories. Reports are built in memory (not timed) and stored one `store_report` transaction each,
as `hullscan image --store` does. Then: the store's size (SQLite: the file after a checkpoint), loading
1,000 images through one `InventoryReader` (its layer cache decodes each base once), one `holding()`
query for 100 (ecosystem, name) pairs, and `prune --keep-last 3`.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from hullscan.model.image import BaseImage, ImageConfig, LayerInfo, Target
from hullscan.model.inventory import LayerRef, OSInfo, Package
from hullscan.model.report import Report
from hullscan.state import inventories as inv
from hullscan.state.store import open_state

DEBIAN = OSInfo(family="debian", name="Debian GNU/Linux 12 (bookworm)", version="12.5", release="12",
                codename="bookworm", ecosystem="Debian:12")


def _digest(rng: random.Random) -> str:
    return "sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64))


def _debs(rng: random.Random, count: int, ref: LayerRef, inherited: bool | None) -> list[Package]:
    out = []
    for i in range(count):
        name = f"lib{i:03d}-deb"
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}-{rng.randint(1, 5)}+deb12u{rng.randint(0, 4)}"
        out.append(Package(type="deb", name=name, version=version, ecosystem="Debian:12",
                           purl=f"pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12", analyzer="dpkg",
                           paths=("/var/lib/dpkg/status",), arch="amd64", source_name=f"src{i // 3:03d}",
                           source_version=version, licenses=("GPL-2.0-only",), layer=ref, inherited=inherited,
                           extra={"maintainer": "Debian <debian@example.org>"}))
    return out


def _libs(rng: random.Random, ref: LayerRef, inherited: bool | None) -> list[Package]:
    out = []
    for i in range(100):
        kind, eco = ("pypi", "PyPI") if i < 40 else ("npm", "npm")
        name = f"{kind}-pkg{rng.randint(0, 3000)}"
        version = f"{rng.randint(0, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        path = f"/app/{kind}/{name}-{version}"
        out.append(Package(type=kind, name=name, version=version, ecosystem=eco, purl=f"pkg:{kind}/{name}@{version}",
                           analyzer=kind, paths=(path,), licenses=("MIT",), layer=ref, inherited=inherited))
    return out


def make_report(rng: random.Random, n: int, bases: list[tuple[str, int]]) -> Report:
    shared = rng.random() < 0.8
    base_diff, base_seed = bases[rng.randrange(len(bases))] if shared else (_digest(rng), rng.randrange(1 << 30))
    diff_ids = [base_diff, _digest(rng), _digest(rng)]
    layers = tuple(LayerInfo(i, "", -1, "", d, f"RUN step {i}", i == 0) for i, d in enumerate(diff_ids))
    refs = [LayerRef(li.index, li.diff_id, li.created_by, li.base) for li in layers]
    packages = _debs(random.Random(base_seed), 400, refs[0], True)
    packages += _libs(rng, refs[1], False)[:50] + _libs(rng, refs[2], False)[:50]
    packages.sort(key=lambda p: (p.type, p.name, p.version, p.paths[0] if p.paths else ""))
    manifest = _digest(rng)
    repo = f"registry.example.com/team{n % 200:03d}/app"
    return Report(created_at="2026-12-08T00:00:00Z",
                  target=Target(input=f"registry:{repo}:{n}", type="registry", name=f"{repo}:{n}",
                                manifest_digest=manifest, config_digest=_digest(rng), repo_tags=(f"{repo}:{n}", f"{repo}:latest")),
                  layers=layers, scanners=("secret", "vuln"), os=DEBIAN, config=ImageConfig(raw={}, architecture="amd64"),
                  base_image=BaseImage(1, "debian:12", method="catalog", provisional=False), packages=packages)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--state", help="A SQLite path or postgresql:// URL (default: a temporary SQLite file).")
    ap.add_argument("--schema", default="hullscan_bench")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    location = args.state or str(Path(tmp) / "state.sqlite")
    rng = random.Random(23)
    bases = [(_digest(rng), rng.randrange(1 << 30)) for _ in range(5)]
    store = open_state(location, schema=args.schema) if "://" in location else open_state(location)
    keys: list[str] = []
    pairs: list[tuple[str, str]] = []
    spent = 0.0
    started = time.perf_counter()
    for n in range(args.images):
        report = make_report(rng, n, bases)
        t0 = time.perf_counter()
        keys.append(inv.store_report(store, report).key)
        spent += time.perf_counter() - t0
        if n < 100:
            p = report.packages[rng.randrange(len(report.packages))]
            pairs.append((p.ecosystem, p.name))
    total = time.perf_counter() - started
    print(f"stored {args.images} images: {spent:.1f} s in store_report ({1000 * spent / args.images:.2f} ms each), "
          f"{total:.1f} s with building the reports")
    if store.path is not None:
        import sqlite3

        with sqlite3.connect(store.path) as raw:  # the WAL folded into the file: its size is the store's
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"SQLite file: {os.path.getsize(store.path) / 1e6:.1f} MB")
    else:
        with store.read() as conn:
            size = conn.exec_driver_sql(
                "SELECT sum(pg_total_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename))) "
                f"FROM pg_tables WHERE schemaname = '{store.schema}'").scalar()
        print(f"PostgreSQL schema {store.schema}: {int(size or 0) / 1e6:.1f} MB")
    with store.read() as conn:
        for table in ("stored_image", "stored_layer", "stored_layer_package", "stored_image_layer"):
            print(f"  {table}: {conn.exec_driver_sql(f'SELECT count(*) FROM {table}').scalar()} rows")
    reader = inv.InventoryReader(store)
    t0 = time.perf_counter()
    count = sum(len(reader.load(k).report.packages) for k in keys[:1000])
    print(f"loaded 1,000 images ({count} packages) in {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    held = inv.holding(store, pairs)
    print(f"holding(): {len(held)} images hold one of {len(set(pairs))} pairs, {1000 * (time.perf_counter() - t0):.0f} ms")
    t0 = time.perf_counter()
    gone = inv.prune(store, keep_days=None, keep_last=3)
    print(f"prune --keep-last 3: {len(gone)} images removed in {time.perf_counter() - t0:.2f} s")
    store.close()


if __name__ == "__main__":
    main()
