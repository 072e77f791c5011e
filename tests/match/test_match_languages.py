"""Language matching on real advisories. Expected ids come from an oracle written here that reads the
OSV records directly (explicit `versions` lists, exact membership), not from our range evaluation."""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

import yaml

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.registry import all_analyzers
from hullscan.match.loop import match_inventory
from hullscan.vulndb import importer
from hullscan.vulndb.memory import MemoryReader

sys.path.insert(0, str(Path(__file__).parent.parent))
from testsupport import REPO  # noqa: E402

VULNDATA = REPO / "tests/vulndb/testdata"  # the real feed files (tests/vulndb/testdata/PROVENANCE.md)
PIPFILE_DJANGO = REPO / "tests/inventory/lang/testdata/python/pipenv/trivy-parser/Pipfile_django.lock"
GOMOD = Path(__file__).resolve().parent / "testdata/trivy-integration/fixtures/repo/gomod"


def _db(*paths: Path) -> MemoryReader:
    return MemoryReader(importer.read(list(paths)).batches.values())


def test_pipfile_django_lock_gets_exactly_the_pysec_records_listing_its_versions():
    lock_path = PIPFILE_DJANGO
    lock = json.loads(lock_path.read_text())
    pinned = {name.lower(): spec["version"].lstrip("=") for name, spec in lock["default"].items()}
    # every record naming a package of the lock is in the archive (the rest of the upstream one is not:
    # tests/vulndb/testdata/PROVENANCE.md), so the oracle below sees all of their records
    archive = VULNDATA / "osv-pypi/pypa-advisory-database-vulns.tar.gz"
    expected = set()
    with tarfile.open(archive) as tf:
        for m in tf.getmembers():
            parts = m.name.split("/")
            if not (m.isfile() and len(parts) == 3 and parts[2].startswith("PYSEC-")):
                continue
            rec = yaml.safe_load(tf.extractfile(m))
            for aff in rec.get("affected") or []:
                name = aff["package"]["name"].lower().replace("_", "-")
                if name in pinned and pinned[name] in (aff.get("versions") or []):
                    expected.add((name, rec["id"]))
    assert len(expected) >= 40  # DATA.md pairing 8: about 42 over 8 packages (this oracle finds 42)

    db = _db(archive)
    inv = analyze_files(all_analyzers(), [{"/app/Pipfile.lock": lock_path.read_bytes()}])
    found = match_inventory(inv, db).findings
    got = {(f.package.name, a) for f in found for a in f.advisory_ids if a.startswith("PYSEC-")}
    assert got == expected
    django = [f for f in found if f.package.name == "django"]
    assert all(f.package.version == "2.2" and f.layer is not None and f.layer.index == 0 for f in django)
    assert all(f.status == "fixed" and f.fixed_version for f in django)
    # PYSEC-2019-79 (CVE-2019-12308): `introduced 2.2, fixed 2.2.2` in the record, compared under PEP 440
    (d,) = next(f for f in django if f.id == "CVE-2019-12308").details
    assert (d.matcher, d.feed, d.advisory_id, d.ecosystem, d.package, d.identity, d.version, d.scheme, d.status) == (
        "language", "osv", "PYSEC-2019-79", "PyPI", "django", "name", "2.2", "pep440", "fixed")
    assert d.constraint == ">=2.2, <2.2.2"


def test_gomod_old_x_net_is_flagged_known_exploited():
    files = {f"/src/{p.name}": p.read_bytes() for p in GOMOD.iterdir() if p.is_file()}
    db = _db(
        VULNDATA / "osv-go/golang-vulndb-osv.tar.gz",  # every record of the modules this go.mod requires
        VULNDATA / "osv-misc/Go",
        VULNDATA / "kev/known_exploited_vulnerabilities.json",
    )
    inv = analyze_files(all_analyzers(), [files])
    xnet = [p for p in inv.packages if p.name == "golang.org/x/net"]
    assert xnet and xnet[0].version == "v0.0.0-20211111083644-e5c967477495"
    found = match_inventory(inv, db).findings
    rapid = [f for f in found if f.package.name == "golang.org/x/net" and f.id == "CVE-2023-44487"]
    assert len(rapid) == 1, sorted((f.package.name, f.id) for f in found)
    assert rapid[0].kev is not None and rapid[0].kev.date_added == "2023-10-10"
    assert rapid[0].kev.ransomware is False  # the catalog's knownRansomwareCampaignUse: Unknown
    assert "GHSA-qppj-fm5r-hxr3" in rapid[0].aliases or "GO-2023-2102" in rapid[0].aliases
