"""Matching alone: `match_inventory` over 5,000 packages, in-process, best of 5.

    .venv/bin/python bench/match_bench.py [--repeat 5]

The same measure as bench/scan_bench.py's "matching 5,000 packages", without its image: the DB is
`hullscan db import` of the feeds in tests/vulndb/testdata (scan_bench's FEEDS), built once into a
temp dir (not timed) and read through `open_reader`, as a scan reads it; the packages are real ones
from the repository — trivy's package lists of debian-buster, ubuntu-18.04 and alpine-310, and what
our analyzers read from trivy's pipenv, npm and gomod fixtures — padded to 5,000 with renamed copies
(`five_thousand`), so most packages are distinct DB queries that find nothing,
as in an image.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.registry import all_analyzers
from hullscan.match.loop import match_inventory
from hullscan.model.inventory import Inventory, OSInfo, Package
from hullscan.record import replace
from hullscan.vulndb.read import open_reader

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "match"))
from timing import best_of  # noqa: E402  (bench/timing.py)
from trivy_packages import inventory_from_golden  # noqa: E402  (tests/match/trivy_packages.py)

FEEDS_DIR = REPO / "tests" / "vulndb" / "testdata"
FEEDS = ("alpine-secdb", "debian-tracker", "osv-pypi", "osv-go", "osv-misc", "kev", "rubysec", "rustsec", "wolfi-secdb")
MATCH_DATA = REPO / "tests" / "match" / "testdata"
GOLDENS = {
    "debian-buster": OSInfo("debian", "Debian GNU/Linux 10", "10.1", "10", "buster", ecosystem="Debian:10"),
    "ubuntu-18.04": OSInfo("ubuntu", "Ubuntu 18.04.3 LTS", "18.04", "18.04", "bionic", ecosystem="Ubuntu:18.04"),
    "alpine-310": OSInfo("alpine", "Alpine Linux v3.10", "3.10.2", "v3.10", ecosystem="Alpine:v3.10"),
}
LOCKFILES = ("pipenv", "npm", "gomod")


def build_db(out: Path) -> Path:
    """`hullscan db import` of FEEDS into `out`."""
    feeds = [FEEDS_DIR / x for x in FEEDS if (FEEDS_DIR / x).exists()]
    subprocess.run([str(Path(sys.executable).parent / "hullscan"), "db", "import", "--db", str(out), *map(str, feeds)],
                   check=True, capture_output=True)
    return out


def repository_packages() -> list[Package]:
    """Real packages kept in the repository: three distros' package lists and three lockfile fixtures."""
    pkgs = [p for image, os_info in GOLDENS.items()
            for p in inventory_from_golden(MATCH_DATA / f"goldens/trivy-image-packages/{image}.json.golden", os_info).packages]
    for case in LOCKFILES:
        root = MATCH_DATA / "trivy-integration/fixtures/repo" / case
        files = {"/src/" + p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        pkgs += analyze_files(all_analyzers(), [files]).packages
    return pkgs


def five_thousand(base: list[Package], os_info: OSInfo | None = None) -> Inventory:
    """`base` padded to 5,000 packages with renamed copies (distinct names, real versions: every copy is its
    own query)."""
    pkgs = list(base)
    i = 0
    while len(pkgs) < 5000:
        p = base[i % len(base)]
        pkgs.append(replace(p, name=f"{p.name}-x{i}", source_name=f"{p.source_name or p.name}-x{i}"))
        i += 1
    return Inventory(os=os_info, packages=pkgs[:5000])


def time_matching(inv: Inventory, db_path: Path, repeat: int = 5) -> float:
    """Best of `repeat` `match_inventory` runs over `inv`, in seconds (the DB opened once, as a scan does)."""
    with open_reader(db_path) as db:
        return best_of(lambda: match_inventory(inv, db), repeat=repeat) / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    inv = five_thousand(repository_packages())
    with tempfile.TemporaryDirectory() as tmp:
        db = build_db(Path(tmp) / "vuln.db")
        with open_reader(db) as reader:
            result = match_inventory(inv, reader)
        print(f"{len(inv.packages)} packages, {result.matched_packages} asked, {len(result.findings)} findings")
        print(f"matching 5,000 packages: {time_matching(inv, db, args.repeat):.3f} s (target <= 0.5)")


if __name__ == "__main__":
    main()
