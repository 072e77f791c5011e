"""Shared by the OSV distro tests: images built here (docker-archives from in-memory trees), a DB made by
`hullscan db import` of the real records in testdata/osv-distros, and a scan of the image: read through
the image walker with every analyzer, matched against that DB as `hullscan image` matches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECORDS = Path(__file__).resolve().parent / "testdata" / "osv-distros"
sys.path.insert(0, str(REPO / "tests" / "image"))
sys.path.insert(0, str(REPO / "tests"))
import builders as B  # noqa: E402

from hullscan.image.target import open_image  # noqa: E402
from hullscan.inventory.applier import apply_layers  # noqa: E402
from hullscan.inventory.registry import all_analyzers  # noqa: E402
from hullscan.match.loop import match_inventory  # noqa: E402
from hullscan.model.findings import Finding  # noqa: E402
from hullscan.model.inventory import Inventory  # noqa: E402
from hullscan.vulndb.read import open_reader  # noqa: E402
from hullscan.walk.layers import collect_facts  # noqa: E402

HULLSCAN = [sys.executable, "-m", "hullscan"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HULLSCAN, *args], capture_output=True, text=True, timeout=300)


def import_db(db: Path, *families: str) -> Path:
    r = run("db", "import", *(str(RECORDS / f) for f in families), "--db", str(db))
    assert r.returncode == 0, r.stderr
    return db


def image(out: Path, files: dict[str, bytes]) -> Path:
    """A one-layer docker-archive holding `files` (path without the leading slash → content)."""
    dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
    entries = [B.d(x) for x in dirs] + [B.f(p, data) for p, data in files.items()]
    return B.docker_archive(out, [B.layer(entries, compression="")])


def scan(img: Path, db: Path) -> tuple[Inventory, dict[tuple[str, str], Finding]]:
    """The image's inventory, and its findings by (package name, advisory id)."""
    analyzers = all_analyzers()
    facts, _ = collect_facts(open_image(f"docker-archive:{img}"), analyzers, None)
    inv = apply_layers(analyzers, facts)
    with open_reader(db) as reader:
        result = match_inventory(inv, reader)
    return inv, {(f.package.name, a): f for f in result.findings for a in f.advisory_ids}


def dpkg_status(*pkgs: tuple[str, str, str]) -> bytes:
    """A dpkg status file of installed packages: (binary name, source name, version)."""
    stanzas = [
        f"Package: {name}\nStatus: install ok installed\nPriority: optional\nSection: net\n"
        f"Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>\nArchitecture: amd64\n"
        f"Source: {source}\nVersion: {version}\nDescription: {name}\n"
        for name, source, version in pkgs
    ]
    return "\n".join(stanzas).encode()
